//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `shared/golden`, beside the checkout (or `$NEUROZOO_GOLDEN`).
pub fn golden_root() -> PathBuf {
    let dir = std::env::var_os("NEUROZOO_GOLDEN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/golden"));
    assert!(
        dir.is_dir(),
        "the golden reference cases are missing: expected {} (or set NEUROZOO_GOLDEN)",
        dir.display()
    );
    dir
}

/// Every case folder of one model family, sorted; at least one.
pub fn golden_cases(family: &str) -> Vec<PathBuf> {
    let root = golden_root().join(family);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", root.display());
    cases
}

/// max |x|.
pub fn max_abs(values: &[f32]) -> f32 {
    values.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// max |a − b|; NaN anywhere makes it infinite.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0f32, |m, (x, y)| {
        let d = (x - y).abs();
        if d.is_nan() { f32::INFINITY } else { m.max(d) }
    })
}

/// The full MNIST, fetched by the binary's own code into `<workspace>/data/mnist` (or
/// `$NEUROZOO_MNIST_DIR`) when missing.
pub fn mnist_dir() -> PathBuf {
    let dir = std::env::var_os("NEUROZOO_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("data/mnist"));
    engine::data::ensure_mnist(&dir, true).unwrap_or_else(|e| panic!("{e:#}"));
    dir
}

// --- Golden reference cases: inputs, labels and the README's tolerances. -------------------

use burn::prelude::*;
use interop::npy::{Array, read_npy};

/// A tensor's values as f32.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

/// A case's `case.json`.
pub fn case_json(case: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(case.join("case.json")).unwrap()).unwrap()
}

/// A case's input `x.npy` `[B,T,in]`.
pub fn case_input(case: &Path, device: &Device) -> Tensor<3> {
    let x = read_npy(&case.join("x.npy")).unwrap();
    Tensor::from_data(TensorData::new(x.data, [x.shape[0], x.shape[1], x.shape[2]]), device)
}

/// A case's `labels.npy` (float-coded class ids) as class indices.
pub fn case_labels(case: &Path, device: &Device) -> Tensor<1, Int> {
    let labels = read_npy(&case.join("labels.npy")).unwrap();
    let labels: Vec<i64> = labels.data.iter().map(|&l| l as i64).collect();
    let n = labels.len();
    Tensor::from_data(TensorData::new(labels, [n]), device)
}

/// Forward tolerance of the golden README: max |ours − ref| ≤ 1e-5·max(1, max|ref|).
pub fn assert_forward_close(name: &str, ours: &[f32], reference: &Array) {
    assert_eq!(ours.len(), reference.data.len(), "{name}: element count");
    let tol = 1e-5 * max_abs(&reference.data).max(1.0);
    let diff = max_abs_diff(ours, &reference.data);
    assert!(diff <= tol, "{name}: max |ours − ref| = {diff:e} > {tol:e}");
}

/// The case's loss (`case.json`) within 1e-5 relative, and one gradient per file of `grads/`,
/// with the file's shape, within 1e-4 of the largest reference entry.
pub fn assert_golden_gradients(case: &Path, result: &interop::grads::LossGradients) {
    let reference_loss = case_json(case)["loss"].as_f64().unwrap() as f32;
    let loss = result.loss;
    assert!(
        (loss - reference_loss).abs() <= 1e-5 * reference_loss.abs().max(1.0),
        "{}: loss {loss} vs {reference_loss}",
        case.display()
    );
    let grad_dir = case.join("grads");
    let expected_files = std::fs::read_dir(&grad_dir).unwrap().count();
    assert_eq!(result.gradients.len(), expected_files, "{}: one gradient per reference file", case.display());
    for g in &result.gradients {
        let name = &g.name;
        let reference =
            read_npy(&grad_dir.join(format!("{name}.npy"))).unwrap_or_else(|e| panic!("{}: {e:#}", case.display()));
        assert_eq!(g.shape, reference.shape, "{} {name}: shape", case.display());
        let scale = max_abs(&reference.data);
        let diff = max_abs_diff(&g.values, &reference.data);
        assert!(
            diff <= 1e-4 * scale + 1e-8,
            "{} {name}: max |ours − ref| = {diff:e}, max |ref| = {scale:e}",
            case.display()
        );
    }
}
