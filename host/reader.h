/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * reader.h - host/ internals: one call's view of the table and the chunk
 * read rule (SPEC.md 3.1, 3.2, 3.4). Not part of the API (sd_host.h is).
 *
 * The read rule is a static inline here so that the walks can run their
 * per-chunk loop without a call: a summary read of a uniform chunk is a
 * handful of loads (seq, nr_shared, seq), and a 1 TiB guest has 32768 of
 * them per walk.
 *
 * Reachable by a hostile guest: everything behind rd->base is guest-written
 * at any moment. Every address used below is computed from the private
 * geometry (rd->g) and a chunk index the caller bounded by g->nr_chunks.
 */
#ifndef SD_HOST_READER_H
#define SD_HOST_READER_H

#include "sd_host.h"
#include "seqcount.h"
#include "bitmap.h"

#define SD_DESC_OFF(f)	((u64)__builtin_offsetof(struct sd_chunk_desc, f))

/*
 * For the per-chunk and per-word helpers of the walks: inlined into their
 * loops so that the loop's state (counters, the open run) stays in
 * registers instead of behind a pointer the read rule's barriers (compiler
 * memory clobbers) would force back to memory on every chunk.
 */
#define SD_HOT		inline __attribute__((always_inline))

/* What one sd_host_* call reads the table through. Private to the call. */
struct sd_host_rd {
	const struct sd_geom *g;	/* the registration's private copy */
	const u8 *base;			/* the mapped table: guest-writable */
	/*
	 * What the per-chunk loop needs from the geometry, as values: a
	 * local copy stays in registers across the read rule's barriers,
	 * loads through @g would not.
	 */
	const struct sd_chunk_desc *descs;
	const u8 *bitmap;
	sd_gfn_t first_gfn;
	u64 nr_gfns;
	u32 shift, ppc, wpc;
	sd_gpa_t gpa;
	u64 *scratch;			/* words_per_chunk words, caller's */
	struct sd_errloc *loc;
	u32 flags;
	u32 attempts;			/* per chunk: max_attempts, 1 when paused */
	u64 tchunk_lo, tchunk_hi;	/* chunks holding table pages, inclusive */
	/*
	 * Work done by this call, added to the caller's counters once, by
	 * sd_host_rd_done(). Kept here rather than behind the caller's pointer
	 * so that the per-chunk loop counts in registers: the barriers of the
	 * read rule are compiler memory clobbers, which would otherwise force
	 * every counter to memory twice per chunk.
	 */
	struct sd_host_stats acc;
	struct sd_host_stats *st;	/* the caller's, may be NULL */
};

/* Report an accessor failure; anything but the four memory errors is a bug there. */
static inline int sd_host_mem_fail(struct sd_errloc *loc, int err, u64 offset)
{
	if (err != -SD_ERR_MEM_UNBACKED && err != -SD_ERR_MEM_MMIO &&
	    err != -SD_ERR_MEM_SPLIT && err != -SD_ERR_MEM_FAULT)
		err = -SD_ERR_MEM_UNBACKED;
	return sd_fail(loc, -err, SD_LOC_NONE, offset);
}

static inline void sd_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#else
	sd_barrier();
#endif
}

/*
 * Map @reg's table and fill @rd. Errors: SD_ERR_NO_TABLE, SD_ERR_INVAL
 * (max_attempts 0 for a live read, NULL scratch when @need_scratch),
 * SD_ERR_MEM_* from the accessor. Inline, so that @rd's address never
 * leaves the calling function.
 */
static inline int sd_host_rd_setup(struct sd_host_rd *rd, const struct sd_host_reg *reg,
				   const struct sd_host_mem *mem, u32 flags, u32 max_attempts,
				   u64 *scratch, bool need_scratch, struct sd_host_stats *st,
				   struct sd_errloc *loc)
{
	const struct sd_geom *g;
	sd_gfn_t trel;
	int err = -SD_ERR_MEM_UNBACKED;

	if (!reg || !mem || !mem->map || (need_scratch && !scratch))
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	if (!reg->active)
		return sd_fail(loc, SD_ERR_NO_TABLE, SD_LOC_NONE, SD_LOC_NONE);
	if (!(flags & SD_READ_PAUSED) && max_attempts == 0)
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);

	g = &reg->geom;
	rd->g = g;
	rd->gpa = reg->gpa;
	rd->scratch = scratch;
	rd->loc = loc;
	rd->flags = flags;
	rd->attempts = (flags & SD_READ_PAUSED) ? 1 : max_attempts;
	rd->acc = (struct sd_host_stats){ 0 };
	rd->st = st;

	/* Registration placed the table inside the span (4.1 check 14). */
	trel = (reg->gpa >> SD_PAGE_SHIFT) - g->first_gfn;
	rd->tchunk_lo = trel >> g->chunk_shift;
	rd->tchunk_hi = (trel + sd_geom_table_pages(g) - 1) >> g->chunk_shift;

	/* One mapping per call: the geometry says where everything is inside it. */
	rd->base = mem->map(mem->ctx, reg->gpa, g->table_size, &err);
	if (!rd->base)
		return sd_host_mem_fail(loc, err, 0);
	rd->descs = (const struct sd_chunk_desc *)(rd->base + g->desc_offset);
	rd->bitmap = rd->base + g->bitmap_offset;
	rd->first_gfn = g->first_gfn;
	rd->nr_gfns = g->nr_gfns;
	rd->shift = g->chunk_shift;
	rd->ppc = g->pages_per_chunk;
	rd->wpc = g->words_per_chunk;
	return 0;
}

/* Add this call's work to the caller's counters. */
static inline void sd_host_rd_done(struct sd_host_rd *rd)
{
	struct sd_host_stats *st = rd->st;

	if (!st)
		return;
	st->chunks += rd->acc.chunks;
	st->summary_chunks += rd->acc.summary_chunks;
	st->attempts += rd->acc.attempts;
	st->retries += rd->acc.retries;
	st->bytes += rd->acc.bytes;
	st->unsettled += rd->acc.unsettled;
}

static inline const struct sd_chunk_desc *sd_host_rd_desc(const struct sd_host_rd *rd, u64 idx)
{
	return (const struct sd_chunk_desc *)(rd->base + sd_geom_desc_off(rd->g, idx));
}

/* A uniform chunk read without its bitmap (SPEC.md 3.2): what needs no bits. */
static SD_HOT int sd_host_rd_summary(struct sd_host_rd *rd, u64 idx, u32 seq, u32 nr_shared,
				     u32 pages, struct sd_host_chunk *out)
{
	out->summary = true;
	out->bits = NULL;
	out->v.seq = seq;
	out->v.nr_shared = nr_shared;
	out->v.pages = pages;
	out->v.pending_first = 0;
	out->v.pending_count = 0;
	if (nr_shared == 0 && idx >= rd->tchunk_lo && idx <= rd->tchunk_hi) {
		/* The first table page of this chunk is the first clear bit. */
		const struct sd_geom *g = rd->g;
		sd_gfn_t cgfn = sd_geom_chunk_gfn(g, idx);
		sd_gfn_t tgfn = rd->gpa >> SD_PAGE_SHIFT;
		u64 first = tgfn > cgfn ? tgfn - cgfn : 0;

		return sd_fail(rd->loc, SD_ERR_TABLE_NOT_SHARED, idx,
			       sd_geom_bits_off(g, idx) + (first >> 6) * 8);
	}
	return 0;
}

/*
 * SPEC.md 3.1: read chunk @idx into a private copy, at most rd->attempts
 * times, then validate the copy (4.2, or 4.3 when paused). Uniform chunks
 * skip their bitmap unless SD_READ_STRICT (3.2). Nothing read from the
 * descriptor or the bitmap is used before the second count load confirms
 * the copy; the only decision taken earlier is whether to copy the bitmap
 * at all (0 or words_per_chunk words, never a guest-chosen length).
 *
 * The descriptor's fields are copied into scalars, not a struct, and the
 * work is counted in locals: neither has its address taken before the
 * copy is confirmed, so the barriers between the loads don't force them
 * through memory. This loop is the whole cost of a summary read.
 */
static SD_HOT int sd_host_rd_chunk(struct sd_host_rd *rd, u64 idx, struct sd_host_chunk *out)
{
	const struct sd_chunk_desc *d = &rd->descs[idx];
	const u64 *bits = (const u64 *)(rd->bitmap + ((idx << rd->shift) >> 3));
	u64 left = rd->nr_gfns - (idx << rd->shift);
	u32 pages = left < rd->ppc ? (u32)left : rd->ppc, wpc = rd->wpc;
	u32 attempts = rd->attempts, a;
	bool paused = rd->flags & SD_READ_PAUSED;
	bool strict = rd->flags & SD_READ_STRICT;
	bool got_even = false;
	u64 bytes = 0;
	int rc;

	for (a = 1; a <= attempts; a++) {
		u32 seq, ns, pf = 0, pc = 0;
		bool summary;

		bytes += 4;
		seq = sd_seq_read_begin(d);		/* R1 inside: pairs with W2, W0 */
		if ((seq & 1) && !paused) {
			/* A writer is inside a window; a live read never copies it. */
			sd_cpu_relax();
			continue;
		}
		got_even = true;
		ns = SD_READ_ONCE(d->nr_shared);
		bytes += 8;				/* nr_shared, second count */
		if (seq & 1) {
			/* Paused: the range W0 published before this odd count. */
			pf = SD_READ_ONCE(d->pending_first);
			pc = SD_READ_ONCE(d->pending_count);
			bytes += 8;
		}
		summary = !strict && !(seq & 1) && (ns == 0 || ns == pages);
		if (!summary) {
			sd_shared_load_words(rd->scratch, bits, wpc);
			bytes += (u64)wpc * 8;
		}
		if (sd_seq_read_retry(d, seq)) {	/* R2 inside: pairs with W1 */
			sd_cpu_relax();
			continue;
		}
		/* The copy is one the writer published: validate and use only it. */
		if (summary) {
			rd->acc.summary_chunks++;
			rc = sd_host_rd_summary(rd, idx, seq, ns, pages, out);
		} else {
			struct sd_chunk_desc c = {
				.seq = seq, .nr_shared = ns,
				.pending_first = pf, .pending_count = pc,
			};

			out->summary = false;
			out->bits = rd->scratch;
			rc = sd_validate_chunk(rd->g, idx, &c, rd->scratch, rd->gpa, paused,
					       &out->v, rd->loc);
		}
		goto done;
	}
	a = attempts;
	rd->acc.unsettled++;
	/* got_even is false only when every attempt stopped at an odd count. */
	rc = sd_fail(rd->loc, got_even ? SD_ERR_CHUNK_RETRIES : SD_ERR_CHUNK_ODD, idx,
		     sd_geom_desc_off(rd->g, idx) + SD_DESC_OFF(seq));
	rd->acc.retries++;		/* the last attempt failed too */
done:
	rd->acc.chunks++;
	rd->acc.attempts += a;
	rd->acc.retries += a - 1;
	rd->acc.bytes += bytes;
	return rc;
}

#endif /* SD_HOST_READER_H */
