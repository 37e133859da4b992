//! Every registered loss's gradient with respect to `y_pred`, through burn's autodiff, against
//! central finite differences (in f64), on rank-3 inputs, with the default axis and `axis = 1`,
//! through the full loss object (sample weights and the default reduction). Losses, their
//! argument variants and their input domains come from the registry.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{DType, Device, Tensor, TensorData};
use objectives::domain::{Domain, Kink, Values};
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

/// One draw of `v` (away from where each loss's domain ends).
fn draw(v: Values, logits: bool, rng: &mut Lcg) -> f64 {
    match v {
        Values::Real => rng.uniform(-2.0, 2.0),
        Values::NonZero => {
            let s = if rng.next() < 0.5 { -1.0 } else { 1.0 };
            s * rng.uniform(0.5, 2.0)
        }
        Values::Positive => rng.uniform(0.1, 3.0),
        Values::NonNegative => rng.uniform(0.0, 3.0),
        Values::UnitInterval => rng.uniform(0.0, 1.0),
        Values::Probability if logits => rng.uniform(-4.0, 4.0),
        Values::Probability => rng.uniform(0.05, 0.95),
        Values::Signs => {
            if rng.next() < 0.5 {
                -1.0
            } else {
                1.0
            }
        }
        // Set along the axis by `inputs`.
        Values::OneHot => 0.0,
    }
}

/// Inputs inside each loss's domain (from the registry), away from its kinks (where a derivative
/// does not exist). Returns `(y_true, y_true's shape, y_pred)`.
fn inputs(domain: Domain, config: &serde_json::Value, axis: usize, rng: &mut Lcg) -> (Vec<f64>, Vec<usize>, Vec<f64>) {
    let n: usize = SHAPE.iter().product();
    let logits = config["from_logits"] == json!(true);
    let delta = config["delta"].as_f64().unwrap_or(1.0);
    let (target, pred, kink) = match domain {
        Domain::Dense { target, pred, kink } => (target, pred, kink),
        Domain::Overlap => (Values::Probability, Values::Probability, Kink::None),
        // Labels are drawn below; the predictions are probabilities (or logits).
        Domain::ClassIndices | Domain::LabelSequences | Domain::Embeddings => {
            (Values::UnitInterval, Values::Probability, Kink::None)
        }
    };
    let mut t = vec![0.0; n];
    let mut p = vec![0.0; n];
    for i in 0..n {
        let (yt, yp) = loop {
            let (yt, yp) = (draw(target, logits, rng), draw(pred, logits, rng));
            let e: f64 = yp - yt;
            let away_from_kinks = match kink {
                Kink::None => true,
                Kink::ZeroError => e.abs() > 0.05,
                Kink::Delta => (e.abs() - delta).abs() > 0.05,
                Kink::Margin => (1.0 - yt * yp).abs() > 0.05,
            };
            if away_from_kinks {
                break (yt, yp);
            }
        };
        t[i] = yt;
        p[i] = yp;
    }
    let strides = [SHAPE[1] * SHAPE[2], SHAPE[2], 1];
    let index = |i: usize| [i / strides[0], (i / strides[1]) % SHAPE[1], i % SHAPE[2]];
    if target == Values::OneHot {
        // One-hot labels along `axis`; predictions spread so that max and margin have no ties.
        for i in 0..n {
            let idx = index(i);
            t[i] = if idx[axis] == (idx[0] + idx[1] + idx[2] - idx[axis]) % SHAPE[axis] { 1.0 } else { 0.0 };
            p[i] = 0.1 * (i as f64) - 0.35 * rng.next();
        }
    }
    match domain {
        Domain::LabelSequences => {
            // Integer labels in [1, classes); two labels fit in 3 or 4 time steps even when repeated.
            let classes = SHAPE[axis];
            let labels =
                (0..SHAPE[0] * CTC_LABELS).map(|_| 1.0 + (rng.next() * (classes - 1) as f64).floor()).collect();
            (labels, vec![SHAPE[0], CTC_LABELS], p)
        }
        Domain::ClassIndices => {
            // One class index per position of y_pred's shape without `axis`.
            let mut shape = SHAPE.to_vec();
            let classes = shape.remove(axis);
            let m: usize = shape.iter().product();
            let labels = (0..m).map(|_| ((rng.next() * classes as f64) as usize).min(classes - 1) as f64).collect();
            (labels, shape, p)
        }
        _ => (t, SHAPE.to_vec(), p),
    }
}

fn tensor(v: &[f64], shape: &[usize], device: &Device, dtype: DType) -> DynTensor {
    let data = TensorData::new(v.to_vec(), shape.to_vec()).convert_dtype(dtype);
    DynTensor::from_data(data, device).unwrap_or_else(|e| panic!("{e}"))
}

/// The inputs of one check: labels (with their shape) and predictions of shape [`SHAPE`].
struct Case<'a> {
    t: &'a [f64],
    t_shape: &'a [usize],
    w: &'a [f64],
}

fn loss_value(loss: &dyn Loss, c: &Case, p: &[f64], device: &Device) -> f64 {
    let t = tensor(c.t, c.t_shape, device, DType::F64);
    let p = tensor(p, &SHAPE, device, DType::F64);
    let w = tensor(c.w, &[2], device, DType::F64);
    let l = loss.compute(&t, &p, Some(&w), None).and_then(|l| l.into_scalar::<f64>());
    l.unwrap_or_else(|e| panic!("{}: {e}", loss.class_name()))
}

/// Where the f64 reference runs: the test device when it computes f64 correctly, else the CPU
/// (wgpu on Vulkan has no correct f64 `exp`/`log`); the f32 gradients always run on the test
/// device and are checked against that reference.
fn f64_device() -> Device {
    let d = objectives::device::test_device();
    if objectives::device::f64_is_reliable(&d) {
        d
    } else {
        eprintln!(
            "{}: float64 is wrong there; the f64 reference (finite differences) runs on flex",
            objectives::device::describe(&d)
        );
        Device::flex()
    }
}

fn autodiff_grad(loss: &dyn Loss, c: &Case, p: &[f64], dtype: DType, device: &Device) -> Vec<f64> {
    let ad = device.clone().autodiff();
    let yt = tensor(c.t, c.t_shape, &ad, dtype);
    let leaf = tensor(p, &SHAPE, &ad, dtype).into_padded().require_grad();
    let yp = DynTensor::from_padded_checked(leaf.clone(), SHAPE.to_vec()).unwrap_or_else(|e| panic!("{e}"));
    let w = tensor(c.w, &[2], &ad, dtype);
    let l = loss.compute(&yt, &yp, Some(&w), None).unwrap_or_else(|e| panic!("{e}"));
    let grads = l.into_padded().backward();
    let g = leaf.grad(&grads).unwrap_or_else(|| panic!("{}: no gradient for y_pred", loss.class_name()));
    g.into_data().convert::<f64>().try_into_vec::<f64>().unwrap_or_default()
}

fn build(
    entry: &objectives::registry::LossEntry,
    variant: &serde_json::Value,
    extra: serde_json::Value,
) -> Box<dyn Loss> {
    let mut config = variant.as_object().cloned().unwrap_or_default();
    config.extend(extra.as_object().cloned().unwrap_or_default());
    entry.build(&config).unwrap_or_else(|e| panic!("{} {config:?}: {e}", entry.class_name))
}

#[test]
fn every_loss_gradient_matches_finite_differences() {
    let mut rng = Lcg(0x5eed);
    let w = [0.7, 1.9];
    let mut checked = 0;
    for entry in ALL_LOSSES {
        if entry.domain == Domain::Embeddings {
            // Labels (B,) against embeddings (B, D): not the [2, 3, 4] pairs below.
            check_circle(entry, &mut rng);
            checked += 2;
            continue;
        }
        for variant in entry.configs().unwrap() {
            let variant = serde_json::Value::Object(variant);
            for axis in [2usize, 1] {
                let f64_loss = build(entry, &variant, json!({"dtype": "float64", "axis": axis}));
                let f32_loss = build(entry, &variant, json!({"axis": axis}));
                let (t, t_shape, p) = inputs(entry.domain, &variant, axis, &mut rng);
                let case = Case { t: &t, t_shape: &t_shape, w: &w };
                let dev = f64_device();
                let grad = autodiff_grad(f64_loss.as_ref(), &case, &p, DType::F64, &dev);
                let grad32 =
                    autodiff_grad(f32_loss.as_ref(), &case, &p, DType::F32, &objectives::device::test_device());
                let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs())).max(1e-3);
                let what = format!("{} {variant} axis {axis}", entry.class_name);
                for i in 0..p.len() {
                    let h = 1e-6 * p[i].abs().max(1.0);
                    let (mut up, mut down) = (p.clone(), p.clone());
                    up[i] += h;
                    down[i] -= h;
                    let fd = (loss_value(f64_loss.as_ref(), &case, &up, &dev)
                        - loss_value(f64_loss.as_ref(), &case, &down, &dev))
                        / (2.0 * h);
                    assert!(
                        (grad[i] - fd).abs() <= 1e-6 * scale + 1e-6 * fd.abs(),
                        "{what}: d/dy_pred[{i}] autodiff {} vs finite difference {fd}",
                        grad[i]
                    );
                    assert!(
                        (grad32[i] - grad[i]).abs() <= 1e-5 * scale,
                        "{what}: f32 gradient {} vs f64 {} at {i}",
                        grad32[i],
                        grad[i]
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 2 * ALL_LOSSES.len());
}

/// Circle: labels `(6,)` against unit embeddings, `(6, 4)` with `axis` 1 and `(4, 6)` with
/// `axis` 0, checked the same way as above (f64 finite differences, f32 against f64). Pairs stay
/// away from the loss's kinks (cosine distance 0 and 1 + margin).
fn check_circle(entry: &objectives::registry::LossEntry, rng: &mut Lcg) {
    const B: usize = 6;
    const D: usize = 4;
    let labels = [0.0, 0.0, 1.0, 1.0, 2.0, 3.0];
    let w = [0.7, 1.9, 1.0, 0.4, 1.3, 0.8];
    let emb = loop {
        let mut e: Vec<f64> = (0..B * D).map(|_| rng.uniform(-1.0, 1.0)).collect();
        for row in e.chunks_mut(D) {
            let n = row.iter().map(|x| x * x).sum::<f64>().sqrt();
            row.iter_mut().for_each(|x| *x /= n);
        }
        let dot = |i: usize, j: usize| (0..D).map(|k| e[i * D + k] * e[j * D + k]).sum::<f64>();
        let ok = (0..B).all(|i| (0..B).all(|j| i == j || (dot(i, j) < 0.95 && (dot(i, j) + 0.4).abs() > 0.05)));
        if ok {
            break e;
        }
    };
    let dev = f64_device();
    for axis in [1usize, 0] {
        let layout = |e: &[f64]| -> (Vec<f64>, [usize; 2]) {
            if axis == 1 {
                (e.to_vec(), [B, D])
            } else {
                ((0..B * D).map(|k| e[(k % B) * D + k / B]).collect(), [D, B])
            }
        };
        let build = |config: serde_json::Value| {
            entry.build(config.as_object().unwrap()).unwrap_or_else(|e| panic!("Circle: {e}"))
        };
        let f64_loss = build(json!({"dtype": "float64", "axis": axis}));
        let f32_loss = build(json!({"axis": axis}));
        let value = |e: &[f64]| -> f64 {
            let (p, shape) = layout(e);
            let t = Tensor::<1>::from_data(TensorData::new(labels.to_vec(), [B]), (&dev, DType::F64));
            let p = Tensor::<2>::from_data(TensorData::new(p, shape), (&dev, DType::F64));
            let w: DynTensor = Tensor::<1>::from_data(TensorData::new(w.to_vec(), [B]), (&dev, DType::F64)).into();
            let l = f64_loss.compute(&t.into(), &p.into(), Some(&w), None).and_then(|l| l.into_scalar::<f64>());
            l.unwrap_or_else(|e| panic!("Circle: {e}"))
        };
        let grad = |loss: &dyn Loss, dtype: DType, device: &Device| -> Vec<f64> {
            let ad = device.clone().autodiff();
            let (p, shape) = layout(&emb);
            let t = Tensor::<1>::from_data(TensorData::new(labels.to_vec(), [B]), (&ad, dtype));
            let p = Tensor::<2>::from_data(TensorData::new(p, shape), (&ad, dtype)).require_grad();
            let w: DynTensor = Tensor::<1>::from_data(TensorData::new(w.to_vec(), [B]), (&ad, dtype)).into();
            let l = loss.compute(&t.into(), &(&p).into(), Some(&w), None).unwrap_or_else(|e| panic!("{e}"));
            let g = p.grad(&l.into_padded().backward()).unwrap_or_else(|| panic!("Circle: no gradient"));
            let g = g.into_data().convert::<f64>().try_into_vec::<f64>().unwrap_or_default();
            // Back to the (B, D) order of `emb`.
            (0..B * D).map(|k| if axis == 1 { g[k] } else { g[(k % D) * B + k / D] }).collect()
        };
        let g64 = grad(f64_loss.as_ref(), DType::F64, &dev);
        let g32 = grad(f32_loss.as_ref(), DType::F32, &objectives::device::test_device());
        let scale = g64.iter().fold(0.0f64, |m, g| m.max(g.abs())).max(1e-3);
        for i in 0..B * D {
            let h = 1e-6;
            let (mut up, mut down) = (emb.clone(), emb.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (value(&up) - value(&down)) / (2.0 * h);
            assert!(
                (g64[i] - fd).abs() <= 1e-6 * scale + 1e-6 * fd.abs(),
                "Circle axis {axis}: d/dy_pred[{i}] autodiff {} vs finite difference {fd}",
                g64[i]
            );
            assert!(
                (g32[i] - g64[i]).abs() <= 1e-5 * scale,
                "Circle axis {axis}: f32 gradient {} vs f64 {} at {i}",
                g32[i],
                g64[i]
            );
        }
    }
}
