#!/usr/bin/env bash
# Surface fMRI extraction side by side, interleaved, whole process both sides (start, read, parcel
# means, cleaning with detrend + z-score + 0.01–0.1 Hz band, write):
# - CIFTI-2: an HCP-shaped dense time series (91,282 grayordinates: 29,696 + 29,716 cortical
#   vertices, 31,870 subcortical voxels; 1,200 frames, float32, 438 MB) with a cortex-only
#   400-parcel .dlabel.nii of another medial wall (59,412 grayordinates, as Schaefer/Glasser
#   dlabels), against nibabel + numpy/scipy parcel means + nilearn.signal.clean, written with h5py;
# - GIFTI: fsaverage5 (10,242 vertices per hemisphere), 1,200 frames as fMRIPrep writes them (one
#   gzip-base64 array per frame), against nilearn 0.14.1's SurfaceLabelsMasker.
# Outputs are compared too (max relative difference of the cleaned series). Data are generated
# here (never committed).
#
# usage: scripts/bench-surface.sh [ROUNDS] [FRAMES]   (defaults 3 1200)
# Env: BENCH_TMP (default /tmp), PY (default .venv/bin/python, made by `make venv`)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} frames=${2:-1200}
py=${PY:-.venv/bin/python}
[ -x "$py" ] && "$py" -c "import nilearn, nibabel" 2>/dev/null || make venv
bin=.build/release/bioembed
[ -x "$bin" ] || make -s build
work=${BENCH_TMP:-/tmp}/bioembed-bench-surface
mkdir -p "$work" Benchmarks/results
raw=Benchmarks/results/surface.jsonl
: > "$raw"
"$py" - "$work" "$frames" <<'PY'
import os, sys
sys.path.insert(0, "Tests/python")
import numpy as np
from surface_data import hcp_models, parcel_keys, write_dlabel, write_dtseries, write_gifti
work, frames = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)
bold = f"{work}/sub-01_task-rest_space-fsLR_den-91k_bold.dtseries.nii"
if not os.path.exists(bold) or os.path.getsize(bold) < frames * 91282 * 4:
    models = hcp_models(rng)
    t = np.arange(frames) * 0.72
    data = np.empty((frames, len(models)), np.float32)
    for start in range(0, frames, 100):  # in slabs: a few hundred MB at a time
        k = slice(start, min(frames, start + 100))
        data[k] = 1000 + 20 * rng.standard_normal((data[k].shape[0], len(models)), dtype=np.float32) + 5 * np.sin(2 * np.pi * 0.05 * t[k])[:, None]
    write_dtseries(bold, data, models, 0.72)
    atlas_models = hcp_models(np.random.default_rng(2), cortex_only=True)
    write_dlabel(f"{work}/schaefer400.dlabel.nii", parcel_keys(atlas_models, 400, rng), atlas_models)
    for hemi in ("L", "R"):
        series = 100 + rng.standard_normal((10242, frames), dtype=np.float32)
        write_gifti(f"{work}/sub-01_task-rest_hemi-{hemi}_space-fsaverage5_bold.func.gii", series)
        write_gifti(f"{work}/hemi-{hemi}_parcels.label.gii", rng.integers(0, 201, size=(10242, 1)), intent="NIFTI_INTENT_LABEL", dtype="int32")
PY
cat > "$work/reference.py" <<'PY'
"""The Python side, whole process: nibabel + numpy/scipy + nilearn, result written with h5py."""
import sys
import h5py
import numpy as np
from nilearn import signal
sys.path.insert(0, sys.argv[4])
from surface_data import cifti_parcel_means, surface_masker_reference
kind, work, out = sys.argv[1:4]
clean = dict(detrend=True, standardize="zscore_sample", high_pass=0.01, low_pass=0.1)
if kind == "cifti":
    means, ids = cifti_parcel_means(f"{work}/sub-01_task-rest_space-fsLR_den-91k_bold.dtseries.nii", f"{work}/schaefer400.dlabel.nii")
    cleaned = signal.clean(means, t_r=0.72, **clean)
else:
    stem = f"{work}/sub-01_task-rest_hemi-%s_space-fsaverage5_bold.func.gii"
    cleaned, ids = surface_masker_reference(stem % "L", stem % "R", f"{work}/hemi-L_parcels.label.gii", f"{work}/hemi-R_parcels.label.gii",
                                            (10242, 10242), np.random.default_rng(0), t_r=2.0, **clean)
    ids = ids[ids != 0]
with h5py.File(out, "w") as f:
    f["timeseries"] = cleaned
    f["region_ids"] = ids
PY
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  "$py" - "$bin" "$work" "$py" "$PWD/Tests/python" >> "$raw" <<'PY'
import json, resource, subprocess, sys, time
import h5py, numpy as np
binary, work, py, tests = sys.argv[1:5]
cases = {
    "cifti": (["--bold", f"{work}/sub-01_task-rest_space-fsLR_den-91k_bold.dtseries.nii", "--atlas", f"{work}/schaefer400.dlabel.nii"], 0.72),
    "gifti": (["--bold", f"{work}/sub-01_task-rest_hemi-L_space-fsaverage5_bold.func.gii", "--atlas", f"{work}/hemi-L_parcels.label.gii"], 2.0),
}
for kind, (inputs, tr) in cases.items():
    runs = {}
    for tool in ("bioembed", "python"):
        out = f"{work}/{kind}-{tool}.h5"
        if tool == "bioembed":
            cmd = [binary, "fmri", "extract", *inputs, "--t-r", str(tr), "--high-pass", "0.01", "--low-pass", "0.1", "--no-raw", "--output", out]
        else:
            cmd = [py, f"{work}/reference.py", kind, work, out, tests]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        assert p.returncode == 0, p.stderr
        runs[tool] = (wall, out)
    with h5py.File(runs["bioembed"][1]) as a, h5py.File(runs["python"][1]) as b:
        x, y = a["fmri/timeseries"][()], b["timeseries"][()]
        diff = float(np.max(np.abs(x - y)) / np.max(np.abs(y)))
    for tool, (wall, _) in runs.items():
        print(json.dumps({"case": kind, "tool": tool, "seconds": wall, "max_relative_difference": diff}))
PY
done
"$py" - "$raw" "$rounds" "$frames" <<'PY' | tee Benchmarks/results/surface.md
import json, os, platform, statistics, sys
import nibabel, nilearn
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, frames = sys.argv[2:4]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {rounds} interleaved rounds, medians; "
      f"nibabel {nibabel.__version__}, nilearn {nilearn.__version__}.\n")
print("| case | BioEmbed whole process | Python whole process | ratio | cleaned series, max relative difference |")
print("| --- | --- | --- | --- | --- |")
names = {"cifti": f"CIFTI-2 91,282 grayordinates × {frames} frames → 400 parcels (nibabel + numpy + signal.clean)",
         "gifti": f"GIFTI fsaverage5 2 × 10,242 vertices × {frames} frames → 200 labels (SurfaceLabelsMasker)"}
for case, name in names.items():
    b = statistics.median(r["seconds"] for r in rows if r["case"] == case and r["tool"] == "bioembed")
    p = statistics.median(r["seconds"] for r in rows if r["case"] == case and r["tool"] == "python")
    d = max(r["max_relative_difference"] for r in rows if r["case"] == case)
    print(f"| {name} | {b:.2f} s | {p:.2f} s | **{p / b:.1f}×** | {d:.1e} |")
PY
