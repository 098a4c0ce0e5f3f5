#!/usr/bin/env bash
# Differential check of `bioembed protein tokenize` against gemmi + the fixture rules + mini3di on
# every structure file of the packages the protein fixtures came from: the Debian packages (about
# 490 files) and PyPI mdanalysistests 2.11.0 (about 120): chains, residue numbers, insertion codes,
# CA within 1e-3 A and 3Di, for both altloc choices and (first altloc) every model. Needs apt-get and pip (downloads about 100 MB,
# nothing installed) and the bench venv (gemmi, mini3di). Then DSSP against mkdssp 4.2.2 (Debian
# `dssp`, installed with apt-get when missing) on the same files (scripts/protein/dssp-differential.py).
#
# usage: scripts/protein/differential.sh [WORKDIR]     (default /tmp/bioembed-differential)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/bioembed-differential}
py=${PY:-.venv/bin/python}
[ -x "$py" ] || make venv
"$py" -m pip install -q --disable-pip-version-check -r scripts/requirements-bench-proteins.txt
make -s build >/dev/null
rm -rf "$work" && mkdir -p "$work/debs" "$work/x" "$work/files"
(cd "$work/debs" && apt-get download pymol-data theseus-examples mustang-testdata pdb2pqr-doc python3-pdbfixer python-biopython-doc >/dev/null 2>&1)
for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$work/x"; done
"$py" -m pip download -q --no-deps --disable-pip-version-check mdanalysistests==2.11.0 -d "$work/debs" >/dev/null
tar xzf "$work"/debs/mdanalysistests-*.tar.gz -C "$work/x"
n=0
while IFS= read -r f; do
  n=$((n + 1)); b=$(basename "$f")
  [ -e "$work/files/$b" ] && b="$n-$b"
  cp "$f" "$work/files/$b"
done < <(find "$work/x" -type f \( -iname '*.pdb' -o -iname '*.cif' -o -iname '*.pdb.gz' -o -iname '*.cif.gz' -o -iname '*.ent' -o -iname '*.ent.gz' \) -size +1k | sort)
echo "$(ls "$work/files" | wc -l) structure files" >&2
status=0
for altloc in first last; do
  out="$work/out-$altloc.h5"
  .build/release/bioembed protein tokenize --input "$work/files" --output "$out" --min-length 1 --altloc "$altloc" --jobs 2 --quiet || true
  echo "altloc $altloc:" >&2
  "$py" scripts/protein/differential.py "$work/files" "$out" "$altloc" || status=1
done
out="$work/out-all-models.h5"
.build/release/bioembed protein tokenize --input "$work/files" --output "$out" --min-length 1 --all-models --jobs 2 --quiet || true
echo "all models:" >&2
"$py" scripts/protein/differential.py "$work/files" "$out" first all-models || status=1
command -v mkdssp >/dev/null || { apt-get update -q && apt-get install -y -q dssp; } >/dev/null
echo "dssp:" >&2
"$py" scripts/protein/dssp-differential.py "$work/files" "$work/out-first.h5" || status=1
exit $status
