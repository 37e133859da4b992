//! [`BurnError`], and how it reaches burn-train (whose metric updates return a
//! [`TensorReadError`]).

use burn::tensor::{ExecutionError, TensorReadError};
use thiserror::Error;

/// What can go wrong between objectives and burn-train.
#[derive(Debug, Error)]
pub enum BurnError {
    /// A loss or metric refused its inputs or configuration (the message names the shapes or
    /// values and the fix).
    #[error(transparent)]
    Objectives(#[from] objectives::Error),
    /// The inputs of a step do not fit together (the message says how).
    #[error("{0}")]
    Input(String),
    /// A value could not be read back from the device.
    #[error("reading a value back from the device: {0}")]
    Read(#[from] TensorReadError),
}

/// A metric's error as burn-train's metric error: an execution error whose reason names the
/// metric and says what to fix. burn-train reports it with the metric's name and split and stops
/// the training (a metric never reports a wrong number instead).
pub(crate) fn read_error(metric: &str, e: BurnError) -> TensorReadError {
    match e {
        BurnError::Read(e) => e,
        e => TensorReadError::Execution(ExecutionError::WithContext {
            reason: format!("objectives metric `{metric}`: {e}"),
        }),
    }
}
