#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""test-crash.py SEV_DONATE - crashes at any moment of a migration (issue 17 item 3).

`migrate --dest` and `migrate --source` run as two processes over a Unix
socket, and one of them dies of SIGKILL:
  - at a chosen point (--inject crash=ROLE:POINT, vmm/migrate/crash.c): in
    pre-copy (records of pass 0), in the final pass (its
    PASS, REGISTRATION, the first VCPU, END), at RESULT and at COMMIT;
  - at a seeded moment, from here, spread over the migration's length;
and the connection lost right after COMMIT was sent (--inject commit-lost).
Every time, from the survivors' exit status and report:
  - at most one side runs the guest;
  - a side that runs it has every page in the right mode and every byte
    right (the destination: mismatches=0, no page missing, the guest's own
    check clean; the source: the guest's own check clean);
  - a destination that dies before COMMIT leaves the guest resumed on the
    source; the exact outcome of each chosen point is asserted.
Ends with a summary line and `N passed, N failed`.
  MIGRATE_RAM=n    the guest's RAM in MiB (default 64)
  CRASH_TIMED=n    seeded timed kills (default 12)
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

RAM = int(os.environ.get("MIGRATE_RAM", "64"))
TIMED = int(os.environ.get("CRASH_TIMED", "12"))
CHECKED = RAM * 256 - 4096          # the lanes start at 16 MiB (vmm/migrate/demo.h)
TIMEOUT_MS = 20000                  # --timeout: a survivor sees its peer's death at once (EOF)
LIMIT_S = 120                       # hard limit per process
KILLED = -signal.SIGKILL


class Run:
    pass


def spawn(args, out, err):
    return subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def finish(p):
    try:
        return p.wait(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "hung"


KEYS = None                         # the two platforms' identity files (sev-donate keygen)


def migrate(binary, seed, dest_args=(), src_args=(), kill=None):
    """One migration between two processes; kill = (side, seconds after the source connected)."""
    r = Run()
    d = tempfile.mkdtemp(prefix="sd-crash-")
    sock = os.path.join(d, "sock")
    files = {k: os.path.join(d, k) for k in ("d.json", "d.err", "s.json", "s.err")}
    common = ["--json", "--ram", f"{RAM}M", "--after", "100", "--timeout", str(TIMEOUT_MS)]
    with open(files["d.json"], "w") as dj, open(files["d.err"], "w") as de, \
         open(files["s.json"], "w") as sj, open(files["s.err"], "w") as se:
        dest = spawn([binary, "migrate", "--dest", "--listen", "unix:" + sock] + common +
                     ["--identity", KEYS + "/dst", "--peer-key", KEYS + "/src.pub"] +
                     list(dest_args), dj, de)
        until = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < until and dest.poll() is None:
            time.sleep(0.01)
        t0 = time.monotonic()
        src = spawn([binary, "migrate", "--source", "--connect", "unix:" + sock] + common +
                    ["--warmup", "100", "--seed", str(seed), "--identity", KEYS + "/src",
                     "--peer-key", KEYS + "/dst.pub"] + list(src_args), sj, se)
        r.killed = None
        if kill:
            side, at = kill
            victim = src if side == "source" else dest
            # The destination unlinks its socket once it has accepted: the migration starts.
            while os.path.exists(sock) and time.monotonic() < t0 + LIMIT_S and \
                    dest.poll() is None:
                time.sleep(0.002)
            t1 = time.monotonic()
            while time.monotonic() < t1 + at and victim.poll() is None:
                time.sleep(0.002)
            if victim.poll() is None:
                victim.send_signal(signal.SIGKILL)
                r.killed = side
        r.src_rc = finish(src)
        r.src_wall = time.monotonic() - t0
        r.dst_rc = finish(dest)
    r.s, r.d = load(files["s.json"]), load(files["d.json"])
    r.s_err = open(files["s.err"]).read()[-600:]
    r.d_err = open(files["d.err"]).read()[-600:]
    for f in files.values():
        if os.path.exists(f):
            os.unlink(f)
    if os.path.exists(sock):
        os.unlink(sock)
    os.rmdir(d)
    return r


def invariants(r):
    """What must hold whoever died, whenever: a list of violations, and where the guest runs."""
    bad = []
    s, d = r.s, r.d
    if "hung" in (r.src_rc, r.dst_rc):
        bad.append(f"a side hung (source {r.src_rc}, destination {r.dst_rc})")
    src_alive, dst_alive = r.src_rc != KILLED, r.dst_rc != KILLED
    if src_alive and s is None:
        bad.append("the source survived without a report")
    if dst_alive and d is None:
        bad.append("the destination survived without a report")
    on_src = bool(src_alive and s and s["source"]["resumed"])
    on_dst = bool(dst_alive and d and d["resumed"])
    if on_src and on_dst:
        bad.append("both sides run the guest")
    if on_src:
        j = s["source"]
        if s["result"] != "failed" or j["committed"] or not j["verified"] or \
           j["pages_checked"] != CHECKED or j["bad_content"] or j["bad_state"]:
            bad.append(f"the source runs the guest, but its check is not clean: {j}")
    if on_dst:
        if d["result"] != "migrated" or d["mismatches"] or d["never_received"] or \
           not d["verified"] or d["pages_checked"] != CHECKED or d["bad_content"] or \
           d["bad_state"]:
            bad.append(f"the destination runs the guest, but not clean: {d}")
    if src_alive and s and s["result"] == "failed" and not s["source"]["resumed"]:
        bad.append("the source failed and did not resume the guest")
    if src_alive and s and s["result"] == "migrated" and not s["source"]["committed"]:
        bad.append("the source says migrated without COMMIT")
    if on_dst and src_alive and s and not s["source"]["committed"]:
        bad.append("the destination runs the guest, the source never committed")
    where = "destination" if on_dst else "source" if on_src else "nowhere"
    return bad, where


# The chosen points: (role, point, what the survivor reports, the source paused?).
#   src-dies:   the source is killed; the destination fails and runs nothing
#   src-commit: the source is killed after COMMIT went out; the destination runs the guest
#   dst-dies:   the destination is killed before COMMIT; the source resumes the guest, intact
#   committed:  the destination is killed after COMMIT went out; the source has given the
#               guest up (committed, exit 0): nobody runs it (the gap of a two-party hand-over)
def chosen():
    # All in pass 0, which has at least RAM * 4 + 1 records (its PASS, then 64 pages a record at
    # most); a later pre-copy pass may not happen at all (the source may converge after pass 0).
    pre = ["rec=1", "rec=2", "rec=64", "rec=128", "rec=192", f"rec={RAM * 4}", f"rec={RAM * 4 + 1}"]
    final = ["final", "registration", "vcpu", "end"]
    cases = []
    for p in pre:
        cases.append(("source", p, "src-dies", False))
    for p in final + ["result"]:
        cases.append(("source", p, "src-dies", True))
    cases.append(("source", "commit", "src-commit", True))
    for p in pre:
        cases.append(("dest", p, "dst-dies", False))
    for p in final + ["result"]:
        cases.append(("dest", p, "dst-dies", True))
    for p in ("commit", "commit-unread"):
        cases.append(("dest", p, "committed", True))
    return cases


def expect(r, outcome, paused):
    """The exact outcome of a chosen point."""
    s, d = r.s, r.d
    bad = []
    if outcome.startswith("src"):
        if r.src_rc != KILLED:
            bad.append(f"the source was not killed (exit {r.src_rc})")
        if outcome == "src-dies" and not (r.dst_rc == 1 and d and d["result"] == "failed" and
                                          d["error"] in ("SD_MIG_ERR_EOF", "SD_MIG_ERR_IO") and
                                          not d["resumed"]):
            bad.append(f"the destination should fail on the cut and run nothing: {r.dst_rc} {d}")
        if outcome == "src-commit" and not (r.dst_rc == 0 and d and d["resumed"]):
            bad.append(f"the destination should run the guest: {r.dst_rc} {d}")
    else:
        if r.dst_rc != KILLED:
            bad.append(f"the destination was not killed (exit {r.dst_rc})")
        if not s:
            return bad + ["no source report"]
        j = s["source"]
        if j["paused"] != paused:
            bad.append(f"the source paused: {j['paused']}, want {paused}")
        if outcome == "dst-dies" and not (r.src_rc == 1 and s["error"] in ("SD_MIG_ERR_EOF",
                                          "SD_MIG_ERR_IO") and j["resumed"] and
                                          not j["committed"]):
            bad.append(f"the source should resume the guest: {r.src_rc} {s['error']} {j}")
        if outcome == "committed" and not (r.src_rc == 0 and s["result"] == "migrated" and
                                           j["committed"] and not j["resumed"]):
            bad.append(f"the source should have committed: {r.src_rc} {s['error']} {j}")
    return bad


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test-crash.py SEV_DONATE")
    binary = sys.argv[1]
    if not (os.access("/dev/kvm", os.R_OK) and os.access("/dev/kvm", os.W_OK)):
        print("SKIP: /dev/kvm not available")
        sys.exit(77)
    global KEYS
    KEYS = tempfile.mkdtemp(prefix="sd-crash-keys-")
    for k in ("src", "dst"):
        subprocess.run([binary, "keygen", "--out", os.path.join(KEYS, k)], check=True,
                       stdout=subprocess.DEVNULL, timeout=30)
    n = failed = 0
    where = {"destination": 0, "source": 0, "nowhere": 0}
    phases = {}

    def report(name, bad, r, w):
        nonlocal n, failed
        n += 1
        where[w] += 1
        if bad:
            failed += 1
            print(f"not ok {n} - {name}: " + "; ".join(bad))
            print(f"#   source exit {r.src_rc}: {json.dumps(r.s)[:800]}\n#   {r.s_err!r}")
            print(f"#   destination exit {r.dst_rc}: {json.dumps(r.d)[:600]}\n#   {r.d_err!r}")
        else:
            print(f"ok {n} - {name}: the guest runs on the {w}" if w != "nowhere" else
                  f"ok {n} - {name}: the guest runs nowhere")

    # A migration nobody kills: the yardstick for the timed kills.
    r = migrate(binary, 100)
    bad, w = invariants(r)
    if r.src_rc != 0 or r.dst_rc != 0 or w != "destination":
        bad.append(f"an undisturbed migration did not migrate (exits {r.src_rc}, {r.dst_rc})")
    report("no crash: migrated", bad, r, w)
    mig_s = (r.s["total_ms"] / 1000.0) if r.s else 1.0

    for i, (role, point, outcome, paused) in enumerate(chosen()):
        opt = ["--inject", f"crash={role}:{point}"]
        r = migrate(binary, 200 + i, dest_args=opt if role == "dest" else (),
                    src_args=opt if role == "source" else ())
        bad, w = invariants(r)
        bad += expect(r, outcome, paused)
        phase = "pre-copy" if not paused else "RESULT" if point == "result" else \
            "COMMIT" if point.startswith("commit") else "final pass"
        phases[phase] = phases.get(phase, 0) + 1
        report(f"{role} killed at {point} ({phase})", bad, r, w)

    # The connection lost right after COMMIT went out: the source has given the guest up, the
    # destination never gets COMMIT and discards it. Nobody runs it; each side says so.
    r = migrate(binary, 300, src_args=["--inject", "commit-lost"])
    bad, w = invariants(r)
    s, d = r.s, r.d
    if not (r.src_rc == 0 and s and s["result"] == "migrated" and s["source"]["committed"] and
            not s["source"]["resumed"]):
        bad.append(f"the source should report migrated, committed: {r.src_rc} {s}")
    if not (r.dst_rc == 1 and d and d["error"] == "SD_MIG_ERR_EOF" and
            "waiting for COMMIT" in d["message"] and not d["resumed"] and d["never_received"] == 0):
        bad.append(f"the destination should report the lost COMMIT and run nothing: {d}")
    phases["COMMIT"] = phases.get("COMMIT", 0) + 1
    report("connection lost right after COMMIT was sent: committed on the source, "
           "discarded on the destination", bad, r, w)

    # Seeded kills at any moment of the migration, alternately of each side.
    rng = random.Random(17)
    for i in range(TIMED):
        side = "source" if i % 2 == 0 else "dest"
        at = rng.uniform(0.0, 1.1 * mig_s)
        r = migrate(binary, 400 + i, kill=(side, at))
        bad, w = invariants(r)
        s, d = r.s, r.d
        if r.killed is None:
            phase = "after the end"
            if r.src_rc != 0 or r.dst_rc != 0 or w != "destination":
                bad.append("the kill came after the end, yet the migration did not complete")
        elif side == "source":
            phase = ("COMMIT" if d and d["resumed"] else
                     "RESULT" if d and "COMMIT" in d["message"] else
                     "pre-copy or final pass" if d and d["records"] else "before the stream")
        else:
            j = s["source"] if s else {}
            phase = ("COMMIT" if j.get("committed") else
                     "final pass or RESULT" if j.get("paused") else "pre-copy")
            if s and not j.get("committed") and not j.get("resumed"):
                bad.append("the destination died before COMMIT, the source did not resume")
        phases[phase] = phases.get(phase, 0) + 1
        report(f"{side} killed {at * 1000:.0f} ms after it connected, seed {400 + i} "
               f"({phase})", bad, r, w)

    # Crash points that are not one: a usage error, named, before anything runs.
    for bogus in ("crash=source:bogus", "crash=source:commit-unread", "crash=dest:rec=0",
                  "crash=both:end", "crash=dest:pass=x"):
        try:
            p = subprocess.run([binary, "migrate", "--demo", "--inject", bogus],
                               capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            p = subprocess.CompletedProcess(bogus, -9, "", "did not stop within 30 s")
        n += 1
        if p.returncode == 2 and f"unknown fault '{bogus}'" in p.stderr:
            print(f"ok {n} - --inject {bogus}: usage error")
        else:
            failed += 1
            print(f"not ok {n} - --inject {bogus}: exit {p.returncode}, {p.stderr!r}")
    usage = 5

    points = n - usage - 1
    print("crash: %d points (%d chosen, %d timed, and the lost COMMIT), an undisturbed run and "
          "%d usage checks: %d passed, %d failed; the guest ran on the destination %d, on the "
          "source %d, nowhere %d; by phase: %s" %
          (points, points - 1 - TIMED, TIMED, usage, n - failed, failed, where["destination"],
           where["source"], where["nowhere"],
           ", ".join(f"{k} {v}" for k, v in sorted(phases.items()))))
    print(f"{n - failed} passed, {failed} failed")
    for k in ("src", "dst", "src.pub", "dst.pub"):
        os.unlink(os.path.join(KEYS, k))
    os.rmdir(KEYS)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
