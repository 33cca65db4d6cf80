//! What the fused recurrences of the model crates share.
//!
//! A fused recurrence runs a whole sequence as one Burn operation with a hand-written backward
//! pass, instead of 15–45 small autodiff operations per time step. Each model family declares
//! its operation with `#[backend_extension]` in its own crate (`glifr::fused`, …); the CPU side
//! of every family is plain Rust over contiguous f32 buffers, built from the two pieces here:
//!
//! * [`gemm`]: a safe, bounds-checked matrix product over slices, through the `gemm` crate
//!   (the one burn-flex uses), threaded when the product is large enough to pay;
//! * [`host`]: moving a backend primitive to a host `Vec<f32>` and back, so the same CPU code
//!   serves Flex and NdArray;
//! * [`parallel`]: a batch split across threads for a whole sequence;
//! * [`math`]: `exp` and the sigmoid in arithmetic that vectorises;
//! * [`recurrence`]: the [`Recurrence`] trait every model family implements, so that
//!   segmented recomputation runs any of them (fused where it can) through one seam;
//! * [`testing`]: whether the GPU tests can run here (and, under CI, that they must);
//! * `cube` (feature `cube`): what the `#[cube]` kernels share.

#[cfg(feature = "cube")]
pub mod cube;
pub mod gemm;
pub mod host;
pub mod math;
pub mod parallel;
pub mod recurrence;
pub mod testing;

pub use gemm::{MatRef, matmul, matmul_in_part, matmul_serial};
pub use recurrence::Recurrence;
