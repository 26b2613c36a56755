# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/nested/kmod/: host/ inside a kernel. sd_host_kmod.ko (Kbuild here)
# builds host/ and proto/ unchanged into a test module whose only accessor
# is copy() over copy_from_user(); test_host_kmod drives it through
# /dev/sd_host_kmod with every conformance vector and with real faults.
# nested-check loads the module in its guest and runs the program there.
#
#   make host-kmod                  build the module against the kernel
#                                   nested-check boots (LINUX_KVER, guest/linux/module.mk)
#
# As for sev_donate.ko (guest/linux/module.mk's kbuild_module), Kbuild runs
# on a mirror of the sources (symlinks) under $(BUILD)/kmod/src, so nothing
# is written into the tree.
HOSTKMOD_DIR  := $(BUILD)/kmod
HOSTKMOD_SRC  := $(HOSTKMOD_DIR)/src
HOSTKMOD      := $(HOSTKMOD_DIR)/sd_host_kmod.ko
HOSTKMOD_TEST := $(HOSTKMOD_DIR)/test_host_kmod
HOSTKMOD_SOURCES := $(wildcard include/*.h) $(wildcard proto/*.[ch]) $(wildcard host/*.[ch]) \
		    tests/nested/kmod/Kbuild tests/nested/kmod/sd_kmod_dev.c \
		    tests/nested/kmod/sd_host_kmod.h

hostkmod_build = $(call kbuild_module,$(HOSTKMOD_SOURCES),$(HOSTKMOD_SRC),tests/nested/kmod,sd_host_kmod,$(HOSTKMOD))

#> host-kmod          build tests/nested/kmod's sd_host_kmod.ko (host/ in a kernel module) against the kernel headers
host-kmod:
	$(call kbuild_need_kdir,host-kmod)
	$(hostkmod_build)

# Where there are no headers, nested-check SKIPs on the missing kernel anyway.
host-kmod-if-possible:
	$(if $(LINUX_KDIR),$(hostkmod_build),@echo "host-kmod: SKIP: no kernel headers installed")

$(HOSTKMOD_TEST): tests/nested/kmod/test_host_kmod.c $(TESTLIB) $(LIBSD) $(USER_LIBS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CCLD    $@")
	$(Q)$(CC) $(USER_CFLAGS) $(CMOCKA_CFLAGS) -Itests/lib -Itests/unit -Itests/nested/kmod \
		$(USER_INC) -MMD -MP $< -o $@ $(TESTLIB) $(USER_LIBS) $(LIBSD) $(USER_LDFLAGS) \
		$(CMOCKA_LIBS) $(USER_LDLIBS) $(URCU_LIBS) -lpthread

all: $(HOSTKMOD_TEST)
nested-check: host-kmod-if-possible $(HOSTKMOD_TEST)
# make check builds the module too (where headers exist): a change that breaks
# host/ in a kernel fails there, not only in CI's nested run.
CHECK_EXTRA += host-kmod-if-possible
.PHONY: host-kmod host-kmod-if-possible
-include $(HOSTKMOD_TEST).d
