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

use crate::config::{CellConfig, ModelConfig, RunConfig};
use crate::data_parallel::training_step;
use crate::device::DeviceChoice;
use crate::loss::{drop_inputs, mask_seed};
use crate::model::build_model;

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
    /// What the fused operation keeps for the backward pass of one training step, MiB
    /// (the whole sequence, or one segment with `recompute_segment`); absent on the per-step
    /// path, whose activations live in Burn's graph.
    pub fused_kept_mib: Option<f64>,
    /// The GEMM crate's speed on this step's own products (`--gemm-floor`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gemm_floor: Option<GemmFloor>,
    /// Steps per recomputed BPTT segment, if any.
    pub recompute_segment: Option<usize>,
    /// Threads each batch was split across (`training.threads`).
    pub threads: usize,
    /// GPU kernels launched per training step (CubeCL devices: wgpu), counted by CubeCL's
    /// launch observer over the timed steps; Fusion's fused kernels count once each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launches_per_step: Option<f64>,
    /// With `--compare-unfused`: the same steps on the per-step path, timed after the ones
    /// above, with their own warm-up.
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

/// One matrix product of a training step's forward pass: `count` times an `m×k` by `k×n`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Product {
    /// Rows of the left factor.
    pub m: usize,
    /// Inner size.
    pub k: usize,
    /// Columns of the right factor.
    pub n: usize,
    /// How many times per forward pass.
    pub count: usize,
}

/// The matrix products of one forward pass, at the sizes the model really multiplies:
/// the input projection over all steps at once; GLIFR's and the RNN's lateral product only for
/// the steps that have a delayed source, `T − d`; an LSTM's recurrent product for `T − 1`
/// steps; an ELM's routing (Branch-ELM) and MLP at every step; the readout at every step, or
/// at the last one for a classification.
pub fn forward_products(
    model: &crate::config::ModelConfig,
    batch: usize,
    steps: usize,
    classification: bool,
) -> Vec<Product> {
    let (b, t) = (batch, steps);
    let input = model.input_size.unwrap_or(0);
    let output = model.output_size.unwrap_or(0);
    let h = model.hidden_size;
    let product = |m, k, n, count| Product { m, k, n, count };
    let readout = if classification { product(b, h, output, 1) } else { product(b * t, h, output, 1) };
    let mut products = match &model.cell {
        CellConfig::Glifr(_) | CellConfig::Rnn(_) => {
            let delay = glifr::delay_steps(model.synaptic_delay_ms(), model.dt());
            vec![product(b * t, input, h, 1), product(b, h, h, t.saturating_sub(delay))]
        }
        CellConfig::Lstm(_) => vec![product(b * t, input, 4 * h, 1), product(b, h, 4 * h, t.saturating_sub(1))],
        CellConfig::Elm(neuron) => {
            let e = &neuron.elm;
            let branches = e.num_branch.unwrap_or(input);
            let hidden = e.mlp_hidden_size.unwrap_or(2 * h);
            let mut widths = vec![branches + h];
            widths.extend(std::iter::repeat_n(hidden, e.mlp_layers));
            widths.push(h);
            let mut products: Vec<Product> = widths.windows(2).map(|w| product(b, w[0], w[1], t)).collect();
            if e.num_branch.is_some() {
                products.push(product(b * t, input, branches, 1));
            }
            products
        }
    };
    products.push(readout);
    products
}

/// The floating-point operations of one training step, from the shapes alone: `2·m·k·n` for
/// each of [`forward_products`], and the backward pass counted as twice the forward's products
/// (a gradient for each factor), the usual estimate, so a step is 3× the forward. Elementwise
/// work (sigmoids, traces, the optimiser) is not counted: it is O(B·T·H) beside the products'
/// O(B·T·H²).
pub fn training_step_flops(
    model: &crate::config::ModelConfig,
    batch: usize,
    steps: usize,
    classification: bool,
) -> f64 {
    let forward: f64 = forward_products(model, batch, steps, classification)
        .iter()
        .map(|p| 2.0 * (p.m * p.k * p.n * p.count) as f64)
        .sum();
    3.0 * forward
}

/// What the GEMM crate the fused operations multiply with reaches on a step's own products:
/// each of [`forward_products`] timed on its own (fastest of `rounds`), its count times, and
/// the sum tripled as the FLOPs are. The step can be no faster than this; `gflops` is the
/// rate it runs at.
#[derive(Clone, Debug, Serialize)]
pub struct GemmFloor {
    /// Seconds of one training step's products at the GEMM crate's speed.
    pub seconds: f64,
    /// The FLOPs over those seconds, GFLOP/s.
    pub gflops_per_second: f64,
}

/// Times [`forward_products`] with [`fused::matmul`] (threaded as the crate decides).
pub fn gemm_floor(products: &[Product], rounds: usize) -> GemmFloor {
    let mut seconds = 0.0;
    let mut flops = 0.0;
    for p in products {
        let lhs: Vec<f32> = (0..p.m * p.k).map(|i| ((i % 17) as f32 - 8.0) * 0.01).collect();
        let rhs: Vec<f32> = (0..p.k * p.n).map(|i| ((i % 13) as f32 - 6.0) * 0.01).collect();
        let mut dst = vec![0.0f32; p.m * p.n];
        // Enough repetitions that a small product's time is measurable.
        let reps = (1usize << 22).div_ceil((p.m * p.k * p.n).max(1)).clamp(1, p.count.max(1));
        let mut best = f64::INFINITY;
        for _ in 0..rounds.max(1) {
            let start = Instant::now();
            for _ in 0..reps {
                fused::matmul(
                    &mut dst,
                    false,
                    fused::MatRef::row_major(&lhs, p.m, p.k),
                    fused::MatRef::row_major(&rhs, p.k, p.n),
                );
            }
            best = best.min(start.elapsed().as_secs_f64() / reps as f64);
        }
        std::hint::black_box(&dst);
        seconds += 3.0 * best * p.count as f64;
        flops += 3.0 * 2.0 * (p.m * p.k * p.n * p.count) as f64;
    }
    GemmFloor { seconds, gflops_per_second: flops / seconds.max(1e-12) / 1e9 }
}

/// One model being benchmarked: its optimiser and its step times.
struct Bencher {
    model: crate::model::Model,
    optimizer: ModuleOptimizer,
    recurrence: String,
    kept_bytes: Option<usize>,
    times: Vec<f64>,
    /// Kernel launches over the timed steps (CubeCL devices only).
    launches: usize,
}

/// Times `steps` training steps after `warmup` untimed ones. With `compare_unfused`, the same
/// model on the per-step path is timed too, right after, with its own warm-up.
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
    let batch = batch_size.unwrap_or(config.training.batch_size);
    let seq_len = config.task.sequence_length();
    // With recomputation only one segment's activations are kept at a time.
    let kept_steps = recompute_segment.map_or(seq_len, |k| k.min(seq_len));
    let mut benchers: Vec<Bencher> = benchers
        .into_iter()
        .map(|model| Bencher {
            kept_bytes: model.fused_kept_bytes(&device, batch, kept_steps),
            recurrence: model.execution_path(&device),
            model,
            optimizer: crate::optim::optimizer(config.training.optimizer),
            times: Vec::with_capacity(steps),
            launches: 0,
        })
        .collect();
    let launches = launch_counter::LaunchCounter::install();
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
    // One path after the other, each with its own warm-up: interleaved steps disturbed each
    // other (P-MNIST, one warm-up step: the fused step took 0.87 s between per-step ones with
    // their 17,000-node graphs, 0.34 s alone), which no user running one path ever sees.
    for bencher in &mut benchers {
        let mut launches_before_timing = launches.count();
        for i in 0..warmup + steps {
            device.sync().map_err(|e| anyhow::anyhow!("device sync failed: {e:?}"))?;
            if i == warmup {
                launches_before_timing = launches.count();
            }
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
        bencher.launches = launches.count() - launches_before_timing;
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
            fused_kept_mib: bencher.kept_bytes.map(|b| b as f64 / (1024.0 * 1024.0)),
            gemm_floor: None,
            recompute_segment,
            threads: config.training.threads,
            launches_per_step: launches.observed().then(|| bencher.launches as f64 / steps.max(1) as f64),
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

/// Counts GPU kernel launches through CubeCL's launch observer, which is process-global and
/// called on the issuing thread before each launch is submitted. Without the `wgpu` feature
/// nothing launches kernels, and [`LaunchCounter::observed`] says so.
mod launch_counter {
    #[cfg(feature = "wgpu")]
    pub struct LaunchCounter {
        count: std::sync::Arc<Count>,
        _observation: cubecl::logging::LaunchObservation,
    }

    #[cfg(feature = "wgpu")]
    #[derive(Default)]
    struct Count(std::sync::atomic::AtomicUsize);

    #[cfg(feature = "wgpu")]
    impl cubecl::logging::LaunchObserver for Count {
        fn launched(&self, _kernel: &'static str) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[cfg(feature = "wgpu")]
    impl LaunchCounter {
        /// Starts counting; stops when dropped.
        pub fn install() -> Self {
            let count = std::sync::Arc::new(Count::default());
            let observation = cubecl::logging::LaunchObservation::new(count.clone());
            Self { count, _observation: observation }
        }

        /// Launches issued since [`LaunchCounter::install`].
        pub fn count(&self) -> usize {
            self.count.0.load(std::sync::atomic::Ordering::Relaxed)
        }

        /// Whether launches were watched at all. A CPU run launches none, and reports no count
        /// rather than a zero that reads like a measurement.
        pub fn observed(&self) -> bool {
            self.count() > 0
        }
    }

    #[cfg(not(feature = "wgpu"))]
    pub struct LaunchCounter;

    #[cfg(not(feature = "wgpu"))]
    impl LaunchCounter {
        pub fn install() -> Self {
            Self
        }

        pub fn count(&self) -> usize {
            0
        }

        pub fn observed(&self) -> bool {
            false
        }
    }
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
        let batch = batch.map_err(|e| anyhow::anyhow!("reading training data: {e}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A small GLIFR on line MNIST's shapes (T 28, 28 inputs, 10 classes): the FLOP count
    /// by hand, what the fused operation keeps (rates, voltages and 2 currents: 4 series of
    /// T·B·H f32), one segment's worth of it with recomputation, the per-step comparison, and
    /// a GEMM floor over the same products.
    #[test]
    fn report_counts_flops_kept_activations_and_the_gemm_floor() {
        let mut config = RunConfig::from_toml(crate::config::DEFAULT_CONFIG, "default").unwrap();
        config.model.hidden_size = 8;
        let model = config.resolved_model();
        let delay = glifr::delay_steps(model.synaptic_delay_ms(), model.dt());
        assert!(delay >= 1 && delay < 28);
        let (b, t, h) = (3.0, 28.0, 8.0);
        let forward = 2.0 * b * t * 28.0 * h + 2.0 * b * (t - delay as f64) * h * h + 2.0 * b * h * 10.0;
        let report = bench(&config, Some("flex"), 1, 0, Some(3), true).unwrap();
        assert_eq!(report.flops_per_step, 3.0 * forward);
        let kept = 4.0 * 4.0 * t * b * h / (1024.0 * 1024.0);
        assert_eq!(report.fused_kept_mib, Some(kept));
        let unfused = report.unfused.as_ref().expect("--compare-unfused times the per-step path");
        assert_eq!(unfused.fused_kept_mib, None);
        assert!(unfused.recurrence.starts_with("per-step"), "{}", unfused.recurrence);
        assert!(report.speedup_over_unfused.is_some_and(|s| s > 0.0));

        let floor = gemm_floor(&forward_products(&model, 3, 28, true), 2);
        assert!(floor.seconds > 0.0 && floor.gflops_per_second > 0.0);
        let rate = report.flops_per_step / floor.seconds / 1e9;
        assert!(
            (rate - floor.gflops_per_second).abs() <= 1e-9 * rate,
            "the floor's rate is the step's FLOPs over its time"
        );

        config.training.recompute_segment = Some(7);
        let report = bench(&config, Some("flex"), 1, 0, Some(3), false).unwrap();
        assert_eq!(report.fused_kept_mib, Some(kept * 7.0 / 28.0));
    }
}
