#!/usr/bin/env bash
# Measures frameline against OpenCV/NumPy on this machine, in one run, and prints a
# Markdown table (the README's numbers come from here). Every frameline line records
# size, dtype, threads and SIMD level; raw JSON lines go to bench-results/.
#   scripts/compare.sh [WIDTHxHEIGHT]
# Needs Python 3 with venv; installs opencv-python-headless and numpy into
# ~/.cache/frameline-venv (from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1920x1080}"
venv="${FRAMELINE_VENV:-$HOME/.cache/frameline-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import cv2, numpy" 2>/dev/null ||
    "$venv/bin/pip" install -q opencv-python-headless numpy

cargo build --release --locked --quiet
fl=target/release/frameline
mkdir -p bench-results
out="bench-results/$(hostname)-$size.jsonl"
: > "$out"
cores=$(nproc)
levels=$($fl info | sed -n 's/^simd levels: *//p' | tr -d ',')
{
    $fl bench copy --size "$size" --threads 1 --repeats 100 --json
    $fl bench copy --size "$size" --threads "$cores" --repeats 100 --json
    for level in $levels; do
        $fl bench lut --size "$size" --threads 1 --simd "$level" --repeats 100 --json
    done
    $fl bench lut --size "$size" --threads "$cores" --repeats 100 --json
    $fl bench gamma_naive --size "$size" --threads 1 --repeats 7 --json
    $fl bench gamma_row --size "$size" --threads 1 --repeats 7 --json
    "$venv/bin/python" scripts/reference_bench.py --size "$size" --repeats 100
} >> "$out"

"$venv/bin/python" - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cpu = next((r["cpu"] for r in rows if "cpu" in r), "?")
print(f"CPU: {cpu}; frame {rows[0]['size']} u8; median of repeats after warm-up\n")
print("| op | implementation | threads | SIMD | median ms | GB/s (read+write) |")
print("|---|---|---:|---|---:|---:|")
for r in rows:
    impl = r.get("library", "frameline")
    print(f"| {r['op']} | {impl} | {r['threads']} | {r.get('simd', '-')} | "
          f"{r['median_ms']:.3f} | {r['gb_per_s']:.1f} |")
PY
echo
echo "raw records: $out"
