#!/usr/bin/env bash
# Pipeline scale check (issue: memory bound independent of the number of files, both cores, resume
# in seconds): `bioembed run` of pipelines/proteins.yaml (tokenize -> PST) over corpora made by
# replicating the protein fixtures COPIES times each (16 files per copy with the committed fixtures), --jobs 2, then --resume.
# Reports wall, CPU (user+sys; > wall means more than one core busy), peak RSS (GNU time).
#
# usage: scripts/bench-pipeline-scale.sh [COPIES...]      (default: 10 100 300)
# Env: FIXTURES (default Tests/Fixtures/proteins/structures, the committed fixtures), BENCH_TMP (default /tmp).
# Writes Benchmarks/results/pipeline-scale.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
copies=("$@")
[ $# -gt 0 ] || copies=(10 100 300)
fixtures=${FIXTURES:-Tests/Fixtures/proteins/structures}
work=${BENCH_TMP:-/tmp}/bioembed-pipeline-scale
bin=$root/.build/release/bioembed
[ -x "$bin" ] || make -s build
mkdir -p "$work" Benchmarks/results
out=Benchmarks/results/pipeline-scale.md
{
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; load average $(cut -d' ' -f1 /proc/loadavg) at start."
  echo
  echo "| files | chains | run --jobs 2: wall (s) | CPU (s) | peak RSS (MB) | run --resume: wall (s) | peak RSS (MB) |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} > "$out"
for n in "${copies[@]}"; do
  corpus=$work/c$n
  python3 scripts/protein/make-corpus.py "$fixtures" "$corpus" "$n" >/dev/null
  manifest=$work/m$n.tsv
  { printf 'id\tpath\n'; for f in $(ls "$corpus"); do printf '%s\t%s\n' "$f" "$corpus/$f"; done; } > "$manifest"
  sed -e "s|manifest: ../examples/proteins/manifest.tsv|manifest: $manifest|" -e "s|output_dir: ../out/proteins|output_dir: $work/out$n|" \
      -e "s|\.\./Tests/|$root/Tests/|g" pipelines/proteins.yaml > "$work/p$n.yaml"
  rm -rf "$work/out$n"
  /usr/bin/time -f "%e %U %S %M" -o "$work/t1" "$bin" run "$work/p$n.yaml" --jobs 2 --quiet >/dev/null 2>&1 || true
  /usr/bin/time -f "%e %U %S %M" -o "$work/t2" "$bin" run "$work/p$n.yaml" --jobs 2 --resume --quiet >/dev/null 2>&1 || true
  chains=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(sum(len(i.get('outputs') or []) for i in r['items']))" "$work/out$n/proteins.h5.done.json")
  read -r w1 u1 s1 m1 < <(tail -1 "$work/t1"); read -r w2 u2 s2 m2 < <(tail -1 "$work/t2")
  echo "| $(($(wc -l < "$manifest") - 1)) | $chains | $w1 | $(echo "$u1 + $s1" | bc) | $((m1 / 1024)) | $w2 | $((m2 / 1024)) |" >> "$out"
  rm -rf "$corpus" "$work/out$n"
done
cat "$out"
