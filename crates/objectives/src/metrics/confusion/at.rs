//! `SensitivityAtSpecificity`, `SpecificityAtSensitivity`, `PrecisionAtRecall`,
//! `RecallAtPrecision`: Keras's `SensitivitySpecificityBase` family
//! (keras/src/metrics/confusion_metrics.py l.568–1000).

use serde_json::{Map, Value};

use super::matrix::{Options, Thresholds, confusion_counts};
use crate::error::Result;
use crate::metrics::config::{self, invalid, to_snake_case};
use crate::metrics::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric};
use crate::metrics::state::{State, Variable};
use crate::tensor::dyn_tensor::DynTensor;

/// Which constrained maximum an [`AtMetric`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtKind {
    /// Best sensitivity (`tp / (tp + fn)`) where specificity (`tn / (tn + fp)`) ≥ the value.
    SensitivityAtSpecificity,
    /// Best specificity where sensitivity ≥ the value.
    SpecificityAtSensitivity,
    /// Best precision (`tp / (tp + fp)`) where recall (`tp / (tp + fn)`) ≥ the value.
    PrecisionAtRecall,
    /// Best recall where precision ≥ the value.
    RecallAtPrecision,
}

impl AtKind {
    fn class_name(self) -> &'static str {
        match self {
            AtKind::SensitivityAtSpecificity => "SensitivityAtSpecificity",
            AtKind::SpecificityAtSensitivity => "SpecificityAtSensitivity",
            AtKind::PrecisionAtRecall => "PrecisionAtRecall",
            AtKind::RecallAtPrecision => "RecallAtPrecision",
        }
    }

    /// The config key of the constraint's value.
    fn value_key(self) -> &'static str {
        match self {
            AtKind::SensitivityAtSpecificity => "specificity",
            AtKind::SpecificityAtSensitivity => "sensitivity",
            AtKind::PrecisionAtRecall => "recall",
            AtKind::RecallAtPrecision => "precision",
        }
    }
}

/// One of Keras's `SensitivitySpecificityBase` metrics: the four counts at `num_thresholds`
/// thresholds `[0, 1/(n−1), …, 1]` (`[0.5]` for `n = 1`), and, as the result, the largest
/// dependent rate among the thresholds whose constrained rate is ≥ the value (0 if none). Rates are
/// `divide_no_nan` in f32 and compared with the value cast to f32, as Keras computes them.
#[derive(Clone, Debug)]
pub struct AtMetric {
    kind: AtKind,
    value: f64,
    num_thresholds: i64,
    class_id: Option<i64>,
    thresholds: Thresholds,
}

impl AtMetric {
    /// The metric `kind` with constraint `value` in `[0, 1]`, `num_thresholds > 0` and an optional
    /// `class_id`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a value outside `[0, 1]` or `num_thresholds <= 0`.
    fn new(kind: AtKind, value: f64, num_thresholds: i64, class_id: Option<i64>) -> Result<MetricObject<Self>> {
        let class = kind.class_name();
        if !(0.0..=1.0).contains(&value) {
            return Err(invalid(
                class,
                format!("Argument `{}` must be in the range [0, 1]. Received: {0}={value}", kind.value_key()),
            ));
        }
        if num_thresholds <= 0 {
            return Err(invalid(
                class,
                format!("Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}"),
            ));
        }
        let thresholds = if num_thresholds == 1 {
            Thresholds::new(&[0.5], false)
        } else {
            let n = num_thresholds as usize;
            let mut t = vec![0.0];
            t.extend((0..n - 2).map(|i| (i + 1) as f64 * 1.0 / (n - 1) as f64));
            t.push(1.0);
            Thresholds::new(&t, true)
        };
        Ok(MetricObject::new(Self { kind, value, num_thresholds, class_id, thresholds }))
    }
}

fn rate(a: f32, b: f32) -> f32 {
    let d = a + b;
    if d == 0.0 { 0.0 } else { a / d }
}

impl StatefulMetric for AtMetric {
    fn class_name(&self) -> &str {
        self.kind.class_name()
    }
    fn default_name(&self) -> String {
        to_snake_case(self.kind.class_name())
    }
    fn config(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(self.kind.value_key().into(), Value::from(self.value));
        m.insert("num_thresholds".into(), Value::from(self.num_thresholds));
        m.insert("class_id".into(), self.class_id.map_or(Value::Null, Value::from));
        m
    }
    fn variables(&self) -> Vec<Variable> {
        let t = [self.thresholds.len()];
        ["true_positives", "false_positives", "true_negatives", "false_negatives"]
            .iter()
            .map(|n| Variable::zeros(*n, &t))
            .collect()
    }
    fn update(&self, state: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let opts = Options { class_id: self.class_id, ..Options::default() };
        let c = confusion_counts(self.class_name(), &self.thresholds, &opts, y_true, y_pred, w)?;
        for (i, cells) in [&c.tp, &c.fp, &c.tn, &c.fn_].into_iter().enumerate() {
            for (s, x) in state.var_mut(i).cells.iter_mut().zip(cells) {
                s.merge(x);
            }
        }
        Ok(())
    }
    fn result(&self, state: &State) -> MetricValue {
        // Keras's variables are float32.
        let f = |i: usize| state.var(i).values().into_iter().map(|x| x as f32).collect::<Vec<f32>>();
        let (tp, fp, tn, fn_) = (f(0), f(1), f(2), f(3));
        let value = self.value as f32;
        let mut best = 0.0f32;
        for k in 0..tp.len() {
            let sensitivity = rate(tp[k], fn_[k]);
            let specificity = rate(tn[k], fp[k]);
            let precision = rate(tp[k], fp[k]);
            let (constrained, dependent) = match self.kind {
                AtKind::SensitivityAtSpecificity => (specificity, sensitivity),
                AtKind::SpecificityAtSensitivity => (sensitivity, specificity),
                AtKind::PrecisionAtRecall => (sensitivity, precision),
                AtKind::RecallAtPrecision => (precision, sensitivity),
            };
            // ops.max(where(feasible, dependent, 0), initial=0)
            let candidate = if constrained >= value { dependent } else { 0.0 };
            if candidate > best || candidate.is_nan() {
                best = candidate;
            }
        }
        MetricValue::Scalar(f64::from(best))
    }
}

macro_rules! at_metric {
    ($name:ident, $arg:ident, $doc:literal, $value:literal, $expected:literal) => {
        #[doc = $doc]
        ///
        /// ```
        /// use objectives::prelude::*;
        /// use objectives::metrics::{Metric, MetricClass};
        #[doc = concat!("use objectives::metrics::confusion::", stringify!($name), ";")]
        /// let d = Device::flex();
        #[doc = concat!("let mut m = ", stringify!($name), "::new(", $value, ").metric()?;")]
        /// let t: DynTensor = Tensor::<1>::from_floats([0., 0., 0., 1., 1.], &d).into();
        /// let p: DynTensor = Tensor::<1>::from_floats([0., 0.3, 0.8, 0.3, 0.8], &d).into();
        /// m.update_state(&t, &p, None)?;
        #[doc = concat!("assert!((m.result().scalar()? - ", $expected, ").abs() < 1e-6);")]
        /// # Ok::<(), objectives::Error>(())
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            #[doc = concat!("The constraint, in `[0, 1]` (required).")]
            pub $arg: f64,
            /// The number of thresholds (default 200).
            pub num_thresholds: i64,
            /// Only this class (index on the last axis), or all of them (default).
            pub class_id: Option<i64>,
        }

        impl $name {
            #[doc = concat!("The metric at `", stringify!($arg), "`, with Keras's defaults (200 thresholds, every class).")]
            pub fn new($arg: f64) -> Self {
                Self { $arg, num_thresholds: 200, class_id: None }
            }
        }

        impl MetricClass for $name {
            const CLASS: &'static str = stringify!($name);
            type Metric = AtMetric;

            /// # Errors
            #[doc = concat!("[`crate::Error::InvalidConfig`] for `", stringify!($arg), "` outside `[0, 1]` or `num_thresholds <= 0`.")]
            fn metric(self) -> Result<MetricObject<AtMetric>> {
                AtMetric::new(AtKind::$name, self.$arg, self.num_thresholds, self.class_id)
            }

            fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
                let (name, (value, num_thresholds, class_id)) = at_config(AtKind::$name, config)?;
                Ok((name, Self { $arg: value, num_thresholds, class_id }))
            }
        }
    };
}

at_metric!(
    SensitivityAtSpecificity,
    specificity,
    "`keras.metrics.SensitivityAtSpecificity`: the best sensitivity `tp / (tp + fn)` over the \
     thresholds whose specificity `tn / (tn + fp)` is ≥ `specificity`.",
    "0.5",
    "0.5"
);
at_metric!(
    SpecificityAtSensitivity,
    sensitivity,
    "`keras.metrics.SpecificityAtSensitivity`: the best specificity `tn / (tn + fp)` over the \
     thresholds whose sensitivity `tp / (tp + fn)` is ≥ `sensitivity`.",
    "0.5",
    "2.0 / 3.0"
);
at_metric!(
    PrecisionAtRecall,
    recall,
    "`keras.metrics.PrecisionAtRecall`: the best precision `tp / (tp + fp)` over the thresholds \
     whose recall `tp / (tp + fn)` is ≥ `recall`.",
    "0.5",
    "0.5"
);
at_metric!(
    RecallAtPrecision,
    precision,
    "`keras.metrics.RecallAtPrecision`: the best recall `tp / (tp + fn)` over the thresholds whose \
     precision `tp / (tp + fp)` is ≥ `precision` (0 when no threshold reaches it).",
    "0.5",
    "1.0"
);

/// The arguments of an `*At*` metric: the constraint, `num_thresholds`, `class_id`.
type AtArgs = (f64, i64, Option<i64>);

/// The `name` and the arguments (`<value key>` required, `num_thresholds`, `class_id`) of a Keras
/// config of `kind`.
fn at_config(kind: AtKind, config: &Map<String, Value>) -> Result<(Option<String>, AtArgs)> {
    let class = kind.class_name();
    let (name, mut args) = config::split::<Map<String, Value>>(class, config)?;
    let key = kind.value_key();
    let value = match args.remove(key) {
        Some(v) => v.as_f64().ok_or_else(|| invalid(class, format!("`{key}` must be a number in [0, 1], got {v}")))?,
        None => return Err(invalid(class, format!("`{key}` is required: a number in [0, 1]"))),
    };
    let num_thresholds = match args.remove("num_thresholds") {
        None => 200,
        Some(v) => {
            v.as_i64().ok_or_else(|| invalid(class, format!("`num_thresholds` must be an integer > 0, got {v}")))?
        }
    };
    let class_id = match args.remove("class_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| invalid(class, format!("`class_id` must be an integer, got {v}")))?),
    };
    if let Some(k) = args.keys().next() {
        return Err(invalid(
            class,
            format!("unknown argument `{k}`; {class} takes `{key}`, `num_thresholds`, `class_id`, `name`, `dtype`"),
        ));
    }
    Ok((name, (value, num_thresholds, class_id)))
}
