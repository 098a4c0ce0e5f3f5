#!/usr/bin/env bash
# Side-by-side benchmarks: BioEmbed (Benchmarks/BioEmbedBenchmarks) and the reference tool
# (scripts/peers/) on the same input, interleaved, in the same run. Writes
# Benchmarks/results/latest.md (the table that goes into BENCHMARKS.md) and the raw JSON lines.
#
# usage: scripts/bench.sh [ROUNDS]     (make bench; ROUNDS default 3)
# Env: BENCH_GIB (HDF5 write size in GiB, default 1), BENCH_TMP (folder for the HDF5 files;
# default /dev/shm, so the library is measured rather than the disk's writeback; set a disk folder to include it)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bench=.build/release/BioEmbedBenchmarks
py=${PY:-.venv/bin/python}
gib=${BENCH_GIB:-1}
tmp=${BENCH_TMP:-/dev/shm}
rows=$(( gib * 262144 ))
mkdir -p Benchmarks/results
raw=Benchmarks/results/latest.jsonl
: > "$raw"
# Same thread count for both sides; neither side is given OPENBLAS_CORETYPE (each picks its default).
export OPENBLAS_NUM_THREADS=2
unset OPENBLAS_CORETYPE BIOEMBED_BLAS_REEXEC
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  "$bench" gemm f32 512 1024 512 300 >> "$raw"
  "$py" scripts/peers/numpy_gemm.py f32 512 1024 512 300 >> "$raw"
  "$bench" gemm f64 512 1024 512 150 >> "$raw"
  "$py" scripts/peers/numpy_gemm.py f64 512 1024 512 150 >> "$raw"
  for layout in chunked contiguous; do
    "$bench" h5write "$tmp/bioembed-bench.h5" "$rows" 1024 "$layout" >> "$raw"; rm -f "$tmp/bioembed-bench.h5"
    "$py" scripts/peers/h5py_write.py "$tmp/h5py-bench.h5" "$rows" 1024 "$layout" >> "$raw"; rm -f "$tmp/h5py-bench.h5"
  done
done
"$py" - "$raw" <<'PY' | tee Benchmarks/results/latest.md
import json, statistics, sys, platform, os
rows = [json.loads(l) for l in open(sys.argv[1])]
cases = {}
for r in rows:
    side = "bioembed" if r["tool"] == "bioembed" else "peer"
    cases.setdefault(r["case"], {}).setdefault(side, []).append(r)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, load average before the run {os.getloadavg()[0]:.2f}; "
      f"{len(rows) // max(1, 2 * len(cases))} interleaved rounds, medians over rounds.\n")
print("| case | BioEmbed | reference | ratio (BioEmbed / reference) |")
print("| --- | --- | --- | --- |")
for case, sides in cases.items():
    b, p = sides["bioembed"], sides["peer"]
    if case.startswith("gemm"):
        bm = statistics.median(r["gflops_median"] for r in b); pm = statistics.median(r["gflops_median"] for r in p)
        print(f"| {case} 512×1024×512, 2 threads | {bm:.0f} GFLOP/s (kernel {b[0]['kernel']}) | "
              f"{pm:.0f} GFLOP/s ({p[0]['tool']}, kernel {p[0]['kernel']}) | **{bm / pm:.2f}×** |")
    else:
        bm = statistics.median(r["mb_per_s"] for r in b); pm = statistics.median(r["mb_per_s"] for r in p)
        gib = b[0]["bytes"] / 2**30
        print(f"| {case} {gib:.2g} GiB float32 | {bm:.0f} MB/s | {pm:.0f} MB/s ({p[0]['tool']}) | **{bm / pm:.2f}×** |")
PY
