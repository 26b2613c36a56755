# vmm/cli/: the sev-donate command-line tool (make-image, check, dump).
CLI_SRCS := vmm/cli/sev-donate.c vmm/cli/make_image.c
CLI_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
CLI_BIN := $(BUILD)/sev-donate

# CLI_EXTRA_OBJS / CLI_EXTRA_LIBS / CLI_EXTRA_LDLIBS: added by modules read
# later (vmm/migrate/: the migrate command), hence the second expansion.
$(CLI_BIN): $(CLI_OBJS) $(LIBSD) $$(CLI_EXTRA_OBJS) $$(CLI_EXTRA_LIBS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CLI_OBJS) $(CLI_EXTRA_OBJS) -o $@ $(CLI_EXTRA_LIBS) $(LIBSD) $(USER_LDFLAGS) \
		$(CLI_EXTRA_LDLIBS) $(URCU_LIBS)

# The CLI's tests: a shell script, run through a wrapper that names this
# build's binary (plain and sanitizer builds live in different directories).
CLI_TEST := $(BUILD)/tests/test-cli
$(CLI_TEST): tests/cli/test-cli.sh $(CLI_BIN)
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\nexec sh %s/tests/cli/test-cli.sh %s/%s\n' \
		"$(CURDIR)" "$(CURDIR)" "$(CLI_BIN)" > $@
	$(Q)chmod +x $@

# The programs on emulated CPUs without POPCNT or SSE4.2 (qemu-user; SKIP without).
CPU_TEST := $(BUILD)/tests/test-cpu-features
$(CPU_TEST): tests/cli/test-cpu-features.sh $(CLI_BIN) $(BUILD)/tests/test_stream
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\nexec sh %s/tests/cli/test-cpu-features.sh %s/%s %s\n' \
		"$(CURDIR)" "$(CURDIR)" "$(BUILD)" "$(SAN)" > $@
	$(Q)chmod +x $@

BINS += $(CLI_BIN)
CHECK_BINS += $(CLI_TEST) $(CPU_TEST)
-include $(CLI_OBJS:.o=.d)
