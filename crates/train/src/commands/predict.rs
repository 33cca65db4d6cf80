//! `neurozoo predict`: a model on a `.npy` input, its readout (and voltage or memory) out.

use std::path::PathBuf;

use anyhow::Result;
use engine::device::DeviceChoice;

/// Run a model on a float32 array [B,T,in] and write the readout of every step [B,T,out].
#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    /// A checkpoint directory (from `import` or a run), or a run directory.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Input `.npy`.
    #[arg(long)]
    pub input: PathBuf,
    /// Output `.npy`.
    #[arg(long)]
    pub output: PathBuf,
    /// Also write the GLIFR membrane voltage [B,T,H] here.
    #[arg(long)]
    pub voltage: Option<PathBuf>,
    /// Also write the ELM memory [B,T,d_m] here.
    #[arg(long)]
    pub memory: Option<PathBuf>,
    /// Overwrite output files that exist.
    #[arg(long)]
    pub force: bool,
    /// Device (default: wgpu when compiled in and a hardware GPU is present, else flex).
    #[arg(long)]
    pub device: Option<String>,
}

/// `neurozoo predict`.
pub fn run(args: PredictArgs) -> Result<()> {
    let PredictArgs { checkpoint, input, output, voltage, memory, force, device } = args;
    let choice = DeviceChoice::resolve(device.as_deref(), None)?;
    let (voltage, memory) = (voltage.as_deref(), memory.as_deref());
    interop::predict::predict(&checkpoint, &input, &output, voltage, memory, force, choice)?;
    Ok(())
}
