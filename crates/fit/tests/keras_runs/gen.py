"""Writes the Keras 3.15.1 training runs that `tests/parts/keras_runs.rs` re-runs with `fit`.

Regenerate (from the repository root):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv-bench/bin/python crates/fit/tests/keras_runs/gen.py

Each run below builds a small model (Dense on the last axis, channels-first Conv2D), compiles it
with SGD, records the initial weights, fits it with `shuffle=False` and writes one JSON file:
model and initial weights, data, compile and fit arguments, Keras's History, the final weights,
and the Python source that ran (`code`). Every float is the exact float32 value (written through
`.tolist()` of float32 arrays, never rounded). Data values are multiples of 1/16 (exact in
float32, short in JSON); weights are whatever Keras produced.
"""

import inspect
import json
import math
import os
import sys
import textwrap
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402
from keras.src.losses.losses import LossFunctionWrapper  # noqa: E402  (not exported by keras.losses)

assert keras.__version__ == "3.15.1", keras.__version__
assert keras.backend.backend() == "jax", keras.backend.backend()

OUT = os.path.dirname(os.path.abspath(__file__))
RUNS = []


def run(name, why):
    def register(fn):
        RUNS.append((name, why, fn))
        return fn

    return register


# --------------------------------------------------------------------------------------------
# Helpers shared by every run (their source goes into each file's `code` too).


def q(a, step=16):
    """float32 data on a grid of 1/step: exact in float32 and short in JSON."""
    return (np.round(np.asarray(a, dtype=np.float64) * step) / step).astype(np.float32)


def dense(name, units, activation):
    return ("dense", name, units, activation, None)


def conv(name, filters, kernel_size, activation):
    return ("conv2d", name, filters, activation, kernel_size)


def build(seed, input_shape, trunk, heads):
    """Input → trunk layers → one layer per head. Biases start random so they are checked too."""
    keras.utils.set_random_seed(seed)

    def make(spec):
        kind, name, n, act, k = spec
        bias = keras.initializers.RandomUniform(-0.2, 0.2)
        if kind == "dense":
            return layers.Dense(n, activation=act, name=name, bias_initializer=bias)
        return layers.Conv2D(n, k, padding="same", data_format="channels_first",
                             activation=act, name=name, bias_initializer=bias)

    inp = keras.Input(shape=input_shape)
    h = inp
    trunk_layers = [make(s) for s in trunk]
    for layer in trunk_layers:
        h = layer(h)
    head_layers = [make(s) for s in heads]
    outs = [layer(h) for layer in head_layers]
    model = keras.Model(inp, outs[0] if len(outs) == 1 else outs)
    return model, trunk_layers, head_layers


def sgd(learning_rate, momentum=0.0, nesterov=False):
    return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov)


def train(model, x, y, compile_args, fit_args, sample_weight=None, validation_data=None):
    """compile, then fit(shuffle=False); `y` is a list, one array per output."""
    model.compile(**compile_args)
    initial = weights_of(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(
            x, y[0] if len(y) == 1 else y,
            sample_weight=sample_weight, validation_data=validation_data,
            shuffle=False, verbose=0, **fit_args)
    return initial, history, [str(w.message) for w in caught]


# --------------------------------------------------------------------------------------------
# Recording.


def weights_of(model):
    return {l.name: [np.array(v, dtype=np.float32) for v in l.get_weights()] for l in model.layers if l.weights}


def arr(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "data": a.ravel().tolist()}


def layer_json(spec, w):
    kind, name, n, act, k = spec
    out = {"name": name, "type": kind}
    if kind == "dense":
        out["units"] = n
    else:
        out["filters"] = n
        out["kernel_size"] = k
    out["activation"] = act
    out["kernel"] = w[name][0].tolist()
    out["bias"] = w[name][1].tolist()
    return out


def final_json(spec, w):
    name = spec[1]
    return {"kernel": w[name][0].tolist(), "bias": w[name][1].tolist()}


def ser(obj):
    return obj if isinstance(obj, str) else keras.saving.serialize_keras_object(obj)


def metrics_json(m, multi):
    if m is None:
        return None
    if multi:
        return [[ser(e) for e in per] for per in m]
    return [ser(e) for e in m]


def record(name, why, fn, r):
    kind, seed_trunk_heads = r["kind"], r["layers"]
    trunk, heads = seed_trunk_heads
    init, final = r["initial"], r["final"]
    c, f = r["compile_args"], r["fit_args"]
    multi = len(heads) > 1
    losses = c["loss"] if isinstance(c["loss"], (list, tuple)) else [c["loss"]]
    loss_json = [ser(l) for l in losses]
    loss_obj = r.get("loss_objectives") or loss_json
    opt = c["optimizer"]
    vd = r["validation_data"]
    if vd is not None:
        vd = {"x": arr(vd[0]), "y": [arr(v) for v in (vd[1] if isinstance(vd[1], list) else [vd[1]])],
              "sample_weight": None if len(vd) < 3 else
              [arr(v) for v in (vd[2] if isinstance(vd[2], list) else [vd[2]])]}
    sw = r["sample_weight"]
    if sw is not None:
        sw = [arr(v) for v in (sw if isinstance(sw, list) else [sw])]
    cw = f.get("class_weight")
    hist = {k: [float(np.float32(v)) for v in vs] for k, vs in r["history"].history.items()}
    src = textwrap.dedent(inspect.getsource(fn))
    used = [h for h in (mse_axis1, single_loss_run) if h.__name__ + "(" in src or h.__name__ + "," in src]
    helpers = "".join(inspect.getsource(h) + "\n\n" for h in (q, dense, conv, build, sgd, train, go, *used))
    return {
        "name": name,
        "keras": keras.__version__,
        "why": why,
        "model": {
            "kind": kind,
            "trunk": [layer_json(s, init) for s in trunk],
            "heads": [layer_json(s, init) for s in heads],
        },
        "x": arr(r["x"]),
        "y": [arr(v) for v in r["y"]],
        "sample_weight": sw,
        "validation_data": vd,
        "compile": {
            "loss": loss_json,
            "loss_objectives": loss_obj,
            "loss_weights": None if c.get("loss_weights") is None else [float(np.float32(w)) for w in c["loss_weights"]],
            "metrics": metrics_json(c.get("metrics"), multi),
            "weighted_metrics": metrics_json(c.get("weighted_metrics"), multi),
            "optimizer": optimizer_json(opt),
        },
        "fit": {
            "batch_size": f["batch_size"],
            "epochs": f["epochs"],
            "shuffle": False,
            "validation_split": float(f.get("validation_split", 0.0)),
            "class_weight": None if cw is None else {str(k): float(np.float32(v)) for k, v in cw.items()},
            "validation_freq": f.get("validation_freq", 1),
            "validation_batch_size": f.get("validation_batch_size"),
            "steps_per_epoch": f.get("steps_per_epoch"),
            "validation_steps": f.get("validation_steps"),
            "initial_epoch": 0,
        },
        "history": hist,
        "final_weights": {
            "trunk": [final_json(s, final) for s in trunk],
            "heads": [final_json(s, final) for s in heads],
        },
        "code": helpers + src,
    }


def optimizer_json(opt):
    lr = float(np.float32(float(opt.learning_rate)))
    if isinstance(opt, keras.optimizers.Adam):
        return {"class": "Adam", "learning_rate": lr, "beta_1": float(np.float32(opt.beta_1)),
                "beta_2": float(np.float32(opt.beta_2)), "epsilon": float(np.float32(opt.epsilon))}
    return {"class": "SGD", "learning_rate": lr, "momentum": float(np.float32(opt.momentum)),
            "nesterov": bool(opt.nesterov)}


def go(kind, seed, input_shape, trunk, heads, x, y, compile_args, fit_args,
       sample_weight=None, validation_data=None, loss_objectives=None):
    model, _, _ = build(seed, input_shape, trunk, heads)
    initial, history, caught = train(model, x, y, compile_args, fit_args, sample_weight, validation_data)
    return {
        "kind": kind, "layers": (trunk, heads), "initial": initial, "final": weights_of(model),
        "x": x, "y": y, "compile_args": compile_args, "fit_args": fit_args,
        "sample_weight": sample_weight, "validation_data": validation_data,
        "history": history, "loss_objectives": loss_objectives, "warnings": caught,
    }


# --------------------------------------------------------------------------------------------
# The runs.


@run("01_mlp_bce_validation_split",
     "validation_split=0.2 on N=22 trains on the first 17 (batches 5,5,5,2) and validates on the last 5; BCE + accuracy")
def r01():
    rng = np.random.default_rng(101)
    x = q(rng.normal(size=(22, 4)))
    y = (x[:, :1] - 0.5 * x[:, 1:2] > 0).astype(np.float32)
    return go("mlp", 1, (4,), [dense("hidden", 6, "relu")], [dense("out", 1, "sigmoid")], x, [y],
              dict(optimizer=sgd(0.1), loss=keras.losses.BinaryCrossentropy(), metrics=["accuracy"]),
              dict(batch_size=5, epochs=3, validation_split=0.2))


@run("02_mlp_sparse_cce_class_weight_validation_split",
     "class_weight with validation_split: class weights apply to the training 18 only; val_loss and val_weighted_accuracy carry no class weights")
def r02():
    rng = np.random.default_rng(102)
    x = q(rng.normal(size=(24, 5)))
    y = (np.argmax(x[:, :3] + 0.5 * x[:, 3:4], axis=1)).astype(np.float32)
    return go("mlp", 2, (5,), [dense("hidden", 7, "tanh")], [dense("probs", 3, "softmax")], x, [y],
              dict(optimizer=sgd(0.2), loss=keras.losses.SparseCategoricalCrossentropy(),
                   metrics=["accuracy"], weighted_metrics=["accuracy"]),
              dict(batch_size=4, epochs=3, validation_split=0.25, class_weight={0: 1.0, 1: 2.5, 2: 0.5}))


@run("03_mlp_cce_onehot_class_weight_validation_data",
     "class_weight on one-hot labels (argmax picks the class), validation_data with its own sample weights, weighted CategoricalAccuracy object named cacc")
def r03():
    rng = np.random.default_rng(103)
    x = q(rng.normal(size=(20, 4)))
    y = np.eye(3, dtype=np.float32)[np.argmax(x[:, :3], axis=1)]
    xv = q(rng.normal(size=(7, 4)))
    yv = np.eye(3, dtype=np.float32)[np.argmax(xv[:, :3] + 0.3, axis=1)]
    swv = q(rng.uniform(0.2, 2.0, size=(7,)), 8)
    return go("mlp", 3, (4,), [dense("hidden", 6, "relu"), dense("hidden2", 5, "tanh")],
              [dense("probs", 3, "softmax")], x, [y],
              dict(optimizer=sgd(0.15), loss=keras.losses.CategoricalCrossentropy(),
                   metrics=["accuracy"], weighted_metrics=[keras.metrics.CategoricalAccuracy(name="cacc")]),
              dict(batch_size=6, epochs=3, class_weight={0: 0.5, 1: 1.5, 2: 3.0}),
              validation_data=(xv, yv, swv))


@run("04_mlp_bce_class_weight_soft_labels",
     "class_weight {0:0.3,1:2.0} on (N,1) float labels, some soft (Keras rounds the label to pick the class), validation_split 0.3; accuracy counts only exact labels")
def r04():
    rng = np.random.default_rng(104)
    x = q(rng.normal(size=(20, 3)))
    hard = (x[:, :1] + x[:, 2:3] > 0).astype(np.float32)
    soft = q(rng.choice([0.125, 0.25, 0.375, 0.625, 0.75, 0.875], size=(20, 1)), 8)
    y = np.where(np.arange(20)[:, None] % 3 == 0, soft, hard).astype(np.float32)
    return go("mlp", 4, (3,), [dense("hidden", 5, "relu")], [dense("out", 1, "sigmoid")], x, [y],
              dict(optimizer=sgd(0.2), loss=keras.losses.BinaryCrossentropy(), metrics=["accuracy"]),
              dict(batch_size=4, epochs=3, validation_split=0.3, class_weight={0: 0.3, 1: 2.0}))


@run("05_mlp_two_heads_loss_weights_shared_sample_weight",
     "two outputs cls (sigmoid, BCE) and reg (linear, MSE), loss_weights [1, 0.5], one (N,) sample_weight for both, validation_split 0.3, per-output metrics, SGD momentum 0.9")
def r05():
    rng = np.random.default_rng(105)
    x = q(rng.normal(size=(20, 4)))
    y_cls = (x[:, :1] * x[:, 1:2] > 0).astype(np.float32)
    y_reg = q(np.stack([x[:, 0] - x[:, 2], 0.5 * x[:, 3] + 0.25], axis=1))
    sw = q(rng.uniform(0.25, 2.0, size=(20,)), 8)
    return go("mlp", 5, (4,), [dense("hidden", 8, "tanh")],
              [dense("cls", 1, "sigmoid"), dense("reg", 2, "linear")], x, [y_cls, y_reg],
              dict(optimizer=sgd(0.05, momentum=0.9),
                   loss=[keras.losses.BinaryCrossentropy(), keras.losses.MeanSquaredError()],
                   loss_weights=[1.0, 0.5], metrics=[["accuracy"], ["mae"]]),
              dict(batch_size=4, epochs=3, validation_split=0.3), sample_weight=sw)


@run("06_seq_mse_sum_temporal_weights",
     "Dense on the last axis of (N,T,F); MSE with reduction sum and temporal sample weights (N,T), validation_split 0.2, mae metric")
def r06():
    rng = np.random.default_rng(106)
    x = q(rng.normal(size=(15, 5, 3)))
    y = q(np.stack([x[..., 0] * x[..., 1], x[..., 2] - 0.5], axis=-1))
    sw = q(rng.uniform(0.0, 2.0, size=(15, 5)), 8)
    return go("seq", 6, (5, 3), [dense("hidden", 6, "relu")], [dense("out", 2, "linear")], x, [y],
              dict(optimizer=sgd(0.01), loss=keras.losses.MeanSquaredError(reduction="sum"),
                   metrics=["mae"], weighted_metrics=["mse"]),
              dict(batch_size=5, epochs=3, validation_split=0.2), sample_weight=sw)


@run("07_seq_mae_mean_with_sample_weight_validation_data",
     "MAE with reduction mean_with_sample_weight, temporal weights (N,T) in training and validation_data with its own (N,T) weights")
def r07():
    rng = np.random.default_rng(107)
    x = q(rng.normal(size=(14, 4, 3)))
    y = q(np.stack([x[..., 0] + x[..., 1], np.abs(x[..., 2])], axis=-1))
    sw = q(rng.uniform(0.0, 2.0, size=(14, 4)), 8)
    xv = q(rng.normal(size=(6, 4, 3)))
    yv = q(np.stack([xv[..., 0] + xv[..., 1], np.abs(xv[..., 2])], axis=-1))
    swv = q(rng.uniform(0.0, 2.0, size=(6, 4)), 8)
    return go("seq", 7, (4, 3), [dense("hidden", 5, "tanh")], [dense("out", 2, "linear")], x, [y],
              dict(optimizer=sgd(0.05),
                   loss=keras.losses.MeanAbsoluteError(reduction="mean_with_sample_weight"),
                   weighted_metrics=["mae"]),
              dict(batch_size=4, epochs=3), sample_weight=sw, validation_data=(xv, yv, swv))


def mse_axis1(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=1)


@run("08_conv_channels_first_mse_axis1",
     "channels-first Conv2D 3x3 same + 1x1 to (N,7,4,4); MSE over the channel axis (custom LossFunctionWrapper) with per-position weights (N,H,W), sum_over_batch_size, validation_split 0.25, momentum 0.5")
def r08():
    rng = np.random.default_rng(108)
    x = q(rng.normal(size=(12, 3, 4, 4)))
    y = q(np.concatenate([x, x[:, :1] * x[:, 1:2], x[:, 2:] - x[:, :1],
                          np.maximum(x[:, 1:2], 0), x.mean(axis=1, keepdims=True)], axis=1))
    sw = q(rng.uniform(0.0, 2.0, size=(12, 4, 4)), 8)
    reduction = "sum_over_batch_size"
    loss = LossFunctionWrapper(mse_axis1, reduction=reduction, name="mse_axis1")
    objectives = [{"module": "keras.losses", "class_name": "MeanSquaredError",
                   "config": {"name": "mse_axis1", "reduction": reduction, "axis": 1}}]
    return go("conv", 8, (3, 4, 4), [conv("conv", 4, 3, "relu")], [conv("out", 7, 1, "linear")], x, [y],
              dict(optimizer=sgd(0.05, momentum=0.5), loss=loss),
              dict(batch_size=4, epochs=3, validation_split=0.25), sample_weight=sw,
              loss_objectives=objectives)


@run("09_mlp_validation_freq_2",
     "validation_freq=2 with epochs=4: validation after epochs 2 and 4 only, so History's val_* lists have 2 entries")
def r09():
    rng = np.random.default_rng(109)
    x = q(rng.normal(size=(18, 3)))
    y = q(np.stack([x[:, 0] - x[:, 1], x[:, 2] * 0.5], axis=1))
    return go("mlp", 9, (3,), [dense("hidden", 6, "tanh")], [dense("out", 2, "linear")], x, [y],
              dict(optimizer=sgd(0.05), loss=keras.losses.MeanSquaredError(), metrics=["mae"]),
              dict(batch_size=4, epochs=4, validation_split=0.25, validation_freq=2))


@run("10_mlp_validation_freq_list",
     "validation_freq=[1,3] with epochs=3: validation after epochs 1 and 3, History's val_* lists have 2 entries; validation_data given")
def r10():
    rng = np.random.default_rng(110)
    x = q(rng.normal(size=(16, 4)))
    y = (x[:, :1] + x[:, 3:4] > 0.2).astype(np.float32)
    xv = q(rng.normal(size=(6, 4)))
    yv = (xv[:, :1] + xv[:, 3:4] > 0.2).astype(np.float32)
    return go("mlp", 10, (4,), [dense("hidden", 5, "relu")], [dense("out", 1, "sigmoid")], x, [y],
              dict(optimizer=sgd(0.3), loss=keras.losses.BinaryCrossentropy(), metrics=["accuracy"]),
              dict(batch_size=5, epochs=3, validation_freq=[1, 3]), validation_data=(xv, yv))


@run("11_mlp_validation_batch_size",
     "validation_batch_size=3 with batch_size=4: validation of 7 samples in batches 3,3,1; with reduction sum, val_loss (per-batch sums averaged by batch size) depends on the batching, val_mae does not")
def r11():
    rng = np.random.default_rng(111)
    x = q(rng.normal(size=(14, 3)))
    y = q(x[:, :1] ** 2 - x[:, 1:2])
    xv = q(rng.normal(size=(7, 3)))
    yv = q(xv[:, :1] ** 2 - xv[:, 1:2])
    return go("mlp", 11, (3,), [dense("hidden", 6, "relu")], [dense("out", 1, "linear")], x, [y],
              dict(optimizer=sgd(0.02), loss=keras.losses.MeanSquaredError(reduction="sum"), metrics=["mae"]),
              dict(batch_size=4, epochs=3, validation_batch_size=3), validation_data=(xv, yv))


@run("12a_steps_per_epoch_continues_pass",
     "steps_per_epoch=2 on 4 batches, epochs=3: epoch 1 uses batches 0-1, epoch 2 batches 2-3, epoch 3 starts a new pass at batch 0")
def r12a():
    rng = np.random.default_rng(112)
    x = q(rng.normal(size=(16, 3)))
    y = q(np.stack([x[:, 0] + x[:, 1], x[:, 2]], axis=1))
    return go("mlp", 12, (3,), [dense("hidden", 5, "tanh")], [dense("out", 2, "linear")], x, [y],
              dict(optimizer=sgd(0.1), loss=keras.losses.MeanSquaredError(), metrics=["mae"]),
              dict(batch_size=4, epochs=3, steps_per_epoch=2))


@run("12b_steps_per_epoch_runs_out",
     "steps_per_epoch=3 on 5 batches (last partial), epochs=3: epoch 2 runs out after batches 3-4 (2 steps, Keras warns), epoch 3 restarts at batch 0; with validation_data")
def r12b():
    rng = np.random.default_rng(113)
    x = q(rng.normal(size=(18, 3)))
    y = q(np.stack([x[:, 0] - x[:, 1], x[:, 2] * x[:, 0]], axis=1))
    sw = q(rng.uniform(0.25, 2.0, size=(18,)), 8)
    xv = q(rng.normal(size=(5, 3)))
    yv = q(np.stack([xv[:, 0] - xv[:, 1], xv[:, 2] * xv[:, 0]], axis=1))
    return go("mlp", 13, (3,), [dense("hidden", 5, "relu")], [dense("out", 2, "linear")], x, [y],
              dict(optimizer=sgd(0.1), loss=keras.losses.MeanSquaredError(), metrics=["mae"],
                   weighted_metrics=["mae"]),
              dict(batch_size=4, epochs=3, steps_per_epoch=3), sample_weight=sw, validation_data=(xv, yv))


@run("13_validation_steps_1",
     "validation_steps=1 with 3 validation batches: every validation uses only the first batch of 3 (the eval iterator is reset each time)")
def r13():
    rng = np.random.default_rng(114)
    x = q(rng.normal(size=(15, 4)))
    y = (np.argmax(x[:, :3], axis=1)).astype(np.float32)
    xv = q(rng.normal(size=(9, 4)))
    yv = (np.argmax(xv[:, :3], axis=1)).astype(np.float32)
    return go("mlp", 14, (4,), [dense("hidden", 6, "relu")], [dense("probs", 3, "softmax")], x, [y],
              dict(optimizer=sgd(0.2), loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"]),
              dict(batch_size=3, epochs=3, validation_steps=1), validation_data=(xv, yv))


def single_loss_run(seed, loss, x, y, activation, units, sw, batch_size, lr, objectives=None, **fit_extra):
    return go("mlp", seed, (x.shape[1],), [dense("hidden", 6, "tanh")], [dense("out", units, activation)],
              x, [y], dict(optimizer=sgd(lr), loss=loss, weighted_metrics=["mae"]),
              dict(batch_size=batch_size, epochs=3, **fit_extra), sample_weight=sw,
              loss_objectives=objectives)


@run("14a_huber_delta_0_7",
     "Huber(delta=0.7) (Keras's JSON drops delta, so loss_objectives adds it back), sample weights, partial last batch")
def r14a():
    rng = np.random.default_rng(115)
    x = q(rng.normal(size=(17, 3)))
    y = q(np.stack([2 * x[:, 0] + x[:, 1], x[:, 2] - 1], axis=1))
    sw = q(rng.uniform(0.25, 2.0, size=(17,)), 8)
    loss = keras.losses.Huber(delta=0.7)
    objectives = [dict(keras.saving.serialize_keras_object(loss))]
    objectives[0]["config"] = dict(objectives[0]["config"], delta=0.7)
    return single_loss_run(15, loss, x, y, "linear", 2, sw, 5, 0.1, objectives, validation_split=0.2)


@run("14b_log_cosh",
     "LogCosh with sample weights, partial last batch, reduction sum")
def r14b():
    rng = np.random.default_rng(116)
    x = q(rng.normal(size=(13, 3)))
    y = q(np.stack([x[:, 0] * 1.5, x[:, 1] - x[:, 2]], axis=1))
    sw = q(rng.uniform(0.25, 2.0, size=(13,)), 8)
    return single_loss_run(16, keras.losses.LogCosh(reduction="sum"), x, y, "linear", 2, sw, 4, 0.02)


@run("14c_msle",
     "MeanSquaredLogarithmicError on positive targets (relu head), sample weights, partial last batch, validation_split")
def r14c():
    rng = np.random.default_rng(117)
    x = q(rng.normal(size=(19, 3)))
    y = q(np.stack([np.exp(x[:, 0] * 0.5), np.abs(x[:, 1]) + 0.5], axis=1))
    sw = q(rng.uniform(0.25, 2.0, size=(19,)), 8)
    return single_loss_run(17, keras.losses.MeanSquaredLogarithmicError(), x, y, "relu", 2, sw, 4, 0.3,
                           validation_split=0.25)


@run("14d_poisson",
     "Poisson on count-like targets with a sigmoid head, sample weights, partial last batch")
def r14d():
    rng = np.random.default_rng(118)
    x = q(rng.normal(size=(14, 3)))
    y = q(rng.choice([0.0, 0.25, 0.5, 1.0], size=(14, 3)))
    sw = q(rng.uniform(0.25, 2.0, size=(14,)), 8)
    return single_loss_run(18, keras.losses.Poisson(), x, y, "sigmoid", 3, sw, 4, 0.2)


@run("14e_kl_divergence",
     "KLDivergence on soft target distributions with a softmax head, sample weights, partial last batch, reduction mean_with_sample_weight")
def r14e():
    rng = np.random.default_rng(119)
    x = q(rng.normal(size=(15, 4)))
    raw = rng.choice([0.0, 1.0, 2.0, 3.0], size=(15, 4))
    raw[:, 0] += 1.0
    y = (raw / raw.sum(axis=1, keepdims=True)).astype(np.float32)
    sw = q(rng.uniform(0.25, 2.0, size=(15,)), 8)
    return single_loss_run(19, keras.losses.KLDivergence(reduction="mean_with_sample_weight"),
                           x, y, "softmax", 4, sw, 4, 0.3)


@run("14f_hinge",
     "Hinge on 0/1 labels (Keras maps them to -1/1) with a tanh head, sample weights, partial last batch, validation_split")
def r14f():
    rng = np.random.default_rng(120)
    x = q(rng.normal(size=(21, 3)))
    y = (np.stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0], axis=1)).astype(np.float32)
    sw = q(rng.uniform(0.25, 2.0, size=(21,)), 8)
    return single_loss_run(20, keras.losses.Hinge(), x, y, "tanh", 2, sw, 4, 0.1, validation_split=0.2)


@run("14g_cosine_similarity",
     "CosineSimilarity (axis -1) on 3-vectors with a linear head, sample weights, partial last batch")
def r14g():
    rng = np.random.default_rng(121)
    x = q(rng.normal(size=(13, 3)))
    y = q(np.stack([x[:, 0], x[:, 1] * x[:, 2], np.ones(13)], axis=1))
    sw = q(rng.uniform(0.25, 2.0, size=(13,)), 8)
    return single_loss_run(21, keras.losses.CosineSimilarity(), x, y, "linear", 3, sw, 5, 0.2)


@run("14h_mape",
     "MeanAbsolutePercentageError on targets in [1,3], sample weights, partial last batch, reduction sum_over_batch_size")
def r14h():
    rng = np.random.default_rng(122)
    x = q(rng.normal(size=(11, 3)))
    y = q(2.0 + 0.5 * np.tanh(np.stack([x[:, 0], x[:, 1] - x[:, 2]], axis=1)))
    sw = q(rng.uniform(0.25, 2.0, size=(11,)), 8)
    return single_loss_run(22, keras.losses.MeanAbsolutePercentageError(), x, y, "linear", 2, sw, 3, 0.002)


@run("15_adam_keras_epsilon",
     "Adam(0.01) with Keras's epsilon 1e-7 against burn's Adam with epsilon 1e-7 (burn scales epsilon by sqrt(1-beta_2^t); gradients here are far above it)")
def r15():
    rng = np.random.default_rng(115)
    x = q(rng.normal(size=(18, 3)))
    y = q(np.stack([x[:, 0] - x[:, 1], x[:, 2] * 0.5], axis=1))
    return go("mlp", 15, (3,), [dense("hidden", 6, "tanh")], [dense("out", 2, "linear")], x, [y],
              dict(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=keras.losses.MeanSquaredError(),
                   metrics=["mae"]),
              dict(batch_size=4, epochs=3, validation_split=0.25))


@run("16_sgd_nesterov",
     "SGD(0.05, momentum=0.9, nesterov=True) = burn's SGD with Nesterov momentum and dampening 0")
def r16():
    rng = np.random.default_rng(116)
    x = q(rng.normal(size=(17, 3)))
    y = q((x[:, :1] + x[:, 1:2] > 0).astype("float32"))
    return go("mlp", 16, (3,), [dense("hidden", 5, "relu")], [dense("out", 1, "sigmoid")], x, [y],
              dict(optimizer=sgd(0.05, momentum=0.9, nesterov=True), loss=keras.losses.BinaryCrossentropy(),
                   metrics=["accuracy"]),
              dict(batch_size=4, epochs=3, validation_split=0.2))


# --------------------------------------------------------------------------------------------


def check(path, rec):
    text = open(path).read()
    back = json.loads(text)
    assert back == rec, f"{path} does not round-trip"
    for k, vs in back["history"].items():
        assert all(math.isfinite(v) for v in vs), f"{path}: non-finite {k}"
    def flat(v):
        return [v] if not isinstance(v, list) else [e for x in v for e in flat(x)]
    for part in ("trunk", "heads"):
        for l in back["final_weights"][part]:
            assert all(math.isfinite(v) for v in flat(l["kernel"]) + flat(l["bias"])), f"{path}: weights"
    return len(text)


def main():
    only = set(sys.argv[1:])
    rows, total = [], 0
    for name, why, fn in RUNS:
        if only and name not in only:
            continue
        r = fn()
        rec = record(name, why, fn, r)
        path = os.path.join(OUT, name + ".json")
        with open(path, "w") as fh:
            json.dump(rec, fh, separators=(",", ":"), allow_nan=False)
            fh.write("\n")
        size = check(path, rec)
        assert size < 60_000, f"{path} is {size} bytes"
        total += size
        lens = {k: len(v) for k, v in rec["history"].items()}
        loss = [l["class_name"] for l in rec["compile"]["loss"]]
        hist = " ".join(f"{k}[{n}]" for k, n in lens.items())
        rows.append((name, rec["model"]["kind"], ",".join(loss), f"{size/1024:.1f}K", hist, r["warnings"]))
    print(f"{'run':52} {'kind':5} {'loss':36} {'size':6} history keys[len]")
    for name, kind, loss, size, hist, warns in rows:
        print(f"{name:52} {kind:5} {loss:36} {size:6} {hist}")
        for w in warns:
            print(f"{'':52} warning: {w.splitlines()[0][:120]}")
    print(f"{len(rows)} runs, {total/1024:.1f} KiB in all")
    assert total < 1_000_000


if __name__ == "__main__":
    main()
