//! Data parallelism (`FitOptions::devices`): one optimizer step on a batch split into one shard
//! per device, every shard's forward and backward running concurrently on its device, the
//! gradients combined **exactly** — the same step as one device on the whole batch, for every
//! reduction, masks, sample weights and `loss_weights` (up to f32 summation order).
//!
//! Each device computes its shard's loss partial per output (`LossExt::partial`: the weighted
//! sum and this shard's share of the normalizer); the normalizers are summed across devices
//! first (one number per output), then every device back-propagates its exact share
//! `Σ_o w_o · numerator_o / N_o`; the gradients are moved to the main device (the model's) and
//! added; the parameters are updated once there and copied to the devices at the next step
//! (`Module::fork`), so no device drifts. Averaging per-device means (PyTorch DDP, burn's
//! `all_reduce` of means) gives a different step as soon as shards differ in size, weights or
//! masked positions; this does not.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor};
use objectives::partial::Partial;
use objectives::{DynTensor, LossExt as _};

use crate::compile::Compiled;
use crate::compile_loss::{mask_of, sample_weight};
use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::model::Model;
use crate::trackers::Trackers;

/// The contiguous row ranges of `n` rows over `k` devices: sizes differ by at most one (the
/// first `n mod k` shards have one row more); a device with no rows gets none.
pub(crate) fn shard_bounds(n: usize, k: usize) -> Vec<(usize, usize)> {
    let (base, extra) = (n / k, n % k);
    let mut out = Vec::with_capacity(k);
    let mut start = 0;
    for i in 0..k {
        let len = base + usize::from(i < extra);
        if len > 0 {
            out.push((start, start + len));
        }
        start += len;
    }
    out
}

/// What a device hands back after its backward pass: its gradients (moved to the main device),
/// its share of each output's loss and its predictions (detached, on the main device).
type ShardResult = (GradientsParams, Vec<DynTensor>, Vec<DynTensor>);

/// A shard's state between the two phases: its model replica and batch on its device, its
/// predictions and its partials per output (tracked for gradients).
struct Shard<M> {
    replica: M,
    preds: Vec<DynTensor>,
    partials: Vec<Partial>,
}

/// One data-parallel optimizer step of `batch` over `devices`; returns the model after the step
/// and the batch's total loss (on the main device).
pub(crate) fn parallel_step<const DI: usize, M: Model<DI>>(
    model: M,
    compiled: &mut Compiled,
    batch: &Dataset<DI>,
    devices: &[Device],
    trackers: &mut Trackers,
) -> Result<(M, DynTensor)> {
    let main = batch.x.device();
    // Parameters not initialized yet (burn initializes them lazily, at first use) are
    // initialized here by one forward pass on the main device, in the order one device would
    // initialize them: the replicas then start from exactly the single-device weights.
    let model = if any_uninitialized(&model) {
        let _ = model.forward(batch.x.clone());
        model
    } else {
        model
    };
    let outputs = batch.y.len();
    let resolved = compiled.resolve(outputs)?;
    let weights: Vec<f64> = resolved.iter().map(|(_, w)| *w).collect();
    let bounds = shard_bounds(batch.len(), devices.len());
    let shards: Vec<(Device, Dataset<DI>)> = bounds
        .iter()
        .zip(devices)
        .map(|(&(a, b), d)| Ok((d.clone(), batch.rows(&(a..b).collect::<Vec<_>>())?.to_device(d))))
        .collect::<Result<_>>()?;

    // Phase 1, concurrently: forward and partials on every device.
    let phase1: Vec<Result<Shard<M>>> = std::thread::scope(|s| {
        let handles: Vec<_> = shards
            .iter()
            .map(|(d, data)| {
                let replica = model.clone().fork(d);
                let resolved = &resolved;
                s.spawn(move || -> Result<Shard<M>> {
                    let preds = replica.forward(data.x.clone());
                    if preds.len() != outputs {
                        return Err(FitError::Data(format!(
                            "the model returned {} outputs but the data has {outputs} targets",
                            preds.len()
                        )));
                    }
                    let partials = resolved
                        .iter()
                        .enumerate()
                        .map(|(o, (loss, _))| {
                            loss.partial(&data.y[o], &preds[o], sample_weight(data, o), mask_of(data, o))
                                .map_err(FitError::from)
                        })
                        .collect::<Result<Vec<_>>>()?;
                    Ok(Shard { replica, preds, partials })
                })
            })
            .collect();
        handles.into_iter().zip(devices).map(|(h, d)| h.join().unwrap_or_else(|_| Err(panicked(d)))).collect()
    });
    let shards_done: Vec<Shard<M>> = phase1.into_iter().collect::<Result<_>>()?;

    // The normalizers, summed across devices first: one number per output.
    let totals: Vec<f64> = (0..outputs).map(|o| shards_done.iter().map(|s| s.partials[o].normalizer).sum()).collect();

    // Phase 2, concurrently: every device back-propagates its exact share; gradients go to the
    // main device.
    let phase2: Vec<Result<ShardResult>> = std::thread::scope(|s| {
        let handles: Vec<_> = shards_done
            .into_iter()
            .map(|shard| {
                let (totals, weights, main) = (&totals, &weights, &main);
                s.spawn(move || {
                    let mut share: Option<DynTensor> = None;
                    let mut per_output = vec![];
                    for (o, part) in shard.partials.iter().enumerate() {
                        let sh = part.share(totals[o]);
                        per_output.push(sh.clone().map(|t| t.detach().to_device(main)));
                        let sh = sh.map(|t| t.mul_scalar(weights[o]));
                        share = Some(match share {
                            None => sh,
                            Some(acc) => acc.zip_with(sh, |a, b| a.add(b))?,
                        });
                    }
                    let share = share.ok_or_else(|| FitError::Data("the model returned no outputs".into()))?;
                    let grads = GradientsParams::from_grads(share.into_padded().backward(), &shard.replica)
                        .to_device(main, &shard.replica);
                    let preds = shard.preds.into_iter().map(|p| p.map(|t| t.detach().to_device(main))).collect();
                    Ok((grads, per_output, preds))
                })
            })
            .collect();
        handles.into_iter().zip(devices).map(|(h, d)| h.join().unwrap_or_else(|_| Err(panicked(d)))).collect()
    });

    let mut acc = GradientsAccumulator::<M>::new();
    let mut per_output: Vec<Option<DynTensor>> = vec![None; outputs];
    let mut all_preds: Vec<Vec<DynTensor>> = vec![vec![]; outputs];
    for r in phase2 {
        let (grads, losses, preds) = r?;
        acc.accumulate(&model, grads);
        for (o, l) in losses.into_iter().enumerate() {
            per_output[o] = Some(match per_output[o].take() {
                None => l,
                Some(a) => a.zip_with(l, |a, b| a.add(b))?,
            });
        }
        for (o, p) in preds.into_iter().enumerate() {
            all_preds[o].push(p);
        }
    }
    let per_output: Vec<DynTensor> = per_output
        .into_iter()
        .map(|l| l.ok_or_else(|| FitError::Data("a data-parallel step needs at least one row".into())))
        .collect::<Result<_>>()?;
    let mut total: Option<DynTensor> = None;
    for (l, w) in per_output.iter().zip(&weights) {
        let lw = l.clone().map(|t| t.mul_scalar(*w));
        total = Some(match total {
            None => lw,
            Some(a) => a.zip_with(lw, |a, b| a.add(b))?,
        });
    }
    let total = total.ok_or_else(|| FitError::Data("the model returned no outputs".into()))?;
    // Metrics and the reported loss see the whole batch, on the main device: the History equals
    // single-device training.
    let preds: Vec<DynTensor> = all_preds.into_iter().map(crate::accumulate::concat_rows).collect::<Result<_>>()?;
    trackers.update(compiled, batch, &preds, &total, &per_output)?;
    let model = compiled.optimizer.step(compiled.learning_rate, model, acc.grads());
    Ok((model, total))
}

/// Whether some float parameter of `model` is not initialized yet.
fn any_uninitialized<M: Module>(model: &M) -> bool {
    struct Check(bool);
    impl ModuleVisitor for Check {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0 |= !param.is_initialized();
        }
    }
    let mut c = Check(false);
    model.visit(&mut c);
    c.0
}

/// The error of a device whose thread panicked (a remote worker that went away panics in burn's
/// client): names the device.
fn panicked(device: &Device) -> FitError {
    FitError::Data(format!(
        "the step on device {device:?} failed (a worker that stopped or a lost connection; burn's message is above); \
         the step was not applied"
    ))
}

#[cfg(test)]
mod tests {
    use super::shard_bounds;

    #[test]
    fn shards_are_contiguous_and_uneven_by_at_most_one() {
        assert_eq!(shard_bounds(10, 3), vec![(0, 4), (4, 7), (7, 10)]);
        assert_eq!(shard_bounds(2, 3), vec![(0, 1), (1, 2)]);
        assert_eq!(shard_bounds(6, 2), vec![(0, 3), (3, 6)]);
    }
}
