# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/fuzz/: libFuzzer targets (make fuzz), and their replay under make check.
#
#   make fuzz FUZZ_SECONDS=N    build with clang -fsanitize=fuzzer,address,undefined and run
#                               every target N seconds (default 20) from its seed corpus
#   make fuzz-replay            replay seeds and tests/fuzz/regressions/<target>/ (make check)
FUZZ_TARGETS := register chunk walk paused stream handshake
FUZZ_SECONDS ?= 20
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SEEDS := $(FUZZ_DIR)/seeds
FUZZ_REPLAY := $(patsubst %,$(FUZZ_DIR)/replay_%,$(FUZZ_TARGETS))

# Replay binaries: the normal userspace build of each target plus replay.c.
$(FUZZ_DIR)/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIBSD) $(USER_LIBS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CCLD    $@")
	$(Q)$(CC) $(USER_CFLAGS) -Itests/fuzz $(USER_INC) -MMD -MP $< tests/fuzz/replay.c -o $@ \
		$(USER_LIBS) $(LIBSD) $(USER_LDFLAGS) $(USER_LDLIBS)

$(FUZZ_DIR)/gen_stream_seeds: tests/fuzz/gen_stream_seeds.c tests/fuzz/fuzz_stream.h $(LIBSD) $(USER_LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/fuzz $(USER_INC) $< -o $@ $(USER_LIBS) $(LIBSD) \
		$(USER_LDFLAGS) $(USER_LDLIBS)

$(FUZZ_SEEDS)/.stamp: tests/fuzz/mkseeds.py tests/conformance/MANIFEST $(FUZZ_DIR)/gen_stream_seeds
	@mkdir -p $(FUZZ_SEEDS)/stream
	$(Q)python3 tests/fuzz/mkseeds.py $(FUZZ_SEEDS) >/dev/null
	$(Q)$(FUZZ_DIR)/gen_stream_seeds $(FUZZ_SEEDS)/stream >/dev/null
	@touch $@

#> fuzz-replay        replay the fuzzers' seeds and regressions (part of check)
fuzz-replay: $(FUZZ_REPLAY) $(FUZZ_SEEDS)/.stamp
	$(Q)for t in $(FUZZ_TARGETS); do \
		$(FUZZ_DIR)/replay_$$t $(FUZZ_SEEDS)/$$t tests/fuzz/regressions/$$t | sed -n 1p || exit 1; \
	done

# libFuzzer builds: every source compiled by clang with the fuzzer's instrumentation.
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	       -mpopcnt -msse4.2 -Iinclude -Iproto -Iguest -Ihost -Itests/fuzz -Ivmm/migrate
FUZZ_LIB_SRCS = $(SD_SRCS) $(SD_ENV_SRCS) $(MIG_SRCS)

$(FUZZ_DIR)/libfuzzer/fuzz_%: tests/fuzz/fuzz_%.c $(SD_SRCS) $(MIG_SRCS) tests/fuzz/fuzz_host.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_LIB_SRCS) -o $@ $(SODIUM_LIBS)

#> fuzz               run every libFuzzer target FUZZ_SECONDS (default 20) each (needs clang)
fuzz: $(patsubst %,$(FUZZ_DIR)/libfuzzer/fuzz_%,$(FUZZ_TARGETS)) $(FUZZ_SEEDS)/.stamp
	$(Q)tests/fuzz/run-fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

CHECK_EXTRA += fuzz-replay
.PHONY: fuzz fuzz-replay
-include $(FUZZ_REPLAY:=.d)
