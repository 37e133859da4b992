//! The elementwise driver: runs a [`Pointwise`] loss over `(pre, c, post)` in parallel chunks of
//! [`CHUNK`] elements, in tiles of [`TILE`] that share their weights, with 16 f32 lanes per tile
//! and f64 partial sums added in chunk order.

use rayon::prelude::*;

use super::layout::{CHUNK, Dims, Weights};
use super::math::simd;

/// Elements per weight tile of the elementwise kernels (stack buffer).
const TILE: usize = 512;
// LOG_PRODUCT tiles: per-lane f32 products of TILE / 8 factors ≤ 2, and their f64 product
// (≤ 2^TILE), must not overflow.
const _: () = assert!(TILE <= 1000, "LOG_PRODUCT: a tile's products would overflow");

/// One elementwise loss: `f(t, p)` and `∂f/∂p` as burn autodiff gives them for the composed form.
/// The losses themselves are in [`super::elementwise`](mod@super::elementwise).
pub(super) trait Pointwise: Copy + Send + Sync {
    /// A constant factor on the mean (MAPE's 100).
    const SCALE: f64 = 1.0;
    /// `(f(t, p), ∂f/∂p)`, with hardware fused multiply-adds when `F` (see [`super::math::madd`]).
    fn eval<const F: bool>(self, t: f32, p: f32) -> (f32, f32);

    /// Whether the loss has the form `f = f_lin + ln u` with `u` in `[1, 2]` ([`Pointwise::eval_log`]),
    /// as the softplus losses do (`u = 1 + exp(−|y|)`). Unweighted tiles then sum the logarithms
    /// as the logarithm of one product per tile, which spares a `log1p` per element.
    const LOG_PRODUCT: bool = false;

    /// `(f_lin, ∂f/∂p, u)` with `f = f_lin + ln u`, `u` in `[1, 2]` (called when
    /// [`Pointwise::LOG_PRODUCT`]; by default `u = 1`).
    #[inline(always)]
    fn eval_log<const F: bool>(self, t: f32, p: f32) -> (f32, f32, f32) {
        let (v, d) = self.eval::<F>(t, p);
        (v, d, 1.0)
    }
}

/// The inputs of one elementwise evaluation, waiting for its loss: [`Run::with`] runs it.
pub(super) struct Run<'a, const F: bool> {
    pub y_true: &'a [f32],
    pub y_pred: &'a [f32],
    pub dims: Dims,
    pub w: Weights<'a>,
    pub scale: f64,
    pub grad: &'a mut [f32],
}

impl<const F: bool> Run<'_, F> {
    /// Returns `scale·Σ_r w_r·v_r` (f64 accumulation) with `v_r = mean_j f(t, p)` for the loss
    /// `op`, and writes `grad[e] = scale·w_r·(1/c)·∂f/∂p` for every element.
    pub(super) fn with<O: Pointwise>(self, op: O) -> f64 {
        let Run { y_true, y_pred, dims, w, scale, grad } = self;
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
    const L: usize = 8;
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
        None if O::LOG_PRODUCT => {
            // Σ ln u as ln Π u: a tile gives each lane at most TILE / L factors ≤ 2 (≤ 2⁶⁴ in f32),
            // and the L lanes' product stays below 2^(TILE) in f64.
            let mut prod = [1f32; L];
            for ((tc, pc), gc) in tc.iter().zip(pc).zip(gc) {
                let (tv, pv) = (*tc, *pc);
                let mut gv = [0f32; L];
                for k in 0..L {
                    let (v, d, u) = op.eval_log::<F>(tv[k], pv[k]);
                    acc[k] += v;
                    prod[k] *= u;
                    gv[k] = gs * d;
                }
                *gc = gv;
            }
            let mut p = prod.iter().map(|&u| f64::from(u)).product::<f64>();
            for ((&t, &x), g) in tr.iter().zip(pr).zip(gr) {
                let (v, d, u) = op.eval_log::<F>(t, x);
                total += f64::from(v);
                p *= f64::from(u);
                *g = gs * d;
            }
            total += p.ln();
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
