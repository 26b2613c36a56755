#!/usr/bin/env python3
"""check-spec.py - SPEC.md and include/sev_donate.h must agree.

Turns SPEC.md's layout, error and constant tables into C _Static_asserts and
compiles them against the header, so a disagreement is a compile error that
names the row. Also checks that the header's error enum and SPEC.md's error
table list the same names, and that proto/errname.c names every one.
"""
import os, re, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = open(os.path.join(root, "SPEC.md")).read().splitlines()
header = open(os.path.join(root, "include/sev_donate.h")).read()
errname = open(os.path.join(root, "proto/errname.c")).read()

def table_after(marker):
    """Rows (lists of cells) of the Markdown table following an HTML comment."""
    i = spec.index(marker) + 1
    rows = []
    while i < len(spec) and not spec[i].startswith("|"):
        i += 1
    while i < len(spec) and spec[i].startswith("|"):
        cells = [c.strip().strip("`") for c in spec[i].strip("|").split("|")]
        if not set(spec[i]) <= set("|-: "):
            rows.append(cells)
        i += 1
    return rows[1:], i

asserts, problems = [], []
nlayout = 0
for line in spec:
    m = re.match(r"<!-- layout: (struct \w+) -->", line)
    if not m:
        continue
    st = m.group(1)
    rows, end = table_after(line)
    expect = 0
    for off, size, field, *_ in rows:
        off, size = int(off, 0), int(size, 0)
        if off != expect:
            problems.append(f"{st}: {field} at {off:#x}, previous field ends at {expect:#x}")
        asserts.append(f'_Static_assert(__builtin_offsetof({st}, {field}) == {off:#x}, "{st}.{field} offset");')
        asserts.append(f'_Static_assert(sizeof((({st} *)0)->{field}) == {size}, "{st}.{field} size");')
        expect = off + size
        nlayout += 1
    total = re.search(r"Total: (\d+) bytes", "\n".join(spec[end:end + 3]))
    if not total:
        problems.append(f"{st}: no 'Total: N bytes' line after its table")
    else:
        asserts.append(f'_Static_assert(sizeof({st}) == {total.group(1)}, "{st} size");')
        if int(total.group(1)) != expect:
            problems.append(f"{st}: rows end at {expect}, total says {total.group(1)}")

errs, _ = table_after("<!-- errors -->")
spec_errs = {}
for num, name, *_ in errs:
    spec_errs[name] = int(num)
    asserts.append(f'_Static_assert({name} == {num}, "{name}");')
hdr_errs = dict((n, int(v)) for n, v in re.findall(r"\b(SD_OK|SD_ERR_[A-Z_]+)\s*=\s*(\d+)", header))
for n in sorted(set(hdr_errs) ^ set(spec_errs)):
    problems.append(f"error {n} is in {'the header' if n in hdr_errs else 'SPEC.md'} only")
for n in hdr_errs:
    if f"E({n}," not in errname:
        problems.append(f"error {n} has no name in proto/errname.c")

consts, _ = table_after("<!-- constants -->")
for name, val, *_ in consts:
    asserts.append(f'_Static_assert({name} == {val}ULL, "{name}");')

src = '#include "sev_donate.h"\n' + "\n".join(asserts) + "\n"
with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
    f.write(src)
cc = os.environ.get("CC", "cc")
r = subprocess.run([cc, "-std=c11", "-fsyntax-only", "-I", os.path.join(root, "include"), f.name],
                   capture_output=True, text=True)
os.unlink(f.name)
if r.returncode:
    problems += [l for l in r.stderr.splitlines() if "static assertion" in l or "error" in l]

print(f"check-spec: {nlayout} layout rows, {len(spec_errs)} error numbers, "
      f"{len(consts)} constants compared against include/sev_donate.h")
for p in problems:
    print("check-spec: MISMATCH:", p)
print(f"check-spec: {1 if problems else 0} failed, {0 if problems else 1} passed")
sys.exit(1 if problems else 0)
