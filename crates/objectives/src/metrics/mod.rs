//! Keras 3's metrics: stateful, exactly mergeable, with `axis`.
//!
//! A metric is a [`State`] (plain data: sums, counts, confusion matrices, threshold histograms)
//! updated batch by batch with [`Metric::update_state`], read with [`Metric::result`] and
//! cleared with [`Metric::reset_state`], with Keras 3.15.1's arithmetic for every class of
//! `keras.metrics` (see [`registry::all`]). Every state cell is an [`ExactSum`], so merging the
//! states of any split of the data ([`Metric::merge_state`]: micro-batches, threads, devices)
//! gives exactly the state — and the result — of one update on everything.
//!
//! ```
//! use objectives::prelude::*;
//! use objectives::metrics;
//! let d = Device::flex();
//! let mut auc = metrics::get("auc")?;
//! let y_true = Tensor::<1>::from_floats([0., 0., 1., 1.], &d);
//! let y_pred = Tensor::<1>::from_floats([0.1, 0.4, 0.35, 0.8], &d);
//! auc.update_state(&y_true.into(), &y_pred.into(), None)?;
//! assert!((auc.result().scalar()? - 0.75).abs() < 1e-3);
//! # Ok::<(), objectives::LossError>(())
//! ```
//!
//! Metric families, one file each: [`reduction`] (`Mean`, `Sum`, `MeanMetricWrapper`),
//! [`regression`], [`probabilistic`], [`hinge`], [`correlation`], [`accuracy`], [`confusion`]
//! (`TruePositives` … `AUC`), [`f_score`] and [`iou`].

pub mod accuracy;
pub mod config;
pub mod confusion;
pub mod correlation;
pub mod exact;
pub mod f_score;
pub mod hinge;
pub mod host;
pub mod iou;
pub mod probabilistic;
pub mod reduction;
pub mod registry;
pub mod regression;
pub mod spec;
pub mod state;

use std::fmt;

use serde_json::{Map, Value};

pub use exact::ExactSum;
pub use host::Host;
pub use reduction::{Mean, MeanMetricWrapper, Sum};
pub use registry::{MetricEntry, from_keras_json, from_keras_json_str, get};
pub use spec::MetricSpec;
pub use state::{State, Variable};

use crate::dyn_tensor::DynTensor;
use crate::error::{LossError, Result};

/// What [`Metric::result`] returns: a scalar, or a vector (Precision with a list of
/// thresholds, F1 with `average=None`, IoU per class, …), as Keras returns them.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricValue {
    /// A scalar result.
    Scalar(f64),
    /// A vector result.
    Vector(Vec<f64>),
}

impl MetricValue {
    /// The scalar result.
    ///
    /// # Errors
    /// [`LossError::Data`] for a vector result.
    pub fn scalar(&self) -> Result<f64> {
        match self {
            MetricValue::Scalar(v) => Ok(*v),
            MetricValue::Vector(v) => Err(LossError::Data(format!("the metric's result is a vector of {}", v.len()))),
        }
    }

    /// The values, one for a scalar.
    pub fn to_vec(&self) -> Vec<f64> {
        match self {
            MetricValue::Scalar(v) => vec![*v],
            MetricValue::Vector(v) => v.clone(),
        }
    }

    /// The result's shape: `[]` for a scalar, `[n]` for a vector.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            MetricValue::Scalar(_) => vec![],
            MetricValue::Vector(v) => vec![v.len()],
        }
    }
}

/// A metric object, as `keras.metrics.Metric`: works as `dyn Metric` (the registry hands out
/// `Box<dyn Metric>`). Every built-in metric is a [`MetricObject`]; implement
/// [`StatefulMetric`] for a metric of your own, or wrap a per-sample function in a
/// [`MeanMetricWrapper`].
pub trait Metric: fmt::Debug + Send + Sync {
    /// The Keras class name, e.g. `"AUC"`.
    fn class_name(&self) -> &str;

    /// The metric's name (Keras's `name`, e.g. `"auc"`): the key in training logs.
    fn name(&self) -> &str;

    /// Renames the metric (compile names a metric given as a string after that string).
    fn set_name(&mut self, name: String);

    /// Every constructor argument, `name` and `dtype` included: Keras's `get_config()`.
    fn config(&self) -> Map<String, Value>;

    /// Adds a batch to the state. On error the state is unchanged.
    ///
    /// # Errors
    /// Shapes that do not pair, labels out of range, weights that do not broadcast: a
    /// [`LossError`] naming the metric and the shapes or values.
    fn update_state(&mut self, y_true: &DynTensor, y_pred: &DynTensor, sample_weight: Option<&DynTensor>)
    -> Result<()>;

    /// The metric's value for everything added since the last reset.
    fn result(&self) -> MetricValue;

    /// Clears the state.
    fn reset_state(&mut self);

    /// The state (plain data).
    fn state(&self) -> &State;

    /// Adds another instance's state (from another batch split, thread or device).
    ///
    /// # Errors
    /// A state of a differently configured metric.
    fn merge_state(&mut self, other: &State) -> Result<()>;

    /// A boxed copy, state included.
    fn clone_box(&self) -> Box<dyn Metric>;

    /// Whether a mask over the outputs (Keras's `_keras_mask`) weighs this metric's values:
    /// true for Keras's `MeanMetricWrapper` family, which multiplies it into the sample weight;
    /// the other classes (confusion matrices, IoU, F-scores, R²) ignore masks in Keras, and so
    /// they do here.
    fn uses_mask(&self) -> bool {
        false
    }

    /// Keras's serialized form, `{"module": "keras.metrics", "class_name", "config",
    /// "registered_name": null}`, every argument written.
    fn serialize(&self) -> Value {
        let mut m = Map::new();
        m.insert("module".into(), Value::String("keras.metrics".into()));
        m.insert("class_name".into(), Value::String(self.class_name().to_string()));
        m.insert("config".into(), Value::Object(self.config()));
        m.insert("registered_name".into(), Value::Null);
        Value::Object(m)
    }
}

impl Clone for Box<dyn Metric> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// A metric's arithmetic, without the state bookkeeping that [`MetricObject`] adds: implement
/// this for a stateful metric of your own, whose state is [`Variable`]s of [`ExactSum`]s (so it
/// merges exactly, for free).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Host, Metric, MetricObject, MetricValue, State, StatefulMetric, Variable};
/// /// The largest |y_true − y_pred| seen would not merge by addition; a count does.
/// #[derive(Clone, Debug)]
/// struct CountAbove(f32);
/// impl StatefulMetric for CountAbove {
///     fn class_name(&self) -> &str { "CountAbove" }
///     fn default_name(&self) -> String { "count_above".into() }
///     fn config(&self) -> serde_json::Map<String, serde_json::Value> {
///         serde_json::json!({"limit": self.0}).as_object().cloned().unwrap_or_default()
///     }
///     fn variables(&self) -> Vec<Variable> { vec![Variable::zeros("count", &[])] }
///     fn update(&self, state: &mut State, _t: &DynTensor, p: &DynTensor, _w: Option<&DynTensor>) -> objectives::Result<()> {
///         let p = Host::read(p)?;
///         let n = p.data.iter().filter(|&&x| x > self.0).count();
///         state.var_mut(0).cells[0].add_count(n as u64);
///         Ok(())
///     }
///     fn result(&self, state: &State) -> MetricValue { MetricValue::Scalar(state.var(0).scalar()) }
/// }
/// let d = Device::flex();
/// let mut m = MetricObject::new(CountAbove(0.5));
/// let p: DynTensor = Tensor::<1>::from_floats([0.2, 0.7, 0.9], &d).into();
/// m.update_state(&p, &p, None)?;
/// assert_eq!(m.result(), MetricValue::Scalar(2.0));
/// # Ok::<(), objectives::LossError>(())
/// ```
pub trait StatefulMetric: Clone + fmt::Debug + Send + Sync + 'static {
    /// The class name (Keras's, for a built-in metric).
    fn class_name(&self) -> &str;

    /// The default instance name (Keras's `name=` default).
    fn default_name(&self) -> String;

    /// The metric's own arguments as Keras config entries (without `name` and `dtype`).
    fn config(&self) -> Map<String, Value>;

    /// The state variables, zero.
    fn variables(&self) -> Vec<Variable>;

    /// Adds a batch into `state` (a zero state of [`StatefulMetric::variables`]'s layout, merged
    /// into the metric's own when this returns `Ok`).
    ///
    /// # Errors
    /// Any input error, naming the metric.
    fn update(
        &self,
        state: &mut State,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
    ) -> Result<()>;

    /// The result from a state.
    fn result(&self, state: &State) -> MetricValue;

    /// See [`Metric::uses_mask`] (default false).
    fn uses_mask(&self) -> bool {
        false
    }
}

/// A [`StatefulMetric`] with its name and state: a [`Metric`].
#[derive(Clone, Debug)]
pub struct MetricObject<K> {
    /// The metric's arithmetic and arguments.
    pub kind: K,
    name: String,
    state: State,
}

impl<K: StatefulMetric> MetricObject<K> {
    /// A metric with its default name and a zero state.
    pub fn new(kind: K) -> Self {
        let name = kind.default_name();
        Self::named(kind, name)
    }

    /// A metric with a given name and a zero state.
    pub fn named(kind: K, name: String) -> Self {
        let state = State::new(kind.variables());
        Self { kind, name, state }
    }
}

impl<K: StatefulMetric> Metric for MetricObject<K> {
    fn class_name(&self) -> &str {
        self.kind.class_name()
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn set_name(&mut self, name: String) {
        self.name = name;
    }

    fn config(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        m.insert("dtype".into(), Value::String("float32".into()));
        m.extend(self.kind.config());
        m
    }

    fn update_state(
        &mut self,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
    ) -> Result<()> {
        let mut delta = self.state.zeroed();
        self.kind.update(&mut delta, y_true, y_pred, sample_weight)?;
        let name = self.name.clone();
        self.state.merge(&delta, &name)
    }

    fn result(&self) -> MetricValue {
        self.kind.result(&self.state)
    }

    fn reset_state(&mut self) {
        self.state.clear();
    }

    fn state(&self) -> &State {
        &self.state
    }

    fn merge_state(&mut self, other: &State) -> Result<()> {
        let name = self.name.clone();
        self.state.merge(other, &name)
    }

    fn clone_box(&self) -> Box<dyn Metric> {
        Box::new(self.clone())
    }

    fn uses_mask(&self) -> bool {
        self.kind.uses_mask()
    }
}

/// Keras's `divide_no_nan`: `a / b`, 0 where `b == 0`.
pub fn divide_no_nan(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}
