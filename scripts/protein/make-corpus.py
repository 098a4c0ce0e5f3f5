#!/usr/bin/env python3
"""Builds a benchmark corpus by replicating the protein fixture files (not committed).

Usage: python3 scripts/protein/make-corpus.py FIXTURE_STRUCTURES_DIR OUT_DIR COPIES
Each file is copied COPIES times as OUT_DIR/<stem>_<k><suffixes> (same bytes, distinct names).
"""
import os
import shutil
import sys

src, out, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
for name in sorted(os.listdir(src)):
    stem, dot, rest = name.partition(".")
    for k in range(copies):
        target = os.path.join(out, f"{stem}_{k}{dot}{rest}")
        if not os.path.exists(target):
            shutil.copyfile(os.path.join(src, name), target)
