//! `neurozoo grads`: the loss and the gradient of every trainable parameter on one batch,
//! written under the authors' `state_dict` names and in their layouts, so that a user can diff
//! them against a PyTorch run of GLIFS_ASC or elmneuron.
//!
//! The loss is the golden cases' (`shared/golden/README.md`): `cross_entropy(y[:, -1, :],
//! labels)`, the mean over the batch of the readout at the last step.
//!
//! Names and layouts (ours → theirs):
//! - GLIFR (`GLIFRN`): `neuron_layer.{weight_iv [in,H], weight_lat [H,H], thresh [1,H],
//!   trans_k_m [1,H], trans_k_j [A,1,H], trans_r_j, a_j}`, `output_linear.{weight [out,H], bias}`.
//! - RNN (`RNNC`): `neuron_layer.{weight_ih [in,H], weight_lat [H,H], bias [1,H]}`.
//! - LSTM (`nn.LSTMCell`): `neuron_layer.{weight_ih [4H,in], weight_hh [4H,H], bias_ih, bias_hh}`.
//! - ELM: `_proto_w_s`, `_proto_tau_m` (when τ_m learns), `mlp.network.{0,2,…}.{weight
//!   [out,in], bias}`, `w_y.{weight, bias}`.
//!
//! PyTorch stores `nn.Linear` weights as `[out,in]`; ours are `[in,out]`, so those are transposed.
//! Only parameters that train are written (frozen GLIFR neuronal parameters, a frozen τ_m and
//! the ELM's trace time constants are not, as `requires_grad` is false for them in PyTorch).

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::module::Param;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::Gradients;
use glifr::Cell;
use serde::Serialize;

use crate::npy::{read_class_labels, write_npy};
use crate::predict::read_model_input;
use engine::model::{Model, load_checkpoint, resolve_checkpoint};

/// One parameter's gradient, named and laid out as in the authors' `state_dict`.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedGradient {
    /// The authors' `state_dict` key.
    pub name: String,
    /// Their shape.
    pub shape: Vec<usize>,
    /// Row-major values in their layout.
    pub values: Vec<f32>,
}

/// The loss of one batch and every trainable parameter's gradient.
#[derive(Clone, Debug)]
pub struct LossGradients {
    /// `cross_entropy(y[:, -1, :], labels)`, mean over the batch.
    pub loss: f32,
    /// In a fixed order: the neuron's parameters first, the readout last.
    pub gradients: Vec<NamedGradient>,
}

/// What `loss.json` holds.
#[derive(Serialize)]
struct LossFile {
    loss: f32,
}

/// The loss and gradients of `model` (on an autodiff device) for `input` `[B,T,in]` and
/// class `labels` `[B]`.
pub fn last_step_loss_gradients(model: &Model, input: Tensor<3>, labels: Tensor<1, Int>) -> LossGradients {
    let logits = model.forward_last(input);
    let loss = CrossEntropyLossConfig::new().init(&logits.device()).forward(logits, labels);
    let loss_value = loss.clone().into_scalar::<f32>();
    let grads = loss.backward();
    let mut out = Collector { grads: &grads, gradients: Vec::new() };
    match model {
        Model::Recurrent(network) => {
            let layer = "neuron_layer";
            match &network.cell {
                Cell::Glifr(cell) => {
                    let h = cell.weight_lat.dims()[0];
                    out.add(&format!("{layer}.weight_iv"), &cell.weight_iv, None, false);
                    out.add(&format!("{layer}.weight_lat"), &cell.weight_lat, None, false);
                    out.add(&format!("{layer}.thresh"), &cell.thresh, Some(vec![1, h]), false);
                    out.add(&format!("{layer}.trans_k_m"), &cell.trans_k_m, Some(vec![1, h]), false);
                    if let Some(asc) = &cell.after_spike_currents {
                        let a = asc.a_j.shape().num_elements() / h;
                        out.add(&format!("{layer}.trans_k_j"), &asc.trans_k_j, Some(vec![a, 1, h]), false);
                        out.add(&format!("{layer}.trans_r_j"), &asc.trans_r_j, Some(vec![a, 1, h]), false);
                        out.add(&format!("{layer}.a_j"), &asc.a_j, Some(vec![a, 1, h]), false);
                    }
                }
                Cell::Rnn(rnn) => {
                    let h = rnn.hidden_size();
                    out.add(&format!("{layer}.weight_ih"), &rnn.weight_ih, None, false);
                    out.add(&format!("{layer}.weight_lat"), &rnn.weight_lat, None, false);
                    out.add(&format!("{layer}.bias"), &rnn.bias, Some(vec![1, h]), false);
                }
                Cell::Lstm(lstm) => {
                    out.add(&format!("{layer}.weight_ih"), &lstm.weight_ih, None, true);
                    out.add(&format!("{layer}.weight_hh"), &lstm.weight_hh, None, true);
                    out.add(&format!("{layer}.bias_ih"), &lstm.bias_ih, None, false);
                    out.add(&format!("{layer}.bias_hh"), &lstm.bias_hh, None, false);
                }
            }
            out.linear("output_linear", &network.readout);
        }
        Model::Elm(elm) => {
            out.add("_proto_w_s", &elm.synapse_weight, None, false);
            if elm.learn_memory_tau {
                out.add("_proto_tau_m", &elm.memory_tau, None, false);
            }
            for (i, layer) in elm.mlp.layers.iter().enumerate() {
                // The reference's `nn.Sequential` puts an activation between the linears.
                out.linear(&format!("mlp.network.{}", 2 * i), layer);
            }
            out.linear("w_y", &elm.readout);
        }
    }
    LossGradients { loss: loss_value, gradients: out.gradients }
}

struct Collector<'a> {
    grads: &'a Gradients,
    gradients: Vec<NamedGradient>,
}

impl Collector<'_> {
    /// Adds a trainable parameter's gradient (zeros when no path reaches it), reshaped to
    /// `shape` or transposed when asked.
    fn add<const D: usize>(
        &mut self,
        name: &str,
        param: &Param<Tensor<D>>,
        shape: Option<Vec<usize>>,
        transpose: bool,
    ) {
        if !param.is_require_grad() {
            return;
        }
        let value = param.val();
        let grad = value.grad(self.grads).unwrap_or_else(|| value.zeros_like());
        let (dims, values) = if transpose {
            let grad = grad.transpose();
            (grad.dims().to_vec(), grad.into_data())
        } else {
            (grad.dims().to_vec(), grad.into_data())
        };
        let values: Vec<f32> = values.convert::<f32>().try_into_vec().expect("f32 gradient");
        self.gradients.push(NamedGradient { name: name.to_string(), shape: shape.unwrap_or(dims), values });
    }

    /// `{prefix}.weight` `[out,in]` and `{prefix}.bias`, as `nn.Linear`.
    fn linear(&mut self, prefix: &str, linear: &burn::nn::Linear) {
        self.add(&format!("{prefix}.weight"), &linear.weight, None, true);
        if let Some(bias) = &linear.bias {
            self.add(&format!("{prefix}.bias"), bias, None, false);
        }
    }
}

/// Options of `neurozoo grads`.
#[derive(Clone, Debug)]
pub struct GradsOptions {
    /// Run the per-step path instead of the fused operation.
    pub per_step: bool,
    /// Write into an output folder that already holds files.
    pub force: bool,
}

/// `neurozoo grads`: reads the checkpoint, input and labels, and writes `loss.json` and one
/// `<name>.npy` per trainable parameter into `out`. Returns what it wrote.
pub fn grads_command(
    checkpoint: &Path,
    input: &Path,
    labels: &Path,
    out: &Path,
    device: &Device,
    options: &GradsOptions,
) -> Result<LossGradients> {
    engine::fsutil::ensure_output_folder(out, options.force)?;
    let dir = resolve_checkpoint(checkpoint)?;
    let (saved, model) = load_checkpoint(&dir, device)?;
    let model = if options.per_step { model.with_fused(false) } else { model };
    let x = read_model_input(input, saved.model.input_size.unwrap_or(0), device)?;
    let labels_values = read_class_labels(labels)?;
    ensure!(
        labels_values.len() == x.dims()[0],
        "{} holds {} labels; the input's batch is {}",
        labels.display(),
        labels_values.len(),
        x.dims()[0]
    );
    let classes = saved.model.output_size.unwrap_or(0);
    if let Some((i, l)) = labels_values.iter().enumerate().find(|(_, l)| **l as usize >= classes) {
        bail!("{}: label {i} is {l}, but the model has {classes} outputs (classes 0..{classes})", labels.display());
    }
    let batch = labels_values.len();
    let labels_tensor = Tensor::<1, Int>::from_data(TensorData::new(labels_values, [batch]), device);
    let result = last_step_loss_gradients(&model, x, labels_tensor);
    ensure!(result.loss.is_finite(), "the loss is {} (not finite); nothing written", result.loss);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for g in &result.gradients {
        write_npy(&out.join(format!("{}.npy", g.name)), &g.shape, &g.values)?;
    }
    let json = serde_json::to_string_pretty(&LossFile { loss: result.loss })?;
    engine::fsutil::write_atomic(&out.join("loss.json"), json.as_bytes())?;
    Ok(result)
}
