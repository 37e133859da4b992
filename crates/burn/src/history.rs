//! [`EpochLogger`]: a burn-train metric logger that keeps every metric's epoch values, read
//! through an [`EpochValues`] handle as Keras's `History` (`loss`, `val_loss`, …).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};

type Entries = BTreeMap<(String, String, usize), Vec<String>>;

#[derive(Default)]
struct Log {
    names: HashMap<MetricId, String>,
    /// Serialized entries by (split, metric name, epoch), in logging order.
    entries: Entries,
}

/// A metric logger for `SupervisedTraining::with_metric_logger`: keeps every entry in memory
/// (burn's checkpointing and early stopping read them back) and hands the epoch values out
/// through [`EpochValues`]. A training with a logger of its own gets no file logger from
/// burn-train: add `FileMetricLogger` too for the files.
pub struct EpochLogger {
    log: Arc<Mutex<Log>>,
}

/// The epoch values an [`EpochLogger`] recorded; clone it before the logger goes to burn-train.
#[derive(Clone)]
pub struct EpochValues {
    log: Arc<Mutex<Log>>,
}

impl EpochLogger {
    /// A logger, and the handle to read what it records.
    pub fn new() -> (Self, EpochValues) {
        let log = Arc::new(Mutex::new(Log::default()));
        (Self { log: log.clone() }, EpochValues { log })
    }
}

fn lock(log: &Mutex<Log>) -> MutexGuard<'_, Log> {
    // A panic elsewhere leaves the map whole (every write is one insert or push).
    log.lock().unwrap_or_else(PoisonError::into_inner)
}

fn split_name(split: &Split) -> String {
    split.to_string()
}

impl MetricLogger for EpochLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let mut log = lock(&self.log);
        let entries = update.entries.iter().chain(update.entries_numeric.iter().map(|n| &n.entry));
        let items: Vec<(String, String)> = entries
            .filter_map(|e| {
                log.names.get(&e.metric_id).map(|name| (name.clone(), e.serialized_entry.serialized.clone()))
            })
            .collect();
        for (name, serialized) in items {
            log.entries.entry((split_name(split), name, epoch)).or_default().push(serialized);
        }
    }

    fn read_numeric(&mut self, name: &str, epoch: usize, split: &Split) -> Result<Vec<NumericEntry>, String> {
        let log = lock(&self.log);
        Ok(log
            .entries
            .get(&(split_name(split), name.to_string(), epoch))
            .map(|v| v.iter().filter_map(|s| NumericEntry::deserialize(s).ok()).collect())
            .unwrap_or_default())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        lock(&self.log).names.insert(definition.metric_id.clone(), definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, _summary: EpochSummary) {}
}

impl EpochValues {
    /// The epoch values (burn's `NumericEntry::Final`) of metric `name` on `split` (`"train"`,
    /// `"valid"`), by epoch; an epoch without one is absent.
    pub fn epochs(&self, split: &str, name: &str) -> Vec<f64> {
        let log = lock(&self.log);
        log.entries
            .iter()
            .filter(|((s, n, _), _)| s == split && n == name)
            .filter_map(|(_, v)| {
                v.iter().rev().find_map(|s| match NumericEntry::deserialize(s) {
                    Ok(NumericEntry::Final(x)) => Some(x),
                    _ => None,
                })
            })
            .collect()
    }

    /// Every metric's epoch values as Keras's `History.history`: train metrics under their
    /// names, validation metrics as `val_` + name.
    pub fn history(&self) -> BTreeMap<String, Vec<f64>> {
        let keys: Vec<(String, String)> = {
            let log = lock(&self.log);
            log.entries.keys().map(|(s, n, _)| (s.clone(), n.clone())).collect()
        };
        let mut out = BTreeMap::new();
        for (split, name) in keys {
            let key = match split.as_str() {
                "train" => name.clone(),
                "valid" => format!("val_{name}"),
                other => format!("{other}_{name}"),
            };
            out.entry(key).or_insert_with(|| self.epochs(&split, &name));
        }
        out
    }

    /// The batch values (burn's per-item entries) of metric `name` on `split` in epoch `epoch`
    /// (1-based).
    pub fn batches(&self, split: &str, name: &str, epoch: usize) -> Vec<f64> {
        let log = lock(&self.log);
        log.entries
            .get(&(split.to_string(), name.to_string(), epoch))
            .map(|v| {
                v.iter()
                    .filter_map(|s| match NumericEntry::deserialize(s) {
                        Ok(NumericEntry::Value(x)) => Some(x),
                        Ok(NumericEntry::Aggregated { aggregated_value, .. }) => Some(aggregated_value),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
