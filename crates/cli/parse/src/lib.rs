//! The input parsers of the `objectives` command, kept free of burn so that their fuzz targets
//! (`fuzz/`: `npy`, `shape`) build in a minute: the `.npy` reader ([`npy::parse_npy`]) and shape
//! strings ([`shape::parse_shape`]). Every refusal is a typed error that prints on one line;
//! nothing here panics or allocates more than a few times its input.
//!
//! This crate lives inside `crates/cli` and is a workspace member as objectives-cli's path
//! dependency.

pub mod npy;
pub mod shape;

/// The highest rank accepted: `objectives::MAX_RANK` (objectives-cli tests that they agree).
pub const MAX_RANK: usize = 8;
