/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * reader.h - host/ internals: the options, the one way guest memory is
 * read (sd_host_fetch), and the chunk read rule (SPEC.md 3.1, 3.2, 3.4).
 * Not part of the API (sd_host.h is).
 *
 * The read rule is a static inline here so that the walks can run their
 * per-chunk loop without a call: a summary read of a uniform chunk is a
 * handful of loads (seq, nr_shared, seq), and a 1 TiB guest has 32768 of
 * them per walk. It is written once, sd_rd_rule(), parameterised by what it
 * copies (a whole chunk for the walks, the table's own bits for a
 * registration) and by the accessor (map() or copy()); both parameters are
 * constants where it is expanded, so each expansion is straight-line code
 * for its case.
 *
 * Reachable by a hostile guest: everything in guest memory is
 * guest-written at any moment. Every address used below is computed from
 * the private geometry (rd->g) and a chunk index the caller bounded by
 * g->nr_chunks.
 */
#ifndef SD_HOST_READER_H
#define SD_HOST_READER_H

#include "sd_host.h"
#include "sd_types.h"
#include "layout.h"
#include "validate.h"
#include "seqcount.h"
#include "bitmap.h"

/*
 * For the per-chunk and per-word helpers of the walks: inlined into their
 * loops so that the loop's state (counters, the open run) stays in
 * registers instead of behind a pointer the read rule's barriers (compiler
 * memory clobbers) would force back to memory on every chunk.
 */
#define SD_HOT		inline __attribute__((__always_inline__))
/* Kept out of the loops (the kernel's own noinline is a macro: hence the underscores). */
#define SD_NOINLINE	__attribute__((__noinline__))
/*
 * A function that is one hot loop, placed at a cache line of its own: how
 * its loop sits against 64-byte boundaries otherwise moves with every edit
 * of the file, and under SMT contention a quiet incremental pass measured
 * twice as slow when its 30-byte loop happened to straddle one.
 */
#define SD_LOOP_FN	__attribute__((__noinline__, __aligned__(64)))

/* ---- options (sd_host.h: sized, zero-default) ----------------------------- */

/*
 * Whether the options struct at @opts (NULL allowed) is one this build can
 * take: its size covers @sz itself, and whatever it holds beyond the
 * @known bytes this build knows is zero.
 */
static inline bool sd_opts_ok(const void *opts, size_t known)
{
	const u8 *p = opts;
	size_t sz;

	if (!opts)
		return true;
	sz = *(const size_t *)opts;
	if (sz < sizeof(size_t))
		return false;
	for (size_t i = known; i < sz; i++)
		if (p[i])
			return false;
	return true;
}

/* @opts->@field when the caller's struct is long enough to have it, else @dflt. */
#define SD_OPT(opts, field, dflt)						\
	((opts) && (opts)->sz >= __builtin_offsetof(__typeof__(*(opts)), field) +	\
		   sizeof((opts)->field) ? (opts)->field : (dflt))

/* One call's options, whichever struct they came in. */
struct sd_rd_args {
	u32 flags;
	u32 attempts;			/* max_attempts, defaulted */
	sd_extent_fn fn;
	sd_chunk_fn chunk_fn;
	void *ctx;
	struct sd_host_stats *st;
	struct sd_errloc *loc;
	sd_batch_fn batch_fn;
	struct sd_host_extent *batch;
	u32 batch_len;
};

static inline u32 sd_attempts_or_default(u32 max_attempts)
{
	return max_attempts ? max_attempts : SD_HOST_DEFAULT_ATTEMPTS;
}

/*
 * The options of a walk: @chunk_fn_ok for sd_host_walk_changes(), @batch_ok
 * for sd_host_walk(). Nothing is trusted (or written through @loc) before
 * the size is: a bad size is only a return value.
 */
static inline int sd_walk_args(const struct sd_host_walk_opts *opts, bool chunk_fn_ok,
			       bool batch_ok, struct sd_rd_args *a)
{
	bool batch_bad;

	if (!sd_opts_ok(opts, sizeof(*opts)))
		return -SD_ERR_INVAL;
	a->flags = SD_OPT(opts, flags, 0);
	a->attempts = sd_attempts_or_default(SD_OPT(opts, max_attempts, 0));
	a->fn = SD_OPT(opts, fn, NULL);
	a->chunk_fn = SD_OPT(opts, chunk_fn, NULL);
	a->ctx = SD_OPT(opts, ctx, NULL);
	a->st = SD_OPT(opts, stats, NULL);
	a->loc = SD_OPT(opts, loc, NULL);
	a->batch_fn = SD_OPT(opts, batch_fn, NULL);
	a->batch = SD_OPT(opts, batch, NULL);
	a->batch_len = SD_OPT(opts, batch_len, 0);
	/* A batch goes with its callback, in sd_host_walk() only, and never with @fn. */
	if (a->batch_fn)
		batch_bad = !batch_ok || a->fn || !a->batch || a->batch_len < SD_HOST_BATCH_MIN;
	else
		batch_bad = a->batch || a->batch_len;
	if ((a->flags & ~SD_READ_KNOWN) || (a->chunk_fn && !chunk_fn_ok) || batch_bad ||
	    SD_OPT(opts, reserved, 0))
		return sd_fail(a->loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	return 0;
}

/* ---- guest memory ---------------------------------------------------------- */

/* Guest memory from @gpa on, as one call reaches it. */
struct sd_host_win {
	const u8 *base;		/* map(): [gpa, gpa + len) mapped here; NULL: copy() */
	int (*copy)(void *ctx, void *dst, sd_gpa_t gpa, u64 len);
	void *ctx;
	sd_gpa_t gpa;
};

/* The error an accessor's return value stands for (sd_host.h, struct sd_host_mem). */
static inline int sd_host_mem_err(int acc_rc, bool copy)
{
	switch (acc_rc) {
	case -SD_ERR_MEM_UNBACKED:
	case -SD_ERR_MEM_MMIO:
	case -SD_ERR_MEM_SPLIT:
	case -SD_ERR_MEM_FAULT:
		return -acc_rc;
	default:
		/* A copy that failed some other way faulted; a map() that did is a bug there. */
		return copy ? SD_ERR_MEM_FAULT : SD_ERR_MEM_UNBACKED;
	}
}

/*
 * Open @w on [@gpa, @gpa + @len): map() it once for the whole call, or,
 * with copy(), check it is reachable when @probe (registration step 5) and
 * otherwise leave each access to find out. Inline, so that @w's address
 * never leaves the calling function.
 */
static SD_HOT int sd_host_win_open(struct sd_host_win *w, const struct sd_host_mem *mem,
				    sd_gpa_t gpa, u64 len, bool probe, struct sd_errloc *loc)
{
	int err = -SD_ERR_MEM_UNBACKED;

	w->gpa = gpa;
	w->copy = mem->copy;
	w->ctx = mem->ctx;
	w->base = NULL;
	if (mem->map) {
		w->base = mem->map(mem->ctx, gpa, len, &err);
		if (!w->base)
			return sd_fail(loc, sd_host_mem_err(err, false), SD_LOC_NONE, 0);
		return 0;
	}
	if (!mem->copy)
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	err = probe ? mem->copy(mem->ctx, NULL, gpa, len) : 0;
	return err ? sd_fail(loc, sd_host_mem_err(err, true), SD_LOC_NONE, 0) : 0;
}

/*
 * A place in guest memory: its host address through map(), its offset in
 * the window through copy(). Only the one the accessor uses is ever
 * computed (@map is a constant wherever these are expanded), so a loop
 * through map() carries plain pointers, as it did before copy() existed.
 */
struct sd_host_at {
	const u8 *p;
	u64 off;
};

static SD_HOT struct sd_host_at sd_host_at(const struct sd_host_win *w, bool map, u64 off)
{
	if (map)
		return (struct sd_host_at){ .p = w->base + off };
	return (struct sd_host_at){ .off = off };
}

static SD_HOT struct sd_host_at sd_at_add(struct sd_host_at at, bool map, u64 n)
{
	if (map)
		return (struct sd_host_at){ .p = at.p + n };
	return (struct sd_host_at){ .off = at.off + n };
}

/*
 * The one way host/ reads guest memory: @len bytes at @at into @dst, host
 * memory (a u32 when @len is 4, else whole u64 words). @map says which
 * accessor @w has; it is a constant wherever this is expanded. Through
 * map(): single-copy-atomic loads that cannot fail. Through copy(): one
 * call, which may fail. A memory error is located where every memory error
 * is (SPEC.md 4): no chunk, offset 0. Each field is fetched once per
 * attempt, into the caller's copy: nothing is fetched twice to be used.
 */
static SD_HOT int sd_host_fetch(const struct sd_host_win *w, bool map, void *dst,
				struct sd_host_at at, u32 len, struct sd_errloc *loc)
{
	int rc;

	if (map) {
		const void *p = at.p;

		if (len == 4)
			*(u32 *)dst = SD_READ_ONCE(*(const u32 *)p);
		else
			sd_shared_load_words(dst, p, len / 8);
		return 0;
	}
	rc = w->copy(w->ctx, dst, w->gpa + at.off, len);
	if (__builtin_expect(rc == 0, 1))
		return 0;
	return sd_fail(loc, sd_host_mem_err(rc, true), SD_LOC_NONE, 0);
}

/* ---- one call's view of the table ------------------------------------------ */

/* What one sd_host_* call reads the table through. Private to the call. */
struct sd_host_rd {
	const struct sd_geom *g;	/* the registration's private copy */
	struct sd_host_win win;		/* the table: guest-writable */
	/*
	 * What the per-chunk loop needs from the geometry, as values: a
	 * local copy stays in registers across the read rule's barriers,
	 * loads through @g would not. @descs and @bitmap: where the arrays
	 * are (sd_host_at).
	 */
	struct sd_host_at descs, bitmap;
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

static inline void sd_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#else
	sd_barrier();
#endif
}

/*
 * Open @reg's table for one call and fill @rd. Errors: SD_ERR_NO_TABLE,
 * SD_ERR_INVAL (no accessor; NULL scratch when @need_scratch), SD_ERR_MEM_*
 * from the accessor (@probe: check a copy() accessor reaches the whole
 * table, as map() does by mapping it). Always inlined: if @rd's address
 * left the calling function, its fields would be loaded again after each of
 * the read rule's barriers (a 1 TiB summary walk took a third longer).
 */
static SD_HOT int sd_host_rd_setup(struct sd_host_rd *rd, const struct sd_host_reg *reg,
				    const struct sd_host_mem *mem, const struct sd_rd_args *a,
				    u64 *scratch, bool need_scratch, bool probe)
{
	const struct sd_geom *g;
	sd_gfn_t trel;
	int rc;

	if (!reg || !mem || (!mem->map && !mem->copy) || (need_scratch && !scratch))
		return sd_fail(a->loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	if (!reg->active)
		return sd_fail(a->loc, SD_ERR_NO_TABLE, SD_LOC_NONE, SD_LOC_NONE);

	g = &reg->geom;
	rd->g = g;
	rd->gpa = reg->gpa;
	rd->scratch = scratch;
	rd->loc = a->loc;
	rd->flags = a->flags;
	rd->attempts = (a->flags & SD_READ_PAUSED) ? 1 : a->attempts;
	rd->acc = (struct sd_host_stats){ 0 };
	rd->st = a->st;

	/* Registration placed the table inside the span (4.1 check 14). */
	trel = (reg->gpa >> SD_PAGE_SHIFT) - g->first_gfn;
	rd->tchunk_lo = trel >> g->chunk_shift;
	rd->tchunk_hi = (trel + sd_geom_table_pages(g) - 1) >> g->chunk_shift;

	/* One window per call: the geometry says where everything is inside it. */
	rc = sd_host_win_open(&rd->win, mem, reg->gpa, g->table_size, probe, a->loc);
	if (rc)
		return rc;
	rd->descs = sd_host_at(&rd->win, rd->win.base != NULL, g->desc_offset);
	rd->bitmap = sd_host_at(&rd->win, rd->win.base != NULL, g->bitmap_offset);
	rd->first_gfn = g->first_gfn;
	rd->nr_gfns = g->nr_gfns;
	rd->shift = g->chunk_shift;
	rd->ppc = g->pages_per_chunk;
	rd->wpc = g->words_per_chunk;
	return 0;
}

/* Add this call's work to the caller's counters. */
static SD_HOT void sd_host_rd_done(struct sd_host_rd *rd)
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

/* ---- the read rule ----------------------------------------------------------- */

/*
 * A chunk's count, loaded once (R1, R2 of proto/seqcount.h). Through map()
 * these are sd_seq_read_begin() and sd_seq_read_retry() themselves (and
 * their SD_SEQ_LOAD, which a test may hook); through copy() the same
 * barriers around a 4-byte copy.
 */
static SD_HOT int sd_rd_seq_begin(const struct sd_host_rd *rd, bool map, struct sd_host_at d,
				  u32 *seq)
{
	int rc;

	if (map) {
		*seq = sd_seq_read_begin((const struct sd_chunk_desc *)d.p);
		return 0;			/* R1 inside: pairs with W2, W0 */
	}
	rc = sd_host_fetch(&rd->win, false, seq, sd_at_add(d, false, SD_DESC_OFF(seq)), 4,
			   rd->loc);
	sd_smp_rmb();	/* R1: count before data; pairs with W2 (and W0 when odd) */
	return rc;
}

static SD_HOT int sd_rd_seq_retry(const struct sd_host_rd *rd, bool map, struct sd_host_at d,
				  u32 start, bool *retry)
{
	u32 now;
	int rc;

	if (map) {
		*retry = sd_seq_read_retry((const struct sd_chunk_desc *)d.p, start);
		return 0;			/* R2 inside: pairs with W1 */
	}
	sd_smp_rmb();	/* R2: data before second count; pairs with W1 */
	rc = sd_host_fetch(&rd->win, false, &now, sd_at_add(d, false, SD_DESC_OFF(seq)), 4,
			   rd->loc);
	*retry = now != start;
	return rc;
}

/* What the read rule copies of a chunk. */
enum sd_rd_what {
	SD_RD_CHUNK,	/* a full read: nr_shared and every bitmap word (none if uniform) */
	SD_RD_TABLE,	/* a registration: the bits of the table's own pages [lo, hi) */
};

/*
 * One attempt's copy, handed out only once the second count load confirmed
 * it. Scalars, made into a struct sd_chunk_desc only where a validation
 * needs one (and the table check of a summary copy builds its own, without
 * a pending range): one descriptor built for both validations was packed
 * into vector registers ahead of the branch, on every chunk, costing a
 * summary read a tenth of its time.
 */
struct sd_rd_copy {
	u32 seq;
	u32 nr_shared;		/* CHUNK only */
	u32 pending_first;	/* odd (paused) copies only */
	u32 pending_count;
	u32 pages;		/* pages the chunk covers */
	bool summary;		/* CHUNK: uniform, bitmap not copied (SPEC.md 3.2) */
	u32 pop;		/* CHUNK through map(), bitmap copied: its set bits */
	u32 first_clear;	/* TABLE: first table page whose bit is clear, or hi */
};

/* The descriptor fields of @c, for proto/validate.c. */
static SD_HOT struct sd_chunk_desc sd_rd_copy_desc(const struct sd_rd_copy *c)
{
	return (struct sd_chunk_desc){
		.seq = c->seq, .nr_shared = c->nr_shared,
		.pending_first = c->pending_first, .pending_count = c->pending_count,
	};
}

/*
 * SD_RD_TABLE's copy: the words covering table pages [lo, hi), folded as
 * they go by into the first clear bit among those pages. The fold is the
 * copy (a registration keeps no bitmap); like any copy, it is acted on only
 * after the second count load, and judged by sd_validate_table_chunk().
 */
static SD_HOT int sd_rd_table_bits(const struct sd_host_rd *rd, bool map, struct sd_host_at b,
				   u32 lo, u32 hi, u32 *first_clear, u64 *bytes)
{
	*first_clear = hi;
	for (u32 w = lo >> 6; w <= (hi - 1) >> 6; w++) {
		u32 wlo = w << 6;
		u64 m = sd_word_mask(lo > wlo ? lo - wlo : 0, hi - wlo >= 64 ? 64 : hi - wlo);
		u64 x;
		int rc;

		*bytes += 8;
		rc = sd_host_fetch(&rd->win, map, &x, sd_at_add(b, map, (u64)w * 8), 8, rd->loc);
		if (rc)
			return rc;
		if (*first_clear == hi && (~x & m))
			*first_clear = wlo + (u32)__builtin_ctzll(~x & m);
	}
	return 0;
}

/*
 * The descriptor fields an attempt copies after the count: nr_shared when
 * @count (a full read), and when @odd (a paused read of an open window)
 * the pending range W0 published before the odd count.
 */
static SD_HOT int sd_rd_desc_fields(const struct sd_host_rd *rd, bool map, struct sd_host_at d,
				    bool count, bool odd, u32 *ns, u32 *pf, u32 *pc, u64 *bytes)
{
	int rc = 0;

	if (count) {
		*bytes += 4;
		rc = sd_host_fetch(&rd->win, map, ns, sd_at_add(d, map, SD_DESC_OFF(nr_shared)), 4,
				   rd->loc);
	}
	if (odd && !rc) {
		*bytes += 8;
		rc = sd_host_fetch(&rd->win, map, pf, sd_at_add(d, map, SD_DESC_OFF(pending_first)),
				   4, rd->loc);
		if (!rc)
			rc = sd_host_fetch(&rd->win, map, pc,
					   sd_at_add(d, map, SD_DESC_OFF(pending_count)), 4,
					   rd->loc);
	}
	return rc;
}

/*
 * SPEC.md 3.1: copy chunk @idx, at most rd->attempts times, until a copy
 * is confirmed by an unchanged even count (or, paused, any unchanged
 * count), and hand it out in @c; the caller validates it. @what and @map
 * are constants where this is expanded. A uniform chunk's bitmap is not
 * copied unless SD_READ_STRICT (3.2): the only decision taken before the
 * copy is confirmed is whether to copy it at all (0 or words_per_chunk
 * words, never a guest-chosen length).
 *
 * The descriptor's fields are copied into scalars, not a struct, and the
 * work is counted in locals: neither has its address taken before the
 * copy is confirmed, so the barriers between the loads don't force them
 * through memory. Through map() this loop is the whole cost of a summary
 * read. A failed access ends the read at once with its error: a fault is
 * not a torn copy, and trying again would not be bounded by the guest.
 */
static SD_HOT int sd_rd_rule(struct sd_host_rd *rd, u64 idx, enum sd_rd_what what, bool map,
			     u32 lo, u32 hi, struct sd_rd_copy *c)
{
	struct sd_host_at d = sd_at_add(rd->descs, map, idx * SD_DESC_SIZE);
	struct sd_host_at b = sd_at_add(rd->bitmap, map, (idx << rd->shift) >> 3);
	u64 left = rd->nr_gfns - (idx << rd->shift);
	u32 pages = left < rd->ppc ? (u32)left : rd->ppc, wpc = rd->wpc;
	u32 attempts = rd->attempts, a;
	bool paused = rd->flags & SD_READ_PAUSED;
	bool strict = rd->flags & SD_READ_STRICT;
	bool got_even = false;
	u64 bytes = 0;
	int rc;

	for (a = 1; a <= attempts; a++) {
		u32 seq, ns = 0, pf = 0, pc = 0, fc = hi, pop = 0;
		bool summary = false, again;

		bytes += 4;
		rc = sd_rd_seq_begin(rd, map, d, &seq);
		if (rc)
			goto out;
		if ((seq & 1) && !paused) {
			/* A writer is inside a window; a live read never copies it. */
			sd_cpu_relax();
			continue;
		}
		got_even = true;
		rc = sd_rd_desc_fields(rd, map, d, what == SD_RD_CHUNK, seq & 1, &ns, &pf, &pc,
				       &bytes);
		if (rc)
			goto out;
		if (what == SD_RD_TABLE) {
			rc = sd_rd_table_bits(rd, map, b, lo, hi, &fc, &bytes);
		} else {
			summary = !strict && !(seq & 1) && (ns == 0 || ns == pages);
			if (!summary && map) {
				/* Counted as copied: the validation's popcount (4.2.2), of the copy. */
				bytes += (u64)wpc * 8;
				pop = sd_shared_load_words_pop(rd->scratch, (const u64 *)b.p, wpc);
			} else if (!summary) {
				bytes += (u64)wpc * 8;
				rc = sd_host_fetch(&rd->win, map, rd->scratch, b, wpc * 8,
						   rd->loc);
			}
		}
		if (rc)
			goto out;
		bytes += 4;
		rc = sd_rd_seq_retry(rd, map, d, seq, &again);
		if (rc)
			goto out;
		if (again) {
			sd_cpu_relax();
			continue;
		}
		/* The copy is one the writer published: only it is used from here. */
		c->seq = seq;
		c->nr_shared = ns;
		c->pending_first = pf;
		c->pending_count = pc;
		c->pages = pages;
		c->summary = summary;
		c->pop = pop;
		c->first_clear = fc;
		goto out;
	}
	a = attempts;
	rd->acc.unsettled++;
	/* got_even is false only when every attempt stopped at an odd count. */
	rc = sd_fail(rd->loc, got_even ? SD_ERR_CHUNK_RETRIES : SD_ERR_CHUNK_ODD, idx,
		     sd_geom_desc_off(rd->g, idx) + SD_DESC_OFF(seq));
	rd->acc.retries++;		/* the last attempt failed too */
out:
	rd->acc.chunks++;
	rd->acc.attempts += a;
	rd->acc.retries += a - 1;
	rd->acc.bytes += bytes;
	return rc;
}

/*
 * A full read of chunk @idx (sd_rd_rule, then proto/validate.c). A uniform
 * chunk read without its bitmap needs no check unless it holds table pages
 * (4.2.3, with every bit as the count says); any other copy gets them all.
 */
static SD_HOT int sd_rd_chunk_as(struct sd_host_rd *rd, u64 idx, bool map,
				 struct sd_host_chunk *out)
{
	bool paused = rd->flags & SD_READ_PAUSED;
	struct sd_rd_copy c = { 0 };
	u32 lo, hi;
	int rc;

	rc = sd_rd_rule(rd, idx, SD_RD_CHUNK, map, 0, 0, &c);
	if (rc)
		return rc;
	if (!c.summary) {
		struct sd_chunk_desc d = sd_rd_copy_desc(&c);

		out->summary = false;
		out->bits = rd->scratch;
		if (map)
			return sd_validate_chunk_counted(rd->g, idx, &d, rd->scratch, c.pop, rd->gpa,
							 paused, &out->v, rd->loc);
		return sd_validate_chunk(rd->g, idx, &d, rd->scratch, rd->gpa, paused, &out->v,
					 rd->loc);
	}
	rd->acc.summary_chunks++;
	out->summary = true;
	out->bits = NULL;
	out->v = (struct sd_chunk_view){
		.seq = c.seq, .nr_shared = c.nr_shared, .pages = c.pages,
	};
	if (idx >= rd->tchunk_lo && idx <= rd->tchunk_hi &&
	    sd_chunk_table_pages(rd->g, idx, rd->gpa, &lo, &hi)) {
		/* A summary copy is even: no pending range to hand on. */
		struct sd_chunk_desc d = { .seq = c.seq, .nr_shared = c.nr_shared };

		return sd_validate_table_chunk(rd->g, idx, &d, c.nr_shared ? hi : lo, rd->gpa,
					       paused, rd->loc);
	}
	return 0;
}

/* A full read of chunk @idx, through whichever accessor the call has. */
static SD_HOT int sd_host_rd_chunk(struct sd_host_rd *rd, u64 idx, struct sd_host_chunk *out)
{
	if (rd->win.base)
		return sd_rd_chunk_as(rd, idx, true, out);
	return sd_rd_chunk_as(rd, idx, false, out);
}

#endif /* SD_HOST_READER_H */
