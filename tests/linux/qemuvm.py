# SPDX-License-Identifier: GPL-2.0 OR MIT
"""qemuvm.py - what the tests that boot Debian's kernel under QEMU share.

tests/linux/linux-check.py (sev_donate.ko in a guest) and
tests/nested/nested-check.py (KVM inside a guest) both need: QEMU, the
kernel image, a static busybox, an initramfs (mkinitramfs.py), and the
guest's serial console read line by line on a thread, with every line
kept, logged, and waited for under a deadline.
"""
import os
import shutil
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MKINITRAMFS = os.path.join(HERE, "mkinitramfs.py")


class Fail(Exception):
    pass


def skip(tag, reason):
    print("SKIP: %s: %s" % (tag, reason), flush=True)
    sys.exit(77)


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


def find_qemu(tag):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        skip(tag, "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    return qemu


def find_kernel(tag):
    """The newest kernel with an image in /boot and its headers (guest/linux/find-kernel.sh)."""
    r = subprocess.run([os.path.join(ROOT, "guest/linux/find-kernel.sh")],
                       capture_output=True, text=True)
    kver = r.stdout.strip()
    if r.returncode or not kver:
        skip(tag, "no kernel image with matching headers "
             "(apt-get install linux-image-amd64 linux-headers-amd64)")
    return kver


def find_busybox(tag):
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(p) and is_static_elf(p):
            return p
    skip(tag, "no statically linked busybox (apt-get install busybox-static)")


def mkinitramfs(out, entries, text=()):
    """An initramfs at @out: @entries are (DEST, SRC) files, @text (DEST, STRING)."""
    args = [sys.executable, MKINITRAMFS, out] + ["%s=%s" % e for e in entries]
    for dest, s in text:
        args += ["--text", "%s=%s" % (dest, s)]
    subprocess.run(args, check=True)


class Console:
    """A guest's serial console: lines from @recv (bytes, b"" at the end) on a thread.

    Every line is kept in .lines and written to @log_path as it comes (with
    @stamp, after the seconds since the start); .last_data is when the
    guest last printed anything (time.monotonic()).
    """

    def __init__(self, recv, log_path, echo=None, stamp=False):
        self.recv = recv
        self.lines = []
        self.cv = threading.Condition()
        self.closed = False
        self.echo = echo
        self.last_data = self.t0 = time.monotonic()
        self.stamp = stamp
        self.logf = open(log_path, "w")
        self.log_path = log_path
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                d = self.recv(65536)
            except OSError:
                d = b""
            if not d:
                break
            buf += d
            *done, buf = buf.split(b"\n")
            with self.cv:
                self.last_data = time.monotonic()
                for raw in done:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    self.lines.append(line)
                    if self.stamp:
                        self.logf.write("[%7.1f] " % (self.last_data - self.t0))
                    self.logf.write(line + "\n")
                    if self.echo:
                        self.echo(line)
                self.logf.flush()
                self.cv.notify_all()
        with self.cv:
            self.closed = True
            self.cv.notify_all()

    def wait_line(self, pred, start, timeout, what, exited=lambda: None):
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
                                           % exited() if self.closed else
                                           "no answer within %d s" % timeout))
                self.cv.wait(min(left, 1.0))

    def mark(self):
        with self.cv:
            return len(self.lines)

    def tail(self, n=40):
        with self.cv:
            return self.lines[-n:]
