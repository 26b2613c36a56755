#!/bin/sh
# run-tests.sh - run test programs, pass their own output through, and end
# with one summary line. Exit status 77 from a program means "skipped"
# (the automake convention); the program prints its own loud SKIP: line.
passed=0 failed=0 skipped=0 failed_names=""
for t in "$@"; do
	echo "==> $t"
	"$t"
	rc=$?
	case $rc in
	0)  passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)); echo "SKIP: $t" ;;
	*)  failed=$((failed + 1)); failed_names="$failed_names $t"; echo "FAIL: $t (exit $rc)" ;;
	esac
done
echo "test programs: $passed passed, $failed failed, $skipped skipped"
[ -n "$failed_names" ] && echo "failed:$failed_names"
[ "$failed" -eq 0 ]
