//! Poisson loss.

use crate::DynTensor;
use crate::EPSILON;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`poisson`] (`axis` is objectives' extension).
    PoissonConfig
);

/// Poisson negative log-likelihood (without the `log(y_true!)` constant), unreduced.
///
/// ```text
/// loss = mean(y_pred − y_true · log(y_pred + ε), axis),  ε = 1e-7
/// ```
/// `y_pred` is a rate and must be ≥ 0; as in Keras there is no clipping, so a negative rate
/// gives NaN.
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[1., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[1., 1.]], &d).into();
/// let l = poisson(&t, &p, &Default::default())?;
/// assert!((l.to_vec_f32()?[0] - 1.0).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.poisson` (3.x).
pub fn poisson(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &PoissonConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("poisson", y_true, y_pred, config.axis)?;
    let l = t.zip(p, |t, p| p.clone().sub(t.mul(p.add_scalar(EPSILON).log())));
    Ok(l.mean_axis(axis))
}

keras_loss_fn!(
    PoissonConfig,
    "Poisson",
    "poisson",
    poisson,
    formula = "mean(y_pred − y_true·log(y_pred + ε), axis)",
    fused = |c| Some((crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::Poisson), c.axis))
);

/// `keras.losses.Poisson`: [`poisson`] plus a [`crate::Reduction`].
pub type Poisson = LossFunctionWrapper<PoissonConfig>;
