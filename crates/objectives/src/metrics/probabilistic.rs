//! Probabilistic metrics (`keras/src/metrics/probabilistic_metrics.py`, Keras 3.15.1): the
//! weighted mean over samples of the matching loss function — `KLDivergence`, `Poisson`,
//! `BinaryCrossentropy`, `CategoricalCrossentropy` and `SparseCategoricalCrossentropy`.
//!
//! `axis` on `KLDivergence`, `Poisson` and `BinaryCrossentropy` is objectives' extension
//! (default -1, Keras's behaviour, not written to the config); the categorical ones have Keras's.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config;
use super::host::{Host, broadcast_to};
use super::mean::{Reduce, SampleFn, mean_result, mean_update, mean_variables};
use super::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric};
use super::state::{State, Variable};
use crate::error::{Error, Result};
use crate::keras::args::check_smoothing;
use crate::tensor::dyn_tensor::{DynTensor, broadcast_shapes};
use crate::tensor::shape::align_weight_shapes;

/// `keras.metrics.KLDivergence`: the weighted mean over samples of [`crate::kl_divergence`],
/// `Σ_axis y_true · log(y_true / y_pred)` (both clipped to `[ε, 1]`).
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::get("kl_divergence")?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.6, 0.4], [0.4, 0.6]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 0.45814306).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KLDivergence {
    /// The axis summed over (objectives' extension; default -1, not written to the config).
    #[serde(skip_serializing_if = "crate::losses::wrapper::is_last_axis")]
    pub axis: i64,
}

impl Default for KLDivergence {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl SampleFn for KLDivergence {
    const CLASS_NAME: &'static str = "KLDivergence";
    const DEFAULT_NAME: &'static str = "kl_divergence";
    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        crate::kl_divergence(y_true, y_pred, &crate::KlDivergenceConfig { axis: self.axis })
    }
}

/// `keras.metrics.Poisson`: the weighted mean over samples of [`crate::poisson`],
/// `mean(y_pred − y_true · log(y_pred + ε), axis)`.
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::get("poisson")?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[1., 1.], [0., 0.]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 0.49999997).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Poisson {
    /// The axis averaged over (objectives' extension; default -1, not written to the config).
    #[serde(skip_serializing_if = "crate::losses::wrapper::is_last_axis")]
    pub axis: i64,
}

impl Default for Poisson {
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl SampleFn for Poisson {
    const CLASS_NAME: &'static str = "Poisson";
    const DEFAULT_NAME: &'static str = "poisson";
    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        crate::poisson(y_true, y_pred, &crate::PoissonConfig { axis: self.axis })
    }
}

/// `keras.metrics.BinaryCrossentropy` (`"bce"`): the weighted mean over samples of
/// [`crate::binary_crossentropy`], `mean(−(y·log p + (1 − y)·log(1 − p)), axis)` with
/// `y = y_true·(1 − s) + s/2` for `label_smoothing = s`, `p` clipped to `[ε, 1 − ε]` (or the
/// stable logit form with `from_logits`).
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::get("bce")?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1.], [0., 0.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.6, 0.4], [0.4, 0.6]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 0.81492424).abs() < 1e-5);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BinaryCrossentropy {
    /// `y_pred` holds logits.
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]`.
    pub label_smoothing: f64,
    /// The axis averaged over (objectives' extension; default -1, not written to the config).
    #[serde(skip_serializing_if = "crate::losses::wrapper::is_last_axis")]
    pub axis: i64,
}

impl Default for BinaryCrossentropy {
    fn default() -> Self {
        Self { from_logits: false, label_smoothing: 0.0, axis: -1 }
    }
}

impl SampleFn for BinaryCrossentropy {
    const CLASS_NAME: &'static str = "BinaryCrossentropy";
    const DEFAULT_NAME: &'static str = "binary_crossentropy";
    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let c = crate::BinaryCrossentropyConfig {
            from_logits: self.from_logits,
            label_smoothing: self.label_smoothing,
            axis: self.axis,
        };
        crate::binary_crossentropy(y_true, y_pred, &c)
    }
    fn check(&self) -> Result<()> {
        check_smoothing(Self::CLASS_NAME, self.label_smoothing)
    }
}

/// `keras.metrics.CategoricalCrossentropy`: the weighted mean over samples of
/// [`crate::categorical_crossentropy`], `−Σ_axis y·log p` with one-hot `y_true` smoothed to
/// `y_true·(1 − s) + s/K`, `p` renormalised and clipped (or `log_softmax` with `from_logits`).
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::get("categorical_crossentropy")?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 1., 0.], [0., 0., 1.]], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.05, 0.95, 0.], [0.1, 0.8, 0.1]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 1.1769392).abs() < 1e-5);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CategoricalCrossentropy {
    /// `y_pred` holds logits.
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]`.
    pub label_smoothing: f64,
    /// The class axis (Keras's, default -1; 1 for channels-first outputs).
    pub axis: i64,
}

impl Default for CategoricalCrossentropy {
    fn default() -> Self {
        Self { from_logits: false, label_smoothing: 0.0, axis: -1 }
    }
}

impl SampleFn for CategoricalCrossentropy {
    const CLASS_NAME: &'static str = "CategoricalCrossentropy";
    const DEFAULT_NAME: &'static str = "categorical_crossentropy";
    fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let c = crate::CategoricalCrossentropyConfig {
            from_logits: self.from_logits,
            label_smoothing: self.label_smoothing,
            axis: self.axis,
        };
        crate::categorical_crossentropy(y_true, y_pred, &c)
    }
    fn check(&self) -> Result<()> {
        check_smoothing(Self::CLASS_NAME, self.label_smoothing)
    }
}

/// `keras.metrics.SparseCategoricalCrossentropy`: the weighted mean over samples of
/// [`crate::sparse_categorical_crossentropy`], `−log p[y_true]` (integer labels).
///
/// With `ignore_class = c`, positions labelled `c` count 0 — and, as in Keras (whose loss masks
/// them and whose `Mean` applies that mask only to a given `sample_weight`), they still count in
/// the denominator when no weight is given, but get weight 0 when one is.
///
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let mut m = objectives::metrics::get("sparse_categorical_crossentropy")?;
/// let t: DynTensor = Tensor::<1>::from_floats([1., 2.], &d).into();
/// let p: DynTensor = Tensor::<2>::from_floats([[0.05, 0.95, 0.], [0.1, 0.8, 0.1]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 1.1769392).abs() < 1e-5);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SparseCategoricalCrossentropy {
    /// `y_pred` holds logits.
    pub from_logits: bool,
    /// A label to leave out (see above), or `null`.
    pub ignore_class: Option<i64>,
    /// The class axis of `y_pred` (Keras's, default -1; 1 for channels-first outputs).
    pub axis: i64,
}

impl Default for SparseCategoricalCrossentropy {
    fn default() -> Self {
        Self { from_logits: false, ignore_class: None, axis: -1 }
    }
}

const SCCE: &str = "SparseCategoricalCrossentropy";
const SCCE_NAME: &str = "sparse_categorical_crossentropy";

impl StatefulMetric for SparseCategoricalCrossentropy {
    fn class_name(&self) -> &str {
        SCCE
    }
    fn default_name(&self) -> String {
        SCCE_NAME.into()
    }
    fn config(&self) -> Map<String, Value> {
        config::to_map(self)
    }
    fn variables(&self) -> Vec<Variable> {
        mean_variables()
    }
    fn update(&self, state: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let t = y_true.clone().map(|t| t.detach());
        let p = y_pred.clone().map(|p| p.detach());
        let c = crate::SparseCategoricalCrossentropyConfig {
            from_logits: self.from_logits,
            ignore_class: self.ignore_class,
            axis: self.axis,
        };
        let out = crate::sparse_categorical_crossentropy(&t, &p, &c)?;
        let values = Host::read(&out.values)?;
        let weight = match (w, &out.mask) {
            (None, _) => None,
            (Some(w), None) => Some(Host::read(w)?),
            // Keras's apply_mask(sample_weight, mask, reduction="sum"): weight · mask.
            (Some(w), Some(mask)) => Some(masked_weight(&Host::read(w)?, &Host::read(mask)?)?),
        };
        mean_update(state, &values, weight.as_ref(), Reduce::Mean)
    }
    fn result(&self, state: &State) -> MetricValue {
        MetricValue::Scalar(mean_result(state))
    }
}

/// `sample_weight · mask`, both aligned as Keras's `squeeze_or_expand_to_same_rank` (a rank-1
/// per-sample weight against a rank ≥ 2 mask weighting whole samples, objectives' rule for
/// per-sample weights) and broadcast.
fn masked_weight(weight: &Host, mask: &Host) -> Result<Host> {
    let (ms, ws) = align_weight_shapes("sample_weight", &mask.shape, &weight.shape)?;
    let err = || Error::WeightShape {
        what: "sample_weight",
        weight: weight.shape.clone(),
        losses: mask.shape.clone(),
        batch: mask.batch(),
    };
    let shape = broadcast_shapes(&ms, &ws).ok_or_else(err)?;
    let m = broadcast_to(&ms, &mask.data, &shape).ok_or_else(err)?;
    let w = broadcast_to(&ws, &weight.data, &shape).ok_or_else(err)?;
    Host::new(shape, m.iter().zip(&w).map(|(m, w)| (m * w) as f32).collect())
}

impl MetricClass for SparseCategoricalCrossentropy {
    const CLASS: &'static str = SCCE;
    type Metric = SparseCategoricalCrossentropy;

    fn metric(self) -> Result<MetricObject<SparseCategoricalCrossentropy>> {
        Ok(MetricObject::new(self))
    }

    fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
        config::split(SCCE, config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::metric::Metric;
    use crate::testing::d2;

    fn d1(v: &[f32]) -> DynTensor {
        let d = crate::backend::test_device();
        DynTensor::from_data(burn::tensor::TensorData::new(v.to_vec(), vec![v.len()]), &d).unwrap()
    }

    fn build(class: &str, config: Value) -> Box<dyn Metric> {
        super::super::from_keras_json(&serde_json::json!({"class_name": class, "config": config})).unwrap()
    }

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "{got} vs {want}");
    }

    #[test]
    fn docstring_examples() {
        let t = d2(&[[0., 1.], [0., 0.]]);
        let p = d2(&[[0.6, 0.4], [0.4, 0.6]]);
        let w = d1(&[1., 0.]);
        for (class, a, b) in [("KLDivergence", 0.45814306, 0.9162892), ("BinaryCrossentropy", 0.81492424, 0.9162905)] {
            let mut m = build(class, serde_json::json!({}));
            m.update_state(&t, &p, None).unwrap();
            close(m.result().scalar().unwrap(), a, 1e-5);
            m.reset_state();
            m.update_state(&t, &p, Some(&w)).unwrap();
            close(m.result().scalar().unwrap(), b, 1e-5);
        }
        let mut m = build("Poisson", serde_json::json!({}));
        m.update_state(&t, &d2(&[[1., 1.], [0., 0.]]), None).unwrap();
        close(m.result().scalar().unwrap(), 0.49999997, 1e-6);
    }

    #[test]
    fn ignore_class_masks_only_given_weights() {
        let t = d1(&[0., 1., 2.]);
        let p = d2(&[[0.8, 0.1, 0.1], [0.05, 0.95, 0.], [0.1, 0.8, 0.1]]);
        let mut m = build(SCCE, serde_json::json!({"ignore_class": 0}));
        m.update_state(&t, &p, None).unwrap();
        close(m.result().scalar().unwrap(), 0.78462, 1e-4);
        m.reset_state();
        m.update_state(&t, &p, Some(&d1(&[0.5, 1.5, 2.0]))).unwrap();
        close(m.result().scalar().unwrap(), 1.33774646, 1e-5);
        assert!(m.update_state(&t, &p, Some(&d1(&[0.5, 1.5]))).is_err());
    }

    #[test]
    fn configs() {
        let m = build("BinaryCrossentropy", serde_json::json!({"label_smoothing": 0.2, "name": "bce"}));
        let c = m.config();
        assert_eq!(c["label_smoothing"], 0.2);
        assert!(!c.contains_key("axis"));
        assert_eq!(build(SCCE, serde_json::json!({})).config()["ignore_class"], Value::Null);
        assert_eq!(build("CategoricalCrossentropy", serde_json::json!({})).config()["axis"], -1);
        let bad = serde_json::json!({"class_name": "CategoricalCrossentropy", "config": {"label_smoothing": 2.0}});
        assert!(super::super::from_keras_json(&bad).is_err());
        let bad = serde_json::json!({"class_name": "Poisson", "config": {"from_logits": true}});
        assert!(super::super::from_keras_json(&bad).is_err());
    }
}
