//! The elementwise losses on GPU: `f(t, p)` and `∂f/∂p` of each ([`pointwise`]), and the kernel
//! that runs them, one thread per element.

use cubecl::prelude::*;

use super::common::{CUBE, EPS, PER_THREAD, Params, Vd, cube_sum, sigmoid_from, sign, weight};

/// `f(t, p)` and `∂f/∂p` of elementwise loss `kind` (the [`Elementwise`] codes of [`kind_code`]).
#[cube]
pub(super) fn pointwise<F: Float>(t: F, p: F, params: &Params, #[comptime] kind: u32) -> Vd<F> {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let eps = F::new(EPS);
    let mut v = zero;
    let mut d = zero;
    if comptime![kind == 0] {
        // MSE
        let e = t - p;
        v = e * e;
        d = F::new(-2.0) * e;
    } else if comptime![kind == 1] {
        // MAE
        let e = t - p;
        v = e.abs();
        d = -sign::<F>(e);
    } else if comptime![kind == 2] {
        // Huber: a0 = delta, a1 = delta²/2
        let delta = params.a0.get::<F>();
        let e = p - t;
        let a = e.abs();
        if a <= delta {
            v = e * e * F::new(0.5);
            d = e;
        } else {
            v = a * delta - params.a1.get::<F>();
            d = delta * sign::<F>(e);
        }
    } else if comptime![kind == 3] {
        // LogCosh: x + softplus(−2x) − ln 2
        let x = p - t;
        let y = x * F::new(-2.0);
        let e = (-y.abs()).exp();
        let mut sp = e.log1p();
        if y > zero {
            sp += y;
        }
        v = x + sp - F::new(core::f32::consts::LN_2);
        d = one - F::new(2.0) * sigmoid_from::<F>(y, e);
    } else if comptime![kind == 4] {
        // MSLE
        let mut a = p;
        let clipped = p < eps;
        if clipped {
            a = eps;
        }
        a += one;
        let mut b = t;
        if t < eps {
            b = eps;
        }
        b += one;
        let e = a.ln() - b.ln();
        v = e * e;
        if !clipped {
            d = (e + e) / a;
        }
    } else if comptime![kind == 5] {
        // MAPE (×100 in the caller's constant)
        let mut den = t.abs();
        if den < eps {
            den = eps;
        }
        let q = (t - p) / den;
        v = q.abs();
        d = -sign::<F>(q) / den;
    } else if comptime![kind == 6] {
        // Poisson
        let a = p + eps;
        v = p - t * a.ln();
        d = one - t / a;
    } else if comptime![kind == 7 || kind == 8] {
        // Hinge (7), squared hinge (8): t' = a0·t + a1
        let tt = t * params.a0.get::<F>() + params.a1.get::<F>();
        let z = one - tt * p;
        // Off only when z < 0 (not "on when z ≥ 0"): a NaN takes this branch and propagates, as in
        // Keras.
        let off = z < zero;
        if !off {
            if comptime![kind == 7] {
                v = z;
                d = -tt;
            } else {
                v = z * z;
                d = -(z + z) * tt;
            }
        }
    } else if comptime![kind == 9] {
        // Binary cross-entropy from logits: t' = a0·t + a1
        let tt = t * params.a0.get::<F>() + params.a1.get::<F>();
        let e = (-p.abs()).exp();
        let mut relu = zero;
        if p > zero {
            relu = p;
        }
        v = relu - tt * p + e.log1p();
        d = sigmoid_from::<F>(p, e) - tt;
    } else {
        // Binary focal cross-entropy from logits (10; 11 with class balancing):
        // t' = a0·t + a1, gamma = a2, alpha = a3.
        let tt = t * params.a0.get::<F>() + params.a1.get::<F>();
        let nt = one - tt;
        let gamma = params.a2.get::<F>();
        let e = (-p.abs()).exp();
        let l1 = e.log1p();
        let sig_pos = sigmoid_from::<F>(p, e);
        let sig_neg = sigmoid_from::<F>(-p, e);
        let mut neg_part = zero;
        let mut pos_part = zero;
        if p < zero {
            neg_part = -p;
        }
        if p > zero {
            pos_part = p;
        }
        let ls_pos = -(neg_part + l1);
        let ls_neg = -(pos_part + l1);
        let dpos = sig_neg;
        let dneg = -sig_pos;
        let bce = -(tt * ls_pos + nt * ls_neg);
        let dbce = -(tt * dpos + nt * dneg);
        let omp = tt * sig_neg + nt * sig_pos;
        let domp = tt * (sig_neg * dneg) + nt * (sig_pos * dpos);
        let mut pw = one;
        let mut dpw = zero;
        if gamma == one {
            pw = omp;
            dpw = one;
        } else if gamma == F::new(2.0) {
            pw = omp * omp;
            dpw = omp + omp;
        } else if gamma != zero {
            let lx = omp.ln();
            pw = (gamma * lx).exp();
            dpw = gamma * ((gamma - one) * lx).exp();
        }
        v = pw * bce;
        d = dpw * domp * bce + pw * dbce;
        if comptime![kind == 11] {
            let alpha = params.a3.get::<F>();
            let k = tt * alpha + nt * (one - alpha);
            v *= k;
            d *= k;
        }
    }
    Vd::<F> { v, d }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn elementwise_kernel<F: Float>(
    target: &Tensor<F>,
    pred: &Tensor<F>,
    sample: &Tensor<F>,
    mask: &Tensor<F>,
    scalars: &Tensor<F>,
    grad: &mut Tensor<F>,
    partials: &mut Tensor<F>,
    params: &Params,
    c: usize,
    post: usize,
    srep: usize,
    mrep: usize,
    coef: InputScalar,
    #[comptime] kind: u32,
    #[comptime] has_sample: bool,
    #[comptime] has_mask: bool,
    #[comptime] rescale: bool,
) {
    let tid = UNIT_POS as usize;
    let cube = CUBE_POS;
    let n = pred.len();
    // coef = SCALE / c; the gradient also carries the scale (1 / divisor).
    let k = coef.get::<F>() * scalars[0];
    let mut acc = F::new(0.0);
    let base = cube * comptime![(CUBE as usize) * PER_THREAD];
    #[unroll]
    for i in 0..PER_THREAD {
        let e = base + i * comptime![CUBE as usize] + tid;
        if e < n {
            let r = (e / (c * post)) * post + e % post;
            let w = weight::<F>(r, sample, mask, scalars, srep, mrep, has_sample, has_mask, rescale);
            let vd = pointwise::<F>(target[e], pred[e], params, kind);
            acc += vd.v * w;
            grad[e] = vd.d * w * k;
        }
    }
    let mut shared = Shared::<[F]>::new_slice(comptime![CUBE as usize]);
    shared[tid] = acc;
    sync_cube();
    cube_sum::<F>(&mut shared, tid);
    if tid == 0 {
        partials[cube] = shared[0];
    }
}
