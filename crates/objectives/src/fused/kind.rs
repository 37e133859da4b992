//! Which fused kernel a loss has: [`FusedKind`], and [`Elementwise`] for the elementwise losses.

pub use super::kernels::Elementwise;

/// The losses with a fused kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FusedKind {
    /// `mean(f(y_true, y_pred), axis)` for an elementwise `f`.
    Elementwise(Elementwise),
    /// Hinge or squared hinge, whose 0/1 → ±1 label conversion depends on the data.
    Hinge {
        /// Squared hinge.
        squared: bool,
    },
    /// Categorical cross-entropy from logits.
    Softmax {
        /// Label smoothing.
        label_smoothing: f32,
    },
    /// Sparse categorical cross-entropy from logits.
    SparseSoftmax {
        /// Ignored label value.
        ignore_class: Option<i64>,
    },
}
