//! Train a GLIFR network on the GLIFR paper's sine task with nothing but this crate and Burn.
//!
//! Six sequences of 100 steps (dt = 0.05 ms): sequence i gets the constant input
//! `i/6 + 0.25` and must produce `sin(2π f_i t) + i/6 + 0.25`, f_i log-spaced from 0.08 to
//! 0.6 kHz (Winston et al. 2023, §3.2; the paper trains 5,000 epochs at lr 1e-4, this example
//! 600 steps at 3e-3).
//!
//! ```sh
//! cargo run --release -p glifr --example sine
//! ```

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use glifr::{Cell, GlifrConfig, RecurrentNetworkConfig, delay_steps};

const STEPS: usize = 100;
const DT: f64 = 0.05;

/// Inputs `[6, T, 1]` and targets `[6, T, 1]`.
fn sine_task(device: &Device) -> (Tensor<3>, Tensor<3>) {
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    for i in 0..6 {
        let frequency = 0.08 * (0.6f64 / 0.08).powf(i as f64 / 5.0); // kHz = cycles per ms
        let offset = i as f64 / 6.0 + 0.25;
        for t in 0..STEPS {
            inputs.push(offset as f32);
            let time_ms = t as f64 * DT;
            targets.push(((2.0 * std::f64::consts::PI * frequency * time_ms).sin() + offset) as f32);
        }
    }
    let shape = [6, STEPS, 1];
    (
        Tensor::from_data(TensorData::new(inputs, shape), device),
        Tensor::from_data(TensorData::new(targets, shape), device),
    )
}

fn main() {
    // Autodiff on Flex, the pure-Rust CPU backend; `Device::wgpu(..)` would take the GPU kernels.
    let device = Device::flex().autodiff();
    device.seed(0); // the init's random draws
    let layer = GlifrConfig::new(1, 64).with_num_ascs(2).with_dt(DT).init(&device);
    let mut network =
        RecurrentNetworkConfig::new(1).with_delay_steps(delay_steps(1.0, DT)).init(Cell::Glifr(layer), &device);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-8).init();
    let (input, target) = sine_task(&device);

    let mut first = None;
    for step in 1..=600 {
        let loss = (network.forward(input.clone()) - target.clone()).square().mean();
        let value = loss.clone().into_scalar::<f64>();
        first.get_or_insert(value);
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        network = optimizer.step(3e-3, network, grads);
        if step % 100 == 0 {
            println!("step {step:3}: MSE {value:.4}");
        }
    }
    println!(
        "MSE fell from {:.4}; the paper's 124-neuron LHetA reaches .023 after 5,000 epochs",
        first.unwrap_or(f64::NAN)
    );
}
