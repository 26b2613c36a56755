#!/bin/sh
# test-hops.sh SEV_DONATE - a guest that keeps moving (issue 17): one guest migrated A -> B ->
# A ... 20 times between two long-lived VMM processes (migrate --demo --hops 20), each
# destination the next hop's source. Asserts, from the JSON:
#   - every hop completed, alternating, authenticated, with the destination's checks clean:
#     the registration re-validated (else the hop fails), mismatches=0, every page received,
#     every page's content its ledger's version (at most one rewrite under way per vCPU);
#   - after the last hop the guest's own check of every page is clean;
#   - each VMM's file descriptors, threads and heap are the same after its last hop in a role
#     as after its first (exact: glibc's tcache is off for the run, SD_NO_TCACHE, so freed
#     blocks are not counted as in use), and its resident memory grows by at most
#     HOPS_RSS_SLACK_KB (default 256) from its second hop in a role to its last.
#   HOPS=n (default 20), HOPS_RAM (default 256M)
bin=$1
hops=${HOPS:-20}
ram=${HOPS_RAM:-256M}
slack=${HOPS_RSS_SLACK_KB:-256}
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm not available"
	exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
GLIBC_TUNABLES=glibc.malloc.tcache_count=0 timeout -s KILL 1500 "$bin" migrate --demo --json \
	--hops "$hops" --ram "$ram" --warmup 200 --after 200 >"$out" 2>/dev/null
rc=$?
python3 - "$out" "$rc" "$hops" "$ram" "$slack" <<'PY'
import json, sys
path, rc, hops, ram, slack = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
mib = int(ram[:-1]) if ram.endswith("M") else int(ram) >> 20
lane_pages = (mib * 256 - 4096)	# two lanes from 16 MiB to the end of RAM
n = failed = 0
def check(name, ok, detail=""):
    global n, failed
    n += 1
    if ok:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s %s" % (n, name, detail))
try:
    j = json.load(open(path))
except Exception as e:
    j = None
check("exit 0 and a JSON report", rc == 0 and j is not None, "(exit %d)" % rc)
if j:
    hop = j["hop"]
    check("%d hops asked, %d completed" % (hops, j["completed"]), j["completed"] == hops and len(hop) == hops)
    for h in hop:
        want = ("A", "B") if h["hop"] % 2 else ("B", "A")
        ok = (h["ok"] and h["error"] is None and (h["from"], h["to"]) == want and h["authenticated"]
              and h["mismatches"] == 0 and h["never_received"] == 0
              and h["contents_pages"] == lane_pages and h["contents_bad"] == 0
              and h["contents_rewriting"] <= 2 and h["downtime_ms"] is not None)
        check("hop %d %s->%s: authenticated, registration re-validated, mismatches=0, all %d "
              "lane pages' contents right (%d rewrites under way), downtime %.1f ms"
              % (h["hop"], h["from"], h["to"], h["contents_pages"], h["contents_rewriting"],
                 h["downtime_ms"] or -1), ok, json.dumps(h)[:600])
    f = j["final"]
    check("after hop %d the guest's own check on %s: every page intact" % (hops, f and f["vmm"]),
          f is not None and f["verified"] and f["pages_checked"] == lane_pages
          and f["bad_content"] == 0 and f["bad_state"] == 0, json.dumps(f))
    for vmm in "AB":
        for role in ("source", "destination"):
            u = j["usage"][vmm][role]
            if u is None:
                continue
            first, last = u["hops"]
            check("VMM %s as %s, hop %d vs hop %d: fds %s, threads %s, heap %s bytes (exact)"
                  % (vmm, role, first, last, u["fds"], u["threads"], u["heap_bytes"]),
                  u["fds"][0] == u["fds"][1] and u["threads"][0] == u["threads"][1]
                  and u["heap_bytes"][0] == u["heap_bytes"][1])
            # RSS: from this VMM's second hop in this role (the first touches code and buffers
            # of the other role for the first time).
            key = "source_vmm" if role == "source" else "dest_vmm"
            mine = [h for h in hop if (h["from"] == vmm) == (role == "source")]
            if len(mine) >= 2:
                a, b = mine[1][key]["rss_kb"], mine[-1][key]["rss_kb"]
                check("VMM %s as %s: RSS hop %d %d KiB, hop %d %d KiB (+%d, at most +%d)"
                      % (vmm, role, mine[1]["hop"], a, mine[-1]["hop"], b, b - a, slack),
                      b - a <= slack)
print("hops: %d checks, %d failed" % (n, failed))
print("%d passed, %d failed" % (n - failed, failed))
sys.exit(1 if failed else 0)
PY
