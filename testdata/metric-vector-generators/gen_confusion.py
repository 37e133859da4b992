# Generates $OUT/confusion.json from keras/src/metrics/confusion_metrics_test.py
# (literal data written out; the line is the assert's).
import os
import json, math, re, struct

SRC = os.environ.get("KERAS_METRICS", "keras/src/metrics") + "/confusion_metrics_test.py"
DOC = os.environ.get("KERAS_METRICS", "keras/src/metrics") + "/confusion_metrics.py"
lines = open(SRC).read().split("\n")
doc_lines = open(DOC).read().split("\n")

def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]

def line_of(cls, method, marker="assert", nth=0):
    start = next(i for i, l in enumerate(lines) if l.startswith(f"class {cls}("))
    d = next(i for i in range(start, len(lines)) if re.match(rf"\s+def {method}\(", lines[i]))
    hits = [i for i in range(d + 1, len(lines)) if marker in lines[i]]
    # stay inside the method
    end = next((i for i in range(d + 1, len(lines)) if re.match(r"    (def|@)|class ", lines[i])), len(lines))
    hits = [h for h in hits if h < end]
    return f"confusion_metrics_test.py:{hits[nth] + 1}"

def doc_line(class_name, marker, nth=0):
    start = next(i for i, l in enumerate(doc_lines) if l.startswith(f"class {class_name}("))
    hits = [i for i in range(start, len(doc_lines)) if marker in doc_lines[i]]
    return f"confusion_metrics.py:{hits[nth] + 1}"

V = []
def vec(name, source, class_name, config, updates, expected=None, error=False, rtol=None, atol=None):
    v = {"name": name, "source": source, "metric": {"class_name": class_name, "config": config}, "updates": updates}
    if error:
        v["error"] = True
    else:
        v["expected"] = expected
    if rtol is not None:
        v["rtol"] = rtol
    if atol is not None:
        v["atol"] = atol
    V.append(v)

def u(y_true, y_pred, sw=None):
    d = {"y_true": y_true, "y_pred": y_pred}
    if sw is not None:
        d["sample_weight"] = sw
    return d

# ---- the four counts ----
YT = [[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]]
YP = [[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]]
TP_ = [[0.9, 0.2, 0.8, 0.1], [0.2, 0.9, 0.7, 0.6], [0.1, 0.2, 0.4, 0.3], [0, 1, 0.7, 0.3]]
TT_ = [[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]]
TH = [0.15, 0.5, 0.85]
counts = {
    "FalsePositives": ("FalsePositivesTest", 7.0, 14.0, [7.0, 4.0, 2.0],
                       [[1.0, 2.0, 3.0, 5.0], [7.0, 11.0, 13.0, 17.0], [19.0, 23.0, 29.0, 31.0], [5.0, 15.0, 10.0, 0]],
                       [125.0, 42.0, 12.0]),
    "FalseNegatives": ("FalseNegativesTest", 3.0, 5.0, [1.0, 4.0, 6.0], [[3.0], [5.0], [7.0], [4.0]], [4.0, 16.0, 23.0]),
    "TrueNegatives": ("TrueNegativesTest", 3.0, 4.0, [2.0, 5.0, 7.0], [[0.0, 2.0, 3.0, 5.0]], [5.0, 15.0, 23.0]),
    "TruePositives": ("TruePositiveTest", 7.0, 12.0, [6.0, 3.0, 1.0], 37.0, [222.0, 111.0, 37.0]),
}
for cls, (tc, unw, wtd, thr, sw, wthr) in counts.items():
    vec(f"{tc}.test_unweighted", line_of(tc, "test_unweighted"), cls, {}, [u(YT, YP)], unw)
    vec(f"{tc}.test_weighted", line_of(tc, "test_weighted"), cls, {}, [u(YT, YP, [1.0, 1.5, 2.0, 2.5])], wtd)
    vec(f"{tc}.test_unweighted_with_thresholds", line_of(tc, "test_unweighted_with_thresholds"), cls,
        {"thresholds": TH}, [u(TT_, TP_)], thr)
    vec(f"{tc}.test_weighted_with_thresholds", line_of(tc, "test_weighted_with_thresholds"), cls,
        {"thresholds": TH}, [u(TT_, TP_, sw)], wthr)
# docstring examples
for cls, yt, yp, r1, r2 in [
    ("FalsePositives", [0, 1, 0, 0], [0, 0, 1, 1], 2.0, 1.0),
    ("FalseNegatives", [0, 1, 1, 1], [0, 1, 0, 0], 2.0, 1.0),
    ("TrueNegatives", [0, 1, 0, 0], [1, 1, 0, 0], 2.0, 1.0),
    ("TruePositives", [0, 1, 1, 1], [1, 0, 1, 1], 2.0, 1.0),
]:
    vec(f"{cls}.docstring", doc_line(cls, ">>> m.result()"), cls, {}, [u(yt, yp)], r1)
    vec(f"{cls}.docstring_weighted", doc_line(cls, ">>> m.result()", 1), cls, {}, [u(yt, yp, [0, 0, 1, 0])], r2)

# a fixed 0/1 column for the np.random.randint(0, 2, size=(100, 1)) tests
BITS = [[(i * 7 + i // 3) % 2] for i in range(100)]
NOT_BITS = [[1 - b[0]] for b in BITS]

# ---- Precision / Recall ----
for cls, tc, exp in [("Precision", "PrecisionTest", None), ("Recall", "RecallTest", None)]:
    P = cls == "Precision"
    vec(f"{tc}.test_unweighted", line_of(tc, "test_unweighted"), cls, {}, [u([0, 1, 1, 0], [1, 0, 1, 0])], 0.5)
    vec(f"{tc}.test_unweighted_all_incorrect", line_of(tc, "test_unweighted_all_incorrect"), cls,
        {"thresholds": [0.5]}, [u(NOT_BITS, BITS)], 0.0)
    if P:
        vec(f"{tc}.test_weighted", line_of(tc, "test_weighted"), cls, {},
            [u([[0, 1, 1, 0], [1, 0, 0, 1]], [[1, 0, 1, 0], [1, 0, 1, 0]], [[1, 2, 3, 4], [4, 3, 2, 1]])], 7.0 / 10.0)
    else:
        vec(f"{tc}.test_weighted", line_of(tc, "test_weighted"), cls, {},
            [u([[0, 1, 1, 0], [1, 0, 0, 1]], [[1, 0, 1, 0], [0, 1, 0, 1]], [[1, 2, 3, 4], [4, 3, 2, 1]])], 4.0 / 10.0)
    vec(f"{tc}.test_div_by_zero", line_of(tc, "test_div_by_zero"), cls, {}, [u([0, 0, 0, 0], [0, 0, 0, 0])], 0.0)
    vec(f"{tc}.test_unweighted_with_threshold", line_of(tc, "test_unweighted_with_threshold"), cls,
        {"thresholds": [0.5, 0.7]}, [u([0, 1, 1, 0], [1, 0, 0.6, 0])], [0.5, 0.0])
    w = [[4, 0], [3, 1]] if P else [[1, 4], [3, 2]]
    one = u([[0, 1], [1, 0]], [[1, 0], [0.6, 0]], w)
    tol = {} if P else {"atol": 1e-3}
    vec(f"{tc}.test_weighted_with_threshold", line_of(tc, "test_weighted_with_threshold"), cls,
        {"thresholds": [0.5, 1.0]}, [one], [3.0 / 7.0, 0.0], **tol)
    vec(f"{tc}.test_multiple_updates", line_of(tc, "test_multiple_updates"), cls,
        {"thresholds": [0.5, 1.0]}, [one, one], [6.0 / 14.0, 0.0], **tol)
    vec(f"{tc}.test_unweighted_top_k", line_of(tc, "test_unweighted_top_k"), cls, {"top_k": 3},
        [u([0, 1, 1, 0, 0], [0.2, 0.1, 0.5, 0, 0.2])], 1.0 / 3 if P else 0.5)
    vec(f"{tc}.test_weighted_top_k", line_of(tc, "test_weighted_top_k"), cls, {"top_k": 3},
        [u([[0, 1, 1, 0, 1]], [[0.2, 0.1, 0.4, 0, 0.2]], [[1, 4, 2, 3, 5]]),
         u([1, 0, 1, 1, 1], [0.2, 0.6, 0.4, 0.2, 0.2], 3)],
        (13.0 / 17.0) if P else (13.0 / 23.0))
    vec(f"{tc}.test_unweighted_class_id_should_throw_error_1d", line_of(tc, "test_unweighted_class_id_should_throw_error_1d"),
        cls, {"class_id": 2}, [u([0, 1, 1, 0, 0], [0.2, 0.1, 0.6, 0, 0.2])], error=True)
    vec(f"{tc}.test_unweighted_class_id_multiclass", line_of(tc, "test_unweighted_class_id_multiclass"), cls,
        {"class_id": 1},
        [u([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
           [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])], 1.0)
    vec(f"{tc}.test_unweighted_top_k_and_threshold", line_of(tc, "test_unweighted_top_k_and_threshold"), cls,
        {"thresholds": 0.7, "top_k": 2},
        [u([0, 1, 1, 0, 1] if P else [1, 1, 1, 0, 1], [0.2, 0.8, 0.6, 0, 0.2])], 1.0 if P else 0.25)
    # docstrings
    vec(f"{cls}.docstring", doc_line(cls, ">>> m.result()"), cls, {}, [u([0, 1, 1, 1], [1, 0, 1, 1])], 2.0 / 3.0)
    vec(f"{cls}.docstring_weighted", doc_line(cls, ">>> m.result()", 1), cls, {},
        [u([0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0])], 1.0)
    if P:
        vec("Precision.docstring_top_k_2", doc_line(cls, ">>> m.result()", 2), cls, {"top_k": 2},
            [u([0, 0, 1, 1], [1, 1, 1, 1])], 0.0)
        vec("Precision.docstring_top_k_4", doc_line(cls, ">>> m.result()", 3), cls, {"top_k": 4},
            [u([0, 0, 1, 1], [1, 1, 1, 1])], 0.5)

# ---- SensitivitySpecificityBase family ----
PV1 = [0.0, 0.1, 0.2, 0.3, 0.4, 0.01, 0.02, 0.25, 0.26, 0.26]
LV1 = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
W1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
def onehot(labels, k=3):
    return [[1.0 if j == l else 0.0 for j in range(k)] for l in labels]
def cols(values, k=3):
    return [[v] * k for v in values]

tc = "SensitivityAtSpecificityTest"
vec(f"{tc}.test_unweighted_all_correct", line_of(tc, "test_unweighted_all_correct"), "SensitivityAtSpecificity",
    {"specificity": 0.7}, [u(BITS, BITS)], 1.0)
vec(f"{tc}.test_unweighted_high_specificity", line_of(tc, "test_unweighted_high_specificity"), "SensitivityAtSpecificity",
    {"specificity": 0.8}, [u(LV1, [0.0, 0.1, 0.2, 0.3, 0.4, 0.1, 0.45, 0.5, 0.8, 0.9])], 0.8)
vec(f"{tc}.test_unweighted_low_specificity", line_of(tc, "test_unweighted_low_specificity"), "SensitivityAtSpecificity",
    {"specificity": 0.4}, [u(LV1, PV1)], 0.6)
vec(f"{tc}.test_unweighted_class_id", line_of(tc, "test_unweighted_class_id"), "SpecificityAtSensitivity",
    {"sensitivity": 0.4, "class_id": 2}, [u(onehot([0, 0, 0, 0, 0, 2, 2, 2, 2, 2]), cols(PV1))], 0.6)
vec(f"{tc}.test_weighted", line_of(tc, "test_weighted"), "SensitivityAtSpecificity",
    {"specificity": 0.4}, [u(LV1, PV1, W1)], 0.675)
vec(f"{tc}.test_weighted_bool_labels", line_of(tc, "test_weighted"), "SensitivityAtSpecificity",
    {"specificity": 0.4}, [u([bool(x) for x in LV1], PV1, W1)], 0.675)
vec("SensitivityAtSpecificity.docstring", doc_line("SensitivityAtSpecificity", ">>> m.result()"), "SensitivityAtSpecificity",
    {"specificity": 0.5}, [u([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])], 0.5)
vec("SensitivityAtSpecificity.docstring_weighted", doc_line("SensitivityAtSpecificity", ">>> m.result()", 1),
    "SensitivityAtSpecificity", {"specificity": 0.5},
    [u([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], [1, 1, 2, 2, 1])], 0.333333)

tc = "SpecificityAtSensitivityTest"
vec(f"{tc}.test_unweighted_all_correct", line_of(tc, "test_unweighted_all_correct"), "SpecificityAtSensitivity",
    {"sensitivity": 0.7}, [u(BITS, BITS)], 1.0)
vec(f"{tc}.test_unweighted_high_sensitivity", line_of(tc, "test_unweighted_high_sensitivity"), "SpecificityAtSensitivity",
    {"sensitivity": 1.0}, [u(LV1, PV1)], 0.2)
vec(f"{tc}.test_unweighted_low_sensitivity", line_of(tc, "test_unweighted_low_sensitivity"), "SpecificityAtSensitivity",
    {"sensitivity": 0.4}, [u(LV1, PV1)], 0.6)
vec(f"{tc}.test_unweighted_class_id", line_of(tc, "test_unweighted_class_id"), "SpecificityAtSensitivity",
    {"sensitivity": 0.4, "class_id": 2}, [u(onehot([0, 0, 0, 0, 0, 2, 2, 2, 2, 2]), cols(PV1))], 0.6)
vec(f"{tc}.test_weighted", line_of(tc, "test_weighted"), "SpecificityAtSensitivity",
    {"sensitivity": 0.4}, [u(LV1, PV1, W1)], 0.4)
vec("SpecificityAtSensitivity.docstring", doc_line("SpecificityAtSensitivity", ">>> m.result()"), "SpecificityAtSensitivity",
    {"sensitivity": 0.5}, [u([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])], 0.66666667)
vec("SpecificityAtSensitivity.docstring_weighted", doc_line("SpecificityAtSensitivity", ">>> m.result()", 1),
    "SpecificityAtSensitivity", {"sensitivity": 0.5},
    [u([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], [1, 1, 2, 2, 2])], 0.5)

PV2 = [0.0, 0.1, 0.2, 0.5, 0.6, 0.2, 0.5, 0.6, 0.8, 0.9]
tc = "PrecisionAtRecallTest"
vec(f"{tc}.test_unweighted_all_correct", line_of(tc, "test_unweighted_all_correct"), "PrecisionAtRecall",
    {"recall": 0.7}, [u(BITS, BITS)], 1.0)
vec(f"{tc}.test_unweighted_high_recall", line_of(tc, "test_unweighted_high_recall"), "PrecisionAtRecall",
    {"recall": 0.8}, [u(LV1, PV2)], 2.0 / 3)
vec(f"{tc}.test_unweighted_low_recall", line_of(tc, "test_unweighted_low_recall"), "PrecisionAtRecall",
    {"recall": 0.6}, [u(LV1, PV2)], 0.75)
vec(f"{tc}.test_unweighted_class_id", line_of(tc, "test_unweighted_class_id"), "PrecisionAtRecall",
    {"recall": 0.6, "class_id": 2}, [u(onehot([0, 0, 0, 0, 0, 2, 2, 2, 2, 2]), cols(PV2))], 0.75)
vec(f"{tc}.test_weighted", line_of(tc, "test_weighted"), "PrecisionAtRecall",
    {"recall": 7.0 / 8}, [u(LV1, PV2, [2, 1, 2, 1, 2, 1, 2, 2, 1, 2])], 0.7)
vec("PrecisionAtRecall.docstring", doc_line("PrecisionAtRecall", ">>> m.result()"), "PrecisionAtRecall",
    {"recall": 0.5}, [u([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])], 0.5)
vec("PrecisionAtRecall.docstring_weighted", doc_line("PrecisionAtRecall", ">>> m.result()", 1), "PrecisionAtRecall",
    {"recall": 0.5}, [u([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], [2, 2, 2, 1, 1])], 0.33333333)

PV3 = [0.05, 0.1, 0.2, 0.3, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.9, 0.95]
LV3 = [0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1]
tc = "RecallAtPrecisionTest"
vec(f"{tc}.test_unweighted_all_correct", line_of(tc, "test_unweighted_all_correct"), "RecallAtPrecision",
    {"precision": 0.7}, [u(BITS, BITS)], 1.0)
vec(f"{tc}.test_unweighted_high_precision", line_of(tc, "test_unweighted_high_precision"), "RecallAtPrecision",
    {"precision": 0.75}, [u(LV3, PV3)], 0.5)
vec(f"{tc}.test_unweighted_low_precision", line_of(tc, "test_unweighted_low_precision"), "RecallAtPrecision",
    {"precision": 2.0 / 3}, [u(LV3, PV3)], 5.0 / 6)
vec(f"{tc}.test_unweighted_class_id", line_of(tc, "test_unweighted_class_id"), "RecallAtPrecision",
    {"precision": 2.0 / 3, "class_id": 2}, [u(onehot([2 * x for x in LV3]), cols(PV3))], 5.0 / 6)
vec(f"{tc}.test_weighted", line_of(tc, "test_weighted"), "RecallAtPrecision",
    {"precision": 0.75}, [u([0, 1, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.5, 0.6, 0.9, 0.9], [1, 2, 1, 2, 1, 2, 1])], 0.6)
vec(f"{tc}.test_unachievable_precision", line_of(tc, "test_unachievable_precision"), "RecallAtPrecision",
    {"precision": 2.0 / 3}, [u([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.9])], 0.0)
vec("RecallAtPrecision.docstring", doc_line("RecallAtPrecision", ">>> m.result()"), "RecallAtPrecision",
    {"precision": 0.8}, [u([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])], 0.5)
vec("RecallAtPrecision.docstring_weighted", doc_line("RecallAtPrecision", ">>> m.result()", 1), "RecallAtPrecision",
    {"precision": 0.8}, [u([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1])], 1.0)

# ---- AUC ----
def logits(p):
    # -ops.log(1.0 / (y_pred + 1e-12) - 1.0) in float32
    x = f32(f32(p) + 1e-12)
    y = f32(f32(1.0 / x) - 1.0)
    return -f32(math.log(y))

YP_A = [0, 0.5, 0.3, 0.9]
YT_A = [0, 0, 1, 1]
SW_A = [1, 2, 3, 4]
tc = "AUCTest"
vec(f"{tc}.test_unweighted_all_correct", line_of(tc, "test_unweighted_all_correct"), "AUC", {}, [u(YT_A, YT_A)], 1.0)
vec(f"{tc}.test_unweighted", line_of(tc, "test_unweighted"), "AUC", {"num_thresholds": 3}, [u(YT_A, YP_A)], 0.75, atol=1e-3)
vec(f"{tc}.test_unweighted_from_logits", line_of(tc, "test_unweighted_from_logits"), "AUC",
    {"num_thresholds": 3, "from_logits": True}, [u(YT_A, [logits(p) for p in YP_A])], 0.75, atol=1e-3)
vec(f"{tc}.test_manual_thresholds", line_of(tc, "test_manual_thresholds", "assertAllClose(result"), "AUC",
    {"num_thresholds": 2, "thresholds": [0.5]}, [u(YT_A, YP_A)], 0.75, atol=1e-3)
for m, cfg, exp in [
    ("test_weighted_roc_interpolation", {}, 0.7855),
    ("test_weighted_roc_majoring", {"summation_method": "majoring"}, 1.0),
    ("test_weighted_roc_minoring", {"summation_method": "minoring"}, 0.571),
    ("test_weighted_pr_majoring", {"curve": "PR", "summation_method": "majoring"}, 1 * 0.429 + 1 * 0.571),
    ("test_weighted_pr_minoring", {"curve": "PR", "summation_method": "minoring"}, 0.7 * 0.429 + 0 * 0.571),
    ("test_weighted_pr_interpolation", {"curve": "PR"}, 2.416 / 7 + 4 / 7),
    ("test_weighted_prgain_majoring", {"curve": "PRGAIN", "summation_method": "majoring"}, 1.0),
    ("test_weighted_prgain_minoring", {"curve": "PRGAIN", "summation_method": "minoring"}, 0.0),
    ("test_weighted_prgain_interpolation", {"curve": "PRGAIN"}, 0.5),
]:
    cfg = dict(cfg, num_thresholds=3)
    vec(f"{tc}.{m}", line_of(tc, m), "AUC", cfg, [u(YT_A, YP_A, SW_A)], exp, atol=1e-3)
vec(f"{tc}.test_weighted_pr_interpolation_negative_weights", line_of(tc, "test_weighted_pr_interpolation_negative_weights"),
    "AUC", {"num_thresholds": 3, "curve": "PR"}, [u(YT_A, YP_A, [-1, -2, -3, -4])], 0.0, atol=1e-3)
vec(f"{tc}.test_prgain_interpolation", line_of(tc, "test_prgain_interpolation"), "AUC",
    {"num_thresholds": 3, "curve": "PRGAIN"},
    [u([0, 0, 0, 1, 0, 1, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.3, 0.4, 0.4, 0.6, 0.6, 0.8, 0.9])],
    0.666666 * 0.333333 + 0.333333 * 0.833333, atol=1e-3)
expit = lambda x: f32(1.0 / (1.0 + math.exp(-x)))
ext = [[[-10.0, 10.0, -10.0], [10.0, -10.0, 10.0]], [[-12.0, 12.0, -12.0], [12.0, -12.0, 12.0]]]
vec(f"{tc}.test_extra_dims", line_of(tc, "test_extra_dims"), "AUC", {},
    [u([[[1, 0, 0], [1, 0, 0]], [[0, 1, 1], [0, 1, 1]]], [[[expit(-v) for v in r] for r in b] for b in ext])], 0.5)
vec("AUC.docstring", doc_line("AUC", ">>> m.result()"), "AUC", {"num_thresholds": 3}, [u(YT_A, YP_A)], 0.75)
vec("AUC.docstring_weighted", doc_line("AUC", ">>> m.result()", 1), "AUC", {"num_thresholds": 3},
    [u(YT_A, YP_A, [1, 0, 0, 1])], 1.0)

# MultiAUCTest
MP = [[0, 0.1], [0.5, 0.2], [0.3, 0.3], [0.9, 0.4]]
GOOD = [[0, 0], [0, 0], [1, 1], [1, 1]]
BAD = [[0, 1], [0, 1], [1, 0], [1, 0]]
MPL = [[logits(v) for v in r] for r in MP]
tc = "MultiAUCTest"
vec(f"{tc}.test_unweighted_all_correct", line_of(tc, "test_unweighted_all_correct"), "AUC", {"multi_label": True},
    [u(GOOD, GOOD)], 1.0)
vec(f"{tc}.test_unweighted_all_correct_flat", line_of(tc, "test_unweighted_all_correct_flat"), "AUC",
    {"multi_label": False}, [u(GOOD, GOOD)], 1.0)
vec(f"{tc}.test_unweighted", line_of(tc, "test_unweighted"), "AUC", {"num_thresholds": 5, "multi_label": True},
    [u(GOOD, MP)], (0.875 + 1.0) / 2.0, atol=1e-3)
vec(f"{tc}.test_unweighted_from_logits", line_of(tc, "test_unweighted_from_logits"), "AUC",
    {"num_thresholds": 5, "multi_label": True, "from_logits": True}, [u(GOOD, MPL)], (0.875 + 1.0) / 2.0, atol=1e-3)
vec(f"{tc}.test_sample_weight_flat", line_of(tc, "test_sample_weight_flat"), "AUC",
    {"num_thresholds": 5, "multi_label": False}, [u(GOOD, MP, [1, 2, 3, 4])], 1.0 - (0.3333 * (1.0 - 0.2857) / 2.0),
    atol=1e-3)
vec(f"{tc}.test_full_sample_weight_flat", line_of(tc, "test_full_sample_weight_flat"), "AUC",
    {"num_thresholds": 5, "multi_label": False}, [u(GOOD, MP, [[0, 1], [2, 3], [4, 5], [6, 7]])],
    1.0 - (0.3333 * (1.0 - 0.2727) / 2.0), atol=1e-3)
vec(f"{tc}.test_label_weights", line_of(tc, "test_label_weights"), "AUC",
    {"num_thresholds": 5, "multi_label": True, "label_weights": [0.75, 0.25]}, [u(GOOD, MP)],
    (0.875 * 0.75 + 1.0 * 0.25) / (0.75 + 0.25), atol=1e-3)
vec(f"{tc}.test_label_weights_flat", line_of(tc, "test_label_weights_flat"), "AUC",
    {"num_thresholds": 5, "multi_label": False, "label_weights": [0.75, 0.25]}, [u(GOOD, MP)],
    1.0 - ((1.0 - 0.375) * 0.375 / 2.0), atol=1e-2)
vec(f"{tc}.test_unweighted_flat", line_of(tc, "test_unweighted_flat"), "AUC",
    {"num_thresholds": 5, "multi_label": False}, [u(GOOD, MP)], 1.0 - (3.0 / 32.0), atol=1e-3)
vec(f"{tc}.test_unweighted_flat_from_logits", line_of(tc, "test_unweighted_flat_from_logits"), "AUC",
    {"num_thresholds": 5, "multi_label": False, "from_logits": True}, [u(GOOD, MPL)], 1.0 - (3.0 / 32.0), atol=1e-3)
vec(f"{tc}.test_manual_thresholds", line_of(tc, "test_manual_thresholds", "assertAllClose(result"), "AUC",
    {"num_thresholds": 2, "thresholds": [0.5], "multi_label": True}, [u(GOOD, MP)], (0.75 + 0.5) / 2.0, atol=1e-3)
vec(f"{tc}.test_weighted_roc_interpolation", line_of(tc, "test_weighted_roc_interpolation"), "AUC",
    {"num_thresholds": 5, "multi_label": True}, [u(GOOD, MP, SW_A)], 1.0 - 0.5 * 0.43 * 0.67, atol=1e-1)
vec(f"{tc}.test_pr_interpolation_unweighted.good", line_of(tc, "test_pr_interpolation_unweighted"), "AUC",
    {"num_thresholds": 5, "curve": "PR", "multi_label": True}, [u(GOOD, MP)], (0.91667 + 1.0) / 2.0, atol=1e-1)
vec(f"{tc}.test_pr_interpolation_unweighted.bad", line_of(tc, "test_pr_interpolation_unweighted", "assert", 1), "AUC",
    {"num_thresholds": 5, "curve": "PR", "multi_label": True}, [u(GOOD, MP), u(BAD, MP)], (0.91667 + 0.5) / 2.0,
    atol=1e-1)
vec(f"{tc}.test_pr_interpolation", line_of(tc, "test_pr_interpolation"), "AUC",
    {"num_thresholds": 5, "curve": "PR", "multi_label": True}, [u(GOOD, MP, SW_A)], (0.939 + 1.0) / 2.0, atol=1e-1)

json.dump({"vectors": V}, open(os.environ.get("OUT", ".") + "/confusion.json", "w"), indent=1)
print(len(V), "vectors")
