//! The ELM's integration MLP (`modeling_utils.py:39-68`): `layers` hidden Linear layers of
//! equal width, each followed by ReLU or SiLU, then a Linear to the memory size. With zero
//! hidden layers it is a single Linear (the paper's "linear integration" ablations).
//!
//! Every Linear is initialised as PyTorch's `nn.Linear`: weight and bias ~ U(±1/√fan_in).

use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, silu};
use serde::{Deserialize, Serialize};

/// The hidden layers' nonlinearity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MlpActivation {
    /// `max(0, x)`, the reference default.
    #[default]
    Relu,
    /// `x·σ(x)`, used by the authors' best NeuronIO model.
    Silu,
}

/// Hidden layers then an output layer, weights stored `[in,out]` (Burn's layout).
#[derive(Module, Debug)]
pub struct Mlp {
    /// The hidden layers followed by the output layer.
    pub layers: Vec<Linear>,
    /// Nonlinearity after every layer but the last.
    #[module(skip)]
    pub activation: MlpActivation,
}

/// A PyTorch-initialised `nn.Linear(input, output)`.
pub fn torch_linear(input: usize, output: usize, device: &Device) -> Linear {
    let bound = 1.0 / (input as f64).sqrt();
    LinearConfig::new(input, output).with_initializer(Initializer::Uniform { min: -bound, max: bound }).init(device)
}

impl Mlp {
    /// `input → hidden (×layers) → output`.
    pub fn new(
        input: usize,
        hidden: usize,
        output: usize,
        layers: usize,
        activation: MlpActivation,
        device: &Device,
    ) -> Self {
        let mut linears = Vec::with_capacity(layers + 1);
        let mut width = input;
        for _ in 0..layers {
            linears.push(torch_linear(width, hidden, device));
            width = hidden;
        }
        linears.push(torch_linear(width, output, device));
        Self { layers: linears, activation }
    }

    /// Applies the MLP to `[B,in]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.after_first_layer(self.layers[0].forward(x))
    }

    /// The rest of the MLP from the first layer's output (before its nonlinearity), for a
    /// caller that computes the first product itself (the ELM folds part of it over time).
    pub fn after_first_layer(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.layers[1..] {
            x = match self.activation {
                MlpActivation::Relu => relu(x),
                MlpActivation::Silu => silu(x),
            };
            x = layer.forward(x);
        }
        x
    }

    /// Number of hidden layers.
    pub fn hidden_layers(&self) -> usize {
        self.layers.len() - 1
    }
}
