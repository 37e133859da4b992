"""Every metric class objectives registers, fed by Keras 3.15.1 (JAX backend) with a
`sample_weight` of each candidate shape: what Keras returns, or that it raises.

Writes `testdata/keras-metrics-weight-shapes.json` (the vector format of
`testdata/keras-metrics-vectors.json`, read by `crates/conformance/tests/parts/weight_shapes.rs`):

    KERAS_BACKEND=jax python3 gen_weight_shapes.py [OUT.json]

The inputs are small and deterministic (a seeded generator, values rounded to 2 decimals, so
they are exact in the JSON); every case is two `update_state` calls with batches of different
sizes (5 then 4 rows; the user report's F1/FBeta case: 4 then 3), so the weight's batch axis
never coincides with another axis. Weight shapes tried, for inputs `y_true` of shape `St` and
`y_pred` of shape `Sp`:

- `()` (a scalar), `(1,)`, `(B,)`, `(B, 1)`;
- `St` and `Sp` when of rank 2 or more (the labels' shape, e.g. `(B, C)`; sparse labels: the
  predictions' `(B, C)` too), and `(1, C)` (one weight per class) for rank-2 labels;
- for rank-3 inputs `(B, T, C)` (sparse: `(B, T)` labels): `(B, T)`, `(B, T, 1)`, `(B, T, C)` and
  `(B, 1, 1)`.

A case where Keras raises becomes `"error": true` with Keras's message in `"keras_error"` —
unless objectives deliberately gives a number there (`OBJECTIVES_ACCEPTS` below): then the vector
has `"objectives_accepts": reason`, Keras's message, and as `expected` Keras's result for the
weight that objectives' reading is equivalent to (`"equivalent_weight"`), computed here by Keras.
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import keras  # noqa: E402

assert keras.__version__ == "3.15.1", keras.__version__
assert keras.backend.backend() == "jax", keras.backend.backend()

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "keras-metrics-weight-shapes.json")

SEED = 20240607
C = 3  # classes (last axis)
T = 2  # the middle axis of rank-3 inputs
BATCHES = {False: (4, 2), True: (4,)}  # rank-2 inputs: two updates; rank-3: one


def r(x):
    return np.round(np.asarray(x, dtype=np.float64), 2)


# ------------------------------------------------------------------ inputs, per kind and layout
# A kind builds (y_true, y_pred) for a batch of `b` rows; `rank3` adds the middle axis T.

def regression(g, b, rank3):
    s = (b, T, C) if rank3 else (b, C)
    return r(g.uniform(-2, 2, s)), r(g.uniform(-2, 2, s))


def positive(g, b, rank3):
    s = (b, T, C) if rank3 else (b, C)
    return r(g.uniform(0.1, 3, s)), r(g.uniform(0.1, 3, s))


def binary(g, b, rank3):
    s = (b, T, C) if rank3 else (b, C)
    return (g.random(s) < 0.5).astype(np.float64), r(g.uniform(0.01, 0.99, s))


def one_hot(g, shape):
    ids = g.integers(0, C, shape)
    return np.eye(C)[ids]


def categorical(g, b, rank3):
    s = (b, T) if rank3 else (b,)
    p = g.uniform(0.05, 1, s + (C,))
    p = r(p / p.sum(-1, keepdims=True))
    return one_hot(g, s), p


def sparse(g, b, rank3):
    s = (b, T) if rank3 else (b,)
    p = g.uniform(0.05, 1, s + (C,))
    p = r(p / p.sum(-1, keepdims=True))
    return g.integers(0, C, s).astype(np.float64), p


def labels(g, b, rank3):
    """Class ids for both (Accuracy): the same shape as the regression inputs."""
    s = (b, T, C) if rank3 else (b, C)
    return g.integers(0, C, s).astype(np.float64), g.integers(0, C, s).astype(np.float64)


def ids(g, b, rank3):
    """Sparse class ids for both (IoU, MeanIoU): (B,) or (B, T)."""
    s = (b, T) if rank3 else (b,)
    return g.integers(0, C, s).astype(np.float64), g.integers(0, C, s).astype(np.float64)


def binary_flat(g, b, rank3):
    """BinaryIoU: 0/1 labels and scores, (B,) or (B, T)."""
    s = (b, T) if rank3 else (b,)
    return (g.random(s) < 0.5).astype(np.float64), r(g.uniform(0.01, 0.99, s))


# ------------------------------------------------------------------ the metrics
# (class name, [configs], kind, rank-3 inputs tried). Every class in objectives' registry
# (crates/objectives/src/metrics/registry.rs) appears; the configs pick the code paths that read
# the weight differently.

F32 = {"dtype": "float32"}
# The at-metrics' constraint: a value no ratio of these small weighted counts hits exactly (at 0.5,
# Keras's float32 counts put a ratio of exactly 1/2 on either side of it, by the weights' rounding).
AT = 0.537
METRICS = [
    ("Mean", [{}], regression, True),
    ("Sum", [{}], regression, True),
    ("MeanMetricWrapper", [{"fn": "mean_squared_error"}], regression, True),
    ("MeanSquaredError", [{}], regression, True),
    ("MeanAbsoluteError", [{}], regression, True),
    ("MeanAbsolutePercentageError", [{}], positive, True),
    ("MeanSquaredLogarithmicError", [{}], positive, True),
    ("LogCoshError", [{}], regression, True),
    ("CosineSimilarity", [{}], regression, True),
    ("RootMeanSquaredError", [{}], regression, True),
    ("R2Score", [{}, {"class_aggregation": None}], regression, True),
    ("KLDivergence", [{}], categorical, True),
    ("Poisson", [{}], positive, True),
    ("BinaryCrossentropy", [{}], binary, True),
    ("CategoricalCrossentropy", [{}], categorical, True),
    ("SparseCategoricalCrossentropy", [{}, {"ignore_class": 0}], sparse, True),
    ("Hinge", [{}], binary, True),
    ("SquaredHinge", [{}], binary, True),
    ("CategoricalHinge", [{}], categorical, True),
    ("PearsonCorrelation", [{}], regression, True),
    ("ConcordanceCorrelation", [{}], regression, True),
    ("Accuracy", [{}], labels, True),
    ("BinaryAccuracy", [{}], binary, True),
    ("CategoricalAccuracy", [{}], categorical, True),
    ("SparseCategoricalAccuracy", [{}], sparse, True),
    ("TopKCategoricalAccuracy", [{"k": 2}], categorical, True),
    ("SparseTopKCategoricalAccuracy", [{"k": 2}], sparse, True),
    ("TruePositives", [{}, {"thresholds": [0.15, 0.5, 0.85]}], binary, True),
    ("FalsePositives", [{}, {"thresholds": [0.15, 0.5, 0.85]}], binary, True),
    ("TrueNegatives", [{}, {"thresholds": [0.15, 0.5, 0.85]}], binary, True),
    ("FalseNegatives", [{}, {"thresholds": [0.15, 0.5, 0.85]}], binary, True),
    ("Precision", [{}, {"thresholds": [0.0, 0.5, 1.0]}, {"class_id": 1}, {"top_k": 2}], binary, True),
    ("Recall", [{}, {"thresholds": [0.0, 0.5, 1.0]}, {"class_id": 1}, {"top_k": 2}], binary, True),
    ("SensitivityAtSpecificity", [{"specificity": AT}, {"specificity": AT, "class_id": 1}], binary, True),
    ("SpecificityAtSensitivity", [{"sensitivity": AT}, {"sensitivity": AT, "class_id": 1}], binary, True),
    ("PrecisionAtRecall", [{"recall": AT}, {"recall": AT, "class_id": 1}], binary, True),
    ("RecallAtPrecision", [{"precision": AT}, {"precision": AT, "class_id": 1}], binary, True),
    ("AUC", [{}, {"curve": "PR", "thresholds": [0.1, 0.35, 0.5, 0.9]}, {"multi_label": True},
             {"label_weights": [1.0, 2.0, 0.5]}], binary, True),
    ("FBetaScore", [{"average": None, "beta": 2.0}, {"average": "micro", "beta": 2.0},
                    {"average": "macro", "beta": 0.5}, {"average": "weighted", "beta": 2.0, "threshold": 0.4}],
     categorical, True),
    ("F1Score", [{"average": None}, {"average": "micro"}, {"average": "macro"}, {"average": "weighted"},
                 {"average": "micro", "threshold": 0.3}], binary, True),
    ("IoU", [{"num_classes": C, "target_class_ids": [0, 2], **F32}], ids, True),
    ("MeanIoU", [{"num_classes": C, **F32}, {"num_classes": C}], ids, True),
    ("BinaryIoU", [{"target_class_ids": [0, 1], "threshold": 0.5, **F32}], binary_flat, True),
    ("OneHotIoU", [{"num_classes": C, "target_class_ids": [0, 1], **F32}], categorical, True),
    ("OneHotMeanIoU", [{"num_classes": C, **F32}], categorical, True),
]


VALUES_ONLY = ("Mean", "Sum")  # update_state(values, sample_weight): objectives passes y_pred


RANK3_ALSO = {("SparseCategoricalCrossentropy", '{"ignore_class": 0}'), ("MeanIoU", '{"num_classes": 3}'),
              ("F1Score", '{"average": "micro"}')}


def build(cls, cfg):
    cfg = dict(cfg)
    if cls == "MeanMetricWrapper":
        fn = keras.losses.get(cfg.pop("fn"))
        return keras.metrics.MeanMetricWrapper(fn=fn, **cfg)
    return getattr(keras.metrics, cls)(**cfg)


def weight_shapes(st, sp, rank3):
    """(label, shape as a function of the batch size b) for the candidate weights."""
    out = [("scalar", lambda b: ()), ("one", lambda b: (1,)), ("B", lambda b: (b,)), ("B1", lambda b: (b, 1))]
    if len(st) >= 2:
        out.append(("y_true_shape", lambda b: (b,) + tuple(st[1:])))
        if not rank3:  # one weight per class (per column), as class weights are given
            out.append(("per_class", lambda b: (1,) + tuple(st[1:])))
    if len(sp) >= 2 and tuple(sp) != tuple(st):
        out.append(("y_pred_shape", lambda b: (b,) + tuple(sp[1:])))
    if rank3:
        out += [("BT", lambda b: (b, T)), ("BT1", lambda b: (b, T, 1)), ("BTC", lambda b: (b, T, C)),
                ("B11", lambda b: (b, 1, 1))]
    seen, uniq = set(), []
    for name, f in out:
        key = f(7)
        if key in seen:
            continue
        seen.add(key)
        uniq.append((name, f))
    return uniq


def weights(g, shape, integer):
    if integer:  # an "int" confusion matrix truncates weights: give it whole numbers
        return g.integers(0, 4, shape).astype(np.float64)
    return r(g.uniform(0.1, 2.0, shape))


def keras_run(cls, cfg, updates):
    """Keras's result for the updates, or ('error', message)."""
    m = build(cls, cfg)
    try:
        for u in updates:
            w = u.get("sample_weight")
            w = None if w is None else np.asarray(w, np.float32)
            if cls in VALUES_ONLY:
                m.update_state(np.asarray(u["y_pred"], np.float32), sample_weight=w)
            else:
                m.update_state(np.asarray(u["y_true"], np.float32), np.asarray(u["y_pred"], np.float32),
                               sample_weight=w)
        res = np.asarray(m.result(), dtype=np.float32)
    except Exception as e:  # Keras refuses: record what it says
        msg = f"{type(e).__name__}: {e}".split("\n")[0]
        return "error", msg[:240]
    if res.ndim == 0:
        return "ok", float(res)
    return "ok", [float(x) for x in res.reshape(-1)]


def tolist(a):
    """Nested lists, whole numbers written without a fraction (a smaller file)."""
    def short(x):
        if isinstance(x, list):
            return [short(v) for v in x]
        return int(x) if float(x).is_integer() else x
    return short(np.asarray(a, dtype=np.float64).tolist())


# ------------------------------------------------------------------ objectives' deliberate extensions
# Shapes Keras refuses and objectives reads in a documented way: (reason, the weight Keras is
# given instead to compute the expected value, as a function of the weight and the inputs).

def _broadcast_rows(w, yt, yp):
    """A scalar weight as one weight per row."""
    return np.full((np.shape(yp)[0],), float(np.asarray(w).reshape(-1)[0]))


def _per_id(w, yt, yp, one_hot):
    """IoU family: a weight of the ids' leading shape, broadcast explicitly to one weight per id
    (the ids: sparse labels, or one-hot labels without their class axis)."""
    id_shape = np.shape(yt)[:-1] if one_hot else np.shape(yt)
    w = np.asarray(w)
    while w.ndim > len(id_shape) and w.shape[-1] == 1:
        w = w[..., 0]
    w = w.reshape(w.shape + (1,) * (len(id_shape) - w.ndim))
    return np.broadcast_to(w, id_shape)


def _per_sample(w, yt, yp):
    """A (B,) weight as (B, 1): one weight per sample."""
    return np.reshape(w, (-1, 1))


IOU = ("IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU")


def objectives_accepts(cls, cfg, wname):
    if cls in ("F1Score", "FBetaScore") and wname == "scalar":
        return ("a scalar weight weighs every row alike (Keras's FBetaScore calls expand_dims(sample_weight, 1), "
                "which a 0-d weight does not have)", _broadcast_rows)
    if cls in IOU and wname in ("B", "B1", "B11"):
        one_hot = cls.startswith("OneHot")
        return ("one weight per sample of (B, T) ids: objectives broadcasts a weight of the ids' leading shape over "
                "the ids (Keras flattens the weight and needs one per id)",
                lambda w, yt, yp: _per_id(w, yt, yp, one_hot))
    if cls == "SparseCategoricalCrossentropy" and cfg.get("ignore_class") is not None and wname == "B":
        return ("a (B,) weight is one weight per sample, also against the (B, T) ignore_class mask (Keras "
                "multiplies the two and needs B == T)", _per_sample)
    return None


# ------------------------------------------------------------------ generation

def cases():
    g = np.random.default_rng(SEED)
    out = []
    for cls, configs, kind, try3 in METRICS:
        for i, cfg in enumerate(configs):
            # Rank-3 inputs with the first config (and where the weight meets a mask or an int
            # matrix); the other configs read the weight like the first on rank-3 inputs.
            also3 = i == 0 or (cls, json.dumps(cfg, sort_keys=True)) in RANK3_ALSO
            for rank3 in ([False, True] if try3 and also3 else [False]):
                batches = [kind(g, b, rank3) for b in BATCHES[rank3]]
                st, sp = batches[0][0].shape, batches[0][1].shape
                integer = cls in ("IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU") \
                    and cfg.get("dtype") != "float32"
                for wname, wshape in weight_shapes(st, sp, rank3):
                    updates = []
                    for yt, yp in batches:
                        w = weights(g, wshape(yt.shape[0]), integer)
                        updates.append({"y_true": tolist(yt), "y_pred": tolist(yp), "sample_weight": tolist(w)})
                    out.append((cls, cfg, kind, rank3, wname, st, sp, updates))
    # The user report: F1Score / FBetaScore, (7, 2) labels fed as 4 + 3 rows, every average.
    g2 = np.random.default_rng(SEED + 1)
    for cls, extra in (("F1Score", {}), ("FBetaScore", {"beta": 2.0})):
        for avg in (None, "micro", "macro", "weighted"):
            yt = (g2.random((7, 2)) < 0.5).astype(np.float64)
            yp = r(g2.uniform(0.01, 0.99, (7, 2)))
            for wname, wshape in (("B", (7,)), ("B1", (7, 1)), ("y_true_shape", (7, 2))):
                w = r(g2.uniform(0.1, 2.0, wshape))
                updates = [{"y_true": tolist(yt[a:b]), "y_pred": tolist(yp[a:b]), "sample_weight": tolist(w[a:b])}
                           for a, b in ((0, 4), (4, 7))]
                out.append((cls, {"average": avg, **extra}, binary, False, wname, (4, 2), (4, 2), updates,))
    return out


def main():
    vectors = []
    for cls, cfg, kind, rank3, wname, st, sp, updates in cases():
        wshapes = [list(np.shape(u["sample_weight"])) for u in updates]
        name = (f"{cls}{json.dumps(cfg, separators=(',', ':'))} y_true{list(st)} y_pred{list(sp)} "
                f"w{wshapes}")
        v = {"name": name, "source": "gen_weight_shapes.py",
             "metric": {"class_name": cls, "config": cfg}, "updates": updates}
        status, got = keras_run(cls, cfg, updates)
        if status == "ok":
            v["expected"] = got
        else:
            ext = objectives_accepts(cls, cfg, wname)
            if ext is not None:
                reason, equiv = ext
                eq_updates = [dict(u, sample_weight=tolist(equiv(u["sample_weight"], u["y_true"], u["y_pred"])))
                              for u in updates]
                s2, got2 = keras_run(cls, cfg, eq_updates)
                # Keras refuses the inputs themselves (not the weight): an error either way.
                ext = None if s2 != "ok" else ext
            if ext is None:
                v["error"] = True
                v["keras_error"] = got
            else:
                v["expected"] = got2
                v["objectives_accepts"] = reason
                v["keras_error"] = got
                v["equivalent_weight"] = [list(np.shape(u["sample_weight"])) for u in eq_updates]
        vectors.append(v)
    root = {
        "keras_version": keras.__version__,
        "backend": "jax",
        "source": "testdata/metric-vector-generators/gen_weight_shapes.py",
        "format": "see crates/conformance/tests/parts/metrics.rs; `keras_error` is what Keras raised; "
                  "`objectives_accepts` marks a shape Keras refuses and objectives takes (the reason), "
                  "`expected` then being Keras's result for `equivalent_weight`",
        "vectors": vectors,
    }
    with open(OUT, "w") as f:
        f.write("{\n")
        for k in ("keras_version", "backend", "source", "format"):
            f.write(f" {json.dumps(k)}: {json.dumps(root[k])},\n")
        f.write(' "vectors": [\n')
        f.write(",\n".join("  " + json.dumps(v, separators=(",", ":")) for v in vectors))
        f.write("\n ]\n}\n")
    n_err = sum(1 for v in vectors if v.get("error"))
    n_ext = sum(1 for v in vectors if "objectives_accepts" in v)
    print(f"{len(vectors)} vectors ({n_err} Keras errors, {n_ext} objectives extensions) -> {OUT}")


if __name__ == "__main__":
    main()
