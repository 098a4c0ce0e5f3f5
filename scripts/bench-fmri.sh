#!/usr/bin/env bash
# fMRI benchmarks, side by side with nilearn 0.14.1 in the same run, interleaved.
#
# usage: scripts/bench-fmri.sh [ROUNDS]      (default 3)
# Env: BENCH_TMP (inputs and outputs; default /tmp/bioembed-fmri-bench), SUBJECTS/VOLUMES/REGIONS for
# the group case (default 100 x 1200 x 400), BENCH_CASES ("extract group", default both).
# Installs nilearn into .venv-bench-fmri (scripts/requirements-bench-fmri.txt) on first use and
# generates the synthetic inputs (scripts/fmri_make_bench_data.py, fmri_make_group_data.py).
# Writes Benchmarks/results/fmri.md (the BENCHMARKS.md table) and the raw JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
tmp=${BENCH_TMP:-/tmp/bioembed-fmri-bench}
cases=${BENCH_CASES:-extract group}
bin=.build/release/bioembed
benchbin=.build/release/BioEmbedBenchmarks
[ -x "$benchbin" ] || swift build -c release -Xswiftc -enable-testing --product BioEmbedBenchmarks >&2
venv=.venv-bench-fmri
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-bench-fmri.txt
fi
py="$venv/bin/python"
mkdir -p "$tmp" Benchmarks/results
[ -f "$tmp/sub-bench_task-rest_bold.nii.gz" ] || "$py" scripts/fmri_make_bench_data.py "$tmp"
group="$tmp/group_${SUBJECTS:-100}x${VOLUMES:-1200}x${REGIONS:-400}.h5"
case " $cases " in *" group "*) [ -f "$group" ] || "$py" scripts/fmri_make_group_data.py "$group" --subjects "${SUBJECTS:-100}" --volumes "${VOLUMES:-1200}" --regions "${REGIONS:-400}";; esac
raw=Benchmarks/results/fmri.jsonl
: > "$raw"
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
# ours: the whole process (read, compute, write HDF5) timed from outside; peak RSS from GNU time.
ours() {  # case-name command...
  local name=$1; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$tmp/rss" "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  rss=$(cat "$tmp/rss")
  echo "{\"tool\": \"bioembed\", \"case\": \"$name\", \"seconds\": $(printf "%.4f" "$(echo "$t1 - $t0" | bc)"), \"peak_rss_mb\": $(echo "$rss / 1024" | bc)}" >> "$raw"
}
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  if [[ " $cases " == *" extract "* ]]; then
    ours "fmri extract+clean+correlation (HCP-like, 400 parcels)" bash -c \
      "$bin fmri extract --bold $tmp/sub-bench_task-rest_bold.nii.gz --atlas $tmp/atlas_400.nii.gz --confounds $tmp/sub-bench_task-rest_desc-confounds_timeseries.tsv --strategy motion --motion full --high-pass 0.01 --low-pass 0.1 --no-raw --output $tmp/ours.h5 && $bin fmri connectivity --input $tmp/ours.h5 --output $tmp/ours.h5"
    "$py" scripts/peers/nilearn_fmri.py extract "$tmp/sub-bench_task-rest_bold.nii.gz" "$tmp/atlas_400.nii.gz" "$tmp/sub-bench_task-rest_desc-confounds_timeseries.tsv" 0.72 >> "$raw"
  fi
  if [[ " $cases " == *" group "* ]]; then
    for kind in correlation partial_correlation; do
      rm -f "$tmp/group-out.h5"  # a new output file (adding to an existing one copies it first, for crash safety)
      ours "fmri group $kind (${SUBJECTS:-100} x ${VOLUMES:-1200} x ${REGIONS:-400})" "$bin" fmri connectivity --input "$group" --kind "$kind" --output "$tmp/group-out.h5"
      "$py" scripts/peers/nilearn_fmri.py group "$group" "$kind" >> "$raw"
      "$benchbin" fmri-group "$group" "$kind" >> "$raw"  # the same computation timed in process, as nilearn is
    done
  fi
done
"$py" - "$raw" <<'PY' | tee Benchmarks/results/fmri.md
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cases = {}
inprocess = {}
for r in rows:
    if r["case"].startswith("fmri-group-inprocess-"):
        inprocess.setdefault(r["case"].removeprefix("fmri-group-inprocess-"), []).append(r)
        continue
    cases.setdefault(r["case"], {}).setdefault(r["tool"], []).append(r)
print("| case | nilearn (s) | bioembed (s) | speed-up | nilearn peak RSS (MB) | bioembed peak RSS (MB) |")
print("| --- | --- | --- | --- | --- | --- |")
for case, sides in cases.items():
    n = statistics.median(r["seconds"] for r in sides["nilearn"])
    b = statistics.median(r["seconds"] for r in sides["bioembed"])
    nr = max(r["peak_rss_mb"] for r in sides["nilearn"])
    br = max(r["peak_rss_mb"] for r in sides["bioembed"])
    print(f"| {case} | {n:.2f} | {b:.2f} | {n / b:.1f}x | {nr:.0f} | {br:.0f} |")
    for kind, runs in inprocess.items():
        if case.startswith(f"fmri group {kind} ("):
            b = statistics.median(r["seconds"] for r in runs)
            floor = statistics.median(r["gemm_floor_seconds"] for r in runs)
            print(f"| ↳ same, in process (series in memory, as nilearn is timed) | {n:.2f} | {b:.3f} | {n / b:.1f}x | | |")
            print(f"| ↳ GEMM floor (XᵀX of every subject, same threads) | | {floor:.3f} | bioembed = {b / floor:.2f}x floor | | |")
print(f"\nmedian of {len(next(iter(cases.values()))['bioembed'])} interleaved rounds; nilearn timed in-process without imports, bioembed as whole processes")
PY
