//! The elementwise kernels against f64 references of the composed formulas, and against burn
//! autodiff of the composed implementations.

use super::super::elementwise::EPS;
use super::super::*;
use super::{Rng, assert_matches, check_against, for_each_element, ref_weight, weight_cases};

// ----- scalar f64 references (burn autodiff conventions) ---------------------------------

pub(super) fn sign64(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

pub(super) fn sigmoid64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

pub(super) fn softplus64(y: f64) -> f64 {
    y.max(0.0) + (-y.abs()).exp().ln_1p()
}

/// `(f(t, p), ∂f/∂p)` in f64 from the composed formulas. Branch decisions are taken in f32
/// exactly as the composed code takes them; `round` also rounds the arguments that the
/// composed code forms in f32 before a logarithm (`p + 1`, `p + ε`), as it does.
pub(super) fn ref_point(kind: Elementwise, t: f32, p: f64, round: bool) -> (f64, f64) {
    let (t64, p32) = (f64::from(t), p as f32);
    let r = |x: f64| if round { f64::from(x as f32) } else { x };
    let eps = f64::from(EPS);
    match kind {
        Elementwise::Mse => {
            let d = t64 - p;
            (d * d, -2.0 * d)
        }
        Elementwise::Mae => {
            let d = t64 - p;
            (d.abs(), -sign64(d))
        }
        Elementwise::Huber { delta } => {
            let (e, dl) = (p - t64, f64::from(delta));
            if (p32 - t).abs() <= delta { (0.5 * e * e, e) } else { (dl * e.abs() - 0.5 * dl * dl, dl * sign64(e)) }
        }
        Elementwise::LogCosh => {
            let x = p - t64;
            let y = -2.0 * x;
            let v = x + softplus64(y) - std::f64::consts::LN_2;
            let g = sigmoid64(y);
            (v, 1.0 - 2.0 * g)
        }
        Elementwise::Msle => {
            let clipped = p32 < EPS;
            let a = r(if clipped { eps } else { p } + 1.0);
            let b = r(if t < EPS { eps } else { t64 } + 1.0);
            let d = a.ln() - b.ln();
            (d * d, if clipped { 0.0 } else { 2.0 * d / a })
        }
        Elementwise::Mape => {
            let den = if t.abs() < EPS { eps } else { t64.abs() };
            let q = (t64 - p) / den;
            (100.0 * q.abs(), -100.0 * sign64(q) / den)
        }
        Elementwise::Poisson => {
            let a = r(p + eps);
            (p - t64 * a.ln(), 1.0 - t64 / a)
        }
        Elementwise::Hinge { convert } | Elementwise::SquaredHinge { convert } => {
            let tt32 = if convert { t * 2.0 - 1.0 } else { t };
            let tt = f64::from(tt32);
            let z = 1.0 - tt * p;
            if 1.0 - tt32 * p32 < 0.0 {
                (0.0, 0.0)
            } else if matches!(kind, Elementwise::Hinge { .. }) {
                (z, -tt)
            } else {
                (z * z, -2.0 * z * tt)
            }
        }
        Elementwise::BinaryCrossentropyLogits { label_smoothing } => {
            let s = f64::from(label_smoothing);
            let tt = t64 * (1.0 - s) + 0.5 * s;
            let v = tt * softplus64(-p) + (1.0 - tt) * softplus64(p);
            let g = sigmoid64(p) - tt;
            (v, g)
        }
        Elementwise::BinaryFocalLogits { gamma, alpha, apply_class_balancing, label_smoothing } => {
            let s = f64::from(label_smoothing);
            let tt = t64 * (1.0 - s) + 0.5 * s;
            let nt = 1.0 - tt;
            let (sp, sn) = (sigmoid64(p), sigmoid64(-p));
            let (dpos, dneg) = (sigmoid64(-p), -sigmoid64(p));
            let bce = tt * softplus64(-p) + nt * softplus64(p);
            let dbce = -(tt * dpos + nt * dneg);
            let omp = tt * sn + nt * sp;
            let domp = tt * sn * dneg + nt * sp * dpos;
            let g = f64::from(gamma);
            let (pw, dpw) = if gamma == 0.0 { (1.0, 0.0) } else { (omp.powf(g), g * omp.powf(g - 1.0)) };
            let (v, d) = (pw * bce, dpw * domp * bce + pw * dbce);
            if apply_class_balancing {
                let k = tt * f64::from(alpha) + nt * (1.0 - f64::from(alpha));
                (v * k, d * k)
            } else {
                (v, d)
            }
        }
    }
}

pub(super) fn ref_elementwise(
    kind: Elementwise,
    t: &[f32],
    p: &[f32],
    dims: Dims,
    w: &Weights<'_>,
    scale: f64,
) -> (f64, f64, Vec<f64>) {
    let mut grad = vec![0.0; dims.len()];
    let (mut total, mut magnitude) = (0.0, 0.0);
    let k = scale / dims.c as f64;
    for_each_element(dims, |_, _, _, e, r| {
        let wr = ref_weight(w, r);
        let (f, d) = ref_point(kind, t[e], f64::from(p[e]), true);
        total += wr * f;
        magnitude += (wr * f).abs();
        grad[e] = k * wr * d;
    });
    (total * k, magnitude * k.abs(), grad)
}

pub(super) const ODD_DIMS: [(usize, usize, usize); 12] = [
    (3, 5, 7),
    (4, 6, 1),
    (5, 1, 3),
    (0, 3, 4),
    (2, 3, 0),
    (1, 1, 1),
    (2, 37, 1),
    (3, 4, 70),
    (3, 11, 1000), // crosses CHUNK in the middle of a line
    (2, 9000, 1),  // a row longer than a tile, crossing CHUNK
    (7, 1, 5000),  // c = 1
    (1, 2, 9000),
];

pub(super) fn elementwise_kinds() -> Vec<Elementwise> {
    use Elementwise::*;
    let focal = |gamma, alpha, apply_class_balancing, label_smoothing| BinaryFocalLogits {
        gamma,
        alpha,
        apply_class_balancing,
        label_smoothing,
    };
    vec![
        Mse,
        Mae,
        Huber { delta: 1.0 },
        Huber { delta: 0.5 },
        LogCosh,
        Msle,
        Mape,
        Poisson,
        Hinge { convert: true },
        Hinge { convert: false },
        SquaredHinge { convert: true },
        SquaredHinge { convert: false },
        BinaryCrossentropyLogits { label_smoothing: 0.0 },
        BinaryCrossentropyLogits { label_smoothing: 0.1 },
        focal(2.0, 0.25, false, 0.0),
        focal(0.0, 0.25, true, 0.1),
        focal(1.0, 0.6, true, 0.0),
        focal(1.5, 0.4, true, 0.2),
        focal(3.0, 0.25, false, 0.0),
    ]
}

/// Inputs that visit every branch and kink of `kind` (ties, zeros, clipped values).
pub(super) fn inputs(kind: Elementwise, n: usize, rng: &mut Rng, extreme: bool) -> (Vec<f32>, Vec<f32>) {
    use Elementwise::*;
    let mut t = Vec::with_capacity(n);
    let mut p = Vec::with_capacity(n);
    for _ in 0..n {
        let (a, b) = match kind {
            Mse | Mae | Huber { .. } | LogCosh => {
                let a = rng.uniform(-3.0, 3.0);
                match rng.below(10) {
                    0 => (a, a),
                    1 => (0.0, if let Huber { delta } = kind { delta } else { 0.0 }),
                    _ => (a, rng.uniform(-3.0, 3.0)),
                }
            }
            Msle => {
                let a = rng.uniform(-0.5, 3.0);
                match rng.below(8) {
                    0 => (a, EPS),
                    1 => (EPS, a),
                    _ => (a, rng.uniform(-0.5, 3.0)),
                }
            }
            Mape => {
                let a = rng.uniform(-3.0, 3.0);
                match rng.below(8) {
                    0 => (0.0, a),
                    1 => (1e-8, a),
                    2 => (a, a),
                    _ => (a, rng.uniform(-3.0, 3.0)),
                }
            }
            Poisson => (rng.uniform(0.0, 3.0), if rng.chance(0.1) { 0.0 } else { rng.uniform(0.0, 3.0) }),
            Hinge { convert } | SquaredHinge { convert } => {
                let label = if convert {
                    rng.below(2) as f32
                } else if rng.chance(0.5) {
                    rng.uniform(-1.0, 1.0)
                } else {
                    [-1.0, 1.0][rng.below(2)]
                };
                (label, rng.below(17) as f32 / 4.0 - 2.0)
            }
            BinaryCrossentropyLogits { .. } | BinaryFocalLogits { .. } => {
                let label = match rng.below(4) {
                    0 => 0.0,
                    1 => 1.0,
                    _ => rng.uniform(0.0, 1.0),
                };
                let x = match rng.below(10) {
                    0 => 0.0,
                    1 if extreme => [1e4, -1e4][rng.below(2)],
                    2 => rng.uniform(-40.0, 40.0),
                    _ => rng.uniform(-8.0, 8.0),
                };
                (label, x)
            }
        };
        t.push(a);
        p.push(b);
    }
    (t, p)
}

#[test]
fn elementwise_matches_reference() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for kind in elementwise_kinds() {
        for &(pre, c, post) in &ODD_DIMS {
            let dims = Dims { pre, c, post };
            let (t, p) = inputs(kind, dims.len(), &mut rng, true);
            for case in weight_cases(dims, &mut rng) {
                let w = case.weights();
                let scale = 0.37;
                let mut grad = vec![f32::NAN; dims.len()];
                let value = elementwise(kind, &t, &p, dims, w, scale, &mut grad);
                let what = format!("{kind:?} {dims:?} {}", case.name);
                check_against(&what, value, &grad, ref_elementwise(kind, &t, &p, dims, &w, scale));
            }
        }
    }
}

// ----- against the composed implementations (burn autodiff) ---------------------------------

/// The composed loss of `kind` along the last axis.
#[cfg(feature = "flex")]
fn composed(kind: Elementwise, t: &crate::DynTensor, p: &crate::DynTensor) -> crate::Result<crate::DynTensor> {
    use Elementwise::*;
    let axis = -1;
    match kind {
        Mse => crate::mean_squared_error(t, p, &crate::MeanSquaredErrorConfig { axis }),
        Mae => crate::mean_absolute_error(t, p, &crate::MeanAbsoluteErrorConfig { axis }),
        Huber { delta } => crate::huber(t, p, &crate::HuberConfig { delta: f64::from(delta), axis }),
        LogCosh => crate::log_cosh(t, p, &crate::LogCoshConfig { axis }),
        Msle => crate::mean_squared_logarithmic_error(t, p, &crate::MeanSquaredLogarithmicErrorConfig { axis }),
        Mape => crate::mean_absolute_percentage_error(t, p, &crate::MeanAbsolutePercentageErrorConfig { axis }),
        Poisson => crate::poisson(t, p, &crate::PoissonConfig { axis }),
        Hinge { .. } => crate::hinge(t, p, &crate::HingeConfig { axis }),
        SquaredHinge { .. } => crate::squared_hinge(t, p, &crate::SquaredHingeConfig { axis }),
        BinaryCrossentropyLogits { label_smoothing } => {
            let config = crate::BinaryCrossentropyConfig {
                from_logits: true,
                label_smoothing: f64::from(label_smoothing),
                axis,
            };
            crate::binary_crossentropy(t, p, &config)
        }
        BinaryFocalLogits { gamma, alpha, apply_class_balancing, label_smoothing } => {
            let config = crate::BinaryFocalCrossentropyConfig {
                apply_class_balancing,
                alpha: f64::from(alpha),
                gamma: f64::from(gamma),
                from_logits: true,
                label_smoothing: f64::from(label_smoothing),
                axis,
            };
            crate::binary_focal_crossentropy(t, p, &config)
        }
    }
}

/// The kernels reproduce burn autodiff of the composed losses, at the points where its
/// conventions matter too (ties, zero logits, clipped values, hinge kinks): softplus′(0) = ½,
/// clamp passes the gradient at its bound, sign(0) = 0.
#[test]
#[cfg(feature = "flex")]
fn elementwise_matches_composed_autodiff() {
    use burn::tensor::{Device, Tensor, TensorData};
    let ad = Device::flex().autodiff();
    let mut rng = Rng(17);
    let dims = Dims { pre: 6, c: 9, post: 1 };
    for kind in elementwise_kinds() {
        let (t, p) = inputs(kind, dims.len(), &mut rng, false);
        let yt = Tensor::<2>::from_data(TensorData::new(t.clone(), [dims.pre, dims.c]), &ad);
        let yp = Tensor::<2>::from_data(TensorData::new(p.clone(), [dims.pre, dims.c]), &ad).require_grad();
        let values = composed(kind, &yt.into(), &(&yp).into()).unwrap();
        let total = values.into_padded().sum();
        let reference = f64::from(total.clone().into_scalar::<f32>());
        let grads = total.backward();
        let reference_grad: Vec<f64> =
            yp.grad(&grads).unwrap().into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
        let mut grad = vec![f32::NAN; dims.len()];
        let value = elementwise(kind, &t, &p, dims, Weights::default(), 1.0, &mut grad);
        let (_, magnitude, _) = ref_elementwise(kind, &t, &p, dims, &Weights::default(), 1.0);
        assert_matches(&format!("{kind:?} vs composed"), value, &grad, reference, magnitude, &reference_grad);
    }
}
