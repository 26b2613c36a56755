#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""fake_peer.py - a misbehaving migration peer (docs/STREAM.md), for tests.

    fake_peer.py tiny-source HOST:PORT   connect to a destination, announce 4 KiB of RAM,
                                         print the RESULT's status and message
    fake_peer.py mute-dest PORT          listen; send a proper HELLO, then read everything
                                         the source sends and never answer
    fake_peer.py silent-dest PORT        listen, accept, and never send a byte (no HELLO);
                                         hang up after 30 s at most
"""
import os, socket, struct, sys, time


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def handshake(magic, ram, word):
    body = struct.pack("<8sHHIQ32sI", magic, 1, 0, 64, ram, os.urandom(32), word)
    return body + struct.pack("<I", crc32c(body))


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


if sys.argv[1] == "tiny-source":
    host, port = sys.argv[2].rsplit(":", 1)
    for _ in range(100):
        try:
            s = socket.create_connection((host, int(port)))
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    recv_exact(s, 64)                                   # HELLO
    s.sendall(handshake(b"SDMIGSRC", 4096, 2))          # a guest of one page
    r = recv_exact(s, 256)
    status = struct.unpack_from("<I", r, 8)[0]
    print(status, r[16:].split(b"\0")[0].decode())
elif sys.argv[1] == "mute-dest":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(sys.argv[2])))
    ls.listen(1)
    s, _ = ls.accept()
    s.sendall(handshake(b"SDMIGDST", 1 << 40, 0))
    s.settimeout(30)
    total = 0
    try:
        while True:
            c = s.recv(1 << 20)
            if not c:
                break
            total += len(c)
    except (socket.timeout, ConnectionResetError):
        pass
    print(total)
elif sys.argv[1] == "silent-dest":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(sys.argv[2])))
    ls.listen(1)
    ls.settimeout(30)
    s, _ = ls.accept()
    s.settimeout(30)
    try:
        while s.recv(1 << 16):
            pass
    except (socket.timeout, ConnectionResetError):
        pass
