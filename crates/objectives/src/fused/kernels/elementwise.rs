//! The fused elementwise losses: [`Elementwise`] names them, one struct per loss implements
//! [`Pointwise`] (`f(t, p)` and `∂f/∂p`), and [`elementwise_with`] is the table from one to the
//! other (see the [`kernels`](super) docs for adding a loss).

use super::layout::{Dims, Weights};
use super::math::{exp_f32, exp_nonpos, fma, ln_f32, madd, sel, sign, smoothing, softplus_grad, softplus_parts};
use super::pointwise::{Pointwise, Run};
use crate::EPSILON;

/// Keras's fuzz factor in f32, as the composed implementations use it.
pub(super) const EPS: f32 = EPSILON as f32;

/// The elementwise losses `v_r = mean_j f(t, p)` (formulas: the composed implementations in
/// `regression/`, `hinge/`, `probabilistic/`, which these must match in value and gradient).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Elementwise {
    /// `(t − p)²`.
    Mse,
    /// `|t − p|`.
    Mae,
    /// `½e²` if `|e| ≤ δ` else `δ|e| − ½δ²`, `e = p − t`.
    Huber {
        /// `δ`.
        delta: f32,
    },
    /// `x + softplus(−2x) − log 2`, `x = p − t`.
    LogCosh,
    /// `(log(max(p, ε) + 1) − log(max(t, ε) + 1))²`.
    Msle,
    /// `100·|(t − p) / max(|t|, ε)|`.
    Mape,
    /// `p − t·log(p + ε)`.
    Poisson,
    /// `max(1 − t·p, 0)`.
    Hinge {
        /// y_true is 0/1 everywhere, so it is mapped to −1/+1 first (Keras's rule).
        convert: bool,
    },
    /// `max(1 − t·p, 0)²`.
    SquaredHinge {
        /// As for [`Elementwise::Hinge`].
        convert: bool,
    },
    /// `−(t'·logσ(p) + (1 − t')·logσ(−p))`, `t' = t·(1 − s) + s/2`.
    BinaryCrossentropyLogits {
        /// `s`.
        label_smoothing: f32,
    },
    /// `(1 − p_t)^γ · bce` (times `α_t` with class balancing), from logits, `t'` as for BCE.
    BinaryFocalLogits {
        /// `γ ≥ 0`.
        gamma: f32,
        /// `α` of the class balance.
        alpha: f32,
        /// Multiply by `t'·α + (1 − t')·(1 − α)`.
        apply_class_balancing: bool,
        /// `s`.
        label_smoothing: f32,
    },
}

/// Returns `scale·Σ_r w_r·v_r` (f64 accumulation) with `v_r = mean_j f(t, p)` and writes
/// `grad[e] = scale·w_r·(1/c)·∂f/∂p` for every element.
pub(crate) fn elementwise(
    kind: Elementwise,
    y_true: &[f32],
    y_pred: &[f32],
    dims: Dims,
    w: Weights<'_>,
    scale: f64,
    grad: &mut [f32],
) -> f64 {
    if fma() {
        elementwise_with(kind, Run::<true> { y_true, y_pred, dims, w, scale, grad })
    } else {
        elementwise_with(kind, Run::<false> { y_true, y_pred, dims, w, scale, grad })
    }
}

/// The table from each [`Elementwise`] to its [`Pointwise`] loss, one line per loss, run on
/// `run`'s inputs (with hardware fused multiply-adds or not: `F`).
pub(super) fn elementwise_with<const F: bool>(kind: Elementwise, run: Run<'_, F>) -> f64 {
    match kind {
        Elementwise::Mse => run.with(Mse),
        Elementwise::Mae => run.with(Mae),
        Elementwise::Huber { delta } => run.with(Huber::new(delta)),
        Elementwise::LogCosh => run.with(LogCosh),
        Elementwise::Msle => run.with(Msle),
        Elementwise::Mape => run.with(Mape),
        Elementwise::Poisson => run.with(Poisson),
        Elementwise::Hinge { convert } => run.with(Hinge::new(convert, false)),
        Elementwise::SquaredHinge { convert } => run.with(Hinge::new(convert, true)),
        Elementwise::BinaryCrossentropyLogits { label_smoothing } => run.with(Bce::new(label_smoothing)),
        Elementwise::BinaryFocalLogits { gamma, alpha, apply_class_balancing, label_smoothing } => {
            focal(run, gamma, alpha, apply_class_balancing, label_smoothing)
        }
    }
}

/// `(t − p)²`.
#[derive(Clone, Copy)]
struct Mse;
impl Pointwise for Mse {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32) {
        let d = t - p;
        (d * d, -(d + d))
    }
}

/// `|t − p|`.
#[derive(Clone, Copy)]
struct Mae;
impl Pointwise for Mae {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32) {
        let d = t - p;
        (d.abs(), -sign(d))
    }
}

/// `½e²` if `|e| ≤ δ` else `δ|e| − ½δ²`, `e = p − t`.
#[derive(Clone, Copy)]
struct Huber {
    delta: f32,
    half_delta_sq: f32,
}
impl Huber {
    fn new(delta: f32) -> Self {
        Self { delta, half_delta_sq: (0.5 * f64::from(delta) * f64::from(delta)) as f32 }
    }
}
impl Pointwise for Huber {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32) {
        let e = p - t;
        let a = e.abs();
        let quadratic = a <= self.delta;
        let v = sel(quadratic, e * e * 0.5, a * self.delta - self.half_delta_sq);
        let d = sel(quadratic, e, self.delta * sign(e));
        (v, d)
    }
}

/// `x + softplus(−2x) − ln 2`, `x = p − t`.
#[derive(Clone, Copy)]
struct LogCosh;
impl Pointwise for LogCosh {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32) {
        let x = p - t;
        let y = x * -2.0;
        let (e, ru, l1) = softplus_parts::<F>(y);
        let sp = sel(y < 0.0, 0.0, y) + l1;
        let v = x + sp - std::f32::consts::LN_2;
        (v, 1.0 - 2.0 * softplus_grad(y, e, ru))
    }
}

/// `(log(max(p, ε) + 1) − log(max(t, ε) + 1))²`.
#[derive(Clone, Copy)]
struct Msle;
impl Pointwise for Msle {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32) {
        let clipped = p < EPS;
        let a = sel(clipped, EPS, p) + 1.0;
        let b = sel(t < EPS, EPS, t) + 1.0;
        let d = ln_f32::<F>(a) - ln_f32::<F>(b);
        (d * d, sel(clipped, 0.0, (d + d) / a))
    }
}

/// `100·|(t − p) / max(|t|, ε)|`.
#[derive(Clone, Copy)]
struct Mape;
impl Pointwise for Mape {
    const SCALE: f64 = 100.0;
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32) {
        let a = t.abs();
        let denom = sel(a < EPS, EPS, a);
        let q = (t - p) / denom;
        (q.abs(), -sign(q) / denom)
    }
}

/// `p − t·log(p + ε)`.
#[derive(Clone, Copy)]
struct Poisson;
impl Pointwise for Poisson {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32) {
        let a = p + EPS;
        (p - t * ln_f32::<F>(a), 1.0 - t / a)
    }
}

/// `max(1 − t'·p, 0)` (`squared`: its square), `t' = t·a + b`.
#[derive(Clone, Copy)]
struct Hinge {
    a: f32,
    b: f32,
    squared: bool,
}
impl Hinge {
    /// `convert`: 0/1 labels mapped to −1/+1 (`t' = 2t − 1`).
    fn new(convert: bool, squared: bool) -> Self {
        let (a, b) = if convert { (2.0, -1.0) } else { (1.0, 0.0) };
        Self { a, b, squared }
    }
}
impl Pointwise for Hinge {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32) {
        let t = t * self.a + self.b;
        let z = 1.0 - t * p;
        let off = z < 0.0; // clamp_min passes the gradient at the kink
        let m = sel(off, 0.0, z);
        if self.squared { (m * m, sel(off, 0.0, -(m + m) * t)) } else { (m, sel(off, 0.0, -t)) }
    }
}

/// Binary cross-entropy from logits, `−(t'·logσ(x) + (1 − t')·logσ(−x))`, `t' = t·a + b`.
#[derive(Clone, Copy)]
struct Bce {
    a: f32,
    b: f32,
}
impl Bce {
    fn new(label_smoothing: f32) -> Self {
        let (a, b) = smoothing(label_smoothing, 0.5);
        Self { a, b }
    }
}
impl Pointwise for Bce {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, x: f32) -> (f32, f32) {
        let t = t * self.a + self.b;
        let (e, ru, l1) = softplus_parts::<F>(x);
        // t'·softplus(−x) + (1 − t')·softplus(x) with softplus(±x) = max(±x, 0) + l1, i.e.
        // max(x, 0) − t'·x + l1.
        let v = madd::<F>(-t, x, sel(x > 0.0, x, 0.0)) + l1;
        // σ(x) − t' (½ − t' at x = 0).
        let d = sel(x > 0.0, ru, e * ru) - t;
        (v, d)
    }

    const LOG_PRODUCT: bool = true;

    /// `max(x, 0) − t'·x` and `ln u = log1p(exp(−|x|))`, with one division for σ.
    #[inline(always)]
    fn eval_log<const F: bool>(self, t: f32, x: f32) -> (f32, f32, f32) {
        let t = t * self.a + self.b;
        let e = exp_nonpos::<F>(-x.abs());
        let u = 1.0 + e;
        let ru = 1.0 / u;
        let v = madd::<F>(-t, x, sel(x > 0.0, x, 0.0));
        let d = sel(x > 0.0, ru, e * ru) - t;
        (v, d, u)
    }
}

/// Binary focal cross-entropy from logits, `(1 − p_t)^γ · bce` (× the class balance), with the
/// exponent `P`.
#[derive(Clone, Copy)]
struct Focal<P: Power> {
    a: f32,
    b: f32,
    power: P,
    alpha: f32,
    balance: bool,
}

/// Runs the binary focal cross-entropy with the power of `γ` picked once: burn special-cases
/// the integers 0, 1 and 2.
fn focal<const F: bool>(run: Run<'_, F>, gamma: f32, alpha: f32, balance: bool, label_smoothing: f32) -> f64 {
    let (a, b) = smoothing(label_smoothing, 0.5);
    if gamma == 0.0 {
        run.with(Focal { a, b, power: Pow0, alpha, balance })
    } else if gamma == 1.0 {
        run.with(Focal { a, b, power: Pow1, alpha, balance })
    } else if gamma == 2.0 {
        run.with(Focal { a, b, power: Pow2, alpha, balance })
    } else {
        run.with(Focal { a, b, power: PowF(gamma), alpha, balance })
    }
}

impl<P: Power> Pointwise for Focal<P> {
    #[inline(always)]
    fn eval<const F: bool>(self, t: f32, x: f32) -> (f32, f32) {
        let t = t * self.a + self.b;
        let not_t = 1.0 - t;
        let (e, ru, l1) = softplus_parts::<F>(x);
        // log_sigmoid(x) = −softplus(−x), log_sigmoid(−x) = −softplus(x).
        let ls_pos = -(sel(x < 0.0, -x, 0.0) + l1);
        let ls_neg = -(sel(x > 0.0, x, 0.0) + l1);
        // d/dx log_sigmoid(x) = softplus′(−x), d/dx log_sigmoid(−x) = −softplus′(x).
        let dpos = softplus_grad(-x, e, ru);
        let dneg = -softplus_grad(x, e, ru);
        let bce = -(t * ls_pos + not_t * ls_neg);
        let dbce = -(t * dpos + not_t * dneg);
        // exp(log_sigmoid(±x)) = σ(±x).
        let er = e * ru;
        let sig_pos = sel(x < 0.0, er, ru);
        let sig_neg = sel(x < 0.0, ru, er);
        let omp = t * sig_neg + not_t * sig_pos;
        let domp = t * (sig_neg * dneg) + not_t * (sig_pos * dpos);
        let (pw, dpw) = self.power.pow::<F>(omp);
        let v = pw * bce;
        let d = dpw * domp * bce + pw * dbce;
        let k = sel(self.balance, t * self.alpha + not_t * (1.0 - self.alpha), 1.0);
        (v * k, d * k)
    }
}

/// `x^γ` and its derivative as burn computes them (`powf_scalar`: integer γ 0, 1, 2 special).
trait Power: Copy + Send + Sync {
    fn pow<const F: bool>(self, x: f32) -> (f32, f32);
}
#[derive(Clone, Copy)]
struct Pow0;
impl Power for Pow0 {
    #[inline(always)]
    fn pow<const F: bool>(self, _: f32) -> (f32, f32) {
        (1.0, 0.0)
    }
}
#[derive(Clone, Copy)]
struct Pow1;
impl Power for Pow1 {
    #[inline(always)]
    fn pow<const F: bool>(self, x: f32) -> (f32, f32) {
        (x, 1.0)
    }
}
#[derive(Clone, Copy)]
struct Pow2;
impl Power for Pow2 {
    #[inline(always)]
    fn pow<const F: bool>(self, x: f32) -> (f32, f32) {
        (x * x, x + x)
    }
}
/// A general γ ≥ 0: `exp(γ·ln x)`, `γ·exp((γ − 1)·ln x)` (so `0^γ = 0`, and `∞` derivative at
/// 0 for γ < 1, as `powf`).
#[derive(Clone, Copy)]
struct PowF(f32);
impl Power for PowF {
    #[inline(always)]
    fn pow<const F: bool>(self, x: f32) -> (f32, f32) {
        let lx = ln_f32::<F>(x);
        (exp_f32::<F>(self.0 * lx), self.0 * exp_f32::<F>((self.0 - 1.0) * lx))
    }
}
