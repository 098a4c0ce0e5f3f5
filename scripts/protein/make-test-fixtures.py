#!/usr/bin/env python3
"""Copies a small subset of the shared protein fixtures into Tests/Fixtures/proteins.

Usage: .venv/bin/python scripts/protein/make-test-fixtures.py FULL_FIXTURE_DIR Tests/Fixtures/proteins
The structure files are copied byte for byte; proteins.h5 keeps only their groups; manifest.json
likewise. The full set is used by the tests too when it is present next to the repository.
"""
import json
import os
import shutil
import sys

import h5py

FILES = [
    "1A8O.pdb.gz", "1A8O.cif.gz", "3JQH.cif.gz", "19hc.pdb.gz", "4ZHL.cif.gz", "1hpv.pdb", "2n0n_M1.pdb.gz",
    "1a1p.pdb", "adk_open.pdb", "5PTI.cif.gz", "1YJP.cif", "3al1.pdb", "1LCD.pdb.gz", "1osm.pdb.gz",
    "1grm_single.pdb", "1hvr.pdb",
]

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(dst, "structures"), exist_ok=True)
groups = [f.replace(".", "_") for f in FILES]
for f in FILES:
    shutil.copyfile(os.path.join(src, "structures", f), os.path.join(dst, "structures", f))
with h5py.File(os.path.join(src, "proteins.h5"), "r") as fin, h5py.File(os.path.join(dst, "proteins.h5"), "w") as fout:
    for key, value in fin.attrs.items():
        fout.attrs[key] = value
    for g in groups:
        fin.copy(fin[g], fout, name=g)
manifest = json.load(open(os.path.join(src, "manifest.json")))
json.dump([e for e in manifest if e["id"] in groups], open(os.path.join(dst, "manifest.json"), "w"), indent=1)
