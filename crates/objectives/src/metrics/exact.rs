//! An exact sum of f64 values: the state cell of every metric.
//!
//! Metric states are sums (totals, counts, confusion matrices, threshold histograms). Summed in
//! floating point, splitting the data into batches, threads or devices changes the rounding, and
//! merged states differ from the whole in the last bits. [`ExactSum`] keeps the sum as an exact
//! fixed-point integer spanning the whole f64 range (2,098 bits in 32-bit digits held in i64
//! lanes, so carries are deferred), so that addition is associative and commutative: the state of
//! any split, merged in any order, *is* the state of the whole, bit for bit, and so is the
//! result. The product of two f32 values (a value times a weight) is exact in f64, so a weighted
//! metric's terms enter the sum without rounding; only [`ExactSum::value`] rounds, once.
//!
//! ```
//! use objectives::metrics::ExactSum;
//! let (mut a, mut b, mut whole) = (ExactSum::default(), ExactSum::default(), ExactSum::default());
//! for (i, x) in [1e16, 1.0, -1e16, 0.1].into_iter().enumerate() {
//!     whole.add(x);
//!     if i % 2 == 0 { a.add(x) } else { b.add(x) }
//! }
//! a.merge(&b);
//! assert_eq!(a, whole);
//! assert_eq!(whole.value(), 1.1); // f64 summation in this order would give 0.1
//! ```

/// Digits of 32 bits; bit 0 of digit 0 weighs 2^-1074 (the smallest subnormal f64).
const LANES: usize = 67;
/// Adds between carry propagations: each adds < 2^32 to a lane, so 2^30 of them fit in an i64.
const NORMALIZE_EVERY: u32 = 1 << 30;

/// An exact, mergeable sum of f64 values (NaN and infinities are counted aside and give the
/// IEEE result: NaN if any NaN or both infinities were added).
#[derive(Clone)]
pub struct ExactSum {
    lanes: Box<[i64; LANES]>,
    pending: u32,
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
}

impl Default for ExactSum {
    fn default() -> Self {
        Self { lanes: Box::new([0; LANES]), pending: 0, nan: false, pos_inf: false, neg_inf: false }
    }
}

impl std::fmt::Debug for ExactSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExactSum({})", self.value())
    }
}

impl PartialEq for ExactSum {
    fn eq(&self, other: &Self) -> bool {
        (self.nan, self.pos_inf, self.neg_inf) == (other.nan, other.pos_inf, other.neg_inf)
            && self.normalized() == other.normalized()
    }
}

impl ExactSum {
    /// The sum of `x` alone.
    pub fn of(x: f64) -> Self {
        let mut s = Self::default();
        s.add(x);
        s
    }

    /// Adds `x` exactly.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if x == 0.0 {
            return;
        }
        if !x.is_finite() {
            if x.is_nan() {
                self.nan = true;
            } else if x > 0.0 {
                self.pos_inf = true;
            } else {
                self.neg_inf = true;
            }
            return;
        }
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as usize;
        let frac = bits & ((1u64 << 52) - 1);
        // x = mant · 2^(pos - 1074), pos ≥ 0.
        let (mant, pos) = if exp == 0 { (frac, 0) } else { (frac | (1u64 << 52), exp - 1) };
        let (lane, shift) = (pos / 32, pos % 32);
        let v = u128::from(mant) << shift;
        let parts = [(v & 0xffff_ffff) as i64, ((v >> 32) & 0xffff_ffff) as i64, (v >> 64) as i64];
        for (k, p) in parts.into_iter().enumerate() {
            if p != 0 {
                if x > 0.0 {
                    self.lanes[lane + k] += p;
                } else {
                    self.lanes[lane + k] -= p;
                }
            }
        }
        self.pending += 1;
        if self.pending >= NORMALIZE_EVERY {
            self.normalize();
        }
    }

    /// Adds a whole number of units exactly (a count).
    #[inline]
    pub fn add_count(&mut self, n: u64) {
        if n != 0 {
            self.add(n as f64);
            if n >= 1 << 53 {
                // Counts beyond 2^53 are not f64-exact: add the remainder.
                self.add((n - (n as f64) as u64) as f64);
            }
        }
    }

    /// Adds another sum exactly (merging two states).
    pub fn merge(&mut self, other: &ExactSum) {
        let o = other.normalized();
        self.normalize();
        for (a, b) in self.lanes.iter_mut().zip(o.iter()) {
            *a += *b;
        }
        self.pending = 1;
        self.normalize();
        self.nan |= other.nan;
        self.pos_inf |= other.pos_inf;
        self.neg_inf |= other.neg_inf;
    }

    /// Resets to zero.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Propagates carries: every lane but the top in `[0, 2^32)`, the top signed.
    fn normalize(&mut self) {
        if self.pending == 0 {
            return;
        }
        let mut carry = 0i64;
        for l in self.lanes.iter_mut() {
            let v = *l + carry;
            carry = v >> 32;
            *l = v - (carry << 32);
        }
        self.lanes[LANES - 1] += carry << 32;
        self.pending = 0;
    }

    fn normalized(&self) -> [i64; LANES] {
        let mut c = self.clone();
        c.normalize();
        *c.lanes
    }

    /// The sum, rounded once to the nearest f64 (a function of the exact sum alone, so equal
    /// sums give equal values).
    pub fn value(&self) -> f64 {
        if self.nan || (self.pos_inf && self.neg_inf) {
            return f64::NAN;
        }
        if self.pos_inf {
            return f64::INFINITY;
        }
        if self.neg_inf {
            return f64::NEG_INFINITY;
        }
        let mut l = self.normalized();
        let negative = l[LANES - 1] < 0;
        if negative {
            // Two's complement negation across the digits.
            let mut carry = 1i64;
            for x in l.iter_mut() {
                let v = (!*x & 0xffff_ffff) + carry;
                carry = v >> 32;
                *x = v & 0xffff_ffff;
            }
        }
        let Some(top) = l.iter().rposition(|&x| x != 0) else { return 0.0 };
        // The top three digits (96 bits) with a sticky bit for everything below round correctly.
        let digit = |i: usize| if i <= top { l[i] as u128 } else { 0 };
        let lo = top.saturating_sub(2);
        let mut m = (digit(lo + 2) << 64) | (digit(lo + 1) << 32) | digit(lo);
        if l[..lo].iter().any(|&x| x != 0) {
            m |= 1;
        }
        let v = (m as f64) * pow2(32 * lo as i32 - 1074);
        if negative { -v } else { v }
    }
}

/// 2^e for e in the f64 range (an exact power of two, via two factors to reach subnormals).
fn pow2(e: i32) -> f64 {
    let half = e / 2;
    f64::from_bits(((half + 1023) as u64) << 52) * f64::from_bits((((e - half) + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_exactly_and_rounds_once() {
        let mut s = ExactSum::default();
        for x in [1e300, 1.0, -1e300, 2f64.powi(-1074), -0.5] {
            s.add(x);
        }
        assert_eq!(s.value(), 0.5);
        let mut t = ExactSum::default();
        for _ in 0..10 {
            t.add(0.1);
        }
        assert_eq!(t.value(), 1.0); // 10 · 0.1 summed exactly, rounded once (f64 summation: 0.9999999999999999)
        assert_eq!(ExactSum::of(-3.25).value(), -3.25);
        assert_eq!(ExactSum::of(f64::MAX).value(), f64::MAX);
        assert_eq!(ExactSum::of(f64::MIN_POSITIVE / 8.0).value(), f64::MIN_POSITIVE / 8.0);
        assert_eq!(ExactSum::default().value(), 0.0);
    }

    #[test]
    fn merge_is_order_free() {
        let xs: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1013) as f64 * 1.37e-3 - 0.6).collect();
        let mut whole = ExactSum::default();
        xs.iter().for_each(|&x| whole.add(x));
        let mut parts = [ExactSum::default(), ExactSum::default(), ExactSum::default()];
        for (i, &x) in xs.iter().rev().enumerate() {
            parts[i % 3].add(x);
        }
        let [mut a, b, c] = parts;
        a.merge(&c);
        a.merge(&b);
        assert_eq!(a, whole);
        assert_eq!(a.value(), whole.value());
    }

    #[test]
    fn non_finite_follow_ieee() {
        let mut s = ExactSum::of(1.0);
        s.add(f64::INFINITY);
        assert_eq!(s.value(), f64::INFINITY);
        s.add(f64::NEG_INFINITY);
        assert!(s.value().is_nan());
        assert_eq!(ExactSum::of(2.0).value(), 2.0);
    }

    #[test]
    fn counts_beyond_2_53() {
        let mut s = ExactSum::default();
        s.add_count((1 << 53) + 1);
        s.add(-(2f64.powi(53)));
        assert_eq!(s.value(), 1.0);
    }
}
