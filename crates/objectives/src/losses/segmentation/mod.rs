//! Overlap losses for segmentation.

pub mod dice;
pub mod tversky;
