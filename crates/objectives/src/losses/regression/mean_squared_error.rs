//! Mean squared error.

use crate::DynTensor;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`mean_squared_error`] (none in Keras; `axis` is objectives' extension).
    MeanSquaredErrorConfig
);

/// Mean squared error, unreduced.
///
/// ```text
/// loss = mean((y_true − y_pred)², axis)
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// // A channels-first output: 7 features per position, averaged over axis 1.
/// let y_true: DynTensor = Tensor::<4>::zeros([2, 7, 4, 4], &d).into();
/// let y_pred: DynTensor = Tensor::<4>::ones([2, 7, 4, 4], &d).into();
/// let per_position = mean_squared_error(&y_true, &y_pred, &MeanSquaredErrorConfig { axis: 1 })?;
/// assert_eq!(per_position.shape(), &[2, 4, 4]);
/// # Ok::<(), objectives::Error>(())
/// ```
/// See also [`crate::mean_absolute_error`]. Matches `keras.losses.mean_squared_error` (3.x).
pub fn mean_squared_error(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &MeanSquaredErrorConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("mean_squared_error", y_true, y_pred, config.axis)?;
    Ok(t.zip(p, |t, p| t.sub(p).square()).mean_axis(axis))
}

keras_loss_fn!(
    MeanSquaredErrorConfig,
    "MeanSquaredError",
    "mean_squared_error",
    mean_squared_error,
    formula = "mean((y_true − y_pred)², axis)",
    fused = |c| Some((crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::Mse), c.axis))
);

/// `keras.losses.MeanSquaredError`: [`mean_squared_error`] plus a [`crate::Reduction`].
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let y_true = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d);
/// let y_pred = Tensor::<2>::from_floats([[1., 1.], [1., 0.]], &d);
/// let loss = MeanSquaredError::default().call(&y_true, &y_pred, None)?;
/// assert_eq!(loss.into_scalar::<f32>()?, 0.5);
/// # Ok::<(), objectives::Error>(())
/// ```
pub type MeanSquaredError = LossFunctionWrapper<MeanSquaredErrorConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{d2, vals};

    #[test]
    fn unweighted() -> Result<()> {
        let l = mean_squared_error(d2(&[[1., 9.], [2., 5.]]), d2(&[[4., 8.], [12., 3.]]), &Default::default())?;
        assert_eq!(vals(&l), vec![5.0, 52.0]);
        Ok(())
    }

    #[test]
    fn axis_zero_averages_columns() -> Result<()> {
        let l = mean_squared_error(
            d2(&[[1., 9.], [2., 5.]]),
            d2(&[[4., 8.], [12., 3.]]),
            &MeanSquaredErrorConfig { axis: 0 },
        )?;
        assert_eq!(vals(&l), vec![54.5, 2.5]);
        Ok(())
    }
}
