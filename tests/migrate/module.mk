# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/migrate/: live migration on /dev/kvm (SKIP without).
MIGRATE_TEST := $(BUILD)/tests/test-migrate
$(eval $(call script_wrapper,$(MIGRATE_TEST),tests/migrate/test-migrate.sh,$(CLI_BIN),\
	$(CURDIR)/$(CLI_BIN)))

# Authenticated peers (docs/STREAM.md 3): wrong keys, a replayed HELLO, version-1 peers.
AUTH_TEST := $(BUILD)/tests/test-auth
$(eval $(call script_wrapper,$(AUTH_TEST),tests/migrate/test-auth.sh,$(CLI_BIN),\
	$(CURDIR)/$(CLI_BIN)))
# Key files (docs/STREAM.md 8): keygen, and every bad file refused by name; no KVM needed.
KEYGEN_TEST := $(BUILD)/tests/test-keygen
$(eval $(call script_wrapper,$(KEYGEN_TEST),tests/migrate/test-keygen.sh,$(CLI_BIN),\
	$(CURDIR)/$(CLI_BIN)))

CHECK_BINS += $(MIGRATE_TEST) $(AUTH_TEST) $(KEYGEN_TEST)
# About 22 migrations of a 256 MiB guest, each under its own deadlines.
CHECK_TIMEOUTS += $(MIGRATE_TEST)=1200
# Five refused migrations of a 64 MiB guest (about 15 s), each process under timeout(1).
CHECK_TIMEOUTS += $(AUTH_TEST)=300 $(KEYGEN_TEST)=120

# A guest that keeps moving (issue 17): 20 hops between two long-lived VMMs.
HOPS_TEST := $(BUILD)/tests/test-hops
$(eval $(call script_wrapper,$(HOPS_TEST),tests/migrate/test-hops.sh,$(CLI_BIN),\
	$(CURDIR)/$(CLI_BIN)))
CHECK_BINS += $(HOPS_TEST)
# 20 hops of a 128 MiB guest, about 3 s each here; each wait inside has its own deadline.
CHECK_TIMEOUTS += $(HOPS_TEST)=600

# Crashes at any moment (issue 17): SIGKILL of either side at chosen and seeded points.
CRASH_TEST := $(BUILD)/tests/test-crash
$(CRASH_TEST): tests/migrate/test-crash.py $(CLI_BIN)
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\nexec python3 %s/%s %s\n' "$(CURDIR)" tests/migrate/test-crash.py \
		"$(CURDIR)/$(CLI_BIN)" > $@
	$(Q)chmod +x $@
CHECK_BINS += $(CRASH_TEST)
# About 45 migrations of a 64 MiB guest, two processes each, every wait under a deadline.
CHECK_TIMEOUTS += $(CRASH_TEST)=600
