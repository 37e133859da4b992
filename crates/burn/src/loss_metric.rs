//! [`LearnerLoss`]: the epoch loss as Keras reports it, for burn-train.

use std::sync::Arc;

use burn::tensor::TensorReadError;
use burn::train::metric::{
    Metric as BurnMetric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry,
};
use objectives::metrics::ExactSum;

use crate::error::{BurnError, read_error};
use crate::input::LossItem;
use crate::metric::format_value;

/// What one batch's loss weighs in the epoch's mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LossWeighting {
    /// Its rows (samples): Keras's epoch loss, `Σ loss_b · rows_b / Σ rows_b` (Keras's loss
    /// tracker is a `Mean` updated with `sample_weight = batch_size`).
    #[default]
    Rows,
    /// The sum of its sample weights: `Σ loss_b · W_b / Σ W_b`, the mean of the weighted
    /// per-sample losses over the epoch when each batch's loss is `Σ w·l / Σ w`
    /// (`mean_with_sample_weight`). A batch without weights weighs its rows.
    SampleWeights,
}

/// The loss as a burn-train metric, each batch weighted by its rows (Keras) or by its sample
/// weights ([`LossWeighting`]).
///
/// burn's own `LossMetric` weighs a batch by `loss.dims()[0]`: a loss reduced to one value
/// weighs 1 whatever the batch size, so a partial last batch counts as much as a full one, and
/// its epoch value is the mean of the batch values. Here a batch of 2 rows weighs 2 and one of 10
/// weighs 10, and the epoch value is exact (exact sums, in any order of batches and devices):
/// the `loss` of objectives-fit's History and Keras's.
///
/// Its name is `loss` (Keras's History key; burn's is `Loss`), or `loss(sample_weights)`.
#[derive(Clone, Debug)]
pub struct LearnerLoss {
    weighting: LossWeighting,
    name: MetricName,
    sum: ExactSum,
    weight: ExactSum,
    batch: Option<f64>,
}

impl Default for LearnerLoss {
    fn default() -> Self {
        Self::new(LossWeighting::Rows)
    }
}

impl LearnerLoss {
    /// The loss metric, batches weighted as `weighting` says.
    pub fn new(weighting: LossWeighting) -> Self {
        let name = match weighting {
            LossWeighting::Rows => "loss",
            LossWeighting::SampleWeights => "loss(sample_weights)",
        };
        Self {
            weighting,
            name: Arc::new(name.into()),
            sum: ExactSum::default(),
            weight: ExactSum::default(),
            batch: None,
        }
    }

    fn value(&self) -> f64 {
        let w = self.weight.value();
        if w == 0.0 { 0.0 } else { self.sum.value() / w }
    }

    fn read(&self, item: &LossItem) -> Result<(f64, f64), BurnError> {
        let data = item.loss.clone().try_into_data().map_err(TensorReadError::from)?;
        let values = data
            .convert::<f64>()
            .try_into_vec::<f64>()
            .map_err(|e| BurnError::Input(format!("the loss could not be read as numbers: {e:?}")))?;
        if values.is_empty() {
            return Err(BurnError::Input("the loss tensor is empty: give the batch's loss, one value".into()));
        }
        // One value (a reduced loss), or per-sample values whose mean is the batch's loss.
        let loss = values.iter().sum::<f64>() / values.len() as f64;
        let weight = match (self.weighting, &item.weight_sum) {
            (LossWeighting::SampleWeights, Some(w)) => w.clone().try_into_scalar::<f64>()?,
            _ => item.rows as f64,
        };
        Ok((loss, weight))
    }
}

impl BurnMetric for LearnerLoss {
    type Input = LossItem;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn description(&self) -> Option<String> {
        Some(match self.weighting {
            LossWeighting::Rows => "the epoch loss as Keras reports it: batches weighted by their rows".into(),
            LossWeighting::SampleWeights => {
                "the epoch loss, batches weighted by the sum of their sample weights".into()
            }
        })
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes { unit: None, higher_is_better: false }.into()
    }

    fn update(&mut self, item: &LossItem, _metadata: &MetricMetadata) -> Result<SerializedEntry, TensorReadError> {
        let (loss, weight) = self.read(item).map_err(|e| read_error(&self.name, e))?;
        // The product rounded once in f64, as every other term: the same terms in any order.
        self.sum.add(loss * weight);
        self.weight.add(weight);
        self.batch = Some(loss);
        Ok(SerializedEntry::new(
            format!("epoch {} - batch {}", format_value(self.value()), format_value(loss)),
            NumericEntry::Value(loss).serialize(),
        ))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        let v = self.value();
        Ok(SerializedEntry::new(format!("epoch {}", format_value(v)), NumericEntry::Final(v).serialize()))
    }

    fn clear(&mut self) {
        self.sum.clear();
        self.weight.clear();
        self.batch = None;
    }
}

impl Numeric for LearnerLoss {
    fn value(&self) -> Option<NumericEntry> {
        self.batch.map(NumericEntry::Value)
    }

    fn running_value(&self) -> Option<NumericEntry> {
        self.batch.map(|_| NumericEntry::Value(self.value()))
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(self.value())
    }
}
