//! `[model]`: the network, as a tagged enum.
//!
//! `kind` picks a variant, and each variant has only its own fields, so a GLIFR field on an
//! LSTM cannot be written: it is an unknown field of the `lstm` variant.
//!
//! ```toml
//! [model]
//! kind = "glifr"          # the variant: glifr | rnn | lstm | elm
//! hidden_size = 252       # shared by every kind (ModelConfig)
//! num_ascs = 2            # GLIFR's own fields (GlifrCellConfig)
//!
//! [model.elm]             # kind = "elm" only: elm::ElmConfig itself, see `elm_table`
//! ```
//!
//! Configs and checkpoints written before the enum (one flat struct that every run saved
//! whole, with every kind's fields at their defaults) still load: see `legacy.rs`.

use std::path::PathBuf;

use anyhow::{Result, bail, ensure};
use elm::ElmConfig;
use serde::{Deserialize, Serialize, Serializer};

use super::elm_table;
use super::{one, yes};

/// The largest hidden size (GLIFR/RNN/LSTM units, ELM memory units) a config or checkpoint
/// may ask for: H² weights of 16 GiB; beyond it a typo, not a model.
pub const MAX_HIDDEN: usize = 1 << 16;
/// The largest input or output size per step.
pub const MAX_IO: usize = 1 << 20;
/// The most after-spike currents per GLIFR neuron (the paper uses 0 or 2).
pub const MAX_ASCS: usize = 64;

/// Which recurrent cell: the `kind` of a [`ModelConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// GLIFR neurons.
    Glifr,
    /// tanh RNN baseline.
    Rnn,
    /// LSTM baseline (with `chrono_init`: the ELM paper's Chrono-LSTM).
    Lstm,
    /// Expressive Leaky Memory neuron, vanilla or Branch-ELM (options in `[model.elm]`).
    Elm,
}

/// How GLIFR's neuronal parameters start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitKind {
    /// Homogeneous (Hom, HomA, LHet, LHetA).
    Hom,
    /// Resampled from a trained LHet/LHetA checkpoint (FHet, FHetA, RHet, RHetA).
    Het,
}

/// The reference's or the exact `k_m` init formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeakInit {
    /// As GLIFS_ASC (`k_m` = 0.05 /ms only at dt = 0.05).
    Reference,
    /// `k_m` = 0.05 /ms at any dt.
    Exact,
}

/// The network: the cell (or ELM neuron) with its own fields, and what every kind shares.
///
/// Read in the tagged form ([`ModelConfig::from_tagged`]); a table in the flat form of
/// earlier files is read by `legacy.rs`, which implements `Deserialize` with both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ModelConfig {
    /// `kind` and the fields of that kind.
    #[serde(flatten)]
    pub cell: CellConfig,
    /// Hidden units H; for the ELM, its memory units d_m (`num_memory`).
    pub hidden_size: usize,
    /// Inputs per step; default from the task.
    #[serde(default)]
    pub input_size: Option<usize>,
    /// Readout size; default from the task.
    #[serde(default)]
    pub output_size: Option<usize>,
    /// Integration step (ms); sets the delay conversion for every kind. Default 0.05 (the
    /// GLIFR paper), 1.0 for the ELM (its reference default; SHD uses the bin size).
    #[serde(default)]
    pub dt: Option<f64>,
    /// Probability of zeroing each input entry, **without** rescaling the rest (the ELM SHD
    /// code, `train_elm_on_shd.ipynb`). 0 disables it.
    #[serde(default)]
    pub input_dropout: f64,
    /// Whether input dropout also acts when evaluating. The ELM SHD notebook applies it in its
    /// validation and test loops too, so `true` reproduces its numbers; `false` is the usual
    /// convention.
    #[serde(default = "yes")]
    pub input_dropout_in_eval: bool,
    /// Whether the recurrence may run as one fused operation per sequence (same numbers,
    /// several times faster; see `glifr::fused`). `false` keeps the per-step path, the
    /// reference the fused one is tested against. Written only when `false`, so configs and
    /// checkpoints from before it existed are unchanged.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub fused: bool,
}

fn is_true(value: &bool) -> bool {
    *value
}

/// `kind` and the fields only that kind has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)]
pub enum CellConfig {
    /// GLIFR neurons (Winston et al. 2023).
    Glifr(GlifrCellConfig),
    /// tanh RNN baseline.
    Rnn(RnnCellConfig),
    /// LSTM baseline.
    Lstm(LstmCellConfig),
    /// Expressive Leaky Memory neuron (Spieler et al. 2024).
    Elm(ElmNeuronConfig),
}

/// `kind = "glifr"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlifrCellConfig {
    /// Lateral synaptic delay in ms: `max(1, int(delay/dt))` steps.
    #[serde(default)]
    pub synaptic_delay_ms: f64,
    /// Dropout on the rate in training.
    #[serde(default)]
    pub dropout: f64,
    /// After-spike currents per neuron (0 or 2 in the paper).
    #[serde(default)]
    pub num_ascs: usize,
    /// Whether θ, k_m and the ASC parameters train (LHet/RHet) or stay fixed (Hom/FHet).
    #[serde(default = "yes")]
    pub learn_neuronal_params: bool,
    /// `hom` or `het`.
    #[serde(default = "default_init")]
    pub init: InitKind,
    /// `het` init: the trained LHet/LHetA run directory or checkpoint to resample from.
    #[serde(default)]
    pub het_source: Option<PathBuf>,
    /// τ (ms); default dt.
    #[serde(default)]
    pub tau: Option<f64>,
    /// σ_V (with `sigma_v_anneal_to`, its value in the first epoch).
    #[serde(default = "one")]
    pub sigma_v: f64,
    /// Anneal σ_V linearly over the epochs from `sigma_v` to this value (the GLIFR paper's
    /// `SigmaVAnneal` callback, 1 → 1e-3); evaluation and checkpoints use the current epoch's
    /// value. Absent: σ_V stays fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_v_anneal_to: Option<f64>,
    /// R.
    #[serde(default = "default_resistance")]
    pub resistance: f64,
    /// I0.
    #[serde(default)]
    pub i0: f64,
    /// V_reset.
    #[serde(default)]
    pub v_reset: f64,
    /// `reference` (default) or `exact` k_m init.
    #[serde(default = "default_leak_init")]
    pub membrane_leak_init: LeakInit,
}

/// `kind = "rnn"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RnnCellConfig {
    /// Lateral synaptic delay in ms: `max(1, int(delay/dt))` steps.
    #[serde(default)]
    pub synaptic_delay_ms: f64,
    /// Dropout on the rate in training.
    #[serde(default)]
    pub dropout: f64,
}

/// `kind = "lstm"` (no synaptic delay: the reference LSTM has none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmCellConfig {
    /// Dropout on the output in training.
    #[serde(default)]
    pub dropout: f64,
    /// Chrono init of the gate biases, `[T_min, T_max]` in steps (Tallec & Ollivier 2018; the
    /// ELM paper's Chrono-LSTM): forget bias ln U(T_min, T_max), input bias its negative.
    /// Absent: PyTorch's default init.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chrono_init: Option<[f64; 2]>,
}

/// `kind = "elm"`. Two are equal when their options are: the placeholders do not count.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElmNeuronConfig {
    /// `[model.elm]`: the neuron's options, which are [`ElmConfig`]'s own fields with its own
    /// defaults (the reference constructor's). Its sizes, Δt and routing seed here are
    /// placeholders: `[model]`, the task and the run set them ([`ModelConfig::elm_config`]).
    #[serde(default = "elm_table::defaults", with = "elm_table")]
    pub elm: ElmConfig,
}

impl PartialEq for ElmNeuronConfig {
    fn eq(&self, other: &Self) -> bool {
        elm_table::without_placeholders(&self.elm) == elm_table::without_placeholders(&other.elm)
    }
}

impl ModelConfig {
    /// Reads `table` in the tagged form alone. Fields of the variant come through serde's
    /// buffer, which drops their name from a type error, so a failure is retried field by
    /// field to name the field. (`legacy.rs` implements `Deserialize` with this, and the
    /// flat form as the fallback.)
    pub fn from_tagged(table: &toml::Table) -> Result<ModelConfig, String> {
        let strict = |table: toml::Table| ModelConfig::deserialize(toml::Value::Table(table));
        let message = match strict(table.clone()) {
            Ok(model) => return Ok(model),
            Err(e) => e.message().trim().to_string(),
        };
        // Only a value's error lacks its field; a missing `kind` or an unknown one names itself.
        let about_a_value = ["invalid type", "invalid value", "invalid length"].iter().any(|m| message.starts_with(m));
        if about_a_value && !message.contains("in `") {
            for (key, value) in table.iter().filter(|(key, _)| *key != "kind") {
                let mut probe = toml::Table::new();
                probe.insert("hidden_size".into(), toml::Value::Integer(1));
                if let Some(kind) = table.get("kind") {
                    probe.insert("kind".into(), kind.clone());
                }
                probe.insert(key.clone(), value.clone());
                if let Err(e) = strict(probe) {
                    return Err(format!("`model.{key}`: {}", e.message().trim()));
                }
            }
        }
        Err(message)
    }
}

impl Serialize for ModelConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ModelConfig::serialize(self, serializer)
    }
}

impl CellConfig {
    /// Which kind this is.
    pub fn kind(&self) -> ModelKind {
        match self {
            CellConfig::Glifr(_) => ModelKind::Glifr,
            CellConfig::Rnn(_) => ModelKind::Rnn,
            CellConfig::Lstm(_) => ModelKind::Lstm,
            CellConfig::Elm(_) => ModelKind::Elm,
        }
    }
}

impl ModelConfig {
    /// Which kind of model.
    pub fn kind(&self) -> ModelKind {
        self.cell.kind()
    }

    /// GLIFR's own fields, if this is a GLIFR model.
    pub fn glifr(&self) -> Option<&GlifrCellConfig> {
        match &self.cell {
            CellConfig::Glifr(glifr) => Some(glifr),
            _ => None,
        }
    }

    /// GLIFR's own fields, to change, if this is a GLIFR model.
    pub fn glifr_mut(&mut self) -> Option<&mut GlifrCellConfig> {
        match &mut self.cell {
            CellConfig::Glifr(glifr) => Some(glifr),
            _ => None,
        }
    }

    /// The ELM's options (sizes and Δt unset: see [`ModelConfig::elm_config`]), if this is an
    /// ELM.
    pub fn elm(&self) -> Option<&ElmConfig> {
        match &self.cell {
            CellConfig::Elm(neuron) => Some(&neuron.elm),
            _ => None,
        }
    }

    /// After-spike currents per neuron: GLIFR's `num_ascs`, 0 for the other kinds.
    pub fn num_ascs(&self) -> usize {
        self.glifr().map_or(0, |g| g.num_ascs)
    }

    /// The lateral synaptic delay in ms (0 for the kinds without one).
    pub fn synaptic_delay_ms(&self) -> f64 {
        match &self.cell {
            CellConfig::Glifr(g) => g.synaptic_delay_ms,
            CellConfig::Rnn(r) => r.synaptic_delay_ms,
            CellConfig::Lstm(_) | CellConfig::Elm(_) => 0.0,
        }
    }

    /// Dropout of the recurrent network in training (0 for the ELM, which has input dropout).
    pub fn dropout(&self) -> f64 {
        match &self.cell {
            CellConfig::Glifr(g) => g.dropout,
            CellConfig::Rnn(r) => r.dropout,
            CellConfig::Lstm(l) => l.dropout,
            CellConfig::Elm(_) => 0.0,
        }
    }

    /// Checks what this model alone decides, for `input` inputs and `output` outputs per step:
    /// sizes that can be allocated and values in range (which fields belong to which kind, the
    /// enum already decides). Run for every config (with the task's sizes) and every
    /// checkpoint's `model.toml` (with its own), so neither can build a model that cannot exist.
    pub fn validate(&self, input: usize, output: usize) -> Result<()> {
        let m = self;
        ensure!(m.hidden_size > 0, "`model.hidden_size` must be at least 1");
        ensure!(
            m.hidden_size <= MAX_HIDDEN,
            "`model.hidden_size` = {} is beyond what neurozoo trains (at most {MAX_HIDDEN})",
            m.hidden_size
        );
        ensure!(
            (1..=MAX_IO).contains(&input) && (1..=MAX_IO).contains(&output),
            "`model.input_size` = {input} and `model.output_size` = {output} must be in 1..={MAX_IO}"
        );
        if let Some(total) = super::machine_memory_bytes() {
            let bytes = 4.0 * m.weight_count(input, output);
            ensure!(
                bytes <= total as f64,
                "`model.hidden_size` = {}: its weights alone take {:.1} GiB, more than this machine's {:.1} GiB",
                m.hidden_size,
                bytes / (1u64 << 30) as f64,
                total as f64 / (1u64 << 30) as f64
            );
        }
        ensure!(m.dt() > 0.0 && m.dt().is_finite(), "`model.dt` = {} must be positive", m.dt());
        ensure!((0.0..1.0).contains(&m.input_dropout), "`model.input_dropout` = {} must be in [0, 1)", m.input_dropout);
        let delay = m.synaptic_delay_ms();
        ensure!(delay >= 0.0 && delay.is_finite(), "`model.synaptic_delay_ms` = {delay} must be ≥ 0");
        ensure!((0.0..1.0).contains(&m.dropout()), "`model.dropout` = {} must be in [0, 1)", m.dropout());
        match &m.cell {
            CellConfig::Glifr(g) => g.validate()?,
            CellConfig::Rnn(_) => {}
            CellConfig::Lstm(l) => {
                if let Some([lo, hi]) = l.chrono_init {
                    ensure!(
                        lo >= 1.0 && hi > lo && hi.is_finite(),
                        "`model.chrono_init` = [{lo}, {hi}] must satisfy 1 ≤ T_min < T_max"
                    );
                }
            }
            CellConfig::Elm(_) => {
                if let Some(config) = m.elm_config(input, output) {
                    config.validate().map_err(|err| anyhow::anyhow!("`model.elm`: {err}"))?;
                }
            }
        }
        Ok(())
    }

    /// The same shapes with a plain homogeneous init: for building a module whose values are
    /// about to be loaded or do not matter (benchmarks, parameter counts).
    pub fn shape_only(&self) -> ModelConfig {
        let mut shapes = self.clone();
        if let Some(glifr) = shapes.glifr_mut() {
            glifr.init = InitKind::Hom;
            glifr.het_source = None;
        }
        shapes
    }

    /// σ_V in 1-based `epoch` of `epochs` (GLIFR; `None` for the other kinds): `sigma_v`, or
    /// under annealing the reference's `linspace(to, sigma_v, epochs)[epochs − epoch]` (so the
    /// first epoch runs at `sigma_v` and the last at `to`; a single epoch runs at `to`, as
    /// numpy's one-point linspace).
    pub fn sigma_v_at(&self, epoch: usize, epochs: usize) -> Option<f64> {
        let g = self.glifr()?;
        Some(match g.sigma_v_anneal_to {
            None => g.sigma_v,
            Some(to) if epochs <= 1 => to,
            Some(to) => {
                let i = (epochs - epoch.clamp(1, epochs)) as f64;
                to + (g.sigma_v - to) * i / (epochs - 1) as f64
            }
        })
    }

    /// Whether σ_V changes from epoch to epoch.
    pub fn anneals_sigma_v(&self) -> bool {
        self.glifr().is_some_and(|g| g.sigma_v_anneal_to.is_some())
    }

    /// About how many weights the recurrent cell and readout hold (the ELM's own sizes are
    /// checked by `elm::ElmConfig::validate`), in f64 so that absurd sizes cannot overflow.
    pub fn weight_count(&self, input: usize, output: usize) -> f64 {
        let (h, i, o) = (self.hidden_size as f64, input as f64, output as f64);
        match self.kind() {
            ModelKind::Lstm => 4.0 * h * (h + i) + h * o,
            _ => h * h + h * (i + o),
        }
    }

    /// Δt in ms: the configured one, or the kind's default.
    pub fn dt(&self) -> f64 {
        self.dt.unwrap_or(if self.kind() == ModelKind::Elm { 1.0 } else { 0.05 })
    }

    /// The [`ElmConfig`] of an `elm` model config with `input`/`output` sizes (`None` for the
    /// other kinds): its options with the sizes and Δt of `[model]` filled in. The routing
    /// seed is the run's (see `model::build_model`).
    pub fn elm_config(&self, input: usize, output: usize) -> Option<ElmConfig> {
        let options = self.elm()?.clone();
        Some(
            ElmConfig { input_size: input, output_size: output, ..options }
                .with_memory_size(self.hidden_size)
                .with_dt(self.dt()),
        )
    }
}

impl GlifrCellConfig {
    fn validate(&self) -> Result<()> {
        ensure!(
            self.num_ascs <= MAX_ASCS,
            "`model.num_ascs` = {} is beyond what neurozoo takes (at most {MAX_ASCS})",
            self.num_ascs
        );
        ensure!(self.sigma_v > 0.0, "`model.sigma_v` = {} must be positive", self.sigma_v);
        if let Some(to) = self.sigma_v_anneal_to {
            ensure!(to > 0.0 && to.is_finite(), "`model.sigma_v_anneal_to` = {to} must be positive");
        }
        if let Some(tau) = self.tau {
            ensure!(tau > 0.0 && tau.is_finite(), "`model.tau` = {tau} must be positive");
        }
        match (self.init, &self.het_source) {
            (InitKind::Het, None) => {
                bail!("`model.init = \"het\"` needs `model.het_source` (a trained LHet/LHetA run)")
            }
            (InitKind::Hom, Some(_)) => {
                bail!("`model.het_source` is only used with `model.init = \"het\"`")
            }
            _ => Ok(()),
        }
    }
}

impl Default for GlifrCellConfig {
    fn default() -> Self {
        toml::from_str("").expect("every GLIFR field has a default")
    }
}

pub(super) fn default_resistance() -> f64 {
    0.1
}
pub(super) fn default_init() -> InitKind {
    InitKind::Hom
}
pub(super) fn default_leak_init() -> LeakInit {
    LeakInit::Reference
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The `[model]` table of a TOML text, read by the tagged form alone (no legacy fallback).
    fn strictly(text: &str) -> Result<ModelConfig, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let model = table.get("model").cloned().ok_or("no [model]")?;
        ModelConfig::deserialize(model).map_err(|e| e.to_string())
    }

    fn model(text: &str) -> Result<ModelConfig, String> {
        toml::from_str::<toml::Table>(text)
            .and_then(|t| t["model"].clone().try_into::<ModelConfig>())
            .map_err(|e| e.to_string())
    }

    /// Every shipped config is written in the tagged form: none relies on the legacy reader.
    #[test]
    fn every_shipped_config_is_in_the_tagged_form() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut count = 0;
        for file in std::fs::read_dir(&root).unwrap().flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap()) {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                strictly(&std::fs::read_to_string(&path).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                count += 1;
            }
        }
        assert!(count >= 52, "{count} configs");
    }

    /// A field of another kind, a field `[model]` owns written into `[model.elm]`, and a value
    /// of the wrong type are each refused naming the field.
    #[test]
    fn misplaced_and_mistyped_fields_are_named() {
        let e = model("[model]\nkind = \"rnn\"\nhidden_size = 4\nnum_ascs = 2").unwrap_err();
        assert!(e.contains("`model.num_ascs` applies to GLIFR only"), "{e}");
        let e = model("[model]\nkind = \"lstm\"\nhidden_size = 4\nsynaptic_delay_ms = 1.0").unwrap_err();
        assert!(e.contains("`model.synaptic_delay_ms` does not apply to the LSTM"), "{e}");
        let e = model("[model]\nkind = \"elm\"\nhidden_size = 4\n[model.elm]\nmemory_size = 3").unwrap_err();
        assert!(e.contains("`model.elm.memory_size` cannot be set here: `model.hidden_size` sets it"), "{e}");
        let e = model("[model]\nkind = \"elm\"\nhidden_size = 4\n[model.elm]\nlambda = \"x\"").unwrap_err();
        assert!(e.contains("`model.elm.lambda` = \"x\"") && e.contains("expected f64"), "{e}");
        let e = model("[model]\nkind = \"elm\"\nhidden_size = 4\n[model.elm]\nversion = 3").unwrap_err();
        assert!(e.contains("`model.elm.version` = 3: ELM version 3 does not exist"), "{e}");
        let e = model("[model]\nkind = \"elm\"\nhidden_size = 4\n[model.elm]\nlamda = 3.0").unwrap_err();
        assert!(e.contains("unknown field `lamda` in `[model.elm]`, expected one of: lambda, mlp_layers"), "{e}");
        let e = model("[model]\nkind = \"glifr\"\nhidden_size = 4\nnum_ascs = \"two\"").unwrap_err();
        assert!(e.contains("`model.num_ascs`: invalid type: string \"two\""), "{e}");
        let e = model("[model]\nkind = \"spiking\"\nhidden_size = 4\ndt = 0.5").unwrap_err();
        assert!(e.contains("unknown variant `spiking`") && !e.contains("model.dt"), "{e}");
        let e = model("[model]\nhidden_size = 4\ndt = 0.5").unwrap_err();
        assert!(e.contains("missing field `kind`") && !e.contains("model.dt"), "{e}");
        // What a past run saved for every kind: GLIFR's defaults on an RNN still load.
        assert_eq!(
            model("[model]\nkind = \"rnn\"\nhidden_size = 4\nsigma_v = 1.0\nnum_ascs = 0"),
            model("[model]\nkind = \"rnn\"\nhidden_size = 4")
        );
    }

    /// Each kind written and read back is the same config, its own fields included.
    #[test]
    fn every_kind_round_trips() {
        let texts = [
            "kind = \"glifr\"\nhidden_size = 5\nnum_ascs = 2\nsigma_v_anneal_to = 0.001\ntau = 0.5\nmembrane_leak_init = \"exact\"",
            "kind = \"rnn\"\nhidden_size = 5\nsynaptic_delay_ms = 0.5\ndropout = 0.25",
            "kind = \"lstm\"\nhidden_size = 5\nchrono_init = [1.0, 20.0]\nfused = false",
            "kind = \"elm\"\nhidden_size = 5\ninput_dropout = 0.5\n[elm]\nversion = 2\nnum_branch = 3\nmlp_hidden_size = 7",
        ];
        for text in texts {
            let first: ModelConfig = toml::from_str(text).unwrap();
            let written = toml::to_string(&first).unwrap();
            assert_eq!(toml::from_str::<ModelConfig>(&written).unwrap(), first, "{written}");
        }
        let elm: ModelConfig = toml::from_str(texts[3]).unwrap();
        let config = elm.elm_config(12, 2).unwrap();
        assert_eq!((config.input_size, config.output_size, config.memory_size, config.dt), (12, 2, 5, 1.0));
        assert_eq!(
            (config.version, config.num_branch, config.mlp_hidden_size),
            (elm::ElmVersion::V2, Some(3), Some(7))
        );
    }
}
