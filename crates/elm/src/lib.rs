//! Expressive Leaky Memory (ELM) neurons of Spieler et al., ICLR 2024, as Burn modules, exact
//! to the authors' code (AaronSpieler/elmneuron @ `52e68a6`).
//!
//! * [`elm`]: the ELM neuron (v1 and v2), vanilla or Branch-ELM, with its readout.
//! * [`routing`]: how a Branch-ELM's synapses read the inputs (none, random, NeuronIO).
//! * [`mlp`]: the integration MLP.
//! * [`fused`]: the memory recurrence as one operation with a hand-written backward pass
//!   (its CPU code in [`fused_host`], its GPU kernels in `fused_cube`); the ELM takes it
//!   where it can.
//!
//! Pure model code: no I/O. Modules are backend-generic (Burn 0.22 tensors carry their
//! backend in the device).
//!
//! # In your own Burn model
//!
//! An ELM neuron with its readout, from its config; a batch; the state it ends in.
//!
//! ```
//! use burn::prelude::*;
//! use burn::tensor::Distribution;
//! use elm::{ElmConfig, ElmVersion};
//!
//! let device = Device::flex();
//! // A vanilla ELM v2 with 64 memory units and learned timescales, 700 inputs, 20 classes.
//! let neuron = ElmConfig::new(700, 20)
//!     .with_memory_size(64)
//!     .with_learn_memory_tau(true)
//!     .with_version(ElmVersion::V2)
//!     .init(&device)
//!     .expect("a valid config");
//!
//! let spikes = Tensor::<3>::random([2, 100, 700], Distribution::Bernoulli(0.05), &device);
//! let readout = neuron.forward(spikes.clone()); // every step's readout [B, T, classes]
//! assert_eq!(readout.dims(), [2, 100, 20]);
//! let end = neuron.run_to_end(spikes, None); // the trace and memory after the last step
//! assert_eq!(end.memory.dims(), [2, 64]);
//! ```
//!
//! `examples/sequence.rs` trains one on a toy task with nothing but this crate and Burn
//! (`cargo run --release -p elm --example sequence`).

pub mod elm;
pub mod fused;
#[cfg(feature = "wgpu")]
pub mod fused_cube;
pub mod fused_host;
pub mod mlp;
pub mod routing;

pub use elm::{Elm, ElmConfig, ElmState, ElmTrace, ElmVersion, StepCoefficients, memory_tau_init};
pub use mlp::{Mlp, MlpActivation};
pub use routing::{RoutingKind, SynapseRouting};

/// A configuration or checkpoint the ELM cannot be built from.
#[derive(Debug, thiserror::Error)]
pub enum ElmError {
    /// Sizes or values that do not make a model; the message names the field.
    #[error("invalid ELM configuration: {0}")]
    Invalid(String),
}
