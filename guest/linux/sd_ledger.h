/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_ledger.h - the test ledger the Linux module keeps beside the table.
 *
 * The ledger is test machinery, not part of the protocol: it records, apart
 * from guest/'s private state, what the module believes every page's state
 * to be, and which conversion each worker has in flight. It lives in one
 * physically contiguous allocation of guest RAM whose GPA the module prints
 * on the serial console, so that a test on the host can read it out of a
 * file-backed QEMU guest (file offset == GPA) while the VM is stopped and
 * compare it with the table, page by page (tests/linux/sdimage.py reads it).
 *
 * Layout (little-endian, x86-64):
 *
 *   0x00  u64 magic          SDL_LEDGER_MAGIC ("SDLEDGR1")
 *   0x08  u64 first_gfn      the table's span
 *   0x10  u64 nr_gfns
 *   0x18  u64 table_gpa
 *   0x20  u64 table_bytes
 *   0x28  u32 nr_slots       one slot per worker that converts pages
 *   0x2c  u32 slot_size      sizeof(struct sdl_ledger_slot)
 *   0x30  u64 slots_offset   byte offset of slot 0
 *   0x38  u64 bitmap_offset  byte offset of the expected-state bitmap
 *   0x40  u32 pages_per_chunk
 *   0x44  u32 reserved
 *   0x48  u64 reserved[7]
 *   0x80  slots, then the bitmap (bit p = page first_gfn + p, 1 = shared)
 *
 * Synchronization table:
 *
 *   field                 written by                      read by
 *   header                module init, before the GPA     the host, any time
 *                         is printed; never again
 *   a slot                its one owner (a churn thread,  the host, while the VM is stopped
 *                         or the debugfs writer under     (commits: also live, as a progress
 *                         its mutex)                      counter; any value is fine)
 *   bitmap bits           the slot owner converting the   the host, while the VM is stopped
 *                         page (atomic bitops: neighbours
 *                         share words)
 *
 * A conversion through slot s of pages [gfn, gfn + npages) -> state runs:
 *
 *   write gfn, npages, shared; active = 1
 *   sd_guest_begin, the conversion, sd_guest_commit    (the table's windows)
 *   write the bitmap bits; active = 0; commits += 1
 *
 * with a write barrier between each line (smp_wmb: a compiler barrier on
 * x86, which keeps stores in order). The host reads while every vCPU is
 * stopped, so every store a vCPU retired is visible and, by program order,
 * so is everything before it. Hence for any stop point:
 *   - a page outside every active slot has, in the table, exactly the
 *     ledger's state and is not in transition;
 *   - a page inside an active slot has the ledger's (old) state, the slot's
 *     (new) state, or is in transition;
 *   - an odd chunk's pending range is exactly the intersection of one active
 *     slot's range with that chunk.
 */
#ifndef SD_LEDGER_H
#define SD_LEDGER_H

#include "sd_types.h"

#define SDL_LEDGER_MAGIC	0x31524744454c4453ULL	/* "SDLEDGR1" in memory */

struct sdl_ledger_hdr {
	u64 magic;
	u64 first_gfn;
	u64 nr_gfns;
	u64 table_gpa;
	u64 table_bytes;
	u32 nr_slots;
	u32 slot_size;
	u64 slots_offset;
	u64 bitmap_offset;
	u32 pages_per_chunk;
	u32 reserved0;
	u64 reserved[7];
};

struct sdl_ledger_slot {
	u64 gfn;		/* first page of the conversion in flight */
	u64 npages;
	u32 shared;		/* the state it converts to: 1 shared, 0 private */
	u32 active;		/* 1 from before begin to after the bitmap is updated */
	u64 commits;		/* conversions this slot completed */
};

_Static_assert(sizeof(struct sdl_ledger_hdr) == 0x80, "ledger header size");
_Static_assert(sizeof(struct sdl_ledger_slot) == 32, "ledger slot size");
_Static_assert(__builtin_offsetof(struct sdl_ledger_hdr, slots_offset) == 0x30, "slots_offset");
_Static_assert(__builtin_offsetof(struct sdl_ledger_hdr, pages_per_chunk) == 0x40, "ppc");

#endif /* SD_LEDGER_H */
