//! Which fused kernel a loss has: [`FusedKernel`], an opaque handle that only objectives' own
//! losses make ([`FusedKind`], and [`Elementwise`] for the elementwise losses, stay inside the
//! crate).

pub(crate) use super::kernels::Elementwise;

/// A loss's fused single-pass kernel and the axis it reduces (see [`crate::fused`]), as
/// [`crate::Loss::fused`] returns it.
///
/// Opaque: only objectives' built-in losses make one, so a loss of your own cannot claim a
/// built-in kernel (which would compute the built-in loss and skip its `per_sample`); a wrapper
/// around a built-in loss may forward the handle the built-in loss gives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FusedKernel {
    pub(crate) kind: FusedKind,
    pub(crate) axis: i64,
}

impl FusedKernel {
    /// The kernel of `kind` along `axis`.
    pub(crate) fn new(kind: FusedKind, axis: i64) -> Self {
        Self { kind, axis }
    }

    /// The axis the kernel reduces (the loss's `axis`, possibly negative).
    pub fn axis(&self) -> i64 {
        self.axis
    }

    /// The kernel family: `"elementwise"` (MSE, MAE, Huber, … and the binary cross-entropies from
    /// logits), `"hinge"`, `"softmax"` (categorical cross-entropy from logits) or
    /// `"sparse_softmax"` (its sparse form, which takes class indices).
    pub fn family(&self) -> &'static str {
        match self.kind {
            FusedKind::Elementwise(_) => "elementwise",
            FusedKind::Hinge { .. } => "hinge",
            FusedKind::Softmax { .. } => "softmax",
            FusedKind::SparseSoftmax { .. } => "sparse_softmax",
        }
    }
}

/// The losses with a fused kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum FusedKind {
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
