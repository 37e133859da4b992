//! Helpers for the in-file unit tests.

use burn::tensor::{Device, Tensor};

use crate::DynTensor;

pub(crate) fn d2<const N: usize, const M: usize>(v: &[[f32; M]; N]) -> DynTensor {
    Tensor::<2>::from_floats(*v, &Device::flex()).into()
}

pub(crate) fn vals(x: &DynTensor) -> Vec<f32> {
    x.to_vec_f32().unwrap_or_default()
}
