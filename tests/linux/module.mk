# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/linux/: sev_donate.ko in a real Linux guest under QEMU (linux-check.py)
# and the host-side oracle it compares with (sdimage.py, tested by
# test_sdimage.py without QEMU).
#
#   make linux-check     build the module and the CLI, boot, churn, compare
#
# Under `make check` linux-check.py runs like any test program: it SKIPs
# (exit 77, with the reason) where QEMU, the kernel image and headers, or a
# static busybox are not installed, and FAILs on anything else.
SD_CLI_BIN ?= $(BUILD)/sev-donate
export SD_BUILD := $(BUILD)
export SD_CLI := $(SD_CLI_BIN)

CHECK_BINS += tests/linux/test_sdimage.py tests/linux/linux-check.py

# Booting a kernel under TCG: minutes on a slow or loaded host.
CHECK_TIMEOUTS += tests/linux/linux-check.py=600

#> linux-check        the Linux module in a real guest under QEMU TCG (needs QEMU, kernel image and headers)
linux-check: linux-module $(SD_CLI_BIN)
	$(Q)tests/linux/linux-check.py

.PHONY: linux-check
