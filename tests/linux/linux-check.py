#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""linux-check.py - sev_donate.ko in a real Linux guest under QEMU, read by the host.

Boots Debian's linux-image-amd64 under qemu-system-x86_64 (TCG) with a
busybox-static initramfs holding sev_donate.ko (guest/ and proto/ built
unchanged as a kernel module). Guest RAM is a shared memory-backend-file
below the PCI hole, so the file's byte offset is the guest physical address
and the host reads the guest's table straight out of it.

  1. Boot; the module prints the table's GPA (the stand-in for the
     registration exit: QEMU does not implement the protocol MSR) and
     exactly one line saying the host does not support registration (the
     module's decision, sd_reg_policy.h, for an unencrypted guest without
     a transport).
  2. Idle guest: `sev-donate check` (live) passes with exactly the table's
     pages shared; the module refuses conversions outside its pool and
     malformed requests; a debugfs registration retry prints the "does not
     support" line once more and fails; a paused comparison of every page
     against the module's ledger is exact.
  3. The guest churns pool pages between private and shared on every vCPU
     through debugfs; meanwhile the host runs `sev-donate check` and
     `sev-donate dump` on the RAM file, again and again, until the guest
     has made a fixed number of conversions (progress is read from the
     ledger in guest RAM, never from a clock). A live check either passes
     or reports a chunk it could not read stably (SD_ERR_CHUNK_ODD or
     SD_ERR_CHUNK_RETRIES); anything else fails.
  4. QMP stop, then in paused mode: `sev-donate check --paused` passes,
     `sev-donate dump --paused` and this test's own reader (sdimage.py,
     written from SPEC.md) agree on every page, and every page agrees with
     the ledger (pages in flight may be old, new or in transition; all
     others exactly equal). QMP cont. Repeated PAUSES times.
  5. Churn stops; paused again: the table equals the ledger exactly with
     nothing in flight, and the ledger the guest prints on the serial
     console equals the ledger read from RAM. Then the host scribbles on
     the table: a flipped bitmap bit must be reported by the CLI
     (SD_ERR_CHUNK_COUNT in that chunk) and by the oracle, exactly; an
     overwritten descriptor likewise (SD_ERR_CHUNK_PENDING), and after one
     more conversion in that chunk by the guest the table is exact again
     (the writer never reads the table, SPEC.md 2.5). Every conversion
     window ran with direct reclaim excluded (the module's reclaim_windows
     counter is 0: sd_linux.c, sdl_window_enter).
  6. rmmod, insmod (a fresh table, and the test-only register_incomplete=1,
     which must taint the kernel and, unencrypted and without a transport,
     still register nothing), poweroff: the reboot notifier runs.
     The serial log has no kernel warning, BUG or oops, and no taint but
     the module's own.

Exit 0 on success, 1 on any failure (with the reason and the serial log's
tail), 77 (SKIP, loudly) when a prerequisite is not installed.
Environment: SD_BUILD (build directory, default build), SD_CLI (the
sev-donate binary, default $SD_BUILD/sev-donate), LINUX_CHECK_KEEP=1 keeps
the RAM image after a pass.
"""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import sdimage  # noqa: E402
import qemuvm  # noqa: E402
from qemuvm import Fail  # noqa: E402

BUILD = os.path.join(ROOT, os.environ.get("SD_BUILD", "build"))
OUT = os.path.join(BUILD, "linux")
KMOD = os.path.join(OUT, "kmod", "sev_donate.ko")
CLI = os.environ.get("SD_CLI", os.path.join(BUILD, "sev-donate"))

RAM_MB = 256            # below the PCI hole: file offset == GPA
VCPUS = 2
# 256 chunks of 1 MiB; a pool of four 2 MiB blocks (8 chunks), so runs cross
# chunks and the two vCPUs' conversions contend for chunk locks; every other
# conversion sleeps inside its window.
MODARGS = "ppc=256 pool_mb=8 pool_order=9 convert_delay_us=500"
CONVERSIONS_PER_PAUSE = 3000
PAUSES = 5
MIN_LIVE_ROUNDS = 3
LIVE_OK_ERRORS = ("SD_ERR_CHUNK_ODD", "SD_ERR_CHUNK_RETRIES")

# Bounds on waiting for the guest (they fail the test, they never pass it).
BOOT_TIMEOUT = 300
CMD_TIMEOUT = 120
PROGRESS_TIMEOUT = 600


def log(msg):
    print("linux-check: " + msg, flush=True)


# ---- prerequisites ---------------------------------------------------------------

def prerequisites():
    qemu = qemuvm.find_qemu("linux-check")
    kver = qemuvm.find_kernel("linux-check")
    busybox = qemuvm.find_busybox("linux-check")
    if not os.path.exists(KMOD):
        raise Fail("%s missing although kernel %s has headers: run make linux-module" % (KMOD, kver))
    if not os.access(CLI, os.X_OK):
        raise Fail("the sev-donate CLI is not built (%s)" % CLI)
    return qemu, kver, busybox


# ---- the guest: QEMU, its serial console and QMP ----------------------------------

class Guest:
    def __init__(self, qemu, kver, busybox):
        os.makedirs(OUT, exist_ok=True)
        self.ram = os.path.join(OUT, "ram.img")
        self.initrd = os.path.join(OUT, "initramfs.cpio.gz")
        # Sockets in a short private directory: a unix socket path is at most 107 bytes.
        self.sock_dir = tempfile.mkdtemp(prefix="sd-linux-check.")
        self.ser_path = os.path.join(self.sock_dir, "serial")
        self.qmp_path = os.path.join(self.sock_dir, "qmp")
        self.log_path = os.path.join(OUT, "serial.log")
        if os.path.exists(self.ram):
            os.unlink(self.ram)
        qemuvm.mkinitramfs(self.initrd, [("init", os.path.join(HERE, "init.sh")),
                                         ("bin/busybox", busybox), ("sev_donate.ko", KMOD)],
                           [("modargs", MODARGS)])
        cmd = [qemu, "-accel", "tcg,thread=multi", "-machine", "pc,memory-backend=ram0",
               "-m", "%dM" % RAM_MB, "-smp", str(VCPUS),
               "-object", "memory-backend-file,id=ram0,size=%dM,mem-path=%s,share=on"
               % (RAM_MB, self.ram),
               "-kernel", "/boot/vmlinuz-" + kver, "-initrd", self.initrd,
               "-append", "console=ttyS0 panic=-1",
               "-display", "none", "-no-reboot", "-nodefaults", "-monitor", "none",
               "-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % self.ser_path,
               "-serial", "chardev:ser0",
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        self.qemu_log = open(os.path.join(OUT, "qemu.log"), "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.qemu_log,
                                     stderr=subprocess.STDOUT)
        self.t0 = time.monotonic()
        try:
            self.ser = self._connect(self.ser_path)
            self.con = qemuvm.Console(self.ser.recv, self.log_path)
            self.lines, self.cv = self.con.lines, self.con.cv
            self.qmp = self._connect(self.qmp_path)
            self.qmpf = self.qmp.makefile("rw", encoding="utf-8", newline="\n")
            self.qmpf.readline()        # greeting
            self.qmp_cmd("qmp_capabilities")
        except (OSError, Fail) as e:
            self.kill()
            raise Fail("qemu did not start: %s\n%s" % (e, self.qemu_output()))
        except BaseException:
            self.kill()
            raise

    def _connect(self, path):
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise Fail("qemu exited (%d) before it listened on %s; see %s"
                           % (self.proc.returncode, path, self.qemu_log.name))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise Fail("qemu did not listen on %s" % path)
                time.sleep(0.05)

    def wait_line(self, pred, start, timeout, what):
        """Index of the first line from @start satisfying @pred."""
        return self.con.wait_line(pred, start, timeout, what, self.proc.poll)

    def mark(self):
        return self.con.mark()

    def command(self, cmd, arg="", timeout=CMD_TIMEOUT, fails=False):
        """Run one init.sh command; return its "SDT: TAG ..." payload lines.

        With @fails, the command must fail (and the lines are returned).
        """
        start = self.mark()
        self.ser.sendall(("%s %s\n" % (cmd, arg)).encode())
        end = self.wait_line(lambda ln: ln.startswith(("SDT: ok %s" % cmd, "SDT: err %s" % cmd)),
                             start, timeout, "guest command '%s %s'" % (cmd, arg))
        with self.cv:
            out = self.lines[start:end + 1]
        if out[-1].startswith("SDT: err") != fails:
            raise Fail("guest command '%s %s' %s: %s" % (cmd, arg, "succeeded" if fails
                                                        else "failed", out[-1]))
        return [ln for ln in out[:-1] if ln.startswith("SDT: ")]

    def qmp_cmd(self, name):
        self.qmpf.write('{"execute": "%s"}\n' % name)
        self.qmpf.flush()
        while True:
            line = self.qmpf.readline()
            if not line:
                raise Fail("QMP closed during %s" % name)
            if '"return"' in line:
                return line
            if '"error"' in line:
                raise Fail("QMP %s: %s" % (name, line.strip()))
            # anything else is an asynchronous event (STOP, RESUME, ...)

    def stop(self):
        self.qmp_cmd("stop")
        st = self.qmp_cmd("query-status")
        if '"running": false' not in st:
            raise Fail("QMP stop: VM still running: %s" % st.strip())

    def cont(self):
        self.qmp_cmd("cont")

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Fail("qemu did not exit within %d s of poweroff" % timeout)

    def qemu_output(self):
        """The tail of qemu's own output, for a failure message."""
        self.qemu_log.flush()
        with open(self.qemu_log.name) as f:
            tail = f.read().splitlines()[-20:]
        return "qemu's output (%s):\n%s" % (self.qemu_log.name,
                                             "\n".join("  | " + ln for ln in tail))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.sock_dir, ignore_errors=True)

    def tail(self, n=40):
        return self.con.tail(n)


# ---- the host side: the CLI and the comparison -------------------------------------

class Host:
    """The host side: `sev-donate check` / `dump` on the RAM file, and the oracle."""

    def __init__(self, guest, table_gpa, ledger_gpa, pool, table_bytes):
        self.g = guest
        self.table_gpa = table_gpa
        self.ledger_gpa = ledger_gpa
        self.pool = pool
        # GFNs that may ever be shared: the table's own and the churn pool's.
        self.changing = set(range(table_gpa >> 12, (table_gpa + table_bytes) >> 12))
        for gfn, n in pool:
            self.changing.update(range(gfn, gfn + n))
        self.live = dict(check=0, check_ok=0, check_unsettled=0, dump=0, dump_ok=0,
                         dump_unsettled=0)
        self.paused = dict(rounds=0, pages=0, transition=0, odd_chunks=0, inflight=0)

    def cli(self, verb, paused):
        """Run the CLI with --json: (exit status, result, stderr).

        The result is the JSON object for a valid table. For an invalid
        one it is {"error": NAME, "chunk": N}, taken from the error line on
        stderr: a live dump that validated the table and then failed on its
        second read has already printed a "valid" object with part of the
        extents, and only its exit status and stderr say it failed.
        """
        cmd = [CLI, verb, "--image", self.g.ram, "--gpa", "0x%x" % self.table_gpa, "--json"]
        if paused:
            cmd.append("--paused")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        what = "`sev-donate %s`: exit %d:\n%s" % (" ".join(cmd[1:]), r.returncode,
                                                  (r.stdout + r.stderr)[-2000:])
        if r.returncode == 1:
            m = CLI_INVALID_RE.search(r.stderr)
            if not m:
                raise Fail("no error line from " + what)
            return 1, dict(error=m.group(1), chunk=int(m.group(2)) if m.group(2) else None), r.stderr
        try:
            js = json.loads(r.stdout)
        except ValueError:
            raise Fail("no JSON from " + what)
        if r.returncode != 0 or js.get("verdict") != "valid":
            raise Fail(what)
        return 0, js, r.stderr

    def live_round(self):
        """One live check and one live dump of the running guest's RAM."""
        for verb in ("check", "dump"):
            rc, js, err = self.cli(verb, paused=False)
            self.live[verb] += 1
            if rc == 1:
                if js["error"] not in LIVE_OK_ERRORS:
                    raise Fail("live `sev-donate %s` on a churning guest: %s" % (verb, err.strip()))
                self.live[verb + "_unsettled"] += 1
                continue
            self.live[verb + "_ok"] += 1
            if verb == "dump":
                # Only the table's and the pool's pages ever change state.
                for e in js["extents"]:
                    stray = set(range(e["gfn"], e["gfn"] + e["pages"])) - self.changing
                    if e["state"] != "shared" or stray:
                        raise Fail("live dump: extent %s, %d page(s) the guest never converts"
                                   % (e, len(stray)))

    def commits(self):
        with open(self.g.ram, "rb") as img:
            return sdimage.ledger_commits(img, self.ledger_gpa)

    def paused_round(self, expect_idle):
        """With the VM stopped: the CLI, the oracle and the ledger agree on every page."""
        rc, chk, err = self.cli("check", paused=True)
        if rc != 0:
            raise Fail("`sev-donate check --paused` on a stopped guest: " + err.strip())
        rc, dump, err = self.cli("dump", paused=True)
        if rc != 0:
            raise Fail("`sev-donate dump --paused` on a stopped guest: " + err.strip())
        with open(self.g.ram, "rb") as img:
            ledger = sdimage.Ledger(img, self.ledger_gpa)
            table = sdimage.Table(img, self.table_gpa)
        bad, st = sdimage.compare(ledger, table)
        bad += compare_dump(dump["extents"], table)
        cli_counts = (chk["shared_pages"], chk["transition_pages"])
        if cli_counts != (table.count(sdimage.SHARED), table.count(sdimage.TRANSITION)):
            bad.append("check --paused counts shared/transition %s, the oracle %s"
                       % (cli_counts, (table.count(sdimage.SHARED),
                                       table.count(sdimage.TRANSITION))))
        if expect_idle and ledger.active():
            bad.append("%d conversions in flight after churn stopped" % len(ledger.active()))
        if bad:
            raise Fail("paused comparison: %d mismatch(es):\n  %s" % (len(bad), "\n  ".join(bad)))
        self.paused["rounds"] += 1
        for k in ("pages", "transition", "odd_chunks", "inflight"):
            self.paused[k] += st[k]
        return ledger, table, st


def compare_dump(extents, table):
    """`sev-donate dump --paused --json` extents against the oracle, page by page."""
    names = {"shared": sdimage.SHARED, "transition": sdimage.TRANSITION}
    states = [sdimage.PRIVATE] * table.nr_gfns
    for e in extents:
        first = e["gfn"] - table.first_gfn
        if e["state"] not in names or first < 0 or e["pages"] > table.nr_gfns - first:
            return ["dump: extent %s is not a shared or transition run inside the span" % e]
        states[first:first + e["pages"]] = [names[e["state"]]] * e["pages"]
    bad = []
    for p, (a, b) in enumerate(zip(states, table.states)):
        if a != b:
            bad.append("gfn 0x%x: dump says %s, the oracle %s" % (table.first_gfn + p, a, b))
            if len(bad) > 10:
                break
    return bad


# ---- the test --------------------------------------------------------------------

TABLE_RE = re.compile(r"sev_donate: table gpa=0x([0-9a-f]+) bytes=(\d+) first_gfn=0x([0-9a-f]+) "
                      r"nr_gfns=(\d+) ppc=(\d+) ledger gpa=0x([0-9a-f]+) bytes=\d+ pool=(\d+x\d+)")
UNSUPPORTED = "sev_donate: host does not support registration"
TAINT_UNSAFE = "Setting dangerous option register_incomplete - tainting kernel"
CLI_INVALID_RE = re.compile(r"invalid table at GPA 0x[0-9a-f]+: (SD_ERR_[A-Z_]+)"
                            r"(?: \([^)]*\))?(?: in chunk (\d+))?")
KERNEL_TROUBLE = re.compile(r"WARNING:|BUG:|Oops|Call Trace|general protection|Kernel panic")


def refusals(g, pool):
    """What the module must refuse, and the registration retry on a host without support."""
    mk = g.mark()
    g.command("register", "1", fails=True)
    with g.cv:
        n = sum(UNSUPPORTED in ln for ln in g.lines[mk:])
    if n != 1:
        raise Fail("debugfs register on a host without support: %d '%s' lines, expected 1"
                   % (n, UNSUPPORTED))
    for arg in ("0x10 1 shared",                                   # not a pool page
                "0x%x %d shared" % (pool[0][0], pool[0][1] + 1),   # runs past its block
                "0x%x 0 shared" % pool[0][0],                      # no pages
                "0x%x 1 sideways" % pool[0][0]):                   # no such state
        g.command("convert", arg, fails=True)


def idle_check(h, when, shared):
    """A live check of a guest that converts nothing: valid, with exactly @shared pages."""
    rc, js, err = h.cli("check", paused=False)
    if rc != 0 or js["shared_pages"] != shared:
        raise Fail("live `sev-donate check` %s: %s" % (when, err.strip() or
                   "%d shared pages, expected %d" % (js["shared_pages"], shared)))


def wait_loaded(g, start, what):
    """After an insmod: the table line, exactly one "not supported" line, the GPAs."""
    i = g.wait_line(lambda ln: "SDT: ready" in ln or "SDT: ok insmod" in ln
                    or "SDT: err insmod" in ln, start, BOOT_TIMEOUT, what)
    with g.cv:
        seg = g.lines[start:i + 1]
    if "err insmod" in seg[-1]:
        raise Fail("%s: insmod failed" % what)
    m = [TABLE_RE.search(ln) for ln in seg]
    m = [x for x in m if x]
    if len(m) != 1:
        raise Fail("%s: expected one 'table gpa=' line, saw %d" % (what, len(m)))
    n = sum(UNSUPPORTED in ln for ln in seg)
    if n != 1:
        raise Fail("%s: expected exactly one '%s' line, saw %d" % (what, UNSUPPORTED, n))
    return int(m[0].group(1), 16), int(m[0].group(6), 16), m[0]


def serial_ledger(g):
    """The ledger as the guest prints it: (shared extents, total shared)."""
    ext, total = [], None
    for ln in g.command("ledger"):
        f = ln.split()
        if f[2] == "shared":
            ext.append((int(f[3], 16), int(f[4])))
        elif f[2] == "total":
            total = int(f[3].split("=")[1])
        elif f[2] == "inflight":
            raise Fail("guest ledger shows a conversion in flight after churn stopped: " + ln)
    return ext, total


def ram_ledger_extents(ledger):
    ext, p = [], 0
    while p < ledger.nr_gfns:
        if ledger.state(p) == sdimage.SHARED:
            q = p
            while q < ledger.nr_gfns and ledger.state(q) == sdimage.SHARED:
                q += 1
            ext.append((ledger.first_gfn + p, q - p))
            p = q
        else:
            p += 1
    return ext


def poke(g, gpa, data):
    """Write guest memory from the host (the VM must be stopped)."""
    with open(g.ram, "r+b") as img:
        img.seek(gpa)
        img.write(data)


def peek(g, gpa, n):
    with open(g.ram, "rb") as img:
        return sdimage.read_at(img, gpa, n)


def expect_detected(h, what, cli_error, chunk, oracle_errors):
    """A scribble the CLI and the oracle must both report, exactly."""
    rc, js, err = h.cli("check", paused=True)
    if rc != 1 or (js["error"], js["chunk"]) != (cli_error, chunk):
        raise Fail("%s: `sev-donate check --paused` exit %d, expected %s in chunk %d: %s"
                   % (what, rc, cli_error, chunk, err.strip() or js))
    with open(h.g.ram, "rb") as img:
        bad, _ = sdimage.compare(sdimage.Ledger(img, h.ledger_gpa), sdimage.Table(img, h.table_gpa))
    if bad != oracle_errors:
        raise Fail("%s: the comparison reported %s, expected %s" % (what, bad, oracle_errors))


def host_scribbles(g, h, table):
    """The checks can fail, and the guest heals what the host scribbles (SPEC.md 2.5).

    With the VM stopped: flip one bitmap bit (both the CLI and the oracle
    must see it), put it back; then overwrite a chunk descriptor, resume,
    have the guest convert one page of that chunk, and stop again: the
    guest rewrote the descriptor from its private state, so the table is
    exact again without the host restoring anything.
    """
    gfn = h.pool[0][0]
    p = gfn - table.first_gfn
    c = p // table.ppc
    hdr = sdimage.HDR.unpack(peek(g, h.table_gpa, sdimage.HDR.size))
    desc_gpa, bitmap_gpa = h.table_gpa + hdr[11] + 16 * c, h.table_gpa + hdr[12]
    g.stop()
    with open(g.ram, "rb") as img:
        ledger = sdimage.Ledger(img, h.ledger_gpa)
    was = ledger.state(p)
    now = sdimage.PRIVATE if was == sdimage.SHARED else sdimage.SHARED
    byte = peek(g, bitmap_gpa + p // 8, 1)
    nr_shared = struct.unpack("<I", peek(g, desc_gpa + 4, 4))[0]
    poke(g, bitmap_gpa + p // 8, bytes([byte[0] ^ (1 << (p % 8))]))
    expect_detected(h, "flipped bit", "SD_ERR_CHUNK_COUNT", c,
                    ["chunk %d: nr_shared %d, popcount %d"
                     % (c, nr_shared, nr_shared + (1 if now == sdimage.SHARED else -1)),
                     "gfn 0x%x: table %s, ledger %s" % (gfn, now, was)])
    poke(g, bitmap_gpa + p // 8, byte)
    h.paused_round(expect_idle=True)

    saved = peek(g, desc_gpa, 16)
    poke(g, desc_gpa, struct.pack("<IIII", 0xffffffff, 0x12345, 0, 0))
    expect_detected(h, "scribbled descriptor", "SD_ERR_CHUNK_PENDING", c,
                    ["chunk %d: pending 0+0 outside" % c])
    g.cont()
    g.command("convert", "0x%x 1 %s" % (gfn, "shared" if now == sdimage.SHARED else "private"))
    g.stop()
    _, t2, _ = h.paused_round(expect_idle=True)
    if t2.states[p] != now or peek(g, desc_gpa, 16) == saved:
        raise Fail("after the guest's conversion of gfn 0x%x: state %s, descriptor %s"
                   % (gfn, t2.states[p], "unchanged" if peek(g, desc_gpa, 16) == saved
                      else "rewritten"))
    g.cont()


def run(qemu, kver, busybox):
    g = Guest(qemu, kver, busybox)
    try:
        table_gpa, ledger_gpa, m = wait_loaded(g, 0, "boot")
        boot_s = time.monotonic() - g.t0
        log("booted %s under TCG (%d vCPUs, %d MiB) in %.1f s; table at 0x%x (%s bytes, "
            "ppc %s), ledger at 0x%x" % (kver, VCPUS, RAM_MB, boot_s, table_gpa, m.group(2),
                                         m.group(5), ledger_gpa))
        pool = [(int(ln.split()[2], 16), int(ln.split()[3])) for ln in g.command("pool")]
        h = Host(g, table_gpa, ledger_gpa, pool, int(m.group(2)))

        # Idle: live check passes, paused comparison exact.
        idle_check(h, "on an idle guest", int(m.group(2)) // 4096)
        refusals(g, pool)
        g.stop()
        h.paused_round(expect_idle=True)
        g.cont()

        g.command("churn-start", str(VCPUS))
        for _ in range(PAUSES):
            target = h.commits() + CONVERSIONS_PER_PAUSE
            deadline = time.monotonic() + PROGRESS_TIMEOUT
            rounds = 0
            while rounds < MIN_LIVE_ROUNDS or h.commits() < target:
                if time.monotonic() > deadline:
                    raise Fail("the guest made %d of %d conversions in %d s"
                               % (h.commits() - target + CONVERSIONS_PER_PAUSE,
                                  CONVERSIONS_PER_PAUSE, PROGRESS_TIMEOUT))
                h.live_round()
                rounds += 1
            g.stop()
            h.paused_round(expect_idle=False)
            g.cont()
        g.command("churn-stop")
        stats = dict(kv.split("=") for kv in g.command("stats")[0].split()[2:])
        if stats["errors"] != "0":
            raise Fail("the module counted %s errors" % stats["errors"])
        if int(stats["conversions"]) == 0 or stats["reclaim_windows"] != "0":
            raise Fail("%s of %s conversion windows could enter direct reclaim"
                       % (stats["reclaim_windows"], stats["conversions"]))

        # Quiet: exact, nothing in flight; the console's ledger is the RAM's.
        g.stop()
        ledger, table, st = h.paused_round(expect_idle=True)
        g.cont()
        ext, total = serial_ledger(g)
        if ext != ram_ledger_extents(ledger) or total != ledger.shared_count():
            raise Fail("the ledger on the console (%d extents, %s shared) differs from the one "
                       "in RAM (%d shared)" % (len(ext), total, ledger.shared_count()))
        if table.count(sdimage.SHARED) != ledger.shared_count():
            raise Fail("shared pages: table %d, ledger %d"
                       % (table.count(sdimage.SHARED), ledger.shared_count()))
        idle_check(h, "after churn stopped", ledger.shared_count())
        host_scribbles(g, h, table)
        conversions = h.commits()

        # Unload and load again (a new table), then power off with it loaded.
        mk = g.mark()
        g.command("rmmod")
        g.wait_line(lambda ln: "sev_donate: unload: no table registered" in ln, mk, CMD_TIMEOUT,
                    "rmmod")
        mk = g.mark()
        # Default geometry (8192 pages a chunk), no pool; the test-only switch taints.
        g.command("insmod", "transport=auto register_incomplete=1")
        table2, ledger2, m2 = wait_loaded(g, mk, "insmod after rmmod")
        with g.cv:
            tainted = sum(TAINT_UNSAFE in ln for ln in g.lines[mk:])
        if tainted != 1:
            raise Fail("insmod register_incomplete=1: %d '%s' lines, expected 1"
                       % (tainted, TAINT_UNSAFE))
        if (m2.group(5), m2.group(7)) != ("8192", "0x0"):
            raise Fail("insmod with defaults: ppc %s, pool %s" % (m2.group(5), m2.group(7)))
        h2 = Host(g, table2, ledger2, [], int(m2.group(2)))
        g.stop()
        h2.paused_round(expect_idle=True)
        g.cont()
        dmesg = g.command("dmesg")
        trouble = [ln for ln in dmesg if KERNEL_TROUBLE.search(ln)]
        if trouble:
            raise Fail("kernel trouble in dmesg:\n  " + "\n  ".join(trouble[:20]))
        mk = g.mark()
        g.ser.sendall(b"poweroff\n")
        g.wait_line(lambda ln: "sev_donate: reboot: no table registered" in ln, mk, CMD_TIMEOUT,
                    "poweroff (reboot notifier)")
        rc = g.wait_exit(CMD_TIMEOUT)
        if rc != 0:
            raise Fail("qemu exited %d after poweroff" % rc)

        p = h.paused
        log("PASS: %d conversions by %d vCPUs; live: %d check (%d ok, %d unsettled), %d dump "
            "(%d ok, %d unsettled); paused: %d comparisons, %d pages, 0 mismatches, "
            "%d in flight, %d in transition in %d odd chunks; final: exact, %d shared; "
            "%s waits for a chunk lock"
            % (conversions, VCPUS, h.live["check"], h.live["check_ok"],
               h.live["check_unsettled"], h.live["dump"], h.live["dump_ok"],
               h.live["dump_unsettled"], p["rounds"], p["pages"], p["inflight"],
               p["transition"], p["odd_chunks"], ledger.shared_count(), stats["lock_waits"]))
        if not os.environ.get("LINUX_CHECK_KEEP"):
            os.unlink(g.ram)
        return 0
    except (Fail, OSError):
        print("linux-check: serial console, last lines (all in %s):" % g.log_path)
        for ln in g.tail():
            print("  | " + ln)
        if g.proc.poll() is not None:
            print("linux-check: qemu exited %d; %s" % (g.proc.returncode, g.qemu_output()))
        raise
    finally:
        g.kill()


def main():
    try:
        qemu, kver, busybox = prerequisites()
        return run(qemu, kver, busybox)
    except Fail as e:
        print("FAIL: linux-check: %s" % e, flush=True)
        return 1
    except OSError as e:
        # A socket to qemu broke: qemu died under us (its output was printed above).
        print("FAIL: linux-check: lost qemu: %s" % e, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
