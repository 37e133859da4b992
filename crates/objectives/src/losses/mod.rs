//! The losses: what a loss is ([`loss`]: the `Loss` trait, and `LossExt`, how every loss is
//! computed), the wrapper every built-in loss is ([`wrapper`]), closures as losses ([`custom`]),
//! the opt-in NaN/Inf check ([`finite`]), the inputs each loss is defined on ([`domain`]),
//! [`explain`]; one file per loss in the families ([`regression`], [`probabilistic`], [`hinge`],
//! [`segmentation`], [`metric_learning`]); and, above them, the [`registry`] of names.

pub mod custom;
pub mod domain;
pub mod explain;
pub mod finite;
pub mod hinge;
pub mod loss;
pub mod metric_learning;
pub mod probabilistic;
pub mod registry;
pub mod regression;
pub mod segmentation;
pub mod wrapper;
