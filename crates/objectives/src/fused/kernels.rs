//! Single-pass CPU kernels: one read of the inputs computes the weighted loss sum **and** writes
//! the gradient with respect to `y_pred` (or the logits).
//!
//! Layout: a contiguous row-major tensor of shape `S` reduced over axis `k` is seen as
//! `(pre, c, post)` with `pre = Π S[..k]`, `c = S[k]`, `post = Π S[k+1..]`; element `(i, j, l)` is at
//! `(i·c + j)·post + l`, and its reduced position is `r = i·post + l` (`r < pre·post`).
//!
//! Every kernel returns `scale · Σ_r w_r · v_r` (accumulated in f64), where `v_r` is the loss of
//! reduced position `r` (e.g. `mean_j f(t, p)`), and writes `grad = ∂(that)/∂y_pred` into
//! `grad` (same layout as `y_pred`, every element overwritten). `w_r` is [`Weights::at`].
//!
//! How:
//! - **Threads**: rayon in the caller's pool, over fixed chunks of [`CHUNK`] elements (elementwise
//!   losses: any split, the weighted sum is linear in the elements) or of whole rows (softmax; rows
//!   with `post > 1` are split into bands of positions when there are few of them). Per-chunk f64
//!   partial sums are added in chunk order, so results do not depend on the number of threads.
//! - **Vectors**: every hot loop is plain Rust that LLVM vectorises; [`simd`] compiles it for
//!   AVX2/FMA or AVX-512 at run time. Reductions keep explicit lanes (f32 per tile, then f64).
//! - **Math**: branch-free `exp` and `ln` (Cephes range reduction + polynomial, ~1 ulp), and the
//!   softplus pieces from one `exp` and one division ([`softplus_parts`]).
//! - **Gradients** are burn autodiff's of the composed implementations, conventions included:
//!   `clamp`/`clamp_min` pass the gradient at their bounds and `sign(0) = 0`; softplus′(y) = σ(y),
//!   ½ at `y = 0` as in Keras/JAX (so LogCosh's gradient is 0 at `y_pred = y_true` and binary
//!   cross-entropy's is `½ − t'` at a zero logit), on both paths.

use rayon::prelude::*;

use crate::EPSILON;

/// A tensor reduced over one axis, seen as `(pre, c, post)` (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dims {
    /// Product of the dimensions before the axis.
    pub pre: usize,
    /// Length of the reduced axis (≥ 1).
    pub c: usize,
    /// Product of the dimensions after the axis.
    pub post: usize,
}

impl Dims {
    /// Number of reduced positions `pre · post`.
    pub fn reduced(&self) -> usize {
        self.pre * self.post
    }
    /// Number of elements `pre · c · post`.
    pub fn len(&self) -> usize {
        self.pre * self.c * self.post
    }
}

/// A weight over the reduced positions: `data[r / repeat]` (so `repeat = 1` is a full weight,
/// `repeat = post·…` a weight per leading index, `data.len() == 1, repeat = usize::MAX` a scalar).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Factor<'a> {
    pub data: &'a [f32],
    pub repeat: usize,
}

/// The effective weight of reduced position `r`: `sample(r) · mask'(r)` where
/// `mask'(r) = if mask(r) ≠ 0 { rescale } else { 0 }` when `mask_rescale = Some(rescale)`, or the raw
/// `mask(r)` when `None`. Missing factors weigh 1.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Weights<'a> {
    pub sample: Option<Factor<'a>>,
    pub mask: Option<Factor<'a>>,
    pub mask_rescale: Option<f32>,
}

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

/// Elements per parallel task. Fixed (not derived from the thread count) so that the partial
/// sums, and hence the result, do not depend on the pool size.
const CHUNK: usize = 16 * 1024;
/// Elements per weight tile of the elementwise kernels (stack buffer).
const TILE: usize = 512;
/// Reduced positions per tile of the softmax kernels when `post > 1` (stack buffers).
const LT: usize = 64;
/// Lanes of the explicit reductions: four AVX-512 registers of f64 (independent add chains).
const LANES: usize = 32;
/// Elements per block of the softmax row passes (stays in L1 between a loop and its reduction).
const BLOCK: usize = 1024;

/// Keras's fuzz factor in f32, as the composed implementations use it.
const EPS: f32 = EPSILON as f32;

/// The error of [`sparse_softmax_crossentropy`]: a label outside `[0, c)` that is not the
/// ignored class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SparseLabelError {
    /// Reduced position `r = i·post + l` of the first offending label.
    pub position: usize,
    /// The label found there.
    pub label: i64,
}

impl Factor<'_> {
    /// The factor at reduced position `r` (NaN if `data` is too short, which a consistent caller
    /// never produces).
    #[inline]
    fn at(&self, r: usize) -> f32 {
        self.data.get(r / self.repeat.max(1)).copied().unwrap_or(f32::NAN)
    }

    /// `out[k] = op(out[k], factor(r0 + k))`, run by run (no division per element).
    #[inline]
    fn apply(&self, r0: usize, out: &mut [f32], op: impl Fn(f32, f32) -> f32) {
        let repeat = self.repeat.max(1);
        if repeat == 1 {
            match self.data.get(r0..r0 + out.len()) {
                Some(src) => out.iter_mut().zip(src).for_each(|(o, &v)| *o = op(*o, v)),
                None => out.fill(f32::NAN),
            }
            return;
        }
        let (mut idx, mut off) = (r0 / repeat, r0 % repeat);
        let mut rest = out;
        while !rest.is_empty() {
            let run = (repeat - off).min(rest.len());
            let v = self.data.get(idx).copied().unwrap_or(f32::NAN);
            let (head, tail) = rest.split_at_mut(run);
            head.iter_mut().for_each(|o| *o = op(*o, v));
            rest = tail;
            idx += 1;
            off = 0;
        }
    }
}

impl Weights<'_> {
    /// The effective weight `w_r = sample(r) · mask'(r)` of reduced position `r`.
    #[inline]
    pub(crate) fn at(&self, r: usize) -> f32 {
        let s = self.sample.map_or(1.0, |f| f.at(r));
        match self.mask {
            Some(m) => s * self.mask_value(m.at(r)),
            None => s,
        }
    }

    /// `true` when every weight is 1.
    fn is_unit(&self) -> bool {
        self.sample.is_none() && self.mask.is_none()
    }

    #[inline(always)]
    fn mask_value(&self, m: f32) -> f32 {
        match self.mask_rescale {
            Some(rescale) => sel(m != 0.0, rescale, 0.0),
            None => m,
        }
    }

    /// `out[k] = w_{r0 + k}`.
    fn fill(&self, r0: usize, out: &mut [f32]) {
        match self.sample {
            Some(f) => f.apply(r0, out, |_, v| v),
            None => out.fill(1.0),
        }
        if let Some(m) = self.mask {
            m.apply(r0, out, |o, v| o * self.mask_value(v));
        }
    }

    /// `out[k] = w_{i(e0 + k)}` for elements `e0..` of a `(pre, c, 1)` tensor, whose rows of `c`
    /// elements share the reduced position `i = e / c`.
    fn fill_rows(&self, c: usize, e0: usize, out: &mut [f32]) {
        let c = c.max(1);
        let mut e = e0;
        let mut rest = out;
        while !rest.is_empty() {
            let run = (c - e % c).min(rest.len());
            let (head, tail) = rest.split_at_mut(run);
            head.fill(self.at(e / c));
            rest = tail;
            e += run;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Branch-free, auto-vectorisable f32 math (Cephes-style range reduction + polynomial).
// ---------------------------------------------------------------------------------------------

/// `if c { a } else { b }`, compiled to a select (no branch) inside vectorised loops.
#[inline(always)]
fn sel(c: bool, a: f32, b: f32) -> f32 {
    if c { a } else { b }
}

/// Runs `f` compiled for the widest instruction set this CPU has, through pulp's runtime dispatch
/// (safe code): AVX2 + FMA, or AVX-512 when pulp's `x86-v4` feature is on; the baseline (SSE2 on
/// x86-64) otherwise. What `f` calls in its hot loops must be `#[inline(always)]` to be compiled
/// that way too.
#[inline(always)]
fn simd<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// Whether the code that [`simd`] runs has hardware fused multiply-adds (x86-64 with AVX2/FMA or
/// AVX-512, aarch64): then the kernels use them ([`madd`]), else separate multiplies and adds
/// (`f32::mul_add` without the hardware instruction is a slow library call).
fn fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return !matches!(pulp::Arch::new(), pulp::Arch::Scalar);
    #[cfg(target_arch = "aarch64")]
    return true;
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return false;
}

/// burn's `sign`: −1, 0 or 1 (0 for 0 and NaN).
#[inline(always)]
fn sign(x: f32) -> f32 {
    sel(x > 0.0, 1.0, sel(x < 0.0, -1.0, 0.0))
}

/// `2^n` for `n` in the normal exponent range `[-126, 127]`.
#[inline(always)]
fn pow2i(n: i32) -> f32 {
    f32::from_bits((n.wrapping_add(127) << 23) as u32)
}

/// `a·b + c`: one fused multiply-add when `F` (the caller runs in a context with hardware FMA, see
/// [`simd`]), else a multiply and an add.
#[inline(always)]
fn madd<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F { a.mul_add(b, c) } else { a * b + c }
}

/// `exp(x)` for every f32, within ~1 ulp of the correctly rounded result (denormal results
/// included; ±inf and NaN as in std).
#[inline(always)]
fn exp_f32<const F: bool>(x: f32) -> f32 {
    // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let x = sel(x > 88.8, 88.8, x); // keeps NaN (comparisons are false)
    let x = sel(x < -105.0, -105.0, x);
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let n = (t.to_bits() as i32).wrapping_sub(0x4B40_0000);
    let nf = t - MAGIC;
    // Cody–Waite: ln 2 = 0.693359375 − 2.12194440e-4 (the first part is exact in few bits).
    let r = madd::<F>(-nf, 0.693_359_4, x);
    let r = madd::<F>(-nf, -2.121_944_4e-4, r);
    let z = r * r;
    let p = madd::<F>(1.987_569_1e-4, r, 1.398_199_9e-3);
    let p = madd::<F>(p, r, 8.333_452e-3);
    let p = madd::<F>(p, r, 4.166_579_6e-2);
    let p = madd::<F>(p, r, 1.666_666_5e-1);
    let p = madd::<F>(p, r, 0.5);
    let y = madd::<F>(p, z, r) + 1.0;
    // 2ⁿ in two normal factors so that denormal results are rounded once, correctly.
    let n1 = n >> 1;
    y * pow2i(n1) * pow2i(n.wrapping_sub(n1))
}

/// Cephes `logf` from the bits of a positive normal number and its biased exponent.
#[inline(always)]
fn ln_from_bits<const F: bool>(bits: i32, biased: i32) -> f32 {
    // m in [0.5, 1): x = m·2^(biased − 126).
    let m = f32::from_bits(((bits & 0x007f_ffff) | 0x3f00_0000) as u32);
    let small = m < std::f32::consts::FRAC_1_SQRT_2;
    let e = biased - 126 - i32::from(small);
    let f = sel(small, m + m, m) - 1.0;
    let z = f * f;
    let y = madd::<F>(7.037_683_6e-2, f, -1.151_461e-1);
    let y = madd::<F>(y, f, 1.167_699_9e-1);
    let y = madd::<F>(y, f, -1.242_014_1e-1);
    let y = madd::<F>(y, f, 1.424_932_3e-1);
    let y = madd::<F>(y, f, -1.666_805_8e-1);
    let y = madd::<F>(y, f, 2.000_071_4e-1);
    let y = madd::<F>(y, f, -2.499_999_4e-1);
    let y = madd::<F>(y, f, 0.333_333_3);
    let y = y * f * z;
    let ef = e as f32;
    let y = madd::<F>(-2.121_944_4e-4, ef, y);
    let y = madd::<F>(-0.5, z, y);
    madd::<F>(0.693_359_4, ef, f + y)
}

/// `ln(x)` for every f32, within ~1 ulp (denormals, 0 → −inf, +inf, negatives and NaN → NaN as
/// in std).
#[inline(always)]
fn ln_f32<const F: bool>(x: f32) -> f32 {
    let denormal = x < f32::MIN_POSITIVE;
    let xs = sel(denormal, x * 8_388_608.0, x); // 2²³
    let bits = xs.to_bits() as i32;
    let biased = ((bits >> 23) & 0xff) - if denormal { 23 } else { 0 };
    let r = ln_from_bits::<F>(bits, biased);
    let r = sel(x == f32::INFINITY, x, r);
    let r = sel(x == 0.0, f32::NEG_INFINITY, r);
    #[allow(clippy::eq_op)] // x != x: NaN
    let bad = x < 0.0 || x != x;
    sel(bad, f32::NAN, r)
}

/// The pieces of `softplus` at `y`: `e = exp(−|y|)`, `ru = 1/(1 + e)` and `l1 = log1p(e)`, with
/// one division: `log1p(e) = 2·atanh(s)`, `s = e/(2 + e) ≤ 1/3`, `atanh(s)/s = 1 + w·P(w)`,
/// `w = s²`, `P` a degree-3 near-minimax fit on `[0, 1/9]` (error 1.5e-7 on `P ≈ 1/3`, i.e.
/// < 2e-8 relative on `l1`; with the roundings, `l1` is within 2.7e-7 relative).
#[inline(always)]
fn softplus_parts<const F: bool>(y: f32) -> (f32, f32, f32) {
    let e = exp_f32::<F>(-y.abs());
    let u = 1.0 + e;
    let v = 2.0 + e;
    let d = 1.0 / (u * v);
    let ru = v * d;
    let s = e * u * d;
    let w = s * s;
    let p = madd::<F>(madd::<F>(madd::<F>(0.134_257_5, w, 0.141_183_1), w, 0.200_037_8), w, 0.333_333_2);
    let l1 = madd::<F>(s + s, w * p, s + s);
    (e, ru, l1)
}

/// `softplus′(y) = σ(y)` (½ at `y = 0`, as in Keras/JAX; the composed `math::softplus` is
/// written so that burn's autodiff gives the same).
#[inline(always)]
fn softplus_grad(y: f32, e: f32, ru: f32) -> f32 {
    let er = e * ru;
    sel(y <= 0.0, er, 1.0 - er)
}

/// `Σ x` with f64 lanes.
#[inline(always)]
fn sum_f64(x: &[f32]) -> f64 {
    let (chunks, rest) = x.as_chunks::<LANES>();
    let mut acc = [0f64; LANES];
    for ch in chunks {
        for k in 0..LANES {
            acc[k] += f64::from(ch[k]);
        }
    }
    acc.iter().sum::<f64>() + rest.iter().map(|&v| f64::from(v)).sum::<f64>()
}

/// `g = exp(z − m)`, returns `Σ g` (f64 lanes), block by block so that the exponentials are
/// summed from L1.
#[inline(always)]
fn exp_shifted_sum<const F: bool>(z: &[f32], m: f32, g: &mut [f32]) -> f64 {
    let mut s = 0.0;
    for (gb, zb) in g.chunks_mut(BLOCK).zip(z.chunks(BLOCK)) {
        for (g, &z) in gb.iter_mut().zip(zb) {
            *g = exp_f32::<F>(z - m);
        }
        s += sum_f64(gb);
    }
    s
}

/// `max x` (NaN entries ignored; −inf when empty), with four independent 16-lane accumulators.
#[inline(always)]
fn max_f32(x: &[f32]) -> f32 {
    #[inline(always)]
    fn max16(acc: &mut [f32; 16], x: &[f32; 16]) {
        for k in 0..16 {
            acc[k] = sel(x[k] > acc[k], x[k], acc[k]);
        }
    }
    let (chunks, rest) = x.as_chunks::<16>();
    let (quads, tail) = chunks.as_chunks::<4>();
    let mut acc = [[f32::NEG_INFINITY; 16]; 4];
    for q in quads {
        let [a0, a1, a2, a3] = &mut acc;
        max16(a0, &q[0]);
        max16(a1, &q[1]);
        max16(a2, &q[2]);
        max16(a3, &q[3]);
    }
    for ch in tail {
        max16(&mut acc[0], ch);
    }
    acc.iter().flatten().chain(rest).fold(f32::NEG_INFINITY, |m, &v| sel(v > m, v, m))
}

// ---------------------------------------------------------------------------------------------
// Elementwise losses.
// ---------------------------------------------------------------------------------------------

/// One elementwise loss: `f(t, p)` and `∂f/∂p` as burn autodiff gives them for the composed form.
trait Pointwise: Copy + Send + Sync {
    /// A constant factor on the mean (MAPE's 100).
    const SCALE: f64 = 1.0;
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32);
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

/// Smoothing coefficients `(a, b)` of `t' = t·a + b` with the scalars formed in f64 and rounded
/// once, as burn's `mul_scalar(1 − s)` / `add_scalar(s·k)` do.
fn smoothing(label_smoothing: f32, share: f64) -> (f32, f32) {
    let s = f64::from(label_smoothing);
    ((1.0 - s) as f32, (s * share) as f32)
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
        elementwise_with::<true>(kind, y_true, y_pred, dims, w, scale, grad)
    } else {
        elementwise_with::<false>(kind, y_true, y_pred, dims, w, scale, grad)
    }
}

fn elementwise_with<const F: bool>(
    kind: Elementwise,
    y_true: &[f32],
    y_pred: &[f32],
    dims: Dims,
    w: Weights<'_>,
    scale: f64,
    grad: &mut [f32],
) -> f64 {
    match kind {
        Elementwise::Mse => run_pointwise::<_, F>(Mse, y_true, y_pred, dims, w, scale, grad),
        Elementwise::Mae => run_pointwise::<_, F>(Mae, y_true, y_pred, dims, w, scale, grad),
        Elementwise::Huber { delta } => {
            let half_delta_sq = (0.5 * f64::from(delta) * f64::from(delta)) as f32;
            run_pointwise::<_, F>(Huber { delta, half_delta_sq }, y_true, y_pred, dims, w, scale, grad)
        }
        Elementwise::LogCosh => run_pointwise::<_, F>(LogCosh, y_true, y_pred, dims, w, scale, grad),
        Elementwise::Msle => run_pointwise::<_, F>(Msle, y_true, y_pred, dims, w, scale, grad),
        Elementwise::Mape => run_pointwise::<_, F>(Mape, y_true, y_pred, dims, w, scale, grad),
        Elementwise::Poisson => run_pointwise::<_, F>(Poisson, y_true, y_pred, dims, w, scale, grad),
        Elementwise::Hinge { convert } | Elementwise::SquaredHinge { convert } => {
            let (a, b) = if convert { (2.0, -1.0) } else { (1.0, 0.0) };
            let squared = matches!(kind, Elementwise::SquaredHinge { .. });
            run_pointwise::<_, F>(Hinge { a, b, squared }, y_true, y_pred, dims, w, scale, grad)
        }
        Elementwise::BinaryCrossentropyLogits { label_smoothing } => {
            let (a, b) = smoothing(label_smoothing, 0.5);
            run_pointwise::<_, F>(Bce { a, b }, y_true, y_pred, dims, w, scale, grad)
        }
        Elementwise::BinaryFocalLogits { gamma, alpha, apply_class_balancing, label_smoothing } => {
            let (a, b) = smoothing(label_smoothing, 0.5);
            let balance = apply_class_balancing;
            macro_rules! focal {
                ($power:expr) => {{
                    let focal = Focal { a, b, power: $power, alpha, balance };
                    run_pointwise::<_, F>(focal, y_true, y_pred, dims, w, scale, grad)
                }};
            }
            if gamma == 0.0 {
                focal!(Pow0)
            } else if gamma == 1.0 {
                focal!(Pow1)
            } else if gamma == 2.0 {
                focal!(Pow2)
            } else {
                focal!(PowF(gamma))
            }
        }
    }
}

fn run_pointwise<O: Pointwise, const F: bool>(
    op: O,
    y_true: &[f32],
    y_pred: &[f32],
    dims: Dims,
    w: Weights<'_>,
    scale: f64,
    grad: &mut [f32],
) -> f64 {
    let n = dims.len();
    debug_assert!(y_true.len() == n && y_pred.len() == n && grad.len() == n, "slice lengths ≠ {dims:?}");
    if n == 0 {
        return 0.0;
    }
    // With c = 1 every element is its own reduced position: one long line.
    let dims = if dims.c == 1 { Dims { pre: 1, c: 1, post: n } } else { dims };
    let k = scale * O::SCALE / dims.c as f64;
    let gs = k as f32;
    let partial: Vec<f64> = grad
        .par_chunks_mut(CHUNK)
        .zip(y_true.par_chunks(CHUNK))
        .zip(y_pred.par_chunks(CHUNK))
        .enumerate()
        .map(|(ci, ((g, t), p))| {
            simd(
                #[inline(always)]
                || {
                    let (mut g, mut t, mut p) = (g, t, p);
                    let mut wbuf = [0f32; TILE];
                    // The reduced positions whose weights `wbuf` holds (for post > 1, consecutive
                    // lines of a row share them).
                    let mut held = None;
                    let mut total = 0.0f64;
                    let mut e = ci * CHUNK;
                    while !g.is_empty() {
                        // A tile: within one line when post > 1, else any run of rows.
                        let n = if dims.post > 1 { TILE.min(dims.post - e % dims.post) } else { TILE }.min(g.len());
                        let (gh, gt) = std::mem::take(&mut g).split_at_mut(n);
                        let (th, tt) = t.split_at(n);
                        let (ph, pt) = p.split_at(n);
                        let wv = if w.is_unit() {
                            None
                        } else if dims.post > 1 {
                            let r0 = (e / dims.post / dims.c) * dims.post + e % dims.post;
                            if held != Some((r0, n)) {
                                w.fill(r0, &mut wbuf[..n]);
                                held = Some((r0, n));
                            }
                            Some(&wbuf[..n])
                        } else {
                            w.fill_rows(dims.c, e, &mut wbuf[..n]);
                            Some(&wbuf[..n])
                        };
                        total += pointwise_tile::<F, O>(op, th, ph, wv, gh, gs);
                        (g, t, p) = (gt, tt, pt);
                        e += n;
                    }
                    total
                },
            )
        })
        .collect();
    partial.iter().sum::<f64>() * k
}

/// `g = w·gs·∂f/∂p`, returns `Σ w·f` (16 f32 lanes over at most a tile, then f64); `w = None`:
/// unit weights.
#[inline(always)]
fn pointwise_tile<const F: bool, O: Pointwise>(
    op: O,
    t: &[f32],
    p: &[f32],
    w: Option<&[f32]>,
    g: &mut [f32],
    gs: f32,
) -> f64 {
    const L: usize = 16;
    let (tc, tr) = t.as_chunks::<L>();
    let (pc, pr) = p.as_chunks::<L>();
    let (gc, gr) = g.as_chunks_mut::<L>();
    let mut acc = [0f32; L];
    let mut total = 0.0;
    match w {
        Some(w) => {
            let (wc, wr) = w.as_chunks::<L>();
            for (((tc, pc), wc), gc) in tc.iter().zip(pc).zip(wc).zip(gc) {
                // All loads before the stores: the stores cannot alias them, so the lanes vectorise.
                let (tv, pv, wv) = (*tc, *pc, *wc);
                let mut gv = [0f32; L];
                for k in 0..L {
                    let (v, d) = op.eval::<F>(tv[k], pv[k]);
                    acc[k] += wv[k] * v;
                    gv[k] = wv[k] * gs * d;
                }
                *gc = gv;
            }
            for (((&t, &p), &w), g) in tr.iter().zip(pr).zip(wr).zip(gr) {
                let (v, d) = op.eval::<F>(t, p);
                total += f64::from(w * v);
                *g = w * gs * d;
            }
        }
        None => {
            for ((tc, pc), gc) in tc.iter().zip(pc).zip(gc) {
                let (tv, pv) = (*tc, *pc);
                let mut gv = [0f32; L];
                for k in 0..L {
                    let (v, d) = op.eval::<F>(tv[k], pv[k]);
                    acc[k] += v;
                    gv[k] = gs * d;
                }
                *gc = gv;
            }
            for ((&t, &p), g) in tr.iter().zip(pr).zip(gr) {
                let (v, d) = op.eval::<F>(t, p);
                total += f64::from(v);
                *g = gs * d;
            }
        }
    }
    total + acc.iter().map(|&a| f64::from(a)).sum::<f64>()
}

// ---------------------------------------------------------------------------------------------
// Softmax cross-entropies.
// ---------------------------------------------------------------------------------------------

/// Rows per parallel task for a row of `row` elements.
fn rows_per_task(row: usize) -> usize {
    (CHUNK / row.max(1)).max(1)
}

/// Categorical CE from logits along the axis: `t' = t·(1−ls) + ls/c`,
/// `v_r = −Σ_j t'_j·log_softmax(z)_j`; writes `grad_j = scale·w_r·(softmax_j·Σ_j t'_j − t'_j)`.
pub(crate) fn softmax_crossentropy(
    y_true: &[f32],
    logits: &[f32],
    dims: Dims,
    label_smoothing: f32,
    w: Weights<'_>,
    scale: f64,
    grad: &mut [f32],
) -> f64 {
    if fma() {
        softmax_crossentropy_with::<true>(y_true, logits, dims, label_smoothing, w, scale, grad)
    } else {
        softmax_crossentropy_with::<false>(y_true, logits, dims, label_smoothing, w, scale, grad)
    }
}

fn softmax_crossentropy_with<const F: bool>(
    y_true: &[f32],
    logits: &[f32],
    dims: Dims,
    label_smoothing: f32,
    w: Weights<'_>,
    scale: f64,
    grad: &mut [f32],
) -> f64 {
    let n = dims.len();
    debug_assert!(y_true.len() == n && logits.len() == n && grad.len() == n, "slice lengths ≠ {dims:?}");
    if n == 0 {
        return 0.0;
    }
    let (a, b) = smoothing(label_smoothing, 1.0 / dims.c as f64);
    let gs = scale as f32;
    let row = dims.c * dims.post;
    if dims.post > 1 {
        let band = |i: usize, l_start: usize, lines: &mut [&mut [f32]]| {
            let (z, t) = (logits.get(i * row..(i + 1) * row), y_true.get(i * row..(i + 1) * row));
            match (z, t) {
                (Some(z), Some(t)) => cce_band::<F>(t, z, lines, dims.post, l_start, (a, b), &w, i, gs),
                _ => f64::NAN,
            }
        };
        return post_rows(grad, dims, &band) * scale;
    }
    let rows = rows_per_task(row);
    let partial: Vec<f64> = grad
        .par_chunks_mut(rows * row)
        .zip(logits.par_chunks(rows * row))
        .zip(y_true.par_chunks(rows * row))
        .enumerate()
        .map(|(ci, ((g, z), t))| {
            simd(
                #[inline(always)]
                || {
                    let mut total = 0.0;
                    for (k, ((g, z), t)) in g.chunks_mut(row).zip(z.chunks(row)).zip(t.chunks(row)).enumerate() {
                        let wi = w.at(ci * rows + k);
                        total += f64::from(wi) * cce_row::<F>(t, z, g, a, b, wi * gs);
                    }
                    total
                },
            )
        })
        .collect();
    partial.iter().sum::<f64>() * scale
}

/// Rows with `post > 1`, the gradient of each seen as `c` lines of `post`: calls
/// `band(i, l_start, lines)` for bands of reduced positions `l_start..` of row `i`, where `lines`
/// are the gradient's `c` line segments of the band. Many rows: a band is a whole row, in
/// parallel over rows; few rows: each row is split into bands of about [`CHUNK`] elements that run
/// in parallel. Returns the sum of the bands' results, in a fixed order.
fn post_rows<F>(grad: &mut [f32], dims: Dims, band: &F) -> f64
where
    F: Fn(usize, usize, &mut [&mut [f32]]) -> f64 + Sync,
{
    let (c, post) = (dims.c, dims.post);
    let row = c * post;
    if dims.pre >= 8 {
        let rows = rows_per_task(row);
        let partial: Vec<f64> = grad
            .par_chunks_mut(rows * row)
            .enumerate()
            .map(|(ci, g)| {
                simd(
                    #[inline(always)]
                    || {
                        let mut lines: Vec<&mut [f32]> = Vec::with_capacity(c);
                        let mut total = 0.0;
                        for (k, g) in g.chunks_mut(row).enumerate() {
                            lines.clear();
                            lines.extend(g.chunks_mut(post));
                            total += band(ci * rows + k, 0, &mut lines);
                        }
                        total
                    },
                )
            })
            .collect();
        return partial.iter().sum();
    }
    let width = LT * (CHUNK / (c * LT)).max(1);
    let mut total = 0.0;
    for (i, g) in grad.chunks_mut(row).enumerate() {
        let mut bands: Vec<Vec<&mut [f32]>> = (0..post.div_ceil(width)).map(|_| Vec::with_capacity(c)).collect();
        for line in g.chunks_mut(post) {
            for (lines, segment) in bands.iter_mut().zip(line.chunks_mut(width)) {
                lines.push(segment);
            }
        }
        let partial: Vec<f64> = bands
            .par_iter_mut()
            .enumerate()
            .map(|(k, lines)| {
                simd(
                    #[inline(always)]
                    || band(i, k * width, lines),
                )
            })
            .collect();
        total += partial.iter().sum::<f64>();
    }
    total
}

/// One contiguous row (`post = 1`): returns `v`, writes `grad = coef·(softmax·Σt' − t')`.
#[inline(always)]
fn cce_row<const F: bool>(t: &[f32], z: &[f32], g: &mut [f32], a: f32, b: f32, coef: f32) -> f64 {
    // Pass 1: max and Σt' = a·Σt + b·c.
    let m = max_f32(z);
    let st = f64::from(a) * sum_f64(t) + f64::from(b) * t.len() as f64;
    // Pass 2: exp(z − m) into grad, and its sum.
    let s = exp_shifted_sum::<F>(z, m, g);
    let lse = s.ln() as f32;
    let fac = (st / s) as f32;
    // Pass 3: the gradient, and the value's terms t'·log_softmax summed from L1 block by block.
    let mut terms = [0f32; BLOCK];
    let mut v = 0.0;
    for ((gb, zb), tb) in g.chunks_mut(BLOCK).zip(z.chunks(BLOCK)).zip(t.chunks(BLOCK)) {
        let terms = &mut terms[..gb.len()];
        for (((g, &z), &t), term) in gb.iter_mut().zip(zb).zip(tb).zip(terms.iter_mut()) {
            let tp = t * a + b;
            *term = tp * ((z - m) - lse);
            *g = (*g * fac - tp) * coef;
        }
        v += sum_f64(terms);
    }
    -v
}

/// The band of reduced positions `l_start..l_start + width` of row `i` (`post > 1`; `lines`:
/// the gradient's `c` line segments of the band, `t`, `z`: the whole row), in tiles of `LT`
/// positions: returns `Σ_l w·v`, writes the gradient.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cce_band<const F: bool>(
    t: &[f32],
    z: &[f32],
    lines: &mut [&mut [f32]],
    post: usize,
    l_start: usize,
    (a, b): (f32, f32),
    w: &Weights<'_>,
    i: usize,
    gs: f32,
) -> f64 {
    let width = lines.first().map_or(0, |l| l.len());
    let mut total = 0.0;
    let mut l0 = 0;
    while l0 < width {
        let lt = LT.min(width - l0);
        let (rel, abs) = (l0..l0 + lt, l_start + l0..l_start + l0 + lt);
        let mut wv = [0f32; LT];
        let wv = &mut wv[..lt];
        w.fill(i * post + l_start + l0, wv);
        let mut mx = [f32::NEG_INFINITY; LT];
        let mut st = [0f64; LT];
        let mut s = [0f64; LT];
        let (mx, st, s) = (&mut mx[..lt], &mut st[..lt], &mut s[..lt]);
        for (zl, tl) in z.chunks(post).zip(t.chunks(post)) {
            for (((m, st), &z), &t) in mx.iter_mut().zip(st.iter_mut()).zip(&zl[abs.clone()]).zip(&tl[abs.clone()]) {
                *m = sel(z > *m, z, *m);
                *st += f64::from(t * a + b);
            }
        }
        for (zl, gl) in z.chunks(post).zip(lines.iter_mut()) {
            for (((g, &z), &m), s) in gl[rel.clone()].iter_mut().zip(&zl[abs.clone()]).zip(mx.iter()).zip(s.iter_mut())
            {
                let e = exp_f32::<F>(z - m);
                *g = e;
                *s += f64::from(e);
            }
        }
        let mut lse = [0f32; LT];
        let mut fac = [0f32; LT];
        let mut coef = [0f32; LT];
        for l in 0..lt {
            lse[l] = s[l].ln() as f32;
            fac[l] = (st[l] / s[l]) as f32;
            coef[l] = wv[l] * gs;
        }
        let mut acc = [0f64; LT];
        for ((zl, tl), gl) in z.chunks(post).zip(t.chunks(post)).zip(lines.iter_mut()) {
            let elements = gl[rel.clone()].iter_mut().zip(&zl[abs.clone()]).zip(&tl[abs.clone()]);
            for (l, ((g, &z), &t)) in elements.enumerate().take(lt) {
                let tp = t * a + b;
                acc[l] += f64::from(tp * ((z - mx[l]) - lse[l]));
                *g = (*g * fac[l] - tp) * coef[l];
            }
        }
        total -= acc[..lt].iter().zip(wv.iter()).map(|(&v, &w)| f64::from(w) * v).sum::<f64>();
        l0 += lt;
    }
    total
}

/// Sparse CE from logits: `labels` has `dims.reduced()` entries (position `r`), classes
/// `dims.c`. A position whose label is `ignore_class` contributes 0 and gets zero gradient; any
/// other label outside `[0, c)` is an error (the first such position).
pub(crate) fn sparse_softmax_crossentropy(
    labels: &[i64],
    logits: &[f32],
    dims: Dims,
    ignore_class: Option<i64>,
    w: Weights<'_>,
    scale: f64,
    grad: &mut [f32],
) -> Result<f64, SparseLabelError> {
    let n = dims.len();
    debug_assert!(labels.len() == dims.reduced() && logits.len() == n && grad.len() == n, "lengths ≠ {dims:?}");
    let c = dims.c as i64;
    let bad = |&l: &i64| (l < 0 || l >= c) && Some(l) != ignore_class;
    if let Some(position) = labels.par_iter().position_first(bad) {
        let label = labels.get(position).copied().unwrap_or_default();
        return Err(SparseLabelError { position, label });
    }
    if n == 0 {
        return Ok(0.0);
    }
    Ok(if fma() {
        sparse_softmax_crossentropy_with::<true>(labels, logits, dims, ignore_class, w, scale, grad)
    } else {
        sparse_softmax_crossentropy_with::<false>(labels, logits, dims, ignore_class, w, scale, grad)
    })
}

/// [`sparse_softmax_crossentropy`] once the labels are checked.
fn sparse_softmax_crossentropy_with<const F: bool>(
    labels: &[i64],
    logits: &[f32],
    dims: Dims,
    ignore_class: Option<i64>,
    w: Weights<'_>,
    scale: f64,
    grad: &mut [f32],
) -> f64 {
    let gs = scale as f32;
    let row = dims.c * dims.post;
    if dims.post > 1 {
        let post = dims.post;
        let band = |i: usize, l_start: usize, lines: &mut [&mut [f32]]| {
            let (z, lab) = (logits.get(i * row..(i + 1) * row), labels.get(i * post..(i + 1) * post));
            match (z, lab) {
                (Some(z), Some(lab)) => scce_band::<F>(lab, z, lines, post, l_start, ignore_class, &w, i, gs),
                _ => f64::NAN,
            }
        };
        return post_rows(grad, dims, &band) * scale;
    }
    let rows = rows_per_task(row);
    let partial: Vec<f64> = grad
        .par_chunks_mut(rows * row)
        .zip(logits.par_chunks(rows * row))
        .zip(labels.par_chunks(rows))
        .enumerate()
        .map(|(ci, ((g, z), lab))| {
            simd(
                #[inline(always)]
                || {
                    let mut total = 0.0;
                    for (k, ((g, z), &label)) in g.chunks_mut(row).zip(z.chunks(row)).zip(lab).enumerate() {
                        total += if Some(label) == ignore_class {
                            g.fill(0.0);
                            0.0
                        } else {
                            let wi = w.at(ci * rows + k);
                            f64::from(wi) * scce_row::<F>(label as usize, z, g, wi * gs)
                        };
                    }
                    total
                },
            )
        })
        .collect();
    partial.iter().sum::<f64>() * scale
}

/// One contiguous row (`post = 1`) with a valid label: returns `v`, writes
/// `grad = coef·(softmax − onehot)`.
#[inline(always)]
fn scce_row<const F: bool>(label: usize, z: &[f32], g: &mut [f32], coef: f32) -> f64 {
    let m = max_f32(z);
    let s = exp_shifted_sum::<F>(z, m, g);
    let lse = s.ln() as f32;
    let rs = (1.0 / s) as f32;
    let e_label = g.get(label).copied().unwrap_or(f32::NAN);
    let z_label = z.get(label).copied().unwrap_or(f32::NAN);
    for g in g.iter_mut() {
        *g = (*g * rs) * coef;
    }
    if let Some(g) = g.get_mut(label) {
        *g = (e_label * rs - 1.0) * coef;
    }
    -f64::from((z_label - m) - lse)
}

/// As [`cce_band`] for the sparse CE (`labels`: the row's `post` labels).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn scce_band<const F: bool>(
    labels: &[i64],
    z: &[f32],
    lines: &mut [&mut [f32]],
    post: usize,
    l_start: usize,
    ignore_class: Option<i64>,
    w: &Weights<'_>,
    i: usize,
    gs: f32,
) -> f64 {
    let width = lines.first().map_or(0, |l| l.len());
    let mut total = 0.0;
    let mut l0 = 0;
    while l0 < width {
        let lt = LT.min(width - l0);
        let (rel, abs) = (l0..l0 + lt, l_start + l0..l_start + l0 + lt);
        let mut wv = [0f32; LT];
        let wv = &mut wv[..lt];
        w.fill(i * post + l_start + l0, wv);
        // 1 where the label is used, 0 where ignored (then the column's gradient is exactly 0).
        let mut keep = [0f32; LT];
        let mut lab = [0usize; LT];
        for (l, &label) in labels[abs.clone()].iter().enumerate() {
            let ignored = Some(label) == ignore_class;
            keep[l] = sel(ignored, 0.0, 1.0);
            lab[l] = if ignored { 0 } else { label as usize };
        }
        let mut mx = [f32::NEG_INFINITY; LT];
        let mx = &mut mx[..lt];
        for zl in z.chunks(post) {
            for (m, &z) in mx.iter_mut().zip(&zl[abs.clone()]) {
                *m = sel(z > *m, z, *m);
            }
        }
        let mut s = [0f64; LT];
        for (zl, gl) in z.chunks(post).zip(lines.iter_mut()) {
            for (((g, &z), &m), s) in gl[rel.clone()].iter_mut().zip(&zl[abs.clone()]).zip(mx.iter()).zip(s.iter_mut())
            {
                let e = exp_f32::<F>(z - m);
                *g = e;
                *s += f64::from(e);
            }
        }
        let mut rs = [0f32; LT];
        let mut coef = [0f32; LT];
        let mut e_label = [0f32; LT];
        for l in 0..lt {
            let lse = s[l].ln() as f32;
            rs[l] = (1.0 / s[l]) as f32;
            coef[l] = wv[l] * gs;
            e_label[l] = lines.get(lab[l]).and_then(|g| g.get(l0 + l)).copied().unwrap_or(f32::NAN);
            if keep[l] != 0.0 {
                let z_label = z.get(lab[l] * post + l_start + l0 + l).copied().unwrap_or(f32::NAN);
                total -= f64::from(wv[l]) * f64::from((z_label - mx[l]) - lse);
            }
        }
        for gl in lines.iter_mut() {
            for (l, g) in gl[rel.clone()].iter_mut().enumerate().take(lt) {
                *g = sel(keep[l] != 0.0, (*g * rs[l]) * coef[l], 0.0);
            }
        }
        for l in 0..lt {
            if keep[l] != 0.0
                && let Some(g) = lines.get_mut(lab[l]).and_then(|g| g.get_mut(l0 + l))
            {
                *g = (e_label[l] * rs[l] - 1.0) * coef[l];
            }
        }
        l0 += lt;
    }
    total
}

/// `Σ mask` in f64 (for the mask rescale `numel / Σmask`).
pub(crate) fn mask_sum(mask: &[f32]) -> f64 {
    let partial: Vec<f64> = mask
        .par_chunks(CHUNK)
        .map(|m| {
            simd(
                #[inline(always)]
                || sum_f64(m),
            )
        })
        .collect();
    partial.iter().sum()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic test data without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
            let u = (self.next() >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * u
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn chance(&mut self, p: f32) -> bool {
            self.uniform(0.0, 1.0) < p
        }
    }

    // ----- vectorised math against std -------------------------------------------------------

    /// `|a − b| ≤ tol·|b|`, or within two denormal steps where `b` is denormal; specials equal.
    fn close_f32(a: f32, b: f32, tol: f64) -> bool {
        if b.is_nan() {
            return a.is_nan();
        }
        if b.is_infinite() || b == 0.0 {
            return a == b || (b == 0.0 && a.abs() <= 2.0 * f32::from_bits(1));
        }
        let err = (f64::from(a) - f64::from(b)).abs();
        if b.abs() < f32::MIN_POSITIVE {
            return err <= 2.0 * f64::from(f32::from_bits(1));
        }
        err <= tol * f64::from(b).abs()
    }

    #[test]
    fn exp_matches_std() {
        check_exp::<false>();
        check_exp::<true>();
    }

    fn check_exp<const F: bool>() {
        let mut worst = 0.0f64;
        let mut x = -110.0f32;
        while x < 90.0 {
            let (a, b) = (exp_f32::<F>(x), x.exp());
            assert!(close_f32(a, b, 2e-7), "exp({x}) = {a}, std {b} (fma: {F})");
            if b.is_normal() {
                worst = worst.max((f64::from(a) - f64::from(b)).abs() / f64::from(b));
            }
            x += 1.3e-4;
        }
        for x in [0.0, -0.0, 1e-30, -1e-30, 88.72, 88.73, -87.3, -103.9, -104.0, 1e4, -1e4, f32::MAX, f32::MIN] {
            let (a, b) = (exp_f32::<F>(x), x.exp());
            assert!(close_f32(a, b, 2e-7), "exp({x}) = {a}, std {b} (fma: {F})");
        }
        assert_eq!(exp_f32::<F>(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32::<F>(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32::<F>(f32::NAN).is_nan());
        eprintln!("exp (fma: {F}): worst relative error {worst:.3e}");
    }

    #[test]
    fn ln_matches_std() {
        check_ln::<false>();
        check_ln::<true>();
    }

    fn check_ln<const F: bool>() {
        let mut worst = 0.0f64;
        // Every exponent, denormals included: a stride through the positive bit patterns.
        let mut bits = 1u32;
        while bits < 0x7f80_0000 {
            let x = f32::from_bits(bits);
            let (a, b) = (ln_f32::<F>(x), x.ln());
            assert!(close_f32(a, b, 2e-7), "ln({x}) = {a}, std {b} (fma: {F})");
            if b != 0.0 {
                worst = worst.max((f64::from(a) - f64::from(b)).abs() / f64::from(b).abs());
            }
            bits += 997;
        }
        // Near 1, where ln is small, the error is absolute: compare with the f64 value.
        let mut x = 0.5f32;
        while x < 2.0 {
            let err = (f64::from(ln_f32::<F>(x)) - f64::from(x).ln()).abs();
            assert!(err <= 1.2e-7 * f64::from(x).ln().abs().max(f64::from(f32::EPSILON) / 2.0), "ln({x})");
            x += 1.1e-5;
        }
        assert_eq!(ln_f32::<F>(0.0), f32::NEG_INFINITY);
        assert_eq!(ln_f32::<F>(f32::INFINITY), f32::INFINITY);
        assert!(ln_f32::<F>(-1.0).is_nan() && ln_f32::<F>(f32::NAN).is_nan());
        assert!(ln_f32::<F>(f32::NEG_INFINITY).is_nan());
        assert_eq!(ln_f32::<F>(1.0), 0.0);
        eprintln!("ln (fma: {F}): worst relative error {worst:.3e}");
        // The softplus pieces: log1p(e) and 1/(1 + e) for e = exp(−|y|) in (0, 1], within 3 ulp.
        let (mut worst_l1, mut worst_ru) = (0.0f64, 0.0f64);
        let mut y = -110.0f32;
        while y < 110.0 {
            let (e, ru, l1) = softplus_parts::<F>(y);
            let exact = (-f64::from(y).abs()).exp();
            assert!(close_f32(e, exact as f32, 2e-7), "exp(-|{y}|) = {e}, f64 {exact}");
            let reference = exact.ln_1p();
            assert!(close_f32(l1, reference as f32, 3.6e-7), "log1p(exp(-|{y}|)) = {l1}, f64 {reference}");
            assert!(close_f32(ru, (1.0 / (1.0 + exact)) as f32, 3.6e-7), "1/(1 + exp(-|{y}|)) = {ru}");
            if reference > f64::from(f32::MIN_POSITIVE) {
                worst_l1 = worst_l1.max((f64::from(l1) - reference).abs() / reference);
            }
            worst_ru = worst_ru.max((f64::from(ru) * (1.0 + exact) - 1.0).abs());
            y += 1.7e-3;
        }
        eprintln!("softplus (fma: {F}): worst relative error log1p {worst_l1:.3e}, 1/(1+e) {worst_ru:.3e}");
    }

    // ----- scalar f64 references (burn autodiff conventions) ---------------------------------

    fn sign64(x: f64) -> f64 {
        if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        }
    }

    fn sigmoid64(x: f64) -> f64 {
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            let e = x.exp();
            e / (1.0 + e)
        }
    }

    fn softplus64(y: f64) -> f64 {
        y.max(0.0) + (-y.abs()).exp().ln_1p()
    }

    /// `(f(t, p), ∂f/∂p)` in f64 from the composed formulas. Branch decisions are taken in f32
    /// exactly as the composed code takes them; `round` also rounds the arguments that the
    /// composed code forms in f32 before a logarithm (`p + 1`, `p + ε`), as it does.
    fn ref_point(kind: Elementwise, t: f32, p: f64, round: bool) -> (f64, f64) {
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

    /// An owned weight configuration.
    struct WeightCase {
        name: &'static str,
        sample: Option<(Vec<f32>, usize)>,
        mask: Option<(Vec<f32>, usize)>,
        rescale: Option<f32>,
    }

    impl WeightCase {
        fn weights(&self) -> Weights<'_> {
            Weights {
                sample: self.sample.as_ref().map(|(data, repeat)| Factor { data, repeat: *repeat }),
                mask: self.mask.as_ref().map(|(data, repeat)| Factor { data, repeat: *repeat }),
                mask_rescale: self.rescale,
            }
        }
    }

    fn weight_cases(dims: Dims, rng: &mut Rng) -> Vec<WeightCase> {
        let reduced = dims.reduced();
        let per_leading: Vec<f32> = (0..dims.pre).map(|_| rng.uniform(0.0, 2.0)).collect();
        let full: Vec<f32> = (0..reduced).map(|_| rng.uniform(-0.5, 2.0)).collect();
        let mask: Vec<f32> = (0..reduced).map(|_| if rng.chance(0.3) { 0.0 } else { 1.0 }).collect();
        let mask_leading: Vec<f32> = (0..dims.pre).map(|i| if i % 3 == 1 { 0.0 } else { 1.0 }).collect();
        let post = dims.post.max(1);
        vec![
            WeightCase { name: "none", sample: None, mask: None, rescale: None },
            WeightCase {
                name: "sample per leading",
                sample: Some((per_leading.clone(), post)),
                mask: None,
                rescale: None,
            },
            WeightCase { name: "scalar sample", sample: Some((vec![0.7], usize::MAX)), mask: None, rescale: None },
            WeightCase { name: "raw mask", sample: None, mask: Some((mask.clone(), 1)), rescale: None },
            WeightCase {
                name: "sample + rescaled mask",
                sample: Some((per_leading, post)),
                mask: Some((mask, 1)),
                rescale: Some(1.6),
            },
            WeightCase {
                name: "full sample + mask per leading",
                sample: Some((full, 1)),
                mask: Some((mask_leading, post)),
                rescale: None,
            },
        ]
    }

    fn ref_weight(w: &Weights<'_>, r: usize) -> f64 {
        let at = |f: &Factor<'_>| f64::from(f.data[r / f.repeat]);
        let s = w.sample.as_ref().map_or(1.0, at);
        let m = match (&w.mask, w.mask_rescale) {
            (None, _) => 1.0,
            (Some(f), None) => at(f),
            (Some(f), Some(rescale)) => {
                if at(f) != 0.0 {
                    f64::from(rescale)
                } else {
                    0.0
                }
            }
        };
        s * m
    }

    /// Calls `f(i, j, l, e, r)` for every element.
    fn for_each_element(dims: Dims, mut f: impl FnMut(usize, usize, usize, usize, usize)) {
        for i in 0..dims.pre {
            for j in 0..dims.c {
                for l in 0..dims.post {
                    f(i, j, l, (i * dims.c + j) * dims.post + l, i * dims.post + l);
                }
            }
        }
    }

    fn ref_elementwise(
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

    /// Value within `1e-5` of the reference (relative to `Σ|w·v|`), gradient within `1e-5`
    /// relative plus `1e-6` of the largest reference gradient.
    fn assert_matches(what: &str, value: f64, grad: &[f32], ref_value: f64, magnitude: f64, ref_grad: &[f64]) {
        assert!(
            (value - ref_value).abs() <= 1e-5 * magnitude.max(ref_value.abs()) + 1e-30,
            "{what}: value {value} vs reference {ref_value} (Σ|w·v| = {magnitude})"
        );
        assert_eq!(grad.len(), ref_grad.len());
        let gmax = ref_grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for (e, (&g, &r)) in grad.iter().zip(ref_grad).enumerate() {
            assert!(
                (f64::from(g) - r).abs() <= 1e-5 * r.abs() + 1e-6 * gmax,
                "{what}: grad[{e}] = {g} vs reference {r} (max |grad| {gmax})"
            );
        }
    }

    const ODD_DIMS: [(usize, usize, usize); 12] = [
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

    fn elementwise_kinds() -> Vec<Elementwise> {
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
    fn inputs(kind: Elementwise, n: usize, rng: &mut Rng, extreme: bool) -> (Vec<f32>, Vec<f32>) {
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
                    let (rv, mag, rg) = ref_elementwise(kind, &t, &p, dims, &w, scale);
                    let what = format!("{kind:?} {dims:?} {}", case.name);
                    assert!(value.is_finite() && grad.iter().all(|g| g.is_finite()), "{what}: not finite");
                    assert_matches(&what, value, &grad, rv, mag, &rg);
                }
            }
        }
    }

    /// The references' gradients are the derivatives of their values (away from kinks).
    #[test]
    fn references_match_finite_differences() {
        let mut rng = Rng(7);
        for kind in elementwise_kinds() {
            let (t, p) = inputs(kind, 400, &mut rng, false);
            for (&t, &p) in t.iter().zip(&p) {
                let p = f64::from(p) + f64::from(rng.uniform(0.01, 0.02)); // off the grid of kinks
                let h = 1e-6 * p.abs().max(1.0);
                let (_, d) = ref_point(kind, t, p, false);
                let (up, _) = ref_point(kind, t, p + h, false);
                let (down, _) = ref_point(kind, t, p - h, false);
                let fd = (up - down) / (2.0 * h);
                assert!((fd - d).abs() <= 1e-5 * (1.0 + d.abs()), "{kind:?} t={t} p={p}: d = {d}, fd = {fd}");
            }
        }
        // Softmax references.
        let dims = Dims { pre: 2, c: 5, post: 3 };
        let z: Vec<f32> = (0..dims.len()).map(|_| rng.uniform(-4.0, 4.0)).collect();
        let t: Vec<f32> = (0..dims.len()).map(|_| rng.uniform(0.0, 1.0)).collect();
        let labels: Vec<i64> = (0..dims.reduced()).map(|_| rng.below(5) as i64).collect();
        let w = Weights::default();
        let (_, _, g) = ref_cce(&t, &z, dims, 0.1, &w, 1.0);
        let (_, _, gs) = ref_scce(&labels, &z, dims, None, &w, 1.0);
        for e in 0..dims.len() {
            let h = 1e-3f32;
            let (mut up, mut down) = (z.clone(), z.clone());
            up[e] += h;
            down[e] -= h;
            let h = f64::from(up[e]) - f64::from(down[e]);
            let fd = (ref_cce(&t, &up, dims, 0.1, &w, 1.0).0 - ref_cce(&t, &down, dims, 0.1, &w, 1.0).0) / h;
            assert!((fd - g[e]).abs() <= 1e-5, "cce grad[{e}] {} vs fd {fd}", g[e]);
            let fd =
                (ref_scce(&labels, &up, dims, None, &w, 1.0).0 - ref_scce(&labels, &down, dims, None, &w, 1.0).0) / h;
            assert!((fd - gs[e]).abs() <= 1e-5, "scce grad[{e}] {} vs fd {fd}", gs[e]);
        }
    }

    /// The logits of position `r = (i, l)` and their flat indices.
    fn column(dims: Dims, r: usize) -> impl Iterator<Item = usize> {
        let (i, l) = (r / dims.post, r % dims.post);
        (0..dims.c).map(move |j| (i * dims.c + j) * dims.post + l)
    }

    fn ref_cce(t: &[f32], z: &[f32], dims: Dims, ls: f32, w: &Weights<'_>, scale: f64) -> (f64, f64, Vec<f64>) {
        let mut grad = vec![0.0; dims.len()];
        let (mut total, mut magnitude) = (0.0, 0.0);
        let s = f64::from(ls);
        for r in 0..dims.reduced() {
            let idx: Vec<usize> = column(dims, r).collect();
            let m = idx.iter().map(|&e| f64::from(z[e])).fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = idx.iter().map(|&e| (f64::from(z[e]) - m).exp()).sum();
            let lse = m + sum.ln();
            let tp: Vec<f64> = idx.iter().map(|&e| f64::from(t[e]) * (1.0 - s) + s / dims.c as f64).collect();
            let st: f64 = tp.iter().sum();
            let v: f64 = -idx.iter().zip(&tp).map(|(&e, tp)| tp * (f64::from(z[e]) - lse)).sum::<f64>();
            let wr = ref_weight(w, r);
            total += wr * v;
            magnitude += (wr * v).abs();
            for (&e, tp) in idx.iter().zip(&tp) {
                grad[e] = scale * wr * ((f64::from(z[e]) - lse).exp() * st - tp);
            }
        }
        (total * scale, magnitude * scale.abs(), grad)
    }

    fn ref_scce(
        labels: &[i64],
        z: &[f32],
        dims: Dims,
        ignore: Option<i64>,
        w: &Weights<'_>,
        scale: f64,
    ) -> (f64, f64, Vec<f64>) {
        let mut grad = vec![0.0; dims.len()];
        let (mut total, mut magnitude) = (0.0, 0.0);
        for (r, &label) in labels.iter().enumerate() {
            if Some(label) == ignore {
                continue;
            }
            let idx: Vec<usize> = column(dims, r).collect();
            let m = idx.iter().map(|&e| f64::from(z[e])).fold(f64::NEG_INFINITY, f64::max);
            let lse = m + idx.iter().map(|&e| (f64::from(z[e]) - m).exp()).sum::<f64>().ln();
            let label = label as usize;
            let v = -(f64::from(z[idx[label]]) - lse);
            let wr = ref_weight(w, r);
            total += wr * v;
            magnitude += (wr * v).abs();
            for (j, &e) in idx.iter().enumerate() {
                let hot = if j == label { 1.0 } else { 0.0 };
                grad[e] = scale * wr * ((f64::from(z[e]) - lse).exp() - hot);
            }
        }
        (total * scale, magnitude * scale.abs(), grad)
    }

    const SOFTMAX_DIMS: [(usize, usize, usize); 13] = [
        (3, 5, 7),
        (4, 6, 1),
        (5, 1, 3),
        (0, 3, 4),
        (2, 3, 0),
        (1, 1, 1),
        (2, 37, 1),
        (3, 4, 70), // post > LT with a remainder tile
        (2, 1000, 1),
        (2, 20000, 1), // a row longer than CHUNK
        (3, 3, 9000),  // a row longer than CHUNK, post > 1: bands
        (40, 7, 2),    // many rows: a row per band
        (9, 5, 300),   // many rows, post > LT
    ];

    fn logits(n: usize, rng: &mut Rng, extreme: bool) -> Vec<f32> {
        (0..n)
            .map(|_| match rng.below(12) {
                0 if extreme => [1e4, -1e4][rng.below(2)],
                1 => 0.0,
                _ => rng.uniform(-6.0, 6.0),
            })
            .collect()
    }

    #[test]
    fn softmax_crossentropy_matches_reference() {
        let mut rng = Rng(11);
        for &(pre, c, post) in &SOFTMAX_DIMS {
            let dims = Dims { pre, c, post };
            for (ls, soft, extreme) in [(0.0, false, false), (0.1, true, false), (0.0, true, true), (0.2, false, true)]
            {
                let z = logits(dims.len(), &mut rng, extreme);
                let mut t = vec![0.0f32; dims.len()];
                for r in 0..dims.reduced() {
                    let hot = rng.below(c);
                    for (j, e) in column(dims, r).enumerate() {
                        t[e] = if soft {
                            rng.uniform(0.0, 0.5)
                        } else if j == hot {
                            1.0
                        } else {
                            0.0
                        };
                    }
                }
                for case in weight_cases(dims, &mut rng) {
                    let w = case.weights();
                    let mut grad = vec![f32::NAN; dims.len()];
                    let value = softmax_crossentropy(&t, &z, dims, ls, w, 0.6, &mut grad);
                    let (rv, mag, rg) = ref_cce(&t, &z, dims, ls, &w, 0.6);
                    let what = format!("cce {dims:?} ls={ls} soft={soft} extreme={extreme} {}", case.name);
                    assert!(value.is_finite() && grad.iter().all(|g| g.is_finite()), "{what}: not finite");
                    assert_matches(&what, value, &grad, rv, mag, &rg);
                }
            }
        }
    }

    #[test]
    fn sparse_softmax_crossentropy_matches_reference() {
        let mut rng = Rng(13);
        for &(pre, c, post) in &SOFTMAX_DIMS {
            let dims = Dims { pre, c, post };
            for (ignore, extreme) in [(None, false), (Some(-1), true), (Some(1), false), (Some(c as i64 + 3), true)] {
                let z = logits(dims.len(), &mut rng, extreme);
                let labels: Vec<i64> = (0..dims.reduced())
                    .map(|_| match ignore {
                        Some(k) if rng.chance(0.2) => k,
                        _ => rng.below(c) as i64,
                    })
                    .collect();
                for case in weight_cases(dims, &mut rng) {
                    let w = case.weights();
                    let mut grad = vec![f32::NAN; dims.len()];
                    let value = sparse_softmax_crossentropy(&labels, &z, dims, ignore, w, 1.3, &mut grad).unwrap();
                    let (rv, mag, rg) = ref_scce(&labels, &z, dims, ignore, &w, 1.3);
                    let what = format!("scce {dims:?} ignore={ignore:?} extreme={extreme} {}", case.name);
                    assert!(value.is_finite() && grad.iter().all(|g| g.is_finite()), "{what}: not finite");
                    assert_matches(&what, value, &grad, rv, mag, &rg);
                    // Ignored positions: exactly zero gradient.
                    for r in (0..dims.reduced()).filter(|&r| Some(labels[r]) == ignore) {
                        assert!(column(dims, r).all(|e| grad[e] == 0.0), "{what}: ignored position {r}");
                    }
                }
            }
        }
    }

    #[test]
    fn sparse_labels_out_of_range_are_errors() {
        let dims = Dims { pre: 2, c: 3, post: 4 };
        let z = vec![0.5f32; dims.len()];
        let mut grad = vec![0.0; dims.len()];
        let w = Weights::default();
        let mut labels = vec![0i64, 1, 2, 0, 1, 2, 0, 1];
        assert!(sparse_softmax_crossentropy(&labels, &z, dims, None, w, 1.0, &mut grad).is_ok());
        labels[5] = 3;
        labels[6] = -1;
        let err = sparse_softmax_crossentropy(&labels, &z, dims, None, w, 1.0, &mut grad);
        assert_eq!(err, Err(SparseLabelError { position: 5, label: 3 }));
        // −1 ignored: the first error is still the 3 at position 5; with 3 ignored it is the −1.
        let err = sparse_softmax_crossentropy(&labels, &z, dims, Some(-1), w, 1.0, &mut grad);
        assert_eq!(err, Err(SparseLabelError { position: 5, label: 3 }));
        let err = sparse_softmax_crossentropy(&labels, &z, dims, Some(3), w, 1.0, &mut grad);
        assert_eq!(err, Err(SparseLabelError { position: 6, label: -1 }));
        labels[6] = 3;
        assert!(sparse_softmax_crossentropy(&labels, &z, dims, Some(3), w, 1.0, &mut grad).is_ok());
        // Without any logits (pre·post = 0 but labels given as none) there is nothing to check.
        let empty = Dims { pre: 0, c: 3, post: 4 };
        assert_eq!(sparse_softmax_crossentropy(&[], &[], empty, None, w, 1.0, &mut []), Ok(0.0));
    }

    #[test]
    fn mask_sum_is_exact_enough() {
        let mut rng = Rng(3);
        for n in [0usize, 1, 7, 16, 1000, CHUNK + 3, 5 * CHUNK] {
            let m: Vec<f32> = (0..n).map(|_| rng.uniform(0.0, 1.0)).collect();
            let reference: f64 = m.iter().map(|&v| f64::from(v)).sum();
            assert!((mask_sum(&m) - reference).abs() <= 1e-12 * reference.max(1.0), "n = {n}");
        }
    }

    /// The results do not depend on the number of threads (fixed chunking, ordered sums).
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let mut rng = Rng(5);
        let dims = Dims { pre: 8, c: 3000, post: 3 };
        let (t, p) = inputs(Elementwise::LogCosh, dims.len(), &mut rng, false);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut g1 = vec![0.0; dims.len()];
                let mut g2 = vec![0.0; dims.len()];
                let v1 = elementwise(Elementwise::LogCosh, &t, &p, dims, Weights::default(), 1.0, &mut g1);
                let v2 = softmax_crossentropy(&t, &p, dims, 0.0, Weights::default(), 1.0, &mut g2);
                (v1.to_bits(), v2.to_bits(), g1, g2)
            })
        };
        assert_eq!(run(1), run(3));
    }

    /// The paths with and without fused multiply-adds agree (the tests above run the one this CPU
    /// takes).
    #[test]
    fn fma_and_plain_paths_agree() {
        let mut rng = Rng(23);
        let wide = |g: &[f32]| g.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        for &(pre, c, post) in &[(3, 5, 7), (4, 300, 1), (2, 3, 9000)] {
            let dims = Dims { pre, c, post };
            let (mut g1, mut g2) = (vec![0.0; dims.len()], vec![0.0; dims.len()]);
            let cases = weight_cases(dims, &mut rng);
            let w = cases[4].weights();
            for kind in elementwise_kinds() {
                let (t, p) = inputs(kind, dims.len(), &mut rng, true);
                let v1 = elementwise_with::<false>(kind, &t, &p, dims, w, 0.5, &mut g1);
                let v2 = elementwise_with::<true>(kind, &t, &p, dims, w, 0.5, &mut g2);
                let (_, magnitude, _) = ref_elementwise(kind, &t, &p, dims, &w, 0.5);
                assert_matches(&format!("{kind:?} {dims:?}"), v1, &g1, v2, magnitude, &wide(&g2));
            }
            let z = logits(dims.len(), &mut rng, true);
            let t: Vec<f32> = (0..dims.len()).map(|_| rng.uniform(0.0, 1.0)).collect();
            let v1 = softmax_crossentropy_with::<false>(&t, &z, dims, 0.1, w, 0.5, &mut g1);
            let v2 = softmax_crossentropy_with::<true>(&t, &z, dims, 0.1, w, 0.5, &mut g2);
            let (_, magnitude, _) = ref_cce(&t, &z, dims, 0.1, &w, 0.5);
            assert_matches(&format!("cce {dims:?}"), v1, &g1, v2, magnitude, &wide(&g2));
            let labels: Vec<i64> = (0..dims.reduced()).map(|_| rng.below(c) as i64).collect();
            let v1 = sparse_softmax_crossentropy_with::<false>(&labels, &z, dims, Some(0), w, 0.5, &mut g1);
            let v2 = sparse_softmax_crossentropy_with::<true>(&labels, &z, dims, Some(0), w, 0.5, &mut g2);
            let (_, magnitude, _) = ref_scce(&labels, &z, dims, Some(0), &w, 0.5);
            assert_matches(&format!("scce {dims:?}"), v1, &g1, v2, magnitude, &wide(&g2));
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

    // ----- timing --------------------------------------------------------------------------------

    /// Minimum and median wall time of 7 runs (after a warm-up), in ms.
    fn time_ms(mut f: impl FnMut()) -> (f64, f64) {
        f();
        let mut times: Vec<f64> = (0..7)
            .map(|_| {
                let start = std::time::Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        (times[0], times[times.len() / 2])
    }

    /// Times `f` on one thread and on the current pool; prints ms and GB/s (`bytes` moved).
    fn report(name: &str, bytes: usize, mut f: impl FnMut() + Send) {
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let (min1, _) = one.install(|| time_ms(&mut f));
        let (min, median) = time_ms(&mut f);
        let gbs = |ms: f64| bytes as f64 / (ms * 1e-3) / 1e9;
        eprintln!(
            "{name:<46} {:>2} threads: min {min:7.2} ms (median {median:7.2}) {:5.1} GB/s | 1 thread: {min1:7.2} ms {:5.1} GB/s | {:.0} MB",
            rayon::current_num_threads(),
            gbs(min),
            gbs(min1),
            bytes as f64 / 1e6
        );
    }

    /// `cargo test --release -p objectives --lib fused::kernels::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn timing() {
        let mut rng = Rng(1);
        let mut random = |n: usize, lo: f32, hi: f32| -> Vec<f32> { (0..n).map(|_| rng.uniform(lo, hi)).collect() };
        {
            // The bandwidth reference: a STREAM-like triad a = b + s·c over 3 × 64 MiB (bytes as
            // STREAM counts them: two reads and a write).
            let n = 1 << 24;
            let (b, c) = (random(n, -1.0, 1.0), random(n, -1.0, 1.0));
            let mut a = vec![0f32; n];
            report("triad a = b + s·c (16M f32)", 12 * n, || {
                a.par_chunks_mut(CHUNK).zip(b.par_chunks(CHUNK)).zip(c.par_chunks(CHUNK)).for_each(|((a, b), c)| {
                    simd(
                        #[inline(always)]
                        || {
                            for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
                                *a = b + 0.5 * c;
                            }
                        },
                    )
                });
                std::hint::black_box(&a);
            });
        }
        {
            // W1: MSE (4096, 7, 16, 16) axis 1, sample weight (4096,), mask (4096, 16, 16) rescaled.
            let dims = Dims { pre: 4096, c: 7, post: 256 };
            let (t, p) = (random(dims.len(), -1.0, 1.0), random(dims.len(), -1.0, 1.0));
            let sample = random(4096, 0.0, 1.0);
            let mask: Vec<f32> =
                random(dims.reduced(), 0.0, 1.0).iter().map(|&m| if m < 0.2 { 0.0 } else { 1.0 }).collect();
            let mut grad = vec![0.0; dims.len()];
            let w = Weights {
                sample: Some(Factor { data: &sample, repeat: 256 }),
                mask: Some(Factor { data: &mask, repeat: 1 }),
                mask_rescale: Some(1.25),
            };
            let bytes = 4 * (3 * dims.len() + dims.reduced() + 4096);
            report("W1 MSE (4096,7,16,16) ax=1 + weight + mask", bytes, || {
                std::hint::black_box(elementwise(Elementwise::Mse, &t, &p, dims, w, 1.0, &mut grad));
            });
            report("   mask_sum (4096,16,16)", 4 * dims.reduced(), || {
                std::hint::black_box(mask_sum(&mask));
            });
        }
        {
            // W2: CCE from logits (8192, 1000).
            let dims = Dims { pre: 8192, c: 1000, post: 1 };
            let z = random(dims.len(), -5.0, 5.0);
            let mut t = vec![0.0f32; dims.len()];
            for i in 0..dims.pre {
                t[i * 1000 + (i * 7919) % 1000] = 1.0;
            }
            let mut grad = vec![0.0; dims.len()];
            report("W2 CCE logits (8192,1000)", 4 * 3 * dims.len(), || {
                std::hint::black_box(softmax_crossentropy(&t, &z, dims, 0.0, Weights::default(), 1.0, &mut grad));
            });
        }
        {
            // W3: SCCE from logits (2048, 32000).
            let dims = Dims { pre: 2048, c: 32000, post: 1 };
            let z = random(dims.len(), -5.0, 5.0);
            let labels: Vec<i64> = (0..dims.pre).map(|i| ((i * 7919) % 32000) as i64).collect();
            let mut grad = vec![0.0; dims.len()];
            report("W3 SCCE logits (2048,32000)", 4 * 2 * dims.len() + 8 * dims.pre, || {
                let v = sparse_softmax_crossentropy(&labels, &z, dims, None, Weights::default(), 1.0, &mut grad);
                std::hint::black_box(v.unwrap());
            });
        }
        {
            // W4: BCE from logits (4096, 4096).
            let dims = Dims { pre: 4096, c: 4096, post: 1 };
            let z = random(dims.len(), -5.0, 5.0);
            let t: Vec<f32> = random(dims.len(), 0.0, 1.0).iter().map(|&u| if u < 0.5 { 0.0 } else { 1.0 }).collect();
            let mut grad = vec![0.0; dims.len()];
            let kind = Elementwise::BinaryCrossentropyLogits { label_smoothing: 0.0 };
            report("W4 BCE logits (4096,4096)", 4 * 3 * dims.len(), || {
                std::hint::black_box(elementwise(kind, &t, &z, dims, Weights::default(), 1.0, &mut grad));
            });
            report("   MSE, same shape (memory-bound reference)", 4 * 3 * dims.len(), || {
                std::hint::black_box(elementwise(Elementwise::Mse, &t, &z, dims, Weights::default(), 1.0, &mut grad));
            });
        }
    }
}
