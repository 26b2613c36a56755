#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# run-fuzz.sh DIR SECONDS TARGET... - run each libFuzzer target for SECONDS
# from its seeds (and regressions), keep the corpus it grows, print the
# numbers RELIABILITY.md records, and fail on any crash (its input is in
# DIR/artifacts/: add it to tests/fuzz/regressions/<target>/ once fixed).
dir=$1 secs=$2
shift 2
mkdir -p "$dir/artifacts"
status=0 passed=0 failed=0
for t in "$@"; do
	corpus=$dir/corpus/$t
	mkdir -p "$corpus"
	cp -n "$dir/seeds/$t"/* "$corpus"/ 2>/dev/null
	log=$dir/fuzz_$t.log
	"$dir/libfuzzer/fuzz_$t" -max_total_time="$secs" -max_len=300000 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" \
		"$corpus" tests/fuzz/regressions/$t >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	size=$(ls "$corpus" | wc -l)
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "fuzz $t: ${secs}s, ${execs:-?} executions, corpus $size inputs, no crash"
	else
		failed=$((failed + 1)); status=1
		echo "fuzz $t: CRASH (exit $rc) after ${execs:-?} executions; see $log and $dir/artifacts/"
		grep -m5 -E 'ERROR|SUMMARY|deadly' "$log"
	fi
done
echo "fuzz: $passed passed, $failed failed"
exit $status
