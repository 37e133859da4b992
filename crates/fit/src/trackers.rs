//! Epoch-level trackers: the total and per-output losses and every metric, each a mean over the
//! batches weighted by batch size (Keras's), turned into the logs of an epoch or an evaluation.
//!
//! Lazy: a batch's losses and metric values stay on the device until the logs are asked for
//! (the progress bar every few steps, a callback that wants batch logs, the end of an epoch), so
//! a training step on a GPU never waits for the device to report them. The means are the same
//! f64 accumulations of the same values as an eager read, in the same order.

use std::collections::BTreeMap;

use objectives::DynTensor;
use objectives::metrics::{Metric, MetricValue};

use crate::compile::Compiled;
use crate::compile_loss::{mask_of, sample_weight};
use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::metrics::MeanTracker;

/// Vector-valued metric results (a thresholds list, F1 with `average=None`, …) by log key.
pub type VectorLogs = BTreeMap<String, Vec<f64>>;

/// A batch's contribution not yet read from the device.
enum Pending {
    /// The total loss (or output `Some(o)`'s), a scalar, weighing the batch size.
    Loss { output: Option<usize>, value: Box<DynTensor>, n: f64 },
    /// Output `o`'s targets and predictions for its metrics.
    Metrics(Box<PendingMetrics>),
}

struct PendingMetrics {
    output: usize,
    y_true: DynTensor,
    y_pred: DynTensor,
    /// The mask as 0/1 weights (for metrics that use masks).
    mask: Option<DynTensor>,
    /// Sample (and class) weights, without the mask.
    weight: Option<DynTensor>,
    /// Sample weights times the mask.
    weight_and_mask: Option<DynTensor>,
}

/// One output's compiled metrics and weighted metrics (Keras's `MetricsList`s).
struct OutputMetrics {
    metrics: Vec<Box<dyn Metric>>,
    weighted: Vec<Box<dyn Metric>>,
}

/// Epoch-level trackers: total and per-output losses (batch-size weighted), and metrics.
#[derive(Default)]
pub(crate) struct Trackers {
    loss: MeanTracker,
    outputs: Vec<MeanTracker>,
    metrics: Vec<OutputMetrics>,
    pending: Vec<Pending>,
}

impl Trackers {
    /// Sizes the per-output trackers on the first batch; later batches must have as many outputs.
    pub(crate) fn ensure_outputs(&mut self, _compiled: &Compiled, outputs: usize) -> Result<()> {
        if self.outputs.is_empty() {
            self.outputs = vec![MeanTracker::default(); outputs];
        } else if self.outputs.len() != outputs {
            return Err(FitError::Data(format!(
                "a batch has {outputs} targets but earlier batches had {}",
                self.outputs.len()
            )));
        }
        Ok(())
    }

    /// Builds each output's metric objects from the first batch's shapes.
    fn resolve<const DI: usize>(
        &mut self,
        compiled: &Compiled,
        batch: &Dataset<DI>,
        preds: &[DynTensor],
    ) -> Result<()> {
        if !self.metrics.is_empty() {
            return Ok(());
        }
        let n = preds.len();
        let plain = compiled.metrics.per_output(n, "metrics")?;
        let weighted = compiled.weighted_metrics.per_output(n, "weighted_metrics")?;
        for (i, (y, p)) in batch.y.iter().zip(preds).enumerate() {
            let build = |specs: &[objectives::metrics::MetricSpec]| -> Result<Vec<Box<dyn Metric>>> {
                specs.iter().map(|s| s.resolve(y.shape(), p.shape()).map_err(FitError::from)).collect()
            };
            self.metrics.push(OutputMetrics { metrics: build(&plain[i])?, weighted: build(&weighted[i])? });
        }
        Ok(())
    }

    pub(crate) fn update<const DI: usize>(
        &mut self,
        compiled: &Compiled,
        batch: &Dataset<DI>,
        preds: &[DynTensor],
        total: &DynTensor,
        values: &[DynTensor],
    ) -> Result<()> {
        self.resolve(compiled, batch, preds)?;
        let n = batch.len() as f64;
        let detach = |t: &DynTensor| t.clone().map(|t| t.detach());
        self.pending.push(Pending::Loss { output: None, value: Box::new(detach(total)), n });
        for (o, v) in values.iter().enumerate() {
            self.pending.push(Pending::Loss { output: Some(o), value: Box::new(detach(v)), n });
        }
        for (i, (y, p)) in batch.y.iter().zip(preds).enumerate() {
            if self.metrics.get(i).is_none_or(|m| m.metrics.is_empty() && m.weighted.is_empty()) {
                continue;
            }
            // Keras's `MeanMetricWrapper` takes the mask as a 0/1 weight (`apply_mask`, reduction
            // "sum"); weighted metrics multiply it with the sample weight.
            let mask = mask_of(batch, i).map(|m| {
                m.clone().map(|t| {
                    let dtype = t.dtype();
                    t.not_equal_elem(0.0).float().cast(dtype)
                })
            });
            let weight = sample_weight(batch, i).cloned();
            let weight_and_mask = match (&weight, &mask) {
                (Some(w), Some(m)) => {
                    let (m, w) = objectives::shape::align_weight("sample_weight", m.clone(), w.clone())?;
                    Some(
                        w.broadcast_mul(m)
                            .ok_or_else(|| FitError::Data("sample_weight and mask do not broadcast".into()))?,
                    )
                }
                (w, m) => w.clone().or_else(|| m.clone()),
            };
            let pm = PendingMetrics { output: i, y_true: detach(y), y_pred: detach(p), mask, weight, weight_and_mask };
            self.pending.push(Pending::Metrics(Box::new(pm)));
        }
        Ok(())
    }

    /// Reads every pending value from the device and updates the metrics, in batch order.
    fn flush(&mut self) -> Result<()> {
        for p in std::mem::take(&mut self.pending) {
            match p {
                Pending::Loss { output, value, n } => {
                    let v = value.to_vec_f64()?.first().copied().unwrap_or(f64::NAN);
                    let tracker = match output {
                        None => Some(&mut self.loss),
                        Some(o) => self.outputs.get_mut(o),
                    };
                    if let Some(t) = tracker {
                        t.add(v, n);
                    }
                }
                Pending::Metrics(pm) => {
                    let Some(om) = self.metrics.get_mut(pm.output) else { continue };
                    for m in &mut om.metrics {
                        let w = if m.uses_mask() { pm.mask.as_ref() } else { None };
                        m.update_state(&pm.y_true, &pm.y_pred, w)?;
                    }
                    for m in &mut om.weighted {
                        let w = if m.uses_mask() { pm.weight_and_mask.as_ref() } else { pm.weight.as_ref() };
                        m.update_state(&pm.y_true, &pm.y_pred, w)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The logs so far (reads what is still on the device): scalar results; vector results are in
    /// [`Trackers::vector_logs`].
    ///
    /// # Errors
    /// A value that cannot be read back, or a metric update that fails.
    pub(crate) fn logs(&mut self, compiled: &Compiled, prefix: &str) -> Result<BTreeMap<String, f64>> {
        Ok(self.all_logs(compiled, prefix)?.0)
    }

    /// Scalar and vector logs, with Keras 3's names (`CompileMetrics.result`): a metric's name,
    /// prefixed by its output's name when there are several outputs; a repeated name gets `_1`,
    /// `_2`, …, and a weighted metric whose name is taken becomes `weighted_<name>`.
    ///
    /// # Errors
    /// As [`Trackers::logs`].
    pub(crate) fn all_logs(
        &mut self,
        compiled: &Compiled,
        prefix: &str,
    ) -> Result<(BTreeMap<String, f64>, VectorLogs)> {
        self.flush()?;
        let mut logs = BTreeMap::new();
        let mut vectors = VectorLogs::new();
        logs.insert(format!("{prefix}loss"), self.loss.result());
        let multi = self.outputs.len() > 1;
        for (i, t) in self.outputs.iter().enumerate() {
            if multi {
                logs.insert(format!("{prefix}{}_loss", compiled.output_name(i)), t.result());
            }
        }
        let mut counters: BTreeMap<String, usize> = BTreeMap::new();
        let mut put = |key: String, value: MetricValue| {
            let key = format!("{prefix}{key}");
            match value {
                MetricValue::Scalar(v) => {
                    logs.insert(key, v);
                }
                MetricValue::Vector(v) => {
                    vectors.insert(key, v);
                }
            }
        };
        let outname = |i: usize, name: &str| {
            if multi { format!("{}_{name}", compiled.output_name(i)) } else { name.to_string() }
        };
        for (i, om) in self.metrics.iter().enumerate() {
            for m in &om.metrics {
                let mut name = outname(i, m.name());
                let c = counters.entry(name.clone()).or_insert(0);
                if *c > 0 {
                    name = format!("{name}_{c}");
                }
                *c += 1;
                put(name, m.result());
            }
        }
        for (i, om) in self.metrics.iter().enumerate() {
            for m in &om.weighted {
                let mut name = outname(i, m.name());
                if counters.contains_key(&name) {
                    name = outname(i, &format!("weighted_{}", m.name()));
                    let c = counters.entry(name.clone()).or_insert(0);
                    if *c > 0 {
                        name = format!("{name}_{c}");
                    }
                    *c += 1;
                } else {
                    counters.insert(name.clone(), 1);
                }
                put(name, m.result());
            }
        }
        Ok((logs, vectors))
    }
}
