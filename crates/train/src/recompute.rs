//! One training step, optionally with backpropagation through time by recomputation in
//! segments ("gradient checkpointing" for the recurrence). This is what makes Path-X (16,384
//! steps) trainable.
//!
//! Plain BPTT keeps every step's activations until the backward pass: memory `O(T)`. With
//! `training.recompute_segment = K`, the step works in three phases:
//! 1. the forward pass runs without a graph, keeping only the ELM state (trace, memory) at the
//!    start of each `K`-step segment;
//! 2. the last segment is run again with a graph, and the loss is backpropagated to its start
//!    state;
//! 3. each earlier segment is recomputed from its stored start state, and the surrogate
//!    `Σ end_state ⊙ ∂L/∂end_state` is backpropagated, accumulating the parameter gradients.
//!
//! Memory is `O(T/K)` states plus one segment's graph (`K ≈ √T` balances them). The cost is
//! about one extra forward pass. The gradients are those of plain BPTT, up to float rounding
//! (tested).

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use elm::{Elm, ElmState};
use tasks::{BatchTarget, SequenceBatch};

use crate::model::Model;
use crate::runner::{batch_loss, classification_loss};

/// The loss of a batch, its number of correct predictions, and the parameter gradients.
/// `segment` asks for recomputation in segments of that many steps; it applies to an ELM
/// classifying on the last step (the config refuses it elsewhere).
pub fn training_step(model: &Model, batch: &SequenceBatch, segment: Option<usize>) -> (f64, usize, GradientsParams) {
    weighted_training_step(model, batch, segment, 1.0)
}

/// [`training_step`] with the gradients (not the loss returned) scaled by `weight`: a part's
/// share of a batch split across threads ([`crate::data_parallel`]).
pub fn weighted_training_step(
    model: &Model,
    batch: &SequenceBatch,
    segment: Option<usize>,
    weight: f64,
) -> (f64, usize, GradientsParams) {
    match (model, &batch.target, segment) {
        (Model::Elm(elm), BatchTarget::Classes(classes), Some(k)) if k < batch.input.dims()[1] => {
            elm_segmented(elm, batch.input.clone(), classes.clone(), k, weight)
        }
        _ => {
            let (loss, correct) = batch_loss(model, batch);
            let value = loss.clone().into_scalar::<f64>();
            let objective = if weight == 1.0 { loss } else { loss * weight };
            (value, correct, GradientsParams::from_grads(objective.backward(), model))
        }
    }
}

fn elm_segmented(
    elm: &Elm,
    input: Tensor<3>,
    classes: Tensor<1, Int>,
    segment: usize,
    weight: f64,
) -> (f64, usize, GradientsParams) {
    let [batch, steps, features] = input.dims();
    let bounds: Vec<(usize, usize)> = (0..steps).step_by(segment).map(|s| (s, (s + segment).min(steps))).collect();
    let slice = |x: &Tensor<3>, (s, e): (usize, usize)| x.clone().slice([0..batch, s..e, 0..features]);

    // 1. States at the start of each segment, without a graph (zero state: `None`, which
    //    takes the ELM's filtered-input path exactly as a plain forward does).
    let inner = elm.valid();
    let inner_input = input.clone().inner();
    let mut starts: Vec<Option<ElmState>> = vec![None];
    for &bound in &bounds[..bounds.len() - 1] {
        let previous = starts.last().cloned().flatten();
        let (_, _, end) = inner.run(slice(&inner_input, bound), previous, false);
        starts.push(Some(end));
    }

    // 2–3. Backwards over the segments, each recomputed with a graph from its start state.
    let mut accumulator = GradientsAccumulator::<Elm>::new();
    let mut upstream: Option<ElmState> = None;
    let (mut loss_value, mut correct) = (0.0, 0);
    for (k, &bound) in bounds.iter().enumerate().rev() {
        let start = starts[k]
            .clone()
            .map(|s| ElmState { trace: s.trace.autodiff().require_grad(), memory: s.memory.autodiff().require_grad() });
        let (_, _, end) = elm.run(slice(&input, bound), start.clone(), false);
        let objective = match upstream.take() {
            None => {
                let (loss, right) = classification_loss(elm.readout.forward(end.memory), &classes);
                (loss_value, correct) = (loss.clone().into_scalar::<f64>(), right);
                if weight == 1.0 { loss } else { loss * weight }
            }
            Some(g) => (end.trace * g.trace.autodiff()).sum() + (end.memory * g.memory.autodiff()).sum(),
        };
        let mut grads = objective.backward();
        if let Some(start) = start {
            let zeros = |t: &Tensor<2>| Tensor::zeros(t.dims(), &t.device()).inner();
            upstream = Some(ElmState {
                trace: start.trace.grad_remove(&mut grads).unwrap_or_else(|| zeros(&start.trace)),
                memory: start.memory.grad_remove(&mut grads).unwrap_or_else(|| zeros(&start.memory)),
            });
        }
        accumulator.accumulate(elm, GradientsParams::from_grads(grads, elm));
    }
    (loss_value, correct, accumulator.grads())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use elm::ElmConfig;

    /// Recomputation gives plain BPTT's loss and gradients, for segments that divide the
    /// sequence and for a shorter last segment, for a vanilla ELM (filtered-input path from
    /// the zero state) and a Branch-ELM with per-synapse traces.
    #[test]
    fn segmented_gradients_equal_plain_bptt() {
        let vanilla = ElmConfig::new(6, 3).with_memory_size(4).with_learn_memory_tau(true);
        let branched = vanilla
            .clone()
            .with_num_branch(Some(3))
            .with_synapses_per_branch(2)
            .with_routing(elm::RoutingKind::Random)
            .with_per_synapse_trace(true);
        for config in [vanilla, branched] {
            check_against_plain(config);
        }
    }

    fn check_against_plain(config: ElmConfig) {
        let device = Device::flex().autodiff();
        device.seed(3);
        let model = Model::Elm(config.init(&device).unwrap());
        let input = Tensor::<3>::random([5, 12, 6], Distribution::Normal(0.0, 1.0), &device);
        let classes = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2, 1, 1, 0], [5]), &device);
        let batch = SequenceBatch { input, target: BatchTarget::Classes(classes) };
        let (plain_loss, plain_correct, plain) = training_step(&model, &batch, None);
        let Model::Elm(elm) = &model else { unreachable!() };
        let vector =
            |g: &GradientsParams, id| -> Vec<f32> { g.get::<1>(id).unwrap().into_data().try_to_vec().unwrap() };
        let matrix =
            |g: &GradientsParams, id| -> Vec<f32> { g.get::<2>(id).unwrap().into_data().try_to_vec().unwrap() };
        for segment in [3, 5, 11] {
            let (loss, correct, grads) = training_step(&model, &batch, Some(segment));
            assert!((loss - plain_loss).abs() < 1e-6, "segment {segment}: {loss} vs {plain_loss}");
            assert_eq!(correct, plain_correct);
            let pairs = [
                ("synapse_weight", vector(&plain, elm.synapse_weight.id), vector(&grads, elm.synapse_weight.id)),
                ("memory_tau", vector(&plain, elm.memory_tau.id), vector(&grads, elm.memory_tau.id)),
                ("readout.weight", matrix(&plain, elm.readout.weight.id), matrix(&grads, elm.readout.weight.id)),
            ];
            for (name, a, b) in pairs {
                assert!(a.iter().any(|&x| x != 0.0), "{name} has a gradient");
                for (x, y) in a.iter().zip(&b) {
                    assert!((x - y).abs() <= 1e-5 + 1e-4 * x.abs(), "segment {segment}, {name}: {a:?} vs {b:?}");
                }
            }
        }
    }
}
