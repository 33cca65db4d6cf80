//! GLIFR rate neurons and the baselines of Winston et al., Neural Computation 2023, as Burn
//! modules, exact to the authors' code (AllenInstitute/GLIFS_ASC @ `82ea3e22`).
//!
//! * [`glifr`]: the GLIFR cell, its homogeneous and heterogeneous inits.
//! * [`baselines`]: the tanh RNN and LSTM cells the paper compares against.
//! * [`analysis`]: per-neuron learned parameters and f–I curves (the paper's §3.8).
//! * [`network`]: input → recurrent layer (delay, dropout, silencing) → per-step readout.
//! * [`fused`]: a whole GLIFR sequence as one operation with a hand-written backward pass
//!   (its CPU code in [`fused_host`], its GPU kernels in `fused_cube`); the network takes it
//!   where it can.
//! * [`fused_baselines`]: the same for the RNN and LSTM (CPU code in [`fused_baselines_host`]).
//!
//! Pure model code: no I/O. Modules are backend-generic (Burn 0.22 tensors carry their
//! backend in the device), so the same model runs on Flex, NdArray or wgpu.

pub mod analysis;
pub mod baselines;
pub mod fused;
pub mod fused_baselines;
pub mod fused_baselines_host;
#[cfg(feature = "wgpu")]
pub mod fused_cube;
pub mod fused_host;
pub mod glifr;
pub mod network;

pub use baselines::{Lstm, LstmConfig, LstmState, Rnn, RnnConfig};
pub use glifr::{
    AfterSpikeCurrentParams, AscCoefficients, Glifr, GlifrConfig, GlifrState, MembraneLeakInit, StepCoefficients,
    resample_elements,
};
pub use network::{Cell, NetworkState, RecurrentNetwork, RecurrentNetworkConfig, SegmentRun, Trace, delay_steps};
