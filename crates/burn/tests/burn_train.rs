//! objectives inside burn-train: every registered metric as a burn-train metric, training with
//! `SupervisedTraining` against objectives-fit, several devices against one, and the partial
//! last batch where burn's own `LossMetric` differs.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

mod parts {
    pub mod adaptors;
    pub mod common;
    pub mod keras_run;
    pub mod registry;
    pub mod training;
}
