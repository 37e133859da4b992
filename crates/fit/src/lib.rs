//! # objectives-fit
//!
//! Keras-style training on burn with objectives' losses: compile a model with a loss per output,
//! `loss_weights` and metrics; `fit` it with sample or class weights, validation, callbacks and a
//! progress bar; `evaluate` and `predict`. The numbers follow Keras 3 (docs/keras-semantics.md §3).
//!
//! Which module owns each `fit()` argument (as Keras's `epoch_iterator.py` says of its own):
//!
//! | argument | module |
//! |---|---|
//! | `x`, `y`, `sample_weight`, `validation_split`, `validation_data` | [`data`] |
//! | `class_weight` | [`class_weight`] (training samples only, after the split) |
//! | `batch_size`, `shuffle`, `seed`, `steps_per_epoch`, `validation_batch_size`, `validation_steps` | `batches` (a pass over the data, continued across epochs with `steps_per_epoch`) |
//! | `epochs`, `initial_epoch`, `verbose`, `validation_freq` | [`train`] (the epoch loop) and [`progress`] |
//! | `accumulation_steps`, `devices` | [`train`], which hands each batch to `step`: one step routine, the batch whole, in micro-batches or in shards over devices (exact shares) |
//! | loss per output, `loss_weights`, metrics, optimizer, learning rate | [`compile`] and [`metrics`]; each batch's loss is `compile_loss`'s (Keras's `CompileLoss`), the epoch's means are `trackers`' |
//! | `callbacks` | [`callbacks`] |
//! | the returned history | [`history`] |
//!
//! Validation runs [`evaluate`](mod@evaluate)'s pass over the batches of `batches` (in-memory rows or a
//! burn `DataLoader`'s); [`predict`](mod@predict) and the [`Model`] trait (in [`model`]) complete the set.
//!
//! The reported epoch loss is Keras's: the mean of the per-batch total losses weighted by batch
//! size (not by Σ sample_weight, nor by the number of unmasked elements).

mod batches;
pub mod callbacks;
pub mod class_weight;
pub mod compile;
mod compile_loss;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod history;
pub mod keras_archive;
pub mod metrics;
pub mod model;
mod parallel;
pub mod plot;
pub mod predict;
pub mod progress;
#[cfg(feature = "remote")]
pub mod remote;
mod step;
mod trackers;
pub mod train;

pub use callbacks::{Callback, EarlyStopping, TerminateOnNaN};
pub use compile::Compiled;
pub use data::Dataset;
pub use error::FitError;
pub use evaluate::{evaluate, evaluate_detailed, evaluate_loader};
pub use history::History;
pub use metrics::{Metric, MetricSpec, Metrics};
pub use model::Model;
pub use predict::predict;
pub use trackers::VectorLogs;
pub use train::{FitOptions, ValidationFreq, fit, fit_loader};

/// The README's Rust examples (they use both crates), compiled and run as doctests so that the
/// README stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
