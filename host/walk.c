// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * walk.c - whole-table and incremental walks (SPEC.md 3.1-3.4, 7.1).
 *
 * Reachable by a hostile guest through the table's contents. A walk reads
 * each chunk at most rd->attempts times (an incremental walk first loads
 * each count once, 4 bytes per chunk; a live whole-table walk through
 * map() probes groups of chunks first, 12 bytes per chunk, SPEC.md 3.1)
 * and keeps O(1) state of its own: the caller's scratch and one open run.
 * Runs go to the caller's callback as soon as they end; nothing is
 * collected.
 *
 * An incremental walk with a callback takes a change into the host's bits
 * only once the callback has accepted the run holding it (sd_run_take), and
 * when it stops early marks the chunks from the first run not accepted on
 * as unread (sd_incr_untake): nothing is consumed before it is reported.
 */
#include "reader.h"

/*
 * The run being built: extended while pages keep coming contiguous and
 * alike. The per-chunk functions below copy it into a local on entry and
 * back on exit, so that their word loops keep it in registers.
 */
struct sd_run {
	sd_extent_fn fn;
	void *ctx;
	sd_gfn_t start;
	u64 n;				/* 0: no run open */
	enum sd_page_state state;
	/*
	 * Incremental walks with a callback: the host's bits (one per page of
	 * the span from @first_gfn), which take a run's new state once the
	 * callback accepts it. NULL otherwise.
	 */
	u64 *take;
	sd_gfn_t first_gfn;
};

/*
 * The callback accepted the run of @n pages from @start in @state: their
 * new state is now the host's (@take, one bit per page from @first_gfn).
 * Out of line and by value: a run whose address left the walk would live
 * in memory, reloaded after every barrier of the read rule.
 */
static SD_NOINLINE void sd_run_take(u64 *take, sd_gfn_t first_gfn, sd_gfn_t start, u64 n,
				     enum sd_page_state state)
{
	/* Pages in transition and unsettled chunks keep their last settled state. */
	if (state == SD_PAGE_SHARED)
		sd_bitmap_set_range(take, start - first_gfn, n);
	else if (state == SD_PAGE_PRIVATE)
		sd_bitmap_clear_range(take, start - first_gfn, n);
}

/* Report the open run. On a refusal it stays open: the caller knows what was not taken. */
static SD_HOT int sd_run_report(struct sd_run *r)
{
	int rc;

	if (!r->fn)
		return 0;
	rc = r->fn(r->ctx, r->start, r->n, r->state);
	if (!rc && r->take)
		sd_run_take(r->take, r->first_gfn, r->start, r->n, r->state);
	return rc;
}

static SD_HOT int sd_run_add(struct sd_run *r, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	if (r->n) {
		int rc;

		if (r->state == state && r->start + r->n == gfn) {
			r->n += n;
			return 0;
		}
		rc = sd_run_report(r);
		if (rc)
			return rc;
	}
	r->start = gfn;
	r->n = n;
	r->state = state;
	return 0;
}

static int sd_run_flush(struct sd_run *r)
{
	int rc = 0;

	if (r->n)
		rc = sd_run_report(r);
	if (!rc)
		r->n = 0;
	return rc;
}

/* Length of the run of set bits of @x starting at its set bit @s. */
static SD_HOT u32 sd_run_len(u64 x, u32 s)
{
	u64 rest = ~x >> s;

	return rest ? (u32)__builtin_ctzll(rest) : 64 - s;
}

/* Report the runs of set bits of @x, word at @wgfn, as @state. */
static SD_HOT int sd_run_word(struct sd_run *r, sd_gfn_t wgfn, u64 x, enum sd_page_state state)
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
static SD_HOT int sd_run_diff_word(struct sd_run *r, sd_gfn_t wgfn, u64 d, u64 nw)
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
static SD_HOT u64 sd_range_mask(u32 w, u32 lo, u32 hi)
{
	u32 wlo = w << 6;

	return sd_word_mask(lo > wlo ? lo - wlo : 0, hi - wlo >= 64 ? 64 : hi - wlo);
}

/*
 * The shared runs of chunk pages [lo, hi) of a validated copy, of which
 * @left are shared (the validated count, or ~0u when not known): the scan
 * ends at the last of them, not at @hi.
 */
static SD_HOT int sd_run_bits(struct sd_run *r, sd_gfn_t cgfn, const u64 *bits, u32 lo, u32 hi,
			      u32 left)
{
	u32 wlo = lo >> 6, whi = (hi + 63) >> 6;

	for (u32 w = wlo; lo < hi && w < whi && left; w++) {
		u64 x = bits[w];
		int rc;

		if (w == wlo || w == whi - 1)
			x &= sd_range_mask(w, lo, hi);
		if (!x)
			continue;
		left -= (u32)sd_popcount64(x);
		rc = sd_run_word(r, cgfn + ((u64)w << 6), x, SD_PAGE_SHARED);
		if (rc)
			return rc;
	}
	return 0;
}

/* Report one validated chunk the way a whole-table walk does. */
static int sd_walk_chunk(struct sd_run *rp, sd_gfn_t cgfn, const struct sd_host_chunk *ch)
{
	u32 pf = ch->v.pending_first, pc = ch->v.pending_count;
	struct sd_run r;
	int rc;

	if (!rp->fn)
		return 0;		/* nothing to report: the read was the point */
	r = *rp;
	if (!pc) {
		/* Validated: the chunk's set bits are exactly nr_shared (4.2.1, 4.2.2). */
		rc = sd_run_bits(&r, cgfn, ch->bits, 0, ch->v.pages, ch->v.nr_shared);
	} else {
		/* Paused, odd: the pending range is in transition, the rest is stable. */
		rc = sd_run_bits(&r, cgfn, ch->bits, 0, pf, ~0u);
		if (!rc)
			rc = sd_run_add(&r, cgfn + pf, pc, SD_PAGE_TRANSITION);
		if (!rc)
			rc = sd_run_bits(&r, cgfn, ch->bits, pf + pc, ch->v.pages, ~0u);
	}
	*rp = r;
	return rc;
}

/* ---- batched runs (sd_host_walk_opts.batch_fn) ----------------------------- */

/*
 * A batched walk finds a bitmap chunk's shared runs without a branch per
 * run: in each word x, the pages where the state flips are the set bits
 * of x ^ (x << 1 | carry), carry being the previous word's last page; the
 * flips alternate, run start and run end. Their positions go straight into
 * the caller's array, viewed as a row of __u64 slots: flip k lands in slot
 * k, so each pair of slots is one struct sd_host_extent holding (first
 * page, page after the last) until it is handed out, when the second slot
 * becomes the length. An odd number of flips means a shared run is open.
 *
 * Runs in transition or unsettled are rare (paused odd chunks, chunks that
 * do not settle): they are built by an sd_run of their own, whose runs go
 * out alone (sd_batch_one), so that every call's runs share one verdict.
 */
_Static_assert(sizeof(struct sd_host_extent) == 16 &&
	       __builtin_offsetof(struct sd_host_extent, npages) == 8,
	       "a batch is a row of (gfn, npages) __u64 pairs");

/* Slots a word may write at most: 64 flips, written four at a time. */
#define SD_BATCH_WORD_SLOTS	64

struct sd_batch {
	sd_batch_fn fn;
	void *ctx;
	u64 *slot;		/* the caller's batch, as 2 * batch_len slots */
	u32 cap;		/* slots: even, >= 2 * SD_HOST_BATCH_MIN */
	u32 k;			/* flips written; odd: a shared run is open */
	struct sd_run other;	/* the run in transition or unsettled being built */
};

/* An sd_run's callback for a batched walk (@ctx: its sd_rd_args): one run, alone. */
static SD_NOINLINE int sd_batch_one(void *ctx, sd_gfn_t gfn, u64 npages,
				    enum sd_page_state state)
{
	const struct sd_rd_args *a = ctx;

	a->batch[0] = (struct sd_host_extent){ .gfn = gfn, .npages = npages };
	return a->batch_fn(a->ctx, a->batch, 1, state);
}

/* Hand out the @m shared runs of slots [0, 2m): their ends become lengths. */
static SD_NOINLINE int sd_batch_deliver(sd_batch_fn fn, void *ctx, u64 *slot, u32 m)
{
	for (u32 i = 0; i < m; i++)
		slot[2 * i + 1] -= slot[2 * i];
	return fn(ctx, (const struct sd_host_extent *)slot, m, SD_PAGE_SHARED);
}

/* Hand out the closed shared runs; an open one moves to the front. */
static SD_HOT int sd_batch_flush(struct sd_batch *b)
{
	u32 m = b->k >> 1;
	int rc;

	if (!m)
		return 0;
	rc = sd_batch_deliver(b->fn, b->ctx, b->slot, m);
	if (rc)
		return rc;
	if (b->k & 1)
		b->slot[0] = b->slot[b->k - 1];
	b->k &= 1;
	return 0;
}

/* Page @gfn is not shared: an open shared run ends there (k odd < cap: room). */
static SD_HOT void sd_batch_close(struct sd_batch *b, sd_gfn_t gfn)
{
	if (b->k & 1)
		b->slot[b->k++] = gfn;
}

/*
 * A run of @n pages at @gfn in @state, TRANSITION or UNSETTLED: the shared
 * runs before it go out first (the batch is then empty while it is built).
 */
static int sd_batch_other(struct sd_batch *b, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	int rc;

	sd_batch_close(b, gfn);
	rc = sd_batch_flush(b);
	return rc ? rc : sd_run_add(&b->other, gfn, n, state);
}

/* Shared pages may come next: the run in transition or unsettled cannot grow. */
static SD_HOT int sd_batch_before_shared(struct sd_batch *b)
{
	return b->other.n ? sd_run_flush(&b->other) : 0;
}

/* A uniform shared chunk at @cgfn: a shared run starts there unless one is open. */
static SD_HOT int sd_batch_all_shared(struct sd_batch *b, sd_gfn_t cgfn)
{
	int rc = sd_batch_before_shared(b);

	if (rc || (b->k & 1))
		return rc;
	if (b->k == b->cap) {
		rc = sd_batch_flush(b);
		if (rc)
			return rc;
	}
	b->slot[b->k++] = cgfn;
	return 0;
}

/*
 * The index of @e's lowest set bit, for a word's flips: once they are
 * spent (@e 0) the result is garbage, and lands in a slot past them. On
 * x86, tzcnt (a bsf on CPUs before BMI1, whose result for 0 is then
 * undefined: it is never used); elsewhere, bit 63 or'ed in keeps the
 * builtin defined.
 */
static SD_HOT u64 sd_flip_pos(u64 e)
{
#if defined(__x86_64__)
	u64 r;

	__asm__("tzcnt {%1, %0|%0, %1}" : "=r"(r) : "r"(e) : "cc");
	return r;
#else
	return (u64)__builtin_ctzll(e | (1ULL << 63));
#endif
}

/*
 * Word @x's flips, the word's first page at @base, into the slots from
 * @k: the new count of flips. Four slots at a time, up to its flips (at
 * most 64 slots); most words have at most two.
 */
static SD_HOT u32 sd_batch_word(u64 *slot, u32 k, u64 base, u64 x, u64 *carry)
{
	u64 e = x ^ (x << 1 | *carry), *o = slot + k;

	*carry = x >> 63;
	k += (u32)sd_popcount64(e);
	do {
		o[0] = base + sd_flip_pos(e);
		e &= e - 1;
		o[1] = base + sd_flip_pos(e);
		e &= e - 1;
		o[2] = base + sd_flip_pos(e);
		e &= e - 1;
		o[3] = base + sd_flip_pos(e);
		e &= e - 1;
		o += 4;
	} while (e);
	return k;
}

/* Room for @words more words' slots (k + 64 * words <= cap), handing out the batch if not. */
static SD_HOT int sd_batch_room(struct sd_batch *b, u32 *k, u32 words)
{
	int rc;

	if (*k + SD_BATCH_WORD_SLOTS * words <= b->cap)
		return 0;
	b->k = *k;
	rc = sd_batch_flush(b);
	*k = b->k;
	return rc;
}

/*
 * The shared runs of chunk pages [lo, hi) of a validated copy, of which
 * @left are shared (~0u when not known), as flips into the batch. A run
 * still open at @hi stays open, for whatever comes next to end or extend.
 *
 * A chunk with few shared pages (fewer than a word in four could hold) is
 * scanned word by word, passing over words without a flip (a branch that
 * is then mostly taken) and stopping after its last shared page. Any
 * other goes through straight-line code that no branch inside depends on
 * where the runs are: its edge words masked, its middle words in groups
 * that fit the batch whatever they hold, so that the room is checked once
 * a group.
 */
static SD_HOT int sd_batch_bits(struct sd_batch *bp, sd_gfn_t cgfn, const u64 *bits, u32 lo,
				u32 hi, u32 left)
{
	u32 wlo = lo >> 6, wend = (hi - 1) >> 6, w, k, gmax;
	u64 carry, *slot, mlo, mhi;
	struct sd_batch b;
	int rc;

	if (lo >= hi)
		return 0;
	rc = sd_batch_before_shared(bp);
	if (rc)
		return rc;
	b = *bp;
	slot = b.slot;
	k = b.k;
	carry = k & 1;
	mlo = sd_range_mask(wlo, lo, hi);
	mhi = sd_range_mask(wend, lo, hi);
	if ((u64)left * 4 < wend - wlo + 1) {
		for (w = wlo; w <= wend && left; w++) {
			u64 x = bits[w];

			if (w == wlo)
				x &= mlo;
			if (w == wend)
				x &= mhi;
			if (!(x | carry))
				continue;
			left -= (u32)sd_popcount64(x);
			rc = sd_batch_room(&b, &k, 1);
			if (rc)
				goto out;
			k = sd_batch_word(slot, k, cgfn + ((u64)w << 6), x, &carry);
		}
		/* Stopped after the last shared page, at a word's start: the open run ends there. */
		if (carry && w <= wend)
			slot[k++] = cgfn + ((u64)w << 6);
		goto done;
	}
	rc = sd_batch_room(&b, &k, 1);
	if (rc)
		goto out;
	k = sd_batch_word(slot, k, cgfn + ((u64)wlo << 6), bits[wlo] & mlo & (wlo == wend ? mhi : ~0ULL),
			  &carry);
	if (wlo == wend)
		goto done;
	/* A flush leaves at most one slot used: @gmax words then fit (cap >= 128). */
	gmax = b.cap / SD_BATCH_WORD_SLOTS - 1;
	for (w = wlo + 1; w < wend;) {
		u32 g = SD_MIN(wend - w, gmax), gend = w + g;
		u64 base = cgfn + ((u64)w << 6);

		rc = sd_batch_room(&b, &k, g);
		if (rc)
			goto out;
		for (; w < gend; w++, base += 64)
			k = sd_batch_word(slot, k, base, bits[w], &carry);
	}
	rc = sd_batch_room(&b, &k, 1);
	if (rc)
		goto out;
	k = sd_batch_word(slot, k, cgfn + ((u64)wend << 6), bits[wend] & mhi, &carry);
done:
	b.k = k;
out:
	*bp = b;
	return rc;
}

/* Report one validated bitmap chunk into the batch, as sd_walk_chunk() does. */
static int sd_batch_chunk(struct sd_batch *b, sd_gfn_t cgfn, const struct sd_host_chunk *ch)
{
	u32 pf = ch->v.pending_first, pc = ch->v.pending_count;
	int rc;

	if (!pc)
		return sd_batch_bits(b, cgfn, ch->bits, 0, ch->v.pages, ch->v.nr_shared);
	rc = sd_batch_bits(b, cgfn, ch->bits, 0, pf, ~0u);
	if (!rc)
		rc = sd_batch_other(b, cgfn + pf, pc, SD_PAGE_TRANSITION);
	if (!rc)
		rc = sd_batch_bits(b, cgfn, ch->bits, pf + pc, ch->v.pages, ~0u);
	return rc;
}

/* The walk's end at @end: close the open shared run, hand out what is left. */
static int sd_batch_finish(struct sd_batch *b, sd_gfn_t end)
{
	int rc;

	sd_batch_close(b, end);
	rc = sd_batch_flush(b);
	return rc ? rc : sd_run_flush(&b->other);
}

static inline bool sd_walk_unsettled_ok(int rc, u32 flags)
{
	return (flags & SD_READ_UNSETTLED_OK) &&
	       (rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES);
}

/*
 * Chunks per probe: a whole-table walk through map() first reads the counts
 * and nr_shared of this many chunks at once (sd_walk_probe_private).
 */
#define SD_PROBE_CHUNKS		8

/* GCC 8 and later (and clang) take the loop unrolling hint; older ones only warn. */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define SD_UNROLL_PROBE		_Pragma("GCC unroll 8")
#else
#define SD_UNROLL_PROBE
#endif

/*
 * Whether chunks [@idx, @idx + SD_PROBE_CHUNKS) are all uniform private:
 * the read rule (SPEC.md 3.1) for each of them, run side by side. Each
 * chunk's count is loaded, then (R1) its nr_shared, then (R2) its count
 * again, exactly as sd_rd_rule() orders one chunk's loads; a chunk whose
 * two counts match, are even, and whose nr_shared is 0 has a confirmed
 * summary copy (3.2). Only the verdict "all of them" is used: if any chunk
 * is otherwise, the caller reads each chunk of the group by the read rule
 * as if there had been no probe, and the probe's loads are only counted.
 * The chunks' addresses come from the private geometry; nothing loaded
 * here steers a load. Through map() only, with the loads sd_host_fetch()
 * makes for map() (as sd_incr_next_changed() loads counts directly).
 */
static SD_HOT bool sd_walk_probe_private(const struct sd_host_rd *rd, u64 idx)
{
	const struct sd_chunk_desc *d = (const struct sd_chunk_desc *)rd->descs.p + idx;
	u32 s[SD_PROBE_CHUNKS], any = 0, bad = 0;

	/* Unrolled, so that the counts stay in registers across the barriers. */
	SD_UNROLL_PROBE
	for (u32 i = 0; i < SD_PROBE_CHUNKS; i++) {
		s[i] = SD_SEQ_LOAD(&d[i]);
		any |= s[i];
	}
	sd_smp_rmb();	/* R1: counts before data; pairs with W2 */
	SD_UNROLL_PROBE
	for (u32 i = 0; i < SD_PROBE_CHUNKS; i++)
		bad |= SD_READ_ONCE(d[i].nr_shared);
	sd_smp_rmb();	/* R2: data before second counts; pairs with W1 */
	SD_UNROLL_PROBE
	for (u32 i = 0; i < SD_PROBE_CHUNKS; i++)
		bad |= SD_SEQ_LOAD(&d[i]) ^ s[i];
	bad |= any & 1;		/* an odd count: a writer inside a window */
	return !bad;
}

/*
 * From @idx (a multiple of SD_PROBE_CHUNKS), the first chunk of the first
 * group that is not all uniform private or does not fit below @end. A
 * loop of its own: a quiet 1 TiB walk is mostly this loop.
 */
static SD_HOT u64 sd_walk_skip_private(const struct sd_host_rd *rd, u64 idx, u64 end)
{
	while (idx + SD_PROBE_CHUNKS <= end && sd_walk_probe_private(rd, idx))
		idx += SD_PROBE_CHUNKS;
	return idx;
}

/*
 * A whole-table walk through map() or copy() (@map: a constant wherever
 * this is expanded). Each accessor gets a function of its own (below), so
 * that each has one expansion of the read rule and its own @rd, whose
 * fields then stay in registers: with both expansions in one function, a
 * 1 TiB summary walk was measurably slower.
 */
static SD_HOT int sd_walk_as(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			     u64 *scratch, struct sd_rd_args *a, bool map, bool batch)
{
	struct sd_host_chunk ch;
	struct sd_host_rd rd;
	const struct sd_geom *g;
	struct sd_run run;
	struct sd_batch b;
	u64 nr, next_probe = 0;
	bool probe;
	int rc;

	rc = sd_host_rd_setup(&rd, reg, mem, a, scratch, true, false);
	if (rc)
		return rc;
	run = (struct sd_run){ .fn = a->fn, .ctx = a->ctx };
	b = (struct sd_batch){
		.fn = a->batch_fn, .ctx = a->ctx, .slot = (u64 *)a->batch,
		.cap = 2 * SD_MIN(a->batch_len, 1u << 30),
		.other = { .fn = sd_batch_one, .ctx = a },
	};
	g = rd.g;
	nr = g->nr_chunks;
	/* Probes: live, summary-allowed reads through map(), away from the table's chunks. */
	probe = map && !(rd.flags & (SD_READ_PAUSED | SD_READ_STRICT));
	for (u64 idx = 0; idx < nr; idx++) {
		sd_gfn_t cgfn = rd.first_gfn + (idx << rd.shift);

		if (probe && idx >= next_probe && !(idx & (SD_PROBE_CHUNKS - 1))) {
			/* Groups end before the table's first chunk, or at the span's end. */
			u64 end = idx < rd.tchunk_lo ? rd.tchunk_lo : idx > rd.tchunk_hi ? nr : idx;
			u64 to = sd_walk_skip_private(&rd, idx, end);

			/* What summary reads of the private chunks [idx, to) count, and the probes. */
			rd.acc.chunks += to - idx;
			rd.acc.summary_chunks += to - idx;
			rd.acc.attempts += to - idx;
			rd.acc.bytes += (to - idx) * 12;
			if (to + SD_PROBE_CHUNKS <= end)
				rd.acc.bytes += SD_PROBE_CHUNKS * 12;	/* the group that failed */
			/* Group @to is read chunk by chunk, by the read rule alone. */
			next_probe = to + SD_PROBE_CHUNKS;
			if (batch && to > idx)
				sd_batch_close(&b, cgfn);	/* private pages from @cgfn */
			if (to == nr)
				break;
			idx = to;
			cgfn = rd.first_gfn + (idx << rd.shift);
		}
		rc = sd_rd_chunk_as(&rd, idx, map, &ch);
		if (rc) {
			if (!sd_walk_unsettled_ok(rc, a->flags)) {
				/* The runs that ended before this chunk go out; the chunk's error returns. */
				if (batch)
					(void)sd_batch_flush(&b);
				goto out;
			}
			if (batch)
				rc = sd_batch_other(&b, cgfn, sd_geom_chunk_pages(g, idx),
						    SD_PAGE_UNSETTLED);
			else
				rc = sd_run_add(&run, cgfn, sd_geom_chunk_pages(g, idx),
						SD_PAGE_UNSETTLED);
		} else if (ch.summary) {
			/* The common case: a uniform chunk, its bitmap not read. */
			if (batch && ch.v.nr_shared)
				rc = sd_batch_all_shared(&b, cgfn);
			else if (batch)
				sd_batch_close(&b, cgfn);
			else if (ch.v.nr_shared)
				rc = sd_run_add(&run, cgfn, ch.v.pages, SD_PAGE_SHARED);
		} else if (batch) {
			rc = sd_batch_chunk(&b, cgfn, &ch);
		} else {
			rc = sd_walk_chunk(&run, cgfn, &ch);
		}
		if (rc)
			goto out;
	}
	if (batch)
		rc = sd_batch_finish(&b, rd.first_gfn + rd.nr_gfns);
	else
		rc = sd_run_flush(&run);
out:
	sd_host_rd_done(&rd);
	return rc;
}

static SD_LOOP_FN int sd_walk_map(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
				    u64 *scratch, struct sd_rd_args *a)
{
	return sd_walk_as(reg, mem, scratch, a, true, false);
}

static SD_NOINLINE int sd_walk_copy(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
				     u64 *scratch, struct sd_rd_args *a)
{
	return sd_walk_as(reg, mem, scratch, a, false, false);
}

/* The same into a batch (sd_host_walk_opts.batch_fn): an expansion of its own per accessor. */
static SD_LOOP_FN int sd_walk_batch_map(const struct sd_host_reg *reg,
					 const struct sd_host_mem *mem, u64 *scratch,
					 struct sd_rd_args *a)
{
	return sd_walk_as(reg, mem, scratch, a, true, true);
}

static SD_NOINLINE int sd_walk_batch_copy(const struct sd_host_reg *reg,
					  const struct sd_host_mem *mem, u64 *scratch,
					  struct sd_rd_args *a)
{
	return sd_walk_as(reg, mem, scratch, a, false, true);
}

int sd_host_walk(const struct sd_host_reg *reg, const struct sd_host_mem *mem, u64 *scratch,
		 const struct sd_host_walk_opts *opts)
{
	struct sd_rd_args a;
	bool map;
	int rc;

	rc = sd_walk_args(opts, false, true, &a);
	if (rc)
		return rc;
	map = mem && mem->map;
	if (a.batch_fn)
		return map ? sd_walk_batch_map(reg, mem, scratch, &a)
			   : sd_walk_batch_copy(reg, mem, scratch, &a);
	return map ? sd_walk_map(reg, mem, scratch, &a) : sd_walk_copy(reg, mem, scratch, &a);
}

/* ---- incremental walks (SPEC.md 3.3) ------------------------------------- */

/*
 * One word of the host's copy: bits @m of @nw replace those of *@old, the
 * others are kept; unless the run builder takes changes only once they are
 * accepted (r->take), which then stores them. *@old is the host's own
 * memory: it is stored with SD_WRITE_ONCE only so that the compiler keeps
 * one store per word rather than turning the loops below into
 * memcpy/memset calls, which a freestanding build does not have.
 */
static SD_HOT int sd_incr_word(struct sd_run *r, sd_gfn_t wgfn, u64 *old, u64 nw, u64 m,
				bool changes)
{
	u64 ow = *old;

	nw &= m;
	if (!r->take)
		SD_WRITE_ONCE(*old, (ow & ~m) | nw);
	if (!r->fn)
		return 0;
	if (changes)
		return (ow & m) != nw ? sd_run_diff_word(r, wgfn, (ow & m) ^ nw, nw) : 0;
	return nw ? sd_run_word(r, wgfn, nw, SD_PAGE_SHARED) : 0;
}

/*
 * Chunk pages [lo, hi): take the new state (@src, or @uni for a summary
 * read) into @old, reporting either the shared runs of the new state
 * (@changes false: a first read) or the pages whose state differs from
 * @old, with their new state (@changes true); nothing without a callback.
 * Bits of @old outside [lo, hi) are kept.
 */
static SD_HOT int sd_incr_range(struct sd_run *r, sd_gfn_t cgfn, u64 *old, const u64 *src,
				u64 uni, u32 lo, u32 hi, bool changes)
{
	u32 first = lo >> 6, last = (hi - 1) >> 6;
	int rc;

	if (lo >= hi)
		return 0;
	/* Read in place (a first read, sd_host_incr_init) with nothing to report: done. */
	if (src == old && !r->fn)
		return 0;
	rc = sd_incr_word(r, cgfn + ((u64)first << 6), &old[first], src ? src[first] : uni,
			  sd_range_mask(first, lo, hi), changes);
	if (rc || last == first)
		return rc;
	/* Whole words between the edges: with nothing to report, only stores. */
	if (!r->fn && src) {
		for (u32 w = first + 1; w < last; w++)
			SD_WRITE_ONCE(old[w], src[w]);
	} else if (!r->fn) {
		for (u32 w = first + 1; w < last; w++)
			SD_WRITE_ONCE(old[w], uni);
	} else {
		for (u32 w = first + 1; w < last && !rc; w++)
			rc = sd_incr_word(r, cgfn + ((u64)w << 6), &old[w], src ? src[w] : uni,
					  ~0ULL, changes);
		if (rc)
			return rc;
	}
	return sd_incr_word(r, cgfn + ((u64)last << 6), &old[last], src ? src[last] : uni,
			    sd_range_mask(last, lo, hi), changes);
}

/* Take one validated chunk into @old (the chunk's incr->bits) and report it. */
static int sd_incr_chunk(struct sd_run *rp, sd_gfn_t cgfn, u64 *old,
			 const struct sd_host_chunk *ch, bool changes)
{
	u32 pf = ch->v.pending_first, pc = ch->v.pending_count, pages = ch->v.pages;
	u64 uni = ch->summary && ch->v.nr_shared ? ~0ULL : 0;
	struct sd_run r = *rp;
	int rc;

	if (!pc) {
		rc = sd_incr_range(&r, cgfn, old, ch->bits, uni, 0, pages, changes);
	} else {
		/*
		 * Paused, odd: pages in transition are reported as such; their
		 * bits keep the last settled state (a first read has none: private).
		 */
		rc = sd_incr_range(&r, cgfn, old, ch->bits, uni, 0, pf, changes);
		if (!rc)
			rc = sd_run_add(&r, cgfn + pf, pc, SD_PAGE_TRANSITION);
		if (!rc && !changes)
			sd_bitmap_clear_range(old, pf, pc);
		if (!rc)
			rc = sd_incr_range(&r, cgfn, old, ch->bits, uni, pf + pc, pages, changes);
	}
	*rp = r;
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

/*
 * The first chunk from @idx whose count differs from the one kept (or
 * whose kept entry is odd), or @nr; its count just loaded in *now. One
 * 4-byte load per chunk, compared for equality only, never used: an equal
 * even count means no window opened since the kept copy (SPEC.md 3.3).
 * A loop of its own, so that a quiet pass is this loop and nothing else.
 */
static SD_LOOP_FN u64 sd_incr_next_changed(const struct sd_chunk_desc *descs, const u32 *seqs,
					    u64 idx, u64 nr, u32 *now)
{
	for (; idx < nr; idx++) {
		u32 was = seqs[idx], s = SD_SEQ_LOAD(&descs[idx]);

		if (s != was || (was & 1)) {
			*now = s;
			return idx;
		}
	}
	return nr;
}

/* The same through copy(): one 4-byte copy per chunk; a failed one ends the scan there. */
static u64 sd_incr_next_changed_copy(const struct sd_host_rd *rd, const u32 *seqs, u64 idx,
				     u64 nr, u32 *now, int *rc)
{
	for (; idx < nr; idx++) {
		u32 was = seqs[idx], s;

		*rc = sd_host_fetch(&rd->win, false, &s,
				    sd_at_add(rd->descs, false,
					      idx * SD_DESC_SIZE + SD_DESC_OFF(seq)), 4, rd->loc);
		if (*rc)
			return idx;
		if (s != was || (was & 1)) {
			*now = s;
			return idx;
		}
	}
	return nr;
}

/*
 * A walk with a callback stopped with run @r open (refused by the callback,
 * or not reported yet) while at chunk @last. Every change before the run
 * was accepted and taken; from the run's chunk to @last, the chunks' seqs
 * may stand for changes that were not: make them odd, so that the next
 * walk re-reads them and reports whatever still differs from the bits.
 */
static void sd_incr_untake(u32 *seqs, const struct sd_geom *g, const struct sd_run *r, u64 last)
{
	u64 first = r->n ? (r->start - g->first_gfn) >> g->chunk_shift : last;

	for (u64 i = first; i <= last; i++)
		seqs[i] = SD_INCR_SEQ_UNSETTLED;
}

/* A first read into @incr through map() or copy() (@map), as sd_walk_as() is. */
static SD_HOT int sd_incr_init_as(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
				  struct sd_host_incr *incr, const struct sd_rd_args *a, bool map)
{
	struct sd_host_chunk ch;
	struct sd_host_rd rd;
	const struct sd_geom *g;
	struct sd_run run;
	int rc;

	rc = sd_host_rd_setup(&rd, reg, mem, a, NULL, false, false);
	if (rc)
		return rc;
	run = (struct sd_run){ .fn = a->fn, .ctx = a->ctx };
	g = rd.g;
	/* Never matches a generation: a failed init leaves @incr unusable. */
	incr->generation = ~reg->generation;
	for (u64 idx = 0; idx < g->nr_chunks; idx++) {
		sd_gfn_t cgfn = sd_geom_chunk_gfn(g, idx);
		u64 *old = incr->bits + idx * g->words_per_chunk;

		/*
		 * A first read has no old state to compare: the chunk's slot of
		 * the host's own copy is the read's scratch. Only a copy the read
		 * rule and validation accepted is kept; a torn one is cleared
		 * below, and a chunk that fails validation fails the walk, which
		 * leaves @incr unusable (its generation).
		 */
		rd.scratch = old;
		rc = sd_rd_chunk_as(&rd, idx, map, &ch);
		if (rc && sd_walk_unsettled_ok(rc, a->flags)) {
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

static SD_LOOP_FN int sd_incr_init_map(const struct sd_host_reg *reg,
					const struct sd_host_mem *mem, struct sd_host_incr *incr,
					const struct sd_rd_args *a)
{
	return sd_incr_init_as(reg, mem, incr, a, true);
}

static SD_NOINLINE int sd_incr_init_copy(const struct sd_host_reg *reg,
					 const struct sd_host_mem *mem, struct sd_host_incr *incr,
					 const struct sd_rd_args *a)
{
	return sd_incr_init_as(reg, mem, incr, a, false);
}

int sd_host_incr_init(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		      struct sd_host_incr *incr, const struct sd_host_walk_opts *opts)
{
	struct sd_rd_args a;
	int rc;

	rc = sd_walk_args(opts, false, false, &a);
	if (rc)
		return rc;
	rc = sd_incr_check(reg, incr, a.loc);
	if (rc)
		return rc;
	if (mem && mem->map)
		return sd_incr_init_map(reg, mem, incr, &a);
	return sd_incr_init_copy(reg, mem, incr, &a);
}

/* Re-read changed chunk @idx (count @now just loaded) and report what differs. */
static int sd_incr_reread(struct sd_host_rd *rd, struct sd_run *run, struct sd_host_incr *incr,
			  u64 idx, u32 now, const struct sd_rd_args *a)
{
	const struct sd_geom *g = rd->g;
	sd_gfn_t cgfn = sd_geom_chunk_gfn(g, idx);
	struct sd_host_chunk ch;
	int rc;

	if (a->chunk_fn) {
		rc = a->chunk_fn(a->ctx, idx, incr->seqs[idx], now);
		if (rc)
			return rc;
	}
	rc = sd_host_rd_chunk(rd, idx, &ch);
	if (rc && sd_walk_unsettled_ok(rc, a->flags)) {
		incr->seqs[idx] = SD_INCR_SEQ_UNSETTLED;
		return sd_run_add(run, cgfn, sd_geom_chunk_pages(g, idx), SD_PAGE_UNSETTLED);
	}
	if (rc)
		return rc;
	/* Taken back by sd_incr_untake() if a change of this chunk is then refused. */
	incr->seqs[idx] = ch.v.seq;
	return sd_incr_chunk(run, cgfn, incr->bits + idx * g->words_per_chunk, &ch, true);
}

int sd_host_walk_changes(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			 struct sd_host_incr *incr, u64 *scratch,
			 const struct sd_host_walk_opts *opts)
{
	const struct sd_chunk_desc *descs;
	struct sd_rd_args a;
	struct sd_host_rd rd;
	const struct sd_geom *g;
	struct sd_run run;
	u64 loads = 0, nr, idx = 0;
	u32 *seqs;
	int rc;

	rc = sd_walk_args(opts, true, false, &a);
	if (rc)
		return rc;
	rc = sd_incr_check(reg, incr, a.loc);
	if (rc)
		return rc;
	if (incr->generation != reg->generation)
		return sd_fail(a.loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	rc = sd_host_rd_setup(&rd, reg, mem, &a, scratch, true, false);
	if (rc)
		return rc;
	g = rd.g;
	/* With a callback, a change is taken only once accepted (sd_run_take). */
	run = (struct sd_run){ .fn = a.fn, .ctx = a.ctx, .take = a.fn ? incr->bits : NULL,
			       .first_gfn = g->first_gfn };
	/* Locals, not loads through pointers: a quiet pass is nothing but this loop. */
	nr = g->nr_chunks;
	descs = (const struct sd_chunk_desc *)rd.descs.p;	/* map() only; NULL otherwise */
	seqs = incr->seqs;
	for (u64 from = 0; from < nr; from = idx + 1) {
		u32 now = 0;

		if (rd.win.base)
			idx = sd_incr_next_changed(descs, seqs, from, nr, &now);
		else
			idx = sd_incr_next_changed_copy(&rd, seqs, from, nr, &now, &rc);
		loads += (idx < nr ? idx + 1 : nr) - from;
		if (rc)
			goto out;
		if (idx == nr)
			break;
		rc = sd_incr_reread(&rd, &run, incr, idx, now, &a);
		if (rc)
			goto out;
	}
	rc = sd_run_flush(&run);
out:
	if (rc && run.take)
		sd_incr_untake(seqs, g, &run, SD_MIN(idx, nr - 1));
	rd.acc.bytes += loads * 4;
	sd_host_rd_done(&rd);
	return rc;
}
