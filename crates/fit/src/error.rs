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
    /// A device of a data-parallel step failed: a remote worker that stopped, lost its
    /// connection or did not answer in time. The step was not applied.
    #[error("{device}: {reason}")]
    Device {
        /// Which device: `worker ws://host:port` for a remote worker, else `device <burn's name>`.
        device: String,
        /// What happened, and what to do about it.
        reason: String,
    },
    /// Writing a history, log or checkpoint failed.
    #[error("io: {0}")]
    Io(String),
}

/// Shorthand for `Result<T, FitError>`.
pub type Result<T, E = FitError> = std::result::Result<T, E>;
