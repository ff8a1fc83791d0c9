#!/usr/bin/env bash
# Runs frameline's V4L2 capture tests against a real kernel driver: boots a throw-away
# QEMU VM with Debian's own kernel and a busybox initramfs, loads `vivid` (the kernel's
# virtual video test driver, which gives /dev/video0), and runs inside it, as children
# of /init (scripts/vm/init.sh):
#   v4l2ctl-smoke      v4l2-ctl streams 10 frames (prints V4L2CTL-PASS)
#   capture-vm         the `capture_vm` integration test binary, --ignored --nocapture
#   frameline-inspect  frameline inspect --source v4l:/dev/video0 (640x480, 30 frames)
# Each step prints VM-STEP-PASS/FAIL/SKIP; the guest prints VM-TEST-PASS only if every
# step that ran passed. Exit status 0 only on VM-TEST-PASS. Recipe, measurements and
# pitfalls: shared/recipes/v4l2-vivid-vm.md.
#
#   scripts/vm-capture-test.sh [--arch x86_64|aarch64|both] [--timeout SECONDS]
#
#   --arch       guest architecture (default x86_64); aarch64 is emulated (-M virt)
#   --timeout    limit for each boot, in seconds (default 300); each guest step gets half
# Environment:
#   FRAMELINE_VM_SKIP_RUST=1  build and run no Rust binary (tests the VM plumbing alone)
#   FRAMELINE_VM_CACHE=DIR    where downloaded .deb files and the unpacked x86 vmlinux are
#                             kept between runs (default ~/.cache/frameline-vm); keep it
#                             in CI: the two kernel packages are about 130 MB
# Work files (unpacked kernels, initramfs trees, serial logs) go to target/vm;
# the Rust builds to target/vm-build (x86_64) and target/vm-build-aarch64.
#
# Installs what it lacks with apt (root or sudo): qemu-system-x86/-arm (from
# bookworm-backports when qemu-utils/qemu-user 8+ from there is installed, adding that
# suite if needed), busybox-static, cpio, kmod, python3, v4l-utils, libclang-dev, and
# for aarch64 Rust builds the cross toolchain via scripts/setup.sh --cross. Debian 12
# only: the guest kernel is Debian's linux-image-amd64 / linux-image-arm64.
#
# Timings measured here (2 cores, TCG, no usable KVM; Rust builds not included):
#   cold (empty cache): apt installs 4-11 s, download 2 s per arch (70 + 65 MB), unpack
#   3-4 s (plus the x86 vmlinux extraction, cached); whole run about 19 s (x86_64),
#   12 s (aarch64). Warm (cache and target/vm kept): about 3.5 s per arch, of which
#   initramfs 0.4 s and boot 2.5-3 s; x86_64 boots the uncompressed vmlinux via PVH.
#   Fresh clone with the cache kept: +3 s per arch to unpack the kernel again.
#   Cold Rust builds (per the recipe): about 30 s (x86_64) and 80 s (aarch64).
# KVM is used only with kvm_intel/kvm_amd loaded and /dev/kvm writable (never "try and
# see": a nested-PVM host hangs until the timeout).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
VMDIR=$REPO/scripts/vm
W=$REPO/target/vm
CACHE=${FRAMELINE_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:?}/.cache}/frameline-vm}
DEBS=$CACHE/debs
SKIP_RUST=${FRAMELINE_VM_SKIP_RUST:-0}

ARCHES=(x86_64)
TIMEOUT=300

usage() {
    cat >&2 <<'EOF'
usage: scripts/vm-capture-test.sh [--arch x86_64|aarch64|both] [--timeout SECONDS]
  --arch     guest architecture (default x86_64)
  --timeout  limit for each boot in seconds (default 300); each guest step gets half
env: FRAMELINE_VM_SKIP_RUST=1 (no Rust build or run), FRAMELINE_VM_CACHE=DIR (.deb cache)
EOF
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --arch)
            [ $# -ge 2 ] || usage
            case "$2" in
                x86_64 | aarch64) ARCHES=("$2") ;;
                both) ARCHES=(x86_64 aarch64) ;;
                *) usage ;;
            esac
            shift 2
            ;;
        --timeout)
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
            TIMEOUT=$2
            shift 2
            ;;
        -h | --help) usage ;;
        *) usage ;;
    esac
done

log() { printf 'vm-test: %s\n' "$*"; }
die() {
    printf 'vm-test: error: %s\n' "$*" >&2
    exit 1
}
wants() { [[ " ${ARCHES[*]} " == *" $1 "* ]]; }

# Phase timings: phase_start NAME ... phase_end; summary at the end.
declare -a TIMINGS=()
PHASE="" PHASE_T0=0
now_ms() { echo $((${EPOCHREALTIME//[!0-9]/} / 1000)); }
phase_start() {
    PHASE=$1
    PHASE_T0=$(now_ms)
    printf '\n== %s (%s)\n' "$PHASE" "$(date +%T)"
}
phase_end() {
    local ms=$(($(now_ms) - PHASE_T0))
    TIMINGS+=("$(printf '%-24s %4d.%01d s' "$PHASE" $((ms / 1000)) $((ms % 1000 / 100)))")
}
print_timings() {
    echo
    echo "== timings"
    printf '  %s\n' "${TIMINGS[@]}"
}

# busybox and v4l2-ctl with its libraries, for the aarch64 guest.
ARM64_USERLAND=(busybox-static v4l-utils libv4l-0 libv4lconvert0 libjpeg62-turbo libstdc++6 libgcc-s1 libc6)
deb_arch() { case "$1" in x86_64) echo amd64 ;; aarch64) echo arm64 ;; esac; }

# ---------------------------------------------------------------- host packages
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
APT_UPDATED=0
apt_update() {
    [ "$APT_UPDATED" = 1 ] && return 0
    log "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
}
# apt_install [-t SUITE] PKG...: apt's own output goes to $W/apt.log (its tail on failure).
apt_install() {
    local aptlog=$W/apt.log
    log "installing: $* (log: ${aptlog#"$REPO"/})"
    if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@" \
        >"$aptlog" 2>&1; then
        tail -n 30 "$aptlog" >&2
        die "apt-get install $* failed"
    fi
    tr -d '\r' <"$aptlog" | sed -n 's/^Setting up \([^ ]*\) (\(.*\)) \.\.\.$/  installed \1 \2/p'
}
installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }

# qemu-utils/qemu-user 8+ from bookworm-backports (this machine kind ships 10.0) break
# the bookworm qemu-system 7.2 packages, so qemu-system must come from backports too.
qemu_from_backports() {
    dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' 'qemu-*' 2>/dev/null |
        awk '$1 == "ii" && $2 ~ /bpo/ { found = 1 } END { exit !found }'
}
ensure_backports_source() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && grep -qE '^[^#]*bookworm-backports' "$f" && return 0
    done
    # The same mirror as the existing Debian entry, with the suite replaced.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        log "adding bookworm-backports (from debian.sources) as /etc/apt/sources.list.d/backports.sources"
        sed 's/^Suites: .*/Suites: bookworm-backports/' /etc/apt/sources.list.d/debian.sources |
            awk 'BEGIN { RS = ""; ORS = "\n\n" } NR == 1' |
            $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
    elif [ -f /etc/apt/sources.list ] && grep -qE '^deb .* bookworm ' /etc/apt/sources.list; then
        log "adding bookworm-backports (from sources.list) as /etc/apt/sources.list.d/backports.list"
        awk '$1 == "deb" && $3 == "bookworm" { $3 = "bookworm-backports"; print; exit }' \
            /etc/apt/sources.list | $SUDO tee /etc/apt/sources.list.d/backports.list >/dev/null
    else
        die "qemu-system must come from bookworm-backports, but no Debian apt source to copy was found"
    fi
    APT_UPDATED=0
}

install_host_packages() {
    local qemu=() other=()
    wants x86_64 && ! command -v qemu-system-x86_64 >/dev/null && qemu+=(qemu-system-x86)
    wants aarch64 && ! command -v qemu-system-aarch64 >/dev/null && qemu+=(qemu-system-arm)
    installed busybox-static || other+=(busybox-static)
    command -v cpio >/dev/null || other+=(cpio)
    command -v depmod >/dev/null || [ -x /sbin/depmod ] || other+=(kmod)
    command -v python3 >/dev/null || other+=(python3)
    command -v v4l2-ctl >/dev/null || other+=(v4l-utils)
    [ "$SKIP_RUST" = 1 ] || installed libclang-dev || other+=(libclang-dev)
    if [ ${#qemu[@]} -eq 0 ] && [ ${#other[@]} -eq 0 ]; then
        log "host packages: all present"
    else
        if [ ${#qemu[@]} -gt 0 ] && qemu_from_backports; then
            ensure_backports_source
            apt_update
            log "qemu-system from bookworm-backports (qemu 8+ from there is installed)"
            apt_install -t bookworm-backports "${qemu[@]}"
        elif [ ${#qemu[@]} -gt 0 ]; then
            other+=("${qemu[@]}")
        fi
        if [ ${#other[@]} -gt 0 ]; then
            apt_update
            apt_install "${other[@]}"
        fi
    fi
    # The aarch64 Rust build needs Debian's rustc-web, its arm64 std and the cross gcc.
    if wants aarch64 && [ "$SKIP_RUST" != 1 ]; then
        if ! command -v aarch64-linux-gnu-gcc >/dev/null || [ ! -x /usr/bin/rustc ] ||
            [ ! -d /usr/lib/rustlib/aarch64-unknown-linux-gnu/lib ]; then
            log "aarch64 cross toolchain missing: running scripts/setup.sh --cross"
            scripts/setup.sh --cross
        fi
    fi
    log "qemu: $(for a in "${ARCHES[@]}"; do "qemu-system-$a" --version | head -1; done | paste -sd';')"
}

# ---------------------------------------------------------------- downloads (cached)
# cached_deb NAME ARCH: path of the newest cached NAME_*_ARCH.deb, or nothing.
cached_deb() {
    local f
    f=$(find "$DEBS" -maxdepth 1 -name "${1}_*_${2}.deb" 2>/dev/null | sort -V | tail -1)
    [ -n "$f" ] && echo "$f"
}
# fetch_debs ARCH PKG...: downloads every PKG (for ARCH) that is not in the cache yet.
fetch_debs() {
    local arch=$1 p missing=()
    shift
    for p in "$@"; do
        cached_deb "$p" "$arch" >/dev/null || missing+=("$p:$arch")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$arch" != "$(dpkg --print-architecture)" ] &&
        ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
        log "dpkg --add-architecture $arch"
        $SUDO dpkg --add-architecture "$arch"
        APT_UPDATED=0
    fi
    apt_update
    log "downloading: ${missing[*]}"
    # Into a fresh folder first, so an interrupted download never looks cached. (As root,
    # apt warns that the download is "unsandboxed" because _apt cannot write there.)
    local tmp
    tmp=$(mktemp -d "$DEBS/.partial.XXXXXX")
    (cd "$tmp" && apt-get download -q "${missing[@]}" 2>&1 | grep -v 'unsandboxed') || true
    mv "$tmp"/*.deb "$DEBS"/ 2>/dev/null || true
    rm -rf "$tmp"
    for p in "$@"; do
        cached_deb "$p" "$arch" >/dev/null || die "download of $p:$arch failed"
    done
}
# resolve_kernel_pkg ARCH: sets KPKG to the linux-image-<abi>-<flavour> package, the
# cached one if there is one, else what linux-image-<arch> depends on now.
resolve_kernel_pkg() {
    local da f
    da=$(deb_arch "$1")
    f=$(find "$DEBS" -maxdepth 1 -name "linux-image-[0-9]*-${da}_*_${da}.deb" 2>/dev/null | sort -V | tail -1)
    if [ -n "$f" ]; then
        KPKG=$(basename "$f" | cut -d_ -f1)
        return 0
    fi
    apt_update
    KPKG=$(apt-cache depends "linux-image-$da:$da" |
        awk -v a=":$da" '/Depends: linux-image-/ { sub(a "$", "", $2); print $2; exit }')
    [ -n "$KPKG" ] || die "no linux-image-$da package found with apt-cache depends"
}

download() {
    local arch=$1 da
    da=$(deb_arch "$arch")
    mkdir -p "$DEBS"
    if [ "$arch" = aarch64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
        log "dpkg --add-architecture arm64"
        $SUDO dpkg --add-architecture arm64
        APT_UPDATED=0
    fi
    resolve_kernel_pkg "$arch"
    log "kernel package: $KPKG ($da)"
    fetch_debs "$da" "$KPKG"
    # x86_64 takes busybox and v4l2-ctl from the host; aarch64 needs arm64 builds.
    if [ "$arch" = aarch64 ]; then
        fetch_debs arm64 "${ARM64_USERLAND[@]}"
    fi
    log "cache $DEBS: $(du -sh "$DEBS" | cut -f1)"
}

# ---------------------------------------------------------------- unpack (in $W)
# unpack_debs DIR DEB...: dpkg -x every DEB into DIR, unless DIR already holds exactly these.
unpack_debs() {
    local dir=$1 stamp d
    shift
    stamp=$(for d in "$@"; do basename "$d"; done)
    [ -f "$dir/.debs" ] && [ "$(cat "$dir/.debs")" = "$stamp" ] && return 0
    log "unpacking into ${dir#"$REPO"/}: $(echo "$stamp" | paste -sd' ')"
    rm -rf "$dir"
    mkdir -p "$dir"
    for d in "$@"; do dpkg -x "$d" "$dir"; done
    echo "$stamp" >"$dir/.debs"
}

# Sets KDIR, KVER, KERNEL (the image QEMU boots) and MODULES (load order, relative to
# KDIR/lib/modules/KVER) for ARCH.
unpack() {
    local arch=$1 da kdeb depmod_bin line
    da=$(deb_arch "$arch")
    kdeb=$(cached_deb "$KPKG" "$da")
    KDIR=$W/kernel-$arch
    unpack_debs "$KDIR" "$kdeb"
    KVER=$(ls "$KDIR/lib/modules")
    [ "$(echo "$KVER" | wc -l)" = 1 ] || die "expected one kernel in $KDIR/lib/modules"
    # Debian's kernel package has no modules.dep.
    if [ ! -s "$KDIR/lib/modules/$KVER/modules.dep" ]; then
        depmod_bin=$(command -v depmod || echo /sbin/depmod)
        "$depmod_bin" -b "$KDIR" "$KVER"
    fi
    # vivid and its dependencies; modprobe loads the listed dependencies in reverse order.
    line=$(grep '/vivid\.ko[^:]*:' "$KDIR/lib/modules/$KVER/modules.dep") ||
        die "vivid is not in $KVER's modules.dep"
    # shellcheck disable=SC2206 # the line is a space-separated list of paths
    local deps=(${line#*:}) i
    MODULES=()
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do MODULES+=("${deps[i]}"); done
    MODULES+=("${line%%:*}")
    if [[ ${MODULES[0]} == *.xz ]]; then
        die "compressed modules (.ko.xz) are not handled yet; see shared/recipes/v4l2-vivid-vm.md"
    fi

    if [ "$arch" = x86_64 ]; then
        # PVH boot of the uncompressed ELF: no SeaBIOS, no in-guest xz (TCG is slow at both).
        KERNEL=$CACHE/vmlinux-$KVER
        if [ ! -s "$KERNEL" ]; then
            log "extracting vmlinux from vmlinuz-$KVER (cached as $KERNEL)"
            python3 "$VMDIR/extract-vmlinux.py" "$KDIR/boot/vmlinuz-$KVER" "$KERNEL.tmp"
            mv "$KERNEL.tmp" "$KERNEL"
        fi
    else
        KERNEL=$KDIR/boot/vmlinuz-$KVER # gzip'd Image: QEMU unpacks it on the host
        local debs=() p
        for p in "${ARM64_USERLAND[@]}"; do
            debs+=("$(cached_deb "$p" arm64)")
        done
        unpack_debs "$W/userland-aarch64" "${debs[@]}"
    fi
    log "kernel $KVER, ${#MODULES[@]} modules: $(printf '%s\n' "${MODULES[@]##*/}" | paste -sd' ')"
}

# ---------------------------------------------------------------- Rust binaries
# Sets FRAMELINE_BIN and CAPTURE_BIN (empty when not built) and SKIP_REASON_* for ARCH.
build_rust() {
    local arch=$1 triple tdir json
    FRAMELINE_BIN="" CAPTURE_BIN=""
    SKIP_REASON_CAPTURE="" SKIP_REASON_INSPECT=""
    if [ "$SKIP_RUST" = 1 ]; then
        SKIP_REASON_CAPTURE="FRAMELINE_VM_SKIP_RUST=1"
        SKIP_REASON_INSPECT="FRAMELINE_VM_SKIP_RUST=1"
        log "FRAMELINE_VM_SKIP_RUST=1: no Rust build; capture-vm and frameline-inspect are skipped"
        return 0
    fi
    triple=$arch-unknown-linux-gnu
    local env=(RUSTFLAGS='-C target-feature=+crt-static')
    if [ "$arch" = x86_64 ]; then
        tdir=target/vm-build
    else
        tdir=target/vm-build-aarch64
        grep -q '^\[target\.aarch64-unknown-linux-gnu\]' .cargo/config.toml ||
            die ".cargo/config.toml has no [target.aarch64-unknown-linux-gnu] linker"
        env+=(RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
            BINDGEN_EXTRA_CLANG_ARGS_aarch64_unknown_linux_gnu=--sysroot=/usr/aarch64-linux-gnu)
    fi
    log "cargo build (${env[*]}) --target $triple --target-dir $tdir --bin frameline"
    env "${env[@]}" cargo build --release --locked --target "$triple" --target-dir "$tdir" --bin frameline
    FRAMELINE_BIN=$tdir/$triple/release/frameline
    [ -x "$FRAMELINE_BIN" ] || die "cargo did not produce $FRAMELINE_BIN"

    if [ ! -f tests/capture_vm.rs ]; then
        SKIP_REASON_CAPTURE="tests/capture_vm.rs does not exist yet"
        log "capture-vm skipped: $SKIP_REASON_CAPTURE"
        return 0
    fi
    json=$W/cargo-test-$arch.json
    log "cargo test --no-run --test capture_vm --target $triple --target-dir $tdir"
    # json-render-diagnostics: artifacts as JSON on stdout, compiler errors readable on stderr.
    env "${env[@]}" cargo test --release --locked --target "$triple" --target-dir "$tdir" \
        --test capture_vm --no-run --message-format=json-render-diagnostics >"$json"
    CAPTURE_BIN=$(python3 "$VMDIR/cargo-executable.py" capture_vm <"$json")
    log "capture_vm test binary: ${CAPTURE_BIN#"$REPO"/}"
}

# ---------------------------------------------------------------- initramfs
# copy_into ROOT FILE [DEST]: cp -L FILE to ROOT/DEST (default: the same path).
copy_into() {
    local dest=$1${3:-$2}
    mkdir -p "$(dirname "$dest")"
    cp -L "$2" "$dest"
}

build_initramfs() {
    local arch=$1 m f lib
    local root=$W/root-$arch
    INITRD=$W/initrd-$arch.gz
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc/vm-skip,lib/modules}

    # busybox (static): applet links are made by /init with `busybox --install -s`.
    if [ "$arch" = x86_64 ]; then
        cp /bin/busybox "$root/bin/busybox"
    else
        cp "$W/userland-aarch64/bin/busybox" "$root/bin/busybox"
    fi
    ln -s busybox "$root/bin/sh"

    # vivid and its dependencies, and their load order for /init.
    for m in "${MODULES[@]}"; do
        cp "$KDIR/lib/modules/$KVER/$m" "$root/lib/modules/"
        basename "$m"
    done >"$root/etc/vm-modules"

    # v4l2-ctl (dynamically linked) with its libraries at their usual paths.
    if [ "$arch" = x86_64 ]; then
        copy_into "$root" "$(command -v v4l2-ctl)" /usr/bin/v4l2-ctl
        for lib in $(ldd "$(command -v v4l2-ctl)" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
            copy_into "$root" "$lib"
        done
    else
        local u=$W/userland-aarch64
        copy_into "$root" "$u/usr/bin/v4l2-ctl" /usr/bin/v4l2-ctl
        for lib in libv4l2.so.0 libv4lconvert.so.0 libjpeg.so.62 libstdc++.so.6 libm.so.6 \
            libgcc_s.so.1 libc.so.6 ld-linux-aarch64.so.1; do
            f=$(find "$u" -name "$lib" | head -1)
            [ -n "$f" ] || die "$lib not found in the arm64 packages"
            copy_into "$root" "$f" "/lib/aarch64-linux-gnu/$lib"
        done
        ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$root/lib/ld-linux-aarch64.so.1"
    fi
    cp "$VMDIR/v4l2ctl-smoke.sh" "$root/bin/v4l2ctl-smoke"

    # Rust binaries, or why their steps are skipped.
    [ -n "$FRAMELINE_BIN" ] && cp "$FRAMELINE_BIN" "$root/usr/bin/frameline"
    [ -n "$CAPTURE_BIN" ] && cp "$CAPTURE_BIN" "$root/usr/bin/capture-vm"
    [ -n "$SKIP_REASON_CAPTURE" ] && echo "$SKIP_REASON_CAPTURE" >"$root/etc/vm-skip/capture-vm"
    [ -n "$SKIP_REASON_INSPECT" ] && echo "$SKIP_REASON_INSPECT" >"$root/etc/vm-skip/frameline-inspect"

    echo $((TIMEOUT / 2)) >"$root/etc/vm-step-timeout"
    cp "$VMDIR/init.sh" "$root/init"
    chmod 0755 "$root/init" "$root/bin/v4l2ctl-smoke"

    (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -6 >"$INITRD")
    log "initramfs ${INITRD#"$REPO"/}: $(du -sh "$root" | cut -f1) unpacked, $(du -h "$INITRD" | cut -f1) packed"
}

# ---------------------------------------------------------------- boot and verdict
boot() {
    local arch=$1 rc=0 qemu
    local serial=$W/serial-$arch.log
    if [ "$arch" = x86_64 ]; then
        # KVM only on a real hardware-virtualization host (see the header).
        if { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && [ -w /dev/kvm ]; then
            qemu=(qemu-system-x86_64 -enable-kvm -cpu host)
        else
            qemu=(qemu-system-x86_64 -accel tcg)
        fi
        qemu+=(-m 512 -append 'console=ttyS0 quiet panic=-1')
    else
        qemu=(qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg -m 1024
            -append 'console=ttyAMA0 quiet panic=-1')
    fi
    # -nic none: no network, and no NIC option ROM to look for.
    qemu+=(-smp 2 -nic none -nographic -monitor none -no-reboot -kernel "$KERNEL" -initrd "$INITRD")
    log "${qemu[*]} (timeout ${TIMEOUT}s, serial log ${serial#"$REPO"/})"
    timeout "$TIMEOUT" "${qemu[@]}" </dev/null >"$serial" 2>&1 || rc=$?
    [ "$rc" = 124 ] && log "boot timed out after ${TIMEOUT}s"
    [ "$rc" = 0 ] || [ "$rc" = 124 ] || log "qemu exited with status $rc"

    local text
    text=$(tr -d '\r\000' <"$serial")
    if grep -q 'VM-INIT' <<<"$text"; then
        # The guest's part, without SeaBIOS's escape codes before it.
        echo "--- guest output (${serial#"$REPO"/})"
        sed -n '/VM-INIT/,$p' <<<"$text"
    else
        echo "--- no VM-INIT: last 60 lines of ${serial#"$REPO"/}"
        tail -n 60 <<<"$text" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g'
    fi
    echo "---"
    local passed skipped verdict
    passed=$(grep -c '^VM-STEP-PASS' <<<"$text" || true)
    skipped=$(grep -c '^VM-STEP-SKIP' <<<"$text" || true)
    if grep -q '^VM-TEST-PASS' <<<"$text"; then
        RESULTS+=("$arch: PASS ($passed steps passed, $skipped skipped)")
        return 0
    fi
    verdict=$(grep '^VM-STEP-FAIL\|^VM-TEST-FAIL' <<<"$text" | paste -sd';' || true)
    RESULTS+=("$arch: FAIL (${verdict:-no verdict from the guest})")
    return 1
}

main() {
    local arch failed=0
    RESULTS=()
    mkdir -p "$W" "$CACHE"

    phase_start "install host packages"
    install_host_packages
    phase_end

    for arch in "${ARCHES[@]}"; do
        phase_start "$arch: download"
        download "$arch"
        phase_end
        phase_start "$arch: unpack"
        unpack "$arch"
        phase_end
        phase_start "$arch: build Rust"
        build_rust "$arch"
        phase_end
        phase_start "$arch: build initramfs"
        build_initramfs "$arch"
        phase_end
        phase_start "$arch: boot"
        boot "$arch" || failed=1
        phase_end
    done

    print_timings
    echo
    printf 'vm-test: %s\n' "${RESULTS[@]}"
    return $failed
}

main
