//! `neurozoo grads`: one batch's loss gradients under the authors' names, to diff against PyTorch.

use std::path::PathBuf;

use anyhow::Result;
use engine::device::DeviceChoice;

/// The loss `cross_entropy(y[:, -1, :], labels)` and the gradient of every trainable
/// parameter on one batch: loss.json and <state_dict key>.npy in the authors' names and
/// layouts, to diff against a PyTorch run.
#[derive(clap::Args, Debug)]
pub struct GradsArgs {
    /// A checkpoint directory (from `import` or a run), or a run directory.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Input `.npy` [B,T,in].
    #[arg(long)]
    pub input: PathBuf,
    /// Class labels `.npy` [B] (integers, or floats holding whole numbers).
    #[arg(long)]
    pub labels: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Run the step-by-step path instead of the fused operation.
    #[arg(long)]
    pub per_step: bool,
    /// Overwrite files already in the output folder.
    #[arg(long)]
    pub force: bool,
    /// Device (default: wgpu when compiled in and a hardware GPU is present, else flex).
    #[arg(long)]
    pub device: Option<String>,
}

/// `neurozoo grads`.
pub fn run(args: GradsArgs) -> Result<()> {
    let GradsArgs { checkpoint, input, labels, out, per_step, force, device } = args;
    let choice = DeviceChoice::resolve(device.as_deref(), None)?;
    let options = interop::grads::GradsOptions { per_step, force };
    let result =
        interop::grads::grads_command(&checkpoint, &input, &labels, &out, &choice.autodiff_device(), &options)?;
    println!("loss {:.6}, {} gradients → {}", result.loss, result.gradients.len(), out.display());
    Ok(())
}
