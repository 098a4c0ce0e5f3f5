#!/usr/bin/env bash
# Molecule benchmark, side by side in one run: BioEmbed (`bioembed molecule tokenize` end to end,
# and the in-process tokenizer / E3FP through Benchmarks/BioEmbedBenchmarks) against the reference
# Python (RDKit + selfies + e3fp, scripts/peers/molt5_tokenize.py), interleaved, ROUNDS rounds.
#
# usage: scripts/bench-molecules.sh [ROUNDS] [N_MOLECULES] [N_REFERENCE]
#   ROUNDS (3), N_MOLECULES in the library (10000), N_REFERENCE molecules the reference Python
#   tokenizes per round (200: at ≈7 mol/s the whole library would take ~25 min per round).
# Writes Benchmarks/results/molecules.{jsonl,md}. Creates .venv-bench-molecules (pip) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
total=${2:-10000}
nref=${3:-200}
py=$(scripts/make-venv.sh .venv-bench-molecules scripts/requirements-bench-molecules.txt)
make -s build >&2
swift build -c release -Xswiftc -enable-testing --product BioEmbedBenchmarks >&2
bench=.build/release/BioEmbedBenchmarks
bin=.build/release/bioembed
lib=${BENCH_TMP:-/tmp}/bioembed-molecule-library
rm -rf "$lib" && "$py" scripts/make-molecule-library.py "$lib" "$total" 1000 >&2
first="$lib/library_0000.sdf"
vocab=data/molt5/selfies_dict.txt
mkdir -p Benchmarks/results
raw=Benchmarks/results/molecules.jsonl
: > "$raw"
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  # End to end: every file of the library, one job and two jobs, HDF5 written; peak RSS from /usr/bin/time.
  for jobs in 1 2; do
    out=${BENCH_TMP:-/tmp}/bioembed-molecules.h5
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$lib.rss" "$bin" molecule tokenize --input "$lib" --output "$out" --jobs "$jobs" --quiet || true
    t1=$(date +%s.%N)
    n=$("$py" -c "import h5py,sys; print(len(h5py.File(sys.argv[1])['molecules/ids']))" "$out")
    echo "{\"tool\": \"bioembed\", \"case\": \"cli-jobs$jobs\", \"molecules\": $n, \"seconds\": $(printf "%.4f" "$(echo "$t1 - $t0" | bc)"), \"mol_per_s\": $(echo "$n / ($t1 - $t0)" | bc -l), \"max_rss_kib\": $(cat "$lib.rss")}" >> "$raw"
    rm -f "$out"
  done
  "$bench" parse "$first" 1000 >> "$raw"
  "$bench" molt5 "$first" 1000 >> "$raw"
  "$py" scripts/peers/molt5_tokenize.py molt5 "$first" "$nref" "$vocab" >> "$raw"
  "$bench" e3fp "$first" 1000 >> "$raw"
  "$py" scripts/peers/molt5_tokenize.py e3fp "$first" "$nref" "$vocab" >> "$raw"
done
"$py" - "$raw" <<'PY' | tee Benchmarks/results/molecules.md
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(tool, case, key="mol_per_s"):
    v = [r[key] for r in rows if r["tool"] == tool and r["case"] == case and key in r]
    return statistics.median(v) if v else float("nan")
def rounds(tool, case, key="mol_per_s"):
    return [r[key] for r in rows if r["tool"] == tool and r["case"] == case and key in r]
def per_round(ours, theirs, key="mol_per_s"):
    a, b = rounds("bioembed", ours, key), rounds("reference", theirs, key)
    return statistics.median([x / y for x, y in zip(a, b)]) if a and b else float("nan")
print("Wall clock (median over rounds; ratio = median of the per-round ratios):\n")
print("| case | BioEmbed (mol/s) | reference Python (mol/s) | ratio |")
print("| --- | --- | --- | --- |")
for case, label in [("cli-jobs1", "SDF → HDF5, `bioembed molecule tokenize`, 1 job"),
                    ("cli-jobs2", "SDF → HDF5, `bioembed molecule tokenize --jobs 2`"),
                    ("molt5-tokenize", "tokenization in process, 1 thread")]:
    print(f"| {label} | {med('bioembed', case):.0f} | {med('reference', 'molt5-tokenize'):.1f} | **{per_round(case, 'molt5-tokenize'):.0f}×** |")
print(f"| E3FP alone (4096 bits, level 3) | {med('bioembed', 'e3fp'):.0f} | {med('reference', 'e3fp'):.1f} (e3fp package) | **{per_round('e3fp', 'e3fp'):.0f}×** |")
print("\nCPU time of the process (in-process cases; less sensitive to other load):\n")
print("| case | BioEmbed (mol/CPU-s) | reference Python (mol/CPU-s) | ratio |")
print("| --- | --- | --- | --- |")
for ours, theirs, label in [("rdkit-parse", None, "RDKit parse + kekulé SMILES only"),
                            ("molt5-tokenize", "molt5-tokenize", "tokenization, 1 thread"), ("e3fp", "e3fp", "E3FP alone")]:
    b = med("bioembed", ours, "mol_per_cpu_s")
    if theirs is None:
        print(f"| {label} | {b:.0f} | | |")
    else:
        print(f"| {label} | {b:.0f} | {med('reference', theirs, 'mol_per_cpu_s'):.1f} | **{per_round(ours, theirs, 'mol_per_cpu_s'):.0f}×** |")
rss = [r["max_rss_kib"] for r in rows if "max_rss_kib" in r]
print(f"\nPeak RSS of the CLI runs over the 10-file library: {max(rss) / 1024:.0f} MiB; rounds: {len(rss) // 2}.")
PY
