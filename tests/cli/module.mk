# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/cli/: the CLI's own tests, and the programs on emulated CPUs.
CLI_TEST := $(BUILD)/tests/test-cli
$(eval $(call script_wrapper,$(CLI_TEST),tests/cli/test-cli.sh,$(CLI_BIN),$(CURDIR)/$(CLI_BIN)))

# Without POPCNT or SSE4.2, under qemu-user (SKIP without it, and in sanitizer builds).
CPU_TEST := $(BUILD)/tests/test-cpu-features
$(eval $(call script_wrapper,$(CPU_TEST),tests/cli/test-cpu-features.sh,\
	$(CLI_BIN) $(BUILD)/tests/test_stream,$(CURDIR)/$(BUILD) $(SAN)))

CHECK_BINS += $(CLI_TEST) $(CPU_TEST)

# The README's examples, run as written.
README_TEST := $(BUILD)/tests/test-readme
$(eval $(call script_wrapper,$(README_TEST),tests/scripts/test-readme.sh,$(CLI_BIN),$(CURDIR)/$(BUILD)))
CHECK_BINS += $(README_TEST)
