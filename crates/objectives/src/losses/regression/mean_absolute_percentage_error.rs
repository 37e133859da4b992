//! Mean absolute percentage error.

use crate::DynTensor;
use crate::EPSILON;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`mean_absolute_percentage_error`] (`axis` is objectives' extension).
    MeanAbsolutePercentageErrorConfig
);

/// Mean absolute percentage error, unreduced.
///
/// ```text
/// loss = 100 · mean(|(y_true − y_pred) / max(|y_true|, ε)|, axis),  ε = 1e-7
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[2., 4.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[1., 5.]], &d).into();
/// let l = mean_absolute_percentage_error(&t, &p, &Default::default())?;
/// assert!((l.to_vec_f32()?[0] - 37.5).abs() < 1e-5);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.mean_absolute_percentage_error` (3.x).
pub fn mean_absolute_percentage_error(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &MeanAbsolutePercentageErrorConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("mean_absolute_percentage_error", y_true, y_pred, config.axis)?;
    let diff = t.zip(p, |t, p| {
        let denom = t.clone().abs().clamp_min(EPSILON);
        t.sub(p).div(denom).abs()
    });
    Ok(diff.mean_axis(axis).map(|x| x.mul_scalar(100.0)))
}

keras_loss_fn!(
    MeanAbsolutePercentageErrorConfig,
    "MeanAbsolutePercentageError",
    "mean_absolute_percentage_error",
    mean_absolute_percentage_error,
    formula = "100 · mean(|(y_true − y_pred) / max(|y_true|, ε)|, axis)",
    fused = |c| Some((crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::Mape), c.axis))
);

/// `keras.losses.MeanAbsolutePercentageError`: [`mean_absolute_percentage_error`] plus a
/// [`crate::Reduction`].
pub type MeanAbsolutePercentageError = LossFunctionWrapper<MeanAbsolutePercentageErrorConfig>;
