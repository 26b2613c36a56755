# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/kvm/: tests on real /dev/kvm. Each tests/kvm/test_*.c holds both the
# guest code (under SD_KVM_GUEST) and the host main(); vmm/kvm/module.mk says
# how such a file becomes a program. Without /dev/kvm each prints
# "SKIP: /dev/kvm not available" and exits 77.
#
#   make kvm-check               the KVM tests (part of `make check`)
#   make kvm-check KVM_SOAK=1    the same, longer (SD_KVM_SOAK in the environment;
#                                test_hostile's storm then runs 10^5 re-registrations)
KVM_TEST_SRCS := $(sort $(wildcard tests/kvm/test_*.c))
KVM_TEST_BINS := $(patsubst tests/kvm/%.c,$(BUILD)/kvm/%,$(KVM_TEST_SRCS))
KVM_SOAK ?= 0

CHECK_BINS += $(KVM_TEST_BINS)

# Deadlines beyond the default (tests/run-tests.py): the storm, longer under KVM_SOAK=1.
CHECK_TIMEOUTS += $(BUILD)/kvm/test_hostile=900 $(BUILD)/kvm/test_live_read=300

#> kvm-check          only the tests on /dev/kvm (KVM_SOAK=1: the longer storms)
kvm-check: $(KVM_TEST_BINS)
	$(Q)SD_KVM_SOAK=$(KVM_SOAK) $(RUN_TESTS) $(KVM_TEST_BINS)

.PHONY: kvm-check
-include $(KVM_TEST_BINS:=.d) $(patsubst %,$(BUILD)/kvm/guest/%.d,$(notdir $(KVM_TEST_BINS)))
