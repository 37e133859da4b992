"""Keras 3 (JAX backend) on the workloads of benches/metrics.rs, on the same data.

    KERAS_BACKEND=jax python metrics_peer.py [--reps 7]

Times one update_state + result of keras.metrics.AUC(num_thresholds=200) on 4M predictions and
keras.metrics.MeanIoU(num_classes=21, sparse_y_pred=False, axis=1) on (16, 21, 256, 256) logits:
eagerly ("keras") and as jax.jit(stateless_update_state) + stateless_result ("jit", compiled once
before timing). Prints RESULT lines like the Rust bench.
"""

import argparse
import time

import numpy as np


def hash_(n, a, b):
    i = np.arange(n, dtype=np.uint64)
    return ((i * np.uint64(a) + np.uint64(b)) & np.uint64(0xFFFFFFFF)).astype(np.float64) / 4294967296.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    import jax
    import keras

    n = 4 * 1024 * 1024
    labels = np.where(hash_(n, 2246822519, 3266489917) < 0.5, 0.0, 1.0).astype(np.float32)
    preds = (0.6 * hash_(n, 2654435761, 0) + 0.4 * labels.astype(np.float64)).astype(np.float32)
    b, k, h, w = 16, 21, 256, 256
    logits = hash_(b * k * h * w, 2654435761, 12345).astype(np.float32).reshape(b, k, h, w)
    seg = np.minimum((hash_(b * h * w, 2246822519, 3266489917) * k).astype(np.int64), k - 1)
    seg = seg.astype(np.float32).reshape(b, h, w)

    # Keras 3.15.1's MeanIoU(axis=1) raises in result() (it also sums the per-class IoU over
    # `axis`), so Keras gets the channels-last layout (transposed before timing) and axis=-1.
    logits_last = np.ascontiguousarray(np.moveaxis(logits, 1, -1))
    cases = [
        ("auc", lambda: keras.metrics.AUC(num_thresholds=200), labels, preds, n),
        ("mean_iou", lambda: keras.metrics.MeanIoU(num_classes=21, sparse_y_pred=False, axis=-1), seg, logits_last,
         b * k * h * w),
    ]
    for name, make, yt, yp, elems in cases:
        yt_j, yp_j = jax.device_put(yt), jax.device_put(yp)
        # Eager Keras.
        times, value = [], None
        for _ in range(args.reps):
            m = make()
            t0 = time.perf_counter()
            m.update_state(yt_j, yp_j)
            value = float(m.result())
            times.append((time.perf_counter() - t0) * 1e3)
        med = float(np.median(times))
        print(f"RESULT {name} keras med_ms {med:.2f} min_ms {min(times):.2f} value {value:.7f}", flush=True)
        # jit-compiled stateless update.
        m = make()
        upd = jax.jit(lambda v, a, bb: m.stateless_update_state(v, a, bb))
        res = jax.jit(lambda v: m.stateless_result(v))
        v0 = [x.value for x in m.variables]
        jax.block_until_ready(res(upd(v0, yt_j, yp_j)))
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            out = res(upd(v0, yt_j, yp_j))
            value = float(jax.block_until_ready(out))
            times.append((time.perf_counter() - t0) * 1e3)
        med = float(np.median(times))
        print(f"RESULT {name} jit med_ms {med:.2f} min_ms {min(times):.2f} value {value:.7f}", flush=True)


if __name__ == "__main__":
    main()
