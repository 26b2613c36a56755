#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""test_relay.py - the netns-check relay (relay.py) on loopback, no root.

A synthetic stream framed as docs/STREAM.md frames it (HEADER, PASS 0,
pages, PASS 1, pages, the final PASS, pages, END, then COMMIT) goes from a
fake source through the relay to a fake destination, which answers (HELLO,
RESULT). Checks that the relay delivers both directions byte for byte, that
it holds exactly at each mark (bytes:N, pass:N, final, end: the destination
has received exactly the bytes before the mark, and not one more until the
relay is released), that a stall and a delay hold data back at least as long
as asked, and that it stops by itself: idle, at its deadline, and when both
sides close. Exact counts only; the only clock checks are lower bounds (a
relay that holds data back cannot deliver it sooner).
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RELAY = os.path.join(HERE, "relay.py")
checks = failed = 0


def ok(cond, what):
    global checks, failed
    checks += 1
    if cond:
        print("ok %d - %s" % (checks, what), flush=True)
    else:
        failed += 1
        print("not ok %d - %s" % (checks, what), flush=True)


def record(typ, payload):
    return struct.pack("<HHIQII", typ, 0, len(payload), 0, 0, 0) + payload


def stream():
    """The stream and the offsets of its marks."""
    s = bytearray(b"SDMIGSRC" + struct.pack("<HHI", 2, 0, 192) + bytes(176))	# a 2.0 HEADER
    marks = {}

    def pas(n, final):
        marks["final" if final else "pass:%d" % n] = len(s)
        s.extend(record(1, struct.pack("<II", n, final)))
    for n, final in ((0, 0), (1, 0), (2, 1)):
        pas(n, final)
        for i in range(3):
            s.extend(record(2, struct.pack("<QII", i, 4, 0) + bytes([n + 1]) * (4 * 4096)))
    s.extend(record(6, struct.pack("<II", 0, 0)))
    s.extend(record(7, bytes(48)))
    marks["end"] = len(s)
    marks["bytes:1000"] = 1000
    return bytes(s), marks


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    def __init__(self, *args):
        self.lport, self.dport = free_port(), free_port()
        self.dl = socket.socket()
        self.dl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.dl.bind(("127.0.0.1", self.dport))
        self.dl.listen(1)
        self.dl.settimeout(10)
        self.p = subprocess.Popen([sys.executable, RELAY, "--listen", "127.0.0.1:%d" % self.lport,
                                   "--to", "127.0.0.1:%d" % self.dport] + list(args),
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.lines = []
        self.line("listening on")

    def line(self, text, limit=10):
        """Read the relay's stdout up to a line holding @text (at most @limit s: a deadline)."""
        until = time.monotonic() + limit
        while time.monotonic() < until:
            ln = self.p.stdout.readline()
            if not ln:
                return None
            self.lines.append(ln)
            if text in ln:
                return ln
        return None

    def connect(self):
        self.src = socket.create_connection(("127.0.0.1", self.lport), timeout=10)
        self.dst, _ = self.dl.accept()
        self.dst.settimeout(10)

    def finish(self, limit=15):
        try:
            rc = self.p.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            rc = self.p.wait()
        self.lines += self.p.stdout.readlines()
        self.p.stdout.close()
        self.dl.close()
        return rc


def recv_exactly(s, n):
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            break
        buf += b
    return bytes(buf)


def nothing_more(s, wait):
    s.settimeout(wait)
    try:
        b = s.recv(1)
    except socket.timeout:
        b = None
    s.settimeout(10)
    return b is None


def exchange(r, data):
    """HELLO, the whole stream, RESULT, COMMIT, both sides close; what each side got."""
    r.dst.sendall(b"H" * 64)
    got_hello = recv_exactly(r.src, 64)
    r.src.sendall(data)
    got = recv_exactly(r.dst, len(data))
    r.dst.sendall(b"R" * 256)
    got_result = recv_exactly(r.src, 256)
    r.src.sendall(b"COMMIT!!")
    got_commit = recv_exactly(r.dst, 8)
    r.src.shutdown(socket.SHUT_WR)
    r.dst.shutdown(socket.SHUT_WR)
    eof = recv_exactly(r.dst, 1) == b"" and recv_exactly(r.src, 1) == b""
    return got_hello == b"H" * 64 and got == data and got_result == b"R" * 256 and \
        got_commit == b"COMMIT!!" and eof


def main():
    data, marks = stream()

    r = Run()
    r.connect()
    ok(exchange(r, data), "pass-through: HELLO, %d stream bytes, RESULT, COMMIT and both "
       "closes delivered byte for byte" % len(data))
    rc = r.finish()
    ok(rc == 0 and any("both directions ended" in ln and "up %d bytes, down 320 bytes" %
                       (len(data) + 8) in ln for ln in r.lines),
       "pass-through: the relay stops by itself once both sides closed (exit %s)" % rc)

    for mark in ("bytes:1000", "pass:1", "final", "end"):
        r = Run("--at", mark, "--do", "hold")
        r.connect()
        r.dst.sendall(b"H" * 64)
        recv_exactly(r.src, 64)
        r.src.sendall(data + b"COMMIT!!")
        held = r.line("at %s: holding" % mark)
        got = recv_exactly(r.dst, marks[mark])
        ok(held and got == data[:marks[mark]] and nothing_more(r.dst, 0.3),
           "hold at %s: exactly the %d bytes before it arrive, then nothing" %
           (mark, marks[mark]))
        r.p.send_signal(signal.SIGUSR1)
        rest = recv_exactly(r.dst, len(data) + 8 - marks[mark])
        ok(rest == (data + b"COMMIT!!")[marks[mark]:], "hold at %s: released, the other %d "
           "bytes follow" % (mark, len(data) + 8 - marks[mark]))
        r.src.close()
        r.dst.close()
        ok(r.finish() == 0, "hold at %s: the relay ends when both sides close" % mark)

    r = Run("--at", "pass:1", "--do", "stall:400")
    r.connect()
    r.src.sendall(data)
    head = recv_exactly(r.dst, marks["pass:1"])
    t = time.monotonic()
    rest = recv_exactly(r.dst, len(data) - marks["pass:1"])
    ok(head + rest == data and time.monotonic() - t >= 0.4,
       "stall:400 at pass:1: the rest arrives no sooner than 400 ms later, intact")
    r.src.close()
    r.dst.close()
    r.finish()

    r = Run("--delay-ms", "50")
    r.connect()
    t = time.monotonic()
    r.src.sendall(b"ping")
    got = recv_exactly(r.dst, 4)
    r.dst.sendall(b"pong")
    back = recv_exactly(r.src, 4)
    ok(got == b"ping" and back == b"pong" and time.monotonic() - t >= 0.1,
       "--delay-ms 50: a round trip takes at least 100 ms")
    r.src.close()
    r.dst.close()
    r.finish()

    r = Run("--idle", "0.5")
    r.connect()
    rc = r.finish()
    ok(rc == 0 and any("idle 0.5 s" in ln for ln in r.lines) and recv_exactly(r.dst, 1) == b"",
       "nothing moving for --idle: the relay closes both sides and exits")
    r.src.close()
    r.dst.close()

    r = Run("--deadline", "0.5")
    rc = r.finish()
    ok(rc == 3 and any("deadline 0.5 s" in ln for ln in r.lines),
       "no source by --deadline: exit 3, says so")

    r = Run("--at", "final", "--do", "hold", "--hold-max", "0.3")
    r.connect()
    r.src.sendall(data)
    got = recv_exactly(r.dst, len(data))
    ok(got == data and r.line("going on") is not None,
       "a hold nobody releases ends at --hold-max and the stream goes on")
    r.src.close()
    r.dst.close()
    r.finish()

    r = Run("--idle", "1")
    r.connect()
    r.dst.close()
    r.src.settimeout(5)
    ok(recv_exactly(r.src, 1) == b"" and r.finish() == 0,
       "the destination goes away: the source sees the end, the relay exits")
    r.src.close()

    print("relay: %d checks, %d failed" % (checks, failed))
    print("%d passed, %d failed" % (checks - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
