//! The run configuration: one TOML file, every key checked (an unknown key is an error naming
//! it), every value validated before anything is trained.
//!
//! The sections' types live in `model.rs` (a tagged enum per model kind), `task.rs` and
//! `training.rs`; `legacy.rs` reads the flat `[model]` of files written before the enum; this
//! file has the whole run, the checks that span sections, and the tests.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize};

/// The built-in default: the paper's GLIFR LHetA on line-by-line MNIST.
pub const DEFAULT_CONFIG: &str = include_str!("../../../../configs/lmnist/glifr-lheta.toml");

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
    /// compiled in and a hardware GPU is present (not a software rasterizer), else `flex`.
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

mod elm_table;
mod legacy;
mod model;
mod overrides;
mod task;
mod training;

pub use model::{
    CellConfig, ElmNeuronConfig, GlifrCellConfig, InitKind, LeakInit, LstmCellConfig, MAX_ASCS, MAX_HIDDEN, MAX_IO,
    ModelConfig, ModelKind, RnnCellConfig,
};
pub use overrides::{Override, parse_key, parse_value};
pub use task::{DifficultyName, EncodingName, EvalSplit, SequenceKind, TaskConfig};
pub use training::{LrSchedule, OptimizerKind, TrainingConfig};

// Defaults shared by the serde attributes of the sections.
pub(crate) fn yes() -> bool {
    true
}
pub(crate) fn one() -> f64 {
    1.0
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
        let text = crate::fsutil::read_to_string_bounded(path, crate::fsutil::MAX_TEXT_BYTES)
            .with_context(|| format!("config {}", path.display()))?;
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
        let (input, output) = self.task.io_sizes();
        self.model.validate(input, output)?;
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
        ensure!(t.threads > 0, "`training.threads` must be at least 1");
        if let Some(k) = t.recompute_segment {
            ensure!(k > 0, "`training.recompute_segment` must be at least 1");
            ensure!(
                self.task.is_classification(),
                "`training.recompute_segment` applies to a model classifying on the last step (this task is not a classification)"
            );
        }
        self.check_memory()?;
        let m = &self.model;
        if let Some(i) = m.input_size {
            ensure!(i == input, "`model.input_size` = {i}, but the task feeds {input} inputs per step");
        }
        if let Some(o) = m.output_size {
            ensure!(o == output, "`model.output_size` = {o}, but the task has {output} outputs");
        }
        Ok(())
    }

    /// Refuses sizes that cannot be allocated, before anything is (issue 20: `hidden_size =
    /// 1e9` or `batch_size = 1e9` reached the allocator and aborted). A lower bound of what a
    /// training step needs, counted in f64 from the shapes: the weights with their gradients
    /// and Adam's two moments, the input batch, and what the fused recurrence keeps for the
    /// backward pass (8 series of batch × kept steps × hidden f32), against the machine's
    /// memory. The ELM's own sizes are checked by `elm::ElmConfig::validate` as well.
    fn check_memory(&self) -> Result<()> {
        let m = &self.model;
        let t = &self.training;
        let (inputs, outputs) = self.task.io_sizes();
        let (h, steps) = (m.hidden_size as f64, self.task.sequence_length() as f64);
        let kept_steps = t.recompute_segment.map_or(steps, |k| (k as f64).min(steps));
        let weights = m.weight_count(inputs, outputs);
        let batch = t.batch_size.max(t.eval_batch_size) as f64;
        let needed = 4.0 * (4.0 * weights + batch * steps * inputs as f64 + 8.0 * t.batch_size as f64 * kept_steps * h);
        if let Some(total) = machine_memory_bytes() {
            let gib = |b: f64| b / (1u64 << 30) as f64;
            ensure!(
                needed <= total as f64,
                "these sizes need at least {:.1} GiB for one training step (model.hidden_size {}, training.batch_size {}, \
                 {} steps{}), more than this machine's {:.1} GiB; lower one of them{}",
                gib(needed),
                m.hidden_size,
                t.batch_size,
                steps,
                t.recompute_segment.map_or(String::new(), |k| format!(", recomputed in segments of {k}")),
                gib(total as f64),
                if t.recompute_segment.is_none() && self.task.is_classification() {
                    " or set `training.recompute_segment`"
                } else {
                    ""
                }
            );
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

/// This machine's memory in bytes (`MemTotal` of /proc/meminfo), where it can be read.
pub(crate) fn machine_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes that cannot be allocated are refused by name before anything is allocated
    /// (each of these reached the allocator and aborted, issue 20).
    #[test]
    fn absurd_sizes_are_refused_before_allocation() {
        let shape = |model: &str, training: &str, steps: &str| {
            let text = format!(
                "name = \"x\"\n[model]\nkind = \"glifr\"\n{model}\n[task]\nkind = \"shape\"\ninputs = 4\noutputs = 2\n\
                 steps = {steps}\n[training]\nepochs = 1\nlearning_rate = 0.001\n{training}\n"
            );
            RunConfig::from_toml(&text, "c.toml").map_err(|e| format!("{e:#}"))
        };
        shape("hidden_size = 16", "batch_size = 8", "10").unwrap();
        let e = shape("hidden_size = 1000000000", "batch_size = 8", "10").unwrap_err();
        assert!(e.contains("`model.hidden_size` = 1000000000 is beyond what neurozoo trains"), "{e}");
        if machine_memory_bytes().is_some() {
            let e = shape("hidden_size = 16", "batch_size = 1000000000", "10").unwrap_err();
            assert!(e.contains("GiB for one training step") && e.contains("training.batch_size 1000000000"), "{e}");
            let e = shape("hidden_size = 16", "batch_size = 8", "1000000000000").unwrap_err();
            assert!(e.contains("GiB for one training step") && e.contains("1000000000000 steps"), "{e}");
        }
    }

    #[test]
    fn the_default_config_parses() {
        let c = RunConfig::from_toml(DEFAULT_CONFIG, "default").unwrap();
        assert_eq!(c.model.hidden_size, 252);
        assert_eq!(c.model.num_ascs(), 2);
        // The authors' 2 DDP replicas of 256 (docs/reproduction.md §1).
        assert_eq!((c.training.batch_size, c.training.threads), (512, 2));
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
        let e = error(&with("learning_rate = 0.001\nthreads = 2", "learning_rate = 0.001\nthreads = 0"));
        assert!(e.contains("training.threads"), "{e}");
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
        let got: Vec<f64> = (1..=4).map(|e| c.model.sigma_v_at(e, 4).unwrap()).collect();
        for (g, w) in got.iter().zip([1.0, 0.667, 0.334, 0.001]) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert_eq!(c.model.sigma_v_at(1, 1), Some(0.001));
        let fixed = RunConfig::from_toml(DEFAULT_CONFIG, "d").unwrap();
        assert_eq!(fixed.model.sigma_v_at(3, 30), Some(1.0));
        let e = error(&with("dropout = 0.0", "dropout = 0.0\nsigma_v_anneal_to = -1.0"));
        assert!(e.contains("sigma_v_anneal_to"), "{e}");
    }

    #[test]
    fn elm_options_are_checked() {
        let ok = RunConfig::from_toml(&elm("", "num_branch = 3\nsynapses_per_branch = 5\nrouting = \"neuronio\""), "t")
            .unwrap();
        assert_eq!(ok.model.dt(), 1.0, "the ELM's default Δt");
        assert_eq!(ok.model.elm().unwrap().version, elm::ElmVersion::V1);
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
                .replace("num_ascs = 2", "num_ascs = 0")
                .replace("synaptic_delay_ms = 1.0", "synaptic_delay_ms = 0.0"),
        );
        assert!(e.contains("chrono_init") && e.contains("T_min < T_max"), "{e}");
        let e = error(&with("learning_rate = 0.001", "learning_rate = 0.001\noptimizer = \"sgd\""));
        assert!(e.contains("sgd"), "{e}");
    }
}
