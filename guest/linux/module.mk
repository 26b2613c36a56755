# guest/linux/: sev_donate.ko, an out-of-tree Kbuild module that compiles
# guest/*.c and proto/*.c unchanged, against the headers of the newest
# kernel that has both an image in /boot and headers (Debian:
# linux-image-amd64 + linux-headers-amd64). Objects go to $(BUILD)/linux/kmod.
#
#   make linux-module                 build it (fails if there are no headers)
#   make linux-module LINUX_KVER=...  for another installed kernel
LINUX_KVER ?= $(shell guest/linux/find-kernel.sh 2>/dev/null)
LINUX_KDIR ?= $(if $(LINUX_KVER),/lib/modules/$(LINUX_KVER)/build)
# The compiler the distribution built its kernel with, whatever CC is here.
LINUX_CC   ?= gcc
KMOD_DIR   := $(BUILD)/linux/kmod
KMOD       := $(KMOD_DIR)/sev_donate.ko
KMOD_LINKS := $(wildcard guest/linux/*.c) $(wildcard guest/*.c) $(wildcard proto/*.c)

# Stage Kbuild and links to the sources in $(KMOD_DIR) (Kbuild puts objects
# beside sources), then run Kbuild. Kbuild tracks its own dependencies, so
# the target always runs and rebuilds only what changed. No BTF: the
# headers package has no vmlinux to base it on.
define kmod_build
	@mkdir -p $(KMOD_DIR)/guest $(KMOD_DIR)/proto
	$(Q)find $(KMOD_DIR) -name '*.c' -type l -delete
	$(Q)ln -sfn $(CURDIR)/guest/linux/Kbuild $(KMOD_DIR)/Kbuild
	$(Q)for f in $(KMOD_LINKS); do \
		case $$f in guest/linux/*) d=$(KMOD_DIR);; *) d=$(KMOD_DIR)/$${f%/*};; esac; \
		ln -sfn $(CURDIR)/$$f $$d/$${f##*/}; \
	done
	$(Q)$(MAKE) --no-print-directory -C $(LINUX_KDIR) M=$(abspath $(KMOD_DIR)) \
		SD_SRCROOT=$(CURDIR) CC=$(LINUX_CC) V=$(V) CONFIG_DEBUG_INFO_BTF_MODULES= modules
endef

#> linux-module       build guest/linux/sev_donate.ko against the installed kernel headers
linux-module:
	@if [ -z "$(LINUX_KDIR)" ]; then \
		echo "linux-module: no kernel with headers in /boot and /lib/modules/*/build:" \
		     "apt-get install linux-image-amd64 linux-headers-amd64"; exit 1; fi
	$(kmod_build)

# For `make check`: build the module where headers exist; where they don't,
# tests/linux/linux-check.py reports the SKIP and its reason.
linux-module-if-possible:
	$(if $(LINUX_KDIR),$(kmod_build),@echo "linux-module: SKIP: no kernel headers installed")

CHECK_EXTRA += linux-module-if-possible
.PHONY: linux-module linux-module-if-possible
