# bench/kvm/: benchmarks in a real KVM guest. Each bench/kvm/bench_*.c is,
# like a tests/kvm/ test, one file holding the guest code (SD_KVM_GUEST)
# and the host main(); the guest half is built with vmm/kvm/module.mk's
# runtime, guest/ library and linker script, the host half links the VMM
# library and the baselines (bench/baseline/). Without /dev/kvm a program
# prints "SKIP: /dev/kvm not available" and exits 77.
#
# Read before vmm/kvm/module.mk: what it defines appears here only in
# prerequisites under secondary expansion ($$) and in recipes.
KBENCH_SRCS := $(sort $(wildcard bench/kvm/bench_*.c))
KBENCH_BINS := $(patsubst bench/kvm/%.c,$(BUILD)/bench/kvm/%,$(KBENCH_SRCS))
KBENCH_GDIR := $(BUILD)/bench/kvm/guest

$(KBENCH_GDIR)/%.o: bench/kvm/%.c $(FS_INC)/.stamp
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC [G]  $@")
	$(Q)$(CC) $(FS_CFLAGS) -DSD_KVM_GUEST $(KVM_INC) -MMD -MP -c $< -o $@

$(KBENCH_GDIR)/%.elf: $(KBENCH_GDIR)/%.o $$(KVM_RT_OBJS) $$(KVM_GUEST_LIB) $$(KVM_GUEST_LDS)
	$(if $(Q),@echo "  LD [G]  $@")
	$(Q)$(CC) -nostdlib -static -no-pie -Wl,-T,$(KVM_GUEST_LDS) -Wl,--build-id=none \
		-Wl,--no-warn-rwx-segments -o $@ $(KVM_RT_OBJS) $< $(KVM_GUEST_LIB)

$(KBENCH_GDIR)/%.image.o: $(KBENCH_GDIR)/%.elf vmm/kvm/guest_image.S
	$(if $(Q),@echo "  AS      $@")
	$(Q)$(CC) -c -DSD_GUEST_ELF='"$<"' vmm/kvm/guest_image.S -o $@

# A static pattern rule: bench/module.mk's $(BUILD)/bench/% would match too.
$(KBENCH_BINS): $(BUILD)/bench/kvm/bench_%: bench/kvm/bench_%.c bench/bench.h \
		$(KBENCH_GDIR)/bench_%.image.o $$(KVM_LIB) $(LIBSDBASELINE) $(LIBSD)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CCLD    $@")
	$(Q)$(CC) $(USER_CFLAGS) $(KVM_INC) -Ibench -Ibench/baseline -MMD -MP $< -o $@ \
		$(KBENCH_GDIR)/bench_$*.image.o $(KVM_LIB) $(LIBSDBASELINE) $(LIBSD) \
		$(USER_LDFLAGS) $(URCU_LIBS) -lpthread -lm

# `make bench` and `make bench-smoke` run these after bench/'s own programs.
BENCH_EXTRA_BINS += $(KBENCH_BINS)
BINS += $(KBENCH_BINS)

.PRECIOUS: $(KBENCH_GDIR)/%.elf $(KBENCH_GDIR)/%.o $(KBENCH_GDIR)/%.image.o
-include $(KBENCH_BINS:=.d) $(patsubst %,$(KBENCH_GDIR)/%.d,$(notdir $(KBENCH_BINS)))
