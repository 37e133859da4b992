//! Empty batches (B = 0) and zero-size axes: Keras's results or typed errors, never a panic.
//!
//! What is promised (CONTRIBUTING.md "Testing", README "NaN and infinity", and the docs of the reducer, of
//! `LossError::EmptyAxis` and of each loss):
//! - an empty batch whose per-sample losses have shape `(0,)` gives that empty tensor back under
//!   every reduction (Keras's `reduce_values` returns `values` when its shape is `(0,)`);
//! - any other empty per-sample tensor is summed to 0, and every division of the reducer is
//!   divide-no-nan: `sum_over_batch_size`, `mean` and `mean_with_sample_weight` give 0, not NaN;
//!   likewise an all-masked batch gives 0;
//! - a loss that averages (or takes a max) over an axis of size 0 refuses it with
//!   `LossError::EmptyAxis`, naming the axis and `y_pred`'s shape;
//! - Dice and Tversky sum over the axis (`axis=None`: every axis), so nothing gives
//!   `1 − 0 / (0 + ε) = 1`, their documented formula;
//! - CTC needs a sample, a timestep and a class in `y_pred`: `LossError::InputShape` otherwise;
//! - Circle takes rank-2 embeddings only (`LossError::InvalidConfig` otherwise); zero-size
//!   embeddings are all at distance 1.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{FloatDType, Tensor, TensorData};
use objectives::domain::Domain;
use objectives::prelude::*;
use objectives::registry::{ALL_LOSSES, LossEntry};

/// How a loss reads `y_true` for a `y_pred` whose class axis is last.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// `y_true` has `y_pred`'s shape; the per-sample loss averages (or maxes) over the last axis.
    SameShape,
    /// Dice and Tversky: `y_true` has `y_pred`'s shape; sums over every axis (one number).
    Overlap,
    /// One integer label per row: `y_true` is `y_pred`'s shape without the class axis.
    Sparse,
    /// Circle: one integer label per embedding of a rank-2 `y_pred`.
    Embeddings,
    /// CTC: `(batch, max_label_length)` labels, `(batch, time, classes)` logits.
    Ctc,
}

/// From the registry's domain of the loss.
fn kind(entry: &LossEntry) -> Kind {
    match entry.domain {
        Domain::Dense { .. } => Kind::SameShape,
        Domain::Overlap => Kind::Overlap,
        Domain::ClassIndices => Kind::Sparse,
        Domain::Embeddings => Kind::Embeddings,
        Domain::LabelSequences => Kind::Ctc,
    }
}

fn build(entry: &LossEntry, reduction: Reduction) -> Box<dyn Loss> {
    let mut config = serde_json::Map::new();
    config.insert("reduction".into(), reduction.to_json());
    entry.build(&config).unwrap()
}

fn full(shape: &[usize], value: f64) -> DynTensor {
    DynTensor::full(shape, value, FloatDType::F32, &objectives::device::test_device()).unwrap()
}

/// The result has shape `shape` and holds exactly `values` (`==`: NaN never passes; an empty sum
/// may be −0, which is 0).
fn assert_result(r: Result<DynTensor>, shape: &[usize], values: &[f32], what: &str) {
    let l = r.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(l.shape(), shape, "{what}");
    let v = l.to_vec_f32().unwrap();
    assert_eq!(v.len(), values.len(), "{what}: {v:?}");
    assert!(v.iter().zip(values).all(|(a, b)| a == b), "{what}: {v:?}, expected {values:?}");
}

#[test]
fn empty_batch_gives_keras_results() {
    let d = objectives::device::test_device();
    let t: DynTensor = Tensor::<2>::zeros([0, 3], &d).into();
    let p = DynTensor::from_data(TensorData::new(Vec::<f32>::new(), [0, 3]), &d).unwrap();
    assert_eq!(p.shape(), &[0, 3]);
    // Keras returns the empty per-sample tensor for an empty batch, whatever the reduction.
    for reduction in Reduction::ALL {
        let mse = MeanSquaredError::default().with_reduction(reduction);
        assert_result(mse.compute(&t, &p, None, None), &[0], &[], &format!("(0, 3) {reduction}"));
        // Also with a (B,) sample weight and mask of the per-sample shape.
        let (sw, mask) = (full(&[0], 1.0), full(&[0], 1.0));
        let r = mse.compute(&t, &p, Some(&sw), Some(&mask));
        assert_result(r, &[0], &[], &format!("(0, 3) weighted, masked {reduction}"));
    }

    // Per-sample losses of shape (0, 4): not `(0,)`, so they are summed (to 0) and the division
    // by 0 elements (or by Σw = 0) is divide-no-nan: 0, not NaN.
    let t = full(&[0, 4, 3], 0.0);
    let p = full(&[0, 4, 3], 0.5);
    for reduction in Reduction::ALL {
        let mse = MeanSquaredError::default().with_reduction(reduction);
        let (shape, values): (&[usize], &[f32]) =
            if reduction == Reduction::None { (&[0, 4], &[]) } else { (&[], &[0.0]) };
        assert_result(mse.compute(&t, &p, None, None), shape, values, &format!("(0, 4, 3) {reduction}"));
        let (sw, mask) = (full(&[0], 2.0), full(&[0, 4], 1.0));
        let r = mse.compute(&t, &p, Some(&sw), Some(&mask));
        assert_result(r, shape, values, &format!("(0, 4, 3) weighted, masked {reduction}"));
    }
}

/// An all-masked batch gives 0, not NaN (README: "divide-no-nan: an all-masked batch gives 0").
#[test]
fn all_masked_batch_gives_zero() {
    let t = full(&[2, 3], 0.0);
    let p = full(&[2, 3], 0.5);
    let mask = full(&[2], 0.0);
    for reduction in Reduction::ALL {
        let mse = MeanSquaredError::default().with_reduction(reduction);
        let (shape, values): (&[usize], &[f32]) =
            if reduction == Reduction::None { (&[2], &[0.0, 0.0]) } else { (&[], &[0.0]) };
        assert_result(mse.compute(&t, &p, None, Some(&mask)), shape, values, &format!("{reduction}"));
    }
}

#[test]
fn every_loss_gives_keras_s_result_for_an_empty_batch() {
    for entry in ALL_LOSSES {
        let name = entry.class_name;
        for reduction in Reduction::ALL {
            let loss = build(entry, reduction);
            let what = |shape: &str| format!("{name} {reduction}, y_pred {shape}");
            // Per-sample losses of shape (0,), or the whole-batch number of Dice and Tversky.
            match kind(entry) {
                Kind::SameShape => {
                    let r = loss.compute(&full(&[0, 3], 0.0), &full(&[0, 3], 0.5), None, None);
                    assert_result(r, &[0], &[], &what("(0, 3)"));
                }
                Kind::Sparse | Kind::Embeddings => {
                    let r = loss.compute(&full(&[0], 0.0), &full(&[0, 3], 0.5), None, None);
                    assert_result(r, &[0], &[], &what("(0, 3)"));
                }
                Kind::Overlap => {
                    // 1 − 0 / (0 + ε): a scalar, reduced or not.
                    let r = loss.compute(&full(&[0, 3], 0.0), &full(&[0, 3], 0.5), None, None);
                    assert_result(r, &[], &[1.0], &what("(0, 3)"));
                }
                Kind::Ctc => {
                    let err = loss.compute(&full(&[0, 2], 0.0), &full(&[0, 4, 3], 0.5), None, None).unwrap_err();
                    assert!(
                        matches!(&err, LossError::InputShape { name: loss, .. } if loss == "ctc"),
                        "{}: {err:?}",
                        what("(0, 4, 3)")
                    );
                    assert!(err.to_string().contains("at least one sample, one timestep and one class"), "{err}");
                    assert!(err.to_string().contains("[0, 4, 3]"), "{err}");
                }
            }
            // Per-sample losses of shape (0, 4): summed to 0, divided without NaN.
            let (shape, values): (&[usize], &[f32]) =
                if reduction == Reduction::None { (&[0, 4], &[]) } else { (&[], &[0.0]) };
            match kind(entry) {
                Kind::SameShape => {
                    let r = loss.compute(&full(&[0, 4, 3], 0.0), &full(&[0, 4, 3], 0.5), None, None);
                    assert_result(r, shape, values, &what("(0, 4, 3)"));
                }
                Kind::Sparse => {
                    let r = loss.compute(&full(&[0, 4], 0.0), &full(&[0, 4, 3], 0.5), None, None);
                    assert_result(r, shape, values, &what("(0, 4, 3)"));
                }
                Kind::Overlap => {
                    let r = loss.compute(&full(&[0, 4, 3], 0.0), &full(&[0, 4, 3], 0.5), None, None);
                    assert_result(r, &[], &[1.0], &what("(0, 4, 3)"));
                }
                Kind::Embeddings => {
                    let err = loss.compute(&full(&[0], 0.0), &full(&[0, 4, 3], 0.5), None, None).unwrap_err();
                    assert!(matches!(&err, LossError::InvalidConfig { name: loss, .. } if loss == "circle"), "{err:?}");
                    assert!(err.to_string().contains("rank-2") && err.to_string().contains("[0, 4, 3]"), "{err}");
                }
                Kind::Ctc => {} // (0, 4, 3) is CTC's own shape, refused above
            }
        }
    }
}

#[test]
fn every_loss_refuses_or_answers_a_zero_size_axis() {
    for entry in ALL_LOSSES {
        let name = entry.class_name;
        for reduction in Reduction::ALL {
            let loss = build(entry, reduction);
            match kind(entry) {
                Kind::SameShape | Kind::Sparse => {
                    // A mean (or max, or softmax) over the last axis of size 0: EmptyAxis.
                    let t = if kind(entry) == Kind::Sparse { full(&[2], 0.0) } else { full(&[2, 0], 0.0) };
                    let err = loss.compute(&t, &full(&[2, 0], 0.5), None, None).unwrap_err();
                    match &err {
                        LossError::EmptyAxis { axis, shape, .. } => {
                            assert_eq!((*axis, shape.as_slice()), (1, &[2usize, 0][..]), "{name} {reduction}");
                        }
                        other => panic!("{name} {reduction}: expected EmptyAxis, got {other:?}"),
                    }
                    let msg = err.to_string();
                    assert!(msg.contains("axis 1 of y_pred (shape [2, 0]) has size 0"), "{name}: {msg}");
                }
                Kind::Overlap => {
                    // Sums over nothing: 1 − 0 / (0 + ε) = 1.
                    let r = loss.compute(&full(&[2, 0], 0.0), &full(&[2, 0], 0.5), None, None);
                    assert_result(r, &[], &[1.0], &format!("{name} {reduction}"));
                }
                Kind::Embeddings => {
                    // Zero-size embeddings are all at distance 1. Both rows have label 0: a
                    // positive each but no negative, so each loss is 0 and Circle's own mask
                    // (loss > 0) masks both: an all-masked batch, 0 under every reduction.
                    let r = loss.compute(&full(&[2], 0.0), &full(&[2, 0], 0.5), None, None);
                    let (shape, values): (&[usize], &[f32]) =
                        if reduction == Reduction::None { (&[2], &[0.0, 0.0]) } else { (&[], &[0.0]) };
                    assert_result(r, shape, values, &format!("{name} {reduction}"));
                }
                Kind::Ctc => {
                    for p in [[2, 0, 3], [2, 4, 0]] {
                        // No timestep, or no class (not even the blank).
                        let err = loss.compute(&full(&[2, 1], 1.0), &full(&p, 0.5), None, None).unwrap_err();
                        assert!(matches!(&err, LossError::InputShape { .. }), "{p:?}: {err:?}");
                        let msg = err.to_string();
                        assert!(msg.contains("at least one sample, one timestep and one class"), "{msg}");
                        assert!(msg.contains(&format!("{p:?}")), "{msg}");
                    }
                }
            }
        }
    }
}
