//! Huber loss.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::{Error, Result};
use crate::losses::wrapper::{LossFunctionWrapper, is_last_axis, keras_loss_fn, last_axis};
use crate::tensor::shape::align_with_axis;

/// Arguments of [`huber`]: Keras's `delta`, plus objectives' `axis`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HuberConfig {
    /// The threshold δ between the quadratic and the linear part (default 1.0).
    pub delta: f64,
    /// The axis averaged over (default -1).
    #[serde(skip_serializing_if = "is_last_axis")]
    pub axis: i64,
}

impl Default for HuberConfig {
    fn default() -> Self {
        Self { delta: 1.0, axis: last_axis() }
    }
}

/// Huber loss, unreduced: quadratic near zero, linear for large errors.
///
/// With `e = y_pred − y_true` and threshold `δ` (`delta`):
/// ```text
/// ℓ(e) = ½·e²          if |e| ≤ δ
/// ℓ(e) = δ·|e| − ½·δ²  otherwise
/// loss = mean(ℓ(e), axis)
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::AxisOutOfRange`], and
/// [`Error::InvalidConfig`] if `delta` is not a finite number.
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d);
/// let p = Tensor::<2>::from_floats([[0.6, 0.4], [0.4, 0.6]], &d);
/// let l = Huber::default().call(&t, &p, None)?;
/// assert!((l.into_scalar::<f32>()? - 0.155).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// See also [`crate::log_cosh`]. Matches `keras.losses.huber` (3.x).
pub fn huber(y_true: impl Into<DynTensor>, y_pred: impl Into<DynTensor>, config: &HuberConfig) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let delta = config.delta;
    if !delta.is_finite() {
        return Err(Error::InvalidConfig {
            name: "Huber".into(),
            message: format!("delta must be a finite number, got {delta}"),
        });
    }
    let (t, p, axis) = align_with_axis("huber_loss", y_true, y_pred, config.axis)?;
    let l = t.zip(p, |t, p| {
        let error = p.sub(t);
        let abs_error = error.clone().abs();
        let quadratic = error.square().mul_scalar(0.5);
        let linear = abs_error.clone().mul_scalar(delta).sub_scalar(0.5 * delta * delta);
        linear.mask_where(abs_error.lower_equal_elem(delta), quadratic)
    });
    Ok(l.mean_axis(axis))
}

keras_loss_fn!(
    HuberConfig,
    "Huber",
    "huber_loss",
    huber,
    formula = "mean(½e² if |e| ≤ δ else δ|e| − ½δ², axis),  e = y_pred − y_true",
    fused = |c| c.delta.is_finite().then_some((
        crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::Huber { delta: c.delta as f32 }),
        c.axis
    ))
);

/// `keras.losses.Huber`: [`huber`] plus a [`crate::Reduction`].
pub type Huber = LossFunctionWrapper<HuberConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{d2, vals};

    #[test]
    fn both_branches() -> Result<()> {
        // e = 0.5 → 0.125 (quadratic); e = 3 → 3 − 0.5 = 2.5 (linear)
        let l = huber(d2(&[[0., 0.]]), d2(&[[0.5, 3.]]), &Default::default())?;
        assert_eq!(vals(&l), vec![(0.125 + 2.5) / 2.0]);
        Ok(())
    }

    #[test]
    fn non_finite_delta_is_refused() {
        let c = HuberConfig { delta: f64::NAN, ..Default::default() };
        assert!(huber(d2(&[[0.]]), d2(&[[1.]]), &c).is_err());
    }
}
