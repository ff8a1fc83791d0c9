#!/usr/bin/env bash
# The README's main command: builds frameline in release mode and runs the live
# inspection pipeline on its embedded default camera, the synthetic one (4K, 30 fps,
# uneven illumination, injected defects with ground truth; no camera or files needed).
# It stops by itself after 5 seconds and prints the stage table and how many of the
# injected defects were found. Extra arguments go to `frameline inspect`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo run --release --locked -- inspect --source synthetic --size 3840x2160 --fps 30 --seconds 5 "$@"
