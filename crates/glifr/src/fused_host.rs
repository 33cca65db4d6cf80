//! The CPU side of the fused GLIFR sequence ([`crate::fused`]): the forward recurrence and its
//! hand-written backward pass, in plain Rust over contiguous f32 buffers.
//!
//! # Layout
//! Every series is **time-major**, `[T,B,H]`: the `B` rows of one step are one contiguous
//! matrix, so each step's lateral input is one GEMM `S_{t−d}·W_lat` and nothing is transposed
//! (the network hands the operation `x·W_iv` time-major and reads the rates back that way).
//!
//! # Threads and loops
//! The sequences of a batch are independent, so the batch is split into one contiguous range
//! of rows per core ([`fused::parallel`]) for the whole sequence: each thread runs every step
//! for its rows, writing its own blocks of the output, and only the parameter gradients are
//! added across threads at the end. Within a thread, a step runs over one sequence's `H`
//! neurons at a time in a few straight loops over equal-length slices, with [`fused::math`]'s
//! `exp`, so that they vectorise. Scratch rows are allocated once per call, never per step.
//!
//! # Backward (per step t, in reverse; `ā` is the adjoint of `a`)
//! With `P = S_{t−1}`, `s = dt/τ`, `sP = s·P`, and the forward's
//! `I_j = (r_j I⁻_j + a_j)·sP + ρ_j I⁻_j`, `V = syn + λV⁻ − sP(V⁻ − V_r) + g(Σ_j I_j + I0)`,
//! `R = σ((V − θ)/σ_V)`, `S = m·R`:
//! ```text
//! z̄ = S̄·m·R(1−R)/σ_V          θ̄ −= z̄
//! V̄ += z̄                        (V̄ already holds what step t+1 passed back)
//! syn̄ = V̄  → x̄_t = V̄,  W̄ += S_{t−d}ᵀ V̄,  S̄_{t−d} += V̄ W_latᵀ
//! λ̄ += V̄ V⁻,  ḡ += V̄ (Σ_j I_j + I0),  Ī_j += g V̄
//! r̄_j += Ī_j I⁻_j sP,  ā_j += Ī_j sP,  ρ̄_j += Ī_j I⁻_j
//! P̄ = −s V̄ (V⁻ − V_r) + s Σ_j Ī_j (r_j I⁻_j + a_j)   → S̄_{t−1}
//! V̄⁻ = V̄ (λ − sP),   Ī⁻_j = Ī_j (r_j sP + ρ_j)
//! ```
//! Sums over the batch of the per-neuron parameters are taken in f64.
//!
//! # What is kept
//! The forward returns S, V and every I_j at every step (`(2+A)·T·B·H` floats); the backward
//! needs exactly those (R = S/m where the mask m is not zero; where it is, R is not needed),
//! so nothing else is stored. At L-MNIST's LHetA (B 256, T 28, H 252) that is 29 MB; at
//! P-MNIST's (B 64, T 784) 202 MB. The backward adds one series (S̄) per call.

use std::ops::Range;

use fused::math::sigmoid;
use fused::parallel::{PartRows, map_parts, split_rows, split_steps};
use fused::{MatRef, matmul_in_part as product};

/// The scalars of a GLIFR sequence: hyperparameters, and the delay in steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SequenceShape {
    /// Batch B.
    pub batch: usize,
    /// New steps T (computed from the input current).
    pub steps: usize,
    /// Steps P of a given start state before them (0: the zero state). A start holds the last
    /// P ≥ d steps of every series, since step t reads S_{t−d} as well as S, V, I_j of t−1.
    pub prefix: usize,
    /// Neurons H.
    pub hidden: usize,
    /// After-spike currents A.
    pub ascs: usize,
    /// Lateral delay d ≥ 1, in steps.
    pub delay: usize,
    /// dt/τ.
    pub dt_over_tau: f32,
    /// σ_V.
    pub sigma_v: f32,
    /// I0.
    pub i0: f32,
    /// V_reset.
    pub v_reset: f32,
}

/// Rows of the packed per-neuron coefficients `[3 + 3A, H]`: θ, g = dt·k_m·R, λ = 1 − k_m·dt,
/// then r_j, a_j and ρ_j = 1 − k_j·dt for each current.
pub fn coefficient_rows(ascs: usize) -> usize {
    3 + 3 * ascs
}

struct Coefficients<'a> {
    thresh: &'a [f32],
    gain: &'a [f32],
    leak: &'a [f32],
    r: Vec<&'a [f32]>,
    a: Vec<&'a [f32]>,
    rho: Vec<&'a [f32]>,
}

impl<'a> Coefficients<'a> {
    fn new(packed: &'a [f32], hidden: usize, ascs: usize) -> Self {
        let row = |i: usize| &packed[i * hidden..(i + 1) * hidden];
        Self {
            thresh: row(0),
            gain: row(1),
            leak: row(2),
            r: (0..ascs).map(|j| row(3 + j)).collect(),
            a: (0..ascs).map(|j| row(3 + ascs + j)).collect(),
            rho: (0..ascs).map(|j| row(3 + 2 * ascs + j)).collect(),
        }
    }
}

impl SequenceShape {
    /// Steps of the output, the start's included: P + T.
    pub fn total_steps(&self) -> usize {
        self.prefix + self.steps
    }
}

/// The batch parts, and whether there are several (then each part multiplies on its own
/// thread only).
fn parts(shape: &SequenceShape) -> (Vec<Range<usize>>, bool) {
    let ranges = split_rows(shape.batch, shape.total_steps() * shape.hidden);
    let several = ranges.len() > 1;
    (ranges, several)
}

/// The forward recurrence. `input_current` is `x·W_iv`, time-major `[T,B,H]`; `weight_lat`
/// `[H,H]`; `coefficients` `[3+3A, H]` (see [`coefficient_rows`]); `mask` `[H]` the silencing
/// mask (ones for none); `start` `[2+A, P, B, H]` the last P steps before the sequence (empty
/// for the zero state). Returns `[2+A, P+T, B, H]`: the start, then the rates after the mask,
/// the voltages, and each after-spike current of every new step.
///
/// # Panics
/// When a start is given that is shorter than the delay, or the buffers' sizes disagree.
pub fn forward(
    shape: &SequenceShape,
    input_current: &[f32],
    weight_lat: &[f32],
    coefficients: &[f32],
    mask: &[f32],
    start: &[f32],
) -> Vec<f32> {
    let SequenceShape { batch, steps, hidden, ascs, prefix, delay, .. } = *shape;
    assert!(prefix == 0 || prefix >= delay, "a start of {prefix} steps cannot feed a delay of {delay}");
    assert_eq!(start.len(), (2 + ascs) * prefix * batch * hidden, "start state size");
    assert_eq!(input_current.len(), steps * batch * hidden, "input current size");
    let mut packed = vec![0.0f32; (2 + ascs) * shape.total_steps() * batch * hidden];
    let (ranges, serial) = parts(shape);
    let blocks = split_steps(&mut packed, &ranges, hidden);
    let work: Vec<_> = ranges.iter().zip(blocks).collect();
    map_parts(work, |(rows, blocks)| {
        forward_part(shape, rows, input_current, weight_lat, coefficients, mask, start, blocks, serial)
    });
    packed
}

/// One part's rows over the whole sequence. `blocks[k·(P+T) + t]` is the part's block of step
/// t of output series k.
#[allow(clippy::too_many_arguments)]
fn forward_part(
    shape: &SequenceShape,
    rows: &Range<usize>,
    input_current: &[f32],
    weight_lat: &[f32],
    coefficients: &[f32],
    mask: &[f32],
    start: &[f32],
    blocks: Vec<&mut [f32]>,
    serial: bool,
) {
    let SequenceShape { hidden, ascs, delay, prefix, .. } = *shape;
    let steps = shape.total_steps();
    let input_rows = PartRows::new(rows, shape.batch, shape.steps);
    let start_rows = PartRows::new(rows, shape.batch, prefix);
    let rows = PartRows::new(rows, shape.batch, steps);
    let c = Coefficients::new(coefficients, hidden, ascs);
    let (s, sigma, i0, v_reset) = (shape.dt_over_tau, shape.sigma_v, shape.i0, shape.v_reset);
    let (thresh, gain, leak, mask) = (&c.thresh[..hidden], &c.gain[..hidden], &c.leak[..hidden], &mask[..hidden]);
    let mut blocks = blocks.into_iter();
    let mut rates: Vec<&mut [f32]> = blocks.by_ref().take(steps).collect();
    let mut voltages: Vec<&mut [f32]> = blocks.by_ref().take(steps).collect();
    let mut currents: Vec<Vec<&mut [f32]>> = (0..ascs).map(|_| blocks.by_ref().take(steps).collect()).collect();
    for t in 0..prefix {
        rates[t].copy_from_slice(start_rows.block(start, hidden, 0, t));
        voltages[t].copy_from_slice(start_rows.block(start, hidden, 1, t));
        for (j, current) in currents.iter_mut().enumerate() {
            current[t].copy_from_slice(start_rows.block(start, hidden, 2 + j, t));
        }
    }
    let mut synaptic = vec![0.0f32; rows.count * hidden];
    let zeros = vec![0.0f32; hidden];
    let mut scaled_rate = vec![0.0f32; hidden];
    let mut total = vec![0.0f32; hidden];
    let weight = MatRef::row_major(weight_lat, hidden, hidden);
    for t in prefix..steps {
        synaptic.copy_from_slice(input_rows.block(input_current, hidden, 0, t - prefix));
        let (rates_past, rates_now) = rates.split_at_mut(t);
        if t >= delay {
            let source = MatRef::row_major(&*rates_past[t - delay], rows.count, hidden);
            product(serial, &mut synaptic, true, source, weight);
        }
        let rates_now = &mut *rates_now[0];
        let (v_past, v_now) = voltages.split_at_mut(t);
        let v_now = &mut *v_now[0];
        for b in 0..rows.count {
            let here = b * hidden..(b + 1) * hidden;
            let sp = &mut scaled_rate[..hidden];
            let (previous_rate, v_prev) = if t > 0 {
                (&rates_past[t - 1][here.clone()], &v_past[t - 1][here.clone()])
            } else {
                (&zeros[..], &zeros[..])
            };
            for (sp, &p) in sp.iter_mut().zip(previous_rate) {
                *sp = s * p;
            }
            let total = &mut total[..hidden];
            total.fill(0.0);
            for j in 0..ascs {
                let (past, now) = currents[j].split_at_mut(t);
                let now = &mut now[0][here.clone()];
                let prev = if t > 0 { &past[t - 1][here.clone()] } else { &zeros[..] };
                let (r, a, rho) = (&c.r[j][..hidden], &c.a[j][..hidden], &c.rho[j][..hidden]);
                for n in 0..hidden {
                    let current = (r[n] * prev[n] + a[n]) * sp[n] + rho[n] * prev[n];
                    now[n] = current;
                    total[n] += current;
                }
            }
            let syn = &synaptic[here.clone()];
            let v_out = &mut v_now[here.clone()];
            let out = &mut rates_now[here];
            for n in 0..hidden {
                let v = syn[n] + leak[n] * v_prev[n] - sp[n] * (v_prev[n] - v_reset) + gain[n] * (total[n] + i0);
                v_out[n] = v;
                out[n] = sigmoid((v - thresh[n]) / sigma) * mask[n];
            }
        }
    }
}

/// Gradients of a fused GLIFR sequence.
#[derive(Debug)]
pub struct SequenceGradients {
    /// `[T,B,H]`, of the input current.
    pub input_current: Vec<f32>,
    /// `[H,H]`.
    pub weight_lat: Vec<f32>,
    /// `[3+3A, H]`, rows as the coefficients.
    pub coefficients: Vec<f32>,
    /// `[2+A, P, B, H]`, of the start state (empty without one).
    pub start: Vec<f32>,
}

/// The backward pass. `packed` is what [`forward`] returned, `grad` the gradient of the loss
/// with respect to it (same layout: start, then rates, voltages, currents).
pub fn backward(
    shape: &SequenceShape,
    weight_lat: &[f32],
    coefficients: &[f32],
    mask: &[f32],
    packed: &[f32],
    grad: &[f32],
) -> SequenceGradients {
    let SequenceShape { batch, steps, hidden, ascs, prefix, .. } = *shape;
    let mut input_current = vec![0.0f32; steps * batch * hidden];
    let mut start = vec![0.0f32; (2 + ascs) * prefix * batch * hidden];
    let (ranges, serial) = parts(shape);
    let blocks = split_steps(&mut input_current, &ranges, hidden);
    let work: Vec<_> = ranges.iter().zip(blocks).collect();
    let results = map_parts(work, |(rows, blocks)| {
        let part = PartRows::new(rows, shape.batch, shape.total_steps());
        (part, backward_part(shape, part, weight_lat, coefficients, mask, packed, grad, blocks, serial))
    });
    let mut weight_grad = vec![0.0f32; hidden * hidden];
    let mut sums = vec![0.0f64; coefficient_rows(ascs) * hidden];
    for (part, (part_weight, part_sums, part_start)) in results {
        for (total, x) in weight_grad.iter_mut().zip(part_weight) {
            *total += x;
        }
        for (total, x) in sums.iter_mut().zip(part_sums) {
            *total += x;
        }
        // The part's start gradient is `[2+A, P, rows, H]`; place its rows in the batch.
        let block = part.count * hidden;
        for (kt, rows) in part_start.chunks(block.max(1)).enumerate() {
            let at = (kt * batch + part.first) * hidden;
            start[at..at + rows.len()].copy_from_slice(rows);
        }
    }
    SequenceGradients {
        input_current,
        weight_lat: weight_grad,
        coefficients: sums.into_iter().map(|x| x as f32).collect(),
        start,
    }
}

/// One part's backward pass: writes its blocks of the input current's gradient (`blocks[t]`)
/// and returns its share of W̄_lat, of the coefficients' sums, and its rows of the start's
/// gradient (`[2+A, P, rows, H]`).
#[allow(clippy::too_many_arguments)]
fn backward_part(
    shape: &SequenceShape,
    rows: PartRows,
    weight_lat: &[f32],
    coefficients: &[f32],
    mask: &[f32],
    packed: &[f32],
    grad: &[f32],
    mut voltage_adjoints: Vec<&mut [f32]>,
    serial: bool,
) -> (Vec<f32>, Vec<f64>, Vec<f32>) {
    let SequenceShape { hidden, ascs, delay, prefix, .. } = *shape;
    let steps = shape.total_steps();
    let block = rows.count * hidden;
    let c = Coefficients::new(coefficients, hidden, ascs);
    let (s, sigma, i0, v_reset) = (shape.dt_over_tau, shape.sigma_v, shape.i0, shape.v_reset);
    let (gain, leak, mask) = (&c.gain[..hidden], &c.leak[..hidden], &mask[..hidden]);
    // S̄ accumulates the readout's gradient, the lateral adjoints and the P̄ of the next step.
    let mut rate_adjoint = Vec::with_capacity(steps * block);
    for t in 0..steps {
        rate_adjoint.extend_from_slice(rows.block(grad, hidden, 0, t));
    }
    let mut carried_voltage = vec![0.0f32; block];
    let mut carried_currents = vec![vec![0.0f32; block]; ascs];
    let mut sums = vec![0.0f64; coefficient_rows(ascs) * hidden];
    let mut weight_grad = vec![0.0f32; hidden * hidden];
    let zeros = vec![0.0f32; hidden];
    let mut scaled_rate = vec![0.0f32; hidden];
    let mut total = vec![0.0f32; hidden];
    let mut rate_bar = vec![0.0f32; hidden];
    let weight_t = MatRef::row_major(weight_lat, hidden, hidden).t();

    for t in (prefix..steps).rev() {
        let (firing, v_grad) = (rows.block(packed, hidden, 0, t), rows.block(grad, hidden, 1, t));
        let (adjoint_past, adjoint_now) = rate_adjoint.split_at_mut(t * block);
        let adjoint_now = &adjoint_now[..block];
        let v_bar_now = &mut *voltage_adjoints[t - prefix];
        for b in 0..rows.count {
            let here = b * hidden..(b + 1) * hidden;
            let (p, v_prev) = if t > 0 {
                (
                    &rows.block(packed, hidden, 0, t - 1)[here.clone()],
                    &rows.block(packed, hidden, 1, t - 1)[here.clone()],
                )
            } else {
                (&zeros[..], &zeros[..])
            };
            let sp = &mut scaled_rate[..hidden];
            for (sp, &p) in sp.iter_mut().zip(p) {
                *sp = s * p;
            }
            let total = &mut total[..hidden];
            total.fill(0.0);
            for j in 0..ascs {
                for (total, &i) in total.iter_mut().zip(&rows.block(packed, hidden, 2 + j, t)[here.clone()]) {
                    *total += i;
                }
            }
            let (head, asc_sums) = sums.split_at_mut(3 * hidden);
            let (sum_thresh, rest) = head.split_at_mut(hidden);
            let (sum_gain, sum_leak) = rest.split_at_mut(hidden);
            let (firing, adjoint, v_grad) = (&firing[here.clone()], &adjoint_now[here.clone()], &v_grad[here.clone()]);
            let carried_v = &mut carried_voltage[here.clone()];
            let v_bar = &mut v_bar_now[here.clone()];
            let p_bar = &mut rate_bar[..hidden];
            for n in 0..hidden {
                let m = mask[n];
                // R = S/m; where m = 0 the adjoint is zero and R does not matter.
                let r = if m != 0.0 { firing[n] / m } else { 0.0 };
                let z_bar = adjoint[n] * m * r * (1.0 - r) / sigma;
                let vb = carried_v[n] + v_grad[n] + z_bar;
                v_bar[n] = vb;
                sum_thresh[n] -= f64::from(z_bar);
                sum_gain[n] += f64::from(vb) * f64::from(total[n] + i0);
                sum_leak[n] += f64::from(vb) * f64::from(v_prev[n]);
                p_bar[n] = -s * vb * (v_prev[n] - v_reset);
                carried_v[n] = vb * (leak[n] - sp[n]);
            }
            let (r_sums, rest) = asc_sums.split_at_mut(ascs * hidden);
            let (a_sums, rho_sums) = rest.split_at_mut(ascs * hidden);
            for j in 0..ascs {
                let sum_r = &mut r_sums[j * hidden..(j + 1) * hidden];
                let sum_a = &mut a_sums[j * hidden..(j + 1) * hidden];
                let sum_rho = &mut rho_sums[j * hidden..(j + 1) * hidden];
                let (r, a, rho) = (&c.r[j][..hidden], &c.a[j][..hidden], &c.rho[j][..hidden]);
                let i_prev = if t > 0 { &rows.block(packed, hidden, 2 + j, t - 1)[here.clone()] } else { &zeros[..] };
                let i_grad = &rows.block(grad, hidden, 2 + j, t)[here.clone()];
                let carried = &mut carried_currents[j][here.clone()];
                for n in 0..hidden {
                    let i_bar = carried[n] + i_grad[n] + gain[n] * v_bar[n];
                    sum_r[n] += f64::from(i_bar * i_prev[n] * sp[n]);
                    sum_a[n] += f64::from(i_bar * sp[n]);
                    sum_rho[n] += f64::from(i_bar * i_prev[n]);
                    p_bar[n] += s * i_bar * (r[n] * i_prev[n] + a[n]);
                    carried[n] = i_bar * (r[n] * sp[n] + rho[n]);
                }
            }
            if t > 0 {
                let previous = &mut adjoint_past[(t - 1) * block..t * block][here];
                for (adjoint, &bar) in previous.iter_mut().zip(&rate_bar[..hidden]) {
                    *adjoint += bar;
                }
            }
        }
        if t >= delay {
            // S̄_{t−d} += V̄_t·W_latᵀ and W̄ += S_{t−d}ᵀ·V̄_t.
            let v_bar = MatRef::row_major(&*voltage_adjoints[t - prefix], rows.count, hidden);
            let target = &mut adjoint_past[(t - delay) * block..(t - delay + 1) * block];
            product(serial, target, true, v_bar, weight_t);
            let source = MatRef::row_major(rows.block(packed, hidden, 0, t - delay), rows.count, hidden);
            product(serial, &mut weight_grad, true, source.t(), v_bar);
        }
    }
    // The start's gradient: what reached each of its steps directly (the loss may read the
    // output's copy of it) and, for S, the rate adjoints of the steps that read it; V and I_j
    // of its last step also take what the first new step carried back.
    let mut start = Vec::with_capacity((2 + ascs) * prefix * block);
    start.extend_from_slice(&rate_adjoint[..prefix * block]);
    for (k, carried) in std::iter::once(&carried_voltage).chain(&carried_currents).enumerate() {
        for t in 0..prefix {
            let direct = rows.block(grad, hidden, 1 + k, t);
            if t + 1 == prefix {
                start.extend(direct.iter().zip(carried).map(|(g, c)| g + c));
            } else {
                start.extend_from_slice(direct);
            }
        }
    }
    (weight_grad, sums, start)
}
