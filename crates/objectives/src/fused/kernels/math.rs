//! The kernels' arithmetic: run-time SIMD dispatch ([`simd`], [`fma`]), branch-free,
//! auto-vectorisable f32 math (`exp`, `ln`, the softplus pieces: Cephes-style range reduction +
//! polynomial), the lane reductions (`Σ` in f64, `max`), and the label smoothing coefficients.

/// Lanes of the explicit reductions: four AVX-512 registers of f64 (independent add chains).
const LANES: usize = 32;
/// f32 lanes of the softmax blocks' sums (two AVX2 registers; a block's sums are then added in
/// f64).
pub(super) const SL: usize = 16;

/// `if c { a } else { b }`, compiled to a select (no branch) inside vectorised loops.
#[inline(always)]
pub(super) fn sel(c: bool, a: f32, b: f32) -> f32 {
    if c { a } else { b }
}

/// Runs `f` compiled for the widest instruction set this CPU has, through pulp's runtime dispatch
/// (safe code): AVX2 + FMA, or AVX-512 when pulp's `x86-v4` feature is on; the baseline (SSE2 on
/// x86-64) otherwise. What `f` calls in its hot loops must be `#[inline(always)]` to be compiled
/// that way too.
#[inline(always)]
pub(super) fn simd<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// Whether the code that [`simd`] runs has hardware fused multiply-adds (x86-64 with AVX2/FMA or
/// AVX-512, aarch64): then the kernels use them ([`madd`]), else separate multiplies and adds
/// (`f32::mul_add` without the hardware instruction is a slow library call).
pub(super) fn fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return !matches!(pulp::Arch::new(), pulp::Arch::Scalar);
    #[cfg(target_arch = "aarch64")]
    return true;
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return false;
}

/// burn's `sign`: −1, 0 or 1 (0 for 0 and NaN).
#[inline(always)]
pub(super) fn sign(x: f32) -> f32 {
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
pub(super) fn madd<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F { a.mul_add(b, c) } else { a * b + c }
}

/// `exp(x)` for every f32, within ~1 ulp of the correctly rounded result (denormal results
/// included; ±inf and NaN as in std).
#[inline(always)]
pub(super) fn exp_f32<const F: bool>(x: f32) -> f32 {
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

/// `exp(x)` for `x ≤ 0` (and NaN), e.g. the softmax's `exp(z − max)` and softplus's `exp(−|y|)`,
/// with a short dependency chain, so that many elements are in flight: `exp(r)` on
/// `|r| ≤ ln2/2` is `1 + r + r²·q(r)` with `q` a degree-4 near-minimax fit of the error relative
/// to `eʳ` (3.1e-9) evaluated by Estrin's scheme, and `2ⁿ` is added to the exponent bits.
/// Results below the smallest normal f32 (`x < −87.34`, `exp(x) < 1.2·10⁻³⁸`) are flushed to 0,
/// as XLA's CPU code does; elsewhere within ~1 ulp, as [`exp_f32`]. A positive `x` gives garbage
/// (the callers never pass one).
#[inline(always)]
pub(super) fn exp_nonpos<const F: bool>(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    let tiny = x < -87.336_55;
    let x = sel(x < -88.0, -88.0, x); // keeps NaN (comparisons are false)
    let t = madd::<F>(x, std::f32::consts::LOG2_E, MAGIC);
    let n = (t.to_bits() as i32).wrapping_sub(0x4B40_0000);
    let nf = t - MAGIC;
    let r = madd::<F>(-nf, 0.693_359_4, x);
    let r = madd::<F>(-nf, -2.121_944_4e-4, r);
    let z = r * r;
    let q01 = madd::<F>(0.166_665_21, r, 0.499_999_94);
    let q23 = madd::<F>(0.008_368_71, r, 0.041_668_39);
    let q = madd::<F>(z, madd::<F>(z, 0.001_381_461_3, q23), q01);
    let y = madd::<F>(q, z, r + 1.0);
    // y·2ⁿ by adding n to the exponent (y in [0.7, 1.5], n ≥ −127 here: normal unless `tiny`).
    let scaled = f32::from_bits((y.to_bits() as i32).wrapping_add(n.wrapping_shl(23)) as u32);
    sel(tiny, 0.0, scaled)
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
pub(super) fn ln_f32<const F: bool>(x: f32) -> f32 {
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
pub(super) fn softplus_parts<const F: bool>(y: f32) -> (f32, f32, f32) {
    let e = exp_nonpos::<F>(-y.abs());
    let u = 1.0 + e;
    let v = 2.0 + e;
    let d = 1.0 / (u * v);
    let ru = v * d;
    let s = e * u * d;
    let w = s * s;
    // Estrin's scheme (a shorter dependency chain than Horner's).
    let p = madd::<F>(w * w, madd::<F>(0.134_257_5, w, 0.141_183_1), madd::<F>(0.200_037_8, w, 0.333_333_2));
    let l1 = madd::<F>(s + s, w * p, s + s);
    (e, ru, l1)
}

/// `softplus′(y) = σ(y)` (½ at `y = 0`, as in Keras/JAX; the composed `crate::tensor::math::softplus` is
/// written so that burn's autodiff gives the same).
#[inline(always)]
pub(super) fn softplus_grad(y: f32, e: f32, ru: f32) -> f32 {
    let er = e * ru;
    sel(y <= 0.0, er, 1.0 - er)
}

/// `Σ x` with f64 lanes.
#[inline(always)]
pub(super) fn sum_f64(x: &[f32]) -> f64 {
    let (chunks, rest) = x.as_chunks::<LANES>();
    let mut acc = [0f64; LANES];
    for ch in chunks {
        for k in 0..LANES {
            acc[k] += f64::from(ch[k]);
        }
    }
    acc.iter().sum::<f64>() + rest.iter().map(|&v| f64::from(v)).sum::<f64>()
}

/// `Σ x`: f32 lanes, then f64 (for blocks: each lane adds at most `len / SL` values).
#[inline(always)]
pub(super) fn sum_lanes(x: &[f32]) -> f64 {
    let (chunks, rest) = x.as_chunks::<SL>();
    let mut acc = [0f32; SL];
    for ch in chunks {
        for k in 0..SL {
            acc[k] += ch[k];
        }
    }
    acc.iter().chain(rest).map(|&a| f64::from(a)).sum::<f64>()
}

/// `max x` (NaN entries ignored; −inf when empty): 32 lanes (four AVX2 registers, independent
/// `max` chains), halved to 8 lane by lane, then the 8 lanes and the rest.
#[inline(always)]
pub(super) fn max_f32(x: &[f32]) -> f32 {
    #[inline(always)]
    fn max_into<const N: usize>(acc: &mut [f32; N], x: &[f32; N]) {
        for k in 0..N {
            acc[k] = sel(x[k] > acc[k], x[k], acc[k]);
        }
    }
    let (chunks, rest) = x.as_chunks::<32>();
    let mut acc = [f32::NEG_INFINITY; 32];
    for ch in chunks {
        max_into(&mut acc, ch);
    }
    let (lo, hi) = acc.split_at(16);
    let mut a16: [f32; 16] = lo.try_into().unwrap_or([f32::NEG_INFINITY; 16]);
    max_into(&mut a16, hi.try_into().unwrap_or(&[f32::NEG_INFINITY; 16]));
    let (lo, hi) = a16.split_at(8);
    let mut a8: [f32; 8] = lo.try_into().unwrap_or([f32::NEG_INFINITY; 8]);
    max_into(&mut a8, hi.try_into().unwrap_or(&[f32::NEG_INFINITY; 8]));
    a8.iter().chain(rest).fold(f32::NEG_INFINITY, |m, &v| sel(v > m, v, m))
}

/// Smoothing coefficients `(a, b)` of `t' = t·a + b` with the scalars formed in f64 and rounded
/// once, as burn's `mul_scalar(1 − s)` / `add_scalar(s·k)` do.
pub(crate) fn smoothing(label_smoothing: f32, share: f64) -> (f32, f32) {
    let s = f64::from(label_smoothing);
    ((1.0 - s) as f32, (s * share) as f32)
}
