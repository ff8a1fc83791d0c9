#!/usr/bin/env bash
# The README's main command: builds frameline in release mode and runs the main job on
# its embedded default input. Today that is the performance ladder on a synthetic
# 1920x1080 frame (no camera or files needed). Extra arguments go to `frameline ladder`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo run --release --locked -- ladder "$@"
