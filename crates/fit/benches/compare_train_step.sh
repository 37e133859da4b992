#!/usr/bin/env bash
# One SGD training step of the `fcn` network: burn Flex (all threads and one thread), burn NdArray,
# and — when their virtual environment exists — PyTorch and JAX (shared/bench/py_train.py), run
# alternately ROUNDS times in one session; prints a table of medians and ratios.
# A timing tool for people: nothing in CI runs it.
#
#   crates/fit/benches/compare_train_step.sh              # from anywhere inside the repository
#   ROUNDS=3 REPS=21 VENV=path/to/venv NDARRAY=0 crates/fit/benches/compare_train_step.sh
#
# Environment (defaults relative to the repository root <repo>, so nothing is machine-specific):
# ROUNDS (3), REPS (21), NDARRAY_REPS (REPS; NdArray takes seconds a step),
# VENV (<repo>/.venv-bench; peers are skipped without it),
# SHARED (<repo>/shared if it exists, else <repo>/../shared), PEERS (the folder of py_train.py:
# $SHARED/bench), CARGO_TARGET_DIR (cargo's, <repo>/target when unset),
# NDARRAY (1: build and run burn NdArray in NDARRAY_TARGET_DIR, default $CARGO_TARGET_DIR/ndarray,
# apart from the Flex build; 0: skip it), FLEX_T1 (1: also Flex with RAYON_NUM_THREADS=1).
# Per framework and variant the table shows the median over rounds of each round's min and median.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$repo"
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-21}
NDARRAY_REPS=${NDARRAY_REPS:-$REPS}
VENV=${VENV:-$repo/.venv-bench}
NDARRAY=${NDARRAY:-1}
FLEX_T1=${FLEX_T1:-1}
TARGET=${CARGO_TARGET_DIR:-$repo/target}
NDARRAY_TARGET_DIR=${NDARRAY_TARGET_DIR:-$TARGET/ndarray}
if [[ -z "${SHARED:-}" ]]; then
    if [[ -d "$repo/shared" ]]; then SHARED="$repo/shared"; else SHARED="$repo/../shared"; fi
fi
PEERS=${PEERS:-$SHARED/bench}
log=$(mktemp -t train_step.XXXXXX)
trap 'rm -f "$log"' EXIT

# Build first (outside the timed runs) and run the binaries directly, so that cargo's own work or a
# concurrent edit never lands inside a measurement.
bench_exe() { # [cargo args…] -> path of the train_step bench binary
    cargo bench -p objectives-fit --bench train_step --no-run "$@" 2>&1 |
        tee /dev/stderr | sed -n 's/.*Executable .*(\(.*train_step-[^)]*\)).*/\1/p' | tail -n 1
}
abs_exe() { # path as cargo printed it (relative to the repository when inside it), target dir
    if [[ "$1" = /* ]]; then echo "$1"
    elif [[ -x "$repo/$1" ]]; then echo "$repo/$1"
    else echo "$2/${1#target/}"; fi
}
echo "== building (release) ==" >&2
flex_exe=$(bench_exe)
[[ -n "$flex_exe" ]] || { echo "could not build the Flex bench" >&2; exit 1; }
ndarray_exe=""
if [[ "$NDARRAY" == 1 ]]; then
    ndarray_exe=$(CARGO_TARGET_DIR="$NDARRAY_TARGET_DIR" bench_exe --features ndarray)
    ndarray_exe=$(abs_exe "$ndarray_exe" "$NDARRAY_TARGET_DIR")
fi
flex_exe=$(abs_exe "$flex_exe" "$TARGET")

py=""
if [[ -x "$VENV/bin/python" && -f "$PEERS/py_train.py" ]]; then
    py="$VENV/bin/python"
else
    echo "no peers: $VENV/bin/python or $PEERS/py_train.py missing" >&2
fi
has_module() { [[ -n "$py" ]] && "$py" -c "import $1" 2>/dev/null; }
torch=0; jax=0
if has_module torch; then torch=1; else echo "PyTorch not available in $VENV: skipped" >&2; fi
if has_module jax; then jax=1; else echo "JAX not available in $VENV: skipped" >&2; fi

run() { # label, command…
    echo "-- $1" >&2
    "${@:2}" 2>&1 | tee /dev/stderr | grep '^RESULT' | sed "s/^RESULT /RESULT $round /" >>"$log" || true
}
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round/$ROUNDS ==" >&2
    run flex "$flex_exe" --bench --backend flex --reps "$REPS"
    if [[ "$torch" == 1 ]]; then run torch "$py" "$PEERS/py_train.py" --fw torch --reps "$REPS"; fi
    if [[ -n "$ndarray_exe" ]]; then run ndarray "$ndarray_exe" --bench --backend ndarray --reps "$NDARRAY_REPS"; fi
    if [[ "$jax" == 1 ]]; then run jax env KERAS_BACKEND=jax "$py" "$PEERS/py_train.py" --fw jax --reps "$REPS"; fi
    if [[ "$FLEX_T1" == 1 ]]; then
        run flex-t1 env RAYON_NUM_THREADS=1 "$flex_exe" --bench --backend flex --reps "$REPS"
    fi
done

python3 - "$log" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"RESULT (\d+) (\S+)\s+(.*?)\s+min_ms\s+(\S+)\s+med_ms\s+(\S+)\s+loss\s+(\S+)", line)
    if m:
        _, fw, variant, mn, md, loss = m.groups()
        rows.setdefault((fw, variant), []).append((float(mn), float(md), float(loss)))
if not rows:
    sys.exit("no RESULT lines")
med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v), v[-1][2], len(v))
       for k, v in rows.items()}
def find(fw, sub=""):
    return next((v for k, v in med.items() if k[0] == fw and sub in k[1]), None)
torch, jax = find("torch"), find("jax", "NCHW")
print(f"\n{'framework':<14} {'variant':<38} {'min_ms':>9} {'med_ms':>9} {'loss':>10} runs  "
      f"{'/torch':>7} {'/jax NCHW':>9} {'/flex':>6}")
for (fw, variant), (mn, md, loss, n) in med.items():
    ours = fw.startswith("burn-")
    flex = med.get(("burn-flex", variant))
    r = lambda peer: f"{md / peer[1]:.2f}" if ours and peer else "-"
    rf = f"{md / flex[1]:.2f}" if ours and flex and fw != "burn-flex" else "-"
    print(f"{fw:<14} {variant:<38} {mn:9.3f} {md:9.3f} {loss:10.6f} {n:>4}  {r(torch):>7} {r(jax):>9} {rf:>6}")
print("\nratios: our median ms / the peer's (median over rounds of each run's median); < 1 = ours faster.")
EOF
