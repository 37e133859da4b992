//! The reducer's rules, each decided once, from shapes: how a weight or mask meets the
//! per-sample losses, how a mask becomes a weight, and what the weighted sum is divided by.
//!
//! A [`ReducePlan`] holds them for one call. The composed reducer ([`super::reduce_weighted_values`]),
//! the fused kernels ([`crate::fused`]), split/merge partials ([`crate::partial`]) and
//! [`crate::explain()`] all read the plan or these rules; none restates them.

use crate::error::{Error, Result};
use crate::reduce::Reduction;
use crate::tensor::dyn_tensor::{DynTensor, broadcast_shapes};
use crate::tensor::shape::align_weight_shapes;

/// How a mask enters the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskRule {
    /// Keras 3's `mean`/`sum_over_batch_size`: valid positions weigh [`MaskCount::rescale`]
    /// (`total / valid`), masked ones 0.
    Rescale,
    /// The indicator `[m ≠ 0]`; the rescale moves into the divisor ([`MaskCount::normalizer`]).
    /// Partials of `mean`/`sum_over_batch_size` use it, so that parts merge exactly.
    Indicator,
    /// Keras 3's other reductions: the mask is a plain weight, as given.
    Raw,
}

impl MaskRule {
    /// The rule Keras 3 applies for `reduction`.
    pub fn of(reduction: Reduction) -> Self {
        if averages_elements(reduction) { MaskRule::Rescale } else { MaskRule::Raw }
    }

    /// The rule for a [`crate::reduce::partial::Partial`] of `reduction`.
    pub fn for_partial(reduction: Reduction) -> Self {
        if averages_elements(reduction) { MaskRule::Indicator } else { MaskRule::Raw }
    }

    /// The rule in words, for a mask of `total` elements under `reduction`.
    pub fn describe(self, reduction: Reduction, total: usize) -> String {
        match self {
            MaskRule::Rescale => {
                format!("m ← where(m ≠ 0, total/valid, 0), total = numel(mask) = {total}, valid = Σm (0 if all masked)")
            }
            MaskRule::Indicator => "m ← [m ≠ 0]; the divisor becomes n·valid/total".into(),
            MaskRule::Raw => format!("m used as given (0/1), no rescale under \"{reduction}\""),
        }
    }
}

/// `mean` and `sum_over_batch_size`: the reductions that divide by an element count.
fn averages_elements(reduction: Reduction) -> bool {
    matches!(reduction, Reduction::SumOverBatchSize | Reduction::Mean)
}

/// A mask's size and how much of it is valid: the one statement of Keras 3's mask rescale.
///
/// Under `mean`/`sum_over_batch_size`, Keras weighs each valid position by `total / valid`, so
/// that `Σ v·w·m·(total/valid) / n` is the mean over the valid positions. Said of the divisor
/// instead (what a part of a batch reports), the same rule is `n · valid / total`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskCount {
    /// `numel(mask)`.
    pub total: f64,
    /// `Σ mask` (for a 0/1 mask, the number of valid positions).
    pub valid: f64,
}

impl MaskCount {
    /// The weight of a valid position, `total / valid`; 0 when nothing is valid (Keras's
    /// divide-no-nan: a fully masked batch gives 0, not NaN).
    pub fn rescale(self) -> f64 {
        if self.valid == 0.0 { 0.0 } else { self.total / self.valid }
    }

    /// The divisor of `n` weighted elements under the rescale, `n · valid / total` (0 for an
    /// empty mask).
    pub fn normalizer(self, n: f64) -> f64 {
        if self.total == 0.0 { 0.0 } else { n * self.valid / self.total }
    }
}

/// What the weighted sum is divided by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Divisor {
    /// No reduction (`none`): the weighted values are the result.
    Unreduced,
    /// `sum`: the sum itself.
    One,
    /// `mean`, `sum_over_batch_size`, and `mean_with_sample_weight` without a weight or mask:
    /// the number of elements of `v·w` (never `Σw`).
    Count,
    /// `mean_with_sample_weight` with a weight or mask: the sum of the combined weight as
    /// aligned, **not** broadcast to the losses.
    WeightSum,
}

impl Divisor {
    /// The divisor of `reduction`, with (`weighted`) or without a sample weight or mask.
    pub fn of(reduction: Reduction, weighted: bool) -> Self {
        match reduction {
            Reduction::None => Divisor::Unreduced,
            Reduction::Sum => Divisor::One,
            Reduction::MeanWithSampleWeight if weighted => Divisor::WeightSum,
            Reduction::SumOverBatchSize | Reduction::Mean | Reduction::MeanWithSampleWeight => Divisor::Count,
        }
    }
}

/// A sample weight or mask, aligned with the per-sample losses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    /// The shape given.
    pub given: Vec<usize>,
    /// The shape after [`align_weight_shapes`] against the losses.
    pub aligned: Vec<usize>,
    /// `Some(k)` when the aligned operand is the losses' leading `k` axes, repeated over the
    /// rest (`(B,)`, `(B, 1, 1)`, `(B, H, W)` on `(B, H, W)` losses…) and the losses keep their
    /// shape: the layout the fused kernels read directly.
    pub leading: Option<usize>,
}

impl Operand {
    fn new(what: &'static str, values: &[usize], given: &[usize]) -> Result<Self> {
        let (v, aligned) = align_weight_shapes(what, values, given)?;
        let k = aligned.iter().rposition(|&d| d != 1).map_or(0, |i| i + 1);
        let leading = (v == values && aligned.len() == values.len() && aligned[..k] == values[..k]).then_some(k);
        Ok(Self { given: given.to_vec(), aligned, leading })
    }

    /// How many consecutive loss elements share one operand element (for a `leading` operand).
    pub fn repeat(&self, values: &[usize]) -> Option<usize> {
        self.leading.map(|k| values[k..].iter().product::<usize>().max(1))
    }
}

/// The reduction of one call, from shapes: what every path reads.
#[derive(Clone, Debug, PartialEq)]
pub struct ReducePlan {
    /// The reduction.
    pub reduction: Reduction,
    /// The per-sample losses' shape.
    pub values: Vec<usize>,
    /// The sample weight, aligned.
    pub sample_weight: Option<Operand>,
    /// The mask, aligned.
    pub mask: Option<Operand>,
    /// The shape of `v·w·m` (the losses broadcast against both).
    pub weighted: Vec<usize>,
    /// How the mask enters the weights.
    pub mask_rule: MaskRule,
    /// What the weighted sum is divided by.
    pub divisor: Divisor,
}

impl ReducePlan {
    /// The plan for per-sample losses of shape `values` with optional weight and mask shapes.
    ///
    /// # Errors
    /// [`Error::WeightShape`] for a weight or mask that does not broadcast to the losses.
    pub fn new(
        reduction: Reduction,
        values: &[usize],
        sample_weight: Option<&[usize]>,
        mask: Option<&[usize]>,
    ) -> Result<Self> {
        let mask = mask.map(|m| Operand::new("mask", values, m)).transpose()?;
        let sample_weight = sample_weight.map(|w| Operand::new("sample_weight", values, w)).transpose()?;
        let mut weighted = values.to_vec();
        for op in [&mask, &sample_weight].into_iter().flatten() {
            weighted = broadcast_shapes(&weighted, &op.aligned).ok_or_else(|| Error::unreachable_shape("weight"))?;
        }
        Ok(Self {
            reduction,
            values: values.to_vec(),
            weighted,
            divisor: Divisor::of(reduction, sample_weight.is_some() || mask.is_some()),
            mask_rule: MaskRule::of(reduction),
            sample_weight,
            mask,
        })
    }

    /// [`ReducePlan::new`] for the shapes of these tensors.
    ///
    /// # Errors
    /// As [`ReducePlan::new`].
    pub fn of(
        reduction: Reduction,
        values: &DynTensor,
        sample_weight: Option<&DynTensor>,
        mask: Option<&DynTensor>,
    ) -> Result<Self> {
        Self::new(reduction, values.shape(), sample_weight.map(DynTensor::shape), mask.map(DynTensor::shape))
    }

    /// The number of elements of `v·w·m`.
    pub fn count(&self) -> usize {
        self.weighted.iter().product()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_operands_are_the_layout_fused_kernels_read() -> Result<()> {
        let values = [4, 5, 6];
        let lead = |w: &[usize]| Operand::new("sample_weight", &values, w).map(|o| o.leading);
        assert_eq!(lead(&[4])?, Some(1)); // per sample
        assert_eq!(lead(&[4, 5, 1])?, Some(2));
        assert!(lead(&[4, 5]).is_err()); // NumPy aligns trailing axes: (4, 5) vs (…, 5, 6)
        assert_eq!(lead(&[4, 5, 6])?, Some(3));
        assert_eq!(lead(&[4, 1, 1])?, Some(1));
        assert_eq!(lead(&[1, 5, 1])?, None); // broadcasts, but not a leading block
        assert_eq!(lead(&[6])?, None); // trailing axis: NumPy broadcasting
        assert!(Operand::new("mask", &values, &[3]).is_err());
        Ok(())
    }

    #[test]
    fn mask_rescale_and_normalizer_are_one_rule() {
        let m = MaskCount { total: 8.0, valid: 2.0 };
        // Σ v·m·(total/valid) / n == Σ v·m / (n·valid/total).
        let n = 8.0;
        assert_eq!(m.rescale() / n, 1.0 / m.normalizer(n));
        assert_eq!(MaskCount { total: 8.0, valid: 0.0 }.rescale(), 0.0);
        assert_eq!(MaskCount { total: 0.0, valid: 0.0 }.normalizer(3.0), 0.0);
    }

    #[test]
    fn divisors() {
        assert_eq!(Divisor::of(Reduction::MeanWithSampleWeight, false), Divisor::Count);
        assert_eq!(Divisor::of(Reduction::MeanWithSampleWeight, true), Divisor::WeightSum);
        assert_eq!(Divisor::of(Reduction::Mean, true), Divisor::Count);
        assert_eq!(Divisor::of(Reduction::Sum, true), Divisor::One);
        assert_eq!(Divisor::of(Reduction::None, true), Divisor::Unreduced);
    }
}
