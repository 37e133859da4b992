//! Callbacks: [`EarlyStopping`], [`ModelCheckpoint`] (written atomically), [`CsvLogger`],
//! [`ReduceLROnPlateau`], [`TerminateOnNaN`], and the [`Callback`] trait for your own.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::module::Module;

use crate::error::{FitError, Result};
use crate::history::{History, write_atomically};

/// What a callback may read and change at the end of a batch or epoch.
pub struct Context<'a, M> {
    /// The model being trained.
    pub model: &'a M,
    /// The optimizer's learning rate (callbacks may change it).
    pub learning_rate: &'a mut f64,
    /// Set to `true` to stop after this batch or epoch.
    pub stop_training: &'a mut bool,
    /// Set to replace the model when training ends (e.g. with the best weights).
    pub replace_model: &'a mut Option<M>,
    /// The history so far.
    pub history: &'a History,
}

/// A hook into [`crate::fit`]. Every method has a default that does nothing.
pub trait Callback<M> {
    /// Whether [`Callback::on_batch_end`] reads its logs. Batch logs are read back from the
    /// device, which on a GPU waits for the step to finish: `fit` builds them only when a
    /// callback says it wants them (and then `on_batch_end` gets the running logs with the batch
    /// `loss`); otherwise `on_batch_end` gets empty logs and the step does not wait. The default
    /// is `true`; a callback that ignores batch logs should return `false`.
    fn wants_batch_logs(&self) -> bool {
        true
    }

    /// After each training batch, with the running logs (empty unless some callback
    /// [wants them](Callback::wants_batch_logs)).
    ///
    /// # Errors
    /// Any error stops training and is returned by `fit`.
    fn on_batch_end(&mut self, _step: usize, _logs: &BTreeMap<String, f64>, _ctx: &mut Context<'_, M>) -> Result<()> {
        Ok(())
    }

    /// After each epoch (validation included), with the epoch's logs.
    ///
    /// # Errors
    /// Any error stops training and is returned by `fit`.
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &BTreeMap<String, f64>, _ctx: &mut Context<'_, M>) -> Result<()> {
        Ok(())
    }

    /// When training ends.
    ///
    /// # Errors
    /// Returned by `fit`.
    fn on_train_end(&mut self, _ctx: &mut Context<'_, M>) -> Result<()> {
        Ok(())
    }
}

/// Whether a smaller or a larger monitored value is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `min` for losses, `max` for accuracies (Keras's `auto`).
    Auto,
    /// Smaller is better.
    Min,
    /// Larger is better.
    Max,
}

/// Tracks the best value of a monitored quantity.
#[derive(Clone, Debug)]
struct Monitor {
    key: String,
    min_delta: f64,
    mode: Mode,
    best: Option<f64>,
}

impl Monitor {
    fn new(key: &str, min_delta: f64, mode: Mode) -> Self {
        Self { key: key.to_string(), min_delta: min_delta.abs(), mode, best: None }
    }

    fn maximize(&self) -> bool {
        match self.mode {
            Mode::Max => true,
            Mode::Min => false,
            Mode::Auto => self.key.contains("acc"),
        }
    }

    /// The monitored value; `None` for a `val_` key on an epoch that did not validate
    /// (`validation_freq`), which Keras's callbacks skip; an error naming the keys that exist
    /// for a key that is not logged at all.
    fn value(&self, logs: &BTreeMap<String, f64>) -> Result<Option<f64>> {
        if let Some(v) = logs.get(&self.key) {
            return Ok(Some(*v));
        }
        if self.key.starts_with("val_") && !logs.keys().any(|k| k.starts_with("val_")) {
            return Ok(None);
        }
        Err(FitError::Config(format!(
            "monitor `{}` is not logged; available: {}",
            self.key,
            logs.keys().cloned().collect::<Vec<_>>().join(", ")
        )))
    }

    /// Records `v`; `true` if it improves on the best by more than `min_delta`.
    fn improved(&mut self, v: f64) -> bool {
        let better = match self.best {
            None => true,
            Some(b) if self.maximize() => v > b + self.min_delta,
            Some(b) => v < b - self.min_delta,
        };
        if better {
            self.best = Some(v);
        }
        better
    }
}

/// Stops training when `monitor` has not improved for `patience` epochs (Keras's
/// `EarlyStopping`), optionally restoring the best epoch's weights.
#[derive(Clone, Debug)]
pub struct EarlyStopping<M> {
    monitor: Monitor,
    patience: usize,
    restore_best_weights: bool,
    wait: usize,
    best_model: Option<M>,
    /// The epoch at which training was stopped, if it was.
    pub stopped_epoch: Option<usize>,
}

impl<M> EarlyStopping<M> {
    /// Watches `monitor` (e.g. `"val_loss"`) with `patience` 0, `min_delta` 0, mode `auto`.
    pub fn new(monitor: &str) -> Self {
        Self {
            monitor: Monitor::new(monitor, 0.0, Mode::Auto),
            patience: 0,
            restore_best_weights: false,
            wait: 0,
            best_model: None,
            stopped_epoch: None,
        }
    }

    /// Epochs without improvement before stopping.
    #[must_use]
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// The smallest change that counts as an improvement.
    #[must_use]
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.monitor.min_delta = min_delta.abs();
        self
    }

    /// `Min`, `Max` or `Auto`.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.monitor.mode = mode;
        self
    }

    /// Restore the weights of the best epoch when stopping (or at the end of training).
    #[must_use]
    pub fn restore_best_weights(mut self, yes: bool) -> Self {
        self.restore_best_weights = yes;
        self
    }
}

impl<M: Clone> Callback<M> for EarlyStopping<M> {
    fn wants_batch_logs(&self) -> bool {
        false
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &BTreeMap<String, f64>, ctx: &mut Context<'_, M>) -> Result<()> {
        // Keras 3's rule: count, reset on improvement, stop once `wait >= patience` (not at epoch 0).
        let Some(v) = self.monitor.value(logs)? else { return Ok(()) };
        self.wait += 1;
        if self.monitor.improved(v) {
            self.wait = 0;
            if self.restore_best_weights {
                self.best_model = Some(ctx.model.clone());
            }
        } else if self.wait >= self.patience && epoch > 0 {
            *ctx.stop_training = true;
            self.stopped_epoch = Some(epoch);
        }
        Ok(())
    }

    fn on_train_end(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        if self.restore_best_weights
            && let Some(best) = self.best_model.take()
        {
            *ctx.replace_model = Some(best);
        }
        Ok(())
    }
}

/// Stops training as soon as a batch's loss is NaN or infinite.
#[derive(Clone, Debug, Default)]
pub struct TerminateOnNaN {
    /// The step at which a non-finite loss was seen, if any.
    pub terminated_at: Option<usize>,
}

impl<M> Callback<M> for TerminateOnNaN {
    fn on_batch_end(&mut self, step: usize, logs: &BTreeMap<String, f64>, ctx: &mut Context<'_, M>) -> Result<()> {
        if logs.get("loss").is_some_and(|l| !l.is_finite()) {
            *ctx.stop_training = true;
            self.terminated_at = Some(step);
        }
        Ok(())
    }
}

/// Writes the history as CSV after every epoch (atomically: the file is always complete).
#[derive(Clone, Debug)]
pub struct CsvLogger {
    path: PathBuf,
}

impl CsvLogger {
    /// Logs to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl<M> Callback<M> for CsvLogger {
    fn wants_batch_logs(&self) -> bool {
        false
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &BTreeMap<String, f64>, ctx: &mut Context<'_, M>) -> Result<()> {
        let mut h = ctx.history.clone();
        h.push(epoch, logs, &BTreeMap::new());
        h.write_csv(&self.path)
    }
}

/// Saves the model's parameters (burnpack) after each epoch, or only when `monitor` improves;
/// written to a temporary file and renamed, so a crash never leaves a torn checkpoint.
#[derive(Clone, Debug)]
pub struct ModelCheckpoint {
    path: PathBuf,
    monitor: Monitor,
    save_best_only: bool,
    /// Epochs at which a checkpoint was written.
    pub saved: Vec<usize>,
}

impl ModelCheckpoint {
    /// Saves to `path`, watching `monitor` (used with [`ModelCheckpoint::save_best_only`]).
    pub fn new(path: impl Into<PathBuf>, monitor: &str) -> Self {
        Self {
            path: path.into(),
            monitor: Monitor::new(monitor, 0.0, Mode::Auto),
            save_best_only: false,
            saved: vec![],
        }
    }

    /// Only save when the monitored value improves.
    #[must_use]
    pub fn save_best_only(mut self, yes: bool) -> Self {
        self.save_best_only = yes;
        self
    }
}

impl<M: Module + Clone> Callback<M> for ModelCheckpoint {
    fn wants_batch_logs(&self) -> bool {
        false
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &BTreeMap<String, f64>, ctx: &mut Context<'_, M>) -> Result<()> {
        if self.save_best_only {
            // Keras skips saving when the monitored value is missing (an epoch without validation).
            let Some(v) = self.monitor.value(logs)? else { return Ok(()) };
            if !self.monitor.improved(v) {
                return Ok(());
            }
        }
        write_atomically(&self.path, &checkpoint_bytes(ctx.model, &self.path)?)?;
        self.saved.push(epoch);
        Ok(())
    }
}

/// The model's parameters as burnpack bytes.
fn checkpoint_bytes<M: Module + Clone>(model: &M, path: &std::path::Path) -> Result<burn::tensor::Bytes> {
    model.clone().into_record().into_bytes().map_err(|e| FitError::Io(format!("{}: {e:?}", path.display())))
}

/// Multiplies the learning rate by `factor` when `monitor` has not improved for `patience`
/// epochs (Keras's `ReduceLROnPlateau`).
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    monitor: Monitor,
    factor: f64,
    patience: usize,
    min_lr: f64,
    cooldown: usize,
    wait: usize,
    cooling: usize,
}

impl ReduceLROnPlateau {
    /// Keras's defaults: factor 0.1, patience 10, min_delta 1e-4, cooldown 0, min_lr 0.
    pub fn new(monitor: &str) -> Self {
        Self {
            monitor: Monitor::new(monitor, 1e-4, Mode::Auto),
            factor: 0.1,
            patience: 10,
            min_lr: 0.0,
            cooldown: 0,
            wait: 0,
            cooling: 0,
        }
    }

    /// The factor applied to the learning rate (in (0, 1)).
    #[must_use]
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Epochs without improvement before reducing.
    #[must_use]
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// The learning rate is never reduced below this.
    #[must_use]
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// Epochs to wait after a reduction before counting again.
    #[must_use]
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }
}

impl<M> Callback<M> for ReduceLROnPlateau {
    fn wants_batch_logs(&self) -> bool {
        false
    }

    fn on_epoch_end(&mut self, _epoch: usize, logs: &BTreeMap<String, f64>, ctx: &mut Context<'_, M>) -> Result<()> {
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(FitError::Config(format!("ReduceLROnPlateau factor must be in (0, 1), got {}", self.factor)));
        }
        let Some(v) = self.monitor.value(logs)? else { return Ok(()) };
        if self.cooling > 0 {
            self.cooling -= 1;
            self.wait = 0;
        }
        if self.monitor.improved(v) {
            self.wait = 0;
        } else if self.cooling == 0 {
            self.wait += 1;
            if self.wait >= self.patience && *ctx.learning_rate > self.min_lr {
                *ctx.learning_rate = (*ctx.learning_rate * self.factor).max(self.min_lr);
                self.cooling = self.cooldown;
                self.wait = 0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::io::Write;

    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::store::ModuleRecord;
    use burn::tensor::Device;

    use super::*;
    use objectives::atomic::write_atomically_with;

    const CHILD: &str = "OBJECTIVES_CRASH_CHILD_PATH";

    fn weights(m: &Linear) -> Vec<f32> {
        m.weight.val().into_data().try_to_vec::<f32>().unwrap()
    }

    /// A process killed half-way through writing a checkpoint leaves the previous checkpoint whole.
    #[test]
    fn a_crash_mid_write_leaves_the_previous_checkpoint_intact() {
        let device = Device::flex();
        if let Ok(path) = std::env::var(CHILD) {
            // The child: start writing a new checkpoint over the old one, then die mid-write.
            let path = std::path::PathBuf::from(path);
            let newer = LinearConfig::new(64, 64).init(&device);
            let bytes = checkpoint_bytes(&newer, &path).unwrap();
            let _ = write_atomically_with(&path, |f| {
                f.write_all(&bytes[..bytes.len() / 2])?;
                f.sync_all()?;
                std::process::abort()
            });
            unreachable!("the child aborts inside the write");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("best.bpk");
        let model = LinearConfig::new(64, 64).init(&device);
        write_atomically(&path, &checkpoint_bytes(&model, &path).unwrap()).unwrap();
        let before = std::fs::read(&path).unwrap();

        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "callbacks::tests::a_crash_mid_write_leaves_the_previous_checkpoint_intact"])
            .args(["--test-threads", "1", "--nocapture"])
            .env(CHILD, &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "the child was meant to crash");
        // The half-written temporary file is there (the crash left it) …
        let tmp: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().contains(".tmp-"))
            .collect();
        assert_eq!(tmp.len(), 1, "{tmp:?}");
        assert!(std::fs::metadata(&tmp[0]).unwrap().len() < before.len() as u64);
        // … but the checkpoint is the old one, byte for byte, and loads into the model.
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let restored = LinearConfig::new(64, 64).init(&device).load_record(ModuleRecord::load(&path).unwrap());
        assert_eq!(weights(&restored), weights(&model));
        // A later write replaces it normally.
        let next = LinearConfig::new(64, 64).init(&device);
        write_atomically(&path, &checkpoint_bytes(&next, &path).unwrap()).unwrap();
        let reloaded = LinearConfig::new(64, 64).init(&device).load_record(ModuleRecord::load(&path).unwrap());
        assert_eq!(weights(&reloaded), weights(&next));
    }
}
