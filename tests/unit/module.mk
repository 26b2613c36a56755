# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/unit/: CMocka suites. Every tests/unit/test_*.c is one program,
# linked with the test support library (tests/lib/) and libsd.a.
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TESTLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TESTLIB_SRCS))

$(TESTLIB): $(TESTLIB_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# $(USER_LIBS): expanded after every module.mk has been read.
$(BUILD)/tests/%: tests/unit/%.c $(TESTLIB) $(LIBSD) $(USER_LIBS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CCLD    $@")
	$(Q)$(CC) $(USER_CFLAGS) $(CMOCKA_CFLAGS) -Itests/lib $(USER_INC) -MMD -MP $< -o $@ \
		$(TESTLIB) $(USER_LIBS) $(LIBSD) $(USER_LDFLAGS) $(CMOCKA_LIBS) $(USER_LDLIBS) \
		$(URCU_LIBS) -lpthread

CHECK_BINS += $(UNIT_BINS)
-include $(UNIT_BINS:=.d) $(TESTLIB_OBJS:.o=.d)
