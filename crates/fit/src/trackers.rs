//! Epoch-level trackers: the total and per-output losses and every metric, each a mean over the
//! batches weighted by batch size (Keras's), turned into the logs of an epoch or an evaluation.

use std::collections::BTreeMap;

use objectives::DynTensor;

use crate::compile::Compiled;
use crate::compile_loss::{mask_of, sample_weight};
use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::metrics::{MeanTracker, update};

/// Epoch-level trackers: total and per-output losses (batch-size weighted), and metrics.
#[derive(Default)]
pub(crate) struct Trackers {
    loss: MeanTracker,
    outputs: Vec<MeanTracker>,
    metrics: Vec<Vec<MeanTracker>>,
    weighted: Vec<Vec<MeanTracker>>,
}

impl Trackers {
    fn new(compiled: &Compiled, outputs: usize) -> Self {
        Self {
            loss: MeanTracker::default(),
            outputs: vec![MeanTracker::default(); outputs],
            metrics: vec![vec![MeanTracker::default(); compiled.metrics.len()]; outputs],
            weighted: vec![vec![MeanTracker::default(); compiled.weighted_metrics.len()]; outputs],
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

    pub(crate) fn logs(&self, compiled: &Compiled, prefix: &str) -> BTreeMap<String, f64> {
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
