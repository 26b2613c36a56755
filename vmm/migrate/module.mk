# vmm/migrate/: the migration stream (docs/STREAM.md) and its SEV stand-in
# (build/libsdmig.a, linked by tests); the source and destination VMMs and the
# demo guest they migrate (linked into the CLI as `sev-donate migrate`).
MIG_SRCS := vmm/migrate/stream.c vmm/migrate/transport.c
MIG_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(MIG_SRCS))
LIBSDMIG := $(BUILD)/libsdmig.a

$(LIBSDMIG): $(MIG_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

USER_LIBS += $(LIBSDMIG)
USER_LDLIBS += $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium)
USER_INC += -Ivmm/migrate

# The migration drivers use the KVM harness (vmm/kvm/).
MIGRUN_SRCS := vmm/migrate/demo_vm.c vmm/migrate/source.c vmm/migrate/dest.c \
	       vmm/migrate/report.c vmm/migrate/cli_migrate.c
MIGRUN_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(MIGRUN_SRCS))
$(MIGRUN_OBJS): EXTRA_CFLAGS += $(KVM_INC) -Ivmm/cli

# The demo guest: freestanding, linked with the KVM guest runtime like a KVM test.
$(KVM_GUEST_DIR)/demo_guest.o: vmm/migrate/demo_guest.c $(FS_INC)/.stamp
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC [G]  $@")
	$(Q)$(CC) $(FS_CFLAGS) -DSD_KVM_GUEST $(KVM_INC) -Ivmm/migrate -MMD -MP -c $< -o $@

CLI_EXTRA_OBJS += $(MIGRUN_OBJS) $(KVM_GUEST_DIR)/demo_guest.image.o
CLI_EXTRA_LIBS += $(LIBSDMIG) $(KVM_LIB)
CLI_EXTRA_LDLIBS += $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium) -lpthread
-include $(MIG_OBJS:.o=.d) $(MIGRUN_OBJS:.o=.d) $(KVM_GUEST_DIR)/demo_guest.d

# The migration tests (needs /dev/kvm; SKIP without), and the demo.
MIGRATE_TEST := $(BUILD)/tests/test-migrate
$(MIGRATE_TEST): tests/migrate/test-migrate.sh $(CLI_BIN)
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\nexec sh %s/tests/migrate/test-migrate.sh %s/%s\n' \
		"$(CURDIR)" "$(CURDIR)" "$(CLI_BIN)" > $@
	$(Q)chmod +x $@
CHECK_BINS += $(MIGRATE_TEST)

# About 20 migrations of a 256 MiB guest, each under its own deadlines.
CHECK_TIMEOUTS += $(MIGRATE_TEST)=900

demo: $(CLI_BIN)
	$(CLI_BIN) migrate --demo
.PHONY: demo

# Issue 7 section 4: the demo migration's figures (bench/bench-migrate.sh).
BENCH_MIGRATE := $(BUILD)/bench/bench_migrate
$(BENCH_MIGRATE): bench/bench-migrate.sh $(CLI_BIN)
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\nexec sh %s/bench/bench-migrate.sh %s/%s\n' \
		"$(CURDIR)" "$(CURDIR)" "$(CLI_BIN)" > $@
	$(Q)chmod +x $@
BENCH_EXTRA_BINS += $(BENCH_MIGRATE)
