//! `neurozoo info`: a model's parameter counts and how its recurrence runs.

use std::path::PathBuf;

use anyhow::{Context, Result};
use engine::config::RunConfig;
use engine::device::DeviceChoice;

/// Print a model's parameter counts and sizes, from a config or a checkpoint.
#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// TOML config.
    #[arg(long, conflicts_with = "checkpoint", required_unless_present = "checkpoint")]
    pub config: Option<PathBuf>,
    /// A checkpoint directory (from `import` or a run), or a run directory.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
}

/// `neurozoo info`.
pub fn run(args: InfoArgs) -> Result<()> {
    if let Some(checkpoint) = args.checkpoint {
        let dir = engine::model::resolve_checkpoint(&checkpoint)?;
        let (saved, network) = engine::model::load_checkpoint(&dir, &DeviceChoice::host().device())?;
        let m = &saved.model;
        println!(
            "{}: {:?}, {} inputs → {} outputs, hidden/memory size {}",
            dir.display(),
            m.kind(),
            m.input_size.unwrap_or(0),
            m.output_size.unwrap_or(0),
            m.hidden_size
        );
        println!("trainable parameters: {}", network.num_trainable_params());
        println!("total parameters: {}", burn::module::Module::num_params(&network));
        return Ok(());
    }
    let config = RunConfig::load(&args.config.context("--config or --checkpoint is needed")?)?;
    let (input, output) = config.task.io_sizes();
    let model = config.resolved_model().shape_only();
    let network = engine::model::build_model(&model, config.seed, &DeviceChoice::host().device())
        .context("building the model")?;
    println!("{}: {}", config.name, engine::runner::describe_model(&config));
    let training_device = DeviceChoice::resolve(None, config.device.as_deref())?.autodiff_device();
    println!("recurrence in training: {}", network.execution_path(&training_device));
    println!(
        "task: {} ({} steps × {} inputs → {} outputs)",
        engine::runner::describe_task(&config, None),
        config.task.sequence_length(),
        input,
        output
    );
    println!("trainable parameters: {}", network.num_trainable_params());
    println!("total parameters: {}", burn::module::Module::num_params(&network));
    Ok(())
}
