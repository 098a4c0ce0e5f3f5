#!/usr/bin/env python3
"""Synthetic group time series for the connectivity benchmark (not committed).

    python scripts/fmri_make_group_data.py OUT.h5 [--subjects 100] [--volumes 1200] [--regions 400]

Writes an /fmri collection (ids, t_r, region_ids, timeseries + timeseries_offsets) that
`bioembed fmri connectivity` reads: per subject, AR(1) latent networks mixed into the regions.
"""
import argparse

import h5py
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--subjects", type=int, default=100)
    ap.add_argument("--volumes", type=int, default=1200)
    ap.add_argument("--regions", type=int, default=400)
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    s, t, r = a.subjects, a.volumes, a.regions
    mixing = rng.standard_normal((20, r)) * 0.5
    with h5py.File(a.out, "w") as f:
        g = f.create_group("fmri")
        g["ids"] = np.array([f"sub-{i:03d}" for i in range(s)], dtype=h5py.string_dtype())
        g["t_r"] = np.full(s, 0.72)
        g["region_ids"] = np.arange(1, r + 1, dtype=np.int64)
        g["timeseries_offsets"] = np.arange(s + 1, dtype=np.int64) * t
        d = g.create_dataset("timeseries", (s * t, r), dtype="f8")
        for i in range(s):
            latent = rng.standard_normal((t, 20))
            for k in range(1, t):
                latent[k] += 0.6 * latent[k - 1]
            d[i * t:(i + 1) * t] = latent @ mixing + rng.standard_normal((t, r))


if __name__ == "__main__":
    main()
