//! neurozoo's engine: a run config becomes a model and a task, and the model trains.
//!
//! - **The run**: [`config`] (the TOML file, every key checked; `[model]` a tagged enum per
//!   kind), [`device`] (Flex, NdArray or wgpu, chosen at run time), [`data`] (the task's
//!   datasets).
//! - **The model**: [`model`] (building any model of the zoo, and the checkpoint format).
//! - **A training step**: [`loss`], [`data_parallel`] (one batch split across threads, as DDP
//!   replicas), [`recompute`] (BPTT by recomputation in segments), [`optim`].
//! - **The loop**: [`runner`] (resume or start, train an epoch, evaluate, commit, summarise),
//!   [`evaluate`], [`metrics`] (`metrics.csv`), [`plot`], [`progress`].
//! - **Many runs**: [`plan`] (the runs of a table or sweep, with their dependencies),
//!   [`sweep`], [`slurm`] (a plan as job arrays).
//! - [`bench`]: a training step timed, its FLOPs, memory and kernel launches.
//! - [`fsutil`]: atomic writes, one writer per run, bounded reads.
//!
//! Dependencies point one way: `interop` (the authors' formats, `.npy`) and `paper` (the
//! papers' analyses) build on this crate, and the `neurozoo` binary (crate `train`) on all
//! three; nothing here knows of them.

pub mod bench;
pub mod config;
pub mod data;
pub mod data_parallel;
pub mod device;
pub mod evaluate;
pub mod fsutil;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod plan;
pub mod plot;
pub mod progress;
pub mod recompute;
pub mod runner;
pub mod slurm;
pub mod sweep;
