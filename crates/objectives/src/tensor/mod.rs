//! Tensor plumbing: [`DynTensor`] (a burn tensor whose rank is known at run time), Keras's shape
//! rules ([`shape`]), class labels and the shared math of the losses, and where a device computes
//! ([`place`]). Everything above builds on this; it names nothing above it.

pub mod dyn_tensor;
pub(crate) mod labels;
pub(crate) mod math;
pub mod place;
pub mod shape;

pub use dyn_tensor::{DynTensor, MAX_RANK};
