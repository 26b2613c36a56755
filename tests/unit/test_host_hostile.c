// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_hostile.c - a guest that attacks the host through its table.
 *
 * Every hostile image is rejected with its exact error and location, after
 * bounded work (asserted on struct sd_host_stats, never on time), and never
 * crashes the reader. The reader is compiled into this file with its count
 * load hooked (SD_SEQ_LOAD, proto/seqcount.h), so that a count which
 * changes on every load, impossible to arrange deterministically with a
 * real second thread, is exact here.
 */
#include "host_util.h"

/* ---- the count-load hook, then host/ compiled with it --------------------- */

enum hook_mode { HOOK_OFF, HOOK_CHANGING, HOOK_CHANGING_FOR_N };

static enum hook_mode hook_mode;
static u32 hook_loads;		/* loads seen while the hook was on */
static u32 hook_n;		/* HOOK_CHANGING_FOR_N: loads that see a new value */

/* Every load returns the real count plus a growing even offset: never odd, never the same. */
static u32 hook_seq_load(const struct sd_chunk_desc *d)
{
	u32 s = SD_READ_ONCE(d->seq);

	switch (hook_mode) {
	case HOOK_CHANGING:
		return s + 2 * ++hook_loads;
	case HOOK_CHANGING_FOR_N:
		if (hook_loads < hook_n)
			++hook_loads;
		return s + 2 * hook_loads;
	default:
		return s;
	}
}

#define SD_SEQ_LOAD(d)	hook_seq_load(d)
#include "../../host/reader.c"
#include "../../host/register.c"
#include "../../host/walk.c"

#define T_GPA		0x3000ULL
#define DESC(i)		(0x80ULL + 16 * (i))
#define BITS(i)		(0x180ULL + 32 * (i))
#define ATTEMPT_MAX	(24 + 32)	/* SPEC.md 3.1: bytes per attempt, 256-page chunks */


static int hfx_setup(void **state)
{
	struct tfx *f = tfx_new(0, 4096, 256, T_GPA, 5);

	tbuild_set(&f->t, 700, 40, true);		/* chunk 2 non-uniform */
	tbuild_set(&f->t, 1024, 256, true);		/* chunk 4 all shared */
	hook_mode = HOOK_OFF;
	hook_loads = 0;
	*state = f;
	return 0;
}

static int hfx_teardown(void **state)
{
	struct tfx *f = *state;

	hook_mode = HOOK_OFF;
	tfx_free(f);
	return 0;
}

static int hfx_register_flags(struct tfx *f, u32 flags)
{
	SD_HOST_OPTS(sd_host_register_opts, o, .flags = flags, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	memset(&f->loc, 0, sizeof(f->loc));
	return sd_host_register(&f->reg, &f->cfg, &f->mem, T_GPA | 1, &o);
}

static int hfx_register(struct tfx *f)
{
	return hfx_register_flags(f, 0);
}

/* A walk reporting into @r; its work and failure into f->st (not reset) and f->loc. */
static int hfx_walk_more(struct tfx *f, u32 flags, u32 attempts, struct truns *r)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = attempts,
		     .fn = truns_fn, .ctx = r, .stats = &f->st, .loc = &f->loc);

	return sd_host_walk(&f->reg, &f->mem, f->scratch, &o);
}

static int hfx_walk(struct tfx *f, u32 flags, u32 attempts, struct truns *r)
{
	memset(&f->st, 0, sizeof(f->st));
	memset(&f->loc, 0, sizeof(f->loc));
	return hfx_walk_more(f, flags, attempts, r);
}

static int hfx_read(struct tfx *f, u64 idx, u32 flags, u32 attempts)
{
	SD_HOST_OPTS(sd_host_read_opts, o, .flags = flags, .max_attempts = attempts,
		     .stats = &f->st, .loc = &f->loc);

	return sd_host_read_chunk(&f->reg, &f->mem, idx, f->scratch, &f->ch, &o);
}

/* ---- counts that never settle ------------------------------------------------ */

static void reader_rejects_count_changing_on_every_load(void **state)
{
	struct tfx *f = *state;

	assert_int_equal(hfx_register(f), 0);
	hook_mode = HOOK_CHANGING;
	memset(&f->st, 0, sizeof(f->st));
	assert_sd_err(hfx_read(f, 2, 0, 6),
		      f->loc, SD_ERR_CHUNK_RETRIES, 2, DESC(2));
	assert_int_equal(f->st.attempts, 6);
	assert_int_equal(f->st.retries, 6);
	assert_int_equal(f->st.unsettled, 1);
	assert_int_equal(hook_loads, 12);
	/* Each attempt: seq, nr_shared, 32 bytes of bits, seq. */
	assert_int_equal(f->st.bytes, 6 * (4 + 4 + 32 + 4));
	/* A uniform chunk's attempts skip the bits. */
	memset(&f->st, 0, sizeof(f->st));
	assert_sd_err(hfx_read(f, 4, 0, 6),
		      f->loc, SD_ERR_CHUNK_RETRIES, 4, DESC(4));
	assert_int_equal(f->st.bytes, 6 * 12);
	/* Paused: one attempt, and a count that moves is still not trusted. */
	memset(&f->st, 0, sizeof(f->st));
	assert_sd_err(hfx_read(f, 2, SD_READ_PAUSED, 6),
		      f->loc, SD_ERR_CHUNK_RETRIES, 2, DESC(2));
	assert_int_equal(f->st.attempts, 1);
}

static void reader_settles_once_count_stops_changing(void **state)
{
	struct tfx *f = *state;

	assert_int_equal(hfx_register(f), 0);
	hook_mode = HOOK_CHANGING_FOR_N;
	hook_n = 5;		/* loads 1-5 move; attempts 1 and 2 fail, 3 settles */
	memset(&f->st, 0, sizeof(f->st));
	assert_int_equal(hfx_read(f, 2, 0, 6), 0);
	assert_int_equal(f->st.attempts, 3);
	assert_int_equal(f->st.retries, 2);
	assert_int_equal(f->st.unsettled, 0);
	assert_int_equal(f->ch.v.seq, tbuild_desc(&f->t, 2)->seq + 10);
	assert_int_equal(f->ch.v.nr_shared, 40);
}

static void walks_bound_work_when_no_count_settles(void **state)
{
	struct tfx *f = *state;
	struct truns r = { 0 };
	struct sd_host_incr incr = { .nr_chunks = 16, .seqs = calloc(16, 4),
				     .bits = calloc(64, 8) };
	SD_HOST_OPTS(sd_host_walk_opts, co, .flags = SD_READ_UNSETTLED_OK, .max_attempts = 7,
		     .fn = truns_fn, .chunk_fn = truns_chunk_fn, .ctx = &r, .stats = &f->st);

	assert_int_equal(hfx_register(f), 0);
	assert_int_equal(sd_host_incr_init(&f->reg, &f->mem, &incr, NULL), 0);
	hook_mode = HOOK_CHANGING;

	/* The first chunk fails the walk, after exactly its budget. */
	assert_sd_err(hfx_walk(f, 0, 7, &r), f->loc, SD_ERR_CHUNK_RETRIES, 0, DESC(0));
	assert_int_equal(f->st.attempts, 7);
	assert_int_equal(r.n, 0);

	/* Going on past unsettled chunks: every chunk exactly its budget, no more. */
	assert_int_equal(hfx_walk(f, SD_READ_UNSETTLED_OK, 7, &r), 0);
	assert_int_equal(f->st.chunks, 16);
	assert_int_equal(f->st.attempts, 16 * 7);
	assert_int_equal(f->st.unsettled, 16);
	/*
	 * Chunks 0 and 2 are non-uniform, the other 14 are read as summaries;
	 * the probe of chunks 8..15 (chunk 0's group holds the table) saw the
	 * counts move, and cost one descriptor load each besides.
	 */
	assert_int_equal(f->st.bytes, 2 * 7 * (12 + 32) + 14 * 7 * 12 + 8 * 12);
	assert_true(f->st.bytes <= 16 * 7 * ATTEMPT_MAX);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].gfn, 0);
	assert_int_equal(r.v[0].n, 4096);
	assert_int_equal(r.v[0].state, SD_PAGE_UNSETTLED);
	truns_reset(&r);

	/* The incremental walk sees every count moved, and gives up on each within budget. */
	memset(&f->st, 0, sizeof(f->st));
	assert_int_equal(sd_host_walk_changes(&f->reg, &f->mem, &incr, f->scratch, &co), 0);
	assert_int_equal(r.chunks, 16);
	assert_int_equal(f->st.attempts, 16 * 7);
	assert_int_equal(f->st.bytes, 16 * 4 + 2 * 7 * (12 + 32) + 14 * 7 * 12);
	assert_int_equal(r.pages[SD_PAGE_UNSETTLED], 4096);
	for (int i = 0; i < 16; i++)
		assert_int_equal(incr.seqs[i] & 1, 1);
	truns_reset(&r);

	/* Registration too: the table's chunk within cfg->max_attempts. */
	assert_sd_err(hfx_register(f), f->loc, SD_ERR_CHUNK_RETRIES, 0, DESC(0));
	assert_int_equal(f->st.attempts, 5);
	assert_int_equal(f->st.bytes, 128 + 5 * (4 + 8 + 4));
	free(incr.seqs);
	free(incr.bits);
}

static void counts_stuck_odd_cost_one_load_per_attempt(void **state)
{
	struct tfx *f = *state;
	struct truns r = { 0 };

	assert_int_equal(hfx_register(f), 0);
	for (int i = 0; i < 16; i++)
		tbuild_desc(&f->t, i)->seq = 0xffffffffu;
	assert_sd_err(hfx_walk(f, 0, 1000, &r), f->loc, SD_ERR_CHUNK_ODD, 0, DESC(0));
	assert_int_equal(f->st.attempts, 1000);
	assert_int_equal(f->st.bytes, 1000 * 4);
	assert_int_equal(hfx_walk(f, SD_READ_UNSETTLED_OK, 1000, &r), 0);
	assert_int_equal(f->st.attempts, 16 * 1000);
	/* And the probe of chunks 8..15, which saw them odd: 12 bytes each. */
	assert_int_equal(f->st.bytes, 16 * 1000 * 4 + 8 * 12);
	truns_reset(&r);
	assert_sd_err(hfx_register(f), f->loc, SD_ERR_CHUNK_ODD, 0, DESC(0));
	assert_int_equal(f->st.attempts, 5);
	assert_true(f->reg.active);	/* the earlier registration stands */
	/* Paused, every chunk is decided at once: here, by its empty pending range. */
	assert_sd_err(hfx_walk(f, SD_READ_PAUSED, 1000, &r), f->loc, SD_ERR_CHUNK_PENDING, 0,
		      DESC(0) + 8);
	assert_int_equal(f->st.attempts, 1);
	truns_reset(&r);
}

/* ---- hostile images: each rejected exactly, within the bound ---------------- */

struct himg {
	const char *what;
	void (*hurt)(struct tfx *f);
	u32 flags;
	int err;
	u64 chunk, off;
};

static void hurt_popcount(struct tfx *f)
{
	tbuild_desc(&f->t, 2)->nr_shared = 41;
}

static void hurt_bit_flipped(struct tfx *f)
{
	tbuild_bits(&f->t, 9)[3] ^= 1ULL << 17;		/* no window, no count */
}

static void hurt_pending_outside(struct tfx *f)
{
	tbuild_open(&f->t, 2, 200, 57);
}

static void hurt_pending_overflow(struct tfx *f)
{
	tbuild_open(&f->t, 2, 0x80000000u, 0x80000001u);
}

static void hurt_desc_offset_overflow(struct tfx *f)
{
	tbuild_hdr(&f->t)->desc_offset = 0xfffffffffffffff0ULL;
}

static void hurt_bitmap_offset_overflow(struct tfx *f)
{
	tbuild_hdr(&f->t)->bitmap_offset = 0xfffffffffffff000ULL;
}

static void hurt_span_overflow(struct tfx *f)
{
	tbuild_hdr(&f->t)->first_gfn = 0xffffffffffffff00ULL;
}

static void hurt_nr_chunks_overflow(struct tfx *f)
{
	/* A span that would need 2^40 / 256 chunks: more descriptors than the table holds. */
	tbuild_hdr(&f->t)->nr_gfns = 1ULL << 40;
	tbuild_hdr(&f->t)->nr_chunks = 1ULL << 32;
	f->cfg.lim.ram_end_gfn = 4096;
}

static void hurt_table_size_huge(struct tfx *f)
{
	tbuild_hdr(&f->t)->table_size = 1ULL << 62;
}

static void hurt_incompat(struct tfx *f)
{
	tbuild_hdr(&f->t)->incompat_features = 1ULL << 5;
}

static void hurt_ram_bigger_than_span(struct tfx *f)
{
	f->cfg.lim.ram_end_gfn = 8192;
}

static void hurt_table_outside_ram(struct tfx *f)
{
	/* The span covers 4096 pages, but RAM (memory the host backs) ends before the table. */
	f->cfg.lim.ram_end_gfn = 2;
	f->m.r[0].ptr = NULL;
	f->m.n = 0;
}

static void hurt_table_overlaps_ram_end(struct tfx *f)
{
	f->m.r[0].len = 2048;
}

static void hurt_truncated(struct tfx *f)
{
	f->m.r[0].len = 128;		/* the header is all there is */
}

static void hurt_mmio(struct tfx *f)
{
	f->m.r[0].kind = TMEM_MMIO;
}

static void hurt_split(struct tfx *f)
{
	f->m.r[0].len = 1024;
	tmem_add(&f->m, T_GPA + 1024, 3072, f->t.mem + 1024, TMEM_RAM);
}

static void hurt_table_private(struct tfx *f)
{
	tbuild_set(&f->t, 3, 1, false);
}

static void hurt_table_in_window(struct tfx *f)
{
	tbuild_open(&f->t, 0, 0, 100);
}

static void hurt_pad(struct tfx *f)
{
	/* A 4000-page span: the last chunk (15) has 160 pages. */
	tbuild_hdr(&f->t)->nr_gfns = 4000;
	f->cfg.lim.ram_end_gfn = 4000;
	tbuild_bits(&f->t, 15)[3] = 1;
	tbuild_desc(&f->t, 15)->nr_shared = 1;
}

static const struct himg himgs[] = {
	{ "popcount mismatch", hurt_popcount, 0, SD_ERR_CHUNK_COUNT, 2, DESC(2) + 4 },
	{ "bit flipped", hurt_bit_flipped, 0, SD_ERR_CHUNK_COUNT, 9, DESC(9) + 4 },
	{ "pending outside chunk", hurt_pending_outside, SD_READ_PAUSED, SD_ERR_CHUNK_PENDING,
	  2, DESC(2) + 8 },
	{ "pending overflows", hurt_pending_overflow, SD_READ_PAUSED, SD_ERR_CHUNK_PENDING, 2,
	  DESC(2) + 8 },
	{ "desc offset overflows", hurt_desc_offset_overflow, 0, SD_ERR_GEOM_DESC, SD_LOC_NONE,
	  SD_HDR_OFF(desc_offset) },
	{ "bitmap offset overflows", hurt_bitmap_offset_overflow, 0, SD_ERR_GEOM_BITMAP,
	  SD_LOC_NONE, SD_HDR_OFF(bitmap_offset) },
	{ "span overflows", hurt_span_overflow, 0, SD_ERR_GEOM_SPAN, SD_LOC_NONE, SD_HDR_OFF(nr_gfns) },
	{ "descriptors overflow the table", hurt_nr_chunks_overflow, 0, SD_ERR_GEOM_DESC,
	  SD_LOC_NONE, SD_HDR_OFF(desc_offset) },
	{ "table size huge", hurt_table_size_huge, 0, SD_ERR_GEOM_TABLE_SIZE, SD_LOC_NONE,
	  SD_HDR_OFF(table_size) },
	{ "unknown incompat bit", hurt_incompat, 0, SD_ERR_HDR_INCOMPAT, SD_LOC_NONE,
	  SD_HDR_OFF(incompat_features) },
	{ "geometry misses RAM", hurt_ram_bigger_than_span, 0, SD_ERR_GEOM_RAM, SD_LOC_NONE,
	  SD_HDR_OFF(first_gfn) },
	{ "table outside RAM", hurt_table_outside_ram, 0, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, 0 },
	{ "table overlaps end of RAM", hurt_table_overlaps_ram_end, 0, SD_ERR_MEM_UNBACKED,
	  SD_LOC_NONE, 0 },
	{ "truncated image", hurt_truncated, 0, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, 0 },
	{ "table in MMIO", hurt_mmio, 0, SD_ERR_MEM_MMIO, SD_LOC_NONE, 0 },
	{ "table across memslots", hurt_split, 0, SD_ERR_MEM_SPLIT, SD_LOC_NONE, 0 },
	{ "table page private", hurt_table_private, 0, SD_ERR_TABLE_NOT_SHARED, 0, BITS(0) },
	{ "table page in a window", hurt_table_in_window, SD_READ_PAUSED,
	  SD_ERR_TABLE_NOT_SHARED, 0, DESC(0) + 8 },
	{ "bit past the span", hurt_pad, 0, SD_ERR_CHUNK_PAD, 15, BITS(15) + 24 },
};

static void hostile_images_are_rejected_within_bounds(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(himgs); i++) {
		const struct himg *c = &himgs[i];
		struct tfx *f;
		struct truns r = { 0 };
		u64 max_bytes;
		int rc;

		hfx_setup((void **)&f);
		c->hurt(f);
		memset(&f->st, 0, sizeof(f->st));
		rc = hfx_register_flags(f, c->flags);
		/* Registration: a header, and the table's one chunk within its budget. */
		assert_true(f->st.bytes <= 128 + f->cfg.max_attempts * ATTEMPT_MAX);
		if (!rc) {
			rc = hfx_walk_more(f, c->flags | SD_READ_STRICT, 9, &r);
			max_bytes = 128 + f->cfg.max_attempts * ATTEMPT_MAX + 16 * 9 * ATTEMPT_MAX;
			assert_true(f->st.bytes <= max_bytes);
			assert_true(f->st.attempts <= 1 + 16 * 9);
		}
		if (rc != -c->err)
			fail_msg("%s: got %s, want %s", c->what, sd_err_name(rc),
				 sd_err_name(-c->err));
		assert_sd_err(rc, f->loc, c->err, c->chunk, c->off);
		truns_reset(&r);
		hfx_teardown((void **)&f);
	}
}

/* ---- the header rewritten after registration --------------------------------- */

static void host_keeps_its_header_copy_after_guest_rewrites_it(void **state)
{
	struct tfx *f = *state;
	struct truns before = { 0 }, after = { 0 };
	struct sd_table_header *h = tbuild_hdr(&f->t);
	struct sd_host_stats st_before;

	assert_int_equal(hfx_register(f), 0);
	assert_int_equal(hfx_walk(f, SD_READ_STRICT, 1, &before), 0);
	st_before = f->st;
	/* Everything that could steer the host, rewritten to point elsewhere. */
	h->nr_gfns = 1ULL << 40;
	h->nr_chunks = 1ULL << 32;
	h->pages_per_chunk = 64;
	h->desc_offset = 0xfffffffffffffff0ULL;
	h->bitmap_offset = 0x100000000ULL;
	h->table_size = 1ULL << 40;
	h->magic = 0;
	assert_int_equal(hfx_walk(f, SD_READ_STRICT, 1, &after), 0);
	truns_assert_equal(&after, &before);
	assert_memory_equal(&f->st, &st_before, sizeof(st_before));
	assert_int_equal(f->reg.geom.nr_gfns, 4096);
	/* Only a comparison notices, naming the first changed field. */
	assert_sd_err(sd_host_check_header(&f->reg, &f->mem, &f->loc), f->loc,
		      SD_ERR_HDR_CHANGED, SD_LOC_NONE, SD_HDR_OFF(magic));
	h->magic = SD_MAGIC;
	assert_sd_err(sd_host_check_header(&f->reg, &f->mem, &f->loc), f->loc,
		      SD_ERR_HDR_CHANGED, SD_LOC_NONE, SD_HDR_OFF(nr_gfns));
	/* And re-registering now fails, leaving the old registration in place. */
	assert_sd_err(hfx_register(f), f->loc, SD_ERR_GEOM_NR_CHUNKS, SD_LOC_NONE,
		      SD_HDR_OFF(nr_chunks));
	assert_int_equal(f->reg.generation, 1);
	truns_reset(&before);
	truns_reset(&after);
}

/* ---- random damage: never a crash, always within bounds, verdict as reference ---- */

/*
 * A batched walk (batch_fn) of f's table with @flags returns @want_rc, as
 * the per-run walk did, having read @want_bytes; on success it reports
 * exactly @want's runs, on failure a prefix of them and at most one more.
 */
static void hfx_batch_agrees(struct tfx *f, u32 flags, int want_rc, const struct truns *want,
			     u64 want_bytes)
{
	struct sd_host_extent buf[SD_HOST_BATCH_MIN];
	struct truns got = { 0 };
	struct tbatch tb = { .r = &got, .buf = buf, .len = SD_HOST_BATCH_MIN };
	struct sd_host_stats st = { 0 };
	struct sd_errloc loc = { 0 };
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 3, .batch_fn = tbatch_fn,
		     .ctx = &tb, .batch = buf, .batch_len = SD_HOST_BATCH_MIN, .stats = &st,
		     .loc = &loc);
	int rc = sd_host_walk(&f->reg, &f->mem, f->scratch, &o);

	if (rc != want_rc)
		fail_msg("batched walk %s, per-run walk %s", sd_err_name(rc), sd_err_name(want_rc));
	assert_int_equal(st.bytes, want_bytes);
	if (!rc) {
		truns_assert_equal(&got, want);
	} else {
		assert_true(got.n <= want->n + 1);
		for (u64 i = 0; i + 1 < got.n; i++) {
			assert_int_equal(got.v[i].gfn, want->v[i].gfn);
			assert_int_equal(got.v[i].n, want->v[i].n);
			assert_int_equal(got.v[i].state, want->v[i].state);
		}
	}
	truns_reset(&got);
}

static void random_damage_is_bounded_and_agrees_with_reference(void **state)
{
	u64 seed = 99;
	int rejected = 0;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct tfx *f;
		struct truns r = { 0 };
		struct tcheck_stats ref;
		struct sd_limits lim;
		struct sd_errloc rloc;
		u32 flags = (sd_splitmix64(&seed) & 1) ? SD_READ_PAUSED : 0;
		int nmut = 1 + (int)(sd_splitmix64(&seed) % 4);
		int rc, want;

		hfx_setup((void **)&f);
		for (int i = 0; i < nmut; i++) {
			u64 off = sd_splitmix64(&seed) % 1024;	/* header, descriptors, bitmap */
			u8 v = (u8)sd_splitmix64(&seed);

			if (sd_splitmix64(&seed) & 1)
				v = (u8)(1u << (sd_splitmix64(&seed) % 8)) ^ f->t.mem[off];
			f->t.mem[off] = v;
		}
		lim = f->cfg.lim;
		want = tcheck_image(f->t.mem, f->t.g.table_size, T_GPA, &lim, flags, &rloc, &ref);
		rc = hfx_register_flags(f, flags);
		if (!rc) {
			u64 reg_bytes = f->st.bytes;

			rc = hfx_walk_more(f, flags | SD_READ_STRICT, 3, &r);
			/* The batched walk of the same damage: the same verdict and runs, the same work. */
			hfx_batch_agrees(f, flags | SD_READ_STRICT, rc, &r, f->st.bytes - reg_bytes);
		}
		/* The host's limits bound the table at one page: 16 chunks of at most 64 KiB... */
		assert_true(f->st.bytes <= 128 + 5 * (24 + 4096) + 16 * 3 * (24 + 4096));
		if ((rc == 0) != (want == 0))
			fail_msg("round %d: host %s, reference %s", round, sd_err_name(rc),
				 sd_err_name(want));
		if (!rc) {
			assert_int_equal(r.pages[SD_PAGE_SHARED], ref.shared);
			assert_int_equal(r.pages[SD_PAGE_TRANSITION], ref.transition);
			assert_int_equal(r.runs[SD_PAGE_SHARED], ref.extents);
		} else {
			rejected++;
		}
		truns_reset(&r);
		hfx_teardown((void **)&f);
	}
	print_message("random damage: 3000 images, %d rejected, all within bounds\n", rejected);
	assert_true(rejected > 0 && rejected < 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reader_rejects_count_changing_on_every_load,
						hfx_setup, hfx_teardown),
		cmocka_unit_test_setup_teardown(reader_settles_once_count_stops_changing,
						hfx_setup, hfx_teardown),
		cmocka_unit_test_setup_teardown(walks_bound_work_when_no_count_settles,
						hfx_setup, hfx_teardown),
		cmocka_unit_test_setup_teardown(counts_stuck_odd_cost_one_load_per_attempt,
						hfx_setup, hfx_teardown),
		cmocka_unit_test(hostile_images_are_rejected_within_bounds),
		cmocka_unit_test_setup_teardown(host_keeps_its_header_copy_after_guest_rewrites_it,
						hfx_setup, hfx_teardown),
		cmocka_unit_test(random_damage_is_bounded_and_agrees_with_reference),
	};

	return cmocka_run_group_tests_name("host: hostile guest", tests, NULL, NULL);
}
