//! `[model]`: the network.

use std::path::PathBuf;

use anyhow::{Result, bail, ensure};
use elm::{ElmConfig, ElmVersion, MlpActivation, RoutingKind};
use serde::{Deserialize, Serialize};

use super::{five, half, one, one_usize, thousand, yes};

/// The largest hidden size (GLIFR/RNN/LSTM units, ELM memory units) a config or checkpoint
/// may ask for: H² weights of 16 GiB; beyond it a typo, not a model.
pub const MAX_HIDDEN: usize = 1 << 16;
/// The largest input or output size per step.
pub const MAX_IO: usize = 1 << 20;
/// The most after-spike currents per GLIFR neuron (the paper uses 0 or 2).
pub const MAX_ASCS: usize = 64;

/// Which recurrent cell.
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

/// The network: a cell (or an ELM neuron), its delay and dropout, and a per-step readout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `glifr`, `rnn`, `lstm` or `elm`.
    pub kind: ModelKind,
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
    /// Lateral synaptic delay in ms: `max(1, int(delay/dt))` steps. Ignored by the LSTM.
    #[serde(default)]
    pub synaptic_delay_ms: f64,
    /// Dropout on the rate in training.
    #[serde(default)]
    pub dropout: f64,
    /// GLIFR: after-spike currents per neuron (0 or 2 in the paper).
    #[serde(default)]
    pub num_ascs: usize,
    /// GLIFR: whether θ, k_m and the ASC parameters train (LHet/RHet) or stay fixed
    /// (Hom/FHet).
    #[serde(default = "yes")]
    pub learn_neuronal_params: bool,
    /// GLIFR: `hom` or `het`.
    #[serde(default = "default_init")]
    pub init: InitKind,
    /// GLIFR `het` init: the trained LHet/LHetA run directory or checkpoint to resample from.
    #[serde(default)]
    pub het_source: Option<PathBuf>,
    /// GLIFR: τ (ms); default dt.
    #[serde(default)]
    pub tau: Option<f64>,
    /// GLIFR: σ_V (with `sigma_v_anneal_to`, its value in the first epoch).
    #[serde(default = "one")]
    pub sigma_v: f64,
    /// GLIFR: anneal σ_V linearly over the epochs from `sigma_v` to this value (the GLIFR
    /// paper's `SigmaVAnneal` callback, 1 → 1e-3); evaluation and checkpoints use the
    /// current epoch's value. Absent: σ_V stays fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_v_anneal_to: Option<f64>,
    /// GLIFR: R.
    #[serde(default = "default_resistance")]
    pub resistance: f64,
    /// GLIFR: I0.
    #[serde(default)]
    pub i0: f64,
    /// GLIFR: V_reset.
    #[serde(default)]
    pub v_reset: f64,
    /// GLIFR: `reference` (default) or `exact` k_m init.
    #[serde(default = "default_leak_init")]
    pub membrane_leak_init: LeakInit,
    /// LSTM: chrono init of the gate biases, `[T_min, T_max]` in steps (Tallec & Ollivier
    /// 2018; the ELM paper's Chrono-LSTM): forget bias ln U(T_min, T_max), input bias its
    /// negative. Absent: PyTorch's default init.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chrono_init: Option<[f64; 2]>,
    /// Probability of zeroing each input entry, **without** rescaling the rest (the ELM SHD
    /// code, `train_elm_on_shd.ipynb`). 0 disables it.
    #[serde(default)]
    pub input_dropout: f64,
    /// Whether input dropout also acts when evaluating. The ELM SHD notebook applies it in its
    /// validation and test loops too, so `true` reproduces its numbers; `false` is the usual
    /// convention.
    #[serde(default = "yes")]
    pub input_dropout_in_eval: bool,
    /// ELM: the neuron's options; defaults are the reference constructor's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elm: Option<ElmOptions>,
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

/// `[model.elm]`: the options of an ELM neuron (spec §1; AaronSpieler/elmneuron names in
/// brackets). Its memory size is `model.hidden_size`, its Δt `model.dt`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElmOptions {
    /// 1 (the paper's model) or 2 (branch traces, gain 1 − exp(−Δt·λ/τ_m)).
    #[serde(default = "one_usize")]
    pub version: usize,
    /// λ (reference: `lambda_value`).
    #[serde(default = "five")]
    pub lambda: f64,
    /// Hidden layers of the MLP (reference: `mlp_num_layers`); 0 is linear integration.
    #[serde(default = "one_usize")]
    pub mlp_layers: usize,
    /// Width of the hidden layers; default 2·d_m (reference: `mlp_hidden_size`).
    #[serde(default)]
    pub mlp_hidden_size: Option<usize>,
    /// `relu` or `silu` (reference: `mlp_activation`).
    #[serde(default)]
    pub mlp_activation: MlpActivation,
    /// τ_s of the synapses (v1) or branches (v2), ms, frozen (reference: `tau_s_value`/`tau_b_value`).
    #[serde(default = "five")]
    pub synapse_tau: f64,
    /// Lower bound and smallest initial τ_m, ms.
    #[serde(default = "one")]
    pub memory_tau_min: f64,
    /// Upper bound and largest initial τ_m, ms.
    #[serde(default = "thousand")]
    pub memory_tau_max: f64,
    /// Whether τ_m trains (reference default false; the paper trains it).
    #[serde(default)]
    pub learn_memory_tau: bool,
    /// Initial w_s before the ReLU (reference: `w_s_value`).
    #[serde(default = "half")]
    pub synapse_weight_init: f64,
    /// Branches; default one per input (vanilla ELM).
    #[serde(default)]
    pub num_branch: Option<usize>,
    /// Synapses per branch (reference: `num_synapse_per_branch`).
    #[serde(default = "one_usize")]
    pub synapses_per_branch: usize,
    /// `none`, `random` or `neuronio` (reference: `input_to_synapse_routing`).
    #[serde(default)]
    pub routing: RoutingKind,
    /// v1: keep the full per-synapse trace even where a branch trace is exact (slower, more
    /// memory; for checking).
    #[serde(default)]
    pub per_synapse_trace: bool,
}

impl Default for ElmOptions {
    fn default() -> Self {
        toml::from_str("").expect("every ELM option has a default")
    }
}

impl ModelConfig {
    /// Checks what this model alone decides, for `input` inputs and `output` outputs per step:
    /// sizes that can be allocated, values in range, and fields that belong to the kind. Run
    /// for every config (with the task's sizes) and every checkpoint's `model.toml` (with its
    /// own), so neither can build a model that cannot exist.
    pub fn validate(&self, input: usize, output: usize) -> Result<()> {
        let m = self;
        ensure!(m.hidden_size > 0, "`model.hidden_size` must be at least 1");
        ensure!(
            m.hidden_size <= MAX_HIDDEN,
            "`model.hidden_size` = {} is beyond what neurozoo trains (at most {MAX_HIDDEN})",
            m.hidden_size
        );
        ensure!(
            m.num_ascs <= MAX_ASCS,
            "`model.num_ascs` = {} is beyond what neurozoo takes (at most {MAX_ASCS})",
            m.num_ascs
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
        if let Some([lo, hi]) = m.chrono_init {
            ensure!(m.kind == ModelKind::Lstm, "`model.chrono_init` applies to the LSTM only");
            ensure!(
                lo >= 1.0 && hi > lo && hi.is_finite(),
                "`model.chrono_init` = [{lo}, {hi}] must satisfy 1 ≤ T_min < T_max"
            );
        }
        if m.kind == ModelKind::Elm {
            ensure!(m.synaptic_delay_ms == 0.0, "`model.synaptic_delay_ms` does not apply to the ELM");
            ensure!(m.dropout == 0.0, "`model.dropout` does not apply to the ELM (use `model.input_dropout`)");
            let e = m.elm_options();
            ensure!(matches!(e.version, 1 | 2), "`model.elm.version` = {} must be 1 or 2", e.version);
            m.elm_config(input, output).validate().map_err(|err| anyhow::anyhow!("`model.elm`: {err}"))?;
        } else {
            ensure!(m.elm.is_none(), "`[model.elm]` applies to `kind = \"elm\"` only");
        }
        ensure!(
            m.synaptic_delay_ms >= 0.0 && m.synaptic_delay_ms.is_finite(),
            "`model.synaptic_delay_ms` = {} must be ≥ 0",
            m.synaptic_delay_ms
        );
        ensure!((0.0..1.0).contains(&m.dropout), "`model.dropout` = {} must be in [0, 1)", m.dropout);
        ensure!(m.sigma_v > 0.0, "`model.sigma_v` = {} must be positive", m.sigma_v);
        if let Some(to) = m.sigma_v_anneal_to {
            ensure!(m.kind == ModelKind::Glifr, "`model.sigma_v_anneal_to` applies to GLIFR only");
            ensure!(to > 0.0 && to.is_finite(), "`model.sigma_v_anneal_to` = {to} must be positive");
        }
        if let Some(tau) = m.tau {
            ensure!(tau > 0.0 && tau.is_finite(), "`model.tau` = {tau} must be positive");
        }
        if m.kind != ModelKind::Glifr {
            ensure!(m.num_ascs == 0, "`model.num_ascs` applies to GLIFR only");
            ensure!(m.init == InitKind::Hom, "`model.init = \"het\"` applies to GLIFR only");
        }
        match (m.init, &m.het_source) {
            (InitKind::Het, None) => {
                bail!("`model.init = \"het\"` needs `model.het_source` (a trained LHet/LHetA run)")
            }
            (InitKind::Hom, Some(_)) => {
                bail!("`model.het_source` is only used with `model.init = \"het\"`")
            }
            _ => {}
        }
        Ok(())
    }
    /// The same shapes with a plain homogeneous init: for building a module whose values are
    /// about to be loaded or do not matter (benchmarks, parameter counts).
    pub fn shape_only(&self) -> ModelConfig {
        ModelConfig { init: InitKind::Hom, het_source: None, ..self.clone() }
    }

    /// σ_V in 1-based `epoch` of `epochs`: `sigma_v`, or under annealing the reference's
    /// `linspace(to, sigma_v, epochs)[epochs − epoch]` (so the first epoch runs at `sigma_v`
    /// and the last at `to`; a single epoch runs at `to`, as numpy's one-point linspace).
    pub fn sigma_v_at(&self, epoch: usize, epochs: usize) -> f64 {
        match self.sigma_v_anneal_to {
            None => self.sigma_v,
            Some(to) if epochs <= 1 => to,
            Some(to) => {
                let i = (epochs - epoch.clamp(1, epochs)) as f64;
                to + (self.sigma_v - to) * i / (epochs - 1) as f64
            }
        }
    }

    /// About how many weights the recurrent cell and readout hold (the ELM's own sizes are
    /// checked by `elm::ElmConfig::validate`), in f64 so that absurd sizes cannot overflow.
    pub fn weight_count(&self, input: usize, output: usize) -> f64 {
        let (h, i, o) = (self.hidden_size as f64, input as f64, output as f64);
        match self.kind {
            ModelKind::Lstm => 4.0 * h * (h + i) + h * o,
            _ => h * h + h * (i + o),
        }
    }

    /// Δt in ms: the configured one, or the kind's default.
    pub fn dt(&self) -> f64 {
        self.dt.unwrap_or(if self.kind == ModelKind::Elm { 1.0 } else { 0.05 })
    }

    /// The [`ElmConfig`] of an `elm` model config with `input`/`output` sizes.
    pub fn elm_config(&self, input: usize, output: usize) -> ElmConfig {
        let e: ElmOptions = self.elm_options();
        ElmConfig::new(input, output)
            .with_memory_size(self.hidden_size)
            .with_lambda(e.lambda)
            .with_mlp_layers(e.mlp_layers)
            .with_mlp_hidden_size(e.mlp_hidden_size)
            .with_mlp_activation(e.mlp_activation)
            .with_synapse_tau(e.synapse_tau)
            .with_memory_tau_min(e.memory_tau_min)
            .with_memory_tau_max(e.memory_tau_max)
            .with_learn_memory_tau(e.learn_memory_tau)
            .with_synapse_weight_init(e.synapse_weight_init)
            .with_num_branch(e.num_branch)
            .with_synapses_per_branch(e.synapses_per_branch)
            .with_routing(e.routing)
            .with_dt(self.dt())
            .with_version(if e.version == 2 { ElmVersion::V2 } else { ElmVersion::V1 })
            .with_per_synapse_trace(e.per_synapse_trace)
    }

    /// The ELM options (defaults when `[model.elm]` is absent).
    pub fn elm_options(&self) -> ElmOptions {
        self.elm.clone().unwrap_or_default()
    }
}

fn default_resistance() -> f64 {
    0.1
}
fn default_init() -> InitKind {
    InitKind::Hom
}
fn default_leak_init() -> LeakInit {
    LeakInit::Reference
}
