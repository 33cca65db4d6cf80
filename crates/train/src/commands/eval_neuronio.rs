//! `neurozoo eval-neuronio`: the ELM authors' NeuronIO evaluation of a checkpoint.

use std::path::PathBuf;

use anyhow::Result;
use engine::device::DeviceChoice;

/// The ELM authors' NeuronIO evaluation of a checkpoint: windowed prediction, spike ROC-AUC,
/// soma RMSE and the rest, as their `neuronio_eval_utils.py` computes them.
#[derive(clap::Args, Debug)]
pub struct EvalNeuronioArgs {
    /// A checkpoint directory (from `import` or a run), or a run directory.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// A simulation file, a folder of `*sim__*` files, or the data root (its `Data_test`).
    #[arg(long)]
    pub data: PathBuf,
    /// Steps per window.
    #[arg(long, default_value_t = 500)]
    pub window: usize,
    /// Steps of each later window discarded as burn-in.
    #[arg(long, default_value_t = 150)]
    pub burn_in: usize,
    /// Leading ms of each simulation left out of the metrics.
    #[arg(long, default_value_t = 500)]
    pub ignore_ms: usize,
    /// Simulations with more output spikes are left out.
    #[arg(long, default_value_t = 24)]
    pub max_spikes: usize,
    /// Simulations per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Also write the report (JSON) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Device (default: wgpu when compiled in and a hardware GPU is present, else flex).
    #[arg(long)]
    pub device: Option<String>,
}

/// `neurozoo eval-neuronio`.
pub fn run(args: EvalNeuronioArgs) -> Result<()> {
    let EvalNeuronioArgs { checkpoint, data, window, burn_in, ignore_ms, max_spikes, batch_size, out, device } = args;
    let device = DeviceChoice::resolve(device.as_deref(), None)?.device();
    let options = paper::eval_neuronio::NeuronioEvalOptions { window, burn_in, ignore_ms, max_spikes, batch_size };
    let report = paper::eval_neuronio::eval_neuronio(&checkpoint, &data, options, &device, false)?;
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(path) = out {
        engine::fsutil::write_atomic(&path, json.as_bytes())?;
    }
    println!("{json}");
    Ok(())
}
