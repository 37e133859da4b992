//! The one registry of metric names: Keras class names, their snake-case names (Keras's
//! `ALL_OBJECTS_DICT`), the aliases, and the Keras serialized form.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::Metric;
use super::config::to_snake_case;
use crate::error::{LossError, Result};

/// Builds a boxed metric from the `config` object of its Keras serialized form.
pub type BuildFn = fn(&Map<String, Value>) -> Result<Box<dyn Metric>>;

/// The inputs a metric is defined on: what tests, benchmarks and the merge property generate.
/// Class counts are 3 where a metric needs them (`num_classes: 3` in its test variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inputs {
    /// Real `y_true` and `y_pred` of one shape.
    Regression,
    /// Positive `y_true` and `y_pred` (logarithms, Poisson, percentages).
    Positive,
    /// `y_true` in {0, 1}, `y_pred` in [0, 1], one shape.
    Binary,
    /// One-hot `y_true`, probability rows `y_pred`, classes on the last axis.
    Categorical,
    /// Integer `y_true` (y_pred's shape without the last axis), probability rows `y_pred`.
    Sparse,
    /// Integer class ids in `[0, 3)` for both `y_true` and `y_pred`, one shape.
    Labels,
    /// Values in `y_pred` (`Mean`, `Sum`: `y_true` is ignored).
    Values,
}

/// One registered metric class.
#[derive(Debug)]
pub struct MetricEntry {
    /// Keras class name, e.g. `"MeanIoU"`.
    pub class_name: &'static str,
    /// Names beyond the class name and its snake case (`mean_io_u`), e.g. `["mse", "MSE"]`.
    pub aliases: &'static [&'static str],
    /// The inputs it is defined on.
    pub inputs: Inputs,
    /// Keras configs (JSON objects) to test beyond the defaults; a metric that needs an argument
    /// (`num_classes`) lists it in every variant and has `required` set.
    pub variants: &'static [&'static str],
    /// Whether the metric needs arguments (then [`MetricEntry::variants`] must not be empty and
    /// the defaults `{}` are not tested).
    pub required: bool,
    /// The constructor.
    pub build: BuildFn,
}

impl MetricEntry {
    /// Builds the metric from the `config` object of its Keras serialized form.
    ///
    /// # Errors
    /// [`LossError::InvalidConfig`] naming the bad key or value.
    pub fn build(&self, config: &Map<String, Value>) -> Result<Box<dyn Metric>> {
        (self.build)(config)
    }

    /// Every name this entry answers to.
    pub fn names(&self) -> Vec<String> {
        let mut v = vec![self.class_name.to_string(), to_snake_case(self.class_name)];
        v.extend(self.aliases.iter().map(|a| a.to_string()));
        v
    }

    /// The configs to test: the defaults (`{}`, unless arguments are required), then the variants.
    ///
    /// # Errors
    /// [`LossError::InvalidConfig`] for a variant that is not a JSON object.
    pub fn configs(&self) -> Result<Vec<Map<String, Value>>> {
        let mut out = if self.required { vec![] } else { vec![Map::new()] };
        for v in self.variants {
            match serde_json::from_str(v) {
                Ok(Value::Object(m)) => out.push(m),
                _ => {
                    return Err(LossError::InvalidConfig {
                        loss: self.class_name.into(),
                        message: format!("test variant {v} is not a JSON object"),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Every metric class objectives implements (Keras's `keras.metrics` 3.15.1), by family.
pub fn all() -> &'static [MetricEntry] {
    static ALL: OnceLock<Vec<MetricEntry>> = OnceLock::new();
    ALL.get_or_init(|| {
        let families: [fn() -> Vec<MetricEntry>; 9] = [
            super::reduction::entries,
            super::regression::entries,
            super::probabilistic::entries,
            super::hinge::entries,
            super::correlation::entries,
            super::accuracy::entries,
            super::confusion::entries,
            super::f_score::entries,
            super::iou::entries,
        ];
        families.iter().flat_map(|f| f()).collect()
    })
}

/// The entry answering to `name` (class name, snake case or alias).
pub fn lookup(name: &str) -> Option<&'static MetricEntry> {
    all().iter().find(|e| e.names().iter().any(|n| n == name))
}

/// The metric named `name`, with default arguments (Keras's `keras.metrics.get(name)`).
///
/// ```
/// let m = objectives::metrics::get("mae")?;
/// assert_eq!(m.class_name(), "MeanAbsoluteError");
/// # Ok::<(), objectives::LossError>(())
/// ```
/// # Errors
/// [`LossError::UnknownMetric`]; [`LossError::InvalidConfig`] for a metric that needs
/// arguments (`MeanIoU` needs `num_classes`).
pub fn get(name: &str) -> Result<Box<dyn Metric>> {
    lookup(name).ok_or_else(|| LossError::UnknownMetric(name.to_string()))?.build(&Map::new())
}

/// Builds a metric from Keras's serialized form
/// `{"module": "keras.metrics", "class_name": …, "config": {…}, "registered_name": null}`, or a
/// bare string name.
///
/// # Errors
/// [`LossError::UnknownMetric`], [`LossError::InvalidConfig`] (unknown keys, another module, a
/// custom `registered_name`, a bad config).
pub fn from_keras_json(value: &Value) -> Result<Box<dyn Metric>> {
    let obj = match value {
        Value::String(name) => return get(name),
        other => other,
    };
    let (class, config) = crate::registry::keras_envelope(obj, "metric", "keras.metrics", |m| {
        m == "keras.metrics" || m.starts_with("keras.src.metrics")
    })?;
    let entry = lookup(class).ok_or_else(|| LossError::UnknownMetric(class.to_string()))?;
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
    let value: Value = serde_json::from_str(t).map_err(|e| LossError::InvalidConfig {
        loss: "keras.metrics".into(),
        message: format!("malformed JSON: {e}"),
    })?;
    from_keras_json(&value)
}
