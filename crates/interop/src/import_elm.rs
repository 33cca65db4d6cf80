//! `neurozoo import --from elmneuron`: an AaronSpieler/elmneuron `ELM` (v1 or v2) state dict
//! and its `model_config.json` (constructor arguments, as the 15 released NeuronIO models ship
//! them) into our checkpoint format.
//!
//! Keys: `_proto_w_s [d_s]`, `tau_s [d_s]` (v1) or `tau_b [d_b]` (v2), `_proto_tau_m [d_m]`,
//! `mlp.network.{0,2,…,2L}.{weight,bias}`, `w_y.{weight,bias}`, and for routed Branch-ELMs
//! `input_to_synapse_indices` (int64) and `valid_indices_mask` (bool, or int64 ones for random
//! routing). An unrouted model stores those two as empty tensors. Routing indices are taken
//! from the file, never regenerated (random routing cannot be).

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::prelude::*;
use elm::{Elm, ElmConfig, ElmVersion, MlpActivation, RoutingKind, SynapseRouting};
use serde::Deserialize;

use crate::import::StateDict;
use engine::config::{CellConfig, ElmNeuronConfig, ModelConfig};
use engine::model::{Model, SavedModel, save_checkpoint};

/// The reference `ELM.__init__` arguments (`model_config.json`); absent keys take the
/// constructor's defaults, unknown keys are refused as the constructor would.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElmneuronConfig {
    /// Inputs.
    pub num_input: usize,
    /// Outputs.
    pub num_output: usize,
    /// d_m.
    #[serde(default = "hundred")]
    pub num_memory: usize,
    /// λ.
    #[serde(default = "five")]
    pub lambda_value: f64,
    /// MLP hidden layers.
    #[serde(default = "one_usize")]
    pub mlp_num_layers: usize,
    /// MLP width (None or 0: 2·d_m).
    #[serde(default)]
    pub mlp_hidden_size: Option<usize>,
    /// `relu` or `silu`.
    #[serde(default = "relu")]
    pub mlp_activation: String,
    /// v1 τ_s.
    #[serde(default)]
    pub tau_s_value: Option<f64>,
    /// v2 τ_b.
    #[serde(default)]
    pub tau_b_value: Option<f64>,
    /// τ_m lower bound.
    #[serde(default = "one")]
    pub memory_tau_min: f64,
    /// τ_m upper bound.
    #[serde(default = "thousand")]
    pub memory_tau_max: f64,
    /// Whether τ_m trained.
    #[serde(default)]
    pub learn_memory_tau: bool,
    /// Initial w_s.
    #[serde(default = "half")]
    pub w_s_value: f64,
    /// Branches (None: one per input).
    #[serde(default)]
    pub num_branch: Option<usize>,
    /// Synapses per branch.
    #[serde(default = "one_usize")]
    pub num_synapse_per_branch: usize,
    /// `null`, `random_routing` or `neuronio_routing`.
    #[serde(default)]
    pub input_to_synapse_routing: Option<String>,
    /// Δt.
    #[serde(default = "one")]
    pub delta_t: f64,
}

// The constructor's defaults are ours: `ElmConfig`'s defaults are the reference constructor's.
fn reference() -> ElmConfig {
    ElmConfig::new(1, 1)
}
fn hundred() -> usize {
    reference().memory_size
}
fn five() -> f64 {
    reference().lambda
}
fn one_usize() -> usize {
    reference().mlp_layers
}
fn one() -> f64 {
    reference().memory_tau_min
}
fn thousand() -> f64 {
    reference().memory_tau_max
}
fn half() -> f64 {
    reference().synapse_weight_init
}
fn relu() -> String {
    "relu".into()
}

impl ElmneuronConfig {
    /// Reads and checks `model_config.json`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = engine::fsutil::read_to_string_bounded(path, engine::fsutil::MAX_TEXT_BYTES)?;
        serde_json::from_str(&text).with_context(|| format!("{} is not an elmneuron model_config.json", path.display()))
    }

    /// Our model config for these constructor arguments.
    pub fn model_config(&self, version: ElmVersion, origin: &Path) -> Result<ModelConfig> {
        let routing = match self.input_to_synapse_routing.as_deref() {
            None => RoutingKind::None,
            Some("random_routing") => RoutingKind::Random,
            Some("neuronio_routing") => RoutingKind::Neuronio,
            Some(other) => bail!(
                "{}: unknown input_to_synapse_routing {other:?}; the reference knows null, \"random_routing\" and \"neuronio_routing\"",
                origin.display()
            ),
        };
        let mlp_activation = match self.mlp_activation.as_str() {
            "relu" => MlpActivation::Relu,
            "silu" => MlpActivation::Silu,
            other => bail!("{}: unknown mlp_activation {other:?}; expected \"relu\" or \"silu\"", origin.display()),
        };
        let synapse_tau = match version {
            ElmVersion::V1 => {
                ensure!(
                    self.tau_b_value.is_none(),
                    "{}: tau_b_value is a v2 argument, but this is a v1 model",
                    origin.display()
                );
                self.tau_s_value.unwrap_or(reference().synapse_tau)
            }
            ElmVersion::V2 => {
                ensure!(
                    self.tau_s_value.is_none(),
                    "{}: tau_s_value is a v1 argument, but this is a v2 model",
                    origin.display()
                );
                self.tau_b_value.unwrap_or(reference().synapse_tau)
            }
        };
        let elm = ElmConfig::new(self.num_input, self.num_output)
            .with_version(version)
            .with_lambda(self.lambda_value)
            .with_mlp_layers(self.mlp_num_layers)
            // The reference treats 0 like None (`if mlp_hidden_size`).
            .with_mlp_hidden_size(self.mlp_hidden_size.filter(|&h| h > 0))
            .with_mlp_activation(mlp_activation)
            .with_synapse_tau(synapse_tau)
            .with_memory_tau_min(self.memory_tau_min)
            .with_memory_tau_max(self.memory_tau_max)
            .with_learn_memory_tau(self.learn_memory_tau)
            .with_synapse_weight_init(self.w_s_value)
            .with_num_branch(self.num_branch)
            .with_synapses_per_branch(self.num_synapse_per_branch)
            .with_routing(routing);
        Ok(ModelConfig {
            cell: CellConfig::Elm(ElmNeuronConfig { elm }),
            hidden_size: self.num_memory,
            input_size: Some(self.num_input),
            output_size: Some(self.num_output),
            dt: Some(self.delta_t),
            input_dropout: 0.0,
            input_dropout_in_eval: true,
            fused: true,
        })
    }
}

/// Reads an elmneuron state dict + config into an ELM (and its config) on `device`. The
/// version is `version` when given, else read from the keys (`tau_s`: v1, `tau_b`: v2).
pub fn read_elmneuron(
    state_path: &Path,
    config_path: &Path,
    version: Option<u8>,
    device: &Device,
) -> Result<(ModelConfig, Elm)> {
    let reference = ElmneuronConfig::read(config_path)?;
    let mut state = StateDict::read(state_path, None)?;
    let found = match (state.shape("tau_s").is_some(), state.shape("tau_b").is_some()) {
        (true, false) => Some(ElmVersion::V1),
        (false, true) => Some(ElmVersion::V2),
        _ => None,
    };
    let version = match (version, found) {
        (Some(1), Some(ElmVersion::V2)) | (Some(2), Some(ElmVersion::V1)) => bail!(
            "{}: --elm-version {} was given, but the state dict is a v{} ELM (it has `{}`)",
            state_path.display(),
            version.unwrap_or(0),
            if found == Some(ElmVersion::V1) { 1 } else { 2 },
            if found == Some(ElmVersion::V1) { "tau_s" } else { "tau_b" }
        ),
        (Some(1), _) => ElmVersion::V1,
        (Some(2), _) => ElmVersion::V2,
        (Some(v), _) => bail!("--elm-version {v}: the reference has versions 1 and 2"),
        (None, Some(v)) => v,
        (None, None) => bail!(
            "{}: neither `tau_s` (ELM v1) nor `tau_b` (ELM v2) is present; this is not an elmneuron ELM state dict",
            state_path.display()
        ),
    };
    let config = reference.model_config(version, config_path)?;
    let (input, output) = (reference.num_input, reference.num_output);
    let elm = config.elm_config(input, output).context("an elmneuron config describes an ELM")?;
    let elm = elm.init(device).map_err(|e| anyhow::anyhow!("{}: {e}", config_path.display()))?;
    // A state dict of another model (or an edited config) shows up as a shape or key mismatch
    // below; the user must learn that the two files disagree, not only what one of them holds.
    let elm =
        fill_elm(elm, &mut state, version, (input, output), reference.learn_memory_tau, device).with_context(|| {
            format!("{} does not hold the ELM that {} describes", state_path.display(), config_path.display())
        })?;
    let learned = reference.learn_memory_tau;
    Ok((config, elm.with_memory_tau_learned(learned)))
}

/// Moves the state dict's tensors into `elm`, checking every shape and that none is left over.
fn fill_elm(
    mut elm: Elm,
    state: &mut StateDict,
    version: ElmVersion,
    (input, output): (usize, usize),
    learn_memory_tau: bool,
    device: &Device,
) -> Result<Elm> {
    let state_path = state.origin.clone();
    let (d_m, d_b, d_s) = (elm.memory_size(), elm.num_branch, elm.num_synapses());
    elm.synapse_weight = state.param("_proto_w_s", [d_s], device)?;
    elm.trace_tau = match version {
        ElmVersion::V1 => state.param("tau_s", [d_s], device)?,
        ElmVersion::V2 => state.param("tau_b", [d_b], device)?,
    };
    let stored_tau = state.take("_proto_tau_m", &[d_m])?;
    if !learn_memory_tau {
        // A warning, not a refusal: the reference loads any values into a frozen τ_m (our own
        // fixtures perturb it so that no value is an init default), and its outputs follow
        // the state dict. But the likelier cause is a model_config.json of another model.
        if let Err(e) = check_frozen_memory_tau(&stored_tau, elm.memory_tau_min, elm.memory_tau_max, &state_path) {
            eprintln!("warning: {e}; if model_config.json is not this state dict's own, the imported model is wrong");
        }
    }
    elm.memory_tau = burn::module::Param::from_data(TensorData::new(stored_tau, [d_m]), device);
    let layers = elm.mlp.layers.len();
    let mut width = d_b + d_m;
    for (i, layer) in elm.mlp.layers.iter_mut().enumerate() {
        let out = if i + 1 == layers { d_m } else { layer.weight.dims()[1] };
        *layer = state.linear(&format!("mlp.network.{}", 2 * i), width, out, device)?;
        width = out;
    }
    if let Some(extra) = state.tensors.keys().find(|k| k.starts_with("mlp.network.")) {
        bail!("{state_path}: `{extra}` is beyond the {} hidden layer(s) declared (mlp_num_layers)", layers - 1);
    }
    elm.readout = state.linear("w_y", d_m, output, device)?;
    elm.routing = read_routing(state, elm.routing.is_some(), input, d_s, device)?;
    state.ensure_consumed("an elmneuron ELM")?;
    Ok(elm)
}

/// A τ_m the reference does not learn (`learn_memory_tau = false`, its default) stays at its
/// init, which the config's bounds fix (`memory_tau_init`: a logspace between the bounds). So
/// a stored `_proto_tau_m` whose τ_m is not that init most likely means the config belongs to
/// another model: a different τ_max once changed outputs by up to 3.9 without a word. Compared as τ_m
/// in ms, not as the stored logit: at the upper bound the logit is inf in the reference's
/// current float32 code and 16.09 in the released models (one f32 step below 150 ms), the
/// same τ_m. (A learned τ_m, the MLP's activation, Δt and λ cannot be checked
/// against a state dict; see the README.)
fn check_frozen_memory_tau(stored: &[f32], tau_min: f64, tau_max: f64, origin: &str) -> Result<()> {
    let tau = |logit: f32| tau_min + (tau_max - tau_min) / (1.0 + (-(logit as f64)).exp());
    let expected = elm::memory_tau_init(stored.len(), tau_min, tau_max);
    for (i, (&found, &wanted)) in stored.iter().zip(&expected).enumerate() {
        let (found_ms, wanted_ms) = (tau(found), tau(wanted));
        ensure!(
            (found_ms - wanted_ms).abs() <= 1e-4 * wanted_ms.max(1.0),
            "{origin}: `_proto_tau_m`[{i}] = {found} is τ_m = {found_ms:.6} ms under memory_tau_min = {tau_min} and \
             memory_tau_max = {tau_max}, but with learn_memory_tau false τ_m stays at its init, {wanted_ms:.6} ms there"
        );
    }
    Ok(())
}

fn read_routing(
    state: &mut StateDict,
    routed: bool,
    input: usize,
    synapses: usize,
    device: &Device,
) -> Result<Option<SynapseRouting>> {
    let origin = state.origin.clone();
    if !routed {
        for key in ["input_to_synapse_indices", "valid_indices_mask"] {
            if let Some(shape) = state.take_shape(key) {
                ensure!(
                    shape.iter().product::<usize>() == 0,
                    "{origin}: `{key}` has shape {shape:?}, but model_config.json declares no routing"
                );
            }
        }
        return Ok(None);
    }
    let (shape, indices) = state.take_integers("input_to_synapse_indices")?;
    ensure!(shape == [synapses], "{origin}: `input_to_synapse_indices` has shape {shape:?}, expected [{synapses}]");
    let (shape, mask) = state.take_integers("valid_indices_mask")?;
    ensure!(shape == [synapses], "{origin}: `valid_indices_mask` has shape {shape:?}, expected [{synapses}]");
    let indices = indices
        .iter()
        .map(|&i| usize::try_from(i).ok().filter(|&i| i < input))
        .collect::<Option<Vec<usize>>>()
        .with_context(|| format!("{origin}: `input_to_synapse_indices` holds an index outside 0..{input}"))?;
    ensure!(mask.iter().all(|&m| m == 0 || m == 1), "{origin}: `valid_indices_mask` must hold only 0 and 1");
    let mask: Vec<bool> = mask.iter().map(|&m| m == 1).collect();
    Ok(Some(SynapseRouting::new(&indices, &mask, device)))
}

/// `neurozoo import --from elmneuron`: reads the state dict and config, writes our checkpoint,
/// and returns the model.
pub fn import_elmneuron(
    state_path: &Path,
    config_path: &Path,
    version: Option<u8>,
    out: &Path,
) -> Result<(ModelConfig, Model)> {
    let device = engine::device::DeviceChoice::host().device();
    let (config, elm) = read_elmneuron(state_path, config_path, version, &device)?;
    let saved = SavedModel { origin: format!("elmneuron state dict {}", state_path.display()), model: config.clone() };
    let model = Model::Elm(elm);
    save_checkpoint(out, &saved, &model)?;
    Ok((config, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frozen τ_m passes as its own init, also with the released models' finite logit at the
    /// upper bound (16.0943 where the reference's current code stores inf), and is caught when
    /// the config's bounds are another model's (τ_max 1000 read as 150) or a value moved.
    #[test]
    fn a_frozen_memory_tau_is_checked_against_the_configs_bounds() {
        let init = elm::memory_tau_init(10, 1.0, 150.0);
        assert!(init[9].is_infinite(), "the float32 init reaches the bound: {}", init[9]);
        check_frozen_memory_tau(&init, 1.0, 150.0, "s.pt").unwrap();
        let mut released = init.clone();
        released[9] = 16.094301;
        check_frozen_memory_tau(&released, 1.0, 150.0, "s.pt").unwrap();
        let other = elm::memory_tau_init(10, 1.0, 1000.0);
        let e = check_frozen_memory_tau(&other, 1.0, 150.0, "s.pt").unwrap_err().to_string();
        assert!(e.starts_with("s.pt: `_proto_tau_m`[1] = "), "{e}");
        assert!(e.contains("memory_tau_max = 150") && e.contains("stays at its init, 1.744971 ms"), "{e}");
        let mut moved = init;
        moved[4] += 0.3;
        let e = check_frozen_memory_tau(&moved, 1.0, 150.0, "s.pt").unwrap_err().to_string();
        assert!(e.contains("`_proto_tau_m`[4]"), "{e}");
    }
}
