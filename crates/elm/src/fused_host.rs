//! The CPU side of the fused ELM memory recurrence ([`crate::fused`]): the forward pass and
//! its hand-written backward, in plain Rust over contiguous f32 buffers.
//!
//! # What it computes
//! Per step t, from the first layer's input part `u_t = x̃_t·(W_s W₁ᵇ) + b₁` (computed outside,
//! one large product for all steps) and the previous memory:
//! ```text
//! d_t   = κ_m ⊙ m_{t−1}                       (the decayed memory)
//! h⁰_t  = u_t + d_t·W₁ᵐ                       (the first layer, memory rows)
//! h^l_t = act(h^{l−1}_t)·W_l + b_l            l = 1..L (the MLP's other layers)
//! m_t   = d_t + g ⊙ 1.7159·tanh(⅔·h^L_t)
//! ```
//! with κ_m, the gain g (v1: λ(1 − κ_m); v2: 1 − e^{−Δt·λ/τ_m}) and the weights derived
//! outside. All series are time-major `[T,B,·]`.
//!
//! # Backward (per step, in reverse; `ā` the adjoint of `a`)
//! ```text
//! ḡ += m̄ ⊙ Δ,   h̄^L = m̄ ⊙ g ⊙ 1.7159·⅔·(1 − tanh²(⅔h^L))
//! h̄^{l−1} = (h̄^l·W_lᵀ) ⊙ act′(h^{l−1})              l = L..1
//! ū_t = h̄⁰,   d̄ = h̄⁰·W₁ᵐᵀ + m̄,   κ̄ += d̄ ⊙ m_{t−1},   m̄_{t−1} = d̄ ⊙ κ_m
//! ```
//! The weight gradients `W̄_l = Σ_t act(h^{l−1}_t)ᵀ h̄^l_t`, `W̄₁ᵐ = Σ_t d_tᵀ h̄⁰_t` are one product
//! each over all steps at the end, from the stored `h̄`, instead of one small product per step.
//!
//! # What is kept
//! The forward keeps every layer's pre-activation `h^l_t` (`T·B·(W₀ + Σ_l W_l)` floats) beside
//! the memories it returns; the backward adds as many adjoints. The batch is split across
//! cores for the whole sequence ([`fused::parallel`]).

use fused::math::{sigmoid, tanh};
use fused::parallel::{PartRows, map_parts, split_rows, split_steps};
use fused::{MatRef, matmul_in_part as product};

/// The MLP's hidden nonlinearity, as the operation sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `x·σ(x)`.
    Silu,
}

/// The sizes of a fused ELM sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct ElmShape {
    /// Batch B.
    pub batch: usize,
    /// Steps T.
    pub steps: usize,
    /// Memory units D.
    pub memory: usize,
    /// Output widths of the MLP's layers from the first on: `widths[0]` is the first layer's
    /// (the width of `u_t`), the last is D. One entry for a linear MLP.
    pub widths: Vec<usize>,
    /// Hidden nonlinearity.
    pub activation: Activation,
}

impl ElmShape {
    /// Elements of the flat MLP parameters (layers 1..L: weight `[W_{l−1}, W_l]`, then bias).
    pub fn mlp_params(&self) -> usize {
        self.widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// Elements one step of one sequence keeps: every layer's pre-activation.
    fn kept_per_row(&self) -> usize {
        self.widths.iter().sum()
    }

    /// Offsets of each layer's pre-activation within a step's kept row.
    fn layer_offsets(&self) -> Vec<usize> {
        let mut offsets = Vec::with_capacity(self.widths.len());
        let mut at = 0;
        for &w in &self.widths {
            offsets.push(at);
            at += w;
        }
        offsets
    }
}

#[inline(always)]
fn activate(activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Relu => x.max(0.0),
        Activation::Silu => x * sigmoid(x),
    }
}

#[inline(always)]
fn activation_slope(activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Relu => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::Silu => {
            let s = sigmoid(x);
            s * (1.0 + x * (1.0 - s))
        }
    }
}

/// The MLP's layers 1..L as views into the flat parameters.
fn layers<'a>(shape: &ElmShape, mlp: &'a [f32]) -> Vec<(MatRef<'a>, &'a [f32])> {
    let mut at = 0;
    shape
        .widths
        .windows(2)
        .map(|w| {
            let weight = MatRef::row_major(&mlp[at..at + w[0] * w[1]], w[0], w[1]);
            let bias = &mlp[at + w[0] * w[1]..at + w[0] * w[1] + w[1]];
            at += w[0] * w[1] + w[1];
            (weight, bias)
        })
        .collect()
}

/// The forward pass. `first_layer_input` is u `[T,B,W₀]`, `start_memory` `[B,D]`,
/// `recurrent` W₁ᵐ `[D,W₀]`, `kappa` and `gain` `[D]`, `mlp` the flat layers 1..L. Returns the
/// memories `[T,B,D]` and what the backward needs (`[T,B,ΣW]`, the pre-activations).
pub fn forward(
    shape: &ElmShape,
    first_layer_input: &[f32],
    start_memory: &[f32],
    recurrent: &[f32],
    kappa: &[f32],
    gain: &[f32],
    mlp: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let (batch, steps, memory_size) = (shape.batch, shape.steps, shape.memory);
    let kept = shape.kept_per_row();
    let mut memory = vec![0.0f32; steps * batch * memory_size];
    let mut stash = vec![0.0f32; steps * batch * kept];
    let ranges = split_rows(batch, steps * kept.max(memory_size));
    let serial = ranges.len() > 1;
    let memory_blocks = split_steps(&mut memory, &ranges, memory_size);
    let stash_blocks = split_steps(&mut stash, &ranges, kept);
    let work: Vec<_> = ranges.iter().zip(memory_blocks).zip(stash_blocks).collect();
    map_parts(work, |((rows, mut memory_out), mut stash_out)| {
        let part = PartRows::new(rows, batch, steps);
        let count = part.count;
        let layers = layers(shape, mlp);
        let offsets = shape.layer_offsets();
        let recurrent = MatRef::row_major(recurrent, memory_size, shape.widths[0]);
        let start = &start_memory[part.first * memory_size..(part.first + count) * memory_size];
        let mut decayed = vec![0.0f32; count * memory_size];
        // One contiguous `[count, W]` buffer per layer for the step's products.
        let mut pre: Vec<Vec<f32>> = shape.widths.iter().map(|&w| vec![0.0f32; count * w]).collect();
        let mut activated = vec![0.0f32; count * shape.widths.iter().copied().max().unwrap_or(0)];
        for t in 0..steps {
            let (past, now) = memory_out.split_at_mut(t);
            let previous: &[f32] = if t > 0 { &past[t - 1] } else { start };
            for ((d, &m), k) in decayed.iter_mut().zip(previous).zip(kappa.iter().cycle()) {
                *d = m * k;
            }
            pre[0].copy_from_slice(part.block(first_layer_input, shape.widths[0], 0, t));
            product(serial, &mut pre[0], true, MatRef::row_major(&decayed, count, memory_size), recurrent);
            for (l, (weight, bias)) in layers.iter().enumerate() {
                let (width_in, width_out) = (shape.widths[l], shape.widths[l + 1]);
                let input = &mut activated[..count * width_in];
                for (a, &h) in input.iter_mut().zip(&pre[l]) {
                    *a = activate(shape.activation, h);
                }
                let output = &mut pre[l + 1];
                for row in output.chunks_exact_mut(width_out) {
                    row.copy_from_slice(bias);
                }
                product(serial, output, true, MatRef::row_major(input, count, width_in), *weight);
            }
            let last = &pre[shape.widths.len() - 1];
            let out = &mut *now[0];
            for b in 0..count {
                let here = b * memory_size..(b + 1) * memory_size;
                let (out, d, h) = (&mut out[here.clone()], &decayed[here.clone()], &last[here]);
                for n in 0..memory_size {
                    out[n] = d[n] + tanh(h[n] * 2.0 / 3.0) * 1.7159 * gain[n];
                }
            }
            let stash_row = &mut *stash_out[t];
            for b in 0..count {
                let row = &mut stash_row[b * kept..(b + 1) * kept];
                for (l, &w) in shape.widths.iter().enumerate() {
                    row[offsets[l]..offsets[l] + w].copy_from_slice(&pre[l][b * w..(b + 1) * w]);
                }
            }
        }
    });
    (memory, stash)
}

/// Gradients of a fused ELM sequence, in the layouts of the inputs.
#[derive(Debug)]
pub struct ElmGradients {
    /// ū `[T,B,W₀]`.
    pub first_layer_input: Vec<f32>,
    /// m̄₀ `[B,D]`.
    pub start_memory: Vec<f32>,
    /// W̄₁ᵐ `[D,W₀]`.
    pub recurrent: Vec<f32>,
    /// κ̄ `[D]`.
    pub kappa: Vec<f32>,
    /// ḡ `[D]`.
    pub gain: Vec<f32>,
    /// The flat MLP parameters' gradient.
    pub mlp: Vec<f32>,
}

/// The backward pass, from the forward's memories and stash and the memories' gradient.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    shape: &ElmShape,
    start_memory: &[f32],
    recurrent: &[f32],
    kappa: &[f32],
    gain: &[f32],
    mlp: &[f32],
    memory: &[f32],
    stash: &[f32],
    grad: &[f32],
) -> ElmGradients {
    let (batch, steps, memory_size) = (shape.batch, shape.steps, shape.memory);
    let (width0, kept) = (shape.widths[0], shape.kept_per_row());
    let mut first_grad = vec![0.0f32; steps * batch * width0];
    let ranges = split_rows(batch, steps * kept.max(memory_size));
    let serial = ranges.len() > 1;
    let blocks = split_steps(&mut first_grad, &ranges, width0);
    let work: Vec<_> = ranges.iter().zip(blocks).collect();
    let parts = map_parts(work, |(rows, mut first_out)| {
        let part = PartRows::new(rows, batch, steps);
        let count = part.count;
        let layers = layers(shape, mlp);
        let offsets = shape.layer_offsets();
        let depth = shape.widths.len();
        let recurrent_t = MatRef::row_major(recurrent, memory_size, width0).t();
        let start = &start_memory[part.first * memory_size..(part.first + count) * memory_size];
        let previous = |t: usize| if t > 0 { part.block(memory, memory_size, 0, t - 1) } else { start };
        // Adjoints of every layer's pre-activation at every step, part-local and contiguous,
        // for the weight products at the end.
        let mut adjoints: Vec<Vec<f32>> = shape.widths.iter().map(|&w| vec![0.0f32; steps * count * w]).collect();
        let mut carried = vec![0.0f32; count * memory_size];
        let mut memory_bar = vec![0.0f32; count * memory_size];
        let mut decayed_bar = vec![0.0f32; count * memory_size];
        let mut slope_in = vec![0.0f32; count * shape.widths.iter().copied().max().unwrap_or(0)];
        let (mut kappa_sum, mut gain_sum) = (vec![0.0f64; memory_size], vec![0.0f64; memory_size]);
        for t in (0..steps).rev() {
            let kept_rows = part.block(stash, kept, 0, t);
            for ((bar, &g), &c) in memory_bar.iter_mut().zip(part.block(grad, memory_size, 0, t)).zip(&carried) {
                *bar = g + c;
            }
            // Through m_t = d_t + g ⊙ 1.7159·tanh(⅔ h^L).
            let last = depth - 1;
            {
                let top = &mut adjoints[last][t * count * memory_size..(t + 1) * count * memory_size];
                for b in 0..count {
                    let h = &kept_rows[b * kept + offsets[last]..b * kept + offsets[last] + memory_size];
                    let here = b * memory_size..(b + 1) * memory_size;
                    let (bar, top) = (&memory_bar[here.clone()], &mut top[here]);
                    for n in 0..memory_size {
                        let th = tanh(h[n] * 2.0 / 3.0);
                        gain_sum[n] += f64::from(bar[n] * th * 1.7159);
                        top[n] = bar[n] * gain[n] * 1.7159 * (2.0 / 3.0) * (1.0 - th * th);
                    }
                }
            }
            // Down the MLP: h̄^{l−1} = (h̄^l·W_lᵀ) ⊙ act′(h^{l−1}).
            for l in (1..depth).rev() {
                let (width_in, width_out) = (shape.widths[l - 1], shape.widths[l]);
                let (lower, upper) = adjoints.split_at_mut(l);
                let upper = &upper[0][t * count * width_out..(t + 1) * count * width_out];
                let lower = &mut lower[l - 1][t * count * width_in..(t + 1) * count * width_in];
                product(serial, lower, false, MatRef::row_major(upper, count, width_out), layers[l - 1].0.t());
                let slope = &mut slope_in[..count * width_in];
                for b in 0..count {
                    let h = &kept_rows[b * kept + offsets[l - 1]..b * kept + offsets[l - 1] + width_in];
                    let row = &mut slope[b * width_in..(b + 1) * width_in];
                    for n in 0..width_in {
                        row[n] = activation_slope(shape.activation, h[n]);
                    }
                }
                for (bar, &s) in lower.iter_mut().zip(slope.iter()) {
                    *bar *= s;
                }
            }
            let first = &adjoints[0][t * count * width0..(t + 1) * count * width0];
            first_out[t].copy_from_slice(first);
            // d̄ = h̄⁰·W₁ᵐᵀ + m̄;  κ̄ += d̄ ⊙ m_{t−1};  m̄_{t−1} = d̄ ⊙ κ.
            decayed_bar.copy_from_slice(&memory_bar);
            product(serial, &mut decayed_bar, true, MatRef::row_major(first, count, width0), recurrent_t);
            let before = previous(t);
            for b in 0..count {
                let here = b * memory_size..(b + 1) * memory_size;
                let (bar, m, out) = (&decayed_bar[here.clone()], &before[here.clone()], &mut carried[here]);
                for n in 0..memory_size {
                    kappa_sum[n] += f64::from(bar[n] * m[n]);
                    out[n] = bar[n] * kappa[n];
                }
            }
        }
        // The weight products over every step at once.
        let rows_all = steps * count;
        let mut decayed_all = vec![0.0f32; rows_all * memory_size];
        for t in 0..steps {
            let before = previous(t);
            let out = &mut decayed_all[t * count * memory_size..(t + 1) * count * memory_size];
            for ((d, &m), &k) in out.iter_mut().zip(before).zip(kappa.iter().cycle()) {
                *d = m * k;
            }
        }
        let mut recurrent_grad = vec![0.0f32; memory_size * width0];
        product(
            serial,
            &mut recurrent_grad,
            false,
            MatRef::row_major(&decayed_all, rows_all, memory_size).t(),
            MatRef::row_major(&adjoints[0], rows_all, width0),
        );
        let mut mlp_grad = vec![0.0f32; shape.mlp_params()];
        let mut at = 0;
        for l in 1..depth {
            let (width_in, width_out) = (shape.widths[l - 1], shape.widths[l]);
            let mut activated = vec![0.0f32; rows_all * width_in];
            for t in 0..steps {
                let kept_rows = part.block(stash, kept, 0, t);
                for b in 0..count {
                    let h = &kept_rows[b * kept + offsets[l - 1]..b * kept + offsets[l - 1] + width_in];
                    let row = &mut activated[(t * count + b) * width_in..(t * count + b + 1) * width_in];
                    for n in 0..width_in {
                        row[n] = activate(shape.activation, h[n]);
                    }
                }
            }
            let (weight_grad, rest) = mlp_grad[at..].split_at_mut(width_in * width_out);
            product(
                serial,
                weight_grad,
                false,
                MatRef::row_major(&activated, rows_all, width_in).t(),
                MatRef::row_major(&adjoints[l], rows_all, width_out),
            );
            let bias_grad = &mut rest[..width_out];
            for row in adjoints[l].chunks_exact(width_out) {
                for (g, &x) in bias_grad.iter_mut().zip(row) {
                    *g += x;
                }
            }
            at += width_in * width_out + width_out;
        }
        (carried, recurrent_grad, kappa_sum, gain_sum, mlp_grad)
    });
    let mut start_grad = Vec::with_capacity(batch * memory_size);
    let mut recurrent_grad = vec![0.0f32; memory_size * width0];
    let (mut kappa_sum, mut gain_sum) = (vec![0.0f64; memory_size], vec![0.0f64; memory_size]);
    let mut mlp_grad = vec![0.0f32; shape.mlp_params()];
    for (start, recurrent, kappa, gain, mlp) in parts {
        start_grad.extend(start);
        add(&mut recurrent_grad, &recurrent);
        add(&mut mlp_grad, &mlp);
        for (total, x) in kappa_sum.iter_mut().zip(kappa) {
            *total += x;
        }
        for (total, x) in gain_sum.iter_mut().zip(gain) {
            *total += x;
        }
    }
    ElmGradients {
        first_layer_input: first_grad,
        start_memory: start_grad,
        recurrent: recurrent_grad,
        kappa: kappa_sum.into_iter().map(|x| x as f32).collect(),
        gain: gain_sum.into_iter().map(|x| x as f32).collect(),
        mlp: mlp_grad,
    }
}

fn add(total: &mut [f32], part: &[f32]) {
    for (t, &x) in total.iter_mut().zip(part) {
        *t += x;
    }
}
