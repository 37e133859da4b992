//! The fused losses as a burn backend extension: a Flex implementation that runs the
//! single-pass kernels, and an Autodiff implementation whose backward reuses the gradient the
//! forward pass computed.
//!
//! `try_fused` sends a tensor here only when it lives on Flex or on a CubeCL device (wgpu, CUDA),
//! with or without autodiff; every other backend takes the composed path, which is the reference
//! these kernels are tested against.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, ExtensionType, TensorMetadata, backend_extension};

use super::spec::Spec;

/// The target of a fused loss: dense values (same shape as the predictions) or class labels
/// (stored as floats, the predictions' shape without the class axis).
#[derive(ExtensionType)]
pub enum Target<B: Backend> {
    /// `y_true` with `y_pred`'s shape.
    Dense(FloatTensor<B>),
    /// Integer class labels held in a float tensor.
    Labels(FloatTensor<B>),
}

/// An optional weight factor (sample weight or mask), contiguous over a prefix of the reduced
/// shape.
#[derive(ExtensionType)]
pub enum Factor<B: Backend> {
    /// No factor: weight 1.
    Absent,
    /// The factor's values.
    Present(FloatTensor<B>),
}

/// Everything a fused loss reads.
#[derive(ExtensionType)]
pub struct Inputs<B: Backend> {
    /// `y_true` or labels.
    #[extension_type]
    pub target: Target<B>,
    /// `y_pred` (or logits): the tensor differentiated.
    pub pred: FloatTensor<B>,
    /// Sample weight.
    #[extension_type]
    pub sample: Factor<B>,
    /// Mask.
    #[extension_type]
    pub mask: Factor<B>,
    /// On CubeCL devices, `[1 / divisor, mask rescale]` computed on the device (so that nothing is
    /// read back to the host); absent on Flex, whose kernels compute them in place.
    #[extension_type]
    pub scalars: Factor<B>,
}

/// The reduced loss (shape `[1]`) and its gradient with respect to `pred`.
#[derive(ExtensionType)]
pub struct ValueAndGrad<B: Backend> {
    /// The loss, shape `[1]`.
    pub value: FloatTensor<B>,
    /// `∂value/∂pred`, `pred`'s shape.
    pub grad: FloatTensor<B>,
}

/// Fused loss kernels as a backend extension: Flex (the CPU kernels), burn's CubeCL backend
/// (wgpu, CUDA: the kernels of `fused/cube/`) and Autodiff over either.
#[backend_extension(Flex: cfg(feature = "flex"), Cube: cfg(feature = "cube"), Autodiff)]
pub trait FusedLossBackend: Backend {
    /// The reduced loss, shape `[1]`; differentiable with respect to `inputs.pred` on Autodiff.
    fn fused_loss(#[extension_type] inputs: Inputs<Self>, spec: Spec) -> FloatTensor<Self>;

    /// The reduced loss and its gradient, computed together (not tracked by autodiff).
    fn fused_value_and_grad(#[extension_type] inputs: Inputs<Self>, spec: Spec) -> ValueAndGrad<Self>;
}

#[cfg(feature = "flex")]
mod flex;

/// Backward of a fused loss: the incoming gradient (a scalar) times the gradient saved by the
/// forward pass; skipped when the incoming gradient is exactly 1 (a loss back-propagated as is).
#[derive(Debug)]
struct FusedBackward;

impl<B: Backend> Backward<B, 1> for FusedBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let saved = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad_out| {
            if !on_host::<B>() {
                // On a GPU, reading the incoming gradient back would stall the step: multiply.
                let ones = vec![1; saved.shape().num_dims()];
                return B::float_mul(saved, B::float_reshape(grad_out, ones.into()));
            }
            let g = block_on(B::float_into_data(grad_out.clone()))
                .ok()
                .and_then(|d| d.convert::<f64>().try_to_vec::<f64>().ok())
                .and_then(|v| v.first().copied())
                .unwrap_or(f64::NAN);
            if g == 1.0 {
                saved
            } else if g.is_finite() {
                B::float_mul_scalar(saved, g.into())
            } else {
                // A non-finite incoming gradient broadcasts as the composed path would.
                let ones = vec![1; saved.shape().num_dims()];
                B::float_mul(saved, B::float_reshape(grad_out, ones.into()))
            }
        });
    }
}

/// Whether `B` computes on the host (Flex), where reading a scalar back costs nothing.
fn on_host<B: Backend>() -> bool {
    #[cfg(feature = "flex")]
    if std::any::TypeId::of::<B>() == std::any::TypeId::of::<burn::backend::Flex>() {
        return true;
    }
    false
}

/// Waits for a backend read (ready at once on CPU backends).
fn block_on<T>(fut: impl std::future::Future<Output = T>) -> T {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

fn inner_inputs<B: Backend, C: CheckpointStrategy>(
    inputs: Inputs<Autodiff<B, C>>,
) -> (Inputs<B>, FloatTensor<Autodiff<B, C>>) {
    let target = match inputs.target {
        Target::Dense(t) => Target::Dense(t.into_primitive()),
        Target::Labels(t) => Target::Labels(t.into_primitive()),
    };
    let factor = |f: Factor<Autodiff<B, C>>| match f {
        Factor::Absent => Factor::Absent,
        Factor::Present(t) => Factor::Present(t.into_primitive()),
    };
    let sample = factor(inputs.sample);
    let mask = factor(inputs.mask);
    let scalars = factor(inputs.scalars);
    let pred = inputs.pred;
    (Inputs { target, pred: pred.primitive().clone(), sample, mask, scalars }, pred)
}

impl<B: FusedLossBackend, C: CheckpointStrategy> FusedLossBackend for Autodiff<B, C> {
    fn fused_loss(inputs: Inputs<Self>, spec: Spec) -> FloatTensor<Self> {
        let (inner, pred) = inner_inputs(inputs);
        match FusedBackward.prepare::<C>([pred.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let ValueAndGrad { value, grad } = B::fused_value_and_grad(inner, spec);
                prep.finish(grad, value)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_loss(inner, spec)),
        }
    }

    fn fused_value_and_grad(inputs: Inputs<Self>, spec: Spec) -> ValueAndGrad<Self> {
        let (inner, _) = inner_inputs(inputs);
        let ValueAndGrad { value, grad } = B::fused_value_and_grad(inner, spec);
        ValueAndGrad { value: <FloatTensor<Self>>::new(value), grad: <FloatTensor<Self>>::new(grad) }
    }
}
