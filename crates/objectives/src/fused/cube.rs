//! The fused losses on burn's CubeCL backends (wgpu, CUDA): the same single-pass value and
//! gradient as the CPU kernels, written for a GPU.
//!
//! - **Elementwise losses** ([`Elementwise`]): one thread per element, [`PER_THREAD`] elements
//!   each at a stride of the cube size (coalesced reads and writes); the weighted values are summed
//!   in registers, then across the cube in shared memory, one partial sum per cube.
//! - **Softmax cross-entropies**, rows contiguous (`post = 1`, classes on the last axis): one row
//!   per group of [`ROW_THREADS`] threads ([`ROWS_PER_CUBE`] rows per cube); the threads stride over
//!   the classes and meet in shared memory for the row's max, its `Σ exp`, and its loss, so a row
//!   is read from memory by the whole group at once.
//! - **Softmax cross-entropies**, classes on an inner axis (`post > 1`, e.g. channels-first): one
//!   thread per reduced position, looping over the classes; neighbouring threads read neighbouring
//!   positions, so every class step is one coalesced read of the cube.
//! - **Finish**: one cube adds the partial sums (a fixed order: each thread a strided run, then a
//!   tree) and multiplies by the scale.
//!
//! The scale (`1 / divisor`) and the mask's rescale are not read back to the host: they arrive as
//! a two-element device tensor computed by the caller ([`super::device_scalars`]), so a training
//! step never waits on the GPU for them.

use burn::tensor::{DType, Shape};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::backend::{Factor, FusedLossBackend, Inputs, Target, ValueAndGrad};
use super::kernels::{Elementwise, smoothing};
use super::{KernelKind, Spec};
use crate::reduce::MaskRule;

/// Threads per cube of the elementwise and strided kernels.
pub(crate) const CUBE: u32 = 256;
/// Elements per thread of the elementwise kernel.
const PER_THREAD: usize = 8;
/// Threads per row of the contiguous softmax kernel (a power of two).
const ROW_THREADS: u32 = 32;
/// Rows per cube of the contiguous softmax kernel.
const ROWS_PER_CUBE: u32 = CUBE / ROW_THREADS;
/// The most cubes along one dimension of a launch (WebGPU's limit).
const MAX_CUBES_X: u32 = 65_535;

const EPS: f32 = crate::EPSILON as f32;

/// Loss parameters, read at run time (one compiled kernel per loss kind, not per parameter).
#[derive(CubeLaunch, CubeType)]
struct Params {
    a0: InputScalar,
    a1: InputScalar,
    a2: InputScalar,
    a3: InputScalar,
}

/// A value and its derivative.
#[derive(CubeType)]
struct Vd<F: Float> {
    v: F,
    d: F,
}

#[cube]
fn sign<F: Float>(x: F) -> F {
    let mut s = F::new(0.0);
    if x > F::new(0.0) {
        s = F::new(1.0);
    }
    if x < F::new(0.0) {
        s = F::new(-1.0);
    }
    s
}

/// `σ(x)` from `e = exp(−|x|)`: `e/(1+e)` for `x ≤ 0` (½ at 0, as Keras/JAX), else `1/(1+e)`.
#[cube]
fn sigmoid_from<F: Float>(x: F, e: F) -> F {
    let ru = F::new(1.0) / (F::new(1.0) + e);
    let mut s = e * ru;
    if x > F::new(0.0) {
        s = ru;
    }
    s
}

/// `f(t, p)` and `∂f/∂p` of elementwise loss `kind` (the [`Elementwise`] codes of [`kind_code`]).
#[cube]
fn pointwise<F: Float>(t: F, p: F, params: &Params, #[comptime] kind: u32) -> Vd<F> {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let eps = F::new(EPS);
    let mut v = zero;
    let mut d = zero;
    if comptime![kind == 0] {
        // MSE
        let e = t - p;
        v = e * e;
        d = F::new(-2.0) * e;
    } else if comptime![kind == 1] {
        // MAE
        let e = t - p;
        v = e.abs();
        d = -sign::<F>(e);
    } else if comptime![kind == 2] {
        // Huber: a0 = delta, a1 = delta²/2
        let delta = params.a0.get::<F>();
        let e = p - t;
        let a = e.abs();
        if a <= delta {
            v = e * e * F::new(0.5);
            d = e;
        } else {
            v = a * delta - params.a1.get::<F>();
            d = delta * sign::<F>(e);
        }
    } else if comptime![kind == 3] {
        // LogCosh: x + softplus(−2x) − ln 2
        let x = p - t;
        let y = x * F::new(-2.0);
        let e = (-y.abs()).exp();
        let mut sp = e.log1p();
        if y > zero {
            sp += y;
        }
        v = x + sp - F::new(core::f32::consts::LN_2);
        d = one - F::new(2.0) * sigmoid_from::<F>(y, e);
    } else if comptime![kind == 4] {
        // MSLE
        let mut a = p;
        let clipped = p < eps;
        if clipped {
            a = eps;
        }
        a += one;
        let mut b = t;
        if t < eps {
            b = eps;
        }
        b += one;
        let e = a.ln() - b.ln();
        v = e * e;
        if !clipped {
            d = (e + e) / a;
        }
    } else if comptime![kind == 5] {
        // MAPE (×100 in the caller's constant)
        let mut den = t.abs();
        if den < eps {
            den = eps;
        }
        let q = (t - p) / den;
        v = q.abs();
        d = -sign::<F>(q) / den;
    } else if comptime![kind == 6] {
        // Poisson
        let a = p + eps;
        v = p - t * a.ln();
        d = one - t / a;
    } else if comptime![kind == 7 || kind == 8] {
        // Hinge (7), squared hinge (8): t' = a0·t + a1
        let tt = t * params.a0.get::<F>() + params.a1.get::<F>();
        let z = one - tt * p;
        // Off only when z < 0 (not "on when z ≥ 0"): a NaN takes this branch and propagates, as in
        // Keras.
        let off = z < zero;
        if !off {
            if comptime![kind == 7] {
                v = z;
                d = -tt;
            } else {
                v = z * z;
                d = -(z + z) * tt;
            }
        }
    } else if comptime![kind == 9] {
        // Binary cross-entropy from logits: t' = a0·t + a1
        let tt = t * params.a0.get::<F>() + params.a1.get::<F>();
        let e = (-p.abs()).exp();
        let mut relu = zero;
        if p > zero {
            relu = p;
        }
        v = relu - tt * p + e.log1p();
        d = sigmoid_from::<F>(p, e) - tt;
    } else {
        // Binary focal cross-entropy from logits (10; 11 with class balancing):
        // t' = a0·t + a1, gamma = a2, alpha = a3.
        let tt = t * params.a0.get::<F>() + params.a1.get::<F>();
        let nt = one - tt;
        let gamma = params.a2.get::<F>();
        let e = (-p.abs()).exp();
        let l1 = e.log1p();
        let sig_pos = sigmoid_from::<F>(p, e);
        let sig_neg = sigmoid_from::<F>(-p, e);
        let mut neg_part = zero;
        let mut pos_part = zero;
        if p < zero {
            neg_part = -p;
        }
        if p > zero {
            pos_part = p;
        }
        let ls_pos = -(neg_part + l1);
        let ls_neg = -(pos_part + l1);
        let dpos = sig_neg;
        let dneg = -sig_pos;
        let bce = -(tt * ls_pos + nt * ls_neg);
        let dbce = -(tt * dpos + nt * dneg);
        let omp = tt * sig_neg + nt * sig_pos;
        let domp = tt * (sig_neg * dneg) + nt * (sig_pos * dpos);
        let mut pw = one;
        let mut dpw = zero;
        if gamma == one {
            pw = omp;
            dpw = one;
        } else if gamma == F::new(2.0) {
            pw = omp * omp;
            dpw = omp + omp;
        } else if gamma != zero {
            let lx = omp.ln();
            pw = (gamma * lx).exp();
            dpw = gamma * ((gamma - one) * lx).exp();
        }
        v = pw * bce;
        d = dpw * domp * bce + pw * dbce;
        if comptime![kind == 11] {
            let alpha = params.a3.get::<F>();
            let k = tt * alpha + nt * (one - alpha);
            v *= k;
            d *= k;
        }
    }
    Vd::<F> { v, d }
}

/// The weight of reduced position `r`: `sample[r / srep] · mask'(mask[r / mrep])`, where
/// `mask'(m) = [m ≠ 0] · scalars[1]` under the rescale rule, `m` otherwise.
#[cube]
fn weight<F: Float>(
    r: usize,
    sample: &Tensor<F>,
    mask: &Tensor<F>,
    scalars: &Tensor<F>,
    srep: usize,
    mrep: usize,
    #[comptime] has_sample: bool,
    #[comptime] has_mask: bool,
    #[comptime] rescale: bool,
) -> F {
    let mut w = F::new(1.0);
    if comptime![has_sample] {
        w = sample[r / srep];
    }
    if comptime![has_mask] {
        let m = mask[r / mrep];
        if comptime![rescale] {
            if m != F::new(0.0) {
                w *= scalars[1];
            } else {
                w = F::new(0.0);
            }
        } else {
            w *= m;
        }
    }
    w
}

/// Tree sum of `shared[0..CUBE_DIM)` into `shared[0]` (all threads of the cube take part; the
/// cube size is a power of two).
#[cube]
fn cube_sum<F: Float>(shared: &mut Shared<[F]>, tid: usize) {
    let mut half = (CUBE_DIM / 2) as usize;
    while half > 0 {
        if tid < half {
            let other = shared[tid + half];
            shared[tid] += other;
        }
        sync_cube();
        half /= 2;
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn elementwise_kernel<F: Float>(
    target: &Tensor<F>,
    pred: &Tensor<F>,
    sample: &Tensor<F>,
    mask: &Tensor<F>,
    scalars: &Tensor<F>,
    grad: &mut Tensor<F>,
    partials: &mut Tensor<F>,
    params: &Params,
    c: usize,
    post: usize,
    srep: usize,
    mrep: usize,
    coef: InputScalar,
    #[comptime] kind: u32,
    #[comptime] has_sample: bool,
    #[comptime] has_mask: bool,
    #[comptime] rescale: bool,
) {
    let tid = UNIT_POS as usize;
    let cube = CUBE_POS;
    let n = pred.len();
    // coef = SCALE / c; the gradient also carries the scale (1 / divisor).
    let k = coef.get::<F>() * scalars[0];
    let mut acc = F::new(0.0);
    let base = cube * comptime![(CUBE as usize) * PER_THREAD];
    #[unroll]
    for i in 0..PER_THREAD {
        let e = base + i * comptime![CUBE as usize] + tid;
        if e < n {
            let r = (e / (c * post)) * post + e % post;
            let w = weight::<F>(r, sample, mask, scalars, srep, mrep, has_sample, has_mask, rescale);
            let vd = pointwise::<F>(target[e], pred[e], params, kind);
            acc += vd.v * w;
            grad[e] = vd.d * w * k;
        }
    }
    let mut shared = Shared::<[F]>::new_slice(comptime![CUBE as usize]);
    shared[tid] = acc;
    sync_cube();
    cube_sum::<F>(&mut shared, tid);
    if tid == 0 {
        partials[cube] = shared[0];
    }
}

/// The class index of a sparse label, or `c` when it does not count (out of range, or the
/// ignored class): then every `t'_j` of its row is 0, and so are its loss and gradient.
#[cube]
#[allow(clippy::collapsible_if)] // a compile-time condition around a run-time one
fn label_index<F: Float>(label: F, c: usize, params: &Params, #[comptime] has_ignore: bool) -> usize {
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
fn target_prob<F: Float>(
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
fn row_reduce<F: Float>(red: &mut Shared<[F]>, v: F, #[comptime] max: bool) -> F {
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
fn softmax_rows_kernel<F: Float>(
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
fn softmax_strided_kernel<F: Float>(
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

/// `out[0] = coef · scalars[0] · Σ partials`, in one cube (a fixed order of additions).
#[cube(launch)]
fn finish_kernel<F: Float>(partials: &Tensor<F>, scalars: &Tensor<F>, out: &mut Tensor<F>, coef: InputScalar) {
    let tid = UNIT_POS as usize;
    let n = partials.len();
    let mut acc = F::new(0.0);
    let mut i = tid;
    while i < n {
        acc += partials[i];
        i += CUBE_DIM as usize;
    }
    let mut red = Shared::<[F]>::new_slice(comptime![CUBE as usize]);
    red[tid] = acc;
    sync_cube();
    cube_sum::<F>(&mut red, tid);
    if tid == 0 {
        out[0] = red[0] * scalars[0] * coef.get::<F>();
    }
}

/// The code of an elementwise loss in [`pointwise`], its four parameters and its constant factor.
fn kind_code(kind: Elementwise) -> (u32, [f32; 4], f64) {
    match kind {
        Elementwise::Mse => (0, [0.0; 4], 1.0),
        Elementwise::Mae => (1, [0.0; 4], 1.0),
        Elementwise::Huber { delta } => (2, [delta, (0.5 * f64::from(delta) * f64::from(delta)) as f32, 0.0, 0.0], 1.0),
        Elementwise::LogCosh => (3, [0.0; 4], 1.0),
        Elementwise::Msle => (4, [0.0; 4], 1.0),
        Elementwise::Mape => (5, [0.0; 4], 100.0),
        Elementwise::Poisson => (6, [0.0; 4], 1.0),
        Elementwise::Hinge { convert } => (7, hinge_params(convert), 1.0),
        Elementwise::SquaredHinge { convert } => (8, hinge_params(convert), 1.0),
        Elementwise::BinaryCrossentropyLogits { label_smoothing } => {
            let (a, b) = smoothing(label_smoothing, 0.5);
            (9, [a, b, 0.0, 0.0], 1.0)
        }
        Elementwise::BinaryFocalLogits { gamma, alpha, apply_class_balancing, label_smoothing } => {
            let (a, b) = smoothing(label_smoothing, 0.5);
            (if apply_class_balancing { 11 } else { 10 }, [a, b, gamma, alpha], 1.0)
        }
    }
}

fn hinge_params(convert: bool) -> [f32; 4] {
    if convert { [2.0, -1.0, 0.0, 0.0] } else { [1.0, 0.0, 0.0, 0.0] }
}

fn params(p: [f32; 4]) -> ParamsLaunch {
    let s = |v: f32| InputScalar::new(v, f32::elem_type_native());
    ParamsLaunch::new(s(p[0]), s(p[1]), s(p[2]), s(p[3]))
}

fn scalar(v: f64) -> InputScalar {
    InputScalar::new(v as f32, f32::elem_type_native())
}

/// The cube count for `cubes` cubes (split over two dimensions past [`MAX_CUBES_X`]; the
/// kernels index by the flattened `CUBE_POS` and skip past the end).
fn cube_count(cubes: usize) -> CubeCount {
    let cubes = cubes.max(1) as u32;
    if cubes <= MAX_CUBES_X {
        CubeCount::Static(cubes, 1, 1)
    } else {
        CubeCount::Static(MAX_CUBES_X, cubes.div_ceil(MAX_CUBES_X), 1)
    }
}

fn launched_cubes(count: &CubeCount) -> usize {
    match count {
        CubeCount::Static(x, y, z) => (*x as usize) * (*y as usize) * (*z as usize),
        _ => 0,
    }
}

/// Runs the fused loss of `spec`: the value (shape `[1]`) and the gradient (`pred`'s shape).
fn run(inputs: Inputs<CubeBackend>, spec: &Spec) -> ValueAndGrad<CubeBackend> {
    let Inputs { target, pred, sample, mask, scalars } = inputs;
    let pred = into_contiguous(pred);
    let (client, device) = (pred.client.clone(), pred.device.clone());
    let shape: Shape = pred.meta.shape().clone();
    let target = into_contiguous(match target {
        Target::Dense(t) | Target::Labels(t) => t,
    });
    let present = |f: Factor<CubeBackend>| match f {
        Factor::Absent => None,
        Factor::Present(t) => Some(into_contiguous(t)),
    };
    let sample = present(sample);
    let mask = present(mask);
    let scalars = match present(scalars) {
        Some(s) => s,
        None => {
            // The caller always passes the scalars on a CubeCL device; without them the loss is NaN
            // (loud) rather than a number computed with a wrong scale.
            let nan = burn::tensor::TensorData::new(vec![f32::NAN, f32::NAN], [2]);
            <CubeBackend as burn::backend::ops::FloatTensorOps<CubeBackend>>::float_from_data(nan, &device)
        }
    };
    let (has_sample, has_mask) = (sample.is_some(), mask.is_some());
    let rescale = has_mask && spec.mask_rule == MaskRule::Rescale;
    let placeholder = pred.clone();
    let sample = sample.unwrap_or_else(|| placeholder.clone());
    let mask = mask.unwrap_or_else(|| placeholder.clone());
    let dims = spec.dims;
    let grad = empty_device_dtype(client.clone(), device.clone(), shape, DType::F32);
    let dim = CubeDim::new_1d(CUBE);
    let (count, coef) = match spec.kind {
        KernelKind::Elementwise(kind) => {
            let (code, p, constant) = kind_code(kind);
            let count = cube_count(dims.len().div_ceil(CUBE as usize * PER_THREAD));
            let partials = partials_for(&client, &device, &count);
            elementwise_kernel::launch::<f32>(
                &client,
                count.clone(),
                dim,
                target.into_tensor_arg(),
                pred.into_tensor_arg(),
                sample.into_tensor_arg(),
                mask.into_tensor_arg(),
                scalars.clone().into_tensor_arg(),
                grad.clone().into_tensor_arg(),
                partials.clone().into_tensor_arg(),
                params(p),
                dims.c,
                dims.post,
                spec.sample_repeat.max(1),
                spec.mask_repeat.max(1),
                scalar(constant / dims.c as f64),
                code,
                has_sample,
                has_mask,
                rescale,
            );
            (partials, constant / dims.c as f64)
        }
        KernelKind::Softmax(_) | KernelKind::Sparse(_) => {
            let sparse = matches!(spec.kind, KernelKind::Sparse(_));
            let (p, has_ignore) = match spec.kind {
                KernelKind::Softmax(ls) => {
                    let (a, b) = smoothing(ls, 1.0 / dims.c as f64);
                    ([a, b, 0.0, 0.0], false)
                }
                KernelKind::Sparse(ignore) => ([1.0, 0.0, ignore.unwrap_or(0) as f32, 0.0], ignore.is_some()),
                KernelKind::Elementwise(_) => ([0.0; 4], false),
            };
            let rows = dims.reduced();
            if dims.post == 1 {
                let count = cube_count(rows.div_ceil(ROWS_PER_CUBE as usize));
                let partials = partials_for(&client, &device, &count);
                softmax_rows_kernel::launch::<f32>(
                    &client,
                    count.clone(),
                    CubeDim::new_2d(ROW_THREADS, ROWS_PER_CUBE),
                    target.into_tensor_arg(),
                    pred.into_tensor_arg(),
                    sample.into_tensor_arg(),
                    mask.into_tensor_arg(),
                    scalars.clone().into_tensor_arg(),
                    grad.clone().into_tensor_arg(),
                    partials.clone().into_tensor_arg(),
                    params(p),
                    rows,
                    dims.c,
                    spec.sample_repeat.max(1),
                    spec.mask_repeat.max(1),
                    sparse,
                    has_ignore,
                    has_sample,
                    has_mask,
                    rescale,
                );
                (partials, 1.0)
            } else {
                let count = cube_count(rows.div_ceil(CUBE as usize));
                let partials = partials_for(&client, &device, &count);
                softmax_strided_kernel::launch::<f32>(
                    &client,
                    count.clone(),
                    dim,
                    target.into_tensor_arg(),
                    pred.into_tensor_arg(),
                    sample.into_tensor_arg(),
                    mask.into_tensor_arg(),
                    scalars.clone().into_tensor_arg(),
                    grad.clone().into_tensor_arg(),
                    partials.clone().into_tensor_arg(),
                    params(p),
                    rows,
                    dims.c,
                    dims.post,
                    spec.sample_repeat.max(1),
                    spec.mask_repeat.max(1),
                    sparse,
                    has_ignore,
                    has_sample,
                    has_mask,
                    rescale,
                );
                (partials, 1.0)
            }
        }
    };
    let value = empty_device_dtype(client.clone(), device, Shape::new([1]), DType::F32);
    finish_kernel::launch::<f32>(
        &client,
        CubeCount::Static(1, 1, 1),
        dim,
        count.into_tensor_arg(),
        scalars.into_tensor_arg(),
        value.clone().into_tensor_arg(),
        scalar(coef),
    );
    ValueAndGrad { value, grad }
}

/// One partial sum per launched cube (cubes past the work write 0).
fn partials_for(client: &cubecl::client::Client, device: &burn_cubecl::CubeDevice, count: &CubeCount) -> CubeTensor {
    empty_device_dtype(client.clone(), device.clone(), Shape::new([launched_cubes(count)]), DType::F32)
}

impl FusedLossBackend for CubeBackend {
    fn fused_loss(inputs: Inputs<Self>, spec: Spec) -> CubeTensor {
        run(inputs, &spec).value
    }

    fn fused_value_and_grad(inputs: Inputs<Self>, spec: Spec) -> ValueAndGrad<Self> {
        run(inputs, &spec)
    }
}
