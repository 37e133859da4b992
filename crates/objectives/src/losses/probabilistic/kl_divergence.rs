//! Kullback–Leibler divergence.

use crate::DynTensor;
use crate::EPSILON;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, axis_only_config, keras_loss_fn};
use crate::tensor::shape::align_with_axis;

axis_only_config!(
    /// Arguments of [`kl_divergence`] (`axis` is objectives' extension).
    KlDivergenceConfig
);

/// KL divergence `KL(y_true ‖ y_pred)`, unreduced.
///
/// ```text
/// t = clip(y_true, ε, 1),  p = clip(y_pred, ε, 1),  ε = 1e-7
/// loss = Σ_axis t · log(t / p)
/// ```
/// Because of the clip, a zero label contributes `ε·log(ε/p)`, not 0 (as in Keras).
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[0.5, 0.5]], &d).into();
/// let l = kl_divergence(&t, &t, &Default::default())?;
/// assert!(l.to_vec_f32()?[0].abs() < 1e-7);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.kl_divergence` (3.x).
pub fn kl_divergence(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &KlDivergenceConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("kl_divergence", y_true, y_pred, config.axis)?;
    let l = t.zip(p, |t, p| {
        let t = t.clamp(EPSILON, 1.0);
        let p = p.clamp(EPSILON, 1.0);
        t.clone().mul(t.div(p).log())
    });
    Ok(l.sum_axis(axis))
}

keras_loss_fn!(
    KlDivergenceConfig,
    "KLDivergence",
    "kl_divergence",
    kl_divergence,
    formula = "Σ_axis t·log(t / p),  t, p = clip(y_true, y_pred, ε, 1)"
);

/// `keras.losses.KLDivergence`: [`kl_divergence`] plus a [`crate::Reduction`].
pub type KlDivergence = LossFunctionWrapper<KlDivergenceConfig>;
