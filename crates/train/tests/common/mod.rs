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

/// Whether a Vulkan ICD is installed (Linux), i.e. wgpu can find an adapter.
pub fn vulkan_driver_present() -> bool {
    ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"].iter().any(|d| {
        std::fs::read_dir(d).is_ok_and(|mut entries| {
            entries.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json")))
        })
    })
}

/// The full MNIST, fetched by the binary's own code into `<workspace>/data/mnist` (or
/// `$NEUROZOO_MNIST_DIR`) when missing.
pub fn mnist_dir() -> PathBuf {
    let dir = std::env::var_os("NEUROZOO_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("data/mnist"));
    train::data::ensure_mnist(&dir, true).unwrap_or_else(|e| panic!("{e:#}"));
    dir
}
