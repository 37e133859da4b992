//! The softmax cross-entropy driver, shared by the categorical ([`super::categorical`]) and
//! sparse ([`super::sparse`]) kernels: rows in parallel when `post = 1`, else bands of reduced
//! positions in tiles of [`LT`] whose max and exp passes are written once here. A
//! [`ClassTarget`] says how a row's target is read (class probabilities or one label) and does
//! the rest of its row or tile.

use std::ops::Range;

use rayon::prelude::*;

use super::layout::{CHUNK, Dims, Weights};
use super::math::{SL, exp_f32, exp_nonpos, ln_f32, max_f32, sel, simd, sum_lanes};

/// Reduced positions per tile of the softmax kernels when `post > 1`, at most (stack buffers).
/// A tile reads `c` line segments of `lt` logits, strided by `post`: long segments (4 KiB at
/// most) keep each segment a sequential run that the hardware prefetcher follows, while
/// [`tile_len`] keeps the tile's logits and gradient within L2 for its three passes.
pub(super) const LT: usize = 1024;

/// Positions per tile for `c` classes: about 256 KiB of logits and gradient per tile, between
/// 64 and [`LT`], a multiple of 16.
fn tile_len(c: usize) -> usize {
    ((256 * 1024) / (8 * c.max(1))).clamp(64, LT) / 16 * 16
}

/// How a softmax cross-entropy reads the target of a row of `c·post` logits, and what it does
/// with the softmax. `row`, `begin_tile` and `end_tile` run inside [`simd`]: implement them
/// `#[inline(always)]` so that they are compiled for its instruction set.
pub(super) trait ClassTarget: Sync {
    /// An entry of the target (`f32` probabilities, `i64` labels).
    type Elem: Sync;
    /// What [`ClassTarget::begin_tile`] reads from the target for [`ClassTarget::end_tile`].
    type TileState;

    /// Target entries per row of `c·post` logits.
    fn per_row(&self, dims: Dims) -> usize;

    /// One contiguous row (`post = 1`) with its target `t`: writes `grad` (times `coef`) and
    /// returns the row's loss `v`, or `None` for an ignored row (then `grad` is all 0).
    fn row<const F: bool>(&self, t: &[Self::Elem], z: &[f32], g: &mut [f32], coef: f32) -> Option<f64>;

    /// Before the max and exp passes of a tile: what it needs of the row's target `t` at the
    /// positions `abs` of each line of `post`.
    fn begin_tile(&self, t: &[Self::Elem], post: usize, abs: Range<usize>) -> Self::TileState;

    /// After them (`lines` hold `exp(z − m)` at the tile's positions): writes the gradient and
    /// adds the tile's `Σ_l w_l·v_l` to `total`.
    fn end_tile(
        &self,
        state: Self::TileState,
        t: &[Self::Elem],
        z: &[f32],
        lines: &mut [&mut [f32]],
        tile: &Tile<'_>,
        total: &mut f64,
    );
}

/// A tile of `lt ≤ LT` reduced positions of a band, after its max and exp passes.
pub(super) struct Tile<'a> {
    /// Length of a line (the row's positions).
    pub post: usize,
    /// The tile's positions in the band's line segments.
    pub rel: Range<usize>,
    /// The tile's positions in the row's lines.
    pub abs: Range<usize>,
    /// `max_j z` per position.
    pub mx: &'a [f32],
    /// `Σ_j exp(z − max)` per position.
    pub s: &'a [f64],
    /// `ln Σ_j exp(z − max)` per position.
    pub lse: &'a [f32],
    /// The weight `w_r` per position.
    pub w: &'a [f32],
    /// The gradient's scale.
    pub gs: f32,
}

/// Elements per block of a contiguous row (8 KiB of logits: the block's max pass brings it
/// into L1 from memory, and its exp pass reads it from there; per-block work is amortised).
const ROW_BLOCK: usize = 2048;
/// Blocks per row at most: rows longer than `MAX_BLOCKS · ROW_BLOCK` get longer blocks.
const MAX_BLOCKS: usize = 64;

/// A contiguous row of logits after its single pass from memory ([`RowBlocks::scan`]): the row
/// is cut into blocks, and each block holds `exp(z − m_b)` (in the gradient buffer) with its own
/// maximum `m_b`, so the row is read from main memory once. [`RowBlocks::softmax_scale`] turns a
/// block's values into `softmax(z)` with one multiplication (the online-softmax rescaling
/// `exp(m_b − M)`, done per block instead of per element).
pub(super) struct RowBlocks {
    /// Elements per block.
    pub len: usize,
    /// Blocks in the row.
    n: usize,
    /// `max` of each block (−∞ for an all −∞ block) during the scan, then `exp(m_b − M)`.
    m: [f32; MAX_BLOCKS],
    /// `Σ exp(z − m_b)` of each block.
    s: [f64; MAX_BLOCKS],
    /// The row's max `M`.
    pub max: f32,
    /// The row's `S = Σ_j exp(z_j − M) = Σ_b s_b·exp(m_b − M)`.
    pub sum: f64,
    /// `ln S` (the f32 logarithm of `S` rounded to f32: within an ulp of `ln S`, without a
    /// library call per row).
    pub lse: f32,
}

impl RowBlocks {
    /// Blocks of `z` (the gradient buffer `g` receives `exp(z − m_b)`): `each(start, zb, gb, m)`
    /// writes the exps of the block that starts at element `start` (`m`: the shift used, 0 for
    /// an all −∞ block, whose exps are then 0) and returns their sum; a target reads its own
    /// per-block sums there, in the same pass (the block is in L1).
    #[inline(always)]
    pub(super) fn scan(z: &[f32], g: &mut [f32], mut each: impl FnMut(usize, &[f32], &mut [f32], f32) -> f64) -> Self {
        let len = ROW_BLOCK.max(z.len().div_ceil(MAX_BLOCKS).next_multiple_of(SL));
        let mut b = RowBlocks {
            len,
            n: 0,
            m: [f32::NEG_INFINITY; MAX_BLOCKS],
            s: [0.0; MAX_BLOCKS],
            max: f32::NEG_INFINITY,
            sum: 0.0,
            lse: 0.0,
        };
        for (k, (zb, gb)) in z.chunks(len).zip(g.chunks_mut(len)).enumerate().take(MAX_BLOCKS) {
            let m = max_f32(zb);
            // An all −∞ block: shift by 0 (its exps are 0; its factor exp(−∞ − M) is 0 too).
            let shift = sel(m == f32::NEG_INFINITY, 0.0, m);
            b.m[k] = m;
            b.s[k] = each(k * len, zb, gb, shift);
            b.max = sel(m > b.max, m, b.max);
            b.n = k + 1;
        }
        if b.n == 1 && b.max.is_finite() {
            // One block (rows up to ROW_BLOCK): its values are exp(z − M) already.
            b.m[0] = 1.0;
            b.sum = b.s[0];
            b.lse = ln_f32::<false>(b.sum as f32);
            return b;
        }
        let mut sum = 0.0;
        for k in 0..b.n {
            // exp(m_b − M): block b's values times this are exp(z − M) (NaN when M is −∞ or +∞:
            // a row of −∞ or with +∞ logits, as the composed softmax gives).
            b.m[k] = exp_f32::<false>(b.m[k] - b.max);
            sum += b.s[k] * f64::from(b.m[k]);
        }
        b.sum = sum;
        b.lse = ln_f32::<false>(sum as f32);
        b
    }

    /// The factor `exp(m_b − M)·k/S` that turns block `b`'s stored exps into `k·softmax(z)`.
    #[inline(always)]
    pub(super) fn softmax_scale(&self, k: usize, factor: f64) -> f32 {
        (f64::from(self.m[k]) * factor / self.sum) as f32
    }
}

/// `g = exp(z − m)` over a block, returns `Σ g` (f32 lanes, then f64). Two loops over the block
/// (it is in L1): LLVM vectorises each as a whole, which it does not for a fused loop.
#[inline(always)]
pub(super) fn exp_block<const F: bool>(z: &[f32], m: f32, g: &mut [f32]) -> f64 {
    for (g, &z) in g.iter_mut().zip(z) {
        *g = exp_nonpos::<F>(z - m);
    }
    sum_lanes(g)
}

/// Rows per parallel task for a row of `row` elements.
fn rows_per_task(row: usize) -> usize {
    (CHUNK / row.max(1)).max(1)
}

/// Returns `scale·Σ_r w_r·v_r` and writes the gradient, for the logits of `dims` and their
/// target `t` as `target` reads it (`target.per_row(dims)` entries per row; labels checked).
pub(super) fn softmax_rows<T: ClassTarget, const F: bool>(
    target: &T,
    t: &[T::Elem],
    logits: &[f32],
    dims: Dims,
    w: Weights<'_>,
    scale: f64,
    grad: &mut [f32],
) -> f64 {
    let n = dims.len();
    let per_row = target.per_row(dims);
    debug_assert!(t.len() == dims.pre * per_row && logits.len() == n && grad.len() == n, "slice lengths ≠ {dims:?}");
    if n == 0 {
        return 0.0;
    }
    let gs = scale as f32;
    let row = dims.c * dims.post;
    if dims.post > 1 {
        let post = dims.post;
        // The band closure is inlined into the SIMD contexts of `post_rows` (otherwise it would be
        // compiled for the baseline instruction set, where `mul_add` is a library call).
        let total = post_rows(
            grad,
            dims,
            #[inline(always)]
            |i: usize, l_start: usize, lines: &mut [&mut [f32]]| {
                let (z, t) = (logits.get(i * row..(i + 1) * row), t.get(i * per_row..(i + 1) * per_row));
                match (z, t) {
                    (Some(z), Some(t)) => band_tiles::<T, F>(target, t, z, lines, post, l_start, &w, i, gs),
                    _ => f64::NAN,
                }
            },
        );
        return total * scale;
    }
    let rows = rows_per_task(row);
    let partial: Vec<f64> = grad
        .par_chunks_mut(rows * row)
        .zip(logits.par_chunks(rows * row))
        .zip(t.par_chunks(rows * per_row))
        .enumerate()
        .map(|(ci, ((g, z), t))| {
            simd(
                #[inline(always)]
                || {
                    let mut total = 0.0;
                    for (k, ((g, z), t)) in g.chunks_mut(row).zip(z.chunks(row)).zip(t.chunks(per_row)).enumerate() {
                        let wi = w.at(ci * rows + k);
                        total += match target.row::<F>(t, z, g, wi * gs) {
                            Some(v) => f64::from(wi) * v,
                            None => 0.0,
                        };
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
fn post_rows<F>(grad: &mut [f32], dims: Dims, band: F) -> f64
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
    let tl = tile_len(c);
    let width = tl * (CHUNK / (c * tl)).max(1);
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

/// The band of reduced positions `l_start..l_start + width` of row `i` (`post > 1`; `lines`:
/// the gradient's `c` line segments of the band, `t`, `z`: the whole row's target and logits),
/// in tiles of [`tile_len`] positions: returns `Σ_l w·v`, writes the gradient.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn band_tiles<T: ClassTarget, const F: bool>(
    target: &T,
    t: &[T::Elem],
    z: &[f32],
    lines: &mut [&mut [f32]],
    post: usize,
    l_start: usize,
    w: &Weights<'_>,
    i: usize,
    gs: f32,
) -> f64 {
    let width = lines.first().map_or(0, |l| l.len());
    let mut total = 0.0;
    let mut l0 = 0;
    while l0 < width {
        let lt = tile_len(lines.len()).min(width - l0);
        let (rel, abs) = (l0..l0 + lt, l_start + l0..l_start + l0 + lt);
        let mut wv = [0f32; LT];
        let wv = &mut wv[..lt];
        w.fill(i * post + l_start + l0, wv);
        let state = target.begin_tile(t, post, abs.clone());
        let mut mx = [f32::NEG_INFINITY; LT];
        let mx = &mut mx[..lt];
        for zl in z.chunks(post) {
            for (m, &z) in mx.iter_mut().zip(&zl[abs.clone()]) {
                // f32::max ignores NaN as the row path does; a select here would become a masked
                // store.
                *m = m.max(z);
            }
        }
        // Σ exp: f32 lanes over at most LINES lines at a time, then f64.
        const LINES: usize = 64;
        let mut s = [0f64; LT];
        let s = &mut s[..lt];
        let mut s32 = [0f32; LT];
        let s32 = &mut s32[..lt];
        for (k, (zl, gl)) in z.chunks(post).zip(lines.iter_mut()).enumerate() {
            for (((g, &z), &m), s) in
                gl[rel.clone()].iter_mut().zip(&zl[abs.clone()]).zip(mx.iter()).zip(s32.iter_mut())
            {
                let e = exp_nonpos::<F>(z - m);
                *g = e;
                *s += e;
            }
            if k % LINES == LINES - 1 {
                for (s, s32) in s.iter_mut().zip(s32.iter_mut()) {
                    *s += f64::from(std::mem::take(s32));
                }
            }
        }
        for (s, &s32) in s.iter_mut().zip(s32.iter()) {
            *s += f64::from(s32);
        }
        let mut lse = [0f32; LT];
        let lse = &mut lse[..lt];
        for (lse, &s) in lse.iter_mut().zip(s.iter()) {
            *lse = ln_f32::<F>(s as f32);
        }
        let tile = Tile { post, rel, abs, mx, s, lse, w: wv, gs };
        target.end_tile(state, t, z, lines, &tile, &mut total);
        l0 += lt;
    }
    total
}
