//! Conformance with the authors' ELM code: every case under `shared/golden/elm/` and under
//! `tests/fixtures/elm/` (made by `scripts/make_elm_cases.py`, which runs AaronSpieler/elmneuron
//! @ 52e68a6) is reproduced by import + forward, and its gradients by our backward, within the
//! golden README's tolerances (forward ≤ 1e-5·max(1, max|ref|), gradients ≤ 1e-4 relative), on
//! every backend this build has. The 15 released NeuronIO models import with the reference's
//! parameter counts.

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use common::{
    assert_forward_close, assert_golden_gradients, case_input, case_json, case_labels, golden_cases, values,
    workspace_root,
};
use elm::Elm;
use engine::model::Model;
use interop::grads::last_step_loss_gradients;
use interop::import_elm::read_elmneuron;
use interop::npy::read_npy;

fn cases() -> Vec<PathBuf> {
    let mut cases = golden_cases("elm");
    let fixtures = workspace_root().join("crates/train/tests/fixtures/elm");
    let mut ours: Vec<PathBuf> = std::fs::read_dir(&fixtures).unwrap().map(|e| e.unwrap().path()).collect();
    ours.sort();
    assert!(ours.len() >= 5, "fixtures missing in {}", fixtures.display());
    cases.extend(ours);
    cases
}

fn load(case: &Path, device: &Device) -> Elm {
    let version = case_json(case)["version"].as_u64().map(|v| v as u8);
    read_elmneuron(&case.join("model_state.pt"), &case.join("model_config.json"), version, device)
        .unwrap_or_else(|e| panic!("{}: {e:#}", case.display()))
        .1
}

fn check_forward(case: &Path, device: &Device) {
    let y = values(load(case, device).forward(case_input(case, device)));
    assert_forward_close(&case.display().to_string(), &y, &read_npy(&case.join("y.npy")).unwrap());
}

fn check_gradients(case: &Path, device: &Device) {
    if !case.join("grads").is_dir() {
        return;
    }
    let elm = load(case, device);
    let result = last_step_loss_gradients(&Model::Elm(elm), case_input(case, device), case_labels(case, device));
    assert_golden_gradients(case, &result);
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
    if !fused::testing::gpu_test_can_run("golden_elm_on_wgpu") {
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
            Ok(text) => {
                serde_json::from_str::<serde_json::Value>(&text).unwrap()["model_param_count"].as_u64().unwrap()
                    as usize
            }
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
    let e = err(&fixtures.join("elm-bad/nan-weight.pt"), &config, None);
    assert!(e.contains("`_proto_w_s` holds NaN at flat index 3") && e.contains("nan-weight.pt"), "{e}");
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
