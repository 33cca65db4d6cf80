//! The fused ELM sequence against the step-by-step path (`fused = false`, the path the golden
//! cases were first checked on): forward within 1e-5·max(1,|ref|), every gradient within 1e-4
//! of the largest, for v1 and v2, vanilla and routed (random, NeuronIO), MLP depths 0–2, ReLU
//! and SiLU, learned and frozen τ_m, T = 1, a batch of 1 and more steps than one fold; and
//! the operation's own gradients against central differences.

use burn::prelude::*;
use burn::tensor::Distribution;
use elm::{Elm, ElmConfig, ElmVersion, MlpActivation, RoutingKind};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

fn models(device: &Device) -> Vec<(&'static str, Elm)> {
    let vanilla = ElmConfig::new(5, 3).with_memory_size(4).with_learn_memory_tau(true);
    let routed = ElmConfig::new(6, 2)
        .with_memory_size(3)
        .with_num_branch(Some(3))
        .with_synapses_per_branch(4)
        .with_routing(RoutingKind::Random)
        .with_routing_seed(2);
    vec![
        ("vanilla v1", vanilla.clone().init(device).unwrap()),
        ("linear", vanilla.clone().with_mlp_layers(0).init(device).unwrap()),
        (
            "frozen tau v2",
            vanilla.clone().with_learn_memory_tau(false).with_version(ElmVersion::V2).init(device).unwrap(),
        ),
        (
            "routed deep silu v2",
            routed
                .with_mlp_layers(2)
                .with_mlp_hidden_size(Some(5))
                .with_mlp_activation(MlpActivation::Silu)
                .with_learn_memory_tau(true)
                .with_version(ElmVersion::V2)
                .init(device)
                .unwrap(),
        ),
        (
            "neuronio",
            ElmConfig::new(12, 2)
                .with_memory_size(3)
                .with_num_branch(Some(3))
                .with_synapses_per_branch(5)
                .with_routing(RoutingKind::Neuronio)
                .with_memory_tau_max(30.0)
                .with_learn_memory_tau(true)
                .init(device)
                .unwrap(),
        ),
    ]
}

/// Outputs, memory, branch input and every trainable parameter's gradient of a loss that
/// reads the readout at every step and at the last.
fn outputs_and_grads(elm: &Elm, x: Tensor<3>) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<(String, Vec<f32>)>) {
    let trace = elm.forward_traced(x.clone());
    let loss = (trace.output.clone() * trace.output.clone().cos()).sum() + elm.forward_last(x).sum() * 0.3;
    let grads = loss.backward();
    let mut out = vec![("synapse_weight".to_string(), values(elm.synapse_weight.val().grad(&grads).unwrap()))];
    if elm.learn_memory_tau {
        out.push(("memory_tau".into(), values(elm.memory_tau.val().grad(&grads).unwrap())));
    }
    for (i, layer) in elm.mlp.layers.iter().enumerate() {
        out.push((format!("mlp.{i}.weight"), values(layer.weight.val().grad(&grads).unwrap())));
        out.push((format!("mlp.{i}.bias"), values(layer.bias.as_ref().unwrap().val().grad(&grads).unwrap())));
    }
    out.push(("readout.weight".into(), values(elm.readout.weight.val().grad(&grads).unwrap())));
    (values(trace.output), values(trace.memory), values(trace.branch), out)
}

fn assert_forward_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-5 * scale, "{what}[{i}]: fused {g} vs per-step {w}");
    }
}

fn compare_all(device: &Device) {
    device.seed(7);
    for (name, elm) in models(device) {
        assert!(elm.takes_fused_path(device), "{name}: the fused path must be taken");
        let stepwise = elm.clone().with_fused(false);
        for [batch, steps] in [[3, 45], [1, 6], [2, 1]] {
            let x = Tensor::<3>::random([batch, steps, elm.input_size], Distribution::Normal(0.0, 1.0), device);
            let (y1, m1, b1, g1) = outputs_and_grads(&elm, x.clone());
            let (y2, m2, b2, g2) = outputs_and_grads(&stepwise, x);
            let case = format!("{name}, batch {batch}, T {steps}");
            assert_forward_close(&format!("{case} y"), &y1, &y2);
            assert_forward_close(&format!("{case} memory"), &m1, &m2);
            assert_forward_close(&format!("{case} branch"), &b1, &b2);
            for ((what, a), (_, b)) in g1.iter().zip(&g2) {
                let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                assert!(scale > 0.0, "{case}: {what} has no gradient");
                for (i, (p, q)) in a.iter().zip(b).enumerate() {
                    assert!((p - q).abs() <= 1e-4 * scale + 1e-7, "{case}: {what}[{i}] fused {p} vs per-step {q}");
                }
            }
        }
    }
}

#[test]
fn fused_equals_per_step_on_flex() {
    compare_all(&Device::flex().autodiff());
}

#[cfg(feature = "ndarray")]
#[test]
#[allow(deprecated)]
fn fused_equals_per_step_on_ndarray() {
    compare_all(&Device::ndarray().autodiff());
}

/// The operation's gradients for all six inputs (the first layer's input, the start memory,
/// W₁ᵐ, κ, the gain and two SiLU layers) against central differences on a smooth loss.
#[test]
fn hand_written_backward_matches_finite_differences() {
    use elm::fused::{ElmScalars, elm_sequence};
    let device = Device::flex().autodiff();
    device.seed(9);
    let (t, b, d, w0, w1) = (5, 2, 3, 4, 4);
    let normal = |n: usize, scale: f64| Tensor::<1>::random([n], Distribution::Normal(0.0, scale), &device);
    let inputs: Vec<Tensor<1>> = vec![
        normal(t * b * w0, 1.0),
        normal(b * d, 0.5),
        normal(d * w0, 0.6),
        Tensor::random([d], Distribution::Uniform(0.5, 0.95), &device),
        Tensor::random([d], Distribution::Uniform(0.1, 0.8), &device),
        normal(w0 * w1 + w1 + w1 * d + d, 0.5),
    ];
    let scalars = ElmScalars { widths: vec![w0, w1, d], activation: MlpActivation::Silu };
    let mix = Tensor::<3>::random([t, b, d], Distribution::Normal(0.0, 1.0), &device);
    let loss = |flat: &[Tensor<1>]| {
        let at = |i: usize| flat[i].clone();
        let memory = elm_sequence(
            at(0).reshape([t, b, w0]),
            at(1).reshape([b, d]),
            at(2).reshape([d, w0]),
            at(3),
            at(4),
            at(5),
            scalars.clone(),
        );
        (memory.sin() * mix.clone()).sum()
    };
    let tracked: Vec<Tensor<1>> = inputs.iter().map(|v| v.clone().require_grad()).collect();
    let grads = loss(&tracked).backward();
    let step = 1e-2f32;
    for (which, tensor) in tracked.iter().enumerate() {
        let analytic = values(tensor.grad(&grads).unwrap());
        assert!(analytic.iter().any(|&g| g != 0.0), "input {which} has a gradient");
        for i in (0..analytic.len()).step_by(if which == 0 || which == 5 { 3 } else { 1 }) {
            let at = |delta: f32| {
                let mut flat = inputs.clone();
                let mut v = values(flat[which].clone());
                v[i] += delta;
                let n = v.len();
                flat[which] = Tensor::from_data(TensorData::new(v, [n]), &device);
                loss(&flat).into_scalar::<f64>()
            };
            let fd = (at(step) - at(-step)) / (2.0 * step as f64);
            let g = analytic[i] as f64;
            assert!((fd - g).abs() < 2e-2 * (1.0 + fd.abs()), "input {which}[{i}]: fd {fd} vs analytic {g}");
        }
    }
}

/// What the fused operation does not cover takes the step path, and says so.
#[test]
fn per_synapse_traces_keep_the_step_path() {
    let device = Device::flex().autodiff();
    let elm = ElmConfig::new(4, 2)
        .with_num_branch(Some(2))
        .with_synapses_per_branch(2)
        .with_routing(RoutingKind::Random)
        .with_per_synapse_trace(true)
        .init(&device)
        .unwrap();
    assert!(!elm.takes_fused_path(&device));
    let x = Tensor::<3>::random([2, 3, 4], Distribution::Normal(0.0, 1.0), &device);
    assert_eq!(elm.forward(x).dims(), [2, 3, 2]);
}

/// The Cube kernels (wgpu; lavapipe in CI) against the CPU code on Flex, on the operation
/// itself: memories and all six gradients (start memory included, as segments need), for a
/// linear MLP, one and two hidden layers, ReLU and SiLU, T = 1 and a batch of 1, and a width
/// (40) above the 32 units of the smallest cube so that units stride over outputs.
#[cfg(feature = "wgpu")]
#[test]
fn cube_kernels_equal_the_cpu_code() {
    use elm::fused::{ElmScalars, elm_sequence};
    if !fused::testing::gpu_test_can_run("elm cube_kernels_equal_the_cpu_code") {
        return;
    }
    let gpu = Device::wgpu(burn::prelude::DeviceKind::DefaultDevice).autodiff();
    let cpu = Device::flex().autodiff();
    cpu.seed(11);
    let cases: [(&str, usize, usize, Vec<usize>, MlpActivation); 5] = [
        ("linear", 6, 3, vec![4], MlpActivation::Relu),
        ("one hidden relu", 7, 2, vec![5, 3], MlpActivation::Relu),
        ("two hidden silu", 5, 3, vec![6, 6, 4], MlpActivation::Silu),
        ("T = 1, batch 1", 1, 1, vec![5, 3], MlpActivation::Silu),
        ("wider than a cube", 4, 2, vec![40, 40, 36], MlpActivation::Relu),
    ];
    for (name, t, b, widths, activation) in cases {
        let (d, w0) = (*widths.last().unwrap(), widths[0]);
        let mlp_len: usize = widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
        let normal = |n: usize, scale: f64| Tensor::<1>::random([n], Distribution::Normal(0.0, scale), &cpu);
        let inputs: Vec<Tensor<1>> = vec![
            normal(t * b * w0, 1.0),
            normal(b * d, 0.5),
            normal(d * w0, 0.6),
            Tensor::random([d], Distribution::Uniform(0.5, 0.95), &cpu),
            Tensor::random([d], Distribution::Uniform(0.1, 0.8), &cpu),
            normal(mlp_len, 0.5),
        ];
        let mix = Tensor::<3>::random([t, b, d], Distribution::Normal(0.0, 1.0), &cpu);
        let scalars = ElmScalars { widths: widths.clone(), activation };
        let run = |device: &Device| {
            let tracked: Vec<Tensor<1>> =
                inputs.iter().map(|v| v.clone().to_device(device).detach().require_grad()).collect();
            let at = |i: usize| tracked[i].clone();
            let memory = elm_sequence(
                at(0).reshape([t, b, w0]),
                at(1).reshape([b, d]),
                at(2).reshape([d, w0]),
                at(3),
                at(4),
                at(5),
                scalars.clone(),
            );
            let grads = (memory.clone().sin() * mix.clone().to_device(device)).sum().backward();
            let grads: Vec<Vec<f32>> = tracked.iter().map(|v| values(v.grad(&grads).unwrap())).collect();
            (values(memory), grads)
        };
        let (memory_gpu, grads_gpu) = run(&gpu);
        let (memory_cpu, grads_cpu) = run(&cpu);
        assert_forward_close(&format!("{name}: memories"), &memory_gpu, &memory_cpu);
        for (which, (a, b)) in grads_gpu.iter().zip(&grads_cpu).enumerate() {
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0 || b.is_empty(), "{name}: input {which} has no gradient");
            assert_eq!(a.len(), b.len(), "{name}: input {which}");
            for (i, (p, q)) in a.iter().zip(b).enumerate() {
                assert!((p - q).abs() <= 1e-4 * scale + 1e-7, "{name}: input {which}[{i}] cube {p} vs cpu {q}");
            }
        }
    }
}
