//! Softmax cross-entropy on GPU (class probabilities from logits, and sparse labels): rows
//! contiguous, one 32-thread group per row; classes on an inner axis, one thread per position.

use cubecl::prelude::*;

use super::common::{CUBE, Params, ROWS_PER_CUBE, cube_sum, weight};

/// The class index of a sparse label, or `c` when it does not count (out of range, or the
/// ignored class): then every `t'_j` of its row is 0, and so are its loss and gradient.
#[cube]
#[allow(clippy::collapsible_if)] // a compile-time condition around a run-time one
pub(super) fn label_index<F: Float>(label: F, c: usize, params: &Params, #[comptime] has_ignore: bool) -> usize {
    let li = i32::cast_from(label);
    let mut index = c;
    if li >= 0 && (li as usize) < c {
        index = li as usize;
    }
    if comptime![has_ignore] {
        if label == params.a2.get::<F>() {
            index = c;
        }
    }
    index
}

/// `t'_j`, the target probability of class `j` (element `at` of `target`): `a·t + b` (label
/// smoothing) for class probabilities, `[j = label]` for sparse labels.
#[cube]
pub(super) fn target_prob<F: Float>(
    target: &Tensor<F>,
    at: usize,
    j: usize,
    label: usize,
    a: F,
    b: F,
    #[comptime] sparse: bool,
) -> F {
    let mut tp = F::new(0.0);
    if comptime![sparse] {
        if j == label {
            tp = F::new(1.0);
        }
    } else {
        tp = target[at] * a + b;
    }
    tp
}

/// Sum (or max) of `v` over the `CUBE_DIM_X` threads of this thread's row group, through
/// shared memory; every thread of the group gets the result.
#[cube]
pub(super) fn row_reduce<F: Float>(red: &mut Shared<[F]>, v: F, #[comptime] max: bool) -> F {
    let lane = UNIT_POS_X as usize;
    let width = CUBE_DIM_X as usize;
    let tid = UNIT_POS as usize;
    red[tid] = v;
    sync_cube();
    let mut half = width / 2;
    while half > 0 {
        if lane < half {
            let o = red[tid + half];
            if comptime![max] {
                if o > red[tid] {
                    red[tid] = o;
                }
            } else {
                red[tid] += o;
            }
        }
        sync_cube();
        half /= 2;
    }
    let out = red[(UNIT_POS_Y as usize) * width];
    sync_cube();
    out
}

/// Softmax cross-entropy, classes contiguous: `ROW_THREADS` threads per row. With
/// `t'` the target probabilities ([`target_prob`]), `lse` the row's log-sum-exp and `w` its weight,
/// the row's loss is `w·Σ_j t'_j·(lse − x_j)` and `∂/∂x_j = w·scale·(softmax_j·Σt' − t'_j)`.
#[cube(launch)]
#[allow(clippy::too_many_arguments, clippy::collapsible_if)] // collapsible: compile-time around run-time
pub(super) fn softmax_rows_kernel<F: Float>(
    target: &Tensor<F>,
    logits: &Tensor<F>,
    sample: &Tensor<F>,
    mask: &Tensor<F>,
    scalars: &Tensor<F>,
    grad: &mut Tensor<F>,
    partials: &mut Tensor<F>,
    params: &Params,
    rows: usize,
    c: usize,
    srep: usize,
    mrep: usize,
    #[comptime] sparse: bool,
    #[comptime] has_ignore: bool,
    #[comptime] has_sample: bool,
    #[comptime] has_mask: bool,
    #[comptime] rescale: bool,
) {
    let lane = UNIT_POS_X as usize;
    let rt = CUBE_DIM_X as usize;
    let tid = UNIT_POS as usize;
    let cube = CUBE_POS;
    let r = cube * comptime![ROWS_PER_CUBE as usize] + UNIT_POS_Y as usize;
    let live = r < rows;
    let row = r * c;
    let a = params.a0.get::<F>();
    let b = params.a1.get::<F>();
    let mut red = Shared::<[F]>::new_slice(comptime![CUBE as usize]);
    let mut label = c;
    if comptime![sparse] {
        if live {
            label = label_index::<F>(target[r], c, params, has_ignore);
        }
    }
    // Pass 1: the row's max.
    let mut m = F::new(-3.0e38);
    if live {
        let mut j = lane;
        while j < c {
            let x = logits[row + j];
            if x > m {
                m = x;
            }
            j += rt;
        }
    }
    m = row_reduce::<F>(&mut red, m, true);
    // Pass 2: Σ exp(x − m) and Σ t'.
    let mut s = F::new(0.0);
    let mut st = F::new(0.0);
    if live {
        let mut j = lane;
        while j < c {
            s += (logits[row + j] - m).exp();
            st += target_prob::<F>(target, row + j, j, label, a, b, sparse);
            j += rt;
        }
    }
    s = row_reduce::<F>(&mut red, s, false);
    st = row_reduce::<F>(&mut red, st, false);
    // Pass 3: the gradient and this thread's share of the row's loss.
    let mut loss = F::new(0.0);
    if live {
        let lse = s.ln();
        let fac = st / s;
        let w = weight::<F>(r, sample, mask, scalars, srep, mrep, has_sample, has_mask, rescale);
        let k = w * scalars[0];
        let mut j = lane;
        while j < c {
            let x = logits[row + j];
            let tp = target_prob::<F>(target, row + j, j, label, a, b, sparse);
            loss += tp * (lse - (x - m)) * w;
            grad[row + j] = ((x - m).exp() * fac - tp) * k;
            j += rt;
        }
    }
    red[tid] = loss;
    sync_cube();
    cube_sum::<F>(&mut red, tid);
    if tid == 0 {
        partials[cube] = red[0];
    }
}

/// Softmax cross-entropy, classes on an inner axis (stride `post`): one thread per position,
/// the same formulas as [`softmax_rows_kernel`].
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn softmax_strided_kernel<F: Float>(
    target: &Tensor<F>,
    logits: &Tensor<F>,
    sample: &Tensor<F>,
    mask: &Tensor<F>,
    scalars: &Tensor<F>,
    grad: &mut Tensor<F>,
    partials: &mut Tensor<F>,
    params: &Params,
    rows: usize,
    c: usize,
    post: usize,
    srep: usize,
    mrep: usize,
    #[comptime] sparse: bool,
    #[comptime] has_ignore: bool,
    #[comptime] has_sample: bool,
    #[comptime] has_mask: bool,
    #[comptime] rescale: bool,
) {
    let tid = UNIT_POS as usize;
    let cube = CUBE_POS;
    let r = cube * comptime![CUBE as usize] + tid;
    let mut loss = F::new(0.0);
    if r < rows {
        let base = (r / post) * c * post + r % post;
        let a = params.a0.get::<F>();
        let b = params.a1.get::<F>();
        let mut label = c;
        if comptime![sparse] {
            label = label_index::<F>(target[r], c, params, has_ignore);
        }
        let mut m = F::new(-3.0e38);
        for j in 0..c {
            let x = logits[base + j * post];
            if x > m {
                m = x;
            }
        }
        let mut s = F::new(0.0);
        let mut st = F::new(0.0);
        for j in 0..c {
            s += (logits[base + j * post] - m).exp();
            st += target_prob::<F>(target, base + j * post, j, label, a, b, sparse);
        }
        let lse = s.ln();
        let fac = st / s;
        let w = weight::<F>(r, sample, mask, scalars, srep, mrep, has_sample, has_mask, rescale);
        let k = w * scalars[0];
        for j in 0..c {
            let x = logits[base + j * post];
            let tp = target_prob::<F>(target, base + j * post, j, label, a, b, sparse);
            loss += tp * (lse - (x - m)) * w;
            grad[base + j * post] = ((x - m).exp() * fac - tp) * k;
        }
    }
    let mut red = Shared::<[F]>::new_slice(comptime![CUBE as usize]);
    red[tid] = loss;
    sync_cube();
    cube_sum::<F>(&mut red, tid);
    if tid == 0 {
        partials[cube] = red[0];
    }
}
