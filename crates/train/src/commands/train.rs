//! `neurozoo train`: train the model a config describes (or resume it).

use std::path::PathBuf;

use anyhow::Result;
use engine::config::Override;

use super::load_config;

/// Train the model a config describes (default: GLIFR LHetA on line-by-line MNIST).
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// TOML config; without it, the built-in default (configs/lmnist/glifr-lheta.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// flex, ndarray or wgpu (those compiled in); overrides the config's `device`.
    #[arg(long)]
    pub device: Option<String>,
    /// Continue the run from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Change one config value: `--set training.epochs=5` (repeatable; the value is TOML, a
    /// bare word a string; checked like the file).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
}

/// `neurozoo train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let TrainArgs { config, device, resume, set } = args;
    let config = load_config(config.as_ref(), &set)?;
    let options = engine::runner::TrainOptions { device, resume, quiet: false };
    let summary = engine::runner::train(&config, &options)?;
    let accuracy = summary.test.accuracy.map(|a| format!(" test accuracy {a:.4}")).unwrap_or_default();
    println!(
        "done: {}{accuracy} test loss {:.5} ({} trainable parameters, {:.0} s) → {}",
        summary.name,
        summary.test.loss,
        summary.trainable_parameters,
        summary.seconds,
        config.run_dir().display()
    );
    Ok(())
}
