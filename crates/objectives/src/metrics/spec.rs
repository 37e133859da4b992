//! A metric as `compile` takes it: a name or an object, resolved against an output's shapes as
//! Keras 3's `compile_utils.get_metric` does.

use super::metric::{Metric, MetricObject, StatefulMetric};
use super::registry;
use crate::error::Result;

/// A metric in a `compile(metrics=[…])` list: a name (`"mae"`, `"accuracy"`, `"auc"`) or a
/// metric object (`Box<dyn Metric>`, e.g. an `AUC` with its arguments).
#[derive(Debug, Clone)]
pub enum MetricSpec {
    /// A name or alias; the log key is the name as given (Keras: `metrics=["mse"]` logs `mse`).
    Name(String),
    /// A metric object; the log key is its `name`.
    Object(Box<dyn Metric>),
}

impl From<&str> for MetricSpec {
    fn from(s: &str) -> Self {
        MetricSpec::Name(s.to_string())
    }
}

impl From<String> for MetricSpec {
    fn from(s: String) -> Self {
        MetricSpec::Name(s)
    }
}

impl From<Box<dyn Metric>> for MetricSpec {
    fn from(m: Box<dyn Metric>) -> Self {
        MetricSpec::Object(m)
    }
}

impl<K: StatefulMetric> From<MetricObject<K>> for MetricSpec {
    fn from(m: MetricObject<K>) -> Self {
        MetricSpec::Object(Box::new(m))
    }
}

impl MetricSpec {
    /// The metric for an output whose targets and predictions have these shapes, with a zero
    /// state. `"accuracy"`/`"acc"` become `BinaryAccuracy` (a last axis of 1 in `y_pred`),
    /// `SparseCategoricalAccuracy` (labels of lower rank, or a last axis of 1 against several
    /// classes) or `CategoricalAccuracy`, named as given — Keras's `is_binary_or_sparse_categorical`.
    ///
    /// # Errors
    /// [`crate::Error::UnknownMetric`], or a metric that needs arguments given by name.
    pub fn resolve(&self, y_true: &[usize], y_pred: &[usize]) -> Result<Box<dyn Metric>> {
        match self {
            MetricSpec::Object(m) => {
                let mut m = m.clone();
                m.reset_state();
                Ok(m)
            }
            MetricSpec::Name(name) => {
                let mut m = if matches!(name.to_lowercase().as_str(), "accuracy" | "acc") {
                    let last = |s: &[usize]| s.last().copied().unwrap_or(1);
                    let (pl, tl) = (last(y_pred), last(y_true));
                    let class = if pl == 1 {
                        "BinaryAccuracy"
                    } else if y_true.len() < y_pred.len() || (tl == 1 && pl > 1) {
                        "SparseCategoricalAccuracy"
                    } else {
                        "CategoricalAccuracy"
                    };
                    registry::get(class)?
                } else {
                    registry::get(name)?
                };
                m.set_name(name.clone());
                Ok(m)
            }
        }
    }

    /// The name as given, or the object's name.
    pub fn name(&self) -> &str {
        match self {
            MetricSpec::Name(n) => n,
            MetricSpec::Object(m) => m.name(),
        }
    }
}
