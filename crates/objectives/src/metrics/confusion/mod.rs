//! Keras 3's confusion-matrix metrics (`keras/src/metrics/confusion_metrics.py`):
//! [`TruePositives`], [`FalsePositives`], [`TrueNegatives`], [`FalseNegatives`], [`Precision`],
//! [`Recall`], [`SensitivityAtSpecificity`], [`SpecificityAtSensitivity`], [`PrecisionAtRecall`],
//! [`RecallAtPrecision`] and [`Auc`] (`AUC`): each a [`crate::metrics::MetricClass`].
//!
//! All of them count, at each threshold `t`, the weighted true/false positives/negatives with
//! `y_true` cast to bool and `y_pred > t` (Keras's `update_confusion_matrix_variables`), in one
//! pass: O(N) when Keras's thresholds are evenly distributed (its bucket path, reproduced
//! bit for bit: `y_pred` clipped to `[0, 1]`, bucket `ceil(y_pred · (T − 1)) − 1` in f32), else
//! O(N log T) by binary search over the f32 thresholds (its `y_pred > t` comparisons).
//!
//! Inputs as Keras: `y_true` and `y_pred` of one shape (after squeezing or expanding a trailing
//! axis of 1); `sample_weight` a scalar, or of `y_true`'s rank, or one less (then it gets a
//! trailing axis of 1: `(B,)` weighs the rows of `(B, C)`, `(B, T)` the positions of
//! `(B, T, C)`), broadcast to `y_pred` by numpy's rules, as Keras — so `(B,)` does not fit
//! `(B, T, C)` (refused, naming the shapes; pass `(B, 1, 1)`), and with `class_id` the weight
//! must fit the one column (`(B,)` or `(B, 1)`, not `(B, C)`); `top_k`
//! keeps the `k` largest predictions of the last axis (ties go to the lower index, as
//! `jax.lax.top_k`), `class_id` keeps one class of the last axis. Predictions are not range
//! checked (with `thresholds=0`, logits work, as Keras documents); a NaN prediction is an error
//! (Keras's result for it depends on the backend).

mod at;
mod auc;
mod counts;
mod matrix;

pub use at::{
    AtKind, AtMetric, PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
};
pub use auc::{Auc, AucMetric};
pub use counts::{
    Condition, ConditionCount, FalseNegatives, FalsePositives, Precision, PrecisionRecall, Recall, ThresholdsArg,
    TrueNegatives, TruePositives,
};

#[cfg(test)]
mod tests;
