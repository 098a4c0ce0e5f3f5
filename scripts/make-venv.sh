#!/usr/bin/env bash
# Creates the virtual environment VENV from REQUIREMENTS on first use; prints its python.
# usage: py=$(scripts/make-venv.sh VENV REQUIREMENTS)
set -euo pipefail
venv=$1 requirements=$2
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" >&2
fi
echo "$venv/bin/python"
