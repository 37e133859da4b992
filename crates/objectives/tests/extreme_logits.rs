//! `from_logits=true` stays finite, and its gradients correct, for logits of ±1e4 (log-sigmoid
//! and log-sum-exp formulations; no probability clip on the logits path), on the composed path
//! and, for the losses with a fused kernel, on the fused path too. Each check counts the fused
//! kernel's evaluations on this thread, so a path that silently falls back is caught.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::Tensor;
use objectives::fused::{calls_on_this_thread, with_fused};
use objectives::prelude::*;

/// Loss value and d loss / d logits (reduction `sum`, so nothing is averaged away), with the fused
/// path on or off, and how many fused-kernel evaluations computed it.
fn value_and_grad<const D: usize>(
    fused: bool,
    loss: &dyn Loss,
    y_true: DynTensor,
    logits: Tensor<D>,
) -> (f32, Vec<f32>, u64) {
    with_fused(fused, || {
        let leaf = logits.require_grad();
        let before = calls_on_this_thread();
        let l = loss.compute(&y_true, &(&leaf).into(), None, None).unwrap();
        let fused_calls = calls_on_this_thread() - before;
        let v = l.clone().into_scalar::<f32>().unwrap();
        let grads = l.into_padded().backward();
        let g = DynTensor::from(leaf.grad(&grads).unwrap()).to_vec_f32().unwrap();
        assert!(v.is_finite() && g.iter().all(|x| x.is_finite()), "{} fused {fused}: {v} {g:?}", loss.class_name());
        (v, g, fused_calls)
    })
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-5 * y.abs().max(1.0))
}

#[test]
fn binary_losses_with_logits_of_1e4() {
    let d = objectives::device::test_device().autodiff();
    let t: DynTensor = Tensor::<2>::from_floats([[1., 0., 1., 0.]], &d).into();
    let x = Tensor::<2>::from_floats([[-1e4, 1e4, 1e4, -1e4]], &d);
    // Both have a fused kernel from logits: one fused evaluation when it is on, none when off.
    for fused in [false, true] {
        let bce = get_with("BinaryCrossentropy", r#"{"from_logits": true, "reduction": "sum"}"#);
        let (v, g, calls) = value_and_grad(fused, bce.as_ref(), t.clone(), x.clone());
        assert_eq!(calls, u64::from(fused), "BCE fused {fused}: fused-kernel evaluations");
        // Wrong-side logits cost |x| each; the gradient of the mean over 4 is (σ(x) − y)/4.
        assert_eq!(v, 2e4 / 4.0, "fused {fused}");
        assert!(close(&g, &[-0.25, 0.25, 0.0, 0.0]), "fused {fused}: {g:?}");

        let bfce = get_with("BinaryFocalCrossentropy", r#"{"from_logits": true, "reduction": "sum"}"#);
        let (v, g, calls) = value_and_grad(fused, bfce.as_ref(), t.clone(), x.clone());
        assert_eq!(calls, u64::from(fused), "BFCE fused {fused}: fused-kernel evaluations");
        // Fully wrong: focal factor 1, so the same as BCE; Keras (σ then clip) would give 16.1 and 0.
        assert_eq!(v, 2e4 / 4.0, "fused {fused}");
        assert!(close(&g, &[-0.25, 0.25, 0.0, 0.0]), "fused {fused}: {g:?}");
    }
}

#[test]
fn categorical_losses_with_logits_of_1e4() {
    let d = objectives::device::test_device().autodiff();
    let x = Tensor::<2>::from_floats([[1e4, -1e4, 0.0]], &d);
    let onehot: DynTensor = Tensor::<2>::from_floats([[0., 0., 1.]], &d).into();
    let labels: DynTensor = Tensor::<1>::from_floats([2.], &d).into();
    for fused in [false, true] {
        // −log softmax(x)[2] = 1e4 + log(1 + e^−1e4 + e^−2e4) = 1e4; gradient softmax − onehot.
        // Both have a fused kernel from logits.
        for (loss, t) in [
            (get_with("CategoricalCrossentropy", r#"{"from_logits": true, "reduction": "sum"}"#), onehot.clone()),
            (get_with("SparseCategoricalCrossentropy", r#"{"from_logits": true, "reduction": "sum"}"#), labels.clone()),
        ] {
            let (v, g, calls) = value_and_grad(fused, loss.as_ref(), t, x.clone());
            assert_eq!(calls, u64::from(fused), "{} fused {fused}: fused-kernel evaluations", loss.class_name());
            assert_eq!(v, 1e4, "{} fused {fused}", loss.class_name());
            assert!(close(&g, &[1.0, 0.0, -1.0]), "{} fused {fused}: {g:?}", loss.class_name());
        }
        let cfce = get_with("CategoricalFocalCrossentropy", r#"{"from_logits": true, "reduction": "sum"}"#);
        let (v, g, calls) = value_and_grad(fused, cfce.as_ref(), onehot.clone(), x.clone());
        // No fused kernel for the categorical focal loss (README: not in the fused list), so the
        // composed log-softmax computes it either way.
        assert_eq!(calls, 0, "CFCE fused {fused}: fused-kernel evaluations");
        // α·(1 − p)^γ·(−log p) with p ≈ 0: α·1e4; gradient α·(softmax − onehot).
        assert_eq!(v, 0.25 * 1e4, "fused {fused}");
        assert!(close(&g, &[0.25, 0.0, -0.25]), "fused {fused}: {g:?}");
    }
}

fn get_with(class: &str, config: &str) -> Box<dyn Loss> {
    objectives::from_keras_json_str(&format!(r#"{{"class_name": "{class}", "config": {config}}}"#)).unwrap()
}

/// At a zero logit, d BCE/dx = σ(0) − t = ½ − t (Keras/JAX), on the composed and the fused path;
/// LogCosh's gradient is 0 where y_pred = y_true. The fused-call counter shows which path ran:
/// none with the fused path off, one per loss with it on.
#[test]
fn gradients_at_zero_logits_and_exact_fits_are_keras_s() {
    use burn::tensor::{Tensor, TensorData};
    let d = objectives::device::test_device().autodiff();
    for fused in [false, true] {
        with_fused(fused, || {
            let t = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0, 1.0, 0.0], [2, 2]), &d);
            let x = Tensor::<2>::zeros([2, 2], &d).require_grad();
            let bce = BinaryCrossentropy::new(BinaryCrossentropyConfig { from_logits: true, ..Default::default() })
                .with_reduction(Reduction::Sum);
            let before = calls_on_this_thread();
            let l = bce.call(&t, &x, None).unwrap();
            assert_eq!(
                calls_on_this_thread() - before,
                u64::from(fused),
                "BCE fused {fused}: fused-kernel evaluations"
            );
            let g = x.grad(&l.into_padded().backward()).unwrap().into_data().try_to_vec::<f32>().unwrap();
            // Sum reduction of a mean over the last axis (2 classes): (σ(0) − t) / 2.
            assert_eq!(g, vec![0.25, -0.25, -0.25, 0.25], "fused {fused}");
            let p = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, -1.0, 2.0, 0.0], [2, 2]), &d).require_grad();
            let before = calls_on_this_thread();
            let l = LogCosh::default().call(p.clone().detach(), &p, None).unwrap();
            assert_eq!(
                calls_on_this_thread() - before,
                u64::from(fused),
                "LogCosh fused {fused}: fused-kernel evaluations"
            );
            let g = p.grad(&l.into_padded().backward()).unwrap().into_data().try_to_vec::<f32>().unwrap();
            assert_eq!(g, vec![0.0; 4], "fused {fused}");
        });
    }
}
