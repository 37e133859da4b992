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
//! assign to the `(C,)` variables: refused, with a [`LossError::MetricInput`] naming the shapes.
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
use super::registry::{Inputs, MetricEntry};
use super::state::{State, Variable};
use super::{Metric, MetricValue};
use crate::dyn_tensor::DynTensor;
use crate::error::{LossError, Result};

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

/// `keras.metrics.FBetaScore` (and `F1Score`, its `beta = 1` form): see the [module](self) for
/// the formula. A `Metric` of its own, because its state is built on the first update, when the
/// number of classes is known (as Keras's `_build`).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricValue};
/// use objectives::metrics::f_score::FBetaScore;
/// let d = Device::flex();
/// let mut m = FBetaScore::f1(None, Some(0.5))?;
/// let t: DynTensor = Tensor::<2>::from_floats([[1., 1., 1.], [1., 0., 0.], [1., 1., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// let MetricValue::Vector(f1) = m.result() else { unreachable!() };
/// for (got, want) in f1.iter().zip([0.5, 0.8, 0.6666667]) {
///     assert!((got - want).abs() < 1e-6);
/// }
/// # Ok::<(), objectives::LossError>(())
/// ```
#[derive(Clone, Debug)]
pub struct FBetaScore {
    average: Option<Average>,
    beta: f64,
    threshold: Option<f64>,
    f1: bool,
    name: String,
    state: State,
}

impl FBetaScore {
    /// An `FBetaScore` named `"fbeta_score"`.
    ///
    /// # Errors
    /// [`LossError::InvalidConfig`] for `beta <= 0` or a threshold outside `(0, 1]`.
    pub fn new(average: Option<Average>, beta: f64, threshold: Option<f64>) -> Result<Self> {
        Self::checked("FBetaScore", average, beta, threshold, false, "fbeta_score".into())
    }

    /// An `F1Score` named `"f1_score"`.
    ///
    /// # Errors
    /// [`LossError::InvalidConfig`] for a threshold outside `(0, 1]`.
    pub fn f1(average: Option<Average>, threshold: Option<f64>) -> Result<Self> {
        Self::checked("F1Score", average, 1.0, threshold, true, "f1_score".into())
    }

    fn checked(
        class: &str,
        average: Option<Average>,
        beta: f64,
        threshold: Option<f64>,
        f1: bool,
        name: String,
    ) -> Result<Self> {
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
        Ok(Self { average, beta, threshold, f1, name, state: State::default() })
    }

    fn classes(&self) -> Option<usize> {
        let v = self.state.vars.first()?;
        Some(v.shape.first().copied().unwrap_or(1))
    }

    fn layout(&self, classes: usize) -> State {
        let shape: Vec<usize> = if self.average == Some(Average::Micro) { vec![] } else { vec![classes] };
        State::new(VARIABLES.iter().map(|n| Variable::zeros(*n, &shape)).collect())
    }

    /// The state's layout is one this metric can have (its variables, micro scalars or per class).
    fn fits(&self, other: &State) -> bool {
        let micro = self.average == Some(Average::Micro);
        other.vars.len() == 4
            && other.vars.iter().zip(VARIABLES).all(|(v, n)| v.name == n && v.shape.len() == usize::from(!micro))
            && other.vars.iter().all(|v| v.shape == other.vars[0].shape)
    }

    /// The batch's weight as Keras applies it (see [`Grid`]), checked against `(rows, classes)`.
    ///
    /// # Errors
    /// [`LossError::MetricInput`] naming the weight's and the inputs' shapes: a weight of rank 2
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

    fn from_config(config: &Map<String, Value>, f1: bool) -> Result<Box<dyn Metric>> {
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
        let name = name.unwrap_or_else(|| if f1 { "f1_score" } else { "fbeta_score" }.to_string());
        Ok(Box::new(Self::checked(class, average, beta, threshold, f1, name)?))
    }
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

impl Metric for FBetaScore {
    fn class_name(&self) -> &str {
        self.class()
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
        m.insert("average".into(), self.average.map_or(Value::Null, |a| Value::String(a.name().into())));
        if !self.f1 {
            m.insert("beta".into(), Number::from_f64(self.beta).map_or(Value::Null, Value::Number));
        }
        m.insert("threshold".into(), self.threshold.and_then(Number::from_f64).map_or(Value::Null, Value::Number));
        m
    }

    fn update_state(
        &mut self,
        y_true: &DynTensor,
        y_pred: &DynTensor,
        sample_weight: Option<&DynTensor>,
    ) -> Result<()> {
        let class = self.class();
        let t = Host::read(&y_true.clone().map(|t| t.detach()))?;
        let p = Host::read(&y_pred.clone().map(|p| p.detach()))?;
        if t.rank() != 2 || p.rank() != 2 {
            return Err(input_error(
                class,
                format!(
                    "{class} expects 2D inputs with shape (batch_size, output_dim). Received input shapes: \
                     y_pred.shape={:?} and y_true.shape={:?}.",
                    p.shape, t.shape
                ),
            ));
        }
        if t.shape != p.shape {
            return Err(LossError::ShapeMismatch { loss: class.to_string(), y_true: t.shape, y_pred: p.shape });
        }
        let c = p.shape[1];
        if let Some(built) = self.classes()
            && self.average != Some(Average::Micro)
            && built != c
        {
            return Err(input_error(
                class,
                format!(
                    "the metric was built for {built} classes on its first update; y_pred has {c} (shape {:?})",
                    p.shape
                ),
            ));
        }
        let w = match sample_weight {
            Some(w) => self.grid(w, p.shape[0], c)?,
            None => Grid { p: 1, q: 1, w: vec![1.0] },
        };
        let mut delta = self.layout(c);
        self.add(&mut delta, &t, &p, &w);
        if self.state.vars.is_empty() {
            self.state = delta;
            Ok(())
        } else {
            let name = self.name.clone();
            self.state.merge(&delta, &name)
        }
    }

    fn result(&self) -> MetricValue {
        let Some(first) = self.state.vars.first() else {
            return match self.average {
                None => MetricValue::Vector(vec![]),
                Some(_) => MetricValue::Scalar(0.0),
            };
        };
        let n = first.cells.len();
        let get = |i: usize| self.state.var(i).values();
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

    fn reset_state(&mut self) {
        // Back to unbuilt, as a fresh metric (Keras keeps its built zeros; the next update
        // builds again, for any number of classes).
        self.state = State::default();
    }

    fn state(&self) -> &State {
        &self.state
    }

    fn merge_state(&mut self, other: &State) -> Result<()> {
        if other.vars.is_empty() {
            return Ok(());
        }
        if !self.fits(other) {
            return Err(LossError::InvalidConfig {
                loss: self.name.clone(),
                message: format!(
                    "cannot merge a state with variables {:?} into {} (average={:?}); merge states of identically \
                     configured metrics",
                    other.vars.iter().map(|v| (v.name.clone(), v.shape.clone())).collect::<Vec<_>>(),
                    self.class(),
                    self.average.map(Average::name)
                ),
            });
        }
        if self.state.vars.is_empty() {
            self.state = other.clone();
            return Ok(());
        }
        let name = self.name.clone();
        self.state.merge(other, &name)
    }

    fn clone_box(&self) -> Box<dyn Metric> {
        Box::new(self.clone())
    }
}

fn build_fbeta(config: &Map<String, Value>) -> Result<Box<dyn Metric>> {
    FBetaScore::from_config(config, false)
}

fn build_f1(config: &Map<String, Value>) -> Result<Box<dyn Metric>> {
    FBetaScore::from_config(config, true)
}

/// The family's registry entries.
pub fn entries() -> Vec<MetricEntry> {
    vec![
        MetricEntry {
            class_name: "FBetaScore",
            aliases: &[],
            inputs: Inputs::Categorical,
            variants: &[
                r#"{"average": "micro", "beta": 0.5}"#,
                r#"{"average": "macro", "beta": 2.0}"#,
                r#"{"average": "weighted", "threshold": 0.5}"#,
            ],
            required: false,
            build: build_fbeta,
        },
        MetricEntry {
            class_name: "F1Score",
            aliases: &[],
            inputs: Inputs::Categorical,
            variants: &[r#"{"average": "macro"}"#, r#"{"average": "micro", "threshold": 0.4}"#],
            required: false,
            build: build_f1,
        },
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::device::test_device;
    use burn::tensor::TensorData;

    fn t(shape: &[usize], data: &[f32]) -> DynTensor {
        DynTensor::from_data(TensorData::new(data.to_vec(), shape.to_vec()), &test_device()).unwrap()
    }

    #[test]
    fn config_checks_like_keras() {
        let bad = [
            r#"{"class_name": "FBetaScore", "config": {"beta": 1}}"#,
            r#"{"class_name": "FBetaScore", "config": {"beta": 0.0}}"#,
            r#"{"class_name": "FBetaScore", "config": {"threshold": 1.1}}"#,
            r#"{"class_name": "FBetaScore", "config": {"threshold": 1}}"#,
            r#"{"class_name": "FBetaScore", "config": {"average": "sum"}}"#,
            r#"{"class_name": "F1Score", "config": {"beta": 1.0}}"#,
        ];
        for b in bad {
            assert!(super::super::from_keras_json_str(b).is_err(), "{b}");
        }
        let m =
            super::super::from_keras_json_str(r#"{"class_name": "F1Score", "config": {"threshold": 0.3}}"#).unwrap();
        assert!(!m.config().contains_key("beta"));
    }

    /// Keras's `_weighted_sum`, literally: `val · expand_dims(w, 1)` broadcast (numpy rules) and
    /// summed over everything (`micro`) or over axis 0 (then it must be one value per class), for
    /// the four variables; `None` where Keras fails.
    fn keras_sums(
        t: &[f32],
        p: &[f32],
        rows: usize,
        c: usize,
        w: &[f32],
        ws: &[usize],
        micro: bool,
    ) -> Option<Vec<Vec<f64>>> {
        use crate::dyn_tensor::broadcast_shapes;
        use crate::metrics::reduction::broadcast_to;
        if ws.is_empty() {
            return None; // expand_dims(w, 1) of a 0-d array
        }
        let mut expanded = ws.to_vec();
        expanded.insert(1, 1);
        let out = broadcast_shapes(&expanded, &[rows, c])?;
        let wb = broadcast_to(&expanded, w, &out)?;
        let yhat: Vec<f32> = p.iter().map(|&v| if v > 0.5 { 1.0 } else { 0.0 }).collect();
        let vals: [Vec<f32>; 4] = [
            yhat.iter().zip(t).map(|(a, b)| a * b).collect(),
            yhat.iter().zip(t).map(|(a, b)| a * (1.0 - b)).collect(),
            yhat.iter().zip(t).map(|(a, b)| (1.0 - a) * b).collect(),
            t.to_vec(),
        ];
        let mut sums = vec![];
        for val in vals {
            let vb = broadcast_to(&[rows, c], &val, &out)?;
            let prod: Vec<f64> = vb.iter().zip(&wb).map(|(a, b)| a * b).collect();
            if micro {
                sums.push(vec![prod.iter().sum()]);
            } else {
                // Sum over axis 0: the rest must be the (C,) variable's shape.
                if out[1..] != [c] {
                    return None;
                }
                sums.push((0..c).map(|k| (0..out[0]).map(|i| prod[i * c + k]).sum()).collect());
            }
        }
        Some(sums)
    }

    #[test]
    fn sample_weights_as_keras_applies_them() {
        let (rows, c) = (4, 3);
        let yt = [1., 0., 1., 0., 1., 1., 1., 1., 0., 0., 0., 1.];
        let yp = [0.9, 0.6, 0.2, 0.7, 0.8, 0.1, 0.3, 0.9, 0.6, 0.2, 0.4, 0.7];
        let shapes: [&[usize]; 11] =
            [&[4], &[1], &[4, 1], &[4, 3], &[1, 3], &[1, 1], &[4, 1, 1], &[2, 4, 3], &[4, 3, 1], &[3], &[4, 2]];
        for avg in [None, Some(Average::Micro), Some(Average::Macro)] {
            for ws in shapes {
                let n: usize = ws.iter().product();
                let w: Vec<f32> = (0..n).map(|i| 0.25 + 0.5 * (i % 5) as f32).collect();
                let mut m = FBetaScore::new(avg, 2.0, Some(0.5)).unwrap();
                let got = m.update_state(&t(&[rows, c], &yt), &t(&[rows, c], &yp), Some(&t(ws, &w)));
                let want = keras_sums(&yt, &yp, rows, c, &w, ws, avg == Some(Average::Micro));
                match (got, want) {
                    (Ok(()), Some(want)) => {
                        for (var, want) in m.state().vars.iter().zip(&want) {
                            for (g, w) in var.values().iter().zip(want) {
                                assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{avg:?} {ws:?}: {g} vs {w}");
                            }
                        }
                    }
                    (Err(e), None) => assert!(e.to_string().contains(&format!("{ws:?}")), "{avg:?} {ws:?}: {e}"),
                    (got, want) => panic!("{avg:?} {ws:?}: objectives {got:?}, Keras {want:?}"),
                }
            }
        }
        // A scalar weight (objectives' extension) is the (1,) weight; one row with three weights
        // counts with their sum; an empty weight of an empty batch counts nothing.
        for avg in [None, Some(Average::Micro)] {
            let mut a = FBetaScore::new(avg, 1.0, None).unwrap();
            let mut b = a.clone();
            a.update_state(&t(&[rows, c], &yt), &t(&[rows, c], &yp), Some(&t(&[], &[1.5]))).unwrap();
            b.update_state(&t(&[rows, c], &yt), &t(&[rows, c], &yp), Some(&t(&[1], &[1.5]))).unwrap();
            assert_eq!(a.state(), b.state());
            let mut one = FBetaScore::new(avg, 1.0, None).unwrap();
            let mut sum = one.clone();
            one.update_state(&t(&[1, c], &yt[..3]), &t(&[1, c], &yp[..3]), Some(&t(&[3], &[0.5, 1.0, 2.0]))).unwrap();
            sum.update_state(&t(&[1, c], &yt[..3]), &t(&[1, c], &yp[..3]), Some(&t(&[1], &[3.5]))).unwrap();
            assert_eq!(one.state(), sum.state());
            let mut empty = FBetaScore::new(avg, 1.0, None).unwrap();
            empty.update_state(&t(&[0, c], &[]), &t(&[0, c], &[]), Some(&t(&[0], &[]))).unwrap();
            assert!(empty.state().vars.iter().all(|v| v.values().iter().all(|&x| x == 0.0)));
        }
    }

    #[test]
    fn split_and_merge_is_exact() {
        let y_t = [1., 0., 0., 0., 1., 0., 0., 0., 1., 1., 0., 0.];
        let y_p = [0.9, 0.1, 0., 0.2, 0.6, 0.2, 0., 0., 1., 0.4, 0.3, 0.3];
        let mut whole = FBetaScore::new(Some(Average::Weighted), 2.0, None).unwrap();
        whole.update_state(&t(&[4, 3], &y_t), &t(&[4, 3], &y_p), None).unwrap();
        let mut a = FBetaScore::new(Some(Average::Weighted), 2.0, None).unwrap();
        let mut b = a.clone();
        a.update_state(&t(&[1, 3], &y_t[..3]), &t(&[1, 3], &y_p[..3]), None).unwrap();
        b.update_state(&t(&[3, 3], &y_t[3..]), &t(&[3, 3], &y_p[3..]), None).unwrap();
        let mut fresh = FBetaScore::new(Some(Average::Weighted), 2.0, None).unwrap();
        fresh.merge_state(a.state()).unwrap();
        fresh.merge_state(b.state()).unwrap();
        assert_eq!(fresh.state(), whole.state());
        assert_eq!(fresh.result(), whole.result());
        assert!(whole.update_state(&t(&[1, 2], &[1., 0.]), &t(&[1, 2], &[1., 0.]), None).is_err());
        assert!(whole.update_state(&t(&[3], &[1., 0., 0.]), &t(&[3], &[1., 0., 0.]), None).is_err());
    }
}
