//! The fused ELM memory recurrence: the T steps of [`crate::Elm`]'s filtered-input path (zero
//! start state, one shared trace κ: every model the reference builds) as **one** Burn
//! operation with a hand-written backward pass, instead of ~20 autodiff operations per step.
//!
//! What stays outside, in ordinary differentiable tensor code, is everything that is not
//! recurrent: the filtered input x̃ (no gradient), the first layer's input part
//! `u = x̃·(W_s W₁ᵇ) + b₁` for all steps in one product, κ_m and the gain from τ_m, and the
//! readout. The operation takes u `[T,B,W₀]` (time-major), the start memory `[B,D]`, W₁ᵐ
//! `[D,W₀]`, κ_m and g `[D]`, and the MLP's other layers flattened (see
//! [`flatten_layers`]); it returns the memories `[T,B,D]`. The math and what is kept are in
//! [`crate::fused_host`].
//!
//! Backends: Flex and NdArray through host buffers; every CubeCL runtime (wgpu here) through
//! the `#[cube]` kernels of `crate::fused_cube` (feature `wgpu`), lazily under Burn's
//! Fusion. Elsewhere [`fused_supported`] is false and the ELM runs step by step.

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
use burn::nn::Linear;
use burn::prelude::*;
use fused::host::{from_host, to_host};

use crate::fused_host::{self, Activation, ElmShape};
use crate::mlp::MlpActivation;

/// What the tensors do not say: the MLP's layer widths and its nonlinearity.
#[derive(Clone, Debug, PartialEq)]
pub struct ElmScalars {
    /// Output widths of the MLP's layers, the first layer's first, the memory size last.
    pub widths: Vec<usize>,
    /// Hidden nonlinearity.
    pub activation: MlpActivation,
}

impl ElmScalars {
    fn shape(&self, first_layer_dims: &[usize]) -> ElmShape {
        ElmShape {
            steps: first_layer_dims[0],
            batch: first_layer_dims[1],
            memory: *self.widths.last().expect("at least one layer"),
            widths: self.widths.clone(),
            activation: match self.activation {
                MlpActivation::Relu => Activation::Relu,
                MlpActivation::Silu => Activation::Silu,
            },
        }
    }
}

/// The fused ELM sequence, per backend. The default bodies are the CPU code of
/// [`crate::fused_host`] over host buffers; Flex and NdArray use them as they are.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "wgpu"),
    Autodiff
)]
pub trait ElmSequenceOps: Backend {
    /// u `[T,B,W₀]`, m₀ `[B,D]`, W₁ᵐ `[D,W₀]`, κ `[D]`, g `[D]`, layers 1..L flat → the
    /// memories `[T,B,D]` and the pre-activations the backward needs `[T,B,ΣW]`.
    #[fusion(meta = sequence_specs)]
    fn elm_sequence(
        first_layer_input: FloatTensor<Self>,
        start_memory: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        kappa: FloatTensor<Self>,
        gain: FloatTensor<Self>,
        mlp: FloatTensor<Self>,
        scalars: ElmScalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let device = first_layer_input.device();
        let shape = scalars.shape(&first_layer_input.shape());
        let (memory, stash) = fused_host::forward(
            &shape,
            &to_host::<Self>(first_layer_input),
            &to_host::<Self>(start_memory),
            &to_host::<Self>(recurrent),
            &to_host::<Self>(kappa),
            &to_host::<Self>(gain),
            &to_host::<Self>(mlp),
        );
        let (t, b, d) = (shape.steps, shape.batch, shape.memory);
        let kept = stash.len() / (t * b).max(1);
        (from_host::<Self>(memory, &[t, b, d], &device), from_host::<Self>(stash, &[t, b, kept], &device))
    }

    /// The gradients of the six inputs of [`Self::elm_sequence`], in its order.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = backward_specs)]
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
        let device = memory.device();
        let dims = memory.shape();
        let (t, b) = (dims[0], dims[1]);
        let shape = scalars.shape(&[t, b]);
        let mlp_len = mlp.shape()[0];
        let g = fused_host::backward(
            &shape,
            &to_host::<Self>(start_memory),
            &to_host::<Self>(recurrent),
            &to_host::<Self>(kappa),
            &to_host::<Self>(gain),
            &to_host::<Self>(mlp),
            &to_host::<Self>(memory),
            &to_host::<Self>(stash),
            &to_host::<Self>(grad),
        );
        let (d, w0) = (shape.memory, shape.widths[0]);
        (
            from_host::<Self>(g.first_layer_input, &[t, b, w0], &device),
            from_host::<Self>(g.start_memory, &[b, d], &device),
            from_host::<Self>(g.recurrent, &[d, w0], &device),
            from_host::<Self>(g.kappa, &[d], &device),
            from_host::<Self>(g.gain, &[d], &device),
            from_host::<Self>(g.mlp, &[mlp_len], &device),
        )
    }
}

/// Fusion's view of [`ElmSequenceOps::elm_sequence`]'s outputs: the memories and the stash.
#[cfg(feature = "wgpu")]
fn sequence_specs(
    first_layer_input: &TensorSpec,
    _start: &TensorSpec,
    _recurrent: &TensorSpec,
    _kappa: &TensorSpec,
    _gain: &TensorSpec,
    _mlp: &TensorSpec,
    scalars: &ElmScalars,
) -> (TensorSpec, TensorSpec) {
    let (t, b) = (first_layer_input.shape[0], first_layer_input.shape[1]);
    let dtype = first_layer_input.dtype;
    let memory = *scalars.widths.last().expect("at least one layer");
    let kept: usize = scalars.widths.iter().sum();
    (TensorSpec::new([t, b, memory].into(), dtype), TensorSpec::new([t, b, kept].into(), dtype))
}

/// Fusion's view of the backward's outputs: each input's gradient, shaped as the input.
#[cfg(feature = "wgpu")]
#[allow(clippy::too_many_arguments)]
fn backward_specs(
    start: &TensorSpec,
    recurrent: &TensorSpec,
    kappa: &TensorSpec,
    gain: &TensorSpec,
    mlp: &TensorSpec,
    memory: &TensorSpec,
    _stash: &TensorSpec,
    _grad: &TensorSpec,
    scalars: &ElmScalars,
) -> (TensorSpec, TensorSpec, TensorSpec, TensorSpec, TensorSpec, TensorSpec) {
    let first_layer_input = TensorSpec::new([memory.shape[0], memory.shape[1], scalars.widths[0]].into(), memory.dtype);
    (first_layer_input, start.clone(), recurrent.clone(), kappa.clone(), gain.clone(), mlp.clone())
}

#[cfg(feature = "flex")]
impl ElmSequenceOps for burn::backend::Flex {}

#[cfg(feature = "ndarray")]
impl ElmSequenceOps for burn::backend::NdArray {}

#[derive(Debug)]
struct ElmSequenceBackward;

impl<B: Backend + ElmSequenceOps> Backward<B, 6> for ElmSequenceBackward {
    /// m₀, W₁ᵐ, κ, g, the MLP, the memories, the stash, the scalars.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        ElmScalars,
    );

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let (start, recurrent, kappa, gain, mlp, memory, stash, scalars) = ops.state;
        let (g0, g1, g2, g3, g4, g5) =
            B::elm_sequence_backward(start, recurrent, kappa, gain, mlp, memory, stash, grad, scalars);
        for (node, grad) in ops.parents.into_iter().zip([g0, g1, g2, g3, g4, g5]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: Backend + ElmSequenceOps, C: CheckpointStrategy> ElmSequenceOps for Autodiff<B, C> {
    fn elm_sequence(
        first_layer_input: FloatTensor<Self>,
        start_memory: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        kappa: FloatTensor<Self>,
        gain: FloatTensor<Self>,
        mlp: FloatTensor<Self>,
        scalars: ElmScalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        // The guards are taken before the primitives are moved out.
        let guards =
            [first_layer_input.node(), start_memory.node(), recurrent.node(), kappa.node(), gain.node(), mlp.node()];
        let [start, recurrent, kappa, gain, mlp] =
            [start_memory, recurrent, kappa, gain, mlp].map(|t| t.into_primitive());
        let (memory, stash) = B::elm_sequence(
            first_layer_input.into_primitive(),
            start.clone(),
            recurrent.clone(),
            kappa.clone(),
            gain.clone(),
            mlp.clone(),
            scalars.clone(),
        );
        let tracked = match ElmSequenceBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                prep.finish((start, recurrent, kappa, gain, mlp, memory.clone(), stash.clone(), scalars), memory)
            }
            OpsKind::UnTracked(prep) => prep.finish(memory),
        };
        (tracked, Self::from_inner(stash))
    }

    /// Not itself differentiated (no second derivatives): runs on the inner backend.
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
        let (a, b, c, d, e, f) = B::elm_sequence_backward(
            start_memory.into_primitive(),
            recurrent.into_primitive(),
            kappa.into_primitive(),
            gain.into_primitive(),
            mlp.into_primitive(),
            memory.into_primitive(),
            stash.into_primitive(),
            grad.into_primitive(),
            scalars,
        );
        (
            Self::from_inner(a),
            Self::from_inner(b),
            Self::from_inner(c),
            Self::from_inner(d),
            Self::from_inner(e),
            Self::from_inner(f),
        )
    }
}

/// Whether `device` has the fused ELM sequence (Flex and NdArray, with or without autodiff).
pub fn fused_supported(device: &Device) -> bool {
    use burn::backend::DispatchDevice;
    match device.as_dispatch().clone().inner() {
        #[cfg(feature = "flex")]
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "ndarray")]
        DispatchDevice::NdArray(_) => true,
        #[cfg(feature = "wgpu")]
        DispatchDevice::Cube(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Widest layer (and largest d_m) a cube of the Cube kernels (`crate::fused_cube`) holds in
/// shared memory: with the backward's six buffers of this many f32, 24 KiB, under every
/// runtime's minimum of 32 KiB. Declared here, with the dispatch, so that the kernels depend on
/// this seam and not the other way round.
pub const CUBE_MAX_WIDTH: usize = 1024;

/// Whether the Cube kernels take an MLP of these output widths (first layer first, d_m last).
pub fn cube_supports(widths: &[usize]) -> bool {
    let Some((&memory, hidden)) = widths.split_last() else { return false };
    hidden.windows(2).all(|w| w[0] == w[1]) && widths.iter().all(|&w| (1..=CUBE_MAX_WIDTH).contains(&w)) && memory > 0
}

/// Whether `device` runs the fused sequence for an MLP of these output widths (first layer
/// first, d_m last): the CPU code takes any; the Cube kernels need equal hidden widths that fit
/// a cube's shared memory ([`cube_supports`]).
pub fn fused_supported_for(device: &Device, widths: &[usize]) -> bool {
    if !fused_supported(device) {
        return false;
    }
    #[cfg(feature = "wgpu")]
    {
        use burn::backend::DispatchDevice;
        if matches!(device.as_dispatch().clone().inner(), DispatchDevice::Cube(_)) {
            return cube_supports(widths);
        }
    }
    let _ = widths;
    true
}

/// The MLP's layers after the first, each weight `[in,out]` then its bias, as one flat
/// tensor (differentiable: the operation's gradient flows back into each layer), with the
/// layers' output widths; `None` when a layer has no bias (the reference's layers all have
/// one). A linear MLP gives an empty tensor on `device`.
pub fn flatten_layers(layers: &[Linear], device: &Device) -> Option<(Tensor<1>, Vec<usize>)> {
    let mut parts = Vec::with_capacity(2 * layers.len());
    let mut widths = Vec::with_capacity(layers.len());
    for layer in layers {
        let weight = layer.weight.val();
        widths.push(weight.dims()[1]);
        parts.push(weight.flatten::<1>(0, 1));
        parts.push(layer.bias.as_ref()?.val());
    }
    Some((if parts.is_empty() { Tensor::zeros([0], device) } else { Tensor::cat(parts, 0) }, widths))
}

/// The fused sequence on tensors: memories `[T,B,D]` from u `[T,B,W₀]` and the rest (see the
/// module docs).
pub fn elm_sequence(
    first_layer_input: Tensor<3>,
    start_memory: Tensor<2>,
    recurrent: Tensor<2>,
    kappa: Tensor<1>,
    gain: Tensor<1>,
    mlp: Tensor<1>,
    scalars: ElmScalars,
) -> Tensor<3> {
    let (memory, _stash) = <Dispatch as ElmSequenceOps>::elm_sequence(
        first_layer_input.into_dispatch(),
        start_memory.into_dispatch(),
        recurrent.into_dispatch(),
        kappa.into_dispatch(),
        gain.into_dispatch(),
        mlp.into_dispatch(),
        scalars,
    );
    Tensor::from_dispatch(memory)
}
