#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""gen_vectors.py - the sev-donate conformance vectors, from SPEC.md alone.

Writes tests/conformance/vectors/*.bin and tests/conformance/MANIFEST. This
is an independent implementation of SPEC.md sections 1 and 2 (layout and
writer); it shares no code with guest/ or host/. Every verdict is stated by
hand per vector (what SPEC.md sections 4, 5.5 and 10.4 say must be reported,
and where). model_reader.py, a reader written from SPEC.md that shares
nothing with this writer model, must reproduce every one of them: a vector
it disagrees with is not written. The shared/transition/extent counts come
from the reader model and, for images nobody tampered with, must equal the
writer model's own.

    python3 tests/conformance/gen_vectors.py            # rewrite the vectors
    python3 tests/conformance/gen_vectors.py --check    # compare with what is committed,
                                                        # and read every committed vector

Manifest format: SPEC.md section 10.
"""
import os, struct, sys

import model_reader

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = 4096
MAGIC = 0x54414E4F44564553
GFN_LIMIT = 1 << 40

HDR = dict(magic=(0x00, 8), abi_major=(0x08, 2), abi_minor=(0x0a, 2), header_size=(0x0c, 4),
           compat_features=(0x10, 8), incompat_features=(0x18, 8), first_gfn=(0x20, 8),
           nr_gfns=(0x28, 8), page_shift=(0x30, 4), pages_per_chunk=(0x34, 4),
           nr_chunks=(0x38, 8), desc_offset=(0x40, 8), bitmap_offset=(0x48, 8),
           table_size=(0x50, 8))


def align(x, a):
    return (x + a - 1) // a * a


class Table:
    """A table as SPEC.md 1.3 lays it out and 2.1 / 2.6 write it."""

    def __init__(self, first_gfn, nr_gfns, ppc, gpa):
        self.first_gfn, self.nr_gfns, self.ppc, self.gpa = first_gfn, nr_gfns, ppc, gpa
        self.nr_chunks = (nr_gfns + ppc - 1) // ppc
        self.desc_offset = 128
        self.bitmap_offset = align(self.desc_offset + 16 * self.nr_chunks, 64)
        self.table_size = align(self.bitmap_offset + self.nr_chunks * ppc // 8, PAGE)
        self.bits = bytearray(self.nr_chunks * ppc)          # one byte per page, 0/1
        self.seq = [0] * self.nr_chunks
        self.nr_shared = [0] * self.nr_chunks
        self.pend = [(0, 0)] * self.nr_chunks
        # 2.6 step 3: the table's own pages are shared before registration, seq stays 0.
        t0 = gpa // PAGE
        for g in range(t0, t0 + self.table_size // PAGE):
            p = g - first_gfn
            if 0 <= p < nr_gfns and not self.bits[p]:
                self.bits[p] = 1
                self.nr_shared[p // ppc] += 1

    def chunk_pages(self, c):
        return min(self.ppc, self.nr_gfns - c * self.ppc)

    def update(self, gfn, count, shared, stop=None):
        """One window per chunk touched (2.1). stop='begin' ends after step 3,
        stop='half' after step 4 (bits and count written, seq still odd)."""
        p, end = gfn - self.first_gfn, gfn - self.first_gfn + count
        assert 0 <= p < end <= self.nr_gfns
        while p < end:
            c, first = divmod(p, self.ppc)
            n = min(end - p, self.ppc - first)
            self.pend[c] = (first, n)           # step 1
            self.seq[c] += 1                    # step 2 (odd)
            if stop != "begin":                 # step 4
                base = c * self.ppc
                for i in range(base + first, base + first + n):
                    self.nr_shared[c] += int(shared) - self.bits[i]
                    self.bits[i] = int(shared)
                if stop != "half":
                    self.seq[c] += 1            # step 6 (even)
            p += n

    def image(self):
        b = bytearray(self.table_size)
        vals = dict(magic=MAGIC, abi_major=1, abi_minor=0, header_size=128, compat_features=0,
                    incompat_features=0, first_gfn=self.first_gfn, nr_gfns=self.nr_gfns,
                    page_shift=12, pages_per_chunk=self.ppc, nr_chunks=self.nr_chunks,
                    desc_offset=self.desc_offset, bitmap_offset=self.bitmap_offset,
                    table_size=self.table_size)
        for k, (off, w) in HDR.items():
            b[off:off + w] = vals[k].to_bytes(w, "little")
        for c in range(self.nr_chunks):
            struct.pack_into("<IIII", b, self.desc_offset + 16 * c, self.seq[c] & 0xFFFFFFFF,
                             self.nr_shared[c], *self.pend[c])
        for i, v in enumerate(self.bits):
            if v:
                b[self.bitmap_offset + i // 8] |= 1 << (i % 8)
        return b

    def stats(self, paused):
        """shared / transition / extents as SPEC.md section 10 counts them."""
        shared = trans = extents = 0
        in_run = False
        for c in range(self.nr_chunks):
            odd = self.seq[c] & 1
            first, n = self.pend[c] if odd else (0, 0)
            for i in range(self.chunk_pages(c)):
                pend = paused and odd and first <= i < first + n
                sh = self.bits[c * self.ppc + i] == 1
                if pend:
                    trans += 1
                elif sh:
                    shared += 1
                    extents += not in_run
                in_run = sh and not pend
        return shared, trans, extents

    def desc_off(self, c, field=0):
        return self.desc_offset + 16 * c + field

    def bits_off(self, page):
        return self.bitmap_offset + (page // 64) * 8


def rd(img, off, w):
    return int.from_bytes(img[off:off + w], "little")


def run_ops(t, ops):
    for op in ops:
        kind, *a = op.split(":")
        gfn, cnt = int(a[0], 0), int(a[1], 0)
        if kind in ("S", "P"):
            t.update(gfn, cnt, kind == "S")
        elif kind in ("B", "H"):
            t.update(gfn, cnt, a[2] == "S", stop="begin" if kind == "B" else "half")
        else:
            raise ValueError(op)


VECTORS = []


def vector(name, geom, ops=(), mut=(), trunc=None, host=None, live="SD_OK", paused=None,
           reg=None, hc=None, maxphyaddr=52, mem="-", after=()):
    """geom = (first_gfn, nr_gfns, ppc, gpa); host overrides ram / gfn_limit / max_table.
    reg: the registration value (gpa | 1 when None); hc: None (MSR) or (a1, a2, a3);
    mem: the memory map as the manifest writes it; mut / after: mutations, each a string
    "off:width:value" or a function (table, image) -> (off, width, value).
    live / paused: verdict name, or (name, chunk|None, offset) or a function of the table."""
    assert name not in (v["name"] for v in VECTORS), name
    VECTORS.append(dict(name=name, geom=geom, ops=list(ops), mut=list(mut), trunc=trunc,
                        host=host or {}, live=live, paused=paused if paused is not None else live,
                        reg=reg, hc=hc, maxphyaddr=maxphyaddr, mem=mem, after=list(after)))


# ---- valid scenarios --------------------------------------------------------------------
vector("valid_minimal", (0, 256, 64, 0))
vector("valid_typical_64m", (0, 16384, 1024, 0x100000),
       ops=["S:0x2000:0x800"] + [f"S:{g:#x}:1" for g in range(0x3011, 0x4000, 0x1f3)] +
           ["S:0x3fff:1", "S:0x40:3"])
vector("valid_cross_chunk", (0, 4096, 64, 0x20000), ops=["S:60:10", "S:127:130", "P:128:1"])
vector("valid_partial_last_chunk", (0, 1000, 128, 0), ops=["S:990:10", "S:896:5"])
vector("valid_nonzero_first_gfn", (0x100, 2048, 256, 0x180000), ops=["S:0x200:0x100", "P:0x250:8"])
vector("valid_all_shared", (0, 512, 64, 0x10000), ops=["S:0:16", "S:17:495"])
vector("valid_toggle_many", (0, 2048, 64, 0), ops=[f"{'SP'[i % 2]}:{1 + (i * 37) % 1999:#x}:{1 + i % 45}"
                                                   for i in range(60)])
vector("valid_default_chunk_1g", (0, 1 << 18, 8192, 0x200000),
       ops=["S:0x10000:0x4000", "S:0x3ffff:1", "S:0x1fff:2"])
vector("valid_max_chunk", (0, 40000, 32768, 0x1000), ops=["S:32760:16"])
vector("valid_compat_minor_reserved", (0, 256, 64, 0),
       mut=["0x0a:2:7", "0x10:8:0xffffffffffffffff", "0x58:8:0x1234", "0x78:8:1"])
vector("valid_larger_ram_limit", (0, 8192, 512, 0x4000), host=dict(ram="0:4096"))

# Open windows: a live read must refuse, a paused read must decide.
vector("window_open_begin", (0, 4096, 256, 0), ops=["S:100:50", "B:300:20:S"],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 1, t.desc_off(1)), paused="SD_OK")
vector("window_half_committed", (0, 4096, 256, 0), ops=["S:100:50", "H:90:20:P"],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 0, t.desc_off(0)), paused="SD_OK")
vector("window_across_chunks", (0, 4096, 256, 0), ops=["B:500:300:S"],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 1, t.desc_off(1)), paused="SD_OK")

# ---- header (SPEC.md 4.1) ----------------------------------------------------------------
G = (0, 4096, 256, 0)   # 16 chunks, one-page table at GFN 0
vector("hdr_bad_magic", G, mut=["0x00:8:0x54414e4f44564554"], live=("SD_ERR_HDR_MAGIC", None, 0x00))
vector("hdr_major_2", G, mut=["0x08:2:2"], live=("SD_ERR_HDR_MAJOR", None, 0x08))
vector("hdr_size_small", G, mut=["0x0c:4:64"], live=("SD_ERR_HDR_SIZE", None, 0x0c))
vector("hdr_size_misaligned", G, mut=["0x0c:4:132"], live=("SD_ERR_HDR_SIZE", None, 0x0c))
vector("hdr_unknown_incompat", G, mut=["0x18:8:0x8000000000000000"],
       live=("SD_ERR_HDR_INCOMPAT", None, 0x18))
vector("geom_page_shift_21", G, mut=["0x30:4:21"], live=("SD_ERR_GEOM_PAGE_SHIFT", None, 0x30))
vector("geom_chunk_not_pow2", G, mut=["0x34:4:384"], live=("SD_ERR_GEOM_CHUNK", None, 0x34))
vector("geom_chunk_too_big", G, mut=["0x34:4:65536"], live=("SD_ERR_GEOM_CHUNK", None, 0x34))
vector("geom_empty", G, mut=["0x28:8:0"], live=("SD_ERR_GEOM_EMPTY", None, 0x28))
vector("geom_span_wraps", G, mut=["0x20:8:0xfffffffffffff000"], live=("SD_ERR_GEOM_SPAN", None, 0x28))
vector("geom_span_huge", G, mut=["0x28:8:0x10000000001", "0x38:8:0x100000001"],
       live=("SD_ERR_GEOM_SPAN", None, 0x28))
vector("geom_huge_within_limit", G, mut=["0x28:8:0x10000000000", "0x38:8:0x100000000"],
       live=("SD_ERR_GEOM_DESC", None, 0x40))
vector("geom_span_past_host_limit", G, host=dict(gfn_limit="4095"),
       live=("SD_ERR_GEOM_SPAN", None, 0x28))
vector("geom_nr_chunks_wrong", G, mut=["0x38:8:15"], live=("SD_ERR_GEOM_NR_CHUNKS", None, 0x38))
vector("geom_table_size_unaligned", G, mut=["0x50:8:4095"],
       live=("SD_ERR_GEOM_TABLE_SIZE", None, 0x50))
vector("geom_table_size_over_host_limit", G, host=dict(max_table="0"),
       live=("SD_ERR_GEOM_TABLE_SIZE", None, 0x50))
vector("geom_desc_misaligned", G, mut=["0x40:8:136"], live=("SD_ERR_GEOM_DESC", None, 0x40))
vector("geom_desc_in_header", G, mut=["0x40:8:64"], live=("SD_ERR_GEOM_DESC", None, 0x40))
vector("geom_desc_wraps", G, mut=["0x40:8:0xfffffffffffffff0"], live=("SD_ERR_GEOM_DESC", None, 0x40))
vector("geom_bitmap_overlaps_desc", G, mut=["0x48:8:256"], live=("SD_ERR_GEOM_BITMAP", None, 0x48))
vector("geom_bitmap_past_end", G, mut=["0x48:8:3968"], live=("SD_ERR_GEOM_BITMAP", None, 0x48))
vector("geom_bitmap_wraps", G, mut=["0x48:8:0xfffffffffffffff8"], live=("SD_ERR_GEOM_BITMAP", None, 0x48))
vector("geom_ram_not_covered", G, host=dict(ram="0:4097"), live=("SD_ERR_GEOM_RAM", None, 0x20))
vector("table_outside_span", (0x10, 4096, 256, 0x8000), live=("SD_ERR_TABLE_PLACEMENT", None, 0x50),
       host=dict(ram="0x10:0x1010"))

# ---- chunks (SPEC.md 4.2, 4.3) -----------------------------------------------------------
vector("chunk_count_lies", G, ops=["S:600:7"], mut=[lambda t, img: (t.desc_off(2, 4), 4, 8)],
       live=lambda t: ("SD_ERR_CHUNK_COUNT", 2, t.desc_off(2, 4)))
vector("chunk_bit_flipped", G, ops=["S:600:7"],
       mut=[lambda t, img: (t.bits_off(700), 8, rd(img, t.bits_off(700), 8) ^ 1 << (700 % 64))],
       live=lambda t: ("SD_ERR_CHUNK_COUNT", 2, t.desc_off(2, 4)))
vector("chunk_count_over_pages", G, mut=[lambda t, img: (t.desc_off(5, 4), 4, 257)],
       live=lambda t: ("SD_ERR_CHUNK_COUNT", 5, t.desc_off(5, 4)))
vector("chunk_pad_bit", (0, 1000, 128, 0), mut=[lambda t, img: (t.bits_off(1020), 8, rd(img, t.bits_off(1020), 8) | 1 << (1020 % 64))],
       live=lambda t: ("SD_ERR_CHUNK_PAD", 7, t.bits_off(1020)))
vector("chunk_pending_outside", G, ops=["B:300:20:S"], mut=[lambda t, img: (t.desc_off(1, 8), 4, 250)],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 1, t.desc_off(1)),
       paused=lambda t: ("SD_ERR_CHUNK_PENDING", 1, t.desc_off(1, 8)))
vector("chunk_pending_empty", G, ops=["B:300:20:S"], mut=[lambda t, img: (t.desc_off(1, 12), 4, 0)],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 1, t.desc_off(1)),
       paused=lambda t: ("SD_ERR_CHUNK_PENDING", 1, t.desc_off(1, 8)))
vector("chunk_stuck_odd_everywhere", G, mut=[lambda t, img, c=c: (t.desc_off(c), 4, 0xffffffff)
                                             for c in range(16)],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 0, t.desc_off(0)),
       paused=lambda t: ("SD_ERR_CHUNK_PENDING", 0, t.desc_off(0, 8)))
vector("table_page_private", (0, 4096, 256, 0x3000), ops=["P:3:1"],
       live=lambda t: ("SD_ERR_TABLE_NOT_SHARED", 0, t.bits_off(3)))
vector("table_page_in_window", (0, 4096, 256, 0x3000), ops=["B:2:2:P"],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 0, t.desc_off(0)),
       paused=lambda t: ("SD_ERR_TABLE_NOT_SHARED", 0, t.desc_off(0, 8)))
vector("image_truncated", G, trunc=2048, live=("SD_ERR_MEM_UNBACKED", None, 0))


def bit_clear(page):
    return lambda t, img: (t.bits_off(page), 8, rd(img, t.bits_off(page), 8) & ~(1 << page % 64))


def bit_set(page):
    return lambda t, img: (t.bits_off(page), 8, rd(img, t.bits_off(page), 8) | 1 << page % 64)


# A table whose four pages (GFNs 0xfe..0x101) lie in two chunks, 3 and 4, of 64 pages.
M = (0, 0x8000, 64, 0xfe000)

# ---- registration (SPEC.md 5.1, 5.5 step 1 and step 4) ----------------------------------
vector("reg_reserved_bits", G, reg=0x3, live=("SD_ERR_REG_RESERVED", None, None))
vector("reg_disabled_with_gpa", G, reg=0x1000, live=("SD_ERR_REG_RESERVED", None, None))
vector("reg_hc_a3_nonzero", G, hc=(0, 0, 1), live=("SD_ERR_REG_RESERVED", None, None))
# a3 is checked before the value: neither the GPA check nor the unregistration happens.
vector("reg_hc_a3_before_gpa", G, reg=(1 << 52) | 1, hc=(0, 0, 1),
       live=("SD_ERR_REG_RESERVED", None, None))
vector("reg_hc_a3_before_unregister", G, reg=0, hc=(0, 0, 1),
       live=("SD_ERR_REG_RESERVED", None, None))
# The highest page below 2^36: valid with MAXPHYADDR 36, beyond it with 35.
E = (0xfff000, 0x1000, 256, 0xffffff000)
vector("valid_gpa_below_maxphyaddr", E, maxphyaddr=36)
vector("reg_gpa_beyond_maxphyaddr", E, maxphyaddr=35, live=("SD_ERR_REG_GPA", None, None))
vector("reg_gpa_beyond_52_bits", G, reg=(1 << 52) | 1, live=("SD_ERR_REG_GPA", None, None))
# The value 0 registers nothing: the header re-check finds no table.
vector("reg_zero_unregisters", G, reg=0, live=("SD_ERR_NO_TABLE", None, None))
vector("valid_hc_cross_checks", G, hc=(0x1000, 1, 0))
vector("reg_hc_size_mismatch", G, hc=(0x2000, 0, 0), live=("SD_ERR_REG_SIZE", None, 0x50))
vector("reg_hc_abi_mismatch", G, hc=(0, 2, 0), live=("SD_ERR_REG_ABI", None, 0x08))
vector("reg_hc_size_before_abi", G, hc=(0x2000, 2, 0), live=("SD_ERR_REG_SIZE", None, 0x50))
# The header is validated (step 3) before the cross-checks (step 4), even when a2 agrees with it.
vector("reg_hc_header_before_cross_check", G, hc=(0, 2, 0), mut=["0x08:2:2"],
       live=("SD_ERR_HDR_MAJOR", None, 0x08))

# ---- guest memory (SPEC.md 4.4, 5.5 steps 2 and 5) ---------------------------------------
H16 = (0, 4096, 256, 0x10000)   # a one-page table at GFN 0x10
vector("mem_header_in_hole", H16, mem="ram:0x0:0x10;ram:0x11:0x1000",
       live=("SD_ERR_MEM_UNBACKED", None, 0))
vector("mem_header_in_mmio", H16, mem="ram:0x0:0x10;mmio:0x10:0x20;ram:0x20:0x1000",
       live=("SD_ERR_MEM_MMIO", None, 0))
vector("mem_header_faults", H16, mem="ram:0x0:0x10;fault:0x10:0x11;ram:0x11:0x1000",
       live=("SD_ERR_MEM_FAULT", None, 0))
vector("mem_table_runs_into_hole", M, mem="ram:0x0:0x100;ram:0x102:0x8000",
       live=("SD_ERR_MEM_UNBACKED", None, 0))
vector("mem_table_runs_into_mmio", M, mem="ram:0x0:0x100;mmio:0x100:0x200;ram:0x200:0x8000",
       live=("SD_ERR_MEM_MMIO", None, 0))
vector("mem_table_across_slots", M, mem="ram:0x0:0x100;ram:0x100:0x8000",
       live=("SD_ERR_MEM_SPLIT", None, 0))
vector("mem_table_runs_into_faulting_slot", M, mem="ram:0x0:0x100;fault:0x100:0x102;ram:0x102:0x8000",
       live=("SD_ERR_MEM_SPLIT", None, 0))
# Registered where RAM holds no table: RAM outside the image reads as zero.
vector("reg_gpa_at_zero_ram", G, reg=0x5001, mem="ram:0x0:0x1000",
       live=("SD_ERR_HDR_MAGIC", None, 0x00))
# Holes, MMIO, faulting memory and slot boundaries all around the table, none in it: the
# reader touches nothing outside the table.
vector("valid_rich_memory_map", M, ops=["S:0xf0:8", "S:0x102:30", "S:0x7ff0:16"],
       mem="ram:0x0:0x40;mmio:0x40:0x50;ram:0x50:0xf0;fault:0xf0:0xf8;ram:0xfc:0x200;"
           "ram:0x200:0x8000;mmio:0x8000:0x8001;fault:0x8001:0x8002")

# ---- registered, then changed (SPEC.md 4.6, 7.1 step 1, 10.4 step 2) ---------------------
vector("hdr_changed_after_registration", G, after=["0x28:8:0x800"],
       live=("SD_ERR_HDR_CHANGED", None, 0x28))
vector("hdr_changed_reserved_word", G, after=["0x6c:4:0x1"],
       live=("SD_ERR_HDR_CHANGED", None, 0x68))
vector("hdr_changed_inside_a_field", G, after=["0x0b:1:0x1"],
       live=("SD_ERR_HDR_CHANGED", None, 0x0a))
vector("table_page_cleared_after_registration", (0, 4096, 256, 0x3000),
       after=[bit_clear(3), lambda t, img: (t.desc_off(0, 4), 4, 0)],
       live=lambda t: ("SD_ERR_TABLE_NOT_SHARED", 0, t.bits_off(3)))

# ---- registration step 6 (SPEC.md 5.5) ---------------------------------------------------
vector("valid_table_spans_chunks", M, ops=["S:0xf0:8", "S:0x102:30", "S:0x7ff0:16"])
# Step 6 reads the table's chunks first, and checks only 4.2.3 there: chunk 4's clear table
# bit is reported, not chunk 0's count nor chunk 4's own count.
vector("table_chunks_read_first", M, mut=[lambda t, img: (t.desc_off(0, 4), 4, 5), bit_clear(0x101)],
       live=lambda t: ("SD_ERR_TABLE_NOT_SHARED", 4, t.bits_off(0x101)))
vector("table_page_cleared_count_stale", (0, 4096, 256, 0x3000), mut=[bit_clear(3)],
       live=lambda t: ("SD_ERR_TABLE_NOT_SHARED", 0, t.bits_off(3)))
vector("table_in_last_chunk_pad_and_clear", (0, 1000, 128, 0x3e0000), mut=[bit_set(1020), bit_clear(992)],
       live=lambda t: ("SD_ERR_TABLE_NOT_SHARED", 7, t.bits_off(992)))
# Live, step 6 stops at the open window in table chunk 4; paused, it passes, and the walk
# finds chunk 0's count.
vector("table_chunk_odd_before_earlier_error", M, ops=["B:0x110:4:S"],
       mut=[lambda t, img: (t.desc_off(0, 4), 4, 5)],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 4, t.desc_off(4)),
       paused=lambda t: ("SD_ERR_CHUNK_COUNT", 0, t.desc_off(0, 4)))
# SPEC.md 7.4: the final pause inside windows of both chunks holding table pages. A live
# registration refuses it; a paused one (the migration destination) accepts it.
vector("pause_in_window_of_table_chunks", M, ops=["S:0xc0:8", "H:0xc0:4:P", "B:0x120:16:S"],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 3, t.desc_off(3)), paused="SD_OK")
vector("pause_in_window_of_table_chunks_begun", M, ops=["S:0xc0:8", "B:0xc0:4:P", "B:0x120:16:S"],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 3, t.desc_off(3)), paused="SD_OK")

# ---- pending windows over pages already in the target state (SPEC.md 3.4) ----------------
vector("window_over_pages_already_converted", G,
       ops=["S:100:50", "S:300:20", "B:110:10:S", "B:305:5:P", "B:600:4:P"],
       live=lambda t: ("SD_ERR_CHUNK_ODD", 0, t.desc_off(0)), paused="SD_OK")


def verdict(v, t):
    if callable(v):
        v = v(t)
    if isinstance(v, str):
        return v
    name, chunk, off = v
    return f"{name}@{'-' if chunk is None else chunk}:{'-' if off is None else hex(off)}"


def mutation(m, t, img):
    off, w, val = m(t, img) if callable(m) else (int(x, 0) for x in m.split(":"))
    img[off:off + w] = val.to_bytes(w, "little")
    return f"{off:#x}:{w}:{val:#x}"


def build():
    out = {}
    lines = ["# sev-donate conformance vectors (SPEC.md section 10). Generated by gen_vectors.py."]
    for v in VECTORS:
        first, nr, ppc, gpa = v["geom"]
        t = Table(first, nr, ppc, gpa)
        run_ops(t, v["ops"])
        img = t.image()
        muts = [mutation(m, t, img) for m in v["mut"]]
        # `after` mutations are written for the manifest, on a copy: the image does not hold them.
        later = bytearray(img)
        after = [mutation(m, t, later) for m in v["after"]]
        if v["trunc"] is not None:
            img = img[:v["trunc"]]
        host = dict(ram=f"{first:#x}:{first + nr:#x}", gfn_limit=hex(GFN_LIMIT),
                    max_table=hex(t.table_size))
        host.update(v["host"])
        reg = v["reg"] if v["reg"] is not None else gpa | 1
        hc = "-" if v["hc"] is None else ":".join(hex(x) for x in v["hc"])
        f = [f"name={v['name']}", f"gpa={gpa:#x}", f"first_gfn={first:#x}", f"nr_gfns={nr:#x}",
             f"ppc={ppc}", f"reg={reg:#x}", f"hc={hc}", f"maxphyaddr={v['maxphyaddr']}",
             f"ram={host['ram']}", f"gfn_limit={host['gfn_limit']}",
             f"max_table={host['max_table']}", f"mem={v['mem']}",
             f"ops={';'.join(v['ops']) or '-'}", f"mut={';'.join(muts) or '-'}",
             f"trunc={v['trunc'] if v['trunc'] is not None else '-'}",
             f"after={';'.join(after) or '-'}"]
        parsed = model_reader.parse_line(" ".join(f + ["live=SD_OK", "live_counts=0:0:0",
                                                       "paused=SD_OK", "paused_counts=0:0:0"]))
        for mode in ("live", "paused"):
            want = verdict(v[mode], t)
            got, counts = model_reader.strict_read(parsed, bytes(img), mode == "paused")
            if got != want:
                sys.exit(f"gen_vectors: {v['name']} ({mode}): stated {want}, "
                         f"the reader model reads {got}")
            f.append(f"{mode}={want}")
            if counts is not None:
                tampered = v["mut"] or v["after"] or v["trunc"] is not None
                if not tampered and counts != t.stats(mode == "paused"):
                    sys.exit(f"gen_vectors: {v['name']} ({mode}): reader counts {counts}, "
                             f"writer model {t.stats(mode == 'paused')}")
                f.append(f"{mode}_counts={counts[0]}:{counts[1]}:{counts[2]}")
        lines.append(" ".join(f))
        out[v["name"] + ".bin"] = bytes(img)
    return "\n".join(lines) + "\n", out


def main():
    manifest, files = build()
    vdir = os.path.join(HERE, "vectors")
    if "--check" in sys.argv:
        bad = []
        if open(os.path.join(HERE, "MANIFEST")).read() != manifest:
            bad.append("MANIFEST")
        for n, data in files.items():
            p = os.path.join(vdir, n)
            if not os.path.exists(p) or open(p, "rb").read() != data:
                bad.append(n)
        extra = set(os.listdir(vdir)) - set(files)
        bad += sorted(extra)
        print(f"gen_vectors: {len(files)} vectors regenerated, {len(bad)} differ from the committed ones")
        for b in bad:
            print("gen_vectors: DIFFERS:", b)
        # The committed files, read by the reader model alone.
        n, disagree = model_reader.check_dir(HERE)
        for d in disagree:
            print("gen_vectors: DISAGREES:", d)
        print(f"gen_vectors: {n} committed vectors read live and paused by the reader model, "
              f"{len(disagree)} disagreements")
        bad += disagree
        print(f"gen_vectors: {len(files) + n - len(bad)} passed, {len(bad)} failed")
        sys.exit(1 if bad else 0)
    os.makedirs(vdir, exist_ok=True)
    for n in os.listdir(vdir):
        os.unlink(os.path.join(vdir, n))
    for n, data in files.items():
        open(os.path.join(vdir, n), "wb").write(data)
    open(os.path.join(HERE, "MANIFEST"), "w").write(manifest)
    print(f"gen_vectors: wrote {len(files)} vectors and MANIFEST")


if __name__ == "__main__":
    main()
