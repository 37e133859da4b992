//! Regression losses.

pub mod cosine_similarity;
pub mod huber;
pub mod log_cosh;
pub mod mean_absolute_error;
pub mod mean_absolute_percentage_error;
pub mod mean_squared_error;
pub mod mean_squared_logarithmic_error;
