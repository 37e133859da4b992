//! Hinge losses (maximum-margin classification).

pub mod categorical_hinge;
#[allow(clippy::module_inception)]
pub mod hinge;
pub mod squared_hinge;
