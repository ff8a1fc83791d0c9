#!/usr/bin/env bash
# Measures frameline against OpenCV on this machine, in one run (the README's numbers
# come from here): sets up a venv with opencv-python-headless, numpy and numba from PyPI in
# ~/.cache/frameline-venv, builds the release binary and the kornia-rs harness
# (scripts/kornia-bench), runs scripts/compare.py.
#   scripts/compare.sh [--only NAME] [--repeats N]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${FRAMELINE_VENV:-$HOME/.cache/frameline-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import cv2, numpy, numba" 2>/dev/null ||
    "$venv/bin/pip" install -q opencv-python-headless numpy numba
cargo build --release --locked --quiet
# kornia-rs's u8 Gaussian, measured here too (the issue's bar for 3x3 and 7x7); its
# crates come from the registry, the build lives outside the clone.
kornia_target="${FRAMELINE_KORNIA_TARGET_DIR:-$HOME/.cache/frameline-kornia-bench}"
CARGO_TARGET_DIR="$kornia_target" cargo build --release --locked --quiet \
    --manifest-path scripts/kornia-bench/Cargo.toml
exec "$venv/bin/python" scripts/compare.py --kornia "$kornia_target/release/kornia-bench" "$@"
