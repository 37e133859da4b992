//! `FBetaScore` and `F1Score` (`keras/src/metrics/f_score_metrics.py`).
//!
//! Inputs are `(batch, classes)` (Keras requires rank 2). A prediction is positive when it is
//! `> threshold`, or, with no threshold, when it equals its row's maximum (every tied maximum)
//! and `|y_pred| > 1e-9`, compared in float32. The state is Keras's: per class (one scalar each
//! for `average="micro"`) `true_positives = Σ w·ŷ·y`, `false_positives = Σ w·ŷ·(1 − y)`,
//! `false_negatives = Σ w·(1 − ŷ)·y` and `intermediate_weights = Σ w·y`, built on the first
//! update (the number of classes is `y_pred`'s last axis). The result, with `ε = 1e-7`:
//!
//! ```text
//! precision = tp / (tp + fp + ε)      recall = tp / (tp + fn + ε)
//! f = (1 + β²) · precision · recall / (β² · precision + recall + ε)
//! ```
//!
//! per class for `average=None` (a vector), their mean for `"micro"`/`"macro"`, and their mean
//! weighted by `intermediate_weights / (Σ intermediate_weights + ε)` for `"weighted"`.
//!
//! # Sample weights
//!
//! Keras 3.15.1 adds `ops.sum(val · ops.expand_dims(sample_weight, 1), axis)` to each variable,
//! `val` being the `(B, C)` values (`ŷ·y`, …) and `axis` 0 (per class) or `None` (`"micro"`).
//! objectives computes exactly that, without building the broadcast array:
//!
//! | weight shape | per class (`None`, `"macro"`, `"weighted"`) | `"micro"` |
//! |---|---|---|
//! | `(B,)` or `(1,)` | `Σ_i w_i · val[i, k]` | `Σ_i Σ_k w_i · val[i, k]` |
//! | `(B, C)` | refused (as Keras) | `Σ_k (Σ_i w[i, k]) · (Σ_j val[j, k])` |
//! | `(B, 1)` | refused (as Keras) | `(Σ_i w_i) · Σ_j Σ_k val[j, k]` |
//! | `(1, C)` | refused (as Keras) | `Σ_k w[0, k] · Σ_j val[j, k]` (one weight per class) |
//! | `()` | `Σ_i w · val[i, k]` (objectives; Keras refuses it) | `Σ_i Σ_k w · val[i, k]` (objectives) |
//!
//! With a rank-2 weight, `expand_dims(w, 1)` is `(B, 1, C)` (or `(B, 1, 1)`), and its product
//! with the `(B, C)` values is the `(B, B, C)` array `w[i, k] · val[j, k]`: every row's values
//! weighted by every row's weights. Its sum over everything (`"micro"`) is the formula above: with
//! a `(B, 1)` weight, the batch's unweighted counts times the batch's total weight — not a
//! per-row weighting (pass `(B,)` for that). Its sum over axis 0 is `(B, C)`, which Keras cannot
//! assign to the `(C,)` variables: refused, with a [`Error::MetricInput`] naming the shapes.
//! In general (weights of rank ≥ 2, `"micro"`), the weight's axes before the last two of
//! `expand_dims(w, 1)` are summed, and the rest broadcasts against `(B, C)` by numpy's rules; a
//! weight that does not broadcast is refused. A batch of one row (`B = 1`) broadcasts against a
//! `(n,)` weight, as in Keras: its values count with weight `Σ w`.
//!
//! A scalar weight is objectives' extension (Keras's `expand_dims` has no axis 1 for a 0-d
//! array): every row gets that weight, as `(1,)` does in Keras.

use serde_json::{Map, Number, Value};

use super::config::{self, input_error, invalid};
use super::exact::ExactSum;
use super::host::Host;
use super::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric};
use super::state::{State, Variable};
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::DynTensor;

/// Keras's `backend.epsilon()`.
const EPSILON: f64 = 1e-7;
const VARIABLES: [&str; 4] = ["true_positives", "false_positives", "false_negatives", "intermediate_weights"];

/// Keras's `average` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Average {
    /// Global counts: one scalar per variable.
    Micro,
    /// The unweighted mean of the per-class scores.
    Macro,
    /// The mean of the per-class scores weighted by support.
    Weighted,
}

impl Average {
    fn name(self) -> &'static str {
        match self {
            Average::Micro => "micro",
            Average::Macro => "macro",
            Average::Weighted => "weighted",
        }
    }
}

/// `keras.metrics.FBetaScore`: see the [module](self) for the formula; its state is built on the
/// first update, when the number of classes is known (as Keras's `_build`).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, MetricValue};
/// use objectives::metrics::f_score::{Average, FBetaScore};
/// let d = Device::flex();
/// let mut m = FBetaScore { average: Some(Average::Macro), beta: 2.0, threshold: None }.metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[1., 0.], [0., 1.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.9, 0.1], [0.8, 0.2]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!(m.result().scalar()? > 0.4);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FBetaScore {
    /// `None` (one score per class: a vector result, Keras's default), micro, macro or weighted.
    pub average: Option<Average>,
    /// `β > 0` (default 1): recall is `β` times as important as precision.
    pub beta: f64,
    /// Predictions `> threshold` are positive (in `(0, 1]`); `None` (default): each row's maximum.
    pub threshold: Option<f64>,
}

impl Default for FBetaScore {
    fn default() -> Self {
        Self { average: None, beta: 1.0, threshold: None }
    }
}

/// `keras.metrics.F1Score`: [`FBetaScore`] with `β = 1`.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass, MetricValue};
/// use objectives::metrics::f_score::F1Score;
/// let d = Device::flex();
/// let mut m = F1Score { average: None, threshold: Some(0.5) }.metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[1., 1., 1.], [1., 0., 0.], [1., 1., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// let MetricValue::Vector(f1) = m.result() else { unreachable!() };
/// for (got, want) in f1.iter().zip([0.5, 0.8, 0.6666667]) {
///     assert!((got - want).abs() < 1e-6);
/// }
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct F1Score {
    /// As [`FBetaScore::average`].
    pub average: Option<Average>,
    /// As [`FBetaScore::threshold`].
    pub threshold: Option<f64>,
}

impl MetricClass for FBetaScore {
    const CLASS: &'static str = "FBetaScore";
    type Metric = FScore;

    /// # Errors
    /// [`Error::InvalidConfig`] for `beta <= 0` or a threshold outside `(0, 1]`.
    fn metric(self) -> Result<MetricObject<FScore>> {
        Ok(MetricObject::new(FScore::checked(self.average, self.beta, self.threshold, false)?))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        let (name, (average, beta, threshold)) = parse_config(config, false)?;
        Ok((name, Self { average, beta, threshold }))
    }
}

impl MetricClass for F1Score {
    const CLASS: &'static str = "F1Score";
    type Metric = FScore;

    /// # Errors
    /// [`Error::InvalidConfig`] for a threshold outside `(0, 1]`.
    fn metric(self) -> Result<MetricObject<FScore>> {
        Ok(MetricObject::new(FScore::checked(self.average, 1.0, self.threshold, true)?))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        let (name, (average, _, threshold)) = parse_config(config, true)?;
        Ok((name, Self { average, threshold }))
    }
}

/// The arithmetic of [`FBetaScore`] and [`F1Score`].
#[derive(Clone, Debug)]
pub struct FScore {
    average: Option<Average>,
    beta: f64,
    threshold: Option<f64>,
    f1: bool,
}

impl FScore {
    fn checked(average: Option<Average>, beta: f64, threshold: Option<f64>, f1: bool) -> Result<Self> {
        let class = if f1 { "F1Score" } else { "FBetaScore" };
        if !(beta > 0.0 && beta.is_finite()) {
            return Err(invalid(
                class,
                format!("Invalid `beta` argument value. It should be > 0. Received: beta={beta}"),
            ));
        }
        if let Some(t) = threshold
            && !(t > 0.0 && t <= 1.0)
        {
            return Err(invalid(
                class,
                format!(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. Received: threshold={t}"
                ),
            ));
        }
        Ok(Self { average, beta, threshold, f1 })
    }

    fn layout(&self, classes: usize) -> Vec<Variable> {
        let shape: Vec<usize> = if self.average == Some(Average::Micro) { vec![] } else { vec![classes] };
        VARIABLES.iter().map(|n| Variable::zeros(*n, &shape)).collect()
    }

    /// The batch's weight as Keras applies it (see [`Grid`]), checked against `(rows, classes)`.
    ///
    /// # Errors
    /// [`Error::MetricInput`] naming the weight's and the inputs' shapes: a weight of rank 2
    /// or more unless `average="micro"`, or one that does not broadcast as Keras broadcasts it.
    fn grid(&self, w: &DynTensor, rows: usize, classes: usize) -> Result<Grid> {
        let w = Host::read(w)?;
        let class = self.class();
        let avg = self.average.map_or("None", Average::name);
        let micro = self.average == Some(Average::Micro);
        let data: Vec<f64> = w.data.iter().map(|&x| f64::from(x)).collect();
        // (p, q): the last two axes of expand_dims(w, 1), the axes the (rows, classes) values
        // line up with; the leading ones are summed (the values do not vary along them).
        let (p, q, grid) = match w.rank() {
            // objectives' extension: Keras's expand_dims(w, 1) has no axis 1 for a 0-d weight.
            0 => (1, 1, data),
            1 => (w.shape[0], 1, data),
            _ if !micro => {
                return Err(input_error(
                    class,
                    format!(
                        "a sample_weight of shape {:?} is refused with average={avg}, as Keras refuses it: Keras \
                         multiplies the values of shape {:?} by expand_dims(sample_weight, 1), and their sum over \
                         the batch axis is then not one count per class. Pass one weight per row, shape [{rows}] \
                         (average=\"micro\" takes a weight of rank 2, with Keras's arithmetic)",
                        w.shape,
                        [rows, classes]
                    ),
                ));
            }
            r => {
                let (p, q) = if r == 2 { (1, w.shape[1]) } else { (w.shape[r - 2], w.shape[r - 1]) };
                let mut grid = vec![ExactSum::default(); p * q];
                // chunks(0) would panic: an empty grid has nothing to sum.
                for chunk in data.chunks((p * q).max(1)) {
                    grid.iter_mut().zip(chunk).for_each(|(g, &x)| g.add(x));
                }
                (p, q, grid.iter().map(ExactSum::value).collect())
            }
        };
        let fits = |a: usize, b: usize| a == b || a == 1 || b == 1;
        if !fits(p, rows) || !fits(q, classes) {
            let hint = if micro {
                format!("one weight per row, shape [{rows}], or a weight of shape [{rows}, {classes}]")
            } else {
                format!("one weight per row, shape [{rows}]")
            };
            return Err(input_error(
                class,
                format!(
                    "a sample_weight of shape {:?} does not broadcast to the values of shape {:?} as Keras \
                     broadcasts it (expand_dims(sample_weight, 1) against the values); pass {hint}",
                    w.shape,
                    [rows, classes]
                ),
            ));
        }
        Ok(Grid { p, q, w: grid })
    }

    fn add(&self, delta: &mut State, t: &Host, p: &Host, w: &Grid) {
        let (rows, c) = (p.shape[0], p.shape[1]);
        let micro = self.average == Some(Average::Micro);
        let thr = self.threshold.map(|t| t as f32);
        // ops.max propagates NaN: a NaN row has no positive.
        let max: Vec<f32> = match thr {
            Some(_) => vec![],
            None => p
                .data
                .chunks(c.max(1))
                .map(|row| {
                    row.iter()
                        .copied()
                        .fold(f32::NEG_INFINITY, |m, v| if m.is_nan() || v.is_nan() { f32::NAN } else { m.max(v) })
                })
                .collect(),
        };
        let positive = |r: usize, v: f32| match thr {
            Some(thr) => v > thr,
            None => v >= max[r] && v.abs() > 1e-9f32,
        };
        // The broadcast extents (an axis of 1 takes the other's size, which may be 0).
        let (xs, ys) = (if w.p == 1 { rows } else { w.p }, if w.q == 1 { c } else { w.q });
        for x in 0..xs {
            let r = if rows == 1 { 0 } else { x };
            let wx = if w.p == 1 { 0 } else { x };
            for y in 0..ys {
                let k = if c == 1 { 0 } else { y };
                let wr = w.w[wx * w.q + if w.q == 1 { 0 } else { y }];
                let (yv, v) = (t.data[r * c + k], p.data[r * c + k]);
                let cell = if micro { 0 } else { k };
                let yw = f64::from(yv) * wr;
                if positive(r, v) {
                    delta.var_mut(0).cells[cell].add(yw);
                    delta.var_mut(1).cells[cell].add(f64::from(1.0f32 - yv) * wr);
                } else {
                    delta.var_mut(2).cells[cell].add(yw);
                }
                delta.var_mut(3).cells[cell].add(yw);
            }
        }
    }

    fn class(&self) -> &'static str {
        if self.f1 { "F1Score" } else { "FBetaScore" }
    }
}

/// `average`, `beta` and `threshold`.
type FArgs = (Option<Average>, f64, Option<f64>);

/// The `name`, `average`, `beta` and `threshold` of a Keras config (Keras wants Python floats for
/// `beta` and `threshold`: `1.0`, not `1`).
fn parse_config(config: &Map<String, Value>, f1: bool) -> Result<(Option<String>, FArgs)> {
    let class = if f1 { "F1Score" } else { "FBetaScore" };
    let (name, mut args) = config::split::<Map<String, Value>>(class, config)?;
    let average = match args.remove("average") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "micro" => Some(Average::Micro),
        Some(Value::String(s)) if s == "macro" => Some(Average::Macro),
        Some(Value::String(s)) if s == "weighted" => Some(Average::Weighted),
        Some(other) => {
            return Err(invalid(
                class,
                format!(
                    "Invalid `average` argument value. Expected one of: {{None, 'micro', 'macro', 'weighted'}}. \
                     Received: average={other}"
                ),
            ));
        }
    };
    let float = |v: &Value| -> Option<f64> {
        match v {
            Value::Number(n) if is_float(n) => n.as_f64(),
            _ => None,
        }
    };
    let beta = if f1 {
        1.0
    } else {
        match args.remove("beta") {
            None => 1.0,
            Some(v) => float(&v).ok_or_else(|| {
                invalid(
                    class,
                    format!(
                        "Invalid `beta` argument value. It should be a Python float (e.g. 1.0). Received: beta={v}"
                    ),
                )
            })?,
        }
    };
    let threshold = match args.remove("threshold") {
        None | Some(Value::Null) => None,
        Some(v) => Some(float(&v).ok_or_else(|| {
            invalid(
                class,
                format!(
                    "Invalid `threshold` argument value. It should be a Python float (e.g. 0.5). Received: threshold={v}"
                ),
            )
        })?),
    };
    if let Some(key) = args.keys().next() {
        let known = if f1 { "`average`, `threshold`" } else { "`average`, `beta`, `threshold`" };
        return Err(invalid(class, format!("unknown argument `{key}`; {class} takes {known}, `name` and `dtype`")));
    }
    Ok((name, (average, beta, threshold)))
}

/// A batch's sample weight as Keras's `FBetaScore` applies it: `val · expand_dims(w, 1)` summed
/// over the batch axis (per class) or over everything (`average="micro"`), with `val` the
/// `(rows, classes)` values. The weight's axes before the last two of `expand_dims(w, 1)` are
/// summed into a `p × q` grid `w` (row-major), broadcast against the values: each count adds
/// `Σ_x Σ_y val[x, y] · w[x, y]` over the broadcast extents (`rows` or `p`, `classes` or `q`; an
/// axis of size 1 takes the other's size and repeats its one entry). A rank-1 weight is one weight
/// per row (`q = 1`).
#[derive(Clone, Debug)]
struct Grid {
    p: usize,
    q: usize,
    w: Vec<f64>,
}

/// A JSON number written as a float (`1.0`, not `1`), as Keras requires a Python float.
fn is_float(n: &Number) -> bool {
    n.is_f64()
}

impl StatefulMetric for FScore {
    fn class_name(&self) -> &str {
        self.class()
    }

    fn default_name(&self) -> String {
        if self.f1 { "f1_score" } else { "fbeta_score" }.into()
    }

    fn config(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("average".into(), self.average.map_or(Value::Null, |a| Value::String(a.name().into())));
        if !self.f1 {
            m.insert("beta".into(), Number::from_f64(self.beta).map_or(Value::Null, Value::Number));
        }
        m.insert("threshold".into(), self.threshold.and_then(Number::from_f64).map_or(Value::Null, Value::Number));
        m
    }

    /// `average="micro"`: four scalars; otherwise none until the first update.
    fn variables(&self) -> Vec<Variable> {
        if self.average == Some(Average::Micro) { self.layout(1) } else { vec![] }
    }

    /// The number of classes, `y_pred`'s last axis (rank-2 inputs of one shape), unless
    /// `average="micro"`.
    fn build_size(&self, built: Option<usize>, y_true: &DynTensor, y_pred: &DynTensor) -> Result<Option<usize>> {
        let class = self.class();
        let (ts, ps) = (y_true.shape(), y_pred.shape());
        if ts.len() != 2 || ps.len() != 2 {
            return Err(input_error(
                class,
                format!(
                    "{class} expects 2D inputs with shape (batch_size, output_dim). Received input shapes: \
                     y_pred.shape={ps:?} and y_true.shape={ts:?}."
                ),
            ));
        }
        if ts != ps {
            return Err(Error::ShapeMismatch { name: class.to_string(), y_true: ts.to_vec(), y_pred: ps.to_vec() });
        }
        if self.average == Some(Average::Micro) {
            return Ok(None);
        }
        let c = ps[1];
        if let Some(built) = built
            && built != c
        {
            return Err(input_error(
                class,
                format!("the metric was built for {built} classes on its first update; y_pred has {c} (shape {ps:?})"),
            ));
        }
        Ok(Some(c))
    }

    fn built_variables(&self, classes: usize) -> Result<Vec<Variable>> {
        Ok(self.layout(classes))
    }

    fn update(&self, delta: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let t = Host::read(&y_true.clone().map(|t| t.detach()))?;
        let p = Host::read(&y_pred.clone().map(|p| p.detach()))?;
        let w = match w {
            Some(w) => self.grid(w, p.shape[0], p.shape[1])?,
            None => Grid { p: 1, q: 1, w: vec![1.0] },
        };
        self.add(delta, &t, &p, &w);
        Ok(())
    }

    fn result(&self, state: &State) -> MetricValue {
        let Some(first) = state.vars.first() else {
            return match self.average {
                None => MetricValue::Vector(vec![]),
                Some(_) => MetricValue::Scalar(0.0),
            };
        };
        let n = first.cells.len();
        let get = |i: usize| state.var(i).values();
        let (tp, fp, fnn, iw) = (get(0), get(1), get(2), get(3));
        let b2 = self.beta * self.beta;
        let f: Vec<f64> = (0..n)
            .map(|k| {
                let precision = tp[k] / (tp[k] + fp[k] + EPSILON);
                let recall = tp[k] / (tp[k] + fnn[k] + EPSILON);
                precision * recall / (b2 * precision + recall + EPSILON) * (1.0 + b2)
            })
            .collect();
        match self.average {
            None => MetricValue::Vector(f),
            Some(Average::Weighted) => {
                let mut total = ExactSum::default();
                iw.iter().for_each(|&x| total.add(x));
                let total = total.value() + EPSILON;
                MetricValue::Scalar(f.iter().zip(&iw).map(|(f, w)| f * (w / total)).sum())
            }
            Some(_) => MetricValue::Scalar(f.iter().sum::<f64>() / n as f64),
        }
    }
}

#[cfg(test)]
mod tests;
