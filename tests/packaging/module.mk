# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/packaging/: make install as a packager runs it, and the installed
# tree as a consumer meets it (examples/, headers in C and C++, exports).
INSTALL_TEST := $(BUILD)/tests/test-install
$(eval $(call script_wrapper,$(INSTALL_TEST),tests/packaging/test-install.sh,\
	$(CLI_BIN) $(LIB_SO) $(LIB_A) $(MAN_PAGE),$(CURDIR) $(BUILD) $(SAN)))
CHECK_BINS += $(INSTALL_TEST)
