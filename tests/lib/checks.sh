# SPDX-License-Identifier: GPL-2.0 OR MIT
# checks.sh - what the shell tests share; sourced (. tests/lib/checks.sh):
#
#   checks_begin          $d: a scratch directory, removed on exit
#   ok WHAT STATUS        "ok N - WHAT" if STATUS is 0, else "not ok N - WHAT"
#                         and the last lines of $d/out (what the step said)
#   checks_end NAME       "NAME: N checks, N failed"; the status to exit with
#   sd_version ROOT       the version in ROOT/include/sd_version.h (1.0.0)
checks_begin() {
	d=$(mktemp -d)
	trap 'rm -rf "$d"' EXIT
	trap 'exit 143' INT TERM HUP	# dash runs the EXIT trap only on an exit
	checks=0 failed=0
}

ok() {
	checks=$((checks + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $checks - $1"
	else
		failed=$((failed + 1))
		echo "not ok $checks - $1"
		[ -s "$d/out" ] && tail -30 "$d/out" | sed 's/^/  | /'
	fi
	return 0
}

checks_end() {
	echo "$1: $checks checks, $failed failed"
	[ "$failed" -eq 0 ]
}

sd_version() {
	sed -n 's/^#define SD_LIB_VERSION_\(MAJOR\|MINOR\|PATCH\)[[:space:]]*\([0-9]*\).*/\2/p' \
		"$1/include/sd_version.h" | paste -sd.
}
