//! The fused GLIFR sequence against the per-step path (the reference the golden cases check):
//! forward within 1e-5·max(1,|ref|), every gradient within 1e-4 of the largest, over the
//! edge cases (T = 1, a delay longer than T, a batch of 1, no ASCs, silencing, σ_V, dt/τ, I0
//! and V_reset away from their defaults); and the hand-written backward against central
//! finite differences.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;
use glifr::{AfterSpikeCurrentParams, Cell, GlifrConfig, RecurrentNetwork, RecurrentNetworkConfig};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

fn random<const D: usize>(shape: [usize; D], lo: f64, hi: f64, device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::random(shape, Distribution::Uniform(lo, hi), device))
}

/// Setting of one comparison.
#[derive(Clone, Copy, Debug)]
struct Case {
    batch: usize,
    steps: usize,
    hidden: usize,
    ascs: usize,
    delay: usize,
    silenced: bool,
    sigma_v: f64,
    tau: Option<f64>,
    i0: f64,
    v_reset: f64,
}

const BASE: Case = Case {
    batch: 3,
    steps: 9,
    hidden: 5,
    ascs: 2,
    delay: 1,
    silenced: false,
    sigma_v: 1.0,
    tau: None,
    i0: 0.0,
    v_reset: 0.0,
};

/// A network whose every parameter is drawn wide enough that each term of the step matters
/// (the hom init's r_j, a_j ~ ±0.01 would hide the ASC terms).
fn network(case: Case, device: &Device) -> RecurrentNetwork {
    let (h, a) = (case.hidden, case.ascs);
    let mut cell = GlifrConfig::new(2, h)
        .with_num_ascs(a)
        .with_sigma_v(case.sigma_v)
        .with_tau(case.tau)
        .with_i0(case.i0)
        .with_v_reset(case.v_reset)
        .init(device);
    cell.weight_iv = random([2, h], -1.5, 1.5, device);
    cell.weight_lat = random([h, h], -1.0, 1.0, device);
    cell.thresh = random([1, h], -0.5, 0.8, device);
    cell.trans_k_m = random([1, h], -2.0, 1.0, device);
    if a > 0 {
        cell.after_spike_currents = Some(AfterSpikeCurrentParams {
            trans_k_j: random([a, 1, h], -2.0, 1.0, device),
            trans_r_j: random([a, 1, h], -1.5, 1.5, device),
            a_j: random([a, 1, h], -2.0, 2.0, device),
        });
    }
    let net = RecurrentNetworkConfig::new(3).with_delay_steps(case.delay).init(Cell::Glifr(cell), device);
    if case.silenced { net.with_silenced(&[1, h - 1]) } else { net }
}

/// Every trainable parameter's gradient of a loss that reads the readout at every step and
/// the last step's voltage (so the end state's gradient enters the operation too).
fn loss_and_grads(net: &RecurrentNetwork, x: Tensor<3>) -> (Vec<f32>, Vec<f32>, Vec<(&'static str, Vec<f32>)>) {
    let trace = net.forward_traced(x);
    let voltage = trace.voltage.unwrap();
    let steps = voltage.dims()[1];
    let loss = (trace.output.clone() * trace.output.clone().sin()).sum()
        + voltage.clone().narrow(1, steps - 1, 1).tanh().sum() * 0.7;
    let grads = loss.backward();
    let Cell::Glifr(cell) = &net.cell else { unreachable!() };
    let g = |p: &Param<Tensor<2>>| values(p.val().grad(&grads).unwrap());
    let g3 = |p: &Param<Tensor<3>>| values(p.val().grad(&grads).unwrap());
    let mut out = vec![
        ("weight_iv", g(&cell.weight_iv)),
        ("weight_lat", g(&cell.weight_lat)),
        ("thresh", g(&cell.thresh)),
        ("trans_k_m", g(&cell.trans_k_m)),
        ("readout.weight", g(&net.readout.weight)),
    ];
    if let Some(asc) = &cell.after_spike_currents {
        out.extend([("trans_k_j", g3(&asc.trans_k_j)), ("trans_r_j", g3(&asc.trans_r_j)), ("a_j", g3(&asc.a_j))]);
    }
    (values(trace.output), values(voltage), out)
}

fn assert_forward_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-5 * scale, "{what}[{i}]: fused {g} vs per-step {w}");
    }
}

fn compare(case: Case, device: &Device) {
    device.seed(11);
    let fused = network(case, device);
    assert!(fused.takes_fused_path(device), "{case:?}: the fused path must be taken");
    let stepwise = fused.clone().with_fused(false);
    let x = Tensor::<3>::random([case.batch, case.steps, 2], Distribution::Normal(0.0, 1.0), device);
    let (y_fused, v_fused, g_fused) = loss_and_grads(&fused, x.clone());
    let (y_step, v_step, g_step) = loss_and_grads(&stepwise, x);
    assert_forward_close(&format!("{case:?} y"), &y_fused, &y_step);
    assert_forward_close(&format!("{case:?} voltage"), &v_fused, &v_step);
    for ((name, a), (_, b)) in g_fused.iter().zip(&g_step) {
        let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // At T = 1 only θ, W_iv and the readout act (V⁻, I⁻ and the delayed rate are zero); a
        // delay of T or more leaves W_lat without a source. Elsewhere every gradient is live.
        let may_vanish = (case.steps == 1 && !matches!(*name, "weight_iv" | "thresh" | "readout.weight"))
            || (*name == "weight_lat" && case.delay >= case.steps);
        assert!(scale > 0.0 || may_vanish, "{case:?}: {name} has no gradient at all");
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert!((p - q).abs() <= 1e-4 * scale + 1e-7, "{case:?}: {name}[{i}] fused {p} vs per-step {q}");
        }
    }
}

fn cases() -> Vec<Case> {
    vec![
        BASE,
        Case { ascs: 0, ..BASE },
        Case { delay: 3, ..BASE },
        Case { delay: 4, steps: 10, silenced: true, ..BASE },
        Case { delay: 12, ..BASE },
        Case { steps: 1, ..BASE },
        Case { batch: 1, delay: 2, ..BASE },
        Case { sigma_v: 0.3, tau: Some(0.2), i0: 0.4, v_reset: -0.3, delay: 2, ..BASE },
        Case { ascs: 0, i0: 0.5, silenced: true, ..BASE },
    ]
}

#[test]
fn fused_equals_per_step_on_flex() {
    let device = Device::flex().autodiff();
    for case in cases() {
        compare(case, &device);
    }
}

#[cfg(feature = "ndarray")]
#[test]
#[allow(deprecated)]
fn fused_equals_per_step_on_ndarray() {
    let device = Device::ndarray().autodiff();
    for case in cases() {
        compare(case, &device);
    }
}

/// The operation's own gradients (of the input current, W_lat and each packed coefficient)
/// against central differences of its forward, on a smooth loss over all three outputs.
#[test]
fn hand_written_backward_matches_finite_differences() {
    use glifr::fused::{GlifrScalars, glifr_sequence};
    let device = Device::flex().autodiff();
    device.seed(5);
    let (b, t, h, a) = (2, 7, 3, 2);
    let scalars = GlifrScalars { delay: 2, dt_over_tau: 0.8, sigma_v: 0.7, i0: 0.2, v_reset: 0.1 };
    let input = Tensor::<3>::random([b, t, h], Distribution::Normal(0.0, 1.0), &device);
    let weight = Tensor::<2>::random([h, h], Distribution::Uniform(-1.0, 1.0), &device);
    // Rows θ, g, λ, then r_j, a_j and ρ_j for each current, in ranges like a trained layer's.
    let mut ranges = vec![(-0.5, 0.5), (0.0, 0.3), (0.3, 0.95)];
    for range in [(-0.8, 0.8), (-1.0, 1.0), (0.3, 0.95)] {
        ranges.extend(std::iter::repeat_n(range, a));
    }
    let rows: Vec<Tensor<2>> =
        ranges.into_iter().map(|(lo, hi)| Tensor::random([1, h], Distribution::Uniform(lo, hi), &device)).collect();
    let coefficients = Tensor::cat(rows, 0);
    assert_eq!(coefficients.dims(), [3 + 3 * a, h]);
    let mix = Tensor::<4>::random([2 + a, b, t, h], Distribution::Normal(0.0, 1.0), &device);
    let loss =
        |x: Tensor<3>, w: Tensor<2>, c: Tensor<2>| (glifr_sequence(x, w, c, None, scalars).sin() * mix.clone()).sum();

    let (x, w, c) = (input.clone().require_grad(), weight.clone().require_grad(), coefficients.clone().require_grad());
    let grads = loss(x.clone(), w.clone(), c.clone()).backward();
    let analytic = [values(x.grad(&grads).unwrap()), values(w.grad(&grads).unwrap()), values(c.grad(&grads).unwrap())];

    let step = 1e-2f32;
    let at = |which: usize, i: usize, delta: f32| -> f64 {
        let bump = |t: Vec<f32>, dims: Vec<usize>| {
            let mut t = t;
            t[i] += delta;
            TensorData::new(t, dims)
        };
        let (mut x, mut w, mut c) = (input.clone(), weight.clone(), coefficients.clone());
        match which {
            0 => x = Tensor::from_data(bump(values(input.clone()), vec![b, t, h]), &device),
            1 => w = Tensor::from_data(bump(values(weight.clone()), vec![h, h]), &device),
            _ => c = Tensor::from_data(bump(values(coefficients.clone()), vec![3 + 3 * a, h]), &device),
        }
        loss(x, w, c).into_scalar::<f64>()
    };
    for (which, grad) in analytic.iter().enumerate() {
        for i in (0..grad.len()).step_by(if which == 0 { 5 } else { 1 }) {
            let fd = (at(which, i, step) - at(which, i, -step)) / (2.0 * step as f64);
            let g = grad[i] as f64;
            assert!((fd - g).abs() < 2e-2 * (1.0 + fd.abs()), "input {which}[{i}]: fd {fd} vs analytic {g}");
        }
    }
}

/// A sequence cut in two, the second part continued from the first's last P steps with
/// `glifr_sequence_from`, gives the uncut sequence's outputs and (through the start's
/// gradient) its gradients: for a start as long as the delay, for one longer, and for a first
/// part shorter than the delay (its start is padded with the zero state).
#[test]
fn a_sequence_continued_from_its_start_equals_the_uncut_sequence() {
    use glifr::fused::{GlifrScalars, glifr_sequence, glifr_sequence_from};
    let device = Device::flex().autodiff();
    device.seed(17);
    let (b, t, h, a) = (3, 10, 4, 2);
    for (delay, first, prefix) in [(3, 6, 3), (2, 5, 4), (4, 2, 4), (1, 9, 1)] {
        let scalars = GlifrScalars { delay, dt_over_tau: 0.6, sigma_v: 0.8, i0: 0.1, v_reset: 0.2 };
        let input = Tensor::<3>::random([t, b, h], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let weight = Tensor::<2>::random([h, h], Distribution::Uniform(-1.0, 1.0), &device).require_grad();
        let mut ranges = vec![(-0.5, 0.5), (0.0, 0.3), (0.3, 0.95)];
        for range in [(-0.8, 0.8), (-1.0, 1.0), (0.3, 0.95)] {
            ranges.extend(std::iter::repeat_n(range, a));
        }
        let coefficients = Tensor::cat(
            ranges
                .into_iter()
                .map(|(lo, hi)| Tensor::<2>::random([1, h], Distribution::Uniform(lo, hi), &device))
                .collect(),
            0,
        )
        .require_grad();
        let mix = Tensor::<4>::random([2 + a, t, b, h], Distribution::Normal(0.0, 1.0), &device);
        let mask = Some(Tensor::<1>::from_data(TensorData::from([1.0f32, 0.0, 1.0, 1.0]), &device));

        let whole = glifr_sequence(input.clone(), weight.clone(), coefficients.clone(), mask.clone(), scalars);
        let whole_grads = (whole.clone().sin() * mix.clone()).sum().backward();

        let head = glifr_sequence(
            input.clone().narrow(0, 0, first),
            weight.clone(),
            coefficients.clone(),
            mask.clone(),
            scalars,
        );
        let padded = if first >= prefix {
            head.clone()
        } else {
            Tensor::cat(vec![Tensor::zeros([2 + a, prefix - first, b, h], &device), head.clone()], 1)
        };
        let start = padded.clone().narrow(1, padded.dims()[1] - prefix, prefix);
        let rest = glifr_sequence_from(
            input.clone().narrow(0, first, t - first),
            weight.clone(),
            coefficients.clone(),
            mask,
            start,
            scalars,
        );
        assert_eq!(rest.dims(), [2 + a, prefix + t - first, b, h]);
        let joined = Tensor::cat(vec![head, rest.narrow(1, prefix, t - first)], 1);
        let joined_grads = (joined.clone().sin() * mix).sum().backward();

        let what = format!("delay {delay}, first {first}, start {prefix}");
        assert_forward_close(&format!("{what}: output"), &values(joined), &values(whole));
        for (name, p, q) in [
            ("input", values(input.grad(&joined_grads).unwrap()), values(input.grad(&whole_grads).unwrap())),
            ("weight", values(weight.grad(&joined_grads).unwrap()), values(weight.grad(&whole_grads).unwrap())),
            (
                "coefficients",
                values(coefficients.grad(&joined_grads).unwrap()),
                values(coefficients.grad(&whole_grads).unwrap()),
            ),
        ] {
            let scale = q.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0, "{what}: {name}");
            for (i, (x, y)) in p.iter().zip(&q).enumerate() {
                assert!((x - y).abs() <= 1e-4 * scale, "{what}: {name}[{i}] continued {x} vs uncut {y}");
            }
        }
    }
}

/// The Cube kernels (wgpu; lavapipe in CI) against the CPU code on Flex, on the operation
/// itself: all outputs, and the gradients of the input current, W_lat, the coefficients and
/// (continued from a start) the start. Cases: 2 ASCs and none, delays 1, 3 and ≥ T, silencing,
/// T = 1 with a batch of 1, H = 40 (above the smallest cube's 32 units, so that units stride
/// over neurons), and starts as long as the delay and longer.
#[cfg(feature = "wgpu")]
#[test]
fn cube_kernels_equal_the_cpu_code() {
    use glifr::fused::{GlifrScalars, glifr_sequence, glifr_sequence_from};
    if !fused::testing::gpu_test_can_run("glifr cube_kernels_equal_the_cpu_code") {
        return;
    }
    let gpu = Device::wgpu(burn::prelude::DeviceKind::DefaultDevice).autodiff();
    let cpu = Device::flex().autodiff();
    cpu.seed(23);
    // (name, batch, steps, hidden, ascs, delay, silenced, start steps)
    let cases = [
        ("2 ASCs, delay 1", 3, 7, 5, 2, 1, false, 0),
        ("no ASCs, delay 3, silenced", 2, 8, 6, 0, 3, true, 0),
        ("delay beyond T", 2, 4, 5, 2, 6, false, 0),
        ("T = 1, batch 1", 1, 1, 5, 2, 1, false, 0),
        ("wider than a cube", 2, 5, 40, 2, 2, true, 0),
        ("from a start of the delay", 2, 6, 5, 2, 3, true, 3),
        ("from a longer start", 3, 4, 6, 2, 2, false, 5),
    ];
    for (name, b, t, h, a, delay, silenced, prefix) in cases {
        let scalars = GlifrScalars { delay, dt_over_tau: 0.6, sigma_v: 0.8, i0: 0.1, v_reset: 0.2 };
        let mut ranges = vec![(-0.5, 0.5), (0.0, 0.3), (0.3, 0.95)];
        for range in [(-0.8, 0.8), (-1.0, 1.0), (0.3, 0.95)] {
            ranges.extend(std::iter::repeat_n(range, a));
        }
        let coefficients: Vec<Tensor<2>> = ranges
            .into_iter()
            .map(|(lo, hi)| Tensor::<2>::random([1, h], Distribution::Uniform(lo, hi), &cpu))
            .collect();
        let mut inputs = vec![
            Tensor::<1>::random([t * b * h], Distribution::Normal(0.0, 1.0), &cpu),
            Tensor::<1>::random([h * h], Distribution::Uniform(-1.0, 1.0), &cpu),
            Tensor::cat(coefficients, 0).reshape([(3 + 3 * a) * h]),
        ];
        if prefix > 0 {
            inputs.push(Tensor::<1>::random([(2 + a) * prefix * b * h], Distribution::Uniform(0.0, 1.0), &cpu));
        }
        let mask: Vec<f32> = (0..h).map(|n| if silenced && n % 3 == 1 { 0.0 } else { 1.0 }).collect();
        let mix = Tensor::<4>::random([2 + a, prefix + t, b, h], Distribution::Normal(0.0, 1.0), &cpu);
        let run = |device: &Device| {
            let tracked: Vec<Tensor<1>> =
                inputs.iter().map(|v| v.clone().to_device(device).detach().require_grad()).collect();
            let mask = Some(Tensor::<1>::from_data(TensorData::new(mask.clone(), [h]), device));
            let (current, weight) = (tracked[0].clone().reshape([t, b, h]), tracked[1].clone().reshape([h, h]));
            let coefficients = tracked[2].clone().reshape([3 + 3 * a, h]);
            let packed = if prefix > 0 {
                let start = tracked[3].clone().reshape([2 + a, prefix, b, h]);
                glifr_sequence_from(current, weight, coefficients, mask, start, scalars)
            } else {
                glifr_sequence(current, weight, coefficients, mask, scalars)
            };
            let grads = (packed.clone().sin() * mix.clone().to_device(device)).sum().backward();
            let grads: Vec<Vec<f32>> = tracked.iter().map(|v| values(v.grad(&grads).unwrap())).collect();
            (values(packed), grads)
        };
        let (packed_gpu, grads_gpu) = run(&gpu);
        let (packed_cpu, grads_cpu) = run(&cpu);
        assert_forward_close(&format!("{name}: outputs"), &packed_gpu, &packed_cpu);
        for (which, (p, q)) in grads_gpu.iter().zip(&grads_cpu).enumerate() {
            let scale = q.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            // W_lat (input 1) has no source when no new step reaches back d steps.
            let lateral_unused = which == 1 && prefix + t <= delay;
            assert!(scale > 0.0 || lateral_unused, "{name}: input {which} has no gradient");
            assert_eq!(p.len(), q.len(), "{name}: input {which}");
            for (i, (x, y)) in p.iter().zip(q).enumerate() {
                assert!((x - y).abs() <= 1e-4 * scale + 1e-7, "{name}: input {which}[{i}] cube {x} vs cpu {y}");
            }
        }
    }
}
