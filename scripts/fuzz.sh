#!/usr/bin/env bash
# Fuzzes the three readers of untrusted files with libFuzzer + AddressSanitizer:
#   board       the board-file parser            (Fuzz/BoardFileHarness.swift)
#   checkpoint  the checkpoint loader            (Fuzz/CheckpointHarness.swift)
#   log         the dataset (transitions) log    (Fuzz/TransitionsLogHarness.swift)
#
#   scripts/fuzz.sh                      # CI: 20 s per target (about 60 s of fuzzing)
#   scripts/fuzz.sh --seconds 300        # longer, per target
#   scripts/fuzz.sh --runs 1000000       # a fixed number of executions per target
#   scripts/fuzz.sh --targets board,log  # some targets only
#
# Builds the package's modules with `-sanitize=fuzzer,address` into .build-fuzz (its own scratch path),
# links one harness per target, runs every seed (Fuzz/corpus/TARGET, made by Fuzz/make-seeds.py from
# real files) once, then fuzzes from those seeds plus what earlier runs found (.build-fuzz/corpus/TARGET).
# A crash, an ASan report, a failed harness check (an unclear error message, an inconsistent result) or
# a hang (one input over 10 s) stops that target, keeps the input under .build-fuzz/artifacts/TARGET/,
# and makes the script exit 1. Prints "fuzz TARGET: N executions in S s" per target.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v swiftc >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

mode=(-max_total_time=20)
targets=(board checkpoint log)
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) mode=(-max_total_time="$2"); shift 2 ;;
        --runs) mode=(-runs="$2"); shift 2 ;;
        --targets) IFS=, read -r -a targets <<<"$2"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 64 ;;
    esac
done

scratch=.build-fuzz
started=$SECONDS
# One -sanitize= option: swiftc keeps only the last one given, so `--sanitize fuzzer --sanitize address`
# would build without coverage instrumentation.
swift build -c release --scratch-path "$scratch" --target EdgeRuntime \
    -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | tail -n 1
build=$scratch/x86_64-unknown-linux-gnu/release
[ -d "$build" ] || build=$(dirname "$(find "$scratch" -maxdepth 3 -name 'EdgeRuntime.build' -type d | head -n 1)")
objects=()
for module in CEdgeSys EdgeCore EdgeLearning EdgeIO FirmwareSim EdgeRuntime; do
    objects+=("$build/$module.build"/*.o)
done
mkdir -p "$scratch/harness"
declare -A sources=([board]=BoardFileHarness [checkpoint]=CheckpointHarness [log]=TransitionsLogHarness)
for target in "${targets[@]}"; do
    [ -n "${sources[$target]:-}" ] || { echo "fuzz.sh: unknown target '$target' (board, checkpoint, log)" >&2; exit 64; }
    swiftc -O -sanitize=fuzzer,address -parse-as-library -swift-version 5 -module-name "Fuzz_$target" \
        -I "$build/Modules" -Xcc "-fmodule-map-file=$build/CEdgeSys.build/module.modulemap" \
        -Xcc -ISources/CEdgeSys/include \
        Fuzz/FuzzSupport.swift "Fuzz/${sources[$target]}.swift" "${objects[@]}" -ldl -lm -lpthread \
        -o "$scratch/harness/$target" 2>&1 | { grep -v 'ld.gold: warning: Cannot export local symbol' || true; }
done
echo "built in $((SECONDS - started)) s"

# No Swift backtracer (it symbolicates for up to 30 s per crash); libFuzzer prints the stack via ASan.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
failed=()
summary=()
for target in "${targets[@]}"; do
    corpus=$scratch/corpus/$target artifacts=$scratch/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    log=$scratch/fuzz-$target.log
    # Every seed once, at full size (the real checkpoints are larger than the fuzzing length limit).
    if ! "$scratch/harness/$target" -runs=0 -artifact_prefix="$artifacts/" "Fuzz/corpus/$target" >"$log.seeds" 2>&1; then
        echo "fuzz $target: a seed failed (see $log.seeds)"; tail -n 30 "$log.seeds"; failed+=("$target"); continue
    fi
    t0=$SECONDS
    if "$scratch/harness/$target" "${mode[@]}" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "Fuzz/corpus/$target" >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$target")
        grep -v '^#' "$log" | tail -n 40
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    line=$(printf 'fuzz %-10s %9s executions in %4d s, corpus %s inputs: %s' "$target" "${runs:-?}" \
        $((SECONDS - t0)) "$(find "$corpus" -type f | wc -l)" "$status")
    echo "$line"
    summary+=("$line")
done
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (inputs kept in $scratch/artifacts/)"
    exit 1
fi
echo "fuzz: no crash, hang or unclear error in ${targets[*]}"
