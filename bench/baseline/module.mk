# SPDX-License-Identifier: GPL-2.0 OR MIT
# bench/baseline/: models of the designs this protocol replaces (the QEMU
# patches' shared-region list, the host-kept KVM_GET_PAGE_ENC_BITMAP bitmap),
# the protocol's per-page lookup through host/, and the shared-memory
# layouts the benchmarks use. Userspace; build/libsdbaseline.a, linked by
# every benchmark and test (tests/unit/test_baseline.c checks the models).
BASELINE_SRCS := $(sort $(wildcard bench/baseline/*.c))
BASELINE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(BASELINE_SRCS))
LIBSDBASELINE := $(BUILD)/libsdbaseline.a

$(LIBSDBASELINE): $(BASELINE_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

USER_LIBS += $(LIBSDBASELINE)
USER_INC += -Ibench/baseline
-include $(BASELINE_OBJS:.o=.d)
