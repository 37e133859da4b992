"""Builds testdata/two_outputs.keras by hand from the documented .keras format (a zip archive
with config.json, metadata.json and model.weights.h5), without Keras.

The model config is a minimal two-output Functional model; what the tests read is its
`compile_config`, written the way Keras 3.15 serializes `model.compile(...)`:
losses as serialized objects, a function, or a string; loss_weights as a dict; metrics per
output. Run: python3 testdata/make_keras_fixture.py
"""
import json
import zipfile

config = {
    "module": "keras",
    "class_name": "Functional",
    "config": {
        "name": "fcn",
        "trainable": True,
        "layers": [],
        "input_layers": [["image", 0, 0]],
        "output_layers": [["features", 0, 0], ["classes", 0, 0]],
    },
    "registered_name": "Functional",
    "build_config": {"input_shape": None},
    "compile_config": {
        "optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                      "config": {"name": "adam", "learning_rate": 0.001}, "registered_name": None},
        "loss": {
            "features": {"module": "keras.losses", "class_name": "MeanSquaredError",
                         "config": {"name": "mean_squared_error", "reduction": "sum_over_batch_size"},
                         "registered_name": None},
            "classes": {"module": "keras.losses", "class_name": "function",
                        "config": "sparse_categorical_crossentropy", "registered_name": "function"},
        },
        "loss_weights": {"features": 1.0, "classes": 0.5},
        "metrics": {
            "features": ["mae"],
            "classes": [{"module": "keras.metrics", "class_name": "SparseCategoricalAccuracy",
                         "config": {"name": "sparse_categorical_accuracy", "dtype": "float32"},
                         "registered_name": None}],
        },
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    },
}
metadata = {"keras_version": "3.15.1", "date_saved": "2026-11-26@12:00:00"}

with zipfile.ZipFile("testdata/two_outputs.keras", "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("metadata.json", json.dumps(metadata))
    z.writestr("config.json", json.dumps(config))
    z.writestr("model.weights.h5", b"")  # weights are not read by objectives
print("wrote testdata/two_outputs.keras")
