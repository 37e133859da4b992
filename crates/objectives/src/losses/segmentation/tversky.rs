//! Tversky loss.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::EPSILON;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, keras_loss_fn};
use crate::tensor::shape::{Axes, align_targets, sum_over};

/// Arguments of [`tversky`] (Keras's, with Keras's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TverskyConfig {
    /// Weight of false positives (default 0.5).
    pub alpha: f64,
    /// Weight of false negatives (default 0.5).
    pub beta: f64,
    /// The axes summed over (default `None`: every axis, one number per batch).
    pub axis: Axes,
}

impl Default for TverskyConfig {
    fn default() -> Self {
        Self { alpha: 0.5, beta: 0.5, axis: Axes::all() }
    }
}

/// Tversky loss, unreduced: a Dice loss with separate weights for false positives and false
/// negatives (α = β = 0.5 is Dice).
///
/// ```text
/// TP = Σ_axis y_pred·y_true,  FP = Σ_axis (1 − y_true)·y_pred,  FN = Σ_axis y_true·(1 − y_pred)
/// loss = 1 − TP / (TP + α·FP + β·FN + ε),   ε = 1e-7
/// ```
/// α weighs **false positives** and β **false negatives**, as documented and as fixed on Keras
/// main (#23333); Keras ≤ 3.15.1 applied them the other way round (same values when α = β).
/// # Shapes
/// `[batch, d0, …]` → the shape without `axis`; a scalar for `axis = None`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t = Tensor::<2>::from_floats([[1., 0.]], &d);
/// let p = Tensor::<2>::from_floats([[1., 1.]], &d); // TP = 1, FP = 1, FN = 0
/// let l = tversky(&t, &p, &TverskyConfig { alpha: 0.2, beta: 0.8, ..Default::default() })?;
/// assert!((l.into_scalar::<f32>()? - (1.0 - 1.0 / 1.2)).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.tversky` (Keras main).
pub fn tversky(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &TverskyConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p) = align_targets("tversky", y_true, y_pred)?;
    let axes = config.axis.resolve("tversky", &p)?;
    let tp = sum_over(t.clone().zip(p.clone(), |t, p| t.mul(p)), &axes);
    let fp = sum_over(t.clone().zip(p.clone(), |t, p| t.neg().add_scalar(1.0).mul(p)), &axes);
    let fn_ = sum_over(t.zip(p, |t, p| t.mul(p.neg().add_scalar(1.0))), &axes);
    let (alpha, beta) = (config.alpha, config.beta);
    let denom = tp.clone().zip(fp, |tp, fp| tp.add(fp.mul_scalar(alpha))).zip(fn_, |d, f| d.add(f.mul_scalar(beta)));
    Ok(tp.zip(denom, |tp, d| tp.div(d.add_scalar(EPSILON)).neg().add_scalar(1.0)))
}

keras_loss_fn!(TverskyConfig, "Tversky", "tversky", tversky, formula = "1 − TP / (TP + α·FP + β·FN + ε)");

/// `keras.losses.Tversky`: [`tversky`] plus a [`crate::Reduction`].
pub type Tversky = LossFunctionWrapper<TverskyConfig>;
