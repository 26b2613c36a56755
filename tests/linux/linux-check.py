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
     exactly one line saying the host does not support registration.
  2. Idle guest: `sev-donate check` (live) passes; a paused comparison of
     every page against the module's ledger is exact.
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
     console equals the ledger read from RAM.
  6. rmmod, insmod (a fresh table), poweroff: the reboot notifier runs.
     The serial log has no kernel warning, BUG or oops, and no taint but
     the module's own.

Exit 0 on success, 1 on any failure (with the reason and the serial log's
tail), 77 (SKIP, loudly) when a prerequisite is not installed.
Environment: SD_BUILD (build directory, default build), SD_CLI (the
sev-donate binary, default $SD_BUILD/sev-donate), LINUX_CHECK_KEEP=1 keeps
the RAM image after a pass.
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import sdimage  # noqa: E402

BUILD = os.path.join(ROOT, os.environ.get("SD_BUILD", "build"))
OUT = os.path.join(BUILD, "linux")
KMOD = os.path.join(OUT, "kmod", "sev_donate.ko")
CLI = os.environ.get("SD_CLI", os.path.join(BUILD, "sev-donate"))

RAM_MB = 256            # below the PCI hole: file offset == GPA
VCPUS = 2
MODARGS = "ppc=256 pool_mb=32 pool_order=9 convert_delay_us=500"   # 256 chunks; every 2 MiB block spans 2 chunks
CONVERSIONS_PER_PAUSE = 3000
PAUSES = 5
MIN_LIVE_ROUNDS = 3
LIVE_OK_ERRORS = ("SD_ERR_CHUNK_ODD", "SD_ERR_CHUNK_RETRIES")

# Bounds on waiting for the guest (they fail the test, they never pass it).
BOOT_TIMEOUT = 300
CMD_TIMEOUT = 120
PROGRESS_TIMEOUT = 600


class Fail(Exception):
    pass


def skip(reason):
    print("SKIP: linux-check: " + reason, flush=True)
    sys.exit(77)


def log(msg):
    print("linux-check: " + msg, flush=True)


# ---- prerequisites ---------------------------------------------------------------

def is_static_elf(path):
    """True when @path is an ELF executable with no PT_INTERP (no dynamic loader)."""
    with open(path, "rb") as f:
        h = f.read(64)
        if h[:4] != b"\x7fELF" or h[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", h, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", h, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    return all(struct.unpack_from("<I", ph, i * phentsize)[0] != 3 for i in range(phnum))


def prerequisites():
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    r = subprocess.run([os.path.join(ROOT, "guest/linux/find-kernel.sh")],
                       capture_output=True, text=True)
    kver = r.stdout.strip()
    if r.returncode or not kver:
        skip("no kernel image with matching headers "
             "(apt-get install linux-image-amd64 linux-headers-amd64)")
    busybox = None
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(p) and is_static_elf(p):
            busybox = p
            break
    if not busybox:
        skip("no statically linked busybox (apt-get install busybox-static)")
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
        self.ser_path = os.path.join(OUT, "serial.sock")
        self.qmp_path = os.path.join(OUT, "qmp.sock")
        self.log_path = os.path.join(OUT, "serial.log")
        for p in (self.ram, self.ser_path, self.qmp_path):
            if os.path.exists(p):
                os.unlink(p)
        subprocess.run([sys.executable, os.path.join(HERE, "mkinitramfs.py"), self.initrd,
                        "init=" + os.path.join(HERE, "init.sh"), "bin/busybox=" + busybox,
                        "sev_donate.ko=" + KMOD, "--text", "modargs=" + MODARGS], check=True)
        self.lines = []
        self.cv = threading.Condition()
        self.closed = False
        self.logf = open(self.log_path, "w")
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
        self.ser = self._connect(self.ser_path)
        threading.Thread(target=self._reader, daemon=True).start()
        self.qmp = self._connect(self.qmp_path)
        self.qmpf = self.qmp.makefile("rw", encoding="utf-8", newline="\n")
        self.qmpf.readline()        # greeting
        self.qmp_cmd("qmp_capabilities")

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

    def _reader(self):
        buf = b""
        while True:
            try:
                d = self.ser.recv(65536)
            except OSError:
                d = b""
            if not d:
                break
            buf += d
            *done, buf = buf.split(b"\n")
            with self.cv:
                for raw in done:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    self.lines.append(line)
                    self.logf.write(line + "\n")
                self.logf.flush()
                self.cv.notify_all()
        with self.cv:
            self.closed = True
            self.cv.notify_all()

    def wait_line(self, pred, start, timeout, what):
        """Index of the first line from @start satisfying @pred."""
        deadline = time.monotonic() + timeout
        with self.cv:
            i = start
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    raise Fail("%s: %s" % (what, "the serial console closed (qemu exited %s)"
                                           % self.proc.poll() if self.closed else
                                           "no answer within %d s" % timeout))
                self.cv.wait(min(left, 1.0))

    def mark(self):
        with self.cv:
            return len(self.lines)

    def command(self, cmd, arg="", timeout=CMD_TIMEOUT):
        """Run one init.sh command; return its "SDT: TAG ..." payload lines."""
        start = self.mark()
        self.ser.sendall(("%s %s\n" % (cmd, arg)).encode())
        end = self.wait_line(lambda ln: ln.startswith(("SDT: ok %s" % cmd, "SDT: err %s" % cmd)),
                             start, timeout, "guest command '%s %s'" % (cmd, arg))
        with self.cv:
            out = self.lines[start:end + 1]
        if out[-1].startswith("SDT: err"):
            raise Fail("guest command '%s %s' failed: %s" % (cmd, arg, out[-1]))
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

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def tail(self, n=40):
        with self.cv:
            return self.lines[-n:]


# ---- the host side: the CLI and the comparison -------------------------------------

class Host:
    def __init__(self, guest, table_gpa, ledger_gpa):
        self.g = guest
        self.table_gpa = table_gpa
        self.ledger_gpa = ledger_gpa
        self.live = dict(check=0, check_ok=0, check_unsettled=0, dump=0, dump_ok=0,
                         dump_unsettled=0)
        self.paused = dict(rounds=0, pages=0, transition=0, odd_chunks=0, inflight=0)

    def cli(self, verb, paused):
        cmd = [CLI, verb, "--image", self.g.ram, "--gpa", "0x%x" % self.table_gpa]
        if paused:
            cmd.append("--paused")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    def live_round(self):
        for verb in ("check", "dump"):
            rc, out = self.cli(verb, paused=False)
            self.live[verb] += 1
            if rc == 0:
                self.live[verb + "_ok"] += 1
            elif any(e in out for e in LIVE_OK_ERRORS):
                self.live[verb + "_unsettled"] += 1
            else:
                raise Fail("live `sev-donate %s` on a churning guest: exit %d:\n%s"
                           % (verb, rc, out.strip()[-2000:]))

    def commits(self):
        with open(self.g.ram, "rb") as img:
            return sdimage.ledger_commits(img, self.ledger_gpa)

    def paused_round(self, expect_idle):
        """With the VM stopped: CLI, our reader and the ledger must agree on every page."""
        rc, out = self.cli("check", paused=True)
        if rc != 0:
            raise Fail("`sev-donate check --paused` on a stopped guest: exit %d:\n%s"
                       % (rc, out.strip()[-2000:]))
        rc, dump = self.cli("dump", paused=True)
        if rc != 0:
            raise Fail("`sev-donate dump --paused` on a stopped guest: exit %d:\n%s"
                       % (rc, dump.strip()[-2000:]))
        with open(self.g.ram, "rb") as img:
            ledger = sdimage.Ledger(img, self.ledger_gpa)
            table = sdimage.Table(img, self.table_gpa)
        bad, st = sdimage.compare(ledger, table)
        bad += compare_dump(dump, table)
        if expect_idle and ledger.active():
            bad.append("%d conversions in flight after churn stopped" % len(ledger.active()))
        if bad:
            raise Fail("paused comparison: %d mismatch(es):\n  %s" % (len(bad), "\n  ".join(bad)))
        self.paused["rounds"] += 1
        for k in ("pages", "transition", "odd_chunks", "inflight"):
            self.paused[k] += st[k]
        return ledger, table, st


def compare_dump(dump, table):
    """`sev-donate dump --paused` against our own reading, page by page.

    Its format is the CLI's; the lines we rely on are shared/in-transition
    extents. Filled in by parse_dump().
    """
    try:
        ext = parse_dump(dump)
    except ValueError as e:
        return ["cannot parse `sev-donate dump --paused`: %s" % e]
    states = [sdimage.PRIVATE] * table.nr_gfns
    for kind, gfn, n in ext:
        for p in range(gfn - table.first_gfn, gfn - table.first_gfn + n):
            if not 0 <= p < table.nr_gfns:
                return ["dump: extent %s 0x%x+%d outside the span" % (kind, gfn, n)]
            states[p] = kind
    bad = []
    for p, (a, b) in enumerate(zip(states, table.states)):
        if a != b:
            bad.append("gfn 0x%x: dump says %s, table %s" % (table.first_gfn + p, a, b))
            if len(bad) > 10:
                break
    return bad


def parse_dump(text):
    """Extents (state, gfn, npages) for every non-private page in a dump."""
    raise ValueError("dump format not known yet")


# ---- the test --------------------------------------------------------------------

TABLE_RE = re.compile(r"sev_donate: table gpa=0x([0-9a-f]+) bytes=(\d+) first_gfn=0x([0-9a-f]+) "
                      r"nr_gfns=(\d+) ppc=(\d+) ledger gpa=0x([0-9a-f]+) bytes=(\d+)")
UNSUPPORTED = "sev_donate: host does not support registration"
KERNEL_TROUBLE = re.compile(r"WARNING:|BUG:|Oops|Call Trace|general protection|Kernel panic")


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


def run(qemu, kver, busybox):
    g = Guest(qemu, kver, busybox)
    try:
        table_gpa, ledger_gpa, m = wait_loaded(g, 0, "boot")
        boot_s = time.monotonic() - g.t0
        log("booted %s under TCG (%d vCPUs, %d MiB) in %.1f s; table at 0x%x (%s bytes, "
            "ppc %s), ledger at 0x%x" % (kver, VCPUS, RAM_MB, boot_s, table_gpa, m.group(2),
                                         m.group(5), ledger_gpa))
        h = Host(g, table_gpa, ledger_gpa)

        # Idle: live check passes, paused comparison exact.
        rc, out = h.cli("check", paused=False)
        if rc != 0:
            raise Fail("live `sev-donate check` on an idle guest: exit %d:\n%s" % (rc, out))
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
        stats = g.command("stats")[0]
        if not re.search(r" errors=0$", stats):
            raise Fail("the module counted errors: " + stats)

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
        rc, out = h.cli("check", paused=False)
        if rc != 0:
            raise Fail("live `sev-donate check` after churn stopped: exit %d:\n%s" % (rc, out))

        conversions = h.commits()

        # Unload and load again (a new table), then power off with it loaded.
        mk = g.mark()
        g.command("rmmod")
        g.wait_line(lambda ln: "sev_donate: unload: no table registered" in ln, mk, CMD_TIMEOUT,
                    "rmmod")
        mk = g.mark()
        g.command("insmod")
        table2, ledger2, _ = wait_loaded(g, mk, "insmod after rmmod")
        h2 = Host(g, table2, ledger2)
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
            "%d in flight, %d in transition in %d odd chunks; final: exact, %d shared"
            % (conversions, VCPUS, h.live["check"], h.live["check_ok"],
               h.live["check_unsettled"], h.live["dump"], h.live["dump_ok"],
               h.live["dump_unsettled"], p["rounds"], p["pages"], p["inflight"],
               p["transition"], p["odd_chunks"], ledger.shared_count()))
        if not os.environ.get("LINUX_CHECK_KEEP"):
            os.unlink(g.ram)
        return 0
    except Fail:
        print("linux-check: serial console, last lines (all in %s):" % g.log_path)
        for ln in g.tail():
            print("  | " + ln)
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


if __name__ == "__main__":
    sys.exit(main())
