#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""relay.py - the wire between two test hosts: delay, stalls and holds at
points of a migration stream, for what the kernel's qdiscs cannot do here
(no netem). Used by netns-check.py; tested on loopback by test_relay.py.

    relay.py --listen HOST:PORT --to HOST:PORT [--delay-ms D] [--at MARK]
             [--do stall:MS|hold] [--deadline S] [--idle S] [--hold-max S]

It accepts one connection (the source) within --deadline, connects to --to
(the destination; refused connections are retried for --connect-s), then
forwards both ways until both directions have ended. Each direction is a
bounded queue (QUEUE_CHUNKS reads of at most CHUNK bytes: a sender that
outruns the other side is held back by TCP, as by a real link); with
--delay-ms every chunk leaves D ms after it arrived, in each direction, so
the round trip gains 2 * D.

The source-to-destination direction is parsed as docs/STREAM.md frames it
(HEADER, whose size is at offset 0x0c in every version, then records of a
24-byte header and `len` bytes, plain framing up to END), only to find --at:
    bytes:N   after N bytes from the source
    pass:N    just before the PASS record of pre-copy pass N
    final     just before the PASS record of the final pass
    end       just after the END record
There --do acts once: `stall:MS` stops both directions (nothing read,
nothing written) for MS ms, then goes on; `hold` stops both and prints
"relay: at MARK: holding" until SIGUSR1 (or --hold-max).

Bounded: everything ends by --deadline (exit 3), and a relay with nothing
moving for --idle seconds while it flows closes both sides (exit 0, reason
"idle"). Events go to stdout, one line each ("relay: ..."); the last is
"relay: done: up N bytes, down N bytes, REASON".
"""
import argparse
import asyncio
import signal
import struct
import sys
import time

CHUNK = 65536
QUEUE_CHUNKS = 64		# 4 MiB in flight per direction at most
PREFIX = 16			# docs/STREAM.md 2: magic, major, minor, size; in every version
HEADER_MAX = 4096		# a HEADER size beyond this: not a stream to parse
REC_HDR = 24			# docs/STREAM.md 4
REC_MAX = 262176		# the largest payload docs/STREAM.md 4 allows
T_PASS, T_END = 1, 7
MARK = object()
EOF = object()


T0 = time.monotonic()


def say(msg):
    print("relay: %s (+%.3f s)" % (msg, time.monotonic() - T0), flush=True)


def hostport(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("want HOST:PORT, got '%s'" % text)
    return host or "0.0.0.0", int(port)


def parse_mark(text):
    if text in ("final", "end"):
        return (text, None)
    kind, sep, n = text.partition(":")
    if kind in ("bytes", "pass") and sep and n.isdigit():
        return (kind, int(n))
    raise argparse.ArgumentTypeError("--at wants bytes:N, pass:N, final or end, got '%s'" % text)


def parse_action(text):
    if text == "hold":
        return ("hold", None)
    kind, sep, ms = text.partition(":")
    if kind == "stall" and sep and ms.isdigit():
        return ("stall", int(ms))
    raise argparse.ArgumentTypeError("--do wants stall:MS or hold, got '%s'" % text)


class Framer:
    """Splits the source's bytes so that --at falls on a chunk boundary.

    Holds back at most the first 32 bytes of a record whose header has not
    arrived whole (a PASS record's header and payload), never more."""

    def __init__(self, mark):
        self.mark = mark
        self.buf = bytearray()
        self.base = 0			# stream offset of buf[0]
        self.next_rec = None		# the HEADER's size, once its prefix is in
        self.parsing = mark is not None and mark[0] != "bytes"
        self.mark_at = mark[1] if mark and mark[0] == "bytes" else None
        self.marked = mark is None

    def _scan(self, end):
        """Find records up to @end; return how far bytes may go out."""
        if self.parsing and self.next_rec is None:
            if end < PREFIX:
                return self.base
            size = struct.unpack_from("<I", self.buf, 0x0c - self.base)[0]
            if not PREFIX <= size <= HEADER_MAX:
                say("stream: HEADER size %d: not parsing" % size)
                self.parsing = False
                return end
            self.next_rec = size
        while self.parsing:
            o = self.next_rec
            if o + REC_HDR > end:
                return min(end, o)
            i = o - self.base
            typ, _flags, ln = struct.unpack_from("<HHI", self.buf, i)
            if ln > REC_MAX:
                say("stream: record at %d has len %d: no longer parsing" % (o, ln))
                self.parsing = False
                break
            if typ == T_PASS:
                if o + REC_HDR + 8 > end:
                    return o
                npass, final = struct.unpack_from("<II", self.buf, i + REC_HDR)
                kind, n = self.mark
                if (kind == "final" and final == 1) or (kind == "pass" and not final and
                                                       npass == n):
                    self.mark_at = o
                    self.parsing = False
            if typ == T_END:
                self.parsing = False
                if self.mark[0] == "end":
                    self.mark_at = o + REC_HDR + ln
            self.next_rec = o + REC_HDR + ln
        return end

    def feed(self, data, eof=False):
        self.buf += data
        end = self.base + len(self.buf)
        limit = end if eof else self._scan(end)
        out = []
        while True:
            if not self.marked and self.mark_at == self.base:
                out.append(MARK)
                self.marked = True
            cut = limit
            if not self.marked and self.mark_at is not None and self.base < self.mark_at < cut:
                cut = self.mark_at
            if cut <= self.base:
                break
            n = cut - self.base
            out.append(bytes(self.buf[:n]))
            del self.buf[:n]
            self.base = cut
        return out


class Relay:
    def __init__(self, a):
        self.a = a
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.last = time.monotonic()
        self.moved = {"up": 0, "down": 0}
        self.done = asyncio.Event()
        self.reason = None
        self.writers = []
        self.resume = asyncio.Event()

    def finish(self, reason):
        if self.reason is None:
            self.reason = reason
        self.done.set()

    async def wait_flowing(self):
        await self.flowing.wait()

    async def act(self, label):
        kind, ms = self.a.do
        self.flowing.clear()
        if kind == "stall":
            say("at %s: stalling %d ms" % (label, ms))
            await asyncio.sleep(ms / 1000)
            say("stall over")
        else:
            say("at %s: holding" % label)
            try:
                await asyncio.wait_for(self.resume.wait(), self.a.hold_max)
                say("released")
            except asyncio.TimeoutError:
                say("hold: no SIGUSR1 within %g s, going on" % self.a.hold_max)
        self.last = time.monotonic()
        self.flowing.set()

    async def reader(self, name, r, q, framer):
        while True:
            await self.wait_flowing()
            try:
                data = await r.read(CHUNK)
            except (ConnectionError, OSError) as e:
                self.finish("%s read: %s" % (name, e.__class__.__name__))
                return
            self.last = time.monotonic()
            due = self.last + self.a.delay_ms / 1000
            items = framer.feed(data, eof=not data) if framer else [data] if data else []
            for it in items:
                await q.put((due, it))
            if not data:
                await q.put((due, EOF))
                return

    async def writer(self, name, w, q):
        while True:
            due, it = await q.get()
            if it is MARK:
                await self.act(self.a.at_text)
                continue
            left = due - time.monotonic()
            if left > 0:
                await asyncio.sleep(left)
            await self.wait_flowing()
            try:
                if it is EOF:
                    if w.can_write_eof():
                        w.write_eof()
                    return
                w.write(it)
                await w.drain()
            except (ConnectionError, OSError) as e:
                self.finish("%s write: %s" % (name, e.__class__.__name__))
                return
            self.moved[name] += len(it)
            self.last = time.monotonic()

    async def watchdog(self):
        while not self.done.is_set():
            await asyncio.sleep(0.1)
            if self.flowing.is_set() and time.monotonic() - self.last > self.a.idle:
                self.finish("idle %g s" % self.a.idle)

    async def connect_dest(self, until):
        host, port = self.a.to
        while True:
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port),
                                              max(0.1, until - time.monotonic()))
            except ConnectionRefusedError:
                if time.monotonic() + 0.05 >= until:
                    raise
                await asyncio.sleep(0.05)

    async def run(self):
        got = asyncio.Queue(1)
        host, port = self.a.listen

        async def on_conn(r, w):
            if got.full():
                w.close()
                return
            await got.put((r, w))

        server = await asyncio.start_server(on_conn, host, port, reuse_address=True)
        say("listening on %s:%d" % (host, server.sockets[0].getsockname()[1]))
        src_r, src_w = await got.get()
        server.close()
        say("source connected")
        self.writers.append(src_w)
        try:
            dst_r, dst_w = await self.connect_dest(time.monotonic() + self.a.connect_s)
        except (OSError, asyncio.TimeoutError) as e:
            self.finish("connect to destination: %s" % e.__class__.__name__)
            return
        self.writers.append(dst_w)
        say("destination connected")
        self.last = time.monotonic()
        up, down = asyncio.Queue(QUEUE_CHUNKS), asyncio.Queue(QUEUE_CHUNKS)
        framer = Framer(self.a.at)
        ends = [asyncio.ensure_future(c) for c in (
            self.writer("up", dst_w, up), self.writer("down", src_w, down))]
        tasks = ends + [asyncio.ensure_future(c) for c in (
            self.reader("up", src_r, up, framer), self.reader("down", dst_r, down, None),
            self.watchdog())]
        both = asyncio.ensure_future(asyncio.wait(ends))
        stop = asyncio.ensure_future(self.done.wait())
        await asyncio.wait([both, stop], return_when=asyncio.FIRST_COMPLETED)
        self.finish("both directions ended")
        for t in tasks + [both, stop]:
            t.cancel()
        if framer.mark_at is None and self.a.at:
            say("the stream never reached %s" % self.a.at_text)

    def close(self):
        for w in self.writers:
            w.transport.abort()


async def main_async(a):
    relay = Relay(a)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, relay.resume.set)
    rc = 0
    try:
        await asyncio.wait_for(relay.run(), a.deadline)
    except asyncio.TimeoutError:
        relay.finish("deadline %g s" % a.deadline)
        rc = 3
    relay.close()
    say("done: up %d bytes, down %d bytes, %s" % (relay.moved["up"], relay.moved["down"],
                                                   relay.reason))
    return rc


def main():
    p = argparse.ArgumentParser(description="the wire between two test hosts")
    p.add_argument("--listen", type=hostport, required=True)
    p.add_argument("--to", type=hostport, required=True)
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--at", type=parse_mark)
    p.add_argument("--do", type=parse_action, default=("hold", None))
    p.add_argument("--deadline", type=float, default=120.0)
    p.add_argument("--idle", type=float, default=5.0)
    p.add_argument("--hold-max", type=float, default=30.0)
    p.add_argument("--connect-s", type=float, default=10.0)
    a = p.parse_args()
    a.at_text = sys.argv[sys.argv.index("--at") + 1] if a.at else None
    if a.delay_ms < 0 or a.deadline <= 0 or a.idle <= 0:
        p.error("--delay-ms must be >= 0, --deadline and --idle > 0")
    return asyncio.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
