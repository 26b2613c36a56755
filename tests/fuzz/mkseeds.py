#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""mkseeds.py - seed corpora for the host/ fuzz targets, from the conformance vectors.

Each seed is the 32-byte parameter block of tests/fuzz/fuzz_host.h followed by a
vector's table image, once as a live host and once as a paused host would read it.

    python3 tests/fuzz/mkseeds.py OUTDIR
"""
import os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
conf = os.path.join(here, "..", "conformance")
out = sys.argv[1]
targets = ["register", "chunk", "walk", "paused"]
for t in targets:
    os.makedirs(os.path.join(out, t), exist_ok=True)
n = 0
for line in open(os.path.join(conf, "MANIFEST")):
    if line.startswith("#") or not line.strip():
        continue
    f = dict(kv.split("=", 1) for kv in line.split())
    img = open(os.path.join(conf, "vectors", f["name"] + ".bin"), "rb").read()
    lo, hi = (int(x, 0) for x in f["ram"].split(":"))
    for mode in (0, 1):
        params = struct.pack("<QIIIIII", int(f["gpa"], 0), lo, hi, mode, 3, 1, 0x1234567)
        for t in targets:
            open(os.path.join(out, t, f"{f['name']}-{mode}"), "wb").write(params + img)
        n += 1
print(f"mkseeds: {n} seeds for each of {', '.join(targets)}")
