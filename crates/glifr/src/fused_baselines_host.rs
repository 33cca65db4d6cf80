//! The CPU side of the fused RNN and LSTM sequences ([`crate::fused_baselines`]): forward and
//! hand-written backward in plain Rust over contiguous time-major f32 buffers, the batch split
//! across cores for the whole sequence, one GEMM per step for the recurrent product and one
//! over all steps for each weight gradient.
//!
//! # RNN (GLIFS_ASC `RNNC` inside `RNN`, delay d ≥ 1, silencing mask m)
//! ```text
//! p_t = m ⊙ tanh(a_t + p_{t−d}·W_lat)        a_t = x_t·W_ih + b (outside), p_{t−d} = 0 for t < d
//! ```
//! Backward, in reverse, with `p̄_t` the gradient flowing into `p_t` plus what later steps sent:
//! ```text
//! z̄_t = p̄_t ⊙ m ⊙ (1 − tanh²)    ā_t = z̄_t    p̄_{t−d} += z̄_t·W_latᵀ    W̄_lat = Σ_t p_{t−d}ᵀ z̄_t
//! ```
//! Kept: the outputs p only (tanh is recovered as p/m where m ≠ 0; where m = 0 nothing flows).
//!
//! # LSTM (`torch.nn.LSTMCell` inside GLIFS_ASC's `LSTMN`: hidden fed back after one step)
//! ```text
//! [i f g o] = a_t + p_{t−1}·W_hh          (a_t = x_t·W_ih + b_ih + b_hh outside)
//! c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g)    h_t = σ(o) ⊙ tanh(c_t)    p_t = m ⊙ h_t
//! ```
//! Backward, with `h̄_t = m ⊙ (ḡ_{p,t} + z̄_{t+1}·W_hhᵀ)` and `c̄_t = ḡ_{c,t} + c̄_{t+1} ⊙ σ(f_{t+1}) +
//! h̄_t ⊙ σ(o) ⊙ (1 − tanh² c_t)`, the gate pre-activation adjoints `z̄_t` are
//! `[c̄ ⊙ tanh g ⊙ σ′(i), c̄ ⊙ c_{t−1} ⊙ σ′(f), c̄ ⊙ σ(i) ⊙ (1 − tanh² g), h̄ ⊙ tanh c_t ⊙ σ′(o)]`,
//! `ā_t = z̄_t` and `W̄_hh = Σ_t p_{t−1}ᵀ z̄_t`.
//! Kept: p and c (outputs) and the four activated gates `[T,B,4H]`.

use fused::math::{sigmoid, tanh};
use fused::parallel::{PartRows, map_parts, split_rows, split_steps};
use fused::{MatRef, matmul_in_part as product};

/// The sizes of a fused RNN or LSTM sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaselineShape {
    /// Steps T.
    pub steps: usize,
    /// Batch B.
    pub batch: usize,
    /// Hidden units H.
    pub hidden: usize,
    /// Lateral delay in steps (the RNN's; the LSTM's is 1).
    pub delay: usize,
}

/// The RNN forward: `input_current` a `[T,B,H]`, `weight_lat` `[H,H]`, `mask` `[H]` → p `[T,B,H]`.
pub fn rnn_forward(shape: &BaselineShape, input_current: &[f32], weight_lat: &[f32], mask: &[f32]) -> Vec<f32> {
    let BaselineShape { steps, batch, hidden, delay } = *shape;
    let mut out = vec![0.0f32; steps * batch * hidden];
    let ranges = split_rows(batch, steps * hidden * hidden / 64);
    let serial = ranges.len() > 1;
    let blocks = split_steps(&mut out, &ranges, hidden);
    let work: Vec<_> = ranges.iter().zip(blocks).collect();
    map_parts(work, |(rows, mut out)| {
        let part = PartRows::new(rows, batch, steps);
        let w = MatRef::row_major(weight_lat, hidden, hidden);
        for t in 0..steps {
            let (past, now) = out.split_at_mut(t);
            let now = &mut *now[0];
            now.copy_from_slice(part.block(input_current, hidden, 0, t));
            if t >= delay {
                product(serial, now, true, MatRef::row_major(&*past[t - delay], part.count, hidden), w);
            }
            for row in now.chunks_exact_mut(hidden) {
                for (z, &m) in row.iter_mut().zip(mask) {
                    *z = m * tanh(*z);
                }
            }
        }
    });
    out
}

/// RNN gradients: of the input current `[T,B,H]` and of `W_lat` `[H,H]`.
pub fn rnn_backward(
    shape: &BaselineShape,
    weight_lat: &[f32],
    mask: &[f32],
    output: &[f32],
    grad: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let BaselineShape { steps, batch, hidden, delay } = *shape;
    let mut input_grad = vec![0.0f32; steps * batch * hidden];
    let ranges = split_rows(batch, steps * hidden * hidden / 64);
    let serial = ranges.len() > 1;
    let blocks = split_steps(&mut input_grad, &ranges, hidden);
    let work: Vec<_> = ranges.iter().zip(blocks).collect();
    let parts = map_parts(work, |(rows, mut z_bar)| {
        let part = PartRows::new(rows, batch, steps);
        let count = part.count;
        let w_t = MatRef::row_major(weight_lat, hidden, hidden).t();
        // What later steps sent back to each step's p (a delay's worth of steps is live).
        let mut sent = vec![0.0f32; steps * count * hidden];
        for t in (0..steps).rev() {
            let p = part.block(output, hidden, 0, t);
            let g = part.block(grad, hidden, 0, t);
            let here = &sent[t * count * hidden..(t + 1) * count * hidden];
            let z = &mut *z_bar[t];
            for b in 0..count {
                let row = b * hidden..(b + 1) * hidden;
                let (z, p, g, s) = (&mut z[row.clone()], &p[row.clone()], &g[row.clone()], &here[row]);
                for n in 0..hidden {
                    let m = mask[n];
                    z[n] = if m != 0.0 {
                        let y = p[n] / m;
                        (g[n] + s[n]) * m * (1.0 - y * y)
                    } else {
                        0.0
                    };
                }
            }
            if t >= delay {
                let back = &mut sent[(t - delay) * count * hidden..(t - delay + 1) * count * hidden];
                product(serial, back, true, MatRef::row_major(z, count, hidden), w_t);
            }
        }
        // W̄_lat = Σ_{t ≥ d} p_{t−d}ᵀ z̄_t, one product over the part's steps.
        let live = steps.saturating_sub(delay);
        let mut weight_grad = vec![0.0f32; hidden * hidden];
        if live > 0 {
            let mut delayed = Vec::with_capacity(live * count * hidden);
            let mut adjoints = Vec::with_capacity(live * count * hidden);
            for (t, adjoint) in z_bar.iter().enumerate().skip(delay) {
                delayed.extend_from_slice(part.block(output, hidden, 0, t - delay));
                adjoints.extend_from_slice(adjoint);
            }
            let rows_all = live * count;
            product(
                serial,
                &mut weight_grad,
                false,
                MatRef::row_major(&delayed, rows_all, hidden).t(),
                MatRef::row_major(&adjoints, rows_all, hidden),
            );
        }
        weight_grad
    });
    (input_grad, sum_parts(parts, hidden * hidden))
}

/// The LSTM forward: `input_current` `[T,B,4H]`, `weight_hh` `[H,4H]`, `mask` `[H]`, the start
/// cell state `[B,H]` (zeros for the zero state) → (`[2,T,B,H]`: p then c, and the activated
/// gates `[T,B,4H]`). A start hidden state enters through the input current (its only use is
/// `h₀·W_hh` in the first step's gates).
pub fn lstm_forward(
    shape: &BaselineShape,
    input_current: &[f32],
    weight_hh: &[f32],
    mask: &[f32],
    start_cell: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let BaselineShape { steps, batch, hidden, .. } = *shape;
    assert_eq!(start_cell.len(), batch * hidden, "start cell state size");
    let series = steps * batch * hidden;
    let mut packed = vec![0.0f32; 2 * series];
    let mut gates = vec![0.0f32; 4 * series];
    let ranges = split_rows(batch, steps * hidden * hidden / 16);
    let serial = ranges.len() > 1;
    let (p_all, c_all) = packed.split_at_mut(series);
    let p_blocks = split_steps(p_all, &ranges, hidden);
    let c_blocks = split_steps(c_all, &ranges, hidden);
    let gate_blocks = split_steps(&mut gates, &ranges, 4 * hidden);
    let work: Vec<_> = ranges.iter().zip(p_blocks).zip(c_blocks).zip(gate_blocks).collect();
    map_parts(work, |(((rows, mut p), mut c), mut gates)| {
        let part = PartRows::new(rows, batch, steps);
        let count = part.count;
        let w = MatRef::row_major(weight_hh, hidden, 4 * hidden);
        let start = &start_cell[part.first * hidden..(part.first + count) * hidden];
        for t in 0..steps {
            let z = &mut *gates[t];
            z.copy_from_slice(part.block(input_current, 4 * hidden, 0, t));
            if t > 0 {
                product(serial, z, true, MatRef::row_major(&*p[t - 1], count, hidden), w);
            }
            let (c_past, c_now) = c.split_at_mut(t);
            let c_before: &[f32] = if t > 0 { &*c_past[t - 1] } else { start };
            let c_now = &mut *c_now[0];
            let p_now = &mut *p[t];
            for b in 0..count {
                let z = &mut z[b * 4 * hidden..(b + 1) * 4 * hidden];
                let (zi, rest) = z.split_at_mut(hidden);
                let (zf, rest) = rest.split_at_mut(hidden);
                let (zg, zo) = rest.split_at_mut(hidden);
                let row = b * hidden..(b + 1) * hidden;
                let (c_prev, c_out, p_out) = (&c_before[row.clone()], &mut c_now[row.clone()], &mut p_now[row]);
                for n in 0..hidden {
                    let (i, f, g, o) = (sigmoid(zi[n]), sigmoid(zf[n]), tanh(zg[n]), sigmoid(zo[n]));
                    (zi[n], zf[n], zg[n], zo[n]) = (i, f, g, o);
                    let cell = f * c_prev[n] + i * g;
                    c_out[n] = cell;
                    p_out[n] = mask[n] * (o * tanh(cell));
                }
            }
        }
    });
    (packed, gates)
}

/// LSTM gradients: of the input current `[T,B,4H]`, of `W_hh` `[H,4H]` and of the start cell
/// state `[B,H]`, from the start cell state, the forward's packed p/c, its gates and the
/// gradient into the packed output.
#[allow(clippy::too_many_arguments)]
pub fn lstm_backward(
    shape: &BaselineShape,
    weight_hh: &[f32],
    mask: &[f32],
    start_cell: &[f32],
    packed: &[f32],
    gates: &[f32],
    grad: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let BaselineShape { steps, batch, hidden, .. } = *shape;
    let four = 4 * hidden;
    let mut input_grad = vec![0.0f32; steps * batch * four];
    let ranges = split_rows(batch, steps * hidden * hidden / 16);
    let serial = ranges.len() > 1;
    let blocks = split_steps(&mut input_grad, &ranges, four);
    let work: Vec<_> = ranges.iter().zip(blocks).collect();
    let parts = map_parts(work, |(rows, mut z_bar)| {
        let part = PartRows::new(rows, batch, steps);
        let count = part.count;
        let w_t = MatRef::row_major(weight_hh, hidden, four).t();
        let start = &start_cell[part.first * hidden..(part.first + count) * hidden];
        let mut hidden_sent = vec![0.0f32; count * hidden];
        let mut cell_carry = vec![0.0f32; count * hidden];
        for t in (0..steps).rev() {
            let gate = part.block(gates, four, 0, t);
            let c_now = part.block(packed, hidden, 1, t);
            let c_prev = if t > 0 { part.block(packed, hidden, 1, t - 1) } else { start };
            let (g_p, g_c) = (part.block(grad, hidden, 0, t), part.block(grad, hidden, 1, t));
            let z = &mut *z_bar[t];
            for b in 0..count {
                let row = b * hidden..(b + 1) * hidden;
                let g4 = &gate[b * four..(b + 1) * four];
                let z4 = &mut z[b * four..(b + 1) * four];
                let (sent, carry) = (&hidden_sent[row.clone()], &mut cell_carry[row.clone()]);
                let (c, cp, gp, gc) = (&c_now[row.clone()], &c_prev[row.clone()], &g_p[row.clone()], &g_c[row]);
                for n in 0..hidden {
                    let (i, f, g, o) = (g4[n], g4[hidden + n], g4[2 * hidden + n], g4[3 * hidden + n]);
                    let h_bar = mask[n] * (gp[n] + sent[n]);
                    let tc = tanh(c[n]);
                    let c_bar = gc[n] + carry[n] + h_bar * o * (1.0 - tc * tc);
                    z4[n] = c_bar * g * i * (1.0 - i);
                    z4[hidden + n] = c_bar * cp[n] * f * (1.0 - f);
                    z4[2 * hidden + n] = c_bar * i * (1.0 - g * g);
                    z4[3 * hidden + n] = h_bar * tc * o * (1.0 - o);
                    carry[n] = c_bar * f;
                }
            }
            product(serial, &mut hidden_sent, false, MatRef::row_major(z, count, four), w_t);
        }
        // W̄_hh = Σ_{t ≥ 1} p_{t−1}ᵀ z̄_t.
        let mut weight_grad = vec![0.0f32; hidden * four];
        if steps > 1 {
            let mut previous = Vec::with_capacity((steps - 1) * count * hidden);
            let mut adjoints = Vec::with_capacity((steps - 1) * count * four);
            for (t, adjoint) in z_bar.iter().enumerate().skip(1) {
                previous.extend_from_slice(part.block(packed, hidden, 0, t - 1));
                adjoints.extend_from_slice(adjoint);
            }
            let rows_all = (steps - 1) * count;
            product(
                serial,
                &mut weight_grad,
                false,
                MatRef::row_major(&previous, rows_all, hidden).t(),
                MatRef::row_major(&adjoints, rows_all, four),
            );
        }
        // What the first step carried back is the start cell state's gradient.
        (weight_grad, cell_carry)
    });
    let mut start_grad = Vec::with_capacity(batch * hidden);
    let mut weight_parts = Vec::with_capacity(parts.len());
    for (weight, carry) in parts {
        weight_parts.push(weight);
        start_grad.extend(carry);
    }
    (input_grad, sum_parts(weight_parts, hidden * four), start_grad)
}

fn sum_parts(parts: Vec<Vec<f32>>, len: usize) -> Vec<f32> {
    let mut total = vec![0.0f32; len];
    for part in parts {
        for (t, x) in total.iter_mut().zip(part) {
            *t += x;
        }
    }
    total
}
