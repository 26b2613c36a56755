#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-kernel-doc.sh - every function the installed headers declare has a
# kernel-doc comment ("/**" then " * name() - ..."), and the kernel's own
# kernel-doc script reads them all without a warning (-v: missing
# parameters and return values included).
here=$(cd "$(dirname "$0")/../.." && pwd)
headers="host/sd_host.h guest/sd_guest.h include/sd_api_types.h"
kdoc=$(ls /usr/lib/linux-kbuild-*/scripts/kernel-doc /usr/src/linux-headers-*/scripts/kernel-doc \
	2>/dev/null | head -1)
if [ -z "$kdoc" ]; then
	echo "SKIP: test-kernel-doc: no kernel-doc script (Debian package linux-kbuild-6.1)"
	echo "kernel-doc: 0 passed, 0 failed, 1 skipped"
	exit 77
fi
passed=0 failed=0
for h in $headers; do
	# Every prototype: a line starting with a type and holding "name(".
	names=$(sed -n -E 's/^(static inline )?[a-z_0-9 ]+[ *]+\**(sd_[a-z_0-9]+)\(.*/\2/p' \
		"$here/$h" | sort -u)
	for n in $names; do
		if grep -q "^ \* $n() - " "$here/$h"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "FAIL: $h: $n() has no kernel-doc comment"
		fi
	done
	out=$("$kdoc" -v -none "$here/$h" 2>&1 | grep -v ': info: ')
	if [ -n "$out" ]; then
		failed=$((failed + 1))
		echo "FAIL: $h: kernel-doc:"
		echo "$out" | sed 's/^/  | /'
	else
		passed=$((passed + 1))
		echo "ok: $h: $(echo "$names" | wc -w) functions documented, kernel-doc -v clean"
	fi
done
echo "kernel-doc: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
