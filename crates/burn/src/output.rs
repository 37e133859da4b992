//! [`ObjectivesOutput`]: a step output carrying what objectives' loss and metrics need, and
//! [`train_loss`]: an objectives loss as the `Tensor<1>` burn's `TrainOutput::new` takes.

use burn::tensor::{ExecutionError, Tensor};
use burn::train::ItemLazy;
use burn::train::metric::{Adaptor, LossInput};
use objectives::{DynTensor, Loss, LossExt};

use crate::error::BurnError;
use crate::input::{LossItem, MetricInput};

/// An objectives loss — any of the 22 Keras losses or one of your own, with its `axis` and
/// reduction — of `y_pred` against `y_true`, weighted by `sample_weight` and masked by `mask` as
/// Keras's `Loss.__call__` does: the one-element `Tensor<1>` that `TrainOutput::new(model,
/// loss.backward(), output)` takes (gradients flow through it on an autodiff device).
///
/// # Errors
/// The loss's own errors (shapes that do not pair, a weight that does not broadcast, each named
/// with the fix), and a loss with reduction `"none"`, whose per-sample values cannot be
/// back-propagated as one number.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use objectives::{MeanSquaredError, MeanSquaredErrorConfig};
///
/// let d = Device::flex().autodiff();
/// let y_true = Tensor::<4>::zeros([2, 7, 3, 3], &d);
/// let y_pred = Tensor::<4>::ones([2, 7, 3, 3], &d).require_grad();
/// // Mean squared error over the 7 channels (axis 1), weighted per position.
/// let mse = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
/// let weights = Tensor::<3>::ones([2, 3, 3], &d);
/// let loss = objectives_burn::train_loss(&mse, y_true, y_pred, Some(weights.into()), None)?;
/// assert_eq!(loss.dims(), [1]);
/// let _grads = loss.backward();
/// # Ok::<(), objectives_burn::BurnError>(())
/// ```
pub fn train_loss(
    loss: &dyn Loss,
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    sample_weight: Option<DynTensor>,
    mask: Option<DynTensor>,
) -> Result<Tensor<1>, BurnError> {
    let value = loss.call_masked(y_true, y_pred, sample_weight, mask)?;
    if value.numel() != 1 {
        return Err(BurnError::Input(format!(
            "`{}` with reduction \"{}\" gives values of shape {:?}; TrainOutput needs one number: use \
             another reduction (\"sum_over_batch_size\", Keras's default)",
            loss.name(),
            loss.reduction(),
            value.shape()
        )));
    }
    Ok(value.into_padded().reshape([1]))
}

/// A training or validation step's output for objectives' metrics and loss: the loss (as
/// [`train_loss`] gives it), targets and predictions of any rank, and the optional sample weight
/// and mask. It implements burn-train's `ItemLazy` and the adaptors of [`MetricInput`],
/// [`LossItem`] and burn's own `LossInput`, so it can be a `TrainStep`'s and an `InferenceStep`'s
/// `Output` directly.
#[derive(Clone, Debug)]
pub struct ObjectivesOutput {
    /// The batch's loss, one element.
    pub loss: Tensor<1>,
    /// The targets.
    pub y_true: DynTensor,
    /// The predictions.
    pub y_pred: DynTensor,
    /// The sample weight, if the step had one.
    pub sample_weight: Option<DynTensor>,
    /// The mask, if the step had one.
    pub mask: Option<DynTensor>,
}

impl ObjectivesOutput {
    /// Computes `loss` on the batch ([`train_loss`]) and keeps what the metrics need.
    ///
    /// # Errors
    /// As [`train_loss`].
    pub fn compute(
        loss: &dyn Loss,
        y_true: impl Into<DynTensor>,
        y_pred: impl Into<DynTensor>,
        sample_weight: Option<DynTensor>,
        mask: Option<DynTensor>,
    ) -> Result<Self, BurnError> {
        let (y_true, y_pred) = (y_true.into(), y_pred.into());
        let value = train_loss(loss, y_true.clone(), y_pred.clone(), sample_weight.clone(), mask.clone())?;
        Ok(Self { loss: value, y_true, y_pred, sample_weight, mask })
    }
}

fn detached(t: DynTensor) -> DynTensor {
    t.map(|t| t.without_autodiff())
}

impl ItemLazy for ObjectivesOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        // As burn's own outputs: the metrics compute where the tensors are; flush the device's
        // queued work and leave the autodiff graph behind.
        self.loss.device().flush()?;
        Ok(Self {
            loss: self.loss.without_autodiff(),
            y_true: detached(self.y_true),
            y_pred: detached(self.y_pred),
            sample_weight: self.sample_weight.map(detached),
            mask: self.mask.map(detached),
        })
    }
}

impl Adaptor<MetricInput> for ObjectivesOutput {
    fn adapt(&self) -> MetricInput {
        MetricInput {
            y_true: self.y_true.clone(),
            y_pred: self.y_pred.clone(),
            sample_weight: self.sample_weight.clone(),
            mask: self.mask.clone(),
        }
    }
}

/// The rows are `y_pred`'s first axis; the weight sum is the sample weight's total broadcast
/// over the rows (a `(B,)` weight sums its entries, a `(B, H, W)` weight every position's).
impl Adaptor<LossItem> for ObjectivesOutput {
    fn adapt(&self) -> LossItem {
        let rows = self.y_pred.shape().first().copied().unwrap_or(1);
        let item = LossItem::new(self.loss.clone(), rows);
        match &self.sample_weight {
            Some(w) => item.with_weight_sum(w.padded().clone().sum()),
            None => item,
        }
    }
}

/// burn's own `LossMetric` reads the same loss (it weighs every batch 1: see [`crate::LearnerLoss`]).
impl Adaptor<LossInput> for ObjectivesOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}
