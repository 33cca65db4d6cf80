//! `neurozoo eval`: a run's latest checkpoint on its test set.

use std::path::PathBuf;

use anyhow::Result;
use engine::config::Override;

/// Re-evaluate a run's latest checkpoint on the test set.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The run directory (runs/<name>).
    #[arg(long)]
    pub run: PathBuf,
    /// Device override.
    #[arg(long)]
    pub device: Option<String>,
    /// Change one value of the run's config for this evaluation, e.g. `--set
    /// task.data_dir=/data/mnist` (repeatable; the model must still fit the checkpoint).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
}

/// `neurozoo eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let EvalArgs { run, device, set } = args;
    let evaluation = engine::evaluate::eval_run(&run, device.as_deref(), &set)?;
    println!("{}", serde_json::to_string_pretty(&evaluation)?);
    Ok(())
}
