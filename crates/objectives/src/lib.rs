//! # objectives
//!
//! Every Keras 3 loss with Keras's exact numbers and gradients, on burn tensors, with an `axis`
//! on every loss and **one** reducer for all of them: reductions, masks and sample weights with
//! Keras 3's semantics (see [`Reduction`]).
//!
//! ```
//! use objectives::prelude::*;
//! let d = Device::flex();
//! // A channels-first regression output: (batch, 7 features, 16, 16).
//! let y_true = Tensor::<4>::zeros([2, 7, 16, 16], &d);
//! let y_pred = Tensor::<4>::ones([2, 7, 16, 16], &d);
//! // Mean squared error over the 7 features, i.e. axis 1, then a per-position weight.
//! let mse = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
//! let weights = Tensor::<3>::ones([2, 16, 16], &d);
//! let loss = mse.call(&y_true, &y_pred, Some(weights.into()))?;
//! assert_eq!(loss.into_scalar::<f32>()?, 1.0);
//! # Ok::<(), objectives::LossError>(())
//! ```
//!
//! Each loss comes in two forms: a function returning the unreduced per-sample tensor (e.g.
//! [`huber()`]) and a loss object (e.g. [`Huber`], its config plus a [`Reduction`]). Names
//! resolve through one registry ([`get`], [`from_keras_json`], [`registry::ALL_LOSSES`]).
//!
//! The crate does not pick a backend for you beyond its default `flex` feature (burn's
//! pure-Rust CPU backend, with threads and SIMD); any burn [`Device`](burn::tensor::Device)
//! works.

mod args;
pub mod atomic;
pub mod custom;
pub mod device;
pub mod domain;
pub mod dyn_tensor;
pub mod error;
pub mod explain;
pub mod finite;
pub mod fused;
pub mod keras_archive;
mod labels;
pub mod loss;
mod math;
pub mod metrics;
pub mod partial;
pub mod reduce;
pub mod registry;
pub mod semantics;
pub mod shape;
pub mod wrapper;

pub mod regression {
    //! Regression losses.
    pub mod cosine_similarity;
    pub mod huber;
    pub mod log_cosh;
    pub mod mean_absolute_error;
    pub mod mean_absolute_percentage_error;
    pub mod mean_squared_error;
    pub mod mean_squared_logarithmic_error;
}

pub mod probabilistic {
    //! Probabilistic losses: cross-entropies, CTC, KL divergence, Poisson.
    pub mod binary_crossentropy;
    pub mod binary_focal_crossentropy;
    pub mod categorical_crossentropy;
    pub mod categorical_focal_crossentropy;
    pub mod categorical_generalized_cross_entropy;
    pub mod ctc;
    pub mod kl_divergence;
    pub mod poisson;
    pub mod sparse_categorical_crossentropy;
}

pub mod segmentation {
    //! Overlap losses for segmentation.
    pub mod dice;
    pub mod tversky;
}

pub mod hinge {
    //! Hinge losses (maximum-margin classification).
    pub mod categorical_hinge;
    #[allow(clippy::module_inception)]
    pub mod hinge;
    pub mod squared_hinge;
}

pub mod metric_learning {
    //! Metric-learning losses.
    pub mod circle;
}

#[cfg(test)]
pub(crate) mod testing;

pub use dyn_tensor::{DynTensor, MAX_RANK};
pub use error::{LossError, Result};
pub use explain::{Plan, explain};
pub use hinge::categorical_hinge::{CategoricalHinge, CategoricalHingeConfig, categorical_hinge};
pub use hinge::hinge::{Hinge, HingeConfig, hinge};
pub use hinge::squared_hinge::{SquaredHinge, SquaredHingeConfig, squared_hinge};
pub use loss::{Loss, LossExt, LossValues};
pub use metric_learning::circle::{Circle, CircleConfig, circle, circle_with_refs};
pub use probabilistic::binary_crossentropy::{BinaryCrossentropy, BinaryCrossentropyConfig, binary_crossentropy};
pub use probabilistic::binary_focal_crossentropy::{
    BinaryFocalCrossentropy, BinaryFocalCrossentropyConfig, binary_focal_crossentropy,
};
pub use probabilistic::categorical_crossentropy::{
    CategoricalCrossentropy, CategoricalCrossentropyConfig, categorical_crossentropy,
};
pub use probabilistic::categorical_focal_crossentropy::{
    CategoricalFocalCrossentropy, CategoricalFocalCrossentropyConfig, categorical_focal_crossentropy,
};
pub use probabilistic::categorical_generalized_cross_entropy::{
    CategoricalGeneralizedCrossEntropy, CategoricalGeneralizedCrossEntropyConfig, categorical_generalized_cross_entropy,
};
pub use probabilistic::ctc::{Ctc, CtcConfig, ctc};
pub use probabilistic::kl_divergence::{KlDivergence, KlDivergenceConfig, kl_divergence};
pub use probabilistic::poisson::{Poisson, PoissonConfig, poisson};
pub use probabilistic::sparse_categorical_crossentropy::{
    SparseCategoricalCrossentropy, SparseCategoricalCrossentropyConfig, one_hot_labels, sparse_categorical_crossentropy,
};
pub use reduce::{Reduction, reduce_weighted_values};
pub use registry::{from_keras_json, from_keras_json_str, get};
pub use regression::cosine_similarity::{CosineSimilarity, CosineSimilarityConfig, cosine_similarity};
pub use regression::huber::{Huber, HuberConfig, huber};
pub use regression::log_cosh::{LogCosh, LogCoshConfig, log_cosh};
pub use regression::mean_absolute_error::{MeanAbsoluteError, MeanAbsoluteErrorConfig, mean_absolute_error};
pub use regression::mean_absolute_percentage_error::{
    MeanAbsolutePercentageError, MeanAbsolutePercentageErrorConfig, mean_absolute_percentage_error,
};
pub use regression::mean_squared_error::{MeanSquaredError, MeanSquaredErrorConfig, mean_squared_error};
pub use regression::mean_squared_logarithmic_error::{
    MeanSquaredLogarithmicError, MeanSquaredLogarithmicErrorConfig, mean_squared_logarithmic_error,
};
pub use segmentation::dice::{Dice, DiceConfig, dice};
pub use segmentation::tversky::{Tversky, TverskyConfig, tversky};
pub use wrapper::{LossFn, LossFunctionWrapper};

/// Keras's fuzz factor, `backend.epsilon()` = 1e-7, used by every clip and guard. It is
/// converted to the compute dtype where used (in f32 it is the nearest f32 to 1e-7).
pub const EPSILON: f64 = 1e-7;

pub mod prelude {
    //! `use objectives::prelude::*;` brings the loss types, functions, traits, and burn's
    //! `Tensor` and `Device`.
    pub use crate::*;
    pub use burn::tensor::{Device, Tensor, TensorData};
}
