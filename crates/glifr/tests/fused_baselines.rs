//! The fused tanh RNN and LSTM against the per-step path (the reference): forward within
//! 1e-5·max(1,|ref|) and every gradient within 1e-4 of the largest, over T = 1, a batch of 1,
//! delays 1, 3 and longer than T, silencing and the chrono init; and both hand-written
//! backward passes against central finite differences, including a gradient that enters
//! through the LSTM's cell state (the end state a segment hands on).

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;
use glifr::fused_baselines::{lstm_sequence, rnn_sequence};
use glifr::{Cell, LstmConfig, RecurrentNetwork, RecurrentNetworkConfig, RnnConfig};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Rnn,
    Lstm,
    ChronoLstm,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    kind: Kind,
    batch: usize,
    steps: usize,
    hidden: usize,
    delay: usize,
    silenced: bool,
}

fn network(case: Case, device: &Device) -> RecurrentNetwork {
    let (h, inputs) = (case.hidden, 2);
    // Weights wider than the U(±1/√H) init, so that the recurrent terms matter at H = 5.
    let wide = |shape: [usize; 2]| Param::from_tensor(Tensor::random(shape, Distribution::Uniform(-1.2, 1.2), device));
    let cell = match case.kind {
        Kind::Rnn => {
            let mut rnn = RnnConfig::new(inputs, h).init(device);
            rnn.weight_ih = wide([inputs, h]);
            rnn.weight_lat = wide([h, h]);
            Cell::Rnn(rnn)
        }
        Kind::Lstm | Kind::ChronoLstm => {
            let mut lstm = LstmConfig::new(inputs, h).init(device);
            lstm.weight_ih = wide([inputs, 4 * h]);
            lstm.weight_hh = wide([h, 4 * h]);
            if matches!(case.kind, Kind::ChronoLstm) {
                Cell::Lstm(lstm.with_chrono_init(1.0, 30.0))
            } else {
                Cell::Lstm(lstm)
            }
        }
    };
    let net = RecurrentNetworkConfig::new(3).with_delay_steps(case.delay).init(cell, device);
    if case.silenced { net.with_silenced(&[0, h - 2]) } else { net }
}

/// Every trainable parameter's gradient of a loss over the readout at every step.
fn output_and_grads(net: &RecurrentNetwork, x: Tensor<3>) -> (Vec<f32>, Vec<(&'static str, Vec<f32>)>) {
    let output = net.forward(x);
    let grads = (output.clone() * output.clone().sin()).sum().backward();
    let g2 = |p: &Param<Tensor<2>>| values(p.val().grad(&grads).unwrap());
    let g1 = |p: &Param<Tensor<1>>| values(p.val().grad(&grads).unwrap());
    let mut out = vec![("readout.weight", g2(&net.readout.weight))];
    match &net.cell {
        Cell::Rnn(c) => {
            out.extend([("weight_ih", g2(&c.weight_ih)), ("weight_lat", g2(&c.weight_lat)), ("bias", g1(&c.bias))])
        }
        Cell::Lstm(c) => out.extend([
            ("weight_ih", g2(&c.weight_ih)),
            ("weight_hh", g2(&c.weight_hh)),
            ("bias_ih", g1(&c.bias_ih)),
            ("bias_hh", g1(&c.bias_hh)),
        ]),
        Cell::Glifr(_) => unreachable!(),
    }
    (values(output), out)
}

fn compare(case: Case, device: &Device) {
    device.seed(3);
    let fused = network(case, device);
    assert!(fused.takes_fused_path(device), "{case:?}: the fused path must be taken");
    let stepwise = fused.clone().with_fused(false);
    let x = Tensor::<3>::random([case.batch, case.steps, 2], Distribution::Normal(0.0, 1.0), device);
    let (y_fused, g_fused) = output_and_grads(&fused, x.clone());
    let (y_step, g_step) = output_and_grads(&stepwise, x);
    let scale = y_step.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (p, q)) in y_fused.iter().zip(&y_step).enumerate() {
        assert!((p - q).abs() <= 1e-5 * scale, "{case:?}: y[{i}] fused {p} vs per-step {q}");
    }
    for ((name, a), (_, b)) in g_fused.iter().zip(&g_step) {
        let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // At T = 1 (and for the RNN with a delay of T or more) nothing reaches the recurrent weight.
        let may_vanish = matches!(*name, "weight_lat" | "weight_hh") && (case.steps == 1 || case.delay >= case.steps);
        assert!(scale > 0.0 || may_vanish, "{case:?}: {name} has no gradient at all");
        assert_eq!(a.len(), b.len(), "{case:?}: {name}");
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert!((p - q).abs() <= 1e-4 * scale + 1e-7, "{case:?}: {name}[{i}] fused {p} vs per-step {q}");
        }
    }
}

fn cases() -> Vec<Case> {
    let rnn = Case { kind: Kind::Rnn, batch: 3, steps: 9, hidden: 5, delay: 1, silenced: false };
    let lstm = Case { kind: Kind::Lstm, ..rnn };
    vec![
        rnn,
        Case { delay: 3, ..rnn },
        Case { delay: 4, silenced: true, ..rnn },
        Case { delay: 12, ..rnn },
        Case { steps: 1, ..rnn },
        Case { batch: 1, delay: 2, ..rnn },
        lstm,
        Case { silenced: true, ..lstm },
        Case { steps: 1, ..lstm },
        Case { batch: 1, ..lstm },
        Case { kind: Kind::ChronoLstm, steps: 12, ..lstm },
    ]
}

#[test]
fn fused_baselines_equal_per_step_on_flex() {
    let device = Device::flex().autodiff();
    for case in cases() {
        compare(case, &device);
    }
}

#[cfg(feature = "ndarray")]
#[test]
#[allow(deprecated)]
fn fused_baselines_equal_per_step_on_ndarray() {
    let device = Device::ndarray().autodiff();
    for case in cases() {
        compare(case, &device);
    }
}

/// Central differences of `loss` in every `stride`-th entry of each input against `analytic`.
fn check_fd(
    inputs: &[(Tensor<2>, Vec<usize>)],
    analytic: &[Vec<f32>],
    stride: usize,
    loss: impl Fn(&[Tensor<2>]) -> f64,
    device: &Device,
) {
    let step = 1e-2f32;
    for (which, grad) in analytic.iter().enumerate() {
        for i in (0..grad.len()).step_by(stride) {
            let at = |delta: f32| {
                let bumped: Vec<Tensor<2>> = inputs
                    .iter()
                    .enumerate()
                    .map(|(k, (t, dims))| {
                        if k != which {
                            return t.clone();
                        }
                        let mut v = values(t.clone());
                        v[i] += delta;
                        Tensor::from_data(TensorData::new(v, dims.clone()), device)
                    })
                    .collect();
                loss(&bumped)
            };
            let fd = (at(step) - at(-step)) / (2.0 * step as f64);
            let g = grad[i] as f64;
            assert!((fd - g).abs() < 2e-2 * (1.0 + fd.abs()), "input {which}[{i}]: fd {fd} vs analytic {g}");
        }
    }
}

/// The RNN operation's gradients of its input current and W_lat (delay 2, one unit silenced)
/// against central differences.
#[test]
fn rnn_backward_matches_finite_differences() {
    let device = Device::flex().autodiff();
    device.seed(7);
    let (t, b, h) = (6, 2, 4);
    let input = Tensor::<2>::random([t * b, h], Distribution::Normal(0.0, 1.0), &device);
    let weight = Tensor::<2>::random([h, h], Distribution::Uniform(-1.0, 1.0), &device);
    let mask = Tensor::<1>::from_data(TensorData::from([1.0f32, 0.0, 1.0, 1.0]), &device);
    let mix = Tensor::<3>::random([t, b, h], Distribution::Normal(0.0, 1.0), &device);
    let loss = |args: &[Tensor<2>]| {
        let rates = rnn_sequence(args[0].clone().reshape([t, b, h]), args[1].clone(), Some(mask.clone()), 2);
        (rates.sin() * mix.clone()).sum()
    };
    let (x, w) = (input.clone().require_grad(), weight.clone().require_grad());
    let grads = loss(&[x.clone(), w.clone()]).backward();
    let analytic = [values(x.grad(&grads).unwrap()), values(w.grad(&grads).unwrap())];
    let inputs = [(input, vec![t * b, h]), (weight, vec![h, h])];
    check_fd(&inputs, &analytic, 3, |a| loss(a).into_scalar::<f64>(), &device);
}

/// The LSTM operation's gradients against central differences, on a loss that reads the
/// hidden state at every step and the cell state (so a gradient enters through c, as the end
/// state of a segment does), from a start cell state (whose gradient is checked too).
#[test]
fn lstm_backward_matches_finite_differences() {
    let device = Device::flex().autodiff();
    device.seed(9);
    let (t, b, h) = (5, 2, 3);
    let input = Tensor::<2>::random([t * b, 4 * h], Distribution::Normal(0.0, 1.0), &device);
    let weight = Tensor::<2>::random([h, 4 * h], Distribution::Uniform(-1.0, 1.0), &device);
    let start = Tensor::<2>::random([b, h], Distribution::Normal(0.0, 1.0), &device);
    let mask = Tensor::<1>::from_data(TensorData::from([1.0f32, 1.0, 0.0]), &device);
    let mix = Tensor::<4>::random([2, t, b, h], Distribution::Normal(0.0, 1.0), &device);
    let loss = |args: &[Tensor<2>]| {
        let input = args[0].clone().reshape([t, b, 4 * h]);
        let packed = lstm_sequence(input, args[1].clone(), Some(mask.clone()), Some(args[2].clone()));
        (packed.sin() * mix.clone()).sum()
    };
    let (x, w, c) = (input.clone().require_grad(), weight.clone().require_grad(), start.clone().require_grad());
    let grads = loss(&[x.clone(), w.clone(), c.clone()]).backward();
    let analytic = [values(x.grad(&grads).unwrap()), values(w.grad(&grads).unwrap()), values(c.grad(&grads).unwrap())];
    assert!(analytic[2].iter().all(|g| *g != 0.0), "every start cell entry has a gradient");
    let inputs = [(input, vec![t * b, 4 * h]), (weight, vec![h, 4 * h]), (start, vec![b, h])];
    check_fd(&inputs, &analytic, 3, |a| loss(a).into_scalar::<f64>(), &device);
}
