#!/usr/bin/env bash
# Regenerates notebooks-export/example-demo.ipynb: runs the demo, exports its notebook and executes
# it headless (outputs and figures embedded). Needs `make build venv`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/bioembed
"$bin" run pipelines/demo.yaml --quiet
"$bin" export notebook out/demo --output out/demo/report.ipynb
(cd out/demo && ../../.venv/bin/jupyter execute --output=report_executed report.ipynb)
# Paths inside point at the demo folder; rewrite them for the copy kept in notebooks-export/.
sed 's#\\"\([a-z_]*\.h5\)\\"#\\"../out/demo/\1\\"#g' out/demo/report_executed.ipynb > notebooks-export/example-demo.ipynb
echo "wrote notebooks-export/example-demo.ipynb"
