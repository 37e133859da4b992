//! Every registered metric class and test configuration, as a burn-train metric: batch, running
//! and epoch values equal objectives' own on the same batches, bit for bit, in any order of the
//! batches (as several devices hand them in); names never collide.

use std::collections::BTreeMap;

use burn::train::metric::{Metric as _, Numeric, NumericEntry};
use objectives::metrics::MetricValue;
use objectives::metrics::registry::{Inputs, all};
use objectives_burn::{LearnerMetric, MetricInput};
use serde_json::Value;

use super::common::{Gen, metadata, tensor};

const C: usize = 3;

/// `(y_true, y_pred)` values and shapes for `rows` rows of `inputs` (as objectives' merge test).
/// Values and shape.
type Array = (Vec<f32>, Vec<usize>);

fn data(inputs: Inputs, rows: usize, g: &mut Gen) -> (Array, Array) {
    let n = rows * C;
    let probs = |g: &mut Gen| -> Vec<f32> {
        (0..rows)
            .flat_map(|_| {
                let r: Vec<f32> = (0..C).map(|_| g.uniform(0.05, 1.0)).collect();
                let s: f32 = r.iter().sum();
                r.into_iter().map(move |x| x / s)
            })
            .collect()
    };
    let two = |t: Vec<f32>, p: Vec<f32>| ((t, vec![rows, C]), (p, vec![rows, C]));
    match inputs {
        Inputs::Regression | Inputs::Values => {
            two((0..n).map(|_| g.uniform(-2.0, 2.0)).collect(), (0..n).map(|_| g.uniform(-2.0, 2.0)).collect())
        }
        Inputs::Positive => {
            two((0..n).map(|_| g.uniform(0.1, 3.0)).collect(), (0..n).map(|_| g.uniform(0.1, 3.0)).collect())
        }
        Inputs::Binary => two(
            (0..n).map(|_| if g.next() < 0.5 { 0.0 } else { 1.0 }).collect(),
            (0..n).map(|_| g.uniform(0.0, 1.0)).collect(),
        ),
        Inputs::Categorical => {
            let t = (0..rows)
                .flat_map(|_| {
                    let k = g.class(C);
                    (0..C).map(move |j| if j == k { 1.0 } else { 0.0 })
                })
                .collect();
            two(t, probs(g))
        }
        Inputs::Sparse => {
            let t = (0..rows).map(|_| g.class(C) as f32).collect();
            ((t, vec![rows]), (probs(g), vec![rows, C]))
        }
        Inputs::Labels => two((0..n).map(|_| g.class(C) as f32).collect(), (0..n).map(|_| g.class(C) as f32).collect()),
    }
}

fn final_of(e: NumericEntry) -> f64 {
    match e {
        NumericEntry::Final(v) => v,
        other => panic!("not a final entry: {other:?}"),
    }
}

fn bits_eq(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn every_registered_metric_is_a_burn_train_metric_with_objectives_values() {
    let d = objectives::device::test_device();
    let mut g = Gen(11);
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut classes = 0;
    let mut failures = vec![];
    for e in all() {
        classes += 1;
        for config in e.configs().unwrap() {
            let json = serde_json::json!({"class_name": e.class_name, "config": Value::Object(config.clone())});
            let what = json.to_string();
            // Three batches of different sizes (the last one partial), weighted per sample.
            let batches: Vec<MetricInput> = [5usize, 4, 2]
                .iter()
                .map(|&rows| {
                    let ((t, ts), (p, ps)) = data(e.inputs, rows, &mut g);
                    let w: Vec<f32> = (0..rows).map(|_| g.uniform(0.0, 2.0)).collect();
                    MetricInput::new(tensor(&t, &ts, &d), tensor(&p, &ps, &d)).with_sample_weight(tensor(
                        &w,
                        &[rows],
                        &d,
                    ))
                })
                .collect();
            for weighted in [false, true] {
                // objectives' own metric over the same batches.
                let mut own = e.build(&config).unwrap();
                let mut own_batches = vec![];
                for b in &batches {
                    let w = weighted.then_some(b.sample_weight.as_ref()).flatten();
                    let mut one = e.build(&config).unwrap();
                    one.update_state(&b.y_true, &b.y_pred, w).unwrap();
                    own_batches.push(one.result().to_vec());
                    own.update_state(&b.y_true, &b.y_pred, w).unwrap();
                }
                let expected = own.result();
                let mut base = LearnerMetric::from_keras_json(&what).unwrap();
                if weighted {
                    base = base.weighted();
                }
                let learners = match &expected {
                    MetricValue::Scalar(_) => vec![base],
                    MetricValue::Vector(v) => base.per_class(v.len()),
                };
                let values = expected.to_vec();
                for (i, mut m) in learners.into_iter().enumerate() {
                    let name = m.name_string();
                    // The identity of a configuration: every argument the metric was built with.
                    let mut config = m.metric().config();
                    config.remove("name");
                    let identity = format!("{} {}", e.class_name, Value::Object(config));
                    if let Some(other) = names.insert(name.clone(), identity.clone())
                        && other != identity
                    {
                        failures.push(format!("name `{name}` of {what} is also {other}'s"));
                    }
                    // Batches in order, then in reverse (devices hand them in any order): the
                    // epoch value is the same to the bit.
                    for order in [[0usize, 1, 2], [2, 1, 0]] {
                        m.clear();
                        for &k in &order {
                            m.update(&batches[k], &metadata()).unwrap_or_else(|err| panic!("{what}: {err}"));
                            let batch = m.value().unwrap().current();
                            if !bits_eq(batch, own_batches[k][i]) {
                                failures.push(format!("{name}: batch {k} value {batch} != {}", own_batches[k][i]));
                            }
                        }
                        m.compute().unwrap();
                        let epoch = final_of(m.final_value());
                        if !bits_eq(epoch, values[i]) {
                            failures.push(format!(
                                "{name} ({what}, order {order:?}): epoch {epoch} != objectives {}",
                                values[i]
                            ));
                        }
                    }
                }
            }
        }
    }
    assert_eq!(classes, 45, "the registry has 45 classes");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_vector_result_registered_whole_fails_with_the_fix() {
    let d = objectives::device::test_device();
    let mut m = LearnerMetric::from_keras_json(r#"{"class_name": "F1Score", "config": {"average": null}}"#).unwrap();
    let t = tensor(&[1., 0., 0., 0., 1., 0.], &[2, 3], &d);
    let p = tensor(&[0.8, 0.1, 0.1, 0.2, 0.7, 0.1], &[2, 3], &d);
    let err = m.update(&MetricInput::new(t, p), &metadata()).unwrap_err().to_string();
    assert!(err.contains("per_class(3)"), "{err}");
}

#[test]
fn names_encode_the_configuration() {
    let a = LearnerMetric::from_keras_json(r#"{"class_name": "AUC", "config": {"curve": "PR"}}"#).unwrap();
    let b = LearnerMetric::from_keras_json(r#"{"class_name": "AUC", "config": {}}"#).unwrap();
    let c = LearnerMetric::from_keras_json(r#""mse""#).unwrap();
    let named = LearnerMetric::from_keras_json(r#"{"class_name": "AUC", "config": {"name": "mse"}}"#).unwrap();
    assert_eq!(a.name_string(), "auc(curve=PR)");
    assert_eq!(b.name_string(), "auc");
    assert_eq!(c.name_string(), "mse");
    assert_eq!(named.name_string(), "mse[AUC]");
    assert_eq!(b.clone().weighted().name_string(), "weighted_auc");
}
