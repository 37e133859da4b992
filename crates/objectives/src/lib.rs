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
//! # Ok::<(), objectives::Error>(())
//! ```
//!
//! Each loss comes in two forms: a function returning the unreduced per-sample tensor (e.g.
//! [`huber()`]) and a loss object (e.g. [`Huber`], its config plus a [`Reduction`]). Names
//! resolve through one registry ([`get`], [`from_keras_json`], [`registry::ALL_LOSSES`]).
//!
//! The crate does not pick a backend for you beyond its default `flex` feature (burn's
//! pure-Rust CPU backend, with threads and SIMD); any burn [`Device`](burn::tensor::Device)
//! works.

pub mod atomic;
pub mod backend;
pub mod error;
pub mod fused;
pub mod keras;
pub mod losses;
pub mod metrics;
pub mod prelude;
pub mod reduce;
pub mod tensor;

#[cfg(test)]
pub(crate) mod testing;

// The modules' paths of the flat layout, kept (`objectives::device::test_device`,
// `objectives::registry::ALL_LOSSES`, `objectives::regression::huber::HuberConfig`, …).
#[doc(no_inline)]
pub use backend as device;
#[doc(no_inline)]
pub use losses::{
    custom, domain, explain, finite, hinge, loss, metric_learning, probabilistic, registry, regression, segmentation,
    wrapper,
};
#[doc(no_inline)]
pub use reduce::{partial, semantics};
#[doc(no_inline)]
pub use tensor::{dyn_tensor, shape};

pub use error::{Error, LossError, Result};
pub use losses::explain::{Plan, explain};
pub use losses::hinge::categorical_hinge::{CategoricalHinge, CategoricalHingeConfig, categorical_hinge};
pub use losses::hinge::hinge::{Hinge, HingeConfig, hinge};
pub use losses::hinge::squared_hinge::{SquaredHinge, SquaredHingeConfig, squared_hinge};
pub use losses::loss::{Loss, LossExt, LossValues};
pub use losses::metric_learning::circle::{Circle, CircleConfig, circle, circle_with_refs};
pub use losses::probabilistic::binary_crossentropy::{
    BinaryCrossentropy, BinaryCrossentropyConfig, binary_crossentropy,
};
pub use losses::probabilistic::binary_focal_crossentropy::{
    BinaryFocalCrossentropy, BinaryFocalCrossentropyConfig, binary_focal_crossentropy,
};
pub use losses::probabilistic::categorical_crossentropy::{
    CategoricalCrossentropy, CategoricalCrossentropyConfig, categorical_crossentropy,
};
pub use losses::probabilistic::categorical_focal_crossentropy::{
    CategoricalFocalCrossentropy, CategoricalFocalCrossentropyConfig, categorical_focal_crossentropy,
};
pub use losses::probabilistic::categorical_generalized_cross_entropy::{
    CategoricalGeneralizedCrossEntropy, CategoricalGeneralizedCrossEntropyConfig, categorical_generalized_cross_entropy,
};
pub use losses::probabilistic::ctc::{Ctc, CtcConfig, ctc};
pub use losses::probabilistic::kl_divergence::{KlDivergence, KlDivergenceConfig, kl_divergence};
pub use losses::probabilistic::poisson::{Poisson, PoissonConfig, poisson};
pub use losses::probabilistic::sparse_categorical_crossentropy::{
    SparseCategoricalCrossentropy, SparseCategoricalCrossentropyConfig, one_hot_labels, sparse_categorical_crossentropy,
};
pub use losses::registry::{from_keras_json, from_keras_json_str, get};
pub use losses::regression::cosine_similarity::{CosineSimilarity, CosineSimilarityConfig, cosine_similarity};
pub use losses::regression::huber::{Huber, HuberConfig, huber};
pub use losses::regression::log_cosh::{LogCosh, LogCoshConfig, log_cosh};
pub use losses::regression::mean_absolute_error::{MeanAbsoluteError, MeanAbsoluteErrorConfig, mean_absolute_error};
pub use losses::regression::mean_absolute_percentage_error::{
    MeanAbsolutePercentageError, MeanAbsolutePercentageErrorConfig, mean_absolute_percentage_error,
};
pub use losses::regression::mean_squared_error::{MeanSquaredError, MeanSquaredErrorConfig, mean_squared_error};
pub use losses::regression::mean_squared_logarithmic_error::{
    MeanSquaredLogarithmicError, MeanSquaredLogarithmicErrorConfig, mean_squared_logarithmic_error,
};
pub use losses::segmentation::dice::{Dice, DiceConfig, dice};
pub use losses::segmentation::tversky::{Tversky, TverskyConfig, tversky};
pub use losses::wrapper::{LossFn, LossFunctionWrapper};
pub use reduce::{Reduction, reduce_weighted_values};
pub use tensor::{DynTensor, MAX_RANK};

/// Keras's fuzz factor, `backend.epsilon()` = 1e-7, used by every clip and guard. It is
/// converted to the compute dtype where used (in f32 it is the nearest f32 to 1e-7).
pub const EPSILON: f64 = 1e-7;
