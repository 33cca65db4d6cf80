//! What the model crates' `#[cube]` kernels share (the `cube` feature): a sigmoid that cannot
//! overflow, how many units a cube gets, and an uninitialised output on a tensor's device.

use burn::tensor::Shape;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

/// The logistic sigmoid from one exponential of a non-positive argument, so that no finite `x`
/// overflows it.
#[cube]
pub fn sigmoid_f32(x: f32) -> f32 {
    if x >= 0.0f32 {
        1.0f32 / (1.0f32 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0f32 + e)
    }
}

/// Units per cube for a layer `width` wide: one per output up to 256, a power of two of at
/// least 32 (the SIMD groups' width), and no more than the runtime allows (`max_units`).
pub fn units_per_cube(width: usize, max_units: u32) -> u32 {
    (width.next_power_of_two().clamp(32, 256) as u32).min(max_units)
}

/// An uninitialised tensor of `shape` on `like`'s device, with its dtype.
pub fn empty_like(like: &CubeTensor, shape: &[usize]) -> CubeTensor {
    empty_device_dtype(like.client.clone(), like.device.clone(), Shape::from(shape.to_vec()), like.dtype)
}
