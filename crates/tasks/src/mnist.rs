//! Sequential MNIST (`datasets/mnist.py` of GLIFS_ASC): the standard 60k/10k split, pixels
//! scaled to 0–1 and normalised with mean 0.1307 and SD 0.3081, fed to the network as
//!
//! * [`SequenceMode::Line`]: 28 steps × 28 inputs (one image row per step, top to bottom);
//! * [`SequenceMode::Pixel`]: 784 steps × 1 input, row-major;
//! * [`SequenceMode::PermutedPixel`]: 784 × 1 in a fixed random order drawn from a seed.
//!
//! The files are the four IDX files under one folder, raw or `.gz`, with their usual names.
//! Their SHA-256 values (of the uncompressed bytes) are checked against the real set unless
//! the caller turns that off (for hand-made subsets).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use sha2::{Digest, Sha256};

use crate::idx::{parse_idx, read_file_bytes};
use crate::{DataError, SequenceItem, Target, out_of_range};

/// Mean of the MNIST training pixels scaled to 0–1, as torchvision and the reference use it.
pub const MNIST_MEAN: f32 = 0.1307;
/// SD of the MNIST training pixels scaled to 0–1.
pub const MNIST_STD: f32 = 0.3081;

/// One of the four MNIST files: its name and the SHA-256 of its uncompressed bytes.
#[derive(Clone, Copy, Debug)]
pub struct MnistFile {
    /// File name without `.gz`.
    pub name: &'static str,
    /// SHA-256 of the uncompressed file (spec data.md §1).
    pub sha256: &'static str,
}

/// The four files of the real MNIST, in the order train images, train labels, test images,
/// test labels.
pub const MNIST_FILES: [MnistFile; 4] = [
    MnistFile {
        name: "train-images-idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    MnistFile {
        name: "train-labels-idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    MnistFile {
        name: "t10k-images-idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    MnistFile {
        name: "t10k-labels-idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];

/// Train or test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The 60,000 training images.
    Train,
    /// The 10,000 test images.
    Test,
}

impl Split {
    fn files(self) -> (MnistFile, MnistFile) {
        match self {
            Split::Train => (MNIST_FILES[0], MNIST_FILES[1]),
            Split::Test => (MNIST_FILES[2], MNIST_FILES[3]),
        }
    }
}

/// Where a file is in `dir`: the raw name, or the name with `.gz`.
pub fn locate(dir: &Path, file: &MnistFile) -> Option<PathBuf> {
    [file.name.to_string(), format!("{}.gz", file.name)].into_iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads one MNIST file, checking its SHA-256 when `verify` is set.
fn read_checked(dir: &Path, file: &MnistFile, verify: bool) -> Result<(PathBuf, Vec<u8>), DataError> {
    let path = locate(dir, file).ok_or_else(|| DataError::Missing {
        path: dir.join(file.name),
        hint: format!("expected {0} or {0}.gz in {1}", file.name, dir.display()),
    })?;
    let bytes = read_file_bytes(&path)?;
    if verify {
        let actual = sha256_hex(&bytes);
        if actual != file.sha256 {
            return Err(DataError::Checksum { path, expected: file.sha256.into(), actual });
        }
    }
    Ok((path, bytes))
}

/// The images and labels of one split, kept as bytes (47 MB for the training set).
#[derive(Clone, Debug)]
pub struct MnistImages {
    pixels: Arc<Vec<u8>>,
    labels: Arc<Vec<u8>>,
}

impl MnistImages {
    /// Loads a split from `dir`, validating headers, sizes, labels and (if `verify`) checksums.
    pub fn load(dir: &Path, split: Split, verify: bool) -> Result<Self, DataError> {
        let (image_file, label_file) = split.files();
        let (image_path, image_bytes) = read_checked(dir, &image_file, verify)?;
        let (label_path, label_bytes) = read_checked(dir, &label_file, verify)?;
        let images = parse_idx(&image_bytes, &image_path)?;
        let labels = parse_idx(&label_bytes, &label_path)?;
        if images.dims.len() != 3 || images.dims[1] != 28 || images.dims[2] != 28 {
            return Err(DataError::Corrupt {
                path: image_path,
                reason: format!("image dimensions {:?}, expected [N, 28, 28]", images.dims),
            });
        }
        if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
            return Err(DataError::Corrupt {
                path: label_path,
                reason: format!(
                    "label dimensions {:?}, expected [{}] to match the images",
                    labels.dims, images.dims[0]
                ),
            });
        }
        if let Some(pos) = labels.data.iter().position(|&l| l > 9) {
            return Err(DataError::Corrupt {
                path: label_path,
                reason: format!("label {} at index {pos} is not a digit 0-9", labels.data[pos]),
            });
        }
        Ok(Self { pixels: Arc::new(images.data), labels: Arc::new(labels.data) })
    }

    /// Builds a set from raw pixels (`n·784` bytes) and labels (tests, subsets).
    pub fn from_raw(pixels: Vec<u8>, labels: Vec<u8>) -> Self {
        assert_eq!(pixels.len(), labels.len() * 784, "784 pixels per label");
        Self { pixels: Arc::new(pixels), labels: Arc::new(labels) }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Label of image `index`.
    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    /// The 784 pixels of image `index`, row-major.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * 784..(index + 1) * 784]
    }
}

/// How an image becomes a sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SequenceMode {
    /// 28 steps of one row (28 inputs).
    Line,
    /// 784 steps of one pixel.
    Pixel,
    /// 784 steps of one pixel, in the order of a permutation drawn from `seed`.
    PermutedPixel {
        /// Seed of the permutation; the same seed gives the same order on every machine.
        seed: u64,
    },
}

impl SequenceMode {
    /// (steps, inputs per step).
    pub fn shape(&self) -> (usize, usize) {
        match self {
            SequenceMode::Line => (28, 28),
            _ => (784, 1),
        }
    }
}

/// The fixed pixel order of [`SequenceMode::PermutedPixel`].
pub fn pixel_permutation(seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..784).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    order
}

/// MNIST as sequences: a [`Dataset`] of [`SequenceItem`]s with class targets.
#[derive(Clone, Debug)]
pub struct MnistSequences {
    images: MnistImages,
    mode: SequenceMode,
    order: Option<Arc<Vec<usize>>>,
    /// Indices of the images this dataset shows (all by default).
    indices: Arc<Vec<usize>>,
}

impl MnistSequences {
    /// All images of `images`, as sequences in `mode`.
    pub fn new(images: MnistImages, mode: SequenceMode) -> Self {
        let order = match &mode {
            SequenceMode::PermutedPixel { seed } => Some(Arc::new(pixel_permutation(*seed))),
            _ => None,
        };
        let indices = Arc::new((0..images.len()).collect());
        Self { images, mode, order, indices }
    }

    /// Only the first `limit` images (quick runs, tests).
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        if let Some(limit) = limit {
            let kept: Vec<usize> = self.indices.iter().copied().take(limit).collect();
            self.indices = Arc::new(kept);
        }
        self
    }

    /// (steps, inputs per step).
    pub fn shape(&self) -> (usize, usize) {
        self.mode.shape()
    }
}

/// `(p/255 − mean)/std` in f32, as `ToTensor` then `Normalize` compute it.
pub fn normalise(pixel: u8) -> f32 {
    (pixel as f32 / 255.0 - MNIST_MEAN) / MNIST_STD
}

impl Dataset<SequenceItem> for MnistSequences {
    fn get(&self, index: usize) -> Result<SequenceItem, DatasetError> {
        let image_index = *self.indices.get(index).ok_or_else(|| out_of_range(index, self.indices.len()))?;
        let image = self.images.image(image_index);
        let input: Vec<f32> = match &self.order {
            Some(order) => order.iter().map(|&p| normalise(image[p])).collect(),
            None => image.iter().map(|&p| normalise(p)).collect(),
        };
        let (steps, features) = self.mode.shape();
        Ok(SequenceItem { input, steps, features, target: Target::Class(self.images.label(image_index) as usize) })
    }

    fn len(&self) -> usize {
        self.indices.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::encode_idx;

    fn write_set(dir: &Path, split: Split, pixels: &[u8], labels: &[u8]) {
        let (img, lab) = split.files();
        std::fs::write(dir.join(img.name), encode_idx(&[labels.len(), 28, 28], pixels)).unwrap();
        std::fs::write(dir.join(lab.name), encode_idx(&[labels.len()], labels)).unwrap();
    }

    #[test]
    fn line_and_pixel_sequences_are_row_major_and_normalised() {
        let pixels: Vec<u8> = (0..784).map(|i| (i % 256) as u8).collect();
        let images = MnistImages::from_raw(pixels, vec![7]);
        let line = MnistSequences::new(images.clone(), SequenceMode::Line).get(0).unwrap();
        assert_eq!((line.steps, line.features), (28, 28));
        assert_eq!(line.target, Target::Class(7));
        // Step 1, input 2 is pixel (row 1, col 2) = 30; 0 maps to −0.4242, 255 to 2.8215.
        assert_eq!(line.input[28 + 2], normalise(30));
        assert!((normalise(0) + 0.424_212_9).abs() < 1e-6);
        assert!((normalise(255) - 2.821_487).abs() < 1e-5);
        let pixel = MnistSequences::new(images.clone(), SequenceMode::Pixel).get(0).unwrap();
        assert_eq!((pixel.steps, pixel.features), (784, 1));
        assert_eq!(pixel.input, line.input);
        assert!(MnistSequences::new(images, SequenceMode::Pixel).get(1).is_err());
    }

    #[test]
    fn permutation_is_fixed_by_the_seed_and_a_true_permutation() {
        let a = pixel_permutation(3);
        assert_eq!(a, pixel_permutation(3));
        assert_ne!(a, pixel_permutation(4));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..784).collect::<Vec<_>>());
        let pixels: Vec<u8> = (0..784).map(|i| (i % 251) as u8).collect();
        let images = MnistImages::from_raw(pixels.clone(), vec![1]);
        let seq = MnistSequences::new(images, SequenceMode::PermutedPixel { seed: 3 }).get(0).unwrap();
        for (t, &p) in a.iter().enumerate() {
            assert_eq!(seq.input[t], normalise(pixels[p]));
        }
    }

    #[test]
    fn loads_files_and_reports_checksum_and_shape_problems() {
        let dir = tempfile::tempdir().unwrap();
        let pixels = vec![0u8; 2 * 784];
        write_set(dir.path(), Split::Test, &pixels, &[3, 4]);
        let set = MnistImages::load(dir.path(), Split::Test, false).unwrap();
        assert_eq!((set.len(), set.label(1)), (2, 4));
        // A subset is not the real MNIST: with verification on, the checksum names the file.
        let err = MnistImages::load(dir.path(), Split::Test, true).unwrap_err().to_string();
        assert!(err.contains("t10k-images-idx3-ubyte") && err.contains("SHA-256"), "{err}");
        // Missing split.
        let err = MnistImages::load(dir.path(), Split::Train, false).unwrap_err().to_string();
        assert!(err.contains("train-images-idx3-ubyte"), "{err}");
        // Labels that do not match the image count, and a label that is not a digit.
        write_set(dir.path(), Split::Test, &pixels, &[3, 4]);
        std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), encode_idx(&[3], &[1, 2, 3])).unwrap();
        let err = MnistImages::load(dir.path(), Split::Test, false).unwrap_err().to_string();
        assert!(err.contains("expected [2]"), "{err}");
        std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), encode_idx(&[2], &[1, 12])).unwrap();
        let err = MnistImages::load(dir.path(), Split::Test, false).unwrap_err().to_string();
        assert!(err.contains("label 12"), "{err}");
        // Wrong image size.
        std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), encode_idx(&[2, 27, 29], &vec![0; 2 * 27 * 29]))
            .unwrap();
        let err = MnistImages::load(dir.path(), Split::Test, false).unwrap_err().to_string();
        assert!(err.contains("[N, 28, 28]"), "{err}");
    }
}
