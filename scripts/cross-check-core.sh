#!/usr/bin/env bash
# Host vs aarch64 parity of the core: runs edge-core-check built for the host (normal Swift, release)
# and built in Embedded Swift mode for aarch64 (run under qemu-aarch64-static), then compares their
# outputs value by value with scripts/compare-outputs.sh.
#
# Usage: scripts/cross-check-core.sh [--tolerance 1e-5] [--cpu cortex-a72] [--out DIR]
#   --tolerance  relative tolerance per value (default 1e-5; see compare-outputs.sh for the 1e-6 floor)
#   --cpu        core the aarch64 build is tuned for (default cortex-a72; qemu emulates all of them)
#   --out        where both outputs and the aarch64 binary go (default out/cross-check)
# Environment: EDGE_HOST_SCRATCH (scratch path of the host build, default .build, the one
# `swift build -c release` uses, so CI does not build twice).
set -euo pipefail

tolerance=1e-5
cpu=cortex-a72
out=out/cross-check
while [ $# -gt 0 ]; do
    case "$1" in
        --tolerance) tolerance=${2:?--tolerance needs a value}; shift 2 ;;
        --cpu) cpu=${2:?--cpu needs a value}; shift 2 ;;
        --out) out=${2:?--out needs a value}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "cross-check-core: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v swift >/dev/null || PATH=/opt/swift/usr/bin:$PATH
command -v qemu-aarch64-static >/dev/null || {
    echo "cross-check-core: qemu-aarch64-static not found; apt-get install qemu-user-static" >&2
    exit 1
}
mkdir -p "$out"
host_scratch=${EDGE_HOST_SCRATCH:-.build}

echo "cross-check-core: host build (swift build -c release --product edge-core-check)"
swift build -c release --scratch-path "$host_scratch" --product edge-core-check
host_binary=$(swift build -c release --scratch-path "$host_scratch" --show-bin-path)/edge-core-check
"$host_binary" > "$out/host.txt"

echo "cross-check-core: aarch64 Embedded build"
scripts/embedded-build.sh --cpu "$cpu" --product edge-core-check --out "$out"
# qemu-user is slow but the check is small; a hang (DESIGN section 8) must not stall CI.
timeout 600 qemu-aarch64-static "$out/edge-core-check" > "$out/aarch64.txt"

echo "cross-check-core: notes (not compared)"
grep -h '^#' "$out/host.txt" | sed 's/^/  host:    /' || true
grep -h '^#' "$out/aarch64.txt" | sed 's/^/  aarch64: /' || true
scripts/compare-outputs.sh "$out/host.txt" "$out/aarch64.txt" "$tolerance"
