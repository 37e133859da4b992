//! Keras 3's confusion-matrix metrics (`keras/src/metrics/confusion_metrics.py`):
//! [`TruePositives`], [`FalsePositives`], [`TrueNegatives`], [`FalseNegatives`], [`Precision`],
//! [`Recall`], [`SensitivityAtSpecificity`], [`SpecificityAtSensitivity`], [`PrecisionAtRecall`],
//! [`RecallAtPrecision`] and [`Auc`] (`AUC`).
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
pub use auc::{Auc, AucArgs};
pub use counts::{
    Condition, ConditionCount, CountArgs, FalseNegatives, FalsePositives, Precision, PrecisionRecall,
    PrecisionRecallArgs, Recall, ThresholdsArg, TrueNegatives, TruePositives,
};

use super::registry::{Inputs, MetricEntry};

/// The family's registry entries.
pub fn entries() -> Vec<MetricEntry> {
    const COUNT_VARIANTS: &[&str] =
        &[r#"{"thresholds": 0.3}"#, r#"{"thresholds": [0.15, 0.5, 0.85]}"#, r#"{"thresholds": [0.0, 0.5, 1.0]}"#];
    // top_k and class_id act on the last axis: Inputs::Binary with a class axis (3 columns).
    const PR_VARIANTS: &[&str] = &[
        r#"{"thresholds": [0.15, 0.5, 0.85]}"#,
        r#"{"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}"#,
        r#"{"top_k": 2}"#,
        r#"{"class_id": 1}"#,
        r#"{"thresholds": 0.7, "top_k": 2, "class_id": 0}"#,
    ];
    macro_rules! at_entry {
        ($kind:ident, $key:literal) => {
            MetricEntry {
                class_name: stringify!($kind),
                aliases: &[],
                inputs: Inputs::Binary,
                variants: &[
                    concat!(r#"{""#, $key, r#"": 0.5}"#),
                    concat!(r#"{""#, $key, r#"": 0.8, "num_thresholds": 1}"#),
                    concat!(r#"{""#, $key, r#"": 0.3, "num_thresholds": 7}"#),
                    concat!(r#"{""#, $key, r#"": 0.6, "class_id": 2}"#),
                ],
                required: true,
                build: |c| at::build_at(AtKind::$kind, c),
            }
        };
    }
    vec![
        MetricEntry {
            class_name: "TruePositives",
            aliases: &[],
            inputs: Inputs::Binary,
            variants: COUNT_VARIANTS,
            required: false,
            build: |c| counts::build_count(Condition::TruePositives, c),
        },
        MetricEntry {
            class_name: "FalsePositives",
            aliases: &[],
            inputs: Inputs::Binary,
            variants: COUNT_VARIANTS,
            required: false,
            build: |c| counts::build_count(Condition::FalsePositives, c),
        },
        MetricEntry {
            class_name: "TrueNegatives",
            aliases: &[],
            inputs: Inputs::Binary,
            variants: COUNT_VARIANTS,
            required: false,
            build: |c| counts::build_count(Condition::TrueNegatives, c),
        },
        MetricEntry {
            class_name: "FalseNegatives",
            aliases: &[],
            inputs: Inputs::Binary,
            variants: COUNT_VARIANTS,
            required: false,
            build: |c| counts::build_count(Condition::FalseNegatives, c),
        },
        MetricEntry {
            class_name: "Precision",
            aliases: &[],
            inputs: Inputs::Binary,
            variants: PR_VARIANTS,
            required: false,
            build: counts::build_precision,
        },
        MetricEntry {
            class_name: "Recall",
            aliases: &[],
            inputs: Inputs::Binary,
            variants: PR_VARIANTS,
            required: false,
            build: counts::build_recall,
        },
        at_entry!(SensitivityAtSpecificity, "specificity"),
        at_entry!(SpecificityAtSensitivity, "sensitivity"),
        at_entry!(PrecisionAtRecall, "recall"),
        at_entry!(RecallAtPrecision, "precision"),
        MetricEntry {
            class_name: "AUC",
            aliases: &[],
            inputs: Inputs::Binary,
            variants: &[
                r#"{"num_thresholds": 3}"#,
                r#"{"curve": "PR"}"#,
                r#"{"curve": "PR", "summation_method": "majoring", "num_thresholds": 50}"#,
                r#"{"curve": "ROC", "summation_method": "minoring"}"#,
                r#"{"curve": "PRGAIN", "num_thresholds": 11}"#,
                r#"{"thresholds": [0.1, 0.35, 0.5, 0.9]}"#,
                r#"{"multi_label": true}"#,
                r#"{"multi_label": true, "num_labels": 3, "label_weights": [0.5, 0.25, 0.25], "curve": "PR"}"#,
                r#"{"label_weights": [1.0, 2.0, 0.5]}"#,
                r#"{"from_logits": true}"#,
            ],
            required: false,
            build: auc::build_auc,
        },
    ]
}

#[cfg(test)]
mod tests;
