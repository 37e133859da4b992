"""Vectors for the IoU, F-score and accuracy families from Keras 3.15.1's own tests."""
import os
import json, re

K = os.environ.get("KERAS_METRICS", "keras/src/metrics") + "/"

def lines(f):
    return open(K + f).read().split("\n")

def assert_line(f, cls, method, nth=0, pat="self.assert"):
    ls = lines(f)
    ci = next(i for i, l in enumerate(ls) if re.match(rf"class {cls}\b", l))
    mi = next(i for i in range(ci, len(ls)) if re.match(rf"\s+def {method}\(", ls[i]))
    hits = [i for i in range(mi + 1, len(ls)) if pat in ls[i]]
    # stop at the next def
    nxt = next((i for i in range(mi + 1, len(ls)) if re.match(r"\s+def |class ", ls[i])), len(ls))
    hits = [h for h in hits if h < nxt]
    return f"{f}:{hits[nth] + 1}"

def vec(name, source, cls, config, updates, expected=None, error=False, atol=None, rtol=None):
    v = {"name": name, "source": source, "metric": {"class_name": cls, "config": config}, "updates": updates}
    if error:
        v["error"] = True
    else:
        v["expected"] = expected
    if atol is not None:
        v["atol"] = atol
    if rtol is not None:
        v["rtol"] = rtol
    return v

def up(t, p, w=None):
    u = {"y_true": t, "y_pred": p}
    if w is not None:
        u["sample_weight"] = w
    return u

# ---------------------------------------------------------------- IoU
F = "iou_metrics_test.py"
iou = []
def I(cls, method, mcls, cfg, updates, expected, nth=0, suffix=""):
    iou.append(vec(f"{cls}.{method}{suffix}", assert_line(F, cls, method, nth), mcls, cfg, updates, expected, atol=1e-3))

I("IoUTest", "test_unweighted", "IoU", {"num_classes": 2, "target_class_ids": [0, 1]},
  [up([0, 0, 1, 1], [0, 1, 0, 1])], (1 / 3 + 1 / 3) / 2)
I("IoUTest", "test_weighted", "IoU", {"num_classes": 2, "target_class_ids": [1, 0], "dtype": "float32"},
  [up([0, 0, 1, 1], [0, 1, 0, 1], [0.2, 0.3, 0.4, 0.1])], (0.1 / (0.4 + 0.5 - 0.1) + 0.2 / (0.6 + 0.5 - 0.2)) / 2)
I("IoUTest", "test_multi_dim_input", "IoU", {"num_classes": 2, "target_class_ids": [0, 1], "dtype": "float32"},
  [up([[0, 0], [1, 1]], [[0, 1], [0, 1]], [[0.2, 0.3], [0.4, 0.1]])], (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)
I("IoUTest", "test_zero_valid_entries", "IoU", {"num_classes": 2, "target_class_ids": [0, 1]}, [], 0.0)
I("IoUTest", "test_zero_and_non_zero_entries", "IoU", {"num_classes": 2, "target_class_ids": [0, 1]},
  [up([1], [1])], 1.0)
I("IoUTest", "test_out_of_range_y_true_ignored", "IoU", {"num_classes": 2, "target_class_ids": [0, 1]},
  [up([0, 2], [0, 1])], 1.0)
I("IoUTest", "test_out_of_range_y_pred_ignored", "IoU", {"num_classes": 2, "target_class_ids": [0, 1]},
  [up([0, 1], [0, 2])], 1.0)
I("IoUTest", "test_negative_y_true_ignored", "IoU", {"num_classes": 2, "target_class_ids": [0, 1]},
  [up([-1, 0], [0, 0])], 1.0)
I("IoUTest", "test_negative_y_pred_ignored", "IoU", {"num_classes": 2, "target_class_ids": [0, 1]},
  [up([0, 1], [-1, 1])], 1.0)
I("IoUTest", "test_absent_class_contributes_zero", "IoU", {"num_classes": 4, "target_class_ids": [0, 1, 2, 3]},
  [up([0, 0, 1, 1], [0, 1, 0, 1])], (1 / 3 + 1 / 3) / 2)

B = {"target_class_ids": [0, 1]}
I("BinaryIoUTest", "test_different_thresholds_weighted", "BinaryIoU", {**B, "threshold": 0.3, "dtype": "float32"},
  [up([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], [0.2, 0.3, 0.4, 0.1])],
  (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2, 0, "(threshold 0.3)")
I("BinaryIoUTest", "test_different_thresholds_weighted", "BinaryIoU", {**B, "threshold": 0.5, "dtype": "float32"},
  [up([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], [0.1, 0.2, 0.4, 0.3])],
  (0.5 / (0.5 + 0.7 - 0.5) + 0.3 / (0.5 + 0.3 - 0.3)) / 2, 1, "(threshold 0.5)")
I("BinaryIoUTest", "test_different_thresholds_unweighted", "BinaryIoU", {**B, "threshold": 0.3},
  [up([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])], (1 / 3 + 1 / 3) / 2, 0, "(threshold 0.3)")
I("BinaryIoUTest", "test_different_thresholds_unweighted", "BinaryIoU", {**B, "threshold": 0.5},
  [up([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])], (2 / (2 + 3 - 2) + 1 / (2 + 1 - 1)) / 2, 1, "(threshold 0.5)")
I("BinaryIoUTest", "test_multi_dim_input", "BinaryIoU", {**B, "threshold": 0.4, "dtype": "float32"},
  [up([[0, 1], [0, 1]], [[0.1, 0.7], [0.9, 0.3]], [[0.2, 0.3], [0.4, 0.1]])],
  (0.2 / (0.6 + 0.3 - 0.2) + 0.3 / (0.4 + 0.7 - 0.3)) / 2)
I("BinaryIoUTest", "test_zero_valid_entries", "BinaryIoU", B, [], 0.0)
I("BinaryIoUTest", "test_zero_and_non_zero_entries", "BinaryIoU", {**B, "threshold": 0.5}, [up([1], [0.6])], 1.0)

I("MeanIoUTest", "test_unweighted", "MeanIoU", {"num_classes": 2}, [up([0, 0, 1, 1], [0, 1, 0, 1])], (1 / 3 + 1 / 3) / 2)
I("MeanIoUTest", "test_unweighted_ignore_class_255", "MeanIoU", {"num_classes": 3, "ignore_class": 255},
  [up([0, 1, 2, 255], [0, 1, 1, 1])], (1 / (1 + 1 - 1) + 1 / (2 + 1 - 1) + 0 / (0 + 1 - 0)) / 3)
I("MeanIoUTest", "test_unweighted_ignore_class_1", "MeanIoU", {"num_classes": 3, "ignore_class": -1},
  [up([0, 1, 2, -1], [0, 1, 1, 1])], (1 / (1 + 1 - 1) + 1 / (2 + 1 - 1) + 0 / (0 + 1 - 0)) / 3)
I("MeanIoUTest", "test_weighted", "MeanIoU", {"num_classes": 2, "dtype": "float32"},
  [up([0, 0, 1, 1], [0, 1, 0, 1], [0.2, 0.3, 0.4, 0.1])], (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)
I("MeanIoUTest", "test_weighted_ignore_class_1", "MeanIoU", {"num_classes": 2, "ignore_class": -1, "dtype": "float32"},
  [up([0, 0, 1, -1], [0, 1, 0, 1], [0.2, 0.3, 0.4, 0.1])], (0.2 / (0.6 + 0.5 - 0.2) + 0.0 / (0.3 + 0.4 - 0.0)) / 2)
I("MeanIoUTest", "test_multi_dim_input", "MeanIoU", {"num_classes": 2, "dtype": "float32"},
  [up([[0, 0], [1, 1]], [[0, 1], [0, 1]], [[0.2, 0.3], [0.4, 0.1]])], (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)
I("MeanIoUTest", "test_zero_valid_entries", "MeanIoU", {"num_classes": 2}, [], 0.0)
I("MeanIoUTest", "test_zero_and_non_zero_entries", "MeanIoU", {"num_classes": 2}, [up([1], [1])], 1.0)
I("MeanIoUTest", "test_out_of_range_ignored", "MeanIoU", {"num_classes": 2}, [up([0, 3], [0, 1])], 1.0)
I("MeanIoUTest", "test_negative_ignored", "MeanIoU", {"num_classes": 2}, [up([0, -1], [0, 1])], 1.0)
I("MeanIoUTest", "test_absent_class_contributes_zero", "MeanIoU", {"num_classes": 3}, [up([0, 0, 0, 0], [0, 0, 0, 0])], 1.0)
# The test asserts only the warning; with Keras's default int dtype the float weights are cast to
# int (0), so the confusion matrix stays zero and the result is 0.
iou.append(vec("MeanIoUTest.test_user_warning_float_weight(result after the int cast)",
               assert_line(F, "MeanIoUTest", "test_user_warning_float_weight", 0, "pytest.warns"),
               "MeanIoU", {"num_classes": 3}, [up([0, 1, 1, 0], [0, 1, 1, 1], [0.2, 0.3, 0.4, 0.1])], 0.0))

OH_T = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]]
OH_P = [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]]
I("OneHotIoUTest", "test_unweighted", "OneHotIoU", {"num_classes": 3, "target_class_ids": [0, 2]},
  [up(OH_T, OH_P)], (0 / (1 + 2 - 0) + 1 / (3 + 1 - 1)) / 2)
I("OneHotIoUTest", "test_weighted", "OneHotIoU", {"num_classes": 3, "target_class_ids": [0, 2], "dtype": "float32"},
  [up(OH_T, OH_P, [0.1, 0.2, 0.3, 0.4])], (0 / (0.3 + 0.6 - 0) + 0.1 / (0.7 + 0.1 - 0.1)) / 2)
I("OneHotMeanIoUTest", "test_unweighted", "OneHotMeanIoU", {"num_classes": 3}, [up(OH_T, OH_P)], (0 + 0 + 1 / (3 + 1 - 1)) / 3)
OH_T5 = OH_T + [[1, 0, 0]]
OH_P5 = OH_P + [[0.6, 0.2, 0.2]]
exp5 = (0.1 / (0.4 + 0.6 - 0.1) + 0 + 0.1 / (0.6 + 0.1 - 0.1)) / 3
I("OneHotMeanIoUTest", "test_weighted", "OneHotMeanIoU", {"num_classes": 3, "dtype": "float32"},
  [up(OH_T5, OH_P5, [0.1, 0.2, 0.3, 0.3, 0.1])], exp5, 0, "(float weights)")
I("OneHotMeanIoUTest", "test_weighted", "OneHotMeanIoU", {"num_classes": 3},
  [up(OH_T5, OH_P5, [1, 2, 3, 3, 1])], exp5, 1, "(int weights, default dtype)")

# ---------------------------------------------------------------- F-score
F = "f_score_metrics_test.py"
fs = []
def fb(cls, method, average, beta, threshold, t, p, w, expected, nth=0):
    cfg = {"average": average, "beta": float(beta), "threshold": threshold, "dtype": "float32"}
    name = f"{cls}.{method}(average={average}, beta={beta}" + (f", sample_weight={w})" if w is not None else ")")
    fs.append(vec(name, assert_line(F, cls, method, nth, "self._run_test"), "FBetaScore", cfg, [up(t, p, w)], expected, atol=1e-6))

T1 = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
P1 = [[0.7, 0.7, 0.7], [1, 0, 0], [0.9, 0.8, 0]]
T2 = [[0, 0, 0], [0, 1, 0], [0, 0, 1]]
for avg in ["micro", "macro", "weighted"]:
    for beta in [0.5, 1.0, 2.0]:
        fb("FBetaScoreTest", "test_fbeta_perfect_score", avg, beta, 0.66, T1, P1, None, 1.0)
        fb("FBetaScoreTest", "test_fbeta_worst_score", avg, beta, 0.66, T2, P1, None, 0.0)
T3 = [[0, 0, 1], [1, 1, 0], [1, 1, 1]]
for avg, beta, res in [
    (None, 0.5, [0.71428573, 0.5, 0.833334]), (None, 1.0, [0.8, 0.5, 0.6666667]), (None, 2.0, [0.9090904, 0.5, 0.555556]),
    ("micro", 0.5, 0.6666667), ("micro", 1.0, 0.6666667), ("micro", 2.0, 0.6666667),
    ("macro", 0.5, 0.6825397), ("macro", 1.0, 0.6555555), ("macro", 2.0, 0.6548822),
    ("weighted", 0.5, 0.6825397), ("weighted", 1.0, 0.6555555), ("weighted", 2.0, 0.6548822)]:
    fb("FBetaScoreTest", "test_fbeta_random_score", avg, beta, 0.66, T3, P1, None, res)
T4 = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 0, 1]]
P4 = [[0.9, 0.1, 0], [0.2, 0.6, 0.2], [0, 0, 1], [0.4, 0.3, 0.3], [0, 0.9, 0.1], [0, 0, 1]]
for avg, beta, res in [
    (None, 0.5, [0.9090904, 0.555556, 1.0]), (None, 1.0, [0.8, 0.6666667, 1.0]), (None, 2.0, [0.71428573, 0.833334, 1.0]),
    ("micro", 0.5, 0.833334), ("micro", 1.0, 0.833334), ("micro", 2.0, 0.833334),
    ("macro", 0.5, 0.821549), ("macro", 1.0, 0.822222), ("macro", 2.0, 0.849206),
    ("weighted", 0.5, 0.880471), ("weighted", 1.0, 0.844445), ("weighted", 2.0, 0.829365)]:
    fb("FBetaScoreTest", "test_fbeta_random_score_none", avg, beta, None, T4, P4, None, res)
W = [[1.0] * 6, [1.0, 0.0, 1.0, 1.0, 0.0, 1.0], [0.5, 1.0, 1.0, 1.0, 0.5, 1.0]]
table = [
    (None, 0.5, [[0.909091, 0.555556, 1.0], [1.0, 0.0, 1.0], [0.9375, 0.714286, 1.0]]),
    (None, 1.0, [[0.8, 0.666667, 1.0], [1.0, 0.0, 1.0], [0.857143, 0.8, 1.0]]),
    (None, 2.0, [[0.714286, 0.833333, 1.0], [1.0, 0.0, 1.0], [0.789474, 0.909091, 1.0]]),
    ("micro", 0.5, [0.833333, 1.0, 0.9]), ("micro", 1.0, [0.833333, 1.0, 0.9]), ("micro", 2.0, [0.833333, 1.0, 0.9]),
    ("macro", 0.5, [0.821549, 0.666667, 0.883929]), ("macro", 1.0, [0.822222, 0.666667, 0.885714]),
    ("macro", 2.0, [0.849206, 0.666667, 0.899522]),
    ("weighted", 0.5, [0.880471, 1.0, 0.917857]), ("weighted", 1.0, [0.844444, 1.0, 0.902857]),
    ("weighted", 2.0, [0.829365, 1.0, 0.897608]),
]
for avg, beta, results in table:
    for w, res in zip(W, results):
        fb("FBetaScoreTest", "test_fbeta_weighted_random_score_none", avg, beta, None, T4, P4, w, res)
fs.append(vec("FBetaScoreTest.test_non_2d_input_shapes_raises_value_error",
              assert_line(F, "FBetaScoreTest", "test_non_2d_input_shapes_raises_value_error"),
              "FBetaScore", {"beta": 1.0, "dtype": "float32"},
              [up({"shape": [2, 3, 4], "data": [0.0] * 24}, {"shape": [2, 3, 4], "data": [0.0] * 24})], error=True))
# F1Score() must equal FBetaScore(beta=1.0): the (None, 1.0) row of test_fbeta_random_score_none.
for cls, cfg in [("F1Score", {}), ("FBetaScore", {"beta": 1.0})]:
    fs.append(vec(f"F1ScoreTest.test_correctness({cls})", assert_line(F, "F1ScoreTest", "test_correctness"), cls, cfg,
                  [up(T4, P4)], [0.8, 0.6666667, 1.0], atol=1e-6))
doc_line = next(i for i, l in enumerate(lines("f_score_metrics.py")) if "array([0.5      , 0.8" in l) + 1
fs.append(vec("F1Score docstring example", f"f_score_metrics.py:{doc_line}", "F1Score", {"threshold": 0.5},
              [up([[1, 1, 1], [1, 0, 0], [1, 1, 0]], [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])],
              [0.5, 0.8, 0.6666667], atol=1e-6))

# ---------------------------------------------------------------- Accuracy
F = "accuracy_metrics_test.py"
acc = []
def A(cls, method, mcls, cfg, updates, expected, nth=0, suffix="", atol=1e-3):
    acc.append(vec(f"{cls}.{method}{suffix}", assert_line(F, cls, method, nth), mcls, {"dtype": "float32", **cfg},
                   updates, expected, atol=atol))

A("AccuracyTest", "test_unweighted", "Accuracy", {"name": "accuracy"}, [up([[1], [2], [3], [4]], [[0], [2], [3], [4]])], 0.75)
A("AccuracyTest", "test_weighted", "Accuracy", {"name": "accuracy"},
  [up([[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0])], 0.5)
A("AccuracyTest", "test_weighted_rank_1", "Accuracy", {"name": "accuracy"}, [up([1, 2, 3, 4], [0, 2, 3, 4], [1, 1, 0, 0])], 0.5)
A("AccuracyTest", "test_weighted_nd_weights", "Accuracy", {"name": "accuracy"},
  [up([[1, 2], [3, 4]], [[0, 2], [3, 4]], [[1, 0], [0, 1]])], 0.5)
A("AccuracyTest", "test_weighted_nd_broadcast_weights", "Accuracy", {"name": "accuracy"},
  [up([[1, 2], [3, 4]], [[0, 2], [3, 4]], [[1, 0]])], 0.5)

BA = {"name": "binary_accuracy"}
A("BinaryAccuracyTest", "test_unweighted", "BinaryAccuracy", BA, [up([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])], 0.75)
A("BinaryAccuracyTest", "test_unweighted", "BinaryAccuracy", BA, [up([1, 1, 0, 0], [[0.98], [1], [0], [0.6]])], 0.75, 1,
  "(broadcasting case)")
A("BinaryAccuracyTest", "test_weighted", "BinaryAccuracy", BA,
  [up([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], [1, 0, 0, 1])], 0.5)
A("BinaryAccuracyTest", "test_weighted_rank_1", "BinaryAccuracy", BA, [up([1, 1, 0, 0], [0.98, 1, 0, 0.6], [1, 0, 0, 1])], 0.5)
A("BinaryAccuracyTest", "test_weighted_nd_weights", "BinaryAccuracy", BA,
  [up([[1, 1], [0, 0]], [[0.98, 1], [0, 0.6]], [[1, 0], [0, 1]])], 0.5)
A("BinaryAccuracyTest", "test_weighted_nd_broadcast_weights", "BinaryAccuracy", BA,
  [up([[1, 1], [0, 0]], [[0.98, 1], [0, 0.6]], [[1, 0]])], 1.0)
A("BinaryAccuracyTest", "test_threshold", "BinaryAccuracy", {**BA, "threshold": 0.3},
  [up([[1], [1], [0], [0]], [[0.98], [0.5], [0.1], [0.2]])], 1.0, 0, "(threshold 0.3)", atol=1e-6)
A("BinaryAccuracyTest", "test_threshold", "BinaryAccuracy", {**BA, "threshold": 0.9},
  [up([[1], [1], [0], [0]], [[0.98], [0.5], [0.1], [0.2]])], 0.75, 1, "(threshold 0.9)", atol=1e-6)

CA = {"name": "categorical_accuracy"}
A("CategoricalAccuracyTest", "test_unweighted", "CategoricalAccuracy", CA,
  [up([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])], 0.5)
A("CategoricalAccuracyTest", "test_weighted", "CategoricalAccuracy", CA,
  [up([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3])], 0.3)

SA = {"name": "sparse_categorical_accuracy"}
S = "SparseCategoricalAccuracyTest"
A(S, "test_unweighted", "SparseCategoricalAccuracy", SA, [up([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])], 0.5)
A(S, "test_weighted", "SparseCategoricalAccuracy", SA, [up([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], [0.7, 0.3])], 0.3)
A(S, "test_squeeze_y_true", "SparseCategoricalAccuracy", SA,
  [up([[0], [1], [2]], [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]])], 1.0, atol=1e-4)
A(S, "test_cast_y_pred_dtype", "SparseCategoricalAccuracy", SA, [up([0, 1], [[0.9, 0.1], [0.1, 0.9]])], 1.0, atol=1e-4)
A(S, "test_reshape_matches", "SparseCategoricalAccuracy", SA,
  [up([[0], [0]], [[[0.9, 0.1, 0.0], [0.8, 0.15, 0.05]]])], 1.0, atol=1e-6)
A(S, "test_squeeze_y_true_shape", "SparseCategoricalAccuracy", SA,
  [up([[0], [1], [2]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])], 1.0, atol=1e-4)
A(S, "test_cast_y_pred_to_match_y_true_dtype", "SparseCategoricalAccuracy", SA,
  [up([0, 1, 2], [[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.1, 0.0, 0.9]])], 1.0, atol=1e-4)
A(S, "test_reshape_matches_to_original_y_true_shape", "SparseCategoricalAccuracy", SA,
  [up([[0], [1]], [[0.9, 0.1], [0.1, 0.9]])], 1.0, atol=1e-4)
A(S, "test_matching_shapes_without_squeeze", "SparseCategoricalAccuracy", SA,
  [up([2, 1, 0], [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])], 1.0, atol=1e-4)

TK = {"name": "top_k_categorical_accuracy", "k": 1}
A("TopKCategoricalAccuracyTest", "test_unweighted", "TopKCategoricalAccuracy", TK,
  [up([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])], 0.5)
A("TopKCategoricalAccuracyTest", "test_weighted", "TopKCategoricalAccuracy", TK,
  [up([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3])], 0.3)
STK = {"name": "sparse_top_k_categorical_accuracy", "k": 1}
S = "SparseTopKCategoricalAccuracyTest"
A(S, "test_unweighted", "SparseTopKCategoricalAccuracy", STK, [up([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])], 0.5)
A(S, "test_weighted", "SparseTopKCategoricalAccuracy", STK, [up([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3])], 0.3)
A(S, "test_from_sorted_ids_unweighted", "SparseTopKCategoricalAccuracy", {**STK, "from_sorted_ids": True},
  [up([2, 1], [[1, 0, 3], [1, 2, 3]])], 0.5)
A(S, "test_from_sorted_ids_weighted", "SparseTopKCategoricalAccuracy", {**STK, "from_sorted_ids": True},
  [up([2, 1], [[1, 0, 3], [1, 2, 3]], [0.7, 0.3])], 0.3)

for fname, vs in [("iou", iou), ("f_score", fs), ("accuracy", acc)]:
    json.dump({"vectors": vs}, open(os.environ.get("OUT", ".") + f"/{fname}.json", "w"), indent=1)
    print(fname, len(vs))
