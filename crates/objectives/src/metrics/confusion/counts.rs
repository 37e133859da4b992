//! `TruePositives`, `FalsePositives`, `TrueNegatives`, `FalseNegatives`, `Precision`, `Recall`
//! (keras/src/metrics/confusion_metrics.py l.13–565).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::matrix::{NEG_INF, Options, Thresholds, check_threshold_range, confusion_counts, is_evenly_distributed};
use crate::error::Result;
use crate::metrics::config::{self, invalid, to_snake_case};
use crate::metrics::exact::ExactSum;
use crate::metrics::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric, divide_no_nan};
use crate::metrics::state::{State, Variable};
use crate::tensor::dyn_tensor::DynTensor;

/// Keras's `thresholds` argument: one threshold (a scalar result) or a list (a vector result, one
/// value per threshold).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ThresholdsArg {
    /// One threshold.
    One(f64),
    /// Several thresholds.
    Many(Vec<f64>),
}

impl ThresholdsArg {
    fn to_list(&self) -> Vec<f64> {
        match self {
            ThresholdsArg::One(t) => vec![*t],
            ThresholdsArg::Many(v) => v.clone(),
        }
    }
}

/// Keras's `parse_init_thresholds` and `is_evenly_distributed_thresholds`.
fn parse_thresholds(class: &str, given: Option<&ThresholdsArg>, default: f64) -> Result<Thresholds> {
    let list = match given {
        Some(t) => {
            let l = t.to_list();
            check_threshold_range(class, &l)?;
            l
        }
        None => vec![default],
    };
    Ok(Thresholds::new(&list, is_evenly_distributed(&list)))
}

fn value_of(cells: &[f64], thresholds: usize) -> MetricValue {
    if thresholds == 1 {
        MetricValue::Scalar(cells.first().copied().unwrap_or(0.0))
    } else {
        MetricValue::Vector(cells.to_vec())
    }
}

fn add_into(var: &mut Variable, counts: &[ExactSum]) {
    for (c, x) in var.cells.iter_mut().zip(counts) {
        c.merge(x);
    }
}

/// Which confusion-matrix cell a [`ConditionCount`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `y_true` and `y_pred > t`: `TruePositives`.
    TruePositives,
    /// Not `y_true` and `y_pred > t`: `FalsePositives`.
    FalsePositives,
    /// Not `y_true` and `y_pred <= t`: `TrueNegatives`.
    TrueNegatives,
    /// `y_true` and `y_pred <= t`: `FalseNegatives`.
    FalseNegatives,
}

impl Condition {
    fn class_name(self) -> &'static str {
        match self {
            Condition::TruePositives => "TruePositives",
            Condition::FalsePositives => "FalsePositives",
            Condition::TrueNegatives => "TrueNegatives",
            Condition::FalseNegatives => "FalseNegatives",
        }
    }
}

/// The arguments of the four counting metrics, as their config writes them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CountArgs {
    thresholds: Option<ThresholdsArg>,
}

/// The weighted count of one confusion-matrix cell at each threshold (`y_true` cast to bool,
/// predicted positive when `y_pred > threshold`): Keras's `_ConfusionMatrixConditionCount`, behind
/// [`TruePositives`], [`FalsePositives`], [`TrueNegatives`] and [`FalseNegatives`]. One variable,
/// `accumulator` of shape `[thresholds]`; a scalar result for one threshold.
#[derive(Clone, Debug)]
pub struct ConditionCount {
    condition: Condition,
    args: CountArgs,
    thresholds: Thresholds,
}

impl ConditionCount {
    /// The metric counting `condition` at `thresholds` (default 0.5).
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a threshold outside `[0, 1]`.
    fn new(condition: Condition, thresholds: Option<ThresholdsArg>) -> Result<MetricObject<Self>> {
        let args = CountArgs { thresholds };
        let thresholds = parse_thresholds(condition.class_name(), args.thresholds.as_ref(), 0.5)?;
        Ok(MetricObject::new(Self { condition, args, thresholds }))
    }
}

impl StatefulMetric for ConditionCount {
    fn class_name(&self) -> &str {
        self.condition.class_name()
    }
    fn default_name(&self) -> String {
        to_snake_case(self.condition.class_name())
    }
    fn config(&self) -> Map<String, Value> {
        config::to_map(&self.args)
    }
    fn variables(&self) -> Vec<Variable> {
        vec![Variable::zeros("accumulator", &[self.thresholds.len()])]
    }
    fn update(&self, state: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let c = confusion_counts(self.class_name(), &self.thresholds, &Options::default(), y_true, y_pred, w)?;
        let cells = match self.condition {
            Condition::TruePositives => &c.tp,
            Condition::FalsePositives => &c.fp,
            Condition::TrueNegatives => &c.tn,
            Condition::FalseNegatives => &c.fn_,
        };
        add_into(state.var_mut(0), cells);
        Ok(())
    }
    fn result(&self, state: &State) -> MetricValue {
        value_of(&state.var(0).values(), self.thresholds.len())
    }
}

macro_rules! count_metric {
    ($name:ident, $cond:ident, $doc:literal, $example:literal) => {
        #[doc = $doc]
        ///
        /// ```
        /// use objectives::prelude::*;
        /// use objectives::metrics::{Metric, MetricClass};
        #[doc = concat!("use objectives::metrics::confusion::", stringify!($name), ";")]
        /// let d = Device::flex();
        #[doc = concat!("let mut m = ", stringify!($name), "::default().metric()?;")]
        /// let t: DynTensor = Tensor::<1>::from_floats([0., 1., 1., 1.], &d).into();
        /// let p: DynTensor = Tensor::<1>::from_floats([1., 0., 1., 1.], &d).into();
        /// m.update_state(&t, &p, None)?;
        #[doc = $example]
        /// # Ok::<(), objectives::Error>(())
        /// ```
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            /// Thresholds in `[0, 1]` (default 0.5); a list gives one count per threshold.
            pub thresholds: Option<ThresholdsArg>,
        }

        impl MetricClass for $name {
            const CLASS: &'static str = stringify!($name);
            type Metric = ConditionCount;

            /// # Errors
            /// [`crate::Error::InvalidConfig`] for a threshold outside `[0, 1]`.
            fn metric(self) -> Result<MetricObject<ConditionCount>> {
                ConditionCount::new(Condition::$cond, self.thresholds)
            }

            fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
                config::split(Self::CLASS, config)
            }
        }
    };
}

count_metric!(
    TruePositives,
    TruePositives,
    "`keras.metrics.TruePositives`: `Σ w · [y_true ≠ 0] · [y_pred > t]` for each threshold `t`.",
    "assert_eq!(m.result().scalar()?, 2.0);"
);
count_metric!(
    FalsePositives,
    FalsePositives,
    "`keras.metrics.FalsePositives`: `Σ w · [y_true = 0] · [y_pred > t]` for each threshold `t`.",
    "assert_eq!(m.result().scalar()?, 1.0);"
);
count_metric!(
    TrueNegatives,
    TrueNegatives,
    "`keras.metrics.TrueNegatives`: `Σ w · [y_true = 0] · [y_pred ≤ t]` for each threshold `t`.",
    "assert_eq!(m.result().scalar()?, 0.0);"
);
count_metric!(
    FalseNegatives,
    FalseNegatives,
    "`keras.metrics.FalseNegatives`: `Σ w · [y_true ≠ 0] · [y_pred ≤ t]` for each threshold `t`.",
    "assert_eq!(m.result().scalar()?, 1.0);"
);

/// The arguments of [`Precision`] and [`Recall`], as their config writes them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PrecisionRecallArgs {
    thresholds: Option<ThresholdsArg>,
    top_k: Option<i64>,
    class_id: Option<i64>,
}

/// Which ratio a [`PrecisionRecall`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ratio {
    Precision,
    Recall,
}

impl Ratio {
    fn class_name(self) -> &'static str {
        match self {
            Ratio::Precision => "Precision",
            Ratio::Recall => "Recall",
        }
    }
}

/// Keras's `Precision` and `Recall` (see [`Precision`] and [`Recall`]): variables
/// `true_positives` and `false_positives` (or `false_negatives`), each `[thresholds]`.
#[derive(Clone, Debug)]
pub struct PrecisionRecall {
    ratio: Ratio,
    args: PrecisionRecallArgs,
    thresholds: Thresholds,
    top_k: Option<usize>,
}

impl PrecisionRecall {
    fn new(ratio: Ratio, args: PrecisionRecallArgs) -> Result<MetricObject<Self>> {
        let class = ratio.class_name();
        let top_k = match args.top_k {
            None => None,
            Some(k) if k >= 1 => Some(k as usize),
            Some(k) => return Err(invalid(class, format!("`top_k` must be a positive integer, got {k}"))),
        };
        let default = if top_k.is_some() { NEG_INF } else { 0.5 };
        let thresholds = parse_thresholds(class, args.thresholds.as_ref(), default)?;
        Ok(MetricObject::new(Self { ratio, args, thresholds, top_k }))
    }
}

impl StatefulMetric for PrecisionRecall {
    fn class_name(&self) -> &str {
        self.ratio.class_name()
    }
    fn default_name(&self) -> String {
        to_snake_case(self.ratio.class_name())
    }
    fn config(&self) -> Map<String, Value> {
        config::to_map(&self.args)
    }
    fn variables(&self) -> Vec<Variable> {
        let t = self.thresholds.len();
        let second = match self.ratio {
            Ratio::Precision => "false_positives",
            Ratio::Recall => "false_negatives",
        };
        vec![Variable::zeros("true_positives", &[t]), Variable::zeros(second, &[t])]
    }
    fn update(&self, state: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let opts = Options { top_k: self.top_k, class_id: self.args.class_id, ..Options::default() };
        let c = confusion_counts(self.class_name(), &self.thresholds, &opts, y_true, y_pred, w)?;
        add_into(state.var_mut(0), &c.tp);
        add_into(
            state.var_mut(1),
            match self.ratio {
                Ratio::Precision => &c.fp,
                Ratio::Recall => &c.fn_,
            },
        );
        Ok(())
    }
    fn result(&self, state: &State) -> MetricValue {
        let tp = state.var(0).values();
        let other = state.var(1).values();
        let r: Vec<f64> = tp.iter().zip(&other).map(|(&a, &b)| divide_no_nan(a, a + b)).collect();
        value_of(&r, self.thresholds.len())
    }
}

macro_rules! ratio_metric {
    ($(#[$doc:meta])* $name:ident, $ratio:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            /// Thresholds in `[0, 1]`; default 0.5, or every top-k prediction when `top_k` is set.
            pub thresholds: Option<ThresholdsArg>,
            /// Count only the `top_k` largest predictions of the last axis as positives.
            pub top_k: Option<i64>,
            /// Only this class (index on the last axis).
            pub class_id: Option<i64>,
        }

        impl MetricClass for $name {
            const CLASS: &'static str = stringify!($name);
            type Metric = PrecisionRecall;

            /// # Errors
            /// [`crate::Error::InvalidConfig`] for a threshold outside `[0, 1]` or `top_k < 1`.
            fn metric(self) -> Result<MetricObject<PrecisionRecall>> {
                let $name { thresholds, top_k, class_id } = self;
                PrecisionRecall::new(Ratio::$ratio, PrecisionRecallArgs { thresholds, top_k, class_id })
            }

            fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
                config::split(Self::CLASS, config)
            }
        }
    };
}

ratio_metric!(
    /// `keras.metrics.Precision`: `tp / (tp + fp)` at each threshold (0 when nothing is predicted
    /// positive); with `top_k`, only the `k` largest predictions of the last axis can be positive;
    /// with `class_id`, only that class counts.
    ///
    /// ```
    /// use objectives::prelude::*;
    /// use objectives::metrics::{Metric, MetricClass};
    /// use objectives::metrics::confusion::Precision;
    /// let d = Device::flex();
    /// let mut m = Precision::default().metric()?;
    /// let t: DynTensor = Tensor::<1>::from_floats([0., 1., 1., 1.], &d).into();
    /// let p: DynTensor = Tensor::<1>::from_floats([1., 0., 1., 1.], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert!((m.result().scalar()? - 2.0 / 3.0).abs() < 1e-12);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    Precision,
    Precision
);

ratio_metric!(
    /// `keras.metrics.Recall`: `tp / (tp + fn)` at each threshold (0 when there are no positives);
    /// `top_k` and `class_id` as for [`Precision`].
    ///
    /// ```
    /// use objectives::prelude::*;
    /// use objectives::metrics::{Metric, MetricClass};
    /// use objectives::metrics::confusion::{Recall, ThresholdsArg};
    /// let d = Device::flex();
    /// let mut m = Recall { thresholds: Some(ThresholdsArg::Many(vec![0.5, 0.7])), ..Default::default() }.metric()?;
    /// let t: DynTensor = Tensor::<1>::from_floats([0., 1., 1., 0.], &d).into();
    /// let p: DynTensor = Tensor::<1>::from_floats([1., 0., 0.6, 0.], &d).into();
    /// m.update_state(&t, &p, None)?;
    /// assert_eq!(m.result().to_vec(), vec![0.5, 0.0]);
    /// # Ok::<(), objectives::Error>(())
    /// ```
    Recall,
    Recall
);
