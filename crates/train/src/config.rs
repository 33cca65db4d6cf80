//! The run configuration: one TOML file, every key checked (an unknown key is an error naming
//! it), every value validated before anything is trained.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use elm::{MlpActivation, RoutingKind};
use serde::{Deserialize, Serialize};

/// The built-in default: the paper's GLIFR LHetA on line-by-line MNIST.
pub const DEFAULT_CONFIG: &str = include_str!("../../../configs/lmnist/glifr-lheta.toml");

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Run name: the run directory is `<runs_dir>/<name>`.
    pub name: String,
    /// Seed of the init, the shuffling and dropout.
    #[serde(default)]
    pub seed: u64,
    /// `flex`, `ndarray` or `wgpu`; the command line's `--device` wins. Default: `wgpu` when
    /// compiled in, else `flex`.
    #[serde(default)]
    pub device: Option<String>,
    /// Where run directories go.
    #[serde(default = "default_runs_dir")]
    pub runs_dir: PathBuf,
    /// The network.
    pub model: ModelConfig,
    /// The task and its data.
    pub task: TaskConfig,
    /// Optimisation.
    pub training: TrainingConfig,
}

fn default_runs_dir() -> PathBuf {
    PathBuf::from("runs")
}

/// Which recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// GLIFR neurons.
    Glifr,
    /// tanh RNN baseline.
    Rnn,
    /// LSTM baseline (with `chrono_init`: the ELM paper's Chrono-LSTM).
    Lstm,
    /// Expressive Leaky Memory neuron, vanilla or Branch-ELM (options in `[model.elm]`).
    Elm,
}

/// How GLIFR's neuronal parameters start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitKind {
    /// Homogeneous (Hom, HomA, LHet, LHetA).
    Hom,
    /// Resampled from a trained LHet/LHetA checkpoint (FHet, FHetA, RHet, RHetA).
    Het,
}

/// The reference's or the exact `k_m` init formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeakInit {
    /// As GLIFS_ASC (`k_m` = 0.05 /ms only at dt = 0.05).
    Reference,
    /// `k_m` = 0.05 /ms at any dt.
    Exact,
}

/// The network: a cell (or an ELM neuron), its delay and dropout, and a per-step readout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `glifr`, `rnn`, `lstm` or `elm`.
    pub kind: ModelKind,
    /// Hidden units H; for the ELM, its memory units d_m (`num_memory`).
    pub hidden_size: usize,
    /// Inputs per step; default from the task.
    #[serde(default)]
    pub input_size: Option<usize>,
    /// Readout size; default from the task.
    #[serde(default)]
    pub output_size: Option<usize>,
    /// Integration step (ms); sets the delay conversion for every kind. Default 0.05 (the
    /// GLIFR paper), 1.0 for the ELM (its reference default; SHD uses the bin size).
    #[serde(default)]
    pub dt: Option<f64>,
    /// Lateral synaptic delay in ms: `max(1, int(delay/dt))` steps. Ignored by the LSTM.
    #[serde(default)]
    pub synaptic_delay_ms: f64,
    /// Dropout on the rate in training.
    #[serde(default)]
    pub dropout: f64,
    /// GLIFR: after-spike currents per neuron (0 or 2 in the paper).
    #[serde(default)]
    pub num_ascs: usize,
    /// GLIFR: whether θ, k_m and the ASC parameters train (LHet/RHet) or stay fixed
    /// (Hom/FHet).
    #[serde(default = "yes")]
    pub learn_neuronal_params: bool,
    /// GLIFR: `hom` or `het`.
    #[serde(default = "default_init")]
    pub init: InitKind,
    /// GLIFR `het` init: the trained LHet/LHetA run directory or checkpoint to resample from.
    #[serde(default)]
    pub het_source: Option<PathBuf>,
    /// GLIFR: τ (ms); default dt.
    #[serde(default)]
    pub tau: Option<f64>,
    /// GLIFR: σ_V (with `sigma_v_anneal_to`, its value in the first epoch).
    #[serde(default = "one")]
    pub sigma_v: f64,
    /// GLIFR: anneal σ_V linearly over the epochs from `sigma_v` to this value (the GLIFR
    /// paper's `SigmaVAnneal` callback, 1 → 1e-3); evaluation and checkpoints use the
    /// current epoch's value. Absent: σ_V stays fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_v_anneal_to: Option<f64>,
    /// GLIFR: R.
    #[serde(default = "default_resistance")]
    pub resistance: f64,
    /// GLIFR: I0.
    #[serde(default)]
    pub i0: f64,
    /// GLIFR: V_reset.
    #[serde(default)]
    pub v_reset: f64,
    /// GLIFR: `reference` (default) or `exact` k_m init.
    #[serde(default = "default_leak_init")]
    pub membrane_leak_init: LeakInit,
    /// LSTM: chrono init of the gate biases, `[T_min, T_max]` in steps (Tallec & Ollivier
    /// 2018; the ELM paper's Chrono-LSTM): forget bias ln U(T_min, T_max), input bias its
    /// negative. Absent: PyTorch's default init.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chrono_init: Option<[f64; 2]>,
    /// Probability of zeroing each input entry, **without** rescaling the rest (the ELM SHD
    /// code, `train_elm_on_shd.ipynb`). 0 disables it.
    #[serde(default)]
    pub input_dropout: f64,
    /// Whether input dropout also acts when evaluating. The ELM SHD notebook applies it in its
    /// validation and test loops too, so `true` reproduces its numbers; `false` is the usual
    /// convention.
    #[serde(default = "yes")]
    pub input_dropout_in_eval: bool,
    /// ELM: the neuron's options; defaults are the reference constructor's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elm: Option<ElmOptions>,
}

/// `[model.elm]`: the options of an ELM neuron (spec §1; AaronSpieler/elmneuron names in
/// brackets). Its memory size is `model.hidden_size`, its Δt `model.dt`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElmOptions {
    /// 1 (the paper's model) or 2 (branch traces, gain 1 − exp(−Δt·λ/τ_m)).
    #[serde(default = "one_usize")]
    pub version: usize,
    /// λ [`lambda_value`].
    #[serde(default = "five")]
    pub lambda: f64,
    /// Hidden layers of the MLP [`mlp_num_layers`]; 0 is linear integration.
    #[serde(default = "one_usize")]
    pub mlp_layers: usize,
    /// Width of the hidden layers; default 2·d_m [`mlp_hidden_size`].
    #[serde(default)]
    pub mlp_hidden_size: Option<usize>,
    /// `relu` or `silu` [`mlp_activation`].
    #[serde(default)]
    pub mlp_activation: MlpActivation,
    /// τ_s of the synapses (v1) or branches (v2), ms, frozen [`tau_s_value`/`tau_b_value`].
    #[serde(default = "five")]
    pub synapse_tau: f64,
    /// Lower bound and smallest initial τ_m, ms.
    #[serde(default = "one")]
    pub memory_tau_min: f64,
    /// Upper bound and largest initial τ_m, ms.
    #[serde(default = "thousand")]
    pub memory_tau_max: f64,
    /// Whether τ_m trains (reference default false; the paper trains it).
    #[serde(default)]
    pub learn_memory_tau: bool,
    /// Initial w_s before the ReLU [`w_s_value`].
    #[serde(default = "half")]
    pub synapse_weight_init: f64,
    /// Branches; default one per input (vanilla ELM).
    #[serde(default)]
    pub num_branch: Option<usize>,
    /// Synapses per branch [`num_synapse_per_branch`].
    #[serde(default = "one_usize")]
    pub synapses_per_branch: usize,
    /// `none`, `random` or `neuronio` [`input_to_synapse_routing`].
    #[serde(default)]
    pub routing: RoutingKind,
    /// v1: keep the full per-synapse trace even where a branch trace is exact (slower, more
    /// memory; for checking).
    #[serde(default)]
    pub per_synapse_trace: bool,
}

impl Default for ElmOptions {
    fn default() -> Self {
        toml::from_str("").expect("every ELM option has a default")
    }
}

pub(crate) fn five() -> f64 {
    5.0
}
pub(crate) fn thousand() -> f64 {
    1000.0
}
pub(crate) fn half() -> f64 {
    0.5
}

impl ModelConfig {
    /// The same shapes with a plain homogeneous init: for building a module whose values are
    /// about to be loaded or do not matter (benchmarks, parameter counts).
    pub fn shape_only(&self) -> ModelConfig {
        ModelConfig { init: InitKind::Hom, het_source: None, ..self.clone() }
    }

    /// σ_V in 1-based `epoch` of `epochs`: `sigma_v`, or under annealing the reference's
    /// `linspace(to, sigma_v, epochs)[epochs − epoch]` (so the first epoch runs at `sigma_v`
    /// and the last at `to`; a single epoch runs at `to`, as numpy's one-point linspace).
    pub fn sigma_v_at(&self, epoch: usize, epochs: usize) -> f64 {
        match self.sigma_v_anneal_to {
            None => self.sigma_v,
            Some(to) if epochs <= 1 => to,
            Some(to) => {
                let i = (epochs - epoch.clamp(1, epochs)) as f64;
                to + (self.sigma_v - to) * i / (epochs - 1) as f64
            }
        }
    }

    /// Δt in ms: the configured one, or the kind's default.
    pub fn dt(&self) -> f64 {
        self.dt.unwrap_or(if self.kind == ModelKind::Elm { 1.0 } else { 0.05 })
    }

    /// The ELM options (defaults when `[model.elm]` is absent).
    pub fn elm_options(&self) -> ElmOptions {
        self.elm.clone().unwrap_or_default()
    }
}

fn yes() -> bool {
    true
}
pub(crate) fn one() -> f64 {
    1.0
}
fn default_resistance() -> f64 {
    0.1
}
fn default_init() -> InitKind {
    InitKind::Hom
}
fn default_leak_init() -> LeakInit {
    LeakInit::Reference
}

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

/// Which optimiser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam with PyTorch's defaults (β = 0.9, 0.999; ε = 1e−8).
    #[default]
    Adam,
    /// Adamax with PyTorch's defaults (the ELM paper's SHD runs).
    Adamax,
}

/// How the learning rate changes over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The same rate throughout (the GLIFR paper).
    #[default]
    Constant,
    /// Cosine decay to 0 over every batch of the run, stepped per batch as PyTorch's
    /// `CosineAnnealingLR(T_max = batches·epochs)` (the ELM paper).
    Cosine,
}

/// Optimisation (no weight decay, no clipping: as both references).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Learning rate (the initial one under a schedule).
    pub learning_rate: f64,
    /// `adam` (default) or `adamax`.
    #[serde(default)]
    pub optimizer: OptimizerKind,
    /// `constant` (default) or `cosine`.
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// Batch size of evaluation passes (memory only; results do not depend on it).
    #[serde(default = "default_eval_batch")]
    pub eval_batch_size: usize,
    /// Evaluate on the test set after every `eval_every` epochs (and always after the last).
    #[serde(default = "one_usize")]
    pub eval_every: usize,
    /// Write a checkpoint (and redraw the plot) after every `checkpoint_every` epochs and
    /// after the last; `--resume` continues from the newest one.
    #[serde(default = "one_usize")]
    pub checkpoint_every: usize,
    /// Backpropagate through time by recomputation in segments of this many steps: memory
    /// `O(T/K + K)` instead of `O(T)` for about one extra forward pass, same gradients (ELM
    /// classifiers only; Path-X needs it). Absent: plain BPTT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recompute_segment: Option<usize>,
}

fn default_eval_batch() -> usize {
    1000
}
pub(crate) fn one_usize() -> usize {
    1
}

impl RunConfig {
    /// Parses and validates TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let config: RunConfig = toml::from_str(text).with_context(|| format!("invalid config {origin}"))?;
        config.validate().with_context(|| format!("invalid config {origin}"))?;
        Ok(config)
    }

    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Checks every value a run depends on, naming the field.
    pub fn validate(&self) -> Result<()> {
        ensure!(!self.name.trim().is_empty(), "`name` must not be empty");
        ensure!(
            !self.name.contains(['/', '\\']) && self.name != "." && self.name != "..",
            "`name` = {:?} must be a plain directory name",
            self.name
        );
        if let Some(device) = &self.device {
            crate::device::DeviceChoice::parse(device).context("field `device`")?;
        }
        let m = &self.model;
        ensure!(m.hidden_size > 0, "`model.hidden_size` must be at least 1");
        ensure!(m.dt() > 0.0 && m.dt().is_finite(), "`model.dt` = {} must be positive", m.dt());
        ensure!((0.0..1.0).contains(&m.input_dropout), "`model.input_dropout` = {} must be in [0, 1)", m.input_dropout);
        if let Some([lo, hi]) = m.chrono_init {
            ensure!(m.kind == ModelKind::Lstm, "`model.chrono_init` applies to the LSTM only");
            ensure!(
                lo >= 1.0 && hi > lo && hi.is_finite(),
                "`model.chrono_init` = [{lo}, {hi}] must satisfy 1 ≤ T_min < T_max"
            );
        }
        if m.kind == ModelKind::Elm {
            ensure!(m.synaptic_delay_ms == 0.0, "`model.synaptic_delay_ms` does not apply to the ELM");
            ensure!(m.dropout == 0.0, "`model.dropout` does not apply to the ELM (use `model.input_dropout`)");
            let e = m.elm_options();
            ensure!(matches!(e.version, 1 | 2), "`model.elm.version` = {} must be 1 or 2", e.version);
            let (input, output) = self.task.io_sizes();
            crate::model::elm_config(m, input, output)
                .validate()
                .map_err(|err| anyhow::anyhow!("`model.elm`: {err}"))?;
        } else {
            ensure!(m.elm.is_none(), "`[model.elm]` applies to `kind = \"elm\"` only");
        }
        ensure!(
            m.synaptic_delay_ms >= 0.0 && m.synaptic_delay_ms.is_finite(),
            "`model.synaptic_delay_ms` = {} must be ≥ 0",
            m.synaptic_delay_ms
        );
        ensure!((0.0..1.0).contains(&m.dropout), "`model.dropout` = {} must be in [0, 1)", m.dropout);
        ensure!(m.sigma_v > 0.0, "`model.sigma_v` = {} must be positive", m.sigma_v);
        if let Some(to) = m.sigma_v_anneal_to {
            ensure!(m.kind == ModelKind::Glifr, "`model.sigma_v_anneal_to` applies to GLIFR only");
            ensure!(to > 0.0 && to.is_finite(), "`model.sigma_v_anneal_to` = {to} must be positive");
        }
        if let Some(tau) = m.tau {
            ensure!(tau > 0.0, "`model.tau` = {tau} must be positive");
        }
        if m.kind != ModelKind::Glifr {
            ensure!(m.num_ascs == 0, "`model.num_ascs` applies to GLIFR only");
            ensure!(m.init == InitKind::Hom, "`model.init = \"het\"` applies to GLIFR only");
        }
        match (m.init, &m.het_source) {
            (InitKind::Het, None) => {
                bail!("`model.init = \"het\"` needs `model.het_source` (a trained LHet/LHetA run)")
            }
            (InitKind::Hom, Some(_)) => {
                bail!("`model.het_source` is only used with `model.init = \"het\"`")
            }
            _ => {}
        }
        let t = &self.training;
        ensure!(t.epochs > 0, "`training.epochs` must be at least 1");
        ensure!(t.batch_size > 0, "`training.batch_size` must be at least 1");
        ensure!(t.eval_batch_size > 0, "`training.eval_batch_size` must be at least 1");
        ensure!(t.eval_every > 0, "`training.eval_every` must be at least 1");
        ensure!(t.checkpoint_every > 0, "`training.checkpoint_every` must be at least 1");
        ensure!(
            t.learning_rate > 0.0 && t.learning_rate.is_finite(),
            "`training.learning_rate` = {} must be positive",
            t.learning_rate
        );
        match &self.task {
            TaskConfig::Mnist { train_limit, test_limit, .. } => {
                ensure!(train_limit.is_none_or(|n| n > 0), "`task.train_limit` must be at least 1");
                ensure!(test_limit.is_none_or(|n| n > 0), "`task.test_limit` must be at least 1");
            }
            TaskConfig::Sine { steps } => ensure!(*steps > 0, "`task.steps` must be at least 1"),
            TaskConfig::Shape { inputs, outputs, steps, .. } => {
                ensure!(
                    *inputs > 0 && *outputs > 0 && *steps > 0,
                    "`task.inputs`, `task.outputs` and `task.steps` must be at least 1"
                )
            }
            TaskConfig::Pathfinder { size, levels, encoding, train_limit, test_limit, .. } => {
                ensure!(
                    matches!(size, 32 | 64 | 128 | 256),
                    "`task.size` = {size}: the LRA release has 32, 64, 128 and 256"
                );
                ensure!(
                    *encoding == EncodingName::Grey || (2..=256).contains(levels),
                    "`task.levels` = {levels} must be in 2..=256"
                );
                ensure!(train_limit.is_none_or(|n| n > 0), "`task.train_limit` must be at least 1");
                ensure!(test_limit.is_none_or(|n| n > 0), "`task.test_limit` must be at least 1");
            }
            TaskConfig::Shd {
                bin_ms,
                validation_fraction,
                adding_train_pairs,
                adding_eval_pairs,
                train_limit,
                test_limit,
                ..
            } => {
                ensure!(
                    tasks::shd::steps_for_bin(*bin_ms).is_some(),
                    "`task.bin_ms` = {bin_ms} must divide 1000 ms into whole bins (e.g. 1, 2, 4, 5, 10)"
                );
                ensure!(
                    (0.0..1.0).contains(validation_fraction),
                    "`task.validation_fraction` = {validation_fraction} must be in [0, 1)"
                );
                ensure!(
                    *adding_train_pairs > 0 && *adding_eval_pairs > 0,
                    "`task.adding_train_pairs` and `task.adding_eval_pairs` must be at least 1"
                );
                ensure!(train_limit.is_none_or(|n| n > 0), "`task.train_limit` must be at least 1");
                ensure!(test_limit.is_none_or(|n| n > 0), "`task.test_limit` must be at least 1");
            }
            TaskConfig::Neuronio { segments, window, file_load_fraction, batches_per_epoch, valid_batches, .. } => {
                ensure!(*segments > 0 && *window > 0, "`task.segments` and `task.window` must be at least 1");
                ensure!(
                    *file_load_fraction > 0.0 && *file_load_fraction <= 1.0,
                    "`task.file_load_fraction` = {file_load_fraction} must be in (0, 1]"
                );
                ensure!(
                    *batches_per_epoch > 0 && *valid_batches > 0,
                    "`task.batches_per_epoch` and `task.valid_batches` must be at least 1"
                );
            }
        }
        if let Some(k) = t.recompute_segment {
            ensure!(k > 0, "`training.recompute_segment` must be at least 1");
            ensure!(
                m.kind == ModelKind::Elm && self.task.is_classification(),
                "`training.recompute_segment` applies to an ELM classifying on the last step"
            );
        }
        let (input, output) = self.task.io_sizes();
        if let Some(i) = m.input_size {
            ensure!(i == input, "`model.input_size` = {i}, but the task feeds {input} inputs per step");
        }
        if let Some(o) = m.output_size {
            ensure!(o == output, "`model.output_size` = {o}, but the task has {output} outputs");
        }
        Ok(())
    }

    /// The model with `input_size` and `output_size` filled in from the task.
    pub fn resolved_model(&self) -> ModelConfig {
        let (input, output) = self.task.io_sizes();
        ModelConfig { input_size: Some(input), output_size: Some(output), ..self.model.clone() }
    }

    /// The directory of this run.
    pub fn run_dir(&self) -> PathBuf {
        self.runs_dir.join(&self.name)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_parses() {
        let c = RunConfig::from_toml(DEFAULT_CONFIG, "default").unwrap();
        assert_eq!(c.model.hidden_size, 252);
        assert_eq!(c.model.num_ascs, 2);
        assert_eq!(c.training.batch_size, 256);
    }

    /// Every shipped config parses and validates (the het ones name sources that exist only
    /// after training, which validation does not require).
    #[test]
    fn every_shipped_config_is_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut count = 0;
        for dir in std::fs::read_dir(&root).unwrap() {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                if path.extension().is_some_and(|e| e == "toml") {
                    RunConfig::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
                    count += 1;
                }
            }
        }
        assert!(count >= 52, "{count} configs");
    }

    fn with(replace: &str, by: &str) -> String {
        assert!(DEFAULT_CONFIG.contains(replace), "{replace}");
        DEFAULT_CONFIG.replacen(replace, by, 1)
    }

    fn error(text: &str) -> String {
        format!("{:#}", RunConfig::from_toml(text, "test.toml").unwrap_err())
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = error(&with("[training]", "[training]\nlearning_rat = 0.1"));
        assert!(e.contains("unknown field `learning_rat`") && e.contains("test.toml"), "{e}");
        let e = error(&with("[model]", "[model]\nhiden_size = 3"));
        assert!(e.contains("hiden_size"), "{e}");
        let e = error(&format!("{DEFAULT_CONFIG}\n[extra]\nx = 1\n"));
        assert!(e.contains("extra"), "{e}");
    }

    #[test]
    fn impossible_values_are_named() {
        let e = error(&with("hidden_size = 252", "hidden_size = 0"));
        assert!(e.contains("model.hidden_size"), "{e}");
        let e = error(&with("learning_rate = 0.001", "learning_rate = -1.0"));
        assert!(e.contains("training.learning_rate"), "{e}");
        let e = error(&with("dropout = 0.0", "dropout = 1.5"));
        assert!(e.contains("model.dropout"), "{e}");
        let e = error(&with("init = \"hom\"", "init = \"het\""));
        assert!(e.contains("het_source"), "{e}");
        let e = error(&with("sequence = \"line\"", "sequence = \"diagonal\""));
        assert!(e.contains("diagonal"), "{e}");
        let e = error(&with("hidden_size = 252", "hidden_size = \"big\""));
        assert!(e.contains("hidden_size"), "{e}");
        let e = error(&with("[model]", "[model]\ninput_size = 3"));
        assert!(e.contains("model.input_size") && e.contains("28"), "{e}");
        let e = error(&with("seed = 0", "seed = 0\ndevice = \"tpu\""));
        assert!(e.contains("device") && e.contains("tpu"), "{e}");
    }

    fn elm(extra_model: &str, elm_table: &str) -> String {
        format!(
            "name = \"e\"\n[model]\nkind = \"elm\"\nhidden_size = 8\n{extra_model}\n[model.elm]\n{elm_table}\n\
             [task]\nkind = \"shape\"\ninputs = 12\noutputs = 2\nsteps = 5\n\
             [training]\nepochs = 1\nbatch_size = 2\nlearning_rate = 0.01\n"
        )
    }

    /// The reference's `np.linspace(1e-3, 1, num=4)` = [0.001, 0.334, 0.667, 1.0], used
    /// from the end: epochs 1..4 run at 1.0, 0.667, 0.334, 0.001.
    #[test]
    fn sigma_v_anneal_follows_the_reference_linspace() {
        let c = RunConfig::from_toml(&with("dropout = 0.0", "dropout = 0.0\nsigma_v_anneal_to = 0.001"), "t").unwrap();
        let got: Vec<f64> = (1..=4).map(|e| c.model.sigma_v_at(e, 4)).collect();
        for (g, w) in got.iter().zip([1.0, 0.667, 0.334, 0.001]) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert_eq!(c.model.sigma_v_at(1, 1), 0.001);
        let fixed = RunConfig::from_toml(DEFAULT_CONFIG, "d").unwrap();
        assert_eq!(fixed.model.sigma_v_at(3, 30), 1.0);
        let e = error(&with("dropout = 0.0", "dropout = 0.0\nsigma_v_anneal_to = -1.0"));
        assert!(e.contains("sigma_v_anneal_to"), "{e}");
    }

    #[test]
    fn elm_options_are_checked() {
        let ok = RunConfig::from_toml(&elm("", "num_branch = 3\nsynapses_per_branch = 5\nrouting = \"neuronio\""), "t")
            .unwrap();
        assert_eq!(ok.model.dt(), 1.0, "the ELM's default Δt");
        assert_eq!(ok.model.elm_options().version, 1);
        let e = error(&elm("", "lamda = 3.0"));
        assert!(e.contains("unknown field `lamda`"), "{e}");
        let e = error(&elm("", "version = 3"));
        assert!(e.contains("model.elm.version"), "{e}");
        let e = error(&elm("", "num_branch = 5\nsynapses_per_branch = 2"));
        assert!(e.contains("model.elm") && e.contains("num_input is 12"), "{e}");
        let e = error(&elm("", "routing = \"neuronio\"\nnum_branch = 2\nsynapses_per_branch = 3"));
        assert!(e.contains("synapses_per_branch"), "{e}");
        let e = error(&elm("", "memory_tau_min = 5.0\nmemory_tau_max = 2.0"));
        assert!(e.contains("memory_tau_max"), "{e}");
        let e = error(&elm("input_dropout = 1.0", ""));
        assert!(e.contains("model.input_dropout"), "{e}");
        let e = error(&elm("dropout = 0.2", ""));
        assert!(e.contains("model.input_dropout"), "{e}");
        let e = error(&elm("chrono_init = [1.0, 100.0]", ""));
        assert!(e.contains("chrono_init") && e.contains("LSTM"), "{e}");
        let e = error(&with("[task]", "[model.elm]\nlambda = 2.0\n\n[task]"));
        assert!(e.contains("[model.elm]"), "{e}");
        let e = error(
            &with("kind = \"glifr\"", "kind = \"lstm\"\nchrono_init = [5.0, 1.0]")
                .replace("num_ascs = 2", "num_ascs = 0"),
        );
        assert!(e.contains("chrono_init") && e.contains("T_min < T_max"), "{e}");
        let e = error(&with("learning_rate = 0.001", "learning_rate = 0.001\noptimizer = \"sgd\""));
        assert!(e.contains("sgd"), "{e}");
    }
}
