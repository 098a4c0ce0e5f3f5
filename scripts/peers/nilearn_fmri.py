#!/usr/bin/env python3
"""nilearn side of the fMRI benchmarks (scripts/bench-fmri.sh). Prints one JSON line.

    nilearn_fmri.py extract BOLD ATLAS CONFOUNDS TR      # load .nii.gz + labels masker + clean + correlation
    nilearn_fmri.py group H5 KIND                        # ConnectivityMeasure over /fmri/timeseries
Timing excludes Python and library imports (conservative for the comparison).
"""
import json
import resource
import sys
import time

import numpy as np


def main():
    mode = sys.argv[1]
    import h5py  # noqa: F401
    import pandas as pd
    from nilearn.connectome import ConnectivityMeasure
    from nilearn.maskers import NiftiLabelsMasker
    if mode == "extract":
        bold, atlas, conf, tr = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
        start = time.perf_counter()
        table = pd.read_csv(conf, sep="\t").bfill()
        cols = [c for c in table.columns if c.startswith(("trans_", "rot_"))]
        confounds = table[cols].to_numpy()
        confounds = confounds - confounds.mean(0)
        masker = NiftiLabelsMasker(labels_img=atlas, detrend=True, standardize="zscore_sample",
                                   standardize_confounds=True, high_pass=0.01, low_pass=0.1, t_r=tr)
        ts = masker.fit_transform(bold, confounds=confounds)
        ConnectivityMeasure(kind="correlation").fit_transform([ts])
        seconds = time.perf_counter() - start
        case = "fmri extract+clean+correlation (HCP-like, 400 parcels)"
    else:
        path, kind = sys.argv[2], sys.argv[3]
        with h5py.File(path) as f:
            g = f["fmri"]
            off = g["timeseries_offsets"][()]
            data = g["timeseries"][()]
        series = [data[off[i]:off[i + 1]] for i in range(len(off) - 1)]
        start = time.perf_counter()
        ConnectivityMeasure(kind=kind.replace("_", " ")).fit_transform(series)
        seconds = time.perf_counter() - start
        case = f"fmri group {kind} ({len(series)} x {series[0].shape[0]} x {series[0].shape[1]})"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tool": "nilearn", "case": case, "seconds": seconds, "peak_rss_mb": rss}))


if __name__ == "__main__":
    main()
