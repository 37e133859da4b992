//! `Mean`, `Sum` and `MeanMetricWrapper` (`keras/src/metrics/reduction_metrics.py`): the weighted
//! mean (or sum) of per-sample values, computed as [`super::mean`] describes.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::config::{self, invalid};
use super::host::Host;
pub use super::mean::{NoArgs, Reduce, SampleFn, Wrapped};
use super::mean::{mean_result, mean_update, mean_variables, samplewise};
use super::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric};
use super::state::{State, Variable};
use crate::error::Result;
use crate::tensor::dyn_tensor::DynTensor;

/// `keras.metrics.Mean`: the weighted mean of the values passed as `y_pred` (`y_true` is
/// ignored), `Σ v·w / Σ w`.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Mean, Metric, MetricClass};
/// let d = Device::flex();
/// let mut m = Mean.metric()?;
/// let v: DynTensor = Tensor::<1>::from_floats([1., 3., 5., 7.], &d).into();
/// let w: DynTensor = Tensor::<1>::from_floats([1., 1., 0., 0.], &d).into();
/// m.update_state(&v, &v, Some(&w))?;
/// assert_eq!(m.result().scalar()?, 2.0);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Mean;

impl StatefulMetric for Mean {
    fn class_name(&self) -> &str {
        "Mean"
    }
    fn default_name(&self) -> String {
        "mean".into()
    }
    fn config(&self) -> Map<String, Value> {
        Map::new()
    }
    fn variables(&self) -> Vec<Variable> {
        mean_variables()
    }
    fn update(&self, state: &mut State, _t: &DynTensor, values: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let w = w.map(Host::read).transpose()?;
        mean_update(state, &Host::read(values)?, w.as_ref(), Reduce::Mean)
    }
    fn result(&self, state: &State) -> MetricValue {
        MetricValue::Scalar(mean_result(state))
    }
}

impl MetricClass for Mean {
    const CLASS: &'static str = "Mean";
    type Metric = Mean;

    fn metric(self) -> Result<MetricObject<Mean>> {
        Ok(MetricObject::new(self))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        let (name, NoArgs {}) = config::split(Self::CLASS, config)?;
        Ok((name, Mean))
    }
}

/// `keras.metrics.Sum`: the weighted sum of the values passed as `y_pred` (`y_true` is ignored).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sum;

impl StatefulMetric for Sum {
    fn class_name(&self) -> &str {
        "Sum"
    }
    fn default_name(&self) -> String {
        "sum".into()
    }
    fn config(&self) -> Map<String, Value> {
        Map::new()
    }
    fn variables(&self) -> Vec<Variable> {
        vec![Variable::zeros("total", &[])]
    }
    fn update(&self, state: &mut State, _t: &DynTensor, values: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let w = w.map(Host::read).transpose()?;
        let (rows, _) = samplewise(&Host::read(values)?, w.as_ref(), Reduce::Sum)?;
        let total = &mut state.var_mut(0).cells[0];
        rows.iter().for_each(|&v| total.add(v));
        Ok(())
    }
    fn result(&self, state: &State) -> MetricValue {
        MetricValue::Scalar(state.var(0).scalar())
    }
}

impl MetricClass for Sum {
    const CLASS: &'static str = "Sum";
    type Metric = Sum;

    fn metric(self) -> Result<MetricObject<Sum>> {
        Ok(MetricObject::new(self))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        let (name, NoArgs {}) = config::split(Self::CLASS, config)?;
        Ok((name, Sum))
    }
}

/// A per-sample function, as a boxed closure.
pub type PerSample = Arc<dyn Fn(&DynTensor, &DynTensor) -> Result<DynTensor> + Send + Sync>;

/// `keras.metrics.MeanMetricWrapper`: any per-sample function `fn(y_true, y_pred)` becomes a
/// weighted-mean metric (a custom metric in one line), named as given.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, MeanMetricWrapper};
/// let d = Device::flex();
/// // Mean absolute error of the first feature only.
/// let mut m = MeanMetricWrapper::new("first_feature_mae", |t, p| {
///     let t = t.clone().narrow(1, 0, 1)?;
///     let p = p.clone().narrow(1, 0, 1)?;
///     objectives::DynTensor::zip_with(t, p, |t, p| (p - t).abs())
/// })
/// .metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 5.], [1., 5.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[1., 0.], [4., 0.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result().scalar()?, 2.0);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone)]
pub struct MeanMetricWrapper {
    f: PerSample,
    fn_name: String,
}

impl fmt::Debug for MeanMetricWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MeanMetricWrapper({})", self.fn_name)
    }
}

impl MeanMetricWrapper {
    /// The class wrapping `f`, named `name` (the metric's default name, and the function's name
    /// in its config).
    pub fn new(
        name: impl Into<String>,
        f: impl Fn(&DynTensor, &DynTensor) -> Result<DynTensor> + Send + Sync + 'static,
    ) -> Self {
        MeanMetricWrapper { f: Arc::new(f), fn_name: name.into() }
    }
}

impl MetricClass for MeanMetricWrapper {
    const CLASS: &'static str = "MeanMetricWrapper";
    type Metric = MeanMetricWrapper;

    fn metric(self) -> Result<MetricObject<MeanMetricWrapper>> {
        Ok(MetricObject::new(self))
    }

    /// Keras's serialized `MeanMetricWrapper` wraps a function by name: a loss function
    /// (`"mean_squared_error"`, …) from the loss registry.
    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        let mut rest = config.clone();
        let f = rest.remove("fn").ok_or_else(|| invalid("MeanMetricWrapper", "`fn` is required: a function name"))?;
        let fn_name = match &f {
            Value::String(s) => s.clone(),
            Value::Object(o) => o.get("config").and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                invalid("MeanMetricWrapper", format!("`fn` {f} does not name a function in its `config`"))
            })?,
            other => return Err(invalid("MeanMetricWrapper", format!("`fn` must name a function, got {other}"))),
        };
        let (name, args) = config::split::<Map<String, Value>>("MeanMetricWrapper", &rest)?;
        if !args.is_empty() {
            return Err(invalid(
                "MeanMetricWrapper",
                format!("function keyword arguments {:?} are not supported; use the metric class instead", args),
            ));
        }
        let loss = crate::losses::registry::get(&fn_name).map_err(|_| {
            invalid(
                "MeanMetricWrapper",
                format!(
                    "`fn` {fn_name} is not a loss function objectives knows; wrap a closure with MeanMetricWrapper::new"
                ),
            )
        })?;
        let f = move |t: &DynTensor, p: &DynTensor| -> Result<DynTensor> { Ok(loss.per_sample(t, p)?.values) };
        Ok((name, MeanMetricWrapper::new(fn_name, f)))
    }
}

impl StatefulMetric for MeanMetricWrapper {
    fn class_name(&self) -> &str {
        "MeanMetricWrapper"
    }
    fn default_name(&self) -> String {
        self.fn_name.clone()
    }
    fn config(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("fn".into(), Value::String(self.fn_name.clone()));
        m
    }
    fn variables(&self) -> Vec<Variable> {
        mean_variables()
    }
    fn update(&self, state: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        // Keras casts metric inputs to the metric's dtype, float32.
        let t = y_true.clone().map(|t| t.detach()).cast(burn::tensor::FloatDType::F32);
        let p = y_pred.clone().map(|p| p.detach()).cast(burn::tensor::FloatDType::F32);
        let values = Host::read(&(self.f)(&t, &p)?)?;
        let w = w.map(Host::read).transpose()?;
        mean_update(state, &values, w.as_ref(), Reduce::Mean)
    }
    fn result(&self, state: &State) -> MetricValue {
        MetricValue::Scalar(mean_result(state))
    }

    fn uses_mask(&self) -> bool {
        true
    }
}
