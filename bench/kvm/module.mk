# SPDX-License-Identifier: GPL-2.0 OR MIT
# bench/kvm/: benchmarks in a real KVM guest. Each bench/kvm/bench_*.c is,
# like a tests/kvm/ test, one file holding the guest code (SD_KVM_GUEST)
# and the host main(); the guest half is built with vmm/kvm/module.mk's
# runtime, guest/ library and linker script, the host half links the VMM
# library and the baselines (bench/baseline/). Without /dev/kvm a program
# prints "SKIP: /dev/kvm not available" and exits 77.
#
# Read before bench/module.mk, which runs these too (BENCH_EXTRA_BINS).
KBENCH_SRCS := $(sort $(wildcard bench/kvm/bench_*.c))
KBENCH_BINS := $(patsubst bench/kvm/%.c,$(BUILD)/bench/kvm/%,$(KBENCH_SRCS))
KBENCH_GDIR := $(BUILD)/bench/kvm/guest

$(eval $(call guest_image,$(KBENCH_GDIR),bench/kvm,))

# A static pattern rule: bench/module.mk's $(BUILD)/bench/% would match too.
$(KBENCH_BINS): $(BUILD)/bench/kvm/bench_%: bench/kvm/bench_%.c bench/bench.h \
		$(KBENCH_GDIR)/bench_%.image.o $(KVM_LIB) $(LIBSDBASELINE) $(LIBSD)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CCLD    $@")
	$(Q)$(CC) $(USER_CFLAGS) $(KVM_INC) -Ibench -Ibench/baseline -MMD -MP $< -o $@ \
		$(KBENCH_GDIR)/bench_$*.image.o $(KVM_LIB) $(LIBSDBASELINE) $(LIBSD) \
		$(USER_LDFLAGS) $(URCU_LIBS) -lpthread -lm

# `make bench` and `make bench-smoke` run these after bench/'s own programs.
BENCH_EXTRA_BINS += $(KBENCH_BINS)
BINS += $(KBENCH_BINS)

-include $(KBENCH_BINS:=.d) $(patsubst %,$(KBENCH_GDIR)/%.d,$(notdir $(KBENCH_BINS)))
