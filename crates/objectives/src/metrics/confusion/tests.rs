#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use burn::tensor::TensorData;
use serde_json::{Map, Value, json};

use super::*;
use crate::metrics::{Metric, MetricClass, MetricValue, from_keras_json};
use crate::tensor::dyn_tensor::DynTensor;

fn t(shape: &[usize], data: &[f32]) -> DynTensor {
    DynTensor::from_data(TensorData::new(data.to_vec(), shape.to_vec()), &crate::backend::test_device()).unwrap()
}

fn build(class: &str, config: Value) -> Box<dyn Metric> {
    from_keras_json(&json!({"class_name": class, "config": config})).unwrap()
}

/// A deterministic pseudo-random sequence in [0, 1).
fn lcg(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32) / (1u64 << 24) as f32
        })
        .collect()
}

/// Keras's comparison path, N × T: `Σ w · [label] · [p > t]` with f32 thresholds.
fn naive(thresholds: &[f64], yt: &[f32], yp: &[f32], w: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = thresholds.len();
    let (mut tp, mut fp, mut tn, mut fn_) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for (k, &th) in thresholds.iter().enumerate() {
        let th = th as f32;
        for i in 0..yt.len() {
            let (pos, label, wi) = (yp[i] > th, yt[i] != 0.0, f64::from(w[i]));
            match (label, pos) {
                (true, true) => tp[k] += wi,
                (false, true) => fp[k] += wi,
                (false, false) => tn[k] += wi,
                (true, false) => fn_[k] += wi,
            }
        }
    }
    (tp, fp, tn, fn_)
}

#[test]
fn comparison_path_equals_naive_comparisons() {
    let n = 500;
    let yp: Vec<f32> = lcg(n, 1).into_iter().map(|x| (x * 20.0).round() / 20.0).collect(); // many ties on thresholds
    let yt: Vec<f32> = lcg(n, 2).into_iter().map(|x| if x > 0.6 { 1.0 } else { 0.0 }).collect();
    let w: Vec<f32> = lcg(n, 3).into_iter().map(|x| (x * 8.0).floor() * 0.25).collect();
    let th = vec![0.85, 0.15, 0.5, 0.3, 0.3, 0.05, 1.0, 0.0, 0.7];
    let (tp, fp, tn, fn_) = naive(&th, &yt, &yp, &w);
    for (class, want) in
        [("TruePositives", &tp), ("FalsePositives", &fp), ("TrueNegatives", &tn), ("FalseNegatives", &fn_)]
    {
        let mut m = build(class, json!({"thresholds": th}));
        m.update_state(&t(&[n], &yt), &t(&[n], &yp), Some(&t(&[n], &w))).unwrap();
        assert_eq!(m.result(), MetricValue::Vector(want.clone()), "{class}");
    }
}

#[test]
fn bucket_path_matches_comparisons_off_the_boundaries() {
    // Thresholds [0, 0.25, 0.5, 0.75, 1] are evenly distributed: Keras's bucket path.
    let n = 300;
    let yp = lcg(n, 7);
    let yt: Vec<f32> = lcg(n, 8).into_iter().map(|x| if x > 0.5 { 1.0 } else { 0.0 }).collect();
    let th = vec![0.0, 0.25, 0.5, 0.75, 1.0];
    let (tp, ..) = naive(&th, &yt, &yp, &vec![1.0; n]);
    let mut m = build("TruePositives", json!({"thresholds": th}));
    m.update_state(&t(&[n], &yt), &t(&[n], &yp), None).unwrap();
    assert_eq!(m.result(), MetricValue::Vector(tp));
}

#[test]
fn bucket_path_uses_kerass_bucket_arithmetic() {
    // AUC-style thresholds [−ε, 0.25, 0.5, 0.75, 1 + ε]: bucket ceil(p · 4) − 1, then relu.
    let m = Auc::default().metric().unwrap();
    assert_eq!(m.kind.thresholds().len(), 200);
    let th = matrix::Thresholds::new(&[-1e-7, 0.25, 0.5, 0.75, 1.0 + 1e-7], true);
    let one = |p: f32| {
        let c = matrix::confusion_counts("t", &th, &matrix::Options::default(), &t(&[1], &[1.0]), &t(&[1], &[p]), None)
            .unwrap();
        c.tp.iter().map(|x| x.value()).collect::<Vec<_>>()
    };
    // Exactly on a threshold: not above it (ceil − 1).
    assert_eq!(one(0.5), vec![1.0, 1.0, 0.0, 0.0, 0.0]);
    assert_eq!(one(0.0), vec![1.0, 0.0, 0.0, 0.0, 0.0]); // relu: above −ε
    assert_eq!(one(1.0), vec![1.0, 1.0, 1.0, 1.0, 0.0]);
    assert_eq!(one(7.0), vec![1.0, 1.0, 1.0, 1.0, 0.0]); // clipped to 1
    assert_eq!(one(-3.0), vec![1.0, 0.0, 0.0, 0.0, 0.0]); // clipped to 0
}

#[test]
fn precision_recall_like_keras_docstrings() {
    let mut p = build("Precision", json!({}));
    p.update_state(&t(&[4], &[0., 1., 1., 1.]), &t(&[4], &[1., 0., 1., 1.]), None).unwrap();
    assert!((p.result().scalar().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    p.reset_state();
    p.update_state(&t(&[4], &[0., 1., 1., 1.]), &t(&[4], &[1., 0., 1., 1.]), Some(&t(&[4], &[0., 0., 1., 0.])))
        .unwrap();
    assert_eq!(p.result().scalar().unwrap(), 1.0);
    let mut p = build("Precision", json!({"top_k": 2}));
    p.update_state(&t(&[4], &[0., 0., 1., 1.]), &t(&[4], &[1., 1., 1., 1.]), None).unwrap();
    assert_eq!(p.result().scalar().unwrap(), 0.0); // ties: the first two indices
    let mut p = build("Precision", json!({"top_k": 4}));
    p.update_state(&t(&[4], &[0., 0., 1., 1.]), &t(&[4], &[1., 1., 1., 1.]), None).unwrap();
    assert_eq!(p.result().scalar().unwrap(), 0.5);
}

#[test]
fn merged_states_equal_the_whole() {
    let n = 64;
    let yp: Vec<f32> = lcg(n * 3, 11);
    let yt: Vec<f32> = lcg(n * 3, 12).into_iter().map(|x| if x > 0.5 { 1.0 } else { 0.0 }).collect();
    let w: Vec<f32> = lcg(n, 13);
    let configs = [
        ("AUC", json!({})),
        ("AUC", json!({"multi_label": true})),
        ("AUC", json!({"curve": "PR", "label_weights": [1.0, 0.5, 2.0]})),
        ("Precision", json!({"top_k": 2})),
        ("Recall", json!({"class_id": 1, "thresholds": [0.2, 0.6]})),
        ("RecallAtPrecision", json!({"precision": 0.5, "num_thresholds": 13})),
    ];
    for (class, config) in configs {
        let mut whole = build(class, config.clone());
        whole.update_state(&t(&[n, 3], &yt), &t(&[n, 3], &yp), Some(&t(&[n], &w))).unwrap();
        let mut a = build(class, config.clone());
        let mut b = build(class, config.clone());
        let h = n / 2 * 3;
        a.update_state(&t(&[n / 2, 3], &yt[..h]), &t(&[n / 2, 3], &yp[..h]), Some(&t(&[n / 2], &w[..n / 2]))).unwrap();
        b.update_state(&t(&[n / 2, 3], &yt[h..]), &t(&[n / 2, 3], &yp[h..]), Some(&t(&[n / 2], &w[n / 2..]))).unwrap();
        let mut fresh = build(class, config);
        fresh.merge_state(b.state()).unwrap();
        fresh.merge_state(a.state()).unwrap();
        assert_eq!(fresh.state(), whole.state(), "{class}");
        assert_eq!(fresh.result(), whole.result(), "{class}");
    }
}

#[test]
fn bad_configs_are_refused() {
    let bad = [
        ("TruePositives", json!({"thresholds": [-1, 0.5, 2]})),
        ("FalsePositives", json!({"thresholds": [null]})),
        ("Precision", json!({"top_k": 0})),
        ("AUC", json!({"num_thresholds": 1})),
        ("AUC", json!({"num_thresholds": -1})),
        ("AUC", json!({"curve": "Invalid"})),
        ("AUC", json!({"summation_method": "Invalid"})),
        ("AUC", json!({"num_labels": 2})),
        ("AUC", json!({"multi_label": true, "num_labels": 2, "label_weights": [1, 2, 3]})),
        ("SensitivityAtSpecificity", json!({"specificity": -1})),
        ("SensitivityAtSpecificity", json!({"specificity": 0.4, "num_thresholds": -1})),
        ("PrecisionAtRecall", json!({})),
        ("RecallAtPrecision", json!({"precision": 0.5, "recall": 0.5})),
    ];
    for (class, config) in bad {
        assert!(from_keras_json(&json!({"class_name": class, "config": config})).is_err(), "{class} {config}");
    }
}

#[test]
fn bad_inputs_are_refused_and_leave_the_state() {
    let mut p = build("Precision", json!({"class_id": 2}));
    assert!(p.update_state(&t(&[5], &[0.; 5]), &t(&[5], &[0.; 5]), None).is_err()); // rank 1
    let mut p = build("Precision", json!({"class_id": 3}));
    assert!(p.update_state(&t(&[2, 3], &[0.; 6]), &t(&[2, 3], &[0.; 6]), None).is_err());
    let mut p = build("Recall", json!({"top_k": 4}));
    assert!(p.update_state(&t(&[2, 3], &[0.; 6]), &t(&[2, 3], &[0.; 6]), None).is_err());
    let mut m = build("AUC", json!({}));
    assert!(m.update_state(&t(&[4], &[0.; 4]), &t(&[2, 2], &[0.; 4]), None).is_err());
    assert!(m.update_state(&t(&[4], &[0.; 4]), &t(&[4], &[0., f32::NAN, 0., 0.]), None).is_err());
    assert!(m.update_state(&t(&[4], &[0.; 4]), &t(&[4], &[0.; 4]), Some(&t(&[3], &[1.; 3]))).is_err());
    let mut m = build("AUC", json!({"multi_label": true, "num_labels": 3}));
    assert!(m.update_state(&t(&[2, 2], &[0.; 4]), &t(&[2, 2], &[0.; 4]), None).is_err());
    assert!(m.update_state(&t(&[4], &[0.; 4]), &t(&[4], &[0.; 4]), None).is_err());
    let mut m = build("AUC", json!({"label_weights": [1.0, 2.0]}));
    assert!(m.update_state(&t(&[2, 3], &[0.; 6]), &t(&[2, 3], &[0.; 6]), None).is_err());
    assert!(m.state().vars.iter().all(|v| v.values().iter().all(|&x| x == 0.0)));
}

#[test]
fn configs_round_trip_like_keras() {
    let m = build(
        "AUC",
        json!({"num_thresholds": null, "curve": "pr", "summation_method": "Majoring", "thresholds": [0.5, 0.3]}),
    );
    let c = m.config();
    assert_eq!(c["num_thresholds"], json!(4));
    assert_eq!(c["thresholds"], json!([0.3, 0.5]));
    assert_eq!(c["curve"], json!("PR"));
    assert_eq!(c["summation_method"], json!("majoring"));
    let again = from_keras_json(&m.serialize()).unwrap();
    assert_eq!(again.config(), c);
    let m = build("AUC", json!({}));
    assert!(!m.config().contains_key("thresholds"));
    let m = build("FalsePositives", json!({"name": "my_fp", "thresholds": [0.4, 0.9]}));
    assert_eq!(m.name(), "my_fp");
    assert_eq!(m.config()["thresholds"], json!([0.4, 0.9]));
    let m = build("SensitivityAtSpecificity", json!({"specificity": 0.4, "num_thresholds": 100, "class_id": 12}));
    let mut want = Map::new();
    for (k, v) in [
        ("name", json!("sensitivity_at_specificity")),
        ("dtype", json!("float32")),
        ("specificity", json!(0.4)),
        ("num_thresholds", json!(100)),
        ("class_id", json!(12)),
    ] {
        want.insert(k.into(), v);
    }
    assert_eq!(m.config(), want);
    assert_eq!(m.state().vars.len(), 4);
    assert_eq!(build("Recall", json!({})).state().vars[1].name, "false_negatives");
}

#[test]
fn lazily_built_multi_label_auc() {
    let mut m = build("AUC", json!({"multi_label": true, "num_thresholds": 5}));
    assert!(m.state().vars.is_empty());
    let yp = [0.0, 0.1, 0.5, 0.2, 0.3, 0.3, 0.9, 0.4];
    let yt = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
    m.update_state(&t(&[4, 2], &yt), &t(&[4, 2], &yp), None).unwrap();
    assert_eq!(m.state().vars[0].shape, vec![5, 2]);
    assert!((m.result().scalar().unwrap() - (0.875 + 1.0) / 2.0).abs() < 1e-12);
    // Reset: as new (unbuilt), so the next batch may have another number of labels.
    m.reset_state();
    assert!(m.state().vars.is_empty());
    m.update_state(&t(&[2, 4], &yt), &t(&[2, 4], &yp), None).unwrap();
    assert_eq!(m.state().vars[0].shape, vec![5, 4]);
    // A state of 4 labels does not merge into one built for 2; it builds an unbuilt one.
    let mut two = build("AUC", json!({"multi_label": true, "num_thresholds": 5}));
    two.update_state(&t(&[4, 2], &yt), &t(&[4, 2], &yp), None).unwrap();
    assert!(two.merge_state(m.state()).is_err());
    let mut fresh = build("AUC", json!({"multi_label": true, "num_thresholds": 5}));
    fresh.merge_state(m.state()).unwrap();
    assert_eq!(fresh.state(), m.state());
    assert!(fresh.update_state(&t(&[4, 2], &yt), &t(&[4, 2], &yp), None).is_err());
}

#[test]
fn every_variant_builds_and_runs_on_binary_inputs_with_3_columns() {
    let (n, k) = (8, 3);
    let yp = lcg(n * k, 21);
    let yt: Vec<f32> = lcg(n * k, 22).into_iter().map(|x| if x > 0.5 { 1.0 } else { 0.0 }).collect();
    let confusion = [
        "TruePositives",
        "FalsePositives",
        "TrueNegatives",
        "FalseNegatives",
        "Precision",
        "Recall",
        "SensitivityAtSpecificity",
        "SpecificityAtSensitivity",
        "PrecisionAtRecall",
        "RecallAtPrecision",
        "AUC",
    ];
    for e in confusion.iter().map(|c| crate::metrics::registry::lookup(c).unwrap()) {
        for config in e.configs().unwrap() {
            let mut m = e.build(&config).unwrap_or_else(|err| panic!("{} {config:?}: {err}", e.class_name));
            m.update_state(&t(&[n, k], &yt), &t(&[n, k], &yp), Some(&t(&[n], &lcg(n, 23))))
                .unwrap_or_else(|err| panic!("{} {config:?}: {err}", e.class_name));
            assert!(m.result().to_vec().iter().all(|x| x.is_finite()), "{} {config:?}", e.class_name);
            let again = from_keras_json(&m.serialize()).unwrap();
            assert_eq!(again.config(), m.config());
        }
    }
}

#[test]
fn bucket_path_keeps_kerass_rounding_on_threshold_values() {
    // With 200 thresholds Keras buckets p by ceil(p · 199) − 1 in f32: for some p equal to the f32
    // threshold i/199, p · 199 rounds above i and p counts as above threshold i, where the
    // comparison p > t would not. objectives reproduces the bucket path.
    let i = (1..199)
        .find(|&i| ((i as f64 / 199.0) as f32 * 199.0f32).ceil() as i32 > i)
        .expect("some threshold value rounds up");
    let p = (i as f64 / 199.0) as f32;
    let mut m = build("AUC", json!({}));
    m.update_state(&t(&[1], &[1.0]), &t(&[1], &[p]), None).unwrap();
    let tp = m.state().vars[0].values();
    assert_eq!(tp[i as usize], 1.0, "p = {p} is in bucket {i}");
    assert_eq!(tp[i as usize + 1], 0.0);
}
