//! [`ObjectivesMetrics`]: objectives' metrics and loss registered on a `SupervisedTraining` for
//! both splits in one call.

use burn::train::metric::Adaptor;
use burn::train::{InferenceStep, LearnerModel, SupervisedTraining, TrainStep};

use crate::input::{LossItem, MetricInput};
use crate::loss_metric::LearnerLoss;
use crate::metric::LearnerMetric;

/// Registers objectives metrics on burn-train's `SupervisedTraining`, for training and
/// validation, as numeric metrics (plotted in the dashboard, logged per epoch).
pub trait ObjectivesMetrics: Sized {
    /// Each metric of `metrics`, for both splits.
    #[must_use]
    fn objectives_metrics(self, metrics: impl IntoIterator<Item = LearnerMetric>) -> Self;

    /// The loss, each batch weighted by its rows (Keras's epoch loss; see [`LearnerLoss`]), for
    /// both splits.
    #[must_use]
    fn objectives_loss(self, loss: LearnerLoss) -> Self;
}

impl<M> ObjectivesMetrics for SupervisedTraining<M>
where
    M: LearnerModel + 'static,
    <M as TrainStep>::Output: Adaptor<MetricInput> + Adaptor<LossItem>,
    <M as InferenceStep>::Output: Adaptor<MetricInput> + Adaptor<LossItem>,
{
    fn objectives_metrics(self, metrics: impl IntoIterator<Item = LearnerMetric>) -> Self {
        metrics.into_iter().fold(self, |t, m| t.metric_train_numeric(m.clone()).metric_valid_numeric(m))
    }

    fn objectives_loss(self, loss: LearnerLoss) -> Self {
        self.metric_train_numeric(loss.clone()).metric_valid_numeric(loss)
    }
}
