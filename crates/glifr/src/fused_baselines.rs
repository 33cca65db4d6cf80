//! The fused RNN and LSTM sequences: the GLIFR paper's baselines ([`crate::baselines`]),
//! with the network's delay (RNN) and silencing mask, as **one** Burn operation per sequence
//! with a hand-written backward pass, instead of 5 (RNN) or 15 (LSTM) autodiff operations per
//! step. The equations and what is kept are in [`crate::fused_baselines_host`].
//!
//! The input projection (`x·W_ih + b`, time-major `[T,B,·]`) stays outside in ordinary
//! differentiable tensor code, so the operation's backward only delivers the gradients of that
//! input current and of the recurrent weight. The chrono initialisation only sets biases, so
//! the Chrono-LSTM takes the same operation.
//!
//! Outputs: the RNN returns the rates after the mask `[T,B,H]`; the LSTM returns `[2,T,B,H]`,
//! the hidden state after the mask and the cell state, so a gradient may flow into either
//! (the end state is differentiable). Both start from the zero state, as the reference does.
//!
//! Backends: Flex and NdArray share the CPU code through host buffers; [`crate::fused::fused_supported`]
//! says where the operation exists.

// Burn 0.22 deprecates its NdArray backend; neurozoo keeps it as the optional `ndarray`
// feature (a second CPU backend to check the fused ops against), so its uses here are meant.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::prelude::*;
use fused::host::{from_host, to_host};

use crate::fused_baselines_host::{self as host, BaselineShape};

fn shape_of(dims: &[usize], hidden: usize, delay: usize) -> BaselineShape {
    BaselineShape { steps: dims[0], batch: dims[1], hidden, delay: delay.max(1) }
}

/// The fused baseline sequences, per backend. The default bodies are the CPU code of
/// [`crate::fused_baselines_host`] over host buffers; Flex and NdArray use them as they are.
#[backend_extension(Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"), Autodiff)]
pub trait BaselineSequenceOps: Backend {
    /// RNN: input current `[T,B,H]`, `W_lat` `[H,H]`, mask `[H]` → rates `[T,B,H]`.
    fn rnn_sequence(
        input_current: FloatTensor<Self>,
        weight_lat: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        delay: usize,
    ) -> FloatTensor<Self> {
        let device = input_current.device();
        let dims = input_current.shape().to_vec();
        let shape = shape_of(&dims, dims[2], delay);
        let out = host::rnn_forward(
            &shape,
            &to_host::<Self>(input_current),
            &to_host::<Self>(weight_lat),
            &to_host::<Self>(mask),
        );
        from_host::<Self>(out, &dims, &device)
    }

    /// RNN gradients of the input current and `W_lat`.
    fn rnn_sequence_backward(
        weight_lat: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        output: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        delay: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let device = output.device();
        let dims = output.shape().to_vec();
        let shape = shape_of(&dims, dims[2], delay);
        let h = shape.hidden;
        let (input_grad, weight_grad) = host::rnn_backward(
            &shape,
            &to_host::<Self>(weight_lat),
            &to_host::<Self>(mask),
            &to_host::<Self>(output),
            &to_host::<Self>(grad),
        );
        (from_host::<Self>(input_grad, &dims, &device), from_host::<Self>(weight_grad, &[h, h], &device))
    }

    /// LSTM: input current `[T,B,4H]`, `W_hh` `[H,4H]`, mask `[H]`, start cell state `[B,H]`
    /// → (`[2,T,B,H]` hidden and cell states, the activated gates `[T,B,4H]` the backward
    /// needs).
    fn lstm_sequence(
        input_current: FloatTensor<Self>,
        weight_hh: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        start_cell: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let device = input_current.device();
        let dims = input_current.shape().to_vec();
        let shape = shape_of(&dims, dims[2] / 4, 1);
        let (packed, gates) = host::lstm_forward(
            &shape,
            &to_host::<Self>(input_current),
            &to_host::<Self>(weight_hh),
            &to_host::<Self>(mask),
            &to_host::<Self>(start_cell),
        );
        let (t, b, h) = (shape.steps, shape.batch, shape.hidden);
        (from_host::<Self>(packed, &[2, t, b, h], &device), from_host::<Self>(gates, &dims, &device))
    }

    /// LSTM gradients of the input current, `W_hh` and the start cell state.
    fn lstm_sequence_backward(
        weight_hh: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        start_cell: FloatTensor<Self>,
        packed: FloatTensor<Self>,
        gates: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let device = packed.device();
        let gate_dims = gates.shape().to_vec();
        let shape = shape_of(&gate_dims, gate_dims[2] / 4, 1);
        let (b, h) = (shape.batch, shape.hidden);
        let (input_grad, weight_grad, start_grad) = host::lstm_backward(
            &shape,
            &to_host::<Self>(weight_hh),
            &to_host::<Self>(mask),
            &to_host::<Self>(start_cell),
            &to_host::<Self>(packed),
            &to_host::<Self>(gates),
            &to_host::<Self>(grad),
        );
        (
            from_host::<Self>(input_grad, &gate_dims, &device),
            from_host::<Self>(weight_grad, &[h, 4 * h], &device),
            from_host::<Self>(start_grad, &[b, h], &device),
        )
    }
}

#[cfg(feature = "flex")]
impl BaselineSequenceOps for burn::backend::Flex {}

#[cfg(feature = "ndarray")]
impl BaselineSequenceOps for burn::backend::NdArray {}

#[derive(Debug)]
struct RnnSequenceBackward;

impl<B: Backend + BaselineSequenceOps> Backward<B, 2> for RnnSequenceBackward {
    /// W_lat, the mask, the forward's output, the delay.
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, usize);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let (weight_lat, mask, output, delay) = ops.state;
        let (input_grad, weight_grad) = B::rnn_sequence_backward(weight_lat, mask, output, grad, delay);
        for (node, grad) in ops.parents.into_iter().zip([input_grad, weight_grad]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

#[derive(Debug)]
struct LstmSequenceBackward;

impl<B: Backend + BaselineSequenceOps> Backward<B, 3> for LstmSequenceBackward {
    /// W_hh, the mask, the start cell state, the forward's packed output and gates.
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let (weight_hh, mask, start_cell, packed, gates) = ops.state;
        let (a, b, c) = B::lstm_sequence_backward(weight_hh, mask, start_cell, packed, gates, grad);
        for (node, grad) in ops.parents.into_iter().zip([a, b, c]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: Backend + BaselineSequenceOps, C: CheckpointStrategy> BaselineSequenceOps for Autodiff<B, C> {
    fn rnn_sequence(
        input_current: FloatTensor<Self>,
        weight_lat: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        delay: usize,
    ) -> FloatTensor<Self> {
        let guards = [input_current.node(), weight_lat.node()];
        let weight_lat = weight_lat.into_primitive();
        let mask = mask.into_primitive();
        let output = B::rnn_sequence(input_current.into_primitive(), weight_lat.clone(), mask.clone(), delay);
        match RnnSequenceBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((weight_lat, mask, output.clone(), delay), output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }

    /// Not itself differentiated (no second derivatives): runs on the inner backend.
    fn rnn_sequence_backward(
        weight_lat: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        output: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        delay: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (a, b) = B::rnn_sequence_backward(
            weight_lat.into_primitive(),
            mask.into_primitive(),
            output.into_primitive(),
            grad.into_primitive(),
            delay,
        );
        (Self::from_inner(a), Self::from_inner(b))
    }

    fn lstm_sequence(
        input_current: FloatTensor<Self>,
        weight_hh: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        start_cell: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let guards = [input_current.node(), weight_hh.node(), start_cell.node()];
        let weight_hh = weight_hh.into_primitive();
        let mask = mask.into_primitive();
        let start_cell = start_cell.into_primitive();
        let (packed, gates) =
            B::lstm_sequence(input_current.into_primitive(), weight_hh.clone(), mask.clone(), start_cell.clone());
        let tracked = match LstmSequenceBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((weight_hh, mask, start_cell, packed.clone(), gates.clone()), packed),
            OpsKind::UnTracked(prep) => prep.finish(packed),
        };
        (tracked, Self::from_inner(gates))
    }

    /// Not itself differentiated (no second derivatives): runs on the inner backend.
    fn lstm_sequence_backward(
        weight_hh: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        start_cell: FloatTensor<Self>,
        packed: FloatTensor<Self>,
        gates: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (a, b, c) = B::lstm_sequence_backward(
            weight_hh.into_primitive(),
            mask.into_primitive(),
            start_cell.into_primitive(),
            packed.into_primitive(),
            gates.into_primitive(),
            grad.into_primitive(),
        );
        (Self::from_inner(a), Self::from_inner(b), Self::from_inner(c))
    }
}

/// The silencing mask as the operations take it (ones for none).
fn mask_or_ones(mask: Option<Tensor<1>>, hidden: usize, device: &Device) -> Tensor<1> {
    mask.unwrap_or_else(|| Tensor::ones([hidden], device))
}

/// The fused RNN on tensors: `[T,B,H]` input current → rates `[T,B,H]` (after the mask).
pub fn rnn_sequence(
    input_current: Tensor<3>,
    weight_lat: Tensor<2>,
    mask: Option<Tensor<1>>,
    delay: usize,
) -> Tensor<3> {
    let mask = mask_or_ones(mask, weight_lat.dims()[0], &weight_lat.device());
    Tensor::from_dispatch(<Dispatch as BaselineSequenceOps>::rnn_sequence(
        input_current.into_dispatch(),
        weight_lat.into_dispatch(),
        mask.into_dispatch(),
        delay,
    ))
}

/// The fused LSTM on tensors: `[T,B,4H]` input current and the start cell state `[B,H]`
/// (`None`: zeros) → `[2,T,B,H]` (hidden after the mask, then cell). A start hidden state h₀
/// enters as `h₀·W_hh` added to the first step's input current.
pub fn lstm_sequence(
    input_current: Tensor<3>,
    weight_hh: Tensor<2>,
    mask: Option<Tensor<1>>,
    start_cell: Option<Tensor<2>>,
) -> Tensor<4> {
    let [_, batch, _] = input_current.dims();
    let hidden = weight_hh.dims()[0];
    let mask = mask_or_ones(mask, hidden, &weight_hh.device());
    let start_cell = start_cell.unwrap_or_else(|| Tensor::zeros([batch, hidden], &weight_hh.device()));
    let (packed, _gates) = <Dispatch as BaselineSequenceOps>::lstm_sequence(
        input_current.into_dispatch(),
        weight_hh.into_dispatch(),
        mask.into_dispatch(),
        start_cell.into_dispatch(),
    );
    Tensor::from_dispatch(packed)
}
