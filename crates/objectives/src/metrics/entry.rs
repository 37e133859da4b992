//! [`MetricEntry`]: one registered metric class (its names, the inputs it is defined on, its test
//! configs, its constructor), and [`Inputs`]. The table of every entry is
//! [`crate::metrics::registry::ALL_METRICS`]; this file names no family.

use serde_json::{Map, Value};

use super::config::{invalid, to_snake_case};
use super::metric::{Metric, MetricClass};
use crate::error::Result;

/// Builds a boxed metric from the `config` object of its Keras serialized form.
pub type BuildFn = fn(&Map<String, Value>) -> Result<Box<dyn Metric>>;

/// The inputs a metric is defined on: what tests, benchmarks and the merge property generate.
/// Class counts are 3 where a metric needs them (`num_classes: 3` in its test variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inputs {
    /// Real `y_true` and `y_pred` of one shape.
    Regression,
    /// Positive `y_true` and `y_pred` (logarithms, Poisson, percentages).
    Positive,
    /// `y_true` in {0, 1}, `y_pred` in [0, 1], one shape.
    Binary,
    /// One-hot `y_true`, probability rows `y_pred`, classes on the last axis.
    Categorical,
    /// Integer `y_true` (y_pred's shape without the last axis), probability rows `y_pred`.
    Sparse,
    /// Integer class ids in `[0, 3)` for both `y_true` and `y_pred`, one shape.
    Labels,
    /// Values in `y_pred` (`Mean`, `Sum`: `y_true` is ignored).
    Values,
}

/// One registered metric class.
#[derive(Debug)]
pub struct MetricEntry {
    /// Keras class name, e.g. `"MeanIoU"`.
    pub class_name: &'static str,
    /// Names beyond the class name and its snake case (`mean_io_u`), e.g. `["mse", "MSE"]`.
    pub aliases: &'static [&'static str],
    /// The inputs it is defined on.
    pub inputs: Inputs,
    /// Keras configs (JSON objects) to test beyond the defaults; a metric that needs an argument
    /// (`num_classes`) lists it in every variant and has `required` set.
    pub variants: &'static [&'static str],
    /// Whether the metric needs arguments (then [`MetricEntry::variants`] must not be empty and
    /// the defaults `{}` are not tested).
    pub required: bool,
    /// The constructor.
    pub build: BuildFn,
}

/// The entry of metric class `C`: its names, [`Inputs`] and test variants; built from a Keras
/// config by [`MetricClass::from_config`] and [`MetricClass::metric`].
pub const fn entry<C: MetricClass>(
    aliases: &'static [&'static str],
    inputs: Inputs,
    variants: &'static [&'static str],
    required: bool,
) -> MetricEntry {
    MetricEntry { class_name: C::CLASS, aliases, inputs, variants, required, build: build::<C> }
}

/// Builds class `C` from a Keras config: its arguments, then the metric, renamed when the config
/// has a `name`.
fn build<C: MetricClass>(config: &Map<String, Value>) -> Result<Box<dyn Metric>> {
    let (name, class) = C::from_config(config)?;
    let mut m = class.metric()?;
    if let Some(n) = name {
        m.set_name(n);
    }
    Ok(Box::new(m))
}

impl MetricEntry {
    /// Builds the metric from the `config` object of its Keras serialized form.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the bad key or value.
    pub fn build(&self, config: &Map<String, Value>) -> Result<Box<dyn Metric>> {
        (self.build)(config)
    }

    /// Every name this entry answers to.
    pub fn names(&self) -> Vec<String> {
        let mut v = vec![self.class_name.to_string(), to_snake_case(self.class_name)];
        v.extend(self.aliases.iter().map(|a| a.to_string()));
        v
    }

    /// The configs to test: the defaults (`{}`, unless arguments are required), then the variants.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a variant that is not a JSON object.
    pub fn configs(&self) -> Result<Vec<Map<String, Value>>> {
        let mut out = if self.required { vec![] } else { vec![Map::new()] };
        for v in self.variants {
            match serde_json::from_str(v) {
                Ok(Value::Object(m)) => out.push(m),
                _ => return Err(invalid(self.class_name, format!("test variant {v} is not a JSON object"))),
            }
        }
        Ok(out)
    }
}
