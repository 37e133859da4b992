//! Custom losses: any function from `(y_true, y_pred)` to per-sample losses becomes a full
//! [`Loss`](crate::Loss) — `sample_weight`, masks, every [`Reduction`](crate::Reduction), the
//! older Keras semantics and split/merge partials — exactly like a built-in (Keras's
//! `LossFunctionWrapper`).
//!
//! ```
//! use objectives::prelude::*;
//! use objectives::custom::custom_loss;
//! // Mean absolute error over axis 1, written by hand.
//! let mae1 = custom_loss("mae_axis1", |y_true: &DynTensor, y_pred: &DynTensor| {
//!     let diff = y_true.clone().zip_with(y_pred.clone(), |t, p| t.sub(p).abs())?;
//!     Ok(diff.mean_axis(1))
//! })
//! .with_reduction(Reduction::Sum);
//! let d = Device::flex();
//! let t = Tensor::<3>::zeros([2, 3, 4], &d);
//! let p = Tensor::<3>::ones([2, 3, 4], &d);
//! let w = Tensor::<1>::from_floats([1.0, 0.0], &d); // per sample
//! assert_eq!(mae1.call(&t, &p, Some(w.into()))?.into_scalar::<f32>()?, 4.0);
//! # Ok::<(), objectives::Error>(())
//! ```
//! A loss type of your own can implement [`LossFn`] instead (with a serializable config).

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::losses::loss::LossValues;
use crate::losses::wrapper::{LossFn, LossFunctionWrapper};
use crate::tensor::dyn_tensor::DynTensor;

/// A per-sample loss function given as a closure; see [`custom_loss`].
pub struct FnLoss<F>(Arc<F>);

impl<F> Clone for FnLoss<F> {
    fn clone(&self) -> Self {
        FnLoss(Arc::clone(&self.0))
    }
}

impl<F> fmt::Debug for FnLoss<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnLoss(<closure>)")
    }
}

impl<F> LossFn for FnLoss<F>
where
    F: Fn(&DynTensor, &DynTensor) -> Result<DynTensor> + Send + Sync + 'static,
{
    const CLASS_NAME: &'static str = "LossFunctionWrapper";
    const DEFAULT_NAME: &'static str = "custom_loss";

    fn per_sample(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<LossValues> {
        (self.0)(y_true, y_pred).map(Into::into)
    }

    fn config(&self) -> Map<String, Value> {
        Map::new()
    }

    fn from_config(_: Map<String, Value>) -> Result<Self> {
        Err(Error::InvalidConfig {
            name: "LossFunctionWrapper".into(),
            message: "a closure cannot be read from a config; build it with objectives::custom::custom_loss".into(),
        })
    }
}

/// Wraps `f` — `(y_true, y_pred) → per-sample losses` — as a loss named `name`, with Keras's
/// defaults (`sum_over_batch_size`, float32). Chain `with_reduction`, `with_semantics`, …
pub fn custom_loss<F>(name: &str, f: F) -> LossFunctionWrapper<FnLoss<F>>
where
    F: Fn(&DynTensor, &DynTensor) -> Result<DynTensor> + Send + Sync + 'static,
{
    LossFunctionWrapper::new(FnLoss(Arc::new(f))).with_name(name)
}
