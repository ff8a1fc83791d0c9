#!/usr/bin/env bash
# The one test command (README, and .ci/run): installs what is missing, then
# formatting, clippy, host tests at every SIMD level this CPU has, aarch64 tests under
# qemu (NEON), V4L2 capture against vivid in VMs (x86_64 and aarch64), and a build of
# the criterion benches.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "setup"
scripts/setup.sh --cross

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --all-targets --locked -- -D warnings

step "host tests"
cargo test --locked
# Run the suite again with the dispatch forced to each lower level, so the code path
# through FRAMELINE_SIMD is exercised too (SIMD-vs-scalar tests cover every level anyway).
# `--profile test` reuses the test build instead of compiling a second (dev) profile.
levels=$(cargo run --profile test --quiet --locked -- info | sed -n 's/^simd levels: *//p' | tr -d ',')
for level in $levels; do
    step "host tests with FRAMELINE_SIMD=$level"
    FRAMELINE_SIMD=$level cargo test --locked --quiet
done

step "aarch64 tests under qemu"
scripts/cross.sh test

# V4L2 capture against the kernel's own virtual camera (vivid), in throw-away VMs of
# both architectures (tests/capture_vm.rs plus `frameline inspect` on /dev/video0).
step "V4L2 capture in vivid VMs"
scripts/vm-capture-test.sh --arch both

step "bench build"
cargo bench --no-run --locked

step "done"
