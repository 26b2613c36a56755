# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/packaging/: make install as a packager runs it, and the installed
# tree as a consumer meets it (examples/, headers in C and C++, exports).
INSTALL_TEST := $(BUILD)/tests/test-install
$(eval $(call script_wrapper,$(INSTALL_TEST),tests/packaging/test-install.sh,\
	$(CLI_BIN) $(LIB_SO) $(LIB_A) $(MAN_PAGE),$(CURDIR) $(BUILD) $(SAN)))
CHECK_BINS += $(INSTALL_TEST)

# sev_donate.ko through DKMS (dkms add/build/remove on private trees) against
# installed kernel headers; SKIP without dkms or headers.
DKMS_TEST := $(BUILD)/tests/test-dkms
$(eval $(call script_wrapper,$(DKMS_TEST),tests/packaging/test-dkms.sh,,$(CURDIR) $(BUILD) $(SAN)))
CHECK_BINS += $(DKMS_TEST)
CHECK_TIMEOUTS += $(DKMS_TEST)=300

# The Debian packages (debian/): built from a scratch copy, lintian, their
# contents, installed into a scratch root, examples/ built against the -dev
# package, the -dkms package through DKMS. dpkg-buildpackage builds
# everything again, so this is its own target (CI runs it), not in `make
# check`; make installs its packages first (scripts/deps.sh deb).
DEB_TEST := $(BUILD)/tests/test-deb
$(eval $(call script_wrapper,$(DEB_TEST),tests/packaging/test-deb.sh,,$(CURDIR) $(BUILD) $(SAN)))
DEB_TIMEOUT ?= 900

#> deb-check          build the Debian packages (dpkg-buildpackage -b), lintian them, install them in a scratch root, use them
deb-check: $(DEB_TEST)
	$(Q)SD_TEST_TIMEOUTS="$(DEB_TEST)=$(DEB_TIMEOUT)" tests/run-tests.py $(DEB_TEST)

.PHONY: deb-check
