//! Gradient accumulation (`FitOptions::accumulation_steps`): one optimizer step on a batch split
//! into micro-batches, each back-propagating its exact share of the whole batch's loss.

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Tensor;
use objectives::DynTensor;
use objectives::LossExt as _;

use crate::compile::Compiled;
use crate::compile_loss::{mask_of, sample_weight};
use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::model::Model;
use crate::trackers::Trackers;

/// One optimizer step on `batch` split into `k` micro-batches whose gradients are accumulated.
///
/// Pass 1 (no gradients) collects every micro-batch's normalizers per output; pass 2 runs each
/// micro-batch with gradients, back-propagates its exact share `Σ_o w_o · numerator_o / N_o` and
/// accumulates. The summed gradient is the whole batch's, whatever the micro-batch sizes,
/// weights or masks. Returns the model after the step and the batch's total loss.
pub(crate) fn accumulated_step<const DI: usize, M: Model<DI>>(
    model: M,
    compiled: &mut Compiled,
    batch: &Dataset<DI>,
    k: usize,
    trackers: &mut Trackers,
) -> Result<(M, DynTensor)> {
    let n = batch.len();
    let size = n.div_ceil(k).max(1);
    let micro: Vec<Dataset<DI>> =
        (0..n).step_by(size).map(|s| batch.rows(&(s..(s + size).min(n)).collect::<Vec<_>>())).collect::<Result<_>>()?;
    let outputs = batch.y.len();
    let losses_w: Vec<f64> = compiled.resolve(outputs)?.iter().map(|(_, w)| *w).collect();
    // Pass 1: normalizers per output, summed over micro-batches (an all-reduce across devices).
    let eval_model = model.valid();
    let mut totals = vec![0.0; outputs];
    for mb in &micro {
        let preds: Vec<DynTensor> =
            eval_model.forward(mb.x.clone()).into_iter().map(|p| p.map(|t| t.detach())).collect();
        for (o, (loss, _)) in compiled.resolve(outputs)?.iter().enumerate() {
            totals[o] += loss.partial(&mb.y[o], &preds[o], sample_weight(mb, o), mask_of(mb, o))?.normalizer;
        }
    }
    // Pass 2: each micro-batch's exact share of the batch loss, back-propagated and accumulated.
    let mut acc = GradientsAccumulator::<M>::new();
    // Per-output loss of the batch, summed on the device (read back lazily by the trackers).
    let mut per_output: Vec<Option<DynTensor>> = vec![None; outputs];
    let mut all_preds: Vec<Vec<DynTensor>> = vec![vec![]; outputs];
    for mb in &micro {
        let preds = model.forward(mb.x.clone());
        let mut share: Option<DynTensor> = None;
        for (o, (loss, w)) in compiled.resolve(outputs)?.iter().enumerate() {
            let part = loss.partial(&mb.y[o], &preds[o], sample_weight(mb, o), mask_of(mb, o))?;
            let s = part.share(totals[o]);
            let detached = s.clone().map(|t| t.detach());
            per_output[o] = Some(match per_output[o].take() {
                None => detached,
                Some(acc) => acc.zip_with(detached, |a, b| a.add(b))?,
            });
            let s = s.map(|t| t.mul_scalar(*w));
            share = Some(match share {
                None => s,
                Some(acc) => acc.zip_with(s, |a, b| a.add(b))?,
            });
        }
        let share = share.ok_or_else(|| FitError::Data("the model returned no outputs".into()))?;
        let grads = GradientsParams::from_grads(share.into_padded().backward(), &model);
        acc.accumulate(&model, grads);
        for (o, p) in preds.into_iter().enumerate() {
            all_preds[o].push(p.map(|t| t.detach()));
        }
    }
    let per_output: Vec<DynTensor> = per_output
        .into_iter()
        .map(|l| l.ok_or_else(|| FitError::Data("accumulation needs at least one micro-batch".into())))
        .collect::<Result<_>>()?;
    let mut total: Option<DynTensor> = None;
    for (l, w) in per_output.iter().zip(&losses_w) {
        let lw = l.clone().map(|t| t.mul_scalar(*w));
        total = Some(match total {
            None => lw,
            Some(acc) => acc.zip_with(lw, |a, b| a.add(b))?,
        });
    }
    let total = total.ok_or_else(|| FitError::Data("the model returned no outputs".into()))?;
    // Metrics on the whole batch's predictions.
    let preds: Vec<DynTensor> = all_preds.into_iter().map(concat_rows).collect::<Result<_>>()?;
    trackers.update(compiled, batch, &preds, &total, &per_output)?;
    let model = compiled.optimizer.step(compiled.learning_rate, model, acc.grads());
    Ok((model, total))
}

/// Concatenates tensors along axis 0.
pub(crate) fn concat_rows(parts: Vec<DynTensor>) -> Result<DynTensor> {
    let Some(first) = parts.first().filter(|p| p.rank() > 0) else {
        return Err(FitError::Data("accumulation needs outputs with a batch axis".into()));
    };
    let mut shape = first.shape().to_vec();
    shape[0] = parts.iter().map(|p| p.shape()[0]).sum();
    let d = objectives::MAX_RANK - shape.len();
    let cat = Tensor::cat(parts.into_iter().map(DynTensor::into_padded).collect(), d);
    Ok(DynTensor::from_padded_checked(cat, shape)?)
}
