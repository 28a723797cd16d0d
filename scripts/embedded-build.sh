#!/usr/bin/env bash
# Builds every Embedded-safe target of the package in Embedded Swift mode for aarch64 and links one
# executable target into a Linux aarch64 program (DESIGN.md sections 2 and 8).
#
# This is the proof of the Embedded-safe rule: a module that does not compile in Embedded mode makes the
# script exit non-zero, naming the module and showing the compiler's errors.
#
# Route: SwiftPM with `--triple aarch64-none-none-elf --toolset boards/toolset-aarch64.json`, one target at
# a time, so the build uses exactly the settings Package.swift declares (including its EDGE_TARGET_CPU
# tuning) and each failure is attributed to one module. SwiftPM cannot link for this triple, so the
# objects of the library targets go into one static archive per module and the cross gcc links the
# chosen executable's objects against them (an archive member is only pulled in when it is needed).
#
# Usage: scripts/embedded-build.sh [--cpu CPU] [--product NAME] [--out DIR] [--dynamic]
#   --cpu CPU       core to tune for: cortex-a72 (Pi 4, default; its code also runs on A53 boards),
#                   cortex-a76 (Pi 5), cortex-a53 (Pi 3 / Zero 2 W), or generic
#   --product NAME  executable to link: a target name (EdgeCoreCheck, the default; EdgeCtlBoard) or its
#                   product name (edge-core-check)
#   --out DIR       where the binary goes (default: out/aarch64)
#   --dynamic       link against the board's shared glibc instead of -static-pie. Use it for the real
#                   board; Debian 12's qemu-user hangs in pthread_create for dynamic aarch64 programs.
# Environment: EDGE_EMBEDDED_SCRATCH (SwiftPM scratch path, default .build-embedded), EDGE_JOBS (default 2).
set -euo pipefail

cpu=cortex-a72
product=EdgeCoreCheck
out=out/aarch64
link_mode=static-pie
while [ $# -gt 0 ]; do
    case "$1" in
        --cpu) cpu=${2:?--cpu needs a value}; shift 2 ;;
        --product) product=${2:?--product needs a value}; shift 2 ;;
        --out) out=${2:?--out needs a value}; shift 2 ;;
        --dynamic) link_mode=dynamic; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "embedded-build: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

# The Embedded-safe targets in dependency order (DESIGN section 2). Executables are linked, never archived.
embedded_libraries=(CEdgeSys EdgeCore EdgeLearning EdgeIO FirmwareSim EdgeRuntime)
embedded_executables=(EdgeCoreCheck EdgeCtlBoard)
host_only=(edge-ctl CEdgeAllocCounter)  # may use Foundation and packages; not built here

package_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$package_root"
command -v swift >/dev/null || PATH=/opt/swift/usr/bin:$PATH
for tool in swift aarch64-linux-gnu-gcc aarch64-linux-gnu-ar aarch64-linux-gnu-nm aarch64-linux-gnu-strip; do
    command -v "$tool" >/dev/null || {
        echo "embedded-build: '$tool' not found; install Swift at /opt/swift and" \
             "'apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross'" >&2
        exit 1
    }
done
[ -d /usr/aarch64-linux-gnu/include ] || {
    echo "embedded-build: /usr/aarch64-linux-gnu/include missing; apt-get install libc6-dev-arm64-cross" >&2
    exit 1
}
toolchain=$(cd "$(dirname "$(readlink -f "$(command -v swiftc)")")/.." && pwd)
unicode_tables=$toolchain/lib/swift/embedded/aarch64-none-none-elf/libswiftUnicodeDataTables.a
[ -f "$unicode_tables" ] || { echo "embedded-build: $unicode_tables missing: this Swift has no Embedded aarch64 stdlib" >&2; exit 1; }

declared() { grep -Eq "\.(target|executableTarget)\(name: *\"$1\"" Package.swift; }

# A new target must be placed on one side of the rule, or it would silently go unchecked.
for target in $(sed -n 's/.*\.\(target\|executableTarget\)(name: *"\([^"]*\)".*/\2/p' Package.swift); do
    printf '%s\n' "${embedded_libraries[@]}" "${embedded_executables[@]}" "${host_only[@]}" | grep -qx "$target" ||
        echo "embedded-build: warning: target '$target' is not checked in Embedded mode; add it to" \
             "embedded_libraries (or host_only) in scripts/embedded-build.sh" >&2
done

# --product accepts an executable target or the product that wraps it.
if ! printf '%s\n' "${embedded_executables[@]}" | grep -qx "$product"; then
    target=$(sed -n "s/.*\.executable(name: *\"$product\", *targets: *\[\"\([^\"]*\)\"\].*/\1/p" Package.swift)
    if [ -z "$target" ] || ! printf '%s\n' "${embedded_executables[@]}" | grep -qx "$target"; then
        echo "embedded-build: '$product' is neither an Embedded executable target (${embedded_executables[*]})" \
             "nor the product of one" >&2
        exit 2
    fi
    product=$target
fi
declared "$product" || { echo "embedded-build: target '$product' is not declared in Package.swift yet" >&2; exit 2; }
binary_name=$(sed -n "s/.*\.executable(name: *\"\([^\"]*\)\", *targets: *\[\"$product\"\].*/\1/p" Package.swift)
binary_name=${binary_name:-$product}

scratch=${EDGE_EMBEDDED_SCRATCH:-.build-embedded}
logs=$scratch/logs
mkdir -p "$logs" "$out"
# Package.swift reads EDGE_TARGET_CPU to pass -mcpu (without it, an x86 host would tune for itself).
export EDGE_TARGET_CPU=$cpu
swift_build=(swift build --triple aarch64-none-none-elf --toolset "$package_root/boards/toolset-aarch64.json"
             -c release --scratch-path "$scratch" -j "${EDGE_JOBS:-2}")

echo "embedded-build: Embedded Swift, aarch64, -mcpu=$cpu (toolchain $toolchain)"
failed=()
seen_errors=$logs/errors-seen.txt
: > "$seen_errors"
started=$SECONDS
for target in "${embedded_libraries[@]}" "${embedded_executables[@]}"; do
    if ! declared "$target"; then
        echo "  $target: not in Package.swift yet, skipped"
        continue
    fi
    log=$logs/$target.log
    if "${swift_build[@]}" --target "$target" >"$log" 2>&1; then
        echo "  $target: ok"
        continue
    fi
    failed+=("$target")
    # A target whose only errors were already shown is blocked by a failed dependency.
    grep -E '(^|: )error:' "$log" | sort -u > "$log.errors" || true
    if [ -s "$log.errors" ] && ! comm -23 "$log.errors" <(sort -u "$seen_errors") | grep -q .; then
        echo "  $target: FAILED (not checked: a dependency failed, see above)"
        continue
    fi
    echo "  $target: FAILED in Embedded mode; compiler output ($log):"
    grep -v -E '^\[[0-9]+/[0-9]+\] |^Building for |^warning: .*Source files for target' "$log" | sed 's/^/    | /'
    cat "$log.errors" >> "$seen_errors"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "embedded-build: FAILED: ${failed[*]} did not compile in Embedded Swift mode for aarch64" >&2
    exit 1
fi
echo "embedded-build: all Embedded-safe targets compiled ($((SECONDS - started)) s)"

# Link: the executable's own objects plus one archive per library module. Only the objects of current
# sources are used: a deleted or renamed file leaves its old object in the build folder.
release_dir=$scratch/aarch64-none-none-elf/release
target_objects() {
    local dir=$release_dir/$1.build source dep
    if [ -f "$dir/sources" ]; then  # Swift: one object per source file, named after it
        while IFS= read -r source; do
            echo "$dir/$(basename "$source").o"
        done < "$dir/sources"
    else                            # C: keep an object while the source its .d file names first exists
        while IFS= read -r dep; do
            source=$(sed -n '1s/^[^:]*: *\([^ \\]*\).*/\1/p' "$dep")
            if [ -f "$source" ]; then echo "${dep%.d}.o"; fi
        done < <(find "$dir" -name '*.d')
    fi
}
collect_objects() {
    local -n into=$2
    mapfile -t into < <(target_objects "$1")
    local object
    for object in "${into[@]}"; do
        [ -f "$object" ] || { echo "embedded-build: $object missing after building $1" >&2; exit 1; }
    done
    [ ${#into[@]} -gt 0 ] || { echo "embedded-build: no objects found for $1 in $release_dir" >&2; exit 1; }
}
archives=()
mkdir -p "$out/lib"
for target in "${embedded_libraries[@]}"; do
    declared "$target" || continue
    collect_objects "$target" objects
    archive=$out/lib/lib$target.a
    rm -f "$archive"
    aarch64-linux-gnu-ar rcs "$archive" "${objects[@]}"
    archives+=("$archive")
done
collect_objects "$product" main_objects
# SwiftPM renames an executable's entry point to <Target>_main; C's main must point at it.
entry=()
if aarch64-linux-gnu-nm --defined-only "${main_objects[@]}" | grep -w "${product}_main" >/dev/null; then
    entry=(-Wl,--defsym,main="${product}_main")
fi
link_flags=(-static-pie)
[ "$link_mode" = dynamic ] && link_flags=(-pie)
unstripped=$out/$binary_name.unstripped
aarch64-linux-gnu-gcc "${link_flags[@]}" -o "$unstripped" "${main_objects[@]}" \
    -Wl,--start-group "${archives[@]}" -Wl,--end-group "$unicode_tables" "${entry[@]}" \
    -Wl,--gc-sections -lpthread -ldl -lm
aarch64-linux-gnu-strip -o "$out/$binary_name" "$unstripped"
size=$(wc -c < "$out/$binary_name")
run_hint="qemu-aarch64-static $out/$binary_name"
[ "$link_mode" = dynamic ] && run_hint="qemu-aarch64-static -L /usr/aarch64-linux-gnu $out/$binary_name (threads hang under Debian 12 qemu)"
echo "embedded-build: $out/$binary_name ($link_mode, -mcpu=$cpu), stripped size $size bytes" \
     "(with symbols: $unstripped)"
echo "embedded-build: run it with: $run_hint"
