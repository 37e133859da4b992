//! The one registry of metric names: [`ALL_METRICS`] (every class, by family, with Keras's
//! aliases, the inputs it is defined on and the configs worth testing), the snake-case names
//! (Keras's `ALL_OBJECTS_DICT`), and the Keras serialized form. The registry names the families;
//! no family names it: a family's classes are
//! [`MetricClass`](super::metric::MetricClass)es, and [`entry`] turns one into an entry.

use serde_json::{Map, Value};

use super::accuracy::{
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
};
use super::confusion::{
    Auc, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives,
};
use super::correlation::{ConcordanceCorrelation, PearsonCorrelation};
pub use super::entry::{BuildFn, Inputs, MetricEntry, entry};
use super::f_score::{F1Score, FBetaScore};
use super::hinge::{CategoricalHinge, Hinge, SquaredHinge};
use super::iou::{BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU};
use super::metric::Metric;
use super::probabilistic::{
    BinaryCrossentropy, CategoricalCrossentropy, KLDivergence, Poisson, SparseCategoricalCrossentropy,
};
use super::reduction::{Mean, MeanMetricWrapper, Sum};
use super::regression::{
    CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, R2Score, RootMeanSquaredError,
};
use crate::error::{Error, Result};

const AXIS_1: &[&str] = &[r#"{"axis": 1}"#];
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
/// The variants of the `*At*` metrics, whose constraint is the argument named `$key`.
macro_rules! at_variants {
    ($key:literal) => {
        &[
            concat!(r#"{""#, $key, r#"": 0.5}"#),
            concat!(r#"{""#, $key, r#"": 0.8, "num_thresholds": 1}"#),
            concat!(r#"{""#, $key, r#"": 0.3, "num_thresholds": 7}"#),
            concat!(r#"{""#, $key, r#"": 0.6, "class_id": 2}"#),
        ]
    };
}

/// Every metric class objectives implements (Keras's `keras.metrics` 3.15.1), by family:
/// reduction, regression, probabilistic, hinge, correlation, accuracy, confusion, f_score, iou.
///
/// Adding a metric: its class in its family's file (a
/// [`MetricClass`](super::metric::MetricClass)), one line here.
pub static ALL_METRICS: &[MetricEntry] = &[
    // reduction
    entry::<Mean>(&[], Inputs::Values, &[], false),
    entry::<Sum>(&[], Inputs::Values, &[], false),
    entry::<MeanMetricWrapper>(
        &[],
        Inputs::Regression,
        &[r#"{"fn": "mean_squared_error"}"#, r#"{"fn": "mean_absolute_error"}"#],
        true,
    ),
    // regression
    entry::<MeanSquaredError>(&["mse", "MSE"], Inputs::Regression, AXIS_1, false),
    entry::<MeanAbsoluteError>(&["mae", "MAE"], Inputs::Regression, AXIS_1, false),
    entry::<MeanAbsolutePercentageError>(&["mape", "MAPE"], Inputs::Positive, AXIS_1, false),
    entry::<MeanSquaredLogarithmicError>(&["msle", "MSLE"], Inputs::Positive, AXIS_1, false),
    entry::<LogCoshError>(&[], Inputs::Regression, AXIS_1, false),
    entry::<CosineSimilarity>(&[], Inputs::Regression, AXIS_1, false),
    entry::<RootMeanSquaredError>(&[], Inputs::Regression, &[], false),
    entry::<R2Score>(
        &[],
        Inputs::Regression,
        &[
            r#"{"class_aggregation": null}"#,
            r#"{"class_aggregation": "variance_weighted_average"}"#,
            r#"{"class_aggregation": "uniform_average", "num_regressors": 1}"#,
        ],
        false,
    ),
    // probabilistic
    entry::<KLDivergence>(&[], Inputs::Categorical, AXIS_1, false),
    entry::<Poisson>(&[], Inputs::Positive, AXIS_1, false),
    entry::<BinaryCrossentropy>(
        &["bce", "BCE"],
        Inputs::Binary,
        &[r#"{"from_logits": true}"#, r#"{"label_smoothing": 0.2}"#, r#"{"axis": 1}"#],
        false,
    ),
    entry::<CategoricalCrossentropy>(
        &[],
        Inputs::Categorical,
        &[
            r#"{"from_logits": true}"#,
            r#"{"label_smoothing": 0.1}"#,
            r#"{"from_logits": true, "label_smoothing": 0.2}"#,
        ],
        false,
    ),
    entry::<SparseCategoricalCrossentropy>(
        &[],
        Inputs::Sparse,
        &[r#"{"from_logits": true}"#, r#"{"ignore_class": 0}"#],
        false,
    ),
    // hinge
    entry::<Hinge>(&[], Inputs::Binary, AXIS_1, false),
    entry::<SquaredHinge>(&[], Inputs::Binary, AXIS_1, false),
    entry::<CategoricalHinge>(&[], Inputs::Categorical, AXIS_1, false),
    // correlation
    entry::<PearsonCorrelation>(&[], Inputs::Regression, AXIS_1, false),
    entry::<ConcordanceCorrelation>(&[], Inputs::Regression, AXIS_1, false),
    // accuracy
    entry::<Accuracy>(&[], Inputs::Labels, &[], false),
    entry::<BinaryAccuracy>(&[], Inputs::Binary, &[r#"{"threshold": 0.3}"#], false),
    entry::<CategoricalAccuracy>(&[], Inputs::Categorical, &[], false),
    entry::<SparseCategoricalAccuracy>(&[], Inputs::Sparse, &[], false),
    entry::<TopKCategoricalAccuracy>(&[], Inputs::Categorical, &[r#"{"k": 1}"#, r#"{"k": 2}"#], false),
    entry::<SparseTopKCategoricalAccuracy>(&[], Inputs::Sparse, &[r#"{"k": 1}"#, r#"{"k": 2}"#], false),
    // confusion
    entry::<TruePositives>(&[], Inputs::Binary, COUNT_VARIANTS, false),
    entry::<FalsePositives>(&[], Inputs::Binary, COUNT_VARIANTS, false),
    entry::<TrueNegatives>(&[], Inputs::Binary, COUNT_VARIANTS, false),
    entry::<FalseNegatives>(&[], Inputs::Binary, COUNT_VARIANTS, false),
    entry::<Precision>(&[], Inputs::Binary, PR_VARIANTS, false),
    entry::<Recall>(&[], Inputs::Binary, PR_VARIANTS, false),
    entry::<SensitivityAtSpecificity>(&[], Inputs::Binary, at_variants!("specificity"), true),
    entry::<SpecificityAtSensitivity>(&[], Inputs::Binary, at_variants!("sensitivity"), true),
    entry::<PrecisionAtRecall>(&[], Inputs::Binary, at_variants!("recall"), true),
    entry::<RecallAtPrecision>(&[], Inputs::Binary, at_variants!("precision"), true),
    entry::<Auc>(
        &[],
        Inputs::Binary,
        &[
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
        false,
    ),
    // f_score
    entry::<FBetaScore>(
        &[],
        Inputs::Categorical,
        &[
            r#"{"average": "micro", "beta": 0.5}"#,
            r#"{"average": "macro", "beta": 2.0}"#,
            r#"{"average": "weighted", "threshold": 0.5}"#,
        ],
        false,
    ),
    entry::<F1Score>(
        &[],
        Inputs::Categorical,
        &[r#"{"average": "macro"}"#, r#"{"average": "micro", "threshold": 0.4}"#],
        false,
    ),
    // iou
    entry::<IoU>(
        &[],
        Inputs::Labels,
        &[
            r#"{"num_classes": 3, "target_class_ids": [0, 2]}"#,
            r#"{"num_classes": 3, "target_class_ids": [1], "ignore_class": 0}"#,
            r#"{"num_classes": 3, "target_class_ids": [0, 1, 2], "dtype": "float32"}"#,
        ],
        true,
    ),
    entry::<BinaryIoU>(
        &[],
        Inputs::Binary,
        &[r#"{"target_class_ids": [1], "threshold": 0.3}"#, r#"{"target_class_ids": [0, 1], "dtype": "float32"}"#],
        false,
    ),
    entry::<MeanIoU>(
        &[],
        Inputs::Labels,
        &[
            r#"{"num_classes": 3}"#,
            r#"{"num_classes": 3, "ignore_class": 1}"#,
            r#"{"num_classes": 3, "dtype": "float32"}"#,
        ],
        true,
    ),
    entry::<OneHotIoU>(
        &[],
        Inputs::Categorical,
        &[
            r#"{"num_classes": 3, "target_class_ids": [0, 2]}"#,
            r#"{"num_classes": 3, "target_class_ids": [1], "dtype": "float32"}"#,
        ],
        true,
    ),
    entry::<OneHotMeanIoU>(
        &[],
        Inputs::Categorical,
        &[r#"{"num_classes": 3}"#, r#"{"num_classes": 3, "ignore_class": 0, "dtype": "float32"}"#],
        true,
    ),
];

/// Every metric class, [`ALL_METRICS`].
pub fn all() -> &'static [MetricEntry] {
    ALL_METRICS
}

/// The entry answering to `name` (class name, snake case or alias).
pub fn lookup(name: &str) -> Option<&'static MetricEntry> {
    ALL_METRICS.iter().find(|e| e.names().iter().any(|n| n == name))
}

/// The metric named `name`, with default arguments (Keras's `keras.metrics.get(name)`).
///
/// ```
/// let m = objectives::metrics::get("mae")?;
/// assert_eq!(m.class_name(), "MeanAbsoluteError");
/// # Ok::<(), objectives::Error>(())
/// ```
/// # Errors
/// [`Error::UnknownMetric`]; [`Error::InvalidConfig`] for a metric that needs
/// arguments (`MeanIoU` needs `num_classes`).
pub fn get(name: &str) -> Result<Box<dyn Metric>> {
    lookup(name).ok_or_else(|| Error::UnknownMetric(name.to_string()))?.build(&Map::new())
}

/// Builds a metric from Keras's serialized form
/// `{"module": "keras.metrics", "class_name": …, "config": {…}, "registered_name": null}`, or a
/// bare string name.
///
/// # Errors
/// [`Error::UnknownMetric`], [`Error::InvalidConfig`] (unknown keys, another module, a
/// custom `registered_name`, a bad config).
pub fn from_keras_json(value: &Value) -> Result<Box<dyn Metric>> {
    let obj = match value {
        Value::String(name) => return get(name),
        other => other,
    };
    let (class, config) = crate::keras::envelope::keras_envelope(obj, "metric", "keras.metrics", |m| {
        m == "keras.metrics" || m.starts_with("keras.src.metrics")
    })?;
    let entry = lookup(class).ok_or_else(|| Error::UnknownMetric(class.to_string()))?;
    entry.build(&config)
}

/// [`from_keras_json`] on text: a bare name (`auc`) or JSON (`{"class_name": "AUC", …}`).
///
/// # Errors
/// Malformed JSON, or any [`from_keras_json`] error.
pub fn from_keras_json_str(text: &str) -> Result<Box<dyn Metric>> {
    let t = text.trim();
    if !t.starts_with('{') && !t.starts_with('"') {
        return get(t);
    }
    let value: Value = serde_json::from_str(t)
        .map_err(|e| Error::InvalidConfig { name: "keras.metrics".into(), message: format!("malformed JSON: {e}") })?;
    from_keras_json(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each entry's class name is its class's (the table cannot pair a class with another's name).
    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for e in ALL_METRICS {
            for n in e.names() {
                assert!(seen.insert(n.clone()), "name `{n}` registered twice");
            }
        }
        assert_eq!(ALL_METRICS.len(), 45);
    }

    #[test]
    fn every_class_is_its_entry() {
        use crate::metrics::metric::MetricClass;
        fn class<C: MetricClass>() -> &'static str {
            C::CLASS
        }
        assert_eq!(lookup("auc").map(|e| e.class_name), Some(class::<Auc>()));
        assert_eq!(lookup("mean_io_u").map(|e| e.class_name), Some(class::<MeanIoU>()));
    }
}
