//! Small numerical building blocks shared by several losses.

use burn::tensor::Tensor;

use crate::EPSILON;
use crate::tensor::dyn_tensor::{DynTensor, MAX_RANK};

/// `log(1 + exp(x))` without overflow or loss of precision in either tail (JAX's `softplus`):
/// `x + log1p(exp(−x))` for `x > 0`, `log1p(exp(x))` otherwise.
pub(crate) fn softplus(x: Tensor<MAX_RANK>) -> Tensor<MAX_RANK> {
    // Two branches, each fed only values where its exp cannot overflow, so the value is finite
    // and burn's gradient is σ(x) everywhere — ½ at 0, as Keras/JAX (`max(x,0) + log1p(e^−|x|)`
    // would give 1 there: the clamp passes the gradient at its bound and sign(0) = 0).
    let pos = x.clone().clamp_min(0.0);
    let pos = pos.clone().add(pos.neg().exp().log1p());
    let neg = x.clone().clamp_max(0.0).exp().log1p();
    neg.mask_where(x.greater_elem(0.0), pos)
}

/// L2-normalises along `axis` (normalized, logical): `x / sqrt(max(Σ_axis x², ε²))`, so a zero
/// vector stays zero (Keras's `ops.normalize`).
pub(crate) fn l2_normalize(x: DynTensor, axis: usize) -> DynTensor {
    let d = x.padded_axis(axis);
    x.map(|t| {
        let norm = t.clone().square().sum_dim(d).clamp_min(EPSILON * EPSILON).sqrt();
        t.div(norm)
    })
}

/// `log(sigmoid(x)) = −softplus(−x)`, finite for any finite `x`.
pub(crate) fn log_sigmoid(x: Tensor<MAX_RANK>) -> Tensor<MAX_RANK> {
    softplus(x.neg()).neg()
}

/// `log_softmax` along padded dimension `dim`: `x − max − log Σ exp(x − max)`, finite for any
/// finite logits (the max is a constant shift and carries no gradient).
pub(crate) fn log_softmax(x: Tensor<MAX_RANK>, dim: usize) -> Tensor<MAX_RANK> {
    let shifted = x.clone().sub(x.max_dim(dim).detach());
    let lse = shifted.clone().exp().sum_dim(dim).log();
    shifted.sub(lse)
}

/// Keras's probability clip, `clip(p, ε, 1 − ε)`, with the bounds rounded to the tensor's dtype
/// (in f32 the upper bound is `1 − 2⁻²³ = 0.99999988`, as in Keras).
pub(crate) fn clip_probabilities(p: Tensor<MAX_RANK>) -> Tensor<MAX_RANK> {
    p.clamp(EPSILON, 1.0 - EPSILON)
}

/// `log p` along the class axis: `log_softmax` of logits, or the log of the renormalised,
/// clipped probabilities (Keras: `p / Σp`, then `clip(ε, 1 − ε)`).
pub(crate) fn class_log_probs(p: DynTensor, axis: usize, from_logits: bool) -> DynTensor {
    let d = p.padded_axis(axis);
    p.map(|x| {
        if from_logits {
            log_softmax(x, d)
        } else {
            let sum = x.clone().sum_dim(d);
            clip_probabilities(x.div(sum)).log()
        }
    })
}
