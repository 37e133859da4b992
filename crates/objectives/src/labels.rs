//! Integer class labels carried in float tensors (as Keras converts them): validation and
//! one-hot encoding along a class axis.

use burn::tensor::{Int, Tensor};

use crate::dyn_tensor::{DynTensor, MAX_RANK, padded};
use crate::error::{LossError, Result};

/// Checks that every label is an integer in `[0, classes)` (or equals `ignore`), reading them
/// back from the device. Keras on JAX silently gives a zero loss for an out-of-range label; we
/// name the first offending value and its position instead.
///
/// # Errors
/// [`LossError::InvalidLabel`].
pub(crate) fn check_labels(loss: &str, labels: &DynTensor, classes: usize, ignore: Option<i64>) -> Result<()> {
    let values = labels.to_vec_f64()?;
    for (i, &v) in values.iter().enumerate() {
        if ignore.is_some_and(|c| v == c as f64) {
            continue;
        }
        if !(v.fract() == 0.0 && v >= 0.0 && v < classes as f64) {
            return Err(LossError::InvalidLabel {
                loss: loss.to_string(),
                value: v,
                position: unravel(i, labels.shape()),
                classes,
            });
        }
    }
    Ok(())
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (k, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            pos[k] = i % d;
            i /= d;
        }
    }
    pos
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
        .cast(crate::shape::dtype_of(labels))
        .reshape(padded(&cshape))
        .expand(padded(target));
    let hot: Tensor<MAX_RANK> = l.equal(idx).float().cast(crate::shape::dtype_of(labels));
    DynTensor::from_padded(hot, target.to_vec())
}
