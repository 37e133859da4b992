//! [`Reduction`]: Keras 3's `reduction` argument, what each choice means, and its JSON form.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// How per-sample losses are turned into the returned value (Keras 3's `reduction` argument).
///
/// Let `v` be the per-sample losses, `w` the sample weight (after rank alignment), `m` the mask
/// (any non-zero entry is valid), `n` the number of elements of `v·w` and `t` that of `m`:
///
/// | reduction | result |
/// |---|---|
/// | `None` (`"none"`, JSON `null`) | `v·w·m`, element-wise, unreduced |
/// | `Sum` (`"sum"`) | `Σ v·w·m` |
/// | `SumOverBatchSize` (`"sum_over_batch_size"`, default) and `Mean` (`"mean"`) | `Σ v·w·m·(t/Σm) / n`, i.e. `Σ v·w·m / Σm` when the mask has the loss's shape; without a mask `Σ v·w / n` |
/// | `MeanWithSampleWeight` (`"mean_with_sample_weight"`) | `Σ v·w·m / Σ(w·m)` with `w` not broadcast; without `w`: `Σ v·m / Σm`; without either: `Σ v / n` |
///
/// Every division is *divide-no-nan*: a fully masked batch, or all-zero weights, give `0`, never
/// NaN. `SumOverBatchSize` and `Mean` are the same (the divisor counts **elements**, e.g. `B·T`
/// for per-timestep losses, never `Σw`). A scalar `sample_weight` multiplies; a weight of shape
/// `(B,)` on a `(B, T, …)` loss weights whole samples (Keras 3 raises there; see
/// [`crate::tensor::shape::align_weight`]); any other shape must broadcast to the loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// No reduction: the weighted, masked per-sample losses.
    None,
    /// The sum over every element.
    Sum,
    /// The sum divided by the number of elements (Keras's default).
    #[default]
    SumOverBatchSize,
    /// Identical to [`Reduction::SumOverBatchSize`] (Keras 3.7+ spelling).
    Mean,
    /// The weighted sum divided by the sum of the weights (Keras 3.7+).
    MeanWithSampleWeight,
}

impl Reduction {
    /// Every reduction, in Keras's documentation order.
    pub const ALL: [Reduction; 5] = [
        Reduction::SumOverBatchSize,
        Reduction::Mean,
        Reduction::Sum,
        Reduction::MeanWithSampleWeight,
        Reduction::None,
    ];

    /// The Keras string (`None` is `"none"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Reduction::None => "none",
            Reduction::Sum => "sum",
            Reduction::SumOverBatchSize => "sum_over_batch_size",
            Reduction::Mean => "mean",
            Reduction::MeanWithSampleWeight => "mean_with_sample_weight",
        }
    }

    /// Reads Keras's JSON value: a string, or `null` for no reduction.
    ///
    /// # Errors
    /// [`Error::InvalidReduction`] for anything else.
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        match value {
            serde_json::Value::Null => Ok(Reduction::None),
            serde_json::Value::String(s) => s.parse(),
            other => Err(Error::InvalidReduction(other.to_string())),
        }
    }

    /// Keras's JSON value (`null` for [`Reduction::None`], as Keras writes `reduction=None`).
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Reduction::None => serde_json::Value::Null,
            r => serde_json::Value::String(r.as_str().to_string()),
        }
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Reduction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "none" => Reduction::None,
            "sum" => Reduction::Sum,
            "sum_over_batch_size" => Reduction::SumOverBatchSize,
            "mean" => Reduction::Mean,
            "mean_with_sample_weight" => Reduction::MeanWithSampleWeight,
            other => return Err(Error::InvalidReduction(other.to_string())),
        })
    }
}
