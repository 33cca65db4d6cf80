//! `neurozoo bench`: the time of one training step (forward, backward, Adam) of a config's
//! model on random data, after warm-up. Timings are taken with the device synchronised, so
//! asynchronous GPU work is counted where it runs.

use std::time::Instant;

use anyhow::Result;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::tensor::Distribution;
use serde::Serialize;
use tasks::{BatchTarget, SequenceBatch};

use crate::config::RunConfig;
use crate::data_parallel::training_step;
use crate::device::DeviceChoice;
use crate::model::build_model;
use crate::runner::{drop_inputs, mask_seed};

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
    /// Steps per recomputed BPTT segment, if any.
    pub recompute_segment: Option<usize>,
    /// Threads each batch was split across (`training.threads`).
    pub threads: usize,
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
    let recompute_segment = config.training.recompute_segment;
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
        let (_, _, grads) = training_step(&model, &batch, recompute_segment, config.training.threads);
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
        recompute_segment,
        threads: config.training.threads,
    })
}

/// What iterating a task's training inputs costs, without a model.
#[derive(Clone, Debug, Serialize)]
pub struct DataBenchReport {
    /// Run name from the config.
    pub name: String,
    /// Items in the training split.
    pub split_items: usize,
    /// Items iterated.
    pub items: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Seconds to build the dataset (read the index).
    pub index_seconds: f64,
    /// Seconds to read and batch the items onto the device.
    pub seconds: f64,
    /// Items per second.
    pub items_per_second: f64,
    /// Seconds one epoch of the whole split would take at that rate.
    pub epoch_seconds: f64,
    /// Peak resident memory of the process, MiB.
    pub peak_rss_mib: Option<f64>,
}

/// Iterates `limit` items (default: all) of the training split through the data loader and
/// batcher onto the device, as training does, and times it.
pub fn bench_data(config: &RunConfig, device: Option<&str>, limit: Option<usize>) -> Result<DataBenchReport> {
    use burn::data::dataloader::DataLoaderBuilder;
    use burn::data::dataset::Dataset;
    let choice = DeviceChoice::resolve(device, config.device.as_deref())?;
    let device = choice.device();
    let started = Instant::now();
    let data = crate::data::build_dataset(&config.task, crate::data::Part::Train, config.training.batch_size)?;
    let index_seconds = started.elapsed().as_secs_f64();
    let split_items = data.len();
    let items = limit.unwrap_or(split_items).min(split_items);
    let data = burn::data::dataset::transform::PartialDataset::new(data, 0, items);
    let batch_size = config.training.batch_size;
    let loader =
        DataLoaderBuilder::new(tasks::SequenceBatcher).batch_size(batch_size).set_device(device.clone()).build(data);
    let started = Instant::now();
    let mut seen = 0;
    for batch in loader.iter() {
        let batch = batch.map_err(|e| anyhow::anyhow!("reading training data: {e:?}"))?;
        seen += batch.input.dims()[0];
    }
    device.sync().map_err(|e| anyhow::anyhow!("device sync failed: {e:?}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let rate = seen as f64 / seconds.max(1e-9);
    Ok(DataBenchReport {
        name: config.name.clone(),
        split_items,
        items: seen,
        batch_size,
        index_seconds,
        seconds,
        items_per_second: rate,
        epoch_seconds: split_items as f64 / rate,
        peak_rss_mib: peak_rss_mib(),
    })
}
