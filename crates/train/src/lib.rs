//! The `neurozoo` binary's library: config → model + task → training, evaluation, import,
//! prediction and benchmarks. `main.rs` is only the command line over these modules, so the
//! integration tests drive the same code.

pub mod bench;
pub mod clusters;
pub mod config;
pub mod data;
pub mod data_parallel;
pub mod device;
pub mod eval_neuronio;
pub mod evaluate;
pub mod experiment;
pub mod fsutil;
pub mod generate;
pub mod grads;
pub mod import;
pub mod import_elm;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod npy;
pub mod optim;
pub mod plan;
pub mod plot;
pub mod predict;
pub mod progress;
pub mod recompute;
pub mod runner;
pub mod silence;
pub mod slurm;
pub mod sweep;
