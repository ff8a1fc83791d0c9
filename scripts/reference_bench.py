#!/usr/bin/env python3
"""Reference timings from OpenCV / NumPy on this machine, in the same JSON-lines shape
as `frameline bench --json` (op, size, dtype, threads, median_ms, min_ms, max_ms,
mpix_per_s, gb_per_s, params, plus "library"). Timing follows the chapter's Code 8.2.1:
warm-up runs, then the median of repeats.

    python scripts/reference_bench.py [--size 1920x1080] [--repeats 50]
"""
import argparse
import json
import os
import time

import cv2
import numpy as np


def bench(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times


def record(op, library, w, h, threads, times, bytes_moved, params):
    med = float(np.median(times))
    return {
        "op": op, "library": library, "size": f"{w}x{h}", "dtype": "u8",
        "threads": threads, "median_ms": med * 1e3, "min_ms": times[0] * 1e3,
        "max_ms": times[-1] * 1e3, "mpix_per_s": w * h / 1e6 / med,
        "gb_per_s": bytes_moved / 1e9 / med, "params": params,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    w, h = map(int, a.size.lower().split("x"))
    img = np.random.default_rng(0).integers(0, 256, (h, w), dtype=np.uint8)
    out = np.empty_like(img)
    gamma = 0.5
    table = np.array([round(255 * (v / 255) ** gamma) for v in range(256)], dtype=np.uint8)
    cores = os.cpu_count() or 1
    for threads in sorted({1, cores}):
        cv2.setNumThreads(threads)
        t = bench(lambda: cv2.LUT(img, table, dst=out), a.repeats, a.warmup)
        print(json.dumps(record("lut", f"opencv {cv2.__version__}", w, h, threads, t,
                                2 * w * h, {"gamma": gamma})))
    t = bench(lambda: np.copyto(out, img), a.repeats, a.warmup)
    print(json.dumps(record("copy", f"numpy {np.__version__}", w, h, 1, t, 2 * w * h, {})))
    t = bench(lambda: np.take(table, img, out=out), a.repeats, a.warmup)
    print(json.dumps(record("lut", f"numpy {np.__version__} take", w, h, 1, t, 2 * w * h,
                            {"gamma": gamma})))


if __name__ == "__main__":
    main()
