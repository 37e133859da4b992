//! The fused losses on burn's Flex backend: the CPU kernels, on contiguous host slices.

use burn::backend::Flex;
use burn::backend::flex::{FlexTensor, Layout};
use burn::tensor::{Bytes, DType, Shape};

use super::{Factor, FusedLossBackend, Inputs, Target, ValueAndGrad};
use crate::fused::spec::{Spec, run_kernel};

/// A contiguous f32 view of `t` (copied only if it is strided or not f32).
fn contiguous(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => {
            // Strided (or not f32): one contiguous f32 copy.
            std::borrow::Cow::Owned(
                t.to_contiguous().into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default(),
            )
        }
    }
}

fn factor(f: &Factor<Flex>) -> Option<std::borrow::Cow<'_, [f32]>> {
    match f {
        Factor::Absent => None,
        Factor::Present(t) => Some(contiguous(t)),
    }
}

fn scalar(v: f64) -> FlexTensor {
    FlexTensor::new(Bytes::from_elems(vec![v as f32]), Layout::contiguous(Shape::new([1])), DType::F32)
}

fn run(inputs: &Inputs<Flex>, spec: &Spec) -> (f64, FlexTensor) {
    let pred = contiguous(&inputs.pred);
    let sample = factor(&inputs.sample);
    let mask = factor(&inputs.mask);
    let target = match &inputs.target {
        Target::Dense(t) | Target::Labels(t) => contiguous(t),
    };
    // `inputs.scalars` is for the CubeCL kernels; run_kernel computes them from the weights.
    let mut grad = crate::fused::pool::take(pred.len());
    let value = run_kernel(spec, &target, &pred, sample.as_deref(), mask.as_deref(), &mut grad);
    let shape = inputs.pred.layout().shape().clone();
    (value, crate::fused::pool::into_tensor(grad, shape))
}

impl FusedLossBackend for Flex {
    fn fused_loss(inputs: Inputs<Self>, spec: Spec) -> FlexTensor {
        scalar(run(&inputs, &spec).0)
    }

    fn fused_value_and_grad(inputs: Inputs<Self>, spec: Spec) -> ValueAndGrad<Self> {
        let (value, grad) = run(&inputs, &spec);
        ValueAndGrad { value: scalar(value), grad }
    }
}
