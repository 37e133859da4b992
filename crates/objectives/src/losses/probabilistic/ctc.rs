//! Connectionist Temporal Classification (CTC) loss.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::{Error, Result};
use crate::losses::wrapper::{LossFunctionWrapper, is_last_axis, keras_loss_fn, last_axis};

/// Keras's stand-in for `log 0` in the forward recursion (`log_epsilon` in its JAX backend).
const LOG_EPSILON: f64 = -1e5;

/// Arguments of [`ctc`] (`axis` is objectives' extension).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CtcConfig {
    /// The class axis of `y_pred`: -1 or 2 for `(batch, time, classes)` (default -1), 1 or -2
    /// for `(batch, classes, time)`. The time axis is the other non-batch axis.
    #[serde(skip_serializing_if = "is_last_axis")]
    pub axis: i64,
}

impl Default for CtcConfig {
    fn default() -> Self {
        Self { axis: last_axis() }
    }
}

/// CTC loss, unreduced: the negative log-likelihood of each label sequence under the
/// per-timestep class distributions that `y_pred`'s logits define, summed over every alignment.
///
/// ```text
/// lp[b, t, :] = log_softmax(y_pred[b, t, :])        (logits in, as in Keras)
/// n_b         = #{ i : y_true[b, i] ≠ 0 }            (label length)
/// z_b         = y_true[b, 0], …, y_true[b, n_b − 1]  (the first n_b entries of the row)
/// loss[b]     = −log Σ_{π : collapse(π) = z_b} Π_t exp(lp[b, t, π_t])
/// ```
/// `collapse` merges repeated symbols, then drops blanks; the blank is class 0 and every
/// sequence uses all `T` timesteps of `y_pred`. The sum runs through the forward algorithm in
/// log space, with `log 0` replaced by `log ε = −1e5` as in Keras's JAX backend (optax's
/// `ctc_loss_with_forward_probs`), so the numbers are Keras's.
///
/// Labels are data, not differentiable: they are read to the CPU. Label 0 is both the blank and
/// the padding. As in Keras, the label length is the number of non-zero labels and the sequence
/// is the *first* `n_b` entries of the row, so padding zeros belong at the end: a zero before a
/// non-zero label is kept as a label whose score is the blank's (Keras's `[1, 2, 0, 2]` is the
/// sequence `1, 2, 0`), and the row's last labels are dropped.
///
/// A sequence that cannot fit in `T` timesteps (`n_b` plus the number of adjacent repeats
/// exceeds `T`) has no alignment. Keras then returns a large finite loss, about `1e5` (each
/// impossible transition costs `log ε`), not `inf`; so does this function, with the same values.
///
/// The recursion runs over the `T` timesteps with a few burn operations on
/// `(batch, max_label_length + 1)` tensors per step, and gradients flow through autodiff to
/// `y_pred`. (burn's backward of each step's time slice writes a `(batch, T, max_label_length + 1)`
/// buffer, so the backward pass grows as `T²`.)
/// # Shapes
/// `y_true`: `[batch, max_label_length]`, integer labels (as floats) in `[0, classes)`;
/// `y_pred`: `[batch, time, classes]` logits (or `[batch, classes, time]` with `axis = 1`)
/// → `[batch]`.
/// # Errors
/// [`Error::InputShape`] unless `y_true` has rank 2 and `y_pred` rank 3 with the same batch
/// size, and `y_pred` is not empty (it needs a sample, a timestep and the blank class);
/// [`Error::AxisOutOfRange`], or [`Error::InvalidConfig`] for `axis = 0` (the batch
/// axis); [`Error::InvalidLabel`] for a label that is not an integer in `[0, classes)`,
/// naming its value and position.
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// // One timestep, label 2: the only alignment emits 2, so the loss is −log softmax(y_pred)[2].
/// let y_true: DynTensor = Tensor::<2>::from_floats([[2.0, 0.0]], &d).into();
/// let y_pred: DynTensor = Tensor::<3>::from_floats([[[0.0, 0.0, 0.0]]], &d).into();
/// let l = ctc(&y_true, &y_pred, &Default::default())?.to_vec_f32()?;
/// assert!((l[0] - 3f32.ln()).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.ctc` (3.x, JAX backend).
pub fn ctc(y_true: impl Into<DynTensor>, y_pred: impl Into<DynTensor>, config: &CtcConfig) -> Result<DynTensor> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    let shape_error = |expected: &str| Error::InputShape {
        name: "ctc".into(),
        expected: expected.into(),
        y_true: y_true.shape().to_vec(),
        y_pred: y_pred.shape().to_vec(),
    };
    if y_true.rank() != 2 || y_pred.rank() != 3 {
        return Err(shape_error(
            "y_true must be integer labels of shape (batch, max_label_length) and y_pred logits of shape \
             (batch, time, classes), or (batch, classes, time) with axis=1",
        ));
    }
    let class_axis = y_pred.normalize_axis("ctc", config.axis)?;
    if class_axis == 0 {
        return Err(Error::InvalidConfig {
            name: "CTC".into(),
            message: format!(
                "axis {} is y_pred's batch axis; axis must be the class axis: -1 or 2 for (batch, time, classes), \
                 1 or -2 for (batch, classes, time)",
                config.axis
            ),
        });
    }
    if y_pred.numel() == 0 {
        return Err(shape_error("y_pred needs at least one sample, one timestep and one class (the blank, class 0)"));
    }
    let logits: Tensor<3> = y_pred.clone().into_tensor()?;
    let logits = if class_axis == 1 { logits.swap_dims(1, 2) } else { logits };
    let [batch, time, classes] = logits.dims();
    let labels_width = y_true.shape()[1];
    if y_true.shape()[0] != batch {
        return Err(shape_error("y_true and y_pred must have the same batch size (first axis)"));
    }
    let labels = read_labels(y_true, classes)?;
    let device = y_pred.device();
    let dtype = y_pred.dtype();

    let log_probs = log_softmax(logits, 2);
    let blank = log_probs.clone().narrow(2, 0, 1); // [B, T, 1]
    let n = labels_width;
    if n == 0 {
        // No label slots: the only path is all blanks.
        let l = blank.sum_dim(1).reshape([batch]).neg();
        return Ok(l.into());
    }

    // Per-row bookkeeping on the CPU: label lengths, repeats, gather indices.
    let mut lengths = Vec::with_capacity(batch);
    let mut repeat_penalty = Vec::with_capacity(batch * n);
    let mut no_repeat_penalty = Vec::with_capacity(batch * n);
    for row in labels.chunks(n) {
        lengths.push(row.iter().filter(|&&c| c != 0).count() as i64);
        for i in 0..n {
            // repeat[b, i]: label i equals label i + 1 (over the whole padded row, as Keras).
            let repeat = i + 1 < n && row[i] == row[i + 1];
            repeat_penalty.push(if repeat { LOG_EPSILON } else { 0.0 });
            no_repeat_penalty.push(if repeat { 0.0 } else { LOG_EPSILON });
        }
    }
    let float2 = |v: Vec<f64>, cols: usize| Tensor::<2>::from_data(TensorData::new(v, [batch, cols]), (&device, dtype));
    let repeat_penalty = float2(repeat_penalty, n);
    let no_repeat_penalty = float2(no_repeat_penalty, n);

    // Forward variables: phi[b, i] = "i labels emitted, now in a blank"; emit[b, i] = "label i
    // being emitted". Start: phi[:, 0] = log 1, everything else log ε.
    let mut phi_init = vec![LOG_EPSILON; batch * (n + 1)];
    for b in 0..batch {
        phi_init[b * (n + 1)] = 0.0;
    }
    let mut phi = float2(phi_init, n + 1);
    let mut emit = float2(vec![LOG_EPSILON; batch * n], n);

    // [B, T, 1 + N]: the blank's log-probability, then each label slot's.
    let index: Vec<i64> = (0..batch)
        .flat_map(|b| {
            let row = &labels[b * n..(b + 1) * n];
            (0..time).flat_map(move |_| row.iter().map(|&c| c as i64))
        })
        .collect();
    let index = int_tensor(index, [batch, time, n], &device);
    let observed = Tensor::cat(vec![blank, log_probs.gather(2, index)], 2);
    for t in 0..time {
        let o = observed.clone().narrow(1, t, 1).reshape([batch, n + 1]);
        let lp_blank = o.clone().narrow(1, 0, 1); // [B, 1]
        let lp_emit = o.narrow(1, 1, n); // [B, N]
        // emit → blank ε-transition, except into a repeat (which needs a real blank).
        let prev_phi = add_to_tail(phi, emit.clone().add(repeat_penalty.clone()));
        // blank → emit, and emit self-loop.
        let next_emit = log_add_exp(prev_phi.clone().narrow(1, 0, n).add(lp_emit.clone()), emit.clone().add(lp_emit));
        // blank self-loop, and emit → blank through a real blank only before a repeat.
        let next_phi = prev_phi.add(lp_blank.clone());
        let next_phi = add_to_tail(next_phi, emit.add(lp_blank).add(no_repeat_penalty.clone()));
        phi = next_phi;
        emit = next_emit;
    }
    // The last emitted label may end the sequence without a trailing blank.
    let last = add_to_tail(phi, emit);
    let lengths = int_tensor(lengths, [batch, 1], &device);
    let l = last.gather(1, lengths).reshape([batch]).neg();
    Ok(l.into())
}

keras_loss_fn!(CtcConfig, "CTC", "ctc", ctc);

/// `keras.losses.CTC`: [`ctc`] plus a [`crate::Reduction`].
pub type Ctc = LossFunctionWrapper<CtcConfig>;

/// Reads `y_true` as class indices, refusing anything that is not an integer in `[0, classes)`.
fn read_labels(y_true: &DynTensor, classes: usize) -> Result<Vec<usize>> {
    let width = y_true.shape()[1];
    let values = y_true.to_vec_f64()?;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_finite() && v.fract() == 0.0 && v >= 0.0 && v < classes as f64 {
                Ok(v as usize)
            } else {
                Err(Error::InvalidLabel { name: "ctc".into(), value: v, position: vec![i / width, i % width], classes })
            }
        })
        .collect()
}

fn int_tensor<const D: usize>(values: Vec<i64>, shape: [usize; D], device: &Device) -> Tensor<D, Int> {
    Tensor::<D, Int>::from_data(TensorData::new(values, shape), device)
}

/// `log(exp(a) + exp(b))`, element-wise. The shift `m = max(a, b)` is detached: the result does
/// not depend on it, so the gradient is exactly `softmax(a, b)`, ties included (a `max` with
/// gradient would send all of a tie to one side).
fn log_add_exp(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let m = a.clone().max_pair(b.clone()).detach();
    let s = a.sub(m.clone()).exp().add(b.sub(m.clone()).exp());
    m.add(s.log())
}

/// `phi` with `log_add_exp(phi[:, 1:], added)` in place of its tail (Keras's `update_phi_score`).
fn add_to_tail(phi: Tensor<2>, added: Tensor<2>) -> Tensor<2> {
    let [_, width] = phi.dims();
    let head = phi.clone().narrow(1, 0, 1);
    let tail = log_add_exp(phi.narrow(1, 1, width - 1), added);
    Tensor::cat(vec![head, tail], 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Loss, LossExt};
    use burn::tensor::{DType, FloatDType};

    fn labels<const B: usize, const L: usize>(v: [[f32; L]; B]) -> DynTensor {
        Tensor::<2>::from_floats(v, &crate::backend::test_device()).into()
    }

    fn logits_f64(v: &[f64], shape: [usize; 3], device: &Device) -> Tensor<3> {
        Tensor::<3>::from_data(TensorData::new(v.to_vec(), shape), (device, DType::F64))
    }

    fn log_softmax_row(x: &[f64]) -> Vec<f64> {
        let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let lse = m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        x.iter().map(|v| v - lse).collect()
    }

    /// Keras's `CTCTest.test_correctness` (also in the conformance vectors).
    #[test]
    fn keras_correctness_vector() -> Result<()> {
        let y_true = labels([[1., 2., 1., 0.], [1., 2., 0., 2.]]);
        let y_pred: DynTensor = Tensor::<3>::from_floats(
            [
                [[-0.12, -0.11, -0.1], [-0.09, -0.08, -0.07], [-0.06, -0.05, -0.04], [-0.03, -0.02, -0.01]],
                [[0.0, 0.01, 0.02], [0.03, 0.04, 0.05], [0.06, 0.07, 0.08], [0.09, 0.1, 0.11]],
            ],
            &crate::backend::test_device(),
        )
        .into();
        let l = Ctc::default().call(&y_true, &y_pred, None)?.into_scalar::<f32>()?;
        assert!((f64::from(l) - 2.448645).abs() <= 1e-4 * 2.448645, "{l}");
        // Per sequence, from a NumPy transcription of Keras's JAX ctc_loss
        // (testdata/ctc_reference.py, float64 line): the second row [1, 2, 0, 2] has 3 non-zero
        // labels, so its sequence is 1, 2, 0.
        let per = ctc(&y_true, &y_pred, &Default::default())?.to_vec_f64()?;
        assert!((per[0] - 2.442_931_5).abs() < 1e-5 && (per[1] - 2.454_360).abs() < 1e-5, "{per:?}");
        Ok(())
    }

    #[test]
    fn closed_forms() -> Result<()> {
        let Some(d) = crate::testing::f64_device("closed_forms") else {
            return Ok(());
        };
        // T = 1, label 2: −log p(2).
        let x = [0.3, -0.2, 0.9];
        let l = ctc(labels([[2.]]), logits_f64(&x, [1, 1, 3], &d), &Default::default())?.to_vec_f64()?;
        assert!((l[0] + log_softmax_row(&x)[2]).abs() < 1e-12, "{l:?}");

        // T = 2, label 1: alignments (1, 1), (0, 1), (1, 0).
        let x = [0.3, -0.2, 0.9, -1.0, 0.4, 0.1];
        let (p0, p1): (Vec<f64>, Vec<f64>) = (
            log_softmax_row(&x[..3]).iter().map(|v| v.exp()).collect(),
            log_softmax_row(&x[3..]).iter().map(|v| v.exp()).collect(),
        );
        let expected = -(p0[1] * p1[1] + p0[0] * p1[1] + p0[1] * p1[0]).ln();
        let y_pred: DynTensor = logits_f64(&x, [1, 2, 3], &d).into();
        let l = ctc(labels([[1., 0.]]), &y_pred, &Default::default())?.to_vec_f64()?;
        assert!((l[0] - expected).abs() < 1e-12, "{l:?} vs {expected}");

        // All padding: the only path is all blanks.
        let l = ctc(labels([[0., 0.]]), &y_pred, &Default::default())?.to_vec_f64()?;
        let blanks = -(p0[0] * p1[0]).ln();
        assert!((l[0] - blanks).abs() < 1e-12, "{l:?} vs {blanks}");
        // No label slots at all: the same.
        let none = DynTensor::from_data(TensorData::new(Vec::<f32>::new(), [1, 0]), &d)?;
        let l = ctc(&none, &y_pred, &Default::default())?.to_vec_f64()?;
        assert!((l[0] - blanks).abs() < 1e-12, "{l:?} vs {blanks}");
        Ok(())
    }

    /// A sequence longer than the input gives Keras's large finite loss (values from a NumPy
    /// transcription of Keras's JAX `ctc_loss`, in float64: testdata/ctc_reference.py).
    #[test]
    fn infeasible_sequence_is_large_and_finite() -> Result<()> {
        let Some(d) = crate::testing::f64_device("infeasible_sequence_is_large_and_finite") else {
            return Ok(());
        };
        let y_pred: DynTensor = logits_f64(&[0.1, 0.5, -0.3, 0.2, -0.1, 0.4], [1, 2, 3], &d).into();
        for (row, expected) in [([1., 1., 0.], 99_999.956_768_7), ([1., 2., 1.], 99_999.690_688_11)] {
            let l = ctc(labels([row]), &y_pred, &Default::default())?.to_vec_f64()?;
            assert!((l[0] - expected).abs() < 1e-6, "{row:?}: {l:?} vs {expected}");
        }
        // [2, 0] has one non-zero label, so the sequence is just 2 (testdata/ctc_reference.py).
        let l = ctc(labels([[2., 0.]]), &y_pred, &Default::default())?.to_vec_f64()?;
        assert!((l[0] - 1.240_073_85).abs() < 1e-6, "{l:?}");
        Ok(())
    }

    #[test]
    fn gradient_matches_finite_differences() -> Result<()> {
        let shape = [2, 5, 4];
        let n: usize = shape.iter().product();
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 23) as f64 / 7.0 - 1.5).collect();
        let y_true = labels([[1., 2., 2., 0.], [3., 1., 0., 0.]]);
        let loss = Ctc::default().with_dtype(FloatDType::F64);

        let Some(ad) = crate::testing::f64_device("gradient_matches_finite_differences") else {
            return Ok(());
        };
        let ad = ad.autodiff();
        let yp = logits_f64(&x, shape, &ad).require_grad();
        let grads = loss.call(&y_true, &yp, None)?.into_padded().backward();
        let grad = yp.grad(&grads).map(|g| g.into_data().convert::<f64>().try_into_vec::<f64>());
        let grad = grad.ok_or_else(|| Error::Data("no gradient".into()))?.map_err(|e| Error::Data(format!("{e:?}")))?;

        let d = crate::backend::test_device();
        let value =
            |v: &[f64]| -> Result<f64> { loss.call(&y_true, logits_f64(v, shape, &d), None)?.into_scalar::<f64>() };
        let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        assert!(scale > 1e-3);
        let h = 1e-6;
        for i in 0..n {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (value(&up)? - value(&down)?) / (2.0 * h);
            assert!(
                (grad[i] - fd).abs() <= 1e-6 * scale,
                "d/dy_pred[{i}]: autodiff {} vs finite difference {fd}",
                grad[i]
            );
        }
        Ok(())
    }

    #[test]
    fn class_axis_one_is_the_transpose() -> Result<()> {
        let d = crate::backend::test_device();
        let x: Vec<f64> = (0..2 * 4 * 3).map(|i| ((i * 31) % 11) as f64 / 5.0 - 1.0).collect();
        let btc = logits_f64(&x, [2, 4, 3], &d);
        let bct = btc.clone().swap_dims(1, 2);
        let y_true = labels([[1., 2., 0.], [2., 2., 1.]]);
        let a = ctc(&y_true, btc, &Default::default())?.to_vec_f64()?;
        for axis in [1, -2] {
            let b = ctc(&y_true, bct.clone(), &CtcConfig { axis })?.to_vec_f64()?;
            assert_eq!(a, b, "axis {axis}");
        }
        let json = Ctc::new(CtcConfig { axis: 1 }).to_keras_json();
        assert_eq!(json["config"]["axis"], 1);
        assert!(Ctc::default().to_keras_json()["config"].get("axis").is_none());
        Ok(())
    }

    #[test]
    fn bad_inputs_are_errors() {
        let d = crate::backend::test_device();
        let y_pred: DynTensor = Tensor::<3>::zeros([2, 4, 3], &d).into();
        let ok = labels([[1., 2.], [2., 0.]]);
        let cfg = CtcConfig::default();

        let rank3: DynTensor = Tensor::<3>::zeros([2, 2, 1], &d).into();
        assert!(matches!(ctc(&rank3, &y_pred, &cfg), Err(Error::InputShape { .. })));
        let rank2: DynTensor = Tensor::<2>::zeros([2, 3], &d).into();
        assert!(matches!(ctc(&ok, &rank2, &cfg), Err(Error::InputShape { .. })));
        let batch3 = labels([[1., 2.], [2., 0.], [1., 1.]]);
        assert!(matches!(ctc(&batch3, &y_pred, &cfg), Err(Error::InputShape { .. })));
        let no_classes = DynTensor::from_data(TensorData::new(Vec::<f32>::new(), [2, 4, 0]), &d).unwrap();
        assert!(matches!(ctc(&ok, &no_classes, &cfg), Err(Error::InputShape { .. })));

        assert!(matches!(ctc(&ok, &y_pred, &CtcConfig { axis: 0 }), Err(Error::InvalidConfig { .. })));
        assert!(matches!(ctc(&ok, &y_pred, &CtcConfig { axis: 3 }), Err(Error::AxisOutOfRange { .. })));

        for (bad, at) in [(3.0, [0, 1]), (-1.0, [1, 0]), (1.5, [1, 1]), (f32::NAN, [0, 0])] {
            let mut rows = [[1., 2.], [2., 0.]];
            rows[at[0]][at[1]] = bad;
            let err = ctc(labels(rows), &y_pred, &cfg).unwrap_err();
            match &err {
                Error::InvalidLabel { position, classes: 3, .. } => assert_eq!(position, &at.to_vec()),
                other => panic!("{other:?}"),
            }
            assert!(err.to_string().contains("[0, 3)"), "{err}");
        }
        // With axis = 1, the classes are y_pred's axis 1 (4 of them), so label 3 is valid.
        assert!(ctc(labels([[3., 0.], [1., 0.]]), &y_pred, &CtcConfig { axis: 1 }).is_ok());
    }
}
