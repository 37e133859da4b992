//! What every CubeCL kernel shares: the loss parameters, the weight of a reduced position, the
//! cube-wide tree sum, the small math helpers, and the kernel that adds the partial sums.

use cubecl::prelude::*;

/// Threads per cube of the elementwise and strided kernels.
pub(super) const CUBE: u32 = 256;
/// Elements per thread of the elementwise kernel.
pub(super) const PER_THREAD: usize = 8;
/// Threads per row of the contiguous softmax kernel (a power of two).
pub(super) const ROW_THREADS: u32 = 32;
/// Rows per cube of the contiguous softmax kernel.
pub(super) const ROWS_PER_CUBE: u32 = CUBE / ROW_THREADS;
/// The most cubes along one dimension of a launch (WebGPU's limit).
pub(super) const MAX_CUBES_X: u32 = 65_535;

pub(super) const EPS: f32 = crate::EPSILON as f32;

/// Loss parameters, read at run time (one compiled kernel per loss kind, not per parameter).
#[derive(CubeLaunch, CubeType)]
pub(super) struct Params {
    pub(super) a0: InputScalar,
    pub(super) a1: InputScalar,
    pub(super) a2: InputScalar,
    pub(super) a3: InputScalar,
}

/// A value and its derivative.
#[derive(CubeType)]
pub(super) struct Vd<F: Float> {
    pub(super) v: F,
    pub(super) d: F,
}

#[cube]
pub(super) fn sign<F: Float>(x: F) -> F {
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
pub(super) fn sigmoid_from<F: Float>(x: F, e: F) -> F {
    let ru = F::new(1.0) / (F::new(1.0) + e);
    let mut s = e * ru;
    if x > F::new(0.0) {
        s = ru;
    }
    s
}

/// The weight of reduced position `r`: `sample[r / srep] · mask'(mask[r / mrep])`, where
/// `mask'(m) = [m ≠ 0] · scalars[1]` under the rescale rule, `m` otherwise.
#[cube]
pub(super) fn weight<F: Float>(
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
pub(super) fn cube_sum<F: Float>(shared: &mut Shared<[F]>, tid: usize) {
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

/// `out[0] = coef · scalars[0] · Σ partials`, in one cube (a fixed order of additions).
#[cube(launch)]
pub(super) fn finish_kernel<F: Float>(
    partials: &Tensor<F>,
    scalars: &Tensor<F>,
    out: &mut Tensor<F>,
    coef: InputScalar,
) {
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
