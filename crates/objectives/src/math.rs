//! Small numerical building blocks shared by several losses.

use burn::tensor::Tensor;

use crate::EPSILON;
use crate::dyn_tensor::{DynTensor, MAX_RANK};

/// `log(1 + exp(x))` without overflow or loss of precision in either tail (JAX's `softplus`):
/// `max(x, 0) + log1p(exp(−|x|))`.
pub(crate) fn softplus(x: Tensor<MAX_RANK>) -> Tensor<MAX_RANK> {
    let tail = x.clone().abs().neg().exp().log1p();
    x.clamp_min(0.0).add(tail)
}

/// L2-normalises along `axis` (normalized, logical): `x / sqrt(max(Σ_axis x², ε²))`, so a zero
/// vector stays zero (Keras's `ops.normalize`).
pub(crate) fn l2_normalize(x: DynTensor, axis: usize) -> DynTensor {
    let d = x.padded_axis(axis);
    x.map(|t| {
        let norm = t.clone().square().sum_dim(d).clamp_min(EPSILON * EPSILON).sqrt();
        t.div(norm)
    })
}
