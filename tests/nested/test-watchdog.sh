#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-watchdog.sh - nested-check never hangs: a guest that goes silent is
# killed after NESTED_STALL seconds, one that keeps printing but never ends
# at NESTED_TIMEOUT; both fail (exit 1) with the reason and the console's
# tail, well before any outer deadline. The guests are told to misbehave
# through the kernel command line (init.sh, NESTED_TEST). SKIP (77) where
# nested-check itself would skip (no QEMU, no kernel image).
here=$(cd "$(dirname "$0")" && pwd)
checks=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect NAME WHY SAID ENV... : nested-check with ENV must fail, within 120 s,
# saying WHY, the console's tail showing the guest's line "NESTED: SAID".
expect() {
	name=$1 why=$2 said=$3; shift 3
	t0=$(date +%s)
	env "$@" NESTED_PLAN=stock timeout -s KILL 120 "$here/nested-check.py" >"$out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	if [ $rc -eq 77 ]; then cat "$out"; exit 77; fi
	checks=$((checks + 1))
	if [ $rc -eq 1 ] && grep -qF -- "$why" "$out" && grep -qF -- "  | NESTED: $said" "$out" &&
	   grep -q '^nested-check: 0 passed, 1 failed, 0 skipped$' "$out"; then
		echo "ok $checks - $name: exit 1 after $secs s, '$why', the console's tail printed (NESTED: $said)"
	else
		failed=$((failed + 1))
		echo "not ok $checks - $name: exit $rc after $secs s (137: killed at 120 s)"
		cat "$out"
	fi
}

expect "a guest that goes silent" "the guest printed nothing for 5 s (stalled)" "going silent" \
	NESTED_TEST=silent NESTED_STALL=5 NESTED_TIMEOUT=100
expect "a guest that never ends" "the run passed its deadline of 60 s" "alive" \
	NESTED_TEST=busy NESTED_STALL=30 NESTED_TIMEOUT=60
echo "$((checks - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
