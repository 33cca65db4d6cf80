//! `[training]`: optimisation.

use serde::{Deserialize, Serialize};

use super::one_usize;

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
    /// `O(T/K + K)` instead of `O(T)` for about one extra forward pass, same gradients (any
    /// model classifying on the last step; Path-X needs it). Absent: plain BPTT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recompute_segment: Option<usize>,
    /// Threads each training and evaluation batch is split across, each training part with
    /// its own replica of the model (data parallelism on one machine, `data_parallel.rs`;
    /// for CPU backends). On 2 cores it gave 1.5× from batch 32 up and little at batch 8. The
    /// gradients are the whole batch's up to float rounding, so runs with different `threads`
    /// agree closely but not bit for bit. Default 1.
    #[serde(default = "one_usize")]
    pub threads: usize,
}

fn default_eval_batch() -> usize {
    1000
}
