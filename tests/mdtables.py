# SPDX-License-Identifier: GPL-2.0 OR MIT
"""mdtables.py - hold a Markdown document's tables against C headers.

A table of fields is marked by a `<!-- layout: struct NAME -->` line before it
and a `Total: N bytes` line after it; its first three columns are Offset,
Size and Field. layout_asserts() turns every such table into _Static_asserts
on offsetof and sizeof, and compile() compiles them against the headers, so a
disagreement is a compile error naming the row.
"""
import os
import re
import subprocess
import tempfile


def table_after(lines, marker):
    """Rows (lists of cells, header row dropped) of the table after the line @marker."""
    i = lines.index(marker) + 1
    rows = []
    while i < len(lines) and not lines[i].startswith("|"):
        i += 1
    while i < len(lines) and lines[i].startswith("|"):
        cells = [c.strip().strip("`") for c in lines[i].strip("|").split("|")]
        if not set(lines[i]) <= set("|-: "):
            rows.append(cells)
        i += 1
    return rows[1:], i


def layout_asserts(lines):
    """(asserts, problems, rows checked) for every layout table in @lines."""
    asserts, problems, nrows = [], [], 0
    for line in lines:
        m = re.match(r"<!-- layout: (struct \w+) -->", line)
        if not m:
            continue
        st = m.group(1)
        rows, end = table_after(lines, line)
        expect = 0
        for off, size, field, *_ in rows:
            off, size = int(off, 0), int(size, 0)
            if off != expect:
                problems.append(f"{st}: {field} at {off:#x}, previous field ends at {expect:#x}")
            asserts.append(f'_Static_assert(__builtin_offsetof({st}, {field}) == {off:#x}, '
                           f'"{st}.{field} offset");')
            asserts.append(f'_Static_assert(sizeof((({st} *)0)->{field}) == {size}, '
                           f'"{st}.{field} size");')
            expect = off + size
            nrows += 1
        total = re.search(r"Total: (\d+) bytes", "\n".join(lines[end:end + 3]))
        if not total:
            problems.append(f"{st}: no 'Total: N bytes' line after its table")
        else:
            asserts.append(f'_Static_assert(sizeof({st}) == {total.group(1)}, "{st} size");')
            if int(total.group(1)) != expect:
                problems.append(f"{st}: rows end at {expect}, total says {total.group(1)}")
    return asserts, problems, nrows


def compile(includes, asserts, incdirs, defines=()):
    """Compile @asserts after #including @includes; the compiler's complaints, if any."""
    src = "".join(f'#include "{h}"\n' for h in includes) + "\n".join(asserts) + "\n"
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write(src)
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-std=gnu11", "-fsyntax-only"] + [f"-D{d}" for d in defines]
    for d in incdirs:
        cmd += ["-I", d]
    r = subprocess.run(cmd + [f.name], capture_output=True, text=True)
    os.unlink(f.name)
    if r.returncode == 0:
        return []
    return [l for l in r.stderr.splitlines() if "static assertion" in l or "error" in l]
