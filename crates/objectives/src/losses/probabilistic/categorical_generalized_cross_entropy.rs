//! Generalized cross-entropy (Zhang & Sabuncu, 2018), robust to noisy labels.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::{Error, Result};
use crate::losses::wrapper::{LossFunctionWrapper, is_last_axis, keras_loss_fn, last_axis};
use crate::tensor::labels::{align_sparse, check_labels, one_hot};

/// Arguments of [`categorical_generalized_cross_entropy`]: Keras's `q`, plus objectives' `axis`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategoricalGeneralizedCrossEntropyConfig {
    /// In `(0, 1)`: towards 0 the loss approaches cross-entropy, at 1 it is MAE (default 0.5).
    pub q: f64,
    /// The class axis of `y_pred` (default -1).
    #[serde(skip_serializing_if = "is_last_axis")]
    pub axis: i64,
}

impl Default for CategoricalGeneralizedCrossEntropyConfig {
    fn default() -> Self {
        Self { q: 0.5, axis: last_axis() }
    }
}

/// Generalized cross-entropy, unreduced: `y_true` holds class indices, `y_pred` probabilities.
///
/// ```text
/// p    = y_pred[y_true]            (no clipping, no renormalisation, as Keras)
/// loss = (1 − p^q) / q
/// ```
/// # Shapes
/// As [`crate::sparse_categorical_crossentropy()`]: labels are `y_pred`'s shape without `axis`.
/// # Errors
/// [`Error::InvalidConfig`] unless `0 < q < 1` (as Keras); [`Error::InvalidLabel`];
/// [`Error::SparseShapeMismatch`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t = Tensor::<1>::from_floats([0., 1.], &d);
/// let p = Tensor::<2>::from_floats([[0.64, 0.36], [0.36, 0.64]], &d);
/// let l = CategoricalGeneralizedCrossEntropy::default().call(&t, &p, None)?;
/// assert!((l.into_scalar::<f32>()? - 0.4).abs() < 1e-6); // (1 − 0.8) / 0.5
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.categorical_generalized_cross_entropy` (3.x).
pub fn categorical_generalized_cross_entropy(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &CategoricalGeneralizedCrossEntropyConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let q = config.q;
    if !(q > 0.0 && q < 1.0) {
        return Err(Error::InvalidConfig {
            name: "CategoricalGeneralizedCrossEntropy".into(),
            message: format!("q must be in the open interval (0, 1), got {q}"),
        });
    }
    let name = "categorical_generalized_cross_entropy";
    let (t, p, axis) = align_sparse(name, y_true, y_pred, config.axis)?;
    check_labels(name, &t, p.shape()[axis], None)?;
    let hot = one_hot(&t, p.shape(), axis);
    let picked = hot.zip(p, |h, p| h.mul(p)).sum_axis(axis);
    Ok(picked.map(|p| p.powf_scalar(q).neg().add_scalar(1.0).div_scalar(q)))
}

keras_loss_fn!(
    CategoricalGeneralizedCrossEntropyConfig,
    "CategoricalGeneralizedCrossEntropy",
    "categorical_generalized_cross_entropy",
    categorical_generalized_cross_entropy,
    formula = "(1 − p[y_true]^q) / q  (class axis removed)"
);

/// `keras.losses.CategoricalGeneralizedCrossEntropy`:
/// [`categorical_generalized_cross_entropy`] plus a [`crate::Reduction`].
pub type CategoricalGeneralizedCrossEntropy = LossFunctionWrapper<CategoricalGeneralizedCrossEntropyConfig>;
