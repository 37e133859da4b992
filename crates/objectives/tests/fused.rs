//! The fused single-pass path equals the composed reference: loss value and gradient with
//! respect to `y_pred` (rtol 1e-5), for every fused loss, on random shapes, axes, sample
//! weights, masks and reductions — odd sizes and strided (non-contiguous) inputs included.
//! Each case also checks that the fused kernel actually ran (otherwise the test would compare
//! the composed path with itself).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{Device, Tensor, TensorData};
use objectives::fused::{calls_on_this_thread, with_fused};
use objectives::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The losses with a fused kernel, by index, with their target domain.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// Any real target, any real prediction.
    Real,
    /// Positive predictions (rates, logs).
    PositivePred,
    /// Targets in [0, 1], predictions are logits.
    Binary,
    /// Targets are −1/1 or 0/1 labels.
    Signs,
    /// One-hot or soft class targets along the axis; predictions are logits.
    Categorical,
    /// Integer labels without the axis; predictions are logits.
    Sparse,
}

fn loss(i: usize, axis: i64, reduction: Reduction) -> (Box<dyn Loss>, Target) {
    let (l, t): (Box<dyn Loss>, Target) = match i {
        0 => (Box::new(MeanSquaredError::new(MeanSquaredErrorConfig { axis })), Target::Real),
        1 => (Box::new(MeanAbsoluteError::new(MeanAbsoluteErrorConfig { axis })), Target::Real),
        2 => (Box::new(Huber::new(HuberConfig { delta: 0.7, axis })), Target::Real),
        3 => (Box::new(LogCosh::new(LogCoshConfig { axis })), Target::Real),
        4 => (
            Box::new(MeanSquaredLogarithmicError::new(MeanSquaredLogarithmicErrorConfig { axis })),
            Target::PositivePred,
        ),
        5 => (Box::new(MeanAbsolutePercentageError::new(MeanAbsolutePercentageErrorConfig { axis })), Target::Real),
        6 => (Box::new(Poisson::new(PoissonConfig { axis })), Target::PositivePred),
        7 => (Box::new(Hinge::new(HingeConfig { axis })), Target::Signs),
        8 => (Box::new(SquaredHinge::new(SquaredHingeConfig { axis })), Target::Signs),
        9 => (
            Box::new(BinaryCrossentropy::new(BinaryCrossentropyConfig {
                from_logits: true,
                label_smoothing: 0.1,
                axis,
            })),
            Target::Binary,
        ),
        10 => (
            Box::new(BinaryFocalCrossentropy::new(BinaryFocalCrossentropyConfig {
                apply_class_balancing: true,
                alpha: 0.3,
                gamma: 2.0,
                from_logits: true,
                label_smoothing: 0.05,
                axis,
            })),
            Target::Binary,
        ),
        11 => (
            Box::new(CategoricalCrossentropy::new(CategoricalCrossentropyConfig {
                from_logits: true,
                label_smoothing: 0.1,
                axis,
            })),
            Target::Categorical,
        ),
        12 => (
            Box::new(SparseCategoricalCrossentropy::new(SparseCategoricalCrossentropyConfig {
                from_logits: true,
                ignore_class: None,
                axis,
            })),
            Target::Sparse,
        ),
        _ => (
            Box::new(SparseCategoricalCrossentropy::new(SparseCategoricalCrossentropyConfig {
                from_logits: true,
                ignore_class: Some(1),
                axis,
            })),
            Target::Sparse,
        ),
    };
    (l.with_reduction_boxed(reduction), t)
}

trait WithReduction {
    fn with_reduction_boxed(self, r: Reduction) -> Box<dyn Loss>;
}

impl WithReduction for Box<dyn Loss> {
    fn with_reduction_boxed(self, r: Reduction) -> Box<dyn Loss> {
        let mut json = self.to_keras_json();
        json["config"]["reduction"] = r.to_json();
        objectives::from_keras_json(&json).unwrap()
    }
}

const LOSSES: usize = 14;

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
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..LOSSES,
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
            Case { loss, shape, axis, reduction, weight, mask, strided, seed }
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
    let (loss, target) = loss(c.loss, c.axis as i64, reduction);
    let d = Device::flex().autodiff();
    let n: usize = c.shape.iter().product();
    let classes = c.shape[c.axis];
    let mut reduced = c.shape.clone();
    reduced.remove(c.axis);
    let nr: usize = reduced.iter().product();
    let mut rng = Rng(c.seed);
    let pred = match target {
        Target::PositivePred => rng.vec(n, |u| 0.05 + 3.0 * u),
        Target::Binary | Target::Categorical | Target::Sparse => rng.vec(n, |u| 8.0 * u - 4.0),
        _ => rng.vec(n, |u| 4.0 * u - 2.0),
    };
    let (y_true, true_shape) = match target {
        Target::Real | Target::PositivePred => (rng.vec(n, |u| 3.0 * u - 1.0), c.shape.clone()),
        Target::Binary => (rng.vec(n, |u| u), c.shape.clone()),
        Target::Signs => {
            let zero_one = rng.next() < 0.5;
            (rng.vec(n, |u| if u < 0.5 { if zero_one { 0.0 } else { -1.0 } } else { 1.0 }), c.shape.clone())
        }
        Target::Categorical => {
            let soft = rng.vec(n, |u| u);
            (soft, c.shape.clone())
        }
        Target::Sparse => (rng.vec(nr, |u| (u * classes as f32).floor().min(classes as f32 - 1.0)), reduced.clone()),
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
            let composed = run(&c, false);
            let fused = run(&c, true);
            match (composed, fused) {
                (Some((v0, g0, ran0)), Some((v1, g1, ran1))) => {
                    prop_assert_eq!(ran0, 0, "the composed run used the fused path");
                    // Shapes that Keras's rank alignment would squeeze, and ignore_class with a user
                    // mask, are left to the composed path; every other case must run fused.
                    let must = !(c.loss == 13 && c.mask) && c.shape.last() != Some(&1);
                    prop_assert!(ran1 <= 1 && (ran1 == 1 || !must), "fused ran {} times for {:?}", ran1, c);
                    fused_cases.set(fused_cases.get() + ran1);
                    prop_assert!(close(v0, v1, v0.abs().max(1.0)), "value {} vs {} for {:?}", v0, v1, c);
                    // Relative to the largest gradient entry; entries that are exactly 0 in one path
                    // may be f32 rounding noise (~1e-8) in the other, so the scale is at least 1e-2.
                    let scale = (g0.iter().fold(0f32, |m, x| m.max(x.abs())) as f64).max(1e-2);
                    for (i, (a, b)) in g0.iter().zip(&g1).enumerate() {
                        prop_assert!(close(*a as f64, *b as f64, scale), "grad[{}] {} vs {} for {:?}", i, a, b, c);
                    }
                }
                (None, None) => {}
                (a, b) => prop_assert!(false, "one path failed: composed {:?}, fused {:?}", a.is_some(), b.is_some()),
            }
            Ok(())
        })
        .unwrap();
    assert!(fused_cases.get() > 250, "only {} cases ran fused", fused_cases.get());
}
