/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * baseline.h - models of the designs this protocol replaces, and the
 * fixtures the benchmarks compare them with (userspace; bench/ and
 * tests/unit/test_baseline.c link them from libsdbaseline.a).
 *
 *   bl_rlist   the VMM's sorted shared-region list of AMD's QEMU SEV
 *              live-migration patches (2021), fed by KVM_HC_MAP_GPA_RANGE
 *              exits (KVM_EXIT_HYPERCALL): one heap node per shared region,
 *              split and merged on every exit, looked up by a linear scan
 *              of the whole list per page in the migration loop.
 *   bl_encmap  the KVM_GET_PAGE_ENC_BITMAP proposal (2020): the host keeps
 *              one bit per guest page in its own memory, updated by an exit
 *              per change; the VMM copies it out before it migrates.
 *   bl_cursor  this protocol's answer to the same per-page question in a
 *              migration loop: host/ reads each chunk once (sd_host_read_chunk,
 *              summary reads for uniform chunks) and tests bits in its copy.
 *   bl_pattern the shared-memory layouts the benchmarks use ("typical" and
 *              "fragmented"; the exact generators are documented below).
 *
 * Synchronization: none of these is shared between threads. A benchmark
 * (or a VMM's vCPU thread, for the exit handlers) owns each object.
 */
#ifndef SD_BASELINE_H
#define SD_BASELINE_H

#include <errno.h>
#include "sd_types.h"
#include "sd_host.h"
#include "layout.h"
#include "validate.h"
#include "bitmap.h"
#include "sd_rand.h"

/* ---- KVM_HC_MAP_GPA_RANGE (hypercall 12) arguments, as Linux defines them ---- */
#define BL_HC_MAP_GPA_RANGE		12
#define BL_MAP_GPA_RANGE_PAGE_SZ_4K	0	/* attrs bits 3:0: the guest's mapping size */
#define BL_MAP_GPA_RANGE_PAGE_SZ_2M	1
#define BL_MAP_GPA_RANGE_PAGE_SZ_1G	2
#define BL_MAP_GPA_RANGE_ENCRYPTED	(1u << 4)	/* 1: now private, 0: now shared */
#define BL_MAP_GPA_RANGE_DECRYPTED	0

/* ---- the region list ---------------------------------------------------------- */

/*
 * One shared region, [start, end) in GFNs, as the QEMU patches' node
 * (two unsigned longs and a tail-queue link: 32 bytes, g_malloc0'd).
 */
struct bl_region {
	sd_gfn_t start, end;
	struct bl_region *next, *prev;
};

/*
 * Sorted by GFN, disjoint, and (unlike the published patch, whose forward
 * merge neither coalesces with the following node nor re-checks overlap)
 * always maximal: no two nodes touch. That is the fewest nodes the design
 * can have, so every figure here is the baseline at its best.
 */
struct bl_rlist {
	struct bl_region *head, *tail;
	u64 nr;			/* nodes in the list */
	u64 allocs, frees;	/* heap calls made so far */
	u64 visits;		/* nodes visited by updates (work counter) */
};

void bl_rlist_init(struct bl_rlist *l);
void bl_rlist_free(struct bl_rlist *l);
/*
 * Mark [start, end) shared / private. 0, -EINVAL (empty or wrapping range)
 * or -ENOMEM. The models are VMM code: they return negative errnos.
 */
int bl_rlist_add(struct bl_rlist *l, sd_gfn_t start, sd_gfn_t end);
int bl_rlist_remove(struct bl_rlist *l, sd_gfn_t start, sd_gfn_t end);
/*
 * The VMM's KVM_EXIT_HYPERCALL handler for KVM_HC_MAP_GPA_RANGE: @npages
 * 4 KiB pages from @gpa, @attrs as above. -EINVAL for an unaligned
 * GPA, zero pages, reserved attribute bits or a range that wraps.
 */
int bl_rlist_map_gpa_range(struct bl_rlist *l, sd_gpa_t gpa, u64 npages, u64 attrs);

/*
 * "Is this page shared?" as the migration loop asks it: a scan from the
 * head that stops only on a hit, so every private page (nearly all of
 * them) walks the whole list. Not inline: the patches call it through an
 * ops table once per page.
 */
bool bl_rlist_is_shared(const struct bl_rlist *l, sd_gfn_t gfn);

/* ---- the host-kept bitmap (KVM_GET_PAGE_ENC_BITMAP) ------------------------------ */

struct bl_encmap {
	sd_gfn_t first_gfn;
	u64 nr_gfns;
	u64 *bits;		/* 1 = shared, one bit per page, in the host's memory */
	u64 bytes;		/* allocated for bits */
};

/* Allocate the host's bitmap for a guest of @nr_gfns pages (all private). 0 or -ENOMEM. */
int bl_encmap_init(struct bl_encmap *m, sd_gfn_t first_gfn, u64 nr_gfns);
void bl_encmap_free(struct bl_encmap *m);
/*
 * The in-host hypercall handler: the arguments and errors of
 * bl_rlist_map_gpa_range(), and -ERANGE outside the bitmap.
 */
int bl_encmap_map_gpa_range(struct bl_encmap *m, sd_gpa_t gpa, u64 npages, u64 attrs);
/*
 * The ioctl: copy the bits of [gfn, gfn + npages) to @dst (gfn - first_gfn
 * a multiple of 64; the last word's bits past the range are copied as they
 * are). 0, -EINVAL or -ERANGE.
 */
int bl_encmap_get(const struct bl_encmap *m, sd_gfn_t gfn, u64 npages, u64 *dst);

/* ---- this protocol: per-page state in a migration loop -------------------------- */

/*
 * What the loop holds: one chunk's copy, and the chunk's pages [lo, lo + n).
 * A settled chunk's answers are bits: its copy's, or a constant bitmap for
 * a uniform chunk read by its summary, so that the common case (the next
 * page is in the same chunk) is one compare and the bit test a host-kept
 * bitmap needs too.
 */
struct bl_cursor {
	/* Hot: what the per-page test reads. */
	sd_gfn_t lo;		/* first page of the chunk held */
	u64 nbits;		/* n when its pages' states are bits of @bits, else 0 */
	const u64 *bits;	/* bit (gfn - lo): 1 shared, 0 private */
	u64 n;			/* its pages; 0 when none is held */
	int fixed;		/* when nbits is 0: every page's answer, SD_PAGE_* or a negative error */
	int uniform;		/* SD_PAGE_PRIVATE or _SHARED: a uniform chunk (every bit alike); else -1 */
	const struct sd_host_reg *reg;
	const struct sd_host_mem *mem;
	u32 max_attempts;
	struct sd_host_chunk ch;
	struct sd_host_stats st;
	struct sd_errloc loc;
	u64 scratch[SD_HOST_SCRATCH_WORDS];
};

void bl_cursor_init(struct bl_cursor *c, const struct sd_host_reg *reg,
		    const struct sd_host_mem *mem, u32 max_attempts);
/* Read the chunk holding @gfn (a live read, summary allowed); outside the span, hold nothing. */
void bl_cursor_seek(struct bl_cursor *c, sd_gfn_t gfn);
/* bl_cursor_state() past its common case: a page outside the chunk held, or no bits. */
int bl_cursor_state_slow(struct bl_cursor *c, sd_gfn_t gfn);

/*
 * The state of @gfn: SD_PAGE_PRIVATE or SD_PAGE_SHARED, SD_PAGE_UNSETTLED
 * when its chunk did not settle within max_attempts, or a negative error
 * (-SD_ERR_RANGE outside the span, or the chunk's validation error). A
 * chunk is read when the loop first asks about one of its pages, and again
 * only if the loop leaves it and comes back.
 */
static inline int bl_cursor_state(struct bl_cursor *c, sd_gfn_t gfn)
{
	u64 off = gfn - c->lo;

	if (__builtin_expect(off < c->nbits, 1))
		return sd_bit_test(c->bits, off);	/* SD_PAGE_SHARED is 1, PRIVATE 0 */
	return bl_cursor_state_slow(c, gfn);
}

/*
 * The chunk holding @gfn, read if not held: its first page in *@lo and its
 * pages in *@n (0 outside the span). Returns its pages' states as a bitmap
 * from *@lo (bit set: shared), or NULL when the chunk has no per-page
 * answer (unsettled or invalid: bl_cursor_state() says which). A loop that
 * goes page by page tests bits in it exactly as in a host-kept bitmap, and
 * asks for the next chunk once per chunk. When the chunk was uniform (read
 * by its summary, SPEC.md 3.2), c->uniform gives every page's state at
 * once, and the bits are a constant bitmap that says the same.
 */
static inline const u64 *bl_cursor_chunk(struct bl_cursor *c, sd_gfn_t gfn, sd_gfn_t *lo, u64 *n)
{
	if (gfn - c->lo >= c->n)
		bl_cursor_seek(c, gfn);
	*lo = c->lo;
	*n = c->n;
	return c->nbits ? c->bits : NULL;
}

/* ---- shared-memory layouts ---------------------------------------------------------- */

struct bl_range {
	sd_gfn_t gfn;
	u64 npages;
};

/* Regions sorted by GFN, disjoint and never adjacent (each is one maximal run). */
struct bl_pattern {
	struct bl_range *r;
	u64 nr, cap;
	u64 pages;		/* total shared pages */
};

#define BL_SMALL_MAX_PAGES	16	/* scattered regions are 1..16 pages */

/*
 * SWIOTLB's size in pages for a guest of @ram_pages: 6% of RAM clamped to
 * 64 MiB..1 GiB, rounded down to whole 2 MiB.
 */
u64 bl_swiotlb_pages(u64 ram_pages);

/*
 * "typical": what a real SEV Linux guest shares (about 60 regions), in
 * [lo, hi) of a guest with @ram_pages of RAM:
 *   - the decrypted .bss: 512 pages (one 2 MiB huge page) at @lo;
 *   - SWIOTLB: bl_swiotlb_pages(ram_pages) pages, at most (hi - lo) / 4,
 *     starting at lo + (hi - lo) / 4 rounded up to 2 MiB;
 *   - 58 small regions (per-CPU paravirt pages, coherent DMA buffers):
 *     scattered as by bl_pattern_scatter() over what is left.
 * 60 regions in all. 0, -EINVAL if [lo, hi) is too small (under
 * 32768 pages), -ENOMEM.
 */
int bl_pattern_typical(struct bl_pattern *p, u64 ram_pages, sd_gfn_t lo, sd_gfn_t hi,
		       u64 seed);

/*
 * "fragmented": @nr small regions scattered over [lo, hi), nothing else.
 * -EINVAL if a region's slot would be under BL_SMALL_MAX_PAGES + 2 pages.
 */
int bl_pattern_fragmented(struct bl_pattern *p, sd_gfn_t lo, sd_gfn_t hi, u64 nr, u64 seed);

/*
 * The scatter generator, exactly: the free intervals (sorted, disjoint)
 * get shares of @nr proportional to their lengths (floor, then one more
 * each to the largest remainders, earlier interval first on ties). An
 * interval with share k is cut into k equal slots of L = len / k pages
 * (the remainder at its end stays empty); each slot holds one region of
 * n = 1 + r1 % 16 pages starting at slot + r2 % (L - n), where r1, r2 are
 * successive splitmix64 outputs from @seed. A region ends at least one page
 * before its slot does, so no two regions touch. Appends to @p, unsorted
 * with respect to what @p held before; bl_pattern_sort() fixes that.
 */
struct bl_interval {
	sd_gfn_t lo, hi;
};
int bl_pattern_scatter(struct bl_pattern *p, const struct bl_interval *free_iv, u32 nr_iv,
		       u64 nr, u64 *seed);

int bl_pattern_push(struct bl_pattern *p, sd_gfn_t gfn, u64 npages);
void bl_pattern_sort(struct bl_pattern *p);
/* 0 if sorted, non-empty, disjoint and never adjacent; else -EINVAL. */
int bl_pattern_check(const struct bl_pattern *p);
void bl_pattern_free(struct bl_pattern *p);

#endif /* SD_BASELINE_H */
