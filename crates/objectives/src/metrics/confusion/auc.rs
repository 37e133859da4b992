//! `AUC` (keras/src/metrics/confusion_metrics.py l.1003–1530).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::matrix::{EPSILON, Options, Thresholds, confusion_counts, is_evenly_distributed};
use crate::error::Result;
use crate::metrics::config::{self, input_error, invalid};
use crate::metrics::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric, divide_no_nan};
use crate::metrics::state::{State, Variable};
use crate::tensor::dyn_tensor::DynTensor;

const CLASS: &str = "AUC";
const VARIABLES: [&str; 4] = ["true_positives", "false_positives", "true_negatives", "false_negatives"];

/// `keras.metrics.AUC`: the area under the ROC (or PR, PR-gain) curve, as a Riemann sum over
/// `num_thresholds` thresholds. Each threshold `t` gives counts `tp, fp, tn, fn` (positive when
/// `y_pred > t`); ROC sums `(fpr[i] − fpr[i+1]) · h(tpr[i], tpr[i+1])` with `h` the mean
/// (`interpolation`), min (`minoring`) or max (`majoring`); PR with `interpolation` uses Davis &
/// Goadrich's interpolation of `tp` against predicted positives. With `multi_label` the variables
/// are `[T, labels]` (built on the first update unless `num_labels` is given) and the result is the
/// (label-weighted) mean of the label AUCs.
///
/// The arguments, with Keras's defaults; [`MetricClass::metric`] makes the metric ([`AucMetric`]).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass};
/// use objectives::metrics::confusion::Auc;
/// let d = Device::flex();
/// let mut m = Auc { num_thresholds: Some(3), ..Default::default() }.metric()?;
/// let t: DynTensor = Tensor::<1>::from_floats([0., 0., 1., 1.], &d).into();
/// let p: DynTensor = Tensor::<1>::from_floats([0., 0.5, 0.3, 0.9], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result().scalar()?, 0.75);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auc {
    /// Thresholds (> 1) when `thresholds` is not given: `num_thresholds − 2` evenly spaced in
    /// `(0, 1)` plus `−ε` and `1 + ε`.
    pub num_thresholds: Option<i64>,
    /// `"ROC"` (default), `"PR"` or `"PRGAIN"` (also lower case).
    pub curve: String,
    /// `"interpolation"` (default), `"minoring"` or `"majoring"`.
    pub summation_method: String,
    /// Explicit thresholds (sorted; `−ε` and `1 + ε` are added); `num_thresholds` is then ignored.
    pub thresholds: Option<Vec<f64>>,
    /// One AUC per label (column of a rank-2 `y_pred`), averaged; otherwise everything is
    /// flattened into one binary problem.
    pub multi_label: bool,
    /// The label count for `multi_label` (otherwise taken from the first update).
    pub num_labels: Option<i64>,
    /// Per-label weights: of the label AUCs' average with `multi_label`, else of each value
    /// (broadcast along the last axis).
    pub label_weights: Option<Vec<f64>>,
    /// Apply a sigmoid to `y_pred` first.
    pub from_logits: bool,
}

impl Default for Auc {
    fn default() -> Self {
        Self {
            num_thresholds: Some(200),
            curve: "ROC".into(),
            summation_method: "interpolation".into(),
            thresholds: None,
            multi_label: false,
            num_labels: None,
            label_weights: None,
            from_logits: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Curve {
    Roc,
    Pr,
    PrGain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Summation {
    Interpolation,
    Minoring,
    Majoring,
}

/// The arithmetic of an [`Auc`]: its thresholds, curve and summation method, read from the
/// arguments.
#[derive(Clone, Debug)]
pub struct AucMetric {
    args: Auc,
    num_thresholds: usize,
    thresholds: Thresholds,
    curve: Curve,
    summation: Summation,
    label_weights: Option<Vec<f32>>,
    /// The label count when fixed: 1 without `multi_label`, `num_labels` when given.
    labels: Option<usize>,
}

fn parse_curve(s: &str) -> Result<Curve> {
    match s {
        "pr" | "PR" => Ok(Curve::Pr),
        "roc" | "ROC" => Ok(Curve::Roc),
        "prgain" | "PRGAIN" => Ok(Curve::PrGain),
        _ => Err(invalid(
            CLASS,
            format!("Invalid AUC curve value: \"{s}\". Expected values are [\"PR\", \"ROC\", \"PRGAIN\"]"),
        )),
    }
}

fn parse_summation(s: &str) -> Result<Summation> {
    match s {
        "interpolation" | "Interpolation" => Ok(Summation::Interpolation),
        "majoring" | "Majoring" => Ok(Summation::Majoring),
        "minoring" | "Minoring" => Ok(Summation::Minoring),
        _ => Err(invalid(
            CLASS,
            format!(
                "Invalid AUC summation method value: \"{s}\". Expected values are [\"interpolation\", \"majoring\", \
                 \"minoring\"]"
            ),
        )),
    }
}

/// NaN-propagating min and max (`ops.minimum`, `ops.maximum`).
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

impl MetricClass for Auc {
    const CLASS: &'static str = CLASS;
    type Metric = AucMetric;

    /// # Errors
    /// [`crate::Error::InvalidConfig`]: `num_thresholds <= 1` (without `thresholds`), an
    /// unknown curve or summation method, `num_labels` without `multi_label`, `label_weights`
    /// not matching `num_labels`, a threshold outside `[0, 1]`.
    fn metric(self) -> Result<MetricObject<AucMetric>> {
        let args = self;
        let (num_thresholds, thresholds) = match &args.thresholds {
            Some(given) => {
                // Keras's AUC does not check these; a threshold outside [0, 1] can never split
                // probabilities, so objectives refuses it as Precision and Recall do.
                if let Some(bad) = given.iter().find(|t| !(0.0..=1.0).contains(*t)) {
                    return Err(crate::metrics::config::invalid(
                        "AUC",
                        format!("thresholds must be in [0, 1]; got {bad} (in {given:?})"),
                    ));
                }
                let mut sorted = given.clone();
                sorted.sort_by(f64::total_cmp);
                let mut with_ends = vec![0.0];
                with_ends.extend(&sorted);
                with_ends.push(1.0);
                let evenly = is_evenly_distributed(&with_ends);
                let mut t = vec![0.0 - EPSILON];
                t.extend(&sorted);
                t.push(1.0 + EPSILON);
                (sorted.len() + 2, Thresholds::new(&t, evenly))
            }
            None => {
                let n = match args.num_thresholds {
                    Some(n) if n > 1 => n as usize,
                    other => {
                        return Err(invalid(
                            CLASS,
                            format!(
                                "Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={}",
                                other.map_or("None".to_string(), |n| n.to_string())
                            ),
                        ));
                    }
                };
                let mut t = vec![0.0 - EPSILON];
                t.extend((0..n - 2).map(|i| (i + 1) as f64 * 1.0 / (n - 1) as f64));
                t.push(1.0 + EPSILON);
                (n, Thresholds::new(&t, true))
            }
        };
        let curve = parse_curve(&args.curve)?;
        let summation = parse_summation(&args.summation_method)?;
        let label_weights = args.label_weights.as_ref().map(|w| w.iter().map(|&x| x as f32).collect::<Vec<f32>>());
        // Keras tests `if num_labels:` (0 and None alike).
        let given_labels = args.num_labels.filter(|&n| n != 0);
        let labels = if args.multi_label {
            match given_labels {
                Some(n) if n < 0 => {
                    return Err(invalid(CLASS, format!("`num_labels` must be a positive integer, got {n}")));
                }
                Some(n) => Some(n as usize),
                None => None,
            }
        } else {
            if given_labels.is_some() {
                return Err(invalid(CLASS, "`num_labels` is needed only when `multi_label` is True."));
            }
            Some(1)
        };
        if let (true, Some(n), Some(w)) = (args.multi_label, labels, &label_weights)
            && w.len() != 1
            && w.len() != n
        {
            return Err(invalid(
                CLASS,
                format!("`label_weights` has {} values but `num_labels` is {n}; give one weight per label", w.len()),
            ));
        }
        Ok(MetricObject::new(AucMetric { args, num_thresholds, thresholds, curve, summation, label_weights, labels }))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        config::split(CLASS, config)
    }
}

impl AucMetric {
    /// The thresholds (Keras's `thresholds` property: `−ε`, the inner thresholds, `1 + ε`), as f32.
    pub fn thresholds(&self) -> &[f32] {
        &self.thresholds.values
    }

    fn layout(&self, labels: usize) -> Vec<Variable> {
        let shape: Vec<usize> =
            if self.args.multi_label { vec![self.num_thresholds, labels] } else { vec![self.num_thresholds] };
        VARIABLES.iter().map(|n| Variable::zeros(*n, &shape)).collect()
    }

    fn check_labels(&self, l: usize) -> Result<()> {
        if let Some(w) = &self.label_weights
            && w.len() != 1
            && w.len() != l
        {
            return Err(input_error(
                CLASS,
                format!("y_pred has {l} labels but `label_weights` has {} values; give one weight per label", w.len()),
            ));
        }
        Ok(())
    }

    /// One label's AUC; `at(v, i)` reads variable `v` at threshold `i`.
    fn label_auc(&self, at: &dyn Fn(usize, usize) -> f64) -> f64 {
        let n = self.num_thresholds;
        let (tp, fp, tn, fn_) = (|i| at(0, i), |i| at(1, i), |i| at(2, i), |i| at(3, i));
        let mut sum = 0.0;
        if self.curve == Curve::Pr && self.summation == Summation::Interpolation {
            for i in 0..n.saturating_sub(1) {
                let dtp = tp(i) - tp(i + 1);
                let (pa, pb) = (tp(i) + fp(i), tp(i + 1) + fp(i + 1));
                let slope = divide_no_nan(dtp, nan_max(pa - pb, 0.0));
                let intercept = tp(i + 1) - slope * pb;
                let ratio = if pa > 0.0 && pb > 0.0 { divide_no_nan(pa, nan_max(pb, 0.0)) } else { 1.0 };
                sum += divide_no_nan(slope * (dtp + intercept * ratio.ln()), nan_max(tp(i + 1) + fn_(i + 1), 0.0));
            }
            return sum;
        }
        let point = |i: usize| -> (f64, f64) {
            let recall = divide_no_nan(tp(i), tp(i) + fn_(i));
            match self.curve {
                Curve::Roc => (divide_no_nan(fp(i), fp(i) + tn(i)), recall),
                Curve::Pr => (recall, divide_no_nan(tp(i), tp(i) + fp(i))),
                Curve::PrGain => {
                    let scale = divide_no_nan(tp(i) + fn_(i), tn(i) + fp(i));
                    let (mut rg, mut pg) =
                        (1.0 - scale * divide_no_nan(fn_(i), tp(i)), 1.0 - scale * divide_no_nan(fp(i), tp(i)));
                    if tp(i) == 0.0 {
                        rg = 0.0;
                        pg = 1.0;
                    }
                    (nan_max(rg, 0.0), pg)
                }
            }
        };
        for i in 0..n.saturating_sub(1) {
            let ((xa, ya), (xb, yb)) = (point(i), point(i + 1));
            let h = match self.summation {
                Summation::Interpolation => (ya + yb) / 2.0,
                Summation::Minoring => nan_min(ya, yb),
                Summation::Majoring => nan_max(ya, yb),
            };
            sum += (xa - xb) * h;
        }
        sum
    }
}

impl StatefulMetric for AucMetric {
    fn class_name(&self) -> &str {
        CLASS
    }

    fn default_name(&self) -> String {
        "auc".into()
    }

    fn config(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("num_thresholds".into(), Value::from(self.num_thresholds));
        let curve = match self.curve {
            Curve::Roc => "ROC",
            Curve::Pr => "PR",
            Curve::PrGain => "PRGAIN",
        };
        m.insert("curve".into(), Value::from(curve));
        let summation = match self.summation {
            Summation::Interpolation => "interpolation",
            Summation::Minoring => "minoring",
            Summation::Majoring => "majoring",
        };
        m.insert("summation_method".into(), Value::from(summation));
        m.insert("multi_label".into(), Value::from(self.args.multi_label));
        m.insert("num_labels".into(), self.args.num_labels.map_or(Value::Null, Value::from));
        m.insert("label_weights".into(), self.args.label_weights.clone().map_or(Value::Null, Value::from));
        m.insert("from_logits".into(), Value::from(self.args.from_logits));
        if let Some(t) = &self.args.thresholds {
            let mut sorted = t.clone();
            sorted.sort_by(f64::total_cmp);
            m.insert("thresholds".into(), Value::from(sorted));
        }
        m
    }

    /// `[T]` without `multi_label`, `[T, num_labels]` with it; none before the first update when
    /// `num_labels` is not given.
    fn variables(&self) -> Vec<Variable> {
        self.labels.map(|l| self.layout(l)).unwrap_or_default()
    }

    /// With `multi_label`: the number of labels, `y_pred`'s second axis (`y_pred` must be rank 2).
    fn build_size(&self, built: Option<usize>, _y_true: &DynTensor, y_pred: &DynTensor) -> Result<Option<usize>> {
        if !self.args.multi_label {
            return Ok(None);
        }
        if y_pred.rank() != 2 {
            return Err(input_error(
                CLASS,
                format!(
                    "`y_pred` must have rank 2 when `multi_label=True`, (samples, labels). Found rank {}. Full \
                     shape received for `y_pred`: {:?}",
                    y_pred.rank(),
                    y_pred.shape()
                ),
            ));
        }
        let l = y_pred.shape().get(1).copied().unwrap_or(1);
        if let Some(n) = self.labels.or(built)
            && n != l
        {
            return Err(input_error(
                CLASS,
                format!("y_pred has {l} labels (shape {:?}) but this AUC counts {n} labels", y_pred.shape()),
            ));
        }
        self.check_labels(l)?;
        Ok(if self.labels.is_some() { None } else { Some(l) })
    }

    fn built_variables(&self, labels: usize) -> Result<Vec<Variable>> {
        if self.labels.is_some() {
            return Ok(self.variables());
        }
        if labels == 0 {
            return Err(invalid(CLASS, "cannot build an AUC for 0 labels"));
        }
        self.check_labels(labels)?;
        Ok(self.layout(labels))
    }

    fn update(&self, delta: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let multi = self.args.multi_label;
        let opts = Options {
            multi_label: multi,
            label_weights: if multi { None } else { self.label_weights.as_deref() },
            from_logits: self.args.from_logits,
            ..Options::default()
        };
        let c = confusion_counts(CLASS, &self.thresholds, &opts, y_true, y_pred, w)?;
        for (i, cells) in [&c.tp, &c.fp, &c.tn, &c.fn_].into_iter().enumerate() {
            for (s, x) in delta.var_mut(i).cells.iter_mut().zip(cells) {
                s.merge(x);
            }
        }
        Ok(())
    }

    fn result(&self, state: &State) -> MetricValue {
        if state.vars.len() != 4 {
            return MetricValue::Scalar(0.0);
        }
        let vals: Vec<Vec<f64>> = state.vars.iter().map(Variable::values).collect();
        let l = if self.args.multi_label { state.var(0).shape.get(1).copied().unwrap_or(1).max(1) } else { 1 };
        let aucs: Vec<f64> = (0..l)
            .map(|col| self.label_auc(&|v, i| vals.get(v).and_then(|x| x.get(i * l + col)).copied().unwrap_or(0.0)))
            .collect();
        if !self.args.multi_label {
            return MetricValue::Scalar(aucs.first().copied().unwrap_or(0.0));
        }
        let r = match &self.label_weights {
            None => aucs.iter().sum::<f64>() / l as f64,
            Some(w) => {
                let weight = |k: usize| f64::from(if w.len() == 1 { w[0] } else { w.get(k).copied().unwrap_or(0.0) });
                let num: f64 = aucs.iter().enumerate().map(|(k, a)| a * weight(k)).sum();
                let den: f64 = w.iter().map(|&x| f64::from(x)).sum();
                divide_no_nan(num, den)
            }
        };
        MetricValue::Scalar(r)
    }
}
