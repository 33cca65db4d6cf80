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
//!
//! # In your own Burn model
//!
//! A GLIFR layer with its readout, from its configs; a batch; the state it ends in (which a
//! next segment can start from). The fused operation runs the sequence where the backend has
//! it (Flex, NdArray, wgpu), with the same numbers as the step-by-step path.
//!
//! ```
//! use burn::prelude::*;
//! use burn::tensor::Distribution;
//! use glifr::{Cell, GlifrConfig, RecurrentNetworkConfig, delay_steps};
//!
//! let device = Device::flex();
//! // The paper's LHetA on line-by-line MNIST: 28 inputs a step, 252 neurons with 2 after-spike
//! // currents, a lateral delay of 1 ms at dt = 0.05 ms (20 steps), 10 classes.
//! let layer = GlifrConfig::new(28, 252).with_num_ascs(2).with_dt(0.05).init(&device);
//! let network = RecurrentNetworkConfig::new(10)
//!     .with_delay_steps(delay_steps(1.0, 0.05))
//!     .init(Cell::Glifr(layer), &device);
//!
//! let rows = Tensor::<3>::random([4, 28, 28], Distribution::Uniform(0.0, 1.0), &device);
//! let readout = network.forward(rows.clone()); // every step's readout [B, T, classes]
//! assert_eq!(readout.dims(), [4, 28, 10]);
//!
//! let run = network.run_segment(rows, None, true);
//! assert_eq!(run.rates.dims(), [28, 4, 252]); // time-major rates
//! let end = run.end; // the voltage, after-spike currents and last 20 rates
//! assert_eq!(end.voltage.as_ref().unwrap().dims(), [4, 252]);
//! assert_eq!(end.after_spike_currents.as_ref().unwrap().dims(), [2, 4, 252]);
//! ```
//!
//! `examples/sine.rs` trains one on the paper's sine task with nothing but this crate and Burn
//! (`cargo run --release -p glifr --example sine`).

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
