//! The GPU side of the fused GLIFR sequence ([`crate::fused`]): `#[cube]` kernels that serve
//! every CubeCL runtime (wgpu/Vulkan/Metal here; CUDA and ROCm where Burn builds them).
//!
//! The math is the CPU side's ([`crate::fused_host`]: the forward, and the backward's
//! equations in its docs); only the schedule differs.
//!
//! # Design: one launch per sequence, not per step
//! * **Forward**, one kernel: one cube (workgroup) per sequence of the batch loops over all T
//!   steps. Unit `u` owns neurons `u, u + n, …` for the whole sequence, so the previous step's
//!   S, V and I_j it needs are its own writes to the output, read back in program order. The
//!   lateral input `S_{t−d}·W_lat` needs every neuron's rate of d steps ago: at each step the
//!   cube copies that row (H floats) from the output into shared memory, and each unit takes
//!   its neurons' dot products against `W_lat`, read from global memory where it stays in cache
//!   (H² floats, 254 kB at H = 252). A storage barrier ends each step, so the rates written in
//!   it are visible to every unit of the cube d steps later. The delay's history (up to 300
//!   steps × H) lives in the output, not in shared memory. It writes S, V and every I_j at
//!   every step: exactly what the backward needs, as on the CPU.
//! * **Backward**, one kernel with the same layout, running the steps in reverse. Each unit
//!   carries its neurons' V̄, Ī_j and the P̄ owed to the previous step's rate in shared memory,
//!   and accumulates its sequence's sums for θ̄, ḡ, λ̄, r̄_j, ā_j, ρ̄_j there too (each unit
//!   owns its neurons' entries, so no atomics). V̄_t is the input current's gradient and is
//!   written at every step. The lateral adjoint `S̄_{t−d} += V̄_t·W_latᵀ` has exactly one
//!   source step per target, so the unit that owns neuron n writes it once into a scratch
//!   series and reads it back itself d steps later (in the reverse loop): no barrier beyond
//!   the one that shares V̄_t between the units. Nothing is recomputed.
//! * **After the kernel**, `W̄_lat = Σ_t S_{t−d}ᵀ V̄_t` is one large matrix product over all
//!   (step, sequence) rows by Burn's own tiled matmul, and the per-sequence sums are summed
//!   over the batch: about 8 launches for the backward, 2 for the forward, whatever T is.
//!
//! The price is parallelism: B cubes, as for the ELM ([`crate`]'s sibling `elm::fused_cube`).
//!
//! Supported shapes: H up to [`crate::fused::CUBE_MAX_HIDDEN`] and few enough after-spike
//! currents that the backward's shared buffers fit a cube's 32 KiB
//! ([`crate::fused::cube_supports`]); otherwise the network runs step by step.

use burn::backend::TensorMetadata;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{Shape, Slice};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::zeros_client;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;
use fused::cube::{empty_like, sigmoid_f32, units_per_cube};

use crate::fused::{GlifrScalars, GlifrSequenceOps, cube_supports as supports};

/// The forward recurrence; one cube per sequence (see the module docs). `packed` is the output
/// `[2+A, P+T, B, H]`: its first P steps are copied from `start`, the rest computed.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn glifr_forward_kernel(
    input_current: &Tensor<f32>, // [T,B,H]
    weight_lat: &Tensor<f32>,    // [H,H]
    coefficients: &Tensor<f32>,  // [3+3A,H]
    mask: &Tensor<f32>,          // [H]
    start: &Tensor<f32>,         // [2+A,P,B,H] (a dummy when P = 0)
    packed: &mut Tensor<f32>,    // [2+A,P+T,B,H]
    prefix: u32,
    total_steps: u32,
    hidden: u32,
    ascs: u32,
    delay: u32,
    dt_over_tau: f32,
    sigma_v: f32,
    i0: f32,
    v_reset: f32,
    #[comptime] capacity: usize,
) {
    let b = CUBE_POS_X as usize;
    let batch = CUBE_COUNT_X as usize;
    let units = CUBE_DIM_X as usize;
    let unit = UNIT_POS_X as usize;
    let prefix = prefix as usize;
    let steps = total_steps as usize;
    let h = hidden as usize;
    let ascs = ascs as usize;
    let delay = delay as usize;
    // Element (k, t, b, n) of a [2+A, steps, B, H] series.
    let series = steps * batch * h;
    let step = batch * h;
    let mut delayed = Shared::<[f32]>::new_slice(capacity);

    for t in 0..prefix {
        let mut n = unit;
        while n < h {
            for k in 0..2 + ascs {
                packed[k * series + t * step + b * h + n] = start[(k * prefix + t) * step + b * h + n];
            }
            n += units;
        }
    }
    sync_storage();

    for t in prefix..steps {
        let here = t * step + b * h;
        if t >= delay {
            let mut k = unit;
            while k < h {
                delayed[k] = packed[(t - delay) * step + b * h + k];
                k += units;
            }
            sync_cube();
        }
        let mut n = unit;
        while n < h {
            let mut synaptic = input_current[(t - prefix) * step + b * h + n];
            if t >= delay {
                for k in 0..h {
                    synaptic += delayed[k] * weight_lat[k * h + n];
                }
            }
            let previous_rate = if t > 0 { packed[here - step + n] } else { 0.0f32 };
            let previous_voltage = if t > 0 { packed[series + here - step + n] } else { 0.0f32 };
            let scaled_rate = dt_over_tau * previous_rate;
            let mut total = 0.0f32;
            for j in 0..ascs {
                let previous_current = if t > 0 { packed[(2 + j) * series + here - step + n] } else { 0.0f32 };
                let r = coefficients[(3 + j) * h + n];
                let a = coefficients[(3 + ascs + j) * h + n];
                let rho = coefficients[(3 + 2 * ascs + j) * h + n];
                let current = (r * previous_current + a) * scaled_rate + rho * previous_current;
                packed[(2 + j) * series + here + n] = current;
                total += current;
            }
            let v = synaptic + coefficients[2 * h + n] * previous_voltage - scaled_rate * (previous_voltage - v_reset)
                + coefficients[h + n] * (total + i0);
            packed[series + here + n] = v;
            packed[here + n] = sigmoid_f32((v - coefficients[n]) / sigma_v) * mask[n];
            n += units;
        }
        // This step's rates are read by every unit d steps later, and `delayed` is refilled.
        sync_storage();
    }
}

/// The backward recurrence, steps in reverse; one cube per sequence. Writes V̄ (the input
/// current's gradient) at every new step, this sequence's coefficient sums, and with a start
/// its gradient.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn glifr_backward_kernel(
    weight_lat_t: &Tensor<f32>,   // [H,H], W_latᵀ
    coefficients: &Tensor<f32>,   // [3+3A,H]
    mask: &Tensor<f32>,           // [H]
    packed: &Tensor<f32>,         // [2+A,P+T,B,H]
    grad: &Tensor<f32>,           // [2+A,P+T,B,H]
    input_grad: &mut Tensor<f32>, // [T,B,H]
    lateral: &mut Tensor<f32>,    // [P+T,B,H] scratch: V̄_{t+d}·W_latᵀ, written at step t+d
    sums: &mut Tensor<f32>,       // [B,3+3A,H]
    start_grad: &mut Tensor<f32>, // [2+A,P,B,H] (a dummy when P = 0)
    prefix: u32,
    total_steps: u32,
    hidden: u32,
    ascs: u32,
    delay: u32,
    dt_over_tau: f32,
    sigma_v: f32,
    i0: f32,
    v_reset: f32,
    #[comptime] capacity: usize,
    #[comptime] max_ascs: usize,
) {
    let b = CUBE_POS_X as usize;
    let batch = CUBE_COUNT_X as usize;
    let units = CUBE_DIM_X as usize;
    let unit = UNIT_POS_X as usize;
    let prefix = prefix as usize;
    let steps = total_steps as usize;
    let h = hidden as usize;
    let ascs = ascs as usize;
    let delay = delay as usize;
    let series = steps * batch * h;
    let step = batch * h;
    let s = dt_over_tau;
    // Rows of `totals`: 0..3+3A the coefficient sums, then the carried V̄, Ī_j, P̄.
    let mut totals = Shared::<[f32]>::new_slice(capacity * (5 + 4 * max_ascs));
    let mut voltage_adjoint = Shared::<[f32]>::new_slice(capacity);
    let carried_v = 3 + 3 * ascs;
    let carried_rate = carried_v + 1 + ascs;

    let mut n = unit;
    while n < h {
        for row in 0..carried_rate + 1 {
            totals[row * h + n] = 0.0f32;
        }
        n += units;
    }

    for reverse in 0..steps - prefix {
        let t = steps - 1 - reverse;
        let here = t * step + b * h;
        let mut n = unit;
        while n < h {
            let m = mask[n];
            let rate = packed[here + n];
            let r = if m != 0.0f32 { rate / m } else { 0.0f32 };
            let mut rate_adjoint = grad[here + n] + totals[carried_rate * h + n];
            if t + delay < steps {
                rate_adjoint += lateral[here + n];
            }
            let z_bar = rate_adjoint * m * r * (1.0f32 - r) / sigma_v;
            let v_bar = totals[carried_v * h + n] + grad[series + here + n] + z_bar;
            input_grad[(t - prefix) * step + b * h + n] = v_bar;
            voltage_adjoint[n] = v_bar;
            let previous_rate = if t > 0 { packed[here - step + n] } else { 0.0f32 };
            let previous_voltage = if t > 0 { packed[series + here - step + n] } else { 0.0f32 };
            let scaled_rate = s * previous_rate;
            let mut total = 0.0f32;
            for j in 0..ascs {
                total += packed[(2 + j) * series + here + n];
            }
            totals[n] -= z_bar;
            totals[h + n] += v_bar * (total + i0);
            totals[2 * h + n] += v_bar * previous_voltage;
            let mut rate_bar = -s * v_bar * (previous_voltage - v_reset);
            totals[carried_v * h + n] = v_bar * (coefficients[2 * h + n] - scaled_rate);
            let gain = coefficients[h + n];
            for j in 0..ascs {
                let previous_current = if t > 0 { packed[(2 + j) * series + here - step + n] } else { 0.0f32 };
                let r_j = coefficients[(3 + j) * h + n];
                let a_j = coefficients[(3 + ascs + j) * h + n];
                let rho_j = coefficients[(3 + 2 * ascs + j) * h + n];
                let carried = (carried_v + 1 + j) * h + n;
                let i_bar = totals[carried] + grad[(2 + j) * series + here + n] + gain * v_bar;
                totals[(3 + j) * h + n] += i_bar * previous_current * scaled_rate;
                totals[(3 + ascs + j) * h + n] += i_bar * scaled_rate;
                totals[(3 + 2 * ascs + j) * h + n] += i_bar * previous_current;
                rate_bar += s * i_bar * (r_j * previous_current + a_j);
                totals[carried] = i_bar * (r_j * scaled_rate + rho_j);
            }
            totals[carried_rate * h + n] = rate_bar;
            n += units;
        }
        if t >= delay {
            // Every unit's V̄_t, then S̄_{t−d}[n] = Σ_k V̄_t[k]·W_lat[n,k] for the unit's n.
            sync_cube();
            let mut n = unit;
            while n < h {
                let mut sum = 0.0f32;
                for k in 0..h {
                    sum += voltage_adjoint[k] * weight_lat_t[k * h + n];
                }
                lateral[here - delay * step + n] = sum;
                n += units;
            }
        }
        // The next (earlier) step overwrites the V̄ every unit has just read.
        sync_cube();
    }

    let mut n = unit;
    while n < h {
        for row in 0..3 + 3 * ascs {
            sums[(b * (3 + 3 * ascs) + row) * h + n] = totals[row * h + n];
        }
        // The start: what reached its steps directly, the lateral adjoints of the new steps
        // that read its rates, and what the first new step carried back into its last step.
        for t in 0..prefix {
            let at = t * step + b * h + n;
            let last = t + 1 == prefix;
            let mut rate_bar = grad[at];
            if t + delay >= prefix && t + delay < steps {
                rate_bar += lateral[at];
            }
            if last {
                rate_bar += totals[carried_rate * h + n];
            }
            start_grad[at] = rate_bar;
            for k in 1..2 + ascs {
                let mut bar = grad[k * series + at];
                if last {
                    bar += totals[(carried_v + k - 1) * h + n];
                }
                start_grad[(k * prefix) * step + at] = bar;
            }
        }
        n += units;
    }
}

type Cb = CubeBackend;

/// What both kernels are launched with: one cube per sequence, and its units. Checks that the
/// kernels take the shape.
struct Launch {
    batch: usize,
    units: u32,
}

impl Launch {
    fn new(scalars: &GlifrScalars, prefix: usize, batch: usize, hidden: usize, ascs: usize, max_units: u32) -> Self {
        assert!(
            supports(hidden, ascs),
            "the GLIFR Cube kernels do not take H = {hidden} with {ascs} after-spike currents"
        );
        assert!(
            prefix == 0 || prefix >= scalars.delay.max(1),
            "a start of {prefix} steps cannot feed a delay of {}",
            scalars.delay
        );
        let units = units_per_cube(hidden, max_units);
        Self { batch, units }
    }

    fn cubes(&self) -> CubeCount {
        CubeCount::Static(self.batch as u32, 1, 1)
    }
}

fn forward(
    input_current: CubeTensor,
    weight_lat: CubeTensor,
    coefficients: CubeTensor,
    mask: CubeTensor,
    start: Option<CubeTensor>,
    scalars: GlifrScalars,
) -> CubeTensor {
    let [steps, batch, hidden] = input_current.shape().dims::<3>();
    let ascs = (coefficients.shape()[0] - 3) / 3;
    let prefix = start.as_ref().map_or(0, |s| s.shape()[1]);
    let client = input_current.client.clone();
    let launch = Launch::new(&scalars, prefix, batch, hidden, ascs, client.properties().hardware.max_cube_dim.0);
    let packed = empty_like(&input_current, &[2 + ascs, prefix + steps, batch, hidden]);
    if batch == 0 || prefix + steps == 0 {
        return packed;
    }
    let [u, w, c, m] = [input_current, weight_lat, coefficients, mask].map(into_contiguous);
    // An absent start still needs a binding.
    let start = start.map_or_else(|| m.clone(), into_contiguous);
    glifr_forward_kernel::launch(
        &client,
        launch.cubes(),
        CubeDim::new_1d(launch.units),
        u.into_tensor_arg(),
        w.into_tensor_arg(),
        c.into_tensor_arg(),
        m.into_tensor_arg(),
        start.into_tensor_arg(),
        packed.clone().into_tensor_arg(),
        prefix as u32,
        (prefix + steps) as u32,
        hidden as u32,
        ascs as u32,
        scalars.delay.max(1) as u32,
        scalars.dt_over_tau as f32,
        scalars.sigma_v as f32,
        scalars.i0 as f32,
        scalars.v_reset as f32,
        hidden,
    );
    packed
}

/// The input current's, `W_lat`'s, the coefficients' and (with a start of `prefix` steps) the
/// start's gradients.
fn backward(
    weight_lat: CubeTensor,
    coefficients: CubeTensor,
    mask: CubeTensor,
    packed: CubeTensor,
    grad: CubeTensor,
    scalars: GlifrScalars,
    prefix: usize,
) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
    let [series, total_steps, batch, hidden] = packed.shape().dims::<4>();
    let (ascs, rows, steps) = (series - 2, coefficients.shape()[0], total_steps - prefix);
    let client = packed.client.clone();
    let launch = Launch::new(&scalars, prefix, batch, hidden, ascs, client.properties().hardware.max_cube_dim.0);
    let delay = scalars.delay.max(1);
    let input_grad = empty_like(&packed, &[steps, batch, hidden]);
    let start_grad = empty_like(&packed, &[2 + ascs, prefix, batch, hidden]);
    if batch == 0 || steps == 0 {
        // No new step: nothing reaches the parameters, and the start's gradient is what reached
        // the output's copy of it.
        let zeros = |shape: &[usize]| {
            zeros_client(client.clone(), packed.device.clone(), Shape::from(shape.to_vec()), packed.dtype)
        };
        return (input_grad, zeros(&[hidden, hidden]), zeros(&[rows, hidden]), grad);
    }
    let weight_t = into_contiguous(Cb::float_transpose(weight_lat));
    let [c, m, packed, grad] = [coefficients, mask, packed, grad].map(into_contiguous);
    let lateral = empty_like(&packed, &[total_steps, batch, hidden]);
    let sums = empty_like(&packed, &[batch, rows, hidden]);
    let start_binding = if prefix > 0 { start_grad.clone() } else { empty_like(&packed, &[1]) };
    glifr_backward_kernel::launch(
        &client,
        launch.cubes(),
        CubeDim::new_1d(launch.units),
        weight_t.into_tensor_arg(),
        c.into_tensor_arg(),
        m.into_tensor_arg(),
        packed.clone().into_tensor_arg(),
        grad.into_tensor_arg(),
        input_grad.clone().into_tensor_arg(),
        lateral.into_tensor_arg(),
        sums.clone().into_tensor_arg(),
        start_binding.into_tensor_arg(),
        prefix as u32,
        total_steps as u32,
        hidden as u32,
        ascs as u32,
        delay as u32,
        scalars.dt_over_tau as f32,
        scalars.sigma_v as f32,
        scalars.i0 as f32,
        scalars.v_reset as f32,
        hidden,
        ascs,
    );
    let coefficient_grad = Cb::float_reshape(Cb::float_sum_dim(sums, 0), Shape::from(vec![rows, hidden]));
    // W̄_lat = Σ_t S_{t−d}ᵀ V̄_t over the new steps t ≥ d (earlier ones read no lateral input).
    let first = prefix.max(delay);
    let weight_grad = if first < total_steps {
        let n = total_steps - first;
        let rates = Cb::float_slice(
            packed,
            &[
                Slice::from(0..1),
                Slice::from(first - delay..total_steps - delay),
                Slice::from(0..batch),
                Slice::from(0..hidden),
            ],
        );
        let rates = Cb::float_reshape(into_contiguous(rates), Shape::from(vec![n * batch, hidden]));
        let adjoints = Cb::float_slice(
            input_grad.clone(),
            &[Slice::from(first - prefix..steps), Slice::from(0..batch), Slice::from(0..hidden)],
        );
        let adjoints = Cb::float_reshape(into_contiguous(adjoints), Shape::from(vec![n * batch, hidden]));
        Cb::float_matmul(Cb::float_transpose(rates), adjoints)
    } else {
        zeros_client(client.clone(), input_grad.device.clone(), Shape::from(vec![hidden, hidden]), input_grad.dtype)
    };
    (input_grad, weight_grad, coefficient_grad, start_grad)
}

impl GlifrSequenceOps for CubeBackend {
    fn glifr_sequence(
        input_current: FloatTensor<Self>,
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> FloatTensor<Self> {
        forward(input_current, weight_lat, coefficients, mask, None, scalars)
    }

    fn glifr_sequence_from(
        input_current: FloatTensor<Self>,
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        start: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> FloatTensor<Self> {
        forward(input_current, weight_lat, coefficients, mask, Some(start), scalars)
    }

    fn glifr_sequence_from_backward(
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        packed: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scalars: GlifrScalars,
        prefix: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        backward(weight_lat, coefficients, mask, packed, grad, scalars, prefix)
    }

    fn glifr_sequence_backward(
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        packed: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (input, weight, coefficients, _) = backward(weight_lat, coefficients, mask, packed, grad, scalars, 0);
        (input, weight, coefficients)
    }
}
