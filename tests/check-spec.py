#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""check-spec.py - SPEC.md and include/sev_donate.h must agree, and so must the
conformance manifest format and its three implementations.

Turns SPEC.md's layout, error and constant tables into C _Static_asserts and
compiles them against the header, so a disagreement is a compile error that
names the row. Also checks that the header's error enum and SPEC.md's error
table list the same names, and that proto/errname.c names every one.

Section 10's manifest tables (keys, operations, region kinds) are held
against what the committed MANIFEST holds (gen_vectors.py --check proves it
is what gen_vectors.py writes), what tests/lib/cvec.c parses and what
tests/conformance/model_reader.py parses; and 10.6's coverage list against
the MANIFEST's verdicts and the errors host/ can return.
"""
import os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mdtables  # noqa: E402  (the Markdown table reader check-stream.py uses too)

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = open(os.path.join(root, "SPEC.md")).read().splitlines()
header = open(os.path.join(root, "include/sev_donate.h")).read()
errname = open(os.path.join(root, "proto/errname.c")).read()

def table_after(marker):
    """Rows (lists of cells) of the Markdown table following an HTML comment."""
    return mdtables.table_after(spec, marker)


asserts, problems, nlayout = mdtables.layout_asserts(spec)

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

# ---- SPEC.md 10: the manifest format ------------------------------------------------------
conf = os.path.join(root, "tests/conformance")
cvec = open(os.path.join(root, "tests/lib/cvec.c")).read()
sys.path.insert(0, conf)
import model_reader  # noqa: E402  (written from SPEC.md; imported for its tables only)


def c_strings(array):
    """The string literals of `static const char *const ARRAY[] = { ... };` in cvec.c."""
    m = re.search(r"\b" + array + r"\[\]\s*=\s*\{(.*?)\};", cvec, re.S)
    return re.findall(r'"([^"]*)"', m.group(1)) if m else None


def first_column(marker):
    return [r[0] for r in table_after(marker)[0]]


keys = first_column("<!-- manifest keys -->")
ops = [r.split(":")[0] for r in first_column("<!-- manifest ops -->")]
kinds = first_column("<!-- manifest region kinds -->")
for what, spec_list, impl, where in (
        ("keys", keys, c_strings("cvec_keys"), "tests/lib/cvec.c cvec_keys[]"),
        ("keys", keys, model_reader.KEYS, "model_reader.py KEYS"),
        ("region kinds", kinds, c_strings("cvec_kinds"), "tests/lib/cvec.c cvec_kinds[]"),
        ("region kinds", kinds, list(model_reader.REGION_KINDS), "model_reader.py REGION_KINDS"),
        ("operations", sorted(set(ops)), sorted(model_reader.OPS), "model_reader.py OPS")):
    if spec_list != impl:
        problems.append(f"manifest {what}: SPEC.md 10 says {spec_list}, {where} has {impl}")

counts = ("live_counts", "paused_counts")
verdict_names, nvec = [], 0
for n, line in enumerate(open(os.path.join(conf, "MANIFEST")).read().split("\n")[:-1], 1):
    if not line or line.startswith("#"):
        continue
    nvec += 1
    fields = dict(f.split("=", 1) for f in line.split(" "))
    order = [f.split("=", 1)[0] for f in line.split(" ")]
    want = [k for k in keys if k not in counts or fields.get(k[:-7]) == "SD_OK"]
    if order != want:
        problems.append(f"MANIFEST line {n}: keys {order}, SPEC.md 10.2 wants {want}")
    for op in ([] if fields.get("ops", "-") == "-" else fields["ops"].split(";")):
        if op.split(":")[0] not in ops:
            problems.append(f"MANIFEST line {n}: operation {op} is not in SPEC.md 10.3")
    for r in ([] if fields.get("mem", "-") == "-" else fields["mem"].split(";")):
        if r.split(":")[0] not in kinds:
            problems.append(f"MANIFEST line {n}: region kind {r} is not in SPEC.md 10.3")
    for mode in ("live", "paused"):
        name = fields.get(mode, "").split("@")[0]
        if name not in spec_errs:
            problems.append(f"MANIFEST line {n}: verdict {name} is not in SPEC.md 4.6")
        verdict_names.append(name)

# 10.6: every number listed has a vector; host/ returns nothing else but the two exceptions.
cov = re.search(r"<!-- vector coverage: -->(.*?)<!-- :vector coverage -->", "\n".join(spec), re.S)
covered = set()
for part in re.split(r",| and ", cov.group(1) if cov else ""):
    lo, _, hi = part.strip().partition("-")
    if lo:
        covered |= set(range(int(lo), int(hi or lo) + 1))
by_num = {v: k for k, v in spec_errs.items()}
for num in sorted(covered):
    if num not in by_num:
        problems.append(f"SPEC.md 10.6 lists {num}, which is no error number")
    elif by_num[num] not in verdict_names:
        problems.append(f"SPEC.md 10.6: no vector reports {by_num[num]} ({num})")
exempt = {"SD_ERR_CHUNK_RETRIES", "SD_ERR_INVAL"}
host_src = "".join(open(os.path.join(root, d, f)).read()
                   for d in ("host", "proto") for f in sorted(os.listdir(os.path.join(root, d)))
                   if (d == "host" and f.endswith((".c", ".h"))) or f == "validate.c")
for name in sorted(set(re.findall(r"\bSD_ERR_[A-Z_]+\b", host_src)) & set(spec_errs)):
    if name not in exempt and spec_errs[name] not in covered:
        problems.append(f"host/ can return {name}, which SPEC.md 10.6 neither covers nor exempts")
if not cov:
    problems.append("SPEC.md 10.6 has no vector coverage list")

problems += mdtables.compile(["sev_donate.h"], asserts, [os.path.join(root, "include")])

print(f"check-spec: {nlayout} layout rows, {len(spec_errs)} error numbers, "
      f"{len(consts)} constants compared against include/sev_donate.h")
print(f"check-spec: {len(keys)} manifest keys, {len(ops)} operations, {len(kinds)} region kinds "
      f"and {len(covered)} covered error numbers compared against {nvec} vectors, "
      f"tests/lib/cvec.c and model_reader.py")
for p in problems:
    print("check-spec: MISMATCH:", p)
print(f"check-spec: {1 if problems else 0} failed, {0 if problems else 1} passed")
sys.exit(1 if problems else 0)
