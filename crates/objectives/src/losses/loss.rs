//! The [`Loss`] trait — what a loss is: per-sample losses, its metadata, its fused kernel — and
//! [`LossExt`], the one place where every loss is computed (inputs checked and cast, the fused
//! path, masks, the reducer, partials). Built-in losses are [`crate::LossFunctionWrapper`]s
//! (`wrapper.rs`).

use std::fmt;

use burn::tensor::FloatDType;
use serde_json::Value;

use crate::error::Result;
use crate::fused::FusedKernel;
use crate::reduce::Reduction;
use crate::reduce::partial::Partial;
use crate::reduce::semantics::{Semantics, reduce_as};
use crate::tensor::dyn_tensor::DynTensor;
use crate::tensor::shape::align_weight;

/// Per-sample losses, plus the mask a loss attaches to its own output (Keras's `_keras_mask` on
/// the loss tensor; only a few losses set one, e.g. `SparseCategoricalCrossentropy` with
/// `ignore_class`).
#[derive(Clone, Debug)]
pub struct LossValues {
    /// The unreduced per-sample losses.
    pub values: DynTensor,
    /// A mask over `values` that the reducer must honour, if the loss produced one.
    pub mask: Option<DynTensor>,
}

impl From<DynTensor> for LossValues {
    fn from(values: DynTensor) -> Self {
        Self { values, mask: None }
    }
}

/// A loss: what it is — per-sample losses, its metadata, its fused kernel if it has one.
///
/// How a loss is *computed* (casting, the fused path, masks, the reducer, partials) is not part
/// of this trait: it lives in one place, [`LossExt`], which every `Loss` gets and none can
/// override. The methods take [`DynTensor`]s so that the trait works as `dyn Loss` (the registry
/// hands out `Box<dyn Loss>`); [`LossExt::call`] accepts burn `Tensor<D>`s directly.
pub trait Loss: fmt::Debug + Send + Sync {
    /// The loss's name (Keras's `name`, e.g. `"huber_loss"`).
    fn name(&self) -> &str;

    /// The Keras class name (e.g. `"Huber"`).
    fn class_name(&self) -> &str;

    /// How per-sample losses are reduced.
    fn reduction(&self) -> Reduction;

    /// The dtype the loss computes in (Keras: `float32` unless `dtype` is given).
    fn dtype(&self) -> FloatDType {
        FloatDType::F32
    }

    /// The per-sample formula in one line (empty if unknown), shown by [`crate::explain()`].
    fn formula(&self) -> &str {
        ""
    }

    /// Which Keras generation's reduction the loss reproduces (default: Keras 3).
    fn semantics(&self) -> Semantics {
        Semantics::Keras3
    }

    /// The unreduced per-sample losses (inputs already cast to [`Loss::dtype`]).
    ///
    /// # Errors
    /// Shape, axis or value errors of the loss.
    fn per_sample(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<LossValues>;

    /// The loss's Keras serialized form (`{"module", "class_name", "config", "registered_name"}`).
    fn to_keras_json(&self) -> Value;

    /// The fused single-pass kernel computing this loss, if it has one for its arguments (see
    /// [`crate::fused`]); `None` (the default) means the composed path only. Only objectives'
    /// built-in losses make a [`FusedKernel`]: a loss of your own returns `None`, or forwards the
    /// kernel of a built-in loss it wraps.
    fn fused(&self) -> Option<FusedKernel> {
        None
    }

    /// Checks the inputs before anything is computed; every computation of [`LossExt`] calls it
    /// first. The default accepts everything (shape checks belong to [`Loss::per_sample`] and the
    /// reducer); [`crate::losses::finite::CheckFinite`] refuses non-finite values here.
    ///
    /// # Errors
    /// The loss's own input errors.
    fn check_inputs(
        &self,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
        mask: Option<&DynTensor>,
    ) -> Result<()> {
        let _ = (y_true, y_pred, sample_weight, mask);
        Ok(())
    }
}

/// `in_mask & out_mask`, as Keras combines the caller's mask with the loss's own.
fn combine_masks(values: &DynTensor, a: Option<DynTensor>, b: Option<DynTensor>) -> Result<Option<DynTensor>> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (_, a) = align_weight("mask", values.clone(), a)?;
            let a = a.map(|t| t.not_equal_elem(0.0).float());
            let b = b.map(|t| t.not_equal_elem(0.0).float());
            Ok(a.broadcast_mul(b))
        }
        (a, b) => Ok(a.or(b)),
    }
}

/// Implements the metadata methods of [`Loss`] (everything but [`Loss::check_inputs`]) by
/// forwarding to the loss `$inner` (an expression of `self`), for wrappers around another loss.
macro_rules! forward_loss {
    (|$s:ident| $inner:expr) => {
        $crate::losses::loss::forward_loss!(@getters |$s| $inner;
            name -> &str,
            class_name -> &str,
            reduction -> $crate::reduce::Reduction,
            dtype -> burn::tensor::FloatDType,
            formula -> &str,
            semantics -> $crate::reduce::semantics::Semantics,
            to_keras_json -> serde_json::Value,
            fused -> Option<$crate::fused::FusedKernel>
        );
        fn per_sample(
            &self,
            y_true: &$crate::DynTensor,
            y_pred: &$crate::DynTensor,
        ) -> $crate::Result<$crate::losses::loss::LossValues> {
            let $s = self;
            $inner.per_sample(y_true, y_pred)
        }
    };
    (@getters |$s:ident| $inner:expr; $($method:ident -> $ty:ty),*) => {
        $(fn $method(&self) -> $ty {
            let $s = self;
            $inner.$method()
        })*
    };
}
pub(crate) use forward_loss;

/// A boxed loss is a loss (so wrappers such as [`crate::losses::finite::CheckFinite`] take either).
impl<L: Loss + ?Sized> Loss for Box<L> {
    forward_loss!(|s| (**s));

    fn check_inputs(
        &self,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
        mask: Option<&DynTensor>,
    ) -> Result<()> {
        (**self).check_inputs(y_true, y_pred, sample_weight, mask)
    }
}

/// How every [`Loss`] is computed — the one place, implemented for all losses and overridable by
/// none: [`Loss::check_inputs`], then the fused kernel where it applies ([`crate::fused`]),
/// otherwise [`Loss::per_sample`] on inputs cast to [`Loss::dtype`], the caller's mask combined
/// with the loss's own, and the reducer ([`crate::reduce`], or an older Keras's with
/// [`Semantics`]).
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let y_true = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d);
/// let y_pred = Tensor::<2>::from_floats([[1., 1.], [1., 0.]], &d);
/// let loss = MeanSquaredError::default().call(&y_true, &y_pred, None)?;
/// assert_eq!(loss.into_scalar::<f32>()?, 0.5);
/// # Ok::<(), objectives::Error>(())
/// ```
pub trait LossExt: Loss {
    /// The loss of `y_pred` against `y_true`, optionally weighted per sample.
    ///
    /// # Errors
    /// As [`LossExt::compute`].
    fn call(
        &self,
        y_true: impl Into<DynTensor>,
        y_pred: impl Into<DynTensor>,
        sample_weight: Option<DynTensor>,
    ) -> Result<DynTensor> {
        self.compute(&y_true.into(), &y_pred.into(), sample_weight.as_ref(), None)
    }

    /// The loss with an optional `sample_weight` and an optional `mask` over the per-sample losses.
    ///
    /// # Errors
    /// As [`LossExt::compute`].
    fn call_masked(
        &self,
        y_true: impl Into<DynTensor>,
        y_pred: impl Into<DynTensor>,
        sample_weight: Option<DynTensor>,
        mask: Option<DynTensor>,
    ) -> Result<DynTensor> {
        self.compute(&y_true.into(), &y_pred.into(), sample_weight.as_ref(), mask.as_ref())
    }

    /// Computes the loss: per-sample values, then the reducer with the optional `sample_weight`
    /// and `mask` (Keras's `Loss.__call__`). `mask` has the shape of the per-sample losses; any
    /// non-zero entry counts as valid.
    ///
    /// # Errors
    /// Shape errors of the loss, or a weight/mask that does not broadcast.
    fn compute(
        &self,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
        mask: Option<&DynTensor>,
    ) -> Result<DynTensor> {
        self.compute_as(self.semantics(), y_true, y_pred, sample_weight, mask)
    }

    /// [`LossExt::compute`] with the reduction of another Keras generation, for this call only.
    /// Keras 3's reduction takes the fused kernel where it applies (see [`crate::fused`]).
    ///
    /// # Errors
    /// As [`LossExt::compute`] and [`crate::reduce::semantics::reduce_as`].
    fn compute_as(
        &self,
        semantics: Semantics,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
        mask: Option<&DynTensor>,
    ) -> Result<DynTensor> {
        self.check_inputs(y_true, y_pred, sample_weight, mask)?;
        if semantics == Semantics::Keras3
            && let Some(kernel) = self.fused()
            && let Some(result) =
                crate::fused::try_fused(kernel, self.reduction(), self.dtype(), y_true, y_pred, sample_weight, mask)
        {
            return result;
        }
        let (values, mask) = values_and_mask(self, y_true, y_pred, mask)?;
        reduce_as(semantics, values, sample_weight.cloned(), mask, self.reduction())
    }

    /// The loss over one part of a batch as a [`Partial`] (numerator and normalizer), to be
    /// merged exactly with the other parts by [`crate::reduce::partial::merge`] — for micro-batches,
    /// gradient accumulation or several devices. Arguments as [`LossExt::compute`].
    ///
    /// # Errors
    /// As [`LossExt::compute`], and as [`crate::reduce::partial::partial`].
    fn partial(
        &self,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
        mask: Option<&DynTensor>,
    ) -> Result<Partial> {
        self.check_inputs(y_true, y_pred, sample_weight, mask)?;
        let (values, mask) = values_and_mask(self, y_true, y_pred, mask)?;
        crate::reduce::partial::partial(values, sample_weight.cloned(), mask, self.reduction())
    }

    /// Per-sample losses (inputs cast to [`Loss::dtype`]) and the mask the reducer must apply:
    /// the caller's `mask` combined with the loss's own (Keras's `in_mask & out_mask`).
    ///
    /// # Errors
    /// As [`Loss::per_sample`], or a mask that does not broadcast.
    fn masked_values(
        &self,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        mask: Option<&DynTensor>,
    ) -> Result<(DynTensor, Option<DynTensor>)> {
        self.check_inputs(y_true, y_pred, None, mask)?;
        values_and_mask(self, y_true, y_pred, mask)
    }
}

impl<L: Loss + ?Sized> LossExt for L {}

/// [`LossExt::masked_values`] without the input check (its callers have checked).
fn values_and_mask<L: Loss + ?Sized>(
    loss: &L,
    y_true: &DynTensor,
    y_pred: &DynTensor,
    mask: Option<&DynTensor>,
) -> Result<(DynTensor, Option<DynTensor>)> {
    let dtype = loss.dtype();
    if dtype == FloatDType::F64 {
        crate::backend::check_f64(&y_pred.device(), loss.class_name())?;
    }
    let y_true = y_true.clone().cast(dtype);
    let y_pred = y_pred.clone().cast(dtype);
    let LossValues { values, mask: out_mask } = loss.per_sample(&y_true, &y_pred)?;
    let mask = combine_masks(&values, mask.cloned(), out_mask)?;
    Ok((values, mask))
}
