#!/usr/bin/env bash
# Builds (and with `test`, tests under qemu) frameline for aarch64 (Raspberry Pi 4/5,
# Jetson). Uses Debian's rustc for the target and its own target directory, since the
# host's rustup toolchain and Debian's do not share build outputs.
#   scripts/cross.sh build   release binary: target/cross/aarch64-unknown-linux-gnu/release/frameline
#   scripts/cross.sh test    all tests under qemu-aarch64 (NEON really runs), benches built
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-unknown-linux-gnu
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export CARGO_TARGET_DIR="${FRAMELINE_CROSS_TARGET_DIR:-target/cross}"
export BINDGEN_EXTRA_CLANG_ARGS_aarch64_unknown_linux_gnu="--sysroot=/usr/aarch64-linux-gnu"
# Warnings are errors here too (clippy only runs on the host).
export RUSTFLAGS="${RUSTFLAGS:-} -D warnings"

case "${1:-build}" in
    build)
        cargo build --release --target "$target" --bin frameline
        echo "built $CARGO_TARGET_DIR/$target/release/frameline"
        ;;
    test)
        # Test binaries run through qemu (the runner in .cargo/config.toml); tests that
        # start the CLI binary need the runner spelled out.
        FRAMELINE_TEST_RUNNER=qemu-aarch64-static cargo test --target "$target"
        cargo bench --no-run --target "$target"
        ;;
    *)
        echo "usage: scripts/cross.sh build|test" >&2
        exit 2
        ;;
esac
