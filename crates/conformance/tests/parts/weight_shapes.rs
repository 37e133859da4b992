//! Every registered metric with every `sample_weight` shape: the vectors of
//! `testdata/keras-metrics-weight-shapes.json` (written by
//! `testdata/metric-vector-generators/gen_weight_shapes.py` from Keras 3.15.1 on JAX), each run
//! against objectives with the rules of [`super::metrics`]: Keras's number (1e-5 relative), or an
//! error where Keras raised (`"error": true`, Keras's message in `"keras_error"`).
//!
//! A shape Keras refuses but objectives reads in a documented way (a scalar weight for the
//! F-scores, one weight per sample of `(B, T)` ids for the IoU family, …) is marked
//! `"objectives_accepts": reason` in the file, with Keras's result for the weight that objectives'
//! reading is equivalent to (`"equivalent_weight"`) as `expected`.
//!
//! Beyond the value: where the updates succeed without their weights, objectives' refusal must
//! name the weight's shape (`[4, 3]`), so that the message says what to fix.
//!
//! Filter with `OBJECTIVES_VECTORS` as the other parts.

use std::path::PathBuf;

use burn::tensor::Device;
use objectives::metrics::{self, Metric};
use serde_json::Value;

use super::metrics::{run, selected, tensor};

fn load() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/keras-metrics-weight-shapes.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    root["vectors"].as_array().cloned().unwrap_or_default()
}

/// The first update's error, or `None` when every update succeeds; `weighted: false` drops the
/// sample weights.
fn first_error(vector: &Value, device: &Device, weighted: bool) -> Result<Option<(usize, String)>, String> {
    let mut m: Box<dyn Metric> = match metrics::from_keras_json(&vector["metric"]) {
        Ok(m) => m,
        Err(e) => return Ok(Some((usize::MAX, e.to_string()))),
    };
    for (i, u) in vector["updates"].as_array().ok_or("no updates")?.iter().enumerate() {
        let t = tensor(&u["y_true"], device)?;
        let p = tensor(&u["y_pred"], device)?;
        let w = match u.get("sample_weight") {
            Some(w) if weighted && !w.is_null() => Some(tensor(w, device)?),
            _ => None,
        };
        if let Err(e) = m.update_state(&t, &p, w.as_ref()) {
            return Ok(Some((i, e.to_string())));
        }
    }
    Ok(None)
}

/// The file's own consistency: an error carries Keras's message; an extension carries its
/// reason, Keras's message and the equivalent weight's result.
fn well_formed(v: &Value) -> Result<(), String> {
    let error = v.get("error").and_then(Value::as_bool) == Some(true);
    let accepts = v.get("objectives_accepts").and_then(Value::as_str).is_some_and(|r| !r.is_empty());
    let keras_error = v.get("keras_error").and_then(Value::as_str).is_some_and(|r| !r.is_empty());
    let expected = v.get("expected").is_some();
    match (error, accepts, keras_error, expected) {
        (true, false, true, false) | (false, false, false, true) => Ok(()),
        (false, true, true, true) if v.get("equivalent_weight").is_some() => Ok(()),
        _ => Err(format!(
            "malformed vector: error={error}, objectives_accepts={accepts}, keras_error={keras_error}, \
             expected={expected}"
        )),
    }
}

fn check(v: &Value, device: &Device) -> Result<(), String> {
    well_formed(v)?;
    run(v, device)?;
    if v.get("error").and_then(Value::as_bool) != Some(true) {
        return Ok(());
    }
    // Refused: when the unweighted updates go through, the weight is at fault, and the message
    // must name its shape.
    if first_error(v, device, false)?.is_some() {
        return Ok(());
    }
    let Some((i, message)) = first_error(v, device, true)? else {
        return Err("expected an error, got none".into());
    };
    let shape = tensor(&v["updates"][i]["sample_weight"], device)?.shape().to_vec();
    if !message.contains(&format!("{shape:?}")) {
        return Err(format!("the refusal of a sample_weight of shape {shape:?} does not name it: {message}"));
    }
    Ok(())
}

#[test]
fn keras_metric_weight_shapes() {
    let device = objectives::device::test_device();
    let vectors = load();
    let filter = std::env::var("OBJECTIVES_VECTORS").ok();
    let (mut passed, mut refused, mut extensions, mut failed) = (0, 0, 0, vec![]);
    for v in &vectors {
        if !selected(&filter, v) {
            continue;
        }
        match check(v, &device) {
            Ok(()) => {
                passed += 1;
                refused += usize::from(v.get("error").and_then(Value::as_bool) == Some(true));
                extensions += usize::from(v.get("objectives_accepts").is_some());
            }
            Err(e) => failed.push(format!("{} [{}]: {e}", v["name"].as_str().unwrap_or("?"), v["source"])),
        }
    }
    println!(
        "{passed} weight-shape vectors passed ({refused} refused as Keras refuses them, {extensions} objectives \
         extensions), {} failed",
        failed.len()
    );
    assert!(failed.is_empty(), "{} failures:\n{}", failed.len(), failed.join("\n"));
    assert!(passed > 0 || filter.is_some(), "no vectors ran");
}

/// Every registered metric class has weight-shape vectors, among them one that Keras computes.
#[test]
fn every_registered_metric_has_weight_shape_vectors() {
    let vectors = load();
    let missing: Vec<&str> = metrics::registry::all()
        .iter()
        .map(|e| e.class_name)
        .filter(|c| {
            !vectors.iter().any(|v| {
                v["metric"]["class_name"].as_str() == Some(c)
                    && v.get("expected").is_some()
                    && v.get("objectives_accepts").is_none()
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        "metrics without weight-shape vectors in keras-metrics-weight-shapes.json: {missing:?}"
    );
}
