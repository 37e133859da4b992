//! The compiled loss of one batch, as Keras's `CompileLoss`: each output's loss with its own (or
//! the shared) sample weight and mask, and the `loss_weights`-weighted total that is
//! back-propagated.

use objectives::DynTensor;
use objectives::LossExt as _;

use crate::compile::Compiled;
use crate::data::Dataset;
use crate::error::{FitError, Result};

/// Per-batch total loss (tracked) and per-output loss values, as Keras's `CompileLoss`.
pub(crate) fn batch_losses<const DI: usize>(
    compiled: &Compiled,
    preds: &[DynTensor],
    batch: &Dataset<DI>,
) -> Result<(DynTensor, Vec<DynTensor>)> {
    if preds.len() != batch.y.len() {
        return Err(FitError::Data(format!(
            "the model returned {} outputs but the data has {} targets",
            preds.len(),
            batch.y.len()
        )));
    }
    let losses = compiled.resolve(preds.len())?;
    let mut total: Option<DynTensor> = None;
    let mut values = vec![];
    for (i, ((loss, w), (y, p))) in losses.iter().zip(batch.y.iter().zip(preds)).enumerate() {
        let sw = sample_weight(batch, i);
        let l = loss.compute(y, p, sw, mask_of(batch, i))?;
        if l.rank() != 0 {
            return Err(FitError::Config(format!(
                "the loss of output {i} returns shape {:?} (reduction \"{}\"); training needs a scalar loss",
                l.shape(),
                loss.reduction()
            )));
        }
        values.push(l.clone().map(|t| t.detach()));
        let weighted = l.map(|t| t.mul_scalar(*w));
        total = Some(match total {
            None => weighted,
            Some(t) => t.zip_with(weighted, |a, b| a.add(b))?,
        });
    }
    let total = total.ok_or_else(|| FitError::Data("the model returned no outputs".into()))?;
    Ok((total, values))
}

/// The sample weight of output `i`: its own, the one shared by every output, or none.
pub(crate) fn sample_weight<const DI: usize>(batch: &Dataset<DI>, i: usize) -> Option<&DynTensor> {
    match &batch.sample_weight {
        None => None,
        Some(w) if w.len() == 1 => w.first(),
        Some(w) => w.get(i),
    }
}

/// The mask of output `i` (over its per-sample losses): its own, a shared one, or none.
pub(crate) fn mask_of<const DI: usize>(batch: &Dataset<DI>, i: usize) -> Option<&DynTensor> {
    match &batch.mask {
        None => None,
        Some(m) if m.len() == 1 => m.first(),
        Some(m) => m.get(i),
    }
}
