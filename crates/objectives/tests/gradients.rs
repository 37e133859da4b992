//! Every registered loss's gradient with respect to `y_pred`, through burn's autodiff, against
//! central finite differences (in f64), on rank-3 inputs, with the default axis and `axis = 1`,
//! through the full loss object (sample weights and the default reduction).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{DType, Device, Tensor, TensorData};
use objectives::prelude::*;
use objectives::registry::ALL_LOSSES;
use serde_json::json;

const SHAPE: [usize; 3] = [2, 3, 4];

/// CTC's labels have their own shape, `[batch, CTC_LABELS]`; `y_pred` is `SHAPE` with the
/// classes along `axis` and the time steps along the other non-batch axis.
const CTC_LABELS: usize = 2;

/// A tiny deterministic generator (no dependency, same numbers everywhere).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

/// Inputs inside each loss's domain, away from its kinks (where a derivative does not exist).
fn inputs(class: &str, axis: usize, rng: &mut Lcg) -> (Vec<f64>, Vec<f64>) {
    let n: usize = SHAPE.iter().product();
    let mut t = vec![0.0; n];
    let mut p = vec![0.0; n];
    for i in 0..n {
        let (yt, yp) = loop {
            let (yt, yp) = match class {
                "MeanAbsolutePercentageError" => {
                    let s = if rng.next() < 0.5 { -1.0 } else { 1.0 };
                    (s * rng.uniform(0.5, 2.0), rng.uniform(-2.0, 2.0))
                }
                "MeanSquaredLogarithmicError" => (rng.uniform(0.1, 3.0), rng.uniform(0.1, 3.0)),
                "Poisson" => (rng.uniform(0.0, 3.0), rng.uniform(0.1, 3.0)),
                "KLDivergence" => (rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)),
                "Hinge" | "SquaredHinge" => (if rng.next() < 0.5 { -1.0 } else { 1.0 }, rng.uniform(-2.0, 2.0)),
                _ => (rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0)),
            };
            let e: f64 = yp - yt;
            let away_from_kinks = match class {
                "MeanAbsoluteError" | "MeanAbsolutePercentageError" => e.abs() > 0.05,
                "Huber" => (e.abs() - 1.0).abs() > 0.05,
                "Hinge" | "SquaredHinge" => (1.0 - yt * yp).abs() > 0.05,
                _ => true,
            };
            if away_from_kinks {
                break (yt, yp);
            }
        };
        t[i] = yt;
        p[i] = yp;
    }
    if class == "CategoricalHinge" {
        // One-hot labels along `axis`; predictions spread so that max and margin have no ties.
        let strides = [SHAPE[1] * SHAPE[2], SHAPE[2], 1];
        for v in t.iter_mut() {
            *v = 0.0;
        }
        for i in 0..n {
            let idx = [i / strides[0], (i / strides[1]) % SHAPE[1], i % SHAPE[2]];
            if idx[axis] == (idx[0] + idx[1] + idx[2] - idx[axis]) % SHAPE[axis] {
                t[i] = 1.0;
            }
            p[i] = 0.1 * (i as f64) - 0.35 * rng.next();
        }
    }
    if class == "CTC" {
        // Integer labels in [1, classes); two labels fit in 3 or 4 time steps even when repeated.
        let classes = SHAPE[axis];
        t = (0..SHAPE[0] * CTC_LABELS).map(|_| 1.0 + (rng.next() * (classes - 1) as f64).floor()).collect();
    }
    (t, p)
}

fn tensor(v: &[f64], device: &Device, dtype: DType) -> Tensor<3> {
    Tensor::<3>::from_data(TensorData::new(v.to_vec(), SHAPE), (device, dtype))
}

/// `y_true` in its loss's shape: `SHAPE`, or CTC's `[batch, CTC_LABELS]` labels.
fn y_true_tensor(class: &str, v: &[f64], device: &Device, dtype: DType) -> DynTensor {
    if class == "CTC" {
        Tensor::<2>::from_data(TensorData::new(v.to_vec(), [SHAPE[0], CTC_LABELS]), (device, dtype)).into()
    } else {
        tensor(v, device, dtype).into()
    }
}

fn loss_value(loss: &dyn Loss, t: &[f64], p: &[f64], w: &[f64], device: &Device) -> f64 {
    let t = y_true_tensor(loss.class_name(), t, device, DType::F64);
    let p = tensor(p, device, DType::F64);
    let w: DynTensor = Tensor::<1>::from_data(TensorData::new(w.to_vec(), [2]), (device, DType::F64)).into();
    let l = loss.compute(&t, &p.into(), Some(&w), None).and_then(|l| l.into_scalar::<f64>());
    l.unwrap_or_else(|e| panic!("{}: {e}", loss.class_name()))
}

fn autodiff_grad(loss: &dyn Loss, t: &[f64], p: &[f64], w: &[f64], dtype: DType) -> Vec<f64> {
    let ad = Device::flex().autodiff();
    let yt = y_true_tensor(loss.class_name(), t, &ad, dtype);
    let yp = tensor(p, &ad, dtype).require_grad();
    let w: DynTensor = Tensor::<1>::from_data(TensorData::new(w.to_vec(), [2]), (&ad, dtype)).into();
    let l = loss.compute(&yt, &(&yp).into(), Some(&w), None).unwrap_or_else(|e| panic!("{e}"));
    let grads = l.into_padded().backward();
    let g = yp.grad(&grads).unwrap_or_else(|| panic!("{}: no gradient for y_pred", loss.class_name()));
    g.into_data().convert::<f64>().try_into_vec::<f64>().unwrap_or_default()
}

#[test]
fn every_loss_gradient_matches_finite_differences() {
    let mut rng = Lcg(0x5eed);
    let w = [0.7, 1.9];
    let mut checked = 0;
    for entry in ALL_LOSSES {
        for axis in [2usize, 1] {
            let f64_loss =
                entry.build(json!({"dtype": "float64", "axis": axis}).as_object().unwrap_or(&Default::default()));
            let f64_loss = f64_loss.unwrap_or_else(|e| panic!("{}: {e}", entry.class_name));
            let f32_loss = entry.build(json!({"axis": axis}).as_object().unwrap_or(&Default::default()));
            let f32_loss = f32_loss.unwrap_or_else(|e| panic!("{}: {e}", entry.class_name));
            let (t, p) = inputs(entry.class_name, axis, &mut rng);
            let grad = autodiff_grad(f64_loss.as_ref(), &t, &p, &w, DType::F64);
            let grad32 = autodiff_grad(f32_loss.as_ref(), &t, &p, &w, DType::F32);
            let dev = Device::flex();
            let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs())).max(1e-3);
            for i in 0..p.len() {
                let h = 1e-6 * p[i].abs().max(1.0);
                let (mut up, mut down) = (p.clone(), p.clone());
                up[i] += h;
                down[i] -= h;
                let fd = (loss_value(f64_loss.as_ref(), &t, &up, &w, &dev)
                    - loss_value(f64_loss.as_ref(), &t, &down, &w, &dev))
                    / (2.0 * h);
                assert!(
                    (grad[i] - fd).abs() <= 1e-6 * scale + 1e-6 * fd.abs(),
                    "{} axis {axis}: d/dy_pred[{i}] autodiff {} vs finite difference {fd}",
                    entry.class_name,
                    grad[i]
                );
                assert!(
                    (grad32[i] - grad[i]).abs() <= 1e-5 * scale,
                    "{} axis {axis}: f32 gradient {} vs f64 {} at {i}",
                    entry.class_name,
                    grad32[i],
                    grad[i]
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * ALL_LOSSES.len());
}
