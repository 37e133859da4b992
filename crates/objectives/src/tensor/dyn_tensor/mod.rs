//! [`DynTensor`]: a burn float tensor whose rank is known at run time.
//!
//! Keras losses change rank (a loss over `axis` removes that axis) and their weights come in any
//! rank that broadcasts. burn's `Tensor<D>` fixes the rank at compile time, so losses work on a
//! `DynTensor`: a `Tensor<MAX_RANK>` whose logical shape is right-aligned and padded on the left
//! with size-1 axes. Padding on the left is exactly NumPy's broadcasting rule, so element-wise ops
//! between two `DynTensor`s broadcast the way Keras does. Autodiff flows through every operation.

use burn::tensor::{DType, Device, FloatDType, Tensor, TensorData};

use crate::error::{Error, Result};

/// The highest tensor rank a loss accepts.
pub const MAX_RANK: usize = 8;

/// A float tensor of run-time rank (0 to [`MAX_RANK`]) on any burn device.
///
/// Convert from and to burn tensors with [`From`] and [`DynTensor::into_tensor`]:
/// ```
/// # use objectives::DynTensor;
/// # use burn::tensor::{Device, Tensor};
/// let d = Device::flex();
/// let x: DynTensor = Tensor::<3>::zeros([2, 7, 4], &d).into();
/// assert_eq!(x.shape(), &[2, 7, 4]);
/// let back: Tensor<3> = x.into_tensor()?;
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct DynTensor {
    inner: Tensor<MAX_RANK>,
    shape: Vec<usize>,
}

pub(crate) fn padded(shape: &[usize]) -> [usize; MAX_RANK] {
    let mut out = [1usize; MAX_RANK];
    let off = MAX_RANK - shape.len();
    out[off..].copy_from_slice(shape);
    out
}

/// NumPy broadcasting of two shapes (right-aligned); `None` when they are incompatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() { 1 } else { a[i - (rank - a.len())] };
        let db = if i < rank - b.len() { 1 } else { b[i - (rank - b.len())] };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// `t.reshape(dims)`, except for tensors without elements, which burn 0.22 cannot reshape: those
/// are created afresh with the target dims (there is nothing to keep, not even a gradient).
fn reshape_any<const A: usize, const B: usize>(t: Tensor<A>, dims: [usize; B]) -> Tensor<B> {
    if dims.contains(&0) || t.dims().contains(&0) {
        let (device, dtype) = (t.device(), t.dtype());
        Tensor::<B>::zeros(dims, (&device, dtype))
    } else {
        t.reshape(dims)
    }
}

/// A contiguous copy of `t` on GPU backends when it is not contiguous (a no-op otherwise, and on
/// the host CPU backends).
///
/// burn 0.22.1's CubeCL reductions (`sum_dim`, `max_dim`, …) return wrong numbers for some
/// non-contiguous layouts: on wgpu, a rank-4 tensor with its last two axes swapped and reduced
/// over axis 0 sums the wrong elements. Every tensor that enters objectives passes through here,
/// so the composed losses never reduce such a view. A reshape to one axis and back copies only
/// what is not contiguous already.
fn contiguous_off_cpu<const D: usize>(t: Tensor<D>) -> Tensor<D> {
    let dims = t.dims();
    if D < 2 || dims.contains(&0) || crate::tensor::place::is_host_cpu(&t.device()) {
        return t;
    }
    let n = dims.iter().product::<usize>();
    t.reshape([n]).reshape(dims)
}

impl<const D: usize> From<Tensor<D>> for DynTensor {
    fn from(t: Tensor<D>) -> Self {
        const { assert!(D <= MAX_RANK, "objectives handles tensors up to rank 8") };
        let shape = t.dims().to_vec();
        Self { inner: reshape_any(contiguous_off_cpu(t), padded(&shape)), shape }
    }
}

impl<const D: usize> From<&Tensor<D>> for DynTensor {
    fn from(t: &Tensor<D>) -> Self {
        t.clone().into()
    }
}

impl From<&DynTensor> for DynTensor {
    fn from(t: &DynTensor) -> Self {
        t.clone()
    }
}

impl DynTensor {
    /// Wraps a padded tensor with its logical shape (crate-internal: callers keep them in sync).
    pub(crate) fn from_padded(inner: Tensor<MAX_RANK>, shape: Vec<usize>) -> Self {
        debug_assert_eq!(inner.dims(), padded(&shape));
        Self { inner, shape }
    }

    /// Wraps a padded `Tensor<MAX_RANK>` (logical `shape` right-aligned, size-1 axes on the left),
    /// as produced by element-wise ops on [`DynTensor::padded`] tensors.
    ///
    /// # Errors
    /// [`Error::RankTooHigh`] or [`Error::Data`] if `inner`'s dims are not `shape` padded.
    pub fn from_padded_checked(inner: Tensor<MAX_RANK>, shape: Vec<usize>) -> Result<Self> {
        if shape.len() > MAX_RANK {
            return Err(Error::RankTooHigh { rank: shape.len(), shape, max: MAX_RANK });
        }
        if inner.dims() != padded(&shape) {
            return Err(Error::Data(format!(
                "padded tensor of dims {:?} does not hold logical shape {shape:?}",
                inner.dims()
            )));
        }
        Ok(Self { inner: contiguous_off_cpu(inner), shape })
    }

    /// Builds a tensor from data of any rank and element type on `device`.
    ///
    /// Floating data keeps its precision (f16/bf16 become f32); integer and boolean data become
    /// f32, as Keras converts labels and masks to the loss dtype (integers are exact up to 2²⁴).
    ///
    /// # Errors
    /// [`Error::RankTooHigh`] above rank [`MAX_RANK`].
    pub fn from_data(data: TensorData, device: &Device) -> Result<Self> {
        let shape = data.shape().to_vec();
        if shape.len() > MAX_RANK {
            return Err(Error::RankTooHigh { rank: shape.len(), shape, max: MAX_RANK });
        }
        let target = match data.dtype() {
            DType::F64 => DType::F64,
            _ => DType::F32,
        };
        let (bytes, _, dtype) = data.convert_dtype(target).into_parts();
        let data =
            TensorData::try_from_bytes(bytes, padded(&shape), dtype).map_err(|e| Error::Data(format!("{e:?}")))?;
        let inner = Tensor::<MAX_RANK>::from_data(data, (device, target));
        Ok(Self { inner, shape })
    }

    /// A tensor of the given shape filled with `value`, in `dtype`, on `device`.
    ///
    /// # Errors
    /// [`Error::RankTooHigh`] above rank [`MAX_RANK`].
    pub fn full(shape: &[usize], value: f64, dtype: FloatDType, device: &Device) -> Result<Self> {
        if shape.len() > MAX_RANK {
            return Err(Error::RankTooHigh { rank: shape.len(), shape: shape.to_vec(), max: MAX_RANK });
        }
        let inner = Tensor::<MAX_RANK>::full(padded(shape), value, (device, DType::from(dtype)));
        Ok(Self { inner, shape: shape.to_vec() })
    }

    /// The logical shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The logical rank (0 for a scalar).
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The device the data lives on.
    pub fn device(&self) -> Device {
        self.inner.device()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.inner.dtype()
    }

    /// The padded `Tensor<MAX_RANK>` (logical shape right-aligned).
    pub fn padded(&self) -> &Tensor<MAX_RANK> {
        &self.inner
    }

    /// Consumes `self`, giving the padded `Tensor<MAX_RANK>`.
    pub fn into_padded(self) -> Tensor<MAX_RANK> {
        self.inner
    }

    /// Views the tensor as a `Tensor<D>`.
    ///
    /// # Errors
    /// [`Error::RankMismatch`] if the rank is not `D`.
    pub fn into_tensor<const D: usize>(self) -> Result<Tensor<D>> {
        if self.shape.len() != D {
            return Err(Error::RankMismatch { rank: self.shape.len(), shape: self.shape, requested: D });
        }
        let mut dims = [0usize; D];
        dims.copy_from_slice(&self.shape);
        Ok(reshape_any(self.inner, dims))
    }

    /// Reads the single value of a one-element tensor.
    ///
    /// # Errors
    /// [`Error::Data`] if the tensor does not hold exactly one element or cannot be read.
    pub fn into_scalar<E: burn::tensor::Element>(self) -> Result<E> {
        if self.numel() != 1 {
            return Err(Error::Data(format!(
                "into_scalar needs exactly one element, the tensor has shape {:?}; reduce it first \
                 (use a reduction other than \"none\")",
                self.shape
            )));
        }
        self.inner.try_into_scalar::<E>().map_err(|e| Error::Data(format!("{e:?}")))
    }

    /// Reads the data back, with the logical shape.
    ///
    /// # Errors
    /// [`Error::Data`] if the backend cannot read it.
    pub fn into_data(self) -> Result<TensorData> {
        let shape = self.shape.clone();
        let data = self.inner.try_into_data().map_err(|e| Error::Data(format!("{e:?}")))?;
        let dtype = data.dtype();
        let bytes = data.into_bytes();
        TensorData::try_from_bytes(bytes, shape, dtype).map_err(|e| Error::Data(format!("{e:?}")))
    }

    /// Reads all values as `f32`, in row-major order.
    ///
    /// # Errors
    /// [`Error::Data`] if the backend cannot read them.
    pub fn to_vec_f32(&self) -> Result<Vec<f32>> {
        let data = self.inner.clone().try_into_data().map_err(|e| Error::Data(format!("{e:?}")))?;
        data.convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Data(format!("{e:?}")))
    }

    /// Reads all values as `f64`, in row-major order.
    ///
    /// # Errors
    /// [`Error::Data`] if the backend cannot read them.
    pub fn to_vec_f64(&self) -> Result<Vec<f64>> {
        let data = self.inner.clone().try_into_data().map_err(|e| Error::Data(format!("{e:?}")))?;
        data.convert::<f64>().try_into_vec::<f64>().map_err(|e| Error::Data(format!("{e:?}")))
    }

    /// Applies an element-wise (shape-preserving) function to the padded tensor.
    pub fn map(self, f: impl FnOnce(Tensor<MAX_RANK>) -> Tensor<MAX_RANK>) -> Self {
        let shape = self.shape;
        let inner = f(self.inner);
        Self::from_padded(inner, shape)
    }

    /// Combines two tensors of the same shape element-wise.
    pub(crate) fn zip(
        self,
        other: Self,
        f: impl FnOnce(Tensor<MAX_RANK>, Tensor<MAX_RANK>) -> Tensor<MAX_RANK>,
    ) -> Self {
        debug_assert_eq!(self.shape, other.shape);
        let shape = self.shape;
        Self::from_padded(f(self.inner, other.inner), shape)
    }

    /// Combines two tensors of the same shape element-wise with `f` on their padded tensors
    /// (e.g. `|t, p| t.sub(p).square()`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the shapes differ.
    pub fn zip_with(
        self,
        other: Self,
        f: impl FnOnce(Tensor<MAX_RANK>, Tensor<MAX_RANK>) -> Tensor<MAX_RANK>,
    ) -> Result<Self> {
        if self.shape != other.shape {
            return Err(Error::ShapeMismatch { name: "zip_with".into(), y_true: self.shape, y_pred: other.shape });
        }
        Ok(self.zip(other, f))
    }

    /// Element-wise product of two tensors of the same shape (panics in debug builds otherwise;
    /// crate-internal callers check shapes first).
    pub(crate) fn zip_same(self, other: Self) -> Self {
        self.zip(other, |a, b| a.mul(b))
    }

    /// Element-wise product with NumPy broadcasting; `None` if the shapes do not broadcast.
    pub fn broadcast_mul(self, other: Self) -> Option<Self> {
        let shape = broadcast_shapes(&self.shape, &other.shape)?;
        let inner = self.inner.mul(other.inner);
        Some(Self::from_padded(inner, shape))
    }

    /// Casts the elements to `dtype` (differentiable).
    pub fn cast(self, dtype: FloatDType) -> Self {
        if self.inner.dtype() == DType::from(dtype) {
            return self;
        }
        self.map(|t| t.cast(dtype))
    }

    fn pad_offset(&self) -> usize {
        MAX_RANK - self.shape.len()
    }

    /// The dimension of the padded tensor that holds logical `axis` (already normalized).
    pub fn padded_axis(&self, axis: usize) -> usize {
        axis + self.pad_offset()
    }

    /// Checks `axis` against the rank and turns a negative axis into a positive one.
    ///
    /// # Errors
    /// [`Error::ScalarInput`] for a scalar, [`Error::AxisOutOfRange`] outside `[-rank, rank)`.
    pub fn normalize_axis(&self, loss: &str, axis: i64) -> Result<usize> {
        let rank = self.shape.len();
        if rank == 0 {
            return Err(Error::ScalarInput { name: loss.to_string() });
        }
        let r = rank as i64;
        if axis < -r || axis >= r {
            return Err(Error::AxisOutOfRange { name: loss.to_string(), axis, rank, shape: self.shape.clone() });
        }
        Ok(if axis < 0 { (axis + r) as usize } else { axis as usize })
    }

    fn drop_axis(self, axis: usize, reduced: Tensor<MAX_RANK>) -> Self {
        let mut shape = self.shape;
        shape.remove(axis);
        let inner = reshape_any(reduced, padded(&shape));
        Self { inner, shape }
    }

    /// Sum over `axis` (already normalized), removing it.
    pub fn sum_axis(self, axis: usize) -> Self {
        let d = axis + self.pad_offset();
        let r = self.inner.clone().sum_dim(d);
        self.drop_axis(axis, r)
    }

    /// Mean over `axis` (already normalized), removing it.
    pub fn mean_axis(self, axis: usize) -> Self {
        let d = axis + self.pad_offset();
        let r = self.inner.clone().mean_dim(d);
        self.drop_axis(axis, r)
    }

    /// Maximum over `axis` (already normalized), removing it.
    pub fn max_axis(self, axis: usize) -> Self {
        let d = axis + self.pad_offset();
        let r = self.inner.clone().max_dim(d);
        self.drop_axis(axis, r)
    }

    /// The elements `start..start + len` along `axis` (e.g. a micro-batch along axis 0).
    ///
    /// # Errors
    /// [`Error::AxisOutOfRange`] or [`Error::Data`] if the range does not fit.
    pub fn narrow(self, axis: usize, start: usize, len: usize) -> Result<Self> {
        let Some(&size) = self.shape.get(axis) else {
            return Err(Error::AxisOutOfRange {
                name: "narrow".into(),
                axis: axis as i64,
                rank: self.shape.len(),
                shape: self.shape,
            });
        };
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::Data(format!(
                "narrow: {start}..{} is outside axis {axis} of size {size} (shape {:?})",
                start.saturating_add(len),
                self.shape
            )));
        }
        let d = self.padded_axis(axis);
        let mut shape = self.shape;
        shape[axis] = len;
        Ok(Self { inner: self.inner.narrow(d, start, len), shape })
    }

    /// The rows `indices` of axis 0, in that order (a shuffled or sliced batch); gradients flow.
    ///
    /// # Errors
    /// [`Error::ScalarInput`] for a scalar; [`Error::Data`] for an index out of range.
    pub fn select_rows(self, indices: &[usize]) -> Result<Self> {
        let Some(&rows) = self.shape.first() else {
            return Err(Error::ScalarInput { name: "select_rows".into() });
        };
        if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
            return Err(Error::Data(format!(
                "row {bad} is out of range for axis 0 of size {rows} (shape {:?})",
                self.shape
            )));
        }
        let device = self.inner.device();
        let idx: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let idx = Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(idx, [indices.len()]), &device);
        let mut shape = self.shape.clone();
        shape[0] = indices.len();
        if indices.is_empty() || self.numel() == 0 {
            let (device, dtype) = (self.inner.device(), self.inner.dtype());
            return Ok(Self { inner: Tensor::zeros(padded(&shape), (&device, dtype)), shape });
        }
        let d = self.padded_axis(0);
        Ok(Self { inner: self.inner.select(d, idx), shape })
    }

    /// Reshapes to `shape` (same number of elements; the caller checks).
    pub(crate) fn reshape(self, shape: Vec<usize>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), self.numel());
        let inner = reshape_any(self.inner, padded(&shape));
        Self { inner, shape }
    }

    /// Sum of all elements as a rank-0 tensor that does not drift over large reductions (a naive
    /// f32 running sum over 2²⁴ values loses several percent). On the host CPU backends it is
    /// accumulated in f64 (native and exact there); elsewhere (GPU backends, where f64 may be
    /// missing, slow or wrong) it is a pairwise sum in the tensor's own dtype: blocks of
    /// [`PAIRWISE_BLOCK`] elements summed level by level, so each value passes through about
    /// log₃₂(n) additions of ≤ 32 terms, and no buffer larger than the input is allocated. The
    /// result has the element type of `self`; gradients flow through.
    pub fn sum_all(self) -> Self {
        let dtype = self.inner.dtype();
        let s = if crate::tensor::place::is_host_cpu(&self.inner.device()) {
            let wide = if dtype == DType::F64 { self.inner } else { self.inner.cast(FloatDType::F64) };
            wide.sum()
        } else {
            let n = self.numel();
            pairwise_sum(reshape_any(self.inner, [n]))
        };
        let s = match dtype {
            DType::F64 => s.cast(FloatDType::F64),
            DType::F32 | DType::Flex32 => s.cast(FloatDType::F32),
            DType::F16 => s.cast(FloatDType::F16),
            DType::BF16 => s.cast(FloatDType::BF16),
            _ => s.cast(FloatDType::F32),
        };
        Self { inner: s.reshape([1usize; MAX_RANK]), shape: vec![] }
    }
}

/// The block of the pairwise sum of [`DynTensor::sum_all`]: each level sums this many values into one.
pub const PAIRWISE_BLOCK: usize = 32;

/// Pairwise sum of a rank-1 tensor in its own dtype: zero-pad to a multiple of
/// [`PAIRWISE_BLOCK`], sum each block, repeat until one block is left.
fn pairwise_sum(mut t: Tensor<1>) -> Tensor<1> {
    let mut n = t.dims()[0];
    while n > PAIRWISE_BLOCK {
        let blocks = n.div_ceil(PAIRWISE_BLOCK);
        let pad = blocks * PAIRWISE_BLOCK - n;
        if pad > 0 {
            let zeros = Tensor::<1>::zeros([pad], (&t.device(), t.dtype()));
            t = Tensor::cat(vec![t, zeros], 0);
        }
        t = t.reshape([blocks, PAIRWISE_BLOCK]).sum_dim(1).reshape([blocks]);
        n = blocks;
    }
    t.sum()
}

#[cfg(test)]
mod tests;
