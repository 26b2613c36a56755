#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""test_sdimage.py - the QEMU test's oracle can fail, and fails for the right reason.

Builds small RAM images by hand (a table laid out as SPEC.md 1.3 says and a
ledger as guest/linux/sd_ledger.h says), breaks one thing at a time, and
asserts exactly what sdimage.compare() and sdimage.Table report.
"""
import io
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sdimage  # noqa: E402

PPC = 64
NR_GFNS = 4 * PPC               # 4 chunks
TABLE_GPA = 0x10000             # page 16, one page
LEDGER_GPA = 0x20000
IMAGE = NR_GFNS * 4096


class Image:
    """A guest RAM image holding one table and one ledger, both built from scratch."""

    def __init__(self):
        self.shared = set(range(16, 17))    # the table's own page
        self.seq = [0] * 4
        self.pending = [(0, 0)] * 4
        self.count_fix = {}                 # chunk -> nr_shared to write instead of the truth
        self.extra_bits = set()             # bits set in the table only
        self.slots = []                     # (gfn, npages, shared, active)
        self.ledger_shared = None           # defaults to self.shared
        self.ledger_magic = sdimage.LEDGER_MAGIC

    def build(self):
        img = bytearray(IMAGE)
        # Header: desc_offset 128, bitmap_offset align_up(128 + 64, 64) = 192, 4 * 8 bytes.
        hdr = struct.pack("<QHHIQQQQIIQQQQ40x", sdimage.SD_MAGIC, 1, 0, 128, 0, 0, 0, NR_GFNS,
                          12, PPC, 4, 128, 192, 4096)
        img[TABLE_GPA:TABLE_GPA + 128] = hdr
        bits = self.shared | self.extra_bits
        for c in range(4):
            word = sum(1 << (p - c * PPC) for p in bits if c * PPC <= p < (c + 1) * PPC)
            nr = self.count_fix.get(c, bin(word).count("1"))
            struct.pack_into("<IIII", img, TABLE_GPA + 128 + 16 * c, self.seq[c], nr,
                             *self.pending[c])
            struct.pack_into("<Q", img, TABLE_GPA + 192 + 8 * c, word)
        # Ledger: header, 4 slots at 0x80, bitmap at 0x100.
        struct.pack_into("<QQQQQIIQQI", img, LEDGER_GPA, self.ledger_magic, 0, NR_GFNS,
                         TABLE_GPA, 4096, 4, 32, 0x80, 0x100, PPC)
        for i, (gfn, n, sh, act) in enumerate(self.slots):
            struct.pack_into("<QQIIQ", img, LEDGER_GPA + 0x80 + 32 * i, gfn, n, sh, act, 7)
        lsh = self.shared if self.ledger_shared is None else self.ledger_shared
        lbits = sum(1 << p for p in lsh)
        img[LEDGER_GPA + 0x100:LEDGER_GPA + 0x100 + NR_GFNS // 8] = lbits.to_bytes(NR_GFNS // 8,
                                                                                  "little")
        return io.BytesIO(bytes(img))

    def compare(self):
        f = self.build()
        return sdimage.compare(sdimage.Ledger(f, LEDGER_GPA), sdimage.Table(f, TABLE_GPA))


class CompareTest(unittest.TestCase):
    def test_idle_table_equal_to_ledger_has_no_mismatch(self):
        im = Image()
        im.shared |= {70, 71, 200}
        bad, st = im.compare()
        self.assertEqual(bad, [])
        self.assertEqual((st["shared"], st["private"], st["transition"], st["inflight"]),
                         (4, NR_GFNS - 4, 0, 0))

    def test_page_differs_outside_any_conversion(self):
        im = Image()
        im.shared |= {70}
        im.ledger_shared = {16}
        bad, _ = im.compare()
        self.assertEqual(bad, ["gfn 0x46: table S, ledger P"])

    def test_open_window_matching_a_conversion_in_flight_is_accepted(self):
        im = Image()
        # Slot converts 60..69 to shared: chunk 0 part 60..63, chunk 1 part 64..69.
        im.slots = [(60, 10, 1, 1)]
        im.seq[0], im.pending[0] = 1, (60, 4)        # chunk 0 still open
        im.shared |= {64, 65, 66, 67, 68, 69}        # chunk 1 already committed
        bad, st = im.compare()
        self.assertEqual(bad, [])
        self.assertEqual((st["transition"], st["inflight"], st["odd_chunks"]), (4, 10, 1))

    def test_window_matching_no_conversion_in_flight(self):
        im = Image()
        im.slots = [(60, 10, 1, 1)]
        im.seq[0], im.pending[0] = 1, (59, 5)        # one page too many
        bad, _ = im.compare()
        self.assertIn("chunk 0: window 59+5 matches no conversion in flight", bad)
        self.assertIn("gfn 0x3b: table X, ledger P", bad)

    def test_window_while_no_conversion_is_active(self):
        im = Image()
        im.slots = [(60, 10, 1, 0)]                  # idle slot
        im.seq[0], im.pending[0] = 3, (60, 4)
        bad, _ = im.compare()
        self.assertEqual(bad[0], "chunk 0: window 60+4 matches no conversion in flight")
        self.assertEqual(len(bad), 5)

    def test_even_chunk_count_disagreeing_with_bits(self):
        im = Image()
        im.count_fix = {2: 3}
        bad, _ = im.compare()
        self.assertEqual(bad, ["chunk 2: nr_shared 3, popcount 0"])

    def test_table_page_not_shared(self):
        im = Image()
        im.shared = set()
        im.ledger_shared = set()
        bad, _ = im.compare()
        self.assertEqual(bad, ["table page 16 not shared"])

    def test_pending_range_outside_its_chunk(self):
        im = Image()
        im.slots = [(60, 10, 1, 1)]
        im.seq[0], im.pending[0] = 1, (60, 5)        # 60 + 5 > 64
        bad, _ = im.compare()
        self.assertEqual(bad, ["chunk 0: pending 60+5 outside"])

    def test_bit_past_span_end(self):
        # 4 chunks of 64 cover exactly NR_GFNS: no padding bits exist, so shorten the span.
        f = Image().build()
        raw = bytearray(f.getvalue())
        struct.pack_into("<Q", raw, TABLE_GPA + 0x28, NR_GFNS - 1)     # nr_gfns
        struct.pack_into("<Q", raw, TABLE_GPA + 192 + 24, 1 << 63)     # last page of chunk 3
        t = sdimage.Table(io.BytesIO(bytes(raw)), TABLE_GPA)
        self.assertEqual(t.errors[0], "chunk 3: bit past the span's end")

    def test_bad_ledger_magic_is_an_error(self):
        im = Image()
        im.ledger_magic = 0
        with self.assertRaises(sdimage.ImageError):
            im.compare()


if __name__ == "__main__":
    unittest.main(verbosity=1)
