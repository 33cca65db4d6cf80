//! The fused GLIFR sequence: a whole sequence of [`crate::glifr::Glifr`] steps, with the
//! network's delay and silencing mask, as **one** Burn operation with a hand-written backward
//! pass, instead of ~22 autodiff operations per step.
//!
//! The operation takes what does not change over the sequence, already derived from the
//! parameters by ordinary (differentiable) tensor code: the input current `x·W_iv`, time-major
//! `[T,B,H]`,
//! `W_lat` `[H,H]`, and the per-neuron coefficients packed as `[3+3A, H]` (θ, dt·k_m·R,
//! 1 − k_m·dt, then r_j, a_j, 1 − k_j·dt; see [`pack_coefficients`]). So the sigmoids that map
//! the stored parameters to k_m, k_j and r_j, and `x·W_iv`, stay in Burn's autodiff, and the
//! operation's backward only has to deliver gradients for those three inputs.
//!
//! It returns `[2+A, T, B, H]` (time-major, as the CPU code works; see
//! [`crate::fused_host`]): the rates after the silencing mask, the voltages and every
//! after-spike current, at every step. The gradient flowing back may touch any of them, so the
//! end state (the last step's V and I_j) is differentiable too.
//!
//! Backends: Flex and NdArray share the CPU code of [`crate::fused_host`] through host
//! buffers; every CubeCL runtime (wgpu here) runs the `#[cube]` kernels of `crate::fused_cube`
//! (feature `wgpu`), lazily under Burn's Fusion. [`glifr_fused_supported`] says where a layer
//! takes it; elsewhere the network runs step by step.
//!
//! Start state: [`glifr_sequence`] starts from the zero state, as every forward of the
//! reference does. [`glifr_sequence_from`] continues from a start `[2+A, P, B, H]`, the last
//! P ≥ d steps of every series (step t reads S_{t−d}, and S, V, I_j of t−1), and returns it
//! ahead of the new steps, `[2+A, P+T, B, H]`; its backward also delivers the start's
//! gradient. That is what a segment of segmented recomputation needs.

// Burn 0.22 deprecates its NdArray backend; neurozoo keeps it as the optional `ndarray`
// feature (a second CPU backend to check the fused ops against), so its uses here are meant.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
#[cfg(feature = "wgpu")]
use burn::backend::fusion::custom::TensorSpec;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::prelude::*;
use fused::host::{from_host, to_host};

use crate::fused_host::{self, SequenceShape};

/// The scalars of a fused GLIFR sequence (the tensors carry the sizes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlifrScalars {
    /// Lateral delay in steps, ≥ 1.
    pub delay: usize,
    /// dt/τ.
    pub dt_over_tau: f64,
    /// σ_V.
    pub sigma_v: f64,
    /// I0.
    pub i0: f64,
    /// V_reset.
    pub v_reset: f64,
}

impl GlifrScalars {
    /// The sizes of a sequence whose input current is `[T,B,H]`, after a start of `prefix` steps.
    fn shape(&self, input_dims: &[usize], coefficient_rows: usize, prefix: usize) -> SequenceShape {
        SequenceShape {
            steps: input_dims[0],
            prefix,
            batch: input_dims[1],
            hidden: input_dims[2],
            ascs: (coefficient_rows - 3) / 3,
            delay: self.delay.max(1),
            dt_over_tau: self.dt_over_tau as f32,
            sigma_v: self.sigma_v as f32,
            i0: self.i0 as f32,
            v_reset: self.v_reset as f32,
        }
    }
}

/// The fused GLIFR sequence, per backend. The default bodies are the CPU code of
/// [`crate::fused_host`] over host buffers; Flex and NdArray use them as they are.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "wgpu"),
    Autodiff
)]
pub trait GlifrSequenceOps: Backend {
    /// `[T,B,H]`, `[H,H]`, `[3+3A,H]`, the silencing mask `[H]` (ones for none) → `[2+A,T,B,H]`
    /// (see the module docs).
    #[fusion(meta = sequence_specs)]
    fn glifr_sequence(
        input_current: FloatTensor<Self>,
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> FloatTensor<Self> {
        forward_on_host::<Self>(input_current, weight_lat, coefficients, mask, None, scalars)
    }

    /// [`Self::glifr_sequence`] continued from `start` `[2+A, P, B, H]` (P ≥ d) →
    /// `[2+A, P+T, B, H]`, the start first.
    #[fusion(meta = sequence_from_specs)]
    fn glifr_sequence_from(
        input_current: FloatTensor<Self>,
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        start: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> FloatTensor<Self> {
        forward_on_host::<Self>(input_current, weight_lat, coefficients, mask, Some(start), scalars)
    }

    /// The gradients of [`Self::glifr_sequence_from`]'s input current, `W_lat`, coefficients
    /// and start (`prefix` = P steps).
    #[allow(clippy::type_complexity)]
    #[fusion(meta = from_backward_specs)]
    fn glifr_sequence_from_backward(
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        packed: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scalars: GlifrScalars,
        prefix: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (input, weight, coefficients, start) =
            backward_on_host::<Self>(weight_lat, coefficients, mask, packed, grad, scalars, prefix);
        (input, weight, coefficients, start.expect("a start's gradient"))
    }

    /// The gradients of the input current, `W_lat` and the coefficients, from the forward's
    /// output `packed` and the gradient `grad` flowing into it.
    #[fusion(meta = backward_specs)]
    fn glifr_sequence_backward(
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        packed: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (input, weight, coefficients, _) =
            backward_on_host::<Self>(weight_lat, coefficients, mask, packed, grad, scalars, 0);
        (input, weight, coefficients)
    }
}

/// Fusion's view of [`GlifrSequenceOps::glifr_sequence`]'s output, `[2+A, T, B, H]`.
#[cfg(feature = "wgpu")]
fn sequence_specs(
    input_current: &TensorSpec,
    _weight_lat: &TensorSpec,
    coefficients: &TensorSpec,
    _mask: &TensorSpec,
    _scalars: &GlifrScalars,
) -> TensorSpec {
    let [t, b, h] = [input_current.shape[0], input_current.shape[1], input_current.shape[2]];
    let series = 2 + (coefficients.shape[0] - 3) / 3;
    TensorSpec::new([series, t, b, h].into(), input_current.dtype)
}

/// Fusion's view of [`GlifrSequenceOps::glifr_sequence_from`]'s output, `[2+A, P+T, B, H]`.
#[cfg(feature = "wgpu")]
fn sequence_from_specs(
    input_current: &TensorSpec,
    _weight_lat: &TensorSpec,
    _coefficients: &TensorSpec,
    _mask: &TensorSpec,
    start: &TensorSpec,
    _scalars: &GlifrScalars,
) -> TensorSpec {
    let [t, b, h] = [input_current.shape[0], input_current.shape[1], input_current.shape[2]];
    TensorSpec::new([start.shape[0], start.shape[1] + t, b, h].into(), input_current.dtype)
}

/// Fusion's view of the backward's outputs: each input's gradient, shaped as the input.
#[cfg(feature = "wgpu")]
fn backward_specs(
    weight_lat: &TensorSpec,
    coefficients: &TensorSpec,
    _mask: &TensorSpec,
    packed: &TensorSpec,
    _grad: &TensorSpec,
    _scalars: &GlifrScalars,
) -> (TensorSpec, TensorSpec, TensorSpec) {
    let input = TensorSpec::new([packed.shape[1], packed.shape[2], packed.shape[3]].into(), packed.dtype);
    (input, weight_lat.clone(), coefficients.clone())
}

/// Fusion's view of the continued backward's outputs, the start's gradient last.
#[cfg(feature = "wgpu")]
#[allow(clippy::type_complexity)]
fn from_backward_specs(
    weight_lat: &TensorSpec,
    coefficients: &TensorSpec,
    _mask: &TensorSpec,
    packed: &TensorSpec,
    _grad: &TensorSpec,
    _scalars: &GlifrScalars,
    prefix: &usize,
) -> (TensorSpec, TensorSpec, TensorSpec, TensorSpec) {
    let [series, total, b, h] = [packed.shape[0], packed.shape[1], packed.shape[2], packed.shape[3]];
    let input = TensorSpec::new([total - prefix, b, h].into(), packed.dtype);
    let start = TensorSpec::new([series, *prefix, b, h].into(), packed.dtype);
    (input, weight_lat.clone(), coefficients.clone(), start)
}

/// The forward on [`crate::fused_host`], from the zero state or from `start`.
fn forward_on_host<B: Backend>(
    input_current: FloatTensor<B>,
    weight_lat: FloatTensor<B>,
    coefficients: FloatTensor<B>,
    mask: FloatTensor<B>,
    start: Option<FloatTensor<B>>,
    scalars: GlifrScalars,
) -> FloatTensor<B> {
    let device = input_current.device();
    let prefix = start.as_ref().map_or(0, |s| s.shape()[1]);
    let shape = scalars.shape(&input_current.shape(), coefficients.shape()[0], prefix);
    let start = start.map(to_host::<B>).unwrap_or_default();
    let packed = fused_host::forward(
        &shape,
        &to_host::<B>(input_current),
        &to_host::<B>(weight_lat),
        &to_host::<B>(coefficients),
        &to_host::<B>(mask),
        &start,
    );
    let dims = [2 + shape.ascs, shape.total_steps(), shape.batch, shape.hidden];
    from_host::<B>(packed, &dims, &device)
}

/// The backward on [`crate::fused_host`]: the input current's, `W_lat`'s, the coefficients'
/// and (after a start of `prefix` > 0 steps) the start's gradients.
#[allow(clippy::type_complexity)]
fn backward_on_host<B: Backend>(
    weight_lat: FloatTensor<B>,
    coefficients: FloatTensor<B>,
    mask: FloatTensor<B>,
    packed: FloatTensor<B>,
    grad: FloatTensor<B>,
    scalars: GlifrScalars,
    prefix: usize,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, Option<FloatTensor<B>>) {
    let device = packed.device();
    let dims = packed.shape();
    let rows = coefficients.shape()[0];
    let new_steps = [dims[1] - prefix, dims[2], dims[3]];
    let shape = scalars.shape(&new_steps, rows, prefix);
    let grads = fused_host::backward(
        &shape,
        &to_host::<B>(weight_lat),
        &to_host::<B>(coefficients),
        &to_host::<B>(mask),
        &to_host::<B>(packed),
        &to_host::<B>(grad),
    );
    let (b, t, h, a) = (shape.batch, shape.steps, shape.hidden, shape.ascs);
    (
        from_host::<B>(grads.input_current, &[t, b, h], &device),
        from_host::<B>(grads.weight_lat, &[h, h], &device),
        from_host::<B>(grads.coefficients, &[rows, h], &device),
        (prefix > 0).then(|| from_host::<B>(grads.start, &[2 + a, prefix, b, h], &device)),
    )
}

#[cfg(feature = "flex")]
impl GlifrSequenceOps for burn::backend::Flex {}

#[cfg(feature = "ndarray")]
impl GlifrSequenceOps for burn::backend::NdArray {}

#[derive(Debug)]
struct GlifrSequenceBackward;

impl<B: Backend + GlifrSequenceOps> Backward<B, 3> for GlifrSequenceBackward {
    /// W_lat, the coefficients, the mask, the forward's output, the scalars.
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, GlifrScalars);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [input_node, weight_node, coefficient_node] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (weight_lat, coefficients, mask, packed, scalars) = ops.state;
        let (input_grad, weight_grad, coefficient_grad) =
            B::glifr_sequence_backward(weight_lat, coefficients, mask, packed, grad, scalars);
        for (node, grad) in [(input_node, input_grad), (weight_node, weight_grad), (coefficient_node, coefficient_grad)]
        {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

#[derive(Debug)]
struct GlifrSequenceFromBackward;

impl<B: Backend + GlifrSequenceOps> Backward<B, 4> for GlifrSequenceFromBackward {
    /// W_lat, the coefficients, the mask, the forward's output, the scalars, the start's steps.
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, GlifrScalars, usize);

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let (weight_lat, coefficients, mask, packed, scalars, prefix) = ops.state;
        let (a, b, c, d) =
            B::glifr_sequence_from_backward(weight_lat, coefficients, mask, packed, grad, scalars, prefix);
        for (node, grad) in ops.parents.into_iter().zip([a, b, c, d]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: Backend + GlifrSequenceOps, C: CheckpointStrategy> GlifrSequenceOps for Autodiff<B, C> {
    fn glifr_sequence(
        input_current: FloatTensor<Self>,
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> FloatTensor<Self> {
        // The guards are taken before the primitives are moved out.
        let guards = [input_current.node(), weight_lat.node(), coefficients.node()];
        let weight_lat = weight_lat.into_primitive();
        let coefficients = coefficients.into_primitive();
        let mask = mask.into_primitive();
        let packed = B::glifr_sequence(
            input_current.into_primitive(),
            weight_lat.clone(),
            coefficients.clone(),
            mask.clone(),
            scalars,
        );
        match GlifrSequenceBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((weight_lat, coefficients, mask, packed.clone(), scalars), packed),
            OpsKind::UnTracked(prep) => prep.finish(packed),
        }
    }

    fn glifr_sequence_from(
        input_current: FloatTensor<Self>,
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        start: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> FloatTensor<Self> {
        let guards = [input_current.node(), weight_lat.node(), coefficients.node(), start.node()];
        let prefix = start.shape()[1];
        let weight_lat = weight_lat.into_primitive();
        let coefficients = coefficients.into_primitive();
        let mask = mask.into_primitive();
        let packed = B::glifr_sequence_from(
            input_current.into_primitive(),
            weight_lat.clone(),
            coefficients.clone(),
            mask.clone(),
            start.into_primitive(),
            scalars,
        );
        match GlifrSequenceFromBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                prep.finish((weight_lat, coefficients, mask, packed.clone(), scalars, prefix), packed)
            }
            OpsKind::UnTracked(prep) => prep.finish(packed),
        }
    }

    /// Not itself differentiated (no second derivatives): runs on the inner backend.
    fn glifr_sequence_from_backward(
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        packed: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scalars: GlifrScalars,
        prefix: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (a, b, c, d) = B::glifr_sequence_from_backward(
            weight_lat.into_primitive(),
            coefficients.into_primitive(),
            mask.into_primitive(),
            packed.into_primitive(),
            grad.into_primitive(),
            scalars,
            prefix,
        );
        (Self::from_inner(a), Self::from_inner(b), Self::from_inner(c), Self::from_inner(d))
    }

    /// The backward is not itself differentiated (no second derivatives): it runs on the inner
    /// backend and its results are constants.
    fn glifr_sequence_backward(
        weight_lat: FloatTensor<Self>,
        coefficients: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        packed: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scalars: GlifrScalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (a, b, c) = B::glifr_sequence_backward(
            weight_lat.into_primitive(),
            coefficients.into_primitive(),
            mask.into_primitive(),
            packed.into_primitive(),
            grad.into_primitive(),
            scalars,
        );
        (Self::from_inner(a), Self::from_inner(b), Self::from_inner(c))
    }
}

/// Whether `device` has the CPU code of every fused recurrence, GLIFR's and the baselines'
/// (Flex and NdArray, with or without autodiff).
pub fn fused_supported(device: &Device) -> bool {
    use burn::backend::DispatchDevice;
    match device.as_dispatch().clone().inner() {
        #[cfg(feature = "flex")]
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "ndarray")]
        DispatchDevice::NdArray(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Most neurons a cube of the Cube kernels (`crate::fused_cube`) holds. The kernels' limits
/// are declared here, with the dispatch, so that the kernels depend on this seam and not the
/// other way round.
pub const CUBE_MAX_HIDDEN: usize = 512;

/// Bytes of shared memory every CubeCL runtime gives a cube at least.
const CUBE_SHARED_BYTES: usize = 32 * 1024;

/// The backward's shared f32 buffers per neuron: the sums of the 3 + 3A coefficient rows, the
/// carried V̄, Ī_j and P̄ (2 + A), and V̄_t shared between the units (1). The forward needs one.
fn cube_shared_floats_per_neuron(ascs: usize) -> usize {
    (3 + 3 * ascs) + (2 + ascs) + 1
}

/// Whether the Cube kernels take a layer of `hidden` neurons with `ascs` after-spike currents.
pub fn cube_supports(hidden: usize, ascs: usize) -> bool {
    (1..=CUBE_MAX_HIDDEN).contains(&hidden) && 4 * hidden * cube_shared_floats_per_neuron(ascs) <= CUBE_SHARED_BYTES
}

/// Whether `device` runs the fused GLIFR sequence for a layer of `hidden` neurons with `ascs`
/// after-spike currents: the CPU code takes any; a CubeCL device (wgpu) takes what its
/// kernels' shared memory holds ([`cube_supports`]).
pub fn glifr_fused_supported(device: &Device, hidden: usize, ascs: usize) -> bool {
    if fused_supported(device) {
        return true;
    }
    #[cfg(feature = "wgpu")]
    {
        use burn::backend::DispatchDevice;
        if matches!(device.as_dispatch().clone().inner(), DispatchDevice::Cube(_)) {
            return cube_supports(hidden, ascs);
        }
    }
    let _ = (hidden, ascs);
    false
}

/// `[θ; dt·k_m·R; 1 − k_m·dt; r_j…; a_j…; 1 − k_j·dt…]` as `[3+3A, H]`, from a layer's
/// coefficients (differentiable: the operation's coefficient gradient flows back through it).
pub fn pack_coefficients(c: &crate::glifr::StepCoefficients) -> Tensor<2> {
    let mut rows = vec![c.thresh.clone(), c.asc_gain.clone(), c.leak_retention.clone()];
    if let Some(asc) = &c.after_spike_currents {
        let flat = |t: &Tensor<3>| t.clone().squeeze_dim::<2>(1);
        rows.extend([flat(&asc.r_j), flat(&asc.a_j), flat(&asc.retention)]);
    }
    Tensor::cat(rows, 0)
}

/// The fused sequence on tensors: see the module docs for the shapes.
pub fn glifr_sequence(
    input_current: Tensor<3>,
    weight_lat: Tensor<2>,
    coefficients: Tensor<2>,
    mask: Option<Tensor<1>>,
    scalars: GlifrScalars,
) -> Tensor<4> {
    // The operation always takes a mask (an optional tensor input does not cross the dispatch
    // boundary); no silencing is a mask of ones.
    let hidden = weight_lat.dims()[0];
    let mask = mask.unwrap_or_else(|| Tensor::ones([hidden], &weight_lat.device()));
    Tensor::from_dispatch(<Dispatch as GlifrSequenceOps>::glifr_sequence(
        input_current.into_dispatch(),
        weight_lat.into_dispatch(),
        coefficients.into_dispatch(),
        mask.into_dispatch(),
        scalars,
    ))
}

/// The fused sequence continued from `start` `[2+A, P, B, H]` (P ≥ the delay): returns
/// `[2+A, P+T, B, H]`, the start first, differentiable in the start too.
pub fn glifr_sequence_from(
    input_current: Tensor<3>,
    weight_lat: Tensor<2>,
    coefficients: Tensor<2>,
    mask: Option<Tensor<1>>,
    start: Tensor<4>,
    scalars: GlifrScalars,
) -> Tensor<4> {
    let hidden = weight_lat.dims()[0];
    let mask = mask.unwrap_or_else(|| Tensor::ones([hidden], &weight_lat.device()));
    Tensor::from_dispatch(<Dispatch as GlifrSequenceOps>::glifr_sequence_from(
        input_current.into_dispatch(),
        weight_lat.into_dispatch(),
        coefficients.into_dispatch(),
        mask.into_dispatch(),
        start.into_dispatch(),
        scalars,
    ))
}
