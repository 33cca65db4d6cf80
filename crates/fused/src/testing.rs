//! What the GPU tests of every crate share: whether a Vulkan driver is there to run them.
//!
//! The wgpu tests need a Vulkan ICD (lavapipe on a machine without a GPU, which `scripts/test`
//! installs). Without one they cannot run; outside CI they say so and pass, under CI (`CI`
//! set, as `.ci/run` does) the missing driver fails the run, so that CI never passes a GPU
//! test that did not run.

/// Whether a Vulkan ICD manifest is installed (Linux), i.e. wgpu can find an adapter.
pub fn vulkan_driver_present() -> bool {
    ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"].iter().any(|dir| {
        std::fs::read_dir(dir).is_ok_and(|mut entries| {
            entries.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json")))
        })
    })
}

/// Whether the GPU test `test` can run: true with a Vulkan driver; without one, a SKIPPED line
/// on stderr and false, or under CI a panic naming the test.
pub fn gpu_test_can_run(test: &str) -> bool {
    if vulkan_driver_present() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: no Vulkan driver under CI (scripts/test installs lavapipe: mesa-vulkan-drivers)"
    );
    eprintln!("SKIPPED {test}: no Vulkan driver (apt-get install mesa-vulkan-drivers libvulkan1)");
    false
}
