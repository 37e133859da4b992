//! Keras 3 conformance: every vector in `testdata/keras-losses-vectors.json` (extracted from
//! Keras's own `losses_test.py` / `loss_test.py`, values checked on Keras 3.15.1) run against
//! objectives, all failures reported together.
//!
//! Filter with `OBJECTIVES_VECTORS=huber,-hinge` (comma-separated substrings of the loss class
//! or test name, case-insensitive; a leading `-` excludes).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

/// The metric vectors (one test binary fewer to link).
#[path = "parts/metrics.rs"]
mod metrics;

/// Every metric with every `sample_weight` shape (Keras's numbers, or its refusals).
#[path = "parts/weight_shapes.rs"]
mod weight_shapes;

use std::path::PathBuf;

use burn::tensor::{Device, TensorData};
use objectives::loss::LossValues;
use objectives::prelude::*;
use objectives::wrapper::{LossFn, LossFunctionWrapper};
use serde_json::{Map, Value};

/// Keras's `ExampleLoss` from `loss_test.py`: `(y_true − y_pred)²` with no axis reduction, which
/// tests the reduction pipeline alone. It is also a custom loss built on the public API.
#[derive(Clone, Debug, Default)]
struct ExampleLoss;

impl LossFn for ExampleLoss {
    const CLASS_NAME: &'static str = "ExampleLoss";
    const DEFAULT_NAME: &'static str = "example_loss";
    fn per_sample(&self, y_true: &DynTensor, y_pred: &DynTensor) -> objectives::Result<LossValues> {
        let (t, p) = objectives::shape::align_targets("example_loss", y_true, y_pred)?;
        let d = t.into_padded().sub(p.into_padded()).square();
        Ok(DynTensor::from_padded_checked(d, y_pred.shape().to_vec())?.into())
    }
    fn config(&self) -> Map<String, Value> {
        Map::new()
    }
    fn from_config(_: Map<String, Value>) -> objectives::Result<Self> {
        Ok(ExampleLoss)
    }
}

struct Vectors {
    fixtures: Map<String, Value>,
    vectors: Vec<Value>,
}

fn load() -> Vectors {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/keras-losses-vectors.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Vectors {
        fixtures: root["fixtures"].as_object().cloned().unwrap_or_default(),
        vectors: root["vectors"].as_array().cloned().unwrap_or_default(),
    }
}

/// Nested JSON numbers (or booleans) → (flat f64 values, shape).
fn flatten(v: &Value, out: &mut Vec<f64>, shape: &mut Vec<usize>, depth: usize) -> Result<(), String> {
    match v {
        Value::Array(items) => {
            if shape.len() == depth {
                shape.push(items.len());
            } else if shape[depth] != items.len() {
                return Err("ragged array".into());
            }
            for it in items {
                flatten(it, out, shape, depth + 1)?;
            }
            Ok(())
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

impl Vectors {
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.as_str().and_then(|s| s.strip_prefix('@')) {
            Some(name) => self.fixtures.get(name).unwrap_or(v),
            None => v,
        }
    }

    fn tensor(&self, v: &Value, device: &Device) -> Result<DynTensor, String> {
        let (mut data, mut shape) = (vec![], vec![]);
        flatten(self.resolve(v), &mut data, &mut shape, 0)?;
        let data: Vec<f32> = data.into_iter().map(|x| x as f32).collect();
        DynTensor::from_data(TensorData::new(data, shape), device).map_err(|e| e.to_string())
    }
}

fn build_loss(vector: &Value) -> Result<Option<Box<dyn Loss>>, String> {
    let class = vector["loss"].as_str().unwrap_or_default();
    let mut config = vector.get("args").and_then(Value::as_object).cloned().unwrap_or_default();
    if class.starts_with("ExampleLoss") {
        let reduction = config.remove("reduction").map(|r| Reduction::from_json(&r)).transpose();
        let loss = LossFunctionWrapper::new(ExampleLoss)
            .with_reduction(reduction.map_err(|e| e.to_string())?.unwrap_or_default());
        return Ok(Some(Box::new(loss)));
    }
    match objectives::registry::ALL_LOSSES.iter().find(|e| e.class_name == class) {
        Some(entry) => entry.build(&config).map(Some).map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

fn selected(filter: &Option<String>, vector: &Value) -> bool {
    let Some(filter) = filter else { return true };
    let hay =
        format!("{} {}", vector["loss"].as_str().unwrap_or(""), vector["test"].as_str().unwrap_or("")).to_lowercase();
    let terms: Vec<&str> = filter.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
    let (neg, pos): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| t.starts_with('-'));
    let included = pos.is_empty() || pos.iter().any(|t| hay.contains(&t.to_lowercase()));
    let excluded = neg.iter().any(|t| hay.contains(&t[1..].to_lowercase()));
    included && !excluded
}

fn run_vector(vs: &Vectors, vector: &Value, loss: &dyn Loss, device: &Device) -> Result<(), String> {
    let y_true = vs.tensor(&vector["y_true"], device)?;
    let y_pred = vs.tensor(&vector["y_pred"], device)?;
    let sw = match vector.get("sample_weight") {
        Some(w) => Some(vs.tensor(w, device)?),
        None => None,
    };
    let mask = match vector.get("call_kwargs").and_then(|k| k.get("y_pred_keras_mask")) {
        Some(m) => Some(vs.tensor(m, device)?),
        None => None,
    };
    let got = loss.compute(&y_true, &y_pred, sw.as_ref(), mask.as_ref()).map_err(|e| e.to_string())?;
    compare(vector, got)
}

/// A `"form": "function"` vector: the loss function called directly with its `args` and
/// `call_kwargs`, compared unreduced; `None` for a function without a runner here.
fn run_function(vs: &Vectors, vector: &Value, device: &Device) -> Option<Result<(), String>> {
    match vector["loss"].as_str()? {
        "circle" => Some(run_circle(vs, vector, device)),
        _ => None,
    }
}

/// `keras.losses.circle(y_true, y_pred, ref_labels=…, ref_embeddings=…, **args)`.
fn run_circle(vs: &Vectors, vector: &Value, device: &Device) -> Result<(), String> {
    let args = vector.get("args").and_then(Value::as_object).cloned().unwrap_or_default();
    let config = CircleConfig::from_config(args).map_err(|e| e.to_string())?;
    let y_true = vs.tensor(&vector["y_true"], device)?;
    let y_pred = vs.tensor(&vector["y_pred"], device)?;
    let kwarg = |name: &str, default: &DynTensor| match vector.get("call_kwargs").and_then(|k| k.get(name)) {
        Some(v) => vs.tensor(v, device),
        None => Ok(default.clone()),
    };
    let (ref_labels, ref_embeddings) = (kwarg("ref_labels", &y_true)?, kwarg("ref_embeddings", &y_pred)?);
    let got =
        objectives::metric_learning::circle::circle_with_refs(&y_true, &y_pred, &ref_labels, &ref_embeddings, &config)
            .map_err(|e| e.to_string())?;
    compare(vector, got.values)
}

/// Checks `got` against the vector's `expected` with the file's tolerance rule.
fn compare(vector: &Value, got: DynTensor) -> Result<(), String> {
    let got_shape = got.shape().to_vec();
    let got = got.to_vec_f64().map_err(|e| e.to_string())?;
    let (mut expected, mut shape) = (vec![], vec![]);
    flatten(&vector["expected"], &mut expected, &mut shape, 0)?;
    if expected.len() != got.len() {
        return Err(format!("expected {} values (shape {shape:?}), got shape {got_shape:?}", expected.len()));
    }
    let tol = vector["tol"].as_f64().unwrap_or(1.5e-3);
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        // The file's rule: pass iff |got − expected| ≤ tol + max(tol, 1e-4)·|expected|.
        let within = (g - e).abs() <= tol + tol.max(1e-4) * e.abs();
        if !within {
            return Err(format!("value {i}: got {g}, expected {e} (tol {tol})"));
        }
    }
    Ok(())
}

#[test]
fn keras_vectors() {
    let vs = load();
    let device = objectives::device::test_device();
    let filter = std::env::var("OBJECTIVES_VECTORS").ok();
    let (mut passed, mut failed, mut pending) = (vec![], vec![], std::collections::BTreeMap::<String, usize>::new());
    let fused_before = objectives::fused::calls_on_this_thread();
    for vector in &vs.vectors {
        if !selected(&filter, vector) {
            continue;
        }
        let test = vector["test"].as_str().unwrap_or("?").to_string();
        let outcome = if vector.get("form").and_then(Value::as_str) == Some("function") {
            run_function(&vs, vector, &device)
        } else {
            match build_loss(vector) {
                Ok(Some(loss)) => Some(run_vector(&vs, vector, loss.as_ref(), &device)),
                Ok(None) => None,
                Err(e) => Some(Err(format!("building the loss failed: {e}"))),
            }
        };
        match outcome {
            Some(Ok(())) => passed.push(test),
            Some(Err(e)) => failed.push(format!("{test}: {e}")),
            None => *pending.entry(vector["loss"].as_str().unwrap_or("?").to_string()).or_default() += 1,
        }
    }
    let fused = objectives::fused::calls_on_this_thread() - fused_before;
    println!(
        "conformance: {} passed, {} failed; {fused} loss evaluations took the fused path",
        passed.len(),
        failed.len()
    );
    if !pending.is_empty() {
        println!("not implemented yet (not run): {pending:?}");
    }
    assert!(
        failed.is_empty(),
        "{} of {} conformance vectors failed:\n  {}",
        failed.len(),
        passed.len() + failed.len(),
        failed.join("\n  ")
    );
    assert!(!passed.is_empty() || filter.is_some(), "no conformance vector ran");
    // The suite passes with the fused kernels active (default on unless OBJECTIVES_FUSED=0).
    assert!(filter.is_some() || std::env::var("OBJECTIVES_FUSED").is_ok_and(|v| v == "0") || fused > 0);
}

/// Registry invariant: every registered loss has at least one Keras vector.
#[test]
fn every_registered_loss_has_vectors() {
    let vs = load();
    let missing: Vec<&str> = objectives::registry::ALL_LOSSES
        .iter()
        .map(|e| e.class_name)
        .filter(|c| !vs.vectors.iter().any(|v| v["loss"].as_str() == Some(c)))
        .collect();
    assert!(missing.is_empty(), "no conformance vector for {missing:?}");
}
