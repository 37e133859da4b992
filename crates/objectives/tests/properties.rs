//! The invariants that define the semantics, on random inputs (proptest, fixed seed):
//!
//! 1. all-ones sample weights == no weights;
//! 2. an all-true mask == no mask;
//! 3. masking rows == dropping them (`sum_over_batch_size`, `mean_with_sample_weight`);
//! 4. `axis = 1` == moving that axis last with `axis = -1`;
//! 5. permuting the batch leaves every reduced loss unchanged;
//! 6. finite inputs in a loss's domain give a finite loss and finite gradients;
//! 7. Keras JSON round trip is the identity (random reductions, names, dtypes);
//! 8. NaN/Inf propagate (Keras's policy) on both paths, and `CheckFinite` names the first bad index.
//!
//! Split/merge == whole batch is `tests/split_merge.rs`; fused == composed is `tests/fused.rs`.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{Device, Tensor, TensorData};
use objectives::domain::Domain;
use objectives::finite::CheckFinite;
use objectives::prelude::*;
use objectives::registry::ALL_LOSSES;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The registry's dense losses (`Domain::Dense`: `y_true` and `y_pred` of one shape, reduced
/// along an axis), by registry name. They all take `y_true` in [0, 1] and `y_pred` in (0, 1)
/// (probabilities are valid predictions for every one of them); labels-based losses are separate.
fn dense() -> Vec<&'static str> {
    ALL_LOSSES.iter().filter(|e| matches!(e.domain, Domain::Dense { .. })).map(|e| e.function_name).collect()
}

const REDUCTIONS: [Reduction; 4] =
    [Reduction::SumOverBatchSize, Reduction::Sum, Reduction::Mean, Reduction::MeanWithSampleWeight];

fn build(name: &str, reduction: Reduction, axis: Option<i64>, logits: bool) -> Box<dyn Loss> {
    let mut json = objectives::get(name).unwrap().to_keras_json();
    json["config"]["reduction"] = reduction.to_json();
    if let Some(a) = axis {
        json["config"]["axis"] = a.into();
    }
    if logits && json["config"].get("from_logits").is_some() {
        json["config"]["from_logits"] = true.into();
    }
    objectives::from_keras_json(&json).unwrap()
}

#[derive(Clone, Debug)]
struct Case {
    loss: usize,
    reduction: usize,
    b: usize,
    t: usize,
    c: usize,
    logits: bool,
    y_true: Vec<f32>,
    y_pred: Vec<f32>,
    weight: Vec<f32>,
    mask: Vec<bool>,
    perm_seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (0..dense().len(), 0..4usize, 1usize..6, 1usize..4, 2usize..5, any::<bool>(), any::<u64>()).prop_flat_map(
        |(loss, reduction, b, t, c, logits, perm_seed)| {
            let n = b * t * c;
            (
                proptest::collection::vec(0.0f32..1.0, n),
                proptest::collection::vec(0.02f32..0.98, n),
                proptest::collection::vec(0.0f32..2.0, b * t),
                proptest::collection::vec(any::<bool>(), b * t),
            )
                .prop_map(move |(y_true, y_pred, weight, mask)| Case {
                    loss,
                    reduction,
                    b,
                    t,
                    c,
                    logits,
                    y_true,
                    y_pred,
                    weight,
                    mask,
                    perm_seed,
                })
        },
    )
}

fn dynt(v: &[f32], shape: &[usize], d: &Device) -> DynTensor {
    DynTensor::from_data(TensorData::new(v.to_vec(), shape.to_vec()), d).unwrap()
}

fn value(l: DynTensor) -> f64 {
    l.to_vec_f64().unwrap()[0]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1.0) || (a.is_nan() && b.is_nan())
}

fn runner(cases: u32, seed: u8) -> TestRunner {
    TestRunner::new_with_rng(
        Config { cases, failure_persistence: None, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

impl Case {
    fn loss(&self) -> Box<dyn Loss> {
        build(dense()[self.loss], REDUCTIONS[self.reduction], None, self.logits)
    }
    /// Whether predictions are logits: asked for, and the loss has `from_logits`.
    fn logits(&self) -> bool {
        self.logits
            && objectives::get(dense()[self.loss]).unwrap().to_keras_json()["config"].get("from_logits").is_some()
    }
    fn shape(&self) -> [usize; 3] {
        [self.b, self.t, self.c]
    }
    /// y_pred as logits when the loss takes them (so the values are spread out).
    fn pred(&self) -> Vec<f32> {
        if self.logits() { self.y_pred.iter().map(|p| (p / (1.0 - p)).ln()).collect() } else { self.y_pred.clone() }
    }
}

#[test]
fn ones_weights_and_all_true_masks_change_nothing() {
    let d = objectives::device::test_device();
    runner(192, 1)
        .run(&case(), |c| {
            let loss = c.loss();
            let (t, p) = (dynt(&c.y_true, &c.shape(), &d), dynt(&c.pred(), &c.shape(), &d));
            let plain = value(loss.compute(&t, &p, None, None).unwrap());
            let ones = dynt(&vec![1.0; c.b * c.t], &[c.b, c.t], &d);
            let per_sample_ones = dynt(&vec![1.0; c.b], &[c.b], &d);
            // A (B,) weight is a (B, 1) weight: under mean_with_sample_weight its sum (B, not B·T)
            // is the divisor, as in Keras, so it equals "no weights" only for the other reductions.
            let mut cases = vec![(Some(&ones), None), (None, Some(&ones))];
            if REDUCTIONS[c.reduction] != Reduction::MeanWithSampleWeight {
                cases.push((Some(&per_sample_ones), None));
            }
            for (w, m) in cases {
                let v = value(loss.compute(&t, &p, w, m).unwrap());
                prop_assert!(close(plain, v), "{} vs {} ({:?})", plain, v, c);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn masking_rows_equals_dropping_them() {
    let d = objectives::device::test_device();
    runner(192, 2)
        .run(&case(), |c| {
            for reduction in [Reduction::SumOverBatchSize, Reduction::MeanWithSampleWeight] {
                let loss = build(dense()[c.loss], reduction, None, c.logits);
                // Mask whole rows (every timestep of a sample) so dropping them is well defined.
                let keep: Vec<bool> = (0..c.b).map(|i| c.mask[i * c.t]).collect();
                let kept: Vec<usize> = (0..c.b).filter(|&i| keep[i]).collect();
                if kept.is_empty() {
                    continue; // all masked: divide-no-nan gives 0, dropping gives an empty batch
                }
                let row = c.t * c.c;
                let pick = |v: &[f32], per: usize| {
                    kept.iter().flat_map(|&i| v[i * per..(i + 1) * per].to_vec()).collect::<Vec<_>>()
                };
                let pred = c.pred();
                let mask: Vec<f32> = (0..c.b * c.t).map(|k| if keep[k / c.t] { 1.0 } else { 0.0 }).collect();
                let masked = value(
                    loss.compute(
                        &dynt(&c.y_true, &c.shape(), &d),
                        &dynt(&pred, &c.shape(), &d),
                        Some(&dynt(&c.weight, &[c.b, c.t], &d)),
                        Some(&dynt(&mask, &[c.b, c.t], &d)),
                    )
                    .unwrap(),
                );
                let nk = kept.len();
                let dropped = value(
                    loss.compute(
                        &dynt(&pick(&c.y_true, row), &[nk, c.t, c.c], &d),
                        &dynt(&pick(&pred, row), &[nk, c.t, c.c], &d),
                        Some(&dynt(&pick(&c.weight, c.t), &[nk, c.t], &d)),
                        None,
                    )
                    .unwrap(),
                );
                prop_assert!(close(masked, dropped), "{}: {} vs {} ({:?})", reduction, masked, dropped, c);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn axis_one_equals_moving_the_axis_last() {
    let d = objectives::device::test_device();
    runner(192, 3)
        .run(&case(), |c| {
            if dense()[c.loss] == "cosine_similarity" {
                // Its axis is Keras's own argument and works the same way; included below.
            }
            let last = build(dense()[c.loss], REDUCTIONS[c.reduction], Some(-1), c.logits);
            let first = build(dense()[c.loss], REDUCTIONS[c.reduction], Some(1), c.logits);
            // (B, T, C) with axis -1  vs  (B, C, T) with axis 1.
            let move_axis = |v: &[f32]| {
                let mut out = vec![0.0; v.len()];
                for b in 0..c.b {
                    for t in 0..c.t {
                        for k in 0..c.c {
                            out[(b * c.c + k) * c.t + t] = v[(b * c.t + t) * c.c + k];
                        }
                    }
                }
                out
            };
            let w = dynt(&c.weight, &[c.b, c.t], &d);
            let a = value(
                last.compute(&dynt(&c.y_true, &c.shape(), &d), &dynt(&c.pred(), &c.shape(), &d), Some(&w), None)
                    .unwrap(),
            );
            let moved = [c.b, c.c, c.t];
            let b = value(
                first
                    .compute(
                        &dynt(&move_axis(&c.y_true), &moved, &d),
                        &dynt(&move_axis(&c.pred()), &moved, &d),
                        Some(&w),
                        None,
                    )
                    .unwrap(),
            );
            prop_assert!(close(a, b), "{} vs {} ({:?})", a, b, c);
            Ok(())
        })
        .unwrap();
}

#[test]
fn permuting_the_batch_changes_nothing() {
    let d = objectives::device::test_device();
    runner(192, 4)
        .run(&case(), |c| {
            let loss = c.loss();
            let mut order: Vec<usize> = (0..c.b).collect();
            let mut s = c.perm_seed;
            for i in (1..c.b).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (s >> 33) as usize % (i + 1));
            }
            let perm = |v: &[f32], per: usize| {
                order.iter().flat_map(|&i| v[i * per..(i + 1) * per].to_vec()).collect::<Vec<_>>()
            };
            let mask: Vec<f32> = c.mask.iter().map(|&m| f32::from(u8::from(m))).collect();
            let row = c.t * c.c;
            let run = |t: &[f32], p: &[f32], w: &[f32], m: &[f32]| {
                value(
                    loss.compute(
                        &dynt(t, &c.shape(), &d),
                        &dynt(p, &c.shape(), &d),
                        Some(&dynt(w, &[c.b, c.t], &d)),
                        Some(&dynt(m, &[c.b, c.t], &d)),
                    )
                    .unwrap(),
                )
            };
            let pred = c.pred();
            let a = run(&c.y_true, &pred, &c.weight, &mask);
            let b = run(&perm(&c.y_true, row), &perm(&pred, row), &perm(&c.weight, c.t), &perm(&mask, c.t));
            prop_assert!(close(a, b), "{} vs {} ({:?})", a, b, c);
            Ok(())
        })
        .unwrap();
}

#[test]
fn finite_inputs_give_finite_losses_and_gradients() {
    let d = objectives::device::test_device().autodiff();
    runner(192, 5)
        .run(&case(), |c| {
            let loss = c.loss();
            // Push predictions towards the domain's edges too (probabilities near 0 and 1, large logits).
            let pred: Vec<f32> = c
                .pred()
                .iter()
                .enumerate()
                .map(|(i, &p)| match i % 5 {
                    0 if c.logits() => p * 40.0,
                    0 => 1e-7,
                    1 if !c.logits() => 1.0 - 1e-7,
                    _ => p,
                })
                .collect();
            let leaf = Tensor::<3>::from_data(TensorData::new(pred, c.shape()), &d).require_grad();
            let l = loss
                .compute(
                    &dynt(&c.y_true, &c.shape(), &d),
                    &DynTensor::from(leaf.clone()),
                    Some(&dynt(&c.weight, &[c.b, c.t], &d)),
                    None,
                )
                .unwrap();
            let v = value(l.clone());
            prop_assert!(v.is_finite(), "loss {} ({:?})", v, c);
            let g = leaf.grad(&l.into_padded().backward()).unwrap().into_data().try_to_vec::<f32>().unwrap();
            prop_assert!(g.iter().all(|x| x.is_finite()), "gradient {:?} ({:?})", g, c);
            Ok(())
        })
        .unwrap();
}

#[test]
fn keras_json_round_trip_is_the_identity() {
    let names: Vec<&str> = objectives::registry::ALL_LOSSES.iter().map(|e| e.class_name).collect();
    runner(256, 6)
        .run(&(0..names.len(), 0..5usize, "[a-z_]{1,12}", any::<bool>()), |(i, r, name, f64)| {
            let mut json = objectives::get(names[i]).unwrap().to_keras_json();
            json["config"]["reduction"] = Reduction::ALL[r].to_json();
            json["config"]["name"] = name.clone().into();
            json["config"]["dtype"] = if f64 { "float64".into() } else { serde_json::Value::Null };
            let loss = objectives::from_keras_json(&json).unwrap();
            let again = loss.to_keras_json();
            prop_assert_eq!(&objectives::from_keras_json(&again).unwrap().to_keras_json(), &again);
            prop_assert_eq!(again["config"]["name"].as_str(), Some(name.as_str()));
            prop_assert_eq!(loss.reduction(), Reduction::ALL[r]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn non_finite_values_propagate_and_the_check_names_the_first() {
    for device in [objectives::device::test_device(), objectives::device::test_device().autodiff()] {
        for name in dense() {
            for logits in [false, true] {
                for bad in [f32::NAN, f32::INFINITY] {
                    let loss = build(name, Reduction::SumOverBatchSize, None, logits);
                    let t = dynt(&[0.0, 1.0, 0.0, 1.0, 0.0, 1.0], &[2, 3], &device);
                    let mut pv = vec![0.3f32, 0.6, 0.2, 0.4, 0.5, 0.7];
                    pv[4] = bad;
                    let p = dynt(&pv, &[2, 3], &device);
                    let v = value(loss.compute(&t, &p, None, None).unwrap());
                    // NaN propagates (an infinity gives ±inf or NaN, as the arithmetic says).
                    if bad.is_nan() {
                        assert!(v.is_nan(), "{name} (logits {logits}): NaN in y_pred gave {v}");
                    }
                    // A NaN sample weight propagates too.
                    let w = dynt(&[1.0, f32::NAN], &[2], &device);
                    let v = value(
                        loss.compute(&t, &dynt(&[0.3, 0.6, 0.2, 0.4, 0.5, 0.7], &[2, 3], &device), Some(&w), None)
                            .unwrap(),
                    );
                    assert!(v.is_nan(), "{name}: NaN weight gave {v}");
                    let err = CheckFinite::new(loss).compute(&t, &p, None, None).unwrap_err();
                    match err {
                        LossError::NonFinite { what, index, .. } => {
                            assert_eq!((what, index), ("y_pred", vec![1, 1]), "{name}");
                        }
                        other => panic!("{name}: {other}"),
                    }
                }
            }
        }
    }
}
