//! Categorical cross-entropy.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::Result;
use crate::keras::args::check_smoothing;
use crate::losses::wrapper::{LossFunctionWrapper, keras_loss_fn, last_axis};
use crate::tensor::labels::smooth_one_hot;
use crate::tensor::math::class_log_probs;
use crate::tensor::shape::align_with_axis;

/// Arguments of [`categorical_crossentropy`] (Keras's, with Keras's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategoricalCrossentropyConfig {
    /// `y_pred` holds logits (`true`) or probabilities (`false`, default).
    pub from_logits: bool,
    /// In `[0, 1]`: one-hot labels become `y·(1 − s) + s/K`, K the number of classes.
    pub label_smoothing: f64,
    /// The class axis (default -1; 1 for channels-first outputs).
    pub axis: i64,
}

impl Default for CategoricalCrossentropyConfig {
    fn default() -> Self {
        Self { from_logits: false, label_smoothing: 0.0, axis: last_axis() }
    }
}

/// Categorical cross-entropy, unreduced, between one-hot (or soft) labels and a distribution.
///
/// With `K = y_pred.shape[axis]` and smoothed labels `y = y_true·(1 − s) + s/K`:
/// ```text
/// probabilities:  p = clip(y_pred / Σ_axis y_pred, ε, 1 − ε);  loss = −Σ_axis y·log p
/// logits x:       loss = −Σ_axis y·log_softmax(x, axis)           (finite for any finite x)
/// ```
/// K follows Keras main (#23437), the size of y_pred's class axis; Keras ≤ 3.15.1 used the last
/// axis of y_true, which is wrong when `axis` is not -1.
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`],
/// [`crate::Error::InvalidConfig`] for a `label_smoothing` outside `[0, 1]`.
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// // Channels-first segmentation logits: (batch, classes, H, W), class axis 1.
/// let t = Tensor::<4>::zeros([2, 3, 4, 4], &d).slice_fill([0..2, 0..1], 1.0);
/// let x = Tensor::<4>::zeros([2, 3, 4, 4], &d);
/// let cce = CategoricalCrossentropy::new(CategoricalCrossentropyConfig { from_logits: true, axis: 1, ..Default::default() });
/// let l = cce.call(&t, &x, None)?;
/// assert!((l.into_scalar::<f32>()? - 3f32.ln()).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.categorical_crossentropy` (Keras main).
pub fn categorical_crossentropy(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &CategoricalCrossentropyConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    check_smoothing("CategoricalCrossentropy", config.label_smoothing)?;
    let (t, p, axis) = align_with_axis("categorical_crossentropy", y_true, y_pred, config.axis)?;
    let k = p.shape()[axis];
    let t = smooth_one_hot(t, config.label_smoothing, k);
    let logp = class_log_probs(p, axis, config.from_logits);
    Ok(t.zip(logp, |y, lp| y.mul(lp).neg()).sum_axis(axis))
}

keras_loss_fn!(
    CategoricalCrossentropyConfig,
    "CategoricalCrossentropy",
    "categorical_crossentropy",
    categorical_crossentropy,
    formula = "−Σ_axis y·log p",
    fused = |c| (c.from_logits && (0.0..=1.0).contains(&c.label_smoothing))
        .then_some((crate::fused::FusedKind::Softmax { label_smoothing: c.label_smoothing as f32 }, c.axis))
);

/// `keras.losses.CategoricalCrossentropy`: [`categorical_crossentropy`] plus a
/// [`crate::Reduction`].
pub type CategoricalCrossentropy = LossFunctionWrapper<CategoricalCrossentropyConfig>;
