"""Reference values for the CTC loss tests, in plain NumPy.

Run (from the repository root):

    python3 -m venv .venv && .venv/bin/pip install numpy && .venv/bin/python testdata/ctc_reference.py

This is a transcription of Keras 3's `keras.losses.ctc` on the JAX backend
(`keras/src/losses/losses.py::ctc` calling `keras/src/backend/jax/nn.py::ctc_loss`, which follows
optax's `ctc_loss_with_forward_probs`), with the same semantics as
`crates/objectives/src/probabilistic/ctc.rs`:

- `y_pred` holds logits of shape (batch, time, classes); the loss takes their log-softmax over the
  class axis itself;
- class 0 is the blank (`mask_index=0`) and also the padding of `y_true` (batch, max_label_length);
- the label length of a row is the number of non-zero labels, and the sequence is the *first*
  `label_length` entries of the row (so an interior 0 is kept as a label scored as the blank, and
  the row's last labels are dropped);
- every sample uses all `time` steps (input length = time);
- the forward (alpha) recursion runs in log space with `log 0` replaced by `log_epsilon = -1e5`,
  so an impossible sequence gives a large finite loss (about 1e5), not inf;
- `repeat[b, i]` compares label i with label i + 1 over the whole padded row, as Keras does.

What it prints, each line naming the Rust test it feeds:

1. `keras_correctness_vector` (ctc.rs; the same inputs are Keras's `CTCTest.test_correctness`,
   also in testdata/keras-losses-vectors.json): the per-sequence losses of the two rows
   (constants 2.442_931_5 and 2.454_360, tolerance 1e-5) and their mean, the default
   `sum_over_batch_size` reduction (Keras's own expected value 2.448645, tolerance 1e-4 relative),
   computed in float32 as Keras does and in float64 on the float32-rounded inputs (the Rust
   constants are the float64 line's, to the digits written).
2. `infeasible_sequence_is_large_and_finite` (ctc.rs), float64: the label rows [1, 1, 0]
   (99_999.956_768_7) and [1, 2, 1] (99_999.690_688_11), which cannot fit in 2 timesteps, and the
   row [2, 0], whose one non-zero label makes the sequence just 2 (1.240_073_85), all within 1e-6.
3. Cross-checks of this script against closed forms (the Rust tests compute these themselves, in
   `closed_forms` and the doc example of `ctc`): one timestep with label 2 is -log softmax(x)[2],
   two timesteps with label 1 sum the alignments (1,1), (0,1), (1,0), and an all-padding row is
   the all-blank path.
"""
import numpy as np

LOG_EPSILON = -1e5


def log_softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


def ctc_per_sequence(y_true, y_pred, dtype=np.float64):
    """Keras 3 `ctc(y_true, y_pred)` unreduced: one loss per row, shape (batch,)."""
    target = np.asarray(y_true, dtype=np.int64)
    output = np.asarray(y_pred, dtype=dtype)
    batch, time, classes = output.shape
    _, n = target.shape
    eps = dtype(LOG_EPSILON)

    label_lengths = np.sum(target != 0, axis=-1)  # Keras: sum(y_true != 0)
    logprobs = log_softmax(output)  # [B, T, K]

    # repeat[b, i] = 1 when label i equals label i + 1; the last column is padded with 0.
    repeat = np.zeros((batch, n), dtype=dtype)
    if n > 1:
        repeat[:, :-1] = (target[:, :-1] == target[:, 1:]).astype(dtype)

    logprobs_phi = logprobs[:, :, 0:1]  # blank (mask_index = 0): [B, T, 1]
    one_hot = np.eye(classes, dtype=dtype)[target]  # [B, N, K]
    logprobs_emit = np.einsum("btk,bnk->btn", logprobs, one_hot)  # [B, T, N]

    def update_phi_score(phi, added):
        return np.concatenate([phi[:, :1], np.logaddexp(phi[:, 1:], added)], axis=-1)

    phi = np.full((batch, n + 1), eps, dtype=dtype)
    phi[:, 0] = 0.0
    emit = np.full((batch, n), eps, dtype=dtype)
    for t in range(time):  # every row uses all timesteps: no output padding
        lp_emit = logprobs_emit[:, t, :]
        lp_phi = logprobs_phi[:, t, :]
        # emit-to-phi epsilon transition, except into a repeat
        prev_phi = update_phi_score(phi, emit + eps * repeat)
        # phi-to-emit transition, and emit self-loop
        next_emit = np.logaddexp(prev_phi[:, :-1] + lp_emit, emit + lp_emit)
        # phi self-loop
        next_phi = prev_phi + lp_phi
        # emit-to-phi through a real blank only when the next label is a repeat
        next_phi = update_phi_score(next_phi, emit + lp_phi + eps * (1.0 - repeat))
        phi, emit = next_phi, next_emit
    # the last emitted label may end the sequence without a trailing blank
    last = update_phi_score(phi, emit) if n > 0 else phi
    return -last[np.arange(batch), label_lengths]


def main():
    np.set_printoptions(precision=10)

    # 1. Keras's CTCTest.test_correctness (float32 inputs).
    y_true = [[1, 2, 1, 0], [1, 2, 0, 2]]
    y_pred = np.array(
        [
            [[-0.12, -0.11, -0.1], [-0.09, -0.08, -0.07], [-0.06, -0.05, -0.04], [-0.03, -0.02, -0.01]],
            [[0.0, 0.01, 0.02], [0.03, 0.04, 0.05], [0.06, 0.07, 0.08], [0.09, 0.1, 0.11]],
        ],
        dtype=np.float32,
    )
    for name, dtype in [("float32", np.float32), ("float64", np.float64)]:
        per = ctc_per_sequence(y_true, y_pred, dtype)
        print(f"keras_correctness_vector [{name}] per sequence: {per[0]:.8f} {per[1]:.8f}")
        print(f"keras_correctness_vector [{name}] sum_over_batch_size: {np.mean(per):.7f}")

    # 2. Sequences that do not fit in T = 2 timesteps, and an interior zero (float64).
    y_pred = np.array([0.1, 0.5, -0.3, 0.2, -0.1, 0.4], dtype=np.float64).reshape(1, 2, 3)
    for row in ([1, 1, 0], [1, 2, 1], [2, 0]):
        loss = ctc_per_sequence([row], y_pred)[0]
        print(f"infeasible_sequence_is_large_and_finite {row}: {loss:.10f}")

    # 3. Closed forms (checks of this script; the Rust tests compute their own).
    x = np.array([0.0, 0.0, 0.0]).reshape(1, 1, 3)
    loss = ctc_per_sequence([[2, 0]], x)[0]
    print(f"check: doc example (T=1, label 2, zero logits) {loss:.12f} vs log 3 = {np.log(3.0):.12f}")
    x = np.array([0.3, -0.2, 0.9]).reshape(1, 1, 3)
    loss = ctc_per_sequence([[2]], x)[0]
    print(f"check: T=1, label 2: {loss:.12f} vs -log p(2) = {-log_softmax(x)[0, 0, 2]:.12f}")
    x = np.array([0.3, -0.2, 0.9, -1.0, 0.4, 0.1]).reshape(1, 2, 3)
    p = np.exp(log_softmax(x))[0]
    expected = -np.log(p[0, 1] * p[1, 1] + p[0, 0] * p[1, 1] + p[0, 1] * p[1, 0])
    loss = ctc_per_sequence([[1, 0]], x)[0]
    print(f"check: T=2, label 1: {loss:.12f} vs alignments (1,1),(0,1),(1,0) = {expected:.12f}")
    blanks = -np.log(p[0, 0] * p[1, 0])
    loss = ctc_per_sequence([[0, 0]], x)[0]
    print(f"check: T=2, all padding: {loss:.12f} vs all blanks = {blanks:.12f}")
    loss = ctc_per_sequence(np.zeros((1, 0)), x)[0]
    print(f"check: T=2, no label slots: {loss:.12f} vs all blanks = {blanks:.12f}")


if __name__ == "__main__":
    main()
