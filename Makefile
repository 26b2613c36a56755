# SPDX-License-Identifier: GPL-2.0 OR MIT
# Makefile - sev-donate. Plain make; `make help` lists every target.
#
# Each directory adds its pieces in its own module.mk, read in the order
# listed below (MODULES): a module uses only what the ones before it define.
# Each target is documented where it is defined, by a `#> target  what` line
# that `make help` prints.
#
#> all                build everything into build/ (libraries, tools, tests)
#> check              run every test program under its deadline; ends with "N passed, N failed, N skipped"
#> check SAN=address,undefined  the same under ASan and UBSan (SAN=thread: TSan), in build/san-*/
#> freestanding       prove proto/, guest/ and host/ need nothing but the documented hooks
#> clean              remove build/
#> help               this list
#> deps               only install (as root) or name the Debian packages the build needs
#>   (V=1 shows command lines; warnings are errors; TEST_TIMEOUT=N sets the default deadline)

V	?= 0
Q	:= $(if $(filter 1,$(V)),,@)

# What the goals need from Debian, installed (as root) or named (otherwise) by
# scripts/deps.sh before anything is compiled. DEPS=0 skips the check.
DEPS ?= 1
deps_for = $(if $(filter $(1),$(or $(MAKECMDGOALS),all)),$(2))
DEPS_GROUPS := build $(call deps_for,check linux-check linux-module,vm cpu) \
	$(call deps_for,nested-check,vm nested) $(call deps_for,check,dkms) \
	$(call deps_for,deb-check,deb) $(call deps_for,netns-check,net) \
	$(call deps_for,fuzz,fuzz) $(call deps_for,model,model) \
	$(call deps_for,bench bench-smoke,bench)
ifeq ($(DEPS)$(filter-out clean help deps,$(or $(MAKECMDGOALS),all)),1)
else ifneq ($(DEPS),0)
ifneq ($(shell scripts/deps.sh $(DEPS_GROUPS) >&2 && echo ok),ok)
$(error the packages above are missing: install them (the command is above), or make DEPS=0)
endif
endif
SAN	?=
CC	?= cc
ifeq ($(origin CC),default)
CC	:= gcc
endif

# Sanitizer builds live beside the normal one so both can coexist.
BUILD	?= build$(if $(SAN),/san-$(subst $(comma),-,$(SAN)))
comma	:= ,

# Warnings are errors by default; a packager builds with WERROR= (new
# compilers add warnings).
WERROR	?= -Werror
WARN	:= -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wvla -Wundef -Wformat=2 -Wcast-qual -Wwrite-strings \
	   -Wmissing-declarations -Wimplicit-fallthrough
OPT	?= -O2
CPPFLAGS ?=
BASE_CFLAGS := -std=gnu11 $(OPT) -g $(WARN) -Iinclude -Iproto -Iguest -Ihost $(CPPFLAGS)

# Userspace: liburcu's barriers (SPEC.md 2.3), except under ThreadSanitizer,
# which must see the table's deliberate races as C11 atomics (proto/barrier.h).
ifeq ($(findstring thread,$(SAN)),)
URCU_DEF := -DSD_USE_URCU
endif
SAN_FLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all)
CFLAGS	?=
LDFLAGS	?=
# The userspace build's CPU baseline: POPCNT (every x86-64 CPU since 2008); a
# packager builds for any x86-64 with CPU_FLAGS= (vmm/cpu_check.c names what
# is missing at start-up instead of a SIGILL).
CPU_FLAGS ?= -mpopcnt
USER_CFLAGS_NOCPU := $(BASE_CFLAGS) -D_GNU_SOURCE $(URCU_DEF) $(SAN_FLAGS) $(CFLAGS)
USER_CFLAGS := $(USER_CFLAGS_NOCPU) $(CPU_FLAGS)
USER_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS) -Wl,--undefined=sd_cpu_check

CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
URCU_LIBS     := $(shell pkg-config --libs liburcu-memb 2>/dev/null || echo -lurcu-memb)

# Freestanding: no libc headers (-nostdinc; only the compiler's own headers
# and the kernel UAPI types), no libc, no floating point or SIMD registers.
GCC_INC	:= $(shell $(CC) -print-file-name=include)
FS_INC	:= $(BUILD)/fs-include
FS_CFLAGS := $(BASE_CFLAGS) -ffreestanding -fno-builtin -nostdinc -isystem $(GCC_INC) \
	     -isystem $(FS_INC) -mgeneral-regs-only -mno-red-zone -fno-stack-protector \
	     -fno-pic -fno-asynchronous-unwind-tables
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

all:

# ---- pieces contributed by each directory -----------------------------------
# Each module.mk appends to:
#   SD_SRCS        freestanding sources (proto/, guest/, host/): built twice,
#                  into libsd.a for userspace and into the freestanding proof
#   SD_ENV_SRCS    freestanding environment implementations (e.g. a spinlock):
#                  compiled freestanding, linked into libsd.a, but kept out of
#                  the freestanding link so the hooks they resolve stay visible
#   FS_ALLOWED     undefined symbols the freestanding link may leave (hooks)
#   USER_LIBS      userspace archives tests and benchmarks link (prerequisites too)
#   USER_LDLIBS    -l flags for those archives;  USER_INC  their -I flags
#   BINS           userspace programs
#   CHECK_BINS     test programs `make check` runs, in order
#   CHECK_TIMEOUTS PROGRAM=SECONDS deadlines for those that need more than TEST_TIMEOUT
#   CHECK_EXTRA    further targets `make check` depends on and runs
# Defined before the includes: rule prerequisites are expanded as they are read.
LIBSD	:= $(BUILD)/libsd.a
TESTLIB	:= $(BUILD)/libsdtest.a

# Userspace archives and flags that tests and benchmarks link (modules add to them).
USER_LIBS :=
USER_LDLIBS :=
USER_INC :=

SD_SRCS	:=
SD_ENV_SRCS :=
FS_ALLOWED :=
BINS	:=
CHECK_BINS :=
CHECK_TIMEOUTS :=
CHECK_EXTRA :=

# Module order matters only in one way: a module may use, in a rule's
# prerequisites, what an earlier module defined.
MODULES := \
	proto guest host lib \
	vmm/kvm vmm/migrate vmm/cli \
	bench/baseline bench/kvm bench \
	tests tests/unit tests/kvm tests/cli tests/migrate tests/packaging tests/fuzz tests/linux tests/nested \
	tests/model tests/netns \
	guest/linux tests/nested/kmod
CLI_BIN := $(BUILD)/sev-donate

# $(call script_wrapper,PROGRAM,SCRIPT,PREREQUISITES,ARGUMENTS): PROGRAM is a
# two-line sh wrapper that runs SCRIPT with ARGUMENTS, for the scripts that test
# a build's binaries (plain and sanitizer builds live in different directories).
define script_wrapper
$(1): $(2) $(3)
	@mkdir -p $$(dir $$@)
	$$(Q)printf '#!/bin/sh\nexec sh %s/%s %s\n' "$$(CURDIR)" "$(2)" "$(4)" > $$@
	$$(Q)chmod +x $$@
endef

include $(patsubst %,%/module.mk,$(MODULES))

# ---- userspace library of the freestanding core -----------------------------
SD_OBJS	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(SD_SRCS) $(SD_ENV_SRCS))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(CC) $(USER_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c $< -o $@

# Checks, before main(), that the CPU has what CPU_FLAGS compiled for.
CPU_CHECK_OBJ := $(BUILD)/obj/vmm/cpu_check.o
$(CPU_CHECK_OBJ): vmm/cpu_check.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(CC) $(USER_CFLAGS_NOCPU) $(if $(findstring -mpopcnt,$(CPU_FLAGS)),-DSD_BUILT_WITH_POPCNT) \
		-MMD -MP -c $< -o $@

$(LIBSD): $(SD_OBJS) $(CPU_CHECK_OBJ)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# ---- freestanding proof -----------------------------------------------------
FS_OBJS	:= $(patsubst %.c,$(BUILD)/fs/%.o,$(SD_SRCS))
FS_ENV_OBJS := $(patsubst %.c,$(BUILD)/fs/%.o,$(SD_ENV_SRCS))
FS_LINK	:= $(BUILD)/fs/sev-donate-freestanding.o

$(FS_INC)/.stamp:
	@mkdir -p $(FS_INC)
	$(Q)ln -sfn /usr/include/linux $(FS_INC)/linux
	$(Q)ln -sfn /usr/include/asm-generic $(FS_INC)/asm-generic
	$(Q)ln -sfn $(firstword $(wildcard /usr/include/$(MULTIARCH)/asm /usr/include/asm)) $(FS_INC)/asm
	@touch $@

$(BUILD)/fs/%.o: %.c $(FS_INC)/.stamp
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC [FS] $@")
	$(Q)$(CC) $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(FS_LINK): $(FS_OBJS)
	$(if $(Q),@echo "  LD [FS] $@")
	$(Q)$(CC) -nostdlib -ffreestanding -r -o $@ $^

freestanding: $(FS_LINK) $(FS_ENV_OBJS)
	$(Q)undef=$$(nm -u $(FS_LINK) | awk '{print $$2}' | sort -u | tr '\n' ' '); \
	bad=$$(for s in $$undef; do case " $(FS_ALLOWED) " in *" $$s "*) ;; *) echo $$s;; esac; done); \
	if [ -n "$$bad" ]; then \
		echo "freestanding: FAIL: undefined symbols beyond the documented hooks:" $$bad; exit 1; \
	fi; \
	echo "freestanding: OK: $(words $(FS_OBJS)) objects ($(sort $(dir $(SD_SRCS)))) linked with -ffreestanding -nostdlib -nostdinc -mgeneral-regs-only"; \
	echo "freestanding: undefined symbols (documented hooks only): $${undef:-none}"

# ---- tests --------------------------------------------------------------------
# Every test program runs under a deadline (tests/run-tests.py): TEST_TIMEOUT
# seconds, or what CHECK_TIMEOUTS (PROGRAM=SECONDS, next to each test in its
# module.mk) says for that program.
TEST_TIMEOUT ?= 120
RUN_TESTS = SD_TEST_TIMEOUTS="$(CHECK_TIMEOUTS)" tests/run-tests.py --timeout $(TEST_TIMEOUT)

check: all freestanding $(CHECK_BINS) $(CHECK_EXTRA)
	$(Q)$(RUN_TESTS) $(CHECK_BINS)

all: $(LIBSD) $(BINS) $(CHECK_BINS)

clean:
	rm -rf build
	rm -f guest/linux/*.ko guest/linux/*.mod guest/linux/*.mod.c guest/linux/modules.order \
	      guest/linux/Module.symvers guest/*.o guest/linux/*.o proto/*.o host/*.o \
	      tests/nested/kmod/*.ko tests/nested/kmod/*.mod tests/nested/kmod/*.mod.c \
	      tests/nested/kmod/*.o tests/nested/kmod/modules.order tests/nested/kmod/Module.symvers
	find guest proto host tests/nested/kmod -name '.*.cmd' -delete

help:
	@sed -n 's/^#> //p' $(MAKEFILE_LIST)

deps:
	$(Q)scripts/deps.sh build

.PHONY: all check freestanding clean help deps
.DELETE_ON_ERROR:

-include $(SD_OBJS:.o=.d) $(FS_OBJS:.o=.d) $(FS_ENV_OBJS:.o=.d)
