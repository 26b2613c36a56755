# SPDX-License-Identifier: GPL-2.0 OR MIT
# guest/linux/: sev_donate.ko, an out-of-tree module built by the kernel's
# Kbuild from guest/linux/Kbuild, which compiles guest/*.c and proto/*.c
# unchanged, against the headers of the newest kernel that has both an image
# in /boot and headers (Debian: linux-image-amd64 + linux-headers-amd64).
#
#   make linux-module                 build it (fails if there are no headers)
#   make linux-module LINUX_KVER=...  for another installed kernel
#   make linux-module-install         modules_install it (then depmod)
#
# Kbuild writes objects beside the sources, so this build runs on a mirror
# of the sources it needs in $(KMOD_SRC) (symlinks, the layout DKMS installs:
# include/, proto/, guest/, guest/linux/), and everything built stays under
# build/. `make -C KDIR M=$PWD/guest/linux` in the tree works as well.
LINUX_KVER ?= $(shell guest/linux/find-kernel.sh 2>/dev/null)
LINUX_KDIR ?= $(if $(LINUX_KVER),/lib/modules/$(LINUX_KVER)/build)
# The compiler the distribution built its kernel with, whatever CC is here.
LINUX_CC   ?= gcc
KMOD_DIR   := $(BUILD)/linux/kmod
KMOD_SRC   := $(KMOD_DIR)/src
KMOD       := $(KMOD_DIR)/sev_donate.ko
# What the module's source tree holds: here, in the mirror, and in the DKMS package.
KMOD_SOURCES := $(wildcard include/*.h) $(wildcard proto/*.[ch]) $(wildcard guest/*.[ch]) \
		$(wildcard guest/linux/*.[ch]) guest/linux/Kbuild

# Kbuild tracks its own dependencies, so the target always runs and rebuilds
# only what changed. No BTF: the headers package has no vmlinux to base it on.
# Also used for tests/nested/kmod's module:
#   $(call kbuild_make,MIRROR,DIR,TARGETS)  Kbuild TARGETS for M=MIRROR/DIR
#   $(call kbuild_module,SOURCES,MIRROR,DIR,NAME,LINK)  mirror SOURCES (symlinks),
#                         build DIR/NAME.ko there, and link it at LINK (a file
#                         in MIRROR's parent directory)
#   $(call kbuild_need_kdir,TARGET)  fail TARGET, saying why, without headers
define kbuild_make
	+$(Q)$(MAKE) --no-print-directory -C $(LINUX_KDIR) M=$(abspath $(1))/$(2) \
		SD_WERROR=y CC=$(LINUX_CC) V=$(V) CONFIG_DEBUG_INFO_BTF_MODULES= $(3)
endef
define kbuild_module
	$(Q)for f in $(1); do \
		mkdir -p $(2)/$${f%/*} && ln -sfn $(CURDIR)/$$f $(2)/$$f; done
	$(call kbuild_make,$(2),$(3),modules)
	$(Q)ln -sfn $(patsubst $(dir $(5))%,%,$(2))/$(3)/$(4).ko $(5)
endef
define kbuild_need_kdir
	@if [ -z "$(LINUX_KDIR)" ]; then \
		echo "$(1): no kernel with headers in /boot and /lib/modules/*/build:" \
		     "apt-get install linux-image-amd64 linux-headers-amd64"; exit 1; fi
endef
kmod_build = $(call kbuild_module,$(KMOD_SOURCES),$(KMOD_SRC),guest/linux,sev_donate,$(KMOD))

#> linux-module       build guest/linux/sev_donate.ko against the installed kernel headers
linux-module:
	$(call kbuild_need_kdir,linux-module)
	$(kmod_build)

# For `make check`: build the module where headers exist; where they don't,
# tests/linux/linux-check.py reports the SKIP and its reason.
linux-module-if-possible:
	$(if $(LINUX_KDIR),$(kmod_build),@echo "linux-module: SKIP: no kernel headers installed")

#> linux-module-install  install the module for LINUX_KVER (Kbuild's modules_install, then depmod)
linux-module-install: linux-module
	$(call kbuild_make,$(KMOD_SRC),guest/linux,modules_install)
	$(Q)depmod $(LINUX_KVER)

CHECK_EXTRA += linux-module-if-possible
.PHONY: linux-module linux-module-if-possible linux-module-install
