#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""check-stream.py - docs/STREAM.md and the code must agree.

Holds every field table of docs/STREAM.md against vmm/migrate/stream_wire.h
(offsets, sizes, totals), the record-type, vCPU-item and error tables against
the enums of vmm/migrate/stream.h, and the magics against their text, by
compiling _Static_asserts: a disagreement fails, naming the row.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mdtables  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
lines = open(os.path.join(root, "docs/STREAM.md")).read().splitlines()
asserts, problems, nrows = mdtables.layout_asserts(lines)


def enum_table(marker, prefix, col_num, col_name):
    rows, _ = mdtables.table_after(lines, marker)
    for r in rows:
        name = r[col_name].strip("`")
        if not name.startswith("SD_"):
            name = prefix + name
        asserts.append(f'_Static_assert({name} == {int(r[col_num])}, "{name} is {r[col_num]}");')
    return len(rows)


ntypes = enum_table("<!-- record types -->", "SD_REC_", 0, 1)
nitems = enum_table("<!-- vcpu items -->", "SD_VCPU_", 0, 1)
nerrs = enum_table("<!-- errors -->", "", 0, 1)
magics = 0
for name, text in re.findall(r"`(SD_MIG_\w+_MAGIC)`\s+is\s+`(\w+!?)`", "\n".join(lines)):
    val = int.from_bytes(text.encode(), "little")
    asserts.append(f'_Static_assert({name} == {val:#x}ULL, "{name} is {text}");')
    magics += 1
if magics != 5:
    problems.append(f"found {magics} magics (`SD_MIG_..._MAGIC` is `TEXT`), want 5")

inc = [os.path.join(root, d) for d in ("include", "proto", "vmm/migrate")]
problems += mdtables.compile(["stream.h", "stream_wire.h"], asserts, inc)
print(f"check-stream: {nrows} layout rows, {ntypes} record types, {nitems} vCPU item kinds, "
      f"{nerrs} error numbers, {magics} magics compared against vmm/migrate/")
for p in problems:
    print("check-stream: MISMATCH:", p)
print(f"check-stream: {1 if problems else 0} failed, {0 if problems else 1} passed")
sys.exit(1 if problems else 0)
