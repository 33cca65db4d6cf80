//! `neurozoo sweep`: a grid over config keys × trials.

use std::path::PathBuf;

use anyhow::{Context, Result};
use engine::config::Override;

use super::{show_or_bundle, unfinished};

/// A grid over config keys: every combination of values × N trials, each a resumable run
/// named from its values; writes sweep.csv (values, final metrics, time of every run).
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The base config.
    #[arg(long)]
    pub config: PathBuf,
    /// A key and its values, `training.learning_rate=1e-3,1e-4` (repeatable: the grid is
    /// every combination).
    #[arg(long = "grid", value_name = "KEY=V1,V2", required = true)]
    pub grid: Vec<engine::sweep::Grid>,
    /// Trials of each combination (seed = config seed + trial).
    #[arg(long, default_value_t = 1)]
    pub trials: usize,
    /// Index of the first trial.
    #[arg(long, default_value_t = 0)]
    pub first_trial: usize,
    /// Change one value of every run: `--set training.epochs=5` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
    /// Folder of the runs and sweep.csv (default: runs/sweep-<config name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Device override.
    #[arg(long)]
    pub device: Option<String>,
    #[command(flatten)]
    pub mode: engine::slurm::ModeArgs,
}

/// `neurozoo sweep`.
pub fn run(args: SweepArgs) -> Result<()> {
    let SweepArgs { config, grid, trials, first_trial, set, out, device, mode } = args;
    let options = engine::sweep::SweepOptions { config, grid, trials, first_trial, set, out, device, quiet: false };
    let planned = engine::sweep::plan(&options)?;
    if show_or_bundle(&planned, &mode, options.device.as_deref())? {
        return Ok(());
    }
    let missing = if mode.collect {
        engine::sweep::collect(&options, &planned)?
    } else {
        engine::sweep::run_sweep(&options, &planned)?
    };
    println!("{}", std::fs::read_to_string(planned.out.join("sweep.csv")).context("reading sweep.csv back")?);
    println!(
        "{} of {} runs finished → {}",
        planned.runs.len() - missing.len(),
        planned.runs.len(),
        planned.out.join("sweep.csv").display()
    );
    unfinished(&missing)
}
