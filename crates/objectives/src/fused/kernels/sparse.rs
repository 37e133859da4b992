//! Sparse categorical cross-entropy from logits: the target is one integer label per row, with
//! an optional ignored class; the rows and tiles run in [`super::softmax`].

use std::ops::Range;

use rayon::prelude::*;

use super::layout::{Dims, Weights};
use super::math::{fma, sel};
use super::softmax::{ClassTarget, LT, RowBlocks, Tile, exp_block, softmax_rows};

/// The error of [`sparse_softmax_crossentropy`]: a label outside `[0, c)` that is not the
/// ignored class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SparseLabelError {
    /// Reduced position `r = i·post + l` of the first offending label.
    pub position: usize,
    /// The label found there.
    pub label: i64,
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
    let c = dims.c as i64;
    let bad = |&l: &i64| (l < 0 || l >= c) && Some(l) != ignore_class;
    if let Some(position) = labels.par_iter().position_first(bad) {
        let label = labels.get(position).copied().unwrap_or_default();
        return Err(SparseLabelError { position, label });
    }
    let target = Labels { ignore_class };
    Ok(if fma() {
        softmax_rows::<_, true>(&target, labels, logits, dims, w, scale, grad)
    } else {
        softmax_rows::<_, false>(&target, labels, logits, dims, w, scale, grad)
    })
}

/// One label per reduced position, in `[0, c)` or `ignore_class`.
pub(super) struct Labels {
    pub ignore_class: Option<i64>,
}

/// Per position of a tile: 1 where the label is used, 0 where ignored (then the column's
/// gradient is exactly 0), and the label (0 where ignored).
pub(super) struct LabelTile {
    keep: [f32; LT],
    label: [usize; LT],
}

impl ClassTarget for Labels {
    type Elem = i64;
    type TileState = LabelTile;

    fn per_row(&self, dims: Dims) -> usize {
        dims.post
    }

    /// Returns `v`, writes `grad = coef·(softmax − onehot)` (a valid label), or zeros (ignored).
    /// One pass from memory ([`RowBlocks::scan`]), then one over the blocks in cache.
    #[inline(always)]
    fn row<const F: bool>(&self, t: &[i64], z: &[f32], g: &mut [f32], coef: f32) -> Option<f64> {
        let label = match t.first() {
            Some(&label) if Some(label) != self.ignore_class => label as usize,
            _ => {
                g.fill(0.0);
                return None;
            }
        };
        let blocks = RowBlocks::scan(
            z,
            g,
            #[inline(always)]
            |_, zb, gb, m| exp_block::<F>(zb, m, gb),
        );
        let lse = blocks.lse;
        let z_label = z.get(label).copied().unwrap_or(f32::NAN);
        let (kl, jl) = (label / blocks.len, label % blocks.len);
        let mut p_label = f32::NAN;
        for (k, gb) in g.chunks_mut(blocks.len).enumerate() {
            // softmax = e·exp(m_b − M)/S; the label's entry is rewritten below.
            if k == kl {
                p_label = gb.get(jl).copied().unwrap_or(f32::NAN) * blocks.softmax_scale(k, 1.0);
            }
            let f = blocks.softmax_scale(k, f64::from(coef));
            for g in gb.iter_mut() {
                *g *= f;
            }
        }
        if let Some(g) = g.get_mut(label) {
            *g = (p_label - 1.0) * coef;
        }
        Some(-f64::from((z_label - blocks.max) - lse))
    }

    #[inline(always)]
    fn begin_tile(&self, labels: &[i64], _post: usize, abs: Range<usize>) -> LabelTile {
        let mut tile = LabelTile { keep: [0f32; LT], label: [0usize; LT] };
        for (l, &label) in labels[abs].iter().enumerate() {
            let ignored = Some(label) == self.ignore_class;
            tile.keep[l] = sel(ignored, 0.0, 1.0);
            tile.label[l] = if ignored { 0 } else { label as usize };
        }
        tile
    }

    /// Writes `grad = w·gs·(softmax − onehot)` (0 where ignored).
    #[inline(always)]
    fn end_tile(
        &self,
        LabelTile { keep, label: lab }: LabelTile,
        _labels: &[i64],
        z: &[f32],
        lines: &mut [&mut [f32]],
        tile: &Tile<'_>,
        total: &mut f64,
    ) {
        let &Tile { post, ref rel, ref abs, mx, s, lse, w, gs } = tile;
        let lt = mx.len();
        let mut rs = [0f32; LT];
        let mut coef = [0f32; LT];
        let mut e_label = [0f32; LT];
        for l in 0..lt {
            let lse = lse[l];
            rs[l] = (1.0 / s[l]) as f32;
            coef[l] = w[l] * gs;
            e_label[l] = lines.get(lab[l]).and_then(|g| g.get(rel.start + l)).copied().unwrap_or(f32::NAN);
            if keep[l] != 0.0 {
                let z_label = z.get(lab[l] * post + abs.start + l).copied().unwrap_or(f32::NAN);
                *total -= f64::from(w[l]) * f64::from((z_label - mx[l]) - lse);
            }
        }
        for gl in lines.iter_mut() {
            for (l, g) in gl[rel.clone()].iter_mut().enumerate().take(lt) {
                *g = sel(keep[l] != 0.0, (*g * rs[l]) * coef[l], 0.0);
            }
        }
        for l in 0..lt {
            if keep[l] != 0.0
                && let Some(g) = lines.get_mut(lab[l]).and_then(|g| g.get_mut(rel.start + l))
            {
                *g = (e_label[l] * rs[l] - 1.0) * coef[l];
            }
        }
    }
}
