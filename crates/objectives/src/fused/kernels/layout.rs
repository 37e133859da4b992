//! How the kernels see their inputs: a tensor reduced over one axis as `(pre, c, post)`
//! ([`Dims`]), and the weight of each reduced position ([`Factor`], [`Weights`]; [`mask_sum`] for
//! the mask rescale).

use rayon::prelude::*;

use super::math::{sel, simd, sum_f64};

/// Elements per parallel task. Fixed (not derived from the thread count) so that the partial
/// sums, and hence the result, do not depend on the pool size.
pub(crate) const CHUNK: usize = 16 * 1024;

/// A tensor reduced over one axis, seen as `(pre, c, post)` (see the [`kernels`](super) docs).
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
    pub(super) fn is_unit(&self) -> bool {
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
    pub(super) fn fill(&self, r0: usize, out: &mut [f32]) {
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
    pub(super) fn fill_rows(&self, c: usize, e0: usize, out: &mut [f32]) {
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
