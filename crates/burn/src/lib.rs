//! objectives inside burn's own training stack (burn-train): every objectives metric as a
//! burn-train metric, Keras's epoch loss, and objectives losses in a `TrainStep`.
//!
//! The two integration points:
//!
//! 1. **The loss, in your `TrainStep`**: [`train_loss`] (or [`ObjectivesOutput::compute`]) turns
//!    any objectives loss — with its `axis`, reduction, sample weights and mask — into the
//!    one-element `Tensor<1>` that `TrainOutput::new(model, loss.backward(), output)` takes.
//! 2. **The metrics, in burn-train's `Learner`**: [`LearnerMetric`] wraps any of the 45 Keras
//!    metric classes (by object or by Keras JSON) as a burn-train `Metric` + `Numeric`, and
//!    [`LearnerLoss`] reports the epoch loss as Keras does. They read a [`MetricInput`] /
//!    [`LossItem`], which burn's `ClassificationOutput`, `MultiLabelClassificationOutput`,
//!    `RegressionOutput`, `SequenceOutput` and [`ObjectivesOutput`] provide; an output struct of
//!    your own implements `Adaptor<MetricInput>`. [`ObjectivesMetrics`] registers them for both
//!    splits, and [`EpochLogger`] hands the epoch values back as a Keras History.
//!
//! Epoch values come from the metric's merged state (exact sums), so they are Keras's numbers
//! and objectives-fit's, and the same on one device as on several.
//!
//! ```no_run
//! use objectives::metrics::{MetricClass, confusion::Auc};
//! use objectives_burn::{LearnerLoss, LearnerMetric, ObjectivesMetrics};
//! # fn f<M: burn::train::LearnerModel>(training: burn::train::SupervisedTraining<M>) -> Result<(), Box<dyn std::error::Error>>
//! # where <M as burn::train::TrainStep>::Output: burn::train::metric::Adaptor<objectives_burn::MetricInput> + burn::train::metric::Adaptor<objectives_burn::LossItem>,
//! #       <M as burn::train::InferenceStep>::Output: burn::train::metric::Adaptor<objectives_burn::MetricInput> + burn::train::metric::Adaptor<objectives_burn::LossItem> {
//! let training = training
//!     .objectives_loss(LearnerLoss::default())
//!     .objectives_metrics([
//!         LearnerMetric::new(Auc::default().metric()?),
//!         LearnerMetric::from_keras_json(r#"{"class_name": "MeanIoU", "config": {"num_classes": 3}}"#)?,
//!     ]);
//! # Ok(()) }
//! ```

mod error;
mod history;
mod input;
mod loss_metric;
mod metric;
mod output;
mod register;

pub use error::BurnError;
pub use history::{EpochLogger, EpochValues};
pub use input::{LossItem, MetricInput};
pub use loss_metric::{LearnerLoss, LossWeighting};
pub use metric::LearnerMetric;
pub use output::{ObjectivesOutput, train_loss};
pub use register::ObjectivesMetrics;
