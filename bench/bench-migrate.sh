#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# bench-migrate.sh SEV_DONATE - issue 7 section 4: the demo migration's
# figures (pages sent by mode, resends caused by state changes, passes,
# total time, downtime), medians over seeded runs. Writes
# $BENCH_OUT/bench_migrate.json. Needs /dev/kvm (SKIP, exit 77, without).
bin=$1
out=${BENCH_OUT:-build/bench}
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm not available"
	exit 77
fi
runs=5
[ "${BENCH_QUICK:-0}" != 0 ] && runs=2
[ "${BENCH_SMOKE:-0}" != 0 ] && runs=1
mkdir -p "$out"
"$bin" migrate --demo --json --runs "$runs" --seed 1000 >"$out/bench_migrate.raw.json" || {
	echo "bench_migrate: a migration failed (see $out/bench_migrate.raw.json)"
	exit 1
}
python3 - "$out/bench_migrate.raw.json" "$out/bench_migrate.json" "$runs" <<'PY'
import json, statistics, sys
raw = json.load(open(sys.argv[1]))
runs = raw if isinstance(raw, list) else [raw]
keys = ["pages_plain", "pages_encrypted", "pages_transition", "resent_for_status", "passes",
        "total_ms", "downtime_ms", "bytes_sent", "mismatches"]
med = {k: statistics.median(r[k] for r in runs) for k in keys}
final = [r["pass"][-1] for r in runs]
med["final_pass_pages"] = statistics.median(p["plain"] + p["encrypted"] + p["transition"] for p in final)
med["final_pass_ms"] = statistics.median(p["ms"] for p in final)
out = {"runs": len(runs), "guest": "demo guest: 256 MiB, 2 vCPUs churning at CPL 3, 1024-page chunks",
       "median": med, "max_mismatches": max(r["mismatches"] for r in runs),
       "per_run": [{k: r[k] for k in keys} for r in runs]}
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(f"bench_migrate: {len(runs)} migrations of the demo guest (medians)")
print(f"  passes {med['passes']:g}, pages plain {med['pages_plain']:g}, encrypted "
      f"{med['pages_encrypted']:g}, in transition {med['pages_transition']:g}")
print(f"  resent because their state changed {med['resent_for_status']:g}; "
      f"final pass {med['final_pass_pages']:g} pages in {med['final_pass_ms']:.1f} ms")
print(f"  total {med['total_ms']:.0f} ms, downtime {med['downtime_ms']:.1f} ms, "
      f"mismatches (max over runs) {out['max_mismatches']}")
PY
