//! Categorical cross-entropy from logits: the target is a row of class probabilities, label
//! smoothed (`t' = t·(1 − ls) + ls/c`); the rows and tiles run in [`super::softmax`].

use std::ops::Range;

use super::layout::{Dims, Weights};
use super::math::SL;
use super::math::{fma, madd, smoothing};
use super::softmax::{ClassTarget, LT, RowBlocks, Tile, exp_block, softmax_rows};

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
    let target = Probabilities::new(label_smoothing, dims.c);
    if fma() {
        softmax_rows::<_, true>(&target, y_true, logits, dims, w, scale, grad)
    } else {
        softmax_rows::<_, false>(&target, y_true, logits, dims, w, scale, grad)
    }
}

/// Class probabilities `t`, read as `t' = t·a + b`.
pub(super) struct Probabilities {
    a: f32,
    b: f32,
}

impl Probabilities {
    /// With label smoothing `ls` over `c` classes: `t' = t·(1 − ls) + ls/c`.
    pub(super) fn new(label_smoothing: f32, c: usize) -> Self {
        let (a, b) = smoothing(label_smoothing, 1.0 / c as f64);
        Self { a, b }
    }
}

impl ClassTarget for Probabilities {
    type Elem = f32;
    /// `Σ_j t'_j` per position of the tile.
    type TileState = [f64; LT];

    fn per_row(&self, dims: Dims) -> usize {
        dims.c * dims.post
    }

    /// Returns `v`, writes `grad = coef·(softmax·Σt' − t')`. One pass from memory
    /// ([`RowBlocks::scan`], which also sums `t'` and `t'·(z − m_b)` per block), then one over
    /// the blocks in cache.
    #[inline(always)]
    fn row<const F: bool>(&self, t: &[f32], z: &[f32], g: &mut [f32], coef: f32) -> Option<f64> {
        let (a, b) = (self.a, self.b);
        // Σ_b (Σ t'·(z − m_b) + m_b·Σ t') = Σ t'·z, and Σ t', in f64.
        let (mut tz, mut st) = (0.0f64, 0.0f64);
        let blocks = RowBlocks::scan(
            z,
            g,
            #[inline(always)]
            |start, zb, gb, m| {
                let tb = t.get(start..start + zb.len()).unwrap_or_default();
                let (s, q, sb) = exp_block_weighted::<F>(zb, tb, m, gb, a, b);
                tz += q + f64::from(m) * sb;
                st += sb;
                s
            },
        );
        let lse = f64::from(blocks.lse);
        // v = −Σ t'·(z − M − lse)
        let v = -(tz - (f64::from(blocks.max) + lse) * st);
        // grad = (e·f_b − t')·coef with f_b = exp(m_b − M)·Σt'/S (exactly 0 where softmax·Σt' = t',
        // e.g. one class).
        for (k, (gb, tb)) in g.chunks_mut(blocks.len).zip(t.chunks(blocks.len)).enumerate() {
            let f = blocks.softmax_scale(k, st);
            for (g, &t) in gb.iter_mut().zip(tb) {
                *g = (*g * f - madd::<F>(t, a, b)) * coef;
            }
        }
        Some(v)
    }

    #[inline(always)]
    fn begin_tile(&self, t: &[f32], post: usize, abs: Range<usize>) -> [f64; LT] {
        let mut st = [0f64; LT];
        for tl in t.chunks(post) {
            for (st, &t) in st.iter_mut().zip(&tl[abs.clone()]) {
                *st += f64::from(t * self.a + self.b);
            }
        }
        st
    }

    /// Writes `grad = w·gs·(softmax·Σt' − t')`.
    #[inline(always)]
    fn end_tile(
        &self,
        st: [f64; LT],
        t: &[f32],
        z: &[f32],
        lines: &mut [&mut [f32]],
        tile: &Tile<'_>,
        total: &mut f64,
    ) {
        let (a, b) = (self.a, self.b);
        let &Tile { post, ref rel, ref abs, mx, s, lse, w, gs } = tile;
        let lt = mx.len();
        let mut fac = [0f32; LT];
        let mut coef = [0f32; LT];
        for l in 0..lt {
            fac[l] = (st[l] / s[l]) as f32;
            coef[l] = w[l] * gs;
        }
        // Σ t'·log_softmax: f32 lanes over at most LINES lines at a time, then f64.
        const LINES: usize = 64;
        let mut acc = [0f64; LT];
        let mut acc32 = [0f32; LT];
        for (k, ((zl, tl), gl)) in z.chunks(post).zip(t.chunks(post)).zip(lines.iter_mut()).enumerate() {
            let elements = gl[rel.clone()].iter_mut().zip(&zl[abs.clone()]).zip(&tl[abs.clone()]);
            for (l, ((g, &z), &t)) in elements.enumerate().take(lt) {
                let tp = t * a + b;
                acc32[l] += tp * ((z - mx[l]) - lse[l]);
                *g = (*g * fac[l] - tp) * coef[l];
            }
            if k % LINES == LINES - 1 {
                for (acc, acc32) in acc.iter_mut().zip(acc32.iter_mut()) {
                    *acc += f64::from(std::mem::take(acc32));
                }
            }
        }
        for (acc, &acc32) in acc.iter_mut().zip(acc32.iter()) {
            *acc += f64::from(acc32);
        }
        *total -= acc[..lt].iter().zip(w.iter()).map(|(&v, &w)| f64::from(w) * v).sum::<f64>();
    }
}

/// `g = exp(z − m)` over a block with its targets `t` (`t' = t·a + b`); returns `(Σ g, Σ t'·(z − m),
/// Σ t')` (f32 lanes, then f64): the exps and their sum by [`exp_block`], then the target's sums in
/// a second loop over the block (in L1).
#[inline(always)]
fn exp_block_weighted<const F: bool>(z: &[f32], t: &[f32], m: f32, g: &mut [f32], a: f32, b: f32) -> (f64, f64, f64) {
    let s = exp_block::<F>(z, m, g);
    let (zc, zr) = z.as_chunks::<SL>();
    let (tc, tr) = t.as_chunks::<SL>();
    let (mut sq, mut st) = ([0f32; SL], [0f32; SL]);
    for (zv, tv) in zc.iter().zip(tc) {
        for k in 0..SL {
            let tp = madd::<F>(tv[k], a, b);
            sq[k] = madd::<F>(tp, zv[k] - m, sq[k]);
            st[k] += tp;
        }
    }
    let lanes = |v: [f32; SL]| v.iter().map(|&x| f64::from(x)).sum::<f64>();
    let (mut q, mut u) = (lanes(sq), lanes(st));
    for (&z, &t) in zr.iter().zip(tr) {
        let tp = madd::<F>(t, a, b);
        q += f64::from(tp * (z - m));
        u += f64::from(tp);
    }
    (s, q, u)
}
