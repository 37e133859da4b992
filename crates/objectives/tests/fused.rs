//! The fused single-pass path equals the composed reference: loss value and gradient with
//! respect to `y_pred` (rtol 1e-5), for every registered loss configuration with a fused kernel
//! (the registry's test variants), on random shapes, axes, sample
//! weights, masks and reductions — odd sizes and strided (non-contiguous) inputs included.
//! Each case also checks that the fused kernel actually ran (otherwise the test would compare
//! the composed path with itself).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{Device, Tensor, TensorData};
use objectives::domain::{Domain, Values};
use objectives::fused::{calls_on_this_thread, with_fused};
use objectives::prelude::*;
use objectives::registry::{ALL_LOSSES, LossEntry};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value};

/// Every registered loss configuration with a fused kernel (the registry's test variants), with
/// its domain: `(entry, config)`.
fn fused_losses() -> Vec<(&'static LossEntry, Map<String, Value>)> {
    let mut out = vec![];
    for e in ALL_LOSSES {
        for config in e.configs().unwrap() {
            if e.build(&config).unwrap().fused().is_some() {
                out.push((e, config));
            }
        }
    }
    out
}

fn loss(i: usize, axis: i64, reduction: Reduction) -> (Box<dyn Loss>, Domain, bool) {
    let (entry, mut config) = fused_losses().swap_remove(i);
    let logits = config.get("from_logits") == Some(&Value::Bool(true));
    config.insert("axis".into(), axis.into());
    config.insert("reduction".into(), reduction.to_json());
    (entry.build(&config).unwrap(), entry.domain, logits)
}

#[derive(Clone, Debug)]
struct Case {
    loss: usize,
    shape: Vec<usize>,
    axis: usize,
    reduction: usize,
    weight: usize,
    mask: bool,
    strided: bool,
    seed: u64,
    /// Every label is the loss's `ignore_class` (sparse losses that have one).
    all_ignored: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..fused_losses().len(),
        proptest::collection::vec(1usize..6, 2..5),
        0usize..4,
        0usize..4,
        0usize..3,
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(loss, shape, axis, reduction, weight, mask, strided, seed)| {
            let axis = axis % shape.len();
            Case { loss, shape, axis, reduction, weight, mask, strided, seed, all_ignored: false }
        })
}

/// A splitmix64 stream of uniform numbers in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }
    fn vec(&mut self, n: usize, f: impl Fn(f32) -> f32) -> Vec<f32> {
        (0..n).map(|_| f(self.next())).collect()
    }
}

fn tensor(v: Vec<f32>, shape: &[usize], d: &Device) -> DynTensor {
    DynTensor::from_data(TensorData::new(v, shape.to_vec()), d).unwrap()
}

/// (loss, gradient) on an autodiff device, with the fused path on or off.
fn run(c: &Case, fused: bool) -> Option<(f64, Vec<f32>, u64)> {
    let reduction =
        [Reduction::SumOverBatchSize, Reduction::Sum, Reduction::Mean, Reduction::MeanWithSampleWeight][c.reduction];
    let (loss, domain, logits) = loss(c.loss, c.axis as i64, reduction);
    let d = objectives::device::test_device().autodiff();
    let n: usize = c.shape.iter().product();
    let classes = c.shape[c.axis];
    let mut reduced = c.shape.clone();
    reduced.remove(c.axis);
    let nr: usize = reduced.iter().product();
    let mut rng = Rng(c.seed);
    let (target, pred) = match domain {
        Domain::Dense { target, pred, .. } => (target, pred),
        _ => (Values::UnitInterval, Values::Probability),
    };
    let pred = match pred {
        _ if logits => rng.vec(n, |u| 8.0 * u - 4.0),
        Values::Positive => rng.vec(n, |u| 0.05 + 3.0 * u),
        _ => rng.vec(n, |u| 4.0 * u - 2.0),
    };
    let ignore_class = fused_losses()[c.loss].1.get("ignore_class").and_then(Value::as_f64);
    let (y_true, true_shape) = match (domain, target) {
        (Domain::ClassIndices, _) if c.all_ignored => (vec![ignore_class? as f32; nr], reduced.clone()),
        (Domain::ClassIndices, _) => {
            (rng.vec(nr, |u| (u * classes as f32).floor().min(classes as f32 - 1.0)), reduced.clone())
        }
        (_, Values::Signs) => {
            let zero_one = rng.next() < 0.5;
            (rng.vec(n, |u| if u < 0.5 { if zero_one { 0.0 } else { -1.0 } } else { 1.0 }), c.shape.clone())
        }
        (_, Values::UnitInterval | Values::Probability) => (rng.vec(n, |u| u), c.shape.clone()),
        _ => (rng.vec(n, |u| 3.0 * u - 1.0), c.shape.clone()),
    };
    let weight = match c.weight {
        0 => None,
        1 => Some(tensor(rng.vec(reduced[0], |u| 2.0 * u), &reduced[..1], &d)),
        _ => Some(tensor(rng.vec(nr, |u| 2.0 * u), &reduced, &d)),
    };
    let mask = c.mask.then(|| tensor(rng.vec(nr, |u| if u < 0.3 { 0.0 } else { 1.0 }), &reduced, &d));
    let y_true = tensor(y_true, &true_shape, &d);
    // y_pred, padded to rank 8 as DynTensor stores it; strided: a transposed view of the leaf.
    let mut padded = vec![1; objectives::MAX_RANK - c.shape.len()];
    padded.extend_from_slice(&c.shape);
    let (leaf, view) = if c.strided {
        let r = padded.len();
        let mut swapped_shape = padded.clone();
        swapped_shape.swap(r - 1, r - 2);
        let mut swapped = vec![0.0; n];
        let (rows, cols) = (padded[r - 2], padded[r - 1]);
        for (k, v) in pred.iter().enumerate() {
            let (blk, i, j) = (k / (rows * cols), (k / cols) % rows, k % cols);
            swapped[blk * rows * cols + j * rows + i] = *v;
        }
        let leaf =
            Tensor::<{ objectives::MAX_RANK }>::from_data(TensorData::new(swapped, swapped_shape), &d).require_grad();
        (leaf.clone(), leaf.swap_dims(r - 1, r - 2))
    } else {
        let leaf = Tensor::<{ objectives::MAX_RANK }>::from_data(TensorData::new(pred, padded), &d).require_grad();
        (leaf.clone(), leaf)
    };
    let y_pred = DynTensor::from_padded_checked(view, c.shape.clone()).unwrap();
    let before = calls_on_this_thread();
    let value = with_fused(fused, || loss.compute(&y_true, &y_pred, weight.as_ref(), mask.as_ref()));
    let value = value.ok()?;
    let ran = calls_on_this_thread() - before;
    let grads = value.clone().into_padded().backward();
    let g = leaf.grad(&grads).map(|g| g.into_data().try_to_vec::<f32>().unwrap()).unwrap_or_else(|| vec![0.0; n]);
    Some((value.to_vec_f64().unwrap()[0], g, ran))
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-5 * scale.max(1e-6)
}

#[test]
fn fused_equals_composed_value_and_gradient() {
    let mut runner = TestRunner::new_with_rng(
        Config { cases: 400, failure_persistence: None, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let fused_cases = std::cell::Cell::new(0);
    runner
        .run(&case(), |c| {
            fused_cases.set(fused_cases.get() + compare(&c)?);
            Ok(())
        })
        .unwrap();
    assert!(fused_cases.get() > 250, "only {} cases ran fused", fused_cases.get());
}

/// Runs `c` composed and fused; both must agree (or both fail). Returns how often the fused path
/// ran (0 or 1).
fn compare(c: &Case) -> Result<u64, TestCaseError> {
    match (run(c, false), run(c, true)) {
        (Some((v0, g0, ran0)), Some((v1, g1, ran1))) => {
            prop_assert_eq!(ran0, 0, "the composed run used the fused path");
            // Shapes that Keras's rank alignment would squeeze, and ignore_class with a user mask,
            // are left to the composed path; every other case must run fused.
            let ignore_class = fused_losses()[c.loss].1.get("ignore_class").is_some_and(|v| !v.is_null());
            let must = !(ignore_class && c.mask) && c.shape.last() != Some(&1);
            prop_assert!(ran1 <= 1 && (ran1 == 1 || !must), "fused ran {} times for {:?}", ran1, c);
            prop_assert!(close(v0, v1, v0.abs().max(1.0)), "value {} vs {} for {:?}", v0, v1, c);
            // Relative to the largest gradient entry; entries that are exactly 0 in one path may be
            // f32 rounding noise (~1e-8) in the other, so the scale is at least 1e-2.
            let scale = (g0.iter().fold(0f32, |m, x| m.max(x.abs())) as f64).max(1e-2);
            for (i, (a, b)) in g0.iter().zip(&g1).enumerate() {
                prop_assert!(close(*a as f64, *b as f64, scale), "grad[{}] {} vs {} for {:?}", i, a, b, c);
            }
            Ok(ran1)
        }
        (None, None) => Ok(0),
        (a, b) => Err(TestCaseError::fail(format!(
            "one path failed: composed {:?}, fused {:?} for {c:?}",
            a.is_some(),
            b.is_some()
        ))),
    }
}

/// The softmax cross-entropies (from logits) on the rows the random shapes above never reach:
/// a vocabulary-wide last axis (C ≥ 32000, many blocks per row), channels-first logits with many
/// classes (`axis = 1`, strided rows), each also from a transposed (non-contiguous) view, with
/// weights and masks; and sparse labels that are all `ignore_class`.
#[test]
fn wide_channels_first_and_ignored_softmax_rows() {
    let softmax: Vec<usize> = fused_losses()
        .iter()
        .enumerate()
        .filter(|(_, (e, config))| {
            e.class_name.contains("CategoricalCrossentropy") && config.get("from_logits") == Some(&Value::Bool(true))
        })
        .map(|(i, _)| i)
        .collect();
    assert!(softmax.len() >= 3, "CCE and SCCE (with and without ignore_class) from logits: {softmax:?}");
    let mut fused = 0;
    for &loss in &softmax {
        let sparse = fused_losses()[loss].1.get("ignore_class").is_some_and(|v| !v.is_null());
        for (shape, axis) in [(vec![2, 33_000], 1), (vec![3, 40, 6, 5], 1), (vec![2, 3, 140_000], 2)] {
            for (k, (reduction, weight, mask, strided)) in
                [(0, 0, false, false), (3, 2, false, true), (1, 1, true, false), (2, 2, true, true)]
                    .into_iter()
                    .enumerate()
            {
                let seed = 17 + k as u64;
                let c = Case {
                    loss,
                    shape: shape.clone(),
                    axis,
                    reduction,
                    weight,
                    mask,
                    strided,
                    seed,
                    all_ignored: false,
                };
                fused += compare(&c).unwrap();
                if sparse {
                    fused += compare(&Case { all_ignored: true, ..c }).unwrap();
                }
            }
        }
    }
    assert!(fused >= 30, "only {fused} of these cases ran fused");
}
