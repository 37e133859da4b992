//! The training crate's error: loss errors plus data, configuration and I/O problems.

use objectives::LossError;

/// Everything that can go wrong in compile, fit, evaluate or predict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// A loss or metric refused its inputs (shapes, labels, weights).
    #[error(transparent)]
    Loss(#[from] LossError),
    /// Inconsistent data: sample counts, number of outputs, weights.
    #[error("data: {0}")]
    Data(String),
    /// A compile or fit argument that cannot be honoured.
    #[error("config: {0}")]
    Config(String),
    /// Writing a history, log or checkpoint failed.
    #[error("io: {0}")]
    Io(String),
}

/// Shorthand for `Result<T, FitError>`.
pub type Result<T, E = FitError> = std::result::Result<T, E>;
