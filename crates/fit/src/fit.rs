//! The training loop: `fit`, `evaluate`, `predict`.

use std::collections::BTreeMap;

use burn::data::dataloader::DataLoader;
use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Tensor;
use objectives::DynTensor;
use objectives::LossExt as _;

use crate::callbacks::{Callback, Context};
use crate::compile::Compiled;
use crate::data::{Dataset, permutation};
use crate::error::{FitError, Result};
use crate::history::History;
use crate::metrics::{MeanTracker, update};
use crate::progress::Progress;

/// A burn module with a forward function from a batch of inputs to its outputs (one tensor per
/// output, in the order the losses were compiled).
pub trait Model<const DI: usize>: Module + Clone {
    /// The outputs for a batch `x`.
    fn forward(&self, x: Tensor<DI>) -> Vec<DynTensor>;
}

/// `fit`'s arguments, with Keras's defaults.
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// Samples per gradient step (default 32).
    pub batch_size: usize,
    /// Train until this epoch (default 1).
    pub epochs: usize,
    /// Start counting epochs here (default 0).
    pub initial_epoch: usize,
    /// Shuffle the training samples every epoch (default `true`).
    pub shuffle: bool,
    /// Seed of the shuffles (epoch `e` uses `seed + e`).
    pub seed: u64,
    /// The last fraction of the samples, before shuffling, used for validation (default 0).
    pub validation_split: f64,
    /// 0 silent, 1 progress bar, 2 one line per epoch (default 1).
    pub verbose: u8,
    /// Split each batch into this many micro-batches and accumulate their gradients before one
    /// optimizer step (default 1: no accumulation). The micro-batches' losses are combined with
    /// exact split/merge partials, so a step equals the step on the whole batch — unlike Keras,
    /// which averages micro-batch gradients equally.
    pub accumulation_steps: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            batch_size: 32,
            epochs: 1,
            initial_epoch: 0,
            shuffle: true,
            seed: 0,
            validation_split: 0.0,
            verbose: 1,
            accumulation_steps: 1,
        }
    }
}

/// Per-batch total loss (tracked) and per-output loss values, as Keras's `CompileLoss`.
fn batch_losses<const DI: usize>(
    compiled: &Compiled,
    preds: &[DynTensor],
    batch: &Dataset<DI>,
) -> Result<(DynTensor, Vec<f64>)> {
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
        values.push(l.to_vec_f64()?.first().copied().unwrap_or(f64::NAN));
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
fn sample_weight<const DI: usize>(batch: &Dataset<DI>, i: usize) -> Option<&DynTensor> {
    match &batch.sample_weight {
        None => None,
        Some(w) if w.len() == 1 => w.first(),
        Some(w) => w.get(i),
    }
}

/// The mask of output `i` (over its per-sample losses): its own, a shared one, or none.
fn mask_of<const DI: usize>(batch: &Dataset<DI>, i: usize) -> Option<&DynTensor> {
    match &batch.mask {
        None => None,
        Some(m) if m.len() == 1 => m.first(),
        Some(m) => m.get(i),
    }
}

/// Epoch-level trackers: total and per-output losses (batch-size weighted), and metrics.
#[derive(Default)]
struct Trackers {
    loss: MeanTracker,
    outputs: Vec<MeanTracker>,
    metrics: Vec<Vec<MeanTracker>>,
    weighted: Vec<Vec<MeanTracker>>,
}

impl Trackers {
    fn new(compiled: &Compiled, outputs: usize) -> Self {
        let mut t = Self::default();
        t.outputs = vec![MeanTracker::default(); outputs];
        t.metrics = vec![vec![MeanTracker::default(); compiled.metrics.len()]; outputs];
        t.weighted = vec![vec![MeanTracker::default(); compiled.weighted_metrics.len()]; outputs];
        t
    }

    /// Sizes the per-output trackers on the first batch; later batches must have as many outputs.
    fn ensure_outputs(&mut self, compiled: &Compiled, outputs: usize) -> Result<()> {
        if self.outputs.is_empty() {
            *self = Self::new(compiled, outputs);
        } else if self.outputs.len() != outputs {
            return Err(FitError::Data(format!(
                "a batch has {outputs} targets but earlier batches had {}",
                self.outputs.len()
            )));
        }
        Ok(())
    }

    fn update<const DI: usize>(
        &mut self,
        compiled: &Compiled,
        batch: &Dataset<DI>,
        preds: &[DynTensor],
        total: f64,
        values: &[f64],
    ) -> Result<()> {
        let n = batch.len() as f64;
        self.loss.add(total, n);
        for (t, v) in self.outputs.iter_mut().zip(values) {
            t.add(*v, n);
        }
        for (i, (y, p)) in batch.y.iter().zip(preds).enumerate() {
            // Metrics take the mask as a 0/1 weight (Keras's `MeanMetricWrapper`); weighted
            // metrics multiply it with the sample weight.
            let mask = mask_of(batch, i).map(|m| {
                m.clone().map(|t| {
                    let dtype = t.dtype();
                    t.not_equal_elem(0.0).float().cast(dtype)
                })
            });
            for (m, t) in compiled.metrics.iter().zip(&mut self.metrics[i]) {
                update(m, t, y, p, mask.as_ref())?;
            }
            let weight = match (sample_weight(batch, i), &mask) {
                (Some(w), Some(m)) => {
                    let (m, w) = objectives::shape::align_weight("sample_weight", m.clone(), w.clone())?;
                    Some(
                        w.broadcast_mul(m)
                            .ok_or_else(|| FitError::Data("sample_weight and mask do not broadcast".into()))?,
                    )
                }
                (w, m) => w.cloned().or_else(|| m.clone()),
            };
            for (m, t) in compiled.weighted_metrics.iter().zip(&mut self.weighted[i]) {
                update(m, t, y, p, weight.as_ref())?;
            }
        }
        Ok(())
    }

    fn logs(&self, compiled: &Compiled, prefix: &str) -> BTreeMap<String, f64> {
        let mut logs = BTreeMap::new();
        logs.insert(format!("{prefix}loss"), self.loss.result());
        let multi = self.outputs.len() > 1;
        for (i, t) in self.outputs.iter().enumerate() {
            if multi {
                logs.insert(format!("{prefix}{}_loss", compiled.output_name(i)), t.result());
            }
            let name = |m: &str, w: bool| {
                let m = if w { format!("weighted_{m}") } else { m.to_string() };
                if multi { format!("{prefix}{}_{m}", compiled.output_name(i)) } else { format!("{prefix}{m}") }
            };
            for (m, t) in compiled.metrics.iter().zip(&self.metrics[i]) {
                logs.insert(name(m.name(), false), t.result());
            }
            for (m, t) in compiled.weighted_metrics.iter().zip(&self.weighted[i]) {
                logs.insert(name(m.name(), true), t.result());
            }
        }
        logs
    }
}

/// One optimizer step on `batch` split into `k` micro-batches whose gradients are accumulated.
///
/// Pass 1 (no gradients) collects every micro-batch's normalizers per output; pass 2 runs each
/// micro-batch with gradients, back-propagates its exact share `Σ_o w_o · numerator_o / N_o` and
/// accumulates. The summed gradient is the whole batch's, whatever the micro-batch sizes,
/// weights or masks. Returns the model after the step and the batch's total loss.
fn accumulated_step<const DI: usize, M: Model<DI>>(
    model: M,
    compiled: &mut Compiled,
    batch: &Dataset<DI>,
    k: usize,
    trackers: &mut Trackers,
) -> Result<(M, f64)> {
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
    let mut per_output = vec![0.0; outputs];
    let mut all_preds: Vec<Vec<DynTensor>> = vec![vec![]; outputs];
    for mb in &micro {
        let preds = model.forward(mb.x.clone());
        let mut share: Option<DynTensor> = None;
        for (o, (loss, w)) in compiled.resolve(outputs)?.iter().enumerate() {
            let part = loss.partial(&mb.y[o], &preds[o], sample_weight(mb, o), mask_of(mb, o))?;
            let s = part.share(totals[o]);
            per_output[o] += s.to_vec_f64()?.first().copied().unwrap_or(f64::NAN);
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
    let total: f64 = per_output.iter().zip(&losses_w).map(|(l, w)| l * w).sum();
    // Metrics on the whole batch's predictions.
    let preds: Vec<DynTensor> = all_preds.into_iter().map(concat_rows).collect::<Result<_>>()?;
    trackers.update(compiled, batch, &preds, total, &per_output)?;
    let model = compiled.optimizer.step(compiled.learning_rate, model, acc.grads());
    Ok((model, total))
}

/// Concatenates tensors along axis 0.
fn concat_rows(parts: Vec<DynTensor>) -> Result<DynTensor> {
    let Some(first) = parts.first().filter(|p| p.rank() > 0) else {
        return Err(FitError::Data("accumulation needs outputs with a batch axis".into()));
    };
    let mut shape = first.shape().to_vec();
    shape[0] = parts.iter().map(|p| p.shape()[0]).sum();
    let d = objectives::MAX_RANK - shape.len();
    let cat = Tensor::cat(parts.into_iter().map(DynTensor::into_padded).collect(), d);
    Ok(DynTensor::from_padded_checked(cat, shape)?)
}

/// What callbacks may change: the learning rate, the stop flag, the model to return.
struct State<'a, M> {
    lr: f64,
    stop: &'a mut bool,
    replace: &'a mut Option<M>,
}

/// Calls `f` on every callback with a [`Context`] over the current model and state.
fn notify<M>(
    callbacks: &mut [&mut dyn Callback<M>],
    model: &M,
    history: &History,
    state: &mut State<'_, M>,
    f: impl Fn(&mut dyn Callback<M>, &mut Context<'_, M>) -> Result<()>,
) -> Result<()> {
    for cb in callbacks.iter_mut() {
        let mut ctx = Context {
            model,
            learning_rate: &mut state.lr,
            stop_training: state.stop,
            replace_model: state.replace,
            history,
        };
        f(&mut **cb, &mut ctx)?;
    }
    Ok(())
}

fn batches(batch_size: usize, order: &[usize]) -> Vec<Vec<usize>> {
    order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}

/// Trains `model` on `data` (Keras's `Model.fit`), returning the trained model and its history.
///
/// `validation` is Keras's `validation_data`; with `options.validation_split > 0` the last
/// fraction of `data` is held out instead (giving both is an error, as in Keras).
///
/// # Errors
/// Data, loss and configuration errors, or a callback's error.
pub fn fit<const DI: usize, M: Model<DI>>(
    model: M,
    compiled: &mut Compiled,
    data: &Dataset<DI>,
    validation: Option<&Dataset<DI>>,
    options: &FitOptions,
    callbacks: &mut [&mut dyn Callback<M>],
) -> Result<(M, History)> {
    data.validate()?;
    if options.batch_size == 0 {
        return Err(FitError::Config("batch_size must be at least 1".into()));
    }
    let (train, split_val) = if options.validation_split > 0.0 {
        if validation.is_some() {
            return Err(FitError::Config("give validation_data or validation_split, not both".into()));
        }
        let (t, v) = data.split(options.validation_split)?;
        (t, Some(v))
    } else {
        (data.clone(), None)
    };
    let validation = validation.or(split_val.as_ref());
    if let Some(v) = validation {
        v.validate()?;
    }
    if train.is_empty() {
        return Err(FitError::Data("no training samples (check validation_split)".into()));
    }
    let n = train.len();
    let epoch_batches = |epoch: usize| -> Batches<'_, DI> {
        let order =
            if options.shuffle { permutation(n, options.seed.wrapping_add(epoch as u64)) } else { (0..n).collect() };
        let steps = batches(options.batch_size, &order);
        let train = &train;
        (steps.len(), Box::new(steps.into_iter().map(move |rows| train.rows(&rows))))
    };
    let validation_batches = validation.map(|v| move || memory_batches(v, options.batch_size));
    train_loop(model, compiled, epoch_batches, validation_batches, options, callbacks)
}

/// Trains `model` on batches from a burn [`DataLoader`] (Keras's `fit` on a `tf.data.Dataset`):
/// the loader owns batching and shuffling, so `options.batch_size`, `shuffle`, `seed` and
/// `validation_split` are not used (a non-zero `validation_split` is an error, as in Keras).
///
/// The loader's batcher builds each batch as a [`Dataset`] (inputs, targets, optional sample
/// weights and masks); everything else — losses, metrics, accumulation, callbacks — is as in
/// [`fit`], and with the same batches the two give the same model and history.
///
/// # Errors
/// As [`fit`], plus [`FitError::Data`] for a batch the loader failed to produce.
pub fn fit_loader<const DI: usize, M: Model<DI>>(
    model: M,
    compiled: &mut Compiled,
    train: &dyn DataLoader<Dataset<DI>>,
    validation: Option<&dyn DataLoader<Dataset<DI>>>,
    options: &FitOptions,
    callbacks: &mut [&mut dyn Callback<M>],
) -> Result<(M, History)> {
    if options.validation_split > 0.0 {
        return Err(FitError::Config(
            "validation_split is not supported with a data loader; pass a validation loader instead".into(),
        ));
    }
    if train.num_items() == 0 {
        return Err(FitError::Data("the training data loader has no items".into()));
    }
    let epoch_batches = |_epoch: usize| -> Batches<'_, DI> { loader_batches(train) };
    let validation_batches = validation.map(|v| move || loader_batches(v));
    train_loop(model, compiled, epoch_batches, validation_batches, options, callbacks)
}

/// One pass's batches and, when known in advance, how many (0 = unknown).
type Batches<'a, const DI: usize> = (usize, Box<dyn Iterator<Item = Result<Dataset<DI>>> + 'a>);

fn memory_batches<const DI: usize>(data: &Dataset<DI>, batch_size: usize) -> Batches<'_, DI> {
    let order: Vec<usize> = (0..data.len()).collect();
    let steps = batches(batch_size.max(1), &order);
    (steps.len(), Box::new(steps.into_iter().map(move |rows| data.rows(&rows))))
}

fn loader_batches<const DI: usize>(loader: &dyn DataLoader<Dataset<DI>>) -> Batches<'_, DI> {
    let batches = loader.iter().map(|b| {
        let b = b.map_err(|e| FitError::Data(format!("the data loader failed to produce a batch: {e}")))?;
        b.validate()?;
        Ok(b)
    });
    (0, Box::new(batches))
}

/// The epoch loop shared by [`fit`] and [`fit_loader`].
fn train_loop<'d, const DI: usize, M: Model<DI>, V: Fn() -> Batches<'d, DI>>(
    model: M,
    compiled: &mut Compiled,
    epoch_batches: impl Fn(usize) -> Batches<'d, DI>,
    validation: Option<V>,
    options: &FitOptions,
    callbacks: &mut [&mut dyn Callback<M>],
) -> Result<(M, History)> {
    let mut model = model;
    let mut history = History::default();
    let mut stop = false;
    let mut replace: Option<M> = None;
    let mut last_steps = 0;
    for epoch in options.initial_epoch..options.epochs {
        let (steps, batches) = epoch_batches(epoch);
        // A loader does not say its number of batches: the previous epoch's count is the bar's length.
        let progress =
            Progress::new(epoch, options.epochs, if steps > 0 { steps } else { last_steps }, options.verbose);
        let mut trackers = Trackers::default();
        let mut seen = 0;
        for (step, batch) in batches.enumerate() {
            let batch = batch?;
            if batch.is_empty() {
                continue;
            }
            seen += 1;
            trackers.ensure_outputs(compiled, batch.y.len())?;
            let total_value = if options.accumulation_steps > 1 {
                let (m, total_value) =
                    accumulated_step(model, compiled, &batch, options.accumulation_steps, &mut trackers)?;
                model = m;
                total_value
            } else {
                let preds = model.forward(batch.x.clone());
                let (total, values) = batch_losses(compiled, &preds, &batch)?;
                let total_value = total.to_vec_f64()?.first().copied().unwrap_or(f64::NAN);
                trackers.update(compiled, &batch, &preds, total_value, &values)?;
                let grads = total.into_padded().backward();
                let grads = GradientsParams::from_grads(grads, &model);
                model = compiled.optimizer.step(compiled.learning_rate, model, grads);
                total_value
            };
            let logs = trackers.logs(compiled, "");
            progress.step(&logs);
            let mut batch_logs = logs.clone();
            batch_logs.insert("loss".into(), total_value);
            let mut state = State { lr: compiled.learning_rate, stop: &mut stop, replace: &mut replace };
            notify(callbacks, &model, &history, &mut state, |cb, ctx| cb.on_batch_end(step, &batch_logs, ctx))?;
            compiled.learning_rate = state.lr;
            if stop {
                break;
            }
        }
        if seen == 0 {
            return Err(FitError::Data(format!("epoch {} had no training batches", epoch + 1)));
        }
        last_steps = seen;
        let mut logs = trackers.logs(compiled, "");
        if let Some(v) = &validation {
            logs.extend(evaluate_batches(&model, compiled, v(), "val_")?);
        }
        progress.finish(epoch, options.epochs, &logs);
        let mut state = State { lr: compiled.learning_rate, stop: &mut stop, replace: &mut replace };
        notify(callbacks, &model, &history, &mut state, |cb, ctx| cb.on_epoch_end(epoch, &logs, ctx))?;
        compiled.learning_rate = state.lr;
        history.push(epoch, &logs);
        if stop {
            break;
        }
    }
    let mut state = State { lr: compiled.learning_rate, stop: &mut stop, replace: &mut replace };
    notify(callbacks, &model, &history, &mut state, |cb, ctx| cb.on_train_end(ctx))?;
    compiled.learning_rate = state.lr;
    Ok((replace.unwrap_or(model), history))
}

fn evaluate_batches<const DI: usize, M: Model<DI>>(
    model: &M,
    compiled: &Compiled,
    (_, batches): Batches<'_, DI>,
    prefix: &str,
) -> Result<BTreeMap<String, f64>> {
    let eval_model = model.valid();
    let mut trackers = Trackers::default();
    for batch in batches {
        let batch = batch?;
        if batch.is_empty() {
            continue;
        }
        trackers.ensure_outputs(compiled, batch.y.len())?;
        let preds: Vec<DynTensor> =
            eval_model.forward(batch.x.clone()).into_iter().map(|p| p.map(|t| t.detach())).collect();
        let (total, values) = batch_losses(compiled, &preds, &batch)?;
        let total_value = total.to_vec_f64()?.first().copied().unwrap_or(f64::NAN);
        trackers.update(compiled, &batch, &preds, total_value, &values)?;
    }
    Ok(trackers.logs(compiled, prefix))
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
    data.validate()?;
    evaluate_batches(model, compiled, memory_batches(data, batch_size), "")
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
    evaluate_batches(model, compiled, loader_batches(data), "")
}

/// Keras's `Model.predict`: the outputs for `x`, computed in batches and concatenated.
///
/// # Errors
/// [`FitError::Data`] if the model returns no output.
pub fn predict<const DI: usize, M: Model<DI>>(model: &M, x: &Tensor<DI>, batch_size: usize) -> Result<Vec<DynTensor>> {
    let eval_model = model.valid();
    let n = x.dims()[0];
    let mut parts: Vec<Vec<Tensor<{ objectives::MAX_RANK }>>> = vec![];
    let mut shapes: Vec<Vec<usize>> = vec![];
    let mut start = 0;
    while start < n {
        let len = batch_size.max(1).min(n - start);
        let outs = eval_model.forward(x.clone().narrow(0, start, len));
        for (i, o) in outs.into_iter().enumerate() {
            if parts.len() <= i {
                parts.push(vec![]);
                shapes.push(o.shape().to_vec());
            }
            parts[i].push(o.into_padded().detach());
        }
        start += len;
    }
    if parts.is_empty() {
        return Err(FitError::Data("predict: the model returned no outputs (or x is empty)".into()));
    }
    parts
        .into_iter()
        .zip(shapes)
        .map(|(p, mut shape)| {
            shape[0] = n;
            let d = objectives::MAX_RANK - shape.len();
            Ok(DynTensor::from_padded_checked(Tensor::cat(p, d), shape)?)
        })
        .collect()
}
