//! Keras's serialized form of a built-in object, `{"module", "class_name", "config",
//! "registered_name": null}`: read and checked once, for the loss and the metric registries.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The `class_name` and `config` of Keras's serialized form of a built-in object,
/// `{"module", "class_name", "config", "registered_name": null}`, checked: no other keys, a
/// `module` that `module_ok` accepts (or none), no `registered_name` (a custom object cannot be
/// rebuilt), `config` an object (or absent). `what` is "loss" or "metric", `module` the Keras
/// module named in errors. Shared by the loss and the metric registries.
///
/// # Errors
/// [`Error::InvalidConfig`] naming the bad key or value.
pub fn keras_envelope<'a>(
    value: &'a Value,
    what: &str,
    module: &str,
    module_ok: impl Fn(&str) -> bool,
) -> Result<(&'a str, Map<String, Value>)> {
    let invalid = |message: String| Error::InvalidConfig { name: module.into(), message };
    let Value::Object(obj) = value else {
        return Err(invalid(format!("expected a {what} name or a serialized Keras {what} object, got {value}")));
    };
    for key in obj.keys() {
        if !matches!(key.as_str(), "module" | "class_name" | "config" | "registered_name") {
            return Err(invalid(format!(
                "unknown key `{key}`; a serialized {what} has `module`, `class_name`, `config` and `registered_name`"
            )));
        }
    }
    match obj.get("module") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if module_ok(m) => {}
        Some(other) => return Err(invalid(format!("`module` must be \"{module}\", got {other}"))),
    }
    match obj.get("registered_name") {
        None | Some(Value::Null) => {}
        Some(other) => {
            return Err(invalid(format!(
                "`registered_name` {other} names a custom {what}; only built-in ones can be read \
                 (registered_name: null)"
            )));
        }
    }
    let class = match obj.get("class_name") {
        Some(Value::String(c)) => c.as_str(),
        _ => return Err(invalid(format!("missing `class_name` (a string naming a {what} class)"))),
    };
    let config = match obj.get("config") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(c)) => c.clone(),
        Some(other) => return Err(invalid(format!("`config` must be an object, got {other}"))),
    };
    Ok((class, config))
}
