#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""e2e.py SEV_DONATE - the whole migration, this protocol against an exit per change (issue 19).

Runs `sev-donate migrate --demo` under both designs (--design table: the guest keeps
its table; --design exit: the guest reports every page-state change by an exit and
the VMM keeps AMD's QEMU region list), interleaved, with the same seeds:

  side by side   each design as fast as its guest goes (repeats, medians)
  rate sweep     --change-rate from a few hundred per second up to unpaced
  scaling        256 MiB, 1 GiB, 4 GiB guests (both designs where memory allows)

The sweep's unpaced point and the scaling's 256 MiB point are the first
side-by-side runs (the same configuration), not runs of their own.

Writes $BENCH_OUT/bench_e2e.json, bench_e2e.md (results.md's section, which
bench/report.py includes) and, with gnuplot, e2e_rate.png and e2e_scaling.png.
BENCH_QUICK=1 and BENCH_SMOKE=1 shorten it. Needs /dev/kvm (SKIP, exit 77).
A benchmark: it fails only when a migration fails, never on a number.
"""
import json, os, shutil, socket, statistics, subprocess, sys, threading, time

cli = sys.argv[1]
# --render: write the section and the plots again from $BENCH_OUT/bench_e2e.json, run nothing.
render = sys.argv[2:] == ["--render"]
out = os.environ.get("BENCH_OUT", "build/bench")
quick = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
smoke = os.environ.get("BENCH_SMOKE", "0") not in ("", "0")
DESIGNS = ("table", "exit")
PAGE = 4096

if not render and not (os.access("/dev/kvm", os.R_OK) and os.access("/dev/kvm", os.W_OK)):
    print("SKIP: /dev/kvm not available")
    sys.exit(77)
os.makedirs(out, exist_ok=True)

if smoke:
    reps, rates, sizes = 1, [], []
elif quick:
    reps, rates, sizes = 1, [500, 5000, 0], ["256M", "1G"]
else:
    reps, rates, sizes = 3, [200, 1000, 10000, 100000, 0], ["256M", "1G", "4G"]


def mem_available():
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable"):
            return int(line.split()[1]) * 1024
    return 0


def size_bytes(s):
    return int(s[:-1]) << {"M": 20, "G": 30}[s[-1]]


def link_bandwidth(total=256 << 20, chunk=256 << 10):
    """The link: bytes per ms through a Unix socket pair on this machine, nothing else done."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    buf = bytes(chunk)

    def drain():
        got = 0
        while got < total:
            got += len(b.recv(chunk))
    t = threading.Thread(target=drain)
    t0 = time.monotonic()
    t.start()
    for _ in range(total // chunk):
        a.sendall(buf)
    t.join()
    ms = (time.monotonic() - t0) * 1e3
    a.close()
    b.close()
    return total / ms


LINK = 0 if render else max(link_bandwidth() for _ in range(3))


def warmup_ms(rate):
    """The idle measurement's window: 1 s, longer at low rates, where one conversion of up to
    256 pages and the 100 ms catch-up are a large part of a second's changes: the time of
    5,000 changes, 10 s at most."""
    return 1000 if rate == 0 else max(1000, min(10000, 5000 * 1000 // rate))


def migrate(design, seed, rate=0, ram="256M"):
    """One demo migration; its JSON report (exits on a failed one)."""
    args = [cli, "migrate", "--demo", "--json", "--design", design, "--seed", str(seed),
            "--change-rate", str(rate), "--ram", ram, "--timeout", "180000",
            "--warmup", str(warmup_ms(rate))]
    p = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    try:
        j = json.loads(p.stdout)
    except ValueError:
        j = None
    if p.returncode or not j or j["result"] != "migrated" or j["mismatches"]:
        print(f"bench_e2e: {' '.join(args[1:])} failed (exit {p.returncode})")
        print(p.stdout[-2000:], p.stderr[-2000:])
        sys.exit(1)
    final = j["pass"][-1]
    j["final_pages"] = final["plain"] + final["encrypted"] + final["transition"]
    j["final_read_ms"] = final["read_ms"]
    # The floor: the final pass's pages at the link's bandwidth, plus the paused table read.
    j["downtime_floor_ms"] = j["final_pages"] * PAGE / LINK + final["read_ms"]
    j["pages_sent"] = j["pages_plain"] + j["pages_encrypted"] + j["pages_transition"]
    return j


KEYS = {  # results.json e2e.<design>.<key>: the report's field
    "guest_changes_per_s": "changes_per_s", "guest_changes_per_s_idle": "changes_per_s_idle",
    "total_ms": "total_ms", "downtime_ms": "downtime_ms", "passes": "passes",
    "pages_sent": "pages_sent", "bytes_sent": "bytes_sent", "resent": "resent_for_status",
    "vmm_cpu_ms": "vmm_cpu_ms", "vmm_peak_rss_bytes": "peak_rss_bytes",
    "vmm_heap_bytes": "heap_bytes", "regions": "regions", "peak_regions": "peak_regions",
    "exits": "exits", "throttle_pct": "throttle_pct", "downtime_floor_ms": "downtime_floor_ms",
    "final_pages": "final_pages", "bandwidth_mib_s": "bandwidth_mib_s",
    "expected_downtime_ms": "expected_downtime_ms", "final_read_ms": "final_read_ms",
    "mismatches": "mismatches",
}


def summary(runs):
    s = {k: statistics.median(r[f] for r in runs) for k, f in KEYS.items()}
    s["mismatches"] = max(r["mismatches"] for r in runs)   # must be 0: the worst run
    s["downtime_max_ms"] = max(r["downtime_ms"] for r in runs)
    s["runs"] = len(runs)
    return s


def interleaved(n, seed0, **kw):
    """n runs per design, alternating which goes first; same seeds for both."""
    got = {d: [] for d in DESIGNS}
    for i in range(n):
        order = DESIGNS if i % 2 == 0 else DESIGNS[::-1]
        for d in order:
            got[d].append(migrate(d, seed0 + i, **kw))
    return got


if render:
    res = json.load(open(os.path.join(out, "bench_e2e.json")))
    reps, sweep, scaling = res["reps"], res["sweep"], res["scaling"]
    rates = sorted({s["rate"] for s in sweep})
    sizes = [s["ram"] for s in scaling if s.get("design", "table") == "table"]
else:
    res = {"reps": reps, "guest": "demo guest, 2 vCPUs at CPL 3, 1024-page chunks, "
           "--warmup 1000 (below 5,000 changes/s: the time of 5,000 changes, 10 s at most) "
           "--after 300, default --max-downtime 300",
           "link_mib_s": LINK * 1e3 / (1 << 20)}

    # ---- side by side, each as fast as it goes --------------------------------------------
    side = interleaved(reps, 1900)
    res["side_by_side"] = {d: summary(side[d]) for d in DESIGNS}
    res["per_run"] = {d: [{k: r[f] for k, f in KEYS.items()} for r in side[d]] for d in DESIGNS}

    # ---- rate sweep -------------------------------------------------------------------------
    sweep = []
    for rate in rates:
        # Unpaced at 256 MiB is the side-by-side configuration: its first runs are this point.
        got = {d: side[d][:1] for d in DESIGNS} if rate == 0 else interleaved(1, 1950 + rate % 97, rate=rate)
        for d in DESIGNS:
            sweep.append(dict(summary(got[d]), design=d, rate=rate))
    res["sweep"] = sweep

    # ---- scaling ------------------------------------------------------------------------------
    scaling = []
    for ram in sizes:
        need = 2 * size_bytes(ram) + (2 << 30)  # source + destination + the VMMs' own
        if mem_available() < need:
            scaling.append({"ram": ram, "skipped": f"MemAvailable under {need >> 30} GiB"})
            continue
        got = {d: side[d][:1] for d in DESIGNS} if ram == "256M" else interleaved(1, 1990, ram=ram)
        for d in DESIGNS:
            scaling.append(dict(summary(got[d]), design=d, ram=ram, ram_gib=size_bytes(ram) / 2**30))
    res["scaling"] = scaling
    res["loadavg"] = open("/proc/loadavg").read().split()[0]
    json.dump(res, open(os.path.join(out, "bench_e2e.json"), "w"), indent=1)

# ---- the section of results.md ------------------------------------------------------------
md = []


def row(*cells):
    md.append("| " + " | ".join(str(c) for c in cells) + " |")


def rate_name(r):
    return "unpaced" if r == 0 else f"{r:,}/s"


sb = res["side_by_side"]
md += ["The whole migration under both designs, interleaved in one run with the same seeds: "
       "*table* is this protocol (the guest keeps its table, the VMM reads it); *exit* is the "
       "merged design (the demo guest keeps no table and reports every page-state change by an "
       "I/O-port exit, one per 4 KiB page, after the conversion; on kvm_pvm a VMCALL never "
       "reaches the VMM, and the I/O exit is the same round trip to userspace as "
       "KVM_EXIT_HYPERCALL; the VMM keeps AMD's QEMU shared-region list, bench/baseline/rlist.c, "
       "and migrates from it with a lookup per page). Same content churn (3 operations in 4 "
       "rewrite a page), 256 MiB, default `--max-downtime 300`. `sev-donate migrate --demo "
       "--design table|exit --change-rate N`; program `bench/e2e.py`.", "",
       f"Each guest as fast as it goes (unpaced), medians over {reps} runs per design:", ""]
row("figure", "table (this protocol)", "exit per change")
row("---", "---", "---")
fmt = [
    ("page-state changes/s by the guest, without a migration", "guest_changes_per_s_idle", "{:,.0f}"),
    ("page-state changes/s during the migration", "guest_changes_per_s", "{:,.0f}"),
    ("total", "total_ms", "{:,.0f} ms"),
    ("downtime (worst run)", None, None),
    ("passes", "passes", "{:g}"),
    ("pages sent", "pages_sent", "{:,.0f}"),
    ("bytes sent", "bytes_sent", "{:,.0f}"),
    ("pages resent for a state change", "resent", "{:,.0f}"),
    ("throttle reached", "throttle_pct", "{:g}%"),
    ("change exits the VMM handled", "exits", "{:,.0f}"),
    ("VMM CPU (migration thread + exit handler)", "vmm_cpu_ms", "{:,.0f} ms"),
    ("shared regions at the pause", "regions", "{:,.0f}"),
    ("VMM heap in use at the pause", "vmm_heap_bytes", "{:,.0f} B"),
    ("VMM peak RSS (guest RAM included)", "vmm_peak_rss_bytes", "{:,.0f} B"),
    ("mismatches (worst run)", "mismatches", "{:g}"),
]
for label, k, f in fmt:
    if k is None:
        row(label, *(f"{sb[d]['downtime_ms']:.1f} ms ({sb[d]['downtime_max_ms']:.1f} ms)"
                     for d in DESIGNS))
    else:
        row(label, *(f.format(sb[d][k]) for d in DESIGNS))

md += ["", "Against the change rate (`--change-rate`, both vCPUs together; one run per design "
       "and rate). Memory against the number of shared regions: the list's heap grows by a "
       "48-byte node per region (bench_baseline's host_memory rows measure it from 10^2 to 10^6 "
       "regions); the table design's VMM keeps nothing per region.", ""]
row("asked", "design", "changes/s idle", "changes/s migrating", "total", "downtime", "passes",
    "bytes sent", "resent", "exits", "VMM CPU", "regions (peak)", "VMM heap", "mismatches")
row(*["---"] * 14)
for s in sweep:
    row(rate_name(s["rate"]), s["design"], f"{s['guest_changes_per_s_idle']:,.0f}",
        f"{s['guest_changes_per_s']:,.0f}", f"{s['total_ms']:,.0f} ms",
        f"{s['downtime_ms']:.1f} ms", f"{s['passes']:g}", f"{s['bytes_sent']:,.0f}",
        f"{s['resent']:,.0f}", f"{s['exits']:,.0f}", f"{s['vmm_cpu_ms']:,.0f} ms",
        f"{s['regions']:,.0f} ({s['peak_regions']:,.0f})", f"{s['vmm_heap_bytes']:,.0f} B",
        f"{s['mismatches']:g}")
if sweep:
    md += ["", "![guest throughput and downtime against the change rate](e2e_rate.png)"]

md += ["", "Scaling with guest RAM (both designs, one run each; floor = the final pass's pages at "
       f"the link's bandwidth, a Unix socket pair here, {res['link_mib_s']:,.0f} MiB/s measured "
       "with nothing else done, plus the paused table read; expected = the source's own "
       "estimate when it entered the final pass, at the bandwidth its passes measured):", ""]
row("RAM", "design", "total", "downtime", "floor", "expected", "final pass", "passes",
    "bytes sent", "throttle", "VMM CPU", "mismatches")
row(*["---"] * 12)
for s in scaling:
    if "skipped" in s:
        row(s["ram"], "-", f"skipped: {s['skipped']}", "", "", "", "", "", "", "", "", "")
        continue
    row(s["ram"], s["design"], f"{s['total_ms']:,.0f} ms", f"{s['downtime_ms']:.1f} ms",
        f"{s['downtime_floor_ms']:.1f} ms", f"{s['expected_downtime_ms']:.1f} ms",
        f"{s['final_pages']:,.0f} pages",
        f"{s['passes']:g}", f"{s['bytes_sent']:,.0f}", f"{s['throttle_pct']:g}%",
        f"{s['vmm_cpu_ms']:,.0f} ms", f"{s['mismatches']:g}")
for d in DESIGNS:
    pts = [s for s in scaling if s.get("design") == d]
    if len(pts) >= 2:
        a, b = pts[0], pts[-1]
        k = b["ram_gib"] / a["ram_gib"]
        md += ["", f"*{d}*: from {a['ram']} to {b['ram']} ({k:g}x the RAM) total grows "
               f"{b['total_ms'] / a['total_ms']:.1f}x and bytes sent "
               f"{b['bytes_sent'] / a['bytes_sent']:.1f}x (pass 0 alone sends every page, "
               f"so at least linear in RAM; then {a['passes']:g} and {b['passes']:g} passes in "
               "all), "
               f"downtime {b['downtime_ms'] / a['downtime_ms']:.1f}x (it follows the final pass's "
               f"pages, {a['final_pages']:,.0f} and {b['final_pages']:,.0f}, which the downtime "
               "limit bounds whatever the RAM; the table read grows with RAM, the region list's "
               "lookups with the pages sent). Measured downtime against the floor: "
               + ", ".join(f"{s['ram']} {s['downtime_ms']:.0f} ms vs {s['downtime_floor_ms']:.0f} ms"
                           for s in pts) + "."]
if any("skipped" not in s for s in scaling):
    md += ["", "![total time and downtime against guest RAM](e2e_scaling.png)"]

# How the two shared cores shape each figure (the numbers are this run's).
t, x = sb["table"], sb["exit"]
# The unpaced sweep point and the 256M scaling point are the same runs: count them once.
runs = [s for s in sweep + scaling if "skipped" not in s and s.get("ram") != "256M"]
throttled = [s for s in runs if s["throttle_pct"] > 0]
over = [s["downtime_ms"] / s["downtime_floor_ms"] for s in scaling
        if "skipped" not in s and s["downtime_floor_ms"] > 0]
if throttled:
    names = ", ".join(f"{s.get('ram') or rate_name(s['rate'])} {s['design']} "
                      f"{s['throttle_pct']:g}%" for s in throttled)
    throttle_txt = (f"{len(throttled)} of the {len(runs)} runs in the sweep and scaling tables "
                    f"throttled on the way ({names})")
else:
    throttle_txt = f"none of the {len(runs)} runs in the sweep and scaling tables throttled"
over_txt = (f"{min(over):.1f} to {max(over):.1f} times above it" if over
            else "above it")
load = res.get("loadavg") or open("/proc/loadavg").read().split()[0]
md += ["", "How 2 shared cores shape these figures (load average at the end of this section: "
       f"{load}):", "",
       "- *Guest changes/s, idle*: the guest's two vCPU threads have the cores to themselves "
       "(with whatever else runs on the machine). The table design is bound by the guest's own "
       "work (rewriting each converted page, 3 rewrites per conversion); the exit design by the "
       "exit: each page's report is a round trip through KVM_RUN to the VMM and back on the "
       "vCPU's thread (section 1 measures what an exit costs on this host), so its rate is "
       f"about 2 vCPUs / exit cost. Here: {t['guest_changes_per_s_idle']:,.0f}/s against "
       f"{x['guest_changes_per_s_idle']:,.0f}/s.",
       "- *Guest changes/s, migrating*: the VMM runs its vCPU threads at nice 10 so that the "
       "migration converges; with the source's migration thread, the destination's receiver "
       "and the throttle at nice 0 on the same 2 cores, the guest gets what they leave, in both "
       "designs, and dirty logging adds to the guest's writes (KVM notes each page's first write "
       f"in each pass) (table: {t['guest_changes_per_s']:,.0f}/s, "
       f"{100 * t['guest_changes_per_s'] / t['guest_changes_per_s_idle']:.1f}% of its idle rate; "
       f"exit: {x['guest_changes_per_s']:,.0f}/s, "
       f"{100 * x['guest_changes_per_s'] / x['guest_changes_per_s_idle']:.0f}%, whose exits "
       "were slow already). This run does not separate the two causes.",
       "- *Total time and bytes*: bound by the stand-in's encryption and the copy through a "
       "Unix socket, with source and destination sharing the cores with the guest (measured "
       f"bandwidth {t['bandwidth_mib_s']:.0f} MiB/s in the table design's median, see the "
       "scaling table): pass 0 sends every page, so total grows at least linearly with RAM, "
       "and more with every further pass a larger guest needs.",
       "- *Downtime*: the final pass's pages at that bandwidth, plus the handover (vCPU state, "
       "END, RESULT and COMMIT, the destination starting its vCPU threads). The source enters "
       "the final pass once its estimate fits the 300 ms limit and throttles the vCPUs while "
       f"it does not: {throttle_txt}. The floor column is what the bandwidth "
       f"alone allows for the final pass. Measured downtime sits {over_txt}: the "
       "migration's own bandwidth (the stand-in's encryption and the copies, on cores shared "
       "with the guest and the other VMM) is far below the link's, and the handover costs a "
       "few to tens of milliseconds of scheduling on a loaded machine.",
       "- *VMM CPU*: the migration thread's CPU (the stand-in's encryption dominates) plus, for "
       "the exit design, the exit handler's userspace time on the vCPU threads; the kernel's "
       "share of each exit is not in it. Sharing cores does not inflate CPU time, only wall "
       "time.",
       "- *Memory*: peak RSS is the guest RAM the guest touched (its lanes and state, not all "
       "of its first 16 MiB) plus the VMM's per-page bitmaps, alike in both designs; the "
       "heap at the pause differs by the list's nodes (48 bytes each, with malloc's header): "
       f"the exit design's list held {x['peak_regions']:,.0f} regions at the most (median "
       "of its runs) "
       f"({x['vmm_heap_bytes']:,.0f} B of heap against the table design's "
       f"{t['vmm_heap_bytes']:,.0f} B).", ""]
open(os.path.join(out, "bench_e2e.md"), "w").write("\n".join(md))

# ---- plots --------------------------------------------------------------------------------
if shutil.which("gnuplot"):
    MAXX = 1e6     # where "unpaced" sits on the rate axis
    rate_dat = {d: os.path.join(out, f"e2e_rate_{d}.dat") for d in DESIGNS}
    ram_dat = {d: os.path.join(out, f"e2e_ram_{d}.dat") for d in DESIGNS}
    for d in DESIGNS:
        with open(rate_dat[d], "w") as f:
            f.write(f"# {d}: asked achieved_migrating achieved_idle downtime_ms\n")
            for s in sorted((s for s in sweep if s["design"] == d), key=lambda s: s["rate"] or MAXX):
                f.write(f"{s['rate'] or MAXX} {max(s['guest_changes_per_s'], 1)} "
                        f"{max(s['guest_changes_per_s_idle'], 1)} {s['downtime_ms']}\n")
        with open(ram_dat[d], "w") as f:
            f.write(f"# {d}: ram_gib total_ms downtime_ms floor_ms\n")
            for s in scaling:
                if s.get("design") == d:
                    f.write(f"{s['ram_gib']} {s['total_ms']} {s['downtime_ms']} "
                            f"{s['downtime_floor_ms']}\n")
    rt, rx, mt, mx = rate_dat["table"], rate_dat["exit"], ram_dat["table"], ram_dat["exit"]
    plots = []
    if sweep:
        plots.append(f"""
set terminal pngcairo size 1100,520 font ",11"
set output "{os.path.join(out, 'e2e_rate.png')}"
set multiplot layout 1,2 title "The guest and the migration against the page-state change rate (256 MiB)"
set logscale xy
set grid
set xtics ("200" 200, "1k" 1000, "10k" 10000, "100k" 100000, "unpaced" {MAXX})
set xlabel "changes/s asked (--change-rate)"
set ylabel "changes/s the guest achieved"
set key top left font ",9"
plot "{rt}" using 1:3 with linespoints lw 2 title "table, idle", \\
     "{rt}" using 1:2 with linespoints lw 2 title "table, migrating", \\
     "{rx}" using 1:3 with linespoints lw 2 title "exit, idle", \\
     "{rx}" using 1:2 with linespoints lw 2 title "exit, migrating", \\
     x with lines dt 2 title "asked"
unset logscale y
set ylabel "downtime (ms)"
set yrange [0:350]
plot "{rt}" using 1:4 with linespoints lw 2 title "table", \\
     "{rx}" using 1:4 with linespoints lw 2 title "exit", \\
     300 with lines dt 2 title "--max-downtime 300"
unset multiplot
""")
    if any("skipped" not in s for s in scaling):
        plots.append(f"""
set terminal pngcairo size 1100,520 font ",11"
set output "{os.path.join(out, 'e2e_scaling.png')}"
set multiplot layout 1,2 title "Migration against guest RAM"
set logscale x 2
set grid
set xlabel "guest RAM (GiB)"
set ylabel "total (ms)"
set key top left font ",9"
plot "{mt}" using 1:2 with linespoints lw 2 title "table", \\
     "{mx}" using 1:2 with linespoints lw 2 title "exit"
set ylabel "downtime (ms)"
set yrange [0:*]
plot "{mt}" using 1:3 with linespoints lw 2 title "table", \\
     "{mt}" using 1:4 with linespoints dt 2 title "table, floor", \\
     "{mx}" using 1:3 with linespoints lw 2 title "exit", \\
     "{mx}" using 1:4 with linespoints dt 2 title "exit, floor"
unset multiplot
""")
    for script in plots:
        r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if r.returncode:
            print("bench_e2e: gnuplot failed:", r.stderr.strip())

print(f"bench_e2e: both designs side by side, medians over {reps} runs (unpaced guest, 256 MiB)")
for d in DESIGNS:
    s = sb[d]
    print(f"  {d:5}: changes/s idle {s['guest_changes_per_s_idle']:,.0f}, migrating "
          f"{s['guest_changes_per_s']:,.0f}; total {s['total_ms']:,.0f} ms, downtime "
          f"{s['downtime_ms']:.1f} ms (worst {s['downtime_max_ms']:.1f}), passes {s['passes']:g}, "
          f"sent {s['bytes_sent'] / 2**20:,.1f} MiB, VMM CPU {s['vmm_cpu_ms']:,.0f} ms, "
          f"mismatches {s['mismatches']:g}")
print(f"  sweep: {len(rates)} rates; scaling: {', '.join(sizes)}")
