//! `compile`: a loss per output, `loss_weights`, metrics, and burn's optimizer.
//!
//! As Keras 3's `CompileLoss` (docs/keras-semantics.md §3.1): the total loss is
//! `Σ_i loss_weight_i · L_i`, each `L_i` already reduced by its own loss's reduction; a single
//! loss given for a multi-output model is used for every output; `loss_weights` must have one
//! entry per loss.

use burn::optim::{AdamConfig, ModuleOptimizer};
use objectives::Loss;

use crate::error::{FitError, Result};
use crate::metrics::{MetricSpec, Metrics};

/// A compiled training setup. Build it with [`Compiled::new`] and the `with_*` methods.
pub struct Compiled {
    pub(crate) losses: Vec<Box<dyn Loss>>,
    pub(crate) loss_weights: Option<Vec<f64>>,
    pub(crate) metrics: Metrics,
    pub(crate) weighted_metrics: Metrics,
    pub(crate) optimizer: ModuleOptimizer,
    pub(crate) learning_rate: f64,
    pub(crate) output_names: Vec<String>,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("losses", &self.losses.iter().map(|l| l.name().to_string()).collect::<Vec<_>>())
            .field("loss_weights", &self.loss_weights)
            .field("metrics", &self.metrics)
            .field("learning_rate", &self.learning_rate)
            .finish()
    }
}

impl Compiled {
    /// One loss for every output (Keras's `compile(loss=…)`), Adam with learning rate 1e-3.
    pub fn new(loss: Box<dyn Loss>) -> Self {
        Self::with_losses(vec![loss])
    }

    fn with_losses(losses: Vec<Box<dyn Loss>>) -> Self {
        Self {
            losses,
            loss_weights: None,
            metrics: Metrics::None,
            weighted_metrics: Metrics::None,
            optimizer: AdamConfig::new().init(),
            learning_rate: 1e-3,
            output_names: vec![],
        }
    }

    /// One loss per output, in the model's output order (`compile(loss=[…])`).
    ///
    /// # Errors
    /// [`FitError::Config`] for an empty list.
    pub fn per_output(losses: Vec<Box<dyn Loss>>) -> Result<Self> {
        if losses.is_empty() {
            return Err(FitError::Config("compile needs at least one loss".into()));
        }
        Ok(Self::with_losses(losses))
    }

    /// `loss_weights`: one per loss.
    #[must_use]
    pub fn with_loss_weights(mut self, weights: Vec<f64>) -> Self {
        self.loss_weights = Some(weights);
        self
    }

    /// Metrics (`compile(metrics=[…])`), by name (`"mae"`, `"accuracy"`, `"auc"`) or object
    /// (`MetricSpec::from(metrics::get("auc")?)`, any [`objectives::metrics::Metric`]). For one
    /// output they all apply to it; for several outputs a list with one entry per output gives
    /// each output its metric (Keras 3's rule), and any other list applies to every output (Keras
    /// 3 refuses it; [`Compiled::with_metrics_per_output`] says it explicitly). Metrics see no
    /// sample weight; a mask weighs Keras's `MeanMetricWrapper` family (accuracy, MSE, …).
    #[must_use]
    pub fn with_metrics<S: Into<MetricSpec>>(mut self, metrics: impl IntoIterator<Item = S>) -> Self {
        self.metrics = Metrics::Flat(metrics.into_iter().map(Into::into).collect());
        self
    }

    /// Metrics per output, in the model's output order (`compile(metrics=[[…], […]])`).
    #[must_use]
    pub fn with_metrics_per_output(mut self, metrics: Vec<Vec<MetricSpec>>) -> Self {
        self.metrics = Metrics::PerOutput(metrics);
        self
    }

    /// Metrics weighted by `sample_weight` and class weights (`compile(weighted_metrics=[…])`),
    /// same list rules as [`Compiled::with_metrics`]. A name that is also an unweighted metric
    /// is logged as `weighted_<name>`.
    #[must_use]
    pub fn with_weighted_metrics<S: Into<MetricSpec>>(mut self, metrics: impl IntoIterator<Item = S>) -> Self {
        self.weighted_metrics = Metrics::Flat(metrics.into_iter().map(Into::into).collect());
        self
    }

    /// Weighted metrics per output.
    #[must_use]
    pub fn with_weighted_metrics_per_output(mut self, metrics: Vec<Vec<MetricSpec>>) -> Self {
        self.weighted_metrics = Metrics::PerOutput(metrics);
        self
    }

    /// The `metrics` and `weighted_metrics` of a `.keras` archive's compile config (read with
    /// [`crate::keras_archive::read_keras_archive`]); set the output names first when the
    /// archive names outputs.
    ///
    /// # Errors
    /// [`FitError::Config`] for metrics of an output the model does not have.
    pub fn with_keras_metrics(mut self, config: &crate::keras_archive::CompileConfig) -> Result<Self> {
        if let Some(m) = &config.metrics {
            self.metrics = Metrics::from_keras(m, &self.output_names)?;
        }
        if let Some(m) = &config.weighted_metrics {
            self.weighted_metrics = Metrics::from_keras(m, &self.output_names)?;
        }
        Ok(self)
    }

    /// Any burn optimizer (e.g. `SgdConfig::new().init()`), with its learning rate.
    #[must_use]
    pub fn with_optimizer(mut self, optimizer: ModuleOptimizer, learning_rate: f64) -> Self {
        self.optimizer = optimizer;
        self.learning_rate = learning_rate;
        self
    }

    /// Names of the outputs, used in logs (`<name>_loss`); default `output_0`, `output_1`, …
    #[must_use]
    pub fn with_output_names(mut self, names: Vec<String>) -> Self {
        self.output_names = names;
        self
    }

    /// The learning rate now in use.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// The loss of each of `outputs` outputs, and its weight; checks the counts as Keras does.
    pub(crate) fn resolve(&self, outputs: usize) -> Result<Vec<(&dyn Loss, f64)>> {
        let losses: Vec<&dyn Loss> = if self.losses.len() == 1 {
            vec![self.losses[0].as_ref(); outputs]
        } else if self.losses.len() == outputs {
            self.losses.iter().map(|l| l.as_ref()).collect()
        } else {
            return Err(FitError::Config(format!(
                "the model has {outputs} outputs but {} losses were compiled; give one loss, or one per output",
                self.losses.len()
            )));
        };
        let weights = match &self.loss_weights {
            None => vec![1.0; outputs],
            Some(w) if w.len() == outputs => w.clone(),
            Some(w) => {
                return Err(FitError::Config(format!(
                    "`loss_weights` must match the number of losses: {} weights for {outputs} outputs \
                     (with one shared loss, pass the loss once per output)",
                    w.len()
                )));
            }
        };
        Ok(losses.into_iter().zip(weights).collect())
    }

    pub(crate) fn output_name(&self, i: usize) -> String {
        self.output_names.get(i).cloned().unwrap_or_else(|| format!("output_{i}"))
    }
}
