//! The epoch loop (Keras's `Model.fit`): [`FitOptions`], [`fit`] on in-memory data and
//! [`fit_loader`] on a burn [`DataLoader`], one optimizer step per batch (or per accumulated
//! batch), the epoch's logs, validation, callbacks and the progress bar.

use std::collections::BTreeMap;

use burn::data::dataloader::DataLoader;
use burn::optim::GradientsParams;

use crate::accumulate::accumulated_step;
use crate::batches::{Batches, batches, loader_batches, memory_batches};
use crate::callbacks::{Callback, Context};
use crate::compile::Compiled;
use crate::compile_loss::batch_losses;
use crate::data::{Dataset, permutation};
use crate::error::{FitError, Result};
use crate::evaluate::evaluate_batches;
use crate::history::History;
use crate::model::Model;
use crate::progress::Progress;
use crate::trackers::Trackers;

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
    /// Train data-parallel on these devices (default: none, the model's device alone): each
    /// batch is split into one contiguous shard per device (sizes differ by at most one), the
    /// shards run forward and backward concurrently, and the gradients combine exactly through
    /// the loss partials — the same step as one device on the whole batch, for every reduction
    /// (see `parallel.rs`). The model and the data live on the main device (the first of these,
    /// normally); parameters are updated there and copied to the others each step. Each device
    /// must be an autodiff device (`Device::flex().autodiff()`, a remote one with `.autodiff()`).
    pub devices: Vec<burn::tensor::Device>,
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
            devices: vec![],
        }
    }
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
            // The batch's loss stays on the device: read only when logs are wanted below.
            let total = if options.devices.len() > 1 {
                if options.accumulation_steps > 1 {
                    return Err(FitError::Config(
                        "accumulation_steps > 1 with several devices is not supported yet; use one of the two".into(),
                    ));
                }
                let (m, total) =
                    crate::parallel::parallel_step(model, compiled, &batch, &options.devices, &mut trackers)?;
                model = m;
                total
            } else if options.accumulation_steps > 1 {
                let (m, total) = accumulated_step(model, compiled, &batch, options.accumulation_steps, &mut trackers)?;
                model = m;
                total
            } else {
                let preds = model.forward(batch.x.clone());
                let (total, values) = batch_losses(compiled, &preds, &batch)?;
                trackers.update(compiled, &batch, &preds, &total, &values)?;
                let detached = total.clone().map(|t| t.detach());
                let grads = total.into_padded().backward();
                let grads = GradientsParams::from_grads(grads, &model);
                model = compiled.optimizer.step(compiled.learning_rate, model, grads);
                detached
            };
            let wanted = callbacks.iter().any(|c| c.wants_batch_logs());
            let mut batch_logs = BTreeMap::new();
            if wanted || progress.refresh_due(step) {
                let logs = trackers.logs(compiled, "")?;
                progress.show(&logs);
                if wanted {
                    batch_logs = logs;
                    batch_logs.insert("loss".into(), total.to_vec_f64()?.first().copied().unwrap_or(f64::NAN));
                }
            }
            progress.advance();
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
        let (mut logs, mut vectors) = trackers.all_logs(compiled, "")?;
        if let Some(v) = &validation {
            let (val, val_vectors) = evaluate_batches(&model, compiled, v(), "val_")?;
            logs.extend(val);
            vectors.extend(val_vectors);
        }
        progress.finish(epoch, options.epochs, &logs);
        let mut state = State { lr: compiled.learning_rate, stop: &mut stop, replace: &mut replace };
        notify(callbacks, &model, &history, &mut state, |cb, ctx| cb.on_epoch_end(epoch, &logs, ctx))?;
        compiled.learning_rate = state.lr;
        history.push(epoch, &logs);
        history.push_vectors(&vectors);
        if stop {
            break;
        }
    }
    let mut state = State { lr: compiled.learning_rate, stop: &mut stop, replace: &mut replace };
    notify(callbacks, &model, &history, &mut state, |cb, ctx| cb.on_train_end(ctx))?;
    compiled.learning_rate = state.lr;
    Ok((replace.unwrap_or(model), history))
}
