//! Fused single-pass losses: the reduced loss **and** its gradient with respect to `y_pred` in
//! one pass over the inputs, picked automatically where it applies.
//!
//! A loss composed from tensor ops reads and writes memory once per op (and autodiff does it
//! again backwards); a fused loss reads `y_true`, `y_pred` and the weights once and writes the
//! gradient once. The public API does not change: [`crate::LossExt::compute`] takes this path when
//!
//! - the tensors live on burn's Flex backend or on a CubeCL device (wgpu, CUDA), with or without
//!   autodiff, and are f32,
//! - the loss has a fused kernel ([`FusedKernel`]): MSE, MAE, Huber, LogCosh, MSLE, MAPE, Poisson,
//!   Hinge, SquaredHinge, binary and binary focal cross-entropy from logits, categorical and
//!   sparse categorical cross-entropy from logits — along any `axis`,
//! - the semantics are Keras 3's and the reduction is not `none`,
//! - `y_true` has `y_pred`'s shape (labels: without the class axis), and each of `sample_weight`
//!   and the mask covers a leading part of the per-sample loss shape (`(B,)`, `(B, H, W)`, …),
//! - nothing but `y_pred` requires a gradient;
//!
//! otherwise it takes the composed path, which is the reference (property tests check that both
//! agree, values and gradients, to 1e-5). Both read the same rules: how the weight and mask
//! align, how the mask is rescaled and what the sum is divided by come from the reducer's
//! [`ReducePlan`](crate::reduce::ReducePlan), computed from the shapes before the kernel runs.
//! On autodiff, the backward pass reuses the gradient computed in the forward pass (burn's
//! backend-extension mechanism, [`backend`]).
//!
//! [`calls`] counts fused evaluations (to check that training uses them), and [`with_fused`]
//! turns the path off or on for the current thread (benchmarks and tests compare both).

pub mod backend;
#[cfg(feature = "cube")]
mod cube;
mod dispatch;
pub(crate) mod kernels;
mod kind;
#[cfg(feature = "flex")]
mod pool;
mod spec;

pub(crate) use dispatch::try_fused;
pub use dispatch::{calls, calls_on_this_thread, with_fused};
pub use kind::FusedKernel;
pub(crate) use kind::{Elementwise, FusedKind};
#[cfg(feature = "flex")]
pub use pool::release;
pub use spec::Spec;
