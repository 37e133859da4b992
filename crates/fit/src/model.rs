//! What `fit`, `evaluate` and `predict` train and run: a burn module with a forward function.

use burn::module::Module;
use burn::tensor::Tensor;
use objectives::DynTensor;

/// A burn module with a forward function from a batch of inputs to its outputs (one tensor per
/// output, in the order the losses were compiled).
pub trait Model<const DI: usize>: Module + Clone {
    /// The outputs for a batch `x`.
    fn forward(&self, x: Tensor<DI>) -> Vec<DynTensor>;
}
