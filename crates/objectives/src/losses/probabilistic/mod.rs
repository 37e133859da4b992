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
