//! Conformance with the authors' code: every case under `shared/golden/glifr/` (made by
//! running GLIFS_ASC @ 82ea3e22 on fixed weights) must be reproduced by our import + forward,
//! within the tolerances of the golden README, on every backend this build has:
//! forward ≤ 1e-5·max(1, max|ref|), gradients ≤ 1e-4 relative. Both the fused sequence
//! (where the backend has it) and the per-step path are checked.

mod common;

use std::path::Path;

use burn::prelude::*;
use common::{assert_forward_close, assert_golden_gradients, case_input, case_labels, golden_cases, values};
use engine::model::Model;
use glifr::RecurrentNetwork;
use interop::grads::last_step_loss_gradients;
use interop::import::read_glifs_asc;
use interop::npy::read_npy;

fn check_forward(case: &Path, device: &Device, with_yaml: bool, fused_expected: bool) {
    let hparams = case.join("hparams.yaml");
    let (_, network) = read_glifs_asc(&case.join("model.ckpt"), with_yaml.then_some(hparams.as_path()), device)
        .unwrap_or_else(|e| panic!("{}: {e:#}", case.display()));
    for network in both_paths(network, device, fused_expected) {
        let trace = network.valid().forward_traced(case_input(case, device));
        let label = format!("{} (fused {})", case.file_name().unwrap().to_string_lossy(), network.fused);
        assert_forward_close(&format!("{label} y"), &values(trace.output), &read_npy(&case.join("y.npy")).unwrap());
        assert_forward_close(
            &format!("{label} voltage"),
            &values(trace.voltage.expect("GLIFR voltage")),
            &read_npy(&case.join("voltage.npy")).unwrap(),
        );
    }
}

/// The imported network as it is (fused wherever the backend has the fused sequence: Flex,
/// NdArray, and wgpu through the Cube kernels) and on the per-step path.
fn both_paths(network: RecurrentNetwork, device: &Device, fused_expected: bool) -> [RecurrentNetwork; 2] {
    assert_eq!(network.takes_fused_path(device), fused_expected, "fused GLIFR sequence on {device:?}");
    [network.clone(), network.with_fused(false)]
}

fn check_gradients(case: &Path, device: &Device, fused_expected: bool) {
    let (_, network) = read_glifs_asc(&case.join("model.ckpt"), None, device).unwrap();
    for network in both_paths(network, device, fused_expected) {
        let model = Model::Recurrent(network);
        let result = last_step_loss_gradients(&model, case_input(case, device), case_labels(case, device));
        assert_golden_gradients(case, &result);
    }
}

/// `fused_expected`: whether the backend has the fused GLIFR sequence (all three here).
fn check_all(device: &Device, autodiff: &Device, fused_expected: bool) {
    let cases = golden_cases("glifr");
    for case in &cases {
        check_forward(case, device, false, fused_expected);
        check_forward(case, device, true, fused_expected);
        check_gradients(case, autodiff, fused_expected);
    }
}

#[cfg(feature = "flex")]
#[test]
fn golden_glifr_on_flex() {
    check_all(&Device::flex(), &Device::flex().autodiff(), true);
}

#[cfg(feature = "ndarray")]
#[allow(deprecated)]
#[test]
fn golden_glifr_on_ndarray() {
    check_all(&Device::ndarray(), &Device::ndarray().autodiff(), true);
}

/// The GPU path, on whatever Vulkan/Metal driver is present: Mesa lavapipe in CI. Skipped
/// (with a message) on a Linux machine with no Vulkan driver installed at all; under `CI`,
/// which `.ci/run` sets, that fails instead.
#[cfg(feature = "wgpu")]
#[test]
fn golden_glifr_on_wgpu() {
    if !fused::testing::gpu_test_can_run("golden_glifr_on_wgpu") {
        return;
    }
    // The golden cases' H (16) fits the Cube kernels: the fused path runs there too.
    let device = Device::wgpu(burn::prelude::DeviceKind::DefaultDevice);
    check_all(&device, &device.clone().autodiff(), true);
}
