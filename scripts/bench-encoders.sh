#!/usr/bin/env bash
# Encoder benchmarks, side by side: `bioembed encode pst|molt5|brainmae` against eager PyTorch
# modules of the same equations (scripts/peers/torch_encoders.py), same weights, same inputs, same
# thread count, interleaved round by round. Installs PyTorch into .venv-bench-encoders on first use
# (not part of `make test`). Writes Benchmarks/results/encoders.{jsonl,md}.
#
# usage: scripts/bench-encoders.sh [ROUNDS] [THREADS]     (defaults 3 and 2)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-2}
py=$(scripts/make-venv.sh ".venv-bench-encoders" scripts/requirements-bench-encoders.txt)
bin=.build/release/bioembed
[ -x "$bin" ] || make -s build
work=${BENCH_TMP:-/tmp}/bioembed-bench-encoders
mkdir -p "$work" Benchmarks/results
raw=Benchmarks/results/encoders.jsonl
: > "$raw"
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
for model in pst molt5 brainmae; do
  mkdir -p "$work/$model"
  [ -f "$work/$model/input.h5" ] || "$py" scripts/peers/torch_encoders.py prepare "$model" "$work/$model"
done
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  for model in pst molt5 brainmae; do
    d=$work/$model
    # BioEmbed: the whole command (process start, weights, HDF5 read/write, forward), wall and peak RSS.
    "$py" - "$bin" "$model" "$d" "$threads" >> "$raw" <<'PY'
import json, re, resource, subprocess, sys, time
binary, model, d, threads = sys.argv[1:5]
cmd = [binary, "encode", model, "--weights", f"{d}/weights.safetensors", "--config", f"{d}/config.json",
       "--input", f"{d}/input.h5", "--output", f"{d}/out.h5", "--threads", threads, "--no-per-token"]
subprocess.run(cmd, check=True, capture_output=True)  # warm-up (page cache)
t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
r = subprocess.run(cmd, check=True, capture_output=True, text=True)
wall, c1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
stage = float(re.search(r"in ([0-9.]+) s", r.stderr).group(1))
print(json.dumps({"tool": "bioembed", "case": model, "threads": int(threads), "seconds_wall": wall, "seconds_stage": stage, "cpu_seconds": cpu,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
PY
    "$py" scripts/peers/torch_encoders.py run "$model" "$d" "$threads" 1 >> "$raw"
  done
done
"$py" - "$raw" "$rounds" <<'PY' | tee Benchmarks/results/encoders.md
import json, os, platform, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {sys.argv[2]} interleaved rounds, medians over rounds.\n")
print("| case | BioEmbed whole command (stage) | PyTorch forward only | ratio (PyTorch / BioEmbed stage), wall | CPU s BioEmbed command / PyTorch forward | peak RSS BioEmbed / PyTorch |")
print("| --- | --- | --- | --- | --- | --- |")
names = {"pst": "PST t6, 8 chains × 300 residues, one chain per forward", "molt5": "3D-MolT5 base encoder, 128 molecules × 60 tokens, batches of 32",
         "brainmae": "BrainMAE SG d=D=256, 32 windows × 300 frames × 100 regions"}
for case in ("pst", "molt5", "brainmae"):
    b = [r for r in rows if r["tool"] == "bioembed" and r["case"] == case]
    p = [r for r in rows if r["tool"] != "bioembed" and r["case"] == case]
    if not b or not p:
        continue
    bw = statistics.median(r["seconds_wall"] for r in b); bs = statistics.median(r["seconds_stage"] for r in b)
    pt = statistics.median(r["seconds_median"] for r in p)
    bc = statistics.median(r["cpu_seconds"] for r in b); pc = statistics.median(r["cpu_seconds"] for r in p)
    print(f"| {names[case]}, {b[0]['threads']} threads | {bw:.2f} s ({bs:.2f} s) | {pt:.2f} s ({p[0]['tool']}) | **{pt / bs:.2f}×** "
          f"| {bc:.2f} / {pc:.2f} ({pc / bc:.2f}×) | {max(r['peak_rss_mb'] for r in b):.0f} MB / {max(r['peak_rss_mb'] for r in p):.0f} MB |")
PY
