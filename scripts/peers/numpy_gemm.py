#!/usr/bin/env python3
"""numpy's side of the GEMM benchmark: same shapes, warm-up and timing as bioembed-bench gemm.

usage: numpy_gemm.py f32|f64 M K N REPEATS    (one JSON line)
"""
import json
import statistics
import sys
import time

import numpy as np

precision, m, k, n, repeats = sys.argv[1], *map(int, sys.argv[2:6])
dtype = np.float32 if precision == "f32" else np.float64
rng = np.random.default_rng(0)
a = rng.standard_normal((m, k)).astype(dtype)
b = rng.standard_normal((k, n)).astype(dtype)
for _ in range(10):
    a @ b
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    a @ b
    times.append(time.perf_counter() - t0)
flops = 2.0 * m * k * n
kernel, threads = "unknown", None
try:
    from threadpoolctl import threadpool_info
    info = [i for i in threadpool_info() if i.get("internal_api") == "openblas"]
    if info:
        kernel, threads = info[0].get("architecture"), info[0].get("num_threads")
except ImportError:
    pass
print(json.dumps({"tool": "numpy " + np.__version__, "case": f"gemm-{precision}", "m": m, "k": k, "n": n,
                  "threads": threads, "kernel": kernel, "gflops_best": flops / min(times) / 1e9,
                  "gflops_median": flops / statistics.median(times) / 1e9}, sort_keys=True))
