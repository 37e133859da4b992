//! The epoch loop (Keras's `Model.fit`): [`FitOptions`], [`fit`] on in-memory data and
//! [`fit_loader`] on a burn [`DataLoader`], one optimizer step per batch (or per accumulated
//! batch), the epoch's logs, validation, callbacks and the progress bar.

use std::collections::BTreeMap;

use burn::data::dataloader::DataLoader;

use crate::batches::{Batches, LoaderBatches, MemoryBatches, TrainBatches, loader_batches, memory_batches};
use crate::callbacks::{Callback, Context};
use crate::compile::Compiled;
use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::evaluate::evaluate_batches;
use crate::history::History;
use crate::model::Model;
use crate::progress::Progress;
use crate::step::{Split, train_step};
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
    /// which averages micro-batch gradients equally. With [`FitOptions::devices`], each
    /// micro-batch is split over the devices in turn (still the whole batch's step).
    pub accumulation_steps: usize,
    /// Train data-parallel on these devices (default: none, the model's device alone): each
    /// batch is split into one contiguous shard per device (sizes differ by at most one), the
    /// shards run forward and backward concurrently, and the gradients combine exactly through
    /// the loss partials — the same step as one device on the whole batch, for every reduction
    /// (see `step.rs`). The model and the data live on the main device (the first of these,
    /// normally); parameters are updated there and copied to the others each step. Each device
    /// must be an autodiff device (`Device::flex().autodiff()`, a remote one with `.autodiff()`).
    /// One device is used too (all of each batch runs there: a remote worker, say).
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
        if !(0.0..1.0).contains(&self.validation_split) {
            return Err(FitError::Config(format!(
                "validation_split must be in [0, 1) (the fraction of the samples held out), got {}",
                self.validation_split
            )));
        }
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
        Ok(())
    }

    /// How each batch is cut for its step: over the devices when there are any (each
    /// micro-batch in turn when accumulating), else into micro-batches when accumulating, else
    /// whole.
    fn split(&self) -> Split<'_> {
        if !self.devices.is_empty() {
            Split::Devices { devices: &self.devices, micro_batches: self.accumulation_steps }
        } else if self.accumulation_steps > 1 {
            Split::MicroBatches(self.accumulation_steps)
        } else {
            Split::Whole
        }
    }
}

/// The callbacks, and what they may change, in one place: the learning rate (the compiled
/// optimizer's), the stop flag and the model to return.
struct Hooks<'a, 'c, M> {
    callbacks: &'a mut [&'c mut dyn Callback<M>],
    stop: bool,
    replace: Option<M>,
}

impl<M> Hooks<'_, '_, M> {
    /// Whether some callback reads the batch logs.
    fn want_batch_logs(&self) -> bool {
        self.callbacks.iter().any(|c| c.wants_batch_logs())
    }

    /// Calls `f` on every callback, in order, with a [`Context`] over `model`; the learning rate
    /// they leave is the optimizer's from then on (unless one of them fails).
    fn notify(
        &mut self,
        compiled: &mut Compiled,
        model: &M,
        history: &History,
        f: impl Fn(&mut dyn Callback<M>, &mut Context<'_, M>) -> Result<()>,
    ) -> Result<()> {
        let mut lr = compiled.learning_rate;
        for cb in self.callbacks.iter_mut() {
            let mut ctx = Context {
                model,
                learning_rate: &mut lr,
                stop_training: &mut self.stop,
                replace_model: &mut self.replace,
                history,
            };
            f(&mut **cb, &mut ctx)?;
        }
        compiled.learning_rate = lr;
        Ok(())
    }
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
    let split = options.split();
    let mut hooks = Hooks { callbacks, stop: false, replace: None };
    let mut model = model;
    let mut history = History::default();
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
            let (m, total) = train_step(model, compiled, &batch, split, &mut trackers)?;
            model = m;
            let wanted = hooks.want_batch_logs();
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
            hooks.notify(compiled, &model, &history, |cb, ctx| cb.on_batch_end(step, &batch_logs, ctx))?;
            if hooks.stop {
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
        hooks.notify(compiled, &model, &history, |cb, ctx| cb.on_epoch_end(epoch, &logs, ctx))?;
        history.push(epoch, &logs, &vectors);
        if hooks.stop {
            break;
        }
    }
    hooks.notify(compiled, &model, &history, |cb, ctx| cb.on_train_end(ctx))?;
    Ok((hooks.replace.unwrap_or(model), history))
}
