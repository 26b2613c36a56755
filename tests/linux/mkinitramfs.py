#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""mkinitramfs.py - write a gzip'd newc cpio archive: the linux-check initramfs.

    mkinitramfs.py OUT.cpio.gz DEST=SRC [DEST=SRC ...] [--text DEST=STRING ...]

Each DEST=SRC puts the file SRC at DEST (mode 0755 if SRC is executable,
else 0644); --text puts a literal string. Parent directories are created,
plus /dev/console (the kernel opens it for /init before devtmpfs exists).
Written here rather than with cpio(1), which a minimal Debian lacks.
"""
import gzip
import os
import stat
import sys


def newc(name, mode, data=b"", rdev=(0, 0), ino=[1]):
    ino[0] += 1
    name_b = name.encode() + b"\0"
    fields = [ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields)
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out, entries, dirs, text = argv[0], [], {"dev"}, False
    for a in argv[1:]:
        if a == "--text":
            text = True
            continue
        dest, src = a.split("=", 1)
        dest = dest.strip("/")
        if text:
            data, mode = src.encode(), 0o644
        else:
            with open(src, "rb") as f:
                data = f.read()
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
        text = False
        entries.append((dest, stat.S_IFREG | mode, data))
        parts = dest.split("/")[:-1]
        for i in range(len(parts)):
            dirs.add("/".join(parts[: i + 1]))
    blob = b""
    for d in sorted(dirs):
        blob += newc(d, stat.S_IFDIR | 0o755)
    blob += newc("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    for dest, mode, data in entries:
        blob += newc(dest, mode, data)
    blob += newc("TRAILER!!!", 0)
    blob += b"\0" * (-len(blob) % 512)
    with gzip.open(out, "wb", compresslevel=1) as f:
        f.write(blob)


if __name__ == "__main__":
    main(sys.argv[1:])
