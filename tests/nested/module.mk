# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/nested/: the KVM suite on a standard KVM. nested-check.py boots
# Debian's kernel under QEMU TCG with an emulated AMD CPU (SVM, NPT); loads
# host/ built into a module there and runs every conformance vector through
# it (tests/nested/kmod/); runs, on Debian's kvm_amd, the very programs
# `make check` runs on the host (tests/kvm, the migration tests); then, on
# kvm.ko and kvm-amd.ko rebuilt from linux-source-6.1 with patches/kvm
# (build-kvm.sh), the hypercall transport end to end.
#
#   make nested-check                  every phase (CI runs it)
#   make nested-check NESTED_PLAN=stock  host/ in the kernel and Debian's KVM (no KVM build)
#   make nested-check NESTED_PLAN=kmod   host/ in the kernel only
#
# SKIPs (exit 77, loudly) only where QEMU or the kernel image is missing;
# needs qemu-system-x86, linux-image-amd64, linux-headers-amd64,
# busybox-static and, for the patched phase, linux-source-6.1
# (scripts/deps.sh vm nested, which make runs for this goal). The whole run
# has its own deadline (NESTED_TIMEOUT).
NESTED_PLAN ?= full

#> nested-check       the KVM suite and the demo on Debian's stock KVM and on patched KVM, nested under QEMU
nested-check: $(KVM_TEST_BINS) $(CLI_BIN) $(MIGRATE_TEST)
	$(Q)NESTED_PLAN=$(NESTED_PLAN) tests/nested/nested-check.py

.PHONY: nested-check

# Under `make check`: the run's own watchdogs (a stalled guest, a guest that
# never ends) fail it fast; SKIP where QEMU or the kernel image is missing.
CHECK_BINS += tests/nested/test-watchdog.sh
CHECK_TIMEOUTS += tests/nested/test-watchdog.sh=300
