//! Cosine similarity loss.

use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::Result;
use crate::losses::wrapper::{LossFunctionWrapper, keras_loss_fn, last_axis};
use crate::tensor::math::l2_normalize;
use crate::tensor::shape::align_with_axis;

/// Arguments of [`cosine_similarity`]: Keras's `axis`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CosineSimilarityConfig {
    /// The axis along which the similarity is computed (default -1).
    pub axis: i64,
}

impl Default for CosineSimilarityConfig {
    fn default() -> Self {
        Self { axis: last_axis() }
    }
}

/// Negative cosine similarity, unreduced: −1 for the same direction, 0 for orthogonal vectors,
/// 1 for opposite ones (a quantity to minimise). A zero vector gives 0.
///
/// ```text
/// l2n(x) = x / sqrt(max(Σ_axis x², ε²)),  ε = 1e-7
/// loss   = −Σ_axis l2n(y_true) · l2n(y_pred)
/// ```
/// # Shapes
/// `[batch, d0, …, dn]` → the same without `axis`.
/// # Errors
/// [`crate::Error::ShapeMismatch`], [`crate::Error::AxisOutOfRange`].
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [1., 1.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[1., 0.], [1., 1.]], &d).into();
/// let l = cosine_similarity(&t, &p, &Default::default())?.to_vec_f32()?;
/// assert!(l[0].abs() < 1e-7 && (l[1] + 1.0).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.cosine_similarity` (3.x).
pub fn cosine_similarity(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    config: &CosineSimilarityConfig,
) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let (t, p, axis) = align_with_axis("cosine_similarity", y_true, y_pred, config.axis)?;
    let t = l2_normalize(t, axis);
    let p = l2_normalize(p, axis);
    Ok(t.zip(p, |t, p| t.mul(p).neg()).sum_axis(axis))
}

keras_loss_fn!(
    CosineSimilarityConfig,
    "CosineSimilarity",
    "cosine_similarity",
    cosine_similarity,
    formula = "−Σ_axis l2_normalize(y_true) · l2_normalize(y_pred)"
);

/// `keras.losses.CosineSimilarity`: [`cosine_similarity`] plus a [`crate::Reduction`].
pub type CosineSimilarity = LossFunctionWrapper<CosineSimilarityConfig>;
