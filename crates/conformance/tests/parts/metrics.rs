//! Keras 3 metric conformance: every vector in `testdata/keras-metrics-vectors.json` (the expected
//! values of Keras 3.15.1's own `keras/src/metrics/*_test.py`, each with its source line) run
//! against objectives' metrics, all failures reported together; and the invariant that every
//! registered metric class has vectors.
//!
//! A vector: `{"name", "source": "file_test.py:LINE", "metric": {"class_name", "config"},
//! "updates": [{"y_true", "y_pred", "sample_weight"?}, …], "expected": number | [numbers],
//! "rtol"?, "atol"?}` or, instead of `expected`, `"error": true` (the config or an update must be
//! refused).
//! Arrays are nested JSON lists (booleans are 0/1), or `{"shape": […], "data": […]}` (flat,
//! row-major).
//!
//! Filter with `OBJECTIVES_VECTORS=auc,-iou` (substrings of the class or vector name); run
//! another file with `OBJECTIVES_METRIC_VECTORS=path.json` (the invariant then is skipped).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use std::path::PathBuf;

use burn::tensor::{Device, TensorData};
use objectives::DynTensor;
use objectives::metrics::{self, Metric, MetricValue};
use serde_json::Value;

fn path() -> (PathBuf, bool) {
    match std::env::var("OBJECTIVES_METRIC_VECTORS") {
        Ok(p) => (PathBuf::from(p), false),
        Err(_) => (PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/keras-metrics-vectors.json"), true),
    }
}

fn load() -> Vec<Value> {
    let (path, _) = path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    root["vectors"].as_array().cloned().unwrap_or_default()
}

fn flatten(v: &Value, out: &mut Vec<f64>, shape: &mut Vec<usize>, depth: usize) -> Result<(), String> {
    match v {
        Value::Array(items) => {
            if shape.len() == depth {
                shape.push(items.len());
            } else if shape[depth] != items.len() {
                return Err("ragged array".into());
            }
            items.iter().try_for_each(|it| flatten(it, out, shape, depth + 1))
        }
        Value::Number(n) => {
            out.push(n.as_f64().ok_or("bad number")?);
            Ok(())
        }
        Value::Bool(b) => {
            out.push(if *b { 1.0 } else { 0.0 });
            Ok(())
        }
        other => Err(format!("unexpected {other}")),
    }
}

pub(crate) fn tensor(v: &Value, device: &Device) -> Result<DynTensor, String> {
    let (mut data, mut shape) = (vec![], vec![]);
    match v.as_object() {
        Some(o) if o.contains_key("shape") => {
            flatten(&o["data"], &mut data, &mut vec![], 0)?;
            shape = o["shape"].as_array().ok_or("shape")?.iter().map(|d| d.as_u64().unwrap_or(0) as usize).collect();
        }
        _ => flatten(v, &mut data, &mut shape, 0)?,
    }
    let data: Vec<f32> = data.into_iter().map(|x| x as f32).collect();
    DynTensor::from_data(TensorData::new(data, shape), device).map_err(|e| e.to_string())
}

pub(crate) fn selected(filter: &Option<String>, vector: &Value) -> bool {
    let Some(filter) = filter else { return true };
    let hay =
        format!("{} {}", vector["metric"]["class_name"].as_str().unwrap_or(""), vector["name"].as_str().unwrap_or(""))
            .to_lowercase();
    let terms: Vec<&str> = filter.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
    let (neg, pos): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| t.starts_with('-'));
    let included = pos.is_empty() || pos.iter().any(|t| hay.contains(&t.to_lowercase()));
    let excluded = neg.iter().any(|t| hay.contains(&t[1..].to_lowercase()));
    included && !excluded
}

pub(crate) fn run(vector: &Value, device: &Device) -> Result<(), String> {
    let expect_error = vector.get("error").and_then(Value::as_bool) == Some(true);
    let mut m: Box<dyn Metric> = match metrics::from_keras_json(&vector["metric"]) {
        Ok(m) => m,
        // A config Keras refuses in its constructor.
        Err(_) if expect_error => return Ok(()),
        Err(e) => return Err(format!("build: {e}")),
    };
    let updates = vector["updates"].as_array().ok_or("no updates")?;
    for (i, u) in updates.iter().enumerate() {
        let t = tensor(&u["y_true"], device)?;
        let p = tensor(&u["y_pred"], device)?;
        let w = match u.get("sample_weight") {
            Some(Value::Null) | None => None,
            Some(w) => Some(tensor(w, device)?),
        };
        match (m.update_state(&t, &p, w.as_ref()), expect_error) {
            (Err(_), true) => return Ok(()),
            (Err(e), false) => return Err(format!("update {i}: {e}")),
            (Ok(()), _) => {}
        }
    }
    if expect_error {
        return Err("expected an error, got none".into());
    }
    let got = match m.result() {
        MetricValue::Scalar(v) => vec![v],
        MetricValue::Vector(v) => v,
    };
    let (mut want, mut shape) = (vec![], vec![]);
    flatten(&vector["expected"], &mut want, &mut shape, 0)?;
    if got.len() != want.len() {
        return Err(format!("got {} values {got:?}, expected {} {want:?}", got.len(), want.len()));
    }
    let rtol = vector.get("rtol").and_then(Value::as_f64).unwrap_or(1e-5);
    let atol = vector.get("atol").and_then(Value::as_f64).unwrap_or(1e-6);
    for (g, w) in got.iter().zip(&want) {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= atol + rtol * w.abs();
        if !ok {
            return Err(format!("got {got:?}, expected {want:?} (rtol {rtol}, atol {atol})"));
        }
    }
    // The serialized form round-trips to the same config.
    let again = metrics::from_keras_json(&m.serialize()).map_err(|e| format!("round trip: {e}"))?;
    if again.config() != m.config() {
        return Err(format!("config round trip: {:?} != {:?}", again.config(), m.config()));
    }
    Ok(())
}

#[test]
fn keras_metric_vectors() {
    let device = objectives::device::test_device();
    let vectors = load();
    let filter = std::env::var("OBJECTIVES_VECTORS").ok();
    let (mut passed, mut failed) = (0, vec![]);
    for v in &vectors {
        if !selected(&filter, v) {
            continue;
        }
        match run(v, &device) {
            Ok(()) => passed += 1,
            Err(e) => failed.push(format!(
                "{} [{}] ({}): {e}",
                v["name"].as_str().unwrap_or("?"),
                v["metric"]["class_name"].as_str().unwrap_or("?"),
                v["source"].as_str().unwrap_or("?")
            )),
        }
    }
    println!("{passed} metric vectors passed, {} failed", failed.len());
    assert!(failed.is_empty(), "{} failures:\n{}", failed.len(), failed.join("\n"));
    assert!(passed > 0 || filter.is_some(), "no vectors ran");
}

#[test]
fn every_registered_metric_has_vectors() {
    if !path().1 {
        return;
    }
    let vectors = load();
    let missing: Vec<&str> = metrics::registry::all()
        .iter()
        .map(|e| e.class_name)
        .filter(|c| !vectors.iter().any(|v| v["metric"]["class_name"].as_str() == Some(c)))
        .collect();
    assert!(missing.is_empty(), "metrics without Keras vectors in testdata/keras-metrics-vectors.json: {missing:?}");
}
