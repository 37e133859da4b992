//! Categorical focal cross-entropy.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::Result;
use crate::keras::args::{check_gamma, check_smoothing};
use crate::losses::wrapper::{LossFunctionWrapper, keras_loss_fn, last_axis};
use crate::tensor::labels::smooth_one_hot;
use crate::tensor::math::{clip_probabilities, log_softmax};
use crate::tensor::shape::align_with_axis;

/// Arguments of [`categorical_focal_crossentropy`] (Keras's, with Keras's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategoricalFocalCrossentropyConfig {
    /// The weight α applied to every class (default 0.25).
    pub alpha: f64,
    /// The focusing exponent γ ≥ 0 (default 2.0).
    pub gamma: f64,
    /// `y_pred` holds logits (`true`) or probabilities (`false`, default).
    pub from_logits: bool,
    /// In `[0, 1]`: one-hot labels become `y·(1 − s) + s/K`.
    pub label_smoothing: f64,
    /// The class axis (default -1).
    pub axis: i64,
}

impl Default for CategoricalFocalCrossentropyConfig {
    fn default() -> Self {
        Self { alpha: 0.25, gamma: 2.0, from_logits: false, label_smoothing: 0.0, axis: last_axis() }
    }
}

/// Categorical focal cross-entropy, unreduced.
///
/// With `K = y_pred.shape[axis]`, smoothed labels `y` and `p` the class probabilities:
/// ```text
/// probabilities:  p = clip(y_pred / Σ_axis y_pred, ε, 1 − ε),  log p = log(p)
/// logits x:       log p = log_softmax(x, axis),  p = exp(log p)
/// loss = Σ_axis α·(1 − p)^γ · (−y·log p)
/// ```
/// **From logits** objectives works with `log_softmax` instead of Keras's softmax followed by the
/// probability clip: identical values wherever the clip is inactive, exact (and with non-zero
/// gradients) for extreme logits where Keras saturates. K follows Keras main (#23437).
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`], [`crate::Error::InvalidConfig`]
/// for `gamma < 0` or a `label_smoothing` outside `[0, 1]`.
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t = Tensor::<2>::from_floats([[0., 1., 0.], [0., 0., 1.]], &d);
/// let p = Tensor::<2>::from_floats([[0.05, 0.95, 0.], [0.1, 0.8, 0.1]], &d);
/// let l = CategoricalFocalCrossentropy::default().call(&t, &p, None)?;
/// assert!((l.into_scalar::<f32>()? - 0.23315276).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.categorical_focal_crossentropy` (Keras main).
pub fn categorical_focal_crossentropy(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &CategoricalFocalCrossentropyConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    check_smoothing("CategoricalFocalCrossentropy", config.label_smoothing)?;
    check_gamma("CategoricalFocalCrossentropy", config.gamma)?;
    let (t, p, axis) = align_with_axis("categorical_focal_crossentropy", y_true, y_pred, config.axis)?;
    let k = p.shape()[axis];
    let t = smooth_one_hot(t, config.label_smoothing, k);
    let d = p.padded_axis(axis);
    let (alpha, gamma, from_logits) = (config.alpha, config.gamma, config.from_logits);
    let l = t.zip(p, |y, x| {
        let (p, logp) = if from_logits {
            let logp = log_softmax(x, d);
            (logp.clone().exp(), logp)
        } else {
            let sum = x.clone().sum_dim(d);
            let p = clip_probabilities(x.div(sum));
            (p.clone(), p.log())
        };
        let cce = y.mul(logp).neg();
        p.neg().add_scalar(1.0).powf_scalar(gamma).mul_scalar(alpha).mul(cce)
    });
    Ok(l.sum_axis(axis))
}

keras_loss_fn!(
    CategoricalFocalCrossentropyConfig,
    "CategoricalFocalCrossentropy",
    "categorical_focal_crossentropy",
    categorical_focal_crossentropy,
    formula = "Σ_axis α·(1 − p)^γ·(−y·log p)"
);

/// `keras.losses.CategoricalFocalCrossentropy`: [`categorical_focal_crossentropy`] plus a
/// [`crate::Reduction`].
pub type CategoricalFocalCrossentropy = LossFunctionWrapper<CategoricalFocalCrossentropyConfig>;
