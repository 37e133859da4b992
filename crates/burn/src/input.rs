//! What objectives' metrics read from a training or validation step: [`MetricInput`] (targets,
//! predictions, optional sample weight and mask) and [`LossItem`] (the batch's loss and how much
//! it weighs), with burn-train's [`Adaptor`]s for its own outputs ([`ClassificationOutput`],
//! [`MultiLabelClassificationOutput`], [`RegressionOutput`], [`SequenceOutput`]).
//!
//! A step output of your own provides them by implementing `Adaptor<MetricInput>` (and
//! `Adaptor<LossItem>` for [`crate::LearnerLoss`]), or is [`crate::ObjectivesOutput`], which has
//! both.

use burn::tensor::{Int, Tensor};
use burn::train::metric::Adaptor;
use burn::train::{ClassificationOutput, MultiLabelClassificationOutput, RegressionOutput, SequenceOutput};
use objectives::DynTensor;

/// One batch for an objectives metric: `y_true`, `y_pred` (any rank, as the metric expects
/// them — Keras's shapes), an optional `sample_weight` and an optional `mask`.
///
/// The weights apply as in Keras's `compile`: a [`crate::LearnerMetric`] (Keras's `metrics=`)
/// takes only the mask, and only where the metric uses masks (the mean-metric family); a
/// [`crate::LearnerMetric::weighted`] one (Keras's `weighted_metrics=`) takes the sample weight
/// times the mask.
#[derive(Clone, Debug)]
pub struct MetricInput {
    /// The targets.
    pub y_true: DynTensor,
    /// The predictions.
    pub y_pred: DynTensor,
    /// Per-sample (or per-position) weights, broadcast as Keras does.
    pub sample_weight: Option<DynTensor>,
    /// A mask over the outputs (any non-zero value counts as valid), as Keras's `_keras_mask`.
    pub mask: Option<DynTensor>,
}

impl MetricInput {
    /// Targets and predictions, without weights or mask.
    pub fn new(y_true: impl Into<DynTensor>, y_pred: impl Into<DynTensor>) -> Self {
        Self { y_true: y_true.into(), y_pred: y_pred.into(), sample_weight: None, mask: None }
    }

    /// With a sample weight.
    #[must_use]
    pub fn with_sample_weight(mut self, sample_weight: impl Into<DynTensor>) -> Self {
        self.sample_weight = Some(sample_weight.into());
        self
    }

    /// With a mask.
    #[must_use]
    pub fn with_mask(mut self, mask: impl Into<DynTensor>) -> Self {
        self.mask = Some(mask.into());
        self
    }

    /// The number of rows (samples) in the batch: `y_pred`'s first axis (1 for a scalar).
    pub fn rows(&self) -> usize {
        self.y_pred.shape().first().copied().unwrap_or(1)
    }
}

/// One batch for [`crate::LearnerLoss`]: the loss of the batch (a one-element tensor, what
/// `TrainOutput::new` takes) and its rows and, when the step had them, the sum of its sample
/// weights.
#[derive(Clone, Debug)]
pub struct LossItem {
    /// The batch's loss, one element.
    pub loss: Tensor<1>,
    /// The batch's rows (samples).
    pub rows: usize,
    /// The sum of the batch's sample weights, when the step weighted its samples.
    pub weight_sum: Option<Tensor<1>>,
}

impl LossItem {
    /// The loss of a batch of `rows` samples.
    pub fn new(loss: Tensor<1>, rows: usize) -> Self {
        Self { loss, rows, weight_sum: None }
    }

    /// With the sum of the batch's sample weights (for [`crate::LossWeighting::SampleWeights`]).
    #[must_use]
    pub fn with_weight_sum(mut self, weight_sum: Tensor<1>) -> Self {
        self.weight_sum = Some(weight_sum);
        self
    }
}

fn labels<const D: usize>(t: &Tensor<D, Int>) -> DynTensor {
    t.clone().float().into()
}

/// Targets are the class ids (`Sparse*` metrics, `MeanIoU` with `sparse_y_pred: false` after an
/// argmax of your own); predictions are `output` as the model returned it (logits in burn's
/// convention: metrics that read probabilities, such as `AUC` or the crossentropies, want a
/// softmax first, which an output of your own can apply).
impl Adaptor<MetricInput> for ClassificationOutput {
    fn adapt(&self) -> MetricInput {
        MetricInput {
            y_true: labels(&self.targets),
            y_pred: self.output.clone().into(),
            sample_weight: None,
            mask: None,
        }
    }
}

/// Targets are the 0/1 label matrix (as floats); predictions are `output`.
impl Adaptor<MetricInput> for MultiLabelClassificationOutput {
    fn adapt(&self) -> MetricInput {
        MetricInput {
            y_true: labels(&self.targets),
            y_pred: self.output.clone().into(),
            sample_weight: None,
            mask: None,
        }
    }
}

impl Adaptor<MetricInput> for RegressionOutput {
    fn adapt(&self) -> MetricInput {
        MetricInput::new(self.targets.clone(), self.output.clone())
    }
}

/// Targets are the token ids `(batch, seq_len)`; predictions the logits `(batch, seq_len, vocab)`.
impl Adaptor<MetricInput> for SequenceOutput {
    fn adapt(&self) -> MetricInput {
        MetricInput {
            y_true: labels(&self.targets),
            y_pred: self.logits.clone().into(),
            sample_weight: None,
            mask: None,
        }
    }
}

impl Adaptor<LossItem> for ClassificationOutput {
    fn adapt(&self) -> LossItem {
        LossItem::new(self.loss.clone(), self.output.dims()[0])
    }
}

impl Adaptor<LossItem> for MultiLabelClassificationOutput {
    fn adapt(&self) -> LossItem {
        LossItem::new(self.loss.clone(), self.output.dims()[0])
    }
}

impl Adaptor<LossItem> for RegressionOutput {
    fn adapt(&self) -> LossItem {
        LossItem::new(self.loss.clone(), self.output.dims()[0])
    }
}

impl Adaptor<LossItem> for SequenceOutput {
    fn adapt(&self) -> LossItem {
        LossItem::new(self.loss.clone(), self.logits.dims()[0])
    }
}
