//! Hinge loss.

use crate::DynTensor;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::labels::convert_binary_labels_to_hinge;
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`hinge`] (`axis` is objectives' extension).
    HingeConfig
);

/// Hinge loss, unreduced. Labels are −1/1, or 0/1 (converted to −1/1 as Keras's
/// `convert_binary_labels_to_hinge` does: only when *all* labels are 0 or 1).
///
/// ```text
/// loss = mean(max(1 − y_true · y_pred, 0), axis)
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.]], &d).into(); // → [-1, 1]
/// let p: DynTensor = Tensor::<2>::from_floats([[0.5, 2.]], &d).into();
/// let l = hinge(&t, &p, &Default::default())?;
/// assert_eq!(l.to_vec_f32()?, vec![0.75]);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.hinge` (3.x).
pub fn hinge(y_true: impl Into<DynTensor>, y_pred: impl Into<DynTensor>, config: &HingeConfig) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("hinge", y_true, y_pred, config.axis)?;
    let t = convert_binary_labels_to_hinge(t);
    let l = t.zip(p, |t, p| t.mul(p).neg().add_scalar(1.0).clamp_min(0.0));
    Ok(l.mean_axis(axis))
}

keras_loss_fn!(
    HingeConfig,
    "Hinge",
    "hinge",
    hinge,
    formula = "mean(max(1 − y_true·y_pred, 0), axis)",
    fused = |c| Some((crate::fused::FusedKind::Hinge { squared: false }, c.axis))
);

/// `keras.losses.Hinge`: [`hinge`] plus a [`crate::Reduction`].
pub type Hinge = LossFunctionWrapper<HingeConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{d2, vals};

    #[test]
    fn label_conversion_is_global() -> Result<()> {
        // Not all labels are 0/1 (there is a -1): nothing is converted.
        let l = hinge(d2(&[[0., -1.]]), d2(&[[0.5, 0.5]]), &Default::default())?;
        assert_eq!(vals(&l), vec![(1.0 + 1.5) / 2.0]);
        Ok(())
    }
}
