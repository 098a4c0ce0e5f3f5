#!/usr/bin/env bash
# Two input paths side by side, interleaved, ROUNDS rounds (medians):
# - SMILES -> seeded ETKDGv3 conformer -> 3D-MolT5 tokens: `bioembed molecule tokenize --input
#   drugs.smi` (--jobs 1 and 2) against the reference Python pipeline (RDKit EmbedMultipleConfs, the
#   MOL block read back, RDKit + selfies + e3fp tokenization: scripts/peers/molt5_tokenize.py smiles),
#   on the 200 ChEMBL molecules of Tests/Fixtures/molecules-smiles;
# - a tar archive of structure files against the same files extracted: `bioembed protein tokenize`
#   on COPIES copies of the committed protein fixtures, packed with Python's tarfile (made here in
#   BENCH_TMP, never committed).
#
# usage: scripts/bench-smiles-archives.sh [ROUNDS] [COPIES]     (defaults 3 and 100)
# Writes Benchmarks/results/smiles-archives.{jsonl,md}. Uses .venv-bench-molecules (made on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
copies=${2:-100}
tmp=${BENCH_TMP:-/dev/shm}
py=$(scripts/make-venv.sh .venv-bench-molecules scripts/requirements-bench-molecules.txt)
make -s build >&2
bin=.build/release/bioembed
smi=Tests/Fixtures/molecules-smiles/drugs.smi
corpus="$tmp/bioembed-archive-corpus" archive="$tmp/bioembed-archive.tar"
rm -rf "$corpus" "$archive"
python3 scripts/protein/make-corpus.py Tests/Fixtures/proteins/structures "$corpus" "$copies"
python3 -c "import os, sys, tarfile
with tarfile.open(sys.argv[2], 'w') as t:
    for n in sorted(os.listdir(sys.argv[1])): t.add(os.path.join(sys.argv[1], n), arcname=n)" "$corpus" "$archive"
mkdir -p Benchmarks/results
raw=Benchmarks/results/smiles-archives.jsonl
: > "$raw"
timed() {  # case, tool, command...
  local case=$1 tool=$2 t0 t1
  shift 2
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  echo "{\"case\": \"$case\", \"tool\": \"$tool\", \"seconds\": $(echo "$t1 - $t0" | bc)}" >> "$raw"
}
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  timed smiles bioembed-jobs1 "$bin" molecule tokenize --input "$smi" --output "$tmp/bench-smiles.h5" --jobs 1 --quiet
  timed smiles bioembed-jobs2 "$bin" molecule tokenize --input "$smi" --output "$tmp/bench-smiles.h5" --jobs 2 --quiet
  "$py" scripts/peers/molt5_tokenize.py smiles "$smi" 200 data/molt5/selfies_dict.txt >> "$raw"
  timed archive tar "$bin" protein tokenize --input "$archive" --output "$tmp/bench-tar.h5" --quiet
  timed archive files "$bin" protein tokenize --input "$corpus" --output "$tmp/bench-files.h5" --quiet
done
files=$(ls "$corpus" | wc -l)
chains=$("$py" -c "import h5py, sys; print(len(h5py.File(sys.argv[1])['proteins/ids']))" "$tmp/bench-tar.h5")
molecules=$("$py" -c "import h5py, sys; print(len(h5py.File(sys.argv[1])['molecules/ids']))" "$tmp/bench-smiles.h5")
rm -rf "$corpus" "$archive" "$tmp"/bench-smiles.h5 "$tmp"/bench-tar.h5 "$tmp"/bench-files.h5
"$py" - "$raw" "$chains" "$molecules" "$files" <<'PY' | tee Benchmarks/results/smiles-archives.md
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
chains, molecules, files = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def med(case, tool):
    return statistics.median(r["seconds"] for r in rows if r["case"].startswith(case) and r["tool"] == tool)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Machine: {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; medians over interleaved rounds.\n")
print("| case | BioEmbed | reference | ratio |")
print("| --- | --- | --- | --- |")
ref = med("smiles", "reference")
for jobs in (1, 2):
    b = med("smiles", f"bioembed-jobs{jobs}")
    print(f"| 200 SMILES → ETKDGv3 conformer → 3D-MolT5 tokens, `--jobs {jobs}` | {b:.2f} s ({molecules} molecules) | {ref:.2f} s (RDKit + selfies + e3fp in Python, one core) | **{ref / b:.1f}×** |")
t, f = med("archive", "tar"), med("archive", "files")
print(f"| `protein tokenize` of one tar archive vs the same files extracted ({files} files, {chains} chains) | {t:.2f} s (tar) | {f:.2f} s (files) | **{f / t:.2f}×** |")
PY
