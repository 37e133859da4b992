//! The one error type of the library: every variant says what happened, what was expected and
//! how to fix it.

/// Everything that can go wrong when building or calling a loss or a metric, or choosing a backend.
///
/// Each message names the loss or metric (`name`), the shapes or values involved, and says how to
/// fix the input. The library validates at its boundary and never panics on a caller's input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `y_true` and `y_pred` have shapes the loss cannot pair.
    #[error(
        "{name}: y_true has shape {y_true:?} but y_pred has shape {y_pred:?}; the shapes must match \
         (a trailing axis of size 1 on either side is squeezed first, as Keras does){}",
        sparse_hint(y_true, y_pred)
    )]
    ShapeMismatch {
        /// The loss or metric (its class or instance name).
        name: String,
        /// Shape of `y_true`.
        y_true: Vec<usize>,
        /// Shape of `y_pred`.
        y_pred: Vec<usize>,
    },

    /// Integer labels whose shape is not y_pred's shape without the class axis.
    #[error(
        "{name}: y_true has shape {y_true:?} but y_pred has shape {y_pred:?} with class axis {axis}; \
         integer labels must have y_pred's shape without the class axis, {expected:?} \
         (set `axis` to y_pred's class axis, e.g. axis=1 for channels-first (batch, classes, …) outputs)"
    )]
    SparseShapeMismatch {
        /// The loss or metric (its class or instance name).
        name: String,
        /// Shape of `y_true`.
        y_true: Vec<usize>,
        /// Shape of `y_pred`.
        y_pred: Vec<usize>,
        /// The class axis used.
        axis: i64,
        /// The label shape expected.
        expected: Vec<usize>,
    },

    /// `y_true` or `y_pred` of a shape the loss does not take, for losses whose two inputs have
    /// different shapes (e.g. CTC's `(batch, max_label_length)` labels and
    /// `(batch, time, classes)` logits).
    #[error("{name}: {expected}; got y_true of shape {y_true:?} and y_pred of shape {y_pred:?}")]
    InputShape {
        /// The loss or metric (its class or instance name).
        name: String,
        /// The shapes the loss takes, and how to get there.
        expected: String,
        /// Shape of `y_true`.
        y_true: Vec<usize>,
        /// Shape of `y_pred`.
        y_pred: Vec<usize>,
    },

    /// A `sample_weight` or mask does not broadcast to the per-sample losses.
    #[error(
        "{what} of shape {weight:?} does not broadcast to the per-sample losses of shape {losses:?}; \
         pass a scalar, a per-sample weight of shape [{batch}] or [{batch}, 1], or the full shape {losses:?}"
    )]
    WeightShape {
        /// `"sample_weight"` or `"mask"`.
        what: &'static str,
        /// Shape of the weight or mask as given.
        weight: Vec<usize>,
        /// Shape of the per-sample losses.
        losses: Vec<usize>,
        /// First dimension of the losses (the batch size), for the hint.
        batch: usize,
    },

    /// An `axis` outside `[-rank, rank)`.
    #[error(
        "{name}: axis {axis} is out of range for y_pred of rank {rank} (shape {shape:?}); \
         use an axis in [-{rank}, {rank})"
    )]
    AxisOutOfRange {
        /// The loss or metric (its class or instance name).
        name: String,
        /// The axis as given.
        axis: i64,
        /// Rank of the tensor.
        rank: usize,
        /// Shape of the tensor.
        shape: Vec<usize>,
    },

    /// The axis a loss reduces has size 0 (a mean or max over nothing).
    #[error(
        "{name}: axis {axis} of y_pred (shape {shape:?}) has size 0, so there is nothing to reduce over; check `axis`"
    )]
    EmptyAxis {
        /// The loss or metric (its class or instance name).
        name: String,
        /// The axis (normalized).
        axis: usize,
        /// Shape of y_pred.
        shape: Vec<usize>,
    },

    /// The loss needs at least one axis to reduce but got a scalar.
    #[error("{name}: y_pred is a scalar (shape []); pass at least a 1-D tensor")]
    ScalarInput {
        /// The loss or metric (its class or instance name).
        name: String,
    },

    /// A tensor of a rank this library does not handle.
    #[error(
        "tensor of shape {shape:?} has rank {rank}; objectives handles ranks up to {max}: \
         reshape (merge axes) before calling the loss"
    )]
    RankTooHigh {
        /// Shape of the tensor.
        shape: Vec<usize>,
        /// Its rank.
        rank: usize,
        /// The highest rank supported.
        max: usize,
    },

    /// A result was asked for as a `Tensor<D>` of the wrong rank.
    #[error(
        "cannot view a tensor of shape {shape:?} (rank {rank}) as a Tensor<{requested}>; \
         ask for Tensor<{rank}> or reshape it"
    )]
    RankMismatch {
        /// Shape of the tensor.
        shape: Vec<usize>,
        /// Its rank.
        rank: usize,
        /// The rank asked for.
        requested: usize,
    },

    /// A class label that is not an integer in `[0, classes)`.
    #[error(
        "{name}: label {value} at position {position:?} is not a class index in [0, {classes}); \
         labels must be integers from 0 to {} (use `ignore_class` to skip a padding label)",
        .classes.saturating_sub(1)
    )]
    InvalidLabel {
        /// The loss or metric (its class or instance name).
        name: String,
        /// The offending label.
        value: f64,
        /// Its position in `y_true`.
        position: Vec<usize>,
        /// Number of classes (size of y_pred's class axis).
        classes: usize,
    },

    /// A metric's input that it cannot take: shapes that do not pair, a value out of range.
    #[error("{name}: {message}")]
    MetricInput {
        /// The metric (its class or instance name).
        name: String,
        /// What is wrong with which input, and how to fix it.
        message: String,
    },

    /// A metric name that the metric registry does not know.
    #[error("unknown metric `{0}`; try `accuracy`, `mse`, `auc` or `MeanIoU` (`objectives list` prints all names)")]
    UnknownMetric(String),

    /// A name that the registry does not know.
    #[error("unknown loss `{0}`; try `mse`, `MeanSquaredError` or `huber` (`objectives list` prints all names)")]
    UnknownLoss(String),

    /// A reduction name that Keras 3 does not accept.
    #[error(
        "invalid reduction `{0}`; expected one of: \"sum_over_batch_size\" (default), \"mean\", \"sum\", \
         \"mean_with_sample_weight\", \"none\" or null"
    )]
    InvalidReduction(String),

    /// A constructor argument or config entry with a bad value, or an unknown key.
    #[error("{name}: {message}")]
    InvalidConfig {
        /// The loss or metric class (or the Keras module, for a malformed serialized object).
        name: String,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A dtype this library does not compute in.
    #[error("unsupported dtype `{0}`; losses compute in \"float32\" (default) or \"float64\"")]
    UnsupportedDtype(String),

    /// A backend name that is not one of the four.
    #[error("unknown backend `{0}`; choose one of flex, wgpu, cuda, ndarray")]
    UnknownBackend(String),

    /// A backend whose cargo feature this build does not have.
    #[error(
        "this build has no `{backend}` backend; rebuild with `--features {backend}` \
         (e.g. `cargo build --release -p objectives-cli --features {backend}`)"
    )]
    BackendNotBuilt {
        /// The backend's name.
        backend: &'static str,
    },

    /// f64 asked of a device whose f64 arithmetic was found wrong.
    #[error(
        "{what} in float64 on {device}: this device computes float64 wrongly (checked once: sums, \
         and exp/log/tanh/pow, which Vulkan defines for 32-bit floats only), so no float64 result \
         is returned; compute in float32 (the default dtype), or use the flex or cuda backend for \
         float64"
    )]
    UnreliableF64 {
        /// The device, as [`crate::backend::describe`] gives it.
        device: String,
        /// What was asked.
        what: String,
    },

    /// Reading or converting tensor data failed.
    #[error("tensor data: {0}")]
    Data(String),

    /// A NaN or infinity in an input, found by the opt-in check ([`crate::losses::finite::CheckFinite`]).
    #[error(
        "{what} has a non-finite value {value} at index {index:?} (shape {shape:?}); clean or mask it \
         before the loss, or drop the check to let it propagate as Keras does"
    )]
    NonFinite {
        /// Which input: `y_true`, `y_pred`, `sample_weight` or `mask`.
        what: &'static str,
        /// The first offending index (row-major order).
        index: Vec<usize>,
        /// The value found there.
        value: f64,
        /// The input's shape.
        shape: Vec<usize>,
    },
}

impl Error {
    /// Shapes that were checked to broadcast but did not: a bug in objectives, reported as an
    /// error rather than a panic.
    pub(crate) fn unreachable_shape(what: &'static str) -> Self {
        Error::Data(format!("internal: {what} shapes were checked but did not broadcast"))
    }
}

/// A hint when y_true looks like integer labels for a one-hot loss.
fn sparse_hint(y_true: &[usize], y_pred: &[usize]) -> &'static str {
    if y_true.len() + 1 == y_pred.len() {
        "; if y_true holds class indices, use SparseCategoricalCrossentropy"
    } else {
        ""
    }
}

/// Shorthand for `Result<T, Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The former name of [`Error`], kept so that code written against it compiles.
pub type LossError = Error;
