//! The kernels against f64 references of the composed formulas (values and gradients, every
//! weight layout, odd shapes), the vectorised math against std, and the elementwise losses
//! against burn autodiff of the composed implementations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::categorical::Probabilities;
use super::elementwise::{EPS, elementwise_with};
use super::math::{exp_f32, ln_f32, softplus_parts};
use super::pointwise::Run;
use super::softmax::softmax_rows;
use super::sparse::Labels;
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
        WeightCase { name: "sample per leading", sample: Some((per_leading.clone(), post)), mask: None, rescale: None },
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
        let fd = (ref_scce(&labels, &up, dims, None, &w, 1.0).0 - ref_scce(&labels, &down, dims, None, &w, 1.0).0) / h;
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
        for (ls, soft, extreme) in [(0.0, false, false), (0.1, true, false), (0.0, true, true), (0.2, false, true)] {
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
            let v1 =
                elementwise_with(kind, Run::<false> { y_true: &t, y_pred: &p, dims, w, scale: 0.5, grad: &mut g1 });
            let v2 = elementwise_with(kind, Run::<true> { y_true: &t, y_pred: &p, dims, w, scale: 0.5, grad: &mut g2 });
            let (_, magnitude, _) = ref_elementwise(kind, &t, &p, dims, &w, 0.5);
            assert_matches(&format!("{kind:?} {dims:?}"), v1, &g1, v2, magnitude, &wide(&g2));
        }
        let z = logits(dims.len(), &mut rng, true);
        let t: Vec<f32> = (0..dims.len()).map(|_| rng.uniform(0.0, 1.0)).collect();
        let v1 = softmax_rows::<_, false>(&Probabilities::new(0.1, dims.c), &t, &z, dims, w, 0.5, &mut g1);
        let v2 = softmax_rows::<_, true>(&Probabilities::new(0.1, dims.c), &t, &z, dims, w, 0.5, &mut g2);
        let (_, magnitude, _) = ref_cce(&t, &z, dims, 0.1, &w, 0.5);
        assert_matches(&format!("cce {dims:?}"), v1, &g1, v2, magnitude, &wide(&g2));
        let labels: Vec<i64> = (0..dims.reduced()).map(|_| rng.below(c) as i64).collect();
        let v1 = softmax_rows::<_, false>(&Labels { ignore_class: Some(0) }, &labels, &z, dims, w, 0.5, &mut g1);
        let v2 = softmax_rows::<_, true>(&Labels { ignore_class: Some(0) }, &labels, &z, dims, w, 0.5, &mut g2);
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
