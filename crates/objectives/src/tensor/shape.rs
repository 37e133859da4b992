//! Rank alignment: Keras's `squeeze_or_expand_to_same_rank`, and the one place where objectives
//! deliberately departs from it (per-sample weights on per-timestep losses).

use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::{DynTensor, MAX_RANK, broadcast_shapes};

/// Keras 3's `squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True)`, exactly.
///
/// Only a rank difference of exactly one with a trailing axis of size 1 is fixed: `(B, 1)` and
/// `(B,)` become `(B, 1)` and `(B, 1)`; `(B, T, 1)` and `(B, T)` become `(B, T)` and `(B, T)`.
/// Every other pair is returned unchanged (and left to broadcasting). The rule itself is
/// [`same_rank_shapes`].
pub fn squeeze_or_expand_to_same_rank(x1: DynTensor, x2: DynTensor) -> (DynTensor, DynTensor) {
    let (s1, s2) = same_rank_shapes(x1.shape(), x2.shape());
    let fit = |x: DynTensor, s: Vec<usize>| if x.shape() == s.as_slice() { x } else { x.reshape(s) };
    (fit(x1, s1), fit(x2, s2))
}

/// [`squeeze_or_expand_to_same_rank`] on shapes: the shapes the two tensors take.
pub fn same_rank_shapes(s1: &[usize], s2: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (r1, r2) = (s1.len(), s2.len());
    let (mut x1, mut x2) = (s1.to_vec(), s2.to_vec());
    if r1 == r2 + 1 && s1.last() == Some(&1) {
        if r2 == 1 {
            x2.push(1);
        } else {
            x1.pop();
        }
    }
    if r2 == r1 + 1 && s2.last() == Some(&1) {
        if r1 == 1 {
            x1.push(1);
        } else {
            x2.pop();
        }
    }
    (x1, x2)
}

/// Aligns a sample weight (or mask) with the per-sample losses, then checks that it broadcasts.
/// The rule is [`align_weight_shapes`]; this applies it to the tensors.
///
/// # Errors
/// [`Error::WeightShape`] if the aligned weight does not broadcast to the losses.
pub fn align_weight(what: &'static str, values: DynTensor, weight: DynTensor) -> Result<(DynTensor, DynTensor)> {
    let (vs, ws) = align_weight_shapes(what, values.shape(), weight.shape())?;
    let fit = |x: DynTensor, s: Vec<usize>| if x.shape() == s.as_slice() { x } else { x.reshape(s) };
    Ok((fit(values, vs), fit(weight, ws)))
}

/// The one rule for how a sample weight (or mask) of shape `weight` meets per-sample losses of
/// shape `values`: the shapes both take, `(values, weight)`.
///
/// Keras's rank alignment first ([`same_rank_shapes`]); then objectives' one deliberate
/// extension: a rank-1 weight whose length is the batch size, against losses of rank two or
/// more, is a **per-sample** weight and is reshaped to `(B, 1, …, 1)`. Keras 3 raises
/// "Incompatible shapes" here (or, when `T == B`, silently weights the time axis); tf.keras
/// expanded it the same way we do. The aligned weight must then broadcast to the losses.
///
/// # Errors
/// [`Error::WeightShape`] if the aligned weight does not broadcast to the losses.
pub fn align_weight_shapes(what: &'static str, values: &[usize], weight: &[usize]) -> Result<(Vec<usize>, Vec<usize>)> {
    let (values, mut w) = same_rank_shapes(values, weight);
    if w.len() == 1 && values.len() >= 2 && w[0] == values[0] {
        let mut shape = vec![1; values.len()];
        shape[0] = w[0];
        w = shape;
    }
    if w.len() > MAX_RANK || broadcast_shapes(&values, &w).is_none() {
        return Err(Error::WeightShape {
            what,
            weight: weight.to_vec(),
            batch: values.first().copied().unwrap_or(1),
            losses: values,
        });
    }
    Ok((values, w))
}

/// Keras's wrapper step for `(y_true, y_pred)`: align ranks, then require equal shapes.
///
/// Keras would broadcast `y_true` against `y_pred` silently (a `(B, 1)` target against a `(B, 3)`
/// prediction gives a number, but not the one meant); objectives refuses instead.
///
/// # Errors
/// [`Error::ShapeMismatch`] naming both shapes.
pub fn align_targets(loss: &str, y_true: &DynTensor, y_pred: &DynTensor) -> Result<(DynTensor, DynTensor)> {
    let (t, p) = squeeze_or_expand_to_same_rank(y_true.clone(), y_pred.clone());
    if t.shape() != p.shape() {
        return Err(Error::ShapeMismatch {
            name: loss.to_string(),
            y_true: y_true.shape().to_vec(),
            y_pred: y_pred.shape().to_vec(),
        });
    }
    let t = t.cast(dtype_of(&p));
    Ok((t, p))
}

/// [`align_targets`], then the loss's `axis` checked against `y_pred` and made non-negative.
///
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::ScalarInput`] or [`Error::AxisOutOfRange`].
pub fn align_with_axis(
    loss: &str,
    y_true: &DynTensor,
    y_pred: &DynTensor,
    axis: i64,
) -> Result<(DynTensor, DynTensor, usize)> {
    let (t, p) = align_targets(loss, y_true, y_pred)?;
    let axis = p.normalize_axis(loss, axis)?;
    if p.shape()[axis] == 0 {
        return Err(Error::EmptyAxis { name: loss.to_string(), axis, shape: p.shape().to_vec() });
    }
    Ok((t, p, axis))
}

/// An `axis` argument that is `None` (every axis, batch included), one axis, or several
/// (Keras's `axis=None | int | tuple`), as used by `Dice` and `Tversky`.
///
/// In Keras JSON it is `null`, an integer, or a list of integers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Axes(pub Option<Vec<i64>>);

impl Axes {
    /// Every axis (Keras's `axis=None`).
    pub fn all() -> Self {
        Axes(None)
    }

    /// The given axes.
    pub fn of(axes: &[i64]) -> Self {
        Axes(Some(axes.to_vec()))
    }

    /// The axes checked against `x` and made non-negative (sorted, deduplicated); `None` for all.
    ///
    /// # Errors
    /// [`Error::AxisOutOfRange`] or [`Error::ScalarInput`].
    pub fn resolve(&self, loss: &str, x: &DynTensor) -> Result<Option<Vec<usize>>> {
        let Some(axes) = &self.0 else { return Ok(None) };
        let mut out = axes.iter().map(|&a| x.normalize_axis(loss, a)).collect::<Result<Vec<_>>>()?;
        out.sort_unstable();
        out.dedup();
        Ok(Some(out))
    }
}

impl serde::Serialize for Axes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match &self.0 {
            None => s.serialize_none(),
            Some(v) if v.len() == 1 => s.serialize_i64(v[0]),
            Some(v) => v.serialize(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Axes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Repr {
            One(i64),
            Many(Vec<i64>),
        }
        Ok(Axes(match Option::<Repr>::deserialize(d)? {
            None => None,
            Some(Repr::One(a)) => Some(vec![a]),
            Some(Repr::Many(v)) => Some(v),
        }))
    }
}

/// The multi-index of flat (row-major) position `i` in `shape`: where an error points.
pub(crate) fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            pos[d] = i % n;
            i /= n;
        }
    }
    pos
}

/// Sums `x` over `axes` (`None`: every axis, giving a scalar).
pub(crate) fn sum_over(x: DynTensor, axes: &Option<Vec<usize>>) -> DynTensor {
    match axes {
        None => x.sum_all(),
        Some(axes) => axes.iter().rev().fold(x, |x, &a| x.sum_axis(a)),
    }
}

/// The float dtype of a tensor, as a [`burn::tensor::FloatDType`].
pub(crate) fn dtype_of(x: &DynTensor) -> burn::tensor::FloatDType {
    match x.dtype() {
        burn::tensor::DType::F64 => burn::tensor::FloatDType::F64,
        burn::tensor::DType::F16 => burn::tensor::FloatDType::F16,
        burn::tensor::DType::BF16 => burn::tensor::FloatDType::BF16,
        _ => burn::tensor::FloatDType::F32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    fn t<const D: usize>(shape: [usize; D]) -> DynTensor {
        Tensor::<D>::ones(shape, &crate::backend::test_device()).into()
    }

    #[test]
    fn keras_rank_rules() {
        let (a, b) = squeeze_or_expand_to_same_rank(t([4, 1]), t([4]));
        assert_eq!((a.shape(), b.shape()), (&[4, 1][..], &[4, 1][..]));
        let (a, b) = squeeze_or_expand_to_same_rank(t([4, 3]), t([4, 3, 1]));
        assert_eq!((a.shape(), b.shape()), (&[4, 3][..], &[4, 3][..]));
        let (a, b) = squeeze_or_expand_to_same_rank(t([4, 3]), t([4]));
        assert_eq!((a.shape(), b.shape()), (&[4, 3][..], &[4][..]));
    }

    #[test]
    fn per_sample_weight_on_sequence_loss_is_expanded() -> Result<()> {
        let (_, w) = align_weight("sample_weight", t([2, 3]), t([2]))?;
        assert_eq!(w.shape(), &[2, 1]);
        // T == B: still per sample, never the time axis.
        let (_, w) = align_weight("sample_weight", t([3, 3]), t([3]))?;
        assert_eq!(w.shape(), &[3, 1]);
        let err = align_weight("sample_weight", t([2, 3]), t([4])).unwrap_err();
        assert!(matches!(err, Error::WeightShape { .. }), "{err}");
        Ok(())
    }
}
