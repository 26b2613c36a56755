#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-readme.sh BUILD - the README's examples run as written: every command
# line of each block marked `<!-- readme-test: NAME ... -->`, in order, in a
# scratch directory, with BUILD's sev-donate first on PATH. Each must exit 0,
# and a line whose comment says "prints X" must print exactly X.
build=$(cd "$1" && pwd)
readme=$(cd "$(dirname "$0")/../.." && pwd)/README.md
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
checks=0 failed=0
awk '/<!-- readme-test:/ { on = 1; next } on && /^```sh/ { inb = 1; next }
     inb && /^```/ { inb = 0; on = 0; next } inb { print }' "$readme" >"$d/lines"
[ -s "$d/lines" ] || { echo "not ok 1 - no readme-test block in README.md"; exit 1; }
cd "$d" || exit 1
while IFS= read -r line; do
	cmd=${line%%#*}
	want=
	case $line in *"# prints the table's GPA: "*) want=${line##*GPA: } ;; esac
	checks=$((checks + 1))
	out=$(PATH="$build:$PATH" sh -c "$cmd" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		failed=$((failed + 1)); echo "not ok $checks - exit $rc: $cmd"; echo "$out" | head -5
	elif [ -n "$want" ] && [ "$out" != "$want" ]; then
		failed=$((failed + 1)); echo "not ok $checks - printed '$out', the README says '$want': $cmd"
	else
		echo "ok $checks - $cmd"
	fi
done <"$d/lines"
echo "readme: $checks commands, $failed failed"
[ "$failed" -eq 0 ]
