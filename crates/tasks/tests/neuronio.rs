//! The NeuronIO reader on files in the authors' format, written by Python's own pickle
//! (`scripts/make_neuronio_fixtures.py`), against what the authors' `parse_sim_experiment_file`
//! made of the same files.

use std::path::{Path, PathBuf};

use burn::data::dataset::Dataset;
use serde_pickle::{HashableValue, SerOptions, Value};
use tasks::neuronio::windows::{NeuronioWindows, WindowPlan};
use tasks::neuronio::{NeuronioSplit, SimulationFile, files_in};
use tasks::{DataError, Target};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/neuronio")
}

fn npy_f64(path: &Path) -> (Vec<u64>, Vec<f64>) {
    let npy = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f64>().unwrap())
}

#[test]
fn both_encodings_parse_to_what_the_authors_loader_returns() {
    let dir = fixtures().join("parse");
    let xf = npyz::NpyFile::new(std::fs::File::open(dir.join("expected_X.npy")).unwrap()).unwrap();
    let x_shape = xf.shape().to_vec(); // [channels, T, sims]
    let x: Vec<u8> = xf.into_vec().unwrap();
    let (_, y_spike) = npy_f64(&dir.join("expected_y_spike.npy")); // [T, sims]
    let (_, y_soma) = npy_f64(&dir.join("expected_y_soma.npy"));
    let (channels, steps, sims) = (x_shape[0] as usize, x_shape[1] as usize, x_shape[2] as usize);
    for variant in ["python2", "python3"] {
        let file = SimulationFile::read(&dir.join(variant).join("sim__tiny.p")).unwrap();
        assert_eq!((file.channels(), file.duration_ms, file.simulations.len()), (channels, steps, sims), "{variant}");
        for s in 0..sims {
            let mut dense = vec![0.0f32; steps * channels];
            file.write_inputs(s, 0, steps, &mut dense);
            for c in 0..channels {
                for t in 0..steps {
                    let expected = f32::from(x[(c * steps + t) * sims + s]) * if c < channels / 2 { 1.0 } else { -1.0 };
                    assert_eq!(dense[t * channels + c], expected, "{variant} sim {s} channel {c} t {t}");
                }
            }
            let spikes = file.spike_target(s);
            for t in 0..steps {
                assert_eq!(f64::from(spikes[t]), y_spike[t * sims + s], "{variant} spike sim {s} t {t}");
                // float16 voltages widen exactly.
                assert_eq!(
                    f64::from(file.simulations[s].soma_mv[t]),
                    y_soma[t * sims + s],
                    "{variant} soma sim {s} t {t}"
                );
            }
        }
        // The edge spikes: 0.3 ms -> bin 0; 999.75 (float16 999.5) -> bin 999; a simulation without.
        assert_eq!(file.simulations[0].output_spike_bins, vec![0, 250, 999]);
        assert!(file.simulations[1].output_spike_bins.is_empty());
        // 30 spikes, some sharing a bin once rounded to float16 (0.5 ms apart above 512 ms).
        let bins = file.simulations[2].output_spike_bins.len();
        assert!((25..=30).contains(&bins), "{bins}");
    }
}

fn d(entries: Vec<(&str, Value)>) -> Value {
    Value::Dict(entries.into_iter().map(|(k, v)| (HashableValue::String(k.into()), v)).collect())
}

fn ints(v: &[i64]) -> Value {
    Value::List(v.iter().map(|&i| Value::I64(i)).collect())
}

/// A file of one simulation in plain Python values (lists, not numpy), 2 segments × 1 s.
fn plain_file(segment: i64, spike_ms: f64, soma_len: usize) -> Vec<u8> {
    let sim = d(vec![
        ("exInputSpikeTimes", Value::Dict([(HashableValue::I64(segment), ints(&[3, 7]))].into())),
        ("inhInputSpikeTimes", Value::Dict(Default::default())),
        ("outputSpikeTimes", Value::List(vec![Value::F64(spike_ms)])),
        ("somaVoltageLowRes", Value::List(vec![Value::F64(-70.0); soma_len])),
    ]);
    let root = d(vec![
        ("Params", d(vec![("allSegmentsType", ints(&[0, 0])), ("totalSimDurationInSec", Value::I64(1))])),
        ("Results", d(vec![("listOfSingleSimulationDicts", Value::List(vec![sim]))])),
    ]);
    serde_pickle::value_to_vec(&root, SerOptions::new().proto_v2()).unwrap()
}

fn error_of(bytes: &[u8]) -> String {
    match SimulationFile::from_bytes(Path::new("bad/sim__x.p"), bytes) {
        Ok(_) => panic!("accepted a bad file"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_files_are_refused_with_the_file_and_the_reason() {
    // The plain-Python version of a good file reads.
    let good = SimulationFile::from_bytes(Path::new("sim__ok.p"), &plain_file(1, 12.6, 1000)).unwrap();
    assert_eq!(good.simulations[0].input_spikes, vec![(3, 1), (7, 1)]);
    assert_eq!(good.simulations[0].output_spike_bins, vec![12]);

    let e = error_of(&plain_file(2, 12.6, 1000));
    assert!(e.contains("bad/sim__x.p") && e.contains("segment 2") && e.contains("2 segments"), "{e}");
    let e = error_of(&plain_file(0, -3.0, 1000));
    assert!(e.contains("simulation 0") && e.contains("outputSpikeTimes"), "{e}");
    let e = error_of(&plain_file(0, 12.0, 999));
    assert!(e.contains("999 samples, expected 1000"), "{e}");

    let real = std::fs::read(fixtures().join("parse/python2/sim__tiny.p")).unwrap();
    let e = error_of(&real[..real.len() / 2]);
    assert!(e.contains("bad/sim__x.p is corrupt") && e.contains("pickle"), "{e}");
    let e = error_of(b"PK\x03\x04 this is a zip, not a pickle");
    assert!(e.contains("not a readable pickle"), "{e}");
    let e = error_of(&serde_pickle::value_to_vec(&d(vec![("Params", d(vec![]))]), SerOptions::new()).unwrap());
    assert!(e.contains("no key 'allSegmentsType'"), "{e}");

    match SimulationFile::read(Path::new("/nonexistent/sim__1.p")) {
        Err(DataError::Missing { path, .. }) => {
            assert_eq!(path, Path::new("/nonexistent/sim__1.p"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn splits_follow_the_authors_folders() {
    let root = fixtures().join("layout");
    let names = |files: Vec<PathBuf>| -> Vec<String> {
        files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
    };
    assert_eq!(names(NeuronioSplit::Train.files(&root).unwrap()), ["sim__train_a.p", "sim__train_b.p"]);
    assert_eq!(names(NeuronioSplit::Valid.files(&root).unwrap()), ["sim__valid.p"]);
    // README.txt does not match `*sim__*`.
    assert_eq!(names(files_in(&root.join("Data_test")).unwrap()), ["sim__test.p"]);
    let e = NeuronioSplit::Test.files(&root.join("absent")).unwrap_err().to_string();
    assert!(e.contains("Data_test"), "{e}");
}

#[test]
fn training_windows_are_drawn_as_the_authors_loader_draws_them() {
    let files = NeuronioSplit::Train.files(&fixtures().join("layout")).unwrap();
    let plan = WindowPlan { batch_size: 4, window: 100, ignore_ms: 500, file_load_fraction: 0.3, batches: 20, seed: 5 };
    let windows = NeuronioWindows::new(files.clone(), plan).unwrap();
    // int(0.3 · 8 sims · 1000 ms / (4 · 100)) = 6 batches per file.
    assert_eq!(windows.batches_per_file(), 6);
    assert_eq!(windows.len(), 80);
    let parsed: Vec<SimulationFile> = files.iter().map(|f| SimulationFile::read(f).unwrap()).collect();
    let mut files_used = std::collections::BTreeSet::new();
    for batch in 0..20 {
        let picks: Vec<(usize, usize, usize)> = (0..4).map(|k| windows.window(batch * 4 + k)).collect();
        // One file per block of 6 batches; distinct simulations within a batch; starts in [500, 900).
        assert!(picks.iter().all(|p| p.0 == picks[0].0));
        assert_eq!(picks[0].0, windows.window((batch / 6) * 24).0);
        let mut sims: Vec<usize> = picks.iter().map(|p| p.1).collect();
        sims.sort();
        sims.dedup();
        assert_eq!(sims.len(), 4, "batch {batch}: {picks:?}");
        assert!(picks.iter().all(|p| (500..900).contains(&p.2)));
        files_used.insert(picks[0].0);
    }
    assert_eq!(files_used.len(), 2, "both files are drawn over 4 blocks");
    // Items carry exactly the file's data; the draw is a function of seed and epoch.
    for index in [0, 37, 79] {
        let (f, s, start) = windows.window(index);
        let item = windows.get(index).unwrap();
        let mut expected = vec![0.0; 100 * 8];
        parsed[f].write_inputs(s, start, 100, &mut expected);
        assert_eq!(item.input, expected);
        let Target::SpikeAndSoma { values } = item.target else { panic!("spike and soma") };
        let soma = parsed[f].soma_target(s);
        let spikes = parsed[f].spike_target(s);
        assert_eq!(values[20], spikes[start + 10]);
        assert_eq!(values[21], soma[start + 10]);
    }
    assert_eq!(windows.for_epoch(5, 0).window(50), windows.window(50));
    let other = windows.for_epoch(5, 1);
    assert!((0..80).any(|i| other.window(i) != windows.window(i)), "a new epoch draws new windows");

    let too_long = WindowPlan { window: 600, ..plan };
    let e = NeuronioWindows::new(files, too_long).unwrap_err().to_string();
    assert!(e.contains("do not fit"), "{e}");
}
