//! Logarithm of the hyperbolic cosine of the error.

use crate::DynTensor;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::math::softplus;
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`log_cosh`] (`axis` is objectives' extension).
    LogCoshConfig
);

/// Log-cosh loss, unreduced: about `x²/2` for small errors and `|x| − log 2` for large ones.
///
/// With `x = y_pred − y_true`, in the overflow-free form Keras uses:
/// ```text
/// loss = mean(x + softplus(−2x) − log 2, axis)
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[1., -1.]], &d).into();
/// let l = log_cosh(&t, &p, &Default::default())?;
/// assert!((l.to_vec_f32()?[0] - 1f32.cosh().ln()).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.log_cosh` (3.x).
pub fn log_cosh(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &LogCoshConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("log_cosh", y_true, y_pred, config.axis)?;
    let l = t.zip(p, |t, p| {
        let x = p.sub(t);
        let sp = softplus(x.clone().mul_scalar(-2.0));
        x.add(sp).sub_scalar(std::f64::consts::LN_2)
    });
    Ok(l.mean_axis(axis))
}

keras_loss_fn!(
    LogCoshConfig,
    "LogCosh",
    "log_cosh",
    log_cosh,
    formula = "mean(x + softplus(−2x) − log 2, axis),  x = y_pred − y_true",
    fused = |c| Some((crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::LogCosh), c.axis))
);

/// `keras.losses.LogCosh`: [`log_cosh`] plus a [`crate::Reduction`].
pub type LogCosh = LossFunctionWrapper<LogCoshConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{d2, vals};

    #[test]
    fn large_errors_stay_finite() -> Result<()> {
        let l = log_cosh(d2(&[[0.]]), d2(&[[1e4]]), &Default::default())?;
        let v = vals(&l)[0];
        assert!((v - (1e4 - std::f32::consts::LN_2)).abs() < 1e-2, "{v}");
        Ok(())
    }
}
