#![allow(clippy::unwrap_used)]
use super::*;
use crate::backend::test_device;
use crate::metrics::metric::Metric;
use burn::tensor::TensorData;

fn t(shape: &[usize], data: &[f32]) -> DynTensor {
    DynTensor::from_data(TensorData::new(data.to_vec(), shape.to_vec()), &test_device()).unwrap()
}

#[test]
fn config_checks_like_keras() {
    let bad = [
        r#"{"class_name": "FBetaScore", "config": {"beta": 1}}"#,
        r#"{"class_name": "FBetaScore", "config": {"beta": 0.0}}"#,
        r#"{"class_name": "FBetaScore", "config": {"threshold": 1.1}}"#,
        r#"{"class_name": "FBetaScore", "config": {"threshold": 1}}"#,
        r#"{"class_name": "FBetaScore", "config": {"average": "sum"}}"#,
        r#"{"class_name": "F1Score", "config": {"beta": 1.0}}"#,
    ];
    for b in bad {
        assert!(super::super::from_keras_json_str(b).is_err(), "{b}");
    }
    let m = super::super::from_keras_json_str(r#"{"class_name": "F1Score", "config": {"threshold": 0.3}}"#).unwrap();
    assert!(!m.config().contains_key("beta"));
}

/// Keras's `_weighted_sum`, literally: `val · expand_dims(w, 1)` broadcast (numpy rules) and
/// summed over everything (`micro`) or over axis 0 (then it must be one value per class), for
/// the four variables; `None` where Keras fails.
fn keras_sums(
    t: &[f32],
    p: &[f32],
    rows: usize,
    c: usize,
    w: &[f32],
    ws: &[usize],
    micro: bool,
) -> Option<Vec<Vec<f64>>> {
    use crate::metrics::host::broadcast_to;
    use crate::tensor::dyn_tensor::broadcast_shapes;
    if ws.is_empty() {
        return None; // expand_dims(w, 1) of a 0-d array
    }
    let mut expanded = ws.to_vec();
    expanded.insert(1, 1);
    let out = broadcast_shapes(&expanded, &[rows, c])?;
    let wb = broadcast_to(&expanded, w, &out)?;
    let yhat: Vec<f32> = p.iter().map(|&v| if v > 0.5 { 1.0 } else { 0.0 }).collect();
    let vals: [Vec<f32>; 4] = [
        yhat.iter().zip(t).map(|(a, b)| a * b).collect(),
        yhat.iter().zip(t).map(|(a, b)| a * (1.0 - b)).collect(),
        yhat.iter().zip(t).map(|(a, b)| (1.0 - a) * b).collect(),
        t.to_vec(),
    ];
    let mut sums = vec![];
    for val in vals {
        let vb = broadcast_to(&[rows, c], &val, &out)?;
        let prod: Vec<f64> = vb.iter().zip(&wb).map(|(a, b)| a * b).collect();
        if micro {
            sums.push(vec![prod.iter().sum()]);
        } else {
            // Sum over axis 0: the rest must be the (C,) variable's shape.
            if out[1..] != [c] {
                return None;
            }
            sums.push((0..c).map(|k| (0..out[0]).map(|i| prod[i * c + k]).sum()).collect());
        }
    }
    Some(sums)
}

#[test]
fn sample_weights_as_keras_applies_them() {
    let (rows, c) = (4, 3);
    let yt = [1., 0., 1., 0., 1., 1., 1., 1., 0., 0., 0., 1.];
    let yp = [0.9, 0.6, 0.2, 0.7, 0.8, 0.1, 0.3, 0.9, 0.6, 0.2, 0.4, 0.7];
    let shapes: [&[usize]; 11] =
        [&[4], &[1], &[4, 1], &[4, 3], &[1, 3], &[1, 1], &[4, 1, 1], &[2, 4, 3], &[4, 3, 1], &[3], &[4, 2]];
    for avg in [None, Some(Average::Micro), Some(Average::Macro)] {
        for ws in shapes {
            let n: usize = ws.iter().product();
            let w: Vec<f32> = (0..n).map(|i| 0.25 + 0.5 * (i % 5) as f32).collect();
            let mut m = FBetaScore { average: avg, beta: 2.0, threshold: Some(0.5) }.metric().unwrap();
            let got = m.update_state(&t(&[rows, c], &yt), &t(&[rows, c], &yp), Some(&t(ws, &w)));
            let want = keras_sums(&yt, &yp, rows, c, &w, ws, avg == Some(Average::Micro));
            match (got, want) {
                (Ok(()), Some(want)) => {
                    for (var, want) in m.state().vars.iter().zip(&want) {
                        for (g, w) in var.values().iter().zip(want) {
                            assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{avg:?} {ws:?}: {g} vs {w}");
                        }
                    }
                }
                (Err(e), None) => assert!(e.to_string().contains(&format!("{ws:?}")), "{avg:?} {ws:?}: {e}"),
                (got, want) => panic!("{avg:?} {ws:?}: objectives {got:?}, Keras {want:?}"),
            }
        }
    }
    // A scalar weight (objectives' extension) is the (1,) weight; one row with three weights
    // counts with their sum; an empty weight of an empty batch counts nothing.
    for avg in [None, Some(Average::Micro)] {
        let mut a = FBetaScore { average: avg, beta: 1.0, threshold: None }.metric().unwrap();
        let mut b = a.clone();
        a.update_state(&t(&[rows, c], &yt), &t(&[rows, c], &yp), Some(&t(&[], &[1.5]))).unwrap();
        b.update_state(&t(&[rows, c], &yt), &t(&[rows, c], &yp), Some(&t(&[1], &[1.5]))).unwrap();
        assert_eq!(a.state(), b.state());
        let mut one = FBetaScore { average: avg, beta: 1.0, threshold: None }.metric().unwrap();
        let mut sum = one.clone();
        one.update_state(&t(&[1, c], &yt[..3]), &t(&[1, c], &yp[..3]), Some(&t(&[3], &[0.5, 1.0, 2.0]))).unwrap();
        sum.update_state(&t(&[1, c], &yt[..3]), &t(&[1, c], &yp[..3]), Some(&t(&[1], &[3.5]))).unwrap();
        assert_eq!(one.state(), sum.state());
        let mut empty = FBetaScore { average: avg, beta: 1.0, threshold: None }.metric().unwrap();
        empty.update_state(&t(&[0, c], &[]), &t(&[0, c], &[]), Some(&t(&[0], &[]))).unwrap();
        assert!(empty.state().vars.iter().all(|v| v.values().iter().all(|&x| x == 0.0)));
    }
}

#[test]
fn split_and_merge_is_exact() {
    let y_t = [1., 0., 0., 0., 1., 0., 0., 0., 1., 1., 0., 0.];
    let y_p = [0.9, 0.1, 0., 0.2, 0.6, 0.2, 0., 0., 1., 0.4, 0.3, 0.3];
    let mut whole = FBetaScore { average: Some(Average::Weighted), beta: 2.0, threshold: None }.metric().unwrap();
    whole.update_state(&t(&[4, 3], &y_t), &t(&[4, 3], &y_p), None).unwrap();
    let mut a = FBetaScore { average: Some(Average::Weighted), beta: 2.0, threshold: None }.metric().unwrap();
    let mut b = a.clone();
    a.update_state(&t(&[1, 3], &y_t[..3]), &t(&[1, 3], &y_p[..3]), None).unwrap();
    b.update_state(&t(&[3, 3], &y_t[3..]), &t(&[3, 3], &y_p[3..]), None).unwrap();
    let mut fresh = FBetaScore { average: Some(Average::Weighted), beta: 2.0, threshold: None }.metric().unwrap();
    fresh.merge_state(a.state()).unwrap();
    fresh.merge_state(b.state()).unwrap();
    assert_eq!(fresh.state(), whole.state());
    assert_eq!(fresh.result(), whole.result());
    assert!(whole.update_state(&t(&[1, 2], &[1., 0.]), &t(&[1, 2], &[1., 0.]), None).is_err());
    assert!(whole.update_state(&t(&[3], &[1., 0., 0.]), &t(&[3], &[1., 0., 0.]), None).is_err());
}
