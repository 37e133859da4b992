//! Correlation metrics (`keras/src/metrics/correlation_metrics.py`, Keras 3.15.1):
//! `PearsonCorrelation` and `ConcordanceCorrelation`, each the weighted mean over samples of a
//! per-sample coefficient computed along `axis` (Keras's argument, default -1).
//!
//! The per-sample coefficients are computed on the host, in f64 from the float32 inputs, with
//! Keras's formulas step by step (population moments, `ops.std`/`ops.var` of the centred values),
//! and returned in float32 as Keras's are.

use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use super::host::Host;
use super::mean::SampleFn;
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::DynTensor;
use crate::tensor::shape::same_rank_shapes;

/// `y_true` and `y_pred` aligned (ranks as Keras's `squeeze_or_expand_to_same_rank`, then one
/// shape), with `axis` moved last: `(rows, row length, shape of the result)`.
fn rows(metric: &str, y_true: &DynTensor, y_pred: &DynTensor, axis: i64) -> Result<(Host, Host, usize, Vec<usize>)> {
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
    let a = p.axis(metric, axis)?;
    let n = p.shape[a];
    if n == 0 {
        return Err(Error::EmptyAxis { name: metric.to_string(), axis: a, shape: p.shape.clone() });
    }
    let mut out_shape = p.shape.clone();
    out_shape.remove(a);
    Ok((t.move_axis_last(a), p.move_axis_last(a), n, out_shape))
}

/// Per-row values as a float32 tensor of `shape` on `like`'s device.
fn to_tensor(values: Vec<f64>, shape: Vec<usize>, like: &DynTensor) -> Result<DynTensor> {
    let data: Vec<f32> = values.into_iter().map(|v| v as f32).collect();
    DynTensor::from_data(TensorData::new(data, shape), &like.device())
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// `ops.var(x)`: the population variance, `mean((x − mean(x))²)`.
fn var(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / x.len() as f64
}

/// Keras's `pearson_correlation` on one row.
fn pearson_row(t: &[f32], p: &[f32]) -> f64 {
    let t: Vec<f64> = t.iter().map(|&x| f64::from(x)).collect();
    let p: Vec<f64> = p.iter().map(|&x| f64::from(x)).collect();
    let (mt, mp) = (mean(&t), mean(&p));
    let tn: Vec<f64> = t.iter().map(|x| x - mt).collect();
    let pn: Vec<f64> = p.iter().map(|x| x - mp).collect();
    let (st, sp) = (var(&tn).sqrt(), var(&pn).sqrt());
    tn.iter().zip(&pn).map(|(a, b)| (a / st) * (b / sp)).sum::<f64>() / t.len() as f64
}

/// Keras's `concordance_correlation` on one row (its covariance term centres `y_true` on
/// `y_pred`'s mean, as Keras's code does; the row sum is the same either way).
fn concordance_row(t: &[f32], p: &[f32]) -> f64 {
    let t: Vec<f64> = t.iter().map(|&x| f64::from(x)).collect();
    let p: Vec<f64> = p.iter().map(|&x| f64::from(x)).collect();
    let (mt, mp) = (mean(&t), mean(&p));
    let vt = var(&t.iter().map(|x| x - mt).collect::<Vec<_>>());
    let vp = var(&p.iter().map(|x| x - mp).collect::<Vec<_>>());
    let norm = vt + vp + (mt - mp) * (mt - mp) + f64::from(crate::EPSILON as f32);
    t.iter().zip(&p).map(|(a, b)| 2.0 * (a - mp) * (b - mp) / norm).sum::<f64>() / t.len() as f64
}

fn per_row(
    metric: &str,
    y_true: &DynTensor,
    y_pred: &DynTensor,
    axis: i64,
    f: fn(&[f32], &[f32]) -> f64,
) -> Result<DynTensor> {
    let (t, p, n, shape) = rows(metric, y_true, y_pred, axis)?;
    let values: Vec<f64> = t.data.chunks(n).zip(p.data.chunks(n)).map(|(a, b)| f(a, b)).collect();
    to_tensor(values, shape, y_pred)
}

/// `keras.metrics.PearsonCorrelation`: the weighted mean over samples of the Pearson
/// coefficient along `axis`,
///
/// ```text
/// t̂ = (y_true − mean(y_true)) / std(y_true − mean(y_true))    (same for ŷ; population std)
/// pcc = mean(t̂ · ŷ, axis)
/// ```
/// A constant row has no correlation: NaN, as in Keras (no epsilon).
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::get("pearson_correlation")?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1., 0.5], [1., 1., 0.2]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.1, 0.9, 0.5], [1., 0.9, 0.2]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 0.9966996338993913).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PearsonCorrelation {
    /// The axis along which the coefficient is computed (default -1).
    pub axis: i64,
}

impl Default for PearsonCorrelation {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl SampleFn for PearsonCorrelation {
    const CLASS_NAME: &'static str = "PearsonCorrelation";
    const DEFAULT_NAME: &'static str = "pearson_correlation";
    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        per_row(Self::CLASS_NAME, y_true, y_pred, self.axis, pearson_row)
    }
}

/// `keras.metrics.ConcordanceCorrelation`: the weighted mean over samples of Lin's concordance
/// coefficient along `axis`,
///
/// ```text
/// ccc = mean(2 (y_true − mean(y_pred)) (y_pred − mean(y_pred)), axis)
///       / (var(y_true) + var(y_pred) + (mean(y_true) − mean(y_pred))² + ε),    ε = 1e-7
/// ```
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::get("concordance_correlation")?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1., 0.5], [1., 1., 0.2]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.1, 0.9, 0.5], [1., 0.9, 0.2]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 0.9816320385426076).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConcordanceCorrelation {
    /// The axis along which the coefficient is computed (default -1).
    pub axis: i64,
}

impl Default for ConcordanceCorrelation {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl SampleFn for ConcordanceCorrelation {
    const CLASS_NAME: &'static str = "ConcordanceCorrelation";
    const DEFAULT_NAME: &'static str = "concordance_correlation";
    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        per_row(Self::CLASS_NAME, y_true, y_pred, self.axis, concordance_row)
    }
}

#[cfg(test)]
mod tests {
    use super::super::metric::Metric;
    use super::*;
    use crate::testing::d2;

    fn build(class: &str, axis: i64) -> Box<dyn Metric> {
        let j = serde_json::json!({"class_name": class, "config": {"axis": axis}});
        super::super::from_keras_json(&j).unwrap()
    }

    #[test]
    fn rows_match_keras_test_values() {
        // correlation_metrics_test.py: ccc_expected; pcc from the commented-out literal values.
        let t: [[f32; 3]; 4] = [[0., 1., 0.5], [1., 1., 0.2], [1., 1., 0.1], [0.1, 0.7, 0.0]];
        let p: [[f32; 3]; 4] = [[0.1, 0.9, 0.5], [1., 0.9, 0.2], [0.2, 0.8, 0.], [0.3, 0.3, 0.9]];
        let ccc = [0.97560976, 0.98765432, 0.46511628, -0.46376812];
        let pcc = [1.0, 0.99339927, 0.69337525, -0.60999428];
        for i in 0..4 {
            assert!((concordance_row(&t[i], &p[i]) - ccc[i]).abs() < 1e-6, "ccc {i}");
            assert!((pearson_row(&t[i], &p[i]) - pcc[i]).abs() < 1e-6, "pcc {i}");
        }
    }

    #[test]
    fn channels_first_axis_equals_transposed_last_axis() {
        let a = d2(&[[0., 1.], [1., 1.], [0.5, 0.2]]); // (3, 2): axis 0 holds the rows above
        let b = d2(&[[0.1, 1.], [0.9, 0.9], [0.5, 0.2]]);
        let (at, bt) = (d2(&[[0., 1., 0.5], [1., 1., 0.2]]), d2(&[[0.1, 0.9, 0.5], [1., 0.9, 0.2]]));
        for class in ["PearsonCorrelation", "ConcordanceCorrelation"] {
            let mut m0 = build(class, 0);
            m0.update_state(&a, &b, None).unwrap();
            let mut m1 = build(class, -1);
            m1.update_state(&at, &bt, None).unwrap();
            assert!((m0.result().scalar().unwrap() - m1.result().scalar().unwrap()).abs() < 1e-7, "{class}");
            assert!(m1.update_state(&at, &d2(&[[0.1, 0.9], [1., 0.9]]), None).is_err());
        }
    }

    #[test]
    fn constant_row_gives_nan_like_keras() {
        let mut m = build("PearsonCorrelation", -1);
        m.update_state(&d2(&[[1., 1., 1.]]), &d2(&[[0., 1., 2.]]), None).unwrap();
        assert!(m.result().scalar().unwrap().is_nan());
        let mut m = build("ConcordanceCorrelation", -1);
        m.update_state(&d2(&[[1., 1., 1.]]), &d2(&[[1., 1., 1.]]), None).unwrap();
        assert_eq!(m.result().scalar().unwrap(), 0.0);
    }
}
