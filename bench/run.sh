#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# run.sh - run benchmark programs; each prints its own table and writes
# $BENCH_OUT/<name>.json. A benchmark that fails to run is reported, but a
# number never fails the run. Exit status 77 means "skipped" (a KVM
# benchmark without /dev/kvm): the program prints its own SKIP: line.
mkdir -p "${BENCH_OUT:=build/bench}"
export BENCH_OUT
rc=0
for b in "$@"; do
	echo "==> $b"
	"$b"
	st=$?
	case $st in
	0)  ;;
	77) echo "bench: $b skipped" ;;
	*)  echo "bench: $b exited $st"; rc=1 ;;
	esac
done
exit $rc
