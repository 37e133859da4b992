//! The fused losses on burn's CubeCL backends (wgpu, CUDA): the same single-pass value and
//! gradient as the CPU kernels, written for a GPU.
//!
//! - **Elementwise losses** ([`Elementwise`](crate::fused::Elementwise)): one thread per element, [`PER_THREAD`] elements
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
//! a two-element device tensor computed by the caller (`device_scalars` in `fused/mod.rs`), so a
//! training step never waits on the GPU for them.
//!
//! Files: [`common`] (parameters, weights, the cube-wide sum, the finishing kernel),
//! [`elementwise`](mod@elementwise), [`softmax`]; this file launches them.

use burn::tensor::{DType, Shape};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::backend::{Factor, FusedLossBackend, Inputs, Target, ValueAndGrad};
use super::kernels::{Elementwise, smoothing};
use super::spec::{KernelKind, Spec};
use crate::reduce::MaskRule;

mod common;
mod elementwise;
mod softmax;

use common::{CUBE, MAX_CUBES_X, PER_THREAD, ParamsLaunch, ROW_THREADS, ROWS_PER_CUBE, finish_kernel};
use elementwise::elementwise_kernel;
use softmax::{softmax_rows_kernel, softmax_strided_kernel};

/// The code of an elementwise loss in `elementwise::pointwise`, its four parameters and its constant factor.
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
