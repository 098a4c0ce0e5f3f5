#!/usr/bin/env python3
"""Seed corpus for `make fuzz`: every small structure, SDF, SMILES and tar fixture, each prefixed with
the format byte Fuzz/BioEmbedFuzz/FuzzTarget.swift reads (0 .pdb, 1 .pdb.gz, 2 .cif, 3 .sdf, 4 .smi,
5 .tar).  usage: scripts/fuzz-corpus.py OUT_DIR"""
import pathlib
import sys

FORMATS = {".pdb": 0, ".ent": 0, ".gz": 1, ".cif": 2, ".sdf": 3, ".smi": 4, ".csv": 4, ".tar": 5}
repo = pathlib.Path(__file__).resolve().parents[1]
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
count = 0
for f in sorted((repo / "Tests/Fixtures").rglob("*")):
    if f.is_file() and f.suffix in FORMATS and f.stat().st_size <= 200_000:
        (out / f"seed-{count:04d}").write_bytes(bytes([FORMATS[f.suffix]]) + f.read_bytes())
        count += 1
print(f"{count} seed inputs in {out}")
