//! The categorical and sparse softmax cross-entropy kernels against f64 references.

use super::super::*;
use super::{Rng, check_against, ref_weight, weight_cases};

/// The logits of position `r = (i, l)` and their flat indices.
pub(super) fn column(dims: Dims, r: usize) -> impl Iterator<Item = usize> {
    let (i, l) = (r / dims.post, r % dims.post);
    (0..dims.c).map(move |j| (i * dims.c + j) * dims.post + l)
}

pub(super) fn ref_cce(t: &[f32], z: &[f32], dims: Dims, ls: f32, w: &Weights<'_>, scale: f64) -> (f64, f64, Vec<f64>) {
    let mut grad = vec![0.0; dims.len()];
    let (mut total, mut magnitude) = (0.0, 0.0);
    let s = f64::from(ls);
    for r in 0..dims.reduced() {
        let idx: Vec<usize> = column(dims, r).collect();
        let m = idx.iter().map(|&e| f64::from(z[e])).fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = idx.iter().map(|&e| (f64::from(z[e]) - m).exp()).sum();
        let lse = m + sum.ln();
        let tp: Vec<f64> = idx.iter().map(|&e| f64::from(t[e]) * (1.0 - s) + s / dims.c as f64).collect();
        let st: f64 = tp.iter().sum();
        let v: f64 = -idx.iter().zip(&tp).map(|(&e, tp)| tp * (f64::from(z[e]) - lse)).sum::<f64>();
        let wr = ref_weight(w, r);
        total += wr * v;
        magnitude += (wr * v).abs();
        for (&e, tp) in idx.iter().zip(&tp) {
            grad[e] = scale * wr * ((f64::from(z[e]) - lse).exp() * st - tp);
        }
    }
    (total * scale, magnitude * scale.abs(), grad)
}

pub(super) fn ref_scce(
    labels: &[i64],
    z: &[f32],
    dims: Dims,
    ignore: Option<i64>,
    w: &Weights<'_>,
    scale: f64,
) -> (f64, f64, Vec<f64>) {
    let mut grad = vec![0.0; dims.len()];
    let (mut total, mut magnitude) = (0.0, 0.0);
    for (r, &label) in labels.iter().enumerate() {
        if Some(label) == ignore {
            continue;
        }
        let idx: Vec<usize> = column(dims, r).collect();
        let m = idx.iter().map(|&e| f64::from(z[e])).fold(f64::NEG_INFINITY, f64::max);
        let lse = m + idx.iter().map(|&e| (f64::from(z[e]) - m).exp()).sum::<f64>().ln();
        let label = label as usize;
        let v = -(f64::from(z[idx[label]]) - lse);
        let wr = ref_weight(w, r);
        total += wr * v;
        magnitude += (wr * v).abs();
        for (j, &e) in idx.iter().enumerate() {
            let hot = if j == label { 1.0 } else { 0.0 };
            grad[e] = scale * wr * ((f64::from(z[e]) - lse).exp() - hot);
        }
    }
    (total * scale, magnitude * scale.abs(), grad)
}

pub(super) const SOFTMAX_DIMS: [(usize, usize, usize); 18] = [
    (3, 5, 7),
    (4, 6, 1),
    (5, 1, 3),
    (0, 3, 4),
    (2, 3, 0),
    (1, 1, 1),
    (2, 37, 1),
    (3, 4, 70), // post > 1: one partial tile
    (2, 1000, 1),
    (2, 20000, 1),   // a row longer than CHUNK
    (3, 3, 9000),    // a row longer than CHUNK, post > 1: bands
    (40, 7, 2),      // many rows: a row per band
    (9, 5, 300),     // many rows, post > 1
    (2, 32000, 1),   // wide rows (a vocabulary): many blocks per row
    (1, 140_000, 1), // longer than MAX_BLOCKS · ROW_BLOCK: longer blocks
    (3, 300, 100),   // channels-first with many classes: strided rows
    (2, 4, 1500),    // post > LT: a full tile and a partial one
    (2500, 21, 1),   // many rows of few classes
];

pub(super) fn logits(n: usize, rng: &mut Rng, extreme: bool) -> Vec<f32> {
    (0..n)
        .map(|_| match rng.below(12) {
            0 if extreme => [1e4, -1e4][rng.below(2)],
            1 => 0.0,
            _ => rng.uniform(-6.0, 6.0),
        })
        .collect()
}

#[test]
pub(super) fn softmax_crossentropy_matches_reference() {
    let mut rng = Rng(11);
    for &(pre, c, post) in &SOFTMAX_DIMS {
        let dims = Dims { pre, c, post };
        for (ls, soft, extreme) in [(0.0, false, false), (0.1, true, false), (0.0, true, true), (0.2, false, true)] {
            let z = logits(dims.len(), &mut rng, extreme);
            let mut t = vec![0.0f32; dims.len()];
            for r in 0..dims.reduced() {
                let hot = rng.below(c);
                for (j, e) in column(dims, r).enumerate() {
                    t[e] = if soft {
                        rng.uniform(0.0, 0.5)
                    } else if j == hot {
                        1.0
                    } else {
                        0.0
                    };
                }
            }
            for case in weight_cases(dims, &mut rng) {
                let w = case.weights();
                let mut grad = vec![f32::NAN; dims.len()];
                let value = softmax_crossentropy(&t, &z, dims, ls, w, 0.6, &mut grad);
                let what = format!("cce {dims:?} ls={ls} soft={soft} extreme={extreme} {}", case.name);
                check_against(&what, value, &grad, ref_cce(&t, &z, dims, ls, &w, 0.6));
            }
        }
    }
}

#[test]
pub(super) fn sparse_softmax_crossentropy_matches_reference() {
    let mut rng = Rng(13);
    for &(pre, c, post) in &SOFTMAX_DIMS {
        let dims = Dims { pre, c, post };
        for (ignore, extreme) in [(None, false), (Some(-1), true), (Some(1), false), (Some(c as i64 + 3), true)] {
            let z = logits(dims.len(), &mut rng, extreme);
            let labels: Vec<i64> = (0..dims.reduced())
                .map(|_| match ignore {
                    Some(k) if rng.chance(0.2) => k,
                    _ => rng.below(c) as i64,
                })
                .collect();
            for case in weight_cases(dims, &mut rng) {
                let w = case.weights();
                let mut grad = vec![f32::NAN; dims.len()];
                let value = sparse_softmax_crossentropy(&labels, &z, dims, ignore, w, 1.3, &mut grad).unwrap();
                let what = format!("scce {dims:?} ignore={ignore:?} extreme={extreme} {}", case.name);
                check_against(&what, value, &grad, ref_scce(&labels, &z, dims, ignore, &w, 1.3));
                // Ignored positions: exactly zero gradient.
                for r in (0..dims.reduced()).filter(|&r| Some(labels[r]) == ignore) {
                    assert!(column(dims, r).all(|e| grad[e] == 0.0), "{what}: ignored position {r}");
                }
            }
        }
    }
}

#[test]
pub(super) fn sparse_labels_out_of_range_are_errors() {
    let dims = Dims { pre: 2, c: 3, post: 4 };
    let z = vec![0.5f32; dims.len()];
    let mut grad = vec![0.0; dims.len()];
    let w = Weights::default();
    let mut labels = vec![0i64, 1, 2, 0, 1, 2, 0, 1];
    assert!(sparse_softmax_crossentropy(&labels, &z, dims, None, w, 1.0, &mut grad).is_ok());
    labels[5] = 3;
    labels[6] = -1;
    let err = sparse_softmax_crossentropy(&labels, &z, dims, None, w, 1.0, &mut grad);
    assert_eq!(err, Err(SparseLabelError { position: 5, label: 3 }));
    // −1 ignored: the first error is still the 3 at position 5; with 3 ignored it is the −1.
    let err = sparse_softmax_crossentropy(&labels, &z, dims, Some(-1), w, 1.0, &mut grad);
    assert_eq!(err, Err(SparseLabelError { position: 5, label: 3 }));
    let err = sparse_softmax_crossentropy(&labels, &z, dims, Some(3), w, 1.0, &mut grad);
    assert_eq!(err, Err(SparseLabelError { position: 6, label: -1 }));
    labels[6] = 3;
    assert!(sparse_softmax_crossentropy(&labels, &z, dims, Some(3), w, 1.0, &mut grad).is_ok());
    // Without any logits (pre·post = 0 but labels given as none) there is nothing to check.
    let empty = Dims { pre: 0, c: 3, post: 4 };
    assert_eq!(sparse_softmax_crossentropy(&[], &[], empty, None, w, 1.0, &mut []), Ok(0.0));
}

#[test]
pub(super) fn sparse_rows_all_ignored_give_zero() {
    // Every label is the ignored class: value 0 and an all-zero gradient, in both layouts.
    for dims in
        [Dims { pre: 4, c: 3000, post: 1 }, Dims { pre: 3, c: 7, post: 90 }, Dims { pre: 2, c: 40_000, post: 1 }]
    {
        let z = logits(dims.len(), &mut Rng(5), true);
        let labels = vec![-1i64; dims.reduced()];
        for case in weight_cases(dims, &mut Rng(6)) {
            let mut grad = vec![f32::NAN; dims.len()];
            let value =
                sparse_softmax_crossentropy(&labels, &z, dims, Some(-1), case.weights(), 1.0, &mut grad).unwrap();
            assert_eq!(value, 0.0, "{dims:?} {}", case.name);
            assert!(grad.iter().all(|&g| g == 0.0), "{dims:?} {}: gradient not zero", case.name);
        }
    }
}

#[test]
pub(super) fn blocks_of_minus_infinity_are_zero() {
    // Masked logits: whole blocks of −∞ in a wide row (their exps and gradients are 0, the row's
    // softmax comes from the other blocks), against the f64 references.
    let dims = Dims { pre: 2, c: 9000, post: 1 };
    let mut rng = Rng(9);
    let mut z = logits(dims.len(), &mut rng, false);
    for (i, v) in z.iter_mut().enumerate() {
        if i % 9000 < 5000 {
            *v = f32::NEG_INFINITY;
        }
    }
    let labels = vec![6000i64, 8999];
    let w = Weights::default();
    let mut grad = vec![f32::NAN; dims.len()];
    let value = sparse_softmax_crossentropy(&labels, &z, dims, None, w, 1.0, &mut grad).unwrap();
    check_against("scce −∞ blocks", value, &grad, ref_scce(&labels, &z, dims, None, &w, 1.0));
    // Class probabilities: 0·(−∞) is NaN (as in Keras), so the masked logits are −10³⁰ here.
    let z: Vec<f32> = z.iter().map(|&v| if v == f32::NEG_INFINITY { -1e30 } else { v }).collect();
    let mut t = vec![0.0f32; dims.len()];
    t[6000] = 1.0;
    t[9000 + 8999] = 1.0;
    let value = softmax_crossentropy(&t, &z, dims, 0.0, w, 1.0, &mut grad);
    check_against("cce −∞ blocks", value, &grad, ref_cce(&t, &z, dims, 0.0, &w, 1.0));
}
