//! Categorical hinge loss.

use crate::DynTensor;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`categorical_hinge`] (`axis` is objectives' extension).
    CategoricalHingeConfig
);

/// Categorical hinge loss, unreduced: the margin between the true class's score and the best
/// other score. `y_true` is one-hot; no label conversion.
///
/// ```text
/// pos  = Σ_axis y_true · y_pred
/// neg  = max_axis (1 − y_true) · y_pred
/// loss = max(neg − pos + 1, 0)
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.3, 0.5, 0.2]], &d).into();
/// let l = categorical_hinge(&t, &p, &Default::default())?;
/// assert!((l.to_vec_f32()?[0] - 0.8).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.categorical_hinge` (3.x).
pub fn categorical_hinge(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &CategoricalHingeConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("categorical_hinge", y_true, y_pred, config.axis)?;
    let pos = t.clone().zip(p.clone(), |t, p| t.mul(p)).sum_axis(axis);
    let neg = t.zip(p, |t, p| t.neg().add_scalar(1.0).mul(p)).max_axis(axis);
    Ok(neg.zip(pos, |n, p| n.sub(p).add_scalar(1.0).clamp_min(0.0)))
}

keras_loss_fn!(
    CategoricalHingeConfig,
    "CategoricalHinge",
    "categorical_hinge",
    categorical_hinge,
    formula = "max(max_axis((1 − y_true)·y_pred) − Σ_axis y_true·y_pred + 1, 0)"
);

/// `keras.losses.CategoricalHinge`: [`categorical_hinge`] plus a [`crate::Reduction`].
pub type CategoricalHinge = LossFunctionWrapper<CategoricalHingeConfig>;
