#!/usr/bin/env python3
"""h5py's side of the HDF5 write benchmark: same shape, layout and timing (create → close).

usage: h5py_write.py PATH ROWS COLS contiguous|chunked    (one JSON line)
"""
import json
import sys
import time

import h5py
import numpy as np

path, rows, cols, layout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = np.random.default_rng(3).standard_normal((rows, cols), dtype=np.float32)
for timed in (False, True):  # one untimed write first, as bioembed-bench does
    t0 = time.perf_counter()
    with h5py.File(path, "w") as f:
        f.create_dataset("embeddings", data=data, chunks=(1024, cols) if layout == "chunked" else None)
    seconds = time.perf_counter() - t0
print(json.dumps({"tool": "h5py " + h5py.__version__ + " (HDF5 " + h5py.version.hdf5_version + ")",
                  "case": f"h5write-{layout}", "bytes": float(data.nbytes), "seconds": seconds,
                  "mb_per_s": data.nbytes / seconds / 1e6}, sort_keys=True))
