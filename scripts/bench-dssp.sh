#!/usr/bin/env bash
# DSSP side by side, interleaved: `mkdssp FILE OUT` per file (Debian dssp 4.2.2, installed here
# with apt-get when missing) against BioEmbed's DSSP per file from the file (read, parse, chains,
# assignment; the assignment alone is reported too). The corpus: the committed protein fixtures
# that mkdssp reads as they are (it refuses PDB files without a HEADER line), each copied COPIES
# times (made here, never committed). Both sides read the same files; the ratio is of total time.
#
# usage: scripts/bench-dssp.sh [ROUNDS] [COPIES]     (defaults 3 and 10)
# Env: FIXTURES (default Tests/Fixtures/proteins/structures), BENCH_TMP (default /dev/shm)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
copies=${2:-10}
py=${PY:-.venv/bin/python}
fixtures=${FIXTURES:-Tests/Fixtures/proteins/structures}
tmp=${BENCH_TMP:-/dev/shm}
command -v mkdssp >/dev/null || { apt-get update -q && apt-get install -y -q dssp; } >/dev/null
[ -x "$py" ] || make venv
swift build -c release -Xswiftc -enable-testing --product BioEmbedBenchmarks >/dev/null
accepted="$tmp/bioembed-dssp-accepted" corpus="$tmp/bioembed-dssp-corpus"
rm -rf "$accepted" "$corpus" && mkdir -p "$accepted"
for f in "$fixtures"/*; do
  if mkdssp --output-format dssp "$f" "$tmp/bioembed-dssp-probe.dssp" >/dev/null 2>&1; then cp "$f" "$accepted/"; fi
done
rm -f "$tmp/bioembed-dssp-probe.dssp"
python3 scripts/protein/make-corpus.py "$accepted" "$corpus" "$copies"
mkdir -p Benchmarks/results
raw=Benchmarks/results/dssp.jsonl
: > "$raw"
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  .build/release/BioEmbedBenchmarks protein-dssp "$corpus" >> "$raw"
  "$py" scripts/peers/mkdssp_run.py "$corpus" >> "$raw"
done
rm -rf "$accepted" "$corpus"
"$py" - "$raw" <<'PY' | tee Benchmarks/results/dssp.md
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(tool, key):
    return statistics.median(r[key] for r in rows if r["tool"] == tool)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
files = rows[0]["files"]
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; medians over interleaved rounds; {files} files.\n")
print("| case | BioEmbed | mkdssp 4.2.2 | ratio |")
print("| --- | --- | --- | --- |")
b, m = med("bioembed", "seconds"), med("mkdssp", "seconds")
print(f"| per file from the file (read, parse, DSSP) | {b:.3f} s, {files / b:.0f} files/s | {m:.2f} s, {files / m:.1f} files/s (one `mkdssp` process per file) | **{m / b:.0f}×** |")
print(f"| the assignment alone (BioEmbed) | {med('bioembed', 'dssp_seconds'):.3f} s, {med('bioembed', 'dssp_residues_per_s') / 1e6:.2f} M residues/s | | |")
PY
