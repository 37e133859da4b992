//! Binary cross-entropy.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::Result;
use crate::keras::args::check_smoothing;
use crate::losses::wrapper::{LossFunctionWrapper, keras_loss_fn, last_axis};
use crate::tensor::math::{clip_probabilities, log_sigmoid};
use crate::tensor::shape::align_with_axis;

/// Arguments of [`binary_crossentropy`] (Keras's, with Keras's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BinaryCrossentropyConfig {
    /// `y_pred` holds logits (`true`) or probabilities (`false`, default).
    pub from_logits: bool,
    /// In `[0, 1]`: labels are squeezed towards 0.5, `y·(1 − s) + 0.5·s`.
    pub label_smoothing: f64,
    /// The axis averaged over (default -1).
    pub axis: i64,
}

impl Default for BinaryCrossentropyConfig {
    fn default() -> Self {
        Self { from_logits: false, label_smoothing: 0.0, axis: last_axis() }
    }
}

/// Binary cross-entropy, unreduced.
///
/// With smoothed labels `y = y_true·(1 − s) + 0.5·s`:
/// ```text
/// probabilities:  p = clip(y_pred, ε, 1 − ε);  ℓ = −(y·log p + (1 − y)·log(1 − p))
/// logits x:       ℓ = −(y·log σ(x) + (1 − y)·log σ(−x))        (finite for any finite x)
/// loss = mean(ℓ, axis)
/// ```
/// The clip bounds are rounded to the compute dtype, so in f32 a probability clipped from above
/// costs `−log(1.1920929e-7) = 15.942385` and one clipped from below `−log(1e-7) = 16.118096`,
/// exactly as in Keras.
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`],
/// [`crate::Error::InvalidConfig`] for a `label_smoothing` outside `[0, 1]`.
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d);
/// let p = Tensor::<2>::from_floats([[0.6, 0.4], [0.4, 0.6]], &d);
/// let l = BinaryCrossentropy::default().call(&t, &p, None)?;
/// assert!((l.into_scalar::<f32>()? - 0.81492424).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.binary_crossentropy` (3.x).
pub fn binary_crossentropy(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &BinaryCrossentropyConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    check_smoothing("BinaryCrossentropy", config.label_smoothing)?;
    let (t, p, axis) = align_with_axis("binary_crossentropy", y_true, y_pred, config.axis)?;
    let s = config.label_smoothing;
    let t = if s != 0.0 { t.map(|t| t.mul_scalar(1.0 - s).add_scalar(0.5 * s)) } else { t };
    let from_logits = config.from_logits;
    let l = t.zip(p, |y, x| binary_crossentropy_elementwise(y, x, from_logits));
    Ok(l.mean_axis(axis))
}

/// The element-wise binary cross-entropy of Keras's backend primitive.
pub(crate) fn binary_crossentropy_elementwise(
    y: burn::tensor::Tensor<{ crate::MAX_RANK }>,
    x: burn::tensor::Tensor<{ crate::MAX_RANK }>,
    from_logits: bool,
) -> burn::tensor::Tensor<{ crate::MAX_RANK }> {
    if from_logits {
        let pos = y.clone().mul(log_sigmoid(x.clone()));
        let neg = y.neg().add_scalar(1.0).mul(log_sigmoid(x.neg()));
        pos.add(neg).neg()
    } else {
        let p = clip_probabilities(x);
        let pos = y.clone().mul(p.clone().log());
        let neg = y.neg().add_scalar(1.0).mul(p.neg().add_scalar(1.0).log());
        pos.add(neg).neg()
    }
}

keras_loss_fn!(
    BinaryCrossentropyConfig,
    "BinaryCrossentropy",
    "binary_crossentropy",
    binary_crossentropy,
    formula = "mean(−(y·log p + (1 − y)·log(1 − p)), axis)",
    fused = |c| (c.from_logits && (0.0..=1.0).contains(&c.label_smoothing)).then_some((
        crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::BinaryCrossentropyLogits {
            label_smoothing: c.label_smoothing as f32
        }),
        c.axis
    ))
);

/// `keras.losses.BinaryCrossentropy`: [`binary_crossentropy`] plus a [`crate::Reduction`].
pub type BinaryCrossentropy = LossFunctionWrapper<BinaryCrossentropyConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{d2, vals};

    #[test]
    fn saturation_is_asymmetric_in_f32() -> Result<()> {
        // p = 1 with y = 0 → −log(1 − 0.99999988); p = 0 with y = 1 → −log(1e-7).
        let l = binary_crossentropy(d2(&[[0.], [1.]]), d2(&[[1.], [0.]]), &Default::default())?;
        let v = vals(&l);
        assert!((v[0] - 15.942385).abs() < 1e-4 && (v[1] - 16.118096).abs() < 1e-4, "{v:?}");
        Ok(())
    }

    #[test]
    fn extreme_logits_stay_finite() -> Result<()> {
        let c = BinaryCrossentropyConfig { from_logits: true, ..Default::default() };
        let l = binary_crossentropy(d2(&[[1., 0.]]), d2(&[[-1e4, -1e4]]), &c)?;
        assert_eq!(vals(&l), vec![5e3]);
        Ok(())
    }
}
