//! Reading the compile setup of a Keras `.keras` archive: its loss(es), `loss_weights` and
//! metric names, from the `compile_config` in `config.json` (moved here from `objectives`, so
//! that the loss library does not depend on a zip reader).
//!
//! A `.keras` file is a zip archive holding `config.json` (the model's serialized config, with
//! `compile_config` beside `config`), `metadata.json` and `model.weights.h5`. Only
//! `config.json` is read. Losses come back as built objectives losses; anything objectives
//! cannot reproduce (a custom registered loss, an unknown class) is refused with a message
//! naming it.
//!
//! ```no_run
//! let setup = objectives_fit::keras_archive::read_keras_archive("model.keras")?;
//! for (output, loss) in setup.loss.iter().flat_map(|l| l.entries()) {
//!     println!("{output}: {:?}", loss.as_ref().map(|l| l.class_name()));
//! }
//! # Ok::<(), objectives::Error>(())
//! ```

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use objectives::metrics::MetricSpec;
use objectives::registry::{from_keras_json, get};
use objectives::{Error, Loss, Result};

/// A value given once for the model, per output in order, or per output by name (Keras accepts
/// all three for `loss`, `loss_weights` and `metrics`).
#[derive(Debug)]
pub enum PerOutput<T> {
    /// One value for every output.
    Single(T),
    /// One value per output, in the model's output order.
    List(Vec<T>),
    /// One value per output name.
    Named(Vec<(String, T)>),
}

impl<T> PerOutput<T> {
    /// `(output label, value)` pairs: `"*"` for a single value, the index or the name otherwise.
    pub fn entries(&self) -> Vec<(String, &T)> {
        match self {
            PerOutput::Single(v) => vec![("*".into(), v)],
            PerOutput::List(v) => v.iter().enumerate().map(|(i, x)| (i.to_string(), x)).collect(),
            PerOutput::Named(v) => v.iter().map(|(k, x)| (k.clone(), x)).collect(),
        }
    }
}

/// The compile setup of a Keras model, in objectives' types.
#[derive(Debug)]
pub struct CompileConfig {
    /// The loss per output (`None` inside: that output has no loss).
    pub loss: Option<PerOutput<Option<Box<dyn Loss>>>>,
    /// `loss_weights`, if given.
    pub loss_weights: Option<PerOutput<f64>>,
    /// Metrics per output (`metrics`): names as given (resolved against the shapes at the first
    /// batch, as Keras resolves `"accuracy"`), serialized metric objects built.
    pub metrics: Option<PerOutput<Vec<MetricSpec>>>,
    /// Metrics per output (`weighted_metrics`).
    pub weighted_metrics: Option<PerOutput<Vec<MetricSpec>>>,
    /// The optimizer's class name, if any (objectives does not build optimizers).
    pub optimizer: Option<String>,
}

fn invalid(message: String) -> Error {
    Error::InvalidConfig { name: "compile_config".into(), message }
}

/// Reads `compile_config` from a `.keras` archive.
///
/// # Errors
/// [`Error::Data`] for I/O and zip errors; [`Error::InvalidConfig`] for a missing or
/// malformed `compile_config`; the loss errors of [`from_keras_json`] for losses objectives does
/// not support.
pub fn read_keras_archive(path: impl AsRef<Path>) -> Result<CompileConfig> {
    let path = path.as_ref();
    let io = |e: &dyn std::fmt::Display| Error::Data(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| io(&e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| io(&format!("not a .keras (zip) archive: {e}")))?;
    let mut entry = zip.by_name("config.json").map_err(|e| io(&format!("no config.json in the archive: {e}")))?;
    if entry.size() > 64 << 20 {
        return Err(io(&"config.json is larger than 64 MiB; refusing to read it"));
    }
    let mut text = String::new();
    entry.read_to_string(&mut text).map_err(|e| io(&e))?;
    let config: Value = serde_json::from_str(&text).map_err(|e| io(&format!("config.json is not JSON: {e}")))?;
    compile_config_from_json(&config)
}

/// Reads the `compile_config` of a model config (`config.json`'s content), or a bare
/// `compile_config` object.
///
/// # Errors
/// As [`read_keras_archive`].
pub fn compile_config_from_json(config: &Value) -> Result<CompileConfig> {
    let cc = match config.get("compile_config") {
        Some(Value::Null) | None if config.get("loss").is_some() => config,
        Some(Value::Object(_)) => &config["compile_config"],
        _ => return Err(invalid("the model was saved without compile_config (it was not compiled)".into())),
    };
    let loss = match cc.get("loss") {
        None | Some(Value::Null) => None,
        Some(v) => Some(per_output(v, "loss", parse_loss)?),
    };
    let loss_weights = match cc.get("loss_weights") {
        None | Some(Value::Null) => None,
        Some(v) => Some(per_output(v, "loss_weights", |w| {
            w.as_f64().ok_or_else(|| invalid(format!("loss_weights entries must be numbers, got {w}")))
        })?),
    };
    let metrics = metrics_of(cc.get("metrics"))?;
    let weighted_metrics = metrics_of(cc.get("weighted_metrics"))?;
    let optimizer = match cc.get("optimizer") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("class_name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    Ok(CompileConfig { loss, loss_weights, metrics, weighted_metrics, optimizer })
}

/// A single value, a list (per output) or a dict (per output name). `leaf` parses one value;
/// a value that is itself a serialized object (has `class_name`) is a single value.
fn per_output<T>(v: &Value, what: &str, leaf: impl Fn(&Value) -> Result<T>) -> Result<PerOutput<T>> {
    match v {
        Value::Array(items) => Ok(PerOutput::List(items.iter().map(&leaf).collect::<Result<_>>()?)),
        Value::Object(o) if !o.contains_key("class_name") => Ok(PerOutput::Named(
            o.iter()
                .map(|(k, x)| {
                    leaf(x).map(|t| (k.clone(), t)).map_err(|e| invalid(format!("{what} of output `{k}`: {e}")))
                })
                .collect::<Result<_>>()?,
        )),
        other => Ok(PerOutput::Single(leaf(other)?)),
    }
}

/// One serialized loss: a name, a Keras loss object, or a serialized function.
fn parse_loss(v: &Value) -> Result<Option<Box<dyn Loss>>> {
    match v {
        Value::Null => Ok(None),
        Value::String(name) => get(name).map(Some),
        Value::Object(o) if o.get("class_name").and_then(Value::as_str) == Some("function") => {
            match (o.get("config").and_then(Value::as_str), o.get("registered_name").and_then(Value::as_str)) {
                (Some(name), None | Some("function")) => get(name).map(Some),
                (name, registered) => Err(invalid(format!(
                    "custom loss function {} (registered as {}) cannot be reproduced; rebuild it with objectives::custom::custom_loss",
                    name.unwrap_or("?"),
                    registered.unwrap_or("?")
                ))),
            }
        }
        other => from_keras_json(other).map(Some),
    }
}

/// Metrics: strings as given (checked against the registry, `accuracy`/`acc` aside), serialized
/// metric objects built with their arguments.
fn metrics_of(v: Option<&Value>) -> Result<Option<PerOutput<Vec<MetricSpec>>>> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(None) };
    let names = |list: &Value| -> Result<Vec<MetricSpec>> {
        let items = match list {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        };
        items
            .iter()
            .map(|m| match m {
                Value::String(s) if matches!(s.to_lowercase().as_str(), "accuracy" | "acc") => {
                    Ok(MetricSpec::Name(s.clone()))
                }
                Value::String(s) => objectives::metrics::get(s).map(|_| MetricSpec::Name(s.clone())),
                Value::Object(_) => objectives::metrics::from_keras_json(m).map(MetricSpec::Object),
                other => Err(invalid(format!("metrics entries must be names or serialized metrics, got {other}"))),
            })
            .collect()
    };
    match v {
        // A flat list of metrics applies to every output; a list of lists is per output.
        Value::Array(items) if items.iter().any(Value::is_array) => {
            Ok(Some(PerOutput::List(items.iter().map(&names).collect::<Result<_>>()?)))
        }
        Value::Object(o) if !o.contains_key("class_name") => {
            Ok(Some(PerOutput::Named(o.iter().map(|(k, x)| names(x).map(|n| (k.clone(), n))).collect::<Result<_>>()?)))
        }
        other => Ok(Some(PerOutput::Single(names(other)?))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/two_outputs.keras")
    }

    #[test]
    fn reads_the_hand_built_archive() -> Result<()> {
        let cc = read_keras_archive(fixture())?;
        let Some(PerOutput::Named(losses)) = &cc.loss else { panic!("{cc:?}") };
        assert_eq!(losses[0].0, "features");
        assert_eq!(losses[0].1.as_ref().map(|l| l.class_name()), Some("MeanSquaredError"));
        assert_eq!(losses[1].1.as_ref().map(|l| l.class_name()), Some("SparseCategoricalCrossentropy"));
        let Some(PerOutput::Named(w)) = &cc.loss_weights else { panic!("{cc:?}") };
        assert_eq!(w, &vec![("features".to_string(), 1.0), ("classes".to_string(), 0.5)]);
        let Some(PerOutput::Named(m)) = &cc.metrics else { panic!("{cc:?}") };
        let names = |i: usize| (m[i].0.clone(), m[i].1.iter().map(|s| s.name().to_string()).collect::<Vec<_>>());
        assert_eq!(names(0), ("features".to_string(), vec!["mae".to_string()]));
        assert_eq!(names(1), ("classes".to_string(), vec!["sparse_categorical_accuracy".to_string()]));
        assert_eq!(cc.optimizer.as_deref(), Some("Adam"));
        Ok(())
    }

    #[test]
    fn builds_serialized_metric_objects() {
        let config = serde_json::json!({"compile_config": {"loss": "mse", "metrics": [
            "mae",
            {"module": "keras.metrics", "class_name": "AUC", "config": {"name": "my_auc", "num_thresholds": 7},
             "registered_name": null}
        ], "weighted_metrics": null}});
        let cc = compile_config_from_json(&config).unwrap();
        let Some(PerOutput::Single(m)) = &cc.metrics else { panic!("{cc:?}") };
        assert_eq!(m[0].name(), "mae");
        let MetricSpec::Object(auc) = &m[1] else { panic!("{m:?}") };
        assert_eq!((auc.class_name(), auc.name()), ("AUC", "my_auc"));
        assert_eq!(auc.config()["num_thresholds"], 7);
        let bad = serde_json::json!({"compile_config": {"loss": "mse", "metrics": ["no_such_metric"]}});
        assert!(compile_config_from_json(&bad).unwrap_err().to_string().contains("no_such_metric"));
    }

    #[test]
    fn refuses_what_it_cannot_reproduce() {
        let custom = serde_json::json!({"compile_config": {"loss": {"module": "builtins", "class_name": "function",
            "config": "my_loss", "registered_name": "Custom>my_loss"}}});
        let err = compile_config_from_json(&custom).unwrap_err().to_string();
        assert!(err.contains("my_loss"), "{err}");
        let unknown = serde_json::json!({"compile_config": {"loss": "focal_tversky"}});
        assert!(compile_config_from_json(&unknown).is_err());
        let uncompiled = serde_json::json!({"class_name": "Sequential", "config": {}});
        assert!(compile_config_from_json(&uncompiled).is_err());
        assert!(read_keras_archive("/nonexistent.keras").is_err());
    }
}
