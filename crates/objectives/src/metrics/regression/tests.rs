use super::*;
use crate::metrics::entry::Inputs;
use crate::metrics::metric::Metric;
use crate::testing::d2;

fn d1(v: &[f32]) -> DynTensor {
    let d = crate::backend::test_device();
    DynTensor::from_data(burn::tensor::TensorData::new(v.to_vec(), vec![v.len()]), &d).unwrap()
}

fn get(name: &str) -> Box<dyn Metric> {
    super::super::registry::lookup(name).unwrap().build(&Map::new()).unwrap()
}

fn build(class: &str, config: Value) -> Box<dyn Metric> {
    super::super::from_keras_json(&serde_json::json!({"class_name": class, "config": config})).unwrap()
}

#[test]
fn docstring_examples() {
    let t = d2(&[[0., 1.], [0., 0.]]);
    let p = d2(&[[1., 1.], [0., 0.]]);
    let w = d1(&[1., 0.]);
    for (name, unweighted, weighted) in [
        ("mse", 0.25, 0.5),
        ("MAE", 0.25, 0.5),
        ("mape", 250000000.0, 500000000.0),
        ("msle", 0.12011322, 0.24022643),
        ("RootMeanSquaredError", 0.5, 0.70710677),
        ("LogCoshError", 0.10844523, 0.21689045),
    ] {
        let mut m = get(name);
        m.update_state(&t, &p, None).unwrap();
        let r = m.result().scalar().unwrap();
        assert!((r - unweighted).abs() <= 1e-6 * unweighted.abs().max(1.0), "{name}: {r}");
        m.reset_state();
        m.update_state(&t, &p, Some(&w)).unwrap();
        let r = m.result().scalar().unwrap();
        assert!((r - weighted).abs() <= 1e-6 * weighted.abs().max(1.0), "{name} weighted: {r}");
    }
    let mut m = build("CosineSimilarity", serde_json::json!({"axis": 1}));
    let (t, p) = (d2(&[[0., 1.], [1., 1.]]), d2(&[[1., 0.], [1., 1.]]));
    m.update_state(&t, &p, None).unwrap();
    assert!((m.result().scalar().unwrap() - 0.49999997).abs() < 1e-6);
    m.reset_state();
    m.update_state(&t, &p, Some(&d1(&[0.3, 0.7]))).unwrap();
    assert!((m.result().scalar().unwrap() - 0.6999999).abs() < 1e-6);
}

#[test]
fn configs_round_trip_and_hide_the_default_extension_axis() {
    let m = get("mse");
    assert_eq!(m.name(), "mean_squared_error");
    assert!(!m.config().contains_key("axis"));
    let m = build("MeanSquaredError", serde_json::json!({"axis": 1, "name": "m"}));
    assert_eq!(m.config()["axis"], 1);
    assert_eq!(get("LogCoshError").name(), "logcosh");
    assert_eq!(get("CosineSimilarity").config()["axis"], -1);
    let r2 = build("R2Score", serde_json::json!({"class_aggregation": null, "num_regressors": 2}));
    assert_eq!(r2.config()["class_aggregation"], Value::Null);
    assert_eq!(r2.config()["num_regressors"], 2);
    assert!(super::super::from_keras_json(&r2.serialize()).is_ok());
    assert!(
        super::super::from_keras_json(
            &serde_json::json!({"class_name": "R2Score", "config": {"class_aggregation": "wrong"}})
        )
        .is_err()
    );
    assert!(
        super::super::from_keras_json(&serde_json::json!({"class_name": "R2Score", "config": {"num_regressors": -1}}))
            .is_err()
    );
}

#[test]
fn channels_first_axis() {
    // (B=1, C=2, L=2): mean over the channel axis per position.
    let d = crate::backend::test_device();
    let t = DynTensor::from_data(burn::tensor::TensorData::new(vec![0f32, 0., 0., 0.], vec![1, 2, 2]), &d).unwrap();
    let p = DynTensor::from_data(burn::tensor::TensorData::new(vec![1f32, 2., 3., 4.], vec![1, 2, 2]), &d).unwrap();
    let mut m = build("MeanSquaredError", serde_json::json!({"axis": 1}));
    m.update_state(&t, &p, None).unwrap();
    // positions: (1 + 9)/2 = 5, (4 + 16)/2 = 10 → 7.5
    assert_eq!(m.result().scalar().unwrap(), 7.5);
}

#[test]
fn r2_matches_keras_and_merges() {
    let t = d2(&[[0., 0., 1.], [0., 1., 0.], [1., 0., 0.]]);
    let p = d2(&[[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]]);
    let w = d1(&[0.8, 0.1, 0.4]);
    let mut m = build("R2Score", serde_json::json!({"class_aggregation": null, "num_regressors": 1}));
    m.update_state(&t, &p, Some(&w)).unwrap();
    let want = [0.054920673, -10.241904, -0.7382858];
    for (g, w) in m.result().to_vec().iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{g} vs {w}");
    }
    // Row by row, merged into a fresh metric: the same state.
    let mut parts = build("R2Score", serde_json::json!({"class_aggregation": null, "num_regressors": 1}));
    for i in 0..3 {
        let mut one = build("R2Score", serde_json::json!({"class_aggregation": null, "num_regressors": 1}));
        let pick = |x: &DynTensor| x.clone().narrow(0, i, 1).unwrap();
        one.update_state(&pick(&t), &pick(&p), Some(&pick(&w))).unwrap();
        parts.merge_state(one.state()).unwrap();
    }
    assert_eq!(parts.state(), m.state());
    // Wrong rank, wrong width after building: refused, state unchanged.
    let before = m.state().clone();
    assert!(m.update_state(&d1(&[0., 1.]), &d1(&[0., 1.]), None).is_err());
    assert!(m.update_state(&d2(&[[0., 1.]]), &d2(&[[0., 1.]]), None).is_err());
    assert_eq!(m.state(), &before);
}

/// Every entry of this file's families, every config: two row splits merged equal one update
/// on everything (state and result), and reset gives a fresh metric.
#[test]
fn family_entries_merge_exactly_and_reset() {
    let d = crate::backend::test_device();
    let mk = |data: Vec<f32>, shape: Vec<usize>| {
        DynTensor::from_data(burn::tensor::TensorData::new(data, shape), &d).unwrap()
    };
    let (rows, c) = (5usize, 3usize);
    let mut x = 0.37f32;
    let mut next = move || {
        x = (x * 7.13 + 0.29).fract();
        x
    };
    // The classes of the regression, probabilistic, hinge and correlation families.
    let classes = [
        "MeanSquaredError",
        "MeanAbsoluteError",
        "MeanAbsolutePercentageError",
        "MeanSquaredLogarithmicError",
        "LogCoshError",
        "CosineSimilarity",
        "RootMeanSquaredError",
        "R2Score",
        "KLDivergence",
        "Poisson",
        "BinaryCrossentropy",
        "CategoricalCrossentropy",
        "SparseCategoricalCrossentropy",
        "Hinge",
        "SquaredHinge",
        "CategoricalHinge",
        "PearsonCorrelation",
        "ConcordanceCorrelation",
    ];
    for e in classes.iter().map(|c| super::super::registry::lookup(c).unwrap()) {
        for config in e.configs().unwrap() {
            let (t, p): (Vec<f32>, Vec<f32>) = (0..rows * c).map(|_| (next(), next())).unzip();
            let (t, ts): (Vec<f32>, Vec<usize>) = match e.inputs {
                Inputs::Binary => (t.iter().map(|v: &f32| v.round()).collect(), vec![rows, c]),
                Inputs::Categorical => {
                    ((0..rows * c).map(|i| if i % c == i / c % c { 1.0 } else { 0.0 }).collect(), vec![rows, c])
                }
                Inputs::Sparse => ((0..rows).map(|i| (i % c) as f32).collect(), vec![rows]),
                Inputs::Positive => (t.iter().map(|v| v + 0.1).collect(), vec![rows, c]),
                _ => (t.iter().map(|v| 4.0 * v - 2.0).collect(), vec![rows, c]),
            };
            let w: Vec<f32> = (0..rows).map(|_| 2.0 * next()).collect();
            let cut = 2;
            let per_t = if ts.len() == 1 { 1 } else { c };
            let part = |a: usize, b: usize, data: &[f32], per: usize, shape: &[usize]| {
                let mut s = shape.to_vec();
                s[0] = b - a;
                mk(data[a * per..b * per].to_vec(), s)
            };
            let what = format!("{} {:?}", e.class_name, config);
            let mut whole = e.build(&config).unwrap();
            whole
                .update_state(
                    &mk(t.clone(), ts.clone()),
                    &mk(p.clone(), vec![rows, c]),
                    Some(&mk(w.clone(), vec![rows])),
                )
                .unwrap_or_else(|err| panic!("{what}: {err}"));
            let mut merged = e.build(&config).unwrap();
            for (a, b) in [(cut, rows), (0, cut)] {
                let mut m = e.build(&config).unwrap();
                m.update_state(
                    &part(a, b, &t, per_t, &ts),
                    &part(a, b, &p, c, &[rows, c]),
                    Some(&part(a, b, &w, 1, &[rows])),
                )
                .unwrap();
                merged.merge_state(m.state()).unwrap();
            }
            assert_eq!(merged.state(), whole.state(), "{what}");
            let (r1, r2) = (merged.result().to_vec(), whole.result().to_vec());
            assert!(r1.iter().zip(&r2).all(|(a, b)| a.to_bits() == b.to_bits()) && r1.len() == r2.len(), "{what}");
            assert!(r2.iter().all(|v| v.is_finite()), "{what}: {r2:?}");
            whole.reset_state();
            assert_eq!(whole.state(), e.build(&config).unwrap().state(), "{what}");
        }
    }
}

#[test]
fn shape_mismatch_is_an_error() {
    let mut m = get("RootMeanSquaredError");
    assert!(m.update_state(&d2(&[[0.], [1.]]), &d2(&[[0., 1.], [1., 2.]]), None).is_err());
    m.update_state(&d2(&[[2.], [4.]]), &d1(&[1., 3.]), None).unwrap();
    assert_eq!(m.result().scalar().unwrap(), 1.0);
}
