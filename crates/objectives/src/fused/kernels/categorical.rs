//! Categorical cross-entropy from logits: the target is a row of class probabilities, label
//! smoothed (`t' = t·(1 − ls) + ls/c`); the rows and tiles run in [`super::softmax`].

use std::ops::Range;

use super::layout::{Dims, Weights};
use super::math::{BLOCK, exp_shifted_sum, fma, max_f32, smoothing, sum_f64};
use super::softmax::{ClassTarget, LT, Tile, softmax_rows};

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

    /// Returns `v`, writes `grad = coef·(softmax·Σt' − t')`.
    #[inline(always)]
    fn row<const F: bool>(&self, t: &[f32], z: &[f32], g: &mut [f32], coef: f32) -> Option<f64> {
        let (a, b) = (self.a, self.b);
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
        Some(-v)
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
        let &Tile { post, ref rel, ref abs, mx, s, w, gs } = tile;
        let lt = mx.len();
        let mut lse = [0f32; LT];
        let mut fac = [0f32; LT];
        let mut coef = [0f32; LT];
        for l in 0..lt {
            lse[l] = s[l].ln() as f32;
            fac[l] = (st[l] / s[l]) as f32;
            coef[l] = w[l] * gs;
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
        *total -= acc[..lt].iter().zip(w.iter()).map(|(&v, &w)| f64::from(w) * v).sum::<f64>();
    }
}
