# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/migrate/: live migration on /dev/kvm (SKIP without).
MIGRATE_TEST := $(BUILD)/tests/test-migrate
$(eval $(call script_wrapper,$(MIGRATE_TEST),tests/migrate/test-migrate.sh,$(CLI_BIN),\
	$(CURDIR)/$(CLI_BIN)))

CHECK_BINS += $(MIGRATE_TEST)
# About 20 migrations of a 256 MiB guest, each under its own deadlines.
CHECK_TIMEOUTS += $(MIGRATE_TEST)=900

