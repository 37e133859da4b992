//! Squared hinge loss.

use crate::DynTensor;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::labels::convert_binary_labels_to_hinge;
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`squared_hinge`] (`axis` is objectives' extension).
    SquaredHingeConfig
);

/// Squared hinge loss, unreduced. 0/1 labels are converted to −1/1 when *all* labels are 0 or 1
/// (as in [`crate::hinge()`]).
///
/// ```text
/// loss = mean(max(1 − y_true · y_pred, 0)², axis)
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[-1., 1.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.5, 2.]], &d).into();
/// let l = squared_hinge(&t, &p, &Default::default())?;
/// assert_eq!(l.to_vec_f32()?, vec![1.125]);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.squared_hinge` (3.x).
pub fn squared_hinge(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &SquaredHingeConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("squared_hinge", y_true, y_pred, config.axis)?;
    let t = convert_binary_labels_to_hinge(t);
    let l = t.zip(p, |t, p| t.mul(p).neg().add_scalar(1.0).clamp_min(0.0).square());
    Ok(l.mean_axis(axis))
}

keras_loss_fn!(
    SquaredHingeConfig,
    "SquaredHinge",
    "squared_hinge",
    squared_hinge,
    formula = "mean(max(1 − y_true·y_pred, 0)², axis)",
    fused = |c| Some((crate::fused::FusedKind::Hinge { squared: true }, c.axis))
);

/// `keras.losses.SquaredHinge`: [`squared_hinge`] plus a [`crate::Reduction`].
pub type SquaredHinge = LossFunctionWrapper<SquaredHingeConfig>;
