//! Gradient buffers: allocated per call and handed to burn as the gradient tensor's storage.

use burn::backend::flex::{FlexTensor, Layout};
use burn::tensor::{Bytes, DType, Shape};

/// A gradient buffer of `n` elements (every element is overwritten by the kernel).
pub(crate) fn take(n: usize) -> Vec<f32> {
    vec![0.0; n]
}

/// Wraps a filled gradient buffer as a Flex tensor of `shape`.
pub(crate) fn into_tensor(grad: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::new(Bytes::from_elems(grad), Layout::contiguous(shape), DType::F32)
}
