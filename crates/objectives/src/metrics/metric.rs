//! What a metric is: [`Metric`] (the object, as `dyn Metric`), [`StatefulMetric`] (a metric's
//! arithmetic, the only thing a metric implements), [`MetricObject`] (a `StatefulMetric` with its
//! name and state: the one implementation of `Metric`), [`MetricClass`] (the one way to construct
//! a metric from Rust) and [`MetricValue`].

use std::fmt;

use serde_json::{Map, Value};

use super::state::{State, Variable};
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::DynTensor;

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
    /// [`Error::Data`] for a vector result.
    pub fn scalar(&self) -> Result<f64> {
        match self {
            MetricValue::Scalar(v) => Ok(*v),
            MetricValue::Vector(v) => Err(Error::Data(format!("the metric's result is a vector of {}", v.len()))),
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
/// `Box<dyn Metric>`). [`MetricObject`] is its one implementation: a metric, built-in or your
/// own, implements [`StatefulMetric`] (or is a per-sample function in a
/// [`crate::metrics::MeanMetricWrapper`]) and gets this trait from `MetricObject`.
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
    /// Shapes that do not pair, labels out of range, weights that do not broadcast: an
    /// [`Error`] naming the metric and the shapes or values.
    fn update_state(&mut self, y_true: &DynTensor, y_pred: &DynTensor, sample_weight: Option<&DynTensor>)
    -> Result<()>;

    /// The metric's value for everything added since the last reset.
    fn result(&self) -> MetricValue;

    /// Clears the state: the metric is as new (a state built on the first batch is unbuilt
    /// again, so the next batch may have another number of classes).
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
/// this for a stateful metric of your own, whose state is [`Variable`]s of
/// [`crate::metrics::ExactSum`]s (so it merges exactly, for free).
///
/// Variables whose shapes depend on the inputs (Keras builds them on the first update: one cell
/// per class of `F1Score`, per output of `R2Score`, per label of a multi-label `AUC`) are built
/// lazily: [`StatefulMetric::variables`] is the state before the first batch,
/// [`StatefulMetric::build_size`] reads the size from a batch (and checks it against the size
/// already built), and [`StatefulMetric::built_variables`] is the state of that size. A merge
/// into an unbuilt state builds it from the other state's shapes.
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
/// # Ok::<(), objectives::Error>(())
/// ```
pub trait StatefulMetric: Clone + fmt::Debug + Send + Sync + 'static {
    /// The class name (Keras's, for a built-in metric).
    fn class_name(&self) -> &str;

    /// The default instance name (Keras's `name=` default).
    fn default_name(&self) -> String;

    /// The metric's own arguments as Keras config entries (without `name` and `dtype`).
    fn config(&self) -> Map<String, Value>;

    /// The state variables before the first batch, zero (for a metric built on its first batch,
    /// those whose shapes do not depend on the inputs, or none).
    fn variables(&self) -> Vec<Variable>;

    /// For a metric whose variables' shapes depend on its inputs: the size this batch builds them
    /// with (classes, outputs, labels), after checking the inputs' shapes and that the size is
    /// `built`, the size of the state so far (`None` before the first batch). The default,
    /// `Ok(None)`, is a metric whose variables are [`StatefulMetric::variables`] for good.
    ///
    /// # Errors
    /// Inputs of a shape the metric does not take, or of another size than the one it was built
    /// with, naming the metric and the shapes.
    fn build_size(&self, built: Option<usize>, y_true: &DynTensor, y_pred: &DynTensor) -> Result<Option<usize>> {
        let _ = (built, y_true, y_pred);
        Ok(None)
    }

    /// The state variables, zero, built for `size` (see [`StatefulMetric::build_size`]; the
    /// default is [`StatefulMetric::variables`]).
    ///
    /// # Errors
    /// A size the metric cannot have (e.g. labels that its per-label weights do not fit).
    fn built_variables(&self, size: usize) -> Result<Vec<Variable>> {
        let _ = size;
        Ok(self.variables())
    }

    /// Adds a batch into `state` (a zero state: the variables, or the variables built for this
    /// batch's size), merged into the metric's own when this returns `Ok`.
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

/// A Keras metric class, as its constructor arguments: a struct with public fields whose
/// `Default` is Keras's defaults (a class with required arguments has `new(required…)` for the
/// rest), and [`MetricClass::metric`], which checks them as Keras's constructor does and makes the
/// metric. This is how every metric class is constructed from Rust:
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass};
/// use objectives::metrics::accuracy::BinaryAccuracy;
/// use objectives::metrics::confusion::Auc;
/// use objectives::metrics::iou::MeanIoU;
/// use objectives::metrics::{Mean, MeanMetricWrapper};
/// let auc = Auc { num_thresholds: Some(50), ..Default::default() }.metric()?;
/// let acc = BinaryAccuracy { threshold: 0.7 }.metric()?;
/// let miou = MeanIoU { axis: 1, ..MeanIoU::new(3) }.metric()?;
/// let mean = Mean.metric()?;
/// let custom = MeanMetricWrapper::new("abs", |t, p| DynTensor::zip_with(t.clone(), p.clone(), |t, p| (p - t).abs())).metric()?;
/// assert_eq!((auc.name(), acc.name(), miou.name(), mean.name(), custom.name()),
///            ("auc", "binary_accuracy", "mean_io_u", "mean", "abs"));
/// # Ok::<(), objectives::Error>(())
/// ```
///
/// By name or from Keras JSON, the registry builds the same objects
/// ([`crate::metrics::get`], [`crate::metrics::from_keras_json`]).
pub trait MetricClass: Sized {
    /// The Keras class name, e.g. `"AUC"`.
    const CLASS: &'static str;

    /// The metric's arithmetic, which these arguments make.
    type Metric: StatefulMetric;

    /// The metric, with Keras's default name and a zero state.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for arguments Keras's constructor refuses, naming the argument.
    fn metric(self) -> Result<MetricObject<Self::Metric>>;

    /// The arguments of a Keras config (`get_config()`'s object), and its `name` if it has one.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming an unknown key or a bad value; [`Error::UnsupportedDtype`].
    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)>;
}

/// A [`StatefulMetric`] with its name and state: the [`Metric`].
#[derive(Clone, Debug)]
pub struct MetricObject<K> {
    /// The metric's arithmetic and arguments.
    pub kind: K,
    name: String,
    state: State,
    /// The size the state was built with ([`StatefulMetric::build_size`]); `None` before.
    built: Option<usize>,
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
        Self { kind, name, state, built: None }
    }

    /// The size of a state (`None`: unbuilt, or of another layout), found among the sizes of its
    /// variables' axes: the one whose built variables have its layout.
    fn size_of(&self, other: &State) -> Result<Option<usize>> {
        let layout = other.layout();
        let mut sizes: Vec<usize> = other.vars.iter().flat_map(|v| v.shape.iter().copied()).collect();
        sizes.push(1);
        sizes.sort_unstable();
        sizes.dedup();
        let mut refused = None;
        for s in sizes {
            match self.kind.built_variables(s) {
                Ok(vars) if vars.iter().map(|v| (v.name.clone(), v.shape.clone())).eq(layout.iter().cloned()) => {
                    return Ok(Some(s));
                }
                Ok(_) => {}
                Err(e) => refused = refused.or(Some(e)),
            }
        }
        match refused {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Merges `other` (a state built with `size`, or of this state's layout) into the state,
    /// building the state first when it is unbuilt and `other` is built. On error the state is
    /// unchanged.
    fn absorb(&mut self, other: &State, size: Option<usize>) -> Result<()> {
        match (self.built, size) {
            (None, Some(s)) if other.layout() != self.state.layout() => {
                let mut built = State::new(self.kind.built_variables(s)?);
                built.add_matching(&self.state);
                built.merge(other, &self.name)?;
                self.state = built;
                self.built = Some(s);
                Ok(())
            }
            (None, Some(s)) => {
                self.state.merge(other, &self.name)?;
                self.built = Some(s);
                Ok(())
            }
            _ => self.state.merge(other, &self.name),
        }
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
        let size = self.kind.build_size(self.built, y_true, y_pred)?;
        let mut delta = match size {
            Some(s) => State::new(self.kind.built_variables(s)?),
            None => self.state.zeroed(),
        };
        self.kind.update(&mut delta, y_true, y_pred, sample_weight)?;
        self.absorb(&delta, size)
    }

    fn result(&self) -> MetricValue {
        self.kind.result(&self.state)
    }

    fn reset_state(&mut self) {
        self.state = State::new(self.kind.variables());
        self.built = None;
    }

    fn state(&self) -> &State {
        &self.state
    }

    fn merge_state(&mut self, other: &State) -> Result<()> {
        let layout = other.layout();
        if layout == self.state.layout() {
            return self.state.merge(other, &self.name);
        }
        if layout == State::new(self.kind.variables()).layout() {
            // An unbuilt state into a built one: its size-independent variables add in.
            self.state.add_matching(other);
            return Ok(());
        }
        match (self.built, self.size_of(other)?) {
            (None, Some(s)) => self.absorb(other, Some(s)),
            // Another layout: refused, naming both.
            _ => self.state.merge(other, &self.name),
        }
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
