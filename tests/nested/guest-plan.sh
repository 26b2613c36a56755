#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# guest-plan.sh ROOT BUILD PLAN - what nested-check runs inside its guest,
# chrooted into the host's root filesystem (init.sh): the project's own
# test programs, as the normal build made them, on the guest's KVM.
#
#   phase kmod:    host/ in Debian's kernel: insmod tests/nested/kmod's
#                  sd_host_kmod.ko, then test_host_kmod (every conformance
#                  vector, live and paused, and real faults) through it.
#   phase stock:   Debian's kvm and kvm_amd; every tests/kvm program and the
#                  migration tests (TCG is slow: a 64 MiB demo guest, no extra
#                  seeds, peer deadlines x10, and without the five full
#                  migrations whose subject is the stream or the oracle rather
#                  than KVM; the other cases and their checks unchanged). The
#                  stock-KVM hypercall case must run (SD_EXPECT_VMMCALL=1).
#   phase patched: (PLAN "full") kvm.ko and kvm-amd.ko built from
#                  linux-source-6.1 with patches/kvm (tests/nested/build-kvm.sh)
#                  in their place; every tests/kvm program again, the hypercall
#                  cases must run (SD_EXPECT_HC=1), and a demo migration of a
#                  guest that can only register by hypercall.
#
# Lines for the driver: "NESTED: phase NAME", "NESTED: result NAME VERDICT"
# for steps that are not test programs, and tests/run-tests.py's own
# "==> PROG" / "<== PROG: VERDICT in N s".
root=$1
build=$2
plan=$3
cd "$root" || { echo "NESTED: result chdir fail"; exit 1; }
kvm_tests=$(ls "$build"/kvm/test_* | grep -v '\.d$')

result() { echo "NESTED: result $1 $2"; }
rc=0

# run-tests.py with the deadlines the Makefile gives each program on the host,
# doubled: everything is slower under TCG.
run() {
	SD_TEST_TIMEOUTS="$build/kvm/test_hostile=900 $build/kvm/test_live_read=600 \
		$build/tests/test-migrate=1200 tests/nested/demo-hc.sh=600" \
		python3 tests/run-tests.py --timeout 300 "$@"
}

echo "NESTED: phase kmod"
if insmod "$build/kmod/sd_host_kmod.ko" && [ -c /dev/sd_host_kmod ]; then
	result load-host-kmod pass
	run "$build/kmod/test_host_kmod" || rc=1
	rmmod sd_host_kmod && result unload-host-kmod pass || { result unload-host-kmod fail; rc=1; }
else
	result load-host-kmod fail
	rc=1
fi
[ "$plan" = kmod ] && exit $rc

echo "NESTED: phase stock"
if modprobe kvm_amd && [ -c /dev/kvm ]; then
	result load-debian-kvm pass
else
	result load-debian-kvm fail
	exit 1
fi
echo "NESTED: modules $(grep -E '^(kvm|kvm_amd|irqbypass|ccp) ' /proc/modules | cut -d' ' -f1 | tr '\n' ' ')"
SD_EXPECT_VMMCALL=1 MIGRATE_RAM=64 MIGRATE_RUNS=0 MIGRATE_MS=100 MIGRATE_SLOW=10 MIGRATE_QUICK=1 MIGRATE_DOWNTIME=60000 \
	run $kvm_tests "$build/tests/test-migrate" || rc=1

[ "$plan" = full ] || exit $rc
echo "NESTED: phase patched"
kd=$build/nested/kvm
if rmmod kvm_amd && rmmod kvm && insmod "$kd/kvm.ko" && insmod "$kd/kvm-amd.ko" &&
   [ -c /dev/kvm ]; then
	result load-patched-kvm pass
else
	result load-patched-kvm fail
	exit 1
fi
grep -q 'kvm_amd.*(OE)\|kvm_amd.*O' /proc/modules && echo "NESTED: kvm_amd is the out-of-tree build"
# With both transports served the guest prefers the hypercall. The other
# programs' guests assert the MSR transport (test_hostile's and test_tamper's
# cases are about its #GP and status MSR, a host lying through them): they
# run with the MSR alone.
hc_tests="$build/kvm/test_harness $build/kvm/test_register"
msr_tests=$(for t in $kvm_tests; do case " $hc_tests " in *" $t "*) ;; *) echo "$t";; esac; done)
SD_EXPECT_VMMCALL=1 SD_EXPECT_HC=1 SD_CLI="$build/sev-donate" run $hc_tests tests/nested/demo-hc.sh || rc=1
SD_VMM_REG_TRANSPORTS=msr run $msr_tests || rc=1
exit $rc
