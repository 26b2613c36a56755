# SPDX-License-Identifier: GPL-2.0 OR MIT
"""sdimage.py - read a table and the module's ledger out of a guest RAM image.

An oracle written from SPEC.md (sections 1, 3.4, 4) and guest/linux/sd_ledger.h
alone: it shares no code with guest/, host/ or the CLI, so that when it and
`sev-donate dump` agree with the ledger, three independent readings agree.

The image is a file whose byte offset equals the guest physical address
(QEMU's memory-backend-file for RAM below the PCI hole).
"""
import struct

SD_MAGIC = 0x54414E4F44564553
LEDGER_MAGIC = 0x31524744454C4453  # "SDLEDGR1"
HDR = struct.Struct("<QHHIQQQQIIQQQQ40x")
LEDGER_HDR = struct.Struct("<QQQQQIIQQI4x56x")
SLOT = struct.Struct("<QQIIQ")
DESC = struct.Struct("<IIII")

SHARED, PRIVATE, TRANSITION = "S", "P", "X"


class ImageError(Exception):
    pass


def read_at(img, gpa, n):
    img.seek(gpa)
    b = img.read(n)
    if len(b) != n:
        raise ImageError("image too short for 0x%x+%d" % (gpa, n))
    return b


class Ledger:
    """The module's ledger (guest/linux/sd_ledger.h), copied once."""

    def __init__(self, img, gpa):
        raw = read_at(img, gpa, LEDGER_HDR.size)
        (magic, self.first_gfn, self.nr_gfns, self.table_gpa, self.table_bytes,
         self.nr_slots, slot_size, slots_off, bitmap_off, self.ppc) = LEDGER_HDR.unpack(raw)
        if magic != LEDGER_MAGIC:
            raise ImageError("no ledger at 0x%x (magic 0x%x)" % (gpa, magic))
        if slot_size != SLOT.size or self.nr_slots > 64:
            raise ImageError("ledger slots: %d of %d bytes" % (self.nr_slots, slot_size))
        self.slots = []
        for i in range(self.nr_slots):
            gfn, npages, shared, active, commits = SLOT.unpack(
                read_at(img, gpa + slots_off + i * SLOT.size, SLOT.size))
            self.slots.append(dict(idx=i, gfn=gfn, npages=npages, shared=bool(shared),
                                   active=bool(active), commits=commits))
        nbytes = (self.nr_gfns + 7) // 8
        self.bits = int.from_bytes(read_at(img, gpa + bitmap_off, nbytes), "little")

    @property
    def commits(self):
        return sum(s["commits"] for s in self.slots)

    def active(self):
        return [s for s in self.slots if s["active"]]

    def state(self, p):
        """Expected state of span page p (p = gfn - first_gfn)."""
        return SHARED if (self.bits >> p) & 1 else PRIVATE

    def shared_count(self):
        return bin(self.bits).count("1")


def ledger_commits(img, gpa):
    """Only the progress counter: safe to read while the guest runs."""
    return Ledger(img, gpa).commits


class Table:
    """A paused read of every chunk (SPEC.md 3.4) with the checks of 4.1-4.3."""

    def __init__(self, img, gpa):
        raw = read_at(img, gpa, HDR.size)
        (magic, major, _minor, hsize, _compat, incompat, self.first_gfn, self.nr_gfns,
         pshift, self.ppc, self.nr_chunks, desc_off, bitmap_off, self.table_size) = HDR.unpack(raw)
        if magic != SD_MAGIC or major != 1 or incompat or pshift != 12:
            raise ImageError("bad header at 0x%x" % gpa)
        if self.ppc & (self.ppc - 1) or not 64 <= self.ppc <= 32768 or hsize < 128:
            raise ImageError("bad geometry at 0x%x" % gpa)
        if self.nr_chunks != -(-self.nr_gfns // self.ppc):
            raise ImageError("nr_chunks %d for %d pages" % (self.nr_chunks, self.nr_gfns))
        self.gpa = gpa
        tfirst = (gpa >> 12) - self.first_gfn
        self.table_pages = range(tfirst, tfirst + self.table_size // 4096)
        self.states = []          # one of S/P/X per span page
        self.odd = []             # (chunk, pending_first_page, count) span-relative
        self.errors = []          # SPEC.md 4.2/4.3 violations
        descs = read_at(img, gpa + desc_off, 16 * self.nr_chunks)
        bitmap = read_at(img, gpa + bitmap_off, self.nr_chunks * self.ppc // 8)
        for c in range(self.nr_chunks):
            seq, nr_shared, pfirst, pcount = DESC.unpack_from(descs, 16 * c)
            base = c * self.ppc
            npages = min(self.ppc, self.nr_gfns - base)
            word = int.from_bytes(bitmap[base // 8:(base + self.ppc) // 8], "little")
            if word >> npages:
                self.errors.append("chunk %d: bit past the span's end" % c)
            bits = [(word >> i) & 1 for i in range(npages)]
            pend = range(0)
            if seq & 1:
                if pcount < 1 or pfirst >= npages or pcount > npages - pfirst:
                    self.errors.append("chunk %d: pending %d+%d outside" % (c, pfirst, pcount))
                else:
                    pend = range(pfirst, pfirst + pcount)
                    self.odd.append((c, base + pfirst, pcount))
            elif nr_shared != sum(bits):
                self.errors.append("chunk %d: nr_shared %d, popcount %d" % (c, nr_shared, sum(bits)))
            for i in range(npages):
                self.states.append(TRANSITION if i in pend else (SHARED if bits[i] else PRIVATE))
        for p in self.table_pages:
            if not 0 <= p < self.nr_gfns or self.states[p] != SHARED:
                self.errors.append("table page %d not shared" % p)
                break

    def count(self, st):
        return self.states.count(st)


def compare(ledger, table):
    """Check every page of @table against @ledger (rules in sd_ledger.h).

    Returns (mismatches, stats): mismatches is a list of strings (empty when
    the two agree), stats counts pages and the states seen.
    """
    bad = []
    if (ledger.first_gfn, ledger.nr_gfns, ledger.ppc) != (table.first_gfn, table.nr_gfns, table.ppc):
        return ["geometry: ledger %s, table %s" % (
            (ledger.first_gfn, ledger.nr_gfns, ledger.ppc),
            (table.first_gfn, table.nr_gfns, table.ppc))], {}
    if ledger.table_gpa != table.gpa:
        bad.append("table gpa: ledger 0x%x, table 0x%x" % (ledger.table_gpa, table.gpa))
    bad += table.errors
    inflight = {}
    for s in ledger.active():
        first = s["gfn"] - ledger.first_gfn
        for p in range(first, first + s["npages"]):
            if p in inflight:
                bad.append("page %d in two active slots" % p)
            inflight[p] = s
    # Every odd chunk's window is exactly one active slot's range within that chunk.
    for c, pfirst, pcount in table.odd:
        lo, hi = c * table.ppc, min((c + 1) * table.ppc, table.nr_gfns)
        ok = False
        for s in ledger.active():
            a = max(lo, s["gfn"] - ledger.first_gfn)
            b = min(hi, s["gfn"] - ledger.first_gfn + s["npages"])
            if (a, b - a) == (pfirst, pcount):
                ok = True
        if not ok:
            bad.append("chunk %d: window %d+%d matches no conversion in flight" % (c, pfirst, pcount))
    stats = dict(pages=table.nr_gfns, shared=0, private=0, transition=0, inflight=len(inflight),
                 odd_chunks=len(table.odd))
    for p, st in enumerate(table.states):
        stats[{SHARED: "shared", PRIVATE: "private", TRANSITION: "transition"}[st]] += 1
        exp = ledger.state(p)
        s = inflight.get(p)
        if s is None:
            if st != exp:
                bad.append("gfn 0x%x: table %s, ledger %s" % (table.first_gfn + p, st, exp))
        elif st not in (exp, SHARED if s["shared"] else PRIVATE, TRANSITION):
            bad.append("gfn 0x%x: table %s, ledger %s, in flight to %s" % (
                table.first_gfn + p, st, exp, "S" if s["shared"] else "P"))
        if len(bad) > 20:
            bad.append("...")
            break
    return bad, stats
