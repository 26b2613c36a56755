# SPDX-License-Identifier: GPL-2.0 OR MIT
# bench/: every bench/bench_*.c is one program; `make bench` runs them all
# through bench/run.sh. BENCH_QUICK=1 asks each for a reduced run.
# Benchmarks measure; they never fail on a number. bench/kvm/ (read before
# this) adds the programs it builds itself to BENCH_EXTRA_BINS.
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
BENCH_QUICK ?= 0

$(BUILD)/bench/%: bench/%.c bench/bench.h $(TESTLIB) $(LIBSD) $(USER_LIBS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CCLD    $@")
	$(Q)$(CC) $(USER_CFLAGS) -Ibench -Itests/lib $(USER_INC) -MMD -MP $< -o $@ \
		$(TESTLIB) $(USER_LIBS) $(LIBSD) $(USER_LDFLAGS) $(USER_LDLIBS) $(URCU_LIBS) \
		-lpthread -lm

# The demo migration's figures (bench/bench-migrate.sh).
BENCH_MIGRATE := $(BUILD)/bench/bench_migrate
$(eval $(call script_wrapper,$(BENCH_MIGRATE),bench/bench-migrate.sh,$(CLI_BIN),$(CURDIR)/$(CLI_BIN)))
BENCH_EXTRA_BINS += $(BENCH_MIGRATE)

# Both designs end to end, the change-rate sweep and the RAM scaling (bench/e2e.py).
BENCH_E2E := $(BUILD)/bench/bench_e2e
$(BENCH_E2E): bench/e2e.py $(CLI_BIN)
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\nexec python3 %s/bench/e2e.py %s\n' "$(CURDIR)" "$(CURDIR)/$(CLI_BIN)" > $@
	$(Q)chmod +x $@
BENCH_EXTRA_BINS += $(BENCH_E2E)

# A full run writes bench/results.{md,json}, bench/read_cost.png and e2e_*.png (committed);
# a BENCH_QUICK=1 run (under a minute) or bench-smoke the same files in $(BUILD)/bench.
BENCH_DEST := $(if $(filter 0,$(BENCH_QUICK)),bench,$(BUILD)/bench)

#> bench              every benchmark; writes bench/results.{md,json} and read_cost.png (BENCH_QUICK=1: a reduced run into build/bench)
bench: $(BENCH_BINS) $(BENCH_EXTRA_BINS)
	$(Q)rm -f $(BUILD)/bench/*.json
	$(Q)BENCH_QUICK=$(BENCH_QUICK) BENCH_OUT=$(BUILD)/bench bench/run.sh $(BENCH_BINS) $(BENCH_EXTRA_BINS)
	$(Q)BENCH_QUICK=$(BENCH_QUICK) python3 bench/report.py $(BUILD)/bench $(BENCH_DEST) \
		"make bench$(if $(filter 0,$(BENCH_QUICK)),, BENCH_QUICK=$(BENCH_QUICK))"

# Seconds: every benchmark builds and runs its smallest configuration once.
#> bench-smoke        every benchmark's smallest configuration once (seconds; CI)
bench-smoke: $(BENCH_BINS) $(BENCH_EXTRA_BINS)
	$(Q)rm -f $(BUILD)/bench/*.json
	$(Q)BENCH_SMOKE=1 BENCH_OUT=$(BUILD)/bench bench/run.sh $(BENCH_BINS) $(BENCH_EXTRA_BINS)
	$(Q)BENCH_SMOKE=1 python3 bench/report.py $(BUILD)/bench $(BUILD)/bench "make bench-smoke"

BINS += $(BENCH_BINS)
.PHONY: bench bench-smoke
-include $(BENCH_BINS:=.d)
