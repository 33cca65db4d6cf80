//! SHD-synthetic: the HDF5 writer read back by our reader (h5py reads it too:
//! `scripts/compare_lauscher.py --check-h5`), and the generator on two short words.
//! The generator test needs espeak-ng (`apt-get install espeak-ng`; CI installs it).

use std::path::Path;

use datagen::hdf5_write::MAX_COLLECTION_BYTES;
use datagen::shd_synth::cochlea::CochleaParams;
use datagen::shd_synth::speech::{Utterance, keys};
use datagen::shd_synth::{DATASET_NAME, Planned, SynthOptions, generate};
use datagen::shd_write::{SpeakerInfo, write_shd};
use tasks::shd::{ShdFile, ShdSample};

fn options(train: usize, test: usize, seed: u64) -> SynthOptions {
    SynthOptions { train, test, seed, threads: 2, espeak: "espeak-ng".into(), params: CochleaParams::default() }
}

fn planned(speaker: usize, label: u8, voice: &str, speed: u32, pitch: u32, test: bool) -> Planned {
    Planned { speaker, utterance: Utterance { label, voice: voice.into(), speed, pitch }, test }
}

fn sample(times: &[f64], units: &[u16], label: u8, speaker: u32) -> ShdSample {
    ShdSample { times: times.to_vec(), units: units.to_vec(), label, speaker: Some(speaker) }
}

#[test]
fn written_files_read_back_exactly_with_their_mark() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shd_train.h5");
    // Times exact in float16 (dyadic), an empty sample, the largest unit.
    let samples = vec![
        sample(&[0.0, 2f64.powi(-10), 0.5, 0.998046875, 1.25], &[5, 5, 0, 699, 3], 3, 0),
        sample(&[], &[], 12, 1),
        sample(&[0.25, 0.25, 0.75], &[1, 2, 698], 19, 1),
    ];
    let speakers =
        SpeakerInfo { gender: vec!["female".into(), "male".into()], age: vec![0, 0], body_height: vec![0, 0] };
    write_shd(&path, &samples, &keys(), &speakers, &[("dataset", DATASET_NAME), ("generator", "a test")]).unwrap();
    let file = ShdFile::read(&path).unwrap();
    assert_eq!(file.samples, samples);
    assert_eq!(file.keys, keys());
    assert_eq!(file.synthetic.as_deref(), Some("SHD-synthetic"));
    assert_eq!(tasks::shd::file_origin(&path).unwrap().as_deref(), Some("SHD-synthetic"));
    // The real layout (h5py's fixture) has no mark.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/tests/fixtures/shd/shd_f16.h5");
    let real = ShdFile::read(&fixture).unwrap();
    assert_eq!(real.synthetic, None);
    // Re-written by our writer, h5py's fixture reads back the same.
    let copy = dir.path().join("copy.h5");
    write_shd(&copy, &real.samples, &real.keys, &SpeakerInfo::default(), &[]).unwrap();
    let again = ShdFile::read(&copy).unwrap();
    assert_eq!((again.samples, again.keys, again.synthetic), (real.samples, real.keys, None));
    // Nothing but the two files is left beside them (no temporaries).
    let mut names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["copy.h5", "shd_train.h5"]);
}

#[test]
fn many_sequences_span_several_heap_collections() {
    // 70 000 non-empty samples: more than one collection's 65 535 object indices, and many
    // collections of at most MAX_COLLECTION_BYTES (libhdf5 caches small ones; big ones made
    // h5py reload one per element read).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.h5");
    let samples: Vec<ShdSample> =
        (0..70_000).map(|i| sample(&[(i % 1000) as f64 / 1024.0], &[(i % 700) as u16], (i % 20) as u8, 0)).collect();
    write_shd(&path, &samples, &keys(), &SpeakerInfo::default(), &[]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let sizes: Vec<u64> = bytes
        .windows(8)
        .enumerate()
        .filter(|(_, w)| w[..4] == *b"GCOL" && w[4] == 1)
        .map(|(at, _)| u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap()))
        .collect();
    // Times and units: 140 000 objects of 24 bytes each (header and 8-byte padded data).
    assert!(sizes.len() >= 2 * 70_000 * 24 / MAX_COLLECTION_BYTES, "{} collections", sizes.len());
    assert!(sizes.iter().all(|&s| s as usize <= MAX_COLLECTION_BYTES), "{sizes:?}");
    let file = ShdFile::read(&path).unwrap();
    assert_eq!(file.samples.len(), 70_000);
    assert_eq!(file.samples[69_999], samples[69_999]);
    assert_eq!(file.samples[65_535], samples[65_535]);
}

#[test]
fn generator_turns_two_spoken_words_into_shd_samples() {
    // "two" (English, class 2) and "eins" (German, class 11), as two speakers would say them.
    let planned = vec![planned(0, 2, "en-us+m1", 160, 45, false), planned(1, 11, "de+f1", 150, 60, true)];
    let options = options(1, 1, 7);
    let samples =
        generate(&options, &planned, &|_, _| {}).expect("espeak-ng must be installed: apt-get install espeak-ng");
    assert_eq!(samples.len(), 2);
    for (sample, plan) in samples.iter().zip(&planned) {
        assert_eq!(sample.label, plan.utterance.label);
        assert_eq!(sample.speaker, Some(plan.speaker as u32));
        let n = sample.times.len();
        assert_eq!(sample.units.len(), n);
        // A spoken word drives the cochlea: thousands of spikes (the silent membrane's
        // spontaneous output is a few hundred per second over all 700 channels).
        assert!(n > 1000, "{n} spikes");
        assert!(sample.units.iter().all(|&u| u < 700));
        // Ordered by time then channel, within the word (< 1.4 s).
        assert!(sample.times.windows(2).all(|w| w[0] <= w[1]));
        let last = *sample.times.last().unwrap();
        assert!(last < 1.4, "last spike at {last} s");
        // The Hann ramps silence the ends: the middle half holds most spikes.
        let middle = sample.times.iter().filter(|&&t| t > last * 0.25 && t < last * 0.75).count();
        assert!(middle * 2 > n, "{middle} of {n} spikes in the middle half");
        // Low places (c near 0) are the high frequencies: speech drives the apical half more.
        let apical = sample.units.iter().filter(|&&u| u >= 350).count();
        assert!(apical * 2 > n, "{apical} of {n} spikes in the low-frequency half");
    }
    // Another seed draws other fibre spikes from the same sound: the spike counts differ by
    // little (the same firing probabilities), the spikes themselves do not all agree.
    let other = generate(&SynthOptions { seed: 8, ..options }, &planned, &|_, _| {}).unwrap();
    assert_ne!(other[0].times, samples[0].times);
    let (a, b) = (samples[0].times.len() as f64, other[0].times.len() as f64);
    assert!((a / b - 1.0).abs() < 0.1, "{a} vs {b} spikes");
}

#[test]
fn plan_holds_out_two_speakers_and_balances_classes() {
    let options = options(200, 40, 3);
    let planned = datagen::shd_synth::plan(&options).unwrap();
    assert_eq!(planned.len(), 240);
    assert_eq!(planned.iter().filter(|p| p.test).count(), 40);
    for p in &planned {
        if datagen::shd_synth::HELD_OUT_SPEAKERS.contains(&p.speaker) {
            assert!(p.test, "held-out speaker {} in the training file", p.speaker);
        }
        // English words in English voices, German in German.
        assert_eq!(p.utterance.voice.starts_with("de+"), p.utterance.label >= 10, "{p:?}");
    }
    for label in 0..20u8 {
        assert_eq!(planned.iter().filter(|p| p.utterance.label == label).count(), 12);
    }
    assert_eq!(datagen::shd_synth::plan(&options).unwrap().len(), 240);
    let too_few = SynthOptions { test: 10, ..options };
    let err = datagen::shd_synth::plan(&too_few).unwrap_err().to_string();
    assert!(err.contains("held-out speakers"), "{err}");
}

#[test]
fn a_missing_espeak_is_named() {
    let planned = vec![planned(0, 0, "en-us", 160, 50, false)];
    let options = SynthOptions { espeak: "/nonexistent/espeak-ng".into(), ..options(1, 0, 0) };
    let err = generate(&options, &planned, &|_, _| {}).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/espeak-ng") && err.contains("apt-get install espeak-ng"), "{err}");
}
