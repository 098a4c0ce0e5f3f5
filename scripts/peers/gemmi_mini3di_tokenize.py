"""Peer for `bioembed protein tokenize` end to end: gemmi.read_structure + the fixture residue rules +
mini3di Encoder.encode_atoms for every chain of model 1, in one Python process. One JSON line."""
import json
import os
import sys
import time

import gemmi
import numpy as np
from mini3di import Encoder

directory = sys.argv[1]
files = sorted(os.path.join(directory, f) for f in os.listdir(directory))
encoder = Encoder()
residues = chains = failed = 0
t0 = time.perf_counter()
for f in files:
    try:
        st = gemmi.read_structure(f)
    except Exception:
        failed += 1
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
            c = np.asarray(rows, dtype=np.float64)
            encoder.build_sequence(encoder.encode_atoms(c[:, 0], c[:, 1], c[:, 2], c[:, 3]))
            residues += len(rows)
            chains += 1
seconds = time.perf_counter() - t0
print(json.dumps({"tool": "gemmi+mini3di", "case": "protein-tokenize", "files": len(files), "failed": failed,
                  "chains": chains, "residues": residues, "seconds": seconds, "residues_per_s": residues / seconds}))
