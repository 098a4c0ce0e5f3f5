#!/usr/bin/env python3
"""Synthetic HCP-like fMRI benchmark input (not committed; numpy only, deterministic).

    python scripts/fmri_make_bench_data.py OUTDIR [--volumes 300] [--parcels 400] [--level 6]

Writes OUTDIR/sub-bench_task-rest_bold.nii.gz (91x109x91 x T, int16, scl_slope 1, TR 0.72 s,
2 mm, sform/qform code 4 as the FSL MNI152 2 mm grid), OUTDIR/atlas_400.nii.gz (int16 labels
1..P: Voronoi cells of random seeds inside an ellipsoidal brain of ~212k voxels), and
OUTDIR/sub-bench_task-rest_desc-confounds_timeseries.tsv (fMRIPrep columns, 24P motion + wm/csf/gs).
"""
import argparse
import gzip
import pathlib
import struct

import numpy as np

SHAPE = (91, 109, 91)


def header(shape, datatype, bitpix, tr, slope=1.0, inter=0.0):
    h = bytearray(352)
    struct.pack_into("<i", h, 0, 348)
    dims = [len(shape)] + list(shape) + [1] * (7 - len(shape))
    struct.pack_into("<8h", h, 40, *dims)
    struct.pack_into("<hh", h, 70, datatype, bitpix)
    struct.pack_into("<8f", h, 76, 1.0, 2.0, 2.0, 2.0, tr, 0, 0, 0)
    struct.pack_into("<fff", h, 108, 352.0, slope, inter)
    h[123] = 2 | 8  # mm, s
    struct.pack_into("<hh", h, 252, 4, 4)
    struct.pack_into("<6f", h, 256, 0, 0, 0, 90.0, -126.0, -72.0)
    struct.pack_into("<4f", h, 280, -2.0, 0, 0, 90.0)
    struct.pack_into("<4f", h, 296, 0, 2.0, 0, -126.0)
    struct.pack_into("<4f", h, 312, 0, 0, 2.0, -72.0)
    h[344:348] = b"n+1\0"
    return bytes(h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--volumes", type=int, default=300)
    ap.add_argument("--parcels", type=int, default=400)
    ap.add_argument("--tr", type=float, default=0.72)
    ap.add_argument("--level", type=int, default=6, help="gzip level (nibabel writes 1, fMRIPrep 6)")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240601)
    x, y, z = np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij")
    c = [(n - 1) / 2 for n in SHAPE]
    brain = ((x - c[0]) / 36) ** 2 + ((y - c[1]) / 46) ** 2 + ((z - c[2]) / 34) ** 2 <= 1
    coords = np.argwhere(brain)
    seeds = coords[rng.choice(len(coords), a.parcels, replace=False)]
    labels = np.zeros(SHAPE, np.int16)
    # nearest seed per brain voxel, in blocks
    best = np.empty(len(coords), np.int32)
    for s in range(0, len(coords), 20000):
        d = ((coords[s:s + 20000, None, :] - seeds[None, :, :]) ** 2).sum(-1)
        best[s:s + 20000] = d.argmin(1)
    labels[tuple(coords.T)] = best + 1
    # Fortran order on disk (x fastest)
    (out / "atlas_400.nii.gz").write_bytes(gzip.compress(header(SHAPE, 4, 16, 0.0) + labels.tobytes(order="F"), a.level))
    t = a.volumes
    latent = rng.standard_normal((t, a.parcels)).cumsum(0) * 0.1 + rng.standard_normal((t, a.parcels))
    motion = rng.standard_normal((t, 6)).cumsum(0) * 0.02
    base = 800 + 200 * rng.random(len(coords))
    bold_path = out / "sub-bench_task-rest_bold.nii.gz"
    with gzip.open(bold_path, "wb", compresslevel=a.level) as f:
        f.write(header(SHAPE + (t,), 4, 16, a.tr))
        vol = np.zeros(SHAPE, np.int16)
        for k in range(t):
            v = base * (1 + 0.01 * latent[k, best]) + rng.standard_normal(len(coords)) * 8
            vol[tuple(coords.T)] = np.round(v).astype(np.int16)
            f.write(vol.tobytes(order="F"))
    names = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
    cols, data = [], []
    for i, n in enumerate(names):
        m = motion[:, i]
        d = np.r_[np.nan, np.diff(m)]
        for suffix, v in [("", m), ("_derivative1", d), ("_power2", m ** 2), ("_derivative1_power2", d ** 2)]:
            cols.append(n + suffix); data.append(v)
    for n in ["csf", "white_matter", "global_signal"]:
        v = rng.standard_normal(t)
        cols.append(n); data.append(v)
    rows = ["\t".join(cols)]
    for r in range(t):
        rows.append("\t".join("n/a" if np.isnan(col[r]) else repr(float(col[r])) for col in data))
    (out / "sub-bench_task-rest_desc-confounds_timeseries.tsv").write_text("\n".join(rows) + "\n")
    print(f"{bold_path}: {bold_path.stat().st_size / 1e6:.1f} MB compressed, {brain.sum()} brain voxels, {t} volumes")


if __name__ == "__main__":
    main()
