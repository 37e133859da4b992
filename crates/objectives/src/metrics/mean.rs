//! The weighted mean of per-sample values, with Keras's `reduce_to_samplewise_values`
//! (`keras/src/metrics/reduction_metrics.py` l.10–45): the machinery of `Mean`, `Sum` and of
//! every metric Keras builds on `MeanMetricWrapper`.
//!
//! For values `v` and a sample weight `w` (optional):
//! 1. `v` and `w` are squeezed or expanded to the same rank (a trailing axis of 1);
//! 2. axes of `v` beyond `w`'s rank are averaged (summed, for `Sum`) away;
//! 3. `w` is broadcast to `v` (numpy rules), `v ← v·w`, and `w` is averaged over its axes ≥ 1;
//! 4. `v` is averaged over its axes ≥ 1.
//!
//! `Mean` then adds `Σ v` to `total` and `Σ w` (or the number of rows) to `count`, and its result
//! is `total / count` (0 when `count` is 0). Every metric that Keras builds on
//! `MeanMetricWrapper` (MSE, accuracy, cross-entropies, …) is a [`Wrapped`] [`SampleFn`] here; a
//! `SampleFn` is a [`MetricClass`]: `BinaryAccuracy { threshold: 0.7 }.metric()?`.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::config;
use super::host::{Host, broadcast_to};
use super::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric, divide_no_nan};
use super::state::{State, Variable};
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::DynTensor;

/// How the trailing axes of a sample's values are reduced: Keras's `reduce_fn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// `ops.mean` (`Mean`, `MeanMetricWrapper`).
    Mean,
    /// `ops.sum` (`Sum`).
    Sum,
}

/// The two variables of `Mean` (and `Sum`, which uses only `total`).
pub fn mean_variables() -> Vec<Variable> {
    vec![Variable::zeros("total", &[]), Variable::zeros("count", &[])]
}

/// Adds per-sample `values` (weighted by `weight`) to a `[total, count]` state, as Keras's
/// `Mean.update_state` (or `Sum.update_state` with [`Reduce::Sum`], which leaves `count` alone).
///
/// # Errors
/// [`Error::WeightShape`] when the weight does not broadcast to the values.
pub fn mean_update(state: &mut State, values: &Host, weight: Option<&Host>, reduce: Reduce) -> Result<()> {
    let (rows, per_row_w) = samplewise(values, weight, reduce)?;
    let total_cell = &mut state.var_mut(0).cells[0];
    rows.iter().for_each(|&v| total_cell.add(v));
    if reduce == Reduce::Mean {
        let count = &mut state.var_mut(1).cells[0];
        match per_row_w {
            Some(w) => w.iter().for_each(|&x| count.add(x)),
            None => count.add_count(if values.rank() == 0 { 1 } else { rows.len() as u64 }),
        }
    }
    Ok(())
}

/// Keras's `reduce_to_samplewise_values`: one value per row (times its weight), and one weight
/// per row when a weight is given.
pub(crate) fn samplewise(values: &Host, weight: Option<&Host>, reduce: Reduce) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
    let red = |xs: &[f64]| -> f64 {
        let s: f64 = xs.iter().sum();
        match reduce {
            Reduce::Sum => s,
            Reduce::Mean => s / xs.len() as f64,
        }
    };
    let mut v_shape = values.shape.clone();
    let v: Vec<f64> = values.data.iter().map(|&x| f64::from(x)).collect();
    let Some(weight) = weight else {
        if v_shape.len() <= 1 {
            return Ok((v, None));
        }
        let per: usize = v_shape[1..].iter().product();
        if per == 0 {
            return Ok((vec![f64::NAN; v_shape[0]], None));
        }
        return Ok((v.chunks(per).map(red).collect(), None));
    };
    let mut w_shape = weight.shape.clone();
    // squeeze_or_expand_to_same_rank(values, weight), expand_rank_1=True.
    let (vr, wr) = (v_shape.len(), w_shape.len());
    if vr == wr + 1 && v_shape.last() == Some(&1) {
        if wr == 1 {
            w_shape.push(1);
        } else {
            v_shape.pop();
        }
    } else if wr == vr + 1 && w_shape.last() == Some(&1) {
        if vr == 1 {
            v_shape.push(1);
        } else {
            w_shape.pop();
        }
    }
    // Values beyond the weight's rank are reduced away.
    let (v_shape, v) = if v_shape.len() > w_shape.len() {
        let keep: Vec<usize> = v_shape[..w_shape.len()].to_vec();
        let per: usize = v_shape[w_shape.len()..].iter().product();
        let reduced = if per == 0 { vec![f64::NAN; keep.iter().product()] } else { v.chunks(per).map(red).collect() };
        (keep, reduced)
    } else {
        (v_shape, v)
    };
    let err = || Error::WeightShape {
        what: "sample_weight",
        weight: weight.shape.clone(),
        losses: values.shape.clone(),
        batch: values.batch(),
    };
    let w = broadcast_to(&w_shape, &weight.data, &v_shape).ok_or_else(err)?;
    let weighted: Vec<f64> = v.iter().zip(&w).map(|(a, b)| a * b).collect();
    if v_shape.len() <= 1 {
        return Ok((weighted, Some(w)));
    }
    let per: usize = v_shape[1..].iter().product();
    if per == 0 {
        return Ok((vec![], Some(vec![])));
    }
    let rows = weighted.chunks(per).map(red).collect();
    let w_rows = w.chunks(per).map(red).collect();
    Ok((rows, Some(w_rows)))
}

/// `total / count` of a mean state.
pub fn mean_result(state: &State) -> f64 {
    divide_no_nan(state.var(0).scalar(), state.var(1).scalar())
}

/// A per-sample metric function with its arguments (a serde struct with Keras's defaults):
/// the `fn` of one of Keras's `MeanMetricWrapper` subclasses.
pub trait SampleFn: Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static {
    /// The Keras class name, e.g. `"MeanSquaredError"`.
    const CLASS_NAME: &'static str;
    /// The default instance name, e.g. `"mean_squared_error"`.
    const DEFAULT_NAME: &'static str;

    /// Per-sample values (leading axis: the batch), before weighting.
    ///
    /// # Errors
    /// Shape, axis or value errors naming the metric.
    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor>;

    /// Checks the arguments after reading them.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the argument.
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// A [`SampleFn`] averaged with Keras's `MeanMetricWrapper` semantics.
#[derive(Clone, Debug)]
pub struct Wrapped<F>(pub F);

impl<F: SampleFn> StatefulMetric for Wrapped<F> {
    fn class_name(&self) -> &str {
        F::CLASS_NAME
    }

    fn default_name(&self) -> String {
        F::DEFAULT_NAME.to_string()
    }

    fn config(&self) -> Map<String, Value> {
        config::to_map(&self.0)
    }

    fn variables(&self) -> Vec<Variable> {
        mean_variables()
    }

    fn update(&self, state: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        // Keras casts metric inputs to the metric's dtype, float32.
        let t = y_true.clone().map(|t| t.detach()).cast(burn::tensor::FloatDType::F32);
        let p = y_pred.clone().map(|p| p.detach()).cast(burn::tensor::FloatDType::F32);
        let values = Host::read(&self.0.values(&t, &p)?)?;
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

/// Every [`SampleFn`] is a metric class: `Class { … }.metric()` checks its arguments
/// ([`SampleFn::check`]) and wraps it in [`Wrapped`].
impl<F: SampleFn> MetricClass for F {
    const CLASS: &'static str = F::CLASS_NAME;
    type Metric = Wrapped<F>;

    fn metric(self) -> Result<MetricObject<Wrapped<F>>> {
        self.check()?;
        Ok(MetricObject::new(Wrapped(self)))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        config::split::<F>(F::CLASS_NAME, config)
    }
}

/// A [`SampleFn`] metric that is a loss function whose only argument is `axis` (objectives'
/// extension; default -1, Keras's behaviour, not written to the config, so it stays loadable by
/// Keras): `loss_axis_metric!(/// docs  Name, "KerasClass", "default_name", loss_fn, LossConfig)`.
macro_rules! loss_axis_metric {
    ($(#[$doc:meta])* $name:ident, $class:literal, $default:literal, $loss:ident, $cfg:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            /// The axis the loss function reduces (objectives' extension; default -1, Keras's
            /// behaviour, which is not written to the config).
            #[serde(skip_serializing_if = "crate::losses::wrapper::is_last_axis")]
            pub axis: i64,
        }

        impl Default for $name {
            fn default() -> Self {
                Self { axis: -1 }
            }
        }

        impl $crate::metrics::mean::SampleFn for $name {
            const CLASS_NAME: &'static str = $class;
            const DEFAULT_NAME: &'static str = $default;
            fn values(&self, y_true: &$crate::DynTensor, y_pred: &$crate::DynTensor) -> $crate::Result<$crate::DynTensor> {
                $crate::$loss(y_true, y_pred, &$crate::$cfg { axis: self.axis })
            }
        }
    };
}
pub(crate) use loss_axis_metric;

/// No arguments beyond `name` and `dtype`.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(shape: &[usize], data: &[f32]) -> Host {
        Host::new(shape.to_vec(), data.to_vec()).unwrap()
    }

    #[test]
    fn mean_weights_rows_like_keras() {
        // keras reduction_metrics_test.py: Mean with weights [1, 1, 0, 0] on [1, 3, 5, 7] → 2.
        let mut s = State::new(mean_variables());
        mean_update(&mut s, &h(&[4], &[1., 3., 5., 7.]), Some(&h(&[4], &[1., 1., 0., 0.])), Reduce::Mean).unwrap();
        assert_eq!(mean_result(&s), 2.0);
        // 2-D values, per-row weights: rows are averaged first.
        let mut s = State::new(mean_variables());
        mean_update(&mut s, &h(&[2, 2], &[1., 3., 5., 7.]), Some(&h(&[2], &[1., 3.])), Reduce::Mean).unwrap();
        assert_eq!(mean_result(&s), (2.0 + 18.0) / 4.0);
        // Per-value weights: Σ_rows mean(v·w) / Σ_rows mean(w).
        let mut s = State::new(mean_variables());
        mean_update(&mut s, &h(&[2, 2], &[1., 3., 5., 7.]), Some(&h(&[2, 2], &[1., 0., 0., 1.])), Reduce::Mean)
            .unwrap();
        assert_eq!(mean_result(&s), (0.5 + 3.5) / 1.0);
        assert!(
            mean_update(&mut s, &h(&[2, 2], &[1., 3., 5., 7.]), Some(&h(&[3], &[1., 1., 1.])), Reduce::Mean).is_err()
        );
    }
}
