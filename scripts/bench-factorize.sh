#!/usr/bin/env bash
# Dynamic connectome factorization side by side, interleaved: `bioembed fmri factorize` (whole
# process: read the windows, fit, write) against tensorly 0.10.0's `non_negative_parafac_hals` (numpy,
# the fit alone, tensor already in memory), same tensor, same initial factors, same iterations
# (tolerance 0). Default case: 100 windows × 400 × 400, rank 10, 50 iterations. The factors are
# compared too (relative difference). Data are generated here (never committed).
#
# usage: scripts/bench-factorize.sh [ROUNDS] [WINDOWS] [REGIONS] [RANK] [ITERATIONS]   (defaults 3 100 400 10 50)
# Env: BENCH_TMP (default /tmp), PY (default .venv/bin/python, made by `make venv`)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} windows=${2:-100} regions=${3:-400} rank=${4:-10} iterations=${5:-50}
py=${PY:-.venv/bin/python}
[ -x "$py" ] && "$py" -c "import tensorly" 2>/dev/null || make venv
bin=.build/release/bioembed
[ -x "$bin" ] || make -s build
work=${BENCH_TMP:-/tmp}/bioembed-bench-factorize
mkdir -p "$work" Benchmarks/results
raw=Benchmarks/results/factorize.jsonl
: > "$raw"
"$py" - "$work/windows.h5" "$windows" "$regions" <<'PY'
import sys, h5py, numpy as np
path, w, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(3)
# correlation windows of a slowly changing 6-network mixture (positive structure plus noise)
mix = rng.random((6, n)) * (rng.random((6, n)) < 0.3)
corr = []
for k in range(w):
    weights = 1 + np.sin(np.arange(6) + k / 7.0)
    c = (mix.T * weights) @ mix + 0.3 * rng.standard_normal((n, n))
    c = (c + c.T) / 2
    d = np.sqrt(np.abs(np.diag(c))) + 1e-9
    corr.append(np.clip(c / np.outer(d, d), -1, 1))
with h5py.File(path, "w") as f:
    f.attrs.update({"bioembed_version": "0.1.0", "schema": "bioembed/fmri/2", "created_utc": "2026-12-05T00:00:00Z", "command": "bench"})
    g = f.create_group("fmri")
    g.create_dataset("ids", data=np.array(["sub-01"], dtype=object), dtype=h5py.string_dtype())
    g["t_r"] = np.array([2.0])
    g["region_ids"] = np.arange(1, n + 1, dtype=np.int64)
    g["timeseries_offsets"] = np.array([0, 2], dtype=np.int64)
    g["timeseries"] = rng.standard_normal((2, n))
    g.create_group("dynamic").create_dataset("ids", data=np.array(["sub-01"], dtype=object), dtype=h5py.string_dtype())
    g["dynamic/correlation"] = np.stack(corr).astype(np.float32)
    g["dynamic/correlation_offsets"] = np.array([0, w], dtype=np.int64)
PY
cat > "$work/tensorly_fit.py" <<'PY'
import json, resource, sys, time
import h5py, numpy as np, tensorly
from tensorly.cp_tensor import CPTensor
from tensorly.decomposition import non_negative_parafac_hals
sys.path.insert(0, "Tests/python")
from test_fmri_factorize import initial_factors, _prepared
work, rank, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with h5py.File(f"{work}/windows.h5") as f:
    x = _prepared(f["fmri/dynamic/correlation"][()])
init = initial_factors(x.shape, rank, 0)
t0 = time.perf_counter()
cp = non_negative_parafac_hals(x, rank, n_iter_max=iterations, init=CPTensor((np.ones(rank), init)), tol=0)
wall = time.perf_counter() - t0
with h5py.File(f"{work}/cp.h5") as f:
    g = f["fmri/dynamic/cp"]
    ours = [g["window_factors"][()], g["row_factors"][0], g["column_factors"][0]]
diff = max(float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(ours, cp.factors))
print(json.dumps({"tool": f"tensorly {tensorly.__version__}", "seconds": wall, "max_relative_difference": diff,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
PY
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  "$py" - "$bin" "$work" "$rank" "$iterations" >> "$raw" <<'PY'
import json, resource, subprocess, sys, time
binary, work, rank, iterations = sys.argv[1:5]
cmd = [binary, "fmri", "factorize", "--input", f"{work}/windows.h5", "--rank", rank, "--max-iterations", iterations, "--tolerance", "0",
       "--output", f"{work}/cp.h5"]
t0 = time.perf_counter()
subprocess.run(cmd, check=True, capture_output=True)
wall = time.perf_counter() - t0
print(json.dumps({"tool": "bioembed", "seconds": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
PY
  # tensorly as a user runs it: a Python process (start, imports, read, fit); the fit alone is timed inside
  "$py" - "$py" "$work" "$rank" "$iterations" >> "$raw" <<'PY'
import json, subprocess, sys, time
py, work, rank, iterations = sys.argv[1:5]
t0 = time.perf_counter()
p = subprocess.run([py, f"{work}/tensorly_fit.py", work, rank, iterations], check=True, capture_output=True, text=True)
row = json.loads(p.stdout)
row["whole_process_seconds"] = time.perf_counter() - t0
print(json.dumps(row))
PY
done
"$py" - "$raw" "$rounds" "$windows" "$regions" "$rank" "$iterations" <<'PY' | tee Benchmarks/results/factorize.md
import json, os, platform, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, w, n, rank, it = sys.argv[2:7]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
b = statistics.median(r["seconds"] for r in rows if r["tool"] == "bioembed")
t = [r for r in rows if r["tool"] != "bioembed"]
ts = statistics.median(r["seconds"] for r in t)
tw = statistics.median(r["whole_process_seconds"] for r in t)
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {rounds} interleaved rounds, medians.\n")
print("| case | BioEmbed whole process | tensorly fit only | ratio | tensorly whole process | ratio | factors, max relative difference | peak RSS BioEmbed / Python |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
print(f"| non-negative CP, {w} windows × {n} × {n}, rank {rank}, {it} iterations | {b:.2f} s | {ts:.2f} s ({t[0]['tool']}) | **{ts / b:.1f}×** "
      f"| {tw:.2f} s | **{tw / b:.1f}×** "
      f"| {max(r['max_relative_difference'] for r in t):.1e} | {max(r['peak_rss_mb'] for r in rows if r['tool'] == 'bioembed'):.0f} MB / "
      f"{max(r['peak_rss_mb'] for r in t):.0f} MB |")
PY
