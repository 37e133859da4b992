# Generates regression/probabilistic/hinge/correlation/reduction vectors from Keras 3.15.1's tests.
# Expected values are the tests' literals, or the tests' numpy expressions evaluated in pure Python.
import os
import json, math, re, struct

K = os.environ.get("KERAS_METRICS", "keras/src/metrics") + "/"

def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]

def line_of(fname, cls, method, nth=0, pat=r"assert"):
    lines = open(K + fname).read().split("\n")
    in_cls = False
    hits = []
    in_m = False
    for i, l in enumerate(lines, 1):
        if re.match(r"class %s\b" % cls, l):
            in_cls = True; continue
        if in_cls and re.match(r"class ", l):
            in_cls = False
        if in_cls and re.match(r"    def %s\(" % method, l):
            in_m = True; continue
        if in_m and re.match(r"    def ", l):
            in_m = False
        if in_m and re.search(pat, l):
            hits.append(i)
    assert hits, (fname, cls, method)
    return hits[nth]

def vec(name, fname, cls, method, metric, updates, expected=None, nth=0, source_line=None, **tol):
    src = "%s:%d" % (fname, source_line or line_of(fname, cls, method, nth))
    v = {"name": name, "source": src, "metric": metric, "updates": updates}
    if expected is None:
        v["error"] = True
    else:
        v["expected"] = expected
    v.update(tol)
    return v

def M(cls, **config):
    return {"class_name": cls, "config": config}

def U(t, p, w=None):
    u = {"y_true": t, "y_pred": p}
    if w is not None:
        u["sample_weight"] = w
    return u

def write(fam, vs):
    json.dump({"vectors": vs}, open(os.environ.get("OUT", ".") + "/%s.json" % fam, "w"), indent=1)
    print(fam, len(vs))

# ---------------- regression ----------------
F = "regression_metrics_test.py"
R = []
YT = [[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]]
YP = [[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]]
W4 = [1.0, 1.5, 2.0, 2.5]
for cls, test, exp_u, exp_w in [("MeanSquaredError", "MeanSquaredErrorTest", 0.5, 0.54285),
                                ("MeanAbsoluteError", "MeanAbsoluteErrorTest", 0.5, 0.54285),
                                ("MeanSquaredLogarithmicError", "MeanSquaredLogarithmicErrorTest", 0.24022, 0.26082)]:
    R.append(vec(test + ".test_unweighted", F, test, "test_unweighted", M(cls), [U(YT, YP)], exp_u, atol=1e-5))
    R.append(vec(test + ".test_weighted", F, test, "test_weighted", M(cls), [U(YT, YP, W4)], exp_w, atol=1e-5))
# MAPE: assertAllClose(result, 35e7, atol=1e-5) with Keras's default rtol 1e-6.
R.append(vec("MeanAbsolutePercentageErrorTest.test_unweighted", F, "MeanAbsolutePercentageErrorTest", "test_unweighted",
             M("MeanAbsolutePercentageError"), [U(YT, YP)], 35e7, atol=1e-5, rtol=1e-6))
R.append(vec("MeanAbsolutePercentageErrorTest.test_weighted", F, "MeanAbsolutePercentageErrorTest", "test_weighted",
             M("MeanAbsolutePercentageError"), [U(YT, YP, W4)], 40e7, atol=1e-5, rtol=1e-6))

# Cosine: l2_norm with epsilon 1e-12 on squares, sum over axis 1.
CT = [[1, 9, 2], [-5, -2, 6]]
CP = [[4, 8, 12], [8, 1, 3]]
def l2n(row):
    s = sum(x * x for x in row)
    inv = 1 / math.sqrt(max(s, 1e-12))
    return [x * inv for x in row]
cos = [sum(a * b for a, b in zip(l2n(t), l2n(p))) for t, p in zip(CT, CP)]
# assertAlmostEqual(loss, expected, 3): |diff| rounds to 0 at 3 places, i.e. < 5e-4.
R.append(vec("CosineSimilarityTest.test_unweighted", F, "CosineSimilarityTest", "test_unweighted", M("CosineSimilarity"),
             [U(CT, CP)], sum(cos) / 2, atol=5e-4))
sw = [1.2, 3.4]
R.append(vec("CosineSimilarityTest.test_weighted", F, "CosineSimilarityTest", "test_weighted", M("CosineSimilarity"),
             [U(CT, CP, sw)], sum(c * w for c, w in zip(cos, sw)) / sum(sw), atol=5e-4))
R.append(vec("CosineSimilarityTest.test_axis", F, "CosineSimilarityTest", "test_axis", M("CosineSimilarity", axis=1),
             [U(CT, CP)], sum(cos) / 2, atol=5e-4))

R.append(vec("RootMeanSquaredErrorTest.test_unweighted", F, "RootMeanSquaredErrorTest", "test_unweighted",
             M("RootMeanSquaredError"), [U([2, 4, 6], [1, 3, 2])], math.sqrt(6), atol=1e-3))
R.append(vec("RootMeanSquaredErrorTest.test_weighted", F, "RootMeanSquaredErrorTest", "test_weighted",
             M("RootMeanSquaredError"), [U([2, 4, 6, 8], [1, 3, 2, 3], [0, 1, 0, 1])], math.sqrt(13), atol=1e-3))

# LogCosh: expected = log((exp(e) + exp(-e)) / 2), e = y_pred - y_true.
lc = [[math.log((math.exp(p - t) + math.exp(t - p)) / 2) for t, p in zip(tr, pr)] for tr, pr in zip(CT, CP)]
R.append(vec("LogCoshErrorTest.test_unweighted", F, "LogCoshErrorTest", "test_unweighted", M("LogCoshError"),
             [U(CT, CP)], sum(map(sum, lc)) / 6, atol=1e-3))
R.append(vec("LogCoshErrorTest.test_weighted", F, "LogCoshErrorTest", "test_weighted", M("LogCoshError"),
             [U(CT, CP, [[1.2], [3.4]])], (1.2 * sum(lc[0]) + 3.4 * sum(lc[1])) / (3 * 1.2 + 3 * 3.4), atol=1e-3))

# R2Score (parameterized: the source line is the parameter tuple's).
lines = open(K + F).read().split("\n")
def param_line(prefix):
    return [i for i, l in enumerate(lines, 1) if l.strip().startswith(prefix)]
sk_t = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
sk_p = [[0.4, 0.5, 0.6], [0.1, 0.2, 0.3], [0.5, 0.8, 0.2]]
sk = [(None, 0, [0.37, -1.295, 0.565]), ("uniform_average", 0, -0.12), ("variance_weighted_average", 0, -0.12)]
sk_lines = param_line("(None, 0, [0.37")+param_line('("uniform_average", 0, -0.12)')+param_line('("variance_weighted_average", 0, -0.12)')
for (agg, nr, res), ln in zip(sk, sk_lines):
    R.append(vec("R2ScoreTest.test_r2_sklearn_comparison(%s, %d)" % (agg, nr), F, "R2ScoreTest", "", M("R2Score", class_aggregation=agg, num_regressors=nr),
                 [U(sk_t, sk_p)], res, source_line=ln, atol=1e-6))
tf_p = [[0.4, 0.9, 1.6], [0.1, 1.2, 0.6], [1.5, 0.8, 0.6]]
tf_w = [0.8, 0.1, 0.4]
start = param_line("(None, 0, [0.17305559")[0]
tfa = [(None, 0, [0.17305559, -8.836666, -0.521]), (None, 1, [0.054920673, -10.241904, -0.7382858]),
       (None, 2, [-0.10259259, -12.115555, -1.0280001]), ("uniform_average", 0, -3.0615367889404297),
       ("uniform_average", 1, -3.641756534576416), ("uniform_average", 2, -4.415382385253906),
       ("variance_weighted_average", 0, -1.3710224628448486), ("variance_weighted_average", 1, -1.7097399234771729),
       ("variance_weighted_average", 2, -2.161363363265991)]
for k, (agg, nr, res) in enumerate(tfa):
    assert lines[start - 1 + k].strip().startswith("(%s, %d" % ("None" if agg is None else '"%s"' % agg, nr)), lines[start - 1 + k]
    R.append(vec("R2ScoreTest.test_r2_tfa_comparison(%s, %d)" % (agg, nr), F, "R2ScoreTest", "", M("R2Score", class_aggregation=agg, num_regressors=nr),
                 [U(sk_t, tf_p, tf_w)], res, source_line=start + k, atol=1e-6))
R.append(vec("R2ScoreTest.test_errors(bad input shape)", F, "R2ScoreTest", "test_errors", M("R2Score"),
             [U([0.0, 1.0], [0.0, 1.0])], None, nth=2, pat=r"assertRaisesRegex"))
write("regression", R)

# ---------------- probabilistic ----------------
F = "probabilistic_metrics_test.py"
P = []
kp = [[0.4, 0.9, 0.12], [0.36, 0.3, 0.4]]
kt = [[0.5, 0.8, 0.12], [0.7, 0.43, 0.8]]
ke = [[f32(t) * math.log(f32(t) / f32(p)) for t, p in zip(tr, pr)] for tr, pr in zip(kt, kp)]
P.append(vec("KLDivergenceTest.test_unweighted", F, "KLDivergenceTest", "test_unweighted", M("KLDivergence"),
             [U(kt, kp)], sum(map(sum, ke)) / 2, atol=1e-3))
P.append(vec("KLDivergenceTest.test_weighted", F, "KLDivergenceTest", "test_weighted", M("KLDivergence"),
             [U(kt, kp, [[1.2], [3.4]])], (1.2 * sum(ke[0]) + 3.4 * sum(ke[1])) / (1.2 + 3.4), atol=1e-3))
pp = [[1, 9, 2], [5, 2, 6]]
pt = [[4, 8, 12], [8, 1, 3]]
pe = [[p - t * math.log(p) for t, p in zip(tr, pr)] for tr, pr in zip(pt, pp)]
P.append(vec("PoissonTest.test_unweighted", F, "PoissonTest", "test_unweighted", M("Poisson"),
             [U(pt, pp)], sum(map(sum, pe)) / 6, atol=1e-3))
P.append(vec("PoissonTest.test_weighted", F, "PoissonTest", "test_weighted", M("Poisson"),
             [U(pt, pp, [[1.2], [3.4]])], (1.2 * sum(pe[0]) + 3.4 * sum(pe[1])) / (3 * 1.2 + 3 * 3.4), atol=1e-3))
bt = [[1, 0], [1, 0]]
bp = [[1, 1], [1, 0]]
lt = [[1, 0, 1], [0, 1, 1]]
lp = [[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]]
T = "BinaryCrossentropyTest"
P.append(vec(T + ".test_unweighted", F, T, "test_unweighted", M("BinaryCrossentropy"), [U(bt, bp)], 3.9855, atol=1e-3))
P.append(vec(T + ".test_unweighted_with_logits", F, T, "test_unweighted_with_logits", M("BinaryCrossentropy", from_logits=True), [U(lt, lp)], 3.333, atol=1e-3))
P.append(vec(T + ".test_weighted", F, T, "test_weighted", M("BinaryCrossentropy"), [U(bt, bp, [1.5, 2.0])], 3.4162, atol=1e-3))
P.append(vec(T + ".test_weighted_from_logits", F, T, "test_weighted_from_logits", M("BinaryCrossentropy", from_logits=True), [U(lt, lp, [2.0, 2.5])], 3.7037, atol=1e-3))
P.append(vec(T + ".test_label_smoothing", F, T, "test_label_smoothing", M("BinaryCrossentropy", from_logits=True, label_smoothing=0.1),
             [U([1, 0, 1], [10.0, -10.0, -10.0])], (10.0 + 5.0 * 0.1) / 3.0, atol=1e-3))
ct = [[0, 1, 0], [0, 0, 1]]
cp = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
cl = [[1, 9, 0], [1, 8, 1]]
T = "CategoricalCrossentropyTest"
P.append(vec(T + ".test_unweighted", F, T, "test_unweighted", M("CategoricalCrossentropy"), [U(ct, cp)], 1.176, atol=1e-3))
P.append(vec(T + ".test_unweighted_from_logits", F, T, "test_unweighted_from_logits", M("CategoricalCrossentropy", from_logits=True), [U(ct, cl)], 3.5011, atol=1e-3))
P.append(vec(T + ".test_weighted", F, T, "test_weighted", M("CategoricalCrossentropy"), [U(ct, cp, [1.5, 2.0])], 1.338, atol=1e-3))
P.append(vec(T + ".test_weighted_from_logits", F, T, "test_weighted_from_logits", M("CategoricalCrossentropy", from_logits=True), [U(ct, cl, [1.5, 2.0])], 4.0012, atol=1e-3))
P.append(vec(T + ".test_label_smoothing", F, T, "test_label_smoothing", M("CategoricalCrossentropy", from_logits=True, label_smoothing=0.1), [U(ct, cl)], 3.667, atol=1e-3))
T = "SparseCategoricalCrossentropyTest"
S = "SparseCategoricalCrossentropy"
P.append(vec(T + ".test_unweighted", F, T, "test_unweighted", M(S), [U([1, 2], cp)], 1.176, atol=1e-3))
P.append(vec(T + ".test_unweighted_from_logits", F, T, "test_unweighted_from_logits", M(S, from_logits=True), [U([1, 2], cl)], 3.5011, atol=1e-3))
P.append(vec(T + ".test_weighted", F, T, "test_weighted", M(S), [U([1, 2], cp, [1.5, 2.0])], 1.338, atol=1e-3))
P.append(vec(T + ".test_weighted_from_logits", F, T, "test_weighted_from_logits", M(S, from_logits=True), [U([1, 2], cl, [1.5, 2.0])], 4.0012, atol=1e-3))
ip = [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]]
P.append(vec(T + ".test_ignore_class", F, T, "test_ignore_class", M(S, ignore_class=0), [U([0, 1, 2], ip)], 0.78462, atol=1e-3))
P.append(vec(T + ".test_ignore_class_weighted", F, T, "test_ignore_class_weighted", M(S, ignore_class=0), [U([0, 1, 2], ip, [0.5, 1.5, 2.0])], 1.33774646, atol=1e-3))
P.append(vec(T + ".test_ignore_class_from_logits", F, T, "test_ignore_class_from_logits", M(S, from_logits=True, ignore_class=0),
             [U([0, 1, 2], [[10, 1, 1], [1, 9, 0], [1, 8, 1]])], 2.33409, atol=1e-3))
write("probabilistic", P)

# ---------------- hinge ----------------
F = "hinge_metrics_test.py"
H = []
hp = [[-0.3, 0.2, -0.1, 1.6], [-0.25, -1.0, 0.5, 0.6]]
H.append(vec("HingeTest.test_unweighted", F, "HingeTest", "test_unweighted", M("Hinge"), [U([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]], hp)], 0.506, atol=1e-3))
H.append(vec("HingeTest.test_weighted", F, "HingeTest", "test_weighted", M("Hinge"), [U([[-1, 1, -1, 1], [-1, -1, 1, 1]], hp, [1.5, 2.0])], 0.493, atol=1e-3))
H.append(vec("SquaredHingeTest.test_unweighted", F, "SquaredHingeTest", "test_unweighted", M("SquaredHinge"), [U([[0, 1, 0, 1], [0, 0, 1, 1]], hp)], 0.364, atol=1e-3))
H.append(vec("SquaredHingeTest.test_weighted", F, "SquaredHingeTest", "test_weighted", M("SquaredHinge"), [U([[-1, 1, -1, 1], [-1, -1, 1, 1]], hp, [1.5, 2.0])], 0.347, atol=1e-3))
H.append(vec("CategoricalHingeTest.test_unweighted", F, "CategoricalHingeTest", "test_unweighted", M("CategoricalHinge"), [U(YT, YP)], 0.5, atol=1e-5))
H.append(vec("CategoricalHingeTest.test_weighted", F, "CategoricalHingeTest", "test_weighted", M("CategoricalHinge"), [U(YT, YP, [1.0, 1.5, 2.0, 2.5])], 0.5, atol=1e-5))
write("hinge", H)

# ---------------- correlation ----------------
F = "correlation_metrics_test.py"
C = []
yt = [[0, 1, 0.5], [1, 1, 0.2], [1, 1, 0.1], [0.1, 0.7, 0.0]]
yp = [[0.1, 0.9, 0.5], [1, 0.9, 0.2], [0.2, 0.8, 0], [0.3, 0.3, 0.9]]
ccc = [0.97560976, 0.98765432, 0.46511628, -0.46376812]
def pearsonr(x, y):  # scipy.stats.pearsonr's statistic, in f64 on the float32 data
    x = [f32(v) for v in x]; y = [f32(v) for v in y]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    xm = [v - mx for v in x]; ym = [v - my for v in y]
    return sum(a * b for a, b in zip(xm, ym)) / math.sqrt(sum(a * a for a in xm) * sum(b * b for b in ym))
pcc = [pearsonr(a, b) for a, b in zip(yt, yp)]
C.append(vec("CorrelationsTest.test_pearson_class(first update)", F, "CorrelationsTest", "test_pearson_class",
             M("PearsonCorrelation", axis=-1), [U(yt[:2], yp[:2])], sum(pcc[:2]) / 2, nth=0))
C.append(vec("CorrelationsTest.test_pearson_class", F, "CorrelationsTest", "test_pearson_class",
             M("PearsonCorrelation", axis=-1), [U(yt[:2], yp[:2]), U(yt[2:], yp[2:])], sum(pcc) / 4, nth=1))
C.append(vec("CorrelationsTest.test_concordance_class(first update)", F, "CorrelationsTest", "test_concordance_class",
             M("ConcordanceCorrelation", axis=-1), [U(yt[:2], yp[:2])], sum(ccc[:2]) / 2, nth=0))
C.append(vec("CorrelationsTest.test_concordance_class", F, "CorrelationsTest", "test_concordance_class",
             M("ConcordanceCorrelation", axis=-1), [U(yt[:2], yp[:2]), U(yt[2:], yp[2:])], sum(ccc) / 4, nth=1))
# The functional tests, as one-row metric updates per row would not be the same test; the
# per-row values are covered through the class tests' means.
write("correlation", C)
print("pcc", pcc)


# ---------------- docstring examples (tighter: the printed float32 results) ----------------
def doc(fam_list, fname, cls, line, config, updates, expected, **tol):
    got = open(K + fname).read().split("\n")[line - 1]
    assert "result()" in got, (fname, line, got)
    fam_list.append({"name": "%s.docstring" % cls, "source": "%s:%d" % (fname, line),
                     "metric": M(cls, **config), "updates": updates, "expected": expected, **tol})

A = [[0, 1], [0, 0]]
B = [[1, 1], [0, 0]]
Q = [[0.6, 0.4], [0.4, 0.6]]
F = "regression_metrics.py"
doc(R, F, "MeanSquaredError", 33, {}, [U(A, B)], 0.25)
for cls, l1, v1, l2, v2 in [("MeanAbsoluteError", 64, 0.25, 70, 0.5),
                            ("MeanAbsolutePercentageError", 109, 250000000.0, 115, 500000000.0),
                            ("MeanSquaredLogarithmicError", 155, 0.12011322, 161, 0.24022643),
                            ("RootMeanSquaredError", 201, 0.5, 207, 0.70710677),
                            ("LogCoshError", 324, 0.10844523, 330, 0.21689045)]:
    doc(R, F, cls, l1, {}, [U(A, B)], v1)
    doc(R, F, cls, l2, {}, [U(A, B, [1, 0])], v2)
    R[-1]["name"] = "%s.docstring(sample_weight)" % cls
doc(R, F, "CosineSimilarity", 277, {"axis": 1}, [U([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])], 0.49999997)
doc(R, F, "CosineSimilarity", 283, {"axis": 1}, [U([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]], [0.3, 0.7])], 0.6999999)
R[-1]["name"] = "CosineSimilarity.docstring(sample_weight)"
doc(R, F, "R2Score", 399, {}, [U([[1], [4], [3]], [[2], [4], [4]])], 0.57142854)
write("regression", R)

F = "probabilistic_metrics.py"
for cls, l1, v1, l2, v2, (t, p) in [("KLDivergence", 33, 0.45814306, 39, 0.9162892, (A, Q)),
                                    ("Poisson", 76, 0.49999997, 82, 0.99999994, (A, B)),
                                    ("BinaryCrossentropy", 124, 0.81492424, 130, 0.9162905, (A, Q)),
                                    ("CategoricalCrossentropy", 206, 1.1769392, 213, 1.6271976, ([[0, 1, 0], [0, 0, 1]], cp)),
                                    ("SparseCategoricalCrossentropy", 296, 1.1769392, 303, 1.6271976, ([1, 2], cp))]:
    w = [1, 0] if l2 < 200 else [0.3, 0.7]
    doc(P, F, cls, l1, {}, [U(t, p)], v1)
    doc(P, F, cls, l2, {}, [U(t, p, w)], v2)
    P[-1]["name"] = "%s.docstring(sample_weight)" % cls
write("probabilistic", P)

F = "hinge_metrics.py"
for cls, l1, v1, l2, v2 in [("Hinge", 23, 1.3, 28, 1.1), ("SquaredHinge", 56, 1.86, 61, 1.46),
                            ("CategoricalHinge", 85, 1.4000001, 90, 1.2)]:
    doc(H, F, cls, l1, {}, [U(A, Q)], v1)
    doc(H, F, cls, l2, {}, [U(A, Q, [1, 0])], v2)
    H[-1]["name"] = "%s.docstring(sample_weight)" % cls
write("hinge", H)

F = "correlation_metrics.py"
ct2 = [[0, 1, 0.5], [1, 1, 0.2]]
cp2 = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
doc(C, F, "PearsonCorrelation", 120, {"axis": -1}, [U(ct2, cp2)], 0.9966996338993913)
doc(C, F, "ConcordanceCorrelation", 182, {"axis": -1}, [U(ct2, cp2)], 0.9816320385426076)
write("correlation", C)

# ---------------- reduction (one each, as briefed) ----------------
F = "reduction_metrics_test.py"
D = []
D.append(vec("MetricWrapperTest.test_weighted(fn=mean_squared_error)", F, "MetricWrapperTest", "test_weighted",
             M("MeanMetricWrapper", fn="mean_squared_error"), [U(YT, YP, W4)], 0.54285, atol=1e-5))
D.append(vec("SumTest.test_weighted_nd_broadcast", F, "SumTest", "test_weighted_nd_broadcast", M("Sum"),
             [U([[1, 3], [5, 7]], [[1, 3], [5, 7]], [[1, 0]])], 6.0, atol=1e-3))
write("reduction", D)
