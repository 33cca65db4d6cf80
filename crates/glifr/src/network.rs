//! The network of the GLIFR paper around any of its cells (`pl_modules.py`, `GLIFRN`, `RNNN`,
//! `LSTMN`): input → one recurrent layer of H units → linear readout at **every** step.
//!
//! Per step t, with `cell` one of [`Cell`]:
//!
//! ```text
//! S_t   = cell(x_t, S_{t−d}, S_{t−1}, state)     S_{t<0} = 0; d = delay_steps (LSTM: d = 1)
//! S_t  ← Dropout(S_t) ⊙ m                         m: silencing mask, 1 by default
//! y_t   = W_out·S_t + b_out
//! ```
//!
//! The post-processed `S_t` is what feeds back (as the delayed lateral input, and as the
//! previous rate of the GLIFR reset and ASC terms) and what the readout sees, as in the
//! reference (`pl_modules.py:187-206`). Only the lateral input is delayed. For the LSTM the
//! dropout and mask touch h only, never the cell state.
//!
//! The reference stores the mask as a diagonal matrix (`silence_mult [H,H]`) and multiplies
//! `S·M`; multiplying by its diagonal is the same number for every entry.
//!
//! Every cell runs the whole sequence as one fused operation where it can (GLIFR:
//! [`crate::fused`]; RNN and LSTM: [`crate::fused_baselines`]): on Flex and NdArray, and
//! without active dropout. Elsewhere, and when [`RecurrentNetwork::fused`] is off, it runs step
//! by step; that path is the reference the fused one is tested against.

use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;

use crate::baselines::{Lstm, Rnn};
use crate::fused::{
    GlifrScalars, fused_supported, glifr_fused_supported, glifr_sequence, glifr_sequence_from, pack_coefficients,
};
use crate::fused_baselines::{lstm_sequence, rnn_sequence};
use crate::glifr::Glifr;

/// The recurrent layer of a [`RecurrentNetwork`].
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Cell {
    /// GLIFR neurons.
    Glifr(Glifr),
    /// tanh RNN baseline.
    Rnn(Rnn),
    /// LSTM baseline.
    Lstm(Lstm),
}

impl Cell {
    /// Hidden units H.
    pub fn hidden_size(&self) -> usize {
        match self {
            Cell::Glifr(c) => c.hidden_size(),
            Cell::Rnn(c) => c.hidden_size(),
            Cell::Lstm(c) => c.hidden_size(),
        }
    }
}

/// Configuration of a [`RecurrentNetwork`] around a given cell.
#[derive(Config, Debug)]
pub struct RecurrentNetworkConfig {
    /// Readout size (classes, or regression outputs).
    pub output_size: usize,
    /// Synaptic delay of the lateral input in steps, at least 1. The paper gives it in ms:
    /// `max(1, int(delay_ms/dt))` (see [`delay_steps`]). Ignored by the LSTM.
    #[config(default = 1)]
    pub delay_steps: usize,
    /// Dropout probability on the rate, active in training only. 0 in every paper run.
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// `max(1, int(delay_ms/dt))`, the reference's conversion (`pl_modules.py:51-53`), with a
/// guard against `0.25/0.05 = 4.999…` style rounding: Python's `int(0.25/0.05)` is 5 because
/// the quotient rounds to exactly 5.0 in f64, which the f64 division here reproduces.
pub fn delay_steps(delay_ms: f64, dt: f64) -> usize {
    ((delay_ms / dt) as usize).max(1)
}

/// Input → recurrent layer → per-step linear readout.
#[derive(Module, Debug)]
pub struct RecurrentNetwork {
    /// The recurrent layer.
    pub cell: Cell,
    /// Linear readout `H → out` (weight stored `[H,out]`).
    pub readout: Linear,
    /// Dropout on the rate.
    pub dropout: Dropout,
    /// Lateral delay in steps (≥ 1).
    pub delay_steps: usize,
    /// Per-neuron multiplier on the rate (0 silences a neuron); `None` means all ones.
    pub silence_mask: Option<Tensor<1>>,
    /// Whether the layer may run its sequence as one fused operation (same numbers, see the
    /// module docs). On by default; off keeps the per-step path everywhere.
    pub fused: bool,
}

/// What [`RecurrentNetwork::forward_traced`] records at every step.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Readout `[B,T,out]`.
    pub output: Tensor<3>,
    /// Rates after dropout and silencing `[B,T,H]`.
    pub rates: Tensor<3>,
    /// GLIFR membrane voltage `[B,T,H]`; `None` for the baselines.
    pub voltage: Option<Tensor<3>>,
}

impl RecurrentNetworkConfig {
    /// Wraps `cell` with a readout initialised as PyTorch's `nn.Linear` (weight and bias
    /// ~ U(±1/√H)).
    pub fn init(&self, cell: Cell, device: &Device) -> RecurrentNetwork {
        let h = cell.hidden_size();
        let bound = 1.0 / (h as f64).sqrt();
        let readout = LinearConfig::new(h, self.output_size)
            .with_initializer(Initializer::Uniform { min: -bound, max: bound })
            .init(device);
        RecurrentNetwork {
            cell,
            readout,
            dropout: DropoutConfig::new(self.dropout).init(),
            delay_steps: self.delay_steps.max(1),
            silence_mask: None,
            fused: true,
        }
    }
}

impl RecurrentNetwork {
    /// Hidden units H.
    pub fn hidden_size(&self) -> usize {
        self.cell.hidden_size()
    }

    /// Readout size.
    pub fn output_size(&self) -> usize {
        self.readout.weight.dims()[1]
    }

    /// Silences the given neurons: their rate is zero at every step, for the readout, the
    /// recurrence and their own reset/ASC terms (spec §3.7). An empty list clears the mask.
    pub fn with_silenced(mut self, neurons: &[usize]) -> Self {
        if neurons.is_empty() {
            self.silence_mask = None;
            return self;
        }
        let h = self.hidden_size();
        let mut mask = vec![1.0f32; h];
        for &n in neurons {
            mask[n] = 0.0;
        }
        let device = self.readout.weight.device();
        self.silence_mask = Some(Tensor::from_data(TensorData::new(mask, [h]), &device));
        self
    }

    /// Sets whether the layer may take the fused path ([`Self::fused`]).
    pub fn with_fused(mut self, fused: bool) -> Self {
        self.fused = fused;
        self
    }

    /// Whether [`Self::forward`] on `device` runs the fused sequence: the fused path allowed, a
    /// backend that has it, and no dropout that would be active (dropout acts only on an
    /// autodiff device; the fused operations do not cover it).
    pub fn takes_fused_path(&self, device: &Device) -> bool {
        self.fused && self.backend_has_fused(device) && (self.dropout.prob == 0.0 || !device.is_autodiff())
    }

    /// Whether `device`'s backend has a fused operation for this layer's cell at its size: the
    /// CPU backends for every cell; CubeCL devices (wgpu) for GLIFR within its kernels' limits.
    pub fn backend_has_fused(&self, device: &Device) -> bool {
        match &self.cell {
            Cell::Glifr(cell) => glifr_fused_supported(device, cell.hidden_size(), cell.num_ascs()),
            Cell::Rnn(_) | Cell::Lstm(_) => fused_supported(device),
        }
    }

    /// Steps of the past a segment's start must hold: the lateral input reaches back d steps
    /// (GLIFR, RNN); the LSTM reads only the last h.
    pub fn history_steps(&self) -> usize {
        match self.cell {
            Cell::Lstm(_) => 1,
            _ => self.delay_steps.max(1),
        }
    }

    /// Bytes the fused operation keeps for its backward pass over `batch` sequences of `steps`
    /// steps (f32): GLIFR its rates, voltages and after-spike currents; the RNN its rates; the
    /// LSTM h, c and the four activated gates. Burn's graph keeps the input projection beside
    /// it.
    pub fn fused_kept_bytes(&self, batch: usize, steps: usize) -> usize {
        let series = match &self.cell {
            Cell::Glifr(cell) => 2 + cell.num_ascs(),
            Cell::Rnn(_) => 1,
            Cell::Lstm(_) => 2 + 4,
        };
        4 * series * steps * batch * self.hidden_size()
    }

    /// Runs `[B,T,in]` from `start` (`None`: the zero state, as every forward of the
    /// reference): the post-processed rates of every new step, time-major `[T,B,H]`, (GLIFR)
    /// the voltages, and the end state a next segment starts from. Fused where
    /// [`Self::takes_fused_path`], step by step elsewhere; the same numbers either way.
    pub fn run_segment(&self, input: Tensor<3>, start: Option<NetworkState>, keep_voltage: bool) -> SegmentRun {
        if self.takes_fused_path(&input.device()) {
            return self.run_fused(input, start);
        }
        self.run_stepwise(input, start, keep_voltage)
    }

    /// The fused path of [`Self::run_segment`] (its voltages are always there for GLIFR).
    fn run_fused(&self, input: Tensor<3>, start: Option<NetworkState>) -> SegmentRun {
        let [batch, steps, _] = input.dims();
        let time_major = input.swap_dims(0, 1);
        let mask = self.silence_mask.clone();
        let history = self.history_steps();
        match &self.cell {
            Cell::Glifr(cell) => {
                let coefficients = cell.coefficients();
                let scalars = GlifrScalars {
                    delay: self.delay_steps,
                    dt_over_tau: cell.dt / cell.tau,
                    sigma_v: cell.sigma_v,
                    i0: cell.i0,
                    v_reset: cell.v_reset,
                };
                let current = cell.input_current(time_major);
                let packed_coefficients = pack_coefficients(&coefficients);
                let weight = coefficients.weight_lat.clone();
                let (packed, prefix) = match start {
                    None => (glifr_sequence(current, weight, packed_coefficients, mask, scalars), 0),
                    Some(start) => {
                        let start = start.packed_for_glifr(cell.num_ascs());
                        (glifr_sequence_from(current, weight, packed_coefficients, mask, start, scalars), history)
                    }
                };
                let total = prefix + steps;
                let last = |k: usize, n: usize| packed.clone().narrow(0, k, n).narrow(1, total - 1, 1);
                let ascs = cell.num_ascs();
                let end = NetworkState {
                    rates: last_steps(series(packed.clone(), 0), history),
                    voltage: Some(last(1, 1).reshape([batch, cell.hidden_size()])),
                    after_spike_currents: (ascs > 0).then(|| last(2, ascs).reshape([ascs, batch, cell.hidden_size()])),
                    cell: None,
                };
                SegmentRun {
                    rates: series(packed.clone(), 0).narrow(0, prefix, steps),
                    voltage: Some(series(packed, 1).narrow(0, prefix, steps)),
                    end,
                }
            }
            Cell::Rnn(cell) => {
                let mut current = cell.input_current(time_major);
                // The start's rates reach the first d steps only, through the lateral weights.
                if let Some(start) = &start {
                    let reached = self.delay_steps.min(steps);
                    let lateral = start.rates.clone().narrow(0, 0, reached).matmul(cell.weight_lat.val().unsqueeze());
                    current = current + pad_steps(lateral, steps);
                }
                let rates = rnn_sequence(current, cell.weight_lat.val(), mask, self.delay_steps);
                let all = match start {
                    Some(start) => Tensor::cat(vec![start.rates, rates.clone()], 0),
                    None => rates.clone(),
                };
                let end = NetworkState {
                    rates: last_steps(all, history),
                    voltage: None,
                    after_spike_currents: None,
                    cell: None,
                };
                SegmentRun { rates, voltage: None, end }
            }
            Cell::Lstm(cell) => {
                let mut current = cell.input_current(time_major);
                let mut start_cell = None;
                // h₀ only enters the first step's gates, as h₀·W_hh; c₀ goes into the operation.
                if let Some(start) = start {
                    current = current + pad_steps(start.rates.matmul(cell.weight_hh.val().unsqueeze()), steps);
                    start_cell = start.cell;
                }
                let packed = lstm_sequence(current, cell.weight_hh.val(), mask, start_cell);
                let rates = series(packed.clone(), 0);
                let end = NetworkState {
                    rates: rates.clone().narrow(0, steps - 1, 1),
                    voltage: None,
                    after_spike_currents: None,
                    cell: Some(series(packed, 1).narrow(0, steps - 1, 1).reshape([batch, cell.hidden_size()])),
                };
                SegmentRun { rates, voltage: None, end }
            }
        }
    }

    /// Dropout, then the silencing mask: what feeds back and what is read out.
    fn post_process(&self, rate: Tensor<2>) -> Tensor<2> {
        let rate = self.dropout.forward(rate);
        match &self.silence_mask {
            Some(mask) => rate * mask.clone().unsqueeze::<2>(),
            None => rate,
        }
    }

    /// The per-step path of [`Self::run_segment`]: the reference the fused one is tested
    /// against.
    fn run_stepwise(&self, input: Tensor<3>, start: Option<NetworkState>, keep_voltage: bool) -> SegmentRun {
        let [batch, steps, _] = input.dims();
        let device = input.device();
        let h = self.hidden_size();
        let zeros = Tensor::<2>::zeros([batch, h], &device);
        let history = self.history_steps();
        // `rates` holds the start's steps first (`prefix` of them), then every new step's.
        let prefix = if start.is_some() { history } else { 0 };
        let mut rates: Vec<Tensor<2>> = Vec::with_capacity(prefix + steps);
        if let Some(start) = &start {
            rates.extend(start.rates.clone().split(1, 0).into_iter().map(|r| r.squeeze_dim::<2>(0)));
        }
        let mut voltages = Vec::new();
        let delayed = |rates: &Vec<Tensor<2>>, d: usize| {
            let t = rates.len();
            if t >= d { rates[t - d].clone() } else { zeros.clone() }
        };
        let mut end =
            NetworkState { rates: zeros.clone().unsqueeze(), voltage: None, after_spike_currents: None, cell: None };
        match &self.cell {
            Cell::Glifr(cell) => {
                let mut state = cell.zero_state(batch, &device);
                if let Some(start) = start {
                    state.voltage = start.voltage.expect("a GLIFR start holds the voltage");
                    state.after_spike_currents = start.after_spike_currents;
                }
                let coefficients = cell.coefficients();
                for x in split_steps(input) {
                    let current = cell.input_current(x);
                    let (lateral, previous) = (delayed(&rates, self.delay_steps), delayed(&rates, 1));
                    state = cell.step_with(&coefficients, current, lateral, previous, state);
                    if keep_voltage {
                        voltages.push(state.voltage.clone());
                    }
                    rates.push(self.post_process(state.firing.clone()));
                }
                end.voltage = Some(state.voltage);
                end.after_spike_currents = state.after_spike_currents;
            }
            Cell::Rnn(cell) => {
                for x in split_steps(input) {
                    let lateral = delayed(&rates, self.delay_steps);
                    rates.push(self.post_process(cell.step(cell.input_current(x), lateral)));
                }
            }
            Cell::Lstm(cell) => {
                let mut memory = start.and_then(|s| s.cell).unwrap_or_else(|| zeros.clone());
                for x in split_steps(input) {
                    let hidden = delayed(&rates, 1);
                    let next = cell.step(cell.input_current(x), hidden, memory);
                    memory = next.cell;
                    rates.push(self.post_process(next.hidden));
                }
                end.cell = Some(memory);
            }
        }
        let kept = rates.len().min(history);
        let mut last: Vec<Tensor<2>> = vec![zeros; history - kept];
        last.extend(rates[rates.len() - kept..].iter().cloned());
        end.rates = Tensor::stack(last, 0);
        let rates = Tensor::stack::<3>(rates.split_off(prefix), 0);
        let voltage = (!voltages.is_empty()).then(|| Tensor::stack::<3>(voltages, 0));
        SegmentRun { rates, voltage, end }
    }

    /// The readout at every step, `[B,T,in] → [B,T,out]`.
    pub fn forward(&self, input: Tensor<3>) -> Tensor<3> {
        let run = self.run_segment(input, None, false);
        self.readout.forward(run.rates).swap_dims(0, 1)
    }

    /// The readout at the last step only, `[B,out]`: what classification losses use. Same
    /// value as `forward(x)[:, -1]`, without reading out the other steps.
    pub fn forward_last(&self, input: Tensor<3>) -> Tensor<2> {
        let end = self.run_segment(input, None, false).end;
        self.readout_end(&end)
    }

    /// The readout of the last step from an end state, `[B,out]`.
    pub fn readout_end(&self, end: &NetworkState) -> Tensor<2> {
        let [steps, batch, hidden] = end.rates.dims();
        self.readout.forward(end.rates.clone().narrow(0, steps - 1, 1).reshape([batch, hidden]))
    }

    /// Readout, rates and (for GLIFR) voltage at every step.
    pub fn forward_traced(&self, input: Tensor<3>) -> Trace {
        let run = self.run_segment(input, None, true);
        let rates = run.rates.swap_dims(0, 1);
        Trace { output: self.readout.forward(rates.clone()), rates, voltage: run.voltage.map(|v| v.swap_dims(0, 1)) }
    }

    /// Parameters that train (what the paper's parameter counts count): everything but the
    /// neuronal parameters of a GLIFR layer that keeps them fixed.
    pub fn num_trainable_params(&self) -> usize {
        let cell = match &self.cell {
            Cell::Glifr(c) => c.num_trainable_params(),
            Cell::Rnn(c) => c.num_params(),
            Cell::Lstm(c) => c.num_params(),
        };
        cell + self.readout.num_params()
    }
}

impl fused::Recurrence for RecurrentNetwork {
    type State = NetworkState;

    fn run_segment_to_end(&self, input: Tensor<3>, start: Option<NetworkState>) -> NetworkState {
        self.run_segment(input, start, false).end
    }

    fn readout_end(&self, end: &NetworkState) -> Tensor<2> {
        RecurrentNetwork::readout_end(self, end)
    }

    fn state_into_parts(state: NetworkState) -> Vec<Tensor<3>> {
        state.into_parts()
    }

    fn state_from_parts(parts: Vec<Tensor<3>>, like: &NetworkState) -> NetworkState {
        NetworkState::from_parts(parts, like)
    }
}

/// Where a segment of a sequence starts, or ends: everything the next step reads of the past.
/// Segmented recomputation stores one per segment and passes gradients back through it.
#[derive(Clone, Debug)]
pub struct NetworkState {
    /// The last P post-processed rates `[P,B,H]`, oldest first, zeros before the sequence's
    /// first step; P = [`RecurrentNetwork::history_steps`] (the delay d; 1 for the LSTM).
    pub rates: Tensor<3>,
    /// GLIFR: the voltage V `[B,H]`.
    pub voltage: Option<Tensor<2>>,
    /// GLIFR with ASCs: the after-spike currents `[A,B,H]`.
    pub after_spike_currents: Option<Tensor<3>>,
    /// LSTM: the cell state c `[B,H]`.
    pub cell: Option<Tensor<2>>,
}

impl NetworkState {
    /// The state's tensors, in a fixed order (rates, then whichever others it holds).
    pub fn into_parts(self) -> Vec<Tensor<3>> {
        let mut parts = vec![self.rates];
        parts.extend(self.voltage.map(|v| v.unsqueeze::<3>()));
        parts.extend(self.after_spike_currents);
        parts.extend(self.cell.map(|c| c.unsqueeze::<3>()));
        parts
    }

    /// Puts [`Self::into_parts`]'s tensors back in the shape of `like`.
    pub fn from_parts(parts: Vec<Tensor<3>>, like: &NetworkState) -> Self {
        let mut parts = parts.into_iter();
        let mut next = || parts.next().expect("as many parts as the state has");
        let rates = next();
        let squeeze = |t: Tensor<3>| t.squeeze_dim::<2>(0);
        NetworkState {
            rates,
            voltage: like.voltage.as_ref().map(|_| squeeze(next())),
            after_spike_currents: like.after_spike_currents.as_ref().map(|_| next()),
            cell: like.cell.as_ref().map(|_| squeeze(next())),
        }
    }

    /// The start the fused GLIFR operation takes, `[2+A, P, B, H]`: the rates at every step,
    /// V and I_j at the last (the operation reads no earlier V or I_j).
    fn packed_for_glifr(self, ascs: usize) -> Tensor<4> {
        let [steps, batch, hidden] = self.rates.dims();
        let device = self.rates.device();
        let mut last = vec![self.voltage.expect("a GLIFR start holds the voltage").unsqueeze::<3>()];
        if ascs > 0 {
            last.push(self.after_spike_currents.expect("a GLIFR start with ASCs holds them"));
        }
        let mut rest = Tensor::cat(last, 0).unsqueeze_dim::<4>(1);
        if steps > 1 {
            rest = Tensor::cat(vec![Tensor::zeros([1 + ascs, steps - 1, batch, hidden], &device), rest], 1);
        }
        Tensor::cat(vec![self.rates.unsqueeze::<4>(), rest], 0)
    }
}

/// What [`RecurrentNetwork::run_segment`] returns.
#[derive(Clone, Debug)]
pub struct SegmentRun {
    /// Post-processed rates of every new step, time-major `[T,B,H]`.
    pub rates: Tensor<3>,
    /// GLIFR voltages `[T,B,H]` (the per-step path keeps them only when asked).
    pub voltage: Option<Tensor<3>>,
    /// The state after the last step.
    pub end: NetworkState,
}

/// The last `steps` steps of a time-major `[T,B,H]` series, zeros in front where T is shorter.
fn last_steps(series: Tensor<3>, steps: usize) -> Tensor<3> {
    let [total, batch, hidden] = series.dims();
    if total >= steps {
        return series.narrow(0, total - steps, steps);
    }
    let device = series.device();
    Tensor::cat(vec![Tensor::zeros([steps - total, batch, hidden], &device), series], 0)
}

/// `[k,B,X]` followed by zeros to `[T,B,X]`.
fn pad_steps(head: Tensor<3>, steps: usize) -> Tensor<3> {
    let [k, batch, width] = head.dims();
    if k == steps {
        return head;
    }
    let device = head.device();
    Tensor::cat(vec![head, Tensor::zeros([steps - k, batch, width], &device)], 0)
}

/// Series `k` of a fused sequence's packed `[K,T,B,H]` output, as `[T,B,H]`.
fn series(packed: Tensor<4>, k: usize) -> Tensor<3> {
    packed.narrow(0, k, 1).squeeze_dim::<3>(0)
}

/// `[B,T,X] → T × [B,X]`. Applied to the input, never to a tensor that needs a gradient: the
/// backward of each slice would write a zero-padded `[B,T,X]` gradient, O(T²) work in all.
fn split_steps(sequence: Tensor<3>) -> Vec<Tensor<2>> {
    sequence.split(1, 1).into_iter().map(|step| step.squeeze_dim::<2>(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::{LstmConfig, RnnConfig};
    use crate::glifr::GlifrConfig;
    use burn::module::Param;

    #[test]
    fn python_delay_conversion() {
        assert_eq!(delay_steps(1.0, 0.05), 20);
        assert_eq!(delay_steps(15.0, 0.05), 300);
        assert_eq!(delay_steps(0.25, 0.05), 5);
        assert_eq!(delay_steps(0.0, 0.05), 1);
        assert_eq!(delay_steps(0.0, 1.0), 1);
    }

    /// The paper's parameter-count formulas (spec §2.3), at the L-MNIST sizes.
    #[test]
    fn parameter_counts_match_the_paper_table() {
        let dev = Device::flex();
        let net = |cell| RecurrentNetworkConfig::new(10).init(cell, &dev);
        let lheta = net(Cell::Glifr(GlifrConfig::new(28, 252).init(&dev)));
        assert_eq!(lheta.num_trainable_params(), 75_106);
        let lhet = net(Cell::Glifr(GlifrConfig::new(28, 255).with_num_ascs(0).init(&dev)));
        assert_eq!(lhet.num_trainable_params(), 75_235);
        let homa = net(Cell::Glifr(GlifrConfig::new(28, 256).init(&dev).with_neuronal_params_learned(false)));
        assert_eq!(homa.num_trainable_params(), 75_274);
        let rnn = net(Cell::Rnn(RnnConfig::new(28, 256).init(&dev)));
        assert_eq!(rnn.num_trainable_params(), 75_530);
        let lstm = net(Cell::Lstm(LstmConfig::new(28, 122).init(&dev)));
        assert_eq!(lstm.num_trainable_params(), 75_406);
    }

    #[test]
    fn a_silenced_neuron_reaches_neither_readout_nor_recurrence() {
        let dev = Device::flex();
        let cell = Cell::Glifr(GlifrConfig::new(2, 4).init(&dev));
        let net = RecurrentNetworkConfig::new(3).init(cell, &dev).with_silenced(&[1, 3]);
        let x = Tensor::<3>::random([2, 5, 2], burn::tensor::Distribution::Normal(0.0, 1.0), &dev);
        let trace = net.forward_traced(x.clone());
        let rates: Vec<f32> = trace.rates.into_data().try_into_vec().unwrap();
        for (i, r) in rates.iter().enumerate() {
            if i % 4 == 1 || i % 4 == 3 {
                assert_eq!(*r, 0.0);
            } else {
                assert!(*r > 0.0);
            }
        }
        // Changing the silenced neurons' outgoing weights changes nothing.
        let mut other = net.clone();
        other.readout.weight =
            Param::from_tensor(other.readout.weight.val().slice_assign([1..2, 0..3], Tensor::full([1, 3], 9.0, &dev)));
        if let Cell::Glifr(g) = &mut other.cell {
            g.weight_lat =
                Param::from_tensor(g.weight_lat.val().slice_assign([3..4, 0..4], Tensor::full([1, 4], -5.0, &dev)));
        }
        other.forward(x.clone()).to_data().assert_eq(&net.forward(x).to_data(), true);
    }

    #[test]
    fn forward_last_equals_the_last_step_of_forward() {
        let dev = Device::flex();
        for cell in [
            Cell::Rnn(RnnConfig::new(3, 5).init(&dev)),
            Cell::Lstm(LstmConfig::new(3, 5).init(&dev)),
            Cell::Glifr(GlifrConfig::new(3, 5).init(&dev)),
        ] {
            let net = RecurrentNetworkConfig::new(2).with_delay_steps(3).init(cell, &dev);
            let x = Tensor::<3>::random([2, 6, 3], burn::tensor::Distribution::Normal(0.0, 1.0), &dev);
            let all = net.forward(x.clone()).narrow(1, 5, 1).squeeze_dim::<2>(1);
            all.to_data()
                .assert_approx_eq::<f32>(&net.forward_last(x).to_data(), burn::tensor::Tolerance::absolute(1e-6));
        }
    }
}
