#![allow(clippy::unwrap_used)]
use super::*;
use crate::backend::test_device;
use crate::metrics::entry::{Inputs, MetricEntry};
use crate::metrics::metric::Metric;
use burn::tensor::TensorData;

fn t(shape: &[usize], data: &[f32]) -> DynTensor {
    DynTensor::from_data(TensorData::new(data.to_vec(), shape.to_vec()), &test_device()).unwrap()
}

fn get(json: &str) -> Box<dyn Metric> {
    super::super::from_keras_json_str(json).unwrap()
}

#[test]
fn keras_doc_examples() {
    let mut m = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 2, "dtype": "float32"}}"#);
    m.update_state(&t(&[4], &[0., 0., 1., 1.]), &t(&[4], &[0., 1., 0., 1.]), None).unwrap();
    assert!((m.result().scalar().unwrap() - 1.0 / 3.0).abs() < 1e-6);
    m.reset_state();
    let w = t(&[4], &[0.3, 0.3, 0.3, 0.1]);
    m.update_state(&t(&[4], &[0., 0., 1., 1.]), &t(&[4], &[0., 1., 0., 1.]), Some(&w)).unwrap();
    assert!((m.result().scalar().unwrap() - 0.23809525).abs() < 1e-6);
    // The default int dtype truncates float weights: everything is 0.
    let mut m = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 2}}"#);
    m.update_state(&t(&[4], &[0., 0., 1., 1.]), &t(&[4], &[0., 1., 0., 1.]), Some(&w)).unwrap();
    assert_eq!(m.result().scalar().unwrap(), 0.0);
    assert_eq!(m.config()["dtype"], "int32");
}

#[test]
fn channels_first_equals_channels_last() {
    // (B=2, K=3, H=2) logits vs the same moved last.
    let cf: Vec<f32> = (0..12).map(|i| ((i * 7) % 5) as f32).collect();
    let mut cl = vec![0.0; 12];
    for b in 0..2 {
        for k in 0..3 {
            for h in 0..2 {
                cl[b * 6 + h * 3 + k] = cf[b * 6 + k * 2 + h];
            }
        }
    }
    let labels = t(&[2, 2], &[1., 0., 0., 2.]);
    let mut a = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "sparse_y_pred": false, "axis": 1}}"#);
    let mut b = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "sparse_y_pred": false}}"#);
    a.update_state(&labels, &t(&[2, 3, 2], &cf), None).unwrap();
    b.update_state(&labels, &t(&[2, 2, 3], &cl), None).unwrap();
    assert_eq!(a.state(), b.state());
    assert!(a.result().scalar().unwrap() > 0.0);
}

#[test]
fn bad_inputs_are_refused() {
    let mut m = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 3}}"#);
    assert!(m.update_state(&t(&[2], &[0., 1.5]), &t(&[2], &[0., 1.]), None).is_err());
    assert!(m.update_state(&t(&[3], &[0., 1., 1.]), &t(&[2], &[0., 1.]), None).is_err());
    assert!(m.update_state(&t(&[2], &[0., 1.]), &t(&[2], &[0., 1.]), Some(&t(&[3], &[1., 1., 1.]))).is_err());
    assert_eq!(m.state().var(0).values(), vec![0.0; 9]);
    assert!(
        super::super::from_keras_json_str(
            r#"{"class_name": "IoU", "config": {"num_classes": 2, "target_class_ids": [2]}}"#
        )
        .is_err()
    );
    assert!(
        super::super::from_keras_json_str(
            r#"{"class_name": "IoU", "config": {"num_classes": 2, "target_class_ids": []}}"#
        )
        .is_err()
    );
    assert!(super::super::from_keras_json_str(r#"{"class_name": "MeanIoU", "config": {}}"#).is_err());
}

#[test]
fn parallel_paths_equal_sequential() {
    let (n, k) = (300_000usize, 5usize);
    let ti: Vec<u32> = (0..n).map(|i| if i % 97 == 0 { SKIP } else { ((i * 31) % k) as u32 }).collect();
    let pi: Vec<u32> = (0..n).map(|i| ((i * 17 + i / 3) % k) as u32).collect();
    let w: Vec<f64> = (0..n).map(|i| f64::from(((i * 13) % 1000) as f32 * 0.001f32)).collect();
    let mut seq = vec![ExactSum::default(); k * k];
    let mut naive = vec![0u64; k * k];
    for i in 0..n {
        if ti[i] != SKIP {
            seq[ti[i] as usize * k + pi[i] as usize].add(w[i]);
            naive[ti[i] as usize * k + pi[i] as usize] += 1;
        }
    }
    let mut par = vec![ExactSum::default(); k * k];
    add_weighted(&mut par, &ti, &pi, &w, k);
    assert_eq!(par, seq);
    assert_eq!(count(&ti, &pi, k), naive);
}

#[test]
fn per_sample_weights_broadcast_over_positions() {
    let cfg = r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "dtype": "float32"}}"#;
    let (yt, yp) = (t(&[2, 2], &[0., 1., 2., 2.]), t(&[2, 2], &[0., 2., 2., 1.]));
    let mut a = get(cfg);
    let mut b = get(cfg);
    a.update_state(&yt, &yp, Some(&t(&[2], &[0.5, 2.0]))).unwrap();
    b.update_state(&yt, &yp, Some(&t(&[2, 2], &[0.5, 0.5, 2.0, 2.0]))).unwrap();
    assert_eq!(a.state(), b.state());
}

/// The registry's merge and reset properties on this file's families (`tests/parts/metrics.rs`
/// checks every family the same way).
#[test]
fn entries_merge_reset_and_round_trip() {
    let rows = 7;
    let c = 3;
    let g = |i: usize| ((i * 7919 + 13) % 101) as f32 / 101.0;
    // The iou, f_score and accuracy families.
    let classes = [
        "IoU",
        "BinaryIoU",
        "MeanIoU",
        "OneHotIoU",
        "OneHotMeanIoU",
        "FBetaScore",
        "F1Score",
        "Accuracy",
        "BinaryAccuracy",
        "CategoricalAccuracy",
        "SparseCategoricalAccuracy",
        "TopKCategoricalAccuracy",
        "SparseTopKCategoricalAccuracy",
    ];
    let entries: Vec<&MetricEntry> = classes.iter().map(|c| crate::metrics::registry::lookup(c).unwrap()).collect();
    for e in entries {
        let (tv, ts, pv, ps): (Vec<f32>, Vec<usize>, Vec<f32>, Vec<usize>) = match e.inputs {
            Inputs::Labels => (
                (0..rows * c).map(|i| (i * 5 % 3) as f32).collect(),
                vec![rows, c],
                (0..rows * c).map(|i| (i * 7 % 3) as f32).collect(),
                vec![rows, c],
            ),
            Inputs::Binary => (
                (0..rows * c).map(|i| (i % 2) as f32).collect(),
                vec![rows, c],
                (0..rows * c).map(g).collect(),
                vec![rows, c],
            ),
            Inputs::Categorical => (
                (0..rows * c).map(|i| f32::from(u8::from(i % c == (i / c) % c))).collect(),
                vec![rows, c],
                (0..rows * c).map(g).collect(),
                vec![rows, c],
            ),
            Inputs::Sparse => {
                ((0..rows).map(|i| (i % c) as f32).collect(), vec![rows], (0..rows * c).map(g).collect(), vec![rows, c])
            }
            other => panic!("{other:?}"),
        };
        let w: Vec<f32> = (0..rows).map(|i| 2.0 * g(i + 3)).collect();
        for config in e.configs().unwrap() {
            let what = format!("{} {:?}", e.class_name, config);
            for weighted in [false, true] {
                let wt = |a: usize, b: usize| weighted.then(|| t(&[b - a], &w[a..b]));
                let part = |data: &[f32], shape: &[usize], a: usize, b: usize| {
                    let per: usize = shape[1..].iter().product();
                    let mut s = shape.to_vec();
                    s[0] = b - a;
                    t(&s, &data[a * per..b * per])
                };
                let mut whole = e.build(&config).unwrap();
                whole.update_state(&t(&ts, &tv), &t(&ps, &pv), wt(0, rows).as_ref()).unwrap();
                let mut merged = e.build(&config).unwrap();
                for (a, b) in [(3, 7), (0, 2), (2, 3)] {
                    let mut m = e.build(&config).unwrap();
                    m.update_state(&part(&tv, &ts, a, b), &part(&pv, &ps, a, b), wt(a, b).as_ref())
                        .unwrap_or_else(|err| panic!("{what}: {err}"));
                    merged.merge_state(m.state()).unwrap();
                }
                assert_eq!(merged.state(), whole.state(), "{what}");
                assert_eq!(merged.result(), whole.result(), "{what}");
                whole.reset_state();
                assert_eq!(whole.state(), e.build(&config).unwrap().state(), "{what}");
                let again = super::super::from_keras_json(&merged.serialize()).unwrap();
                assert_eq!(again.config(), merged.config(), "{what}");
            }
        }
    }
}
