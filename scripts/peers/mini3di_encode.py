"""Peer for `bioembed-bench protein-3di`: mini3di's Encoder.encode_atoms over every chain of model 1
(chains read with gemmi beforehand, untimed, with the fixture rules). One JSON line."""
import json
import os
import sys
import time

import gemmi
import numpy as np
from mini3di import Encoder

directory = sys.argv[1]
chains = []
for f in sorted(os.listdir(directory)):
    try:
        st = gemmi.read_structure(os.path.join(directory, f))
    except Exception:
        continue
    st.setup_entities()
    for ch in st[0]:
        rows = []
        for res in ch.first_conformer():
            if res.entity_type not in (gemmi.EntityType.Polymer, gemmi.EntityType.Unknown):
                continue
            atoms = {}
            for a in res:
                atoms.setdefault(a.name, (a.pos.x, a.pos.y, a.pos.z))
            if "CA" in atoms:
                rows.append([atoms.get(n, (np.nan,) * 3) for n in ("CA", "CB", "N", "C")])
        if len(rows) > 3:
            chains.append(np.asarray(rows, dtype=np.float64))
encoder = Encoder()
residues = 0
t0 = time.perf_counter()
for c in chains:
    residues += len(encoder.encode_atoms(c[:, 0], c[:, 1], c[:, 2], c[:, 3]))
seconds = time.perf_counter() - t0
print(json.dumps({"tool": "mini3di", "case": "protein-3di", "chains": len(chains), "residues": residues,
                  "seconds": seconds, "residues_per_s": residues / seconds}))
