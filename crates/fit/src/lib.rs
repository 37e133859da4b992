//! # objectives-fit
//!
//! Keras-style training on burn with objectives' losses: compile a model with a loss per output,
//! `loss_weights` and metrics; `fit` it with sample or class weights, validation, callbacks and a
//! progress bar; `evaluate` and `predict`. The numbers follow Keras 3 (specification §3).
//!
//! Which module owns each `fit()` argument (as Keras's `epoch_iterator.py` says of its own):
//!
//! | argument | module |
//! |---|---|
//! | `x`, `y`, `sample_weight`, `class_weight`, `validation_split`, `validation_data`, `batch_size`, `shuffle`, `seed` | [`data`] |
//! | `epochs`, `initial_epoch`, `verbose` | [`fit`] (the loop) and [`progress`] |
//! | loss per output, `loss_weights`, metrics, optimizer, learning rate | [`compile`] and [`metrics`] |
//! | `callbacks` | [`callbacks`] |
//! | the returned history | [`history`] |
//!
//! The reported epoch loss is Keras's: the mean of the per-batch total losses weighted by batch
//! size (not by Σ sample_weight, nor by the number of unmasked elements).

pub mod callbacks;
pub mod compile;
pub mod data;
pub mod error;
pub mod fit;
pub mod history;
pub mod metrics;
pub mod plot;
pub mod progress;

pub use callbacks::{Callback, EarlyStopping, TerminateOnNaN};
pub use compile::Compiled;
pub use data::Dataset;
pub use error::FitError;
pub use fit::{FitOptions, Model, evaluate, evaluate_loader, fit, fit_loader, predict};
pub use history::History;
pub use metrics::Metric;

/// The README's Rust examples (they use both crates), compiled and run as doctests so that the
/// README stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
