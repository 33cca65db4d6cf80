//! The GLIFR cell: a generalized leaky-integrate-and-fire neuron that emits a *rate*.
//!
//! Winston, Mastrovito, Shea-Brown, Mihalas, "Heterogeneity in Neuronal Dynamics Is Learned by
//! Gradient Descent for Temporal Processing Tasks", Neural Computation 35(4), 2023. This file
//! follows the authors' code (AllenInstitute/GLIFS_ASC @ `82ea3e22`, `models/neurons.py`,
//! class `GLIFR`) line for line; `../shared/spec/glifr.md` §1 cites each line.
//!
//! # One step
//!
//! With `S⁻` the previous step's rate (after dropout and silencing) and `S_del` the rate of
//! `delay` steps ago (both supplied by the network, see [`crate::network`]):
//!
//! ```text
//! I_syn = x_t·W_iv + S_del·W_lat                                  (no dt, no k_m: as the reference)
//! I_j   ← (r_j·I_j + a_j)·S⁻·(dt/τ) + (1 − k_j·dt)·I_j             (old I_j on the right)
//! V     ← I_syn + dt·k_m·R·(Σ_j I_j + I0) + (1 − k_m·dt)·V − (dt/τ)·S⁻·(V − V_reset)
//!                                                                 (new I_j, old V)
//! S     = sigmoid((V − θ)/σ_V)
//! ```
//!
//! The leak rates are stored behind a sigmoid so that `k·dt ∈ (0,1)`:
//! `k_m = sigmoid(trans_k_m)/dt`, `k_j = sigmoid(trans_k_j)/dt`; the ASC multipliers behind
//! `r_j = 1 − 2·sigmoid(trans_r_j) ∈ (−1,1)`. θ and `a_j` are used raw. σ_V, R, I0, V_reset and
//! τ are fixed hyperparameters.
//!
//! The parameter names and shapes are the reference's, so a GLIFS_ASC `state_dict` maps onto
//! this module one to one: `weight_iv [in,H]`, `weight_lat [H,H]`, `thresh [1,H]`,
//! `trans_k_m [1,H]`, and, when there are after-spike currents, `trans_k_j`, `trans_r_j`,
//! `a_j`, each `[A,1,H]`.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::sigmoid;

/// How the homogeneous init sets the membrane leak `k_m`.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum MembraneLeakInit {
    /// The reference's formula, `trans_k_m = ln(dt·0.05/(1 − 0.05·0.05))` (`neurons.py:71`).
    /// It gives `k_m = 0.05 /ms` only at `dt = 0.05`; at other `dt` it is slightly off
    /// (0.0477 /ms at `dt = 1`). Default, because every published number was made with it.
    Reference,
    /// `trans_k_m = logit(0.05·dt)`, which gives `k_m = 0.05 /ms` at any `dt` (the formula of
    /// the older code, `@0c76cefa neurons.py:65`).
    Exact,
}

/// Configuration of a [`Glifr`] layer.
#[derive(Config, Debug)]
pub struct GlifrConfig {
    /// Number of input features per step.
    pub input_size: usize,
    /// Number of GLIFR neurons H.
    pub hidden_size: usize,
    /// Number A of after-spike currents per neuron. The paper's "A" variants use 2; 0 removes
    /// them (and their parameters) entirely.
    #[config(default = 2)]
    pub num_ascs: usize,
    /// Integration step in ms. The paper uses 0.05 for MNIST and sine.
    #[config(default = 0.05)]
    pub dt: f64,
    /// Time constant τ (ms) of the rate-based reset and ASC jump. `None` means τ = dt, which is
    /// what every experiment of the paper used (so dt/τ = 1).
    #[config(default = "None")]
    pub tau: Option<f64>,
    /// Smoothness σ_V of the rate sigmoid. 1 in the paper; 1e-3 approximates a spiking neuron.
    #[config(default = 1.0)]
    pub sigma_v: f64,
    /// Membrane resistance R, fixed.
    #[config(default = 0.1)]
    pub resistance: f64,
    /// Constant bias current I0, fixed.
    #[config(default = 0.0)]
    pub i0: f64,
    /// Voltage the rate-based reset pulls towards, fixed.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Formula for the homogeneous `k_m` init; see [`MembraneLeakInit`].
    #[config(default = "MembraneLeakInit::Reference")]
    pub membrane_leak_init: MembraneLeakInit,
}

/// The after-spike-current parameters, each `[A,1,H]`.
#[derive(Module, Debug)]
pub struct AfterSpikeCurrentParams {
    /// `k_j = sigmoid(trans_k_j)/dt`: decay rates of the currents.
    pub trans_k_j: Param<Tensor<3>>,
    /// `r_j = 1 − 2·sigmoid(trans_r_j)`: multiplicative coupling of each current to the rate.
    pub trans_r_j: Param<Tensor<3>>,
    /// Additive jump amplitudes `a_j`, used raw.
    pub a_j: Param<Tensor<3>>,
}

/// A layer of GLIFR neurons. Stateless: the recurrent state is a [`GlifrState`] value.
#[derive(Module, Debug)]
pub struct Glifr {
    /// Input weights `[in,H]`.
    pub weight_iv: Param<Tensor<2>>,
    /// Recurrent ("lateral") weights `[H,H]`, fed with the delayed rate.
    pub weight_lat: Param<Tensor<2>>,
    /// Threshold θ `[1,H]`; plays the role of a bias (the cell has none).
    pub thresh: Param<Tensor<2>>,
    /// `k_m = sigmoid(trans_k_m)/dt`, `[1,H]`.
    pub trans_k_m: Param<Tensor<2>>,
    /// After-spike currents; `None` when `num_ascs = 0`.
    pub after_spike_currents: Option<AfterSpikeCurrentParams>,
    /// Integration step (ms).
    pub dt: f64,
    /// τ (ms).
    pub tau: f64,
    /// σ_V.
    pub sigma_v: f64,
    /// R.
    pub resistance: f64,
    /// I0.
    pub i0: f64,
    /// V_reset.
    pub v_reset: f64,
    /// Whether θ, k_m and the ASC parameters train (see [`Glifr::with_neuronal_params_learned`]).
    /// Kept here because a parameter's gradient flag reads false on a device without autodiff.
    pub neuronal_params_learned: bool,
}

/// The recurrent state of a [`Glifr`] layer.
#[derive(Clone, Debug)]
pub struct GlifrState {
    /// Normalised firing rate S `[B,H]`, as the cell emitted it (before dropout/silencing).
    pub firing: Tensor<2>,
    /// Membrane voltage V `[B,H]`.
    pub voltage: Tensor<2>,
    /// After-spike currents I_j `[A,B,H]`; `None` without ASCs.
    pub after_spike_currents: Option<Tensor<3>>,
}

/// `ln(p/(1−p))`.
fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn constant<const D: usize>(shape: [usize; D], value: f64, device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::full(shape, value, device))
}

fn uniform<const D: usize>(shape: [usize; D], bound: f64, device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Uniform(-bound, bound), device)
}

impl GlifrConfig {
    /// The homogeneous init of the reference (`hom_init_`, `neurons.py:68-83`): θ = 1,
    /// k_m = 0.05 /ms (see [`MembraneLeakInit`]), k_j·dt = 0.1, r_j and a_j ~ U(−0.01, 0.01),
    /// W_iv and W_lat ~ U(±1/√H).
    pub fn init(&self, device: &Device) -> Glifr {
        let h = self.hidden_size;
        let a = self.num_ascs;
        let dt = self.dt;
        let trans_k_m = match self.membrane_leak_init {
            MembraneLeakInit::Reference => (dt * 0.05 / (1.0 - 0.05 * 0.05)).ln(),
            MembraneLeakInit::Exact => logit(0.05 * dt),
        };
        let weight_bound = 1.0 / (h as f64).sqrt();
        let after_spike_currents = (a > 0).then(|| {
            let r = uniform([a, 1, h], 0.01, device);
            // Stored through the inverse of r = 1 − 2·sigmoid(trans): trans = ln((1−r)/(1+r)).
            let trans_r = ((-r.clone() + 1.0) / (r + 1.0)).log();
            AfterSpikeCurrentParams {
                trans_k_j: constant([a, 1, h], logit(0.1), device),
                trans_r_j: Param::from_tensor(trans_r),
                a_j: Param::from_tensor(uniform([a, 1, h], 0.01, device)),
            }
        });
        Glifr {
            weight_iv: Param::from_tensor(uniform([self.input_size, h], weight_bound, device)),
            weight_lat: Param::from_tensor(uniform([h, h], weight_bound, device)),
            thresh: constant([1, h], 1.0, device),
            trans_k_m: constant([1, h], trans_k_m, device),
            after_spike_currents,
            dt,
            tau: self.tau.unwrap_or(dt),
            sigma_v: self.sigma_v,
            resistance: self.resistance,
            i0: self.i0,
            v_reset: self.v_reset,
            neuronal_params_learned: true,
        }
    }
}

impl Glifr {
    /// Number of neurons H.
    pub fn hidden_size(&self) -> usize {
        self.thresh.dims()[1]
    }

    /// Number of input features.
    pub fn input_size(&self) -> usize {
        self.weight_iv.dims()[0]
    }

    /// Number of parameters that train: the weights always, the neuronal ones when learned.
    pub fn num_trainable_params(&self) -> usize {
        let weights = self.weight_iv.shape().num_elements() + self.weight_lat.shape().num_elements();
        if !self.neuronal_params_learned {
            return weights;
        }
        let asc = self.after_spike_currents.as_ref().map_or(0, |a| 3 * a.a_j.shape().num_elements());
        weights + 2 * self.hidden_size() + asc
    }

    /// Number of after-spike currents A.
    pub fn num_ascs(&self) -> usize {
        self.after_spike_currents.as_ref().map_or(0, |asc| asc.a_j.dims()[0])
    }

    /// Membrane leak rate k_m (1/ms), `[1,H]`.
    pub fn k_m(&self) -> Tensor<2> {
        sigmoid(self.trans_k_m.val()) / self.dt
    }

    /// ASC decay rates k_j (1/ms), `[A,1,H]`.
    pub fn k_j(&self) -> Option<Tensor<3>> {
        let asc = self.after_spike_currents.as_ref()?;
        Some(sigmoid(asc.trans_k_j.val()) / self.dt)
    }

    /// ASC multipliers r_j ∈ (−1,1), `[A,1,H]`.
    pub fn r_j(&self) -> Option<Tensor<3>> {
        let asc = self.after_spike_currents.as_ref()?;
        Some(-sigmoid(asc.trans_r_j.val()) * 2.0 + 1.0)
    }

    /// The zero state the reference starts every batch from.
    pub fn zero_state(&self, batch: usize, device: &Device) -> GlifrState {
        let h = self.hidden_size();
        let asc = (self.num_ascs() > 0).then(|| Tensor::zeros([self.num_ascs(), batch, h], device));
        GlifrState {
            firing: Tensor::zeros([batch, h], device),
            voltage: Tensor::zeros([batch, h], device),
            after_spike_currents: asc,
        }
    }

    /// Sets whether the neuronal parameters (θ, k_m and the ASC parameters) train. The synaptic
    /// weights always do. Frozen neuronal parameters are the paper's Hom/FHet variants.
    pub fn with_neuronal_params_learned(mut self, learned: bool) -> Self {
        self.neuronal_params_learned = learned;
        self.thresh = self.thresh.set_require_grad(learned);
        self.trans_k_m = self.trans_k_m.set_require_grad(learned);
        if let Some(asc) = self.after_spike_currents.take() {
            self.after_spike_currents = Some(AfterSpikeCurrentParams {
                trans_k_j: asc.trans_k_j.set_require_grad(learned),
                trans_r_j: asc.trans_r_j.set_require_grad(learned),
                a_j: asc.a_j.set_require_grad(learned),
            });
        }
        self
    }

    /// The feed-forward part of `I_syn`, `x·W_iv`, for one step `[B,in] → [B,H]` or a whole
    /// sequence `[B,T,in] → [B,T,H]`.
    pub fn input_current<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        input.matmul(self.weight_iv.val().unsqueeze())
    }

    /// The step's coefficients, which depend on the parameters only: computed once per
    /// sequence instead of once per step (same values, fewer operations in the time loop).
    pub fn coefficients(&self) -> StepCoefficients {
        let dt = self.dt;
        let k_m = sigmoid(self.trans_k_m.val()) / dt;
        let after_spike_currents = self.after_spike_currents.as_ref().map(|params| {
            let k_j = sigmoid(params.trans_k_j.val()) / dt;
            AscCoefficients {
                r_j: -sigmoid(params.trans_r_j.val()) * 2.0 + 1.0,
                a_j: params.a_j.val(),
                retention: -k_j * dt + 1.0,
            }
        });
        StepCoefficients {
            weight_lat: self.weight_lat.val(),
            asc_gain: k_m.clone() * dt * self.resistance,
            leak_retention: -k_m * dt + 1.0,
            thresh: self.thresh.val(),
            after_spike_currents,
        }
    }

    /// One step. `input_current` is `x_t·W_iv` `[B,H]` (see [`Self::input_current`]),
    /// `delayed_rate` the rate S_del of `delay` steps ago and `previous_rate` S⁻, both after
    /// dropout and silencing.
    pub fn step(
        &self,
        input_current: Tensor<2>,
        delayed_rate: Tensor<2>,
        previous_rate: Tensor<2>,
        state: GlifrState,
    ) -> GlifrState {
        self.step_with(&self.coefficients(), input_current, delayed_rate, previous_rate, state)
    }

    /// [`Self::step`] with coefficients from [`Self::coefficients`].
    pub fn step_with(
        &self,
        c: &StepCoefficients,
        input_current: Tensor<2>,
        delayed_rate: Tensor<2>,
        previous_rate: Tensor<2>,
        state: GlifrState,
    ) -> GlifrState {
        let dt_over_tau = self.dt / self.tau;
        // dt/τ is 1 in every experiment of the paper; skip the multiplication then.
        let scale = |t: Tensor<2>| {
            if dt_over_tau == 1.0 { t } else { t * dt_over_tau }
        };
        let synaptic_current = input_current + delayed_rate.matmul(c.weight_lat.clone());

        let after_spike_currents = match (&c.after_spike_currents, state.after_spike_currents) {
            (Some(asc), Some(currents)) => {
                let rate: Tensor<3> = scale(previous_rate.clone()).unsqueeze();
                let jump = (asc.r_j.clone() * currents.clone() + asc.a_j.clone()) * rate;
                Some(jump + asc.retention.clone() * currents)
            }
            _ => None,
        };
        let asc_drive = match &after_spike_currents {
            Some(currents) => {
                let total = currents.clone().sum_dim(0).squeeze_dim::<2>(0);
                let total = if self.i0 == 0.0 { total } else { total + self.i0 };
                Some(c.asc_gain.clone() * total)
            }
            None if self.i0 != 0.0 => Some(c.asc_gain.clone() * self.i0),
            None => None,
        };

        let voltage = state.voltage;
        let offset = if self.v_reset == 0.0 { voltage.clone() } else { voltage.clone() - self.v_reset };
        let reset = scale(previous_rate) * offset;
        let mut next = synaptic_current + c.leak_retention.clone() * voltage - reset;
        if let Some(drive) = asc_drive {
            next = next + drive;
        }
        let potential = next.clone() - c.thresh.clone();
        let potential = if self.sigma_v == 1.0 { potential } else { potential / self.sigma_v };
        GlifrState { firing: sigmoid(potential), voltage: next, after_spike_currents }
    }
}

/// Parameter-derived factors of a GLIFR step (see [`Glifr::coefficients`]).
#[derive(Clone, Debug)]
pub struct StepCoefficients {
    /// W_lat `[H,H]`.
    pub weight_lat: Tensor<2>,
    /// `dt·k_m·R` `[1,H]`: gain of the ASC (and I0) drive on V.
    pub asc_gain: Tensor<2>,
    /// `1 − k_m·dt` `[1,H]`.
    pub leak_retention: Tensor<2>,
    /// θ `[1,H]`.
    pub thresh: Tensor<2>,
    /// ASC factors; `None` without ASCs.
    pub after_spike_currents: Option<AscCoefficients>,
}

/// Parameter-derived factors of the ASC update, each `[A,1,H]`.
#[derive(Clone, Debug)]
pub struct AscCoefficients {
    /// r_j.
    pub r_j: Tensor<3>,
    /// a_j.
    pub a_j: Tensor<3>,
    /// `1 − k_j·dt`.
    pub retention: Tensor<3>,
}

/// Heterogeneous init (`pl_modules.py:247-282`): every element of `target_shape` is drawn with
/// replacement from the elements of `source` (a trained LHet/LHetA tensor of any shape), so the
/// new tensor holds only values the source has, in the source's proportions.
pub fn resample_elements<const S: usize, const D: usize>(
    source: Tensor<S>,
    target_shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    let pool: Tensor<1> = source.flatten(0, S - 1).to_device(device);
    let n = pool.dims()[0];
    let count: usize = target_shape.iter().product();
    let indices =
        Tensor::<1>::random([count], Distribution::Uniform(0.0, n as f64), device).floor().int().clamp(0, n as i64 - 1);
    // Detached: the source may be a tracked parameter (a checkpoint loaded on an autodiff
    // device), and the result must become a leaf parameter of its own.
    pool.select(0, indices).reshape(target_shape).detach()
}

impl Glifr {
    /// The paper's heterogeneous init: this layer's shapes, with every neuronal parameter *and*
    /// both weight matrices resampled element-wise from `trained` (spec §1.4, pitfall 7). ASC
    /// parameters are pooled across j. Requires both layers to have the same number of ASCs.
    pub fn resampled_from(self, trained: &Glifr, device: &Device) -> Self {
        fn redraw<const D: usize>(
            target: Param<Tensor<D>>,
            source: &Param<Tensor<D>>,
            device: &Device,
        ) -> Param<Tensor<D>> {
            let shape: [usize; D] = target.dims();
            Param::from_tensor(resample_elements(source.val(), shape, device))
        }
        let learned = self.neuronal_params_learned;
        let after_spike_currents = match (self.after_spike_currents, &trained.after_spike_currents) {
            (Some(mine), Some(theirs)) => Some(AfterSpikeCurrentParams {
                trans_k_j: redraw(mine.trans_k_j, &theirs.trans_k_j, device),
                trans_r_j: redraw(mine.trans_r_j, &theirs.trans_r_j, device),
                a_j: redraw(mine.a_j, &theirs.a_j, device),
            }),
            (mine, _) => mine,
        };
        Glifr {
            weight_iv: redraw(self.weight_iv, &trained.weight_iv, device),
            weight_lat: redraw(self.weight_lat, &trained.weight_lat, device),
            thresh: redraw(self.thresh, &trained.thresh, device),
            trans_k_m: redraw(self.trans_k_m, &trained.trans_k_m, device),
            after_spike_currents,
            ..self
        }
        .with_neuronal_params_learned(learned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{TensorData, Tolerance};

    fn device() -> Device {
        Device::flex()
    }

    /// A 1-input, 2-neuron layer with every parameter set by hand.
    fn hand_layer(num_ascs: usize) -> Glifr {
        let dev = device();
        let mut layer = GlifrConfig::new(1, 2).with_num_ascs(num_ascs).init(&dev);
        layer.weight_iv = Param::from_data(TensorData::from([[1.0f32, 2.0]]), &dev);
        layer.weight_lat = Param::from_data(TensorData::from([[0.5f32, 0.0], [0.0, -1.0]]), &dev);
        layer.thresh = Param::from_data(TensorData::from([[0.0f32, 1.0]]), &dev);
        // sigmoid(0) = 0.5, so k_m·dt = 0.5.
        layer.trans_k_m = Param::from_data(TensorData::from([[0.0f32, 0.0]]), &dev);
        if num_ascs > 0 {
            layer.after_spike_currents = Some(AfterSpikeCurrentParams {
                // k_j·dt = 0.5, r_j = 1 − 2·0.5 = 0.
                trans_k_j: Param::from_data(TensorData::from([[[0.0f32, 0.0]]]), &dev),
                trans_r_j: Param::from_data(TensorData::from([[[0.0f32, 0.0]]]), &dev),
                a_j: Param::from_data(TensorData::from([[[2.0f32, -4.0]]]), &dev),
            });
        }
        layer
    }

    #[test]
    fn hom_init_matches_the_reference_values() {
        let layer = GlifrConfig::new(3, 5).init(&device());
        let k_m: Vec<f32> = layer.k_m().into_data().try_into_vec().unwrap();
        // Reference formula at dt = 0.05 gives exactly 0.05 /ms.
        for k in k_m {
            assert!((k - 0.05).abs() < 1e-6, "k_m = {k}");
        }
        let k_j: Vec<f32> = layer.k_j().unwrap().into_data().try_into_vec().unwrap();
        for k in k_j {
            assert!((k * 0.05 - 0.1).abs() < 1e-6, "k_j·dt = {}", k * 0.05);
        }
        let r: Vec<f32> = layer.r_j().unwrap().into_data().try_into_vec().unwrap();
        assert!(r.iter().all(|r| r.abs() <= 0.01 + 1e-6));
        let bound = 1.0 / 5f32.sqrt();
        let w: Vec<f32> = layer.weight_lat.val().into_data().try_into_vec().unwrap();
        assert!(w.iter().all(|w| w.abs() <= bound));
    }

    #[test]
    fn reference_k_m_formula_is_off_at_dt_1_and_exact_option_is_not() {
        // spec §1.4: the reference formula gives k_m ≈ 0.0477 at dt = 1.
        let reference = GlifrConfig::new(1, 1).with_dt(1.0).init(&device());
        let k: f32 = reference.k_m().into_scalar();
        let expected = {
            let p = 0.05 / (1.0 - 0.0025f64);
            p / (1.0 + p)
        };
        assert!((k as f64 - expected).abs() < 1e-6 && (k - 0.0477).abs() < 1e-3, "k_m = {k}");
        let exact =
            GlifrConfig::new(1, 1).with_dt(1.0).with_membrane_leak_init(MembraneLeakInit::Exact).init(&device());
        let k: f32 = exact.k_m().into_scalar();
        assert!((k - 0.05).abs() < 1e-6, "k_m = {k}");
    }

    /// Two steps by hand with dt = τ = 1 (so dt/τ = 1), R = 0.1, σ_V = 1, I0 = 0, V_reset = 0,
    /// k_m·dt = k_j·dt = 0.5, r = 0, a = (2, −4). Input x = 1 at both steps, delay 1.
    ///
    /// Step 1 (all state zero): I_syn = (1, 2); I_j = 0 (S⁻ = 0); V = (1, 2);
    /// S = (σ(1), σ(1)) = (0.731059, 0.731059).
    /// Step 2 (S⁻ = S_del = S₁): I_syn = (1 + 0.5·0.731059, 2 − 0.731059) = (1.365529, 1.268941);
    /// I_j = a·S⁻ + 0.5·0 = (1.462117, −2.924234);
    /// V = I_syn + 0.5·0.1·I_j + 0.5·V₁ − S⁻·V₁
    ///   = (1.365529 + 0.073106 + 0.5 − 0.731059, 1.268941 − 0.146212 + 1 − 1.462117)
    ///   = (1.207576, 0.660612); S = (σ(1.207576), σ(−0.339388)) = (0.769870, 0.415958).
    #[test]
    fn two_steps_match_hand_derived_values() {
        let dev = device();
        let mut layer = hand_layer(1);
        layer.dt = 1.0;
        layer.tau = 1.0;
        let x = Tensor::<3>::from_data(TensorData::from([[[1.0f32], [1.0]]]), &dev);
        let current = layer.input_current(x);
        let s0 = layer.zero_state(1, &dev);
        let zeros = s0.firing.clone();
        let c1 = current.clone().narrow(1, 0, 1).squeeze_dim::<2>(1);
        let s1 = layer.step(c1, zeros.clone(), zeros, s0);
        s1.voltage.to_data().assert_approx_eq::<f32>(&TensorData::from([[1.0f32, 2.0]]), Tolerance::absolute(1e-6));
        let rate1 = s1.firing.clone();
        let c2 = current.narrow(1, 1, 1).squeeze_dim::<2>(1);
        let s2 = layer.step(c2, rate1.clone(), rate1, s1);
        s2.after_spike_currents
            .unwrap()
            .to_data()
            .assert_approx_eq::<f32>(&TensorData::from([[[1.462117f32, -2.924234]]]), Tolerance::absolute(1e-5));
        s2.voltage
            .to_data()
            .assert_approx_eq::<f32>(&TensorData::from([[1.207576f32, 0.660612]]), Tolerance::absolute(1e-5));
        s2.firing
            .to_data()
            .assert_approx_eq::<f32>(&TensorData::from([[0.769870f32, 0.415958]]), Tolerance::absolute(1e-5));
    }

    #[test]
    fn without_ascs_the_currents_are_absent_and_voltage_skips_them() {
        let dev = device();
        let mut layer = hand_layer(0);
        layer.dt = 1.0;
        layer.tau = 1.0;
        assert_eq!(layer.num_ascs(), 0);
        let state = layer.zero_state(1, &dev);
        assert!(state.after_spike_currents.is_none());
        let s = Tensor::<2>::from_data(TensorData::from([[0.5f32, 0.5]]), &dev);
        let current = Tensor::<2>::zeros([1, 2], &dev);
        let mut start = state;
        start.voltage = Tensor::from_data(TensorData::from([[1.0f32, 1.0]]), &dev);
        // V = (0.25, −0.5) + 0.5·1 − 0.5·1 = (0.25, −0.5): I_syn = S·W_lat, leak and reset cancel.
        let next = layer.step(current, s.clone(), s, start);
        next.voltage.to_data().assert_approx_eq::<f32>(&TensorData::from([[0.25f32, -0.5]]), Tolerance::absolute(1e-6));
    }

    #[test]
    fn resampling_draws_only_source_values() {
        let dev = device();
        let source = Tensor::<2>::from_data(TensorData::from([[1.5f32, -2.0], [7.0, 0.25]]), &dev);
        let drawn: Tensor<3> = resample_elements(source, [3, 4, 5], &dev);
        assert_eq!(drawn.dims(), [3, 4, 5]);
        let values: Vec<f32> = drawn.into_data().try_into_vec().unwrap();
        assert!(values.iter().all(|v| [1.5, -2.0, 7.0, 0.25].contains(v)), "{values:?}");
        // 60 draws from 4 values: each should appear (probability of missing one < 1e-6).
        for v in [1.5, -2.0, 7.0, 0.25] {
            assert!(values.contains(&v), "{v} never drawn");
        }
    }

    #[test]
    fn frozen_neuronal_params_keep_weights_trainable() {
        // Gradient flags only read true on an autodiff device.
        let layer = GlifrConfig::new(2, 3).init(&device().autodiff()).with_neuronal_params_learned(false);
        assert_eq!(layer.num_trainable_params(), 2 * 3 + 3 * 3);
        assert!(!layer.thresh.is_require_grad());
        assert!(!layer.trans_k_m.is_require_grad());
        assert!(!layer.after_spike_currents.as_ref().unwrap().a_j.is_require_grad());
        assert!(layer.weight_lat.is_require_grad());
        assert!(layer.weight_iv.is_require_grad());
    }
}
