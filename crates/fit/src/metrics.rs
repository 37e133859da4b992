//! Compiled metrics: Keras's metric objects ([`objectives::metrics`]) per output, resolved on the
//! first batch (so `"accuracy"` can pick binary, sparse or categorical from the shapes, as Keras
//! 3's `compile_utils.get_metric`), and the mean tracker of the losses.

pub use objectives::metrics::{Metric, MetricSpec};

use crate::error::{FitError, Result};
use crate::keras_archive::PerOutput;

/// A `metrics` or `weighted_metrics` argument of compile.
#[derive(Clone, Debug, Default)]
pub enum Metrics {
    /// None given.
    #[default]
    None,
    /// One list (see [`crate::Compiled::with_metrics`] for how it maps to outputs).
    Flat(Vec<MetricSpec>),
    /// One list per output.
    PerOutput(Vec<Vec<MetricSpec>>),
}

impl Metrics {
    /// The `metrics` (or `weighted_metrics`) of a `.keras` archive's compile config
    /// ([`crate::keras_archive::CompileConfig`]); metrics given per output name are put in
    /// the order of `output_names`.
    ///
    /// # Errors
    /// [`FitError::Config`] for an output name the model does not have.
    pub fn from_keras(metrics: &PerOutput<Vec<MetricSpec>>, output_names: &[String]) -> Result<Self> {
        Ok(match metrics {
            PerOutput::Single(v) => Metrics::Flat(v.clone()),
            PerOutput::List(v) => Metrics::PerOutput(v.clone()),
            PerOutput::Named(v) => {
                if let Some((unknown, _)) = v.iter().find(|(k, _)| !output_names.contains(k)) {
                    return Err(FitError::Config(format!(
                        "the archive has metrics for output `{unknown}` but the model's outputs are {output_names:?}; \
                         name the outputs with Compiled::with_output_names"
                    )));
                }
                Metrics::PerOutput(
                    output_names
                        .iter()
                        .map(|n| v.iter().find(|(k, _)| k == n).map(|(_, m)| m.clone()).unwrap_or_default())
                        .collect(),
                )
            }
        })
    }

    /// The specs of each of `outputs` outputs.
    ///
    /// # Errors
    /// [`FitError::Config`] for a per-output list of the wrong length.
    pub(crate) fn per_output(&self, outputs: usize, what: &str) -> Result<Vec<Vec<MetricSpec>>> {
        Ok(match self {
            Metrics::None => vec![vec![]; outputs],
            Metrics::Flat(list) if outputs > 1 && list.len() == outputs => {
                list.iter().map(|m| vec![m.clone()]).collect()
            }
            Metrics::Flat(list) => vec![list.clone(); outputs],
            Metrics::PerOutput(lists) if lists.len() == outputs => lists.clone(),
            Metrics::PerOutput(lists) => {
                return Err(FitError::Config(format!(
                    "`{what}` has {} lists for a model with {outputs} outputs; give one list per output",
                    lists.len()
                )));
            }
        })
    }
}

/// Accumulates `Σ v·w` and `Σ w` over an epoch.
#[derive(Clone, Debug, Default)]
pub(crate) struct MeanTracker {
    total: f64,
    count: f64,
}

impl MeanTracker {
    pub(crate) fn add(&mut self, value: f64, weight: f64) {
        self.total += value * weight;
        self.count += weight;
    }

    /// `Σ v·w / Σ w`, 0 when nothing was counted (divide-no-nan).
    pub(crate) fn result(&self) -> f64 {
        if self.count == 0.0 { 0.0 } else { self.total / self.count }
    }
}
