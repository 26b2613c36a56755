# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/model/: spin models of the writer and reader protocols (SPEC.md 2, 3, 4),
# described in docs/RELIABILITY.md ("Model check").
#
#   make model                          every configuration (about a minute on 2 CPUs)
#   make model MODEL_CONFIGS="hostile"  only the named ones (names: tests/model/run-model.sh)
#   make model MODEL_DEEP=1             also the larger deep-* instances (minutes, up to 4 GB)
#
# Exhaustive searches that must pass, and mutants and probes that must fail;
# exits non-zero on any other outcome. Needs spin (Debian package spin) and a
# C compiler. Not part of `make check`: it takes longer than a minute.
MODEL_CONFIGS ?=
MODEL_DEEP ?= 0

#> model              spin model checks of the protocol (needs spin; MODEL_DEEP=1 for the large ones)
model:
	$(Q)CC="$(CC)" MODEL_DEEP="$(MODEL_DEEP)" tests/model/run-model.sh $(BUILD)/model $(MODEL_CONFIGS)

.PHONY: model
