//! Train an ELM neuron with nothing but this crate and Burn, on a toy task that needs memory:
//! two input channels fire random pulses for 50 steps, and the class is which channel fired
//! more. Only the last step's readout is scored, so the answer must be carried in memory.
//!
//! ```sh
//! cargo run --release -p elm --example sequence
//! ```

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::loss::cross_entropy_with_logits;
use elm::{ElmConfig, ElmVersion};

const STEPS: usize = 50;

/// Pulses `[B, T, 2]` and one-hot labels `[B, 2]`: which channel fired more.
fn batch(size: usize, device: &Device) -> (Tensor<3>, Tensor<2>) {
    let rates = Tensor::<3>::random([size, 1, 2], Distribution::Uniform(0.05, 0.35), device);
    let pulses = Tensor::<3>::random([size, STEPS, 2], Distribution::Uniform(0.0, 1.0), device)
        .lower(rates.repeat_dim(1, STEPS))
        .float();
    let counts = pulses.clone().sum_dim(1).reshape([size, 2]);
    let first_wins = counts.clone().narrow(1, 0, 1).greater(counts.narrow(1, 1, 1)).float();
    let labels = Tensor::cat(vec![first_wins.clone(), first_wins.neg().add_scalar(1.0)], 1);
    (pulses, labels)
}

fn main() {
    let device = Device::flex().autodiff();
    device.seed(0);
    let mut neuron = ElmConfig::new(2, 2)
        .with_memory_size(16)
        .with_learn_memory_tau(true)
        .with_version(ElmVersion::V2)
        .init(&device)
        .expect("a valid config");
    let mut optimizer = AdamConfig::new().with_epsilon(1e-8).init();

    for step in 1..=200 {
        let (input, labels) = batch(64, &device);
        let logits = neuron.forward_last(input);
        let correct = logits.clone().argmax(1).equal(labels.clone().argmax(1)).int().sum().into_scalar::<i64>();
        let loss = cross_entropy_with_logits(logits, labels);
        let value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &neuron);
        neuron = optimizer.step(5e-3, neuron, grads);
        if step % 40 == 0 {
            println!("step {step:3}: cross-entropy {value:.4}, batch accuracy {:.2}", correct as f64 / 64.0);
        }
    }
}
