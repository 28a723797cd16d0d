#!/usr/bin/env bash
# The board binary under emulation (issue 6, DESIGN.md section 8). For each board (rpi4 and rpi5 by
# default) it builds edge-ctl with `boards/build BOARD --static` and runs it under qemu-aarch64-static:
#   - a bad flag exits 64; `boards check` and `boards show` read the board file;
#   - `bench` runs every kernel briefly (--steps 1000), its --json has the issue's keys, and a bad
#     --steps value exits 64;
#   - `train --sim` runs two iterations to completion (every part of the loop, with a small PPO and
#     model-fit budget: the default budget takes about 7 minutes emulated), its --json has the host's
#     keys, and `info` and `eval` read the data directory it wrote;
#   - limits: stripped size 2 MiB or less, peak RSS of the train run 64 MiB or less (the qemu process's
#     high-water mark, which includes the emulator's own memory, so the board uses less).
# Then, once: the dynamic build for rpi4 (what the board runs) stays under 2 MiB and starts under qemu,
# and a checkpoint trained by the host CLI gives the same evaluation return (relative 1e-4; the policy
# acts deterministically, so equal returns over 400 steps mean equal actions) and the same exported
# policy weights on both.
# Debian 12's qemu-user hangs in pthread_create for dynamic aarch64 programs, hence --static for the
# runs (boards/build explains the two link modes).
#
# Usage: scripts/board-check.sh [--boards "rpi4 rpi5"] [--out DIR]
# Environment: EDGE_HOST_SCRATCH (scratch path of the host build, default .build, the one
# `swift build -c release` uses, so CI does not build twice).
set -euo pipefail

boards="rpi4 rpi5"
out=out/board-check
while [ $# -gt 0 ]; do
    case "$1" in
        --boards) boards=${2:?--boards needs a value}; shift 2 ;;
        --out) out=${2:?--out needs a value}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "board-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v swift >/dev/null || PATH=/opt/swift/usr/bin:$PATH
command -v qemu-aarch64-static >/dev/null || {
    echo "board-check: qemu-aarch64-static not found; apt-get install qemu-user-static" >&2
    exit 1
}
rm -rf "$out"
mkdir -p "$out"
max_bytes=$((2 * 1024 * 1024))
max_rss_kib=$((64 * 1024))
# Two iterations through every part of the loop, in about 30 s under qemu on a 2-core x86-64.
train_budget=(--iterations 2 --eval-episodes 2 --set ppoIterationsPerEpisode=1
              --set models.dynamicsFit.maxStepsPerFit=100 --set models.rewardFit.maxStepsPerFit=100)
failures=()
summary=()

fail() {
    echo "board-check: FAILED: $*" >&2
    failures+=("$*")
}

# run_measured SECONDS STDOUT STDERR COMMAND...: runs COMMAND with a time limit; sets `status`,
# `seconds` (wall time) and `peak_kib` (highest VmHWM seen: the kernel's resident high-water mark).
run_measured() {
    local limit=$1 stdout=$2 stderr=$3 started=$SECONDS hwm
    shift 3
    "$@" >"$stdout" 2>"$stderr" &
    local pid=$!
    peak_kib=0
    while kill -0 "$pid" 2>/dev/null; do
        hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        if [ -n "$hwm" ] && [ "$hwm" -gt "$peak_kib" ]; then peak_kib=$hwm; fi
        if [ $((SECONDS - started)) -ge "$limit" ]; then kill "$pid"; fi
        sleep 0.1
    done
    status=0
    wait "$pid" || status=$?
    seconds=$((SECONDS - started))
}

# expect_keys FILE KEY...: fails unless the JSON in FILE has every key.
expect_keys() {
    local file=$1 key
    shift
    for key in "$@"; do
        grep -q "\"$key\":" "$file" || fail "$file has no \"$key\" key"
    done
}

# json_number FILE KEY: the number stored under the top-level KEY (the per-iteration "curve" entries,
# which repeat some keys, are skipped).
json_number() {
    sed 's/"curve":\[[^]]*\]//' "$1" | grep -o "\"$2\":[^,}]*" | head -n 1 | cut -d: -f2
}

# same_numbers A B TOLERANCE: every number of A equals the number at the same place in B within the
# relative TOLERANCE (absolute below 1e-6); prints the count compared or the first difference.
same_numbers() {
    awk -v tolerance="$3" '
        function numbers(file, into,    line, n, i, count) {
            count = 0
            while ((getline line < file) > 0) {
                n = split(line, parts, /[^-+.0-9eE]+/)
                for (i = 1; i <= n; i++) if (parts[i] ~ /[0-9]/) into[++count] = parts[i] + 0
            }
            return count
        }
        BEGIN {
            na = numbers(ARGV[1], a); nb = numbers(ARGV[2], b)
            if (na != nb || na == 0) { print "count " na " vs " nb; exit 1 }
            for (i = 1; i <= na; i++) {
                d = a[i] - b[i]; if (d < 0) d = -d
                m = a[i] < 0 ? -a[i] : a[i]
                if (d > tolerance * m && d > 1e-6) { print "number " i ": " a[i] " vs " b[i]; exit 1 }
            }
            print na " numbers"
        }' "$1" "$2"
}

emulate() { qemu-aarch64-static "$@"; }

for board in $boards; do
    echo "board-check: $board"
    boards/build "$board" --static --out "$out/$board"
    binary=$out/$board/edge-ctl
    size=$(wc -c < "$binary")
    [ "$size" -le "$max_bytes" ] || fail "$board: stripped size $size bytes is over 2 MiB"

    status=0
    emulate "$binary" train --no-such-flag >/dev/null 2>"$out/$board/usage.txt" || status=$?
    [ "$status" -eq 64 ] || fail "$board: a bad flag exited $status, not 64 ($(cat "$out/$board/usage.txt"))"
    emulate "$binary" boards check "boards/$board.board" | grep -q "^OK " || fail "$board: boards check"
    emulate "$binary" boards show "$board" --boards-dir boards | grep -q "^### Rig pendulum" ||
        fail "$board: boards show has no pendulum wiring"
    # Every kernel briefly (speed means nothing under qemu), then the JSON form's keys and a bad value.
    emulate "$binary" bench --steps 1000 > "$out/$board/bench.txt" || fail "$board: bench"
    sed "s/^/  $board: /" "$out/$board/bench.txt"
    grep -q "^policy_forward " "$out/$board/bench.txt" || fail "$board: bench printed no policy_forward line"
    emulate "$binary" bench --steps 1000 --kernel policy_forward --kernel control_step --json \
        > "$out/$board/bench.json" || fail "$board: bench --json"
    expect_keys "$out/$board/bench.json" policy_forward control_step p50_ns p99_ns p999_ns max_ns \
        steps_per_second allocs_per_step machine simd_path
    status=0
    emulate "$binary" bench --steps 10 >/dev/null 2>&1 || status=$?
    [ "$status" -eq 64 ] || fail "$board: bench --steps 10 exited $status, not 64"

    data=$out/$board/run
    run_measured 600 "$out/$board/train.json" "$out/$board/train.log" \
        qemu-aarch64-static "$binary" train --sim --json --data "$data" "${train_budget[@]}"
    sed "s/^/  $board: /" "$out/$board/train.log"
    if [ "$status" -ne 0 ]; then
        fail "$board: train --sim exited $status after $seconds s"
    else
        expect_keys "$out/$board/train.json" rig seed real_steps iterations eval_return_mean eval_return_std \
            eval_episodes wall_seconds curve seconds
        [ "$(json_number "$out/$board/train.json" iterations)" = 2 ] || fail "$board: train did not run 2 iterations"
        [ "$(json_number "$out/$board/train.json" real_steps)" = 400 ] || fail "$board: train did not take 400 real steps"
    fi
    [ "$peak_kib" -gt 0 ] && [ "$peak_kib" -le "$max_rss_kib" ] ||
        fail "$board: peak RSS of train --sim is $peak_kib KiB (limit 64 MiB)"
    emulate "$binary" info --data "$data" --json > "$out/$board/info.json" || fail "$board: info"
    expect_keys "$out/$board/info.json" checkpoint data dataset_records rig torn_tail_bytes
    emulate "$binary" eval --data "$data" --episodes 2 --json > "$out/$board/eval.json" || fail "$board: eval"
    expect_keys "$out/$board/eval.json" data episodes eval_return_mean eval_return_std rig
    emulate "$binary" run --sim --data "$data" --episodes 1 --json > "$out/$board/run.json" || fail "$board: run --sim"
    expect_keys "$out/$board/run.json" rig steps episodes return_mean latency_p50_ns latency_p99_ns missed_deadlines safety
    [ "$(json_number "$out/$board/run.json" steps)" = 200 ] || fail "$board: run --sim did not take 200 steps"
    summary+=("$(printf '%-6s static  %8d bytes (%s MiB)  train --sim %4d s  peak RSS %6d KiB (%s MiB)' "$board" "$size" \
        "$(awk -v b="$size" 'BEGIN { printf "%.2f", b / 1048576 }')" "$seconds" "$peak_kib" \
        "$(awk -v k="$peak_kib" 'BEGIN { printf "%.1f", k / 1024 }')")")
done

echo "board-check: rpi4 dynamic build (what the board runs)"
boards/build rpi4 --dynamic --out "$out/rpi4-dynamic"
size=$(wc -c < "$out/rpi4-dynamic/edge-ctl")
[ "$size" -le "$max_bytes" ] || fail "rpi4 dynamic: stripped size $size bytes is over 2 MiB"
emulate -L /usr/aarch64-linux-gnu "$out/rpi4-dynamic/edge-ctl" boards check boards/rpi4.board | grep -q "^OK " ||
    fail "rpi4 dynamic: boards check under qemu"
summary+=("$(printf '%-6s dynamic %8d bytes (%s MiB)' rpi4 "$size" "$(awk -v b="$size" 'BEGIN { printf "%.2f", b / 1048576 }')")")

echo "board-check: a host-trained checkpoint on both (host CLI vs rpi4 board binary under qemu)"
host_scratch=${EDGE_HOST_SCRATCH:-.build}
swift build -c release --scratch-path "$host_scratch" --product edge-ctl
host=$(swift build -c release --scratch-path "$host_scratch" --show-bin-path)/edge-ctl
board_binary=$out/rpi4/edge-ctl
host_data=$out/host-run
"$host" train --sim --quiet --data "$host_data" "${train_budget[@]}" > /dev/null
"$host" eval --data "$host_data" --episodes 2 --json > "$out/host-eval.json"
emulate "$board_binary" eval --data "$host_data" --episodes 2 --json > "$out/board-eval.json"
for key in eval_return_mean eval_return_std; do
    json_number "$out/host-eval.json" "$key" > "$out/host-$key.txt"
    json_number "$out/board-eval.json" "$key" > "$out/board-$key.txt"
    result=$(same_numbers "$out/host-$key.txt" "$out/board-$key.txt" 1e-4) ||
        fail "host-trained checkpoint: $key differs: $result"
    echo "  $key: host $(cat "$out/host-$key.txt"), aarch64 $(cat "$out/board-$key.txt")"
done
"$host" export --data "$host_data" --policy "$out/host-policy.json" > /dev/null
emulate "$board_binary" export --data "$host_data" --policy "$out/board-policy.json" > /dev/null
result=$(same_numbers "$out/host-policy.json" "$out/board-policy.json" 1e-6) ||
    fail "host-trained checkpoint: exported policy differs: $result"
echo "  exported policy: $result equal"

echo "board-check: figures (limits: 2 MiB stripped, 64 MiB peak RSS)"
printf '  %s\n' "${summary[@]}"
if [ ${#failures[@]} -gt 0 ]; then
    echo "board-check: FAILED (${#failures[@]}):" >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "board-check: ok"
