//! The inputs each loss is defined on, as data: what a test, a benchmark or a fuzzer needs to
//! feed a loss valid `y_true` and `y_pred`. Every [`crate::losses::registry::LossEntry`] carries one, so
//! that the test suites enumerate the registry instead of listing losses by hand.

/// The values an input takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Any real number.
    Real,
    /// A real number away from 0 (MAPE divides by `y_true`).
    NonZero,
    /// Positive (MSLE takes logarithms).
    Positive,
    /// Non-negative counts or rates (Poisson's target).
    NonNegative,
    /// In `[0, 1]`: binary targets, soft labels, class distributions.
    UnitInterval,
    /// Probabilities in `(0, 1)`; logits (any real) when the loss's `from_logits` is set.
    Probability,
    /// Labels −1/1, or 0/1 (converted as Keras does).
    Signs,
    /// One-hot vectors along the loss's `axis`.
    OneHot,
}

/// Where a loss's derivative does not exist, so that gradient checks stay away from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kink {
    /// Differentiable everywhere on its domain.
    None,
    /// At `y_pred = y_true` (absolute errors).
    ZeroError,
    /// At `|y_pred − y_true| = delta` (the config's `delta`, default 1).
    Delta,
    /// At the margin `y_true · y_pred = 1` (hinges).
    Margin,
}

/// The inputs a loss takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// `y_true` and `y_pred` of one shape, reduced along the loss's `axis` to one value per
    /// remaining position.
    Dense {
        /// What `y_true` holds.
        target: Values,
        /// What `y_pred` holds.
        pred: Values,
        /// Where the derivative does not exist.
        kink: Kink,
    },
    /// Like `Dense` with probabilities on both sides, but the loss reduces every axis by default
    /// (`axis=None`: one value per batch, as `Dice` and `Tversky`).
    Overlap,
    /// Integer class indices: `y_true` is `y_pred`'s shape without `axis`; `y_pred` holds
    /// probabilities (or logits) along `axis`.
    ClassIndices,
    /// CTC: label sequences `(batch, max_label_length)` of classes in `[1, classes)` (0 is the
    /// blank), against per-time-step class probabilities.
    LabelSequences,
    /// Metric learning: integer labels `(batch,)` against embeddings `(batch, dim)` (`axis` 1)
    /// or `(dim, batch)` (`axis` 0).
    Embeddings,
}

impl Domain {
    /// A dense domain.
    pub const fn dense(target: Values, pred: Values, kink: Kink) -> Self {
        Domain::Dense { target, pred, kink }
    }
}
