#!/usr/bin/env bash
# Protein side-by-side benchmarks, interleaved in one run: parsing (BioEmbed vs gemmi), 3Di
# (BioEmbed vs mini3di) and end-to-end tokenize (bioembed protein tokenize vs gemmi + mini3di).
# The corpus is the protein fixture files replicated COPIES times (made here, never committed).
#
# usage: scripts/bench-proteins.sh [ROUNDS] [COPIES]     (defaults 3 and 100: 1,600 files with the committed fixtures)
# Env: FIXTURES (default Tests/Fixtures/proteins/structures, the committed fixtures), BENCH_TMP (default /dev/shm)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
copies=${2:-100}
py=${PY:-.venv/bin/python}
fixtures=${FIXTURES:-Tests/Fixtures/proteins/structures}
tmp=${BENCH_TMP:-/dev/shm}
corpus="$tmp/bioembed-protein-corpus"
[ -x "$py" ] || make venv
"$py" -m pip install -q --disable-pip-version-check -r scripts/requirements-bench-proteins.txt
swift build -c release -Xswiftc -enable-testing --product BioEmbedBenchmarks >/dev/null
make -s build >/dev/null
rm -rf "$corpus"
python3 scripts/protein/make-corpus.py "$fixtures" "$corpus" "$copies"
mkdir -p Benchmarks/results
raw=Benchmarks/results/proteins.jsonl
: > "$raw"
tokenize() {  # $1 = jobs
  local out="$tmp/bioembed-protein-bench.h5" t0 t1
  t0=$(date +%s.%N)
  .build/release/bioembed protein tokenize --input "$corpus" --output "$out" --jobs "$1" --quiet || true
  t1=$(date +%s.%N)
  "$py" - "$out" "$t0" "$t1" "$1" <<'PY'
import json, sys, h5py
with h5py.File(sys.argv[1]) as f:
    n = int(f["proteins/residue_offsets"][-1]); c = len(f["proteins/ids"])
s = float(sys.argv[3]) - float(sys.argv[2])
print(json.dumps({"tool": "bioembed", "case": f"protein-tokenize-jobs{sys.argv[4]}", "chains": c, "residues": n,
                  "seconds": s, "residues_per_s": n / s}))
PY
  rm -f "$out"
}
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  .build/release/BioEmbedBenchmarks protein-parse "$corpus" >> "$raw"
  "$py" scripts/peers/gemmi_parse.py "$corpus" >> "$raw"
  .build/release/BioEmbedBenchmarks protein-3di "$corpus" >> "$raw"
  "$py" scripts/peers/mini3di_encode.py "$corpus" >> "$raw"
  tokenize 1 >> "$raw"
  tokenize 2 >> "$raw"
  "$py" scripts/peers/gemmi_mini3di_tokenize.py "$corpus" >> "$raw"
done
rm -rf "$corpus"
"$py" - "$raw" <<'PY' | tee Benchmarks/results/proteins.md
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault((r["case"], r["tool"].split(" ")[0]), []).append(r)
def med(case, tool, key):
    return statistics.median(r[key] for r in by[(case, tool)])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; medians over interleaved rounds.\n")
print("| case | BioEmbed | reference | ratio |")
print("| --- | --- | --- | --- |")
b = med("protein-parse", "bioembed", "mb_per_s"); g = med("protein-parse", "gemmi", "mb_per_s")
bf = med("protein-parse", "bioembed", "files_per_s"); gf = med("protein-parse", "gemmi", "files_per_s")
print(f"| parse PDB+mmCIF (.gz included, all models), from file | {b:.0f} MB/s, {bf:.0f} files/s | {g:.0f} MB/s, {gf:.0f} files/s (gemmi.read_structure) | **{b / g:.2f}×** |")
b = med("protein-3di", "bioembed", "residues_per_s"); m = med("protein-3di", "mini3di", "residues_per_s")
print(f"| 3Di encoder only (model 1 chains) | {b / 1e3:.0f}k residues/s | {m / 1e3:.1f}k residues/s (mini3di encode_atoms) | **{b / m:.1f}×** |")
p = med("protein-tokenize", "gemmi+mini3di", "residues_per_s")
for jobs in (1, 2):
    b = med(f"protein-tokenize-jobs{jobs}", "bioembed", "residues_per_s")
    print(f"| end to end, `bioembed protein tokenize --jobs {jobs}` (parse, 3Di, graphs, HDF5) | {b / 1e3:.0f}k residues/s | {p / 1e3:.1f}k residues/s (gemmi + mini3di, parse + 3Di only) | **{b / p:.1f}×** |")
PY
