//! One training step, optionally with backpropagation through time by recomputation in
//! segments ("gradient checkpointing" for the recurrence). This is what makes Path-X (16,384
//! steps) trainable, and long GLIFR sequences cheaper in memory.
//!
//! Plain BPTT keeps every step's activations until the backward pass: memory `O(T)`. With
//! `training.recompute_segment = K`, the step works in three phases:
//! 1. the forward pass runs without a graph, keeping only the state at the start of each
//!    `K`-step segment;
//! 2. the last segment is run again with a graph, and the loss is backpropagated to its start
//!    state;
//! 3. each earlier segment is recomputed from its stored start state, and the surrogate
//!    `Σ end_state ⊙ ∂L/∂end_state` is backpropagated, accumulating the parameter gradients.
//!
//! Memory is `O(T/K)` states plus one segment's graph (`K ≈ √T` balances them). The cost is
//! about one extra forward pass. The gradients are those of plain BPTT, up to float rounding
//! (tested). Every model goes through the same seam, [`fused::Recurrence`]: a segment runs as
//! one fused operation where the model has one, so recomputation keeps the fused speed.
//!
//! What a state costs: an ELM's trace and memory; GLIFR's and the RNN's last d rates (the
//! lateral input reaches back d steps) plus GLIFR's voltage and currents; the LSTM's h and c.
//! With a long delay (P-MNIST's d = 300) segments shorter than d store more than they save.

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use fused::Recurrence;
use tasks::{BatchTarget, SequenceBatch};

use crate::loss::{batch_loss, classification_loss};
use crate::model::Model;

/// The loss of a batch, its number of correct predictions, and the parameter gradients.
/// `segment` asks for recomputation in segments of that many steps; it applies to a model
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
            segmented(elm, batch.input.clone(), classes, k, weight)
        }
        (Model::Recurrent(network), BatchTarget::Classes(classes), Some(k)) if k < batch.input.dims()[1] => {
            segmented(network, batch.input.clone(), classes, k, weight)
        }
        _ => {
            let (loss, correct) = batch_loss(model, batch);
            let value = loss.clone().into_scalar::<f64>();
            let objective = if weight == 1.0 { loss } else { loss * weight };
            (value, correct, GradientsParams::from_grads(objective.backward(), model))
        }
    }
}

/// Segmented BPTT of the last step's cross-entropy for any [`Recurrence`].
fn segmented<M: Recurrence>(
    model: &M,
    input: Tensor<3>,
    classes: &Tensor<1, Int>,
    segment: usize,
    weight: f64,
) -> (f64, usize, GradientsParams) {
    let [batch, steps, features] = input.dims();
    let bounds: Vec<(usize, usize)> = (0..steps).step_by(segment).map(|s| (s, (s + segment).min(steps))).collect();
    let slice = |x: &Tensor<3>, (s, e): (usize, usize)| x.clone().slice([0..batch, s..e, 0..features]);

    // 1. States at the start of each segment, without a graph (the zero state is `None`,
    //    which runs exactly as a plain forward does).
    let inner = model.valid();
    let inner_input = input.clone().inner();
    let mut starts: Vec<Option<M::State>> = vec![None];
    for &bound in &bounds[..bounds.len() - 1] {
        let previous = starts.last().cloned().flatten();
        starts.push(Some(inner.run_segment_to_end(slice(&inner_input, bound), previous)));
    }

    // 2–3. Backwards over the segments, each recomputed with a graph from its start state.
    let mut accumulator = GradientsAccumulator::<M>::new();
    let mut upstream: Option<Vec<Tensor<3>>> = None;
    let (mut loss_value, mut correct) = (0.0, 0);
    for (k, &bound) in bounds.iter().enumerate().rev() {
        let start_parts: Option<Vec<Tensor<3>>> = starts[k]
            .clone()
            .map(|state| M::state_into_parts(state).into_iter().map(|t| t.autodiff().require_grad()).collect());
        let start = match (&start_parts, &starts[k]) {
            (Some(parts), Some(like)) => Some(M::state_from_parts(parts.clone(), like)),
            _ => None,
        };
        let end = model.run_segment_to_end(slice(&input, bound), start);
        let objective = match upstream.take() {
            None => {
                let (loss, right) = classification_loss(model.readout_end(&end), classes);
                (loss_value, correct) = (loss.clone().into_scalar::<f64>(), right);
                if weight == 1.0 { loss } else { loss * weight }
            }
            Some(gradients) => M::state_into_parts(end)
                .into_iter()
                .zip(gradients)
                .map(|(end, g)| (end * g.autodiff()).sum())
                .reduce(|a, b| a + b)
                .expect("a state has at least one tensor"),
        };
        let mut grads = objective.backward();
        if let Some(parts) = start_parts {
            upstream = Some(
                parts
                    .into_iter()
                    .map(|p| {
                        let zeros = Tensor::zeros(p.dims(), &p.device()).inner();
                        p.grad_remove(&mut grads).unwrap_or(zeros)
                    })
                    .collect(),
            );
        }
        accumulator.accumulate(model, GradientsParams::from_grads(grads, model));
    }
    (loss_value, correct, accumulator.grads())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{ModuleVisitor, Param};
    use burn::tensor::Distribution;
    use elm::ElmConfig;
    use glifr::{Cell, GlifrConfig, LstmConfig, RecurrentNetworkConfig, RnnConfig};

    /// Every float parameter's gradient in `grads`, in the module's order (empty where a
    /// parameter has none).
    struct CollectGradients<'a> {
        grads: &'a GradientsParams,
        out: Vec<Vec<f32>>,
    }

    impl ModuleVisitor for CollectGradients<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let values =
                self.grads.get::<D>(param.id).map(|g| g.into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
            self.out.push(values.unwrap_or_default());
        }
    }

    fn gradients(model: &Model, grads: &GradientsParams) -> Vec<Vec<f32>> {
        let mut visitor = CollectGradients { grads, out: Vec::new() };
        match model {
            Model::Elm(m) => m.visit(&mut visitor),
            Model::Recurrent(m) => m.visit(&mut visitor),
        }
        visitor.out
    }

    /// Recomputation gives plain BPTT's loss and gradients, for segments that divide the
    /// sequence, a shorter last segment, and segments shorter than the delay, for every model
    /// family on its fused path and on the per-step path: a vanilla ELM, a Branch-ELM with
    /// per-synapse traces (per-step only), GLIFR with ASCs and delays 1 and 4 (silenced
    /// neurons), GLIFR without ASCs, the RNN with delay 2, and the LSTM.
    #[test]
    fn segmented_gradients_equal_plain_bptt() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let vanilla = ElmConfig::new(6, 3).with_memory_size(4).with_learn_memory_tau(true);
        let branched = vanilla
            .clone()
            .with_num_branch(Some(3))
            .with_synapses_per_branch(2)
            .with_routing(elm::RoutingKind::Random)
            .with_per_synapse_trace(true);
        let network =
            |cell: Cell, delay: usize| RecurrentNetworkConfig::new(3).with_delay_steps(delay).init(cell, &device);
        let glifr = |ascs: usize| Cell::Glifr(GlifrConfig::new(6, 5).with_num_ascs(ascs).init(&device));
        let models = [
            ("vanilla ELM", Model::Elm(vanilla.init(&device).unwrap())),
            ("Branch-ELM, per-synapse traces", Model::Elm(branched.init(&device).unwrap())),
            ("GLIFR, delay 1", Model::Recurrent(network(glifr(2), 1))),
            ("GLIFR, delay 4, silenced", Model::Recurrent(network(glifr(2), 4).with_silenced(&[1, 3]))),
            ("GLIFR, no ASCs, delay 2", Model::Recurrent(network(glifr(0), 2))),
            ("RNN, delay 2", Model::Recurrent(network(Cell::Rnn(RnnConfig::new(6, 5).init(&device)), 2))),
            ("LSTM", Model::Recurrent(network(Cell::Lstm(LstmConfig::new(6, 5).init(&device)), 1))),
        ];
        for (name, model) in models {
            for fused in [true, false] {
                check_against_plain(&format!("{name}, fused {fused}"), &model.clone().with_fused(fused), &device);
            }
        }
    }

    fn check_against_plain(name: &str, model: &Model, device: &Device) {
        let input = Tensor::<3>::random([5, 12, 6], Distribution::Normal(0.0, 2.0), device);
        let classes = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2, 1, 1, 0], [5]), device);
        let batch = SequenceBatch { input, target: BatchTarget::Classes(classes) };
        let (plain_loss, plain_correct, plain) = training_step(model, &batch, None);
        let plain = gradients(model, &plain);
        assert!(plain.iter().filter(|g| g.iter().any(|&x| x != 0.0)).count() >= 3, "{name}: live gradients");
        for segment in [3, 5, 11] {
            let (loss, correct, grads) = training_step(model, &batch, Some(segment));
            assert!((loss - plain_loss).abs() < 1e-6, "{name}, segment {segment}: {loss} vs {plain_loss}");
            assert_eq!(correct, plain_correct);
            for (i, (a, b)) in plain.iter().zip(gradients(model, &grads)).enumerate() {
                assert_eq!(a.len(), b.len(), "{name}, segment {segment}: parameter {i}");
                let scale = a.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                for (x, y) in a.iter().zip(&b) {
                    assert!(
                        (x - y).abs() <= 1e-4 * scale + 1e-7,
                        "{name}, segment {segment}, parameter {i}: {a:?} vs {b:?}"
                    );
                }
            }
        }
    }
}
