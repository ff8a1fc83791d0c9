#!/usr/bin/env python3
"""Writes tests/data/threshold_levels.json: histograms of varied images with the levels
OpenCV picks for them (THRESH_OTSU, THRESH_TRIANGLE). Run from the repository root with
the venv of scripts/compare.sh: ~/.cache/frameline-venv/bin/python scripts/threshold_vectors.py
"""
import cv2, numpy as np, json, time
rng = np.random.default_rng(42)
cases = []
def add(name, img):
    o, _ = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    t, _ = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_TRIANGLE)
    hist = np.bincount(img.ravel(), minlength=256).tolist()
    cases.append({"name": name, "hist": hist, "otsu": int(o), "triangle": int(t)})
add("uniform", rng.integers(0, 256, (100, 100), dtype=np.uint8))
for k in range(12):
    # bimodal mixtures with varied weights, means, spreads
    n = 5000
    w = rng.uniform(0.05, 0.95)
    m1, m2 = sorted(rng.uniform(10, 245, 2))
    s1, s2 = rng.uniform(2, 40, 2)
    a = rng.normal(m1, s1, int(n * w)); b = rng.normal(m2, s2, n - int(n * w))
    img = np.clip(np.concatenate([a, b]), 0, 255).astype(np.uint8).reshape(50, 100)
    add(f"bimodal{k}", img)
for k in range(6):
    # skewed single peaks (triangle method's use case), both sides
    x = np.clip(rng.exponential(rng.uniform(5, 40), 5000), 0, 255)
    if k % 2: x = 255 - x
    add(f"skewed{k}", x.astype(np.uint8).reshape(50, 100))
add("two values", np.array([[10, 10, 200, 200]], dtype=np.uint8))
add("constant", np.full((4, 4), 77, dtype=np.uint8))
# Mostly 1s with a few 0s: OpenCV's triangle level is -1 here.
edge = np.ones((20, 20), dtype=np.uint8)
edge[0, :3] = 0
add("triangle -1", edge)
json.dump({"opencv": cv2.__version__, "cases": cases}, open("tests/data/threshold_levels.json", "w"))
print(len(cases), "cases")

