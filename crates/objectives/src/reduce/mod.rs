//! The only reducer: how per-sample losses, `sample_weight` and a mask become the loss.
//!
//! This is Keras 3's `reduce_weighted_values` (`keras/src/losses/loss.py`), step for step:
//!
//! ```text
//! reduce_weighted_values(values, sw, mask, reduction):
//!   sw     = apply_mask(sw, mask, reduction)
//!   values = values · sw            (after rank alignment, NumPy broadcasting)
//!   reduce_values(values, sw, reduction)
//!
//! apply_mask(sw, mask, reduction):
//!   "mean" | "sum_over_batch_size":  m = where(mask ≠ 0, numel(mask) / Σmask, 0)   (0 if Σmask = 0)
//!   otherwise:                       m = mask                                      (plain 0/1)
//!   return sw · m  (or m when there is no sw)
//!
//! reduce_values(values, sw, reduction):
//!   "none"                        values
//!   "sum"                         Σ values
//!   "sum_over_batch_size"/"mean"  Σ values / numel(values)          (divide-no-nan)
//!   "mean_with_sample_weight"     Σ values / Σ sw   (Σ sw as passed, not broadcast; numel without sw)
//! ```
//!
//! The rules (alignment, the mask rule, the divisor) are decided once, from shapes, in [`plan`];
//! [`reducer`] applies them to tensors. Sums accumulate in f64 ([`DynTensor::sum_all`](crate::DynTensor::sum_all)). See
//! [`Reduction`] for what each choice means to a user, and [`crate::tensor::shape::align_weight`] for the
//! weight shapes accepted.

pub mod partial;
pub mod plan;
pub mod reducer;
pub mod reduction;
pub mod semantics;

pub use plan::{Divisor, MaskCount, MaskRule, Operand, ReducePlan};
pub(crate) use reducer::{divide_no_nan, weigh};
pub use reducer::{reduce_values, reduce_weighted_values};
pub use reduction::Reduction;
