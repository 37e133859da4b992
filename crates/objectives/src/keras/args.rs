//! Checks of constructor arguments shared by several losses.

use crate::error::{Error, Result};

/// Refuses a `label_smoothing` outside `[0, 1]`.
///
/// # Errors
/// [`Error::InvalidConfig`].
pub(crate) fn check_smoothing(loss: &str, s: f64) -> Result<()> {
    if (0.0..=1.0).contains(&s) {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            name: loss.to_string(),
            message: format!("label_smoothing must be in [0, 1], got {s}"),
        })
    }
}

/// Refuses a focusing exponent `gamma` that is negative or not finite.
///
/// # Errors
/// [`Error::InvalidConfig`].
pub(crate) fn check_gamma(loss: &str, gamma: f64) -> Result<()> {
    if gamma >= 0.0 && gamma.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            name: loss.to_string(),
            message: format!("gamma must be a finite number ≥ 0, got {gamma}"),
        })
    }
}
