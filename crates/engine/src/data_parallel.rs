//! Data parallelism on one CPU: a training step whose batch is split across threads.
//!
//! Flex runs each of the recurrence's many small operations on one thread, so at small and
//! middling batches one core does most of the work. With `training.threads = N` the batch is
//! cut into N contiguous parts, each part's loss and gradients are computed on its own thread
//! by a replica of the model, and the gradients are summed:
//!
//! `∇ L = Σ_i (b_i / B) ∇ L_i`, where `L_i` is the mean loss of part `i` (`b_i` samples).
//!
//! Every loss of the zoo is a mean over samples of equal shape, so this is the gradient of
//! the whole batch, up to float summation order (tested). Each replica is
//! [`Module::fork`]ed: the same parameter ids and values as a fresh leaf of its own autodiff
//! graph. Replicas that shared the model's leaves would share one graph, and the autodiff
//! runtime serialises the work on a shared graph.
//!
//! Measured on 2 cores (README, "Data parallel on one machine"): 1.5× from batch 32 up, but
//! little at batch 8, where the autodiff's process-wide lock for registering operations is the
//! likely limit. Meant for CPU backends.
//!
//! Evaluation batches are split the same way ([`map_parts`]), without replicas: there is no
//! graph, and the parts' mean losses are summed with their sizes as weights.

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use tasks::{BatchTarget, SequenceBatch};

use crate::model::Model;
use crate::recompute::weighted_training_step;

/// The loss of a batch (its mean over samples), its number of correct predictions, and the
/// parameter gradients, as [`crate::recompute::training_step`] but with the batch split across
/// up to `threads` threads. One thread, or a batch of one, is the plain step.
pub fn training_step(
    model: &Model,
    batch: &SequenceBatch,
    segment: Option<usize>,
    threads: usize,
) -> (f64, usize, GradientsParams) {
    let size = batch.input.dims()[0];
    if threads.min(size) <= 1 {
        return weighted_training_step(model, batch, segment, 1.0);
    }
    let results = map_parts(batch, threads, |part| {
        let replica = model.clone().fork(&part.input.device());
        let weight = part.input.dims()[0] as f64 / size as f64;
        weighted_training_step(&replica, part, segment, weight)
    });
    let mut accumulator = GradientsAccumulator::<Model>::new();
    let (mut loss, mut correct) = (0.0, 0);
    for ((part_loss, part_correct, grads), samples) in results {
        loss += part_loss * samples as f64 / size as f64;
        correct += part_correct;
        accumulator.accumulate(model, grads);
    }
    (loss, correct, accumulator.grads())
}

/// `work` on each of up to `threads` contiguous parts of `batch` (sizes differing by at most
/// one), each on its own thread; the results in batch order, with each part's size.
pub fn map_parts<R: Send>(
    batch: &SequenceBatch,
    threads: usize,
    work: impl Fn(&SequenceBatch) -> R + Sync,
) -> Vec<(R, usize)> {
    let size = batch.input.dims()[0];
    let parts = threads.clamp(1, size.max(1));
    if parts == 1 {
        return vec![(work(batch), size)];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parts)
            .map(|p| {
                let (start, end) = (p * size / parts, (p + 1) * size / parts);
                let part = slice_batch(batch, start, end);
                let work = &work;
                scope.spawn(move || (work(&part), end - start))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// Samples `start..end` of a batch.
fn slice_batch(batch: &SequenceBatch, start: usize, end: usize) -> SequenceBatch {
    let along_batch = |x: &Tensor<3>| {
        let [_, steps, features] = x.dims();
        x.clone().slice([start..end, 0..steps, 0..features])
    };
    SequenceBatch {
        input: along_batch(&batch.input),
        target: match &batch.target {
            BatchTarget::Classes(classes) => BatchTarget::Classes(classes.clone().slice(start..end)),
            BatchTarget::Sequence(values) => BatchTarget::Sequence(along_batch(values)),
            BatchTarget::SpikeAndSoma(values) => BatchTarget::SpikeAndSoma(along_batch(values)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{ModuleVisitor, Param, ParamId};
    use burn::tensor::Distribution;
    use elm::ElmConfig;

    /// Every parameter's gradient, flattened, in visiting order.
    fn flat_grads(model: &Model, grads: &GradientsParams) -> Vec<(ParamId, Vec<f32>)> {
        struct Collect<'a> {
            grads: &'a GradientsParams,
            out: Vec<(ParamId, Vec<f32>)>,
        }
        impl ModuleVisitor for Collect<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let values = self
                    .grads
                    .get::<D>(param.id)
                    .map(|g| g.into_data().try_to_vec::<f32>().unwrap())
                    .unwrap_or_default();
                self.out.push((param.id, values));
            }
        }
        let mut visitor = Collect { grads, out: Vec::new() };
        model.visit(&mut visitor);
        visitor.out
    }

    fn assert_same_step(model: &Model, batch: &SequenceBatch, segment: Option<usize>, threads: usize) {
        let (loss, correct, grads) = weighted_training_step(model, batch, segment, 1.0);
        let (split_loss, split_correct, split_grads) = training_step(model, batch, segment, threads);
        assert!((loss - split_loss).abs() < 1e-6 * loss.abs().max(1.0), "loss {loss} vs {split_loss}");
        assert_eq!(correct, split_correct);
        let (whole, split) = (flat_grads(model, &grads), flat_grads(model, &split_grads));
        let mut compared = 0;
        for ((id, a), (_, b)) in whole.iter().zip(&split) {
            assert_eq!(a.len(), b.len(), "parameter {id}: one side has no gradient");
            // Relative to the parameter's largest gradient: the parts' sums over the batch are
            // added in another order (the fused operations' GEMMs see other row counts), so a
            // component that cancels to near zero keeps an absolute, not a relative, error.
            let scale = a.iter().fold(1e-2f32, |m, x| m.max(x.abs()));
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() <= 1e-5 * scale, "parameter {id}: {x} vs {y} ({threads} threads)");
            }
            compared += a.len();
        }
        assert!(compared > 100, "only {compared} gradient values compared");
    }

    /// Split batches give the whole batch's loss, count and gradients: an ELM classifying
    /// (also with recomputation in segments) over uneven parts (7 samples on 2 and 3 threads),
    /// and a sequence-regression target.
    #[test]
    fn split_batches_give_the_whole_batchs_gradients() {
        let device = Device::flex().autodiff();
        device.seed(5);
        let config = ElmConfig::new(6, 3).with_memory_size(5).with_learn_memory_tau(true);
        let model = Model::Elm(config.init(&device).unwrap());
        let input = Tensor::<3>::random([7, 40, 6], Distribution::Normal(0.0, 1.0), &device);
        let classes = Tensor::<1, Int>::from_data([0, 2, 1, 1, 0, 2, 2], &device);
        let batch = SequenceBatch { input: input.clone(), target: BatchTarget::Classes(classes) };
        for threads in [2, 3, 7, 16] {
            assert_same_step(&model, &batch, None, threads);
        }
        assert_same_step(&model, &batch, Some(16), 2);
        let values = Tensor::<3>::random([7, 40, 3], Distribution::Normal(0.0, 1.0), &device);
        let regression = SequenceBatch { input, target: BatchTarget::Sequence(values) };
        assert_same_step(&model, &regression, None, 3);
    }

    /// The same for a GLIFR network (the default config's model, made small) on line MNIST's
    /// shapes, classifying on the last step.
    #[test]
    fn split_batches_of_a_glifr_network_give_the_whole_batchs_gradients() {
        let device = Device::flex().autodiff();
        device.seed(6);
        let mut config = crate::config::RunConfig::from_toml(crate::config::DEFAULT_CONFIG, "default").unwrap();
        config.model.hidden_size = 12;
        let model = crate::model::build_model(&config.resolved_model(), 0, &device).unwrap();
        assert!(matches!(model, Model::Recurrent(_)));
        let input = Tensor::<3>::random([5, 28, 28], Distribution::Normal(0.0, 1.0), &device);
        let classes = Tensor::<1, Int>::from_data([3, 1, 4, 1, 5], &device);
        assert_same_step(&model, &SequenceBatch { input, target: BatchTarget::Classes(classes) }, None, 2);
    }

    /// Evaluation split across threads sums to the same loss as on one thread (the sine
    /// task's 6 patterns, regression on every step, parts of 2 and of 1 sample).
    #[test]
    fn split_evaluation_gives_the_same_loss() {
        let device = Device::flex();
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/sine/glifr-lheta.toml"))
            .unwrap();
        let mut config = crate::config::RunConfig::from_toml(&text, "sine").unwrap();
        config.model.hidden_size = 10;
        let model = crate::model::build_model(&config.resolved_model(), 0, &device).unwrap();
        let test = crate::data::build_dataset(&config.task, crate::data::Part::Test, 6).unwrap();
        let evaluate = |threads| crate::evaluate::evaluate(&model, test.clone(), 6, 0.0, 0, &device, threads).unwrap();
        let whole = evaluate(1);
        assert!(whole.loss > 0.0);
        for threads in [3, 6] {
            let split = evaluate(threads);
            assert!((split.loss - whole.loss).abs() <= 1e-6 * whole.loss, "{} vs {}", split.loss, whole.loss);
        }
    }
}
