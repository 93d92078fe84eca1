#!/usr/bin/env bash
# Run test gates (make targets) one after the other, timing each one.
#
# usage: run_gates.sh TARGET=LABEL...
#
# Every gate runs even when an earlier one failed, so one run shows all
# failures; the exit code is non-zero when any gate failed.
set -uo pipefail

make_cmd=${MAKE:-make}
passed=0
failed=0
summary=()

for spec in "$@"; do
    target=${spec%%=*}
    label=${spec#*=}
    echo
    echo "=== $label: make $target"
    start=$(date +%s)
    if $make_cmd --no-print-directory "$target"; then
        result=ok
        passed=$((passed + 1))
    else
        result=FAILED
        failed=$((failed + 1))
    fi
    elapsed=$(( $(date +%s) - start ))
    line="== $label: ${elapsed}s $result"
    echo "$line"
    summary+=("$line")
done

echo
echo "=== summary"
for line in "${summary[@]}"; do
    echo "$line"
done
echo "gates: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
