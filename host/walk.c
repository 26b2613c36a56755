// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * walk.c - whole-table and incremental walks (SPEC.md 3.1-3.4, 7.1).
 *
 * Reachable by a hostile guest through the table's contents. A walk reads
 * each chunk at most rd->attempts times (an incremental walk first loads
 * each count once, 4 bytes per chunk) and keeps O(1) state of its own: the
 * caller's scratch and one open run. Runs go to the caller's callback as
 * soon as they end; nothing is collected.
 */
#include "reader.h"

/* The run being built: extended while pages keep coming contiguous and alike. */
struct sd_run {
	sd_extent_fn fn;
	void *ctx;
	sd_gfn_t start;
	u64 n;				/* 0: no run open */
	enum sd_page_state state;
};

static inline int sd_run_add(struct sd_run *r, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	if (r->n) {
		int rc;

		if (r->state == state && r->start + r->n == gfn) {
			r->n += n;
			return 0;
		}
		rc = r->fn ? r->fn(r->ctx, r->start, r->n, r->state) : 0;
		if (rc)
			return rc;
	}
	r->start = gfn;
	r->n = n;
	r->state = state;
	return 0;
}

static inline int sd_run_flush(struct sd_run *r)
{
	int rc = 0;

	if (r->n && r->fn)
		rc = r->fn(r->ctx, r->start, r->n, r->state);
	r->n = 0;
	return rc;
}

/* Length of the run of set bits of @x starting at its set bit @s. */
static inline u32 sd_run_len(u64 x, u32 s)
{
	u64 rest = ~x >> s;

	return rest ? (u32)__builtin_ctzll(rest) : 64 - s;
}

/* Report the runs of set bits of @x, word at @wgfn, as @state. */
static inline int sd_run_word(struct sd_run *r, sd_gfn_t wgfn, u64 x, enum sd_page_state state)
{
	while (x) {
		u32 s = (u32)__builtin_ctzll(x);
		u32 len = sd_run_len(x, s);
		int rc = sd_run_add(r, wgfn + s, len, state);

		if (rc)
			return rc;
		if (s + len >= 64)
			break;
		x &= ~0ULL << (s + len);
	}
	return 0;
}

/* Report the pages of @d (changed), word at @wgfn, with their new state from @nw. */
static inline int sd_run_diff_word(struct sd_run *r, sd_gfn_t wgfn, u64 d, u64 nw)
{
	while (d) {
		u32 s = (u32)__builtin_ctzll(d);
		bool shared = (nw >> s) & 1;
		u32 len = sd_run_len(d & (shared ? nw : ~nw), s);
		int rc = sd_run_add(r, wgfn + s, len, shared ? SD_PAGE_SHARED : SD_PAGE_PRIVATE);

		if (rc)
			return rc;
		if (s + len >= 64)
			break;
		d &= ~0ULL << (s + len);
	}
	return 0;
}

/* Mask of the bits of word @w that fall in [lo, hi), which must meet word @w. */
static inline u64 sd_range_mask(u32 w, u32 lo, u32 hi)
{
	u32 wlo = w << 6;

	return sd_word_mask(lo > wlo ? lo - wlo : 0, hi - wlo >= 64 ? 64 : hi - wlo);
}

/* The shared runs of chunk pages [lo, hi) of a validated copy. */
static int sd_run_bits(struct sd_run *r, sd_gfn_t cgfn, const u64 *bits, u32 lo, u32 hi)
{
	for (u32 w = lo >> 6; lo < hi && (w << 6) < hi; w++) {
		int rc = sd_run_word(r, cgfn + ((u64)w << 6), bits[w] & sd_range_mask(w, lo, hi),
				     SD_PAGE_SHARED);

		if (rc)
			return rc;
	}
	return 0;
}

/* Report one validated chunk the way a whole-table walk does. */
static int sd_walk_chunk(struct sd_run *r, sd_gfn_t cgfn, const struct sd_host_chunk *ch)
{
	u32 pf = ch->v.pending_first, pc = ch->v.pending_count;
	int rc;

	if (ch->summary)
		return ch->v.nr_shared ? sd_run_add(r, cgfn, ch->v.pages, SD_PAGE_SHARED) : 0;
	if (!pc)
		return sd_run_bits(r, cgfn, ch->bits, 0, ch->v.pages);
	/* Paused, odd: the pending range is in transition, the rest is stable. */
	rc = sd_run_bits(r, cgfn, ch->bits, 0, pf);
	if (!rc)
		rc = sd_run_add(r, cgfn + pf, pc, SD_PAGE_TRANSITION);
	if (!rc)
		rc = sd_run_bits(r, cgfn, ch->bits, pf + pc, ch->v.pages);
	return rc;
}

static inline bool sd_walk_unsettled_ok(int rc, u32 flags)
{
	return (flags & SD_READ_UNSETTLED_OK) &&
	       (rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES);
}

int sd_host_walk(const struct sd_host_reg *reg, const struct sd_host_mem *mem, u32 flags,
		 u32 max_attempts, u64 *scratch, sd_extent_fn fn, void *ctx,
		 struct sd_host_stats *st, struct sd_errloc *loc)
{
	struct sd_run run = { .fn = fn, .ctx = ctx };
	struct sd_host_chunk ch;
	struct sd_host_rd rd;
	const struct sd_geom *g;
	int rc;

	rc = sd_host_rd_setup(&rd, reg, mem, flags, max_attempts, scratch, true, st, loc);
	if (rc)
		return rc;
	g = rd.g;
	for (u64 idx = 0; idx < g->nr_chunks; idx++) {
		sd_gfn_t cgfn = sd_geom_chunk_gfn(g, idx);

		rc = sd_host_rd_chunk(&rd, idx, &ch);
		if (rc && sd_walk_unsettled_ok(rc, flags))
			rc = sd_run_add(&run, cgfn, sd_geom_chunk_pages(g, idx), SD_PAGE_UNSETTLED);
		else if (!rc)
			rc = sd_walk_chunk(&run, cgfn, &ch);
		if (rc)
			goto out;
	}
	rc = sd_run_flush(&run);
out:
	sd_host_rd_done(&rd);
	return rc;
}

/* ---- incremental walks (SPEC.md 3.3) ------------------------------------- */

/*
 * Chunk pages [lo, hi): take the new state (@src, or @uni for a summary
 * read) into @old, reporting either the shared runs of the new state
 * (@changes false: a first read) or the pages whose state differs from
 * @old, with their new state (@changes true). Bits of @old outside [lo, hi)
 * are kept.
 */
static int sd_incr_range(struct sd_run *r, sd_gfn_t cgfn, u64 *old, const u64 *src,
			 u64 uni, u32 lo, u32 hi, bool changes)
{
	for (u32 w = lo >> 6; lo < hi && (w << 6) < hi; w++) {
		u64 m = sd_range_mask(w, lo, hi);
		u64 ow = old[w];
		u64 nw = (src ? src[w] : uni) & m;
		sd_gfn_t wgfn = cgfn + ((u64)w << 6);
		int rc;

		old[w] = (ow & ~m) | nw;
		if (changes)
			rc = sd_run_diff_word(r, wgfn, (ow & m) ^ nw, nw);
		else
			rc = sd_run_word(r, wgfn, nw, SD_PAGE_SHARED);
		if (rc)
			return rc;
	}
	return 0;
}

/* Take one validated chunk into @old (the chunk's incr->bits) and report it. */
static int sd_incr_chunk(struct sd_run *r, sd_gfn_t cgfn, u64 *old,
			 const struct sd_host_chunk *ch, bool changes)
{
	u32 pf = ch->v.pending_first, pc = ch->v.pending_count, pages = ch->v.pages;
	u64 uni = ch->summary && ch->v.nr_shared ? ~0ULL : 0;
	int rc;

	if (!pc)
		return sd_incr_range(r, cgfn, old, ch->bits, uni, 0, pages, changes);
	/*
	 * Paused, odd: pages in transition are reported as such; their bits
	 * keep the last settled state (a first read has none: private).
	 */
	rc = sd_incr_range(r, cgfn, old, ch->bits, uni, 0, pf, changes);
	if (!rc)
		rc = sd_run_add(r, cgfn + pf, pc, SD_PAGE_TRANSITION);
	if (!rc && !changes)
		sd_bitmap_clear_range(old, pf, pc);
	if (!rc)
		rc = sd_incr_range(r, cgfn, old, ch->bits, uni, pf + pc, pages, changes);
	return rc;
}

static int sd_incr_check(const struct sd_host_reg *reg, const struct sd_host_incr *incr,
			 struct sd_errloc *loc)
{
	if (!reg || !incr || !incr->seqs || !incr->bits)
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	if (!reg->active)
		return sd_fail(loc, SD_ERR_NO_TABLE, SD_LOC_NONE, SD_LOC_NONE);
	if (incr->nr_chunks != reg->geom.nr_chunks)
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	return 0;
}

/* Seq entry of a chunk not read settled: odd, so never taken as unchanged. */
#define SD_INCR_SEQ_UNSETTLED	1u

int sd_host_incr_init(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		      struct sd_host_incr *incr, u32 flags, u32 max_attempts, u64 *scratch,
		      sd_extent_fn fn, void *ctx, struct sd_host_stats *st,
		      struct sd_errloc *loc)
{
	struct sd_run run = { .fn = fn, .ctx = ctx };
	struct sd_host_chunk ch;
	struct sd_host_rd rd;
	const struct sd_geom *g;
	int rc;

	rc = sd_incr_check(reg, incr, loc);
	if (rc)
		return rc;
	rc = sd_host_rd_setup(&rd, reg, mem, flags, max_attempts, scratch, true, st, loc);
	if (rc)
		return rc;
	g = rd.g;
	/* Never matches a generation: a failed init leaves @incr unusable. */
	incr->generation = ~reg->generation;
	for (u64 idx = 0; idx < g->nr_chunks; idx++) {
		sd_gfn_t cgfn = sd_geom_chunk_gfn(g, idx);
		u64 *old = incr->bits + idx * g->words_per_chunk;

		rc = sd_host_rd_chunk(&rd, idx, &ch);
		if (rc && sd_walk_unsettled_ok(rc, flags)) {
			/* Unknown yet: assume private, and re-read next time. */
			incr->seqs[idx] = SD_INCR_SEQ_UNSETTLED;
			sd_bitmap_clear_range(old, 0, g->pages_per_chunk);
			rc = sd_run_add(&run, cgfn, sd_geom_chunk_pages(g, idx), SD_PAGE_UNSETTLED);
		} else if (!rc) {
			incr->seqs[idx] = ch.v.seq;
			/* Pad bits of @old are never set: clear them once here. */
			if (ch.v.pages < g->pages_per_chunk)
				sd_bitmap_clear_range(old, ch.v.pages,
						      g->pages_per_chunk - ch.v.pages);
			rc = sd_incr_chunk(&run, cgfn, old, &ch, false);
		}
		if (rc)
			goto out;
	}
	rc = sd_run_flush(&run);
	if (!rc)
		incr->generation = reg->generation;
out:
	sd_host_rd_done(&rd);
	return rc;
}

int sd_host_walk_changes(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			 struct sd_host_incr *incr, u32 flags, u32 max_attempts,
			 u64 *scratch, sd_extent_fn fn, sd_chunk_fn chunk_fn, void *ctx,
			 struct sd_host_stats *st, struct sd_errloc *loc)
{
	struct sd_run run = { .fn = fn, .ctx = ctx };
	struct sd_host_chunk ch;
	struct sd_host_rd rd;
	const struct sd_geom *g;
	u64 loads = 0;
	int rc;

	rc = sd_incr_check(reg, incr, loc);
	if (rc)
		return rc;
	if (incr->generation != reg->generation)
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	rc = sd_host_rd_setup(&rd, reg, mem, flags, max_attempts, scratch, true, st, loc);
	if (rc)
		return rc;
	g = rd.g;
	for (u64 idx = 0; idx < g->nr_chunks; idx++) {
		const struct sd_chunk_desc *d = sd_host_rd_desc(&rd, idx);
		u32 was = incr->seqs[idx];
		/*
		 * Compared for equality only, never used: an equal even count
		 * means no window opened since the kept copy (SPEC.md 3.3).
		 */
		u32 now = SD_SEQ_LOAD(d);
		sd_gfn_t cgfn;
		u64 *old;

		loads++;
		if (now == was && !(was & 1))
			continue;
		if (chunk_fn) {
			rc = chunk_fn(ctx, idx, was, now);
			if (rc)
				goto out;
		}
		cgfn = sd_geom_chunk_gfn(g, idx);
		old = incr->bits + idx * g->words_per_chunk;
		rc = sd_host_rd_chunk(&rd, idx, &ch);
		if (rc && sd_walk_unsettled_ok(rc, flags)) {
			incr->seqs[idx] = SD_INCR_SEQ_UNSETTLED;
			rc = sd_run_add(&run, cgfn, sd_geom_chunk_pages(g, idx), SD_PAGE_UNSETTLED);
		} else if (!rc) {
			incr->seqs[idx] = ch.v.seq;
			rc = sd_incr_chunk(&run, cgfn, old, &ch, true);
		}
		if (rc)
			goto out;
	}
	rc = sd_run_flush(&run);
out:
	rd.acc.bytes += loads * 4;
	sd_host_rd_done(&rd);
	return rc;
}
