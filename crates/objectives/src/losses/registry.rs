//! The one registry of loss names: Keras class names, function names and aliases, and the Keras
//! serialized form (`{"module", "class_name", "config", "registered_name"}`).

use serde_json::{Map, Value};

use super::domain::{Domain, Kink, Values};
use super::hinge::categorical_hinge::CategoricalHingeConfig;
use super::hinge::hinge::HingeConfig;
use super::hinge::squared_hinge::SquaredHingeConfig;
use super::loss::Loss;
use super::metric_learning::circle::CircleConfig;
use super::probabilistic::binary_crossentropy::BinaryCrossentropyConfig;
use super::probabilistic::binary_focal_crossentropy::BinaryFocalCrossentropyConfig;
use super::probabilistic::categorical_crossentropy::CategoricalCrossentropyConfig;
use super::probabilistic::categorical_focal_crossentropy::CategoricalFocalCrossentropyConfig;
use super::probabilistic::categorical_generalized_cross_entropy::CategoricalGeneralizedCrossEntropyConfig;
use super::probabilistic::ctc::CtcConfig;
use super::probabilistic::kl_divergence::KlDivergenceConfig;
use super::probabilistic::poisson::PoissonConfig;
use super::probabilistic::sparse_categorical_crossentropy::SparseCategoricalCrossentropyConfig;
use super::regression::cosine_similarity::CosineSimilarityConfig;
use super::regression::huber::HuberConfig;
use super::regression::log_cosh::LogCoshConfig;
use super::regression::mean_absolute_error::MeanAbsoluteErrorConfig;
use super::regression::mean_absolute_percentage_error::MeanAbsolutePercentageErrorConfig;
use super::regression::mean_squared_error::MeanSquaredErrorConfig;
use super::regression::mean_squared_logarithmic_error::MeanSquaredLogarithmicErrorConfig;
use super::segmentation::dice::DiceConfig;
use super::segmentation::tversky::TverskyConfig;
use super::wrapper::{LossFn, LossFunctionWrapper};
use crate::error::{Error, Result};
use crate::keras::envelope::keras_envelope;

/// Builds a boxed loss from the `config` object of its Keras serialized form.
pub type BuildFn = fn(&Map<String, Value>) -> Result<Box<dyn Loss>>;

/// One registered loss.
#[derive(Debug)]
pub struct LossEntry {
    /// Keras class name, e.g. `"Huber"`.
    pub class_name: &'static str,
    /// Keras function name, e.g. `"huber"`.
    pub function_name: &'static str,
    /// The loss object's default `name`, e.g. `"huber_loss"`.
    pub default_name: &'static str,
    /// Keras's short aliases, e.g. `["mse", "MSE"]`.
    pub aliases: &'static [&'static str],
    /// The inputs the loss is defined on (tests, benchmarks and fuzzers generate from it).
    pub domain: Domain,
    /// Keras configs (JSON objects) worth testing beyond the defaults, e.g. `from_logits` — the
    /// ones that take a fused kernel among them. The property, gradient and fused-vs-composed
    /// tests run every one.
    pub variants: &'static [&'static str],
    build: BuildFn,
}

impl LossEntry {
    /// Builds the loss from the `config` object of its Keras serialized form (`{}` for defaults).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (unknown key, bad value), [`Error::InvalidReduction`],
    /// [`Error::UnsupportedDtype`].
    pub fn build(&self, config: &Map<String, Value>) -> Result<Box<dyn Loss>> {
        (self.build)(config)
    }

    /// The configs to test: the defaults (`{}`) first, then [`LossEntry::variants`].
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a variant that is not a JSON object.
    pub fn configs(&self) -> Result<Vec<Map<String, Value>>> {
        let mut out = vec![Map::new()];
        for v in self.variants {
            match serde_json::from_str(v) {
                Ok(Value::Object(m)) => out.push(m),
                _ => {
                    return Err(Error::InvalidConfig {
                        name: self.class_name.into(),
                        message: format!("test variant {v} is not a JSON object"),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Every name this entry answers to.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        [self.class_name, self.function_name].into_iter().chain(self.aliases.iter().copied())
    }
}

fn build<F: LossFn>(config: &Map<String, Value>) -> Result<Box<dyn Loss>> {
    Ok(Box::new(LossFunctionWrapper::<F>::from_keras_config(config)?))
}

const fn entry<F: LossFn>(
    function_name: &'static str,
    aliases: &'static [&'static str],
    domain: Domain,
    variants: &'static [&'static str],
) -> LossEntry {
    LossEntry {
        class_name: F::CLASS_NAME,
        function_name,
        default_name: F::DEFAULT_NAME,
        aliases,
        domain,
        variants,
        build: build::<F>,
    }
}

/// Shorthands for the table below.
const REAL: Domain = Domain::dense(Values::Real, Values::Real, Kink::None);
const PROBABILITIES: Domain = Domain::dense(Values::UnitInterval, Values::Probability, Kink::None);

/// Every loss objectives implements, in Keras's documentation order.
///
/// Adding a loss: its file, one line here (names, [`Domain`], test variants), and its Keras
/// vectors in `testdata/`; `tests/registry.rs` names whatever is missing (CONTRIBUTING.md, "Adding a loss").
pub static ALL_LOSSES: &[LossEntry] = &[
    entry::<MeanSquaredErrorConfig>("mean_squared_error", &["mse", "MSE"], REAL, &[]),
    entry::<MeanAbsoluteErrorConfig>(
        "mean_absolute_error",
        &["mae", "MAE"],
        Domain::dense(Values::Real, Values::Real, Kink::ZeroError),
        &[],
    ),
    entry::<MeanAbsolutePercentageErrorConfig>(
        "mean_absolute_percentage_error",
        &["mape", "MAPE"],
        Domain::dense(Values::NonZero, Values::Real, Kink::ZeroError),
        &[],
    ),
    entry::<MeanSquaredLogarithmicErrorConfig>(
        "mean_squared_logarithmic_error",
        &["msle", "MSLE"],
        Domain::dense(Values::Positive, Values::Positive, Kink::None),
        &[],
    ),
    entry::<CosineSimilarityConfig>("cosine_similarity", &[], REAL, &[]),
    entry::<HuberConfig>(
        "huber",
        &["huber_loss"],
        Domain::dense(Values::Real, Values::Real, Kink::Delta),
        &[r#"{"delta": 0.7}"#],
    ),
    entry::<LogCoshConfig>("log_cosh", &["logcosh"], REAL, &[]),
    entry::<HingeConfig>("hinge", &[], Domain::dense(Values::Signs, Values::Real, Kink::Margin), &[]),
    entry::<SquaredHingeConfig>("squared_hinge", &[], Domain::dense(Values::Signs, Values::Real, Kink::Margin), &[]),
    entry::<CategoricalHingeConfig>(
        "categorical_hinge",
        &[],
        Domain::dense(Values::OneHot, Values::Real, Kink::None),
        &[],
    ),
    entry::<KlDivergenceConfig>(
        "kl_divergence",
        &["kld", "KLD", "kullback_leibler_divergence"],
        Domain::dense(Values::Probability, Values::Probability, Kink::None),
        &[],
    ),
    entry::<PoissonConfig>("poisson", &[], Domain::dense(Values::NonNegative, Values::Positive, Kink::None), &[]),
    entry::<BinaryCrossentropyConfig>(
        "binary_crossentropy",
        &["bce", "BCE"],
        PROBABILITIES,
        &[r#"{"from_logits": true}"#, r#"{"from_logits": true, "label_smoothing": 0.2}"#],
    ),
    entry::<BinaryFocalCrossentropyConfig>(
        "binary_focal_crossentropy",
        &[],
        PROBABILITIES,
        &[
            r#"{"from_logits": true, "gamma": 3.0}"#,
            r#"{"apply_class_balancing": true, "label_smoothing": 0.1}"#,
            r#"{"apply_class_balancing": true, "alpha": 0.3, "gamma": 2.0, "from_logits": true, "label_smoothing": 0.05}"#,
        ],
    ),
    entry::<CategoricalCrossentropyConfig>(
        "categorical_crossentropy",
        &[],
        PROBABILITIES,
        &[r#"{"from_logits": true}"#, r#"{"from_logits": true, "label_smoothing": 0.2}"#],
    ),
    entry::<CategoricalFocalCrossentropyConfig>(
        "categorical_focal_crossentropy",
        &[],
        PROBABILITIES,
        &[r#"{"from_logits": true, "alpha": 0.5}"#],
    ),
    entry::<SparseCategoricalCrossentropyConfig>(
        "sparse_categorical_crossentropy",
        &[],
        Domain::ClassIndices,
        &[r#"{"from_logits": true}"#, r#"{"from_logits": true, "ignore_class": 1}"#],
    ),
    entry::<DiceConfig>("dice", &[], Domain::Overlap, &[]),
    entry::<TverskyConfig>("tversky", &[], Domain::Overlap, &[r#"{"alpha": 0.2, "beta": 0.8}"#]),
    entry::<CircleConfig>("circle", &[], Domain::Embeddings, &[]),
    // Not in Keras's string lookup (`ALL_OBJECTS`); objectives resolves it by name anyway.
    entry::<CategoricalGeneralizedCrossEntropyConfig>(
        "categorical_generalized_cross_entropy",
        &[],
        Domain::ClassIndices,
        &[],
    ),
    entry::<CtcConfig>("ctc", &[], Domain::LabelSequences, &[]),
];

/// The entry answering to `name` (class name, function name or alias; exact spelling).
pub fn lookup(name: &str) -> Option<&'static LossEntry> {
    ALL_LOSSES.iter().find(|e| e.names().any(|n| n == name))
}

/// The loss named `name`, with default arguments.
///
/// ```
/// let mse = objectives::get("mse")?;
/// assert_eq!(mse.class_name(), "MeanSquaredError");
/// # Ok::<(), objectives::Error>(())
/// ```
/// # Errors
/// [`Error::UnknownLoss`].
pub fn get(name: &str) -> Result<Box<dyn Loss>> {
    lookup(name).ok_or_else(|| Error::UnknownLoss(name.to_string()))?.build(&Map::new())
}

/// Builds a loss from Keras's serialized form: an object
/// `{"module": "keras.losses", "class_name": …, "config": {…}, "registered_name": null}`, or a
/// bare string name (`"mse"`).
///
/// ```
/// let json = serde_json::json!({"module": "keras.losses", "class_name": "Huber",
///     "config": {"delta": 2.0, "reduction": "sum", "name": "huber_loss", "dtype": null},
///     "registered_name": null});
/// let loss = objectives::from_keras_json(&json)?;
/// assert_eq!(loss.to_keras_json(), json);
/// # Ok::<(), objectives::Error>(())
/// ```
/// # Errors
/// [`Error::UnknownLoss`] for an unknown class, [`Error::InvalidConfig`] for unknown
/// keys or bad values.
pub fn from_keras_json(value: &Value) -> Result<Box<dyn Loss>> {
    let obj = match value {
        Value::String(name) => return get(name),
        other => other,
    };
    let (class, config) = keras_envelope(obj, "loss", "keras.losses", |m| {
        m == "keras.losses" || m == "keras.src.losses.losses" || m == "keras.src.losses"
    })?;
    let entry =
        ALL_LOSSES.iter().find(|e| e.class_name == class).ok_or_else(|| Error::UnknownLoss(class.to_string()))?;
    entry.build(&config)
}

/// [`from_keras_json`] on text: JSON (an object or a quoted name), or a bare name such as `mse`.
///
/// # Errors
/// As [`from_keras_json`]; [`Error::InvalidConfig`] for malformed JSON.
pub fn from_keras_json_str(text: &str) -> Result<Box<dyn Loss>> {
    let t = text.trim();
    if !t.starts_with('{') && !t.starts_with('"') {
        return get(t);
    }
    let value: Value = serde_json::from_str(t)
        .map_err(|e| Error::InvalidConfig { name: "keras.losses".into(), message: format!("malformed JSON: {e}") })?;
    from_keras_json(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for e in ALL_LOSSES {
            for n in e.names() {
                assert!(seen.insert(n), "name `{n}` registered twice");
            }
        }
    }

    #[test]
    fn every_loss_round_trips_through_keras_json() -> Result<()> {
        for e in ALL_LOSSES {
            let loss = e.build(&Map::new())?;
            let json = loss.to_keras_json();
            let again = from_keras_json(&json)?;
            assert_eq!(again.to_keras_json(), json, "{}", e.class_name);
            assert_eq!(loss.name(), e.default_name);
        }
        Ok(())
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let bad = [
            serde_json::json!({"class_name": "Huber", "config": {"delta": "big"}}),
            serde_json::json!({"class_name": "Huber", "config": {"dleta": 2.0}}),
            serde_json::json!({"class_name": "Huber", "config": {"reduction": "auto"}}),
            serde_json::json!({"class_name": "Hubr", "config": {}}),
            serde_json::json!({"class_name": "Huber", "confg": {}}),
        ];
        // Each error names the bad key or value and what is expected instead.
        let expected = ["delta", "unknown field `dleta`", "auto", "Hubr", "unknown key `confg`"];
        for (b, must) in bad.into_iter().zip(expected) {
            let err = from_keras_json(&b).unwrap_err().to_string();
            assert!(err.contains(must), "error for {b} should mention `{must}`: {err}");
        }
    }

    #[test]
    fn keras_3_15_configs_without_arguments_read_with_defaults() -> Result<()> {
        // Keras 3.15.1's get_config drops `delta` and CosineSimilarity's `axis`.
        let l = from_keras_json(&serde_json::json!({"module": "keras.losses", "class_name": "Huber",
            "config": {"name": "huber_loss", "reduction": "sum_over_batch_size"}, "registered_name": null}))?;
        assert_eq!(l.to_keras_json()["config"]["delta"], 1.0);
        let l = from_keras_json_str(r#"{"class_name": "CosineSimilarity", "config": {"axis": 1}}"#)?;
        assert_eq!(l.to_keras_json()["config"]["axis"], 1);
        Ok(())
    }
}
