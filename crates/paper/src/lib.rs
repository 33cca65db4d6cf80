//! The papers' analyses on neurozoo runs:
//!
//! - [`experiment`]: the GLIFR paper's tables (`lmnist-table`, `sine-table`, …): every model ×
//!   trials as one plan, trained or resumed, collected beside the paper's numbers;
//! - [`silence`]: the paper's silencing curves (accuracy as neurons are silenced);
//! - [`clusters`]: the paper's clustering of trained neuronal parameters;
//! - [`eval_neuronio`]: the ELM authors' NeuronIO evaluation of a checkpoint.
//!
//! Builds on `engine` (runs, checkpoints, evaluation, plots), never the other way.

pub mod clusters;
pub mod eval_neuronio;
pub mod experiment;
pub mod silence;
