#!/usr/bin/env bash
# Installs the Debian packages BioEmbed builds and tests with, only those that are missing,
# so a second run costs a few dpkg queries. Usage: scripts/install-deps.sh [build|test]
set -euo pipefail
build=(pkg-config libhdf5-dev libfftw3-dev libnetcdf-dev libopenblas-dev liblapacke-dev libdnnl-dev librdkit-dev libboost-dev zlib1g-dev libisal-dev libssl-dev)
test_extra=(hdf5-tools slurm-wlm munge)
wanted=("${build[@]}")
[ "${1:-build}" = test ] && wanted+=("${test_extra[@]}")
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
