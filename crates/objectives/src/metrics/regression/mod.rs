//! Regression metrics (`keras/src/metrics/regression_metrics.py`, Keras 3.15.1):
//! `MeanSquaredError`, `MeanAbsoluteError`, `MeanAbsolutePercentageError`,
//! `MeanSquaredLogarithmicError`, `LogCoshError` and `CosineSimilarity` (the weighted mean of the
//! matching loss function's per-sample values, as Keras's `MeanMetricWrapper` subclasses),
//! `RootMeanSquaredError` (a `Mean` of squared errors, square-rooted) and `R2Score`.
//!
//! `axis` (default -1) is objectives' extension on every per-sample metric but `CosineSimilarity`
//! (where Keras has it): the axis the loss function reduces (1 for channels-first outputs). Its
//! default is not written to the config, so the config stays loadable by Keras.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::{self, input_error, invalid};
use super::host::{Host, broadcast_to};
use super::mean::{NoArgs, Reduce, SampleFn, loss_axis_metric, mean_result, mean_update, mean_variables};
use super::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric};
use super::state::{State, Variable};
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::DynTensor;
use crate::tensor::shape::same_rank_shapes;

loss_axis_metric!(
    /// `keras.metrics.MeanSquaredError` (`"mse"`): the weighted mean over samples of
    /// [`crate::mean_squared_error`], `mean((y_true − y_pred)², axis)`.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// let d = Device::flex();
    /// let mut m = objectives::metrics::get("mse")?;
    /// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
    /// let p: DynTensor = Tensor::<2>::from_floats([[1., 1.], [0., 0.]], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert_eq!(m.result().scalar()?, 0.25);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    MeanSquaredError,
    "MeanSquaredError",
    "mean_squared_error",
    mean_squared_error,
    MeanSquaredErrorConfig
);

loss_axis_metric!(
    /// `keras.metrics.MeanAbsoluteError` (`"mae"`): the weighted mean over samples of
    /// [`crate::mean_absolute_error`], `mean(|y_true − y_pred|, axis)`.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// let d = Device::flex();
    /// let mut m = objectives::metrics::get("mae")?;
    /// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
    /// let p: DynTensor = Tensor::<2>::from_floats([[1., 1.], [0., 0.]], &d).into();
    /// let w: DynTensor = Tensor::<1>::from_floats([1., 0.], &d).into();
    /// m.update_state(&t, &p, Some(&w))?;
    /// assert_eq!(m.result().scalar()?, 0.5);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    MeanAbsoluteError,
    "MeanAbsoluteError",
    "mean_absolute_error",
    mean_absolute_error,
    MeanAbsoluteErrorConfig
);

loss_axis_metric!(
    /// `keras.metrics.MeanAbsolutePercentageError` (`"mape"`): the weighted mean over samples of
    /// [`crate::mean_absolute_percentage_error`],
    /// `100 · mean(|y_true − y_pred| / max(|y_true|, ε), axis)`.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// let d = Device::flex();
    /// let mut m = objectives::metrics::get("mape")?;
    /// let t: DynTensor = Tensor::<2>::from_floats([[2., 4.]], &d).into();
    /// let p: DynTensor = Tensor::<2>::from_floats([[1., 5.]], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert!((m.result().scalar()? - 37.5).abs() < 1e-4);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    MeanAbsolutePercentageError,
    "MeanAbsolutePercentageError",
    "mean_absolute_percentage_error",
    mean_absolute_percentage_error,
    MeanAbsolutePercentageErrorConfig
);

loss_axis_metric!(
    /// `keras.metrics.MeanSquaredLogarithmicError` (`"msle"`): the weighted mean over samples of
    /// [`crate::mean_squared_logarithmic_error`],
    /// `mean((log(max(y_pred, ε) + 1) − log(max(y_true, ε) + 1))², axis)`.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// let d = Device::flex();
    /// let mut m = objectives::metrics::get("msle")?;
    /// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
    /// let p: DynTensor = Tensor::<2>::from_floats([[1., 1.], [0., 0.]], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert!((m.result().scalar()? - 0.12011322).abs() < 1e-6);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    MeanSquaredLogarithmicError,
    "MeanSquaredLogarithmicError",
    "mean_squared_logarithmic_error",
    mean_squared_logarithmic_error,
    MeanSquaredLogarithmicErrorConfig
);

loss_axis_metric!(
    /// `keras.metrics.LogCoshError` (default name `"logcosh"`, as Keras's): the weighted mean
    /// over samples of [`crate::log_cosh`], `mean(log(cosh(y_pred − y_true)), axis)`.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// let d = Device::flex();
    /// let mut m = objectives::metrics::get("LogCoshError")?;
    /// assert_eq!(m.name(), "logcosh");
    /// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
    /// let p: DynTensor = Tensor::<2>::from_floats([[1., 1.], [0., 0.]], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert!((m.result().scalar()? - 0.10844523).abs() < 1e-6);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    LogCoshError,
    "LogCoshError",
    "logcosh",
    log_cosh,
    LogCoshConfig
);

/// `keras.metrics.CosineSimilarity`: the weighted mean over samples of
/// `Σ_axis l2_normalize(y_true) · l2_normalize(y_pred)` — the negative of
/// [`crate::cosine_similarity`], the loss (1 for the same direction).
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::from_keras_json_str(r#"{"class_name": "CosineSimilarity", "config": {"axis": 1}}"#)?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [1., 1.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[1., 0.], [1., 1.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 0.5).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CosineSimilarity {
    /// The axis along which the similarity is computed (Keras's, default -1).
    pub axis: i64,
}

impl Default for CosineSimilarity {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl SampleFn for CosineSimilarity {
    const CLASS_NAME: &'static str = "CosineSimilarity";
    const DEFAULT_NAME: &'static str = "cosine_similarity";
    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let loss = crate::cosine_similarity(y_true, y_pred, &crate::CosineSimilarityConfig { axis: self.axis })?;
        Ok(loss.map(|l| l.neg()))
    }
}

/// `y_true` and `y_pred` read to the host in float32, ranks aligned as Keras's
/// `squeeze_or_expand_to_same_rank`, and required to have one shape (Keras would broadcast a
/// `(B, 1)` target against `(B, 3)` predictions silently; objectives refuses).
fn aligned_pair(metric: &str, y_true: &DynTensor, y_pred: &DynTensor) -> Result<(Host, Host)> {
    let (ts, ps) = same_rank_shapes(y_true.shape(), y_pred.shape());
    if ts != ps {
        return Err(Error::ShapeMismatch {
            name: metric.to_string(),
            y_true: y_true.shape().to_vec(),
            y_pred: y_pred.shape().to_vec(),
        });
    }
    let t = Host::new(ts, Host::read(y_true)?.data)?;
    let p = Host::new(ps, Host::read(y_pred)?.data)?;
    Ok((t, p))
}

/// `keras.metrics.RootMeanSquaredError`: `sqrt(Σ w·(y_pred − y_true)² / Σ w)`, a `Mean` of the
/// element-wise squared errors (weights broadcast as `Mean`'s), square-rooted.
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::get("RootMeanSquaredError")?;
/// let t: DynTensor = Tensor::<1>::from_floats([2., 4., 6.], &d).into();
/// let p: DynTensor = Tensor::<1>::from_floats([1., 3., 2.], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 6f64.sqrt()).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RootMeanSquaredError;

impl StatefulMetric for RootMeanSquaredError {
    fn class_name(&self) -> &str {
        "RootMeanSquaredError"
    }
    fn default_name(&self) -> String {
        "root_mean_squared_error".into()
    }
    fn config(&self) -> Map<String, Value> {
        Map::new()
    }
    fn variables(&self) -> Vec<Variable> {
        mean_variables()
    }
    fn update(&self, state: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let (t, p) = aligned_pair("RootMeanSquaredError", y_true, y_pred)?;
        // ops.square(y_pred - y_true) in float32.
        let sq: Vec<f32> = p.data.iter().zip(&t.data).map(|(p, t)| (p - t) * (p - t)).collect();
        let values = Host::new(p.shape, sq)?;
        let w = w.map(Host::read).transpose()?;
        mean_update(state, &values, w.as_ref(), Reduce::Mean)
    }
    fn result(&self, state: &State) -> MetricValue {
        MetricValue::Scalar(mean_result(state).sqrt())
    }
}

impl MetricClass for RootMeanSquaredError {
    const CLASS: &'static str = "RootMeanSquaredError";
    type Metric = RootMeanSquaredError;

    fn metric(self) -> Result<MetricObject<RootMeanSquaredError>> {
        Ok(MetricObject::new(self))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        let (name, NoArgs {}) = config::split(Self::CLASS, config)?;
        Ok((name, RootMeanSquaredError))
    }
}

/// How `R2Score` aggregates the per-output scores (Keras's `class_aggregation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClassAggregation {
    /// The mean of the per-output scores (Keras's default).
    #[serde(rename = "uniform_average")]
    UniformAverage,
    /// The per-output scores weighted by each output's total sum of squares.
    #[serde(rename = "variance_weighted_average")]
    VarianceWeightedAverage,
}

/// `keras.metrics.R2Score`, the coefficient of determination of each output (column) of
/// rank-2 `(batch, outputs)` inputs, with Keras's variables (`num_samples`, and per output
/// `squared_sum`, `sum`, `residual`, `count`, built on the first update as Keras builds them):
///
/// ```text
/// mean = Σ w·y / Σ w      total = Σ w·y² − Σ w·y · mean      raw = 1 − Σ w·(y − ŷ)² / total
/// raw = 0 where it is ±inf;  aggregated by class_aggregation;
/// adjusted (num_regressors p > 0, n = number of values seen, p < n − 1): 1 − (1 − r2)(n − 1)/(n − p − 1)
/// ```
/// A sample weight of shape `[]`, `[batch]`, `[batch, 1]` or `[batch, outputs]` is broadcast to
/// the inputs.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass};
/// use objectives::metrics::regression::R2Score;
/// let d = Device::flex();
/// let mut m = R2Score::default().metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[1.], [4.], [3.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[2.], [4.], [4.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 0.57142854).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct R2Score {
    /// `"uniform_average"` (default), `"variance_weighted_average"`, or `null` (one score per
    /// output: a vector result).
    pub class_aggregation: Option<ClassAggregation>,
    /// The number of independent regressors `p` of the adjusted R² (0: the plain R²).
    pub num_regressors: i64,
}

impl Default for R2Score {
    fn default() -> Self {
        Self { class_aggregation: Some(ClassAggregation::UniformAverage), num_regressors: 0 }
    }
}

const R2: &str = "R2Score";

impl MetricClass for R2Score {
    const CLASS: &'static str = R2;
    type Metric = R2Score;

    /// # Errors
    /// [`Error::InvalidConfig`] for a negative `num_regressors`.
    fn metric(self) -> Result<MetricObject<R2Score>> {
        if self.num_regressors < 0 {
            return Err(invalid(
                R2,
                format!(
                    "Invalid value for argument `num_regressors`: expected a value >= 0, received {}",
                    self.num_regressors
                ),
            ));
        }
        Ok(MetricObject::new(self))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        config::split(R2, config)
    }
}

/// The per-output raw scores and total sums of squares of a built state (empty before).
fn raw_scores(state: &State) -> (Vec<f64>, Vec<f64>) {
    let (Some(sq), Some(sum), Some(res), Some(count)) =
        (state.vars.get(1), state.vars.get(2), state.vars.get(3), state.vars.get(4))
    else {
        return (vec![], vec![]);
    };
    let mut raw = Vec::with_capacity(sum.cells.len());
    let mut totals = Vec::with_capacity(sum.cells.len());
    for i in 0..sum.cells.len() {
        let (s, q, r, c) = (sum.cells[i].value(), sq.cells[i].value(), res.cells[i].value(), count.cells[i].value());
        let mean = s / c;
        let total = q - s * mean;
        let score = 1.0 - r / total;
        raw.push(if score.is_infinite() { 0.0 } else { score });
        totals.push(total);
    }
    (raw, totals)
}

impl StatefulMetric for R2Score {
    fn class_name(&self) -> &str {
        R2
    }

    fn default_name(&self) -> String {
        "r2_score".into()
    }

    fn config(&self) -> Map<String, Value> {
        config::to_map(self)
    }

    /// Unbuilt: `num_samples` only.
    fn variables(&self) -> Vec<Variable> {
        vec![Variable::zeros("num_samples", &[])]
    }

    /// The number of outputs, `y_true`'s second axis (the inputs must be rank 2 and of one shape).
    fn build_size(&self, built: Option<usize>, y_true: &DynTensor, y_pred: &DynTensor) -> Result<Option<usize>> {
        let (ts, ps) = same_rank_shapes(y_true.shape(), y_pred.shape());
        if ts.len() != 2 || ps.len() != 2 {
            return Err(input_error(
                R2,
                format!(
                    "R2Score expects 2D inputs with shape (batch_size, output_dim); received y_true {:?} and \
                     y_pred {:?} (reshape a single output to (batch_size, 1))",
                    y_true.shape(),
                    y_pred.shape()
                ),
            ));
        }
        if ts != ps {
            return Err(Error::ShapeMismatch {
                name: R2.to_string(),
                y_true: y_true.shape().to_vec(),
                y_pred: y_pred.shape().to_vec(),
            });
        }
        let classes = ts[1];
        if let Some(c) = built
            && c != classes
        {
            return Err(input_error(
                R2,
                format!("R2Score was built for {c} outputs; this batch has {classes} (shape {ts:?})"),
            ));
        }
        Ok(Some(classes))
    }

    fn built_variables(&self, classes: usize) -> Result<Vec<Variable>> {
        Ok(vec![
            Variable::zeros("num_samples", &[]),
            Variable::zeros("squared_sum", &[classes]),
            Variable::zeros("sum", &[classes]),
            Variable::zeros("residual", &[classes]),
            Variable::zeros("count", &[classes]),
        ])
    }

    fn update(&self, delta: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let (t, p) = aligned_pair(R2, y_true, y_pred)?;
        let (batch, classes) = (t.shape[0], t.shape[1]);
        let weights: Vec<f32> = match w {
            None => vec![1.0; t.data.len()],
            Some(w) => {
                let w = Host::read(w)?;
                let mut w_shape = w.shape.clone();
                if w_shape.len() == 1 {
                    w_shape.push(1); // ops.expand_dims(sample_weight, axis=1)
                }
                let b = broadcast_to(&w_shape, &w.data, &t.shape).ok_or_else(|| Error::WeightShape {
                    what: "sample_weight",
                    weight: w.shape.clone(),
                    losses: t.shape.clone(),
                    batch,
                })?;
                b.into_iter().map(|x| x as f32).collect()
            }
        };
        for (i, ((&y, &yp), &w)) in t.data.iter().zip(&p.data).zip(&weights).enumerate() {
            let c = i % classes;
            // float32 element-wise, as Keras; the column sums are exact.
            let wy = y * w;
            delta.var_mut(2).cells[c].add(f64::from(wy));
            delta.var_mut(1).cells[c].add(f64::from(y * wy));
            let e = y - yp;
            delta.var_mut(3).cells[c].add(f64::from(e * e * w));
            delta.var_mut(4).cells[c].add(f64::from(w));
        }
        delta.var_mut(0).cells[0].add_count(t.data.len() as u64);
        Ok(())
    }

    fn result(&self, state: &State) -> MetricValue {
        let (raw, totals) = raw_scores(state);
        let mut r2 = match self.class_aggregation {
            None => raw,
            Some(ClassAggregation::UniformAverage) => vec![raw.iter().sum::<f64>() / raw.len() as f64],
            Some(ClassAggregation::VarianceWeightedAverage) => {
                let weighted: f64 = totals.iter().zip(&raw).map(|(t, r)| t * r).sum();
                vec![weighted / totals.iter().sum::<f64>()]
            }
        };
        let n = state.var(0).scalar();
        let p = self.num_regressors as f64;
        // Keras warns and falls back to the plain R² when p ≥ n − 1.
        if self.num_regressors != 0 && p < n - 1.0 {
            r2.iter_mut().for_each(|r| *r = 1.0 - (1.0 - *r) * (n - 1.0) / (n - p - 1.0));
        }
        match self.class_aggregation {
            None => MetricValue::Vector(r2),
            Some(_) => MetricValue::Scalar(r2.first().copied().unwrap_or(f64::NAN)),
        }
    }
}

#[cfg(test)]
mod tests;
