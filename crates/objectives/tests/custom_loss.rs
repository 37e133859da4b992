//! A custom loss gets the reducer for free: the motivating FCN case written as a custom loss
//! equals MeanSquaredError(axis=1) with a (batch, 16, 16) sample_weight, in value and gradient,
//! for every reduction; and weights, masks and partials work on it like on a built-in.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{Distribution, TensorData};
use objectives::custom::custom_loss;
use objectives::partial::merge;
use objectives::prelude::*;

fn discount(h: usize, w: usize) -> Vec<f32> {
    (0..h * w).map(|i| if i / w == 0 || i % w == 0 || i / w == h - 1 || i % w == w - 1 { 0.1 } else { 1.0 }).collect()
}

#[test]
fn custom_border_loss_equals_builtin_with_position_weights() {
    let (b, c, h, w) = (3, 7, 16, 16);
    let d = objectives::device::test_device().autodiff();
    let y_true = Tensor::<4>::random([b, c, h, w], Distribution::Normal(0.0, 1.0), &d);
    let y_pred = Tensor::<4>::random([b, c, h, w], Distribution::Normal(0.0, 1.0), &d).require_grad();
    let map = DynTensor::from(Tensor::<2>::from_data(TensorData::new(discount(h, w), [h, w]), &d));
    let weights: Vec<f32> = (0..b).flat_map(|_| discount(h, w)).collect();
    let sw: DynTensor = Tensor::<3>::from_data(TensorData::new(weights, [b, h, w]), &d).into();

    for reduction in [Reduction::SumOverBatchSize, Reduction::Sum, Reduction::Mean] {
        let m = map.clone();
        let custom = custom_loss("border_mse", move |t: &DynTensor, p: &DynTensor| {
            let l = t.clone().zip_with(p.clone(), |t, p| t.sub(p).square())?.mean_axis(1);
            Ok(l.broadcast_mul(m.clone()).unwrap())
        })
        .with_reduction(reduction);
        let builtin = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 }).with_reduction(reduction);
        let a = custom.call(&y_true, &y_pred, None).unwrap();
        let bl = builtin.call(&y_true, &y_pred, Some(sw.clone())).unwrap();
        let (va, vb) = (a.clone().into_scalar::<f32>().unwrap(), bl.clone().into_scalar::<f32>().unwrap());
        assert!((va - vb).abs() <= 1e-6 * vb.abs(), "{reduction}: {va} vs {vb}");
        let ga = DynTensor::from(y_pred.grad(&a.into_padded().backward()).unwrap()).to_vec_f32().unwrap();
        let gb = DynTensor::from(y_pred.grad(&bl.into_padded().backward()).unwrap()).to_vec_f32().unwrap();
        let scale = gb.iter().fold(0f32, |m, g| m.max(g.abs()));
        assert!(ga.iter().zip(&gb).all(|(x, y)| (x - y).abs() <= 1e-6 * scale), "{reduction}: gradients differ");
    }
}

#[test]
fn custom_loss_gets_weights_masks_and_partials() {
    let d = objectives::device::test_device();
    let sq = custom_loss("elementwise_squared_error", |t: &DynTensor, p: &DynTensor| {
        t.clone().zip_with(p.clone(), |t, p| t.sub(p).square())
    });
    let t = Tensor::<1>::from_floats([1.0, 0.0, 1.0, 0.0], &d);
    let p = Tensor::<1>::from_floats([0.1, 0.2, 0.3, 0.4], &d);
    let w: DynTensor = Tensor::<1>::from_floats([0.4, 0.3, 0.2, 0.1], &d).into();
    let m: DynTensor = Tensor::<1>::from_floats([1.0, 0.0, 1.0, 1.0], &d).into();
    // Keras's loss_test.py::test_mask_and_sample_weight.
    let v = sq.call_masked(&t, &p, Some(w.clone()), Some(m.clone())).unwrap().into_scalar::<f32>().unwrap();
    assert!((v - 0.146).abs() < 1e-6, "{v}");
    let parts: Vec<_> = [(0, 3), (3, 1)]
        .iter()
        .map(|&(s, n)| {
            let sl = |x: DynTensor| x.narrow(0, s, n).unwrap();
            sq.partial(&sl((&t).into()), &sl((&p).into()), Some(&sl(w.clone())), Some(&sl(m.clone()))).unwrap()
        })
        .collect();
    let merged = merge(&parts).unwrap().into_scalar::<f32>().unwrap();
    assert!((merged - 0.146).abs() < 1e-6, "{merged}");
    // A shape error in the user's function is a typed error, not a panic.
    let bad = Tensor::<1>::from_floats([1.0, 2.0], &d);
    assert!(sq.call(&bad, &p, None).is_err());
}
