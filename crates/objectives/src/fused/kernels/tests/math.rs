//! The vectorised math against std.

use super::super::math::{exp_f32, exp_nonpos, ln_f32, softplus_parts};

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
fn exp_nonpos_matches_std_and_flushes_below_normal() {
    check_exp_nonpos::<false>();
    check_exp_nonpos::<true>();
}

fn check_exp_nonpos<const F: bool>() {
    let mut worst = 0.0f64;
    let mut x = -110.0f32;
    while x <= 0.0 {
        let (a, b) = (exp_nonpos::<F>(x), x.exp());
        if b < f32::MIN_POSITIVE {
            assert_eq!(a, 0.0, "exp_nonpos({x}) flushes {b} to 0 (fma: {F})");
        } else {
            assert!(close_f32(a, b, 2e-7), "exp_nonpos({x}) = {a}, std {b} (fma: {F})");
            worst = worst.max((f64::from(a) - f64::from(b)).abs() / f64::from(b));
        }
        x += 1.1e-4;
    }
    for x in [0.0, -0.0, -1e-30, -87.33, -87.34, -1e4, f32::MIN, f32::NEG_INFINITY] {
        let (a, b) = (exp_nonpos::<F>(x), x.exp());
        assert!(a == 0.0 && b < f32::MIN_POSITIVE || close_f32(a, b, 2e-7), "exp_nonpos({x}) = {a}, std {b}");
    }
    assert!(exp_nonpos::<F>(f32::NAN).is_nan());
    eprintln!("exp_nonpos (fma: {F}): worst relative error {worst:.3e}");
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
        if exact < f64::from(f32::MIN_POSITIVE) {
            // Flushed: e = exp(−|y|) below the smallest normal f32 is 0 (see `exp_nonpos`).
            assert!(e == 0.0 && l1 == 0.0 && ru == 1.0, "softplus pieces at {y}: {e} {l1} {ru}");
            y += 1.7e-3;
            continue;
        }
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
