#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-runner.sh - the test runner's own deadlines (tests/run-tests.py): a
# program that sleeps past its deadline is killed with its process group and
# reported as TIMEOUT, counts as failed, and the run goes on to the next one.
here=$(cd "$(dirname "$0")/.." && pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
checks=0 failed=0
ok() {	# ok NAME CONDITION-EXIT-STATUS
	checks=$((checks + 1))
	if [ "$2" -eq 0 ]; then echo "ok $checks - $1"; else failed=$((failed + 1)); echo "not ok $checks - $1"; fi
}

# A program that sleeps far past its deadline and leaves a child behind.
cat >"$d/sleeper" <<EOT
#!/bin/sh
sleep 300 &
echo \$! >"$d/child.pid"
sleep 300
EOT
printf '#!/bin/sh\necho fine\n' >"$d/passer"
printf '#!/bin/sh\necho "SKIP: nothing to test here"\nexit 77\n' >"$d/skipper"
printf '#!/bin/sh\nexit 3\n' >"$d/failer"
chmod +x "$d/sleeper" "$d/passer" "$d/skipper" "$d/failer"

SD_TEST_TIMEOUTS="$d/sleeper=1" python3 "$here/run-tests.py" --timeout 60 \
	"$d/sleeper" "$d/passer" "$d/skipper" "$d/failer" >"$d/out" 2>&1
rc=$?
sed 's/^/  | /' "$d/out"	# indented: its closing line is not this run's
grep -qx "TIMEOUT: $d/sleeper (after 1 s)" "$d/out"; ok "the sleeper is reported as TIMEOUT after its own 1 s deadline" $?
grep -q "^fine$" "$d/out"; ok "the run went on to the next program" $?
grep -qx "FAIL: $d/failer (exit 3)" "$d/out"; ok "a failing program is reported with its exit status" $?
grep -qx "test programs: 1 passed, 2 failed, 1 skipped" "$d/out"; ok "the closing line counts the timeout as failed" $?
[ "$rc" -eq 1 ]; ok "the runner exits 1 (got $rc)" $?
pid=$(cat "$d/child.pid" 2>/dev/null)
# SIGKILL is asynchronous and the orphan's reaper runs later: give it 5 s.
alive=1
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && { alive=0; break; }
	sleep 0.5
done
[ -n "$pid" ] && [ $alive -eq 0 ]; ok "the sleeper's child was killed with its process group" $?

SD_TEST_TIMEOUTS="$d/passer=0" python3 "$here/run-tests.py" "$d/passer" >"$d/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q "must be positive" "$d/out"; ok "a zero deadline is refused, by name" $?

echo "runner: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
