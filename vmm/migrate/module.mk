# vmm/migrate/: the migration stream (docs/STREAM.md) and its SEV stand-in.
# Userspace; built into build/libsdmig.a.
MIG_SRCS := vmm/migrate/stream.c
MIG_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(MIG_SRCS))
LIBSDMIG := $(BUILD)/libsdmig.a

$(LIBSDMIG): $(MIG_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

USER_LIBS += $(LIBSDMIG)
USER_LDLIBS += $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium)
USER_INC += -Ivmm/migrate
-include $(MIG_OBJS:.o=.d)
