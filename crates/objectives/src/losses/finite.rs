//! NaN and infinity: the policy, and an opt-in check.
//!
//! **Policy.** Like Keras, a loss propagates non-finite inputs: a NaN in `y_true`, `y_pred` or
//! `sample_weight` makes the reduced loss NaN (an infinity gives ±inf or NaN as the arithmetic
//! says), on the composed and the fused path alike; nothing is silently replaced. Masked-out
//! positions still contribute `NaN · 0 = NaN`, as in Keras — a mask is a weight, not a filter.
//! Keras's own guards stay: the clip of probabilities (so `log(0)` never occurs from
//! a finite probability) and divide-no-nan for empty or all-masked batches.
//!
//! **Check.** Wrap a loss in [`CheckFinite`] to refuse such inputs with
//! [`Error::NonFinite`], which names the input, the first bad index and its value.
//! It reads the inputs once more, so it is opt-in.
//!
//! ```
//! use objectives::prelude::*;
//! use objectives::finite::CheckFinite;
//! let d = Device::flex();
//! let y_true = Tensor::<2>::zeros([2, 3], &d);
//! let y_pred = Tensor::<2>::from_floats([[0., 1., 2.], [3., f32::NAN, 5.]], &d);
//! // Propagates, as Keras does:
//! let l = MeanSquaredError::default().call(&y_true, &y_pred, None)?;
//! assert!(l.into_scalar::<f32>()?.is_nan());
//! // Or refuses, naming the place:
//! let err = CheckFinite::new(MeanSquaredError::default()).call(&y_true, &y_pred, None).unwrap_err();
//! assert!(err.to_string().contains("y_pred has a non-finite value NaN at index [1, 1]"));
//! # Ok::<(), objectives::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::losses::loss::Loss;
use crate::tensor::dyn_tensor::DynTensor;

/// `Ok` if every element of `t` is finite; otherwise [`Error::NonFinite`] with the first
/// offending index.
///
/// # Errors
/// [`Error::NonFinite`], or [`Error::Data`] if the data cannot be read.
pub fn check_finite(what: &'static str, t: &DynTensor) -> Result<()> {
    let values = t.to_vec_f64()?;
    let Some(flat) = values.iter().position(|v| !v.is_finite()) else { return Ok(()) };
    let shape = t.shape().to_vec();
    let mut index = vec![0; shape.len()];
    let mut rest = flat;
    for (i, d) in shape.iter().enumerate().rev() {
        let d = (*d).max(1);
        index[i] = rest % d;
        rest /= d;
    }
    Err(Error::NonFinite { what, index, value: values[flat], shape })
}

/// A loss that refuses non-finite inputs (see the module docs); otherwise identical to `L`.
#[derive(Clone, Debug)]
pub struct CheckFinite<L>(pub L);

impl<L: Loss> CheckFinite<L> {
    /// Wraps `loss`.
    pub fn new(loss: L) -> Self {
        Self(loss)
    }
}

impl<L: Loss> Loss for CheckFinite<L> {
    crate::losses::loss::forward_loss!(|s| s.0);

    /// The wrapped loss's checks, then every input (and the weight and mask) must be finite.
    fn check_inputs(
        &self,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
        mask: Option<&DynTensor>,
    ) -> Result<()> {
        self.0.check_inputs(y_true, y_pred, sample_weight, mask)?;
        check_finite("y_true", y_true)?;
        check_finite("y_pred", y_pred)?;
        if let Some(w) = sample_weight {
            check_finite("sample_weight", w)?;
        }
        if let Some(m) = mask {
            check_finite("mask", m)?;
        }
        Ok(())
    }
}
