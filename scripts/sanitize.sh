#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer, each in its own scratch path
# (.build-asan, .build-tsan), and prints how long each build and run took.
#
#   scripts/sanitize.sh                    # both, the whole suite each
#   scripts/sanitize.sh address            # one of them
#   scripts/sanitize.sh thread --filter 'PolicyMailbox|ControlSession|Training'   # extra `swift test` args
#
# Any sanitizer report fails the run (halt_on_error for ASan; TSan's reports make the test process exit
# 66); the summary line of `swift test` is printed. No suppressions are needed or used.
#
# Options, each explained:
#  - detect_leaks=0 (ASan): LeakSanitizer needs ptrace-like access to stop the process's threads at
#    exit, and the Swift runtime keeps type metadata and the test harness keeps its registries alive on
#    purpose until exit, which LeakSanitizer counts as leaks. Leaks of the program itself are measured
#    where they matter instead: scripts/soak.sh checks that resident memory stays flat over millions of
#    control steps.
#  - The allocation-counting tests keep working under both sanitizers: CEdgeAllocCounter counts through
#    the sanitizer allocator's malloc hook when built with one (see alloc_counter.c).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

sanitizers=()
while [ $# -gt 0 ]; do
    case $1 in
        address|thread) sanitizers+=("$1"); shift ;;
        all) sanitizers+=(address thread); shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(address thread)
extra=("$@")

export SWIFT_BACKTRACE=enable=no
# Keep the dynamic exclusivity checks the release build drops from the hot-path modules (Package.swift).
export EDGE_CHECKED=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:exitcode=66:second_deadlock_stack=1}

results=()
status=0
for sanitizer in "${sanitizers[@]}"; do
    case $sanitizer in address) scratch=.build-asan ;; thread) scratch=.build-tsan ;; esac
    log=$scratch-test.log
    mkdir -p "$scratch"
    started=$SECONDS
    echo "::: build with -sanitize=$sanitizer ($scratch)"
    swift build -c release --build-tests --scratch-path "$scratch" --sanitize="$sanitizer" 2>&1 | tail -n 3
    built=$((SECONDS - started))
    echo "::: swift test with -sanitize=$sanitizer (log: $log)"
    run_started=$SECONDS
    set +e
    swift test -c release --skip-build --scratch-path "$scratch" --sanitize="$sanitizer" "${extra[@]}" >"$log" 2>&1
    rc=$?
    set -e
    ran=$((SECONDS - run_started))
    reports=$(grep -c -E '^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer)' "$log" || true)
    grep -E 'Test run with .* (passed|failed)|Executed .* tests?, with|^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer|SUMMARY: )' "$log" | sort | uniq -c | sort -rn | head -n 20
    if [ $rc -ne 0 ] || [ "$reports" -ne 0 ]; then
        status=1
        grep -E -A 30 '^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer)' "$log" | head -n 80 || true
        grep -E '✘|error:|failed' "$log" | head -n 30 || true
        verdict="FAILED (exit $rc, $reports sanitizer reports)"
    else
        verdict="clean"
    fi
    results+=("$(printf '%-8s build %4d s, tests %4d s: %s' "$sanitizer" "$built" "$ran" "$verdict")")
done
echo "::: sanitizers"
printf '  %s\n' "${results[@]}"
exit $status
