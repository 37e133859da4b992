#!/usr/bin/env bash
# W1–W4 in one session: our fused and composed paths (bench binary: consecutive steps against the
# triad of the start, and steps interleaved with triad passes), JAX and PyTorch (when a venv with
# them exists), and the C STREAM triad, then a table of ratios.
#   [VENV=path/to/venv] [REPS=9] crates/objectives/benches/compare_fused.sh
# Optional peers: python3 -m venv $VENV && $VENV/bin/pip install numpy jax keras torch
# Environment (defaults relative to the repository root <repo>): VENV (<repo>/.venv-bench),
# REPS (9), SHARED (<repo>/shared if it exists, else <repo>/../shared; py_losses.py and stream.c
# are read from $SHARED/bench), CARGO_TARGET_DIR (cargo's, <repo>/target when unset; the STREAM
# binary is built there).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$REPO"
VENV=${VENV:-$REPO/.venv-bench}
REPS=${REPS:-9}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
if [ -z "${SHARED:-}" ]; then
  if [ -d "$REPO/shared" ]; then SHARED=$REPO/shared; else SHARED=$REPO/../shared; fi
fi
BENCH=$SHARED/bench
out=$(mktemp)
cargo bench -q -p objectives --bench fused -- --reps "$REPS" --composed-reps 3 | tee -a "$out"
if [ -x "$VENV/bin/python" ] && [ -d "$BENCH" ]; then
  KERAS_BACKEND=jax "$VENV/bin/python" "$BENCH/py_losses.py" --fw jax --reps "$REPS" 2>/dev/null | grep RESULT | tee -a "$out" || true
  "$VENV/bin/python" "$BENCH/py_losses.py" --fw torch --reps "$REPS" 2>/dev/null | grep RESULT | tee -a "$out" || true
fi
if [ -f "$BENCH/stream.c" ] && command -v gcc >/dev/null; then
  mkdir -p "$TARGET"
  gcc -O3 -march=native -fopenmp "$BENCH/stream.c" -o "$TARGET/objectives-stream" 2>/dev/null \
    && OMP_NUM_THREADS=2 "$TARGET/objectives-stream" | grep -i triad | sed 's/^/STREAM-C /' | tee -a "$out" || true
fi
python3 - "$out" <<'PY'
import os, re, sys
rows = open(sys.argv[1]).read().splitlines()
ours, peers, bw, inter, triad = {}, {}, {}, {}, None
for r in rows:
    m = re.match(r"RESULT stream triad .* GB/s ([\d.]+)", r)
    if m: triad = float(m.group(1))
    m = re.match(r"RESULT (w\d) (fused|composed) .*med_ms ([\d.]+)", r)
    if m: ours[(m.group(1), m.group(2))] = float(m.group(3))
    m = re.match(r"RESULT (w\d) fused .* GB/s ([\d.]+) \((\d+)% of triad\)", r)
    if m: bw[m.group(1)] = (float(m.group(2)), int(m.group(3)))
    m = re.match(r"RESULT (w\d) interleaved .*GB/s ([\d.]+) \((\d+)% of triad\) triad_GB/s ([\d.]+)", r)
    if m: inter[m.group(1)] = (float(m.group(2)), int(m.group(3)), float(m.group(4)))
    m = re.match(r"RESULT (jax|torch)\s+(w\d) .*med_ms\s+([\d.]+)", r)
    if m:
        k = (m.group(2), m.group(1))
        peers[k] = min(peers.get(k, 1e18), float(m.group(3)))
print(f"\n| workload | fused ms | GB/s | % of triad | interleaved: GB/s, triad GB/s, % | composed ms | fused vs composed | JAX ms | fused vs JAX | PyTorch ms | fused vs PyTorch |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for w in ["w1", "w2", "w3", "w4"]:
    f, c = ours.get((w, "fused")), ours.get((w, "composed"))
    if f is None: continue
    j, t = peers.get((w, "jax")), peers.get((w, "torch"))
    g, pct = bw.get(w, (None, None))
    ig = inter.get(w)
    icell = f"{ig[0]:.1f}, {ig[2]:.1f}, {ig[1]}%" if ig else "–"
    cell = lambda x: f"{x:.1f}" if x else "–"
    ratio = lambda x: f"{x / f:.1f}x" if x else "–"
    print(f"| {w} | {f:.1f} | {cell(g)} | {pct}% | {icell} | {cell(c)} | {ratio(c)} | {cell(j)} | {ratio(j)} | {cell(t)} | {ratio(t)} |")
load = " ".join(open("/proc/loadavg").read().split()[:3]) if os.path.exists("/proc/loadavg") else "?"
print(f"\nRust triad alone at the start: {triad} GB/s; load average after the run: {load}")
PY
