//! One optimizer step on one batch (Keras's `train_step`), however the batch is cut: whole, in
//! micro-batches (`FitOptions::accumulation_steps`) or in one shard per device
//! (`FitOptions::devices`), or both: each micro-batch sharded over the devices. [`Split`] says
//! how; [`train_step`] is the one sequence for all of them:
//!
//! 1. the batch is cut into parts, each on the device where it runs;
//! 2. each part runs forward and reduces its loss to one partial per output (`LossExt::partial`:
//!    the weighted sum and this part's share of the normalizer);
//! 3. the normalizers are summed over the parts: one number per output (an all-reduce across
//!    devices);
//! 4. each part back-propagates its exact share `Σ_o w_o · numerator_o / N_o`;
//! 5. the gradients are summed on the main device (the model's): the whole batch's gradient,
//!    whatever the part sizes, weights or masked positions (up to f32 summation order);
//! 6. the trackers see the whole batch: its loss, per-output losses and predictions, so the
//!    History is the one of an unsplit step;
//! 7. the optimizer takes one step.
//!
//! The strategies differ only in where the parts run and when their normalizers are known. A
//! whole batch is one part whose normalizers are its own: it back-propagates the compiled batch
//! loss as it is (steps 2–4 are Keras's `CompileLoss`, one forward and one backward). Micro-batches
//! run one after another on the model's device, after a gradient-free pass that collects their
//! normalizers, so that one micro-batch's graph is alive at a time. Shards run concurrently, one
//! thread per device, and sum their normalizers between the forward and the backward passes; the
//! parameters are updated once on the main device and copied to the devices at the next step
//! (`Module::fork`), so no device drifts. Micro-batches over devices combine the two: every
//! micro-batch's normalizers first (a forward pass on the devices whose graph is dropped at once),
//! then one micro-batch after another, each sharded over the devices.
//!
//! Averaging per-part means (PyTorch DDP, burn's
//! `all_reduce` of means, Keras's gradient accumulation) gives a different step as soon as parts
//! differ in size, weights or masked positions; this does not.

use std::borrow::Cow;

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor};
use objectives::partial::Partial;
use objectives::{DynTensor, Loss, LossExt as _};

use crate::compile::Compiled;
use crate::compile_loss::{add_all, batch_losses, check_outputs, mask_of, sample_weight, weighted_sum};
use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::model::Model;
use crate::parallel::{initialized, on_devices, shard_bounds};
use crate::trackers::Trackers;

/// How a batch is cut into parts, and where each part runs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Split<'a> {
    /// The batch in one piece, on the model's device.
    Whole,
    /// This many micro-batches of `⌈n / k⌉` rows (the last one shorter), one after another on the
    /// model's device.
    MicroBatches(usize),
    /// One contiguous shard per device (sizes differ by at most one), all at once; the model and
    /// the batch live on the main device. With `micro_batches > 1`, the batch is first cut as
    /// [`Split::MicroBatches`] and each micro-batch is sharded over the devices in turn.
    Devices { devices: &'a [Device], micro_batches: usize },
}

/// One part of a batch: its rows, on the device where it runs.
struct Part<'b, const DI: usize> {
    /// On the model's device, or (split over devices) on the device of the part's replica.
    data: Cow<'b, Dataset<DI>>,
}

impl Split<'_> {
    /// The parts of `batch`, in groups that run together: one group per micro-batch (the whole
    /// batch is one), each with one part per device it is sharded over.
    fn cut<'b, const DI: usize>(self, batch: &'b Dataset<DI>) -> Result<Vec<Vec<Part<'b, DI>>>> {
        let n = batch.len();
        let micro = |k: usize| {
            let size = n.div_ceil(k).max(1);
            (0..n).step_by(size).map(|s| (s, (s + size).min(n))).collect::<Vec<_>>()
        };
        let part = |(a, b): (usize, usize), device: Option<&Device>| -> Result<Part<'b, DI>> {
            let rows = batch.rows(&(a..b).collect::<Vec<_>>())?;
            Ok(Part {
                data: Cow::Owned(match device {
                    Some(d) => rows.to_device(d),
                    None => rows,
                }),
            })
        };
        match self {
            Self::Whole => Ok(vec![vec![Part { data: Cow::Borrowed(batch) }]]),
            Self::MicroBatches(k) => micro(k).into_iter().map(|r| Ok(vec![part(r, None)?])).collect(),
            Self::Devices { devices, micro_batches } => micro(micro_batches.max(1))
                .into_iter()
                .map(|(a, b)| {
                    shard_bounds(b - a, devices.len())
                        .into_iter()
                        .zip(devices)
                        .map(|((s, e), d)| part((a + s, a + e), Some(d)))
                        .collect()
                })
                .collect(),
        }
    }
}

/// A part's loss after its forward pass, tracked for gradients.
enum PartLoss {
    /// The compiled loss of the whole batch (total and detached per-output values), back-propagated
    /// as it is.
    Batch { total: Box<DynTensor>, values: Vec<DynTensor> },
    /// One partial per output: the part's share is known once the normalizers are summed.
    Partials(Vec<Partial>),
}

/// A part after its forward pass: its predictions and its loss.
struct Forwarded {
    preds: Vec<DynTensor>,
    loss: PartLoss,
}

/// What a part hands back after its backward pass, on the main device.
struct Done {
    grads: GradientsParams,
    /// Per output: the part's loss (its share of the batch's), detached.
    losses: Vec<DynTensor>,
    /// The batch's total loss, detached, when the part back-propagated it as it is.
    total: Option<DynTensor>,
    /// The part's predictions, detached.
    preds: Vec<DynTensor>,
}

/// One optimizer step on `batch`, cut as `split` says; returns the model after the step and the
/// batch's total loss (on the main device, read back only when logs are wanted).
pub(crate) fn train_step<const DI: usize, M: Model<DI>>(
    model: M,
    compiled: &mut Compiled,
    batch: &Dataset<DI>,
    split: Split<'_>,
    trackers: &mut Trackers,
) -> Result<(M, DynTensor)> {
    let model = match split {
        Split::Devices { .. } => initialized(model, batch),
        _ => model,
    };
    let outputs = batch.y.len();
    // The whole batch resolves its losses after the forward pass (`batch_losses`).
    let losses = match split {
        Split::Whole => vec![],
        _ => compiled.resolve(outputs)?,
    };
    let weights: Vec<f64> = losses.iter().map(|(_, w)| *w).collect();
    let groups = split.cut(batch)?;
    let done: Vec<Done> = match split {
        // One part, the batch itself: its normalizers are its own, so it back-propagates the
        // compiled batch loss (no partials).
        Split::Whole => groups
            .iter()
            .flatten()
            .map(|p| backward(&model, forward_whole(&model, compiled, &p.data)?, &[], &[], None))
            .collect::<Result<_>>()?,
        Split::MicroBatches(_) => {
            // The normalizers first, without gradients; then one micro-batch's graph at a time.
            let eval_model = model.valid();
            let normalizers = groups
                .iter()
                .flatten()
                .map(|p| {
                    let preds = eval_model.forward(p.data.x.clone()).into_iter().map(detach).collect::<Vec<_>>();
                    Ok(partials(&losses, &p.data, &preds)?.iter().map(|q| q.normalizer).collect())
                })
                .collect::<Result<Vec<Vec<f64>>>>()?;
            let totals = summed(&normalizers, outputs);
            groups
                .iter()
                .flatten()
                .map(|p| backward(&model, forward(&model, &p.data, &losses)?, &totals, &weights, None))
                .collect::<Result<_>>()?
        }
        Split::Devices { devices, .. } => {
            // The model copied to each device once per step (`fork`), all at once. Per group:
            // every shard's forward pass at once; the normalizers summed across devices; then
            // every shard's backward pass at once, its results moved to the main device.
            let main = batch.x.device();
            let copies: Vec<_> = devices.iter().map(|d| (model.clone(), d.clone())).collect();
            let replicas = on_devices(copies, devices, |(m, d)| Ok(m.fork(&d)))?;
            // Several micro-batches: the normalizers of all of them first (forward passes whose
            // graphs are dropped at once), so that one micro-batch's graphs are alive at a time.
            let known = if groups.len() > 1 {
                let mut normalizers = vec![];
                for group in &groups {
                    let items: Vec<_> = replicas.iter().cloned().zip(group).collect();
                    normalizers.extend(on_devices(items, devices, |(replica, part)| {
                        Ok(normalizers_of(&forward(&replica, &part.data, &losses)?))
                    })?);
                }
                Some(summed(&normalizers, outputs))
            } else {
                None
            };
            let mut done = Vec::new();
            for group in groups {
                let items: Vec<_> = replicas.iter().cloned().zip(group).collect();
                let forwarded = on_devices(items, devices, |(replica, part)| {
                    let f = forward(&replica, &part.data, &losses)?;
                    Ok((replica, f))
                })?;
                let totals = known.clone().unwrap_or_else(|| {
                    summed(&forwarded.iter().map(|(_, f)| normalizers_of(f)).collect::<Vec<_>>(), outputs)
                });
                done.extend(on_devices(forwarded, devices, |(replica, f)| {
                    backward(&replica, f, &totals, &weights, Some(&main))
                })?);
            }
            done
        }
    };
    let (grads, total, per_output, preds) = combine(&model, done, &weights, outputs)?;
    trackers.update(compiled, batch, &preds, &total, &per_output)?;
    let model = compiled.optimizer.step(compiled.learning_rate, model, grads);
    Ok((model, total))
}

/// The whole batch's forward pass and its compiled loss (Keras's `CompileLoss`), tracked for
/// gradients.
fn forward_whole<const DI: usize, M: Model<DI>>(
    model: &M,
    compiled: &Compiled,
    data: &Dataset<DI>,
) -> Result<Forwarded> {
    let preds = model.forward(data.x.clone());
    let (total, values) = batch_losses(compiled, &preds, data)?;
    Ok(Forwarded { preds, loss: PartLoss::Batch { total: Box::new(total), values } })
}

/// A part's forward pass and its partials, tracked for gradients.
fn forward<const DI: usize, M: Model<DI>>(
    model: &M,
    data: &Dataset<DI>,
    losses: &[(&dyn Loss, f64)],
) -> Result<Forwarded> {
    let preds = model.forward(data.x.clone());
    let partials = partials(losses, data, &preds)?;
    Ok(Forwarded { preds, loss: PartLoss::Partials(partials) })
}

/// Each output's loss partial of `data` with predictions `preds`.
fn partials<const DI: usize>(
    losses: &[(&dyn Loss, f64)],
    data: &Dataset<DI>,
    preds: &[DynTensor],
) -> Result<Vec<Partial>> {
    check_outputs(preds.len(), data.y.len())?;
    losses
        .iter()
        .enumerate()
        .map(|(o, (loss, _))| Ok(loss.partial(&data.y[o], &preds[o], sample_weight(data, o), mask_of(data, o))?))
        .collect()
}

/// A part's normalizer per output (none for a part that is the whole batch).
fn normalizers_of(f: &Forwarded) -> Vec<f64> {
    match &f.loss {
        PartLoss::Partials(partials) => partials.iter().map(|p| p.normalizer).collect(),
        PartLoss::Batch { .. } => vec![],
    }
}

/// Each output's normalizer summed over the parts, in part order.
fn summed(normalizers: &[Vec<f64>], outputs: usize) -> Vec<f64> {
    (0..outputs).map(|o| normalizers.iter().map(|n| n[o]).sum()).collect()
}

/// A part's backward pass: the batch loss when the part is the whole batch, else its exact share
/// of the batch loss given the summed normalizers `totals`. With `main`, what it hands back is
/// moved there.
fn backward<M: Module>(
    model: &M,
    f: Forwarded,
    totals: &[f64],
    weights: &[f64],
    main: Option<&Device>,
) -> Result<Done> {
    let home = |t: DynTensor| {
        t.map(|t| match main {
            Some(d) => t.detach().to_device(d),
            None => t.detach(),
        })
    };
    let (loss, losses, total) = match f.loss {
        PartLoss::Batch { total, values } => {
            let detached = detach((*total).clone());
            (*total, values, Some(detached))
        }
        PartLoss::Partials(partials) => {
            let shares: Vec<DynTensor> = partials.iter().zip(totals).map(|(p, n)| p.share(*n)).collect();
            let losses = shares.iter().cloned().map(home).collect();
            (weighted_sum(shares, weights.iter().copied())?, losses, None)
        }
    };
    let mut grads = GradientsParams::from_grads(loss.into_padded().backward(), model);
    if let Some(d) = main {
        grads = grads.to_device(d, model);
    }
    let preds = f.preds.into_iter().map(home).collect();
    Ok(Done { grads, losses, total, preds })
}

/// The parts' results combined on the main device: the summed gradients, the batch's total and
/// per-output losses, and its predictions.
fn combine<M: Module>(
    model: &M,
    done: Vec<Done>,
    weights: &[f64],
    outputs: usize,
) -> Result<(GradientsParams, DynTensor, Vec<DynTensor>, Vec<DynTensor>)> {
    let whole_total = if done.len() == 1 { done[0].total.clone() } else { None };
    let mut grads = Vec::with_capacity(done.len());
    let mut losses: Vec<Vec<DynTensor>> = vec![vec![]; outputs];
    let mut preds: Vec<Vec<DynTensor>> = vec![vec![]; outputs];
    for d in done {
        grads.push(d.grads);
        for (o, l) in d.losses.into_iter().enumerate() {
            losses[o].push(l);
        }
        for (o, p) in d.preds.into_iter().enumerate() {
            preds[o].push(p);
        }
    }
    let per_output: Vec<DynTensor> = losses
        .into_iter()
        .map(|l| add_all(l)?.ok_or_else(|| FitError::Data("a training step needs at least one row".into())))
        .collect::<Result<_>>()?;
    let total = match whole_total {
        Some(total) => total,
        None => weighted_sum(per_output.iter().cloned(), weights.iter().copied())?,
    };
    let preds = preds.into_iter().map(concat_rows).collect::<Result<_>>()?;
    Ok((sum_grads(model, grads), total, per_output, preds))
}

/// The gradients of the parts, added per parameter (one part's as they are).
fn sum_grads<M: Module>(model: &M, mut grads: Vec<GradientsParams>) -> GradientsParams {
    if grads.len() == 1
        && let Some(g) = grads.pop()
    {
        return g;
    }
    let mut acc = GradientsAccumulator::<M>::new();
    for g in grads {
        acc.accumulate(model, g);
    }
    acc.grads()
}

/// The parts' predictions of one output, concatenated along axis 0 (one part's as it is).
fn concat_rows(mut parts: Vec<DynTensor>) -> Result<DynTensor> {
    if parts.len() == 1
        && let Some(p) = parts.pop()
    {
        return Ok(p);
    }
    let Some(first) = parts.first().filter(|p| p.rank() > 0) else {
        return Err(FitError::Data("splitting a batch needs outputs with a batch axis".into()));
    };
    let mut shape = first.shape().to_vec();
    shape[0] = parts.iter().map(|p| p.shape()[0]).sum();
    let d = objectives::MAX_RANK - shape.len();
    let cat = Tensor::cat(parts.into_iter().map(DynTensor::into_padded).collect(), d);
    Ok(DynTensor::from_padded_checked(cat, shape)?)
}

/// `t`, cut from the autodiff graph.
fn detach(t: DynTensor) -> DynTensor {
    t.map(|t| t.detach())
}
