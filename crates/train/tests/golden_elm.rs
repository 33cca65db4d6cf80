//! Conformance with the authors' ELM code: every case under `shared/golden/elm/` and under
//! `tests/fixtures/elm/` (made by `scripts/make_elm_cases.py`, which runs AaronSpieler/elmneuron
//! @ 52e68a6) is reproduced by import + forward, and its gradients by our backward, within the
//! golden README's tolerances (forward ≤ 1e-5·max(1, max|ref|), gradients ≤ 1e-4 relative), on
//! every backend this build has. The 15 released NeuronIO models import with the reference's
//! parameter counts.

mod common;

use std::path::{Path, PathBuf};

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use common::{golden_cases, max_abs, max_abs_diff, workspace_root};
use elm::Elm;
use train::import_elm::read_elmneuron;
use train::npy::read_npy;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

fn cases() -> Vec<PathBuf> {
    let mut cases = golden_cases("elm");
    let fixtures = workspace_root().join("crates/train/tests/fixtures/elm");
    let mut ours: Vec<PathBuf> = std::fs::read_dir(&fixtures).unwrap().map(|e| e.unwrap().path()).collect();
    ours.sort();
    assert!(ours.len() >= 5, "fixtures missing in {}", fixtures.display());
    cases.extend(ours);
    cases
}

fn case_json(case: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(case.join("case.json")).unwrap()).unwrap()
}

fn load(case: &Path, device: &Device) -> Elm {
    let version = case_json(case)["version"].as_u64().map(|v| v as u8);
    read_elmneuron(&case.join("model_state.pt"), &case.join("model_config.json"), version, device)
        .unwrap_or_else(|e| panic!("{}: {e:#}", case.display()))
        .1
}

fn input(case: &Path, device: &Device) -> Tensor<3> {
    let x = read_npy(&case.join("x.npy")).unwrap();
    Tensor::from_data(TensorData::new(x.data, [x.shape[0], x.shape[1], x.shape[2]]), device)
}

fn check_forward(case: &Path, device: &Device) {
    let elm = load(case, device);
    let y = values(elm.forward(input(case, device)));
    let reference = read_npy(&case.join("y.npy")).unwrap();
    assert_eq!(y.len(), reference.data.len(), "{}: element count", case.display());
    let tol = 1e-5 * max_abs(&reference.data).max(1.0);
    let diff = max_abs_diff(&y, &reference.data);
    assert!(diff <= tol, "{}: max |ours − ref| = {diff:e} > {tol:e}", case.display());
}

/// Our gradients under the reference's state_dict names and layouts.
fn gradients(elm: &Elm, x: Tensor<3>, labels: Tensor<1, Int>) -> (f32, Vec<(String, Vec<f32>)>) {
    let logits = elm.forward_last(x);
    let loss = CrossEntropyLossConfig::new().init(&logits.device()).forward(logits, labels);
    let loss_value = loss.clone().into_scalar::<f32>();
    let grads = loss.backward();
    let mut out = vec![("_proto_w_s".to_string(), values(elm.synapse_weight.val().grad(&grads).unwrap()))];
    if elm.learn_memory_tau {
        out.push(("_proto_tau_m".into(), values(elm.memory_tau.val().grad(&grads).unwrap())));
    }
    let mut linears: Vec<(String, &burn::nn::Linear)> =
        elm.mlp.layers.iter().enumerate().map(|(i, l)| (format!("mlp.network.{}", 2 * i), l)).collect();
    linears.push(("w_y".into(), &elm.readout));
    for (name, layer) in linears {
        out.push((format!("{name}.weight"), values(layer.weight.val().grad(&grads).unwrap().transpose())));
        out.push((format!("{name}.bias"), values(layer.bias.as_ref().unwrap().val().grad(&grads).unwrap())));
    }
    (loss_value, out)
}

fn check_gradients(case: &Path, device: &Device) {
    let grad_dir = case.join("grads");
    if !grad_dir.is_dir() {
        return;
    }
    let elm = load(case, device);
    let labels = read_npy(&case.join("labels.npy")).unwrap();
    let labels: Vec<i64> = labels.data.iter().map(|&l| l as i64).collect();
    let n = labels.len();
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), device);
    let (loss, grads) = gradients(&elm, input(case, device), labels);
    let reference_loss = case_json(case)["loss"].as_f64().unwrap() as f32;
    assert!(
        (loss - reference_loss).abs() <= 1e-5 * reference_loss.abs().max(1.0),
        "{}: loss {loss} vs {reference_loss}",
        case.display()
    );
    let expected_files = std::fs::read_dir(&grad_dir).unwrap().count();
    assert_eq!(grads.len(), expected_files, "{}: one gradient per reference file", case.display());
    for (name, ours) in grads {
        let reference =
            read_npy(&grad_dir.join(format!("{name}.npy"))).unwrap_or_else(|e| panic!("{}: {e:#}", case.display()));
        let scale = max_abs(&reference.data);
        let diff = max_abs_diff(&ours, &reference.data);
        assert!(
            diff <= 1e-4 * scale + 1e-8,
            "{} {name}: max |ours − ref| = {diff:e}, max |ref| = {scale:e}",
            case.display()
        );
    }
}

fn check_all(device: &Device, autodiff: &Device) {
    check_cases(cases(), device, autodiff);
}

fn check_cases(cases: Vec<PathBuf>, device: &Device, autodiff: &Device) {
    for case in cases {
        check_forward(&case, device);
        check_gradients(&case, autodiff);
    }
}

#[cfg(feature = "flex")]
#[test]
fn golden_elm_on_flex() {
    check_all(&Device::flex(), &Device::flex().autodiff());
}

#[cfg(feature = "ndarray")]
#[allow(deprecated)]
#[test]
fn golden_elm_on_ndarray() {
    check_all(&Device::ndarray(), &Device::ndarray().autodiff());
}

#[cfg(feature = "wgpu")]
#[test]
fn golden_elm_on_wgpu() {
    if !common::vulkan_driver_present() {
        eprintln!("SKIPPED golden_elm_on_wgpu: no Vulkan driver (apt-get install mesa-vulkan-drivers)");
        return;
    }
    let device = Device::wgpu(burn::prelude::DeviceKind::DefaultDevice);
    // The released d_m = 100 model adds only size and SiLU (covered by `vanilla-v2-silu`) to the
    // other cases, and minutes of shader compilation on lavapipe; the CPU backends run it.
    let cases = cases().into_iter().filter(|c| !c.ends_with("released-best-silu")).collect();
    check_cases(cases, &device, &device.clone().autodiff());
}

/// All 15 released NeuronIO models import, with the parameter counts of their
/// `model_stats.json` (the best model, which has none, with the README's 54,002).
#[test]
fn released_models_import_with_reference_parameter_counts() {
    let root = workspace_root().join("../shared/elmneuron-models/models");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let (config, elm) = read_elmneuron(
            &dir.join("neuronio_best_model_state.pt"),
            &dir.join("model_config.json"),
            None,
            &Device::flex(),
        )
        .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
        let expected = match std::fs::read_to_string(dir.join("model_stats.json")) {
            Ok(text) => serde_json::from_str::<serde_json::Value>(&text).unwrap()["model_param_count"].as_u64().unwrap() as usize,
            Err(_) => 54_002,
        };
        assert_eq!(elm.num_trainable_params(), expected, "{}", dir.display());
        assert_eq!(config.input_size, Some(1278));
        seen += 1;
    }
    assert_eq!(seen, 15);
}

/// Import errors name the file and what was expected.
#[test]
fn import_errors_are_clear() {
    let fixtures = workspace_root().join("crates/train/tests/fixtures");
    let config = fixtures.join("elm/random-routing-v1/model_config.json");
    let dev = Device::flex();
    let err = |state: &Path, config: &Path, version: Option<u8>| {
        format!("{:#}", read_elmneuron(state, config, version, &dev).map(|_| ()).unwrap_err())
    };
    let e = err(&fixtures.join("elm-bad/missing-key.pt"), &config, None);
    assert!(e.contains("missing `w_y.bias`") && e.contains("missing-key.pt"), "{e}");
    let e = err(&fixtures.join("elm-bad/wrong-shape.pt"), &config, None);
    assert!(e.contains("`_proto_w_s` has shape [19], expected [20]"), "{e}");
    let e = err(&fixtures.join("elm-bad/index-out-of-range.pt"), &config, None);
    assert!(e.contains("input_to_synapse_indices") && e.contains("0..9"), "{e}");
    let good = fixtures.join("elm/random-routing-v1/model_state.pt");
    let e = err(&good, &config, Some(2));
    assert!(e.contains("--elm-version 2") && e.contains("v1"), "{e}");

    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    let unknown = tmp.path().join("unknown-routing.json");
    std::fs::write(&unknown, text.replace("random_routing", "dendritic_routing")).unwrap();
    let e = err(&good, &unknown, None);
    assert!(e.contains("unknown input_to_synapse_routing \"dendritic_routing\""), "{e}");
    let typo = tmp.path().join("typo.json");
    std::fs::write(&typo, text.replace("num_memory", "num_memroy")).unwrap();
    let e = err(&good, &typo, None);
    assert!(e.contains("num_memroy") && e.contains("typo.json"), "{e}");
    let mismatch = tmp.path().join("mismatch.json");
    std::fs::write(&mismatch, text.replace("\"num_branch\": 4", "\"num_branch\": 5")).unwrap();
    let e = err(&good, &mismatch, None);
    assert!(e.contains("_proto_w_s") && e.contains("expected [25]"), "{e}");
    let truncated = tmp.path().join("truncated.pt");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = err(&truncated, &config, None);
    assert!(e.contains("truncated.pt"), "{e}");
    let e = err(&tmp.path().join("absent.pt"), &config, None);
    assert!(e.contains("absent.pt") && e.contains("does not exist"), "{e}");
}
