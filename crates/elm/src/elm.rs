//! The Expressive Leaky Memory neuron (Spieler et al., ICLR 2024), exact to the authors'
//! PyTorch code (AaronSpieler/elmneuron @ `52e68a6`, `src/expressive_leaky_memory_neuron.py`
//! for v1 and `_v2.py` for v2).
//!
//! Per step t, from zero state, with input `x_t` routed onto `d_s` synapses (see
//! [`crate::routing`]) grouped contiguously into `d_b` branches:
//!
//! ```text
//! v1: s_t = κ_s ⊙ s_{t−1} + relu(w_s) ⊙ x_t            per-synapse trace, κ_s = exp(−Δt/τ_s)
//!     b_t = Σ_{k ∈ branch} s_t[k]
//! v2: b_t = κ_b ⊙ b_{t−1} + Σ_{k ∈ branch} relu(w_s[k]) x_t[k]     per-branch trace
//!
//! Δm_t = 1.7159 · tanh(⅔ · MLP([b_t, κ_m ⊙ m_{t−1}]))   LeCun's scaled tanh
//! v1: m_t = κ_m ⊙ m_{t−1} + λ(1 − κ_m) ⊙ Δm_t
//! v2: m_t = κ_m ⊙ m_{t−1} + (1 − exp(−Δt·λ/τ_m)) ⊙ Δm_t
//! y_t = W_y m_t + b_y                                     (the new memory, as the code does)
//!
//! κ_m = exp(−Δt / max(τ_m, 1e−6)),  τ_m = (τ_max − τ_min)·σ(p_m) + τ_min
//! ```
//!
//! `p_m` is stored (the reference's `_proto_tau_m`); its init is the inverse of the scaled
//! sigmoid at τ_m log-spaced from τ_min to τ_max. The reference computes that in float32, where
//! the top value rounds onto τ_max and its inverse is +∞; we reproduce it (τ_m = τ_max exactly
//! and its gradient is 0, so training is unaffected).
//!
//! **How the trace is computed.** Filtering then summing equals summing then filtering when a
//! branch's synapses share one τ_s, which holds for every model the reference builds (τ_s is a
//! constant). Then v1 keeps a `[B,d_b]` branch trace instead of a `[B,d_s]` synapse trace, and a
//! routed input reaches the branches through one `[d_in,d_b]` matrix built from `relu(w_s)` and
//! the routing: the tensors BPTT keeps per step are `d_b` wide, not `d_s` (NeuronIO: 45 instead
//! of 4500). A v1 model whose τ_s differ within a branch (only possible by editing a checkpoint)
//! takes the exact per-synapse path, as does one built with `per_synapse_trace`.
//!
//! Over 600 lines for a reason: the neuron is one file a newcomer reads top to bottom
//! (equations, config, init, step, sequence paths), and about 350 of its lines are the
//! hand-derived tests beside the code they check.

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::IndexingUpdateOp;
use burn::tensor::activation::{relu, sigmoid};
use serde::{Deserialize, Serialize};

use crate::ElmError;
use crate::fused::{ElmScalars, elm_sequence, flatten_layers, fused_supported_for};
use crate::mlp::{Mlp, MlpActivation, torch_linear};
use crate::routing::{RoutingKind, SynapseRouting, build_routing};

/// Which of the reference's two implementations. Written as the number, `1` or `2`, as the
/// reference's `elm_version` and neurozoo's `[model.elm] version` spell it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum ElmVersion {
    /// The paper's model: per-synapse traces, memory input gain λ(1 − κ_m).
    #[default]
    V1,
    /// The "efficiency and stability" revision (`dacc2b8`): per-branch traces, memory input
    /// gain 1 − exp(−Δt·λ/τ_m).
    V2,
}

impl From<ElmVersion> for u8 {
    fn from(version: ElmVersion) -> u8 {
        match version {
            ElmVersion::V1 => 1,
            ElmVersion::V2 => 2,
        }
    }
}

impl TryFrom<u8> for ElmVersion {
    type Error = String;
    fn try_from(number: u8) -> Result<Self, String> {
        match number {
            1 => Ok(ElmVersion::V1),
            2 => Ok(ElmVersion::V2),
            other => Err(format!("ELM version {other} does not exist; expected 1 or 2")),
        }
    }
}

/// Configuration of an [`Elm`]. Field defaults are the reference constructor's.
#[derive(Config, Debug, PartialEq)]
pub struct ElmConfig {
    /// Inputs per step (`num_input`).
    pub input_size: usize,
    /// Readout size (`num_output`).
    pub output_size: usize,
    /// Memory units d_m (`num_memory`).
    #[config(default = 100)]
    pub memory_size: usize,
    /// λ (`lambda_value`): how fast memory can change relative to its timescale.
    #[config(default = 5.0)]
    pub lambda: f64,
    /// Hidden layers of the MLP (`mlp_num_layers`); 0 is linear integration.
    #[config(default = 1)]
    pub mlp_layers: usize,
    /// Width of the hidden layers; default 2·d_m (`mlp_hidden_size`).
    #[config(default = "None")]
    pub mlp_hidden_size: Option<usize>,
    /// Hidden-layer nonlinearity.
    #[config(default = "MlpActivation::Relu")]
    pub mlp_activation: MlpActivation,
    /// τ_s of every synapse (v1) or τ_b of every branch (v2), ms; frozen.
    #[config(default = 5.0)]
    pub synapse_tau: f64,
    /// Lower bound (and lowest initial value) of τ_m, ms.
    #[config(default = 1.0)]
    pub memory_tau_min: f64,
    /// Upper bound (and highest initial value) of τ_m, ms.
    #[config(default = 1000.0)]
    pub memory_tau_max: f64,
    /// Whether τ_m trains. The reference defaults to frozen; the paper trains it.
    #[config(default = false)]
    pub learn_memory_tau: bool,
    /// Initial synaptic weight (before the ReLU), `w_s_value`.
    #[config(default = 0.5)]
    pub synapse_weight_init: f64,
    /// Branches d_b; default one per input (vanilla ELM).
    #[config(default = "None")]
    pub num_branch: Option<usize>,
    /// Synapses per branch.
    #[config(default = 1)]
    pub synapses_per_branch: usize,
    /// How inputs reach synapses.
    #[config(default = "RoutingKind::None")]
    pub routing: RoutingKind,
    /// Seed of random routing (the indices are then kept in the model).
    #[config(default = 0)]
    pub routing_seed: u64,
    /// Step Δt, ms (tasks use the bin size).
    #[config(default = 1.0)]
    pub dt: f64,
    /// v1 or v2.
    #[config(default = "ElmVersion::V1")]
    pub version: ElmVersion,
    /// v1 only: keep the full `[B,d_s]` synapse trace even when a branch trace is exact.
    #[config(default = false)]
    pub per_synapse_trace: bool,
}

/// Steps whose first-layer input products [`Elm::run`] takes as one matrix product. Larger
/// makes that product more efficient, but each step's slice of it costs its whole size in the
/// backward pass. On the SHD config (T 500, batch 8, Flex, 2 cores), one run: 16 steps 0.18–0.20 s
/// per training step, 32 steps 0.167 s, 64 steps 0.17–0.19 s.
pub const FOLDED_STEPS: usize = 32;

/// Most parameters an ELM may have: 2³¹ f32 are 8 GiB before gradients and optimiser state,
/// beyond any ELM of the paper (the largest, Branch-ELM d_m 100 on NeuronIO, has ~5·10⁵).
pub const MAX_PARAMETERS: f64 = 2147483648.0;

/// One ELM neuron layer with its readout.
#[derive(Module, Debug)]
pub struct Elm {
    /// The integration MLP `[d_b + d_m] → d_m`.
    pub mlp: Mlp,
    /// Synaptic weights before the ReLU, `[d_s]` (`_proto_w_s`).
    pub synapse_weight: Param<Tensor<1>>,
    /// Trace time constants, ms, frozen: τ_s `[d_s]` (v1) or τ_b `[d_b]` (v2).
    pub trace_tau: Param<Tensor<1>>,
    /// τ_m before the scaled sigmoid, `[d_m]` (`_proto_tau_m`).
    pub memory_tau: Param<Tensor<1>>,
    /// Readout `d_m → out` (`w_y`).
    pub readout: Linear,
    /// Routing tables; `None` when synapse k reads input k.
    pub routing: Option<SynapseRouting>,
    /// λ.
    pub lambda: f64,
    /// Δt, ms.
    pub dt: f64,
    /// τ_min, ms.
    pub memory_tau_min: f64,
    /// τ_max, ms (v2: at least τ_min + 3e−6, as the reference guards).
    pub memory_tau_max: f64,
    /// Inputs per step.
    pub input_size: usize,
    /// Branches d_b.
    pub num_branch: usize,
    /// Synapses per branch.
    pub synapses_per_branch: usize,
    /// Whether τ_m trains (kept here because `Param::is_require_grad` is false off autodiff).
    pub learn_memory_tau: bool,
    /// v1: force the per-synapse trace.
    pub per_synapse_trace: bool,
    /// v1 or v2.
    #[module(skip)]
    pub version: ElmVersion,
    /// Whether the filtered-input path may run as one fused operation ([`crate::fused`]):
    /// same numbers; off keeps the step-by-step path everywhere.
    pub fused: bool,
}

/// The recurrent state: the trace (`[B,d_b]`, or `[B,d_s]` on the per-synapse path) and the
/// memory `[B,d_m]`.
#[derive(Clone, Debug)]
pub struct ElmState {
    /// Synapse or branch trace.
    pub trace: Tensor<2>,
    /// Memory m.
    pub memory: Tensor<2>,
}

/// How a step's input reaches the trace.
#[derive(Clone, Debug)]
enum SynapticInput {
    /// One synapse per input, one per branch: `relu(w_s) ⊙ x` `[d_in]`.
    Direct(Tensor<1>),
    /// Routed and summed per branch in one product: `x · W` with `W [d_in,d_b]`.
    BranchMatrix(Tensor<2>),
    /// Routed onto every synapse: `x[idx] ⊙ relu(w_s) ⊙ mask`.
    PerSynapse { indices: Tensor<1, Int>, weight: Tensor<1> },
}

/// What a step needs that depends on the parameters only: computed once per sequence.
#[derive(Clone, Debug)]
pub struct StepCoefficients {
    input: SynapticInput,
    /// κ of every trace when they are all equal (every model the reference builds): the input
    /// can then be filtered before it meets `w_s`, outside the autodiff graph.
    shared_kappa: Option<f64>,
    kappa_trace: Tensor<1>,
    kappa_memory: Tensor<1>,
    memory_gain: Tensor<1>,
}

/// Readout, memory and branch input of every step, from [`Elm::forward_traced`].
#[derive(Clone, Debug)]
pub struct ElmTrace {
    /// `[B,T,out]`.
    pub output: Tensor<3>,
    /// m_t, `[B,T,d_m]`.
    pub memory: Tensor<3>,
    /// b_t (what the MLP sees of the synapses), `[B,T,d_b]`.
    pub branch: Tensor<3>,
}

/// τ_m init exactly as the reference computes it in float32: log-spaced from τ_min + 1e−6 to
/// τ_max − 1e−6, clamped to those bounds, then `ln((τ − τ_min)/(τ_max − τ))`.
pub fn memory_tau_init(n: usize, tau_min: f64, tau_max: f64) -> Vec<f32> {
    let (lo, hi) = ((tau_min + 1e-6).log10(), (tau_max - 1e-6).log10());
    (0..n)
        .map(|i| {
            let exponent = if n == 1 { lo } else { lo + (hi - lo) * i as f64 / (n - 1) as f64 };
            let tau = (10f64.powf(exponent) as f32).clamp((tau_min + 1e-6) as f32, (tau_max - 1e-6) as f32);
            ((tau - tau_min as f32) / (tau_max as f32 - tau)).ln()
        })
        .collect()
}

/// `1.7159·tanh(2x/3)`, computed as the reference does (`x * 2 / 3`).
fn lecun_tanh(x: Tensor<2>) -> Tensor<2> {
    x.mul_scalar(2.0).div_scalar(3.0).tanh().mul_scalar(1.7159)
}

/// `exp(−Δt / max(τ, 1e−6))`, with the scalar divided by the tensor as the reference does
/// (`1/τ` first would round differently).
fn decay(tau: Tensor<1>, dt: f64) -> Tensor<1> {
    let tau = tau.clamp_min(1e-6);
    (tau.ones_like().mul_scalar(-dt) / tau).exp()
}

impl ElmConfig {
    /// Branches: `num_branch`, or one per input.
    pub fn branches(&self) -> usize {
        self.num_branch.unwrap_or(self.input_size)
    }

    /// About how many parameters these sizes make (the MLP's products dominate), in f64 so
    /// that absurd sizes cannot overflow.
    pub fn parameter_estimate(&self) -> f64 {
        let d_m = self.memory_size as f64;
        let hidden = self.mlp_hidden_size.map_or(2.0 * d_m, |h| h as f64);
        let branches = self.branches() as f64;
        let synapses = branches * self.synapses_per_branch as f64;
        let layers = self.mlp_layers as f64;
        let mlp = if self.mlp_layers == 0 {
            (branches + d_m) * d_m
        } else {
            (branches + d_m) * hidden + (layers - 1.0) * hidden * hidden + hidden * d_m
        };
        synapses + mlp + d_m * self.output_size as f64 + self.input_size as f64
    }

    /// Checks the sizes and values, naming the field at fault.
    pub fn validate(&self) -> Result<(), ElmError> {
        let bad = |m: String| Err(ElmError::Invalid(m));
        if self.input_size == 0 || self.output_size == 0 || self.memory_size == 0 {
            return bad("input_size, output_size and memory_size must be at least 1".into());
        }
        if self.branches() == 0 || self.synapses_per_branch == 0 {
            return bad("num_branch and synapses_per_branch must be at least 1".into());
        }
        if self.mlp_hidden_size == Some(0) {
            return bad("mlp_hidden_size must be at least 1".into());
        }
        if !(self.dt > 0.0 && self.dt.is_finite()) {
            return bad(format!("dt = {} must be positive", self.dt));
        }
        if !(self.synapse_tau > 0.0) {
            return bad(format!("synapse_tau = {} must be positive", self.synapse_tau));
        }
        if !(self.memory_tau_min >= 0.0 && self.memory_tau_max > self.memory_tau_min && self.memory_tau_max.is_finite())
        {
            return bad(format!(
                "memory τ bounds must satisfy 0 ≤ memory_tau_min < memory_tau_max < ∞; got {} and {}",
                self.memory_tau_min, self.memory_tau_max
            ));
        }
        if !self.lambda.is_finite() {
            return bad(format!("lambda = {} must be finite", self.lambda));
        }
        if self.per_synapse_trace && self.version == ElmVersion::V2 {
            return bad("per_synapse_trace applies to v1 only (v2 has no synapse trace)".into());
        }
        // Sizes that could never be allocated are refused before anything is (issue 20: a
        // `num_memory` of 10¹² aborted in the allocator). Counted in f64: the products of such
        // sizes overflow usize.
        let parameters = self.parameter_estimate();
        if parameters > MAX_PARAMETERS {
            return bad(format!(
                "these sizes make about {parameters:.3e} parameters (input_size {}, memory_size {}, mlp_hidden_size {:?}, \
                 mlp_layers {}, {} branches × {} synapses), more than the {MAX_PARAMETERS:.0e} neurozoo allocates",
                self.input_size,
                self.memory_size,
                self.mlp_hidden_size,
                self.mlp_layers,
                self.branches(),
                self.synapses_per_branch
            ));
        }
        build_routing(self.routing, self.input_size, self.branches(), self.synapses_per_branch, 0).map(|_| ())
    }

    /// A freshly initialised ELM as the reference initialises it.
    pub fn init(&self, device: &Device) -> Result<Elm, ElmError> {
        self.validate()?;
        let branches = self.branches();
        let synapses = branches * self.synapses_per_branch;
        let d_m = self.memory_size;
        let hidden = self.mlp_hidden_size.unwrap_or(2 * d_m);
        let tau_max = match self.version {
            ElmVersion::V1 => self.memory_tau_max,
            ElmVersion::V2 => self.memory_tau_max.max(self.memory_tau_min + 3e-6),
        };
        let routing =
            build_routing(self.routing, self.input_size, branches, self.synapses_per_branch, self.routing_seed)?
                .map(|(indices, mask)| SynapseRouting::new(&indices, &mask, device));
        let trace_size = match self.version {
            ElmVersion::V1 => synapses,
            ElmVersion::V2 => branches,
        };
        let tau_init = memory_tau_init(d_m, self.memory_tau_min, tau_max);
        let elm = Elm {
            mlp: Mlp::new(branches + d_m, hidden, d_m, self.mlp_layers, self.mlp_activation, device),
            synapse_weight: Param::from_tensor(Tensor::full([synapses], self.synapse_weight_init, device)),
            trace_tau: Param::from_tensor(Tensor::full([trace_size], self.synapse_tau, device)),
            memory_tau: Param::from_data(TensorData::new(tau_init, [d_m]), device),
            readout: torch_linear(d_m, self.output_size, device),
            routing,
            lambda: self.lambda,
            dt: self.dt,
            memory_tau_min: self.memory_tau_min,
            memory_tau_max: tau_max,
            input_size: self.input_size,
            num_branch: branches,
            synapses_per_branch: self.synapses_per_branch,
            learn_memory_tau: self.learn_memory_tau,
            per_synapse_trace: self.per_synapse_trace,
            version: self.version,
            fused: true,
        };
        Ok(elm.with_memory_tau_learned(self.learn_memory_tau))
    }
}

impl Elm {
    /// Memory units d_m.
    pub fn memory_size(&self) -> usize {
        self.memory_tau.dims()[0]
    }

    /// Synapses d_s.
    pub fn num_synapses(&self) -> usize {
        self.synapse_weight.dims()[0]
    }

    /// Readout size.
    pub fn output_size(&self) -> usize {
        self.readout.weight.dims()[1]
    }

    /// Sets whether τ_m trains; the frozen trace τ never does.
    pub fn with_memory_tau_learned(mut self, learned: bool) -> Self {
        self.learn_memory_tau = learned;
        self.memory_tau = self.memory_tau.set_require_grad(learned);
        self.trace_tau = self.trace_tau.set_require_grad(false);
        if let Some(routing) = self.routing.take() {
            self.routing =
                Some(SynapseRouting { indices: routing.indices, mask: routing.mask.set_require_grad(false) });
        }
        self
    }

    /// Parameters that train, counted as the reference counts them: the MLP, the readout,
    /// `w_s`, and τ_m when it trains (NeuronIO Branch-ELM d_m = 20: 8,002).
    pub fn num_trainable_params(&self) -> usize {
        let mlp: usize = self.mlp.layers.iter().map(|l| l.num_params()).sum();
        let tau = if self.learn_memory_tau { self.memory_size() } else { 0 };
        mlp + self.readout.num_params() + self.num_synapses() + tau
    }

    /// τ_m, ms: `(τ_max − τ_min)·σ(p_m) + τ_min`.
    pub fn memory_tau_ms(&self) -> Tensor<1> {
        sigmoid(self.memory_tau.val())
            .mul_scalar(self.memory_tau_max - self.memory_tau_min)
            .add_scalar(self.memory_tau_min)
    }

    /// Whether v1 must keep the per-synapse trace: forced, or τ_s differ within a branch.
    fn needs_synapse_trace(&self, taus: &[f32]) -> bool {
        if self.version == ElmVersion::V2 || self.synapses_per_branch == 1 {
            return false;
        }
        if self.per_synapse_trace {
            return true;
        }
        !taus.chunks(self.synapses_per_branch).all(|branch| branch.iter().all(|&t| t == branch[0]))
    }

    /// The trace τ on the host (a few thousand values at most).
    fn trace_taus(&self) -> Vec<f32> {
        self.trace_tau.val().into_data().convert::<f32>().try_into_vec().unwrap_or_default()
    }

    /// The per-sequence coefficients of [`Elm::step`].
    pub fn coefficients(&self) -> StepCoefficients {
        let device = self.synapse_weight.device();
        let (d_in, d_b, per_branch) = (self.input_size, self.num_branch, self.synapses_per_branch);
        let synapses = self.num_synapses();
        let weight = relu(self.synapse_weight.val());
        let (indices, weight) = match &self.routing {
            Some(r) => (r.indices.val(), weight * r.mask.val()),
            None => (Tensor::<1, Int>::arange(0..synapses as i64, &device), weight),
        };
        let tau_m = self.memory_tau_ms();
        let kappa_memory = decay(tau_m.clone(), self.dt);
        let memory_gain = match self.version {
            ElmVersion::V1 => kappa_memory.clone().neg().add_scalar(1.0).mul_scalar(self.lambda),
            // κ_λ = exp(−Δt·λ/τ_m), the product taken first as the reference does.
            ElmVersion::V2 => decay(tau_m, self.dt * self.lambda).neg().add_scalar(1.0),
        };
        let tau = self.trace_tau.val();
        let taus = self.trace_taus();
        let per_synapse = self.needs_synapse_trace(&taus);
        let shared_kappa = match taus.first() {
            Some(&first) if !per_synapse && taus.iter().all(|&t| t == first) => {
                Some(f64::from((-(self.dt as f32) / first.max(1e-6)).exp()))
            }
            _ => None,
        };
        let (input, kappa_trace) = if per_synapse {
            (SynapticInput::PerSynapse { indices, weight }, decay(tau, self.dt))
        } else {
            let kappa = match self.version {
                // One τ per branch: the first synapse's.
                ElmVersion::V1 if per_branch > 1 => {
                    decay(tau.reshape([d_b, per_branch]).narrow(1, 0, 1).reshape([d_b]), self.dt)
                }
                _ => decay(tau, self.dt),
            };
            let input = if self.routing.is_none() && per_branch == 1 {
                SynapticInput::Direct(weight)
            } else {
                let branch_of = Tensor::<1, Int>::arange(0..synapses as i64, &device).div_scalar(per_branch as i64);
                let positions = indices.mul_scalar(d_b as i64) + branch_of;
                let matrix = Tensor::<1>::zeros([d_in * d_b], &device)
                    .select_assign(0, positions, weight, IndexingUpdateOp::Add)
                    .reshape([d_in, d_b]);
                SynapticInput::BranchMatrix(matrix)
            };
            (input, kappa)
        };
        StepCoefficients { input, shared_kappa, kappa_trace, kappa_memory, memory_gain }
    }

    /// The zero state of the reference, for a batch of `batch` sequences.
    pub fn zero_state(&self, batch: usize, coefficients: &StepCoefficients, device: &Device) -> ElmState {
        ElmState {
            trace: Tensor::zeros([batch, coefficients.kappa_trace.dims()[0]], device),
            memory: Tensor::zeros([batch, self.memory_size()], device),
        }
    }

    /// `x` weighted onto the branches (or synapses): `relu(w_s) ⊙ x`, summed per branch.
    fn drive(c: &StepCoefficients, x: Tensor<2>) -> Tensor<2> {
        match &c.input {
            SynapticInput::Direct(weight) => x * weight.clone().unsqueeze(),
            SynapticInput::BranchMatrix(matrix) => x.matmul(matrix.clone()),
            SynapticInput::PerSynapse { indices, weight } => x.select(1, indices.clone()) * weight.clone().unsqueeze(),
        }
    }

    /// The memory update from the branch input b_t and the previous memory.
    fn update_memory(&self, c: &StepCoefficients, branch: Tensor<2>, memory: Tensor<2>) -> Tensor<2> {
        let decayed = memory * c.kappa_memory.clone().unsqueeze();
        let delta = lecun_tanh(self.mlp.forward(Tensor::cat(vec![branch, decayed.clone()], 1)));
        decayed + delta * c.memory_gain.clone().unsqueeze()
    }

    /// One step: `x [B,in]` and the previous state → the new state (and the branch input b_t).
    pub fn step(&self, c: &StepCoefficients, x: Tensor<2>, state: ElmState) -> (ElmState, Tensor<2>) {
        let [batch, _] = x.dims();
        let trace = state.trace * c.kappa_trace.clone().unsqueeze() + Self::drive(c, x);
        let branch = match &c.input {
            SynapticInput::PerSynapse { .. } => trace
                .clone()
                .reshape([batch, self.num_branch, self.synapses_per_branch])
                .sum_dim(2)
                .reshape([batch, self.num_branch]),
            _ => trace.clone(),
        };
        let memory = self.update_memory(c, branch.clone(), state.memory);
        (ElmState { trace, memory }, branch)
    }

    /// Runs `[B,T,in]` from `state` (zero when `None`): the memory of every step, the branch
    /// inputs when asked, and the final state.
    pub fn run(
        &self,
        input: Tensor<3>,
        state: Option<ElmState>,
        keep_branch: bool,
    ) -> (Vec<Tensor<2>>, Vec<Tensor<2>>, ElmState) {
        let [batch, steps, features] = input.dims();
        assert_eq!(features, self.input_size, "the ELM expects {} inputs per step, got {features}", self.input_size);
        let device = input.device();
        let c = self.coefficients();
        if let (Some(kappa), None) = (c.shared_kappa, &state) {
            return self.run_filtered(&c, input, kappa, keep_branch);
        }
        let mut memories = Vec::with_capacity(steps);
        let mut branches = Vec::new();
        let mut state = state.unwrap_or_else(|| self.zero_state(batch, &c, &device));
        // Slicing the input (which needs no gradient) per step keeps BPTT linear in T; slicing
        // a tensor that needs one would cost O(T²) in its backward pass.
        for x in input.split(1, 1) {
            let (next, branch) = self.step(&c, x.squeeze_dim::<2>(1), state);
            state = next;
            memories.push(state.memory.clone());
            if keep_branch {
                branches.push(branch);
            }
        }
        (memories, branches, state)
    }

    /// [`Elm::run`] from zero state when every trace has the same κ. Then b_t = W·x̃_t with the
    /// filtered input x̃_t = κ x̃_{t−1} + x_t: the filter runs on the input, which needs no
    /// gradient, so BPTT keeps nothing for the trace. And b_t meets the parameters only in the
    /// MLP's first layer, `[b_t, κ_m ⊙ m_{t−1}]·W₁ = x̃_t·(W W₁ᵇ) + (κ_m ⊙ m_{t−1})·W₁ᵐ`: the
    /// first term needs no memory, so it is one large product for [`FOLDED_STEPS`] steps at
    /// once instead of a small one per step (at batch 8 the per-step products were most of
    /// the time, and their backward also computed an input gradient nothing needs).
    fn run_filtered(
        &self,
        c: &StepCoefficients,
        input: Tensor<3>,
        kappa: f64,
        keep_branch: bool,
    ) -> (Vec<Tensor<2>>, Vec<Tensor<2>>, ElmState) {
        let [batch, steps, features] = input.dims();
        let device = input.device();
        let first = &self.mlp.layers[0];
        let weight = first.weight.val();
        let width = weight.dims()[1];
        let memory_rows = weight.clone().narrow(0, self.num_branch, self.memory_size());
        let branch_rows = weight.narrow(0, 0, self.num_branch);
        let folded = match &c.input {
            SynapticInput::Direct(w) => branch_rows * w.clone().unsqueeze_dim::<2>(1),
            SynapticInput::BranchMatrix(matrix) => matrix.clone().matmul(branch_rows),
            SynapticInput::PerSynapse { .. } => unreachable!("per-synapse traces never share a κ"),
        };
        let bias = first.bias.as_ref().map(|b| b.val().reshape([1, 1, width]));
        let mut filtered = Tensor::<2>::zeros([batch, features], &device);
        let mut memory = Tensor::<2>::zeros([batch, self.memory_size()], &device);
        let mut memories = Vec::with_capacity(steps);
        let mut branches = Vec::new();
        for chunk in input.split(FOLDED_STEPS, 1) {
            let len = chunk.dims()[1];
            let mut chunk_filtered = Vec::with_capacity(len);
            for x in chunk.split(1, 1) {
                filtered = filtered.mul_scalar(kappa) + x.squeeze_dim::<2>(1);
                if keep_branch {
                    branches.push(Self::drive(c, filtered.clone()));
                }
                chunk_filtered.push(filtered.clone());
            }
            let stacked = Tensor::stack::<3>(chunk_filtered, 1).reshape([batch * len, features]);
            let mut from_input = stacked.matmul(folded.clone()).reshape([batch, len, width]);
            if let Some(bias) = &bias {
                from_input = from_input + bias.clone();
            }
            for from_input in from_input.split(1, 1) {
                let decayed = memory * c.kappa_memory.clone().unsqueeze();
                let first_layer = from_input.squeeze_dim::<2>(1) + decayed.clone().matmul(memory_rows.clone());
                let delta = lecun_tanh(self.mlp.after_first_layer(first_layer));
                memory = decayed + delta * c.memory_gain.clone().unsqueeze();
                memories.push(memory.clone());
            }
        }
        let trace = Self::drive(c, filtered);
        (memories, branches, ElmState { trace, memory })
    }

    /// Sets whether the filtered-input path may take the fused operation.
    pub fn with_fused(mut self, fused: bool) -> Self {
        self.fused = fused;
        self
    }

    /// Whether [`Self::forward`] on `device` runs the fused sequence: allowed, a backend that
    /// has it, one shared trace κ (every model the reference builds), and biases on every MLP
    /// layer after the first (as the reference's).
    pub fn takes_fused_path(&self, device: &Device) -> bool {
        let widths: Vec<usize> = self.mlp.layers.iter().map(|l| l.weight.dims()[1]).collect();
        self.fused
            && fused_supported_for(device, &widths)
            && self.coefficients().shared_kappa.is_some()
            && self.mlp.layers[1..].iter().all(|l| l.bias.is_some())
    }

    /// Bytes the fused operation keeps for its backward pass over `batch` sequences of `steps`
    /// steps: the memories and every MLP layer's pre-activation at every step (f32). Burn's
    /// graph keeps the input projection beside it.
    pub fn fused_kept_bytes(&self, batch: usize, steps: usize) -> usize {
        let widths: usize = self.mlp.layers.iter().map(|l| l.weight.dims()[1]).sum();
        4 * steps * batch * (self.memory_size() + widths)
    }

    /// Runs `[B,T,in]` from `start` (`None`: the zero state) and returns the state after the
    /// last step: the fused operation where [`Self::takes_fused_path`], else [`Self::run`].
    pub fn run_to_end(&self, input: Tensor<3>, start: Option<ElmState>) -> ElmState {
        if let Some(run) = self.run_fused(&input, start.clone()) {
            return run.end;
        }
        self.run(input, start, false).2
    }

    /// The filtered-input path as one fused operation, from the zero state or from `start`:
    /// the memories `[T,B,d_m]` (time-major), the filtered input `[T,B,in]` (of this
    /// segment's input alone) and the end state, or `None` where the step-by-step path must
    /// run.
    ///
    /// A start trace s₀ is in branch space, and with one shared κ it only decays: the trace
    /// after k steps is `drive(x̃_k) + κᵏ s₀`, so the first layer's input gains `κᵏ·(s₀ W₁ᵇ)`,
    /// ordinary differentiable tensor code, and s₀'s gradient comes back through it. The start
    /// memory goes into the operation, whose backward returns its gradient.
    fn run_fused(&self, input: &Tensor<3>, start: Option<ElmState>) -> Option<FusedElmRun> {
        let device = input.device();
        if !self.takes_fused_path(&device) {
            return None;
        }
        let c = self.coefficients();
        let kappa = c.shared_kappa?;
        let [batch, steps, features] = input.dims();
        let first = &self.mlp.layers[0];
        let weight = first.weight.val();
        let width = weight.dims()[1];
        let folded = match &c.input {
            SynapticInput::Direct(w) => weight.clone().narrow(0, 0, self.num_branch) * w.clone().unsqueeze_dim::<2>(1),
            SynapticInput::BranchMatrix(matrix) => matrix.clone().matmul(weight.clone().narrow(0, 0, self.num_branch)),
            SynapticInput::PerSynapse { .. } => return None,
        };
        let (layers, mut widths) = flatten_layers(&self.mlp.layers[1..], &device)?;
        widths.insert(0, width);
        let filtered = filter_time_major(input, kappa);
        let mut first_layer_input =
            filtered.clone().reshape([steps * batch, features]).matmul(folded).reshape([steps, batch, width]);
        if let Some(bias) = &first.bias {
            first_layer_input = first_layer_input + bias.val().reshape([1, 1, width]);
        }
        // κᵏ for k = 1..T, by repeated f32 products as the step-by-step trace decays.
        let mut power = 1.0f32;
        let powers: Vec<f32> = (0..steps)
            .map(|_| {
                power *= kappa as f32;
                power
            })
            .collect();
        let (start_trace, start_memory) = match start {
            Some(state) => (Some(state.trace), state.memory),
            None => (None, Tensor::zeros([batch, self.memory_size()], &device)),
        };
        if let Some(trace) = &start_trace {
            let decay =
                Tensor::<1>::from_data(TensorData::new(powers.clone(), [steps]), &device).reshape([steps, 1, 1]);
            let reached = trace.clone().matmul(weight.clone().narrow(0, 0, self.num_branch));
            first_layer_input = first_layer_input + decay * reached.unsqueeze::<3>();
        }
        let memory = elm_sequence(
            first_layer_input,
            start_memory,
            weight.narrow(0, self.num_branch, self.memory_size()),
            c.kappa_memory.clone(),
            c.memory_gain.clone(),
            layers,
            ElmScalars { widths, activation: self.mlp.activation },
        );
        let last_filtered = filtered.clone().narrow(0, steps - 1, 1).reshape([batch, features]);
        let mut trace = Self::drive(&c, last_filtered);
        if let Some(start) = start_trace {
            trace = trace + start.mul_scalar(powers[steps - 1]);
        }
        let end =
            ElmState { trace, memory: memory.clone().narrow(0, steps - 1, 1).reshape([batch, self.memory_size()]) };
        Some(FusedElmRun { memory, filtered, end })
    }

    /// The readout at every step, `[B,T,in] → [B,T,out]` (the reference's `forward`).
    pub fn forward(&self, input: Tensor<3>) -> Tensor<3> {
        if let Some(run) = self.run_fused(&input, None) {
            return self.readout.forward(run.memory).swap_dims(0, 1);
        }
        let (memories, _, _) = self.run(input, None, false);
        self.readout.forward(Tensor::stack::<3>(memories, 1))
    }

    /// The readout at the last step only, `[B,out]`.
    pub fn forward_last(&self, input: Tensor<3>) -> Tensor<2> {
        if let Some(run) = self.run_fused(&input, None) {
            return self.readout.forward(run.end.memory);
        }
        let (_, _, state) = self.run(input, None, false);
        self.readout.forward(state.memory)
    }

    /// Readout, memory and branch input at every step.
    pub fn forward_traced(&self, input: Tensor<3>) -> ElmTrace {
        if let Some(FusedElmRun { memory, filtered, .. }) = self.run_fused(&input, None) {
            let [steps, batch, features] = filtered.dims();
            let c = self.coefficients();
            let branch = Self::drive(&c, filtered.reshape([steps * batch, features]));
            let branch = branch.reshape([steps, batch, self.num_branch]).swap_dims(0, 1);
            let memory = memory.swap_dims(0, 1);
            return ElmTrace { output: self.readout.forward(memory.clone()), memory, branch };
        }
        let (memories, branches, _) = self.run(input, None, true);
        let memory = Tensor::stack::<3>(memories, 1);
        ElmTrace { output: self.readout.forward(memory.clone()), memory, branch: Tensor::stack::<3>(branches, 1) }
    }
}

/// What the fused path of [`Elm::run_fused`] returns.
struct FusedElmRun {
    /// Memories `[T,B,d_m]`, time-major.
    memory: Tensor<3>,
    /// This segment's filtered input `[T,B,in]`, time-major (the start trace not included).
    filtered: Tensor<3>,
    /// The state after the last step.
    end: ElmState,
}

impl fused::Recurrence for Elm {
    type State = ElmState;

    fn run_segment_to_end(&self, input: Tensor<3>, start: Option<ElmState>) -> ElmState {
        self.run_to_end(input, start)
    }

    fn readout_end(&self, end: &ElmState) -> Tensor<2> {
        self.readout.forward(end.memory.clone())
    }

    fn state_into_parts(state: ElmState) -> Vec<Tensor<3>> {
        vec![state.trace.unsqueeze(), state.memory.unsqueeze()]
    }

    fn state_from_parts(parts: Vec<Tensor<3>>, _like: &ElmState) -> ElmState {
        let [trace, memory]: [Tensor<3>; 2] = parts.try_into().expect("an ELM state has a trace and a memory");
        ElmState { trace: trace.squeeze_dim(0), memory: memory.squeeze_dim(0) }
    }
}

/// The filtered input `x̃_t = κ x̃_{t−1} + x_t` of `[B,T,in]`, time-major `[T,B,in]`, computed
/// on the host in f32 as the step-by-step path computes it. The input carries no gradient.
fn filter_time_major(input: &Tensor<3>, kappa: f64) -> Tensor<3> {
    let [batch, steps, features] = input.dims();
    let values: Vec<f32> = input.clone().into_data().convert::<f32>().try_into_vec().unwrap_or_default();
    let kappa = kappa as f32;
    let mut out = vec![0.0f32; values.len()];
    for b in 0..batch {
        let mut previous: Option<usize> = None;
        for t in 0..steps {
            let from = (b * steps + t) * features;
            let to = (t * batch + b) * features;
            for i in 0..features {
                let carried = previous.map_or(0.0, |p| out[p + i]);
                out[to + i] = carried * kappa + values[from + i];
            }
            previous = Some(to);
        }
    }
    Tensor::from_data(TensorData::new(out, [steps, batch, features]), &input.device())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    fn device() -> Device {
        Device::flex()
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_into_vec().unwrap()
    }

    fn set_param<const D: usize>(p: &mut Param<Tensor<D>>, v: Tensor<D>) {
        *p = Param::from_tensor(v);
    }

    /// Reference parameter counts (spec §1.6, the released models' `model_stats.json`).
    #[test]
    fn parameter_counts_equal_the_reference() {
        let dev = device();
        let neuronio = |d_m| {
            ElmConfig::new(1278, 2)
                .with_memory_size(d_m)
                .with_memory_tau_max(150.0)
                .with_num_branch(Some(45))
                .with_synapses_per_branch(100)
                .with_routing(RoutingKind::Neuronio)
                .init(&dev)
                .unwrap()
                .num_trainable_params()
        };
        assert_eq!(neuronio(1), 4_601);
        assert_eq!(neuronio(10), 5_852);
        assert_eq!(neuronio(20), 8_002);
        assert_eq!(neuronio(100), 54_002);
        let pathfinder = ElmConfig::new(16, 2).with_memory_size(150).with_learn_memory_tau(true).init(&dev).unwrap();
        assert_eq!(pathfinder.num_trainable_params(), 95_718);
        let shd = ElmConfig::new(700, 19).init(&dev).unwrap();
        assert_eq!(shd.num_trainable_params(), 182_919);
        let shd_branch = ElmConfig::new(700, 19)
            .with_num_branch(Some(100))
            .with_synapses_per_branch(15)
            .with_routing(RoutingKind::Random)
            .init(&dev)
            .unwrap();
        assert_eq!(shd_branch.num_trainable_params(), 63_719);
    }

    /// The reference's float32 τ_m init: log-spaced, and +∞ at the top because τ_max − 1e−6
    /// rounds onto τ_max in float32.
    #[test]
    fn memory_tau_init_reproduces_the_float32_reference() {
        let p = memory_tau_init(3, 1.0, 100.0);
        assert!(p[2].is_infinite() && p[2] > 0.0);
        // Middle: τ = 10^((log10(1+1e−6) + log10(100−1e−6))/2) ≈ 10 → ln(9/90).
        assert!((p[1] - (9.0f32 / 90.0).ln()).abs() < 1e-5, "{}", p[1]);
        // Bottom: τ = 1 + 1e−6 in f32 is 1.000001 → ln(≈1e−6/99), to f32 rounding of 1e−6.
        assert!((p[0] - (1.0e-6f32 / 99.0).ln()).abs() < 0.2, "{}", p[0]);
        let elm = ElmConfig::new(2, 1).with_memory_size(3).with_memory_tau_max(100.0).init(&device()).unwrap();
        let tau = values(elm.memory_tau_ms());
        assert!((tau[0] - 1.0).abs() < 1e-5 && (tau[1] - 10.0).abs() < 1e-3 && tau[2] == 100.0, "{tau:?}");
        assert_eq!(memory_tau_init(1, 1.0, 150.0).len(), 1);
    }

    /// One step of a vanilla ELM with one memory unit, by hand:
    /// x = [1, 2], w_s = relu([0.5, −1]) = [0.5, 0], τ_s = 5 → s_1 = [0.5, 0], b_1 = s_1;
    /// m_0 = 0, MLP with no hidden layer: W = [0.2, 0.4, 1.0], bias 0.1 →
    /// a = 0.2·0.5 + 0.1 = 0.2, Δm = 1.7159·tanh(0.2·2/3);
    /// τ_m = 10 → κ_m = e^{−0.1}; v1: m_1 = 5·(1 − κ_m)·Δm; v2: m_1 = (1 − e^{−0.5})·Δm.
    /// Readout y = 2·m_1 − 1. Step 2 with x = 0: s_2 = κ_s s_1 = 0.5e^{−0.2},
    /// a_2 = 0.2·s_2 + 1.0·κ_m m_1 + 0.1.
    #[test]
    fn two_steps_by_hand() {
        let dev = device();
        for version in [ElmVersion::V1, ElmVersion::V2] {
            let mut elm = ElmConfig::new(2, 1)
                .with_memory_size(1)
                .with_mlp_layers(0)
                .with_memory_tau_min(0.0)
                .with_memory_tau_max(20.0)
                .with_version(version)
                .init(&dev)
                .unwrap();
            set_param(&mut elm.synapse_weight, Tensor::from_floats([0.5, -1.0], &dev));
            // σ(0) = 0.5 → τ_m = 10.
            set_param(&mut elm.memory_tau, Tensor::zeros([1], &dev));
            set_param(&mut elm.mlp.layers[0].weight, Tensor::from_floats([[0.2], [0.4], [1.0]], &dev));
            elm.mlp.layers[0].bias = Some(Param::from_tensor(Tensor::from_floats([0.1], &dev)));
            set_param(&mut elm.readout.weight, Tensor::from_floats([[2.0]], &dev));
            elm.readout.bias = Some(Param::from_tensor(Tensor::from_floats([-1.0], &dev)));
            let x = Tensor::<3>::from_floats([[[1.0, 2.0], [0.0, 0.0]]], &dev);
            let y = values(elm.forward(x));

            let lecun = |a: f64| 1.7159 * (a * 2.0 / 3.0).tanh();
            let kappa_m = (-0.1f64).exp();
            let gain = match version {
                ElmVersion::V1 => 5.0 * (1.0 - kappa_m),
                ElmVersion::V2 => 1.0 - (-0.5f64).exp(),
            };
            let m1 = gain * lecun(0.2);
            let s2 = 0.5 * (-0.2f64).exp();
            let m2 = kappa_m * m1 + gain * lecun(0.2 * s2 + kappa_m * m1 + 0.1);
            let expected = [2.0 * m1 - 1.0, 2.0 * m2 - 1.0];
            for (got, want) in y.iter().zip(expected) {
                assert!((*got as f64 - want).abs() < 1e-6, "{version:?}: {y:?} vs {expected:?}");
            }
        }
    }

    fn routed(version: ElmVersion, routing: RoutingKind, per_synapse: bool, dev: &Device) -> Elm {
        let (inputs, branches, per) = match routing {
            RoutingKind::Neuronio => (12, 3, 5),
            _ => (4, 3, 4),
        };
        let mut elm = ElmConfig::new(inputs, 2)
            .with_memory_size(3)
            .with_num_branch(Some(branches))
            .with_synapses_per_branch(per)
            .with_routing(routing)
            .with_routing_seed(3)
            .with_learn_memory_tau(true)
            .with_version(version)
            .with_per_synapse_trace(per_synapse)
            .init(dev)
            .unwrap();
        // Distinct weights, some negative (zero after the ReLU).
        let w: Vec<f32> = (0..branches * per).map(|k| ((k * 7 % 11) as f32 - 3.0) / 8.0).collect();
        set_param(&mut elm.synapse_weight, Tensor::from_data(TensorData::new(w, [branches * per]), dev));
        elm
    }

    fn forward_and_grads(elm: &Elm, x: Tensor<3>) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let y = elm.forward(x);
        let grads = y.clone().square().sum().backward();
        let gw = values(elm.synapse_weight.val().grad(&grads).unwrap());
        let gt = values(elm.memory_tau.val().grad(&grads).unwrap());
        (values(y), gw, gt)
    }

    /// With one τ_s per branch, the branch trace (with the routing folded into one matrix) and
    /// the reference's per-synapse trace give the same outputs and gradients, for random
    /// routing with repeated inputs and for NeuronIO routing with masked padding.
    #[test]
    fn branch_trace_equals_the_per_synapse_trace() {
        let dev = device().autodiff();
        for routing in [RoutingKind::Random, RoutingKind::Neuronio, RoutingKind::None] {
            let routing = if routing == RoutingKind::None { RoutingKind::Random } else { routing };
            let fast = routed(ElmVersion::V1, routing, false, &dev);
            let exact = routed(ElmVersion::V1, routing, true, &dev);
            let exact = Elm {
                mlp: fast.mlp.clone(),
                readout: fast.readout.clone(),
                memory_tau: fast.memory_tau.clone(),
                ..exact
            };
            assert!(!fast.needs_synapse_trace(&fast.trace_taus()) && exact.needs_synapse_trace(&exact.trace_taus()));
            let inputs = fast.input_size;
            let x = Tensor::<3>::random([2, 7, inputs], Distribution::Normal(0.0, 1.0), &dev);
            let (y1, w1, t1) = forward_and_grads(&fast, x.clone());
            let (y2, w2, t2) = forward_and_grads(&exact, x);
            for (a, b) in [(y1, y2), (w1, w2), (t1, t2)] {
                for (p, q) in a.iter().zip(&b) {
                    assert!((p - q).abs() <= 1e-5 * (1.0 + q.abs()), "{routing:?}: {a:?} vs {b:?}");
                }
            }
        }
    }

    /// v1 and v2 agree on everything but the memory update: same branch inputs b_t, and with
    /// the MLP's output fixed (a zero-weight linear MLP, Δm = 1.7159·tanh(⅔·bias)), memories
    /// that follow m_t = κ m_{t−1} + g·Δm with each version's gain g.
    #[test]
    fn v1_and_v2_differ_only_in_the_memory_update() {
        let dev = device();
        let v1 = routed(ElmVersion::V1, RoutingKind::Random, false, &dev);
        let mut v2 = routed(ElmVersion::V2, RoutingKind::Random, false, &dev);
        v2.trace_tau = Param::from_tensor(Tensor::full([3], 5.0, &dev));
        let x = Tensor::<3>::random([2, 6, 4], Distribution::Normal(0.0, 1.0), &dev);
        let (b1, b2) = (values(v1.forward_traced(x.clone()).branch), values(v2.forward_traced(x.clone()).branch));
        for (p, q) in b1.iter().zip(&b2) {
            assert!((p - q).abs() < 1e-5, "{b1:?} vs {b2:?}");
        }

        for mut elm in [v1, v2] {
            let version = elm.version;
            elm.mlp = Mlp::new(3 + 3, 1, 3, 0, MlpActivation::Relu, &dev);
            set_param(&mut elm.mlp.layers[0].weight, Tensor::zeros([6, 3], &dev));
            elm.mlp.layers[0].bias = Some(Param::from_tensor(Tensor::from_floats([0.3, -0.6, 0.9], &dev)));
            let memory = values(elm.forward_traced(x.clone()).memory);
            let tau = values(elm.memory_tau_ms());
            for (j, bias) in [0.3f64, -0.6, 0.9].into_iter().enumerate() {
                let delta = 1.7159 * (bias * 2.0 / 3.0).tanh();
                let tau = tau[j] as f64;
                let kappa = (-1.0 / tau).exp();
                let gain = match version {
                    ElmVersion::V1 => 5.0 * (1.0 - kappa),
                    ElmVersion::V2 => 1.0 - (-5.0 / tau).exp(),
                };
                let mut m = 0.0;
                for t in 0..6 {
                    m = kappa * m + gain * delta;
                    let got = memory[t * 3 + j] as f64;
                    assert!((got - m).abs() < 1e-5 * (1.0 + m.abs()), "{version:?} t {t} unit {j}: {got} vs {m}");
                }
            }
        }
    }

    /// The filtered-input path (zero state, one shared κ, the first layer's input product folded
    /// over time) and the step-by-step trace (taken when a state is given) agree, outputs and
    /// gradients, for every input kind and MLP depth, over more steps than one fold.
    #[test]
    fn filtered_input_path_equals_the_stepwise_trace() {
        let dev = device().autodiff();
        let vanilla = ElmConfig::new(5, 2).with_memory_size(3).with_learn_memory_tau(true).init(&dev).unwrap();
        let linear = ElmConfig::new(5, 2).with_memory_size(3).with_mlp_layers(0).init(&dev).unwrap();
        let mut deep = routed(ElmVersion::V2, RoutingKind::Random, false, &dev);
        deep.mlp = Mlp::new(3 + 3, 4, 3, 2, MlpActivation::Silu, &dev);
        for elm in [vanilla, linear, deep, routed(ElmVersion::V1, RoutingKind::Neuronio, false, &dev)] {
            assert!(elm.coefficients().shared_kappa.is_some());
            let steps = FOLDED_STEPS + 5;
            let x = Tensor::<3>::random([2, steps, elm.input_size], Distribution::Normal(0.0, 1.0), &dev);
            let zero = elm.zero_state(2, &elm.coefficients(), &dev);
            let loss = |memories: Vec<Tensor<2>>| elm.readout.forward(Tensor::stack::<3>(memories, 1)).square().sum();
            let (fast_memories, _, fast_end) = elm.run(x.clone(), None, false);
            let (stepwise_memories, _, stepwise_end) = elm.run(x, Some(zero), false);
            assert_eq!(fast_memories.len(), steps);
            fast_end.trace.to_data().assert_approx_eq::<f32>(&stepwise_end.trace.to_data(), Tolerance::absolute(1e-5));
            let (fast, stepwise) = (loss(fast_memories), loss(stepwise_memories));
            let (a, b) = (fast.clone().into_scalar::<f64>(), stepwise.clone().into_scalar::<f64>());
            assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
            let (ga, gb) = (fast.backward(), stepwise.backward());
            let first = &elm.mlp.layers[0];
            let bias = first.bias.as_ref().unwrap().val();
            let weight = first.weight.val();
            let pairs = [
                (elm.synapse_weight.val().grad(&ga).map(values), elm.synapse_weight.val().grad(&gb).map(values)),
                (elm.memory_tau.val().grad(&ga).map(values), elm.memory_tau.val().grad(&gb).map(values)),
                (bias.grad(&ga).map(values), bias.grad(&gb).map(values)),
                (weight.grad(&ga).map(values), weight.grad(&gb).map(values)),
            ];
            for (i, (u, v)) in pairs.into_iter().enumerate() {
                assert_eq!(u.is_some(), v.is_some(), "parameter {i}");
                for (p, q) in u.iter().flatten().zip(v.iter().flatten()) {
                    assert!((p - q).abs() <= 1e-4 * (1.0 + q.abs()), "parameter {i}: {u:?} vs {v:?}");
                }
            }
            assert!(elm.mlp.layers[0].weight.val().grad(&ga).is_some());
        }
    }

    #[test]
    fn forward_last_is_the_last_step_of_forward() {
        let dev = device();
        let elm = routed(ElmVersion::V1, RoutingKind::Neuronio, false, &dev);
        let x = Tensor::<3>::random([3, 5, 12], Distribution::Normal(0.0, 1.0), &dev);
        let all = elm.forward(x.clone()).narrow(1, 4, 1).squeeze_dim::<2>(1);
        all.to_data().assert_approx_eq::<f32>(&elm.forward_last(x).to_data(), Tolerance::absolute(1e-6));
    }

    /// Gradients of every kind of parameter against central finite differences (f64 sums of
    /// f32 forwards, step 1e−2 on a smooth loss; SiLU and two hidden layers).
    #[test]
    fn gradients_match_finite_differences() {
        let dev = device().autodiff();
        let mut elm = ElmConfig::new(4, 2)
            .with_memory_size(3)
            .with_mlp_layers(2)
            .with_mlp_hidden_size(Some(5))
            .with_mlp_activation(MlpActivation::Silu)
            .with_num_branch(Some(2))
            .with_synapses_per_branch(3)
            .with_routing(RoutingKind::Random)
            .with_learn_memory_tau(true)
            .with_memory_tau_max(30.0)
            .with_version(ElmVersion::V2)
            .init(&dev)
            .unwrap();
        set_param(&mut elm.synapse_weight, Tensor::from_floats([0.5, 0.9, 0.2, 0.7, 1.1, 0.4], &dev));
        set_param(&mut elm.memory_tau, Tensor::from_floats([-1.0, 0.3, 1.2], &dev));
        let x = Tensor::<3>::random([2, 6, 4], Distribution::Normal(0.0, 1.0), &dev);
        let loss = |elm: &Elm| elm.forward(x.clone()).square().sum();
        let grads = loss(&elm).backward();
        let analytic = [
            values(elm.synapse_weight.val().grad(&grads).unwrap()),
            values(elm.memory_tau.val().grad(&grads).unwrap()),
            values(elm.mlp.layers[1].weight.val().grad(&grads).unwrap()),
        ];
        let h = 1e-2f32;
        let perturbed = |which: usize, i: usize, delta: f32| {
            let mut e = elm.clone();
            let p = match which {
                0 => &mut e.synapse_weight,
                1 => &mut e.memory_tau,
                _ => unreachable!(),
            };
            let mut v = values(p.val());
            v[i] += delta;
            let n = v.len();
            set_param(p, Tensor::from_data(TensorData::new(v, [n]), &dev));
            loss(&e).into_scalar::<f64>()
        };
        for which in 0..2 {
            for (i, g) in analytic[which].iter().enumerate() {
                let fd = (perturbed(which, i, h) - perturbed(which, i, -h)) / (2.0 * h as f64);
                assert!((fd - *g as f64).abs() < 2e-2 * (1.0 + fd.abs()), "param {which}[{i}]: fd {fd} vs {g}");
            }
        }
        let w = values(elm.mlp.layers[1].weight.val());
        for i in [0, 7, 19] {
            let at = |delta: f32| {
                let mut e = elm.clone();
                let mut v = w.clone();
                v[i] += delta;
                set_param(&mut e.mlp.layers[1].weight, Tensor::from_data(TensorData::new(v, [5, 5]), &dev));
                loss(&e).into_scalar::<f64>()
            };
            let fd = (at(h) - at(-h)) / (2.0 * h as f64);
            let g = analytic[2][i] as f64;
            assert!((fd - g).abs() < 2e-2 * (1.0 + fd.abs()), "mlp weight [{i}]: fd {fd} vs {g}");
        }
    }

    #[test]
    fn invalid_configurations_are_named() {
        let dev = device();
        let e = ElmConfig::new(5, 2).with_num_branch(Some(2)).with_synapses_per_branch(2).init(&dev).unwrap_err();
        assert!(e.to_string().contains("num_input is 5"), "{e}");
        let e = ElmConfig::new(5, 2).with_memory_tau_min(10.0).with_memory_tau_max(5.0).init(&dev).unwrap_err();
        assert!(e.to_string().contains("memory_tau_max"), "{e}");
        let e = ElmConfig::new(5, 2).with_version(ElmVersion::V2).with_per_synapse_trace(true).init(&dev).unwrap_err();
        assert!(e.to_string().contains("per_synapse_trace"), "{e}");
        // Sizes whose products overflow usize are counted in f64 and refused before any
        // allocation (an elmneuron config with num_memory 10¹² aborted in the allocator).
        let e = ElmConfig::new(5, 2).with_memory_size(1_000_000_000_000).init(&dev).unwrap_err();
        assert!(e.to_string().contains("memory_size 1000000000000") && e.to_string().contains("parameters"), "{e}");
        let e = ElmConfig::new(5, 2).with_num_branch(Some(usize::MAX / 2)).with_synapses_per_branch(4).validate();
        assert!(e.unwrap_err().to_string().contains("parameters"));
        let paper =
            ElmConfig::new(1278, 2).with_memory_size(100).with_num_branch(Some(45)).with_synapses_per_branch(100);
        assert!(paper.parameter_estimate() < 1e6, "{}", paper.parameter_estimate());
    }

    #[test]
    fn frozen_memory_tau_gets_no_gradient() {
        let dev = device().autodiff();
        let elm = ElmConfig::new(3, 2).with_memory_size(4).init(&dev).unwrap();
        let x = Tensor::<3>::random([2, 3, 3], Distribution::Normal(0.0, 1.0), &dev);
        let grads = elm.forward(x).sum().backward();
        assert!(elm.memory_tau.val().grad(&grads).is_none());
        assert!(elm.trace_tau.val().grad(&grads).is_none());
        assert!(elm.synapse_weight.val().grad(&grads).is_some());
        assert_eq!(elm.num_trainable_params(), (3 + 4) * 8 + 8 + 8 * 4 + 4 + 4 * 2 + 2 + 3);
    }
}
