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
