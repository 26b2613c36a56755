#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""fake_peer.py - a misbehaving migration peer (docs/STREAM.md), for tests.

Version 2 (the authenticated handshake), signing with libsodium's Ed25519
through ctypes; KEY is a secret key file from `sev-donate keygen`.

    fake_peer.py tiny-source HOST:PORT KEY   connect to a destination, announce 4 KiB of RAM,
                                             print the RESULT's status and message
    fake_peer.py mute-dest PORT KEY          listen; answer the handshake as KEY's owner, then
                                             read everything the source sends and never answer
    fake_peer.py records-dest PORT KEY MINOR as mute-dest, announcing stream version 2.MINOR,
                                             and reading record by record: print the last one
                                             (its seq and type; an ABORT's error number too)
    fake_peer.py silent-dest PORT            listen, accept, and never send a byte (no HELLO);
                                             hang up after 30 s at most
    fake_peer.py record HOST:PORT KEY OUT    connect to a destination as a source holding KEY,
                                             record its HELLO and AUTH in OUT.hello, OUT.auth
    fake_peer.py replay-dest PORT REC        an impostor: listen, send REC.hello, read HEADER,
                                             send REC.auth; print the bytes the source sent after
    fake_peer.py v1-dest PORT                a version-1 destination: send a version-1 HELLO;
                                             print the bytes the source sent after it
    fake_peer.py v1-source HOST:PORT         a version-1 source: read HELLO as version 1 reads
                                             it (64 bytes), say whether its CRC held and its
                                             major; then go on regardless: send a version-1
                                             HEADER and print the RESULT
Every socket has a 30 s deadline.
"""
import ctypes
import ctypes.util
import hashlib
import os
import socket
import struct
import sys
import time

DEADLINE = 30


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


class Identity:
    """An Ed25519 key pair from a sev-donate secret key file (docs/STREAM.md 8)."""

    def __init__(self, path):
        f = open(path).read().split()
        if f[:4] != ["sev-donate-identity", "1", "secret", "ed25519"] or len(f) != 6:
            raise SystemExit(f"{path}: not a sev-donate secret key file")
        self.na = ctypes.CDLL(ctypes.util.find_library("sodium"))
        if self.na.sodium_init() < 0:
            raise SystemExit("libsodium failed to initialise")
        self.pk = ctypes.create_string_buffer(32)
        self.sk = ctypes.create_string_buffer(64)
        self.na.crypto_sign_seed_keypair(self.pk, self.sk, bytes.fromhex(f[4]))
        self.pk = self.pk.raw
        if self.pk != bytes.fromhex(f[5]):
            raise SystemExit(f"{path}: public key does not match the seed")

    def sign(self, label, hello, header):
        """Sign label || BLAKE2b-256(HELLO || HEADER before its signature), as 3.1 says."""
        m = label + hashlib.blake2b(hello + header[:128], digest_size=32).digest()
        sig = ctypes.create_string_buffer(64)
        self.na.crypto_sign_detached(sig, None, m, ctypes.c_ulonglong(len(m)), self.sk)
        return sig.raw


def v1_message(magic, ram, word):
    body = struct.pack("<8sHHIQ32sI", magic, 1, 0, 64, ram, os.urandom(32), word)
    return body + struct.pack("<I", crc32c(body))


def v2_message(magic, size, ram, word, id_public, minor=0):
    body = struct.pack("<8sHHIQ32sI", magic, 2, minor, size, ram, os.urandom(32), word)
    body += struct.pack("<I", crc32c(body)) + id_public + os.urandom(24) + b"\0" * 4
    return body + struct.pack("<I", crc32c(body))


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def connect(hostport):
    host, port = hostport.rsplit(":", 1)
    for _ in range(200):
        try:
            s = socket.create_connection((host, int(port)), timeout=DEADLINE)
            s.settimeout(DEADLINE)
            return s
        except ConnectionRefusedError:
            time.sleep(0.05)
    raise SystemExit(f"nobody listens on {hostport}")


def accept(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(1)
    ls.settimeout(DEADLINE)
    s, _ = ls.accept()
    s.settimeout(DEADLINE)
    return s


def drain(s):
    """Bytes the peer sends until it closes (or the deadline)."""
    total = 0
    try:
        while True:
            c = s.recv(1 << 20)
            if not c:
                break
            total += len(c)
    except (socket.timeout, ConnectionResetError):
        pass
    return total


def print_result(r):
    status = struct.unpack_from("<I", r, 8)[0]
    print(status, r[16:].split(b"\0")[0].decode())


def source_handshake(s, me, ram):
    """Read HELLO, send a signed HEADER. Returns HELLO."""
    hello = recv_exact(s, 128)
    header = v2_message(b"SDMIGSRC", 192, ram, 2, me.pk)
    s.sendall(header + me.sign(b"sev-donate-src-2", hello, header))
    return hello


cmd = sys.argv[1]
if cmd == "tiny-source":
    me = Identity(sys.argv[3])
    s = connect(sys.argv[2])
    source_handshake(s, me, 4096)                       # a guest of one page
    first = recv_exact(s, 8)
    if first == b"SDMIGAUT":
        recv_exact(s, 64)
        print_result(recv_exact(s, 256))
    else:
        print_result(first + recv_exact(s, 248))
elif cmd in ("mute-dest", "records-dest"):
    me = Identity(sys.argv[3])
    s = accept(sys.argv[2])
    hello = v2_message(b"SDMIGDST", 128, 1 << 40, 0, me.pk,
                       int(sys.argv[4]) if cmd == "records-dest" else 0)
    s.sendall(hello)
    header = recv_exact(s, 192)
    s.sendall(b"SDMIGAUT" + me.sign(b"sev-donate-dst-2", hello, header))
    if cmd == "mute-dest":
        print(drain(s))
        sys.exit(0)
    last = "none"
    try:
        while True:                                     # 4: a 24-byte header, then len bytes
            rtype, _, rlen, seq = struct.unpack("<HHIQ", recv_exact(s, 24)[:16])
            payload = recv_exact(s, rlen)
            last = f"record {seq} type {rtype}"
            if rtype == 8 and rlen >= 4:                # 4.6 ABORT: u32 error first
                last += f" error {struct.unpack_from('<I', payload)[0]}"
    except (EOFError, socket.timeout, ConnectionResetError):
        pass
    print(last)
elif cmd == "silent-dest":
    s = accept(sys.argv[2])
    drain(s)
elif cmd == "record":
    me = Identity(sys.argv[3])
    s = connect(sys.argv[2])
    hello = source_handshake(s, me, 64 << 20)
    auth = recv_exact(s, 72)
    if auth[:8] != b"SDMIGAUT":
        raise SystemExit("record: the destination sent no AUTH")
    open(sys.argv[4] + ".hello", "wb").write(hello)
    open(sys.argv[4] + ".auth", "wb").write(auth)
    s.close()
    print("recorded")
elif cmd == "replay-dest":
    s = accept(sys.argv[2])
    s.sendall(open(sys.argv[3] + ".hello", "rb").read())
    recv_exact(s, 192)                                  # the source's fresh HEADER
    s.sendall(open(sys.argv[3] + ".auth", "rb").read())
    print(drain(s))
elif cmd == "v1-dest":
    s = accept(sys.argv[2])
    s.sendall(v1_message(b"SDMIGDST", 1 << 40, 0))
    print(drain(s))
elif cmd == "v1-source":
    s = connect(sys.argv[2])
    h = recv_exact(s, 64)
    crc_ok = struct.unpack_from("<I", h, 60)[0] == crc32c(h[:60])
    print(f"v1-reader: magic {h[:8].decode()} crc {'ok' if crc_ok else 'bad'} major "
          f"{struct.unpack_from('<H', h, 8)[0]}")
    recv_exact(s, 64)              # the rest of the version-2 HELLO: a version-1 source would
    s.sendall(v1_message(b"SDMIGSRC", 64 << 20, 2))     # stop above; this one goes on blindly
    print_result(recv_exact(s, 256))
else:
    raise SystemExit(f"fake_peer.py: unknown command {cmd}")
