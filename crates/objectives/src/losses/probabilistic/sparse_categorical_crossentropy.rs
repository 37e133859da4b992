//! Sparse categorical cross-entropy: integer labels.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::Result;
use crate::losses::loss::LossValues;
use crate::losses::wrapper::{LossFn, LossFunctionWrapper, last_axis, serde_config, serde_from_config};
use crate::tensor::labels::{align_sparse, check_labels, one_hot};
use crate::tensor::math::class_log_probs;

/// Arguments of [`sparse_categorical_crossentropy`] (Keras's, with Keras's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SparseCategoricalCrossentropyConfig {
    /// `y_pred` holds logits (`true`) or probabilities (`false`, default).
    pub from_logits: bool,
    /// A label value to skip (e.g. padding or "void" pixels): those positions get loss 0 and
    /// are masked out of the reduction, so the default reduction averages over the others.
    pub ignore_class: Option<i64>,
    /// The class axis of `y_pred` (default -1; 1 for channels-first outputs).
    pub axis: i64,
}

impl Default for SparseCategoricalCrossentropyConfig {
    fn default() -> Self {
        Self { from_logits: false, ignore_class: None, axis: last_axis() }
    }
}

/// Integer class labels as one-hot vectors along `y_pred`'s class `axis`, after the same shape
/// alignment and label checks as [`sparse_categorical_crossentropy()`] (for sparse metrics).
///
/// # Errors
/// [`crate::Error::SparseShapeMismatch`], [`crate::Error::InvalidLabel`], [`crate::Error::AxisOutOfRange`].
pub fn one_hot_labels(loss: &str, y_true: &DynTensor, y_pred: &DynTensor, axis: i64) -> Result<DynTensor> {
    let (t, p, axis) = align_sparse(loss, y_true, y_pred, axis)?;
    check_labels(loss, &t, p.shape()[axis], None)?;
    Ok(one_hot(&t, p.shape(), axis))
}

/// Sparse categorical cross-entropy, unreduced: `y_true` holds class indices, `y_pred` a
/// distribution (or logits) over the classes along `axis`.
///
/// ```text
/// loss = −log p[y_true]      p as in categorical_crossentropy (renormalised + clipped, or log_softmax)
/// ignore_class = c:  loss = 0 where y_true == c, and those positions are masked out of the reduction
/// ```
/// # Shapes
/// `y_true` is `y_pred`'s shape without `axis` (a size-1 axis in its place is squeezed):
/// `[batch, d0, …]` labels with `[batch, classes, d0, …]` predictions for `axis = 1`. The
/// result has the labels' shape.
/// # Errors
/// [`crate::Error::InvalidLabel`] naming the first label that is not an integer in
/// `[0, classes)` (Keras on JAX silently returns 0 there); [`crate::Error::SparseShapeMismatch`];
/// [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// // Channels-first segmentation: labels (2, 4, 4), logits (2, 3, 4, 4).
/// let labels = Tensor::<3>::ones([2, 4, 4], &d);
/// let logits = Tensor::<4>::zeros([2, 3, 4, 4], &d);
/// let scce = SparseCategoricalCrossentropy::new(SparseCategoricalCrossentropyConfig {
///     from_logits: true, axis: 1, ..Default::default() });
/// let l = scce.call(&labels, &logits, None)?;
/// assert!((l.into_scalar::<f32>()? - 3f32.ln()).abs() < 1e-6);
/// // A label outside [0, 3) is an error, not a silent 0:
/// let bad = Tensor::<3>::full([2, 4, 4], 3.0, &d);
/// assert!(scce.call(&bad, &logits, None).is_err());
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.sparse_categorical_crossentropy` (3.15).
pub fn sparse_categorical_crossentropy(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &SparseCategoricalCrossentropyConfig,
) -> Result<LossValues> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let name = "sparse_categorical_crossentropy";
    let (t, p, axis) = align_sparse(name, y_true, y_pred, config.axis)?;
    check_labels(name, &t, p.shape()[axis], config.ignore_class)?;
    let dtype = crate::tensor::shape::dtype_of(&t);
    let valid = config.ignore_class.map(|c| t.clone().map(|t| t.not_equal_elem(c as f64).float().cast(dtype)));
    let labels = match &valid {
        Some(v) => t.zip(v.clone(), |t, v| t.mul(v)), // ignored positions read class 0
        None => t,
    };
    let hot = one_hot(&labels, p.shape(), axis);
    let logp = class_log_probs(p, axis, config.from_logits);
    let mut res = hot.zip(logp, |h, lp| h.mul(lp).neg()).sum_axis(axis);
    if let Some(v) = &valid {
        let invalid = v.padded().clone().equal_elem(0.0);
        res = res.map(|r| r.mask_fill(invalid, 0.0));
    }
    Ok(LossValues { values: res, mask: valid })
}

impl LossFn for SparseCategoricalCrossentropyConfig {
    const CLASS_NAME: &'static str = "SparseCategoricalCrossentropy";
    const DEFAULT_NAME: &'static str = "sparse_categorical_crossentropy";
    const FORMULA: &'static str = "−log p[y_true]  (class axis removed; ignore_class masked)";
    fn per_sample(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<LossValues> {
        sparse_categorical_crossentropy(y_true, y_pred, self)
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_config(self)
    }
    fn from_config(config: serde_json::Map<String, serde_json::Value>) -> Result<Self> {
        serde_from_config(Self::CLASS_NAME, config)
    }
    fn fused(&self) -> Option<crate::fused::FusedKernel> {
        self.from_logits.then_some(crate::fused::FusedKernel::new(
            crate::fused::FusedKind::SparseSoftmax { ignore_class: self.ignore_class },
            self.axis,
        ))
    }
}

/// `keras.losses.SparseCategoricalCrossentropy`: [`sparse_categorical_crossentropy`] plus a
/// [`crate::Reduction`].
pub type SparseCategoricalCrossentropy = LossFunctionWrapper<SparseCategoricalCrossentropyConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use burn::tensor::Tensor;

    #[test]
    fn out_of_range_label_names_value_and_position() {
        let d = crate::backend::test_device();
        let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [2., 5.]], &d).into();
        let p: DynTensor = Tensor::<3>::ones([2, 2, 3], &d).into();
        let err = sparse_categorical_crossentropy(&t, &p, &Default::default()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidLabel { value, position, classes: 3, .. }
            if *value == 5.0 && position == &vec![1, 1]),
            "{err}"
        );
    }
}
