//! Split and merge: a batch reduced whole equals the merge of its micro-batches' partials, for
//! the loss and its gradient, for every reduction — including masked `sum_over_batch_size` and
//! `mean_with_sample_weight`, where a mean of per-part means is wrong.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

/// Metrics: exact merging, reset, JSON round trip, registry (one test binary fewer to link).
#[path = "parts/metrics.rs"]
mod metrics;

use burn::tensor::{Device, TensorData};
use objectives::partial::{Partial, merge};
use objectives::prelude::*;
use proptest::prelude::*;

fn dyn_from(v: &[f32], shape: &[usize], d: &Device) -> DynTensor {
    DynTensor::from_data(TensorData::new(v.to_vec(), shape.to_vec()), d).unwrap()
}

/// A batch: y_true, y_pred (B, T, C), weights of the given kind, and a (B, T) mask.
#[derive(Debug, Clone)]
struct Batch {
    b: usize,
    t: usize,
    c: usize,
    y_true: Vec<f32>,
    y_pred: Vec<f32>,
    weight: Option<(Vec<f32>, Vec<usize>)>,
    mask: Option<Vec<f32>>,
    cuts: Vec<usize>,
}

fn batch() -> impl Strategy<Value = Batch> {
    (2usize..9, 1usize..4, 1usize..4).prop_flat_map(|(b, t, c)| {
        let n = b * t * c;
        (
            proptest::collection::vec(-2.0f32..2.0, n),
            proptest::collection::vec(-2.0f32..2.0, n),
            prop_oneof![
                Just(None),
                proptest::collection::vec(0.0f32..3.0, b).prop_map(move |w| Some((w, vec![b]))),
                proptest::collection::vec(0.0f32..3.0, b * t).prop_map(move |w| Some((w, vec![b, t]))),
            ],
            prop_oneof![Just(None), proptest::collection::vec(0u8..3, b * t).prop_map(Some)],
            proptest::collection::btree_set(1..b, 0..b.min(4)),
        )
            .prop_map(move |(y_true, y_pred, weight, mask, cuts)| Batch {
                b,
                t,
                c,
                y_true,
                y_pred,
                weight,
                // About a third of the positions masked out; some parts may be fully masked.
                mask: mask.map(|m| m.into_iter().map(|x| if x == 0 { 0.0 } else { 1.0 }).collect()),
                cuts: cuts.into_iter().collect(),
            })
    })
}

/// Rows `lo..hi` of a row-major array with `row` elements per batch row.
fn rows(v: &[f32], row: usize, lo: usize, hi: usize) -> Vec<f32> {
    v[lo * row..hi * row].to_vec()
}

/// Whole-batch loss and gradient, and merged loss and summed per-part gradients.
fn check(loss: &dyn Loss, batch: &Batch) -> Result<(), TestCaseError> {
    let ad = objectives::device::test_device().autodiff();
    let (b, t, c) = (batch.b, batch.t, batch.c);
    let shape = [b, t, c];
    let weight = |lo: usize, hi: usize| {
        batch.weight.as_ref().map(|(w, s)| {
            let row: usize = s[1..].iter().product();
            let mut s = s.clone();
            s[0] = hi - lo;
            dyn_from(&rows(w, row, lo, hi), &s, &ad)
        })
    };
    let mask = |lo: usize, hi: usize| batch.mask.as_ref().map(|m| dyn_from(&rows(m, t, lo, hi), &[hi - lo, t], &ad));

    // Whole batch.
    let leaf = dyn_from(&batch.y_pred, &shape, &ad).into_padded().require_grad();
    let y_pred = DynTensor::from_padded_checked(leaf.clone(), shape.to_vec()).unwrap();
    let y_true = dyn_from(&batch.y_true, &shape, &ad);
    let whole = loss.compute(&y_true, &y_pred, weight(0, b).as_ref(), mask(0, b).as_ref()).unwrap();
    let whole_value = whole.clone().into_scalar::<f32>().unwrap();
    let whole_grad =
        DynTensor::from_padded_checked(leaf.grad(&whole.into_padded().backward()).unwrap(), shape.to_vec())
            .unwrap()
            .to_vec_f32()
            .unwrap();

    // Parts: one leaf each, normalizers summed first ("all-reduce"), then one backward per part.
    let mut bounds = vec![0];
    bounds.extend(&batch.cuts);
    bounds.push(b);
    let mut parts: Vec<(Partial, burn::tensor::Tensor<8>, usize, usize)> = vec![];
    for w in bounds.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let pshape = [hi - lo, t, c];
        let leaf = dyn_from(&rows(&batch.y_pred, t * c, lo, hi), &pshape, &ad).into_padded().require_grad();
        let y_pred = DynTensor::from_padded_checked(leaf.clone(), pshape.to_vec()).unwrap();
        let y_true = dyn_from(&rows(&batch.y_true, t * c, lo, hi), &pshape, &ad);
        let p = loss.partial(&y_true, &y_pred, weight(lo, hi).as_ref(), mask(lo, hi).as_ref()).unwrap();
        parts.push((p, leaf, lo, hi));
    }
    let merged = merge(&parts.iter().map(|p| p.0.clone()).collect::<Vec<_>>()).unwrap().into_scalar::<f32>().unwrap();
    let total: f64 = parts.iter().map(|p| p.0.normalizer).sum();
    let mut grad = vec![];
    for (p, leaf, lo, hi) in &parts {
        let g = leaf.grad(&p.share(total).into_padded().backward()).unwrap();
        grad.extend(DynTensor::from_padded_checked(g, vec![hi - lo, t, c]).unwrap().to_vec_f32().unwrap());
    }
    let tol = |x: f32| 1e-5 * x.abs().max(1.0);
    prop_assert!(
        (merged - whole_value).abs() <= tol(whole_value),
        "{}: merged {merged} vs whole {whole_value}",
        loss.reduction()
    );
    let scale = whole_grad.iter().fold(0f32, |m, g| m.max(g.abs()));
    for (i, (g, w)) in grad.iter().zip(&whole_grad).enumerate() {
        prop_assert!((g - w).abs() <= 1e-5 * scale.max(1e-3), "{}: grad[{i}] {g} vs {w}", loss.reduction());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

    #[test]
    fn merged_partials_equal_the_whole_batch(batch in batch()) {
        for reduction in [Reduction::Sum, Reduction::SumOverBatchSize, Reduction::Mean, Reduction::MeanWithSampleWeight] {
            let mse = MeanSquaredError::default().with_reduction(reduction);
            check(&mse, &batch)?;
            let logcosh_axis1 = LogCosh::new(LogCoshConfig { axis: 1 }).with_reduction(reduction);
            // axis 1 gives (B, C) losses: the (B, T) mask and weights do not apply; drop them.
            let plain = Batch { mask: None, weight: batch.weight.clone().filter(|(_, s)| s.len() == 1), ..batch.clone() };
            check(&logcosh_axis1, &plain)?;
        }
    }
}

/// The mean-of-means error: two micro-batches with unequal numbers of valid positions.
#[test]
fn mean_of_means_is_wrong_and_partials_are_exact() {
    let d = objectives::device::test_device();
    let mse = MeanSquaredError::default();
    // Per-position losses (B=2, T=3, one feature): [[1, 2, 3], [4, 5, 6]] against zeros.
    let y_pred = dyn_from(&[1., 2f32.sqrt(), 3f32.sqrt(), 2., 5f32.sqrt(), 6f32.sqrt()], &[2, 3, 1], &d);
    let y_true = dyn_from(&[0.; 6], &[2, 3, 1], &d);
    let mask = dyn_from(&[1., 1., 0., 1., 0., 0.], &[2, 3], &d);
    let whole = mse.compute(&y_true, &y_pred, None, Some(&mask)).unwrap().into_scalar::<f32>().unwrap();
    assert!((whole - 7.0 / 3.0).abs() < 1e-6, "{whole}"); // (1 + 2 + 4) / 3 valid positions

    let part = |i: usize| {
        let (t, p, m) = (y_true.clone().narrow(0, i, 1), y_pred.clone().narrow(0, i, 1), mask.clone().narrow(0, i, 1));
        (t.unwrap(), p.unwrap(), m.unwrap())
    };
    let means: Vec<f32> = (0..2)
        .map(|i| {
            let (t, p, m) = part(i);
            mse.compute(&t, &p, None, Some(&m)).unwrap().into_scalar::<f32>().unwrap()
        })
        .collect();
    let mean_of_means = (means[0] + means[1]) / 2.0; // (1.5 + 4) / 2 = 2.75 ≠ 2.3333
    assert!((mean_of_means - 2.75).abs() < 1e-6, "{mean_of_means}");
    let parts: Vec<Partial> = (0..2)
        .map(|i| {
            let (t, p, m) = part(i);
            mse.partial(&t, &p, None, Some(&m)).unwrap()
        })
        .collect();
    let merged = merge(&parts).unwrap().into_scalar::<f32>().unwrap();
    assert!((merged - whole).abs() < 1e-6, "merged {merged} vs whole {whole}");
}

#[test]
fn unsplittable_cases_are_refused() {
    let d = objectives::device::test_device();
    let y = dyn_from(&[0.5, 0.2, 0.1, 0.9], &[2, 2], &d);
    assert!(MeanSquaredError::default().with_reduction(Reduction::None).partial(&y, &y, None, None).is_err());
    assert!(Dice::default().partial(&y, &y, None, None).is_err());
    let scalar = dyn_from(&[2.0], &[], &d);
    let mwsw = MeanSquaredError::default().with_reduction(Reduction::MeanWithSampleWeight);
    assert!(mwsw.partial(&y, &y, Some(&scalar), None).is_err());
}
