//! Reading and writing metric configs (Keras's `get_config()` objects).
//!
//! A family file declares each metric's arguments as a serde struct with Keras's defaults
//! (`#[serde(default, deny_unknown_fields)]`); [`split`] reads `name` and `dtype` and the
//! arguments, refusing unknown keys, and [`to_map`] writes every argument explicitly.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// `name` and the arguments of a Keras metric config; `dtype` must be float32 (or absent/null).
///
/// # Errors
/// [`Error::InvalidConfig`] naming the class and the bad key or value;
/// [`Error::UnsupportedDtype`] for a dtype other than float32.
pub fn split<C: DeserializeOwned>(class: &str, config: &Map<String, Value>) -> Result<(Option<String>, C)> {
    let mut rest = config.clone();
    let invalid = |message: String| Error::InvalidConfig { name: class.to_string(), message };
    let name = match rest.remove("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => return Err(invalid(format!("`name` must be a string, got {other}"))),
    };
    match rest.remove("dtype") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "float32" => {}
        Some(Value::Object(o)) if dtype_policy_name(&o) == Some("float32") => {}
        Some(other) => {
            return Err(Error::UnsupportedDtype(format!(
                "{other} (metrics compute in float32, as Keras's default; pass \"float32\" or null)"
            )));
        }
    }
    let args: C = serde_json::from_value(Value::Object(rest)).map_err(|e| invalid(format!("{e}")))?;
    Ok((name, args))
}

fn dtype_policy_name(o: &Map<String, Value>) -> Option<&str> {
    o.get("config").and_then(|c| c.get("name")).and_then(Value::as_str)
}

/// The arguments as config entries, every one written.
pub fn to_map<C: Serialize>(args: &C) -> Map<String, Value> {
    match serde_json::to_value(args) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// An [`Error::InvalidConfig`] for `class`.
pub fn invalid(class: &str, message: impl Into<String>) -> Error {
    Error::InvalidConfig { name: class.to_string(), message: message.into() }
}

/// An input error for metric `metric` (shapes, values): [`Error::MetricInput`].
pub fn input_error(metric: &str, message: impl Into<String>) -> Error {
    Error::MetricInput { name: metric.to_string(), message: message.into() }
}

/// Keras's `to_snake_case`: `"MeanIoU"` → `"mean_io_u"`, `"AUC"` → `"auc"`.
pub fn to_snake_case(name: &str) -> String {
    // re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    let c: Vec<char> = name.chars().collect();
    let mut a = String::new();
    let mut i = 0;
    while i < c.len() {
        if i > 0 && c[i].is_ascii_uppercase() && c.get(i + 1).is_some_and(|x| x.is_ascii_lowercase()) {
            a.push('_');
        }
        a.push(c[i]);
        i += 1;
    }
    // re.sub(r"\W+", "", …)
    let a: Vec<char> = a.chars().filter(|x| x.is_alphanumeric() || *x == '_').collect();
    // re.sub("([a-z])([A-Z])", r"\1_\2", …).lower()
    let mut out = String::new();
    for (i, &x) in a.iter().enumerate() {
        if i > 0 && x.is_ascii_uppercase() && a[i - 1].is_ascii_lowercase() {
            out.push('_');
        }
        out.push(x.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_like_keras() {
        for (c, s) in [
            ("MeanIoU", "mean_io_u"),
            ("AUC", "auc"),
            ("OneHotMeanIoU", "one_hot_mean_io_u"),
            ("KLDivergence", "kl_divergence"),
            ("R2Score", "r2_score"),
            ("F1Score", "f1_score"),
            ("FBetaScore", "f_beta_score"),
            ("TopKCategoricalAccuracy", "top_k_categorical_accuracy"),
            ("BinaryIoU", "binary_io_u"),
            ("IoU", "io_u"),
        ] {
            assert_eq!(to_snake_case(c), s, "{c}");
        }
    }
}
