//! The GPU side of the fused ELM memory recurrence ([`crate::fused`]): `#[cube]` kernels that
//! serve every CubeCL runtime (wgpu/Vulkan/Metal here; CUDA and ROCm where Burn builds them).
//!
//! The math is the CPU side's ([`crate::fused_host`], equations and backward in its docs); only
//! the schedule differs.
//!
//! # Design: one launch per sequence, not per step
//! * **Forward**, one kernel: one cube (workgroup) per sequence of the batch loops over all T
//!   steps. Its units split each layer's output units between them (unit `j`, `j + n`, …). The
//!   cube holds in shared memory the decayed memory `d_t = κ ⊙ m_{t−1}` and the current layer's
//!   activations (two buffers, so one layer reads while the next writes); the weights are read
//!   from global memory at every step, where they stay in cache (all of them together are
//!   tens of kB). A cube barrier separates the layers of a step and the steps. It writes the
//!   memories and every layer's pre-activation, which is what the backward needs.
//! * **Backward**, one kernel with the same layout, running the steps in reverse. Each cube
//!   carries the memory's adjoint m̄ in shared memory, writes every layer's adjoint h̄ at every
//!   step, and accumulates its sequence's κ̄ and ḡ in shared memory (each unit owns its
//!   indices, so no atomics). Nothing is recomputed: the forward's pre-activations are read.
//! * **Weight gradients**: `W̄_l = Σ_t act(h^{l−1}_t)ᵀ h̄^l_t` and `W̄₁ᵐ = Σ_t d_tᵀ h̄⁰_t` are one
//!   large matrix product each over all (step, sequence) rows, by Burn's own tiled matmul;
//!   κ̄, ḡ and the biases are sums over rows. About 6 + 4L launches, whatever T is.
//!
//! So a training step launches a fixed number of kernels for the recurrence, independent of
//! T. The price is parallelism: B cubes. A GPU is filled by a large batch (Path-X trains at
//! batch 768), not by a batch of 8.
//!
//! Supported shapes: the MLP's hidden layers share one width H (every MLP the ELM builds), and
//! H and d_m fit the cube's shared memory ([`crate::fused::CUBE_MAX_WIDTH`]); otherwise the
//! ELM runs step by step ([`crate::fused::cube_supports`]).

use burn::backend::TensorMetadata;
use burn::backend::ops::{ActivationOps, FloatTensorOps};
use burn::backend::tensor::FloatTensor;
use burn::tensor::{Shape, Slice};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;
use fused::cube::{empty_like, sigmoid_f32, units_per_cube};

use crate::fused::{ElmScalars, ElmSequenceOps, cube_supports as supports};
use crate::mlp::MlpActivation;

/// LeCun's scaled tanh: `1.7159·tanh(⅔x)`, the ELM's memory update nonlinearity.
const LECUN_SCALE: f32 = 1.7159;
const LECUN_SLOPE: f32 = 2.0 / 3.0;

/// `tanh`, from one exponential of a non-positive argument (no overflow; exact sign).
#[cube]
fn tanh_f32(x: f32) -> f32 {
    let e = (-2.0f32 * x.abs()).exp();
    let magnitude = (1.0f32 - e) / (1.0f32 + e);
    if x < 0.0f32 { -magnitude } else { magnitude }
}

#[cube]
fn activate(x: f32, #[comptime] silu: bool) -> f32 {
    if silu { x * sigmoid_f32(x) } else { x.max(0.0f32) }
}

#[cube]
fn activation_slope(x: f32, #[comptime] silu: bool) -> f32 {
    if silu {
        let s = sigmoid_f32(x);
        s * (1.0f32 + x * (1.0f32 - s))
    } else if x > 0.0f32 {
        1.0f32
    } else {
        0.0f32
    }
}

/// The forward recurrence; one cube per sequence (see the module docs). `layers` L ≥ 1 output
/// widths: H for layers 0..L−1, d_m for the last. The stash row holds layer l at `l·H`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn elm_forward_kernel(
    first_layer_input: &Tensor<f32>, // [T,B,W₀]
    start_memory: &Tensor<f32>,      // [B,D]
    recurrent: &Tensor<f32>,         // [D,W₀]
    kappa: &Tensor<f32>,             // [D]
    gain: &Tensor<f32>,              // [D]
    mlp: &Tensor<f32>,               // layers 1..L, weight [in,out] then bias
    memory: &mut Tensor<f32>,        // [T,B,D]
    stash: &mut Tensor<f32>,         // [T,B,(L−1)H + D]
    steps: u32,
    memory_size: u32,
    hidden: u32,
    layers: u32,
    #[comptime] capacity: usize,
    #[comptime] silu: bool,
) {
    let b = CUBE_POS_X as usize;
    let batch = CUBE_COUNT_X as usize;
    let units = CUBE_DIM_X as usize;
    let unit = UNIT_POS_X as usize;
    let steps = steps as usize;
    let d_m = memory_size as usize;
    let h_w = hidden as usize;
    let layers = layers as usize;
    let kept = (layers - 1) * h_w + d_m;
    let first_width = if layers == 1 { d_m } else { h_w };

    let mut decayed = Shared::<[f32]>::new_slice(capacity);
    let mut activated = Shared::<[f32]>::new_slice(2 * capacity);

    let mut j = unit;
    while j < d_m {
        decayed[j] = kappa[j] * start_memory[b * d_m + j];
        j += units;
    }
    sync_cube();

    for t in 0..steps {
        let row = t * batch + b;
        // The first layer: u_t + d_t·W₁ᵐ.
        let mut j = unit;
        while j < first_width {
            let mut h = first_layer_input[row * first_width + j];
            for k in 0..d_m {
                h += decayed[k] * recurrent[k * first_width + j];
            }
            stash[row * kept + j] = h;
            if layers == 1 {
                memory[row * d_m + j] = decayed[j] + tanh_f32(h * LECUN_SLOPE) * LECUN_SCALE * gain[j];
            } else {
                activated[j] = activate(h, silu);
            }
            j += units;
        }
        sync_cube();
        // Layers 1..L, reading the previous layer's activations from the other buffer.
        for l in 1..layers {
            let from = ((l - 1) % 2) * capacity;
            let to = (l % 2) * capacity;
            let last = l + 1 == layers;
            let width = if last { d_m } else { h_w };
            let weights = (l - 1) * (h_w * h_w + h_w);
            let bias = weights + h_w * width;
            let mut j = unit;
            while j < width {
                let mut h = mlp[bias + j];
                for k in 0..h_w {
                    h += activated[from + k] * mlp[weights + k * width + j];
                }
                stash[row * kept + l * h_w + j] = h;
                if last {
                    memory[row * d_m + j] = decayed[j] + tanh_f32(h * LECUN_SLOPE) * LECUN_SCALE * gain[j];
                } else {
                    activated[to + j] = activate(h, silu);
                }
                j += units;
            }
            sync_cube();
        }
        // Every unit has read d_t; the next step's decayed memory replaces it.
        let mut j = unit;
        while j < d_m {
            decayed[j] = kappa[j] * memory[row * d_m + j];
            j += units;
        }
        sync_cube();
    }
}

/// The backward recurrence, steps in reverse; one cube per sequence. Writes every layer's
/// adjoint h̄ at every step (laid out as the stash), the start memory's gradient, and this
/// sequence's parts of κ̄ and ḡ.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn elm_backward_kernel(
    start_memory: &Tensor<f32>, // [B,D]
    recurrent: &Tensor<f32>,    // [D,W₀]
    kappa: &Tensor<f32>,        // [D]
    gain: &Tensor<f32>,         // [D]
    mlp: &Tensor<f32>,
    memory: &Tensor<f32>,          // [T,B,D]
    stash: &Tensor<f32>,           // [T,B,kept]
    grad: &Tensor<f32>,            // [T,B,D]
    adjoint: &mut Tensor<f32>,     // [T,B,kept]
    grad_start: &mut Tensor<f32>,  // [B,D]
    kappa_parts: &mut Tensor<f32>, // [B,D]
    gain_parts: &mut Tensor<f32>,  // [B,D]
    steps: u32,
    memory_size: u32,
    hidden: u32,
    layers: u32,
    #[comptime] capacity: usize,
    #[comptime] silu: bool,
) {
    let b = CUBE_POS_X as usize;
    let batch = CUBE_COUNT_X as usize;
    let units = CUBE_DIM_X as usize;
    let unit = UNIT_POS_X as usize;
    let steps = steps as usize;
    let d_m = memory_size as usize;
    let h_w = hidden as usize;
    let layers = layers as usize;
    let kept = (layers - 1) * h_w + d_m;
    let first_width = if layers == 1 { d_m } else { h_w };
    let top = layers - 1;

    // m̄ arriving from later steps, this step's m̄, the κ̄ and ḡ sums, and two buffers of h̄.
    let mut carried = Shared::<[f32]>::new_slice(capacity);
    let mut memory_adjoint = Shared::<[f32]>::new_slice(capacity);
    let mut kappa_sum = Shared::<[f32]>::new_slice(capacity);
    let mut gain_sum = Shared::<[f32]>::new_slice(capacity);
    let mut adjoints = Shared::<[f32]>::new_slice(2 * capacity);

    let mut j = unit;
    while j < d_m {
        carried[j] = 0.0f32;
        kappa_sum[j] = 0.0f32;
        gain_sum[j] = 0.0f32;
        j += units;
    }
    sync_cube();

    for reverse in 0..steps {
        let t = steps - 1 - reverse;
        let row = t * batch + b;
        // The top layer: m_t = d_t + g ⊙ 1.7159·tanh(⅔h^L).
        let to = (top % 2) * capacity;
        let mut j = unit;
        while j < d_m {
            let m_bar = grad[row * d_m + j] + carried[j];
            memory_adjoint[j] = m_bar;
            let squashed = tanh_f32(stash[row * kept + top * h_w + j] * LECUN_SLOPE);
            gain_sum[j] += m_bar * squashed * LECUN_SCALE;
            let h_bar = m_bar * gain[j] * LECUN_SCALE * LECUN_SLOPE * (1.0f32 - squashed * squashed);
            adjoints[to + j] = h_bar;
            adjoint[row * kept + top * h_w + j] = h_bar;
            j += units;
        }
        sync_cube();
        // Down the MLP: h̄^{l−1} = (h̄^l·W_lᵀ) ⊙ act′(h^{l−1}).
        for down in 0..top {
            let l = top - down;
            let from = (l % 2) * capacity;
            let to = ((l - 1) % 2) * capacity;
            let width = if l == top { d_m } else { h_w };
            let weights = (l - 1) * (h_w * h_w + h_w);
            let mut k = unit;
            while k < h_w {
                let mut s = 0.0f32;
                for j in 0..width {
                    s += adjoints[from + j] * mlp[weights + k * width + j];
                }
                let h_bar = s * activation_slope(stash[row * kept + (l - 1) * h_w + k], silu);
                adjoints[to + k] = h_bar;
                adjoint[row * kept + (l - 1) * h_w + k] = h_bar;
                k += units;
            }
            sync_cube();
        }
        // Into the decayed memory: d̄ = h̄⁰·W₁ᵐᵀ + m̄; κ̄ += d̄ ⊙ m_{t−1}; m̄_{t−1} = d̄ ⊙ κ.
        let mut k = unit;
        while k < d_m {
            let mut d_bar = memory_adjoint[k];
            for j in 0..first_width {
                d_bar += adjoints[j] * recurrent[k * first_width + j];
            }
            let previous = if t > 0 { memory[(row - batch) * d_m + k] } else { start_memory[b * d_m + k] };
            kappa_sum[k] += d_bar * previous;
            carried[k] = d_bar * kappa[k];
            k += units;
        }
        // The next (earlier) step overwrites the h̄ buffers every unit has just read.
        sync_cube();
    }

    let mut j = unit;
    while j < d_m {
        grad_start[b * d_m + j] = carried[j];
        kappa_parts[b * d_m + j] = kappa_sum[j];
        gain_parts[b * d_m + j] = gain_sum[j];
        j += units;
    }
}

/// What both kernels are launched with.
struct Launch {
    steps: usize,
    memory: usize,
    hidden: usize,
    layers: usize,
    capacity: usize,
    silu: bool,
    units: u32,
}

impl Launch {
    fn new(scalars: &ElmScalars, steps: usize, client_max_units: u32) -> Self {
        assert!(supports(&scalars.widths), "the ELM's Cube kernels do not take MLP widths {:?}", scalars.widths);
        let widths = &scalars.widths;
        let memory = *widths.last().expect("supports() checked one layer");
        let layers = widths.len();
        let hidden = if layers > 1 { widths[0] } else { memory };
        let capacity = hidden.max(memory);
        let units = units_per_cube(capacity, client_max_units);
        Self { steps, memory, hidden, layers, capacity, silu: scalars.activation == MlpActivation::Silu, units }
    }

    fn kept(&self) -> usize {
        (self.layers - 1) * self.hidden + self.memory
    }

    fn first_width(&self) -> usize {
        if self.layers == 1 { self.memory } else { self.hidden }
    }
}

type Cb = CubeBackend;

/// `x[.., range]` along the last of three dims, as `[rows, width]`.
fn columns(x: CubeTensor, rows: usize, kept: usize, range: std::ops::Range<usize>) -> CubeTensor {
    let flat = Cb::float_reshape(x, Shape::from(vec![rows, kept]));
    into_contiguous(Cb::float_slice(flat, &[Slice::from(0..rows), Slice::from(range)]))
}

impl ElmSequenceOps for CubeBackend {
    fn elm_sequence(
        first_layer_input: FloatTensor<Self>,
        start_memory: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        kappa: FloatTensor<Self>,
        gain: FloatTensor<Self>,
        mlp: FloatTensor<Self>,
        scalars: ElmScalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [steps, batch, _] = first_layer_input.shape().dims::<3>();
        let client = first_layer_input.client.clone();
        let launch = Launch::new(&scalars, steps, client.properties().hardware.max_cube_dim.0);
        let memory = empty_like(&first_layer_input, &[steps, batch, launch.memory]);
        let stash = empty_like(&first_layer_input, &[steps, batch, launch.kept()]);
        if steps == 0 || batch == 0 {
            return (memory, stash);
        }
        let [u, m0, w, k, g, p] = [first_layer_input, start_memory, recurrent, kappa, gain, mlp].map(into_contiguous);
        // An empty MLP tensor (a linear MLP) still needs a binding.
        let p = if p.shape().num_elements() == 0 { into_contiguous(k.clone()) } else { p };
        elm_forward_kernel::launch(
            &client,
            CubeCount::Static(batch as u32, 1, 1),
            CubeDim::new_1d(launch.units),
            u.into_tensor_arg(),
            m0.into_tensor_arg(),
            w.into_tensor_arg(),
            k.into_tensor_arg(),
            g.into_tensor_arg(),
            p.into_tensor_arg(),
            memory.clone().into_tensor_arg(),
            stash.clone().into_tensor_arg(),
            launch.steps as u32,
            launch.memory as u32,
            launch.hidden as u32,
            launch.layers as u32,
            launch.capacity,
            launch.silu,
        );
        (memory, stash)
    }

    fn elm_sequence_backward(
        start_memory: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        kappa: FloatTensor<Self>,
        gain: FloatTensor<Self>,
        mlp: FloatTensor<Self>,
        memory: FloatTensor<Self>,
        stash: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scalars: ElmScalars,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let [steps, batch, d_m] = memory.shape().dims::<3>();
        let client = memory.client.clone();
        let launch = Launch::new(&scalars, steps, client.properties().hardware.max_cube_dim.0);
        let (kept, w0, rows) = (launch.kept(), launch.first_width(), steps * batch);
        let mlp_len = mlp.shape().num_elements();
        let [m0, w, k, g, p, m, stash, grad] =
            [start_memory, recurrent, kappa, gain, mlp, memory, stash, grad].map(into_contiguous);
        let adjoint = empty_like(&m, &[steps, batch, kept]);
        let grad_start = empty_like(&m, &[batch, d_m]);
        let kappa_parts = empty_like(&m, &[batch, d_m]);
        let gain_parts = empty_like(&m, &[batch, d_m]);
        let p_binding = if mlp_len == 0 { k.clone() } else { p.clone() };
        elm_backward_kernel::launch(
            &client,
            CubeCount::Static(batch as u32, 1, 1),
            CubeDim::new_1d(launch.units),
            m0.clone().into_tensor_arg(),
            w.into_tensor_arg(),
            k.clone().into_tensor_arg(),
            g.into_tensor_arg(),
            p_binding.into_tensor_arg(),
            m.clone().into_tensor_arg(),
            stash.clone().into_tensor_arg(),
            grad.into_tensor_arg(),
            adjoint.clone().into_tensor_arg(),
            grad_start.clone().into_tensor_arg(),
            kappa_parts.clone().into_tensor_arg(),
            gain_parts.clone().into_tensor_arg(),
            launch.steps as u32,
            launch.memory as u32,
            launch.hidden as u32,
            launch.layers as u32,
            launch.capacity,
            launch.silu,
        );
        let grad_kappa = Cb::float_reshape(Cb::float_sum_dim(kappa_parts, 0), Shape::from(vec![d_m]));
        let grad_gain = Cb::float_reshape(Cb::float_sum_dim(gain_parts, 0), Shape::from(vec![d_m]));

        // W̄₁ᵐ = Σ d_tᵀ h̄⁰_t with d_t = κ ⊙ m_{t−1}: the memories shifted by one step.
        let first_adjoint = columns(adjoint.clone(), rows, kept, 0..w0);
        let previous = if steps > 1 {
            let earlier =
                Cb::float_slice(m.clone(), &[Slice::from(0..steps - 1), Slice::from(0..batch), Slice::from(0..d_m)]);
            Cb::float_cat(vec![Cb::float_reshape(m0, Shape::from(vec![1, batch, d_m])), earlier], 0)
        } else {
            Cb::float_reshape(m0, Shape::from(vec![1, batch, d_m]))
        };
        let decayed = Cb::float_mul(
            Cb::float_reshape(previous, Shape::from(vec![rows, d_m])),
            Cb::float_reshape(k, Shape::from(vec![1, d_m])),
        );
        let grad_recurrent = Cb::float_matmul(Cb::float_transpose(decayed), first_adjoint.clone());
        let grad_first_input = Cb::float_reshape(first_adjoint, Shape::from(vec![steps, batch, w0]));

        // Layers 1..L: W̄_l = Σ act(h^{l−1})ᵀ h̄^l, b̄_l = Σ h̄^l, flattened as the parameters are.
        let mut parts = Vec::with_capacity(2 * (launch.layers - 1));
        for l in 1..launch.layers {
            let width = if l + 1 == launch.layers { launch.memory } else { launch.hidden };
            let below = l - 1;
            let pre = columns(stash.clone(), rows, kept, below * launch.hidden..l * launch.hidden);
            let act = if launch.silu { Cb::float_mul(pre.clone(), Cb::sigmoid(pre)) } else { Cb::relu(pre) };
            let h_bar = columns(adjoint.clone(), rows, kept, l * launch.hidden..l * launch.hidden + width);
            let weight = Cb::float_matmul(Cb::float_transpose(act), h_bar.clone());
            parts.push(Cb::float_reshape(weight, Shape::from(vec![launch.hidden * width])));
            parts.push(Cb::float_reshape(Cb::float_sum_dim(h_bar, 0), Shape::from(vec![width])));
        }
        let grad_mlp = if parts.is_empty() { p } else { Cb::float_cat(parts, 0) };
        debug_assert_eq!(grad_mlp.shape().num_elements(), mlp_len);
        (grad_first_input, grad_start, grad_recurrent, grad_kappa, grad_gain, grad_mlp)
    }
}
