//! `neurozoo predict`: running a trained or imported model on a `.npy` input.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::prelude::*;

use crate::npy::{read_npy, write_npy};
use engine::device::DeviceChoice;
use engine::model::{load_checkpoint, resolve_checkpoint};

/// Runs the model in `checkpoint` on `input` (`[B,T,in]` float32) and writes the readout of
/// every step (`[B,T,out]`) to `output`, and when asked the GLIFR voltage (`[B,T,H]`) to
/// `voltage` and the ELM memory (`[B,T,d_m]`) to `memory`.
#[allow(clippy::too_many_arguments)]
pub fn predict(
    checkpoint: &Path,
    input: &Path,
    output: &Path,
    voltage: Option<&Path>,
    memory: Option<&Path>,
    force: bool,
    device: DeviceChoice,
) -> Result<()> {
    // Nothing the user had is lost: never the input, and no existing file without --force.
    let outputs: Vec<&Path> = std::iter::once(output).chain(voltage).chain(memory).collect();
    for (i, path) in outputs.iter().enumerate() {
        let same_as = |other: &Path| {
            *path == other || matches!((path.canonicalize(), other.canonicalize()), (Ok(a), Ok(b)) if a == b)
        };
        ensure!(!same_as(input), "{} is the input; write the prediction to another file", path.display());
        ensure!(
            !outputs[..i].iter().any(|other| same_as(other)),
            "{} is given for two outputs; name each its own file",
            path.display()
        );
        ensure!(force || !path.exists(), "{} exists; pass --force to overwrite it", path.display());
    }
    let device = device.device();
    let dir = resolve_checkpoint(checkpoint)?;
    let (saved, network) = load_checkpoint(&dir, &device)?;
    let x = read_model_input(input, saved.model.input_size.unwrap_or(0), &device)?;
    let network = network.valid();
    let trace = network.forward_traced(x);
    save_tensor(output, trace.output)?;
    if let Some(path) = voltage {
        save_tensor(path, trace.voltage.context("--voltage needs a GLIFR model")?)?;
    }
    if let Some(path) = memory {
        save_tensor(path, trace.memory.context("--memory needs an ELM model")?)?;
    }
    Ok(())
}

/// Reads a model input `.npy` `[B,T,inputs]` (B, T ≥ 1) onto `device`.
pub fn read_model_input(path: &Path, inputs: usize, device: &Device) -> Result<Tensor<3>> {
    let x = read_npy(path)?;
    ensure!(
        x.shape.len() == 3 && x.shape[2] == inputs && x.shape[0] > 0 && x.shape[1] > 0,
        "{} has shape {:?}; the model expects [batch, steps, {inputs}]",
        path.display(),
        x.shape
    );
    let shape = [x.shape[0], x.shape[1], x.shape[2]];
    // A NaN or inf input gives NaN outputs everywhere it reaches: refuse it where it enters.
    if let Some(i) = x.data.iter().position(|v| !v.is_finite()) {
        let (b, t, k) = (i / (shape[1] * shape[2]), (i / shape[2]) % shape[1], i % shape[2]);
        bail!("{} holds {} at [{b}, {t}, {k}]; inputs must be finite numbers", path.display(), x.data[i]);
    }
    Ok(Tensor::from_data(TensorData::new(x.data, shape), device))
}

fn save_tensor(path: &Path, t: Tensor<3>) -> Result<()> {
    let dims = t.dims();
    let values: Vec<f32> = t.into_data().convert::<f32>().try_into_vec().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    write_npy(path, &dims, &values)
}
