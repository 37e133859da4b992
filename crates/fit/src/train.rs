//! The epoch loop (Keras's `Model.fit`): [`FitOptions`], [`fit`] on in-memory data and
//! [`fit_loader`] on a burn [`DataLoader`], one optimizer step per batch (or per accumulated
//! batch), the epoch's logs, validation, callbacks and the progress bar.

use std::collections::BTreeMap;

use burn::data::dataloader::DataLoader;
use burn::optim::GradientsParams;

use crate::accumulate::accumulated_step;
use crate::batches::{Batches, LoaderBatches, MemoryBatches, TrainBatches, loader_batches, memory_batches};
use crate::callbacks::{Callback, Context};
use crate::compile::Compiled;
use crate::compile_loss::batch_losses;
use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::evaluate::evaluate_batches;
use crate::history::History;
use crate::model::Model;
use crate::progress::Progress;
use crate::trackers::Trackers;

/// Keras's `validation_freq`: on which epochs `fit` validates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidationFreq {
    /// Every `n`-th epoch, counting from 1 (Keras's int: epochs `n`, `2n`, …; the default is 1).
    Every(usize),
    /// These epochs, counting from 1 (Keras's list: `[1, 2, 10]`).
    Epochs(Vec<usize>),
}

impl Default for ValidationFreq {
    fn default() -> Self {
        Self::Every(1)
    }
}

impl From<usize> for ValidationFreq {
    fn from(n: usize) -> Self {
        Self::Every(n)
    }
}

impl From<Vec<usize>> for ValidationFreq {
    fn from(epochs: Vec<usize>) -> Self {
        Self::Epochs(epochs)
    }
}

impl ValidationFreq {
    /// Whether to validate after epoch `epoch` (0-based, as `fit` counts; Keras's
    /// `_should_eval` compares `epoch + 1`).
    pub fn should_validate(&self, epoch: usize) -> bool {
        let e = epoch + 1;
        match self {
            Self::Every(n) => e.is_multiple_of(*n),
            Self::Epochs(list) => list.contains(&e),
        }
    }
}

/// `fit`'s arguments, with Keras's defaults and meanings (`Model.fit`).
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
    /// Hold out the last samples, before shuffling, for validation (default 0: none). As Keras:
    /// training keeps the first `⌊N·(1 − validation_split)⌋` samples and validation the rest;
    /// ignored when `validation_data` is given (Keras: "`validation_data` will override
    /// `validation_split`").
    pub validation_split: f64,
    /// Keras's `class_weight`: class id → weight, applied to the **training** samples only
    /// (after `validation_split`; validation is not weighted by class), as float32 sample
    /// weights. The class of a sample is the argmax of a target's last axis wider than 1, else
    /// the target rounded half to even; missing classes weigh 1.0. As in Keras: one output only,
    /// and not together with sample weights (see [`crate::class_weight`]).
    pub class_weight: Option<BTreeMap<usize, f64>>,
    /// Samples per validation batch (Keras's `validation_batch_size`; default: `batch_size`).
    pub validation_batch_size: Option<usize>,
    /// On which epochs to validate (Keras's `validation_freq`; default every epoch). Epochs
    /// without validation log no `val_` keys, so a `val_` list in the [`History`] is shorter
    /// than `epochs` ([`History::epochs_of`] says which epochs it has).
    pub validation_freq: ValidationFreq,
    /// Batches per epoch (Keras's `steps_per_epoch`; default: one whole pass). The next epoch
    /// goes on with the same pass over the data; when the pass runs out the epoch ends early and
    /// the next one starts a new pass (Keras: "Your input ran out of data").
    pub steps_per_epoch: Option<usize>,
    /// Validation batches per validation (Keras's `validation_steps`; default: all). Every
    /// validation starts from the first batch.
    pub validation_steps: Option<usize>,
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
            class_weight: None,
            validation_batch_size: None,
            validation_freq: ValidationFreq::default(),
            steps_per_epoch: None,
            validation_steps: None,
            verbose: 1,
            accumulation_steps: 1,
            devices: vec![],
        }
    }
}

impl FitOptions {
    /// Checks the options once, before the first epoch.
    fn check(&self) -> Result<()> {
        let positive = |what: &str, v: usize| {
            if v == 0 { Err(FitError::Config(format!("{what} must be at least 1"))) } else { Ok(()) }
        };
        positive("batch_size", self.batch_size)?;
        positive("accumulation_steps", self.accumulation_steps)?;
        if let Some(b) = self.validation_batch_size {
            positive("validation_batch_size", b)?;
        }
        if let Some(s) = self.steps_per_epoch {
            positive("steps_per_epoch (leave it None for whole passes)", s)?;
        }
        if let Some(s) = self.validation_steps {
            positive("validation_steps (leave it None to validate on every batch)", s)?;
        }
        match &self.validation_freq {
            ValidationFreq::Every(0) => {
                return Err(FitError::Config("validation_freq must be at least 1 (or a list of epochs)".into()));
            }
            ValidationFreq::Epochs(list) if list.contains(&0) => {
                return Err(FitError::Config(format!(
                    "validation_freq lists epochs counted from 1, as Keras does, but has 0: {list:?}"
                )));
            }
            _ => {}
        }
        if self.devices.len() > 1 && self.accumulation_steps > 1 {
            return Err(FitError::Config(
                "accumulation_steps > 1 with several devices is not supported yet; use one of the two".into(),
            ));
        }
        Ok(())
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
/// `validation` is Keras's `validation_data`; with `options.validation_split > 0` (and no
/// `validation`) the last samples of `data` are held out instead, as Keras does. Class weights
/// ([`FitOptions::class_weight`] or [`Dataset::with_class_weight`]) weigh the training samples
/// only.
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
    options.check()?;
    data.validate()?;
    // Keras: validation_data overrides validation_split.
    let (train, split_val) = if options.validation_split > 0.0 && validation.is_none() {
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
        return Err(FitError::Data("no training samples".into()));
    }
    // Class weights become the training samples' weights, after the split (Keras's order).
    let train = train.with_class_weight_applied(options.class_weight.as_ref())?;
    let source = MemoryBatches::new(&train, options.batch_size, options.shuffle, options.seed, options.steps_per_epoch);
    let val_batch = options.validation_batch_size.unwrap_or(options.batch_size);
    let validation_batches = validation.map(|v| move || memory_batches(v, val_batch, options.validation_steps));
    train_loop(model, compiled, source, validation_batches, options, callbacks)
}

/// Trains `model` on batches from a burn [`DataLoader`] (Keras's `fit` on a data set): the
/// loader owns batching and shuffling, so `options.batch_size`, `validation_batch_size`,
/// `shuffle` and `seed` are not used, and a non-zero `validation_split` is an error (as in
/// Keras). `steps_per_epoch` and `validation_steps` have Keras's meaning for a data set of known
/// length: an epoch takes `steps_per_epoch` batches and the next epoch goes on with the same
/// pass until it runs out; every validation starts from the first batch and stops after
/// `validation_steps`. `class_weight` applies to each training batch (one output, no sample
/// weights, as in Keras).
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
    options.check()?;
    if options.validation_split > 0.0 {
        return Err(FitError::Config(
            "validation_split is not supported with a data loader; pass a validation loader instead".into(),
        ));
    }
    if train.num_items() == 0 {
        return Err(FitError::Data("the training data loader has no items".into()));
    }
    let source = LoaderBatches::new(train, options.steps_per_epoch, options.class_weight.as_ref());
    let validation_batches = validation.map(|v| move || loader_batches(v, options.validation_steps));
    train_loop(model, compiled, source, validation_batches, options, callbacks)
}

/// The epoch loop shared by [`fit`] and [`fit_loader`].
fn train_loop<'d, const DI: usize, M: Model<DI>, V: Fn() -> Batches<'d, DI>>(
    model: M,
    compiled: &mut Compiled,
    mut source: impl TrainBatches<DI>,
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
        let steps = source.begin_epoch(epoch);
        // A loader does not say its number of batches: the previous epoch's count is the bar's length.
        let progress =
            Progress::new(epoch, options.epochs, if steps > 0 { steps } else { last_steps }, options.verbose);
        let mut trackers = Trackers::default();
        let mut seen = 0;
        for (step, batch) in std::iter::from_fn(|| source.next_batch()).enumerate() {
            let batch = batch?;
            if batch.is_empty() {
                continue;
            }
            seen += 1;
            trackers.ensure_outputs(compiled, batch.y.len())?;
            // The batch's loss stays on the device: read only when logs are wanted below.
            let total = if options.devices.len() > 1 {
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
        if let Some(v) = validation.as_ref().filter(|_| options.validation_freq.should_validate(epoch)) {
            let (val, val_vectors) = evaluate_batches(&model, compiled, v(), "val_")?;
            logs.extend(val);
            vectors.extend(val_vectors);
        }
        progress.finish(epoch, options.epochs, &logs);
        let mut state = State { lr: compiled.learning_rate, stop: &mut stop, replace: &mut replace };
        notify(callbacks, &model, &history, &mut state, |cb, ctx| cb.on_epoch_end(epoch, &logs, ctx))?;
        compiled.learning_rate = state.lr;
        history.push(epoch, &logs, &vectors);
        if stop {
            break;
        }
    }
    let mut state = State { lr: compiled.learning_rate, stop: &mut stop, replace: &mut replace };
    notify(callbacks, &model, &history, &mut state, |cb, ctx| cb.on_train_end(ctx))?;
    compiled.learning_rate = state.lr;
    Ok((replace.unwrap_or(model), history))
}
