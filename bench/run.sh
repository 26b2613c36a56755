#!/bin/sh
# run.sh - run benchmark programs; each prints its own table and writes
# $BENCH_OUT/<name>.json. A benchmark that fails to run is reported, but a
# number never fails the run.
mkdir -p "${BENCH_OUT:=build/bench}"
rc=0
for b in "$@"; do
	echo "==> $b"
	"$b" || { echo "bench: $b exited $?"; rc=1; }
done
exit $rc
