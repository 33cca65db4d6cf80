//! The SHD reader on fixtures written by h5py (`scripts/make_shd_fixtures.py`), not by our
//! code: every element type, an empty sample, the gzip and zip downloads, and each kind of
//! invalid or damaged file.

use std::path::{Path, PathBuf};

use tasks::shd::{ShdFile, bin_counts};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shd").join(name)
}

fn error(name: &str) -> String {
    ShdFile::read(&fixture(name)).unwrap_err().to_string()
}

#[test]
fn reads_every_element_type_and_the_empty_sample() {
    for name in ["shd_f16.h5", "shd_f64_i32.h5", "shd_f16.h5.gz", "shd_f16.h5.zip"] {
        let file = ShdFile::read(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.samples.len(), 3, "{name}");
        let first = &file.samples[0];
        assert_eq!(first.times, [0.0, 2f64.powi(-10), 2f64.powi(-9), 2f64.powi(-8), 0.5, 0.998046875, 1.0, 1.25]);
        assert_eq!(first.units, [5, 5, 5, 699, 0, 10, 10, 3]);
        assert_eq!((first.label, first.speaker), (3, Some(0)));
        assert!(file.samples[1].times.is_empty() && file.samples[1].units.is_empty(), "{name}");
        assert_eq!((file.samples[1].label, file.samples[2].label), (12, 19));
        assert_eq!(file.keys.len(), 20);
        assert_eq!(file.keys[13], "german 3");
    }
    let small = ShdFile::read(&fixture("shd_f32_u8.h5")).unwrap();
    assert_eq!((small.samples[0].times.clone(), small.samples[0].units.clone()), (vec![0.25, 0.5], vec![1, 255]));
}

/// The fixture's first sample at 2 ms bins, by hand (see the script): channel 5 gets three
/// spikes in bin 0 (0, 2⁻¹⁰ and 2⁻⁹ s all < 0.002 s), channel 699 one in bin 1 (2⁻⁸ s),
/// channel 0 one in bin 250, channel 10 one in bin 499; 1.0 and 1.25 s are dropped.
#[test]
fn binning_the_fixture_by_hand() {
    let file = ShdFile::read(&fixture("shd_f16.h5")).unwrap();
    let counts = bin_counts(&file.samples[0], 2.0);
    let at = |t: usize, ch: usize| counts[t * 700 + ch];
    assert_eq!((at(0, 5), at(1, 699), at(250, 0), at(499, 10)), (3.0, 1.0, 1.0, 1.0));
    assert_eq!(counts.iter().sum::<f32>(), 6.0);
    assert!(bin_counts(&file.samples[1], 2.0).iter().all(|&c| c == 0.0));
    // Three spikes at 0.25 s, two on channel 1: bin 125 at 2 ms, bin 25 at 10 ms.
    let third = bin_counts(&file.samples[2], 10.0);
    assert_eq!((third[25 * 700 + 1], third[25 * 700 + 2], third[75 * 700 + 698]), (2.0, 1.0, 1.0));
}

#[test]
fn invalid_samples_name_the_file_the_sample_and_the_value() {
    let e = error("bad_unit.h5");
    assert!(e.contains("bad_unit.h5") && e.contains("sample 0") && e.contains("unit 700"), "{e}");
    let e = error("bad_label.h5");
    assert!(e.contains("label 20") && e.contains("< 20"), "{e}");
    let e = error("bad_lengths.h5");
    assert!(e.contains("8 spike times but 5 units"), "{e}");
    let e = error("bad_negative_time.h5");
    assert!(e.contains("time -0.5"), "{e}");
    let e = error("bad_nan_time.h5");
    assert!(e.contains("time NaN"), "{e}");
}

#[test]
fn damaged_and_missing_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("shd_f16.h5")).unwrap();
    let truncated = dir.path().join("shd_train.h5");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let e = ShdFile::read(&truncated).unwrap_err().to_string();
    assert!(e.contains("shd_train.h5") && e.contains("corrupt"), "{e}");

    let not_hdf5 = dir.path().join("shd_test.h5");
    std::fs::write(&not_hdf5, b"this is not an HDF5 file at all").unwrap();
    let e = ShdFile::read(&not_hdf5).unwrap_err().to_string();
    assert!(e.contains("not a readable HDF5 file"), "{e}");

    let gz = std::fs::read(fixture("shd_f16.h5.gz")).unwrap();
    let cut = dir.path().join("cut.h5.gz");
    std::fs::write(&cut, &gz[..gz.len() - 6]).unwrap();
    let e = ShdFile::read(&cut).unwrap_err().to_string();
    assert!(e.contains("cut.h5.gz") && e.contains("gzip"), "{e}");

    // A zip under an official name must carry the published MD5.
    let renamed = dir.path().join("shd_train.h5.zip");
    std::fs::copy(fixture("shd_f16.h5.zip"), &renamed).unwrap();
    let e = ShdFile::read(&renamed).unwrap_err().to_string();
    assert!(e.contains("MD5") && e.contains("f3252aeb598ac776c1b526422d90eecb"), "{e}");

    let e = ShdFile::read(&dir.path().join("absent.h5")).unwrap_err().to_string();
    assert!(e.contains("absent.h5") && e.contains("not found"), "{e}");
}

#[test]
fn origin_of_published_downloaded_missing_and_damaged_files() {
    use tasks::DataError;
    use tasks::shd::file_origin;
    // h5py's files carry no `dataset` mark: the published layout. (Synthetic files: shd_synth.rs.)
    for name in ["shd_f16.h5", "shd_f16.h5.gz", "shd_f16.h5.zip", "shd_f64_i32.h5"] {
        assert_eq!(file_origin(&fixture(name)).unwrap(), None, "{name}");
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = file_origin(&dir.path().join("shd_train.h5")).unwrap_err();
    assert!(matches!(missing, DataError::Missing { .. }), "{missing}");
    assert!(missing.to_string().contains("shd_train.h5"), "{missing}");
    let not_hdf5 = dir.path().join("shd_test.h5");
    std::fs::write(&not_hdf5, b"this is not an HDF5 file at all").unwrap();
    let e = file_origin(&not_hdf5).unwrap_err().to_string();
    assert!(e.contains("shd_test.h5") && e.contains("not a readable HDF5 file"), "{e}");
}
