# SPDX-License-Identifier: GPL-2.0 OR MIT
# vmm/cli/: the sev-donate command-line tool (make-image, check, dump, migrate).
CLI_SRCS := vmm/cli/sev-donate.c vmm/cli/make_image.c vmm/cli/keygen.c
CLI_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
$(CLI_OBJS): EXTRA_CFLAGS += -Ivmm/migrate

# CLI_EXTRA_OBJS / CLI_EXTRA_LIBS / CLI_EXTRA_LDLIBS: from vmm/migrate/ (read before).
$(CLI_BIN): $(CLI_OBJS) $(LIBSD) $(CLI_EXTRA_OBJS) $(CLI_EXTRA_LIBS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(CLI_OBJS) $(CLI_EXTRA_OBJS) -o $@ $(CLI_EXTRA_LIBS) $(LIBSD) $(USER_LDFLAGS) \
		$(CLI_EXTRA_LDLIBS) $(URCU_LIBS)

BINS += $(CLI_BIN)
-include $(CLI_OBJS:.o=.d)
