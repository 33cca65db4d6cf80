//! neurozoo and the authors' code, in both directions:
//!
//! - [`import`]: a GLIFS_ASC (GLIFR paper) Lightning checkpoint and its `hparams.yaml`;
//! - [`import_elm`]: an AaronSpieler/elmneuron state dict and its `model_config.json` (the 15
//!   released NeuronIO models among them);
//! - [`npy`]: NumPy arrays in and out;
//! - [`predict`]: a checkpoint run on a `.npy` input, its readout (and voltage or memory) out;
//! - [`grads`]: the loss gradients of one batch under the authors' `state_dict` names and in
//!   their layouts, to diff against a PyTorch run.
//!
//! Builds on `engine` (the model config, the checkpoint format), never the other way.

pub mod grads;
pub mod import;
pub mod import_elm;
pub mod npy;
pub mod predict;
