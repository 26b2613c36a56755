#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-cpu-features.sh BUILD [SAN] - the programs on CPUs without the features the
# build may use, emulated by qemu-user (qemu-x86_64 -cpu ...):
#   - without POPCNT, which the default build uses (CPU_FLAGS=-mpopcnt), a
#     program names the missing feature and exits 1 instead of dying of SIGILL;
#   - without SSE4.2, the stream's CRC32C falls back to its table and every
#     stream test passes.
# The CPU models are real ones' subsets: a CPU with SSE4.2 has SSSE3 and SSE4.1
# too, and glibc's string functions rely on that (qemu64,+sse4.2 alone makes
# them execute SSSE3's palignr and die of SIGILL, depending on alignment).
build=$1 san=$2
if [ -n "$san" ]; then
	# qemu-user cannot host the sanitizers' shadow memory: the programs hang there.
	echo "SKIP: a sanitizer build ($san): qemu-user cannot run its programs"
	exit 77
fi
if ! command -v qemu-x86_64 >/dev/null 2>&1; then
	echo "SKIP: qemu-user is not installed (apt-get install qemu-user): no CPU to emulate"
	exit 77
fi
checks=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ok() {
	checks=$((checks + 1))
	if [ "$2" -eq 0 ]; then echo "ok $checks - $1"; else failed=$((failed + 1)); echo "not ok $checks - $1"; cat "$out"; fi
}

qemu-x86_64 -cpu qemu64 "$build/sev-donate" help >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "this CPU lacks POPCNT" "$out"; ok "no POPCNT: exit 1 (got $rc) with the feature named" $?
qemu-x86_64 -cpu qemu64 "$build/tests/test_stream" >"$out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "this CPU lacks POPCNT" "$out"; ok "no POPCNT: a test program too (got $rc)" $?
qemu-x86_64 -cpu qemu64,+popcnt,-sse4.2 "$build/tests/test_stream" >"$out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "PASSED" "$out"; ok "POPCNT without SSE4.2: the stream tests pass on the CRC32C table (got $rc)" $?
qemu-x86_64 -cpu qemu64,+popcnt,+ssse3,+sse4.1,+sse4.2 "$build/sev-donate" help >"$out" 2>&1
rc=$?
[ $rc -eq 0 ]; ok "with POPCNT and SSE4.2: runs (got $rc)" $?

echo "cpu-features: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
