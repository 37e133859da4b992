//! Compiled metrics, with Keras's `MeanMetricWrapper` semantics: per-sample values, then
//! `Σ v·w / Σ w` over the epoch (so `mae` the metric is a weighted mean, while `mae` the loss
//! divides by the element count — Keras's documented difference).

use objectives::{DynTensor, LossError, MeanAbsoluteErrorConfig, MeanSquaredErrorConfig};

use crate::error::{FitError, Result};

/// A metric computed on each batch and averaged over the epoch.
#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    /// `mean_squared_error` / `mse`.
    MeanSquaredError,
    /// `mean_absolute_error` / `mae`.
    MeanAbsoluteError,
    /// `accuracy` / `acc`: binary, categorical or sparse, chosen from the shapes as Keras does.
    Accuracy,
    /// `binary_accuracy`: `y_pred > threshold` equals `y_true > 0.5`.
    BinaryAccuracy {
        /// Decision threshold (Keras: 0.5).
        threshold: f64,
    },
    /// `categorical_accuracy`: argmax of one-hot `y_true` equals argmax of `y_pred`.
    CategoricalAccuracy,
    /// `sparse_categorical_accuracy`: integer `y_true` equals argmax of `y_pred`.
    SparseCategoricalAccuracy,
    /// `sparse_top_k_categorical_accuracy`: the true class is among the `k` highest scores.
    SparseTopKCategoricalAccuracy {
        /// How many top classes count (Keras: 5).
        k: usize,
    },
}

impl Metric {
    /// The metric for a Keras name (`"mae"`, `"accuracy"`, `"sparse_top_k_categorical_accuracy"`, …).
    ///
    /// # Errors
    /// [`FitError::Config`] for a name objectives does not implement.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "mse" | "mean_squared_error" => Metric::MeanSquaredError,
            "mae" | "mean_absolute_error" => Metric::MeanAbsoluteError,
            "accuracy" | "acc" => Metric::Accuracy,
            "binary_accuracy" => Metric::BinaryAccuracy { threshold: 0.5 },
            "categorical_accuracy" => Metric::CategoricalAccuracy,
            "sparse_categorical_accuracy" => Metric::SparseCategoricalAccuracy,
            "sparse_top_k_categorical_accuracy" | "top_k" => Metric::SparseTopKCategoricalAccuracy { k: 5 },
            other => {
                return Err(FitError::Config(format!(
                    "unknown metric `{other}`; objectives has mse, mae, accuracy, binary_accuracy, \
                     categorical_accuracy, sparse_categorical_accuracy, sparse_top_k_categorical_accuracy"
                )));
            }
        })
    }

    /// The name used in logs (Keras's default metric names).
    pub fn name(&self) -> &'static str {
        match self {
            Metric::MeanSquaredError => "mean_squared_error",
            Metric::MeanAbsoluteError => "mean_absolute_error",
            Metric::Accuracy => "accuracy",
            Metric::BinaryAccuracy { .. } => "binary_accuracy",
            Metric::CategoricalAccuracy => "categorical_accuracy",
            Metric::SparseCategoricalAccuracy => "sparse_categorical_accuracy",
            Metric::SparseTopKCategoricalAccuracy { .. } => "sparse_top_k_categorical_accuracy",
        }
    }

    /// Keras's `accuracy`: binary for a last axis of 1, sparse for integer labels, else categorical.
    fn resolve_accuracy(t: &DynTensor, p: &DynTensor) -> Metric {
        if p.shape().last() == Some(&1) {
            Metric::BinaryAccuracy { threshold: 0.5 }
        } else if t.rank() < p.rank() || (t.shape().last() == Some(&1) && p.shape().last() != Some(&1)) {
            Metric::SparseCategoricalAccuracy
        } else {
            Metric::CategoricalAccuracy
        }
    }

    /// Per-sample values (no gradient) for a batch.
    pub(crate) fn values(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<DynTensor> {
        let t = y_true.clone().map(|t| t.detach());
        let p = y_pred.clone().map(|p| p.detach());
        let last =
            |x: &DynTensor| x.rank().checked_sub(1).ok_or_else(|| LossError::ScalarInput { loss: self.name().into() });
        let dtype = p.padded().dtype();
        Ok(match self {
            Metric::MeanSquaredError => objectives::mean_squared_error(&t, &p, &MeanSquaredErrorConfig::default())?,
            Metric::MeanAbsoluteError => objectives::mean_absolute_error(&t, &p, &MeanAbsoluteErrorConfig::default())?,
            Metric::Accuracy => return Self::resolve_accuracy(&t, &p).values(&t, &p),
            Metric::BinaryAccuracy { threshold } => {
                let (t, p) = objectives::shape::align_targets("binary_accuracy", &t, &p)?;
                let axis = last(&p)?;
                let th = *threshold;
                t.zip_with(p, |t, p| p.greater_elem(th).equal(t.greater_elem(0.5)).float().cast(dtype))?.mean_axis(axis)
            }
            Metric::CategoricalAccuracy => {
                let (t, p) = objectives::shape::align_targets("categorical_accuracy", &t, &p)?;
                let axis = last(&p)?;
                let d = p.padded_axis(axis);
                let eq = t.padded().clone().argmax(d).equal(p.padded().clone().argmax(d)).float().cast(dtype);
                DynTensor::from_padded_checked(eq, keepdim(&p, axis))?.mean_axis(axis)
            }
            Metric::SparseCategoricalAccuracy => Metric::SparseTopKCategoricalAccuracy { k: 1 }.values(&t, &p)?,
            Metric::SparseTopKCategoricalAccuracy { k } => {
                // The true class's score, then how many classes score higher: in the top k iff < k.
                let hot = objectives::one_hot_labels(self.name(), &t, &p, -1)?;
                let axis = last(&p)?;
                let d = p.padded_axis(axis);
                let true_score = hot.zip_with(p.clone(), |h, p| h.mul(p))?.into_padded().sum_dim(d);
                let higher = p.padded().clone().greater(true_score.expand(p.padded().dims()));
                let count = higher.float().cast(dtype).sum_dim(d);
                let hit = count.lower_elem(*k as f64).float().cast(dtype);
                DynTensor::from_padded_checked(hit, keepdim(&p, axis))?.mean_axis(axis)
            }
        })
    }
}

/// `x`'s shape with `axis` reduced to size 1 (burn's keep-dim reductions).
fn keepdim(x: &DynTensor, axis: usize) -> Vec<usize> {
    let mut s = x.shape().to_vec();
    s[axis] = 1;
    s
}

/// Accumulates `Σ v·w` and `Σ w` over an epoch.
#[derive(Clone, Debug, Default)]
pub(crate) struct MeanTracker {
    total: f64,
    count: f64,
}

impl MeanTracker {
    pub(crate) fn add(&mut self, value: f64, weight: f64) {
        self.total += value * weight;
        self.count += weight;
    }

    /// `Σ v·w / Σ w`, 0 when nothing was counted (divide-no-nan).
    pub(crate) fn result(&self) -> f64 {
        if self.count == 0.0 { 0.0 } else { self.total / self.count }
    }
}

/// Checks that a metric's weights pair with its values (one weight per sample, or per value),
/// before the values are read.
///
/// # Errors
/// [`FitError::Data`] naming the metric and both counts.
pub(crate) fn check_weight(metric: &Metric, values: &DynTensor, weight: Option<&DynTensor>) -> Result<()> {
    match weight {
        Some(w) if w.numel() == 0 || !values.numel().is_multiple_of(w.numel()) => {
            Err(mismatch(metric, w.numel(), values.numel()))
        }
        _ => Ok(()),
    }
}

fn mismatch(metric: &Metric, weights: usize, values: usize) -> FitError {
    FitError::Data(format!(
        "{}: {weights} weights for {values} metric values; pass one weight per sample",
        metric.name()
    ))
}

/// Adds one batch's metric values (read back) to its tracker, with optional weights per sample
/// or per value.
///
/// # Errors
/// Weights that do not pair with the values ([`check_weight`]).
pub(crate) fn add_values(metric: &Metric, tracker: &mut MeanTracker, v: Vec<f64>, w: Option<Vec<f64>>) -> Result<()> {
    let Some(w) = w else {
        v.into_iter().for_each(|x| tracker.add(x, 1.0));
        return Ok(());
    };
    if !w.is_empty() && v.len().is_multiple_of(w.len()) {
        let per = v.len() / w.len();
        for (i, x) in v.into_iter().enumerate() {
            tracker.add(x, w[i / per]);
        }
        Ok(())
    } else {
        Err(mismatch(metric, w.len(), v.len()))
    }
}
