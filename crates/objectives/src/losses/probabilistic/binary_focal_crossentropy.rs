//! Binary focal cross-entropy.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::Result;
use crate::keras::args::{check_gamma, check_smoothing};
use crate::losses::wrapper::{LossFunctionWrapper, keras_loss_fn, last_axis};
use crate::tensor::math::{clip_probabilities, log_sigmoid};
use crate::tensor::shape::align_with_axis;

/// Arguments of [`binary_focal_crossentropy`] (Keras's, with Keras's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BinaryFocalCrossentropyConfig {
    /// Weigh positives by `alpha` and negatives by `1 − alpha` (default `false`).
    pub apply_class_balancing: bool,
    /// The balancing weight, used only with `apply_class_balancing` (default 0.25).
    pub alpha: f64,
    /// The focusing exponent γ ≥ 0 (default 2.0).
    pub gamma: f64,
    /// `y_pred` holds logits (`true`) or probabilities (`false`, default).
    pub from_logits: bool,
    /// In `[0, 1]`: labels are squeezed towards 0.5.
    pub label_smoothing: f64,
    /// The axis averaged over (default -1).
    pub axis: i64,
}

impl Default for BinaryFocalCrossentropyConfig {
    fn default() -> Self {
        Self {
            apply_class_balancing: false,
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            axis: last_axis(),
        }
    }
}

/// Binary focal cross-entropy (Lin et al., 2017), unreduced: cross-entropy down-weighted on
/// examples that are already well classified.
///
/// With smoothed labels `y`, `p = y_pred` (or `σ(y_pred)` from logits):
/// ```text
/// bce   = −(y·log p + (1 − y)·log(1 − p))      (p clipped to [ε, 1 − ε]; from logits: log σ)
/// 1−p_t = y·(1 − p) + (1 − y)·p
/// ℓ     = (1 − p_t)^γ · bce · [y·α + (1 − y)·(1 − α)  if apply_class_balancing]
/// loss  = mean(ℓ, axis)
/// ```
/// **From logits** objectives uses `log σ` instead of Keras's `σ` followed by the probability
/// clip: the values are Keras's wherever the clip is inactive (|logit| ≲ 15.9), and stay exact,
/// with non-zero gradients, beyond it (Keras saturates at 15.94/16.12 with a zero gradient).
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`], [`crate::Error::InvalidConfig`]
/// for `gamma < 0` or a `label_smoothing` outside `[0, 1]`.
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d);
/// let p = Tensor::<2>::from_floats([[0.6, 0.4], [0.4, 0.6]], &d);
/// let l = BinaryFocalCrossentropy::default().call(&t, &p, None)?;
/// assert!((l.into_scalar::<f32>()? - 0.26783154).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.binary_focal_crossentropy` (3.x).
pub fn binary_focal_crossentropy(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &BinaryFocalCrossentropyConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    check_smoothing("BinaryFocalCrossentropy", config.label_smoothing)?;
    check_gamma("BinaryFocalCrossentropy", config.gamma)?;
    let (t, p, axis) = align_with_axis("binary_focal_crossentropy", y_true, y_pred, config.axis)?;
    let s = config.label_smoothing;
    let t = if s != 0.0 { t.map(|t| t.mul_scalar(1.0 - s).add_scalar(0.5 * s)) } else { t };
    let c = config.clone();
    let l = t.zip(p, |y, x| {
        let not_y = y.clone().neg().add_scalar(1.0);
        let (bce, one_minus_pt) = if c.from_logits {
            let ls_pos = log_sigmoid(x.clone());
            let ls_neg = log_sigmoid(x.clone().neg());
            let bce = y.clone().mul(ls_pos.clone()).add(not_y.clone().mul(ls_neg.clone())).neg();
            // 1 − p_t = y·σ(−x) + (1 − y)·σ(x)
            (bce, y.clone().mul(ls_neg.exp()).add(not_y.clone().mul(ls_pos.exp())))
        } else {
            let pc = clip_probabilities(x.clone());
            let bce = y.clone().mul(pc.clone().log()).add(not_y.clone().mul(pc.neg().add_scalar(1.0).log())).neg();
            (bce, y.clone().mul(x.clone().neg().add_scalar(1.0)).add(not_y.clone().mul(x)))
        };
        let mut focal = one_minus_pt.powf_scalar(c.gamma).mul(bce);
        if c.apply_class_balancing {
            focal = focal.mul(y.mul_scalar(c.alpha).add(not_y.mul_scalar(1.0 - c.alpha)));
        }
        focal
    });
    Ok(l.mean_axis(axis))
}

keras_loss_fn!(
    BinaryFocalCrossentropyConfig,
    "BinaryFocalCrossentropy",
    "binary_focal_crossentropy",
    binary_focal_crossentropy,
    formula = "mean((1 − p_t)^γ · bce, axis)",
    fused = |c| (c.from_logits
        && (0.0..=1.0).contains(&c.label_smoothing)
        && c.gamma >= 0.0
        && c.gamma.is_finite()
        && c.alpha.is_finite())
    .then_some((
        crate::fused::FusedKind::Elementwise(crate::fused::Elementwise::BinaryFocalLogits {
            gamma: c.gamma as f32,
            alpha: c.alpha as f32,
            apply_class_balancing: c.apply_class_balancing,
            label_smoothing: c.label_smoothing as f32
        }),
        c.axis
    ))
);

/// `keras.losses.BinaryFocalCrossentropy`: [`binary_focal_crossentropy`] plus a
/// [`crate::Reduction`].
pub type BinaryFocalCrossentropy = LossFunctionWrapper<BinaryFocalCrossentropyConfig>;
