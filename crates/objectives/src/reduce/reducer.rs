//! The reducer itself: Keras 3's `reduce_weighted_values`, `apply_mask` and `reduce_values` on
//! tensors, with the rules of a [`ReducePlan`] (see the [module](super) for the formulas).

use burn::tensor::{DType, FloatDType};

use super::plan::{Divisor, MaskCount, MaskRule, ReducePlan};
use super::reduction::Reduction;
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::DynTensor;
use crate::tensor::shape::{align_weight, dtype_of};

/// `a / b`, or 0 where `b == 0` (TensorFlow's `divide_no_nan`), for a rank-0 `b` and any `a`.
pub(crate) fn divide_no_nan(a: DynTensor, b: DynTensor) -> DynTensor {
    if a.numel() == 0 {
        return a; // nothing to divide (and burn cannot expand to a zero-size shape)
    }
    let zero = b.padded().clone().equal_elem(0.0);
    let safe = b.into_padded().mask_fill(zero.clone(), 1.0);
    let dims = a.padded().dims();
    a.map(|a| a.div(safe).mask_fill(zero.expand(dims), 0.0))
}

/// Keras's `apply_mask`: folds the mask into the sample weight, by `rule`.
fn apply_mask(
    values: &DynTensor,
    sample_weight: Option<DynTensor>,
    mask: Option<DynTensor>,
    rule: MaskRule,
) -> Result<Option<DynTensor>> {
    let Some(mask) = mask else { return Ok(sample_weight) };
    let mask = match rule {
        // A mask without elements has nothing to rescale (and burn cannot expand to it).
        MaskRule::Rescale if mask.numel() == 0 => mask,
        MaskRule::Rescale => {
            let count = MaskCount { total: mask.numel() as f64, valid: mask.clone().sum_all().to_vec_f64()?[0] };
            let w = DynTensor::full(&[], count.rescale(), dtype_of(&mask), &mask.device())?.into_padded();
            mask.map(|m| {
                let invalid = m.clone().equal_elem(0.0);
                w.expand(m.dims()).mask_fill(invalid, 0.0)
            })
        }
        MaskRule::Indicator => {
            let dtype = dtype_of(&mask);
            mask.map(|m| m.not_equal_elem(0.0).float().cast(dtype))
        }
        MaskRule::Raw => mask,
    };
    // Check the mask against the losses the way a weight is checked, so the error names the mask.
    align_weight("mask", values.clone(), mask.clone())?;
    match sample_weight {
        None => Ok(Some(mask)),
        Some(sw) => {
            let (mask, sw) = align_weight("sample_weight", mask, sw)?;
            Ok(Some(sw.broadcast_mul(mask).ok_or_else(|| Error::unreachable_shape("mask"))?))
        }
    }
}

/// Casts the weight and mask to the values' dtype, folds the mask in by `rule`, aligns the
/// weight and multiplies: `(values · sw, sw)`.
pub(crate) fn weigh(
    values: DynTensor,
    sample_weight: Option<DynTensor>,
    mask: Option<DynTensor>,
    rule: MaskRule,
) -> Result<(DynTensor, Option<DynTensor>)> {
    let dtype = dtype_of(&values);
    let sample_weight = sample_weight.map(|w| w.cast(dtype));
    let mask = mask.map(|m| m.cast(dtype));
    match apply_mask(&values, sample_weight, mask, rule)? {
        None => Ok((values, None)),
        Some(sw) => {
            let (values, sw) = align_weight("sample_weight", values, sw)?;
            let weighted = values.broadcast_mul(sw.clone()).ok_or_else(|| Error::unreachable_shape("sample_weight"))?;
            Ok((weighted, Some(sw)))
        }
    }
}

/// Reduces per-sample losses with an optional sample weight and mask (Keras 3 semantics).
///
/// `values` are per-sample losses in the loss dtype; `sample_weight` and `mask` are cast to it.
/// See the module docs for the algorithm and [`Reduction`] for the result of each reduction.
///
/// # Errors
/// [`Error::WeightShape`] if the weight or mask does not broadcast to the losses.
pub fn reduce_weighted_values(
    values: DynTensor,
    sample_weight: Option<DynTensor>,
    mask: Option<DynTensor>,
    reduction: Reduction,
) -> Result<DynTensor> {
    let plan = ReducePlan::of(reduction, &values, sample_weight.as_ref(), mask.as_ref())?;
    let (values, sample_weight) = weigh(values, sample_weight, mask, plan.mask_rule)?;
    Ok(reduce_values(values, sample_weight, reduction))
}

/// Keras's `reduce_values`: the final sum and its divisor ([`Divisor::of`]).
pub fn reduce_values(values: DynTensor, sample_weight: Option<DynTensor>, reduction: Reduction) -> DynTensor {
    if reduction == Reduction::None || values.rank() == 0 || values.shape() == [0] {
        return values;
    }
    let n = values.numel();
    let dtype = values.dtype();
    let device = values.device();
    let divisor = Divisor::of(reduction, sample_weight.is_some());
    let loss = values.sum_all();
    let divisor = match (divisor, sample_weight) {
        (Divisor::Unreduced | Divisor::One, _) => return loss,
        (Divisor::WeightSum, Some(sw)) => sw.sum_all(),
        (Divisor::Count | Divisor::WeightSum, _) => {
            let fd = if dtype == DType::F64 { FloatDType::F64 } else { FloatDType::F32 };
            match DynTensor::full(&[], n as f64, fd, &device) {
                Ok(t) => t.cast(dtype_of(&loss)),
                Err(_) => return loss, // rank-0 never exceeds MAX_RANK
            }
        }
    };
    divide_no_nan(loss, divisor)
}

#[cfg(test)]
mod tests {
    //! The reducer, once, through Keras's `ExampleLoss` values (`loss_test.py`).
    use super::*;
    use burn::tensor::Tensor;

    fn d1(v: &[f32]) -> DynTensor {
        Tensor::<1>::from_floats(v, &crate::backend::test_device()).into()
    }

    fn scalar(x: DynTensor) -> f32 {
        x.into_scalar::<f32>().unwrap_or(f32::NAN)
    }

    #[test]
    fn all_masked_gives_zero_not_nan() -> Result<()> {
        for r in Reduction::ALL.into_iter().filter(|r| *r != Reduction::None) {
            let v = reduce_weighted_values(d1(&[1., 2., 3.]), None, Some(d1(&[0., 0., 0.])), r)?;
            assert_eq!(scalar(v), 0.0, "{r}");
        }
        Ok(())
    }

    #[test]
    fn zero_weights_give_zero() -> Result<()> {
        for r in Reduction::ALL.into_iter().filter(|r| *r != Reduction::None) {
            let v = reduce_weighted_values(d1(&[1., 2., 3.]), Some(d1(&[0., 0., 0.])), None, r)?;
            assert_eq!(scalar(v), 0.0, "{r}");
        }
        Ok(())
    }

    #[test]
    fn mask_and_sample_weight_combine() -> Result<()> {
        // loss_test.py::test_mask_and_sample_weight: (0.4·0.81 + 0.2·0.49 + 0.1·0.16) / 3
        let values = d1(&[0.81, 0.49, 0.16, 0.04]);
        let sw = d1(&[0.4, 0.2, 0.1, 0.3]);
        let mask = d1(&[1., 1., 1., 0.]);
        let v = scalar(reduce_weighted_values(values, Some(sw), Some(mask), Reduction::SumOverBatchSize)?);
        assert!((v - 0.146).abs() < 1e-6, "{v}");
        Ok(())
    }

    #[test]
    fn mean_with_sample_weight_divides_by_weight_sum() -> Result<()> {
        let v =
            reduce_weighted_values(d1(&[1., 2., 3.]), Some(d1(&[1., 0., 3.])), None, Reduction::MeanWithSampleWeight)?;
        assert!((scalar(v) - 10.0 / 4.0).abs() < 1e-6);
        Ok(())
    }

    #[test]
    fn reduction_names_round_trip() -> Result<()> {
        for r in Reduction::ALL {
            assert_eq!(Reduction::from_json(&r.to_json())?, r);
        }
        assert!("auto".parse::<Reduction>().is_err());
        Ok(())
    }
}
