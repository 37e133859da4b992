//! Keras's `Model.evaluate`: the loss and metrics of a model over in-memory data ([`evaluate`])
//! or a burn [`DataLoader`] ([`evaluate_loader`]); `fit` uses the same pass for validation.

use std::collections::BTreeMap;

use burn::data::dataloader::DataLoader;
use objectives::DynTensor;

use crate::batches::{Batches, loader_batches, memory_batches};
use crate::compile::Compiled;
use crate::compile_loss::batch_losses;
use crate::data::Dataset;
use crate::error::Result;
use crate::model::Model;
use crate::trackers::{Trackers, VectorLogs};

/// The logs of one pass over `batches` without gradients, each key prefixed with `prefix`.
pub(crate) fn evaluate_batches<const DI: usize, M: Model<DI>>(
    model: &M,
    compiled: &Compiled,
    (_, batches): Batches<'_, DI>,
    prefix: &str,
) -> Result<(BTreeMap<String, f64>, VectorLogs)> {
    let eval_model = model.valid();
    let mut trackers = Trackers::default();
    for batch in batches {
        let batch = batch?;
        if batch.is_empty() {
            continue;
        }
        batch.refuse_class_weight(if prefix.is_empty() { "evaluate's" } else { "validation" })?;
        trackers.ensure_outputs(compiled, batch.y.len())?;
        let preds: Vec<DynTensor> =
            eval_model.forward(batch.x.clone()).into_iter().map(|p| p.map(|t| t.detach())).collect();
        let (total, values) = batch_losses(compiled, &preds, &batch)?;
        trackers.update(compiled, &batch, &preds, &total, &values)?;
    }
    trackers.all_logs(compiled, prefix)
}

/// Keras's `Model.evaluate`: the loss and metrics over `data`, as a map.
///
/// # Errors
/// Data and loss errors.
pub fn evaluate<const DI: usize, M: Model<DI>>(
    model: &M,
    compiled: &Compiled,
    data: &Dataset<DI>,
    batch_size: usize,
) -> Result<BTreeMap<String, f64>> {
    Ok(evaluate_detailed(model, compiled, data, batch_size)?.0)
}

/// [`evaluate`], with the vector-valued metric results (a thresholds list, F1 with
/// `average=None`, per-class IoU, …) beside the scalar logs.
///
/// # Errors
/// Data and loss errors.
pub fn evaluate_detailed<const DI: usize, M: Model<DI>>(
    model: &M,
    compiled: &Compiled,
    data: &Dataset<DI>,
    batch_size: usize,
) -> Result<(BTreeMap<String, f64>, VectorLogs)> {
    data.validate()?;
    evaluate_batches(model, compiled, memory_batches(data, batch_size, None), "")
}

/// [`evaluate`] over the batches of a burn [`DataLoader`].
///
/// # Errors
/// Data and loss errors, or a batch the loader failed to produce.
pub fn evaluate_loader<const DI: usize, M: Model<DI>>(
    model: &M,
    compiled: &Compiled,
    data: &dyn DataLoader<Dataset<DI>>,
) -> Result<BTreeMap<String, f64>> {
    Ok(evaluate_batches(model, compiled, loader_batches(data, None), "")?.0)
}
