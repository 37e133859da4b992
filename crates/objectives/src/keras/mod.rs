//! What losses and metrics share of Keras's formats: the JSON envelope of a serialized object
//! ([`envelope`]) and Keras's checks of shared arguments (`args`).

pub(crate) mod args;
pub mod envelope;

pub use envelope::keras_envelope;
