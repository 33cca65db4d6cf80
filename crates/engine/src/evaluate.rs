//! Evaluating a model over a dataset: the mean loss and accuracy, batched and (with
//! `training.threads`) split across threads exactly as training is; and `neurozoo eval`, a
//! run's latest checkpoint on its test set.

use std::path::Path;

use anyhow::{Context, Result};
use burn::data::dataloader::DataLoaderBuilder;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use tasks::SequenceBatcher;

use crate::config::RunConfig;
use crate::data::{Part, TaskDataset, build_dataset};
use crate::device::DeviceChoice;
use crate::loss::{batch_loss, drop_inputs, mask_seed};
use crate::model::{Model, load_checkpoint, resolve_checkpoint};

/// Loss and accuracy over a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean loss per sample (cross-entropy on the last step, or MSE over all steps).
    pub loss: f64,
    /// Fraction correct (classification only).
    pub accuracy: Option<f64>,
    /// Samples evaluated.
    pub samples: usize,
}

/// Sum of loss·batch, correct count, and samples: what an epoch accumulates.
#[derive(Debug, Default)]
pub struct Totals {
    /// Σ loss·batch size.
    pub loss: f64,
    /// Correct predictions.
    pub correct: usize,
    /// Samples seen.
    pub samples: usize,
}

impl Totals {
    /// The mean loss and accuracy so far.
    pub fn evaluation(&self, classification: bool) -> Evaluation {
        let n = self.samples.max(1) as f64;
        Evaluation {
            loss: self.loss / n,
            accuracy: classification.then(|| self.correct as f64 / n),
            samples: self.samples,
        }
    }
}

/// Evaluates `model` (in validation mode, on `device`) over `dataset`, with input dropout
/// `input_dropout` (0 unless the config applies it at evaluation, as the ELM SHD code does;
/// its masks derive from `seed`).
pub fn evaluate(
    model: &Model,
    dataset: TaskDataset,
    batch_size: usize,
    input_dropout: f64,
    seed: u64,
    device: &Device,
    threads: usize,
) -> Result<Evaluation> {
    let classification = dataset.is_classification();
    let model = model.valid();
    let loader =
        DataLoaderBuilder::new(SequenceBatcher).batch_size(batch_size).set_device(device.clone()).build(dataset);
    let mut totals = Totals::default();
    for (i, batch) in loader.iter().enumerate() {
        let mut batch = batch.map_err(|e| anyhow::anyhow!("reading test data: {e}"))?;
        batch.input = drop_inputs(batch.input, input_dropout, mask_seed(seed, u64::MAX, i));
        // Each part's mean loss, weighted by its size: the batch's sum, as on one thread.
        let parts = crate::data_parallel::map_parts(&batch, threads, |part| {
            let (loss, correct) = batch_loss(&model, part);
            (loss.into_scalar::<f64>(), correct)
        });
        for ((loss, correct), b) in parts {
            totals.loss += loss * b as f64;
            totals.correct += correct;
            totals.samples += b;
        }
    }
    Ok(totals.evaluation(classification))
}

/// Re-evaluates a run's latest checkpoint on its test set, its config changed by `set`.
pub fn eval_run(run_dir: &Path, device: Option<&str>, set: &[crate::config::Override]) -> Result<Evaluation> {
    let config_path = run_dir.join("config.toml");
    let config = RunConfig::load_with(&config_path, set)
        .with_context(|| format!("{} is not a run directory", run_dir.display()))?;
    let choice = DeviceChoice::resolve(device, config.device.as_deref())?;
    let device = choice.device();
    let dir = resolve_checkpoint(run_dir)?;
    let (saved, network) = load_checkpoint(&dir, &device)?;
    crate::model::ensure_checkpoint_fits(&dir, &saved, &config.resolved_model(), &config_path)?;
    let test = build_dataset(&config.task, Part::Test, config.training.eval_batch_size)?;
    let m = &config.model;
    let dropout = if m.input_dropout_in_eval { m.input_dropout } else { 0.0 };
    evaluate(&network, test, config.training.eval_batch_size, dropout, config.seed, &device, config.training.threads)
}
