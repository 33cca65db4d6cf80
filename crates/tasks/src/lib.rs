//! Readers, datasets and batching for the neurozoo tasks. (What generates data, the Pathfinder
//! generator and SHD-synthetic, is the `datagen` crate, which depends on this one.)
//!
//! Every task is a burn-dataset [`Dataset`](burn::data::dataset::Dataset) of
//! [`SequenceItem`]s, batched by [`SequenceBatcher`] into `[B,T,in]` inputs, so every task
//! reaches every model through Burn's `DataLoader` in the same way.
//!
//! * [`idx`]: the IDX file format (raw or gzip).
//! * [`mnist`]: sequential MNIST (line, pixel, permuted pixel).
//! * [`sine`]: the sine pattern-generation task.
//! * [`neuronio`]: NeuronIO simulation files, training windows and the authors' evaluation.
//! * [`shd`]: the Spiking Heidelberg Digits files, their binning and SHD-Adding pairs.
//! * [`pathfinder`]: LRA's Pathfinder and Path-X levels (metadata and PNGs).

use std::path::PathBuf;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::DatasetError;
use burn::prelude::*;

pub mod idx;
pub mod mnist;
pub mod neuronio;
pub mod pathfinder;
pub mod shd;
pub mod sine;

/// What can go wrong reading task data. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not there.
    #[error("{path} not found ({hint})")]
    Missing {
        /// The file looked for.
        path: PathBuf,
        /// What was expected where.
        hint: String,
    },
    /// The file is there but its contents are not what the format says.
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An item index past the end of a dataset.
    #[error("index {index} is out of range for a dataset of {len} items")]
    IndexOutOfRange {
        /// Requested index.
        index: usize,
        /// Dataset length.
        len: usize,
    },
    /// Options that cannot make a valid data set.
    #[error("{0}")]
    Invalid(String),
    /// The file's checksum is not the published one.
    #[error(
        "{path}: SHA-256 {actual} does not match the published {expected}; the file is damaged or not the real data set"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Published value.
        expected: String,
        /// Value of the file.
        actual: String,
    },
}

impl DataError {
    /// A failed read of `path`: [`DataError::Missing`] with `hint` when there is nothing
    /// there, [`DataError::Io`] otherwise.
    pub fn reading(path: &std::path::Path, hint: &str, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::NotFound => DataError::Missing { path: path.into(), hint: hint.into() },
            _ => DataError::Io { path: path.into(), source },
        }
    }
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, then renames it over
/// `path` (atomic on POSIX file systems), so a crash leaves the old file or the new one, never
/// a torn one. The one implementation for every crate: `train` wraps it.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), DataError> {
    use std::io::Write;
    let failed = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| DataError::Write { path, source }
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(failed(dir))?;
    // Temporary files are created private (0600); the result should be an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(failed(path))?;
    }
    // One fsync per file costs ~0.4 ms here, about 2 % of a generated Pathfinder image.
    tmp.write_all(bytes).and_then(|_| tmp.as_file().sync_all()).map_err(failed(path))?;
    tmp.persist(path).map_err(|e| failed(path)(e.error))?;
    Ok(())
}

/// Writes an 8-bit PNG (`color`: grey or RGB, `pixels` row-major) atomically, with a
/// `Source` text chunk when `source` is given. Data generators and plots share it.
pub fn write_png(
    path: &std::path::Path,
    pixels: &[u8],
    (width, height): (usize, usize),
    color: png::ColorType,
    source: Option<&str>,
) -> Result<(), DataError> {
    let failed =
        |e: png::EncodingError| DataError::Write { path: path.to_path_buf(), source: std::io::Error::other(e) };
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width as u32, height as u32);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        if let Some(source) = source {
            encoder.add_text_chunk("Source".into(), source.into()).map_err(failed)?;
        }
        encoder.write_header().and_then(|mut writer| writer.write_image_data(pixels)).map_err(failed)?;
    }
    write_atomic(path, &bytes)
}

/// One step of SplitMix64 (Steele et al. 2014): a well-mixed 64-bit stream from any seed.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 over `parts`: distinct tuples (seed, epoch, index, ...) give unrelated seeds.
/// Each part is added to the state, which one SplitMix64 step then replaces by its output.
pub fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x9E37_79B9_7F4A_7C15u64, |state, &p| splitmix64(&mut state.wrapping_add(p)))
}

/// The error `Dataset::get` returns for an index past the end.
pub fn out_of_range(index: usize, len: usize) -> DatasetError {
    DatasetError::new(DataError::IndexOutOfRange { index, len })
}

/// What a sequence is trained to produce.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A class, scored on the last step.
    Class(usize),
    /// A value at every step, `[T, features]` row-major, scored on all steps.
    Sequence {
        /// Row-major `[T, features]` values.
        values: Vec<f32>,
        /// Values per step.
        features: usize,
    },
    /// NeuronIO: per step, an output-spike target (0/1) and a soma target, `[T, 2]` row-major;
    /// scored by `0.5·BCE-with-logits(spike) + 0.5·MSE(soma)` on every step.
    SpikeAndSoma {
        /// Row-major `[T, 2]` values.
        values: Vec<f32>,
    },
}

/// One input sequence and its target.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceItem {
    /// Row-major `[steps, features]` input.
    pub input: Vec<f32>,
    /// Steps T.
    pub steps: usize,
    /// Inputs per step.
    pub features: usize,
    /// The target.
    pub target: Target,
}

/// A batch of targets.
#[derive(Clone, Debug)]
pub enum BatchTarget {
    /// Class ids `[B]`.
    Classes(Tensor<1, Int>),
    /// Per-step values `[B,T,out]`.
    Sequence(Tensor<3>),
    /// Per-step spike and soma targets `[B,T,2]`.
    SpikeAndSoma(Tensor<3>),
}

/// A batch: inputs `[B,T,in]` and targets.
#[derive(Clone, Debug)]
pub struct SequenceBatch {
    /// Inputs `[B,T,in]`.
    pub input: Tensor<3>,
    /// Targets.
    pub target: BatchTarget,
}

/// Stacks [`SequenceItem`]s of one shape into a [`SequenceBatch`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SequenceBatcher;

impl Batcher<SequenceItem, SequenceBatch> for SequenceBatcher {
    fn batch(&self, items: Vec<SequenceItem>, device: &Device) -> SequenceBatch {
        let first = items.first().expect("a batch has at least one item");
        let (b, t, f) = (items.len(), first.steps, first.features);
        let mut input = Vec::with_capacity(b * t * f);
        for item in &items {
            assert_eq!((item.steps, item.features), (t, f), "items of one batch share a shape");
            input.extend_from_slice(&item.input);
        }
        let input = Tensor::from_data(TensorData::new(input, [b, t, f]), device);
        let target = match &first.target {
            Target::Class(_) => {
                let classes: Vec<i64> = items
                    .iter()
                    .map(|i| match i.target {
                        Target::Class(c) => c as i64,
                        _ => panic!("mixed target kinds in one batch"),
                    })
                    .collect();
                BatchTarget::Classes(Tensor::from_data(TensorData::new(classes, [b]), device))
            }
            Target::Sequence { features, .. } => {
                let values = per_step_values(&items, |target| match target {
                    Target::Sequence { values, .. } => values,
                    _ => panic!("mixed target kinds in one batch"),
                });
                BatchTarget::Sequence(Tensor::from_data(TensorData::new(values, [b, t, *features]), device))
            }
            Target::SpikeAndSoma { .. } => {
                let values = per_step_values(&items, |target| match target {
                    Target::SpikeAndSoma { values } => values,
                    _ => panic!("mixed target kinds in one batch"),
                });
                BatchTarget::SpikeAndSoma(Tensor::from_data(TensorData::new(values, [b, t, 2]), device))
            }
        };
        SequenceBatch { input, target }
    }
}

fn per_step_values<'a>(items: &'a [SequenceItem], values: impl Fn(&'a Target) -> &'a Vec<f32>) -> Vec<f32> {
    items.iter().flat_map(|item| values(&item.target).iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batcher_stacks_inputs_and_classes() {
        let dev = Device::flex();
        let items = vec![
            SequenceItem { input: vec![1.0, 2.0, 3.0, 4.0], steps: 2, features: 2, target: Target::Class(3) },
            SequenceItem { input: vec![5.0, 6.0, 7.0, 8.0], steps: 2, features: 2, target: Target::Class(1) },
        ];
        let batch = SequenceBatcher.batch(items, &dev);
        assert_eq!(batch.input.dims(), [2, 2, 2]);
        let values: Vec<f32> = batch.input.into_data().try_into_vec().unwrap();
        assert_eq!(values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let BatchTarget::Classes(classes) = batch.target else { panic!("classes") };
        let classes: Vec<i64> = classes.into_data().convert::<i64>().try_into_vec().unwrap();
        assert_eq!(classes, vec![3, 1]);
    }

    #[test]
    fn write_atomic_replaces_the_whole_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/a.txt");
        write_atomic(&path, b"first version, long").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        }
    }

    #[test]
    fn write_atomic_names_the_file_it_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the parent folder should be.
        std::fs::write(dir.path().join("plain"), b"x").unwrap();
        let path = dir.path().join("plain/a.txt");
        let err = write_atomic(&path, b"data").unwrap_err();
        assert!(matches!(err, DataError::Write { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with("cannot write ") && message.contains("plain"), "{message}");
    }
}
