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

    fn per_row_weights(&self, w: &DynTensor, rows: usize) -> Result<Vec<f64>> {
        let w = Host::read(w)?;
        let per_row = matches!(w.shape.as_slice(), [b] | [b, 1] if *b == rows);
        if w.numel() == 1 && w.rank() <= 1 {
            return Ok(vec![f64::from(w.data[0]); rows]);
        }
        if !per_row {
            return Err(LossError::WeightShape {
                what: "sample_weight",
                weight: w.shape.clone(),
                losses: vec![rows],
                batch: rows,
            });
        }
        Ok(w.data.iter().map(|&x| f64::from(x)).collect())
    }

    fn add(&self, delta: &mut State, t: &Host, p: &Host, w: Option<&[f64]>) {
        let c = p.shape[1];
        let micro = self.average == Some(Average::Micro);
        let thr = self.threshold.map(|t| t as f32);
        for (r, (trow, prow)) in t.data.chunks(c.max(1)).zip(p.data.chunks(c.max(1))).enumerate() {
            let wr = w.map_or(1.0, |w| w[r]);
            // ops.max propagates NaN: a NaN row has no positive.
            let max = match thr {
                Some(_) => f32::NAN,
                None => prow
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, |m, v| if m.is_nan() || v.is_nan() { f32::NAN } else { m.max(v) }),
            };
            let positive = |v: f32| match thr {
                Some(thr) => v > thr,
                None => v >= max && v.abs() > 1e-9f32,
            };
            for (k, (&y, &v)) in trow.iter().zip(prow).enumerate() {
                let cell = if micro { 0 } else { k };
                let yw = f64::from(y) * wr;
                if positive(v) {
                    delta.var_mut(0).cells[cell].add(yw);
                    delta.var_mut(1).cells[cell].add(f64::from(1.0f32 - y) * wr);
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
        let w = sample_weight.map(|w| self.per_row_weights(w, p.shape[0])).transpose()?;
        let mut delta = self.layout(c);
        self.add(&mut delta, &t, &p, w.as_deref());
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
