#!/usr/bin/env bash
# BrainMAE training-step benchmark, side by side: `bioembed train brainmae` against an eager
# PyTorch module of the same equations (scripts/peers/torch_brainmae_train.py), same config
# (SG, d = D = 256, 100 regions, τ = 20, batch 32), same windows, same thread count, interleaved
# round by round. PyTorch comes from BENCH_VENV (default .venv-bench-encoders, created from
# scripts/requirements-bench-encoders.txt on first use; not part of `make test`).
# Writes Benchmarks/results/training.{jsonl,md}.
#
# usage: scripts/bench-training.sh [ROUNDS] [THREADS] [WINDOW_SEGMENTS]   (defaults 3, 2, 4)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-2}
k=${3:-4}
py=$(scripts/make-venv.sh "${BENCH_VENV:-.venv-bench-encoders}" scripts/requirements-bench-encoders.txt)
bin=.build/release/bioembed
[ -x "$bin" ] || make -s build
work=${BENCH_TMP:-/tmp}/bioembed-bench-training
mkdir -p "$work" Benchmarks/results
steps=3
# 32·steps windows of k segments of 20 frames: one epoch = `steps` steps of batch 32.
"$py" - "$work" "$k" "$steps" <<'PY'
import json, sys
import h5py, numpy as np
work, k, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
json.dump({"n_rois": 100, "seg_len": 20, "max_segments": 64, "tse_type": "SG", "tse_dim": 256, "tse_depth": 3, "tse_heads": 4,
           "enc_dim": 256, "enc_depth": 4, "enc_heads": 4, "dec_dim": 128, "dec_depth": 2, "dec_heads": 4, "mlp_ratio": 4.0,
           "ln_eps": 1e-6, "mask_loss_weight": 0.75, "batch_size": 32, "window_segments": k, "holdout_fraction": 0,
           "schedule": "constant", "epochs": 1}, open(f"{work}/config.json", "w"))
n, T = 32 * steps, 20 * k
rng = np.random.default_rng(0)
with h5py.File(f"{work}/input.h5", "w") as f:
    g = f.create_group("fmri")
    g.create_dataset("ids", data=[f"sub{i}" for i in range(n)], dtype=h5py.string_dtype())
    g.create_dataset("timeseries_offsets", data=np.arange(n + 1, dtype=np.int64) * T)
    g.create_dataset("timeseries", data=rng.standard_normal((n * T, 100)))
PY
raw=Benchmarks/results/training.jsonl
: > "$raw"
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  "$py" - "$bin" "$work" "$threads" "$k" >> "$raw" <<'PY'
import json, re, resource, subprocess, sys
binary, work, threads, k = sys.argv[1:5]
r = subprocess.run([binary, "train", "brainmae", "--input", f"{work}/input.h5", "--config", f"{work}/config.json",
                    "--output", f"{work}/bm.safetensors", "--threads", threads], check=True, capture_output=True, text=True)
per = float(re.search(r"median step ([0-9.]+) s", r.stderr).group(1))
print(json.dumps({"tool": "bioembed", "threads": int(threads), "seconds_per_step": per, "segments_per_second": 32 * int(k) / per,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
PY
  "$py" scripts/peers/torch_brainmae_train.py "$work/config.json" "$work/input.h5" "$threads" "$steps" >> "$raw"
done
"$py" - "$raw" "$rounds" "$k" <<'PY' | tee Benchmarks/results/training.md
import json, os, platform, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {sys.argv[2]} interleaved rounds, medians.\n")
print("| case | BioEmbed s/step (segments/s) | PyTorch s/step (segments/s) | speed ratio BioEmbed/PyTorch | peak RSS BioEmbed / PyTorch (MB) |")
print("| --- | --- | --- | --- | --- |")
b = [r for r in rows if r["tool"] == "bioembed"]; t = [r for r in rows if r["tool"] == "pytorch"]
med = lambda rs, key: statistics.median(r[key] for r in rs)
bs, ts = med(b, "seconds_per_step"), med(t, "seconds_per_step")
print(f"| SG d=D=256, 100 regions, τ=20, batch 32 × {sys.argv[3]} segments | {bs:.2f} ({32*int(sys.argv[3])/bs:.0f}) | {ts:.2f} ({32*int(sys.argv[3])/ts:.0f}) "
      f"| {ts/bs:.2f}× | {max(r['peak_rss_mb'] for r in b):.0f} / {max(r['peak_rss_mb'] for r in t):.0f} |")
PY
