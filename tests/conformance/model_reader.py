#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""model_reader.py - a host reader for the conformance vectors, from SPEC.md alone.

An independent implementation of SPEC.md sections 4 and 5.5 and of the
strict reads of section 10.4, over guest memory as sections 4.4 and 10.3
describe it. It shares no code with host/ or proto/, and nothing with the
writer model in gen_vectors.py: it sees only a vector's image and its
manifest fields.

    python3 tests/conformance/model_reader.py [DIR]   # read every vector in DIR/MANIFEST

Bounded by what it is given: every access is checked against the memory map
before it is made, and every offset comes from a header that passed 4.1.
"""
import os, re, sys

PAGE = 4096
MAGIC = 0x54414E4F44564553
GFN_LIMIT = 1 << 40
HDR_SIZE = 128

# SPEC.md 1.2: (field, offset, width); `reserved` as the five 8-byte fields of 4.6.
HDR_FIELDS = [("magic", 0x00, 8), ("abi_major", 0x08, 2), ("abi_minor", 0x0a, 2),
              ("header_size", 0x0c, 4), ("compat_features", 0x10, 8),
              ("incompat_features", 0x18, 8), ("first_gfn", 0x20, 8), ("nr_gfns", 0x28, 8),
              ("page_shift", 0x30, 4), ("pages_per_chunk", 0x34, 4), ("nr_chunks", 0x38, 8),
              ("desc_offset", 0x40, 8), ("bitmap_offset", 0x48, 8), ("table_size", 0x50, 8)] + \
             [(f"reserved{i}", 0x58 + 8 * i, 8) for i in range(5)]
HDR = {n: (o, w) for n, o, w in HDR_FIELDS}

# SPEC.md 10.2, in order. `live_counts` / `paused_counts` only after an SD_OK verdict.
KEYS = ["name", "gpa", "first_gfn", "nr_gfns", "ppc", "reg", "hc", "maxphyaddr", "ram",
        "gfn_limit", "max_table", "mem", "ops", "mut", "trunc", "after", "live", "live_counts",
        "paused", "paused_counts"]
REGION_KINDS = ("ram", "mmio", "fault")
OPS = ("S", "P", "B", "H")


class Fail(Exception):
    """A verdict other than SD_OK: the error name and where (None: no chunk / no offset)."""

    def __init__(self, name, chunk=None, off=None):
        super().__init__(name)
        self.name, self.chunk, self.off = name, chunk, off

    def verdict(self):
        return verdict_str(self.name, self.chunk, self.off)


def verdict_str(name, chunk, off):
    if name == "SD_OK":
        return name
    return f"{name}@{'-' if chunk is None else chunk}:{'-' if off is None else hex(off)}"


def le(b, off, w):
    return int.from_bytes(b[off:off + w], "little")


# ---- the manifest (SPEC.md 10.2, 10.3) -------------------------------------------------------

NUM = re.compile(r"^(0|[1-9][0-9]*|0x[0-9a-fA-F]+)$")


def num(s):
    if not NUM.match(s):
        raise ValueError(f"not a number: {s!r}")
    v = int(s, 0)
    if v >= 1 << 64:
        raise ValueError(f"number too large: {s!r}")
    return v


def parse_mutations(s):
    if s == "-":
        return []
    out = []
    for m in s.split(";"):
        off, w, val = (num(x) for x in m.split(":"))
        if w not in (1, 2, 4, 8) or val >= 1 << (8 * w):
            raise ValueError(f"bad mutation {m!r}")
        out.append((off, w, val))
    return out


def parse_regions(s):
    if s == "-":
        return None
    out, end = [], 0
    for r in s.split(";"):
        kind, lo, hi = r.split(":")
        lo, hi = num(lo), num(hi)
        if kind not in REGION_KINDS or lo >= hi or lo < end:
            raise ValueError(f"bad region {r!r}")
        out.append((kind, lo, hi))
        end = hi
    return out


def parse_verdict(s):
    if s == "SD_OK":
        return ("SD_OK", None, None)
    m = re.match(r"^(SD_ERR_[A-Z_]+)@(-|0|[1-9][0-9]*):(-|.+)$", s)
    if not m:
        raise ValueError(f"bad verdict {s!r}")
    return (m.group(1), None if m.group(2) == "-" else int(m.group(2)),
            None if m.group(3) == "-" else num(m.group(3)))


def parse_line(line):
    """One vector line, strictly: every key of 10.2 in order, each once."""
    fields = [f.split("=", 1) for f in line.split(" ")]
    if any(len(f) != 2 for f in fields):
        raise ValueError("field without '='")
    got = [k for k, _ in fields]
    want = [k for k in KEYS if k not in ("live_counts", "paused_counts")]
    v = dict(fields)
    for mode in ("live", "paused"):
        if v.get(mode) == "SD_OK":
            want.insert(want.index(mode) + 1, mode + "_counts")
    if got != want:
        raise ValueError(f"keys {got} are not {want}")
    hc = None if v["hc"] == "-" else tuple(num(x) for x in v["hc"].split(":"))
    if hc is not None and len(hc) != 3:
        raise ValueError("hc needs three arguments")
    lo, hi = (num(x) for x in v["ram"].split(":"))
    out = dict(name=v["name"], gpa=num(v["gpa"]), first_gfn=num(v["first_gfn"]),
               nr_gfns=num(v["nr_gfns"]), ppc=num(v["ppc"]), reg=num(v["reg"]), hc=hc,
               maxphyaddr=num(v["maxphyaddr"]), ram=(lo, hi), gfn_limit=num(v["gfn_limit"]),
               max_table=num(v["max_table"]), mem=parse_regions(v["mem"]),
               ops=[] if v["ops"] == "-" else v["ops"].split(";"),
               mut=parse_mutations(v["mut"]), trunc=None if v["trunc"] == "-" else num(v["trunc"]),
               after=parse_mutations(v["after"]))
    if not re.match(r"^[A-Za-z0-9_]+$", out["name"]) or not 12 <= out["maxphyaddr"] <= 64:
        raise ValueError("bad name or maxphyaddr")
    for op in out["ops"]:
        if op.split(":")[0] not in OPS:
            raise ValueError(f"unknown operation {op!r}")
    for mode in ("live", "paused"):
        out[mode] = parse_verdict(v[mode])
        c = v.get(mode + "_counts")
        out[mode + "_counts"] = None if c is None else tuple(int(x) for x in c.split(":"))
    return out


def parse_manifest(text):
    vecs = []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line == "" or line.startswith("#"):
            continue
        try:
            vecs.append(parse_line(line))
        except (ValueError, KeyError) as e:
            raise ValueError(f"MANIFEST line {n}: {e}")
    return vecs


# ---- guest memory (SPEC.md 4.4, 10.3) ---------------------------------------------------------

class Memory:
    """The image at its GPA, reached through a memory map of RAM, MMIO and faulting regions."""

    def __init__(self, image, gpa, regions):
        self.img, self.gpa = bytearray(image), gpa
        if regions is None:     # '-': one RAM region holding exactly the image
            self.regions = [("ram", gpa, gpa + len(image))]
        else:
            self.regions = [(k, lo * PAGE, hi * PAGE) for k, lo, hi in regions]

    def region_at(self, a):
        for r in self.regions:
            if r[1] <= a < r[2]:
                return r
        return None

    def check(self, a, n):
        """Classify [a, a + n) as 4.4's table does; a failure has no chunk and offset 0."""
        if a + n > 1 << 64:
            raise Fail("SD_ERR_MEM_UNBACKED", None, 0)
        r = self.region_at(a)
        if r is None:
            raise Fail("SD_ERR_MEM_UNBACKED", None, 0)
        if r[0] == "mmio":
            raise Fail("SD_ERR_MEM_MMIO", None, 0)
        if r[0] == "fault":
            raise Fail("SD_ERR_MEM_FAULT", None, 0)
        if a + n <= r[2]:
            return
        nxt = self.region_at(r[2])
        if nxt is None:
            raise Fail("SD_ERR_MEM_UNBACKED", None, 0)
        raise Fail("SD_ERR_MEM_MMIO" if nxt[0] == "mmio" else "SD_ERR_MEM_SPLIT", None, 0)

    def load(self, a, n):
        """Bytes of a range check() accepted: the image's, zero outside it."""
        out = bytearray(n)
        lo, hi = max(a, self.gpa), min(a + n, self.gpa + len(self.img))
        if lo < hi:
            out[lo - a:hi - a] = self.img[lo - self.gpa:hi - self.gpa]
        return bytes(out)

    def mutate(self, muts):
        for off, w, val in muts:
            if off + w > len(self.img):
                raise ValueError("mutation past the image")
            self.img[off:off + w] = val.to_bytes(w, "little")


# ---- the host (SPEC.md 4, 5.5, 7.1) ------------------------------------------------------------

class Geom:
    def __init__(self, h):
        for n, (o, w) in HDR.items():
            setattr(self, n, le(h, o, w))

    def chunk_pages(self, c):
        return min(self.pages_per_chunk, self.nr_gfns - c * self.pages_per_chunk)

    def desc_off(self, c):
        return self.desc_offset + 16 * c

    def bits_off(self, c):
        return self.bitmap_offset + c * self.pages_per_chunk // 8


def validate_header(h, table_gpa, ram, gfn_limit, max_table):
    """SPEC.md 4.1, checks 1 to 14 in order."""
    g = Geom(h)
    L = min(gfn_limit, GFN_LIMIT)
    ppc = g.pages_per_chunk
    if g.magic != MAGIC:
        raise Fail("SD_ERR_HDR_MAGIC", None, 0x00)
    if g.abi_major != 1:
        raise Fail("SD_ERR_HDR_MAJOR", None, 0x08)
    if not (128 <= g.header_size <= 4096 and g.header_size % 8 == 0):
        raise Fail("SD_ERR_HDR_SIZE", None, 0x0c)
    if g.incompat_features != 0:
        raise Fail("SD_ERR_HDR_INCOMPAT", None, 0x18)
    if g.page_shift != 12:
        raise Fail("SD_ERR_GEOM_PAGE_SHIFT", None, 0x30)
    if not (64 <= ppc <= 32768 and ppc & (ppc - 1) == 0):
        raise Fail("SD_ERR_GEOM_CHUNK", None, 0x34)
    if g.nr_gfns == 0:
        raise Fail("SD_ERR_GEOM_EMPTY", None, 0x28)
    if not (g.first_gfn < L and g.nr_gfns <= L - g.first_gfn):
        raise Fail("SD_ERR_GEOM_SPAN", None, 0x28)
    if g.nr_chunks != -(-g.nr_gfns // ppc):
        raise Fail("SD_ERR_GEOM_NR_CHUNKS", None, 0x38)
    ts = g.table_size
    if ts == 0 or ts % PAGE or ts > max_table:
        raise Fail("SD_ERR_GEOM_TABLE_SIZE", None, 0x50)
    d, nd = g.desc_offset, 16 * g.nr_chunks
    if d % 16 or d < g.header_size or d > ts or nd > ts - d:
        raise Fail("SD_ERR_GEOM_DESC", None, 0x40)
    b, nb = g.bitmap_offset, g.nr_chunks * ppc // 8
    if b % 8 or b < d + nd or b > ts or nb > ts - b:
        raise Fail("SD_ERR_GEOM_BITMAP", None, 0x48)
    if not (g.first_gfn <= ram[0] and g.first_gfn + g.nr_gfns >= ram[1]):
        raise Fail("SD_ERR_GEOM_RAM", None, 0x20)
    t = table_gpa // PAGE
    if not (g.first_gfn <= t and t + ts // PAGE <= g.first_gfn + g.nr_gfns):
        raise Fail("SD_ERR_TABLE_PLACEMENT", None, 0x50)
    return g


class Reg:
    """What 5.5 step 7 keeps: the GPA, the validated geometry, the header as copied."""

    def __init__(self, gpa, g, hdr):
        self.gpa, self.g, self.hdr = gpa, g, hdr
        t = gpa // PAGE - g.first_gfn
        self.tpages = (t, t + g.table_size // PAGE)      # span-relative, exclusive end

    def table_range(self, c):
        """Chunk-relative [lo, hi) of the table's pages in chunk c (lo >= hi: none)."""
        base = c * self.g.pages_per_chunk
        return max(self.tpages[0], base) - base, min(self.tpages[1], base + self.g.chunk_pages(c)) - base


def chunk_copy(mem, reg, c):
    g = reg.g
    d = mem.load(reg.gpa + g.desc_off(c), 16)
    bits = int.from_bytes(mem.load(reg.gpa + g.bits_off(c), g.pages_per_chunk // 8), "little")
    return le(d, 0, 4), le(d, 4, 4), le(d, 8, 4), le(d, 12, 4), bits


def first_clear(bits, lo, hi):
    for p in range(lo, hi):
        if not bits >> p & 1:
            return p
    return None


def check_pending(reg, c, pf, pc):
    """4.3.1, then 4.3.2."""
    pages, doff = reg.g.chunk_pages(c), reg.g.desc_off(c)
    if pc == 0 or pf >= pages or pc > pages - pf:
        raise Fail("SD_ERR_CHUNK_PENDING", c, doff + 8)
    lo, hi = reg.table_range(c)
    if lo < hi and pf < hi and pf + pc > lo:
        raise Fail("SD_ERR_TABLE_NOT_SHARED", c, doff + 8)


def check_table_bits(reg, c, bits):
    """4.2.3."""
    lo, hi = reg.table_range(c)
    p = first_clear(bits, lo, hi) if lo < hi else None
    if p is not None:
        raise Fail("SD_ERR_TABLE_NOT_SHARED", c, reg.g.bits_off(c) + p // 64 * 8)


def register(mem, value, hc, maxphyaddr, ram, gfn_limit, max_table, paused):
    """SPEC.md 5.5 steps 1 to 7; None when the value unregisters."""
    if hc is not None and hc[2] != 0:                               # 1.1
        raise Fail("SD_ERR_REG_RESERVED")
    if not value & 1:                                               # 1.2
        if value == 0:
            return None
        raise Fail("SD_ERR_REG_RESERVED")
    if value & 0xffe:                                               # 1.3
        raise Fail("SD_ERR_REG_RESERVED")
    if maxphyaddr < 64 and value >> maxphyaddr:                     # 1.4
        raise Fail("SD_ERR_REG_GPA")
    gpa = value & ~0xfff
    mem.check(gpa, HDR_SIZE)                                        # 2
    hdr = mem.load(gpa, HDR_SIZE)
    g = validate_header(hdr, gpa, ram, gfn_limit, max_table)        # 3
    if hc is not None and hc[0] and hc[0] != g.table_size:          # 4
        raise Fail("SD_ERR_REG_SIZE", None, 0x50)
    if hc is not None and hc[1] and hc[1] != g.abi_major:
        raise Fail("SD_ERR_REG_ABI", None, 0x08)
    mem.check(gpa, g.table_size)                                    # 5
    reg = Reg(gpa, g, hdr)
    ppc = g.pages_per_chunk
    for c in range(reg.tpages[0] // ppc, (reg.tpages[1] - 1) // ppc + 1):     # 6
        seq, _, pf, pc, bits = chunk_copy(mem, reg, c)
        if seq & 1 and not paused:
            raise Fail("SD_ERR_CHUNK_ODD", c, g.desc_off(c))
        if seq & 1:
            check_pending(reg, c, pf, pc)
        check_table_bits(reg, c, bits)
    return reg                                                      # 7


def check_header(mem, reg):
    """7.1 step 1: the header in guest memory against the registered copy (4.6)."""
    if reg is None:
        raise Fail("SD_ERR_NO_TABLE")
    mem.check(reg.gpa, HDR_SIZE)
    now = mem.load(reg.gpa, HDR_SIZE)
    for i in range(HDR_SIZE):
        if now[i] != reg.hdr[i]:
            raise Fail("SD_ERR_HDR_CHANGED", None, max(o for _, o, _ in HDR_FIELDS if o <= i))


def validate_chunk(reg, c, seq, nr_shared, pf, pc, bits, paused):
    """4.2 for an even copy, 4.3 for an odd one; returns the pending range (0, 0 if even)."""
    g = reg.g
    pages, ppc = g.chunk_pages(c), g.pages_per_chunk
    odd = seq & 1
    if odd and not paused:
        raise Fail("SD_ERR_CHUNK_ODD", c, g.desc_off(c))             # 4.3.0
    pad = bits >> pages
    if pad:                                                          # 4.2.1
        p = pages + (pad & -pad).bit_length() - 1
        raise Fail("SD_ERR_CHUNK_PAD", c, g.bits_off(c) + p // 64 * 8)
    if odd:
        check_pending(reg, c, pf, pc)                               # 4.3.1, 4.3.2
    elif nr_shared != bin(bits).count("1"):                         # 4.2.2
        raise Fail("SD_ERR_CHUNK_COUNT", c, g.desc_off(c) + 4)
    check_table_bits(reg, c, bits)                                  # 4.2.3
    return (pf, pc) if odd else (0, 0)


def strict_read(vec, image, paused):
    """SPEC.md 10.4. Returns (verdict string, counts or None)."""
    mem = Memory(image, vec["gpa"], vec["mem"])
    try:
        reg = register(mem, vec["reg"], vec["hc"], vec["maxphyaddr"], vec["ram"],
                       vec["gfn_limit"], vec["max_table"], paused)           # 1
        mem.mutate(vec["after"])                                            # 2
        check_header(mem, reg)                                              # 3
        mem.check(reg.gpa, reg.g.table_size)                                # 4
        g, shared, trans, extents, in_run = reg.g, 0, 0, 0, False
        for c in range(g.nr_chunks):
            seq, ns, pf, pc, bits = chunk_copy(mem, reg, c)
            pf, pc = validate_chunk(reg, c, seq, ns, pf, pc, bits, paused)
            for p in range(g.chunk_pages(c)):                               # 10.5
                if pf <= p < pf + pc:
                    trans += 1
                    in_run = False
                elif bits >> p & 1:
                    shared += 1
                    extents += not in_run
                    in_run = True
                else:
                    in_run = False
        return "SD_OK", (shared, trans, extents)
    except Fail as f:
        return f.verdict(), None


def check_dir(d):
    """Read every vector of d/MANIFEST in both modes; the lines that disagree."""
    try:
        vecs = parse_manifest(open(os.path.join(d, "MANIFEST")).read())
    except ValueError as e:
        return 0, [f"malformed: {e}"]
    bad = []
    for v in vecs:
        image = open(os.path.join(d, "vectors", v["name"] + ".bin"), "rb").read()
        for mode in ("live", "paused"):
            got, counts = strict_read(v, image, mode == "paused")
            want = verdict_str(*v[mode])
            if got != want or counts != v[mode + "_counts"]:
                bad.append(f"{v['name']} ({mode}): model reads {got} {counts}, "
                           f"the manifest says {want} {v[mode + '_counts']}")
    return len(vecs), bad


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    n, bad = check_dir(d)
    for b in bad:
        print("model_reader: DISAGREES:", b)
    print(f"model_reader: {n} vectors read live and paused, {len(bad)} disagreements")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
