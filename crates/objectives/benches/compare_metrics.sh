#!/usr/bin/env bash
# AUC and MeanIoU at scale in one session: ours (bench binary) and Keras 3 on JAX (eager and
# jit-compiled), on the same data, then a table of ratios.
#   [VENV=path/to/venv] [REPS=7] crates/objectives/benches/compare_metrics.sh
# The peer needs a venv: python3 -m venv $VENV && $VENV/bin/pip install numpy jax keras==3.15.1
# (VENV defaults to <repo>/.venv-bench).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$REPO"
VENV=${VENV:-$REPO/.venv-bench}
REPS=${REPS:-7}
out=$(mktemp)
cargo bench -q -p objectives --bench metrics -- --reps "$REPS" | tee -a "$out"
if [ -x "$VENV/bin/python" ]; then
  JAX_PLATFORMS=cpu KERAS_BACKEND=jax "$VENV/bin/python" crates/objectives/benches/metrics_peer.py --reps "$REPS" 2>/dev/null \
    | grep RESULT | tee -a "$out" || true
fi
python3 - "$out" <<'PY'
import re, sys
t = {}
for r in open(sys.argv[1]).read().splitlines():
    m = re.match(r"RESULT (\w+) (ours|keras|jit) med_ms ([\d.]+) min_ms [\d.]+ value ([-\d.e]+)", r)
    if m: t[(m.group(1), m.group(2))] = (float(m.group(3)), float(m.group(4)))
print(f"{'workload':10} {'ours ms':>9} {'keras ms':>9} {'jit ms':>9} {'keras/ours':>11} {'jit/ours':>9}  values (ours, keras)")
for w in ("auc", "mean_iou"):
    o = t.get((w, "ours")); k = t.get((w, "keras")); j = t.get((w, "jit"))
    f = lambda x: f"{x[0]:9.1f}" if x else f"{'-':>9}"
    r = lambda x: f"{x[0] / o[0]:.1f}x" if (x and o) else "-"
    print(f"{w:10} {f(o)} {f(k)} {f(j)} {r(k):>11} {r(j):>9}  {o[1] if o else '-'}, {k[1] if k else '-'}")
PY
rm -f "$out"
