//! `neurozoo bench` and `neurozoo bench-data`: a training step, or reading a task, timed.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use engine::config::{Override, RunConfig};

/// Time training steps of a config's model on random data.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// TOML config.
    #[arg(long)]
    pub config: PathBuf,
    /// Timed steps.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Batch size (default: the config's).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Recompute BPTT in segments of this many steps (overrides
    /// `training.recompute_segment`; 0 turns it off).
    #[arg(long)]
    pub recompute_segment: Option<usize>,
    /// Split each batch across this many threads (overrides `training.threads`).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also time the per-step path (`model.fused = false`), right after the fused one (each with its own warm-up), and
    /// report the ratio.
    #[arg(long)]
    pub compare_unfused: bool,
    /// Also time the GEMM crate alone on the step's own matrix products (the floor the
    /// step cannot beat) and report its GFLOP/s beside the step's.
    #[arg(long)]
    pub gemm_floor: bool,
    /// Device override.
    #[arg(long)]
    pub device: Option<String>,
    /// Change one config value: `--set training.epochs=5` (repeatable; the value is TOML, a
    /// bare word a string; checked like the file).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
}

/// `neurozoo bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    let BenchArgs {
        config,
        steps,
        warmup,
        batch_size,
        recompute_segment,
        threads,
        compare_unfused,
        gemm_floor,
        device,
        set,
    } = args;
    if steps == 0 {
        bail!("--steps must be at least 1");
    }
    let mut config = RunConfig::load_with(&config, &set)?;
    if let Some(k) = recompute_segment {
        config.training.recompute_segment = (k > 0).then_some(k);
        config.validate().context("--recompute-segment")?;
    }
    if let Some(n) = threads {
        config.training.threads = n;
        config.validate().context("--threads")?;
    }
    let mut report = engine::bench::bench(&config, device.as_deref(), steps, warmup, batch_size, compare_unfused)?;
    if gemm_floor {
        let model = config.resolved_model();
        let classification = config.task.is_classification();
        let products = engine::bench::forward_products(&model, report.batch_size, report.steps, classification);
        report.gemm_floor = Some(engine::bench::gemm_floor(&products, 5));
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Time reading and batching a task's training inputs, without a model (peak memory too).
#[derive(clap::Args, Debug)]
pub struct BenchDataArgs {
    /// TOML config.
    #[arg(long)]
    pub config: PathBuf,
    /// Items to read (default: the whole training split).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Device the batches go to.
    #[arg(long)]
    pub device: Option<String>,
}

/// `neurozoo bench-data`.
pub fn run_data(args: BenchDataArgs) -> Result<()> {
    let BenchDataArgs { config, limit, device } = args;
    let config = RunConfig::load(&config)?;
    let report = engine::bench::bench_data(&config, device.as_deref(), limit)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
