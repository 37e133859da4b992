//! Metric-learning losses.

pub mod circle;
