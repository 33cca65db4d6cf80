//! Building models from the config, and our checkpoint format: a directory holding
//! `model.toml` (the resolved [`ModelConfig`], enough to rebuild the module) and `model.bpk`
//! (the parameters, Burn's burnpack format).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use burn::prelude::*;
use burn::store::RecordError;
use elm::Elm;
use glifr::{
    Cell, GlifrConfig, LstmConfig, MembraneLeakInit, RecurrentNetwork, RecurrentNetworkConfig, RnnConfig, delay_steps,
};
use serde::{Deserialize, Serialize};

use crate::config::{CellConfig, GlifrCellConfig, InitKind, LeakInit, ModelConfig, ModelKind};
use crate::fsutil::write_atomic;

/// File name of the model description in a checkpoint directory.
pub const MODEL_TOML: &str = "model.toml";
/// File name of the parameters in a checkpoint directory.
pub const MODEL_WEIGHTS: &str = "model.bpk";

/// What `model.toml` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedModel {
    /// Where the weights came from (a run, or an imported file).
    pub origin: String,
    /// The model, with `input_size` and `output_size` filled in.
    pub model: ModelConfig,
}

/// Any model of the zoo: what training, checkpoints, `predict` and `bench` handle.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Model {
    /// GLIFR, RNN or LSTM layer with a per-step readout.
    Recurrent(RecurrentNetwork),
    /// An ELM neuron with its readout.
    Elm(Elm),
}

/// Readout (and, where the model has them, internal variables) of every step.
#[derive(Clone, Debug)]
pub struct ModelTrace {
    /// `[B,T,out]`.
    pub output: Tensor<3>,
    /// GLIFR membrane voltage `[B,T,H]`.
    pub voltage: Option<Tensor<3>>,
    /// ELM memory `[B,T,d_m]`.
    pub memory: Option<Tensor<3>>,
}

impl Model {
    /// The readout at every step, `[B,T,in] → [B,T,out]`.
    pub fn forward(&self, input: Tensor<3>) -> Tensor<3> {
        match self {
            Model::Recurrent(n) => n.forward(input),
            Model::Elm(e) => e.forward(input),
        }
    }

    /// The readout at the last step, `[B,out]`.
    pub fn forward_last(&self, input: Tensor<3>) -> Tensor<2> {
        match self {
            Model::Recurrent(n) => n.forward_last(input),
            Model::Elm(e) => e.forward_last(input),
        }
    }

    /// Readout and internal variables at every step.
    pub fn forward_traced(&self, input: Tensor<3>) -> ModelTrace {
        match self {
            Model::Recurrent(n) => {
                let t = n.forward_traced(input);
                ModelTrace { output: t.output, voltage: t.voltage, memory: None }
            }
            Model::Elm(e) => {
                let t = e.forward_traced(input);
                ModelTrace { output: t.output, voltage: None, memory: Some(t.memory) }
            }
        }
    }

    /// Parameters that train, counted as the paper (GLIFR) or reference code (ELM) counts them.
    pub fn num_trainable_params(&self) -> usize {
        match self {
            Model::Recurrent(n) => n.num_trainable_params(),
            Model::Elm(e) => e.num_trainable_params(),
        }
    }

    /// Sets GLIFR's σ_V (a no-op for the other models).
    pub fn with_sigma_v(self, sigma_v: f64) -> Self {
        match self {
            Model::Recurrent(mut n) => {
                if let Cell::Glifr(cell) = &mut n.cell {
                    cell.sigma_v = sigma_v;
                }
                Model::Recurrent(n)
            }
            other => other,
        }
    }

    /// Whether the recurrence may run as one fused operation (same numbers; `false` keeps the
    /// per-step path, the reference in the tests).
    pub fn with_fused(self, fused: bool) -> Self {
        match self {
            Model::Recurrent(n) => Model::Recurrent(n.with_fused(fused)),
            Model::Elm(e) => Model::Elm(e.with_fused(fused)),
        }
    }

    /// Bytes the fused operation keeps for its backward pass (see each model's
    /// `fused_kept_bytes`), or `None` where the recurrence runs step by step on `device`.
    pub fn fused_kept_bytes(&self, device: &Device, batch: usize, steps: usize) -> Option<usize> {
        match self {
            Model::Recurrent(n) => n.takes_fused_path(device).then(|| n.fused_kept_bytes(batch, steps)),
            Model::Elm(e) => e.takes_fused_path(device).then(|| e.fused_kept_bytes(batch, steps)),
        }
    }

    /// How the recurrence runs on `device`: `"fused"` (one operation per sequence) or
    /// `"per-step (…why…)"`. Training and `info` print it, so a slow path is never silent.
    pub fn execution_path(&self, device: &Device) -> String {
        let reason = match self {
            Model::Recurrent(n) if n.takes_fused_path(device) => return "fused (one operation per sequence)".into(),
            Model::Recurrent(n) if !n.fused => "model.fused = false",
            Model::Recurrent(n) if !n.backend_has_fused(device) => {
                "no fused kernel for this model on this backend yet (GPU: GLIFR with H ≤ 512)"
            }
            Model::Recurrent(_) => "dropout > 0 is not covered by the fused operation",
            Model::Elm(e) if e.takes_fused_path(device) => return "fused (one operation per sequence)".into(),
            Model::Elm(e) if !e.fused => "model.fused = false",
            Model::Elm(_) if !elm::fused::fused_supported(device) => "no fused ELM kernel on this backend yet",
            Model::Elm(_) => "per-synapse traces are not covered by the fused operation",
        };
        format!("per-step ({reason})")
    }

    /// The recurrent network, for GLIFR-specific operations (silencing, het init).
    pub fn as_recurrent(&self) -> Option<&RecurrentNetwork> {
        match self {
            Model::Recurrent(n) => Some(n),
            Model::Elm(_) => None,
        }
    }
}

/// Builds a freshly initialised model. `seed` draws random routing; the weights come from the
/// device's RNG (seed it first).
pub fn build_model(model: &ModelConfig, seed: u64, device: &Device) -> Result<Model> {
    if model.kind() == ModelKind::Elm {
        let input = model.input_size.context("model.input_size is not resolved")?;
        let output = model.output_size.context("model.output_size is not resolved")?;
        let config = model.elm_config(input, output).context("an ELM config")?;
        let elm = config.with_routing_seed(seed).init(device).context("building the ELM")?;
        return Ok(Model::Elm(elm.with_fused(model.fused)));
    }
    Ok(Model::Recurrent(build_network(model, device)?))
}

/// Builds a freshly initialised GLIFR/RNN/LSTM network (the `het` init resamples from
/// `model.het_source`).
pub fn build_network(model: &ModelConfig, device: &Device) -> Result<RecurrentNetwork> {
    let input = model.input_size.context("model.input_size is not resolved")?;
    let output = model.output_size.context("model.output_size is not resolved")?;
    let cell = match &model.cell {
        CellConfig::Glifr(glifr) => Cell::Glifr(glifr_config(glifr, model, input).init(device)),
        CellConfig::Rnn(_) => Cell::Rnn(RnnConfig::new(input, model.hidden_size).init(device)),
        CellConfig::Lstm(lstm_config) => {
            let mut lstm = LstmConfig::new(input, model.hidden_size).init(device);
            if let Some([lo, hi]) = lstm_config.chrono_init {
                lstm = lstm.with_chrono_init(lo, hi);
            }
            Cell::Lstm(lstm)
        }
        CellConfig::Elm(_) => bail!("an ELM is not a recurrent network of cells; use build_model"),
    };
    let mut network = RecurrentNetworkConfig::new(output)
        .with_delay_steps(delay_steps(model.synaptic_delay_ms(), model.dt()))
        .with_dropout(model.dropout())
        .init(cell, device)
        .with_fused(model.fused);
    if let Some(glifr) = model.glifr().filter(|g| g.init == InitKind::Het) {
        let source = glifr.het_source.as_ref().context("model.het_source is required for het init")?;
        let (source_config, trained) =
            load_checkpoint(&resolve_checkpoint(source)?, device).context("loading the het init source")?;
        ensure!(
            source_config.model.kind() == ModelKind::Glifr && source_config.model.num_ascs() == glifr.num_ascs,
            "het init source {} is a {:?} with {} ASCs; this model needs a GLIFR with {} ASCs",
            source.display(),
            source_config.model.kind(),
            source_config.model.num_ascs(),
            glifr.num_ascs
        );
        let Some(trained) = trained.as_recurrent() else { unreachable!("kinds checked above") };
        if let (Cell::Glifr(mine), Cell::Glifr(theirs)) = (network.cell, &trained.cell) {
            network.cell = Cell::Glifr(mine.resampled_from(theirs, device));
        } else {
            unreachable!("kinds checked above");
        }
    }
    Ok(apply_glifr_trainability(network, model))
}

fn glifr_config(glifr: &GlifrCellConfig, model: &ModelConfig, input: usize) -> GlifrConfig {
    GlifrConfig::new(input, model.hidden_size)
        .with_num_ascs(glifr.num_ascs)
        .with_dt(model.dt())
        .with_tau(glifr.tau)
        .with_sigma_v(glifr.sigma_v)
        .with_resistance(glifr.resistance)
        .with_i0(glifr.i0)
        .with_v_reset(glifr.v_reset)
        .with_membrane_leak_init(match glifr.membrane_leak_init {
            LeakInit::Reference => MembraneLeakInit::Reference,
            LeakInit::Exact => MembraneLeakInit::Exact,
        })
}

/// Freezes GLIFR's neuronal parameters when the config says they are fixed (Hom, FHet).
pub fn apply_glifr_trainability(mut network: RecurrentNetwork, model: &ModelConfig) -> RecurrentNetwork {
    if let Some(glifr) = model.glifr()
        && let Cell::Glifr(cell) = network.cell
    {
        network.cell = Cell::Glifr(cell.with_neuronal_params_learned(glifr.learn_neuronal_params));
    }
    network
}

/// Sets which parameters train as the config says (GLIFR neuronal parameters, ELM τ_m).
pub fn apply_trainability(model: Model, config: &ModelConfig) -> Model {
    match model {
        Model::Recurrent(n) => Model::Recurrent(apply_glifr_trainability(n, config)),
        Model::Elm(e) => {
            let learned = config.elm().is_some_and(|options| options.learn_memory_tau);
            Model::Elm(e.with_memory_tau_learned(learned))
        }
    }
}

/// Writes a checkpoint directory (`model.toml` + `model.bpk`), each file atomically.
pub fn save_checkpoint(dir: &Path, saved: &SavedModel, network: &Model) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = toml::to_string_pretty(saved).context("serialising model.toml")?;
    write_atomic(&dir.join(MODEL_TOML), text.as_bytes())?;
    let weights = dir.join(MODEL_WEIGHTS);
    // The inner module is saved, not the enum, so parameter paths do not carry the variant
    // name and checkpoints written before the ELM existed still load.
    let written = match network {
        Model::Recurrent(n) => n.clone().save_file(&weights),
        Model::Elm(e) => e.clone().save_file(&weights),
    };
    written.map_err(|e| anyhow::anyhow!("cannot write {}: {e}", weights.display()))?;
    Ok(())
}

/// Reads a checkpoint directory back onto `device`.
pub fn load_checkpoint(dir: &Path, device: &Device) -> Result<(SavedModel, Model)> {
    let toml_path = dir.join(MODEL_TOML);
    ensure!(toml_path.is_file(), "{} is not a neurozoo checkpoint (no {} in it)", dir.display(), MODEL_TOML);
    let text = crate::fsutil::read_to_string_bounded(&toml_path, crate::fsutil::MAX_TEXT_BYTES)?;
    let saved: SavedModel = toml::from_str(&text).with_context(|| format!("invalid {}", toml_path.display()))?;
    // Checked before anything is allocated: an edited or damaged model.toml must not ask for a
    // model that cannot exist (or exhaust memory building it).
    let sizes = saved.model.input_size.zip(saved.model.output_size);
    let (input, output) = sizes
        .with_context(|| format!("{}: `model.input_size` and `model.output_size` are required", toml_path.display()))?;
    saved.model.validate(input, output).with_context(|| format!("invalid {}", toml_path.display()))?;
    // The weights are overwritten below, so a het init (which would need its source) is moot.
    let network = build_model(&saved.model.shape_only(), 0, device)?;
    let weights = dir.join(MODEL_WEIGHTS);
    ensure!(weights.is_file(), "{} is missing", weights.display());
    let loaded = match network {
        Model::Recurrent(n) => n.try_load_file(&weights).map(Model::Recurrent),
        Model::Elm(e) => e.try_load_file(&weights).map(Model::Elm),
    };
    let network = loaded.map_err(|e| match e {
        // A shape or key mismatch: the weights and model.toml disagree, so name both.
        RecordError::Validation(why) => anyhow::anyhow!(
            "{} does not hold the model that {} describes: {why}",
            weights.display(),
            toml_path.display()
        ),
        RecordError::Io(why) => anyhow::anyhow!("cannot load {}: {why}", weights.display()),
    })?;
    Ok((saved.clone(), apply_trainability(network, &saved.model)))
}

/// Refuses a checkpoint whose model is not the one `expected` describes (a run's config): an
/// `import --out` aimed at a run's checkpoint folder once replaced its model, and the next
/// `eval` or `--resume` died on a matrix-shape assertion. Compares what fixes the parameters'
/// shapes; the error names both files and every field that differs.
pub fn ensure_checkpoint_fits(
    dir: &Path,
    saved: &SavedModel,
    expected: &ModelConfig,
    config_path: &Path,
) -> Result<()> {
    const SHAPE_FIELDS: [&str; 6] = ["kind", "hidden_size", "input_size", "output_size", "num_ascs", "elm"];
    // `[model.elm]` is written whole (left out, it is its defaults), and `num_ascs` only for
    // GLIFR.
    let fields = |m: &ModelConfig| serde_json::to_value(m.shape_only()).unwrap_or_default();
    let (found, wanted) = (fields(&saved.model), fields(expected));
    let differences: Vec<String> = SHAPE_FIELDS
        .iter()
        .filter(|k| found.get(**k) != wanted.get(**k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| v.map_or("none".to_string(), |v| v.to_string());
            format!("{k} {} (config: {})", show(found.get(*k)), show(wanted.get(*k)))
        })
        .collect();
    ensure!(
        differences.is_empty(),
        "{} holds a different model than {} describes: {}; it does not belong to this run",
        dir.display(),
        config_path.display(),
        differences.join(", ")
    );
    Ok(())
}

/// The newest complete checkpoint of a run directory, if any.
pub fn latest_checkpoint(run_dir: &Path) -> Result<Option<PathBuf>> {
    let latest = run_dir.join("checkpoints").join("latest");
    if !latest.is_file() {
        return Ok(None);
    }
    let name = crate::fsutil::read_to_string_bounded(&latest, 4096)?;
    let name = name.trim();
    // Confined to the run: one folder name under checkpoints/, never a path out of it.
    ensure!(
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\']),
        "{} names {name:?}; expected the name of a checkpoint folder beside it (like `epoch-0003`)",
        latest.display()
    );
    let dir = run_dir.join("checkpoints").join(name);
    ensure!(dir.is_dir(), "{} names {}, which does not exist", latest.display(), dir.display());
    Ok(Some(dir))
}

/// Accepts a checkpoint directory, or a run directory (its latest checkpoint).
pub fn resolve_checkpoint(path: &Path) -> Result<PathBuf> {
    if path.join(MODEL_TOML).is_file() {
        return Ok(path.to_path_buf());
    }
    if let Some(latest) = latest_checkpoint(path)? {
        return Ok(latest);
    }
    bail!(
        "{} is neither a checkpoint directory (with {MODEL_TOML}) nor a run directory with checkpoints",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONFIG, RunConfig};

    /// A checkpoint of another model than the run's config is refused by name, before any
    /// tensor meets a weight of the wrong shape; the same model (with `[model.elm]` written
    /// out or left to its defaults) passes.
    #[test]
    fn a_checkpoint_of_another_model_is_refused() {
        let config = RunConfig::from_toml(DEFAULT_CONFIG, "default").unwrap().resolved_model();
        let saved = |model: ModelConfig| SavedModel { origin: "test".into(), model };
        let (dir, path) = (Path::new("runs/x/checkpoints/epoch-0001"), Path::new("runs/x/config.toml"));
        ensure_checkpoint_fits(dir, &saved(config.clone()), &config, path).unwrap();
        let mut other = ModelConfig { hidden_size: 8, ..config.clone() };
        other.glifr_mut().unwrap().num_ascs = 0;
        let e = ensure_checkpoint_fits(dir, &saved(other), &config, path).unwrap_err().to_string();
        assert!(e.contains("epoch-0001 holds a different model than runs/x/config.toml"), "{e}");
        assert!(e.contains("hidden_size 8 (config: 252)") && e.contains("num_ascs 0 (config: 2)"), "{e}");
        let elm: ModelConfig =
            toml::from_str("kind = \"elm\"\nhidden_size = 252\ninput_size = 28\noutput_size = 10").unwrap();
        let explicit: ModelConfig = toml::from_str(&toml::to_string(&elm).unwrap()).unwrap();
        assert!(toml::to_string(&explicit).unwrap().contains("[elm]\nlambda = 5.0"));
        ensure_checkpoint_fits(dir, &saved(explicit), &elm, path).unwrap();
        let mut other_elm = elm.clone();
        let CellConfig::Elm(neuron) = &mut other_elm.cell else { unreachable!() };
        neuron.elm.lambda = 4.0;
        let e = ensure_checkpoint_fits(dir, &saved(other_elm), &elm, path).unwrap_err().to_string();
        assert!(e.contains("elm {") && e.contains("\"lambda\":4.0"), "{e}");
        let e = ensure_checkpoint_fits(dir, &saved(elm), &config, path).unwrap_err().to_string();
        assert!(e.contains("kind \"elm\" (config: \"glifr\")"), "{e}");
    }

    /// A damaged or edited `model.toml` is checked before anything is built: an absurd hidden
    /// size (which would take 4 PB of weights), a missing input size, or a field of another
    /// kind are refused naming the file; weights of another size are refused naming both.
    #[test]
    fn a_checkpoint_is_checked_before_it_is_built() {
        let device = Device::flex();
        let mut model = RunConfig::from_toml(DEFAULT_CONFIG, "default").unwrap().resolved_model();
        model.hidden_size = 4;
        let network = build_model(&model, 0, &device).unwrap();
        let dir = tempfile::tempdir().unwrap();
        save_checkpoint(dir.path(), &SavedModel { origin: "test".into(), model: model.clone() }, &network).unwrap();
        let (loaded, _) = load_checkpoint(dir.path(), &device).unwrap();
        assert_eq!(loaded.model, model);
        let toml_path = dir.path().join(MODEL_TOML);
        let text = std::fs::read_to_string(&toml_path).unwrap();
        let refused = |edited: String| {
            std::fs::write(&toml_path, edited).unwrap();
            format!("{:#}", load_checkpoint(dir.path(), &device).err().expect("refused"))
        };
        let e = refused(text.replace("hidden_size = 4", "hidden_size = 1000000000"));
        assert!(e.contains("model.toml") && e.contains("`model.hidden_size` = 1000000000 is beyond"), "{e}");
        let e = refused(text.replace("input_size = 28\n", ""));
        assert!(e.contains("model.toml: `model.input_size` and `model.output_size` are required"), "{e}");
        let e = refused(text.replace("num_ascs = 2", "num_ascs = 2\nchrono_init = [1.0, 2.0]"));
        assert!(e.contains("model.toml") && e.contains("`model.chrono_init` applies to the LSTM only"), "{e}");
        let e = refused(text.replace("hidden_size = 4", "hidden_size = 5"));
        assert!(e.contains("model.bpk does not hold the model that") && e.contains("model.toml describes"), "{e}");
    }
}
