//! Backend primitives ⇄ host `Vec<f32>`.
//!
//! The CPU side of a fused recurrence reads its inputs into host buffers once per sequence,
//! runs plain Rust over them, and wraps the results back into the backend's primitives. The
//! copies are per sequence, not per step, and cost a few passes over the activations, which is
//! small beside the recurrence itself. Going through `TensorData` lets one implementation serve
//! every CPU backend (Flex and NdArray).

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::{DType, TensorData, try_read_sync};

/// The elements of `tensor` in row-major order as f32 (other float types are converted).
///
/// # Panics
/// When the backend cannot read the tensor back, which a CPU backend never fails to do.
pub fn to_host<B: Backend>(tensor: FloatTensor<B>) -> Vec<f32> {
    let data = try_read_sync(B::float_into_data(tensor))
        .expect("a CPU backend reads synchronously")
        .expect("a CPU tensor can be read");
    let data = if data.dtype() == DType::F32 { data } else { data.convert::<f32>() };
    data.try_into_vec::<f32>().expect("f32 data after conversion")
}

/// A tensor of `shape` on `device` holding `values` (row-major).
pub fn from_host<B: Backend>(values: Vec<f32>, shape: &[usize], device: &B::Device) -> FloatTensor<B> {
    B::float_from_data(TensorData::new(values, shape.to_vec()), device)
}

/// The shape of a primitive, as a vector.
pub fn dims<B: Backend>(tensor: &FloatTensor<B>) -> Vec<usize> {
    tensor.shape().to_vec()
}
