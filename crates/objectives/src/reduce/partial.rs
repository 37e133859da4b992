//! Reductions that split and merge exactly: a loss over part of a batch as
//! `(weighted_sum, normalizer)`, so that micro-batches and devices combine into the whole-batch
//! loss and gradient (to f32 rounding), for every reduction.
//!
//! Averaging per-part means (a "mean of means") is wrong as soon as parts have different sizes,
//! weights or numbers of valid (unmasked) elements. Instead each part reports the numerator of its
//! reduction and the part's share of the global divisor:
//!
//! | reduction | numerator | normalizer |
//! |---|---|---|
//! | `sum` | `Σ v·w·m` | — (merged loss is `Σ numerators`) |
//! | `sum_over_batch_size`, `mean` | `Σ v·w·[m ≠ 0]` | `n` without a mask, `n·Σm / numel(m)` with one |
//! | `mean_with_sample_weight` | `Σ v·w·m` | `Σ w·m` (or `Σm`, or `n`) |
//!
//! and the merged loss is `Σ numerators / Σ normalizers` (divide-no-nan), which is exactly the
//! Keras 3 whole-batch value of [`crate::reduce_weighted_values`] whenever the parts are slices
//! of the batch axis. For gradient accumulation or data parallelism, sum the normalizers first
//! (an all-reduce of one number) and back-propagate each part's [`Partial::share`]: the summed
//! gradients are the whole-batch gradient.
//!
//! ```
//! use objectives::prelude::*;
//! use objectives::partial::{Partial, merge};
//! let d = Device::flex();
//! let t = Tensor::<2>::from_floats([[0., 1.], [2., 3.], [1., 1.]], &d);
//! let p = Tensor::<2>::from_floats([[1., 1.], [2., 0.], [0., 0.]], &d);
//! let mse = MeanSquaredError::default();
//! let whole = mse.call(&t, &p, None)?.into_scalar::<f32>()?;
//! // Two unequal micro-batches: rows 0..1 and 1..3.
//! let a = mse.partial(&t.clone().slice([0..1]).into(), &p.clone().slice([0..1]).into(), None, None)?;
//! let b = mse.partial(&t.slice([1..3]).into(), &p.slice([1..3]).into(), None, None)?;
//! let merged = merge(&[a, b])?.into_scalar::<f32>()?;
//! assert!((merged - whole).abs() < 1e-6);
//! # Ok::<(), objectives::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::reduce::{Divisor, MaskCount, MaskRule, ReducePlan, Reduction, weigh};
use crate::tensor::dyn_tensor::DynTensor;

/// One part of a batch, reduced to a numerator and a normalizer (see the module docs).
#[derive(Clone, Debug)]
pub struct Partial {
    /// The reduction this part belongs to.
    pub reduction: Reduction,
    /// The weighted sum: a rank-0 tensor, tracked for gradients.
    pub numerator: DynTensor,
    /// This part's share of the divisor (0 for `sum`, which does not divide).
    pub normalizer: f64,
}

impl Partial {
    /// This part's contribution to the merged loss, `numerator / total_normalizer` (or the
    /// numerator itself for `sum`): back-propagating every part's share and summing the
    /// gradients gives the whole-batch gradient. `total_normalizer` is the sum of every part's
    /// `normalizer` (all-reduced across devices); a zero total gives 0 (divide-no-nan).
    pub fn share(&self, total_normalizer: f64) -> DynTensor {
        if self.reduction == Reduction::Sum {
            return self.numerator.clone();
        }
        let scale = if total_normalizer == 0.0 { 0.0 } else { 1.0 / total_normalizer };
        self.numerator.clone().map(|x| x.mul_scalar(scale))
    }
}

/// Reduces one part of a batch to a [`Partial`].
///
/// # Errors
/// [`Error::WeightShape`] as [`crate::reduce_weighted_values`]; [`Error::InvalidReduction`]
/// for `none` (its parts are already exact: concatenate them), for losses that return one value
/// per batch (e.g. `Dice` with `axis = None`: not a sum over samples) and for
/// `mean_with_sample_weight` with a scalar weight (Keras divides by the scalar itself, which no
/// split can reproduce: pass a per-sample weight).
pub fn partial(
    values: DynTensor,
    sample_weight: Option<DynTensor>,
    mask: Option<DynTensor>,
    reduction: Reduction,
) -> Result<Partial> {
    let refuse = |why: &str| Error::InvalidReduction(format!("{reduction} cannot be split into partials: {why}"));
    if reduction == Reduction::None {
        return Err(refuse("it does not reduce; concatenate the per-part results instead"));
    }
    if values.rank() == 0 {
        return Err(refuse(
            "the loss returns one value for the whole batch (e.g. Dice with axis=None); give it an axis",
        ));
    }
    if reduction == Reduction::MeanWithSampleWeight
        && mask.is_none()
        && sample_weight.as_ref().is_some_and(|w| w.rank() == 0)
    {
        return Err(refuse(
            "a scalar sample_weight divides by itself, not by a per-sample total; pass one weight per sample",
        ));
    }
    let plan = ReducePlan::of(reduction, &values, sample_weight.as_ref(), mask.as_ref())?;
    let given_mask = mask.clone();
    let (weighted, sw) = weigh(values, sample_weight, mask, MaskRule::for_partial(reduction))?;
    let n = weighted.numel() as f64;
    let normalizer = match (plan.divisor, plan.mask_rule, given_mask, sw) {
        (Divisor::Unreduced | Divisor::One, ..) => 0.0,
        (Divisor::Count, MaskRule::Rescale, Some(m), _) => {
            MaskCount { total: m.numel() as f64, valid: m.to_vec_f64()?.iter().sum() }.normalizer(n)
        }
        (Divisor::WeightSum, _, _, Some(sw)) => sw.to_vec_f64()?.iter().sum(),
        _ => n,
    };
    Ok(Partial { reduction, numerator: weighted.sum_all(), normalizer })
}

/// Merges partials into the loss: `Σ numerators / Σ normalizers` (divide-no-nan), or
/// `Σ numerators` for `sum`.
///
/// # Errors
/// [`Error::InvalidReduction`] if the parts disagree on the reduction or there are none.
pub fn merge(parts: &[Partial]) -> Result<DynTensor> {
    let Some(first) = parts.first() else {
        return Err(Error::InvalidReduction("merge needs at least one partial".into()));
    };
    if let Some(p) = parts.iter().find(|p| p.reduction != first.reduction) {
        return Err(Error::InvalidReduction(format!(
            "cannot merge partials of different reductions ({} and {})",
            first.reduction, p.reduction
        )));
    }
    let total: f64 = parts.iter().map(|p| p.normalizer).sum();
    let mut sum = first.share(total);
    for p in &parts[1..] {
        let s = p.share(total).into_padded();
        sum = sum.map(|acc| acc.add(s));
    }
    Ok(sum)
}
