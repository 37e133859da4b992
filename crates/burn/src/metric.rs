//! [`LearnerMetric`]: any objectives metric as a burn-train metric (`Metric` + `Numeric`).

use std::sync::Arc;

use burn::tensor::TensorReadError;
use burn::train::metric::{
    Metric as BurnMetric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry,
};
use objectives::metrics::{Metric, MetricValue, registry};
use objectives::{DynTensor, shape};
use serde_json::{Map, Value};

use crate::error::{BurnError, read_error};
use crate::input::MetricInput;

/// Keras 3's metric classes whose smaller values are better (their `_direction` is `"down"`):
/// errors, crossentropies, divergences, hinges and the false counts.
const LOWER_IS_BETTER: &[&str] = &[
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "LogCoshError",
    "RootMeanSquaredError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "FalsePositives",
    "FalseNegatives",
];

/// Any objectives metric (all 45 Keras classes, or one of your own) as a burn-train metric:
/// register it with `SupervisedTraining::metric_train_numeric` / `metric_valid_numeric` (or
/// [`crate::ObjectivesMetrics`]) for a step output that implements `Adaptor<MetricInput>`.
///
/// - **Batch value**: the metric over this batch alone; **running value**: over the epoch so far;
///   **epoch value** (`NumericEntry::Final`, what burn's logger, checkpointing and early stopping
///   read): the metric's exact merged state over every batch of the epoch, from every device —
///   Keras's number, not a mean of batch values.
/// - Each batch updates a fresh copy of the metric whose state is then merged into the epoch's
///   ([`Metric::merge_state`], exact sums): the order in which devices hand in their batches
///   does not change the epoch value by one bit.
/// - **Weights** as Keras's `compile`: `metrics=` ([`LearnerMetric::new`]) take only the mask,
///   and only in the mean-metric family; `weighted_metrics=` ([`LearnerMetric::weighted`]) take
///   the sample weight (times the mask).
/// - **Name**: the Keras name, then the constructor arguments that differ from the class's
///   defaults (`auc(curve=PR, num_thresholds=50)`), `weighted_` in front of a weighted metric, and
///   `[i]` for one class of a vector result: two configurations never share a name (burn-train
///   identifies a metric by its name).
/// - **Vector results** (F1 with `average=None`, `IoU` per class, …): one burn metric per class,
///   [`LearnerMetric::per_class`]; registered whole, the first batch fails with an error saying so.
///
/// ```
/// use objectives::metrics::{MetricClass, confusion::Auc};
/// use objectives_burn::LearnerMetric;
///
/// let auc = LearnerMetric::new(Auc { num_thresholds: Some(50), ..Auc::default() }.metric()?);
/// assert_eq!(auc.name_string(), "auc(num_thresholds=50)");
/// let mse = LearnerMetric::from_keras_json(r#"{"class_name": "MeanSquaredError", "config": {}}"#)?;
/// assert_eq!(mse.name_string(), "mean_squared_error");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct LearnerMetric {
    /// A reset copy: each batch starts from it.
    fresh: Box<dyn Metric>,
    /// The epoch's merged state.
    epoch: Box<dyn Metric>,
    weighted: bool,
    class: Option<usize>,
    name: MetricName,
    higher_is_better: bool,
    batch: Option<f64>,
    running: Option<f64>,
}

impl LearnerMetric {
    /// An unweighted metric (Keras's `metrics=`): the mask weighs the mean-metric family, sample
    /// weights are not used. The metric's state is cleared.
    pub fn new<M: Metric + 'static>(metric: M) -> Self {
        Self::from_box(Box::new(metric))
    }

    /// [`LearnerMetric::new`] for a boxed metric (as the registry hands them out).
    pub fn from_box(mut metric: Box<dyn Metric>) -> Self {
        metric.reset_state();
        let higher_is_better = !LOWER_IS_BETTER.contains(&metric.class_name());
        let mut m = Self {
            epoch: metric.clone(),
            fresh: metric,
            weighted: false,
            class: None,
            name: Arc::new(String::new()),
            higher_is_better,
            batch: None,
            running: None,
        };
        m.name = Arc::new(m.compose_name());
        m
    }

    /// A metric from its Keras serialized form (`{"class_name": …, "config": {…}}`) or a name
    /// (`"auc"`, `"mse"`, bare or as a JSON string), as `keras.metrics.get` takes it; a metric
    /// given by name is named after it, as Keras's `compile` logs it.
    ///
    /// # Errors
    /// [`BurnError::Objectives`] for an unknown class or a bad argument, naming it.
    pub fn from_keras_json(text: &str) -> Result<Self, BurnError> {
        let by_name = |name: &str| -> Result<Box<dyn Metric>, BurnError> {
            // As Keras's compile: a metric given as a string is logged under that string.
            let mut m = registry::get(name)?;
            m.set_name(name.to_string());
            Ok(m)
        };
        let metric = match serde_json::from_str::<Value>(text) {
            Ok(Value::String(name)) => by_name(&name)?,
            Ok(value) => registry::from_keras_json(&value)?,
            Err(_) => by_name(text.trim())?,
        };
        Ok(Self::from_box(metric))
    }

    /// This metric as a weighted metric (Keras's `weighted_metrics=`): the sample weight of
    /// [`MetricInput`] weighs it (times the mask where the metric uses masks). Named `weighted_…`.
    #[must_use]
    pub fn weighted(mut self) -> Self {
        self.weighted = true;
        self.name = Arc::new(self.compose_name());
        self
    }

    /// Component `class` of a vector result (per-class F1, IoU, …), named `…[class]`.
    #[must_use]
    pub fn class(mut self, class: usize) -> Self {
        self.class = Some(class);
        self.name = Arc::new(self.compose_name());
        self
    }

    /// One metric per class `0..classes` of a vector result, for burn's dashboard (each is a
    /// numeric metric of its own).
    pub fn per_class(&self, classes: usize) -> Vec<Self> {
        (0..classes).map(|c| self.clone().class(c)).collect()
    }

    /// Overrides whether larger values are better (burn's `NumericAttributes`; by default from
    /// the class, as Keras's metric directions: errors and crossentropies down, the rest up).
    #[must_use]
    pub fn higher_is_better(mut self, higher: bool) -> Self {
        self.higher_is_better = higher;
        self
    }

    /// The name burn-train shows and logs (its id).
    pub fn name_string(&self) -> String {
        self.name.to_string()
    }

    /// The objectives metric, with the epoch's state so far.
    pub fn metric(&self) -> &dyn Metric {
        self.epoch.as_ref()
    }

    fn compose_name(&self) -> String {
        let m = self.fresh.as_ref();
        let mut name = m.name().to_string();
        let config = m.config();
        // The class's defaults: built without arguments or, for a class with a required one
        // (`MeanIoU(num_classes)`), with that argument alone, which the name then always shows.
        let entry = registry::lookup(m.class_name());
        let mut required: Option<&str> = None;
        let defaults = entry.and_then(|e| {
            e.build(&Map::new()).ok().or_else(|| {
                config.iter().filter(|(k, _)| k.as_str() != "name" && k.as_str() != "dtype").find_map(|(k, v)| {
                    let mut one = Map::new();
                    one.insert(k.clone(), v.clone());
                    let built = e.build(&one).ok();
                    if built.is_some() {
                        required = Some(k.as_str());
                    }
                    built
                })
            })
        });
        let registered = registry::lookup(m.name()).is_some_and(|e| e.class_name == m.class_name());
        if let Some(d) = &defaults
            && d.name() != m.name()
            && !registered
        {
            // A name of the user's: the class too, so that two classes never share it.
            name = format!("{name}[{}]", m.class_name());
        }
        let default_config = defaults.map(|d| d.config()).unwrap_or_default();
        let args: Vec<String> = config
            .iter()
            .filter(|(k, v)| {
                k.as_str() != "name" && (Some(k.as_str()) == required || default_config.get(k.as_str()) != Some(v))
            })
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                v => format!("{k}={v}"),
            })
            .collect();
        if !args.is_empty() {
            name = format!("{name}({})", args.join(", "));
        }
        if self.weighted {
            name = format!("weighted_{name}");
        }
        if let Some(c) = self.class {
            name = format!("{name}[{c}]");
        }
        name
    }

    /// The weight the metric takes for this batch (see [`MetricInput`]).
    fn weight(&self, item: &MetricInput) -> Result<Option<DynTensor>, BurnError> {
        let mask = if self.fresh.uses_mask() {
            item.mask.as_ref().map(|m| {
                m.clone().map(|t| {
                    let dtype = t.dtype();
                    t.not_equal_elem(0.0).float().cast(dtype)
                })
            })
        } else {
            None
        };
        let weight = if self.weighted { item.sample_weight.clone() } else { None };
        Ok(match (weight, mask) {
            (Some(w), Some(m)) => {
                let (m, w) = shape::align_weight("sample_weight", m, w)?;
                let shapes = format!("{:?} and {:?}", w.shape(), m.shape());
                Some(w.broadcast_mul(m).ok_or_else(|| {
                    BurnError::Input(format!("the sample weight and the mask do not broadcast: {shapes}"))
                })?)
            }
            (w, m) => w.or(m),
        })
    }

    /// The value reported for a result: the selected class of a vector, or the scalar.
    fn select(&self, value: &MetricValue) -> Result<f64, BurnError> {
        match (value, self.class) {
            (MetricValue::Scalar(v), None) => Ok(*v),
            (MetricValue::Vector(v), Some(c)) => v.get(c).copied().ok_or_else(|| {
                BurnError::Input(format!("`{}`: class {c} asked, the result has {} values", self.name, v.len()))
            }),
            (MetricValue::Vector(v), None) => Err(BurnError::Input(format!(
                "`{}` returns {} values (one per class): register `LearnerMetric::per_class({})` (or \
                 `.class(i)`) to report each as a burn metric",
                self.name,
                v.len(),
                v.len()
            ))),
            (MetricValue::Scalar(_), Some(c)) => Err(BurnError::Input(format!(
                "`{}`: class {c} asked, but the metric's result is a scalar: register it without `.class`",
                self.name
            ))),
        }
    }

    fn update_batch(&mut self, item: &MetricInput) -> Result<(f64, f64), BurnError> {
        let weight = self.weight(item)?;
        let mut batch = self.fresh.clone();
        batch.update_state(&item.y_true, &item.y_pred, weight.as_ref())?;
        let value = self.select(&batch.result())?;
        let mut epoch = self.epoch.clone();
        epoch.merge_state(batch.state())?;
        let running = self.select(&epoch.result())?;
        self.epoch = epoch;
        Ok((value, running))
    }
}

/// Four decimals, or four significant digits in scientific notation for small magnitudes.
pub(crate) fn format_value(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-3 { format!("{v:.4e}") } else { format!("{v:.4}") }
}

impl BurnMetric for LearnerMetric {
    type Input = MetricInput;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn description(&self) -> Option<String> {
        Some(format!("objectives {} (Keras {})", self.fresh.class_name(), self.fresh.serialize()))
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes { unit: None, higher_is_better: self.higher_is_better }.into()
    }

    fn update(&mut self, item: &MetricInput, _metadata: &MetricMetadata) -> Result<SerializedEntry, TensorReadError> {
        let (value, running) = self.update_batch(item).map_err(|e| read_error(&self.name, e))?;
        self.batch = Some(value);
        self.running = Some(running);
        Ok(SerializedEntry::new(
            format!("epoch {} - batch {}", format_value(running), format_value(value)),
            NumericEntry::Value(value).serialize(),
        ))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        let value = self.select(&self.epoch.result()).map_err(|e| read_error(&self.name, e))?;
        Ok(SerializedEntry::new(format!("epoch {}", format_value(value)), NumericEntry::Final(value).serialize()))
    }

    fn clear(&mut self) {
        self.epoch.reset_state();
        self.batch = None;
        self.running = None;
    }
}

impl Numeric for LearnerMetric {
    fn value(&self) -> Option<NumericEntry> {
        self.batch.map(NumericEntry::Value)
    }

    fn running_value(&self) -> Option<NumericEntry> {
        self.running.map(NumericEntry::Value)
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(self.select(&self.epoch.result()).unwrap_or(f64::NAN))
    }
}
