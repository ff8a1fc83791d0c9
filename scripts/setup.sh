#!/usr/bin/env bash
# Installs what frameline needs on a fresh Debian/Ubuntu machine with rustup.
#   scripts/setup.sh          host build only (rustfmt, clippy)
#   scripts/setup.sh --cross  plus the aarch64 cross toolchain and qemu (for tests)
# Idempotent: only missing pieces are installed. apt needs root (or sudo).
set -euo pipefail

cross=0
[ "${1:-}" = "--cross" ] && cross=1

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust with rustup first (https://rustup.rs)" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
apt_install() {
    echo "setup: installing $*"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
}

# rustup does not bring a C linker.
command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
# The `v4l` crate generates its V4L2 bindings with bindgen, which needs libclang.
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || apt_install libclang-dev

for comp in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$comp"; then
        rustup component add "$comp"
    fi
done

[ "$cross" = 1 ] || exit 0

# The aarch64 standard library comes from Debian 12's rustc-web packages (rustup cannot
# download targets here); see README "Cross-compiling". On Ubuntu, arm64 packages come
# from ports.ubuntu.com and need their own apt source.
missing=()
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
dpkg -s rustc-web >/dev/null 2>&1 || missing+=(rustc-web)
[ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu/lib ] || missing+=(libstd-rust-web-dev:arm64)

if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    $sudo dpkg --add-architecture arm64
    apt_install "${missing[@]}" libc6:arm64
fi
echo "setup: aarch64 toolchain ready ($(/usr/bin/rustc --version), $(qemu-aarch64-static --version | head -1))"
