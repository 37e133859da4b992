//! Epoch-level trackers: the total and per-output losses and every metric, each a mean over the
//! batches weighted by batch size (Keras's), turned into the logs of an epoch or an evaluation.
//!
//! Lazy: a batch's losses and metric values stay on the device until the logs are asked for
//! (the progress bar every few steps, a callback that wants batch logs, the end of an epoch), so
//! a training step on a GPU never waits for the device to report them. The means are the same
//! f64 accumulations of the same values as an eager read, in the same order.

use std::collections::BTreeMap;

use objectives::DynTensor;

use crate::compile::Compiled;
use crate::compile_loss::{mask_of, sample_weight};
use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::metrics::{MeanTracker, add_values, check_weight};

/// A batch's contribution not yet read from the device.
enum Pending {
    /// The total loss (or output `Some(o)`'s), a scalar, weighing the batch size.
    Loss { output: Option<usize>, value: Box<DynTensor>, n: f64 },
    /// Metric `m` of output `o` (`weighted`: of the weighted metrics): its values and weights.
    Metric(Box<PendingMetric>),
}

struct PendingMetric {
    output: usize,
    m: usize,
    weighted: bool,
    values: DynTensor,
    weight: Option<DynTensor>,
}

/// Epoch-level trackers: total and per-output losses (batch-size weighted), and metrics.
#[derive(Default)]
pub(crate) struct Trackers {
    loss: MeanTracker,
    outputs: Vec<MeanTracker>,
    metrics: Vec<Vec<MeanTracker>>,
    weighted: Vec<Vec<MeanTracker>>,
    pending: Vec<Pending>,
}

impl Trackers {
    fn new(compiled: &Compiled, outputs: usize) -> Self {
        Self {
            loss: MeanTracker::default(),
            outputs: vec![MeanTracker::default(); outputs],
            metrics: vec![vec![MeanTracker::default(); compiled.metrics.len()]; outputs],
            weighted: vec![vec![MeanTracker::default(); compiled.weighted_metrics.len()]; outputs],
            pending: vec![],
        }
    }

    /// Sizes the per-output trackers on the first batch; later batches must have as many outputs.
    pub(crate) fn ensure_outputs(&mut self, compiled: &Compiled, outputs: usize) -> Result<()> {
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

    pub(crate) fn update<const DI: usize>(
        &mut self,
        compiled: &Compiled,
        batch: &Dataset<DI>,
        preds: &[DynTensor],
        total: &DynTensor,
        values: &[DynTensor],
    ) -> Result<()> {
        let n = batch.len() as f64;
        let detach = |t: &DynTensor| t.clone().map(|t| t.detach());
        self.pending.push(Pending::Loss { output: None, value: Box::new(detach(total)), n });
        for (o, v) in values.iter().enumerate() {
            self.pending.push(Pending::Loss { output: Some(o), value: Box::new(detach(v)), n });
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
            let lists = [(false, &compiled.metrics, &mask), (true, &compiled.weighted_metrics, &weight)];
            for (weighted, metrics, weight) in lists {
                for (j, m) in metrics.iter().enumerate() {
                    let values = m.values(y, p)?;
                    check_weight(m, &values, weight.as_ref())?;
                    let pm = PendingMetric { output: i, m: j, weighted, values, weight: weight.clone() };
                    self.pending.push(Pending::Metric(Box::new(pm)));
                }
            }
        }
        Ok(())
    }

    /// Reads every pending value from the device, in the order the batches came.
    fn flush(&mut self, compiled: &Compiled) -> Result<()> {
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
                Pending::Metric(pm) => {
                    let PendingMetric { output, m, weighted, values, weight } = *pm;
                    let (metrics, trackers) = if weighted {
                        (&compiled.weighted_metrics, &mut self.weighted)
                    } else {
                        (&compiled.metrics, &mut self.metrics)
                    };
                    if let (Some(metric), Some(t)) =
                        (metrics.get(m), trackers.get_mut(output).and_then(|ts| ts.get_mut(m)))
                    {
                        let w = weight.map(|w| w.to_vec_f64()).transpose()?;
                        add_values(metric, t, values.to_vec_f64()?, w)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The logs so far (reads what is still on the device).
    ///
    /// # Errors
    /// A value that cannot be read back.
    pub(crate) fn logs(&mut self, compiled: &Compiled, prefix: &str) -> Result<BTreeMap<String, f64>> {
        self.flush(compiled)?;
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
        Ok(logs)
    }
}
