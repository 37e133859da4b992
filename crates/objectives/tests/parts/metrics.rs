//! Every registered metric: exact merging (random splits of the rows into k parts, each updated on
//! its own metric, merged in a random order, equal the state and result of one update on
//! everything), reset, and the Keras JSON round trip with every argument written.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{Device, TensorData};
use objectives::DynTensor;
use objectives::metrics::registry::{Inputs, all};
use objectives::metrics::{Metric, MetricValue};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// A small deterministic generator (the data only needs to be varied, not random).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f32 {
        (lo + (hi - lo) * self.next()) as f32
    }
    fn class(&mut self, k: usize) -> usize {
        ((self.next() * k as f64) as usize).min(k - 1)
    }
}

const C: usize = 3;

/// A row-major array: values and shape.
type Array = (Vec<f32>, Vec<usize>);

/// `(y_true, y_pred)` data and shapes for `rows` rows of `inputs`.
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
    match inputs {
        Inputs::Regression | Inputs::Values => {
            let t = (0..n).map(|_| g.uniform(-2.0, 2.0)).collect();
            let p = (0..n).map(|_| g.uniform(-2.0, 2.0)).collect();
            ((t, vec![rows, C]), (p, vec![rows, C]))
        }
        Inputs::Positive => {
            let t = (0..n).map(|_| g.uniform(0.1, 3.0)).collect();
            let p = (0..n).map(|_| g.uniform(0.1, 3.0)).collect();
            ((t, vec![rows, C]), (p, vec![rows, C]))
        }
        Inputs::Binary => {
            let t = (0..n).map(|_| if g.next() < 0.5 { 0.0 } else { 1.0 }).collect();
            let p = (0..n).map(|_| g.uniform(0.0, 1.0)).collect();
            ((t, vec![rows, C]), (p, vec![rows, C]))
        }
        Inputs::Categorical => {
            let t = (0..rows)
                .flat_map(|_| {
                    let k = g.class(C);
                    (0..C).map(move |j| if j == k { 1.0 } else { 0.0 })
                })
                .collect();
            ((t, vec![rows, C]), (probs(g), vec![rows, C]))
        }
        Inputs::Sparse => {
            let t = (0..rows).map(|_| g.class(C) as f32).collect();
            ((t, vec![rows]), (probs(g), vec![rows, C]))
        }
        Inputs::Labels => {
            let t = (0..n).map(|_| g.class(C) as f32).collect();
            let p = (0..n).map(|_| g.class(C) as f32).collect();
            ((t, vec![rows, C]), (p, vec![rows, C]))
        }
    }
}

fn tensor(data: &[f32], shape: &[usize], d: &Device) -> DynTensor {
    DynTensor::from_data(TensorData::new(data.to_vec(), shape.to_vec()), d).unwrap()
}

/// Rows `[a, b)` of a row-major array.
fn rows(data: &[f32], shape: &[usize], a: usize, b: usize) -> Array {
    let per: usize = shape[1..].iter().product();
    let mut s = shape.to_vec();
    s[0] = b - a;
    (data[a * per..b * per].to_vec(), s)
}

fn same(a: &MetricValue, b: &MetricValue) -> bool {
    let (a, b) = (a.to_vec(), b.to_vec());
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn cases() -> Vec<(String, &'static objectives::metrics::MetricEntry, Map<String, Value>)> {
    let mut out = vec![];
    for e in all() {
        for c in e.configs().unwrap() {
            out.push((format!("{} {}", e.class_name, Value::Object(c.clone())), e, c));
        }
    }
    out
}

fn check_merge(seed: u64, k: usize, weighted: bool) -> Result<(), String> {
    let d = objectives::device::test_device();
    let mut g = Gen(seed);
    let n_rows = 4 + g.class(9);
    for (what, e, config) in cases() {
        let ((t, ts), (p, ps)) = data(e.inputs, n_rows, &mut g);
        let w: Vec<f32> = (0..n_rows).map(|_| g.uniform(0.0, 2.0)).collect();
        let mut whole = e.build(&config).map_err(|err| format!("{what}: {err}"))?;
        let wt = weighted.then(|| tensor(&w, &[n_rows], &d));
        whole
            .update_state(&tensor(&t, &ts, &d), &tensor(&p, &ps, &d), wt.as_ref())
            .map_err(|err| format!("{what}: whole update: {err}"))?;
        // k parts at random cut points (parts may be empty: a metric must take an empty batch).
        let mut cuts: Vec<usize> = (0..k - 1).map(|_| g.class(n_rows + 1)).collect();
        cuts.extend([0, n_rows]);
        cuts.sort_unstable();
        let mut parts: Vec<Box<dyn Metric>> = vec![];
        for win in cuts.windows(2) {
            let (a, b) = (win[0], win[1]);
            if a == b {
                continue;
            }
            let mut m = e.build(&config).unwrap();
            let (pt, pts) = rows(&t, &ts, a, b);
            let (pp, pps) = rows(&p, &ps, a, b);
            let pw = weighted.then(|| tensor(&w[a..b], &[b - a], &d));
            m.update_state(&tensor(&pt, &pts, &d), &tensor(&pp, &pps, &d), pw.as_ref())
                .map_err(|err| format!("{what}: part {a}..{b}: {err}"))?;
            parts.push(m);
        }
        // Merge in a shuffled order into a fresh metric.
        let mut merged = e.build(&config).unwrap();
        while !parts.is_empty() {
            let i = g.class(parts.len());
            let part = parts.swap_remove(i);
            merged.merge_state(part.state()).map_err(|err| format!("{what}: merge: {err}"))?;
        }
        if merged.state() != whole.state() {
            return Err(format!("{what}: merged state differs from the whole ({n_rows} rows, {k} parts)"));
        }
        if !same(&merged.result(), &whole.result()) {
            return Err(format!("{what}: merged result {:?} != whole {:?}", merged.result(), whole.result()));
        }
        // reset_state clears everything: the same update again gives the same state.
        let before = whole.state().clone();
        whole.reset_state();
        whole
            .update_state(&tensor(&t, &ts, &d), &tensor(&p, &ps, &d), wt.as_ref())
            .map_err(|err| format!("{what}: update after reset: {err}"))?;
        if whole.state() != &before {
            return Err(format!("{what}: reset_state does not clear the state"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn every_metric_merges_exactly(seed in any::<u64>(), k in 2usize..6, weighted in any::<bool>()) {
        if let Err(e) = check_merge(seed, k, weighted) {
            prop_assert!(false, "{}", e);
        }
    }
}

#[test]
fn every_metric_round_trips_its_keras_json_with_every_argument() {
    let mut failures = vec![];
    for (what, e, config) in cases() {
        let m = e.build(&config).unwrap_or_else(|err| panic!("{what}: {err}"));
        let json = m.serialize();
        assert_eq!(json["module"], "keras.metrics");
        assert_eq!(json["class_name"], e.class_name);
        assert!(json["registered_name"].is_null());
        let again = objectives::metrics::from_keras_json(&json).unwrap_or_else(|err| panic!("{what}: {err}"));
        if again.config() != m.config() {
            failures.push(format!("{what}: {:?} != {:?}", again.config(), m.config()));
        }
        // Every argument the config was given is written back, with `name` and `dtype`.
        let written = m.config();
        for key in config.keys().map(String::as_str).chain(["name", "dtype"]) {
            if !written.contains_key(key) {
                failures.push(format!("{what}: `{key}` is not written"));
            }
        }
        // Names resolve to this entry.
        for name in e.names() {
            let got = objectives::metrics::registry::lookup(&name).map(|x| x.class_name);
            if got != Some(e.class_name) {
                failures.push(format!("name {name} resolves to {got:?}, not {}", e.class_name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_registry_has_every_keras_metric_class() {
    // keras/src/metrics/__init__.py, ALL_OBJECTS (Metric, the abstract base, aside).
    let keras = [
        "Mean",
        "Sum",
        "MeanMetricWrapper",
        "MeanSquaredError",
        "RootMeanSquaredError",
        "MeanAbsoluteError",
        "MeanAbsolutePercentageError",
        "MeanSquaredLogarithmicError",
        "CosineSimilarity",
        "LogCoshError",
        "R2Score",
        "AUC",
        "FalseNegatives",
        "FalsePositives",
        "Precision",
        "PrecisionAtRecall",
        "Recall",
        "RecallAtPrecision",
        "SensitivityAtSpecificity",
        "SpecificityAtSensitivity",
        "TrueNegatives",
        "TruePositives",
        "ConcordanceCorrelation",
        "PearsonCorrelation",
        "Hinge",
        "SquaredHinge",
        "CategoricalHinge",
        "KLDivergence",
        "Poisson",
        "BinaryCrossentropy",
        "CategoricalCrossentropy",
        "SparseCategoricalCrossentropy",
        "Accuracy",
        "BinaryAccuracy",
        "CategoricalAccuracy",
        "SparseCategoricalAccuracy",
        "TopKCategoricalAccuracy",
        "SparseTopKCategoricalAccuracy",
        "F1Score",
        "FBetaScore",
        "IoU",
        "BinaryIoU",
        "MeanIoU",
        "OneHotIoU",
        "OneHotMeanIoU",
    ];
    assert_eq!(keras.len(), 45);
    let ours: Vec<&str> = all().iter().map(|e| e.class_name).collect();
    let missing: Vec<&&str> = keras.iter().filter(|k| !ours.contains(k)).collect();
    assert!(missing.is_empty(), "not registered: {missing:?}");
    assert_eq!(ours.len(), 45, "{ours:?}");
    // Keras's aliases.
    for (alias, class) in [
        ("mse", "MeanSquaredError"),
        ("MAE", "MeanAbsoluteError"),
        ("mape", "MeanAbsolutePercentageError"),
        ("msle", "MeanSquaredLogarithmicError"),
        ("bce", "BinaryCrossentropy"),
        ("auc", "AUC"),
        ("mean_io_u", "MeanIoU"),
        ("top_k_categorical_accuracy", "TopKCategoricalAccuracy"),
    ] {
        assert_eq!(objectives::metrics::registry::lookup(alias).map(|e| e.class_name), Some(class), "{alias}");
    }
}

#[test]
fn the_serialized_envelope_is_checked_as_for_losses() {
    use objectives::metrics::from_keras_json;
    use serde_json::json;
    let ok = json!({"module": "keras.metrics", "class_name": "AUC", "config": {"num_thresholds": 5}, "registered_name": null});
    assert_eq!(from_keras_json(&ok).unwrap().config()["num_thresholds"], 5);
    for (bad, needle) in [
        (json!({"class_name": "AUC", "registered_name": "Custom>AUC"}), "registered_name"),
        (json!({"class_name": "AUC", "extra": 1}), "unknown key `extra`"),
        (json!({"module": "keras.losses", "class_name": "AUC"}), "keras.metrics"),
        (json!({"class_name": "AUC", "config": [1]}), "`config` must be an object"),
        (json!({"config": {}}), "class_name"),
        (json!(3), "expected a metric name"),
    ] {
        let err = from_keras_json(&bad).unwrap_err().to_string();
        assert!(err.contains(needle), "{bad}: {err}");
    }
}
