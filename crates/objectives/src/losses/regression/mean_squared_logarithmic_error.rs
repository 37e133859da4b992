//! Mean squared logarithmic error.

use crate::DynTensor;
use crate::EPSILON;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`mean_squared_logarithmic_error`] (`axis` is objectives' extension).
    MeanSquaredLogarithmicErrorConfig
);

/// Mean squared logarithmic error, unreduced.
///
/// ```text
/// loss = mean((log(max(y_pred, ε) + 1) − log(max(y_true, ε) + 1))², axis),  ε = 1e-7
/// ```
/// Negative values are clamped to ε (as Keras does), so they contribute `log(1 + ε)`.
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0., 0.]], &d).into();
/// let l = mean_squared_logarithmic_error(&t, &p, &Default::default())?;
/// assert_eq!(l.to_vec_f32()?, vec![0.0]);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.mean_squared_logarithmic_error` (3.x).
pub fn mean_squared_logarithmic_error(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &MeanSquaredLogarithmicErrorConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("mean_squared_logarithmic_error", y_true, y_pred, config.axis)?;
    let sq = t.zip(p, |t, p| {
        let first = p.clamp_min(EPSILON).add_scalar(1.0).log();
        let second = t.clamp_min(EPSILON).add_scalar(1.0).log();
        first.sub(second).square()
    });
    Ok(sq.mean_axis(axis))
}

keras_loss_fn!(
    MeanSquaredLogarithmicErrorConfig,
    "MeanSquaredLogarithmicError",
    "mean_squared_logarithmic_error",
    mean_squared_logarithmic_error,
    formula = "mean((log(max(y_pred, ε) + 1) − log(max(y_true, ε) + 1))², axis)",
    fused = |c| Some((crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::Msle), c.axis))
);

/// `keras.losses.MeanSquaredLogarithmicError`: [`mean_squared_logarithmic_error`] plus a
/// [`crate::Reduction`].
pub type MeanSquaredLogarithmicError = LossFunctionWrapper<MeanSquaredLogarithmicErrorConfig>;
