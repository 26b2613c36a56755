#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# demo-hc.sh - on a KVM that forwards SD_HC_REGISTER: a demo migration of a
# guest that can register only by hypercall. Every VMM of the run serves
# the hypercall alone (SD_VMM_REG_TRANSPORTS=hc: CPUID bit 29 only, the
# MSRs not trapped), so the guest's registration, and with it the
# migration, succeeds only through VMMCALL -> KVM -> KVM_EXIT_HYPERCALL ->
# the VMM -> host/ -> RAX. The destination re-validates the registration
# it receives; mismatches must be 0 and the guest's own check clean.
# Environment: SD_CLI (the sev-donate binary, default build/sev-donate).
bin=${SD_CLI:-build/sev-donate}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
SD_VMM_REG_TRANSPORTS=hc "$bin" migrate --demo --json --ram 64M --warmup 100 --after 100 --max-downtime 60000 \
	--seed 7 >"$out"
rc=$?
python3 - "$out" "$rc" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
d = j["destination"]
ok = (sys.argv[2] == "0" and j["result"] == "migrated" and j["error"] is None and
      j["mismatches"] == 0 and d["never_received"] == 0 and d["verified"] and
      d["pages_checked"] == 16384 - 4096 and d["bad_content"] == 0 and d["bad_state"] == 0 and
      j["source"]["committed"] and j["pages_encrypted"] > 0 and j["pages_plain"] > 0)
print("demo-hc: registered by hypercall only; exit %s, %s, mismatches=%s, %s pages checked, "
      "passes %s, downtime %s ms" % (sys.argv[2], j["result"], j["mismatches"],
                                      d["pages_checked"], j["passes"], j["downtime_ms"]))
sys.exit(0 if ok else 1)
PY
