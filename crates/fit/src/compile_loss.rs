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
    check_outputs(preds.len(), batch.y.len())?;
    let losses = compiled.resolve(preds.len())?;
    let mut tracked = vec![];
    let mut values = vec![];
    for (i, ((loss, _), (y, p))) in losses.iter().zip(batch.y.iter().zip(preds)).enumerate() {
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
        tracked.push(l);
    }
    let total = weighted_sum(tracked, losses.iter().map(|(_, w)| *w))?;
    Ok((total, values))
}

/// An error unless the model returned one output per target.
pub(crate) fn check_outputs(preds: usize, targets: usize) -> Result<()> {
    if preds == targets {
        return Ok(());
    }
    Err(FitError::Data(format!("the model returned {preds} outputs but the data has {targets} targets")))
}

/// `t₀ + t₁ + t₂ + …`, added in this order (`None` for no terms).
///
/// # Errors
/// Terms of different shapes.
pub(crate) fn add_all(terms: impl IntoIterator<Item = DynTensor>) -> Result<Option<DynTensor>> {
    let mut sum: Option<DynTensor> = None;
    for t in terms {
        sum = Some(match sum {
            None => t,
            Some(acc) => acc.zip_with(t, |a, b| a.add(b))?,
        });
    }
    Ok(sum)
}

/// The total loss `Σ_o w_o · L_o` of per-output losses and their `loss_weights`, in output order.
///
/// # Errors
/// No outputs, or losses of different shapes.
pub(crate) fn weighted_sum(
    losses: impl IntoIterator<Item = DynTensor>,
    weights: impl IntoIterator<Item = f64>,
) -> Result<DynTensor> {
    add_all(losses.into_iter().zip(weights).map(|(l, w)| l.map(|t| t.mul_scalar(w))))?
        .ok_or_else(|| FitError::Data("the model returned no outputs".into()))
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
