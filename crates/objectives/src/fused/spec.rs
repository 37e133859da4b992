//! [`Spec`]: what a fused kernel computes, decided from shapes only, and [`run_kernel`], which
//! runs it on the host (the Flex backend).

use super::kernels::{self, Dims, Elementwise, Weights};
use crate::reduce::{Divisor, MaskCount, MaskRule};

/// What a fused kernel computes, decided from shapes only (opaque outside the crate).
#[derive(Clone, Debug)]
pub struct Spec {
    pub(crate) kind: KernelKind,
    pub(crate) dims: Dims,
    pub(crate) sample_repeat: usize,
    pub(crate) mask_repeat: usize,
    pub(crate) mask_rule: MaskRule,
    pub(crate) divisor: Divisor,
    /// For [`Divisor::WeightSum`]: the sum of the weight as passed is `Σ_r w_r · per`, `per` the
    /// share of the per-sample losses that one weight element covers.
    pub(crate) weight_per_position: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum KernelKind {
    Elementwise(Elementwise),
    Softmax(f32),
    Sparse(Option<i64>),
}

/// Runs the kernel of `spec` on contiguous slices (called by the Flex backend).
pub(crate) fn run_kernel(
    spec: &Spec,
    target: &[f32],
    pred: &[f32],
    sample: Option<&[f32]>,
    mask: Option<&[f32]>,
    grad: &mut [f32],
) -> f64 {
    // The shapes were checked before dispatch; were the buffers ever inconsistent with them, the
    // loss is NaN (loud) rather than a panic or a number computed from the wrong elements.
    let dims = spec.dims;
    let covers =
        |f: Option<&[f32]>, repeat: usize| f.is_none_or(|d| repeat > 0 && d.len() == dims.reduced().div_ceil(repeat));
    let target_len = if matches!(spec.kind, KernelKind::Sparse(_)) { dims.reduced() } else { dims.len() };
    if pred.len() != dims.len()
        || grad.len() != dims.len()
        || target.len() != target_len
        || !covers(sample, spec.sample_repeat)
        || !covers(mask, spec.mask_repeat)
    {
        grad.fill(f32::NAN);
        return f64::NAN;
    }
    let mask_rescale = match (spec.mask_rule, mask) {
        (MaskRule::Rescale, Some(m)) => {
            Some(MaskCount { total: m.len() as f64, valid: kernels::mask_sum(m) }.rescale() as f32)
        }
        _ => None,
    };
    let w = Weights {
        sample: sample.map(|data| kernels::Factor { data, repeat: spec.sample_repeat }),
        mask: mask.map(|data| kernels::Factor { data, repeat: spec.mask_repeat }),
        mask_rescale,
    };
    let divisor = match spec.divisor {
        Divisor::Unreduced | Divisor::One => 1.0,
        Divisor::Count => spec.dims.reduced() as f64,
        Divisor::WeightSum => weight_sum(&w, spec.dims.reduced()) * spec.weight_per_position,
    };
    let scale = if divisor == 0.0 { 0.0 } else { 1.0 / divisor };
    match spec.kind {
        KernelKind::Elementwise(kind) => kernels::elementwise(kind, target, pred, spec.dims, w, scale, grad),
        KernelKind::Softmax(ls) => kernels::softmax_crossentropy(target, pred, spec.dims, ls, w, scale, grad),
        KernelKind::Sparse(ignore) => {
            let labels: Vec<i64> = target.iter().map(|&l| l as i64).collect();
            // Labels were checked before dispatch; a failure here cannot happen, and would show as NaN.
            kernels::sparse_softmax_crossentropy(&labels, pred, spec.dims, ignore, w, scale, grad).unwrap_or(f64::NAN)
        }
    }
}

/// `Σ_r w_r` over the reduced positions.
fn weight_sum(w: &Weights<'_>, reduced: usize) -> f64 {
    let at =
        |f: &Option<kernels::Factor<'_>>, r: usize| f.map(|f| f.data.get(r / f.repeat.max(1)).copied().unwrap_or(0.0));
    (0..reduced)
        .map(|r| {
            let s = at(&w.sample, r).unwrap_or(1.0) as f64;
            let m = match (at(&w.mask, r), w.mask_rescale) {
                (None, _) => 1.0,
                (Some(m), Some(scale)) => {
                    if m != 0.0 {
                        scale as f64
                    } else {
                        0.0
                    }
                }
                (Some(m), None) => m as f64,
            };
            s * m
        })
        .sum()
}
