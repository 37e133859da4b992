//! Dice loss.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::EPSILON;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, keras_loss_fn};
use crate::tensor::shape::{Axes, align_targets, sum_over};

/// Arguments of [`dice`]: Keras's `axis` (default `None`, every axis).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiceConfig {
    /// The axes summed over: `None` (every axis including the batch: one number per batch, the
    /// Keras default), or e.g. `[1, 2, 3]` for one Dice loss per image.
    pub axis: Axes,
}

/// Dice loss, unreduced: one minus the Dice coefficient (F1 overlap) of `y_true` and `y_pred`.
///
/// ```text
/// I    = Σ_axis y_true · y_pred
/// loss = 1 − 2·I / (Σ_axis y_true + Σ_axis y_pred + ε),   ε = 1e-7
/// ```
/// # Shapes
/// `[batch, d0, …]` → the shape without `axis`; a scalar for `axis = None`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// use objectives::shape::Axes;
/// let d = Device::flex();
/// let t = Tensor::<4>::ones([2, 1, 4, 4], &d);
/// let p = Tensor::<4>::ones([2, 1, 4, 4], &d);
/// let per_image = dice(&t, &p, &DiceConfig { axis: Axes::of(&[1, 2, 3]) })?;
/// assert_eq!(per_image.shape(), &[2]);
/// assert!(per_image.to_vec_f32()?.iter().all(|v| v.abs() < 1e-6));
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.dice` (3.x).
pub fn dice(y_true: impl Into<DynTensor>, y_pred: impl Into<DynTensor>, config: &DiceConfig) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p) = align_targets("dice", y_true, y_pred)?;
    let axes = config.axis.resolve("dice", &p)?;
    let inter = sum_over(t.clone().zip(p.clone(), |t, p| t.mul(p)), &axes);
    let denom = sum_over(t, &axes).zip(sum_over(p, &axes), |a, b| a.add(b).add_scalar(EPSILON));
    Ok(inter.zip(denom, |i, d| i.mul_scalar(2.0).div(d).neg().add_scalar(1.0)))
}

keras_loss_fn!(
    DiceConfig,
    "Dice",
    "dice",
    dice,
    formula = "1 − 2·Σ_axis y_true·y_pred / (Σ_axis y_true + Σ_axis y_pred + ε)"
);

/// `keras.losses.Dice`: [`dice`] plus a [`crate::Reduction`].
pub type Dice = LossFunctionWrapper<DiceConfig>;
