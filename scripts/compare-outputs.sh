#!/usr/bin/env bash
# Compares two edge-core-check outputs (lines of `label v1 v2 ...`) for numeric parity.
#
# Usage: scripts/compare-outputs.sh A.txt B.txt [tolerance=1e-5] [floor=1e-6]
#
# Both files must have the same labels in the same order with the same number of values. Each pair of
# values must satisfy |a - b| / max(|a|, |b|, floor) <= tolerance. The floor is absolute: values smaller
# than it in magnitude are held to an absolute error of tolerance * floor (1e-11 by default), so tiny
# values that should be equal cannot hide behind a huge relative error budget, and 0 vs 1e-12 still passes.
# nan must meet nan (either sign) and inf the same signed inf. Lines starting with `#` are notes that may
# differ between platforms (the SIMD path, say) and are not compared; blank lines and surrounding blanks
# are ignored too. Line numbers in messages count the compared lines only.
# Prints `parity: N values, max relative error E (tolerance T)` and exits 0, or names the first mismatch
# on stderr and exits 1. POSIX awk only (tested with mawk, Debian's default), so no python3 is needed.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 4 ]; then
    echo "usage: $0 A.txt B.txt [tolerance=1e-5] [floor=1e-6]" >&2
    exit 2
fi
for file in "$1" "$2"; do
    [ -r "$file" ] || { echo "compare-outputs: cannot read '$file'" >&2; exit 2; }
done

LC_ALL=C awk -v tol="${3:-1e-5}" -v floor="${4:-1e-6}" -v fa="$1" -v fb="$2" '
function fail(message) { print "compare-outputs: " message > "/dev/stderr"; exit 1 }
function abs(x) { return x < 0 ? -x : x }
function numeric(s) { return s ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/ }
function nonfinite(s) { return tolower(s) ~ /^[-+]?(nan|inf|infinity)$/ }
# The sign of a NaN differs between x86 ("-nan") and aarch64 ("nan") printf; the sign of inf does not.
function token(s) { s = tolower(s); sub(/^[+]/, "", s); sub(/infinity/, "inf", s); return s ~ /nan/ ? "nan" : s }
# Reads the lines of `file` that are neither blank nor notes, trimmed, into `lines`; returns how many.
function load(file, lines,    line, n) {
    n = 0
    while ((getline line < file) > 0) {
        sub(/^[ \t]+/, "", line); sub(/[ \t\r]+$/, "", line)
        if (line != "" && substr(line, 1, 1) != "#") lines[++n] = line
    }
    if (file != "/dev/stdin") close(file)  # closing stdin crashes mawk 1.3.4; other files may be read twice
    return n
}
BEGIN {
    tol += 0; floor += 0
    if (tol <= 0 || floor <= 0) fail("tolerance and floor must be positive numbers")
    ca = load(fa, la); cb = load(fb, lb)
    values = 0; worst = 0; worst_at = ""
    for (r = 1; r <= ca || r <= cb; r++) {
        if (r > ca) fail(fa " has " ca " lines but " fb " has " cb "; the first extra: " substr(lb[r], 1, 60))
        if (r > cb) fail(fb " has " cb " lines but " fa " has " ca "; the first extra: " substr(la[r], 1, 60))
        na = split(la[r], a, /[ \t]+/); nb = split(lb[r], b, /[ \t]+/)
        if (a[1] != b[1]) fail("line " r ": label \"" a[1] "\" in " fa " but \"" b[1] "\" in " fb)
        if (na != nb) fail("line " r " (" a[1] "): " na - 1 " values in " fa " but " nb - 1 " in " fb)
        for (i = 2; i <= na; i++) {
            where = "line " r " (" a[1] ") value " i - 1
            if (nonfinite(a[i]) || nonfinite(b[i])) {
                if (token(a[i]) != token(b[i])) fail(where ": " a[i] " vs " b[i])
                values++; continue
            }
            if (!numeric(a[i]) || !numeric(b[i])) fail(where ": not a number: \"" a[i] "\" vs \"" b[i] "\"")
            x = a[i] + 0; y = b[i] + 0
            scale = abs(x); if (abs(y) > scale) scale = abs(y); if (floor > scale) scale = floor
            err = abs(x - y) / scale
            if (err > tol) fail(where ": " a[i] " vs " b[i] ", relative error " sprintf("%.3g", err) " > tolerance " tol)
            if (err > worst) { worst = err; worst_at = " at " where }
            values++
        }
    }
    if (values == 0) fail("no values to compare in " fa " and " fb)
    printf "parity: %d values, max relative error %.2g (tolerance %g)%s\n", values, worst, tol, worst_at
}'
