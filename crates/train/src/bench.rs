//! `neurozoo bench`: the time of one training step (forward, backward, Adam) of a config's
//! model on random data, after warm-up. Timings are taken with the device synchronised, so
//! asynchronous GPU work is counted where it runs.

use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::tensor::Distribution;
use serde::Serialize;
use tasks::{BatchTarget, SequenceBatch};

use crate::config::{ModelConfig, RunConfig};
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
    /// How the recurrence ran: fused, or per-step and why.
    pub recurrence: String,
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
    /// Floating-point operations of one training step, counted from the shapes (see
    /// [`training_step_flops`]).
    pub flops_per_step: f64,
    /// `flops_per_step` over the mean step time, in GFLOP/s.
    pub gflops_per_second: f64,
    /// Peak resident memory of the process (Linux), MiB.
    pub peak_rss_mib: Option<f64>,
    /// Steps per recomputed BPTT segment, if any.
    pub recompute_segment: Option<usize>,
    /// Threads each batch was split across (`training.threads`).
    pub threads: usize,
    /// With `--compare-unfused`: the same steps on the per-step path, timed interleaved with
    /// the ones above (one step of each in turn).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfused: Option<Box<BenchReport>>,
    /// With `--compare-unfused`: the per-step path's mean step time over this one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speedup_over_unfused: Option<f64>,
}

/// Peak resident set size of this process in MiB (`VmHWM`), where the OS reports it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The floating-point operations of one training step, from the shapes alone.
///
/// Counted: every matrix product of the forward pass, `2·m·k·n` for an `m×k` by `k×n`
/// product, at the sizes the model really multiplies (GLIFR's and the RNN's lateral product
/// only for the steps that have a delayed source, `T − d`; an LSTM's recurrent product for
/// `T − 1` steps; an ELM's MLP at every step; the readout at every step, or at the last one
/// for a classification). The backward pass is counted as twice the forward's products (a
/// gradient for each factor), the usual estimate, so a step is 3× the forward. Elementwise
/// work (sigmoids, traces, the optimiser) is not counted: it is O(B·T·H) beside the products'
/// O(B·T·H²).
pub fn training_step_flops(
    model: &crate::config::ModelConfig,
    batch: usize,
    steps: usize,
    classification: bool,
) -> f64 {
    use crate::config::ModelKind;
    let (b, t) = (batch as f64, steps as f64);
    let input = model.input_size.unwrap_or(0) as f64;
    let output = model.output_size.unwrap_or(0) as f64;
    let h = model.hidden_size as f64;
    let readout = |width: f64| 2.0 * b * width * output * if classification { 1.0 } else { t };
    let forward = match model.kind {
        ModelKind::Glifr | ModelKind::Rnn => {
            let delay = glifr::delay_steps(model.synaptic_delay_ms, model.dt()) as f64;
            2.0 * b * t * input * h + 2.0 * b * (t - delay).max(0.0) * h * h + readout(h)
        }
        ModelKind::Lstm => 2.0 * b * t * input * 4.0 * h + 2.0 * b * (t - 1.0).max(0.0) * h * 4.0 * h + readout(h),
        ModelKind::Elm => {
            let e = model.elm_options();
            let branches = e.num_branch.unwrap_or(model.input_size.unwrap_or(0)) as f64;
            let hidden = e.mlp_hidden_size.unwrap_or(2 * model.hidden_size) as f64;
            let mut widths = vec![branches + h];
            widths.extend(std::iter::repeat_n(hidden, e.mlp_layers));
            widths.push(h);
            let mlp: f64 = widths.windows(2).map(|w| w[0] * w[1]).sum();
            let routed = if e.num_branch.is_some() { input * branches } else { 0.0 };
            2.0 * b * t * (mlp + routed) + readout(h)
        }
    };
    3.0 * forward
}

/// One model being benchmarked: its optimiser and its step times.
struct Bencher {
    model: crate::model::Model,
    optimizer: ModuleOptimizer,
    recurrence: String,
    times: Vec<f64>,
}

/// Times `steps` training steps after `warmup` untimed ones. With `compare_unfused`, the same
/// model on the per-step path is timed too, one step of each in turn, so that both see the
/// same machine.
pub fn bench(
    config: &RunConfig,
    device: Option<&str>,
    steps: usize,
    warmup: usize,
    batch_size: Option<usize>,
    compare_unfused: bool,
) -> Result<BenchReport> {
    let recompute_segment = config.training.recompute_segment;
    let choice = DeviceChoice::resolve(device, config.device.as_deref())?;
    let device = choice.autodiff_device();
    device.seed(config.seed);
    let (input_size, output_size) = config.task.io_sizes();
    // The het init only changes values, not shapes or cost.
    let model_config = config.resolved_model().shape_only();
    let model = build_model(&model_config, config.seed, &device)?;
    let mut benchers = vec![model.clone()];
    if compare_unfused {
        let unfused = ModelConfig { fused: false, ..model_config.clone() };
        // The same initial values: the per-step model loads the first one's parameters.
        let per_step = build_model(&unfused, config.seed, &device)?.load_record(model.clone().into_record());
        benchers.push(per_step);
    }
    let mut benchers: Vec<Bencher> = benchers
        .into_iter()
        .map(|model| Bencher {
            recurrence: model.execution_path(&device),
            model,
            optimizer: crate::optim::optimizer(config.training.optimizer),
            times: Vec::with_capacity(steps),
        })
        .collect();
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
    for i in 0..warmup + steps {
        for bencher in &mut benchers {
            device.sync().map_err(|e| anyhow::anyhow!("device sync failed: {e:?}"))?;
            let start = Instant::now();
            // Input dropout draws its mask per batch, so it belongs to the timed step.
            let batch = SequenceBatch {
                input: drop_inputs(data.input.clone(), model_config.input_dropout, mask_seed(config.seed, 0, i)),
                target: data.target.clone(),
            };
            let (_, _, grads) = training_step(&bencher.model, &batch, recompute_segment, config.training.threads);
            let model = bencher.model.clone();
            bencher.model = bencher.optimizer.step(config.training.learning_rate, model, grads);
            device.sync().map_err(|e| anyhow::anyhow!("device sync failed: {e:?}"))?;
            if i >= warmup {
                bencher.times.push(start.elapsed().as_secs_f64());
            }
        }
    }
    let flops = training_step_flops(&model_config, batch, seq_len, config.task.is_classification());
    let mut reports = benchers.into_iter().map(|bencher| {
        let times = bencher.times;
        let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
        BenchReport {
            name: config.name.clone(),
            device: choice.name().into(),
            recurrence: bencher.recurrence,
            batch_size: batch,
            steps: seq_len,
            timed_steps: steps,
            mean_step_seconds: mean,
            min_step_seconds: times.iter().copied().fold(f64::INFINITY, f64::min),
            samples_per_second: batch as f64 / mean,
            flops_per_step: flops,
            gflops_per_second: flops / mean / 1e9,
            peak_rss_mib: peak_rss_mib(),
            recompute_segment,
            threads: config.training.threads,
            unfused: None,
            speedup_over_unfused: None,
        }
    });
    let mut report = reports.next().expect("one model at least");
    if let Some(unfused) = reports.next() {
        report.speedup_over_unfused = Some(unfused.mean_step_seconds / report.mean_step_seconds);
        report.unfused = Some(Box::new(unfused));
    }
    Ok(report)
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
