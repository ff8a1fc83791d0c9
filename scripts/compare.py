#!/usr/bin/env python3
"""frameline against OpenCV (and NumPy, Numba) on this machine, in one run.

For every case, `frameline bench --json` and the OpenCV equivalent run on frames of the
same size and type, single-threaded and with all cores; timing follows the chapter's
Code 8.2.1 (warm-up, then the median of repeats). Prints a Markdown table with the
speed-up and writes every raw record (JSON lines) to bench-results/.

    python scripts/compare.py [--frameline target/release/frameline] [--only NAME]
                              [--kornia PATH]

With --kornia (the binary of scripts/kornia-bench, which scripts/compare.sh builds), the
u8 Gaussian sizes kornia-rs has hand-written AVX2/NEON paths for (3x3, 7x7) are also
measured against kornia-rs itself, on frames of the same size, one thread and all cores,
in the same alternating rounds as the OpenCV rows.
"""
import argparse
import json
import os
import platform
import subprocess
import time

import cv2
import numpy as np

UHD = (3840, 2160)
HD = (1920, 1080)


def bench(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3


def local_std(x, k):
    m = cv2.boxFilter(x, cv2.CV_32F, (k, k))
    m2 = cv2.sqrBoxFilter(x, cv2.CV_32F, (k, k))
    return cv2.sqrt(cv2.max(m2 - m * m, 0))


def sauvola(x, w, k=0.5, r=128.0):
    xf = x.astype(np.float32)
    m = cv2.boxFilter(xf, cv2.CV_32F, (w, w))
    m2 = cv2.sqrBoxFilter(xf, cv2.CV_32F, (w, w))
    s = cv2.sqrt(cv2.max(m2 - m * m, 0))
    t = m * (1 + k * (s / r - 1))
    return cv2.compare(xf, t, cv2.CMP_GT)


def numba_kernels():
    """The chapter's Numba loops (Code 8.2.4 and an integer Floyd-Steinberg with the
    same definition as frameline's), compiled once; None without numba."""
    try:
        from numba import njit, prange
    except ImportError:
        return None

    @njit(parallel=True)
    def row_ema(im, alpha):
        out = np.empty(im.shape, dtype=np.float32)
        for r in prange(im.shape[0]):
            out[r, 0] = im[r, 0]
            for c in range(1, im.shape[1]):
                out[r, c] = alpha * im[r, c] + (1.0 - alpha) * out[r, c - 1]
        return out

    @njit(parallel=True)
    def flat_field(raw, gain, offset, out):
        h, w = raw.shape
        for y in prange(h):
            for x in range(w):
                out[y, x] = raw[y, x] * gain[y, x] + offset[y, x]
        return out

    @njit
    def dither(src):
        h, w = src.shape
        out = np.empty((h, w), np.uint8)
        cur = np.zeros(w + 2, np.int32)
        nxt = np.zeros(w + 2, np.int32)
        for y in range(h):
            for x in range(w):
                v = np.int32(src[y, x]) + ((cur[x + 1] + 8) >> 4)
                o = 255 if v >= 128 else 0
                out[y, x] = o
                e = v - o
                cur[x + 2] += 7 * e
                nxt[x] += 3 * e
                nxt[x + 1] += 5 * e
                nxt[x + 2] += e
            cur, nxt = nxt, cur
            nxt[:] = 0
        return out

    return row_ema, dither, flat_field


NUMBA = numba_kernels()
# The Numba flat-field loop's f32 gain and offset maps (13 bytes per pixel in all).
FF_GAIN = np.random.default_rng(1).uniform(0.004, 0.008, (UHD[1], UHD[0])).astype(np.float32)
FF_OFFSET = np.random.default_rng(2).uniform(-0.1, 0.0, (UHD[1], UHD[0])).astype(np.float32)
FF_OUT = np.empty((UHD[1], UHD[0]), np.float32)


def set_threads(n):
    cv2.setNumThreads(n)
    if NUMBA is not None:
        import numba
        numba.set_num_threads(n)


def gamma_table(g=0.5):
    return np.array([round(255 * (v / 255) ** g) for v in range(256)], dtype=np.uint8)


# name, size, dtype, frameline op and params, OpenCV callable (img -> result)
CASES = [
    ("copy", HD, "u8", "copy", [], lambda im: np.copyto(np.empty_like(im), im)),
    ("lut gamma", HD, "u8", "lut", [], lambda im: cv2.LUT(im, gamma_table())),
    ("gaussian 3x3", UHD, "u8", "gaussian", ["ksize=3"], lambda im: cv2.GaussianBlur(im, (3, 3), 0)),
    ("gaussian 5x5", UHD, "u8", "gaussian", ["ksize=5"], lambda im: cv2.GaussianBlur(im, (5, 5), 0)),
    ("gaussian 7x7", UHD, "u8", "gaussian", ["ksize=7"], lambda im: cv2.GaussianBlur(im, (7, 7), 0)),
    ("gaussian 31x31 s5", UHD, "u8", "gaussian", ["ksize=31", "sigma=5"],
     lambda im: cv2.GaussianBlur(im, (31, 31), 5)),
    ("gaussian 101x101", UHD, "u8", "gaussian", ["ksize=101"], lambda im: cv2.GaussianBlur(im, (101, 101), 0)),
    ("gaussian f32 31x31 s5", UHD, "f32", "gaussian", ["ksize=31", "sigma=5", "dtype=f32"],
     lambda im: cv2.GaussianBlur(im, (31, 31), 5)),
    ("box 7x7", UHD, "u8", "box", ["ksize=7"], lambda im: cv2.boxFilter(im, -1, (7, 7))),
    ("integral", UHD, "u8", "integral", [], lambda im: cv2.integral(im)),
    ("local_std f32 7x7", UHD, "f32", "local_std", ["ksize=7"], lambda im: local_std(im, 7)),
    ("sauvola 25", HD, "u8", "sauvola", ["window=25"], lambda im: sauvola(im, 25)),
    ("threshold binary", UHD, "u8", "threshold", [], lambda im: cv2.threshold(im, 127, 255, cv2.THRESH_BINARY)),
    ("otsu", UHD, "u8", "otsu", [], lambda im: cv2.threshold(im, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)),
    ("otsu (camera-like scene)", UHD, "scene", "otsu", [],
     lambda im: cv2.threshold(im, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)),
    ("median 3x3", UHD, "u8", "median", ["ksize=3"], lambda im: cv2.medianBlur(im, 3)),
    ("median 5x5", UHD, "u8", "median", ["ksize=5"], lambda im: cv2.medianBlur(im, 5)),
    ("erode 3x3", UHD, "u8", "erode", ["ksize=3"], lambda im: cv2.erode(im, np.ones((3, 3), np.uint8))),
    ("erode 31x31", UHD, "u8", "erode", ["ksize=31"], lambda im: cv2.erode(im, np.ones((31, 31), np.uint8))),
    ("erode 255x255", UHD, "u8", "erode", ["ksize=255"], lambda im: cv2.erode(im, np.ones((255, 255), np.uint8))),
    ("components 8-conn (blobs)", UHD, "blobs", "components", [],
     lambda im: cv2.connectedComponentsWithStats(im, connectivity=8)),
]
if NUMBA is not None:
    CASES += [
        ("row_ema (vs Numba prange)", UHD, "f32", "row_ema", [], lambda im: NUMBA[0](im, 0.1)),
        ("dither (vs Numba)", UHD, "u8", "dither", [], lambda im: NUMBA[1](im)),
        ("flat_field f32 (vs Numba, f32 maps)", UHD, "u8", "flat_field", [],
         lambda im: NUMBA[2](im, FF_GAIN, FF_OFFSET, FF_OUT)),
    ]


def blobs(size):
    """The components bench frame: blurred noise thresholded at its mean."""
    w, h = size
    noise = np.random.default_rng(0).integers(0, 256, (h, w), dtype=np.uint8)
    smooth = cv2.blur(noise, (9, 9))
    return ((smooth > smooth.mean()) * 255).astype(np.uint8)


def scene(size):
    """A camera-like inspection frame: bright blobs on a darker background, blurred by the
    optics, with sensor noise. Bimodal, as Otsu expects, and neighbours are alike, as in
    any camera frame (uniform noise is the worst case for a histogram)."""
    w, h = size
    rng = np.random.default_rng(3)
    objects = (cv2.blur(rng.integers(0, 256, (h, w), dtype=np.uint8), (9, 9)) > 127.5)
    img = 70 + 110 * cv2.GaussianBlur(objects.astype(np.float32), (7, 7), 0)
    return np.clip(img + rng.normal(0, 6, (h, w)), 0, 255).astype(np.uint8)


def frame(size, dtype):
    w, h = size
    img = np.random.default_rng(0).integers(0, 256, (h, w), dtype=np.uint8)
    return img if dtype == "u8" else img.astype(np.float32)


def frameline_bench(a, op, size, threads, params, input_path=None):
    where = ["--input", input_path] if input_path else ["--size", f"{size[0]}x{size[1]}"]
    cmd = [a.frameline, "bench", op, *where, "--threads", str(threads),
           "--repeats", str(a.repeats), "--warmup", str(a.warmup), "--json"]
    for p in params:
        cmd += ["--param", p]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


# kornia-bench case -> frameline params (kornia's 3x3 path is its [1,2,1]/4 kernel, which
# is what frameline's ksize=3 default is; 7x7 with OpenCV's sigma for 7 taps).
KORNIA_CASES = {"gaussian 3x3": ["ksize=3"], "gaussian 7x7": ["ksize=7"]}


def summarize(recs, ref_times, ref):
    """One row from alternating rounds: the same (upper) middle round on both sides, so
    even counts are not skewed, and the range of the rounds' own ratios."""
    rec = sorted(recs, key=lambda r: r["median_ms"])[len(recs) // 2]
    ratios = sorted(c / r["median_ms"] for c, r in zip(ref_times, recs))
    rec[f"{ref}_ms"] = sorted(ref_times)[len(ref_times) // 2]
    rec["rounds"] = len(recs)
    rec["round_median_ms"] = [r["median_ms"] for r in recs]
    rec[f"round_{ref}_ms"] = ref_times
    rec["speedup_range"] = [ratios[0], ratios[-1]]
    return rec


def kornia_rows(a):
    """frameline against kornia-rs's own u8 Gaussian, both measured here in alternating
    rounds: each round runs kornia-bench (every case), then frameline on each case."""
    cases = {}
    for _ in range(a.rounds):
        out = subprocess.run([a.kornia, f"{UHD[0]}x{UHD[1]}", str(a.repeats), str(a.warmup)],
                             check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            k = json.loads(line)
            params = KORNIA_CASES.get(k["case"])
            if params is None or (a.only and a.only not in k["case"]):
                continue
            times, recs, _ = cases.setdefault((k["case"], k["threads"]),
                                              ([], [], k["max_error_vs_exact"]))
            times.append(k["median_ms"])
            recs.append(frameline_bench(a, "gaussian", UHD, k["threads"], params))
    rows = []
    for (case, _), (times, recs, error) in cases.items():
        rec = summarize(recs, times, "kornia")
        rec["kornia_max_error_vs_exact"] = error
        rec["case"] = case + " (vs kornia-rs)"
        rows.append((rec["case"], rec, rec["kornia_ms"]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frameline", default="target/release/frameline")
    ap.add_argument("--only", default=None)
    ap.add_argument("--repeats", type=int, default=20)
    # Both sides get the same warm-up. frameline starts a new process per round, whose
    # second thread on a 2-core VM takes tens of runs to reach speed (4K flat_field on
    # two threads: medians of 1.7-3.2 ms after 3 runs, 1.6-1.7 after 200), while the
    # reference's threads live on in this process.
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate frameline and the reference this many times per case")
    ap.add_argument("--kornia", default=None, help="kornia-bench binary: adds kornia-rs rows")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    cores = os.cpu_count() or 1
    os.makedirs("bench-results", exist_ok=True)
    raw = open(f"bench-results/compare-{platform.node()}.jsonl", "w")
    rows = []
    for name, size, dtype, op, params, cv in CASES:
        if a.only and a.only not in name:
            continue
        # Frames frameline does not generate itself are handed over as .npy files.
        input_path = None
        if dtype == "blobs":
            img = blobs(size)
        elif dtype == "scene":
            img = scene(size)
            input_path = f"bench-results/scene-{size[0]}x{size[1]}.npy"
            np.save(input_path, img)
        else:
            img = frame(size, dtype)
        for threads in sorted({1, cores}):
            # Rounds alternate the two sides, so a machine whose speed drifts (a shared
            # VM) slows both alike; the table gives the medians and the ratios' range.
            recs, cv_times = [], []
            for _ in range(a.rounds):
                recs.append(frameline_bench(a, op, size, threads, params, input_path))
                set_threads(threads)
                cv_times.append(bench(lambda: cv(img), a.repeats, a.warmup))
            rec = summarize(recs, cv_times, "opencv")
            rec["case"] = name
            rows.append((name, rec, rec["opencv_ms"]))
    if a.kornia:
        rows += kornia_rows(a)
    for _, rec, _ in rows:
        raw.write(json.dumps(rec) + "\n")
    cpu = rows[0][1]["cpu"] if rows else "?"
    print(f"CPU: {cpu}; OpenCV {cv2.__version__}; median of {a.repeats} after {a.warmup} "
          f"warm-up runs, "
          f"{a.rounds} alternating rounds per row (ms: median round; speed-up: of the "
          f"medians, with the range of the rounds' own ratios)\n")
    print("| case | size | dtype | threads | SIMD | frameline ms | reference ms | speed-up | rounds' ratios |")
    print("|---|---|---|---:|---|---:|---:|---:|---:|")
    for name, r, cv_ms in rows:
        lo, hi = r.get("speedup_range", [cv_ms / r["median_ms"]] * 2)
        print(f"| {name} | {r['size']} | {r['dtype']} | {r['threads']} | {r['simd']} | "
              f"{r['median_ms']:.3f} | {cv_ms:.3f} | {cv_ms / r['median_ms']:.2f}x | "
              f"{lo:.2f}-{hi:.2f}x |")


if __name__ == "__main__":
    main()
