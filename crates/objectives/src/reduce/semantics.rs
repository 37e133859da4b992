//! The three generations of Keras reduction semantics, so that numbers from older Keras and
//! tf.keras code can be reproduced. Keras 3 is the default everywhere; the others are opt-in,
//! per loss ([`crate::LossFunctionWrapper::with_semantics`]) or per call ([`reduce_as`]).
//!
//! With per-timestep losses `L` (B, T), a mask `M` and weights `w`, they differ only when there
//! is a mask or a zero weight (docs/keras-semantics.md §4.3):
//!
//! | weights | Keras 1.0–2.2 | Keras 2.3 / tf.keras ≤ 2.10 | tf.keras ≥ 2.11, Keras 3 |
//! |---|---|---|---|
//! | `w = [2, 0]` (per sample) | 4.0 | 1.0 | 2.0 |
//!
//! for `L = [[1,2,3],[4,5,6]]`, `M = [[1,1,0],[1,0,0]]`.

use crate::error::{Error, Result};
use crate::reduce::{MaskRule, Reduction, divide_no_nan, reduce_values, reduce_weighted_values, weigh};
use crate::tensor::dyn_tensor::DynTensor;
use crate::tensor::shape::{align_weight, dtype_of};

/// Which Keras generation's reduction to reproduce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Semantics {
    /// Keras 3 (`keras/src/losses/loss.py`): [`crate::reduce_weighted_values`]. The default.
    #[default]
    Keras3,
    /// tf.keras 2.11+ (`tf_keras/losses.py`, `losses_utils.py`): the Keras 3 mask rescale
    /// `total/valid`, but **without** divide-no-nan (an all-masked batch gives NaN), `(B,)` weights
    /// expanded over the time axis; reductions `none`, `sum`, `sum_over_batch_size` only.
    TfKeras,
    /// Keras 2.3 and tf.keras ≤ 2.10 (`compute_weighted_loss`): the mask is only a 0/1 sample
    /// weight, so `sum_over_batch_size` divides by **all** elements, padding included.
    TfKerasLegacy,
    /// Keras 1.0–2.2 (`_weighted_masked_objective`): `L·M / mean(M)`, then the mean over the axes
    /// the weight lacks, `·w / mean(w ≠ 0)`, then the mean. Per-sample `(B,)` weights, or
    /// temporal weights of the loss's shape (`sample_weight_mode="temporal"`). No `reduction`
    /// argument existed: only the default is accepted.
    Keras1,
}

impl Semantics {
    /// A short name: `keras3`, `tf_keras`, `tf_keras_le_2_10`, `keras1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Semantics::Keras3 => "keras3",
            Semantics::TfKeras => "tf_keras",
            Semantics::TfKerasLegacy => "tf_keras_le_2_10",
            Semantics::Keras1 => "keras1",
        }
    }
}

impl std::str::FromStr for Semantics {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "keras3" => Semantics::Keras3,
            "tf_keras" => Semantics::TfKeras,
            "tf_keras_le_2_10" => Semantics::TfKerasLegacy,
            "keras1" => Semantics::Keras1,
            other => {
                return Err(Error::InvalidConfig {
                    name: "semantics".into(),
                    message: format!("unknown semantics `{other}`; use keras3, tf_keras, tf_keras_le_2_10 or keras1"),
                });
            }
        })
    }
}

/// Reduces per-sample losses the way `semantics` does (see [`Semantics`]).
///
/// # Errors
/// [`Error::WeightShape`] for weights or masks that do not broadcast;
/// [`Error::InvalidReduction`] for a reduction the generation did not have.
pub fn reduce_as(
    semantics: Semantics,
    values: DynTensor,
    sample_weight: Option<DynTensor>,
    mask: Option<DynTensor>,
    reduction: Reduction,
) -> Result<DynTensor> {
    let unsupported = |generation: &str| {
        Error::InvalidReduction(format!(
            "{reduction} (not available in {generation}: use none, sum or sum_over_batch_size)"
        ))
    };
    let dtype = dtype_of(&values);
    let sample_weight = sample_weight.map(|w| w.cast(dtype));
    let mask = mask.map(|m| m.cast(dtype));
    match semantics {
        Semantics::Keras3 => reduce_weighted_values(values, sample_weight, mask, reduction),
        Semantics::TfKeras | Semantics::TfKerasLegacy => {
            if matches!(reduction, Reduction::Mean | Reduction::MeanWithSampleWeight) {
                return Err(unsupported("tf.keras"));
            }
            let mask = match (semantics, mask) {
                (Semantics::TfKeras, Some(m)) if reduction == Reduction::SumOverBatchSize => {
                    // apply_valid_mask: m · total / valid, no divide-no-nan.
                    let total = m.numel() as f64;
                    let valid = m.clone().sum_all().into_padded();
                    Some(m.map(|t| t.mul_scalar(total).div(valid)))
                }
                (_, m) => m,
            };
            // The mask is a plain weight from here on (compute_weighted_loss), as in Keras 3's path.
            let (values, sw) = weigh(values, sample_weight, mask, MaskRule::Raw)?;
            Ok(reduce_values(values, sw, reduction))
        }
        Semantics::Keras1 => {
            if reduction != Reduction::SumOverBatchSize {
                return Err(Error::InvalidReduction(format!(
                    "{reduction} (Keras 1.x–2.2 had no reduction argument: use the default, sum_over_batch_size)"
                )));
            }
            keras1(values, sample_weight, mask)
        }
    }
}

/// Mean of all elements, divide-no-nan.
fn mean_all(x: DynTensor) -> DynTensor {
    let n = x.numel() as f64;
    let s = x.sum_all();
    s.map(|t| if n == 0.0 { t.mul_scalar(0.0) } else { t.div_scalar(n) })
}

/// Keras 1.0–2.2's `_weighted_masked_objective` (2.0.0 `keras/engine/training.py`).
fn keras1(values: DynTensor, sample_weight: Option<DynTensor>, mask: Option<DynTensor>) -> Result<DynTensor> {
    let batch = values.shape().first().copied().unwrap_or(1);
    let mut score = values;
    if let Some(m) = mask {
        let (s, m) = align_weight("mask", score, m)?;
        let mean_m = mean_all(m.clone());
        score = divide_no_nan(s.broadcast_mul(m).ok_or_else(|| Error::unreachable_shape("mask"))?, mean_m);
    }
    let weights = match sample_weight {
        Some(w) => w,
        None => DynTensor::full(&[batch], 1.0, dtype_of(&score), &score.device())?,
    };
    // Keras 1 weights: (B,) per sample, or the loss's own shape ("temporal").
    let ok = weights.rank() <= score.rank() && score.shape().starts_with(weights.shape());
    if !ok {
        return Err(Error::WeightShape {
            what: "sample_weight",
            weight: weights.shape().to_vec(),
            losses: score.shape().to_vec(),
            batch,
        });
    }
    while score.rank() > weights.rank() {
        let last = score.rank() - 1;
        score = score.mean_axis(last);
    }
    let nonzero = mean_all(weights.clone().map(|w| w.not_equal_elem(0.0).float().cast(dtype_of(&score))));
    let score = divide_no_nan(score.zip_same(weights), nonzero);
    Ok(mean_all(score))
}

#[cfg(test)]
mod tests {
    //! The worked example of docs/keras-semantics.md §4.3.
    use super::*;
    use burn::tensor::TensorData;

    fn t(v: &[f32], shape: &[usize]) -> DynTensor {
        DynTensor::from_data(TensorData::new(v.to_vec(), shape.to_vec()), &crate::backend::test_device())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn run(s: Semantics, w: Option<DynTensor>, mask: bool, r: Reduction) -> f32 {
        let l = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let m = mask.then(|| t(&[1., 1., 0., 1., 0., 0.], &[2, 3]));
        reduce_as(s, l, w, m, r).and_then(|x| x.into_scalar::<f32>()).unwrap_or(f32::NAN)
    }

    #[test]
    fn spec_4_3_worked_example() {
        use Reduction::{MeanWithSampleWeight as Mw, SumOverBatchSize as Sobs};
        use Semantics::*;
        let w = |a: f32, b: f32| Some(t(&[a, b], &[2]));
        let temporal = || Some(t(&[1., 1., 0., 1., 0., 0.], &[2, 3]));
        // (weights, mask?, Keras 1, tf.keras ≤ 2.10, Keras 3, Keras 3 mean_with_sample_weight)
        let rows: [(Option<DynTensor>, bool, [f32; 4]); 5] = [
            (w(1., 1.), true, [2.3333, 1.1667, 2.3333, 2.3333]),
            (w(2., 0.5), true, [2.6667, 1.3333, 2.6667, 1.7778]),
            (w(2., 0.), true, [4.0, 1.0, 2.0, 1.5]),
            (temporal(), true, [4.6667, 1.1667, 2.3333, 2.3333]),
            (temporal(), false, [2.3333, 1.1667, 1.1667, 2.3333]),
        ];
        for (i, (weights, mask, expected)) in rows.into_iter().enumerate() {
            let got = [
                run(Keras1, weights.clone(), mask, Sobs),
                run(TfKerasLegacy, weights.clone(), mask, Sobs),
                run(Keras3, weights.clone(), mask, Sobs),
                run(Keras3, weights.clone(), mask, Mw),
            ];
            for (g, e) in got.iter().zip(expected) {
                assert!((g - e).abs() < 1e-4, "row {i}: got {got:?}, expected {expected:?}");
            }
            // tf.keras ≥ 2.11 reduces like Keras 3.
            assert!((run(TfKeras, weights, mask, Sobs) - expected[2]).abs() < 1e-4, "row {i}");
        }
    }

    #[test]
    fn without_mask_or_zero_weights_all_generations_agree() {
        let w = Some(t(&[2., 0.5], &[2]));
        for s in [Semantics::Keras1, Semantics::TfKerasLegacy, Semantics::TfKeras, Semantics::Keras3] {
            assert!((run(s, w.clone(), false, Reduction::SumOverBatchSize) - 3.25).abs() < 1e-5, "{s:?}");
        }
    }

    #[test]
    fn tf_keras_all_masked_is_nan_keras3_is_zero() {
        let l = t(&[1., 2.], &[2]);
        let m = t(&[0., 0.], &[2]);
        let tf = reduce_as(Semantics::TfKeras, l.clone(), None, Some(m.clone()), Reduction::SumOverBatchSize);
        assert!(tf.and_then(|x| x.into_scalar::<f32>()).is_ok_and(|v| v.is_nan()));
        let k3 = reduce_as(Semantics::Keras3, l, None, Some(m), Reduction::SumOverBatchSize);
        assert_eq!(k3.and_then(|x| x.into_scalar::<f32>()).ok(), Some(0.0));
    }
}
