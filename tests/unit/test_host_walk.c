// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_walk.c - host/ walks: the whole-table walk reports exactly the
 * runs a page-by-page reference derives from the table, merged across chunk
 * boundaries; the incremental walk reports exactly the pages whose state
 * changed between two states, and nothing else, reading only the chunks
 * whose count moved.
 */
#include "host_util.h"

/* A fixture with @gpa's table registered (4 attempts) and its incremental state sized. */
static struct tfx *wfx_new(sd_gfn_t first, u64 n, u32 ppc, sd_gpa_t gpa)
{
	struct tfx *f = tfx_new(first, n, ppc, gpa, 4);

	assert_int_equal(sd_host_register(&f->reg, &f->cfg, &f->mem, gpa | 1, NULL), 0);
	tfx_incr_alloc(f);
	return f;
}

static int wfx_walk(struct tfx *f, u32 flags, struct truns *r)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 3, .fn = truns_fn,
		     .ctx = r, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	return sd_host_walk(&f->reg, &f->mem, f->scratch, &o);
}

/* The same walk into a batch of @len runs, through map() or (@copy) copy(). */
static int wfx_walk_batch(struct tfx *f, u32 flags, struct truns *r, u32 len, bool copy,
			  struct tbatch *tb)
{
	struct sd_host_extent *buf = calloc(len, sizeof(*buf));
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 3,
		     .batch_fn = tbatch_fn, .ctx = tb, .batch = buf, .batch_len = len,
		     .stats = &f->st, .loc = &f->loc);
	int rc;

	assert_non_null(buf);
	tb->r = r;
	tb->buf = buf;
	tb->len = len;
	memset(&f->st, 0, sizeof(f->st));
	rc = sd_host_walk(&f->reg, copy ? &f->copy : &f->mem, f->scratch, &o);
	free(buf);
	return rc;
}

/*
 * A batched walk of the table as it is must report exactly @want, and
 * read exactly what the one-run-at-a-time walk read (@st), at batch
 * lengths from the minimum up, through map() and copy().
 */
static void want_batch_walks(struct tfx *f, u32 flags, const struct truns *want,
			     const struct sd_host_stats *st, u64 *seed)
{
	static const u32 lens[] = { SD_HOST_BATCH_MIN, SD_HOST_BATCH_MIN + 1, 200, 4096 };
	const struct sd_host_stats fn_st = *st;	/* *@st is f->st: each walk rewrites it */

	for (unsigned i = 0; i < SD_ARRAY_SIZE(lens); i++) {
		bool copy = sd_splitmix64(seed) & 1;
		struct truns got = { 0 };
		struct tbatch tb = { 0 };
		int rc = wfx_walk_batch(f, flags, &got, lens[i], copy, &tb);

		if (rc)
			fail_msg("batch %u flags %u: %s at chunk %llu", lens[i], flags,
				 sd_err_name(rc), (unsigned long long)f->loc.chunk);
		truns_assert_equal(&got, want);
		/* A copy() walk makes no probes: compare with map()'s only when map() ran. */
		if (!copy)
			assert_memory_equal(&f->st, &fn_st, sizeof(fn_st));
		truns_reset(&got);
	}
}

static int wfx_init(struct tfx *f, u32 flags, struct truns *r)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 3,
		     .fn = r ? truns_fn : NULL, .ctx = r, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	return sd_host_incr_init(&f->reg, &f->mem, &f->incr, &o);
}

static int wfx_changes(struct tfx *f, u32 flags, struct truns *r)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 3, .fn = truns_fn,
		     .chunk_fn = truns_chunk_fn, .ctx = r, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	return sd_host_walk_changes(&f->reg, &f->mem, &f->incr, f->scratch, &o);
}

/* The runs a whole-table walk must report for the table as it is now. */
static void want_walk(struct tfx *f, struct truns *want)
{
	tref_from_table(&f->t, f->cur);
	tref_runs(f->cur, f->t.g.first_gfn, f->t.g.nr_gfns, false, want);
}

/* The runs an incremental walk must report now; then what it will have kept. */
static void want_changes(struct tfx *f, struct truns *want)
{
	tref_from_table(&f->t, f->cur);
	tref_diff_runs(f->settled, f->cur, f->t.g.first_gfn, f->t.g.nr_gfns, want);
	for (u64 p = 0; p < f->t.g.nr_gfns; p++)
		if (f->cur[p] != 2)
			f->settled[p] = f->cur[p];
}

/* Close chunk @idx's open window, setting its range to @shared (steps 4-6). */
static void close_window(struct tbuild *t, u64 idx, bool shared)
{
	struct sd_chunk_desc *d = tbuild_desc(t, idx);
	u64 *bits = tbuild_bits(t, idx);

	if (shared)
		sd_bitmap_set_range(bits, d->pending_first, d->pending_count);
	else
		sd_bitmap_clear_range(bits, d->pending_first, d->pending_count);
	d->nr_shared = (u32)sd_bitmap_weight(bits, 0, t->g.pages_per_chunk);
	d->seq++;
}

/* ---- whole-table walk -------------------------------------------------------- */

static void walk_reports_extents_merged_across_chunks(void **state)
{
	struct tfx *f = wfx_new(0, 4096, 256, 0x3000);
	struct truns got = { 0 }, want = { 0 };
	static const struct trun expect[] = {
		{ 3, 1, 1 }, { 250, 12, 1 }, { 512, 258, 1 }, { 1000, 1, 1 }, { 4095, 1, 1 },
	};

	(void)state;
	tbuild_set(&f->t, 250, 12, true);
	tbuild_set(&f->t, 512, 258, true);
	tbuild_set(&f->t, 1000, 1, true);
	tbuild_set(&f->t, 4095, 1, true);
	assert_int_equal(wfx_walk(f, 0, &got), 0);
	assert_int_equal(got.n, SD_ARRAY_SIZE(expect));
	for (unsigned i = 0; i < SD_ARRAY_SIZE(expect); i++) {
		assert_int_equal(got.v[i].gfn, expect[i].gfn);
		assert_int_equal(got.v[i].n, expect[i].n);
		assert_int_equal(got.v[i].state, SD_PAGE_SHARED);
	}
	want_walk(f, &want);
	truns_assert_equal(&got, &want);
	/*
	 * Chunk 2 (all shared) and 4..14 (all private) were summary reads. The
	 * group of chunks 8..15 was probed first (chunk 0 holds the table: its
	 * group is not), and chunk 15 failed the probe: 8 * 12 bytes more.
	 */
	assert_int_equal(f->st.chunks, 16);
	assert_int_equal(f->st.summary_chunks, 12);
	assert_int_equal(f->st.bytes, 16 * 12 + 4 * 32 + 8 * 12);
	truns_reset(&got);
	assert_int_equal(wfx_walk(f, SD_READ_STRICT, &got), 0);
	truns_assert_equal(&got, &want);
	assert_int_equal(f->st.summary_chunks, 0);
	assert_int_equal(f->st.bytes, 16 * (12 + 32));
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

static void walk_paused_reports_transition_between_shared(void **state)
{
	struct tfx *f = wfx_new(0, 1000, 128, 0);	/* last chunk: 104 pages */
	struct truns got = { 0 }, want = { 0 };

	(void)state;
	tbuild_set(&f->t, 100, 60, true);		/* 100..159, across chunks 0/1 */
	tbuild_set(&f->t, 168, 10, true);
	tbuild_open(&f->t, 1, 32, 8);			/* 160..167 in transition */
	tbuild_set(&f->t, 990, 10, true);		/* the span's last pages */
	tbuild_open(&f->t, 7, 0, 3);			/* 896..898 */
	assert_int_equal(wfx_walk(f, SD_READ_PAUSED, &got), 0);
	want_walk(f, &want);
	truns_assert_equal(&got, &want);
	assert_int_equal(got.pages[SD_PAGE_TRANSITION], 11);
	assert_int_equal(got.runs[SD_PAGE_TRANSITION], 2);
	assert_int_equal(got.pages[SD_PAGE_SHARED], 1 + 60 + 10 + 10);
	/* Live, the same table doesn't settle. */
	truns_reset(&got);
	assert_sd_err(wfx_walk(f, 0, &got), f->loc, SD_ERR_CHUNK_ODD, 1,
		      f->t.g.desc_offset + 16);
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

static void walk_unsettled_ok_reports_the_whole_chunk(void **state)
{
	struct tfx *f = wfx_new(0, 1024, 64, 0);
	struct truns got = { 0 };

	(void)state;
	tbuild_set(&f->t, 100, 100, true);	/* 100..199 */
	tbuild_open(&f->t, 2, 10, 1);		/* chunk 2 = 128..191 */
	assert_int_equal(wfx_walk(f, SD_READ_UNSETTLED_OK, &got), 0);
	assert_int_equal(got.n, 4);
	assert_int_equal(got.v[1].gfn, 100);
	assert_int_equal(got.v[1].n, 28);
	assert_int_equal(got.v[2].gfn, 128);
	assert_int_equal(got.v[2].n, 64);
	assert_int_equal(got.v[2].state, SD_PAGE_UNSETTLED);
	assert_int_equal(got.v[3].gfn, 192);
	assert_int_equal(got.v[3].n, 8);
	assert_int_equal(f->st.unsettled, 1);
	assert_int_equal(f->st.attempts, 16 - 1 + 3);
	truns_reset(&got);
	tfx_free(f);
}

static void walk_stops_when_callback_says_so(void **state)
{
	struct tfx *f = wfx_new(0, 4096, 256, 0x3000);
	struct truns got = { .stop_after = 2 };

	(void)state;
	for (u64 g = 300; g < 4000; g += 300)
		tbuild_set(&f->t, g, 1, true);
	assert_int_equal(wfx_walk(f, 0, &got), 99);
	assert_int_equal(got.n, 2);
	/*
	 * It stopped reading too: the second run (page 300) ended when page
	 * 600 arrived, in chunk 2, and nothing after that chunk was read.
	 */
	assert_int_equal(f->st.chunks, 3);
	truns_reset(&got);
	/* A NULL callback: read and validate, report nothing. */
	assert_int_equal(sd_host_walk(&f->reg, &f->mem, f->scratch, NULL), 0);
	tfx_free(f);
}

/* Random spans, chunk sizes, table places and page states; live, strict and paused. */
static void walk_random_tables_match_reference(void **state)
{
	u64 seed = 12345;

	(void)state;
	for (int round = 0; round < 150; round++) {
		u32 ppc = 64u << (sd_splitmix64(&seed) % 6);
		u64 n = 1 + sd_splitmix64(&seed) % 30000;
		sd_gfn_t first = sd_splitmix64(&seed) % 5000;
		struct sd_geom g;
		sd_gfn_t tg;
		struct tfx *f;
		struct truns got = { 0 }, want = { 0 };
		int ops = (int)(sd_splitmix64(&seed) % 40);

		assert_int_equal(sd_geom_compute(&g, first, n, ppc), 0);
		if ((g.table_size >> 12) > n)
			continue;
		tg = first + sd_splitmix64(&seed) % (n - (g.table_size >> 12) + 1);
		f = wfx_new(first, n, ppc, tg << 12);
		for (int i = 0; i < ops; i++) {
			u64 a = sd_splitmix64(&seed) % n;
			u64 len = 1 + sd_splitmix64(&seed) % SD_MIN(n - a, (u64)3 * ppc);
			bool sh = sd_splitmix64(&seed) & 1;

			/* Never make the table private: that is a different test. */
			if (!sh && a < tg - first + (g.table_size >> 12) && a + len > tg - first)
				continue;
			tbuild_set(&f->t, first + a, len, sh);
		}
		want_walk(f, &want);
		for (u32 flags = 0; flags <= SD_READ_STRICT; flags++) {	/* 0, PAUSED, STRICT */
			truns_reset(&got);
			if (wfx_walk(f, flags, &got))
				fail_msg("round %d flags %u: %s at chunk %llu", round, flags,
					 sd_err_name(f->loc.err), (unsigned long long)f->loc.chunk);
			truns_assert_equal(&got, &want);
			assert_int_equal(f->st.chunks, g.nr_chunks);
			if (round < 60)
				want_batch_walks(f, flags, &want, &f->st, &seed);
		}
		/* Windows left open on chunks without table pages: a paused walk decides them. */
		for (u64 idx = 0; idx < g.nr_chunks; idx++) {
			u32 pages = sd_geom_chunk_pages(&g, idx);
			u32 pf = (u32)(sd_splitmix64(&seed) % pages);
			u32 pc = 1 + (u32)(sd_splitmix64(&seed) % (pages - pf));
			u64 rel_t = tg - first;

			if ((sd_splitmix64(&seed) & 3) || (rel_t >> g.chunk_shift) == idx ||
			    ((rel_t + (g.table_size >> 12) - 1) >> g.chunk_shift) == idx)
				continue;
			tbuild_open(&f->t, idx, pf, pc);
		}
		truns_reset(&want);
		want_walk(f, &want);
		truns_reset(&got);
		assert_int_equal(wfx_walk(f, SD_READ_PAUSED, &got), 0);
		truns_assert_equal(&got, &want);
		if (round < 60)
			want_batch_walks(f, SD_READ_PAUSED, &want, &f->st, &seed);
		truns_reset(&got);
		assert_int_equal(wfx_walk(f, SD_READ_PAUSED | SD_READ_STRICT, &got), 0);
		truns_assert_equal(&got, &want);
		if (round < 60)
			want_batch_walks(f, SD_READ_PAUSED | SD_READ_STRICT, &want, &f->st, &seed);
		truns_reset(&got);
		truns_reset(&want);
		tfx_free(f);
	}
}

/*
 * Every other page shared, 8192 pages: every word has 64 flips (32 runs),
 * the most a word can have. A batch of 64 runs fills after two words and
 * is handed out whole before the third: 4096 runs in exactly 64 calls of
 * 64. A longer batch takes the same runs in fewer calls.
 */
static void walk_batch_fills_to_the_last_entry(void **state)
{
	struct tfx *f = wfx_new(0, 8192 + 64, 8192, 8192 * 4096ULL);
	struct truns got = { 0 }, want = { 0 };
	struct tbatch tb = { 0 };

	(void)state;
	for (u64 p = 0; p < 8192; p += 2)
		tbuild_set(&f->t, p, 1, true);
	want_walk(f, &want);
	assert_int_equal(want.n, 4096 + 1);		/* and the table's page */
	assert_int_equal(wfx_walk_batch(f, 0, &got, SD_HOST_BATCH_MIN, false, &tb), 0);
	truns_assert_equal(&got, &want);
	assert_int_equal(tb.calls, 64 + 1);
	assert_int_equal(tb.full, 64);
	truns_reset(&got);
	tb = (struct tbatch){ 0 };
	assert_int_equal(wfx_walk_batch(f, SD_READ_STRICT, &got, 1000, true, &tb), 0);
	truns_assert_equal(&got, &want);
	/*
	 * Handed out whenever another word's 64 slots might not fit in 2000:
	 * after 31 words, 992 runs. 4 such calls, then the last 128 runs and
	 * the table's page.
	 */
	assert_int_equal(tb.calls, 5);
	assert_int_equal(tb.full, 0);
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

/*
 * A shared run that reaches the end of a chunk followed by a group of
 * private chunks the probe passes over: the run ends at the group's first
 * page. Once through a uniform shared chunk (7), once through a bitmap
 * chunk's last page (23).
 */
static void walk_batch_ends_runs_before_probed_groups(void **state)
{
	struct tfx *f = wfx_new(0, 48 * 64, 64, 47 * 64 * 4096ULL);
	struct truns got = { 0 }, want = { 0 };
	struct tbatch tb = { 0 };

	(void)state;
	tbuild_set(&f->t, 6 * 64 + 50, 78, true);	/* to the end of chunk 7 */
	tbuild_set(&f->t, 16 * 64, 5, true);
	tbuild_set(&f->t, 23 * 64 + 60, 4, true);	/* chunk 23's last 4 pages */
	tbuild_set(&f->t, 32 * 64 + 1, 1, true);
	want_walk(f, &want);
	assert_int_equal(want.n, 5);
	assert_int_equal(want.v[0].n, 78);
	assert_int_equal(wfx_walk_batch(f, 0, &got, SD_HOST_BATCH_MIN, false, &tb), 0);
	truns_assert_equal(&got, &want);
	/* Chunks 8..15 and 24..31 were probed: 16 summary reads, and 7 and the other private ones. */
	assert_int_equal(f->st.summary_chunks, 48 - 5);
	assert_int_equal(tb.calls, 1);
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

/*
 * Two edges of the scan. A batch exactly full (128 slots) when a uniform
 * shared chunk starts a run: it is handed out first, nothing is written
 * past it. A sparse chunk whose run ends at a word's end, the next word
 * empty: the run ends there, not at the next shared page.
 */
static void walk_batch_full_before_a_shared_chunk_and_sparse_word_ends(void **state)
{
	struct tfx *f = wfx_new(0, 16 * 64, 64, 15 * 64 * 4096ULL);
	struct truns got = { 0 }, want = { 0 };
	struct tbatch tb = { 0 };

	(void)state;
	for (u64 p = 0; p < 128; p += 2)
		tbuild_set(&f->t, p, 1, true);		/* chunks 0, 1: 32 runs each */
	tbuild_set(&f->t, 128, 64, true);		/* chunk 2: uniform shared */
	want_walk(f, &want);
	assert_int_equal(want.n, 64 + 1 + 1);
	assert_int_equal(wfx_walk_batch(f, 0, &got, SD_HOST_BATCH_MIN, false, &tb), 0);
	truns_assert_equal(&got, &want);
	assert_int_equal(tb.calls, 2);
	assert_int_equal(tb.full, 1);
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);

	f = wfx_new(0, 4 * 1024, 1024, 3 * 1024 * 4096ULL);
	tbuild_set(&f->t, 1024 + 62, 2, true);
	tbuild_set(&f->t, 1024 + 200, 1, true);
	want_walk(f, &want);
	assert_int_equal(want.n, 3);
	assert_int_equal(want.v[0].n, 2);
	tb = (struct tbatch){ 0 };
	assert_int_equal(wfx_walk_batch(f, 0, &got, SD_HOST_BATCH_MIN, true, &tb), 0);
	truns_assert_equal(&got, &want);
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

/* A chunk's error ends a batched walk; the runs that ended before it are handed out first. */
static void walk_batch_fails_at_a_chunk_after_handing_out_what_ended(void **state)
{
	struct tfx *f = wfx_new(0, 512, 64, 7 * 64 * 4096ULL);
	struct truns got = { 0 }, want = { 0 };
	struct tbatch tb = { 0 };

	(void)state;
	for (u64 p = 64; p < 128; p += 4)
		tbuild_set(&f->t, p, 1, true);		/* 16 runs in chunk 1 */
	tbuild_open(&f->t, 3, 0, 8);
	want_walk(f, &want);
	assert_sd_err(wfx_walk_batch(f, 0, &got, SD_HOST_BATCH_MIN, false, &tb), f->loc,
		      SD_ERR_CHUNK_ODD, 3, f->t.g.desc_offset + 3 * 16);
	assert_int_equal(got.n, 16);
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(got.v[i].gfn, 64 + 4 * i);
		assert_int_equal(got.v[i].n, 1);
	}
	assert_int_equal(tb.calls, 1);
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

/*
 * Pages shared at random (half of them), windows open here and there and
 * chunks that do not settle: runs of every length and verdict, many flips
 * a word, flushes mid-chunk. Batched walks report what the reference says.
 */
static void walk_batch_random_dense_tables_match_reference(void **state)
{
	u64 seed = 777;

	(void)state;
	for (int round = 0; round < 40; round++) {
		u32 ppc = 64u << (sd_splitmix64(&seed) % 5);
		u64 n = 64 + sd_splitmix64(&seed) % 20000;
		u32 density = 1 + (u32)(sd_splitmix64(&seed) % 8);	/* 1/density shared */
		struct tfx *f = wfx_new(0, n, ppc, 0);
		struct sd_geom g = f->t.g;
		u64 tpages = g.table_size >> 12;
		struct truns want = { 0 }, got = { 0 };
		struct sd_host_stats st;

		for (u64 p = tpages; p < n; p++)
			if (sd_splitmix64(&seed) % density == 0)
				tbuild_set(&f->t, p, 1, true);
		want_walk(f, &want);
		assert_int_equal(wfx_walk(f, 0, &got), 0);
		truns_assert_equal(&got, &want);
		st = f->st;
		want_batch_walks(f, 0, &want, &st, &seed);
		truns_reset(&got);
		truns_reset(&want);
		/* Open windows on some chunks past the table's: paused, they are in transition. */
		for (u64 idx = ((tpages - 1) >> g.chunk_shift) + 1; idx < g.nr_chunks; idx++) {
			u32 pages = sd_geom_chunk_pages(&g, idx);
			u32 pf = (u32)(sd_splitmix64(&seed) % pages);
			u32 pc = 1 + (u32)(sd_splitmix64(&seed) % (pages - pf));

			if (sd_splitmix64(&seed) % 3 == 0)
				tbuild_open(&f->t, idx, pf, pc);
		}
		want_walk(f, &want);
		assert_int_equal(wfx_walk(f, SD_READ_PAUSED, &got), 0);
		truns_assert_equal(&got, &want);
		st = f->st;
		want_batch_walks(f, SD_READ_PAUSED, &want, &st, &seed);
		truns_reset(&got);
		/* Live, those chunks do not settle: whole chunks UNSETTLED, merged. */
		truns_reset(&want);
		assert_int_equal(wfx_walk(f, SD_READ_UNSETTLED_OK, &want), 0);
		st = f->st;
		want_batch_walks(f, SD_READ_UNSETTLED_OK, &want, &st, &seed);
		truns_reset(&want);
		tfx_free(f);
	}
}

/* A batch callback that stops the walk: its code comes back, and reading stops there. */
static void walk_batch_stops_when_callback_says_so(void **state)
{
	struct tfx *f = wfx_new(0, 64 * 256, 256, 0x3000);
	struct truns got = { 0 };
	struct tbatch tb = { .stop_after_calls = 2 };

	(void)state;
	for (u64 p = 256; p < 64 * 256; p += 2)
		tbuild_set(&f->t, p, 1, true);
	assert_int_equal(wfx_walk_batch(f, 0, &got, SD_HOST_BATCH_MIN, false, &tb), 99);
	assert_int_equal(tb.calls, 2);
	/*
	 * The first call came before chunk 1's second word (the table's page
	 * and word 0's 32 runs), the second before its fourth (words 1 and 2).
	 */
	assert_int_equal(got.n, 1 + 32 + 64);
	assert_int_equal(f->st.chunks, 2);
	truns_reset(&got);
	tfx_free(f);
}

/* A batch needs its callback, its array, at least SD_HOST_BATCH_MIN runs, and sd_host_walk(). */
static void walk_batch_bad_options_are_refused(void **state)
{
	struct tfx *f = wfx_new(0, 4096, 256, 0x3000);
	struct sd_host_extent buf[SD_HOST_BATCH_MIN];
	struct truns r = { 0 };
	struct tbatch tb = { .r = &r, .buf = buf, .len = SD_HOST_BATCH_MIN };
	SD_HOST_OPTS(sd_host_walk_opts, ok, .batch_fn = tbatch_fn, .ctx = &tb, .batch = buf,
		     .batch_len = SD_HOST_BATCH_MIN, .loc = &f->loc);
	struct sd_host_walk_opts o;

	(void)state;
	o = ok;
	o.batch_len = SD_HOST_BATCH_MIN - 1;
	assert_sd_err(sd_host_walk(&f->reg, &f->mem, f->scratch, &o), f->loc, SD_ERR_INVAL,
		      SD_LOC_NONE, SD_LOC_NONE);
	o = ok;
	o.batch = NULL;
	assert_sd_err(sd_host_walk(&f->reg, &f->mem, f->scratch, &o), f->loc, SD_ERR_INVAL,
		      SD_LOC_NONE, SD_LOC_NONE);
	o = ok;
	o.fn = truns_fn;
	assert_sd_err(sd_host_walk(&f->reg, &f->mem, f->scratch, &o), f->loc, SD_ERR_INVAL,
		      SD_LOC_NONE, SD_LOC_NONE);
	o = ok;
	o.batch_fn = NULL;			/* an array without its callback */
	assert_sd_err(sd_host_walk(&f->reg, &f->mem, f->scratch, &o), f->loc, SD_ERR_INVAL,
		      SD_LOC_NONE, SD_LOC_NONE);
	o = ok;
	o.batch_fn = NULL;
	o.batch = NULL;				/* a length alone */
	assert_sd_err(sd_host_walk(&f->reg, &f->mem, f->scratch, &o), f->loc, SD_ERR_INVAL,
		      SD_LOC_NONE, SD_LOC_NONE);
	o = ok;
	o.reserved = 1;
	assert_sd_err(sd_host_walk(&f->reg, &f->mem, f->scratch, &o), f->loc, SD_ERR_INVAL,
		      SD_LOC_NONE, SD_LOC_NONE);
	assert_sd_err(sd_host_incr_init(&f->reg, &f->mem, &f->incr, &ok), f->loc, SD_ERR_INVAL,
		      SD_LOC_NONE, SD_LOC_NONE);
	assert_int_equal(sd_host_incr_init(&f->reg, &f->mem, &f->incr, NULL), 0);
	assert_sd_err(sd_host_walk_changes(&f->reg, &f->mem, &f->incr, f->scratch, &ok), f->loc,
		      SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_int_equal(r.n, 0);
	/* And the options as they are: the table's own page, in one call. */
	assert_int_equal(sd_host_walk(&f->reg, &f->mem, f->scratch, &ok), 0);
	assert_int_equal(tb.calls, 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].gfn, 3);
	truns_reset(&r);
	tfx_free(f);
}

/*
 * The table's chunk in the middle (chunk 50 of 100): groups end before it
 * (0..47 probed; 48 and 49 read alone), the group holding it is not
 * probed (51..55 read alone), probes go on from 56; 96..99 fit no group.
 */
static void walk_probes_stop_before_the_tables_chunk(void **state)
{
	struct tfx *f = wfx_new(0, 100 * 64, 64, 50 * 64 * 4096ULL);
	struct truns got = { 0 }, want = { 0 };

	(void)state;
	assert_int_equal(wfx_walk(f, 0, &got), 0);
	want_walk(f, &want);
	truns_assert_equal(&got, &want);
	assert_int_equal(got.n, 1);			/* the table's own page */
	assert_int_equal(got.v[0].gfn, 50 * 64);
	assert_int_equal(f->st.chunks, 100);
	assert_int_equal(f->st.attempts, 100);
	assert_int_equal(f->st.summary_chunks, 99);
	/* Every chunk's 12 bytes, chunk 50's bitmap, and no probe that failed. */
	assert_int_equal(f->st.bytes, 100 * 12 + 8);
	truns_reset(&got);
	truns_reset(&want);
	/* A shared page in chunk 47: the probe of 40..47 fails, once. */
	tbuild_set(&f->t, 47 * 64 + 3, 1, true);
	assert_int_equal(wfx_walk(f, 0, &got), 0);
	want_walk(f, &want);
	truns_assert_equal(&got, &want);
	assert_int_equal(f->st.bytes, 100 * 12 + 2 * 8 + 8 * 12);
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

/*
 * The probes of a live walk through map() (8 chunks at a time, away from
 * the table's chunks): 100 chunks of 64 pages, the table in chunk 0. A
 * group passes only when all 8 chunks are even, settled and private; any
 * other chunk sends its group to the read rule chunk by chunk, which then
 * decides it alone (here: a stuck-odd count fails the walk where it is,
 * and is reported unsettled with SD_READ_UNSETTLED_OK).
 */
static void walk_probes_skip_only_private_groups(void **state)
{
	struct tfx *f = wfx_new(0, 100 * 64, 64, 0x3000);
	struct truns got = { 0 }, want = { 0 };

	(void)state;
	/* Groups: 0 (the table's: never probed), 8, 16, ..., 88; chunks 96..99 fit none. */
	tbuild_set(&f->t, 17 * 64 + 5, 1, true);	/* group 16 fails its probe */
	tbuild_set(&f->t, 40 * 64, 64, true);		/* group 40: a uniform shared chunk */
	tbuild_set(&f->t, 63 * 64 + 63, 2, true);	/* groups 56 and 64, merged across */
	tbuild_set(&f->t, 98 * 64 + 1, 3, true);	/* past the last group */
	assert_int_equal(wfx_walk(f, 0, &got), 0);
	want_walk(f, &want);
	truns_assert_equal(&got, &want);
	assert_int_equal(got.n, 5);	/* the table's pages, 17*64+5, 40*64, 63*64+63, 98*64+1 */
	assert_int_equal(f->st.chunks, 100);
	assert_int_equal(f->st.attempts, 100);
	/* Not summaries: chunk 0 (table and private pages), 17, 63, 64, 98. */
	assert_int_equal(f->st.summary_chunks, 95);
	/*
	 * Every chunk's summary read (12 bytes), five bitmaps (8 bytes each),
	 * and the four failed probes (groups 16, 40, 56, 64) once more.
	 */
	assert_int_equal(f->st.bytes, 100 * 12 + 5 * 8 + 4 * 8 * 12);
	truns_reset(&got);
	truns_reset(&want);

	/* A count stuck odd inside a group that is otherwise private. */
	tbuild_desc(&f->t, 27)->seq |= 1;
	assert_sd_err(wfx_walk(f, 0, &got), f->loc, SD_ERR_CHUNK_ODD, 27,
		      f->t.g.desc_offset + 27 * SD_DESC_SIZE);
	truns_reset(&got);
	assert_int_equal(wfx_walk(f, SD_READ_UNSETTLED_OK, &got), 0);
	/* The reference reads chunk 27's bits (all private): the same runs, and chunk 27's. */
	want_walk(f, &want);
	assert_int_equal(got.n, want.n + 1);
	for (u32 i = 0, j = 0; i < got.n; i++) {
		if (got.v[i].state == SD_PAGE_UNSETTLED) {
			assert_int_equal(got.v[i].gfn, 27 * 64);
			assert_int_equal(got.v[i].n, 64);
			continue;
		}
		assert_int_equal(got.v[i].gfn, want.v[j].gfn);
		assert_int_equal(got.v[i].n, want.v[j].n);
		assert_int_equal(got.v[i].state, want.v[j].state);
		j++;
	}
	truns_reset(&want);
	assert_int_equal(f->st.unsettled, 1);
	assert_int_equal(f->st.attempts, 100 - 1 + 3);
	truns_reset(&got);

	/* Chunk 27 even again; chunk 33 claims all shared, which its (unread) bits deny. */
	tbuild_desc(&f->t, 27)->seq++;
	tbuild_desc(&f->t, 33)->nr_shared = 64;
	assert_int_equal(wfx_walk(f, 0, &got), 0);
	assert_int_equal(f->st.summary_chunks, 95);
	{
		bool seen = false;

		for (u32 i = 0; i < got.n; i++) {
			if (got.v[i].gfn != 33 * 64)
				continue;
			assert_int_equal(got.v[i].n, 64);	/* the summary read's verdict (3.2) */
			seen = true;
		}
		assert_true(seen);
	}
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

/* ---- incremental walk ---------------------------------------------------------- */

static void incr_init_reports_like_walk_and_keeps_the_state(void **state)
{
	struct tfx *f = wfx_new(0, 4000, 256, 0x3000);
	struct truns got = { 0 }, want = { 0 };

	(void)state;
	tbuild_set(&f->t, 250, 12, true);
	tbuild_set(&f->t, 512, 256, true);
	tbuild_set(&f->t, 3990, 10, true);
	assert_int_equal(wfx_init(f, 0, &got), 0);
	want_walk(f, &want);
	truns_assert_equal(&got, &want);
	assert_int_equal(f->incr.generation, f->reg.generation);
	for (u64 i = 0; i < 16; i++) {
		assert_int_equal(f->incr.seqs[i], tbuild_desc(&f->t, i)->seq);
		assert_memory_equal(f->incr.bits + i * 4, tbuild_bits(&f->t, i), 32);
	}
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

static void incr_nothing_changed_reads_only_counts(void **state)
{
	struct tfx *f = wfx_new(0, 4096, 256, 0x3000);
	struct truns got = { 0 };

	(void)state;
	tbuild_set(&f->t, 100, 1000, true);
	assert_int_equal(wfx_init(f, 0, NULL), 0);
	assert_int_equal(wfx_changes(f, 0, &got), 0);
	assert_int_equal(got.n, 0);
	assert_int_equal(got.chunks, 0);
	assert_int_equal(f->st.chunks, 0);
	assert_int_equal(f->st.bytes, 16 * 4);
	truns_reset(&got);
	tfx_free(f);
}

static void incr_change_and_change_back_reports_no_page(void **state)
{
	struct tfx *f = wfx_new(0, 4096, 256, 0x3000);
	struct truns got = { 0 };

	(void)state;
	assert_int_equal(wfx_init(f, 0, NULL), 0);
	tbuild_set(&f->t, 700, 5, true);
	tbuild_set(&f->t, 700, 5, false);
	assert_int_equal(wfx_changes(f, 0, &got), 0);
	assert_int_equal(got.chunks, 1);	/* chunk 2's count moved */
	assert_int_equal(f->st.chunks, 1);	/* so it was read */
	assert_int_equal(got.n, 0);		/* but no page changed */
	assert_int_equal(f->incr.seqs[2], 4);
	/* And the next pass has nothing to read. */
	assert_int_equal(wfx_changes(f, 0, &got), 0);
	assert_int_equal(got.chunks, 1);
	assert_int_equal(f->st.chunks, 0);
	truns_reset(&got);
	tfx_free(f);
}

static void incr_merges_changes_across_chunk_boundaries(void **state)
{
	struct tfx *f = wfx_new(0, 4000, 256, 0x3000);	/* last chunk: 160 pages */
	struct truns got = { 0 };

	(void)state;
	tbuild_set(&f->t, 500, 20, true);
	assert_int_equal(wfx_init(f, 0, NULL), 0);
	tbuild_set(&f->t, 250, 20, true);		/* 250..269: chunks 0 and 1 */
	tbuild_set(&f->t, 505, 10, false);		/* 505..514 */
	tbuild_set(&f->t, 515, 10, true);		/* 515..519 already shared */
	tbuild_set(&f->t, 3999, 1, true);		/* the span's last page */
	assert_int_equal(wfx_changes(f, 0, &got), 0);
	assert_int_equal(got.n, 4);
	assert_int_equal(got.v[0].gfn, 250);
	assert_int_equal(got.v[0].n, 20);
	assert_int_equal(got.v[0].state, SD_PAGE_SHARED);
	assert_int_equal(got.v[1].gfn, 505);
	assert_int_equal(got.v[1].n, 10);
	assert_int_equal(got.v[1].state, SD_PAGE_PRIVATE);
	assert_int_equal(got.v[2].gfn, 520);
	assert_int_equal(got.v[2].n, 5);
	assert_int_equal(got.v[2].state, SD_PAGE_SHARED);
	assert_int_equal(got.v[3].gfn, 3999);
	assert_int_equal(got.v[3].n, 1);
	assert_int_equal(got.chunks, 4);		/* 0, 1, 2, 15 */
	assert_int_equal(f->st.chunks, 4);
	truns_reset(&got);
	tfx_free(f);
}

/* The core property, randomised: exactly the changed pages, nothing else. */
static void incr_reports_exactly_the_changed_pages(void **state)
{
	u64 seed = 777;

	(void)state;
	for (int round = 0; round < 60; round++) {
		u32 ppc = 64u << (sd_splitmix64(&seed) % 5);
		u64 n = 2000 + sd_splitmix64(&seed) % 20000;
		struct tfx *f = wfx_new(0, n, ppc, 0);
		struct truns got = { 0 }, want = { 0 };
		u64 tpages = f->t.g.table_size >> 12;
		u8 *before_seq = malloc(f->t.g.nr_chunks * 4);

		assert_int_equal(wfx_init(f, 0, NULL), 0);
		want_changes(f, &want);			/* sync the reference */
		truns_reset(&want);
		for (int pass = 0; pass < 12; pass++) {
			int ops = (int)(sd_splitmix64(&seed) % 30);
			u64 moved = 0;

			for (u64 i = 0; i < f->t.g.nr_chunks; i++)
				((u32 *)before_seq)[i] = tbuild_desc(&f->t, i)->seq;
			for (int i = 0; i < ops; i++) {
				u64 a = tpages + sd_splitmix64(&seed) % (n - tpages);
				u64 len = 1 + sd_splitmix64(&seed) % SD_MIN(n - a, (u64)2 * ppc + 3);

				tbuild_set(&f->t, a, len, sd_splitmix64(&seed) & 1);
			}
			for (u64 i = 0; i < f->t.g.nr_chunks; i++)
				moved += ((u32 *)before_seq)[i] != tbuild_desc(&f->t, i)->seq;
			want_changes(f, &want);
			assert_int_equal(wfx_changes(f, 0, &got), 0);
			truns_assert_equal(&got, &want);
			/* Exactly the chunks whose count moved were read. */
			assert_int_equal(got.chunks, moved);
			assert_int_equal(f->st.chunks, moved);
			truns_reset(&got);
			truns_reset(&want);
		}
		free(before_seq);
		tfx_free(f);
	}
}

static void incr_unsettled_chunk_is_reported_then_reread(void **state)
{
	struct tfx *f = wfx_new(0, 4096, 256, 0x3000);
	struct truns got = { 0 };

	(void)state;
	assert_int_equal(wfx_init(f, 0, NULL), 0);
	tbuild_set(&f->t, 1024 + 10, 5, true);		/* chunk 4 */
	tbuild_open(&f->t, 4, 100, 10);
	/* Without UNSETTLED_OK the walk fails there; with it, the chunk is reported. */
	assert_sd_err(wfx_changes(f, 0, &got), f->loc, SD_ERR_CHUNK_ODD, 4, 0x80 + 4 * 16);
	truns_reset(&got);
	assert_int_equal(wfx_changes(f, SD_READ_UNSETTLED_OK, &got), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.v[0].gfn, 1024);
	assert_int_equal(got.v[0].n, 256);
	assert_int_equal(got.v[0].state, SD_PAGE_UNSETTLED);
	assert_int_equal(f->incr.seqs[4] & 1, 1);
	truns_reset(&got);
	/* The window closes: everything that differs from the last settled read comes out. */
	close_window(&f->t, 4, true);
	assert_int_equal(wfx_changes(f, 0, &got), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.v[0].gfn, 1034);
	assert_int_equal(got.v[0].n, 5);
	assert_int_equal(got.v[1].gfn, 1124);
	assert_int_equal(got.v[1].n, 10);
	assert_int_equal(f->incr.seqs[4], 4);
	truns_reset(&got);
	tfx_free(f);
}

static void incr_paused_reports_transition_every_time_until_closed(void **state)
{
	struct tfx *f = wfx_new(0, 4096, 256, 0x3000);
	struct truns got = { 0 }, want = { 0 };

	(void)state;
	tbuild_set(&f->t, 600, 50, true);
	assert_int_equal(wfx_init(f, SD_READ_PAUSED, NULL), 0);
	want_changes(f, &want);
	truns_reset(&want);
	tbuild_set(&f->t, 620, 100, false);		/* chunk 2: 620..719 private */
	tbuild_open(&f->t, 2, 110, 20);			/* 622..641 in transition */
	for (int pass = 0; pass < 2; pass++) {
		want_changes(f, &want);
		assert_int_equal(wfx_changes(f, SD_READ_PAUSED, &got), 0);
		truns_assert_equal(&got, &want);
		assert_int_equal(got.pages[SD_PAGE_TRANSITION], 20);
		/* Pass 0: 620, 621 and 642..649 went private; pass 1: nothing else. */
		assert_int_equal(got.pages[SD_PAGE_PRIVATE], pass ? 0 : 10);
		assert_int_equal(got.chunks, 1);
		truns_reset(&got);
		truns_reset(&want);
	}
	/* Closed as private: the pages in transition were shared when last settled. */
	close_window(&f->t, 2, false);
	want_changes(f, &want);
	assert_int_equal(wfx_changes(f, SD_READ_PAUSED, &got), 0);
	truns_assert_equal(&got, &want);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.v[0].gfn, 622);
	assert_int_equal(got.v[0].n, 20);
	assert_int_equal(got.v[0].state, SD_PAGE_PRIVATE);
	truns_reset(&got);
	truns_reset(&want);
	tfx_free(f);
}

static void incr_random_paused_windows_match_reference(void **state)
{
	u64 seed = 4242;

	(void)state;
	for (int round = 0; round < 40; round++) {
		u32 ppc = 64u << (sd_splitmix64(&seed) % 4);
		u64 n = 3000 + sd_splitmix64(&seed) % 10000;
		struct tfx *f = wfx_new(0, n, ppc, 0);
		struct truns got = { 0 }, want = { 0 };
		u64 tchunks = ((f->t.g.table_size >> 12) - 1) / ppc + 1;
		u64 tpages = tchunks * ppc;
		u8 *open = calloc(f->t.g.nr_chunks, 1);

		assert_int_equal(wfx_init(f, SD_READ_PAUSED, NULL), 0);
		want_changes(f, &want);
		truns_reset(&want);
		for (int pass = 0; pass < 10; pass++) {
			for (int i = 0; i < 20; i++) {
				u64 a = tpages + sd_splitmix64(&seed) % (n - tpages);
				u64 idx = a / ppc;
				u32 pages = sd_geom_chunk_pages(&f->t.g, idx);
				u32 rel = (u32)(a % ppc);

				if (open[idx]) {
					close_window(&f->t, idx, sd_splitmix64(&seed) & 1);
					open[idx] = 0;
				} else if (sd_splitmix64(&seed) % 3 == 0) {
					tbuild_open(&f->t, idx, rel,
						    1 + (u32)(sd_splitmix64(&seed) % (pages - rel)));
					open[idx] = 1;
				} else {
					tbuild_set(&f->t, a, 1 + sd_splitmix64(&seed) % (pages - rel),
						   sd_splitmix64(&seed) & 1);
				}
			}
			want_changes(f, &want);
			assert_int_equal(wfx_changes(f, SD_READ_PAUSED, &got), 0);
			truns_assert_equal(&got, &want);
			truns_reset(&got);
			truns_reset(&want);
		}
		free(open);
		tfx_free(f);
	}
}

/* ---- a walk a callback stops loses no change (issue 13, item 2) -------------- */

/*
 * The table of the stop tests: 32 chunks of 256 pages. State A, then the
 * changes to state B: runs that cross one chunk boundary, that cover whole
 * chunks (read as summaries) and end inside a later one, shared and
 * private, a chunk changed and changed back, the span's last page.
 */
static struct tfx *stop_fixture(bool copy)
{
	struct tfx *f = wfx_new(0, 8192, 256, 0x3000);

	if (copy)
		f->mem = f->copy;
	tbuild_set(&f->t, 600, 100, true);
	tbuild_set(&f->t, 4000, 700, true);
	assert_int_equal(wfx_init(f, 0, NULL), 0);
	tref_from_table(&f->t, f->settled);
	tbuild_set(&f->t, 250, 20, true);		/* chunks 0-1 */
	tbuild_set(&f->t, 620, 10, false);
	tbuild_set(&f->t, 1000, 3, true);
	tbuild_set(&f->t, 7 * 256 + 200, 3 * 256, true);	/* chunk 7 into chunk 10 */
	tbuild_set(&f->t, 4100, 300, false);		/* chunk 16 into chunk 17 */
	tbuild_set(&f->t, 5000, 5, true);
	tbuild_set(&f->t, 5000, 5, false);		/* moved, and back */
	tbuild_set(&f->t, 6000, 1, true);
	tbuild_set(&f->t, 6002, 1, true);
	tbuild_set(&f->t, 8191, 1, true);
	return f;
}

/*
 * Walk 1 stopped (by @stop_run or @stop_chunk, 1-based) has reported
 * @first; the runs it accepted are taken. Then a walk that nothing stops
 * reports exactly what still differs from them, and a third reports
 * nothing: every change reported once, none lost.
 */
static void stop_check_rest(struct tfx *f, struct truns *first, u64 accepted)
{
	struct truns rest = { 0 }, want = { 0 };

	tref_apply_runs(f->settled, f->t.g.first_gfn, first->v, accepted);
	want_changes(f, &want);
	assert_int_equal(wfx_changes(f, 0, &rest), 0);
	truns_assert_equal(&rest, &want);
	truns_reset(&rest);
	assert_int_equal(wfx_changes(f, 0, &rest), 0);
	assert_int_equal(rest.n, 0);
	assert_int_equal(f->st.chunks, 0);
	for (u64 i = 0; i < f->t.g.nr_chunks; i++) {
		assert_int_equal(f->incr.seqs[i], tbuild_desc(&f->t, i)->seq);
		assert_memory_equal(f->incr.bits + i * 4, tbuild_bits(&f->t, i), 32);
	}
	truns_reset(&rest);
	truns_reset(&want);
}

static void incr_walk_stopped_at_any_run_loses_no_change(void **state)
{
	(void)state;

	for (int copy = 0; copy <= 1; copy++) {
		struct tfx *f = stop_fixture(copy);
		struct truns want = { 0 };
		u64 nruns;

		/* The runs an unstopped walk reports (every one: the reference agrees). */
		want_changes(f, &want);
		nruns = want.n;
		assert_true(nruns >= 8);
		truns_reset(&want);
		tfx_free(f);

		for (u64 k = 1; k <= nruns; k++) {
			struct truns first = { .stop_after = (int)k };

			f = stop_fixture(copy);
			assert_int_equal(wfx_changes(f, 0, &first), 99);
			assert_int_equal(first.n, k);
			/* The run refused (the k-th) is not taken; the k - 1 before it are. */
			stop_check_rest(f, &first, k - 1);
			truns_reset(&first);
			tfx_free(f);
		}
	}
}

static void incr_walk_stopped_at_any_chunk_loses_no_change(void **state)
{
	(void)state;

	for (int copy = 0; copy <= 1; copy++) {
		struct tfx *f = stop_fixture(copy);
		struct truns all = { 0 };
		u64 nchunks;

		assert_int_equal(wfx_changes(f, 0, &all), 0);
		nchunks = all.chunks;
		assert_true(nchunks >= 10);
		truns_reset(&all);
		tfx_free(f);

		for (u64 j = 1; j <= nchunks; j++) {
			struct truns first = { .chunk_stop_after = (int)j };

			f = stop_fixture(copy);
			assert_int_equal(wfx_changes(f, 0, &first), 99);
			assert_int_equal(first.chunks, j);
			/* Every run reported was accepted. */
			stop_check_rest(f, &first, first.n);
			truns_reset(&first);
			tfx_free(f);
		}
	}
}

static void incr_refuses_state_of_another_registration(void **state)
{
	struct tfx *f = wfx_new(0, 4096, 256, 0x3000);
	struct truns got = { 0 };

	(void)state;
	assert_int_equal(wfx_init(f, 0, NULL), 0);
	assert_int_equal(sd_host_register(&f->reg, &f->cfg, &f->mem, 0x3001, NULL), 0);
	assert_sd_err(wfx_changes(f, 0, &got), f->loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_int_equal(wfx_init(f, 0, NULL), 0);
	assert_int_equal(wfx_changes(f, 0, &got), 0);
	f->incr.nr_chunks = 15;
	assert_sd_err(wfx_changes(f, 0, &got), f->loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_sd_err(wfx_init(f, 0, &got), f->loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	f->incr.nr_chunks = 16;
	sd_host_unregister(&f->reg);
	assert_sd_err(wfx_changes(f, 0, &got), f->loc, SD_ERR_NO_TABLE, SD_LOC_NONE, SD_LOC_NONE);
	truns_reset(&got);
	tfx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_reports_extents_merged_across_chunks),
		cmocka_unit_test(walk_paused_reports_transition_between_shared),
		cmocka_unit_test(walk_unsettled_ok_reports_the_whole_chunk),
		cmocka_unit_test(walk_stops_when_callback_says_so),
		cmocka_unit_test(walk_random_tables_match_reference),
		cmocka_unit_test(walk_probes_skip_only_private_groups),
		cmocka_unit_test(walk_batch_fills_to_the_last_entry),
		cmocka_unit_test(walk_batch_ends_runs_before_probed_groups),
		cmocka_unit_test(walk_batch_full_before_a_shared_chunk_and_sparse_word_ends),
		cmocka_unit_test(walk_batch_fails_at_a_chunk_after_handing_out_what_ended),
		cmocka_unit_test(walk_batch_random_dense_tables_match_reference),
		cmocka_unit_test(walk_batch_stops_when_callback_says_so),
		cmocka_unit_test(walk_batch_bad_options_are_refused),
		cmocka_unit_test(walk_probes_stop_before_the_tables_chunk),
		cmocka_unit_test(incr_init_reports_like_walk_and_keeps_the_state),
		cmocka_unit_test(incr_nothing_changed_reads_only_counts),
		cmocka_unit_test(incr_change_and_change_back_reports_no_page),
		cmocka_unit_test(incr_merges_changes_across_chunk_boundaries),
		cmocka_unit_test(incr_reports_exactly_the_changed_pages),
		cmocka_unit_test(incr_unsettled_chunk_is_reported_then_reread),
		cmocka_unit_test(incr_paused_reports_transition_every_time_until_closed),
		cmocka_unit_test(incr_random_paused_windows_match_reference),
		cmocka_unit_test(incr_refuses_state_of_another_registration),
		cmocka_unit_test(incr_walk_stopped_at_any_run_loses_no_change),
		cmocka_unit_test(incr_walk_stopped_at_any_chunk_loses_no_change),
	};

	return cmocka_run_group_tests_name("host: walks", tests, NULL, NULL);
}
