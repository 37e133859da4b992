//! Integer and one-hot class labels carried in float tensors (as Keras converts them): alignment
//! with `y_pred`, validation, one-hot encoding along a class axis, smoothing, and the 0/1 → ±1
//! conversion of the hinge losses. Shared by the losses and the fused kernels.

use burn::tensor::{Int, Tensor};

use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::{DynTensor, MAX_RANK, padded};
use crate::tensor::shape::{squeeze_or_expand_to_same_rank, unravel};

/// Checks that every label is an integer in `[0, classes)` (or equals `ignore`), reading them
/// back from the device. Keras on JAX silently gives a zero loss for an out-of-range label; we
/// name the first offending value and its position instead.
///
/// # Errors
/// [`Error::InvalidLabel`].
pub(crate) fn check_labels(loss: &str, labels: &DynTensor, classes: usize, ignore: Option<i64>) -> Result<()> {
    let values = labels.to_vec_f64()?;
    for (i, &v) in values.iter().enumerate() {
        if ignore.is_some_and(|c| v == c as f64) {
            continue;
        }
        if !(v.fract() == 0.0 && v >= 0.0 && v < classes as f64) {
            return Err(Error::InvalidLabel {
                name: loss.to_string(),
                value: v,
                position: unravel(i, labels.shape()),
                classes,
            });
        }
    }
    Ok(())
}

/// One-hot encodes `labels` (shape `S`) into the shape `target` (= `S` with a class axis of
/// size `classes` inserted at `axis`), in the labels' float dtype.
pub(crate) fn one_hot(labels: &DynTensor, target: &[usize], axis: usize) -> DynTensor {
    let device = labels.device();
    let classes = target[axis];
    if target.contains(&0) {
        // Nothing to encode (burn cannot expand to a zero-size shape).
        return DynTensor::from_padded(
            Tensor::<MAX_RANK>::zeros(padded(target), (&device, labels.dtype())),
            target.to_vec(),
        );
    }
    let mut lshape = target.to_vec();
    lshape[axis] = 1;
    let l = labels.padded().clone().reshape(padded(&lshape)).expand(padded(target));
    let mut cshape = vec![1; target.len()];
    cshape[axis] = classes;
    let idx = Tensor::<1, Int>::arange(0..classes as i64, &device)
        .float()
        .cast(crate::tensor::shape::dtype_of(labels))
        .reshape(padded(&cshape))
        .expand(padded(target));
    let hot: Tensor<MAX_RANK> = l.equal(idx).float().cast(crate::tensor::shape::dtype_of(labels));
    DynTensor::from_padded(hot, target.to_vec())
}

/// Labels aligned with `y_pred` for sparse losses: Keras's rank alignment, then the squeeze of
/// a size-1 class axis in `y_true`; `y_true` must then be `y_pred`'s shape without `axis`.
/// Returns `(labels, y_pred, axis)`.
pub(crate) fn align_sparse(
    loss: &str,
    y_true: &DynTensor,
    y_pred: &DynTensor,
    axis: i64,
) -> Result<(DynTensor, DynTensor, usize)> {
    let (mut t, p) = squeeze_or_expand_to_same_rank(y_true.clone(), y_pred.clone());
    let given_axis = axis;
    let axis = p.normalize_axis(loss, axis)?;
    if p.shape()[axis] == 0 {
        return Err(Error::EmptyAxis { name: loss.to_string(), axis, shape: p.shape().to_vec() });
    }
    if t.rank() == p.rank() && t.shape().get(axis) == Some(&1) {
        let mut s = t.shape().to_vec();
        s.remove(axis);
        t = t.reshape(s);
    }
    let mut expected = p.shape().to_vec();
    expected.remove(axis);
    if t.shape() != expected.as_slice() {
        return Err(Error::SparseShapeMismatch {
            name: loss.to_string(),
            y_true: y_true.shape().to_vec(),
            y_pred: y_pred.shape().to_vec(),
            axis: given_axis,
            expected,
        });
    }
    let t = t.cast(crate::tensor::shape::dtype_of(&p));
    Ok((t, p, axis))
}

/// Smooths one-hot labels towards uniform over the `k` classes: `y·(1 − s) + s/k`.
pub(crate) fn smooth_one_hot(t: DynTensor, s: f64, k: usize) -> DynTensor {
    if s == 0.0 { t } else { t.map(|t| t.mul_scalar(1.0 - s).add_scalar(s / k as f64)) }
}

/// Keras's `convert_binary_labels_to_hinge`: if **every** element of `y_true` is 0 or 1, map
/// the labels to −1/1 (`2·y − 1`); otherwise leave them. The decision is over the whole tensor.
pub(crate) fn convert_binary_labels_to_hinge(y_true: DynTensor) -> DynTensor {
    if y_true.numel() == 0 {
        return y_true;
    }
    y_true.map(|t| {
        let is01 = t.clone().equal_elem(0.0).float().add(t.clone().equal_elem(1.0).float());
        let all01 = is01.equal_elem(1.0).all();
        let dims = t.dims();
        let all01 = all01.reshape([1usize; crate::tensor::dyn_tensor::MAX_RANK]).expand(dims);
        let converted = t.clone().mul_scalar(2.0).sub_scalar(1.0);
        t.mask_where(all01, converted)
    })
}
