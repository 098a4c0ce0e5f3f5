"""Peer for `bioembed-bench protein-parse`: gemmi.read_structure on every file (all models, gzip
included), as a user of gemmi would read a folder. One JSON line."""
import gzip
import json
import os
import sys
import time

import gemmi

directory = sys.argv[1]
files = sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith((".pdb", ".pdb.gz", ".cif", ".cif.gz")))
size = 0
for f in files:
    size += len(gzip.open(f).read() if f.endswith(".gz") else open(f, "rb").read())
atoms = 0
failed = 0
t0 = time.perf_counter()
for f in files:
    try:
        st = gemmi.read_structure(f)
        atoms += sum(m.count_atom_sites() for m in st)
    except Exception:  # 1hpv.pdb: "Wrong format for charge"
        failed += 1
seconds = time.perf_counter() - t0
print(json.dumps({"tool": "gemmi " + gemmi.__version__, "case": "protein-parse", "files": len(files), "failed": failed,
                  "mb": size / 1e6, "atoms": atoms, "seconds": seconds, "mb_per_s": size / 1e6 / seconds,
                  "files_per_s": len(files) / seconds}))
