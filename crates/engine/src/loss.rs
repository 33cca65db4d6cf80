//! What a training step computes from a batch: its loss (cross-entropy on the last step,
//! mean squared error over all steps, or the ELM authors' NeuronIO loss) and the input-dropout
//! mask applied before it.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use tasks::{BatchTarget, SequenceBatch, splitmix64};

use crate::model::Model;

/// Zeroes each input entry with probability `p`, without rescaling the others (the ELM SHD
/// code's input dropout). The mask is drawn on the host from `seed` (SplitMix64 streams are
/// fast, and the same on every backend), so runs and resumes reproduce it exactly.
pub fn drop_inputs(input: Tensor<3>, p: f64, seed: u64) -> Tensor<3> {
    if p <= 0.0 {
        return input;
    }
    let shape = input.dims();
    let threshold = (p * 2f64.powi(32)) as u64;
    let mut state = seed;
    let draw = |half: u64| if half < threshold { 0.0f32 } else { 1.0 };
    // Two entries per 64-bit draw, low half first; written in place (a push per entry with
    // its capacity check was 15 % of an SHD-sized training step).
    let mut keep = vec![0.0f32; shape.iter().product()];
    let mut pairs = keep.chunks_exact_mut(2);
    for pair in &mut pairs {
        let bits = splitmix64(&mut state);
        pair[0] = draw(bits & 0xffff_ffff);
        pair[1] = draw(bits >> 32);
    }
    if let [last] = pairs.into_remainder() {
        *last = draw(splitmix64(&mut state) & 0xffff_ffff);
    }
    let mask = Tensor::<3>::from_data(TensorData::new(keep, shape), &input.device());
    input * mask
}

/// The seed of the dropout mask of batch `batch` in `pass` (an epoch, or an evaluation).
pub fn mask_seed(seed: u64, pass: u64, batch: usize) -> u64 {
    let mut state = seed ^ pass.rotate_left(21) ^ (batch as u64).rotate_left(42);
    splitmix64(&mut state)
}

/// The authors' `NeuronioLoss`: `0.5·BCEWithLogits(spike) + 0.5·MSE(soma)`, each the mean over
/// batch and steps. Output and target are `[B,T,2]` (spike logit, soma).
pub fn spike_and_soma_loss(output: Tensor<3>, target: Tensor<3>) -> Tensor<1> {
    let [b, t, _] = output.dims();
    let logit = output.clone().slice([0..b, 0..t, 0..1]);
    let spike = target.clone().slice([0..b, 0..t, 0..1]);
    // max(x, 0) − x·y + log(1 + exp(−|x|)): PyTorch's stable form.
    let bce = (logit.clone().clamp_min(0.0) - logit.clone() * spike + (logit.abs().neg().exp() + 1.0).log()).mean();
    let soma = (output.slice([0..b, 0..t, 1..2]) - target.slice([0..b, 0..t, 1..2])).square().mean();
    bce * 0.5 + soma * 0.5
}

/// Cross-entropy of last-step `logits` `[B,classes]` and the number of correct predictions.
pub fn classification_loss(logits: Tensor<2>, classes: &Tensor<1, Int>) -> (Tensor<1>, usize) {
    let loss = CrossEntropyLossConfig::new().init(&logits.device()).forward(logits.clone(), classes.clone());
    let correct = logits.argmax(1).squeeze_dim::<1>(1).equal(classes.clone()).int().sum().into_scalar::<i64>();
    (loss, correct as usize)
}

/// Loss of a batch and the number of correct predictions (0 for regression).
pub fn batch_loss(model: &Model, batch: &SequenceBatch) -> (Tensor<1>, usize) {
    match &batch.target {
        BatchTarget::Classes(classes) => classification_loss(model.forward_last(batch.input.clone()), classes),
        BatchTarget::SpikeAndSoma(target) => {
            (spike_and_soma_loss(model.forward(batch.input.clone()), target.clone()), 0)
        }
        BatchTarget::Sequence(target) => {
            let output = model.forward(batch.input.clone());
            let loss = (output - target.clone()).square().mean();
            (loss, 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mask keeps each entry with probability 1 − p, never rescales, and is a function of
    /// its seed.
    #[test]
    fn input_dropout_zeroes_without_rescaling_and_is_seeded() {
        let dev = Device::flex();
        let x = Tensor::<3>::full([4, 50, 100], 2.0, &dev);
        let once: Vec<f32> = drop_inputs(x.clone(), 0.3, 11).into_data().try_into_vec().unwrap();
        assert!(once.iter().all(|&v| v == 0.0 || v == 2.0));
        let dropped = once.iter().filter(|&&v| v == 0.0).count() as f64 / once.len() as f64;
        assert!((dropped - 0.3).abs() < 0.01, "dropped fraction {dropped}");
        let again: Vec<f32> = drop_inputs(x.clone(), 0.3, 11).into_data().try_into_vec().unwrap();
        assert_eq!(once, again);
        let other: Vec<f32> = drop_inputs(x.clone(), 0.3, 12).into_data().try_into_vec().unwrap();
        assert_ne!(once, other);
        let none: Vec<f32> = drop_inputs(x, 0.0, 11).into_data().try_into_vec().unwrap();
        assert!(none.iter().all(|&v| v == 2.0));
        assert_ne!(mask_seed(1, 2, 3), mask_seed(1, 3, 2));
        // The stream is fixed (resumed runs redraw past masks): two entries per SplitMix64
        // draw, low half first, an odd last entry from the low half of one more draw.
        let mut state = 5u64;
        let (first, second) = (splitmix64(&mut state), splitmix64(&mut state));
        let threshold = (0.5 * 2f64.powi(32)) as u64;
        let expected: Vec<f32> = [first & 0xffff_ffff, first >> 32, second & 0xffff_ffff]
            .iter()
            .map(|&half| if half < threshold { 0.0 } else { 1.0 })
            .collect();
        let mask: Vec<f32> =
            drop_inputs(Tensor::<3>::ones([1, 3, 1], &dev), 0.5, 5).into_data().try_into_vec().unwrap();
        assert_eq!(mask, expected);
    }
}
