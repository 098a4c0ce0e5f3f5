#!/usr/bin/env python3
"""Writes a benchmark SDF library: perturbed copies of the fixture molecules (Tests/Fixtures/molecules).

usage: make-molecule-library.py OUT_DIR N_MOLECULES [PER_FILE]   (default 1000 records per file)

Each copy is a fixture record whose 3D coordinates get a random rotation, translation and
Gaussian noise (sd 0.05 Å), so every record has its own E3FP shells. Text only (numpy), no RDKit.
"""
import pathlib
import sys

import numpy as np

root = pathlib.Path(__file__).resolve().parent.parent
out = pathlib.Path(sys.argv[1])
total = int(sys.argv[2])
per_file = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
out.mkdir(parents=True, exist_ok=True)
templates = []
for path in sorted((root / "Tests/Fixtures/molecules").glob("*.sdf")):
    lines = path.read_text().split("\n")
    end = next(i for i, l in enumerate(lines) if l.startswith("M  END"))
    n_atoms = int(lines[3][:3])
    xyz = np.array([[float(lines[4 + i][10 * k:10 * k + 10]) for k in range(3)] for i in range(n_atoms)])
    templates.append((lines[: end + 1], n_atoms, xyz))
rng = np.random.default_rng(20261129)
written, file_index = 0, 0
while written < total:
    chunk = []
    for _ in range(min(per_file, total - written)):
        lines, n_atoms, xyz = templates[written % len(templates)]
        q = rng.standard_normal(4)
        q /= np.linalg.norm(q)
        w, x, y, z = q
        rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
        moved = xyz @ rot.T + rng.uniform(-5, 5, 3) + rng.normal(0, 0.05, xyz.shape)
        record = list(lines)
        record[0] = f"{lines[0]}_copy{written}"
        for i in range(n_atoms):
            old = record[4 + i]
            record[4 + i] = "".join(f"{v:10.4f}" for v in moved[i]) + old[30:]
        chunk.append("\n".join(record) + "\n$$$$\n")
        written += 1
    (out / f"library_{file_index:04d}.sdf").write_text("".join(chunk))
    file_index += 1
print(f"{written} molecules in {file_index} files under {out}")
