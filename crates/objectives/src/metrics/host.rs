//! Metric inputs read to the host as f32 (Keras computes metrics in float32), with the shape
//! helpers the metric families share.

use rayon::prelude::*;

use super::config::input_error;
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::DynTensor;

/// A dense row-major f32 array on the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Host {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f32>,
}

impl Host {
    /// Reads a tensor (cast to f32, as Keras casts metric inputs to the metric's float32 dtype).
    ///
    /// # Errors
    /// A tensor that cannot be read back.
    pub fn read(t: &DynTensor) -> Result<Self> {
        Ok(Self { shape: t.shape().to_vec(), data: with_slice(t, |s| Ok(s.to_vec()))? })
    }

    /// An array from parts.
    ///
    /// # Errors
    /// [`Error::Data`] when `data` does not have `shape`'s element count.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::Data(format!("{} values for shape {shape:?} ({n} elements)", data.len())));
        }
        Ok(Self { shape, data })
    }

    /// The rank.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The element count.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// Size of axis 0 (1 for a scalar): the batch size.
    pub fn batch(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Normalizes a Keras axis (negative counts from the end) for this array.
    ///
    /// # Errors
    /// [`Error::AxisOutOfRange`] naming the metric, the axis and the shape.
    pub fn axis(&self, metric: &str, axis: i64) -> Result<usize> {
        normalize_axis(metric, axis, &self.shape)
    }

    /// The array with axis `axis` moved last (a copy unless it is already last): the class axis of
    /// a channels-first output becomes the contiguous one.
    pub fn move_axis_last(&self, axis: usize) -> Host {
        let r = self.rank();
        if axis + 1 >= r {
            return self.clone();
        }
        let outer: usize = self.shape[..axis].iter().product();
        let c = self.shape[axis];
        let inner: usize = self.shape[axis + 1..].iter().product();
        let mut data = Vec::with_capacity(self.data.len());
        for o in 0..outer {
            let base = o * c * inner;
            for i in 0..inner {
                data.extend((0..c).map(|k| self.data[base + k * inner + i]));
            }
        }
        let mut shape: Vec<usize> = self.shape[..axis].to_vec();
        shape.extend_from_slice(&self.shape[axis + 1..]);
        shape.push(c);
        Host { shape, data }
    }

    /// The shape without a trailing axis of size 1 (Keras's `squeeze(-1)` on labels).
    pub fn squeeze_last(mut self) -> Host {
        if self.shape.last() == Some(&1) {
            self.shape.pop();
        }
        self
    }
}

/// Normalizes a Keras axis (negative counts from the end) for an array of `shape`.
///
/// # Errors
/// [`Error::AxisOutOfRange`] naming the metric, the axis and the shape.
pub fn normalize_axis(metric: &str, axis: i64, shape: &[usize]) -> Result<usize> {
    let rank = shape.len() as i64;
    let a = if axis < 0 { axis + rank } else { axis };
    if rank == 0 || a < 0 || a >= rank {
        return Err(Error::AxisOutOfRange { name: metric.to_string(), axis, rank: shape.len(), shape: shape.to_vec() });
    }
    Ok(a as usize)
}

/// Calls `f` with the tensor's values as one row-major f32 slice: borrowed in place for a
/// contiguous f32 tensor on burn's Flex backend (no copy: reading a large prediction tensor is a
/// metric update's main cost), read back (and cast) otherwise.
///
/// # Errors
/// A tensor that cannot be read back, or `f`'s error.
pub fn with_slice<R>(t: &DynTensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    #[cfg(feature = "flex")]
    {
        use burn::backend::{BackendTensor, DispatchTensorKind};
        fn flex_slice(kind: &DispatchTensorKind) -> Option<&[f32]> {
            match kind {
                DispatchTensorKind::Flex(BackendTensor::Float(ft)) => ft.as_slice::<f32>(),
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
        let mut d = t.padded().clone().into_dispatch();
        if matches!(d.kind, DispatchTensorKind::Autodiff(_)) {
            // On an autodiff device: the inner backend's tensor, without its graph (no copy).
            d = t.padded().clone().inner().into_dispatch();
        }
        if let Some(s) = flex_slice(&d.kind).filter(|s| s.len() == t.numel()) {
            return f(s);
        }
    }
    f(&t.to_vec_f32()?)
}

/// Per-sample weights for `n` rows of `per_row` values each: Keras broadcasts a sample weight of
/// shape `[]`, `[n]`, `[n, 1]` or the values' full shape. Returns one weight per value.
///
/// # Errors
/// [`Error::WeightShape`] naming both shapes.
pub fn weights_per_value(weight: &Host, values_shape: &[usize]) -> Result<Vec<f32>> {
    let n: usize = values_shape.iter().product();
    let mut w_shape = weight.shape.clone();
    while w_shape.len() > values_shape.len() && w_shape.last() == Some(&1) {
        w_shape.pop();
    }
    let err = || Error::WeightShape {
        what: "sample_weight",
        weight: weight.shape.clone(),
        losses: values_shape.to_vec(),
        batch: values_shape.first().copied().unwrap_or(1),
    };
    if weight.numel() == 1 {
        return Ok(vec![weight.data[0]; n]);
    }
    // Right-pad the weight's shape with 1s (Keras expands trailing dims), then broadcast.
    if w_shape.len() > values_shape.len() {
        return Err(err());
    }
    let mut padded = w_shape.clone();
    padded.resize(values_shape.len(), 1);
    if padded.iter().zip(values_shape).any(|(&w, &v)| w != v && w != 1) {
        return Err(err());
    }
    let mut out = Vec::with_capacity(n);
    let rank = values_shape.len();
    let mut w_strides = vec![0usize; rank];
    let mut s = 1;
    for d in (0..rank).rev() {
        w_strides[d] = if padded[d] == 1 { 0 } else { s };
        s *= padded[d];
    }
    let mut idx = vec![0usize; rank];
    for _ in 0..n {
        let off: usize = idx.iter().zip(&w_strides).map(|(i, s)| i * s).sum();
        out.push(weight.data[off]);
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < values_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(out)
}

/// Numpy broadcasting of `data` (shape `from`) to shape `to`; `None` when it does not broadcast.
pub fn broadcast_to(from: &[usize], data: &[f32], to: &[usize]) -> Option<Vec<f64>> {
    if from.len() > to.len() {
        return None;
    }
    let off = to.len() - from.len();
    let mut strides = vec![0usize; to.len()];
    let mut s = 1;
    for d in (0..from.len()).rev() {
        let (f, t) = (from[d], to[d + off]);
        if f != t && f != 1 {
            return None;
        }
        strides[d + off] = if f == 1 { 0 } else { s };
        s *= f;
    }
    let n: usize = to.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; to.len()];
    for _ in 0..n {
        let o: usize = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(f64::from(*data.get(o)?));
        for d in (0..to.len()).rev() {
            idx[d] += 1;
            if idx[d] < to[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Some(out)
}

/// Rows per parallel task when the class axis is the last one.
const ROWS_PER_TASK: usize = 4096;

/// `(outer, classes, inner)` of `shape` around `axis`: element `k` of row `(o, i)` is at
/// `o·classes·inner + k·inner + i`.
pub(crate) fn split_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

/// `shape` without `axis`.
pub(crate) fn without_axis(shape: &[usize], axis: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s.remove(axis);
    s
}

/// `b` replaces `a` as the running maximum: greater, or the first NaN (numpy's argmax).
#[inline]
fn beats(b: f32, a: f32) -> bool {
    b > a || (b.is_nan() && !a.is_nan())
}

/// The index of the first maximum along `axis` (a NaN wins, as in numpy and JAX), for every
/// position of `shape` without `axis`, row-major: one strided pass, in parallel.
///
/// # Errors
/// An input error when the class axis has size 0 (there is no maximum).
pub(crate) fn argmax_along(metric: &str, what: &str, h: &Host, axis: usize) -> Result<Vec<u32>> {
    argmax_slice(metric, what, &h.data, &h.shape, axis)
}

/// [`argmax_along`] on a row-major slice of `shape`.
pub(crate) fn argmax_slice(metric: &str, what: &str, data: &[f32], shape: &[usize], axis: usize) -> Result<Vec<u32>> {
    let (outer, c, inner) = split_axis(shape, axis);
    if c == 0 && outer * inner > 0 {
        return Err(input_error(
            metric,
            format!("{what} has shape {:?} with an empty class axis {axis}; argmax needs at least one class", shape),
        ));
    }
    let mut out = vec![0u32; outer * inner];
    if outer * inner == 0 {
        return Ok(out);
    }
    if inner == 1 {
        out.par_chunks_mut(ROWS_PER_TASK).enumerate().for_each(|(chunk, dst)| {
            for (j, d) in dst.iter_mut().enumerate() {
                let r = chunk * ROWS_PER_TASK + j;
                let row = &data[r * c..(r + 1) * c];
                let (mut best, mut at) = (row[0], 0usize);
                for (k, &v) in row.iter().enumerate().skip(1) {
                    if beats(v, best) {
                        best = v;
                        at = k;
                    }
                }
                *d = at as u32;
            }
        });
        return Ok(out);
    }
    // Channels-first: stream the class planes, keeping a running maximum per position.
    let block = ROWS_PER_TASK.min(inner);
    out.par_chunks_mut(inner).enumerate().for_each(|(o, plane)| {
        let base = o * c * inner;
        plane.par_chunks_mut(block).enumerate().for_each(|(b, dst)| {
            let start = base + b * block;
            let n = dst.len();
            let mut best: Vec<f32> = data[start..start + n].to_vec();
            for k in 1..c {
                let src = &data[start + k * inner..start + k * inner + n];
                for ((d, m), &v) in dst.iter_mut().zip(best.iter_mut()).zip(src) {
                    if beats(v, *m) {
                        *m = v;
                        *d = k as u32;
                    }
                }
            }
        });
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_the_class_axis_last() {
        // (1, 2, 3): classes on axis 1.
        let h = Host::new(vec![1, 2, 3], vec![0., 1., 2., 10., 11., 12.]).unwrap();
        let m = h.move_axis_last(1);
        assert_eq!(m.shape, vec![1, 3, 2]);
        assert_eq!(m.data, vec![0., 10., 1., 11., 2., 12.]);
    }

    #[test]
    fn weights_broadcast_like_keras() {
        let w = Host::new(vec![2], vec![1., 2.]).unwrap();
        assert_eq!(weights_per_value(&w, &[2, 2]).unwrap(), vec![1., 1., 2., 2.]);
        let w = Host::new(vec![2, 1], vec![1., 2.]).unwrap();
        assert_eq!(weights_per_value(&w, &[2]).unwrap(), vec![1., 2.]);
        let w = Host::new(vec![3], vec![1., 2., 3.]).unwrap();
        assert!(weights_per_value(&w, &[2, 2]).is_err());
    }
}
