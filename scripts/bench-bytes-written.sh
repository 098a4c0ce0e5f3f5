#!/usr/bin/env bash
# Bytes a pipeline run writes (write/pwrite/copy_file_range/sendfile of every process, traced with
# strace) against the size of the .h5 files it leaves.
# usage: scripts/bench-bytes-written.sh [PIPELINE] [OUT_DIR]   (defaults pipelines/fmri.yaml, a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
pipeline=${1:-pipelines/fmri.yaml}
out=${2:-$(mktemp -d)/run}
command -v strace >/dev/null || { echo "needs strace (apt-get install strace)" >&2; exit 1; }
[ -x .build/release/bioembed ] || make -s build
trace=$(mktemp)
rm -rf "$out"
strace -f -qq -y -e trace=write,pwrite64,writev,pwritev,copy_file_range,sendfile,splice -o "$trace" \
  .build/release/bioembed run "$pipeline" --output-dir "$out" --quiet
python3 - "$trace" "$out" <<'PY'
import glob, os, re, sys
total = to_h5 = 0
for line in open(sys.argv[1]):
    call = re.match(r"\d+\s+(\w+)\((\d+)(?:<([^>]*)>)?", line)
    result = re.search(r"=\s+(\d+)\s*$", line)
    if call and result and call.group(2) not in ("1", "2"):  # not stdout/stderr
        total += int(result.group(1))
        # the files behind the .h5 outputs: parts, temporaries (`x.h5.tmp-…`) and the files themselves
        if re.search(r"\.h5(\.tmp-[0-9-]+)?$", call.group(3) or ""):
            to_h5 += int(result.group(1))
final = sum(os.path.getsize(p) for p in glob.glob(os.path.join(sys.argv[2], "*.h5")))
# every file the run leaves in its folder (trained weights and their state too), not its work folder
every = sum(os.path.getsize(os.path.join(sys.argv[2], n)) for n in os.listdir(sys.argv[2])
            if os.path.isfile(os.path.join(sys.argv[2], n)))
print(f"written {total / 1e6:.2f} MB in all, every final file {every / 1e6:.2f} MB: ratio {total / max(every, 1):.2f}; "
      f"written to .h5 files (parts and temporaries included) {to_h5 / 1e6:.2f} MB, final .h5 files {final / 1e6:.2f} MB: "
      f"ratio {to_h5 / max(final, 1):.2f}")
PY
