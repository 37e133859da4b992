//! `use objectives::prelude::*;` brings the loss types, functions, traits, and burn's
//! `Tensor` and `Device`.

pub use crate::*;
pub use burn::tensor::{Device, Tensor, TensorData};
