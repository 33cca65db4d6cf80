//! The Spiking Heidelberg Digits (Cramer et al., IEEE TNNLS 2022) as published, and the
//! preprocessing of the ELM paper (Spieler et al. 2024; spec elm.md §2.2, data.md §2).
//!
//! # The files
//! `shd_train.h5` / `shd_test.h5` hold, per sample, a ragged array of spike times in seconds
//! (`/spikes/times`) and one of channel ids (`/spikes/units`), both HDF5 variable-length
//! sequences, plus `/labels` (0–9 English digits, 10–19 German) and `/extra/{speaker,keys,…}`.
//! Element types are read from the file: float16/32/64 times, 8–64-bit integer units and
//! labels. Every sample is checked (equal lengths, unit < 700, label < 20, finite
//! non-negative times); an error names the file, the sample and the value. The downloads
//! `*.h5.gz` and `*.h5.zip` are read directly; a zip with an official name is checked against
//! the published MD5 first. Read with `hdf5-reader` (pure Rust): no C library.
//!
//! # Preprocessing (`shd_data_loader.py:61-140`)
//! Bin edges `arange(0, 1 + Δ, Δ)` with `Δ = bin/1000` s; a spike goes to bin
//! `digitize(t) − 1` (the last edge ≤ t); counts per (bin, channel) are summed; the bin of
//! spikes at ≥ 1 s is dropped, so `T = 1000/bin` steps of 700 channels.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};

use hdf5_reader::{ByteOrder, Datatype, Hdf5File};
use md5::{Digest, Md5};

use crate::{DataError, SequenceItem, Target, out_of_range};

/// Cochlea channels (input units) of SHD.
pub const SHD_CHANNELS: usize = 700;
/// Classes: digits 0–9 in English (0–9) and German (10–19).
pub const SHD_CLASSES: usize = 20;
/// The published MD5 of the zip downloads (`tonic`, `spikingjelly`; spec data.md §2).
pub const OFFICIAL_ZIP_MD5: [(&str, &str); 2] =
    [("shd_train.h5.zip", "f3252aeb598ac776c1b526422d90eecb"), ("shd_test.h5.zip", "1503a5064faa34311c398fb0a1ed0a6f")];

/// One recording: its spikes and class.
#[derive(Clone, Debug, PartialEq)]
pub struct ShdSample {
    /// Spike times in seconds, as stored (float16 values widened exactly).
    pub times: Vec<f64>,
    /// Channel of each spike, `< 700`.
    pub units: Vec<u16>,
    /// Class `< 20`.
    pub label: u8,
    /// Speaker id, when the file has `/extra/speaker`.
    pub speaker: Option<u32>,
}

/// A whole SHD file.
#[derive(Clone, Debug)]
pub struct ShdFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Every sample, in file order.
    pub samples: Vec<ShdSample>,
    /// `/extra/keys`: the word of each class, when present.
    pub keys: Vec<String>,
    /// The root attribute `dataset` of files that are not the published SHD (`"SHD-synthetic"`
    /// for `datagen::shd_synth`); `None` for the real files, which have no such attribute.
    pub synthetic: Option<String>,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
}

/// Decodes `bytes` of an integer or float HDF5 type into f64s (exact for every integer type
/// up to 32 bits and every float type).
fn decode_numbers(bytes: &[u8], dtype: &Datatype) -> Result<Vec<f64>, String> {
    let (size, order) = match dtype {
        Datatype::FixedPoint { size, byte_order, .. } | Datatype::FloatingPoint { size, byte_order } => {
            (*size as usize, *byte_order)
        }
        other => return Err(format!("expected numbers, found the HDF5 type {other:?}")),
    };
    if !bytes.len().is_multiple_of(size) {
        return Err(format!("{} bytes are not a whole number of {size}-byte values", bytes.len()));
    }
    let word = |chunk: &[u8]| {
        let mut b = [0u8; 8];
        match order {
            ByteOrder::LittleEndian => b[..size].copy_from_slice(chunk),
            ByteOrder::BigEndian => chunk.iter().rev().enumerate().for_each(|(i, &v)| b[i] = v),
        }
        u64::from_le_bytes(b)
    };
    let decode: Box<dyn Fn(u64) -> f64> = match (dtype, size) {
        (Datatype::FloatingPoint { .. }, 2) => Box::new(|w| half::f16::from_bits(w as u16).to_f64()),
        (Datatype::FloatingPoint { .. }, 4) => Box::new(|w| f32::from_bits(w as u32) as f64),
        (Datatype::FloatingPoint { .. }, 8) => Box::new(f64::from_bits),
        (Datatype::FixedPoint { signed: false, .. }, 1 | 2 | 4 | 8) => Box::new(|w| w as f64),
        (Datatype::FixedPoint { signed: true, .. }, 1 | 2 | 4 | 8) => {
            let shift = 64 - 8 * size as u32;
            Box::new(move |w| (((w << shift) as i64) >> shift) as f64)
        }
        _ => return Err(format!("unsupported {size}-byte number type {dtype:?}")),
    };
    Ok(bytes.chunks_exact(size).map(|c| decode(word(c))).collect())
}

/// Reads a 1-D numeric dataset as f64s.
fn read_numbers(file: &Hdf5File, path: &Path, name: &str) -> Result<Vec<f64>, DataError> {
    let dataset = file.dataset(name).map_err(|e| corrupt(path, format!("no dataset {name}: {e}")))?;
    let bytes = dataset.read_raw_bytes().map_err(|e| corrupt(path, format!("cannot read {name}: {e}")))?;
    decode_numbers(&bytes, dataset.dtype()).map_err(|e| corrupt(path, format!("{name}: {e}")))
}

/// Reads a 1-D dataset of variable-length numeric sequences, one `Vec<f64>` per element.
fn read_ragged(file: &Hdf5File, path: &Path, name: &str) -> Result<Vec<Vec<f64>>, DataError> {
    let dataset = file.dataset(name).map_err(|e| corrupt(path, format!("no dataset {name}: {e}")))?;
    let Datatype::VarLen { base, .. } = dataset.dtype() else {
        return Err(corrupt(path, format!("{name} is {:?}, expected variable-length sequences", dataset.dtype())));
    };
    let base_size = match base.as_ref() {
        Datatype::FixedPoint { size, .. } | Datatype::FloatingPoint { size, .. } => *size as usize,
        other => return Err(corrupt(path, format!("{name} holds {other:?}, expected numbers"))),
    };
    let raw = dataset.read_raw_bytes().map_err(|e| corrupt(path, format!("cannot read {name}: {e}")))?;
    let reference_size = dataset.vlen_reference_size();
    if !raw.len().is_multiple_of(reference_size) {
        return Err(corrupt(path, format!("{name}: {} bytes of references are truncated", raw.len())));
    }
    raw.chunks_exact(reference_size)
        .enumerate()
        .map(|(i, reference)| {
            let bytes = dataset
                .resolve_vlen_reference_bytes(reference, base_size)
                .map_err(|e| corrupt(path, format!("{name}[{i}]: {e}")))?;
            decode_numbers(&bytes, base).map_err(|e| corrupt(path, format!("{name}[{i}]: {e}")))
        })
        .collect()
}

/// The MD5 of `bytes` in lowercase hex.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a missing file was expected to be.
const SHD_FILE_HINT: &str = "an SHD file (shd_train.h5 / shd_test.h5, or their .h5.gz / .h5.zip downloads)";

/// The HDF5 bytes of `path`: the file itself, or the one inside a `.gz` / `.zip` download
/// (a zip with an official name must match its published MD5).
pub fn hdf5_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::reading(path, SHD_FILE_HINT, source))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if name.ends_with(".gz") {
        let mut out = Vec::new();
        // The gzip trailer's CRC-32 and length are checked by the decoder.
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| corrupt(path, format!("not a complete gzip file: {e}")))?;
        return Ok(out);
    }
    if name.ends_with(".zip") {
        if let Some((_, expected)) = OFFICIAL_ZIP_MD5.iter().find(|(official, _)| *official == name) {
            let actual = md5_hex(&bytes);
            if actual != *expected {
                return Err(corrupt(
                    path,
                    format!("MD5 {actual} does not match the published {expected}; the download is damaged or not SHD"),
                ));
            }
        }
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| corrupt(path, format!("not a readable zip archive: {e}")))?;
        let index = (0..archive.len())
            .find(|&i| archive.name_for_index(i).is_some_and(|n| n.ends_with(".h5")))
            .ok_or_else(|| corrupt(path, "the archive holds no .h5 file"))?;
        let mut entry = archive.by_index(index).map_err(|e| corrupt(path, format!("cannot open its .h5: {e}")))?;
        let mut out = Vec::new();
        entry.read_to_end(&mut out).map_err(|e| corrupt(path, format!("cannot unpack its .h5: {e}")))?;
        return Ok(out);
    }
    Ok(bytes)
}

/// Checks one sample's values; the message says what is wrong.
fn check_sample(times: &[f64], units: &[f64], label: f64) -> Result<(), String> {
    if times.len() != units.len() {
        return Err(format!("{} spike times but {} units", times.len(), units.len()));
    }
    if let Some((i, t)) = times.iter().enumerate().find(|(_, t)| !(t.is_finite() && **t >= 0.0)) {
        return Err(format!("spike {i} has time {t}, expected a finite time ≥ 0 s"));
    }
    if let Some((i, u)) = units.iter().enumerate().find(|(_, u)| !(u.fract() == 0.0 && (0.0..700.0).contains(*u))) {
        return Err(format!("spike {i} has unit {u}, expected an integer channel < {SHD_CHANNELS}"));
    }
    if !(label.fract() == 0.0 && (0.0..SHD_CLASSES as f64).contains(&label)) {
        return Err(format!("label {label}, expected an integer < {SHD_CLASSES}"));
    }
    Ok(())
}

impl ShdFile {
    /// Reads and validates an SHD file (`.h5`, `.h5.gz` or `.h5.zip`).
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let bytes = hdf5_bytes(path)?;
        let options = read_limits(bytes.len());
        let file = Hdf5File::from_vec_with_options(bytes, options)
            .map_err(|e| corrupt(path, format!("not a readable HDF5 file: {e}")))?;
        let times = read_ragged(&file, path, "spikes/times")?;
        let units = read_ragged(&file, path, "spikes/units")?;
        let labels = read_numbers(&file, path, "labels")?;
        if times.len() != units.len() || times.len() != labels.len() {
            return Err(corrupt(
                path,
                format!("{} spike-time rows, {} unit rows and {} labels", times.len(), units.len(), labels.len()),
            ));
        }
        let speakers = match file.dataset("extra/speaker") {
            Ok(_) => Some(read_numbers(&file, path, "extra/speaker")?),
            Err(_) => None,
        };
        let keys = match file.dataset("extra/keys") {
            Ok(d) => d.read_strings().map_err(|e| corrupt(path, format!("extra/keys: {e}")))?,
            Err(_) => Vec::new(),
        };
        let synthetic = origin_of(&file, path)?;
        let mut samples = Vec::with_capacity(labels.len());
        for (i, ((t, u), &label)) in times.into_iter().zip(units).zip(&labels).enumerate() {
            check_sample(&t, &u, label).map_err(|e| corrupt(path, format!("sample {i}: {e}")))?;
            samples.push(ShdSample {
                times: t,
                units: u.into_iter().map(|v| v as u16).collect(),
                label: label as u8,
                speaker: speakers.as_ref().and_then(|s| s.get(i)).map(|&v| v as u32),
            });
        }
        Ok(ShdFile { path: path.to_path_buf(), samples, keys, synthetic })
    }
}

/// The root attribute `dataset` (files not from the SHD release carry it).
fn origin_of(file: &Hdf5File, path: &Path) -> Result<Option<String>, DataError> {
    match file.root_group().and_then(|root| root.attribute("dataset")) {
        Ok(attribute) => {
            Ok(Some(attribute.read_string().map_err(|e| corrupt(path, format!("the root attribute `dataset`: {e}")))?))
        }
        Err(_) => Ok(None),
    }
}

/// Read limits for an HDF5 file of `file_bytes` bytes. A dataset's extent comes from the file,
/// and hdf5-reader allocates (and zeroes) whatever a damaged header declares: a fuzzed SHD file
/// once asked for tens of GB and spent minutes clearing it. SHD's datasets are stored
/// uncompressed, so none decodes to more than the file holds; 64× (or 64 MiB) leaves room for
/// a file compressed inside HDF5 and refuses only the impossible.
fn read_limits(file_bytes: usize) -> hdf5_reader::OpenOptions {
    let limit = file_bytes.saturating_mul(64).max(64 << 20);
    hdf5_reader::OpenOptions { max_read_bytes: limit, max_chunk_bytes: limit, ..Default::default() }
}

/// `Some("SHD-synthetic")` for a generated file, `None` for the published ones, without
/// reading the samples.
pub fn file_origin(path: &Path) -> Result<Option<String>, DataError> {
    let unreadable = |e: hdf5_reader::error::Error| corrupt(path, format!("not a readable HDF5 file: {e}"));
    let file = if path.extension().is_some_and(|e| e == "h5") {
        // Read on demand: the superblock and root header, a few KiB of a 150 MB file.
        let opened = std::fs::File::open(path).map_err(|source| DataError::reading(path, SHD_FILE_HINT, source))?;
        let storage = hdf5_reader::FileStorage::from_file(opened).map_err(unreadable)?;
        let size = std::fs::metadata(path).map_or(0, |m| m.len() as usize);
        Hdf5File::from_storage_with_options(Arc::new(storage), read_limits(size)).map_err(unreadable)?
    } else {
        // A download has to be unpacked whole.
        let bytes = hdf5_bytes(path)?;
        let options = read_limits(bytes.len());
        Hdf5File::from_vec_with_options(bytes, options).map_err(unreadable)?
    };
    origin_of(&file, path)
}

/// The ELM reference's binning: `T = 1000/bin_ms` steps × 700 channels of spike counts,
/// row-major `[T, 700]`. `bin_ms` must divide 1000 ms into whole bins.
pub fn bin_counts(sample: &ShdSample, bin_ms: f64) -> Vec<f32> {
    let steps = steps_for_bin(bin_ms).expect("a bin size that divides 1000 ms");
    let delta = bin_ms / 1000.0;
    // numpy's arange(0, 1 + Δ, Δ): ceil((1 + Δ)/Δ) edges at i·Δ.
    let edges = ((1.0 + delta) / delta).ceil() as usize;
    let edge = |i: usize| i as f64 * delta;
    let mut counts = vec![0f32; steps * SHD_CHANNELS];
    for (&t, &unit) in sample.times.iter().zip(&sample.units) {
        // digitize(t) − 1: the last edge ≤ t (an estimate, then corrected at the edges).
        let mut k = ((t / delta).floor() as usize).min(edges - 1);
        while k + 1 < edges && edge(k + 1) <= t {
            k += 1;
        }
        while k > 0 && edge(k) > t {
            k -= 1;
        }
        if k < steps {
            counts[k * SHD_CHANNELS + unit as usize] += 1.0;
        }
    }
    counts
}

/// `1000/bin_ms` when it is a whole number of steps.
pub fn steps_for_bin(bin_ms: f64) -> Option<usize> {
    let steps = 1000.0 / bin_ms;
    (bin_ms > 0.0 && steps.is_finite() && (steps - steps.round()).abs() < 1e-9 && steps >= 1.0)
        .then_some(steps.round() as usize)
}

/// The seeded validation split of the training file: each sample is validation with
/// probability `fraction` (the reference's Bernoulli(0.2) per sample, seed 0, with our RNG).
pub fn validation_mask(samples: usize, fraction: f64, seed: u64) -> Vec<bool> {
    let uniform = |i: usize| (crate::mix(&[seed, 0x0053_4844, i as u64]) >> 11) as f64 / (1u64 << 53) as f64;
    (0..samples).map(|i| uniform(i) < fraction).collect()
}

/// SHD-Adding: `count` pairs drawn uniformly with replacement from `pool` sample indices,
/// seeded. The reference draws fresh pairs every training epoch (pass the epoch in `seed`)
/// and re-seeds for validation and test, so those sets are fixed.
pub fn adding_pairs(pool: usize, count: usize, seed: u64) -> Vec<(usize, usize)> {
    assert!(pool > 0, "SHD-Adding needs at least one sample to draw from");
    let draw = |i: usize, j: u64| (crate::mix(&[seed, i as u64, j]) % pool as u64) as usize;
    (0..count).map(|i| (draw(i, 0), draw(i, 1))).collect()
}

/// SHD-Adding's label: the sum of the two digits, language ignored, 19 classes.
pub fn adding_label(first: u8, second: u8) -> u8 {
    first % 10 + second % 10
}

/// What a [`ShdSequences`] item is.
#[derive(Clone, Debug, PartialEq)]
pub enum ShdMode {
    /// One recording, its class (20 classes).
    Digits,
    /// SHD-Adding: two recordings one after the other, the sum of their digits (19 classes).
    Adding {
        /// Indices into the part's samples, one pair per item.
        pairs: Arc<Vec<(usize, usize)>>,
    },
}

/// One part (train, validation or test) of SHD or SHD-Adding as binned sequences
/// `[T, 700]` (T = 1000/bin, twice that for SHD-Adding), classified on the last step.
/// Binning happens when an item is read; the spikes stay in memory (SHD is ~0.5 GB of
/// dense counts at 2 ms bins but ~60 MB of spikes).
#[derive(Clone, Debug)]
pub struct ShdSequences {
    samples: Arc<Vec<ShdSample>>,
    bin_ms: f64,
    mode: ShdMode,
    synthetic: Option<String>,
}

impl ShdSequences {
    /// The SHD classification task over `samples`. `bin_ms` must divide 1000 ms.
    pub fn digits(samples: Vec<ShdSample>, bin_ms: f64) -> Self {
        assert!(steps_for_bin(bin_ms).is_some(), "bin {bin_ms} ms does not divide 1000 ms");
        ShdSequences { samples: Arc::new(samples), bin_ms, mode: ShdMode::Digits, synthetic: None }
    }

    /// Marks the samples as coming from a file that is not the published SHD (its `dataset`
    /// attribute, e.g. `"SHD-synthetic"`).
    pub fn with_origin(mut self, synthetic: Option<String>) -> Self {
        self.synthetic = synthetic;
        self
    }

    /// `Some(name)` when the samples are not the published SHD ([`ShdFile::synthetic`]).
    pub fn synthetic(&self) -> Option<&str> {
        self.synthetic.as_deref()
    }

    /// SHD-Adding over `samples` with `count` pairs drawn with `seed` (see [`adding_pairs`]).
    pub fn adding(samples: Vec<ShdSample>, bin_ms: f64, count: usize, seed: u64) -> Self {
        let pairs = Arc::new(adding_pairs(samples.len(), count, seed));
        ShdSequences { mode: ShdMode::Adding { pairs }, ..Self::digits(samples, bin_ms) }
    }

    /// The same pool with freshly drawn pairs (SHD-Adding's training draws per epoch); the
    /// digits task is returned unchanged.
    pub fn redrawn(&self, seed: u64) -> Self {
        match &self.mode {
            ShdMode::Digits => self.clone(),
            ShdMode::Adding { pairs } => ShdSequences {
                mode: ShdMode::Adding { pairs: Arc::new(adding_pairs(self.samples.len(), pairs.len(), seed)) },
                ..self.clone()
            },
        }
    }

    /// Only the first `limit` items (quick runs).
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        let Some(n) = limit.filter(|&n| n < self.len()) else { return self };
        match &mut self.mode {
            ShdMode::Digits => self.samples = Arc::new(self.samples[..n].to_vec()),
            ShdMode::Adding { pairs } => *pairs = Arc::new(pairs[..n].to_vec()),
        }
        self
    }

    /// Steps per item.
    pub fn steps(&self) -> usize {
        let steps = steps_for_bin(self.bin_ms).unwrap_or(0);
        match self.mode {
            ShdMode::Digits => steps,
            ShdMode::Adding { .. } => 2 * steps,
        }
    }

    /// Classes: 20, or 19 for SHD-Adding.
    pub fn classes(&self) -> usize {
        match self.mode {
            ShdMode::Digits => SHD_CLASSES,
            ShdMode::Adding { .. } => 19,
        }
    }
}

impl Dataset<SequenceItem> for ShdSequences {
    fn get(&self, index: usize) -> Result<SequenceItem, DatasetError> {
        if index >= self.len() {
            return Err(out_of_range(index, self.len()));
        }
        let (input, label) = match &self.mode {
            ShdMode::Digits => {
                let s = &self.samples[index];
                (bin_counts(s, self.bin_ms), s.label as usize)
            }
            ShdMode::Adding { pairs } => {
                let (a, b) = (&self.samples[pairs[index].0], &self.samples[pairs[index].1]);
                let mut input = bin_counts(a, self.bin_ms);
                input.extend(bin_counts(b, self.bin_ms));
                (input, adding_label(a.label, b.label) as usize)
            }
        };
        Ok(SequenceItem { input, steps: self.steps(), features: SHD_CHANNELS, target: Target::Class(label) })
    }

    fn len(&self) -> usize {
        match &self.mode {
            ShdMode::Digits => self.samples.len(),
            ShdMode::Adding { pairs } => pairs.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(times: &[f64], units: &[u16]) -> ShdSample {
        ShdSample { times: times.to_vec(), units: units.to_vec(), label: 0, speaker: None }
    }

    /// 2 ms bins: edges 0, .002, …, 1.0. 0.002 s sits on edge 1 (bin 1), 0.0019999 below it
    /// (bin 0); 0.9999 s in bin 499; 1.0 s in the dropped bin; two spikes at 0.5 s on channel 7
    /// count 2 in bin 250.
    #[test]
    fn counts_per_bin_by_hand() {
        let s = sample(&[0.002, 0.0019999, 0.9999, 1.0, 0.5, 0.5, 0.0], &[1, 2, 3, 4, 7, 7, 699]);
        let c = bin_counts(&s, 2.0);
        assert_eq!(c.len(), 500 * 700);
        let at = |t: usize, ch: usize| c[t * 700 + ch];
        assert_eq!((at(1, 1), at(0, 2), at(499, 3), at(250, 7), at(0, 699)), (1.0, 1.0, 1.0, 2.0, 1.0));
        assert_eq!(c.iter().sum::<f32>(), 6.0, "the spike at 1.0 s is dropped");
        assert_eq!(bin_counts(&s, 10.0).len(), 100 * 700);
        assert_eq!(steps_for_bin(1.0), Some(1000));
        assert_eq!(steps_for_bin(3.0), None);
    }

    #[test]
    fn numbers_of_every_width_and_order() {
        let le = |size, signed| Datatype::FixedPoint { size, signed, byte_order: ByteOrder::LittleEndian };
        assert_eq!(decode_numbers(&[0xff, 0xff], &le(2, true)).unwrap(), [-1.0]);
        assert_eq!(decode_numbers(&[0xff, 0xff], &le(2, false)).unwrap(), [65535.0]);
        assert_eq!(decode_numbers(&[0xbc, 0x02], &le(2, false)).unwrap(), [700.0]);
        let be = Datatype::FixedPoint { size: 4, signed: true, byte_order: ByteOrder::BigEndian };
        assert_eq!(decode_numbers(&[0xff, 0xff, 0xff, 0xfe], &be).unwrap(), [-2.0]);
        let f16 = Datatype::FloatingPoint { size: 2, byte_order: ByteOrder::LittleEndian };
        // 0x3800 is 0.5 in float16.
        assert_eq!(decode_numbers(&[0x00, 0x38], &f16).unwrap(), [0.5]);
        assert!(decode_numbers(&[0x00, 0x38, 0x00], &f16).is_err());
    }

    #[test]
    fn adding_pairs_and_labels() {
        assert_eq!(adding_label(3, 14), 7);
        assert_eq!(adding_label(19, 9), 18);
        let pairs = adding_pairs(5, 1000, 1);
        assert!(pairs.iter().all(|&(a, b)| a < 5 && b < 5));
        assert_eq!(pairs, adding_pairs(5, 1000, 1), "seeded");
        assert_ne!(pairs, adding_pairs(5, 1000, 2), "a fresh draw per epoch");
        // With replacement: some pair repeats a sample.
        assert!(pairs.iter().any(|(a, b)| a == b));
        let pool = vec![
            ShdSample { times: vec![0.0], units: vec![0], label: 3, speaker: None },
            ShdSample { times: vec![0.5], units: vec![1], label: 18, speaker: None },
        ];
        let adding = ShdSequences::adding(pool, 10.0, 50, 7);
        assert_eq!((adding.len(), adding.steps(), adding.classes()), (50, 200, 19));
        for i in 0..50 {
            let item = adding.get(i).unwrap();
            let (first, second) = (item.input[0] == 1.0, item.input[(100 + 50) * 700 + 1] == 1.0);
            // The label follows from which recordings were drawn: 3 + 3, 3 + 8, 8 + 3 or 8 + 8.
            let first_label = if first { 3 } else { 8 };
            let second_label = if second { 8 } else { 3 };
            assert_eq!(item.target, Target::Class(first_label + second_label), "item {i}");
            assert_eq!(item.input.iter().sum::<f32>(), 2.0);
        }
        let mask = validation_mask(10_000, 0.2, 0);
        let share = mask.iter().filter(|&&v| v).count() as f64 / 1e4;
        assert!((share - 0.2).abs() < 0.02, "{share}");
        assert_eq!(mask, validation_mask(10_000, 0.2, 0));
    }
}
