//! **SHD-synthetic**: spoken digits made the way the Spiking Heidelberg Digits were made
//! (Cramer et al. 2022), for machines that cannot download SHD. It is not SHD: the voices are
//! espeak-ng's formant synthesis, not 12 people in a studio, so its accuracies are never
//! comparable with SHD's, and every file it writes says so (`/` attribute `dataset`).
//!
//! - **Speakers**: 12, as SHD. Each is an espeak-ng voice variant (`+m1`…`+f4`) with its own
//!   base speed and pitch, speaking English (`en-us` or `en-gb`) and German (`de`); every
//!   utterance jitters speed ±15 % and pitch ±10. Speakers 10 and 11 speak only in the test
//!   file, as SHD's two held-out speakers, and the rest of the test file is drawn from the
//!   other ten.
//! - **Audio → spikes**: espeak-ng's 22.05 kHz output is resampled to the recordings' 48 kHz
//!   and cut at 1.4 s, then run through [`cochlea`], the port of lauscher's chain.
//! - **Files**: `shd_train.h5` / `shd_test.h5` in SHD's layout ([`crate::shd_write::write_shd`]).

pub mod cochlea;
pub mod speech;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::parallel::{parallel_collect, parallel_map};
use cochlea::{CochleaParams, Membrane, SpikeTrain};
use speech::Utterance;
use tasks::DataError;
use tasks::shd::ShdSample;

/// Sample rate of the Heidelberg Digits recordings, which the chain was run at.
pub const RECORDING_RATE: u32 = 48_000;
/// Longest utterance kept, in seconds (SHD's spikes end by about 1.4 s).
pub const MAX_SECONDS: f64 = 1.4;
/// The value of the root attribute `dataset` of every file written here.
pub const DATASET_NAME: &str = "SHD-synthetic";

/// A synthetic speaker: an espeak-ng variant with a base speed (words/min) and pitch.
#[derive(Clone, Copy, Debug)]
pub struct Speaker {
    /// espeak-ng voice variant (`m3`, `f2`, …).
    pub variant: &'static str,
    /// English voice (`en-us` or `en-gb`).
    pub english: &'static str,
    /// Base speed, words per minute.
    pub speed: u32,
    /// Base pitch, 0–99.
    pub pitch: u32,
    /// "male" / "female", for `/extra/meta_info/gender`.
    pub gender: &'static str,
}

/// The 12 speakers; the last two are held out for the test file.
pub const SPEAKERS: [Speaker; 12] = [
    Speaker { variant: "m1", english: "en-us", speed: 150, pitch: 45, gender: "male" },
    Speaker { variant: "f1", english: "en-gb", speed: 165, pitch: 60, gender: "female" },
    Speaker { variant: "m2", english: "en-gb", speed: 140, pitch: 35, gender: "male" },
    Speaker { variant: "f2", english: "en-us", speed: 170, pitch: 65, gender: "female" },
    Speaker { variant: "m3", english: "en-us", speed: 160, pitch: 40, gender: "male" },
    Speaker { variant: "f3", english: "en-gb", speed: 150, pitch: 55, gender: "female" },
    Speaker { variant: "m4", english: "en-gb", speed: 175, pitch: 50, gender: "male" },
    Speaker { variant: "f4", english: "en-us", speed: 145, pitch: 70, gender: "female" },
    Speaker { variant: "m5", english: "en-us", speed: 155, pitch: 30, gender: "male" },
    Speaker { variant: "m6", english: "en-gb", speed: 165, pitch: 45, gender: "male" },
    Speaker { variant: "m7", english: "en-us", speed: 150, pitch: 38, gender: "male" },
    Speaker { variant: "f5", english: "en-gb", speed: 160, pitch: 62, gender: "female" },
];
/// Speakers heard only in the test file.
pub const HELD_OUT_SPEAKERS: [usize; 2] = [10, 11];

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Samples in `shd_train.h5` (SHD: 8156).
    pub train: usize,
    /// Samples in `shd_test.h5` (SHD: 2264).
    pub test: usize,
    /// Seed of the prosody, the split and the fibres' spikes.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// The espeak-ng program.
    pub espeak: PathBuf,
    /// The chain's parameters (lauscher's defaults).
    pub params: CochleaParams,
}

/// One planned utterance: who says what, and in which file it ends up.
#[derive(Clone, Debug)]
pub struct Planned {
    /// Speaker index into [`SPEAKERS`].
    pub speaker: usize,
    /// How espeak-ng speaks it.
    pub utterance: Utterance,
    /// Whether it goes to the test file.
    pub test: bool,
}

/// Plans `train + test` utterances: classes and speakers in turn (balanced), seeded prosody,
/// held-out speakers in the test file only.
pub fn plan(options: &SynthOptions) -> Result<Vec<Planned>, DataError> {
    let total = options.train + options.test;
    let mut rng = StdRng::seed_from_u64(tasks::mix(&[options.seed, 0x5ED]));
    let mut planned: Vec<Planned> = (0..total)
        .map(|i| {
            let speaker = i % SPEAKERS.len();
            let label = ((i / SPEAKERS.len()) % 20) as u8;
            let s = SPEAKERS[speaker];
            let language = if label < 10 { s.english } else { "de" };
            let speed = (f64::from(s.speed) * rng.random_range(0.85..1.15)).round() as u32;
            let pitch = (s.pitch as i32 + rng.random_range(-10..=10)).clamp(0, 99) as u32;
            Planned {
                speaker,
                utterance: Utterance { label, voice: format!("{language}+{}", s.variant), speed, pitch },
                test: HELD_OUT_SPEAKERS.contains(&speaker),
            }
        })
        .collect();
    let held_out = planned.iter().filter(|p| p.test).count();
    if held_out > options.test {
        return Err(DataError::Invalid(format!(
            "{} test samples cannot hold the {held_out} utterances of the held-out speakers {HELD_OUT_SPEAKERS:?} \
             among {total}; ask for a test share of at least 2/12",
            options.test
        )));
    }
    // The rest of the test file: a seeded draw from the other speakers.
    let mut others: Vec<usize> = (0..total).filter(|&i| !planned[i].test).collect();
    for k in 0..options.test - held_out {
        let j = rng.random_range(k..others.len());
        others.swap(k, j);
        planned[others[k]].test = true;
    }
    Ok(planned)
}

/// FFT-friendly output lengths (2^a·3^b·5^c), at least 6 % apart: each wave is padded to the
/// next one, so a few transfer matrices serve the whole data set.
pub fn padded_output_len(kept: usize) -> usize {
    let mut smooth = Vec::new();
    let mut p2 = 1usize;
    while p2 < 1 << 20 {
        let mut p3 = p2;
        while p3 < 1 << 20 {
            let mut p5 = p3;
            while p5 < 1 << 20 {
                smooth.push(p5);
                p5 *= 5;
            }
            p3 *= 3;
        }
        p2 *= 2;
    }
    smooth.sort_unstable();
    let mut last = 0usize;
    for m in smooth {
        if m >= 256 && m as f64 >= last as f64 * 1.06 {
            last = m;
            if m >= kept {
                return m;
            }
        }
    }
    kept
}

/// espeak-ng's samples and their rate.
type Spoken = (Vec<f64>, u32);

/// Generates every planned utterance, in plan order. `progress` hears
/// (done, total) after each one.
pub fn generate(
    options: &SynthOptions,
    planned: &[Planned],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<ShdSample>, DataError> {
    let threads = options.threads.max(1);
    // 1. Speech, in parallel; kept at espeak-ng's rate (less than half the memory of 48 kHz)
    //    until its turn in the chain.
    let waves: Vec<Spoken> =
        parallel_map(planned.len(), threads, |i| speech::speak(&options.espeak, &planned[i].utterance))?;
    let max_samples = (MAX_SECONDS * f64::from(RECORDING_RATE)) as usize;
    let recording = |(wave, rate): &Spoken| {
        let mut wave = speech::resample(wave, *rate, RECORDING_RATE);
        wave.truncate(max_samples);
        wave
    };

    // 2. The chain, one padded length at a time.
    let padded: Vec<usize> = waves
        .iter()
        .map(|(wave, rate)| {
            let samples = speech::resampled_len(wave.len(), *rate, RECORDING_RATE).min(max_samples);
            2 * (padded_output_len(samples / 2 + 1) - 1)
        })
        .collect();
    let mut lengths: Vec<usize> = padded.clone();
    lengths.sort_unstable();
    lengths.dedup();
    let mut trains: Vec<SpikeTrain> = (0..planned.len()).map(|_| SpikeTrain::default()).collect();
    let done = AtomicUsize::new(0);
    for length in lengths {
        let membrane = Membrane::new(&options.params, length, RECORDING_RATE, threads);
        let members: Vec<usize> = (0..planned.len()).filter(|&i| padded[i] == length).collect();
        let converted = parallel_collect(members.len(), threads, |k| {
            let i = members[k];
            let mut rng = StdRng::seed_from_u64(tasks::mix(&[options.seed, i as u64, 0xC0C]));
            let train =
                cochlea::wave_to_spikes(&recording(&waves[i]), RECORDING_RATE, &membrane, &options.params, &mut rng);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, planned.len());
            train
        });
        for (i, train) in members.into_iter().zip(converted) {
            trains[i] = train;
        }
    }
    Ok(trains
        .into_iter()
        .zip(planned)
        .map(|(train, p)| ShdSample {
            times: train.times,
            units: train.units,
            label: p.utterance.label,
            speaker: Some(p.speaker as u32),
        })
        .collect())
}
