//! Single-pass CPU kernels: one read of the inputs computes the weighted loss sum **and** writes
//! the gradient with respect to `y_pred` (or the logits).
//!
//! Layout: a contiguous row-major tensor of shape `S` reduced over axis `k` is seen as
//! `(pre, c, post)` with `pre = Π S[..k]`, `c = S[k]`, `post = Π S[k+1..]`; element `(i, j, l)` is at
//! `(i·c + j)·post + l`, and its reduced position is `r = i·post + l` (`r < pre·post`).
//!
//! Every kernel returns `scale · Σ_r w_r · v_r` (accumulated in f64), where `v_r` is the loss of
//! reduced position `r` (e.g. `mean_j f(t, p)`), and writes `grad = ∂(that)/∂y_pred` into
//! `grad` (same layout as `y_pred`, every element overwritten). `w_r` is [`Weights::at`].
//!
//! How:
//! - **Threads**: rayon in the caller's pool, over fixed chunks of [`CHUNK`](layout::CHUNK) elements (elementwise
//!   losses: any split, the weighted sum is linear in the elements) or of whole rows (softmax; rows
//!   with `post > 1` are split into bands of positions when there are few of them). Per-chunk f64
//!   partial sums are added in chunk order, so results do not depend on the number of threads.
//! - **Vectors**: every hot loop is plain Rust that LLVM vectorises; [`math::simd`] compiles it for
//!   AVX2/FMA or AVX-512 at run time. Reductions keep explicit lanes (f32 per tile, then f64).
//! - **Math**: branch-free `exp` and `ln` (Cephes range reduction + polynomial, ~1 ulp); for
//!   `x ≤ 0` (softmax, softplus) a shorter-chain `exp` that flushes results below the smallest
//!   normal f32 to 0 ([`math::exp_nonpos`]); the softplus pieces from one `exp` and one division
//!   ([`math::softplus_parts`]); unweighted BCE from logits sums `log1p` as one `ln` of a product
//!   per tile ([`pointwise::Pointwise::LOG_PRODUCT`]).
//! - **Softmax rows** are read from memory once: per block of a row, its max pass brings it into
//!   L1 and its exps (shifted by the block's max) are written with their sums; the row's factors
//!   `exp(m_b − M)/S` then rescale each block in cache ([`softmax::RowBlocks`]).
//! - **Gradients** are burn autodiff's of the composed implementations, conventions included:
//!   `clamp`/`clamp_min` pass the gradient at their bounds and `sign(0) = 0`; softplus′(y) = σ(y),
//!   ½ at `y = 0` as in Keras/JAX (so LogCosh's gradient is 0 at `y_pred = y_true` and binary
//!   cross-entropy's is `½ − t'` at a zero logit), on both paths.
//!
//! Files, one concern each:
//! - [`layout`]: the `(pre, c, post)` view ([`Dims`]) and the weights ([`Factor`], [`Weights`],
//!   [`mask_sum`]);
//! - [`math`]: the SIMD dispatch, the branch-free math, the lane reductions;
//! - [`pointwise`]: the elementwise driver (the [`pointwise::Pointwise`] trait, chunks, tiles);
//! - [`elementwise`](mod@elementwise): the elementwise losses ([`Elementwise`], one struct per loss, the table);
//! - [`softmax`]: the softmax cross-entropy driver (rows, bands, tiles) shared by
//!   [`categorical`] (class probabilities) and [`sparse`] (integer labels, ignored class);
//! - `tests`: every kernel against f64 references and burn autodiff of the composed losses.
//!
//! Adding an elementwise loss `f(t, p)`, in [`elementwise`](mod@elementwise):
//! 1. a variant of [`Elementwise`] (its parameters as fields);
//! 2. a `Copy` struct with its [`pointwise::Pointwise`] impl: `eval` returns `(f, ∂f/∂p)` as burn
//!    autodiff of the composed loss gives them (`SCALE` for a constant factor on the mean), and
//!    a `new` if its fields are derived from the variant's;
//! 3. one line in the table of [`elementwise::elementwise_with`]: `Variant => run.with(Loss)`.
//!
//! The tests then fail to compile until the loss has its f64 reference (`ref_point`), its
//! inputs (`inputs`) and its composed form (`composed`); add it to `elementwise_kinds` too. Out
//! of this module: the loss takes the fused path once its `fused = …` hook names the variant
//! (its own file, e.g. `regression/mean_squared_error.rs`); list it in the [`crate::fused`] docs.
//! `tests/fused.rs` (fused equals composed) then runs it for every registry test variant that
//! takes the fused path, with no edit.

mod categorical;
mod elementwise;
mod layout;
mod math;
mod pointwise;
mod softmax;
mod sparse;
#[cfg(test)]
mod tests;

pub(crate) use categorical::softmax_crossentropy;
pub use elementwise::Elementwise;
pub(crate) use elementwise::elementwise;
pub(crate) use layout::{Dims, Factor, Weights, mask_sum};
#[cfg(feature = "cube")]
pub(crate) use math::smoothing;
#[allow(unused_imports)] // the error of `sparse_softmax_crossentropy`, by its name for callers (today the tests)
pub(crate) use sparse::SparseLabelError;
pub(crate) use sparse::sparse_softmax_crossentropy;
