# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/netns/: live migration between two test hosts (issue 17).
# netns-check.py builds them as two network namespaces joined by a veth pair
# (192.0.2.1, the source; 192.0.2.2, the destination), runs
# `sev-donate migrate --source` in one and `--dest` in the other, over links
# shaped by tbf and, for delay, stalls and holds, through relay.py (this
# kernel has no netem); `ip link set ... down` cuts the link. One line per
# case, a table of total time and downtime per link profile, and
# `netns-check: N passed, N failed, N skipped`.
#
#   make netns-check                 every case (root; CI runs it)
#   make netns-check NETNS_CASES=1,7 only those cases
#   make netns-check NETNS_RUNS=5    each case 5 times (the profile table
#                                    gives medians and ranges)
#
# Not root, no network namespaces, no tbf or no /dev/kvm: a loud SKIP (the
# script exits 77, which this target does not count as a failure). Every
# case has its own deadline and the run another; it deletes its namespaces
# on any exit, and those a dead earlier run left behind. Needs iproute2
# (scripts/deps.sh net, which make runs for this goal).
NETNS_CASES ?=
NETNS_RUNS ?= 1

#> netns-check        (root) migrate between two network namespaces: 1 Gbit/s and 100 Mbit/s, 1 and 20 ms round trips, stalls, cuts, an unreachable host
netns-check: $(CLI_BIN)
	$(Q)NETNS_CASES=$(NETNS_CASES) NETNS_RUNS=$(NETNS_RUNS) timeout -k 30 $$((960 * $(NETNS_RUNS))) \
		tests/netns/netns-check.py $(CURDIR)/$(CLI_BIN) \
		|| [ $$? -eq 77 ]

.PHONY: netns-check

# Under `make check`: the relay itself on loopback (no root): byte-exact
# delivery, holds exactly at each mark, stalls, delay, and that it stops by
# itself (idle, deadline, both sides closed).
CHECK_BINS += tests/netns/test_relay.py
CHECK_TIMEOUTS += tests/netns/test_relay.py=120
