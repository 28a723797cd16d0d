#!/usr/bin/env bash
# Checks that the board binary offers the same commands and flags as the host CLI (issue 6): for each
# shared command it compares the long flags that `--help` lists on both; any difference not listed in
# `host_only` fails. (`analyze` and `compare` are host-only by design: README, "Deploy to a Raspberry Pi".)
# Usage: scripts/cli-parity.sh [HOST_BINARY] [BOARD_BINARY]   (both built for this machine)
set -euo pipefail
host=${1:-.build/release/edge-ctl}
board=${2:-.build/release/edge-ctl-board}
for b in "$host" "$board"; do
    [ -x "$b" ] || { echo "cli-parity: no $b (swift build -c release first)"; exit 1; }
done

# Flags only the host takes, with the reason (README says the same).
host_only=(
    # The external-plant flags: the board binary does not speak the plant protocol yet (it would need
    # process spawning in its front-end; the protocol code in EdgeRuntime is Embedded-safe).
    --plant --plant-timeout --plant-handshake-timeout
)

flags() {  # the long flags a command's --help lists, one per line (none: nothing)
    { "$1" "${@:2}" --help 2>&1 || true; } | { grep -oE '(^|[[:space:]])--[a-z][a-z0-9-]*' || true; } |
        sed -E 's/^[[:space:]]+//' | { grep -vx -- '--help' || true; } | sort -u
}

passed=0 failed=0
for command in train run eval bench info export "boards list" "boards check" "boards show" "boards probe"; do
    # shellcheck disable=SC2086
    h=$(flags "$host" $command) b=$(flags "$board" $command)
    missing_on_board=$(comm -23 <(echo "$h") <(echo "$b"))
    missing_on_host=$(comm -13 <(echo "$h") <(echo "$b"))
    problems=()
    for f in $missing_on_board; do
        printf '%s\n' "${host_only[@]}" | grep -qx -- "$f" || problems+=("board lacks $f")
    done
    for f in $missing_on_host; do problems+=("host lacks $f"); done
    if [ ${#problems[@]} -eq 0 ]; then
        echo "ok   edge-ctl $command ($(echo "$h" | grep -c . ) flags)"
        passed=$((passed + 1))
    else
        echo "FAIL edge-ctl $command: ${problems[*]}"
        failed=$((failed + 1))
    fi
done
echo "cli-parity: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
