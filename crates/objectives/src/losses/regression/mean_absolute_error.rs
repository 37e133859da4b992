//! Mean absolute error.

use crate::DynTensor;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`mean_absolute_error`] (`axis` is objectives' extension).
    MeanAbsoluteErrorConfig
);

/// Mean absolute error, unreduced.
///
/// ```text
/// loss = mean(|y_true − y_pred|, axis)
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[1., 1.], [1., 0.]], &d).into();
/// let l = mean_absolute_error(&t, &p, &Default::default())?;
/// assert_eq!(l.to_vec_f32()?, vec![0.5, 0.5]);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.mean_absolute_error` (3.x).
pub fn mean_absolute_error(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &MeanAbsoluteErrorConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("mean_absolute_error", y_true, y_pred, config.axis)?;
    Ok(t.zip(p, |t, p| t.sub(p).abs()).mean_axis(axis))
}

keras_loss_fn!(
    MeanAbsoluteErrorConfig,
    "MeanAbsoluteError",
    "mean_absolute_error",
    mean_absolute_error,
    formula = "mean(|y_true − y_pred|, axis)",
    fused = |c| Some((crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::Mae), c.axis))
);

/// `keras.losses.MeanAbsoluteError`: [`mean_absolute_error`] plus a [`crate::Reduction`].
pub type MeanAbsoluteError = LossFunctionWrapper<MeanAbsoluteErrorConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{d2, vals};

    #[test]
    fn unweighted() -> Result<()> {
        let l = mean_absolute_error(d2(&[[1., 9.], [2., 5.]]), d2(&[[4., 8.], [12., 3.]]), &Default::default())?;
        assert_eq!(vals(&l), vec![2.0, 6.0]);
        Ok(())
    }
}
