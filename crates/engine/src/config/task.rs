//! `[task]`: the task and its data.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::yes;

/// How MNIST images become sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SequenceKind {
    /// 28 × 28.
    Line,
    /// 784 × 1.
    Pixel,
    /// 784 × 1, fixed permutation.
    PermutedPixel,
}

/// The task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum TaskConfig {
    /// Sequential MNIST classification on the last step.
    Mnist {
        /// `line`, `pixel` or `permuted-pixel`.
        sequence: SequenceKind,
        /// Seed of the pixel permutation (`permuted-pixel` only).
        #[serde(default)]
        permutation_seed: u64,
        /// Folder with the four IDX files; fetched there when missing.
        #[serde(default = "default_mnist_dir")]
        data_dir: PathBuf,
        /// Check the files' SHA-256 against the real MNIST.
        #[serde(default = "yes")]
        verify_checksums: bool,
        /// Use only the first N training images (quick runs).
        #[serde(default)]
        train_limit: Option<usize>,
        /// Use only the first N test images.
        #[serde(default)]
        test_limit: Option<usize>,
    },
    /// Sine pattern generation, MSE over every step; the train set is the test set.
    Sine {
        /// Steps per sequence.
        #[serde(default = "default_sine_steps")]
        steps: usize,
    },
    /// Only a shape: random inputs of `steps × inputs` with `outputs` classes (or per-step
    /// targets). For `bench` and `info` at the sizes of tasks whose data is not at hand; it
    /// has no data to train on.
    Shape {
        /// Inputs per step.
        inputs: usize,
        /// Outputs (classes, or per-step regression targets).
        outputs: usize,
        /// Steps per sequence.
        steps: usize,
        /// Classification on the last step (default) or regression on every step.
        #[serde(default = "yes")]
        classification: bool,
    },
    /// NeuronIO (spec elm.md §2.1): 500-ms windows of the L5PC simulations, spike and soma
    /// targets, loss `0.5·BCE + 0.5·MSE`. Training windows come from the folders
    /// `full_ergodic_train_batch_2..10` under `data_dir`, drawn as the authors' loader draws
    /// them; the per-epoch score is the loss on fixed windows of `full_ergodic_train_batch_1`
    /// (the authors' validation folder). `neurozoo eval-neuronio` runs the full evaluation
    /// protocol on `Data_test`.
    Neuronio {
        /// Folder holding the Kaggle folders.
        #[serde(default = "default_neuronio_dir")]
        data_dir: PathBuf,
        /// Dendritic segments of the cell (639: 1278 input channels).
        #[serde(default = "default_neuronio_segments")]
        segments: usize,
        /// Steps per training window (the authors' `input_window_size`, 500).
        #[serde(default = "default_neuronio_window")]
        window: usize,
        /// Windows start at least this many ms into a simulation (500).
        #[serde(default = "default_neuronio_window")]
        ignore_ms: usize,
        /// Fraction of a file's windows drawn before the next file is picked (0.3; the
        /// released `best_elm_neuron` used 0.5).
        #[serde(default = "default_file_load_fraction")]
        file_load_fraction: f64,
        /// Training batches per epoch (10,000 in the released script; 2,500 for the best model).
        #[serde(default = "default_neuronio_batches")]
        batches_per_epoch: usize,
        /// Validation batches scored per epoch (of `training.eval_batch_size` windows).
        #[serde(default = "default_neuronio_valid_batches")]
        valid_batches: usize,
    },
    /// LRA Pathfinder / Path-X (spec data.md §4, elm.md §2.3): `size × size` pixels, one per
    /// step in row-major order, classified on the last step (connected or not). Reads the LRA
    /// release layout, real or made by `neurozoo gen pathfinder` (then named synthetic).
    Pathfinder {
        /// The folder holding `pathfinder<size>/` (or `lra_release/pathfinder<size>/`).
        #[serde(default = "default_lra_dir")]
        data_dir: PathBuf,
        /// 32 (Pathfinder), 64, 128 (Path-X) or 256.
        size: usize,
        /// `easy`, `intermediate` or `hard` (what LRA and the ELM paper use).
        #[serde(default = "default_difficulty")]
        difficulty: DifficultyName,
        /// `one-hot` (the ELM paper: grey quantised to `levels`, one-hot) or `grey` (one input,
        /// S4's normalisation to [−1, 1]).
        #[serde(default)]
        encoding: EncodingName,
        /// Quantisation levels of the one-hot encoding (16 for Pathfinder, 8 for Path-X).
        #[serde(default = "default_levels")]
        levels: usize,
        /// Seed of the 80/10/10 split.
        #[serde(default = "default_split_seed")]
        split_seed: u64,
        /// Which part the per-epoch and final scores use: `test` (as the other tasks) or
        /// `valid`.
        #[serde(default)]
        eval_split: EvalSplit,
        /// Use only the first N training images (quick runs).
        #[serde(default)]
        train_limit: Option<usize>,
        /// Use only the first N evaluation images.
        #[serde(default)]
        test_limit: Option<usize>,
    },
    /// Spiking Heidelberg Digits (spec elm.md §2.2): spike counts in `1000/bin_ms` bins of the
    /// first second × 700 channels, classified on the last step (20 classes); with
    /// `adding = true`, SHD-Adding: two recordings back to back, the sum of their digits
    /// (19 classes, twice the steps). Reads `shd_train.h5` / `shd_test.h5` (or the `.h5.gz` /
    /// `.h5.zip` downloads) from `data_dir`.
    Shd {
        /// Folder of the SHD files.
        #[serde(default = "default_shd_dir")]
        data_dir: PathBuf,
        /// Fetch missing files from the official sites (MD5-checked zips).
        #[serde(default = "yes")]
        download: bool,
        /// Bin size in ms; must divide 1000 (the ELM paper: 2).
        #[serde(default = "default_shd_bin")]
        bin_ms: f64,
        /// SHD-Adding instead of SHD.
        #[serde(default)]
        adding: bool,
        /// Share of the training file held out for validation (the reference: 0.2).
        #[serde(default = "default_shd_validation")]
        validation_fraction: f64,
        /// Seed of the validation split and of SHD-Adding's fixed sets.
        #[serde(default)]
        split_seed: u64,
        /// Which set the per-epoch and final scores use: `test` (the official test file) or
        /// `valid` (the held-out part of the training file).
        #[serde(default)]
        eval_split: EvalSplit,
        /// SHD-Adding pairs per training epoch, drawn afresh each epoch (the notebook: 2000
        /// batches of 8).
        #[serde(default = "default_adding_train")]
        adding_train_pairs: usize,
        /// SHD-Adding pairs of the fixed evaluation set (the notebook: 2000 test batches of 8).
        #[serde(default = "default_adding_train")]
        adding_eval_pairs: usize,
        /// Use only the first N training items (quick runs).
        #[serde(default)]
        train_limit: Option<usize>,
        /// Use only the first N evaluation items.
        #[serde(default)]
        test_limit: Option<usize>,
    },
}

fn default_shd_dir() -> PathBuf {
    PathBuf::from("data/shd")
}
fn default_shd_bin() -> f64 {
    2.0
}
fn default_shd_validation() -> f64 {
    0.2
}
fn default_adding_train() -> usize {
    16_000
}

/// Pathfinder difficulty, as written in configs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DifficultyName {
    /// `curv_baseline`.
    Easy,
    /// `curv_contour_length_9`.
    Intermediate,
    /// `curv_contour_length_14`.
    Hard,
}

impl From<DifficultyName> for tasks::pathfinder::Difficulty {
    fn from(d: DifficultyName) -> Self {
        match d {
            DifficultyName::Easy => tasks::pathfinder::Difficulty::Easy,
            DifficultyName::Intermediate => tasks::pathfinder::Difficulty::Intermediate,
            DifficultyName::Hard => tasks::pathfinder::Difficulty::Hard,
        }
    }
}

/// Pixel encoding, as written in configs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncodingName {
    /// Quantised and one-hot.
    #[default]
    OneHot,
    /// One normalised grey value.
    Grey,
}

/// Which part of the Pathfinder split is scored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalSplit {
    /// The 10 % test part.
    #[default]
    Test,
    /// The 10 % validation part.
    Valid,
}

fn default_lra_dir() -> PathBuf {
    PathBuf::from("data/lra_release")
}
fn default_difficulty() -> DifficultyName {
    DifficultyName::Hard
}
fn default_levels() -> usize {
    16
}
fn default_split_seed() -> u64 {
    42
}

fn default_neuronio_dir() -> PathBuf {
    PathBuf::from("data/neuronio")
}
fn default_neuronio_segments() -> usize {
    tasks::neuronio::NEURONIO_SEGMENTS
}
fn default_neuronio_window() -> usize {
    500
}
fn default_file_load_fraction() -> f64 {
    0.3
}
fn default_neuronio_batches() -> usize {
    10_000
}
fn default_neuronio_valid_batches() -> usize {
    50
}

fn default_mnist_dir() -> PathBuf {
    PathBuf::from("data/mnist")
}
fn default_sine_steps() -> usize {
    100
}

impl TaskConfig {
    /// (inputs per step, outputs) of the task.
    pub fn io_sizes(&self) -> (usize, usize) {
        match self {
            TaskConfig::Mnist { sequence: SequenceKind::Line, .. } => (28, 10),
            TaskConfig::Mnist { .. } => (1, 10),
            TaskConfig::Sine { .. } => (1, 1),
            TaskConfig::Shape { inputs, outputs, .. } => (*inputs, *outputs),
            TaskConfig::Neuronio { segments, .. } => (2 * segments, 2),
            TaskConfig::Pathfinder { encoding: EncodingName::Grey, .. } => (1, 2),
            TaskConfig::Pathfinder { levels, .. } => (*levels, 2),
            TaskConfig::Shd { adding: false, .. } => (tasks::shd::SHD_CHANNELS, tasks::shd::SHD_CLASSES),
            TaskConfig::Shd { adding: true, .. } => (tasks::shd::SHD_CHANNELS, 19),
        }
    }

    /// Steps per sequence.
    pub fn sequence_length(&self) -> usize {
        match self {
            TaskConfig::Mnist { sequence: SequenceKind::Line, .. } => 28,
            TaskConfig::Mnist { .. } => 784,
            TaskConfig::Sine { steps } | TaskConfig::Shape { steps, .. } => *steps,
            TaskConfig::Neuronio { window, .. } => *window,
            TaskConfig::Pathfinder { size, .. } => size * size,
            TaskConfig::Shd { bin_ms, adding, .. } => {
                tasks::shd::steps_for_bin(*bin_ms).unwrap_or(0) * if *adding { 2 } else { 1 }
            }
        }
    }

    /// Whether the task is classification on the last step.
    pub fn is_classification(&self) -> bool {
        match self {
            TaskConfig::Mnist { .. } | TaskConfig::Pathfinder { .. } | TaskConfig::Shd { .. } => true,
            TaskConfig::Sine { .. } | TaskConfig::Neuronio { .. } => false,
            TaskConfig::Shape { classification, .. } => *classification,
        }
    }
}
