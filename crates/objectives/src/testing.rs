//! Helpers for the in-file unit tests.

use burn::tensor::Tensor;

use crate::DynTensor;

pub(crate) fn d2<const N: usize, const M: usize>(v: &[[f32; M]; N]) -> DynTensor {
    Tensor::<2>::from_floats(*v, &crate::backend::test_device()).into()
}

pub(crate) fn vals(x: &DynTensor) -> Vec<f32> {
    x.to_vec_f32().unwrap_or_default()
}

/// The test device when it computes f64 correctly ([`crate::backend::f64_is_reliable`]); `None`
/// (and a line saying why the test is skipped) on a device that does not, e.g. wgpu on Vulkan.
pub(crate) fn f64_device(test: &str) -> Option<burn::tensor::Device> {
    let d = crate::backend::test_device();
    if crate::backend::f64_is_reliable(&d) {
        Some(d)
    } else {
        eprintln!("{test}: skipped on {}: it computes float64 wrongly", crate::backend::describe(&d));
        None
    }
}
