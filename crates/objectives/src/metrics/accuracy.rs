//! The accuracy metrics (`keras/src/metrics/accuracy_metrics.py`): `Accuracy`, `BinaryAccuracy`,
//! `CategoricalAccuracy`, `SparseCategoricalAccuracy`, `TopKCategoricalAccuracy` and
//! `SparseTopKCategoricalAccuracy`.
//!
//! Each is one of Keras's `MeanMetricWrapper` subclasses: a per-sample match (1 or 0), averaged
//! with the sample weight ([`Wrapped`](super::mean::Wrapped)). The matches are computed on the host in float32, as
//! Keras computes them, with Keras's shape rules (the `(B, 1)` label squeeze, broadcasting of
//! `equal`, the reshape of matches to `y_true`'s shape).
//!
//! Ties: `argmax` takes the first maximum (a NaN counts as the maximum, as numpy and JAX do).
//! `in_top_k` follows Keras's JAX backend: the target is in the top `k` when its score is `>=` the
//! `k`-th largest score, so every class tied with the `k`-th score counts; in other words, when
//! fewer than `k` scores are strictly greater than the target's (a NaN score counts as greater,
//! and a NaN target score is never in the top `k`). `k` at least the number of classes makes
//! every finite target a match (JAX's `top_k` refuses such a `k`; TensorFlow gives every target).
//!
//! `axis` (default -1) on the categorical, sparse and top-k metrics is an objectives extension
//! (Keras always uses the last axis): the class axis of `y_pred` (and of `y_true` for the one-hot
//! ones), so channels-first `(B, C, H, W)` outputs work with `axis: 1`.

use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use super::host::{Host, argmax_along, split_axis, without_axis};
use super::mean::SampleFn;
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::{DynTensor, broadcast_shapes};
use crate::tensor::shape::{same_rank_shapes, unravel};

/// Whether the target's score is in the top `k` of `row` (JAX's `in_top_k`: fewer than `k`
/// scores strictly greater than the target's, a NaN counting as greater; a NaN target is out).
fn in_top_k(row: impl Iterator<Item = f32>, target: f32, k: usize) -> bool {
    if target.is_nan() {
        return false;
    }
    let mut greater = 0usize;
    for v in row {
        if v > target || v.is_nan() {
            greater += 1;
            if greater >= k {
                return false;
            }
        }
    }
    greater < k
}

/// `f(a, b)` with numpy broadcasting of the two shapes; `None` when they do not broadcast.
fn broadcast_zip(
    a: &[f32],
    sa: &[usize],
    b: &[f32],
    sb: &[usize],
    f: impl Fn(f32, f32) -> f32,
) -> Option<(Vec<f32>, Vec<usize>)> {
    if sa == sb {
        return Some((a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect(), sa.to_vec()));
    }
    let out = broadcast_shapes(sa, sb)?;
    let strides = |s: &[usize]| -> Vec<usize> {
        let off = out.len() - s.len();
        let mut st = vec![0usize; out.len()];
        let mut acc = 1;
        for d in (0..s.len()).rev() {
            st[d + off] = if s[d] == 1 { 0 } else { acc };
            acc *= s[d];
        }
        st
    };
    let (ta, tb) = (strides(sa), strides(sb));
    let n: usize = out.iter().product();
    let mut v = Vec::with_capacity(n);
    let mut idx = vec![0usize; out.len()];
    let (mut ia, mut ib) = (0usize, 0usize);
    for _ in 0..n {
        v.push(f(*a.get(ia)?, *b.get(ib)?));
        for d in (0..out.len()).rev() {
            idx[d] += 1;
            ia += ta[d];
            ib += tb[d];
            if idx[d] < out[d] {
                break;
            }
            ia -= ta[d] * out[d];
            ib -= tb[d] * out[d];
            idx[d] = 0;
        }
    }
    Some((v, out))
}

fn mismatch(metric: &str, t: &[usize], p: &[usize]) -> Error {
    Error::ShapeMismatch { name: metric.to_string(), y_true: t.to_vec(), y_pred: p.to_vec() }
}

/// Checks that every label is an integer in `[0, classes)`.
fn check_labels(metric: &str, labels: &Host, classes: usize) -> Result<()> {
    match labels.data.iter().position(|&v| !(v.fract() == 0.0 && v >= 0.0 && (v as f64) < classes as f64)) {
        None => Ok(()),
        Some(i) => Err(Error::InvalidLabel {
            name: metric.to_string(),
            value: f64::from(labels.data[i]),
            position: unravel(i, &labels.shape),
            classes,
        }),
    }
}

/// The per-sample values as a tensor on `like`'s device.
fn values_tensor(values: Vec<f32>, shape: Vec<usize>, like: &DynTensor) -> Result<DynTensor> {
    DynTensor::from_data(TensorData::new(values, shape), &like.device())
}

fn one(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

/// `keras.metrics.Accuracy`: how often `y_pred` equals `y_true`, `mean(y_true == y_pred)`
/// (weighted), elementwise after Keras's rank alignment (a trailing axis of 1 is squeezed or
/// added) and broadcasting.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, accuracy::Accuracy};
/// let d = Device::flex();
/// let mut m = Accuracy {}.metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[1.], [2.], [3.], [4.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.], [2.], [3.], [4.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result().scalar()?, 0.75);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Accuracy {}

impl SampleFn for Accuracy {
    const CLASS_NAME: &'static str = "Accuracy";
    const DEFAULT_NAME: &'static str = "accuracy";

    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let (t, p) = (Host::read(y_true)?, Host::read(y_pred)?);
        let (st, sp) = same_rank_shapes(&t.shape, &p.shape);
        let (v, shape) = broadcast_zip(&t.data, &st, &p.data, &sp, |a, b| one(a == b))
            .ok_or_else(|| mismatch(Self::CLASS_NAME, &t.shape, &p.shape))?;
        values_tensor(v, shape, y_pred)
    }
}

/// `keras.metrics.BinaryAccuracy`: how often `y_true` equals `y_pred > threshold` (compared in
/// float32), `mean(y_true == (y_pred > threshold))`, weighted.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, accuracy::BinaryAccuracy};
/// let d = Device::flex();
/// let mut m = BinaryAccuracy { threshold: 0.5 }.metric()?;
/// let t: DynTensor = Tensor::<1>::from_floats([1., 1., 0., 0.], &d).into();
/// let p: DynTensor = Tensor::<1>::from_floats([0.98, 1., 0., 0.6], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result().scalar()?, 0.75);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BinaryAccuracy {
    /// A prediction above this (float32) threshold is class 1. Keras's default 0.5.
    pub threshold: f64,
}

impl Default for BinaryAccuracy {
    fn default() -> Self {
        Self { threshold: 0.5 }
    }
}

impl SampleFn for BinaryAccuracy {
    const CLASS_NAME: &'static str = "BinaryAccuracy";
    const DEFAULT_NAME: &'static str = "binary_accuracy";

    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let (t, p) = (Host::read(y_true)?, Host::read(y_pred)?);
        let (st, sp) = same_rank_shapes(&t.shape, &p.shape);
        let thr = self.threshold as f32;
        let (v, shape) = broadcast_zip(&t.data, &st, &p.data, &sp, |a, b| one(a == one(b > thr)))
            .ok_or_else(|| mismatch(Self::CLASS_NAME, &t.shape, &p.shape))?;
        values_tensor(v, shape, y_pred)
    }
}

/// `keras.metrics.CategoricalAccuracy`: how often the one-hot `y_true`'s class is `y_pred`'s
/// argmax, `mean(argmax(y_true) == argmax(y_pred))` along `axis` (first maximum on ties),
/// weighted.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, accuracy::CategoricalAccuracy};
/// let d = Device::flex();
/// let mut m = CategoricalAccuracy::default().metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 0., 1.], [0., 1., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.1, 0.9, 0.8], [0.05, 0.95, 0.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result().scalar()?, 0.5);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CategoricalAccuracy {
    /// The class axis of both inputs (objectives extension; Keras: the last). Default -1.
    pub axis: i64,
}

impl Default for CategoricalAccuracy {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl SampleFn for CategoricalAccuracy {
    const CLASS_NAME: &'static str = "CategoricalAccuracy";
    const DEFAULT_NAME: &'static str = "categorical_accuracy";

    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let name = Self::CLASS_NAME;
        let (t, p) = (Host::read(y_true)?, Host::read(y_pred)?);
        let (at, ap) = (t.axis(name, self.axis)?, p.axis(name, self.axis)?);
        let ti: Vec<f32> = argmax_along(name, "y_true", &t, at)?.into_iter().map(|i| i as f32).collect();
        let pi: Vec<f32> = argmax_along(name, "y_pred", &p, ap)?.into_iter().map(|i| i as f32).collect();
        let t_org = without_axis(&t.shape, at);
        let sp = without_axis(&p.shape, ap);
        let mut st = t_org.clone();
        // Keras: argmax(y_true) of y_pred's rank is squeezed on its last axis, and the matches
        // take argmax(y_true)'s shape back.
        let reshape = st.len() == p.rank();
        if reshape {
            if st.last() != Some(&1) {
                return Err(mismatch(name, &t.shape, &p.shape));
            }
            st.pop();
        }
        let (v, shape) =
            broadcast_zip(&ti, &st, &pi, &sp, |a, b| one(a == b)).ok_or_else(|| mismatch(name, &t.shape, &p.shape))?;
        let shape = if reshape { reshaped(name, &t.shape, &p.shape, shape, &t_org)? } else { shape };
        values_tensor(v, shape, y_pred)
    }
}

/// Keras's `ops.reshape(matches, y_true_org_shape)`: same element count required.
fn reshaped(name: &str, t: &[usize], p: &[usize], shape: Vec<usize>, to: &[usize]) -> Result<Vec<usize>> {
    if shape.iter().product::<usize>() != to.iter().product::<usize>() {
        return Err(mismatch(name, t, p));
    }
    Ok(to.to_vec())
}

/// `keras.metrics.SparseCategoricalAccuracy`: how often the integer label is `y_pred`'s argmax
/// along `axis`, `mean(y_true == argmax(y_pred))` (first maximum on ties), weighted. Labels of
/// shape `(B, 1)` with `(B, C)` predictions are squeezed, as Keras does; a label that is not an
/// integer in `[0, C)` is refused ([`Error::InvalidLabel`]; Keras counts it as a miss).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, accuracy::SparseCategoricalAccuracy};
/// let d = Device::flex();
/// let mut m = SparseCategoricalAccuracy::default().metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[2.], [1.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.1, 0.6, 0.3], [0.05, 0.95, 0.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result().scalar()?, 0.5);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SparseCategoricalAccuracy {
    /// The class axis of `y_pred` (objectives extension; Keras: the last). Default -1.
    pub axis: i64,
}

impl Default for SparseCategoricalAccuracy {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl SampleFn for SparseCategoricalAccuracy {
    const CLASS_NAME: &'static str = "SparseCategoricalAccuracy";
    const DEFAULT_NAME: &'static str = "sparse_categorical_accuracy";

    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let name = Self::CLASS_NAME;
        let (t, p) = (Host::read(y_true)?, Host::read(y_pred)?);
        let ap = p.axis(name, self.axis)?;
        check_labels(name, &t, p.shape[ap])?;
        let t_org = t.shape.clone();
        let mut st = t.shape.clone();
        // Keras squeezes labels of y_pred's rank whose (class) axis has size 1: (B, 1) → (B,).
        let reshape = st.len() == p.rank() && st[ap] == 1;
        if reshape {
            st.remove(ap);
        }
        let pi: Vec<f32> = argmax_along(name, "y_pred", &p, ap)?.into_iter().map(|i| i as f32).collect();
        let sp = without_axis(&p.shape, ap);
        let (v, shape) = broadcast_zip(&t.data, &st, &pi, &sp, |a, b| one(a == b))
            .ok_or_else(|| sparse_mismatch(name, &t.shape, &p.shape, ap))?;
        let mut shape = if reshape { reshaped(name, &t.shape, &p.shape, shape, &t_org)? } else { shape };
        if shape.len() > 1 && shape.last() == Some(&1) {
            shape.pop();
        }
        values_tensor(v, shape, y_pred)
    }
}

fn sparse_mismatch(metric: &str, t: &[usize], p: &[usize], axis: usize) -> Error {
    Error::SparseShapeMismatch {
        name: metric.to_string(),
        y_true: t.to_vec(),
        y_pred: p.to_vec(),
        axis: axis as i64,
        expected: without_axis(p, axis),
    }
}

/// The rows of `p` along `axis` (row-major over the other axes) and the number of classes.
fn rows(p: &Host, axis: usize) -> (usize, usize, usize, usize) {
    let (outer, c, inner) = split_axis(&p.shape, axis);
    (outer * inner, outer, c, inner)
}

/// Row `r`'s scores, strided.
fn row_iter(p: &Host, r: usize, c: usize, inner: usize) -> impl Iterator<Item = f32> + '_ {
    let (o, i) = (r / inner, r % inner);
    let base = o * c * inner + i;
    (0..c).map(move |k| p.data[base + k * inner])
}

/// `keras.metrics.TopKCategoricalAccuracy`: how often the one-hot `y_true`'s class is among
/// `y_pred`'s `k` largest scores along `axis` (ties with the `k`-th score count, as JAX's
/// `in_top_k`), weighted.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, accuracy::TopKCategoricalAccuracy};
/// let d = Device::flex();
/// let mut m = TopKCategoricalAccuracy { k: 1, axis: -1 }.metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 0., 1.], [0., 1., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.1, 0.9, 0.8], [0.05, 0.95, 0.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result().scalar()?, 0.5);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopKCategoricalAccuracy {
    /// How many of the largest scores count. Keras's default 5.
    pub k: usize,
    /// The class axis of both inputs (objectives extension; Keras: the last). Default -1.
    pub axis: i64,
}

impl Default for TopKCategoricalAccuracy {
    fn default() -> Self {
        Self { k: 5, axis: -1 }
    }
}

impl SampleFn for TopKCategoricalAccuracy {
    const CLASS_NAME: &'static str = "TopKCategoricalAccuracy";
    const DEFAULT_NAME: &'static str = "top_k_categorical_accuracy";

    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let name = Self::CLASS_NAME;
        let (t, p) = (Host::read(y_true)?, Host::read(y_pred)?);
        let (at, ap) = (t.axis(name, self.axis)?, p.axis(name, self.axis)?);
        let targets = argmax_along(name, "y_true", &t, at)?;
        let t_org = without_axis(&t.shape, at);
        let (n, _, c, inner) = rows(&p, ap);
        if targets.len() != n || t.shape[at] != c {
            return Err(mismatch(name, &t.shape, &p.shape));
        }
        let v: Vec<f32> = targets
            .iter()
            .enumerate()
            .map(|(r, &ti)| {
                let target = p.data[(r / inner) * c * inner + (ti as usize) * inner + r % inner];
                one(in_top_k(row_iter(&p, r, c, inner), target, self.k))
            })
            .collect();
        let shape = if t_org.len() > 1 { t_org } else { vec![n] };
        values_tensor(v, shape, y_pred)
    }
}

/// `keras.metrics.SparseTopKCategoricalAccuracy`: how often the integer label is among
/// `y_pred`'s `k` largest scores along `axis` (ties with the `k`-th score count, as JAX's
/// `in_top_k`), weighted. With `from_sorted_ids`, `y_pred` holds class ids sorted by score and
/// a match is the label among its first `k` ids. A label that is not an integer in `[0, C)` is
/// refused ([`Error::InvalidLabel`]; Keras counts it as a miss).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, accuracy::SparseTopKCategoricalAccuracy};
/// let d = Device::flex();
/// let mut m = SparseTopKCategoricalAccuracy { k: 2, ..Default::default() }.metric()?;
/// let t: DynTensor = Tensor::<1>::from_floats([2., 2.], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.1, 0.9, 0.8], [0.05, 0.95, 0.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result().scalar()?, 0.5);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SparseTopKCategoricalAccuracy {
    /// How many of the largest scores count. Keras's default 5.
    pub k: usize,
    /// `y_pred` holds class ids sorted by descending score (e.g. a top-k op's indices).
    pub from_sorted_ids: bool,
    /// The class axis of `y_pred` (objectives extension; Keras: the last). Default -1.
    pub axis: i64,
}

impl Default for SparseTopKCategoricalAccuracy {
    fn default() -> Self {
        Self { k: 5, from_sorted_ids: false, axis: -1 }
    }
}

impl SampleFn for SparseTopKCategoricalAccuracy {
    const CLASS_NAME: &'static str = "SparseTopKCategoricalAccuracy";
    const DEFAULT_NAME: &'static str = "sparse_top_k_categorical_accuracy";

    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let name = Self::CLASS_NAME;
        let (t, p) = (Host::read(y_true)?, Host::read(y_pred)?);
        let ap = p.axis(name, self.axis)?;
        let (n, _, c, inner) = rows(&p, ap);
        if t.numel() != n {
            return Err(sparse_mismatch(name, &t.shape, &p.shape, ap));
        }
        let v: Vec<f32> = if self.from_sorted_ids {
            t.data
                .iter()
                .enumerate()
                .map(|(r, &label)| one(row_iter(&p, r, c, inner).take(self.k).any(|id| id == label)))
                .collect()
        } else {
            check_labels(name, &t, c)?;
            t.data
                .iter()
                .enumerate()
                .map(|(r, &label)| {
                    let target = p.data[(r / inner) * c * inner + (label as usize) * inner + r % inner];
                    one(in_top_k(row_iter(&p, r, c, inner), target, self.k))
                })
                .collect()
        };
        let shape = if t.rank() > 1 { t.shape.clone() } else { vec![n] };
        values_tensor(v, shape, y_pred)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn h(shape: &[usize], data: &[f32]) -> Host {
        Host::new(shape.to_vec(), data.to_vec()).unwrap()
    }

    #[test]
    fn argmax_first_max_and_strided() {
        let x = h(&[2, 3], &[1., 3., 3., f32::NAN, 5., f32::NAN]);
        assert_eq!(argmax_along("m", "y", &x, 1).unwrap(), vec![1, 0]);
        // (1, 3, 2): classes on axis 1.
        let x = h(&[1, 3, 2], &[0., 9., 5., 1., 5., 9.]);
        assert_eq!(argmax_along("m", "y", &x, 1).unwrap(), vec![1, 0]);
        assert!(argmax_along("m", "y", &h(&[2, 0], &[]), 1).is_err());
    }

    #[test]
    fn top_k_ties_count() {
        let row = [0.1f32, 0.5, 0.5, 0.2];
        assert!(in_top_k(row.iter().copied(), 0.5, 1));
        assert!(!in_top_k(row.iter().copied(), 0.2, 2));
        assert!(in_top_k(row.iter().copied(), 0.2, 3));
        assert!(in_top_k(row.iter().copied(), 0.1, 9));
        assert!(!in_top_k(row.iter().copied(), 0.1, 0));
        assert!(!in_top_k([f32::NAN, 1.0].into_iter(), 1.0, 1));
    }

    #[test]
    fn broadcasting_equal() {
        let (v, s) = broadcast_zip(&[0., 0.], &[2, 1], &[0., 1.], &[1, 2], |a, b| one(a == b)).unwrap();
        assert_eq!(s, vec![2, 2]);
        assert_eq!(v, vec![1., 0., 1., 0.]);
        assert!(broadcast_zip(&[0., 0.], &[2], &[0., 1., 2.], &[3], |a, b| a + b).is_none());
    }
}
