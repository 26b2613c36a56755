# SPDX-License-Identifier: GPL-2.0 OR MIT
# vmm/migrate/: the migration stream (docs/STREAM.md), its SEV stand-in and its
# transport (build/libsdmig.a, linked by tests); the source and destination
# VMMs and the demo guest they migrate (linked into the CLI as `sev-donate
# migrate`).
MIG_SRCS := vmm/migrate/stream.c vmm/migrate/handshake.c vmm/migrate/identity.c \
	    vmm/migrate/transport.c
MIG_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(MIG_SRCS))
LIBSDMIG := $(BUILD)/libsdmig.a
SODIUM_LIBS := $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium)

$(LIBSDMIG): $(MIG_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

USER_LIBS += $(LIBSDMIG)
USER_LDLIBS += $(SODIUM_LIBS)
USER_INC += -Ivmm/migrate

# The migration VMMs use the KVM harness (vmm/kvm/) and the CLI's parsers.
MIGRUN_SRCS := vmm/migrate/demo_vm.c vmm/migrate/exitlist.c vmm/migrate/source.c vmm/migrate/converge.c \
	       vmm/migrate/dest.c \
	       vmm/migrate/report.c vmm/migrate/hops.c vmm/migrate/crash.c \
	       vmm/migrate/cli_migrate.c
MIGRUN_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(MIGRUN_SRCS))
$(MIGRUN_OBJS): EXTRA_CFLAGS += $(KVM_INC) -Ivmm/cli -Ibench/baseline

# The demo guest: freestanding, linked with the KVM guest runtime like a KVM test.
MIG_GUEST_DIR := $(BUILD)/migrate/guest
$(eval $(call guest_image,$(MIG_GUEST_DIR),vmm/migrate,-Ivmm/migrate))

CLI_EXTRA_OBJS += $(MIGRUN_OBJS) $(MIG_GUEST_DIR)/demo_guest.image.o
# Design EXIT's region list is bench/baseline's model (built by that module, later).
CLI_EXTRA_LIBS += $(LIBSDMIG) $(KVM_LIB) $(BUILD)/libsdbaseline.a
CLI_EXTRA_LDLIBS += $(SODIUM_LIBS) -lpthread
-include $(MIG_OBJS:.o=.d) $(MIGRUN_OBJS:.o=.d) $(MIG_GUEST_DIR)/demo_guest.d

#> demo               the main job: live-migrate a churning guest between two VMMs here
demo: $(CLI_BIN)
	$(CLI_BIN) migrate --demo
.PHONY: demo
