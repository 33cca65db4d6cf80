//! `neurozoo bench`: the time of one training step (forward, backward, Adam) of a config's
//! model on random data, after warm-up. Timings are taken with the device synchronised, so
//! asynchronous GPU work is counted where it runs.

use std::time::Instant;

use anyhow::Result;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Distribution;
use serde::Serialize;
use tasks::{BatchTarget, SequenceBatch};

use crate::config::RunConfig;
use crate::device::DeviceChoice;
use crate::model::build_model;
use crate::runner::{batch_loss, drop_inputs, mask_seed};

/// Benchmark results.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Run name from the config.
    pub name: String,
    /// Device.
    pub device: String,
    /// Batch size.
    pub batch_size: usize,
    /// Steps per sequence.
    pub steps: usize,
    /// Timed training steps.
    pub timed_steps: usize,
    /// Mean seconds per training step.
    pub mean_step_seconds: f64,
    /// Fastest step.
    pub min_step_seconds: f64,
    /// Samples per second at the mean step time.
    pub samples_per_second: f64,
    /// Peak resident memory of the process (Linux), MiB.
    pub peak_rss_mib: Option<f64>,
}

/// Peak resident set size of this process in MiB (`VmHWM`), where the OS reports it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Times `steps` training steps after `warmup` untimed ones.
pub fn bench(
    config: &RunConfig,
    device: Option<&str>,
    steps: usize,
    warmup: usize,
    batch_size: Option<usize>,
) -> Result<BenchReport> {
    let choice = DeviceChoice::resolve(device, config.device.as_deref())?;
    let device = choice.autodiff_device();
    device.seed(config.seed);
    let (input_size, output_size) = config.task.io_sizes();
    // The het init only changes values, not shapes or cost.
    let model_config = config.resolved_model().shape_only();
    let mut model = build_model(&model_config, config.seed, &device)?;
    let batch = batch_size.unwrap_or(config.training.batch_size);
    let seq_len = config.task.sequence_length();
    let input = Tensor::<3>::random([batch, seq_len, input_size], Distribution::Normal(0.0, 1.0), &device);
    let target = if config.task.is_classification() {
        BatchTarget::Classes(Tensor::<1, Int>::random([batch], Distribution::Uniform(0.0, output_size as f64), &device))
    } else {
        BatchTarget::Sequence(Tensor::<3>::random(
            [batch, seq_len, output_size],
            Distribution::Normal(0.0, 1.0),
            &device,
        ))
    };
    let data = SequenceBatch { input, target };
    let mut optimizer: ModuleOptimizer = crate::optim::optimizer(config.training.optimizer);
    let mut times = Vec::with_capacity(steps);
    for i in 0..warmup + steps {
        device.sync().map_err(|e| anyhow::anyhow!("device sync failed: {e:?}"))?;
        let start = Instant::now();
        // Input dropout draws its mask per batch, so it belongs to the timed step.
        let batch = SequenceBatch {
            input: drop_inputs(data.input.clone(), model_config.input_dropout, mask_seed(config.seed, 0, i)),
            target: data.target.clone(),
        };
        let (loss, _) = batch_loss(&model, &batch);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(config.training.learning_rate, model, grads);
        device.sync().map_err(|e| anyhow::anyhow!("device sync failed: {e:?}"))?;
        if i >= warmup {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(BenchReport {
        name: config.name.clone(),
        device: choice.name().into(),
        batch_size: batch,
        steps: seq_len,
        timed_steps: steps,
        mean_step_seconds: mean,
        min_step_seconds: min,
        samples_per_second: batch as f64 / mean,
        peak_rss_mib: peak_rss_mib(),
    })
}
