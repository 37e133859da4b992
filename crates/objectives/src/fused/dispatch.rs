//! The fused path's dispatch: [`try_fused`] decides from the tensors and the reducer's plan
//! whether a loss runs fused, and where (Flex or a CubeCL device); [`calls`] counts, and
//! [`with_fused`] turns the path off or on for a thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::backend::DispatchDevice;
use burn::tensor::{DType, FloatDType, Tensor};

use super::backend::{Factor, FusedLossBackend, Inputs, Target};
use super::kernels::{Dims, Elementwise};
use super::kind::{FusedKernel, FusedKind};
use super::spec::{KernelKind, Spec};
use crate::error::Result;
#[cfg(feature = "cube")]
use crate::reduce::{Divisor, MaskRule};
use crate::reduce::{Operand, ReducePlan, Reduction};
use crate::tensor::dyn_tensor::DynTensor;

static CALLS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CALLS_HERE: Cell<u64> = const { Cell::new(0) };
    static ENABLED: Cell<bool> = Cell::new(std::env::var("OBJECTIVES_FUSED").map_or(true, |v| v != "0"));
}

/// How many losses were computed by a fused kernel in this process.
pub fn calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

/// How many losses were computed by a fused kernel on the calling thread.
pub fn calls_on_this_thread() -> u64 {
    CALLS_HERE.with(Cell::get)
}

/// Runs `f` with the fused path on (`true`) or off (`false`) for this thread, then restores it.
/// The default is on, unless the environment variable `OBJECTIVES_FUSED=0`.
pub fn with_fused<T>(enabled: bool, f: impl FnOnce() -> T) -> T {
    let before = ENABLED.with(|e| e.replace(enabled));
    let out = f();
    ENABLED.with(|e| e.set(before));
    out
}

/// Where the fused kernels run: Flex (the CPU kernels, [`kernels`]) or a CubeCL device (wgpu,
/// CUDA: the GPU kernels of `fused/cube/`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Home {
    Flex,
    #[cfg(feature = "cube")]
    Cube,
}

fn home(t: &DynTensor) -> Option<Home> {
    match t.device().inner().as_dispatch() {
        #[cfg(feature = "flex")]
        DispatchDevice::Flex(_) => Some(Home::Flex),
        #[cfg(feature = "cube")]
        DispatchDevice::Cube(_) => Some(Home::Cube),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The fused loss, or `None` where the fused path does not apply (see the module docs).
pub(crate) fn try_fused(
    kernel: FusedKernel,
    reduction: Reduction,
    loss_dtype: FloatDType,
    y_true: &DynTensor,
    y_pred: &DynTensor,
    sample_weight: Option<&DynTensor>,
    mask: Option<&DynTensor>,
) -> Option<Result<DynTensor>> {
    if !ENABLED.with(Cell::get) || reduction == Reduction::None || loss_dtype != FloatDType::F32 {
        return None;
    }
    let FusedKernel { kind, axis } = kernel;
    let place = home(y_pred)?;
    if y_pred.dtype() != DType::F32 || y_pred.rank() == 0 {
        return None;
    }
    let constant = |t: &DynTensor| !t.padded().is_require_grad() && home(t) == Some(place);
    if !constant(y_true) || sample_weight.is_some_and(|w| !constant(w)) || mask.is_some_and(|m| !constant(m)) {
        return None;
    }
    let shape = y_pred.shape().to_vec();
    let rank = shape.len() as i64;
    let axis = if axis < 0 { axis + rank } else { axis };
    let axis = usize::try_from(axis).ok().filter(|a| *a < shape.len())?;
    let c = shape[axis];
    if c == 0 {
        return None;
    }
    let mut reduced = shape.clone();
    reduced.remove(axis);
    if reduced.is_empty() || reduced.contains(&0) {
        return None; // scalar or empty per-sample losses: the reducer's special cases
    }
    let dims = Dims { pre: shape[..axis].iter().product(), c, post: shape[axis + 1..].iter().product() };
    let n_reduced = dims.reduced();

    // The target, and the kernel.
    let mut extra_mask: Option<DynTensor> = None;
    let (kernel, target) = match kind {
        FusedKind::SparseSoftmax { ignore_class } => {
            // The composed path's own alignment, so both accept (and refuse) the same shapes.
            let name = "sparse_categorical_crossentropy";
            let aligned = crate::tensor::labels::align_sparse(name, y_true, y_pred, axis as i64);
            let (labels, p, _) = match aligned {
                Ok(a) => a,
                Err(e) => return Some(Err(e)),
            };
            if p.shape() != shape.as_slice() {
                return None;
            }
            if let Err(e) = crate::tensor::labels::check_labels(name, &labels, c, ignore_class) {
                return Some(Err(e));
            }
            if let Some(ignore) = ignore_class {
                if mask.is_some() {
                    return None; // combining both masks: the composed path
                }
                extra_mask = Some(labels.clone().map(|t| t.not_equal_elem(ignore as f64).float()));
            }
            (
                KernelKind::Sparse(ignore_class),
                Target::Labels(labels.cast(FloatDType::F32).into_padded().into_dispatch()),
            )
        }
        _ => {
            if y_true.shape() != shape.as_slice() || y_true.dtype() != DType::F32 {
                return None;
            }
            let kernel = match kind {
                FusedKind::Elementwise(e) => KernelKind::Elementwise(e),
                FusedKind::Hinge { squared } => {
                    // Keras converts 0/1 labels to ±1 only when every label is 0 or 1.
                    let p = y_true.padded().clone();
                    let not01 = p.clone().not_equal_elem(0.0).bool_and(p.not_equal_elem(1.0));
                    let convert = !not01.any().try_into_scalar::<bool>().ok()?;
                    KernelKind::Elementwise(if squared {
                        Elementwise::SquaredHinge { convert }
                    } else {
                        Elementwise::Hinge { convert }
                    })
                }
                FusedKind::Softmax { label_smoothing } => KernelKind::Softmax(label_smoothing),
                FusedKind::SparseSoftmax { .. } => return None,
            };
            (kernel, Target::Dense(y_true.clone().into_padded().into_dispatch()))
        }
    };
    let mask = extra_mask.as_ref().or(mask);

    // The reducer's plan; each weight must cover a leading part of the per-sample loss shape.
    let Ok(plan) =
        ReducePlan::new(reduction, &reduced, sample_weight.map(DynTensor::shape), mask.map(DynTensor::shape))
    else {
        return None; // the composed path reports the shape error
    };
    // (leading axes covered, repeat) of each factor; absent: (0, 1).
    let layout = |op: &Option<Operand>| match op {
        None => Some((0, 1)),
        Some(op) => Some((op.leading?, op.repeat(&reduced)?)),
    };
    let (sample_k, sample_repeat) = layout(&plan.sample_weight)?;
    let (mask_k, mask_repeat) = layout(&plan.mask)?;
    let covered: usize = reduced[..sample_k.max(mask_k)].iter().product();
    let spec = Spec {
        kind: kernel,
        dims,
        sample_repeat,
        mask_repeat,
        mask_rule: plan.mask_rule,
        divisor: plan.divisor,
        weight_per_position: covered as f64 / n_reduced.max(1) as f64,
    };
    let factor = |w: Option<&DynTensor>| match w {
        None => Factor::Absent,
        Some(w) => Factor::Present(w.clone().cast(FloatDType::F32).into_padded().into_dispatch()),
    };
    let scalars = match place {
        Home::Flex => Factor::Absent,
        #[cfg(feature = "cube")]
        Home::Cube => {
            Factor::Present(device_scalars(&spec, n_reduced, sample_weight, mask, &y_pred.device()).into_dispatch())
        }
    };
    let inputs = Inputs {
        target,
        pred: y_pred.clone().into_padded().into_dispatch(),
        sample: factor(sample_weight),
        mask: factor(mask),
        scalars,
    };
    CALLS.fetch_add(1, Ordering::Relaxed);
    CALLS_HERE.with(|c| c.set(c.get() + 1));
    let value = Tensor::<1>::from_dispatch(<burn::backend::Dispatch as FusedLossBackend>::fused_loss(inputs, spec));
    Some(Ok(DynTensor::from(value).reshape(vec![])))
}

/// `[1 / divisor, mask rescale]` of `spec` as a device tensor, computed with tensor ops on the
/// weights' device and never read back: what [`run_kernel`] computes on the host for Flex, for
/// the GPU kernels. The divisor is 0-safe (a zero divisor gives a scale of 0, Keras's
/// divide-no-nan), the counts are [`DynTensor::sum_all`]'s accurate sums.
#[cfg(feature = "cube")]
fn device_scalars(
    spec: &Spec,
    n_reduced: usize,
    sample: Option<&DynTensor>,
    mask: Option<&DynTensor>,
    d: &burn::tensor::Device,
) -> Tensor<1> {
    let flat = |t: &DynTensor| -> Tensor<1> {
        let t = t.clone().cast(FloatDType::F32);
        let n = t.numel();
        t.into_padded().reshape([n])
    };
    let sum = |t: Tensor<1>| -> Tensor<1> { DynTensor::from(t).sum_all().into_padded().reshape([1]) };
    let ones = |d: &burn::tensor::Device| Tensor::<1>::ones([1], d);
    // Keras's rescale of a valid position, total / valid (0 when nothing is valid).
    let rescaled_mask = match (spec.mask_rule, mask) {
        (MaskRule::Rescale, Some(m)) => {
            let m = flat(m);
            let total = m.dims()[0] as f64;
            let valid = sum(m.clone().not_equal_elem(0.0).float());
            let rescale = valid.clone().clamp_min(0.5).recip().mul_scalar(total).mul(valid.clamp_max(1.0));
            Some((m, rescale))
        }
        _ => None,
    };
    let divisor = match spec.divisor {
        Divisor::WeightSum if sample.is_some() || mask.is_some() => {
            let expand = |f: Tensor<1>, repeat: usize| -> Tensor<1> {
                let k = f.dims()[0];
                f.reshape([k, 1]).expand([k, repeat.max(1)]).reshape([k * repeat.max(1)])
            };
            let s = sample.map(|s| expand(flat(s), spec.sample_repeat));
            let m = match (&rescaled_mask, mask) {
                (Some((m, rescale)), _) => {
                    Some(expand(m.clone().not_equal_elem(0.0).float(), spec.mask_repeat).mul(rescale.clone()))
                }
                (None, Some(m)) => Some(expand(flat(m), spec.mask_repeat)),
                (None, None) => None,
            };
            let w = match (s, m) {
                (Some(s), Some(m)) => s.mul(m),
                (Some(w), None) | (None, Some(w)) => w,
                (None, None) => ones(d).mul_scalar(n_reduced as f64),
            };
            Some(sum(w).mul_scalar(spec.weight_per_position))
        }
        _ => None,
    };
    let divisor = divisor.unwrap_or_else(|| {
        let n = match spec.divisor {
            Divisor::Count | Divisor::WeightSum => n_reduced as f64,
            Divisor::Unreduced | Divisor::One => 1.0,
        };
        ones(d).mul_scalar(n)
    });
    let zero = divisor.clone().equal_elem(0.0);
    let scale = divisor.recip().mask_fill(zero, 0.0);
    let rescale = rescaled_mask.map_or_else(|| ones(d), |(_, r)| r);
    Tensor::cat(vec![scale, rescale], 0)
}
