#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""nested-check.py - the KVM suite on a standard KVM, and on KVM with patches/kvm.

Boots Debian's kernel (linux-image-amd64) under QEMU TCG with an emulated
AMD CPU (SVM with nested paging), so that the guest's /dev/kvm is
Debian's own KVM, and runs there the very test binaries `make check`
runs on the host (tests/nested/guest-plan.sh says what, in three phases):

  kmod     host/ inside Debian's kernel: tests/nested/kmod's sd_host_kmod.ko
           (built on the host against the headers, by make), and
           test_host_kmod, which runs every conformance vector and real
           faults (pages copy_from_user() cannot read) through it;
  stock    Debian's kvm and kvm_amd: every tests/kvm program, and the
           migration tests (tests/migrate/test-migrate.sh with a 64 MiB demo
           guest and one seed: same code paths and checks, fewer pages);
  patched  kvm.ko and kvm-amd.ko rebuilt from linux-source-6.1 with
           patches/kvm applied (build-kvm.sh, on the host, before the boot):
           every tests/kvm program again, where the hypercall cases must
           run, and a migration of a guest that registers by hypercall.

The guest reaches the binaries, their libraries, python3 and the kernel
modules through a read-only 9p share of the host's root filesystem: it
chroots there (init.sh), so nothing is copied and nothing differs.

Never hangs: the whole run has a deadline (NESTED_TIMEOUT, default 1500 s),
and a guest that prints nothing for NESTED_STALL seconds (default 120; the
guest prints a heartbeat every 5 s; 90 s at least before its first line) is
killed. Either way the tail of the
console is printed. Prints one line per program and step, then
`nested-check: N passed, N failed, N skipped`; exit 0 only if none failed.
SKIP (exit 77) only where QEMU or the kernel image is missing.

Environment: SD_BUILD (build directory, default build), NESTED_TIMEOUT,
NESTED_STALL, NESTED_PLAN=stock (skip the patched phase and its build) or
kmod (only the kmod phase),
NESTED_TEST=silent|busy (a guest that stalls or never ends, for
tests/nested/test-watchdog.sh).
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "linux"))
import qemuvm  # noqa: E402
from qemuvm import Fail  # noqa: E402

TAG = "nested-check"
BUILD = os.path.join(ROOT, os.environ.get("SD_BUILD", "build"))
OUT = os.path.join(BUILD, "nested")
DEADLINE = float(os.environ.get("NESTED_TIMEOUT", "1500"))
STALL = float(os.environ.get("NESTED_STALL", "120"))
# Before its first line a guest is booting (SeaBIOS, the kernel unpacking itself).
BOOT = 90
PLAN = os.environ.get("NESTED_PLAN", "full")
TEST = os.environ.get("NESTED_TEST", "")

# Enough to mount the host's root over virtio 9p, in load order.
MODULES_9P = ["fs/netfs/netfs", "fs/fscache/fscache", "net/9p/9pnet",
              "drivers/virtio/virtio_ring", "drivers/virtio/virtio",
              "drivers/virtio/virtio_pci_legacy_dev", "drivers/virtio/virtio_pci_modern_dev",
              "drivers/virtio/virtio_pci", "net/9p/9pnet_virtio", "fs/9p/9p"]

# The command line FACTS.md found to work: single-threaded TCG (multi-threaded
# TCG froze nested guests), POPCNT and SSE4.2 for the project's binaries.
CPU = "qemu64,+svm,+npt,+popcnt,+sse4.1,+sse4.2,+ssse3"

RESULT_RE = re.compile(r"^<== (\S+): (pass|fail|skip|timeout) in ([0-9.]+) s$")
STEP_RE = re.compile(r"^NESTED: result (\S+) (pass|fail)$")
# A program's own closing counts ("test_host_kmod: 172 passed, 0 failed, 0 skipped"), shown.
COUNTS_RE = re.compile(r"^\S+: (.*\D)?\d+ passed, \d+ failed(, \d+ skipped)?$")


def log(msg):
    print("%s: %s" % (TAG, msg), flush=True)


def prerequisites():
    qemu = qemuvm.find_qemu(TAG)
    kver = qemuvm.find_kernel(TAG)
    busybox = qemuvm.find_busybox(TAG)
    mods = "/lib/modules/%s/kernel" % kver
    for m in MODULES_9P + ["arch/x86/kvm/kvm-amd"]:
        if not os.path.exists("%s/%s.ko" % (mods, m)):
            qemuvm.skip(TAG, "%s/%s.ko missing: not Debian's linux-image-amd64?" % (mods, m))
    need = [os.path.join(BUILD, "sev-donate"), os.path.join(BUILD, "tests", "test-migrate"),
            os.path.join(BUILD, "kmod", "test_host_kmod")]
    kvm = os.path.join(BUILD, "kvm")
    tests = sorted(f for f in os.listdir(kvm) if f.startswith("test_") and "." not in f) \
        if os.path.isdir(kvm) else []
    if not tests:
        raise Fail("no tests/kvm programs in %s: run make first" % kvm)
    for p in need:
        if not os.access(p, os.X_OK):
            raise Fail("%s is not built: run make first" % p)
    if not os.path.exists(os.path.join(BUILD, "kmod", "sd_host_kmod.ko")):
        raise Fail("%s/kmod/sd_host_kmod.ko is not built: run make host-kmod" % BUILD)
    return qemu, kver, busybox


def build_patched_kvm(kver):
    """tests/nested/build-kvm.sh; True if kvm.ko and kvm-amd.ko are ready."""
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(HERE, "build-kvm.sh"), kver, os.path.join(OUT, "kvm")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=1200)
    for ln in r.stdout.splitlines():
        if ln.startswith("build-kvm:") or r.returncode:
            print("  " + ln)
    log("patched KVM: %s in %.0f s" % ("ready" if r.returncode == 0 else "FAILED",
                                        time.monotonic() - t0))
    return r.returncode == 0


def make_initramfs(kver, busybox):
    path = os.path.join(OUT, "initramfs.cpio.gz")
    mods = "/lib/modules/%s/kernel" % kver
    entries = [("init", os.path.join(HERE, "init.sh")), ("bin/busybox", busybox)]
    order = []
    for m in MODULES_9P:
        name = os.path.basename(m) + ".ko"
        entries.append(("mod/" + name, "%s/%s.ko" % (mods, m)))
        order.append(name)
    qemuvm.mkinitramfs(path, entries, [("modules.order", " ".join(order))])
    return path


class Run:
    """The guest, its console, and what it reported."""

    def __init__(self, qemu, kver, initrd, plan):
        self.results = []           # (phase, name, verdict, seconds)
        self.phase = "boot"
        self.seg_start = {}         # program -> console line where it started
        self.failed_output = []
        append = "console=ttyS0 panic=-1 sdroot=%s sdbuild=%s sdplan=%s" % (
            ROOT, BUILD, plan)
        if TEST:
            append += " sdtest=" + TEST
        cmd = [qemu, "-accel", "tcg,thread=single", "-machine", "q35", "-cpu", CPU,
               "-smp", "2", "-m", "2048", "-kernel", "/boot/vmlinuz-" + kver, "-initrd", initrd,
               "-append", append, "-display", "none", "-no-reboot", "-nodefaults",
               "-serial", "stdio", "-monitor", "none",
               "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,"
               "multidevs=remap"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.t0 = time.monotonic()
        fd = self.proc.stdout.fileno()
        self.con = qemuvm.Console(lambda n: os.read(fd, n), os.path.join(OUT, "console.log"),
                                  echo=self.on_line, stamp=True)

    def on_line(self, line):
        """On the console thread: track phases and programs, print one line per result."""
        if line.startswith("NESTED: phase "):
            self.phase = line.split()[2]
        elif line.startswith("==> "):
            self.seg_start[line[4:]] = len(self.con.lines)
        elif line.startswith("NESTED: modules") or line.startswith("NESTED: boot") or \
                line.startswith("NESTED: kvm_amd"):
            log(line[len("NESTED: "):])
        elif COUNTS_RE.match(line):
            print("%s:   %s" % (TAG, line), flush=True)
        m = RESULT_RE.match(line) or STEP_RE.match(line)
        if not m:
            return
        name, verdict = m.group(1), m.group(2)
        secs = float(m.group(3)) if m.lastindex >= 3 else None
        name = os.path.relpath(name, ROOT) if name.startswith("/") else name
        self.results.append((self.phase, name, verdict, secs))
        print("%s: %-7s %-4s %-34s%s" % (TAG, self.phase, verdict.upper(), name,
                                        "" if secs is None else " %6.1f s" % secs), flush=True)
        if verdict in ("fail", "timeout") and m.group(1) in self.seg_start:
            seg = self.con.lines[self.seg_start[m.group(1)]:]
            self.failed_output.append((name, seg[-60:]))

    def watch(self):
        """Until the guest powers off; raises Fail on the deadline or a stall."""
        while True:
            try:
                self.proc.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if now - self.t0 > DEADLINE:
                raise Fail("the run passed its deadline of %d s" % DEADLINE)
            if not self.con.lines and now - self.t0 > max(STALL, BOOT):
                raise Fail("the guest printed nothing within %d s of its start" % max(STALL, BOOT))
            if self.con.lines and now - self.con.last_data > STALL:
                raise Fail("the guest printed nothing for %d s (stalled)" % STALL)
        # The console thread sees EOF right after qemu exits.
        end = time.monotonic() + 5
        while not self.con.closed and time.monotonic() < end:
            time.sleep(0.05)

    def exit_line(self):
        for ln in reversed(self.con.lines):
            if ln.startswith("NESTED: exit "):
                return ln
        return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def summarize(run, plan, build_ok):
    passed = sum(1 for r in run.results if r[2] == "pass")
    failed = sum(1 for r in run.results if r[2] in ("fail", "timeout"))
    skipped = sum(1 for r in run.results if r[2] == "skip")
    problems = []
    if not build_ok:
        failed += 1
        problems.append("the patched KVM did not build")
    phases = {r[0] for r in run.results}
    want = ["kmod"] + (["stock"] if plan != "kmod" else []) + \
        (["patched"] if plan == "full" else [])
    for ph in want:
        if ph not in phases:
            problems.append("phase %s reported nothing" % ph)
    ex = run.exit_line()
    if ex is None or not ex.startswith("NESTED: exit 0"):
        problems.append("the guest's plan ended with %s" % (ex or "no exit line"))
    for name, seg in run.failed_output:
        print("%s: output of %s (last %d lines; all in %s):" % (TAG, name, len(seg),
                                                                run.con.log_path))
        for ln in seg:
            print("  | " + ln)
    if problems and not failed:
        failed += 1
    for p in problems:
        log("FAIL: " + p)
    log("%s, %.0f s in all" % (", ".join("%s %d program(s)" % (ph, sum(
        1 for r in run.results if r[0] == ph)) for ph in want), time.monotonic() - T0))
    print("%s: %d passed, %d failed, %d skipped" % (TAG, passed, failed, skipped), flush=True)
    return 1 if failed else 0


T0 = time.monotonic()


def main():
    os.makedirs(OUT, exist_ok=True)
    try:
        qemu, kver, busybox = prerequisites()
    except Fail as e:
        print("FAIL: %s: %s" % (TAG, e), flush=True)
        print("%s: 0 passed, 1 failed, 0 skipped" % TAG)
        return 1
    plan = PLAN
    build_ok = True
    if plan == "full":
        build_ok = build_patched_kvm(kver)
        if not build_ok:
            plan = "stock"
    initrd = make_initramfs(kver, busybox)
    log("booting %s under QEMU TCG (%s), plan %s; console in %s"
        % (kver, CPU, plan, os.path.join(OUT, "console.log")))
    run = Run(qemu, kver, initrd, plan)
    try:
        run.watch()
    except Fail as e:
        run.kill()
        log("FAIL: %s; console, last lines (all in %s):" % (e, run.con.log_path))
        for ln in run.con.tail(40):
            print("  | " + ln)
        run.results.append((run.phase, "qemu-run", "fail", None))
    finally:
        run.kill()
    return summarize(run, PLAN if build_ok else "stock", build_ok)


if __name__ == "__main__":
    sys.exit(main())
