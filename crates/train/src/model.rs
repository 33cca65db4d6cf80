//! Building networks from the config, and our checkpoint format: a directory holding
//! `model.toml` (the resolved [`ModelConfig`], enough to rebuild the module) and `model.bpk`
//! (the parameters, Burn's burnpack format).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use burn::prelude::*;
use glifr::{
    Cell, GlifrConfig, LstmConfig, MembraneLeakInit, RecurrentNetwork, RecurrentNetworkConfig, RnnConfig,
    delay_steps,
};
use serde::{Deserialize, Serialize};

use crate::config::{InitKind, LeakInit, ModelConfig, ModelKind};
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

/// Builds a freshly initialised network (the `het` init resamples from `model.het_source`).
pub fn build_network(model: &ModelConfig, device: &Device) -> Result<RecurrentNetwork> {
    let input = model.input_size.context("model.input_size is not resolved")?;
    let output = model.output_size.context("model.output_size is not resolved")?;
    let cell = match model.kind {
        ModelKind::Glifr => Cell::Glifr(glifr_config(model, input).init(device)),
        ModelKind::Rnn => Cell::Rnn(RnnConfig::new(input, model.hidden_size).init(device)),
        ModelKind::Lstm => Cell::Lstm(LstmConfig::new(input, model.hidden_size).init(device)),
    };
    let mut network = RecurrentNetworkConfig::new(output)
        .with_delay_steps(delay_steps(model.synaptic_delay_ms, model.dt))
        .with_dropout(model.dropout)
        .init(cell, device);
    if model.init == InitKind::Het {
        let source = model.het_source.as_ref().context("model.het_source is required for het init")?;
        let (source_config, trained) =
            load_checkpoint(&resolve_checkpoint(source)?, device).context("loading the het init source")?;
        ensure!(
            source_config.model.kind == ModelKind::Glifr && source_config.model.num_ascs == model.num_ascs,
            "het init source {} is a {:?} with {} ASCs; this model needs a GLIFR with {} ASCs",
            source.display(),
            source_config.model.kind,
            source_config.model.num_ascs,
            model.num_ascs
        );
        if let (Cell::Glifr(mine), Cell::Glifr(theirs)) = (network.cell, &trained.cell) {
            network.cell = Cell::Glifr(mine.resampled_from(theirs, device));
        } else {
            unreachable!("kinds checked above");
        }
    }
    Ok(apply_trainability(network, model))
}

fn glifr_config(model: &ModelConfig, input: usize) -> GlifrConfig {
    GlifrConfig::new(input, model.hidden_size)
        .with_num_ascs(model.num_ascs)
        .with_dt(model.dt)
        .with_tau(model.tau)
        .with_sigma_v(model.sigma_v)
        .with_resistance(model.resistance)
        .with_i0(model.i0)
        .with_v_reset(model.v_reset)
        .with_membrane_leak_init(match model.membrane_leak_init {
            LeakInit::Reference => MembraneLeakInit::Reference,
            LeakInit::Exact => MembraneLeakInit::Exact,
        })
}

/// Freezes GLIFR's neuronal parameters when the config says they are fixed (Hom, FHet).
pub fn apply_trainability(mut network: RecurrentNetwork, model: &ModelConfig) -> RecurrentNetwork {
    if let Cell::Glifr(cell) = network.cell {
        network.cell = Cell::Glifr(cell.with_neuronal_params_learned(model.learn_neuronal_params));
    }
    network
}

/// Writes a checkpoint directory (`model.toml` + `model.bpk`), each file atomically.
pub fn save_checkpoint(dir: &Path, saved: &SavedModel, network: &RecurrentNetwork) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = toml::to_string_pretty(saved).context("serialising model.toml")?;
    write_atomic(&dir.join(MODEL_TOML), text.as_bytes())?;
    let weights = dir.join(MODEL_WEIGHTS);
    network
        .clone()
        .save_file(&weights)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e:?}", weights.display()))?;
    Ok(())
}

/// Reads a checkpoint directory back onto `device`.
pub fn load_checkpoint(dir: &Path, device: &Device) -> Result<(SavedModel, RecurrentNetwork)> {
    let toml_path = dir.join(MODEL_TOML);
    let text = std::fs::read_to_string(&toml_path)
        .with_context(|| format!("{} is not a neurozoo checkpoint (cannot read {})", dir.display(), MODEL_TOML))?;
    let saved: SavedModel = toml::from_str(&text).with_context(|| format!("invalid {}", toml_path.display()))?;
    // The weights are overwritten below, so a het init (which would need its source) is moot.
    let network = build_network(&saved.model.shape_only(), device)?;
    let weights = dir.join(MODEL_WEIGHTS);
    ensure!(weights.is_file(), "{} is missing", weights.display());
    let network = network
        .try_load_file(&weights)
        .map_err(|e| anyhow::anyhow!("cannot load {}: {e:?}", weights.display()))?;
    Ok((saved.clone(), apply_trainability(network, &saved.model)))
}

/// Accepts a checkpoint directory, or a run directory (its latest checkpoint).
pub fn resolve_checkpoint(path: &Path) -> Result<PathBuf> {
    if path.join(MODEL_TOML).is_file() {
        return Ok(path.to_path_buf());
    }
    if let Some(latest) = crate::runner::latest_checkpoint(path)? {
        return Ok(latest);
    }
    bail!(
        "{} is neither a checkpoint directory (with {MODEL_TOML}) nor a run directory with checkpoints",
        path.display()
    )
}
