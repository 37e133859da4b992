//! The one registry of loss names: Keras class names, function names and aliases, and the Keras
//! serialized form (`{"module", "class_name", "config", "registered_name"}`).

use serde_json::{Map, Value};

use crate::error::{LossError, Result};
use crate::loss::{Loss, LossFn, LossFunctionWrapper};
use crate::*;

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
    build: BuildFn,
}

impl LossEntry {
    /// Builds the loss from the `config` object of its Keras serialized form (`{}` for defaults).
    ///
    /// # Errors
    /// [`LossError::InvalidConfig`] (unknown key, bad value), [`LossError::InvalidReduction`],
    /// [`LossError::UnsupportedDtype`].
    pub fn build(&self, config: &Map<String, Value>) -> Result<Box<dyn Loss>> {
        (self.build)(config)
    }

    /// Every name this entry answers to.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        [self.class_name, self.function_name].into_iter().chain(self.aliases.iter().copied())
    }
}

fn build<F: LossFn>(config: &Map<String, Value>) -> Result<Box<dyn Loss>> {
    Ok(Box::new(LossFunctionWrapper::<F>::from_keras_config(config)?))
}

const fn entry<F: LossFn>(function_name: &'static str, aliases: &'static [&'static str]) -> LossEntry {
    LossEntry { class_name: F::CLASS_NAME, function_name, default_name: F::DEFAULT_NAME, aliases, build: build::<F> }
}

/// Every loss objectives implements, in Keras's documentation order.
pub static ALL_LOSSES: &[LossEntry] = &[
    entry::<MeanSquaredErrorConfig>("mean_squared_error", &["mse", "MSE"]),
    entry::<MeanAbsoluteErrorConfig>("mean_absolute_error", &["mae", "MAE"]),
    entry::<MeanAbsolutePercentageErrorConfig>("mean_absolute_percentage_error", &["mape", "MAPE"]),
    entry::<MeanSquaredLogarithmicErrorConfig>("mean_squared_logarithmic_error", &["msle", "MSLE"]),
    entry::<CosineSimilarityConfig>("cosine_similarity", &[]),
    entry::<HuberConfig>("huber", &["huber_loss"]),
    entry::<LogCoshConfig>("log_cosh", &["logcosh"]),
    entry::<HingeConfig>("hinge", &[]),
    entry::<SquaredHingeConfig>("squared_hinge", &[]),
    entry::<CategoricalHingeConfig>("categorical_hinge", &[]),
    entry::<KlDivergenceConfig>("kl_divergence", &["kld", "KLD", "kullback_leibler_divergence"]),
    entry::<PoissonConfig>("poisson", &[]),
    entry::<BinaryCrossentropyConfig>("binary_crossentropy", &["bce", "BCE"]),
    entry::<BinaryFocalCrossentropyConfig>("binary_focal_crossentropy", &[]),
    entry::<CategoricalCrossentropyConfig>("categorical_crossentropy", &[]),
    entry::<CategoricalFocalCrossentropyConfig>("categorical_focal_crossentropy", &[]),
    entry::<SparseCategoricalCrossentropyConfig>("sparse_categorical_crossentropy", &[]),
    entry::<DiceConfig>("dice", &[]),
    entry::<TverskyConfig>("tversky", &[]),
    entry::<CircleConfig>("circle", &[]),
    // Not in Keras's string lookup (`ALL_OBJECTS`); objectives resolves it by name anyway.
    entry::<CategoricalGeneralizedCrossEntropyConfig>("categorical_generalized_cross_entropy", &[]),
    entry::<CtcConfig>("ctc", &[]),
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
/// # Ok::<(), objectives::LossError>(())
/// ```
/// # Errors
/// [`LossError::UnknownLoss`].
pub fn get(name: &str) -> Result<Box<dyn Loss>> {
    lookup(name).ok_or_else(|| LossError::UnknownLoss(name.to_string()))?.build(&Map::new())
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
/// # Ok::<(), objectives::LossError>(())
/// ```
/// # Errors
/// [`LossError::UnknownLoss`] for an unknown class, [`LossError::InvalidConfig`] for unknown
/// keys or bad values.
pub fn from_keras_json(value: &Value) -> Result<Box<dyn Loss>> {
    let invalid = |message: String| LossError::InvalidConfig { loss: "keras.losses".into(), message };
    let obj = match value {
        Value::String(name) => return get(name),
        Value::Object(obj) => obj,
        other => {
            return Err(invalid(format!("expected a loss name or a serialized Keras loss object, got {other}")));
        }
    };
    for key in obj.keys() {
        if !matches!(key.as_str(), "module" | "class_name" | "config" | "registered_name") {
            return Err(invalid(format!(
                "unknown key `{key}`; a serialized loss has `module`, `class_name`, `config` and `registered_name`"
            )));
        }
    }
    match obj.get("module") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if m == "keras.losses" || m == "keras.src.losses.losses" || m == "keras.src.losses" => {}
        Some(other) => return Err(invalid(format!("`module` must be \"keras.losses\", got {other}"))),
    }
    match obj.get("registered_name") {
        None | Some(Value::Null) => {}
        Some(other) => {
            return Err(invalid(format!(
                "`registered_name` {other} names a custom loss; only built-in losses can be read (registered_name: null)"
            )));
        }
    }
    let class = match obj.get("class_name") {
        Some(Value::String(c)) => c,
        _ => return Err(invalid("missing `class_name` (a string such as \"Huber\")".into())),
    };
    let entry =
        ALL_LOSSES.iter().find(|e| e.class_name == class).ok_or_else(|| LossError::UnknownLoss(class.clone()))?;
    let empty = Map::new();
    let config = match obj.get("config") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(c)) => c,
        Some(other) => return Err(invalid(format!("`config` must be an object, got {other}"))),
    };
    entry.build(config)
}

/// [`from_keras_json`] on text: JSON (an object or a quoted name), or a bare name such as `mse`.
///
/// # Errors
/// As [`from_keras_json`]; [`LossError::InvalidConfig`] for malformed JSON.
pub fn from_keras_json_str(text: &str) -> Result<Box<dyn Loss>> {
    let t = text.trim();
    if !t.starts_with('{') && !t.starts_with('"') {
        return get(t);
    }
    let value: Value = serde_json::from_str(t).map_err(|e| LossError::InvalidConfig {
        loss: "keras.losses".into(),
        message: format!("malformed JSON: {e}"),
    })?;
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
        for b in bad {
            let err = from_keras_json(&b).unwrap_err();
            assert!(!err.to_string().is_empty());
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
