// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_baseline.c - the benchmarks' baselines are what they claim to be:
 *   - the region list (bl_rlist) holds exactly the maximal shared runs of a
 *     page-by-page reference under random splits and merges, one node per
 *     run, and answers lookups as the reference does;
 *   - the host-kept bitmap (bl_encmap) follows the hypercall's encrypted
 *     bit and copies out exactly the reference's bits;
 *   - for one state, written by guest/ into a table and read by host/
 *     through the per-page cursor, every page's answer equals the region
 *     list's;
 *   - the layout generators produce exactly the documented counts, sizes
 *     and bounds.
 */
#include "host_util.h"
#include "sd_guest.h"
#include "baseline.h"

/* ---- reference -------------------------------------------------------------------- */

static void ref_set(u8 *ref, u64 start, u64 end, u8 v)
{
	for (u64 p = start; p < end; p++)
		ref[p] = v;
}

/*
 * The list's shape (sorted, disjoint, never touching, links consistent,
 * count right, nodes balanced against the heap) and its contents, against
 * the maximal runs of @ref.
 */
static void rlist_assert_matches(const struct bl_rlist *l, const u8 *ref, u64 n)
{
	const struct bl_region *r = l->head, *prev = NULL;
	u64 nodes = 0, p = 0;

	while (p < n) {
		u64 q;

		if (!ref[p]) {
			p++;
			continue;
		}
		for (q = p; q < n && ref[q]; q++)
			;
		if (!r)
			fail_msg("run [%llu, %llu) missing from the list", (unsigned long long)p,
				 (unsigned long long)q);
		if (r->start != p || r->end != q)
			fail_msg("node [%llu, %llu), want run [%llu, %llu)",
				 (unsigned long long)r->start, (unsigned long long)r->end,
				 (unsigned long long)p, (unsigned long long)q);
		assert_ptr_equal(r->prev, prev);
		prev = r;
		r = r->next;
		nodes++;
		p = q;
	}
	assert_null(r);
	assert_ptr_equal(l->tail, prev);
	assert_int_equal(l->nr, nodes);
	assert_int_equal(l->allocs - l->frees, nodes);
}

/* ---- the region list: one behaviour each -------------------------------------------- */

static void rlist_add_into_empty_list_makes_one_node(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_add(&l, 10, 20), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.head->start, 10);
	assert_int_equal(l.head->end, 20);
	assert_false(bl_rlist_is_shared(&l, 9));
	assert_true(bl_rlist_is_shared(&l, 10));
	assert_true(bl_rlist_is_shared(&l, 19));
	assert_false(bl_rlist_is_shared(&l, 20));
	bl_rlist_free(&l);
	assert_int_equal(l.allocs, 1);
	assert_int_equal(l.frees, 1);
}

static void rlist_add_touching_ranges_merge_into_one_node(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_add(&l, 10, 20), 0);
	assert_int_equal(bl_rlist_add(&l, 20, 30), 0);	/* touches the end */
	assert_int_equal(bl_rlist_add(&l, 5, 10), 0);	/* touches the start */
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.allocs, 1);
	assert_int_equal(l.head->start, 5);
	assert_int_equal(l.head->end, 30);
	bl_rlist_free(&l);
}

static void rlist_add_bridging_range_merges_three_nodes(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_add(&l, 50, 60), 0);
	assert_int_equal(bl_rlist_add(&l, 10, 20), 0);
	assert_int_equal(bl_rlist_add(&l, 30, 40), 0);
	assert_int_equal(l.nr, 3);
	assert_int_equal(l.head->start, 10);	/* kept sorted */
	assert_int_equal(l.tail->start, 50);
	assert_int_equal(bl_rlist_add(&l, 15, 55), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.frees, 2);
	assert_int_equal(l.head->start, 10);
	assert_int_equal(l.head->end, 60);
	bl_rlist_free(&l);
}

static void rlist_add_inside_region_changes_nothing(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_add(&l, 10, 40), 0);
	assert_int_equal(bl_rlist_add(&l, 20, 30), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.allocs, 1);
	assert_int_equal(l.head->start, 10);
	assert_int_equal(l.head->end, 40);
	bl_rlist_free(&l);
}

static void rlist_remove_middle_splits_node(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_add(&l, 10, 40), 0);
	assert_int_equal(bl_rlist_remove(&l, 20, 30), 0);
	assert_int_equal(l.nr, 2);
	assert_int_equal(l.allocs, 2);
	assert_int_equal(l.head->start, 10);
	assert_int_equal(l.head->end, 20);
	assert_int_equal(l.tail->start, 30);
	assert_int_equal(l.tail->end, 40);
	assert_ptr_equal(l.tail->prev, l.head);
	assert_false(bl_rlist_is_shared(&l, 25));
	bl_rlist_free(&l);
}

static void rlist_remove_exact_region_frees_node(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_add(&l, 10, 20), 0);
	assert_int_equal(bl_rlist_add(&l, 30, 40), 0);
	assert_int_equal(bl_rlist_remove(&l, 10, 20), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.frees, 1);
	assert_int_equal(l.head->start, 30);
	assert_null(l.head->prev);
	bl_rlist_free(&l);
}

static void rlist_remove_across_regions_trims_both_ends(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_add(&l, 10, 20), 0);
	assert_int_equal(bl_rlist_add(&l, 30, 40), 0);
	assert_int_equal(bl_rlist_add(&l, 50, 60), 0);
	assert_int_equal(bl_rlist_remove(&l, 15, 55), 0);
	assert_int_equal(l.nr, 2);
	assert_int_equal(l.head->start, 10);
	assert_int_equal(l.head->end, 15);
	assert_int_equal(l.tail->start, 55);
	assert_int_equal(l.tail->end, 60);
	/* Nothing there: a no-op. */
	assert_int_equal(bl_rlist_remove(&l, 20, 50), 0);
	assert_int_equal(l.nr, 2);
	bl_rlist_free(&l);
}

static void rlist_rejects_bad_ranges_and_hypercall_arguments(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_add(&l, 5, 5), -EINVAL);
	assert_int_equal(bl_rlist_remove(&l, 6, 5), -EINVAL);
	assert_int_equal(bl_rlist_map_gpa_range(&l, 0x1001, 1, 0), -EINVAL);	/* unaligned */
	assert_int_equal(bl_rlist_map_gpa_range(&l, 0x1000, 0, 0), -EINVAL);	/* no pages */
	/* a reserved attribute bit */
	assert_int_equal(bl_rlist_map_gpa_range(&l, 0x1000, 1, 1u << 5), -EINVAL);
	assert_int_equal(bl_rlist_map_gpa_range(&l, 0x1000, 1, 3), -EINVAL);	/* page size 3 */
	assert_int_equal(bl_rlist_map_gpa_range(&l, ~0xfffULL, 2, 0), -EINVAL);	/* wraps */
	assert_int_equal(l.nr, 0);
	assert_int_equal(l.allocs, 0);
	bl_rlist_free(&l);
}

static void rlist_map_gpa_range_follows_encrypted_bit(void **state)
{
	struct bl_rlist l;

	(void)state;
	bl_rlist_init(&l);
	assert_int_equal(bl_rlist_map_gpa_range(&l, 0x200000, 512,
						BL_MAP_GPA_RANGE_PAGE_SZ_2M |
						BL_MAP_GPA_RANGE_DECRYPTED), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.head->start, 0x200);
	assert_int_equal(l.head->end, 0x400);
	assert_int_equal(bl_rlist_map_gpa_range(&l, 0x201000, 1,
						BL_MAP_GPA_RANGE_PAGE_SZ_4K |
						BL_MAP_GPA_RANGE_ENCRYPTED), 0);
	assert_int_equal(l.nr, 2);
	assert_false(bl_rlist_is_shared(&l, 0x201));
	assert_true(bl_rlist_is_shared(&l, 0x200));
	assert_true(bl_rlist_is_shared(&l, 0x202));
	bl_rlist_free(&l);
}

/* A random range: mostly short, sometimes up to 64 pages, rarely up to the whole span. */
static void rand_range(u64 *seed, u64 n, u64 *start, u64 *end)
{
	u64 r = sd_splitmix64(seed), len;

	if ((r & 63) == 0)
		len = 1 + sd_splitmix64(seed) % n;
	else if ((r & 7) < 3)
		len = 1 + sd_splitmix64(seed) % 64;
	else
		len = 1 + sd_splitmix64(seed) % 4;
	*start = sd_splitmix64(seed) % n;
	if (len > n - *start)
		len = n - *start;
	*end = *start + len;
}

static void rlist_matches_reference_under_random_splits_and_merges(void **state)
{
	const u64 n = 4096;
	u8 *ref = calloc(n, 1);
	struct bl_rlist l;
	u64 seed = 0x5eed0001, max_nodes = 0;

	(void)state;
	assert_non_null(ref);
	bl_rlist_init(&l);
	for (int i = 0; i < 20000; i++) {
		u64 s, e;
		bool shared = sd_splitmix64(&seed) & 1;

		rand_range(&seed, n, &s, &e);
		assert_int_equal(bl_rlist_map_gpa_range(&l, s << 12, e - s,
							shared ? BL_MAP_GPA_RANGE_DECRYPTED
							       : BL_MAP_GPA_RANGE_ENCRYPTED), 0);
		ref_set(ref, s, e, shared);
		rlist_assert_matches(&l, ref, n);
		max_nodes = SD_MAX(max_nodes, l.nr);
		if (i % 1000 == 0)
			for (u64 p = 0; p < n; p++)
				assert_int_equal(bl_rlist_is_shared(&l, p), ref[p]);
	}
	/* The walk really split and merged: many nodes at some point. */
	assert_true(max_nodes > 100);
	bl_rlist_free(&l);
	assert_int_equal(l.allocs, l.frees);
	free(ref);
}

/* ---- the host-kept bitmap ------------------------------------------------------------ */

static void encmap_matches_reference_and_copies_out(void **state)
{
	const u64 n = 5000;	/* not a multiple of 64 */
	u8 *ref = calloc(n, 1);
	u64 *copy = calloc((n + 63) / 64, sizeof(u64));
	struct bl_encmap m;
	u64 seed = 0x5eed0002;

	(void)state;
	assert_non_null(ref);
	assert_non_null(copy);
	assert_int_equal(bl_encmap_init(&m, 0x100000, n), 0);
	assert_int_equal(m.bytes, (n + 63) / 64 * 8);
	for (int i = 0; i < 5000; i++) {
		u64 s, e;
		bool shared = sd_splitmix64(&seed) & 1;

		rand_range(&seed, n, &s, &e);
		u64 attrs = shared ? 0 : BL_MAP_GPA_RANGE_ENCRYPTED;

		assert_int_equal(bl_encmap_map_gpa_range(&m, (0x100000 + s) << 12, e - s, attrs),
				 0);
		ref_set(ref, s, e, shared);
	}
	assert_int_equal(bl_encmap_get(&m, 0x100000, n, copy), 0);
	for (u64 p = 0; p < n; p++)
		assert_int_equal(sd_bit_test(copy, p), ref[p]);
	/* A part, from a word boundary. */
	memset(copy, 0, (n + 63) / 64 * 8);
	assert_int_equal(bl_encmap_get(&m, 0x100000 + 128, 200, copy), 0);
	for (u64 p = 0; p < 200; p++)
		assert_int_equal(sd_bit_test(copy, p), ref[128 + p]);
	bl_encmap_free(&m);
	free(ref);
	free(copy);
}

static void encmap_rejects_out_of_range_and_unaligned_requests(void **state)
{
	struct bl_encmap m;
	u64 w[4];

	(void)state;
	assert_int_equal(bl_encmap_init(&m, 64, 128), 0);
	assert_int_equal(bl_encmap_map_gpa_range(&m, 63 << 12, 1, 0), -ERANGE);	/* below */
	assert_int_equal(bl_encmap_map_gpa_range(&m, 191 << 12, 2, 0), -ERANGE);	/* end */
	assert_int_equal(bl_encmap_map_gpa_range(&m, 191 << 12, 1, 0), 0);	/* the last page */
	assert_int_equal(bl_encmap_map_gpa_range(&m, 64 << 12, 1, 1u << 7), -EINVAL);
	assert_int_equal(bl_encmap_get(&m, 65, 1, w), -EINVAL);		/* not word-aligned */
	assert_int_equal(bl_encmap_get(&m, 64, 0, w), -EINVAL);
	assert_int_equal(bl_encmap_get(&m, 128, 65, w), -ERANGE);
	assert_int_equal(bl_encmap_get(&m, 0, 64, w), -ERANGE);
	assert_int_equal(bl_encmap_get(&m, 128, 64, w), 0);
	assert_int_equal(w[0], 1ULL << 63);
	bl_encmap_free(&m);
}

/* ---- this protocol, for the same state --------------------------------------------------- */

#define PX_SPAN		(1ULL << 16)	/* 256 MiB */
#define PX_PPC		512		/* 128 chunks: many uniform ones */
#define PX_TABLE_GFN	(PX_SPAN - 64)

struct px {
	struct sd_guest g;
	void *table, *priv;
	struct tmem m;
	struct sd_host_mem mem;
	struct sd_host_cfg cfg;
	struct sd_host_reg reg;
};

static struct px *px_new(void)
{
	struct px *x = calloc(1, sizeof(*x));
	u64 tb = sd_guest_table_bytes(0, PX_SPAN, PX_PPC);
	u64 pb = sd_guest_priv_bytes(0, PX_SPAN, PX_PPC);

	assert_non_null(x);
	x->table = test_alloc(4096, tb);
	x->priv = test_alloc(64, pb);
	assert_int_equal(sd_guest_init(&x->g, 0, PX_SPAN, PX_PPC, x->table, PX_TABLE_GFN << 12,
				       tb, x->priv, pb), 0);
	tmem_add(&x->m, PX_TABLE_GFN << 12, tb, x->table, TMEM_RAM);
	x->mem = tmem_host(&x->m);
	x->cfg = (struct sd_host_cfg){
		.lim = { .ram_first_gfn = 0, .ram_end_gfn = PX_SPAN, .gfn_limit = SD_GFN_LIMIT,
			 .max_table_bytes = tb },
		.phys_bits = 52,
		.max_attempts = 4,
	};
	assert_int_equal(sd_host_register(&x->reg, &x->cfg, &x->mem, (PX_TABLE_GFN << 12) | 1,
					  NULL), 0);
	return x;
}

static void px_free(struct px *x)
{
	free(x->table);
	free(x->priv);
	free(x);
}

static void cursor_agrees_with_region_list_for_same_state(void **state)
{
	struct px *x = px_new();
	struct bl_rlist l;
	struct bl_cursor *c = calloc(1, sizeof(*c));
	u64 seed = 0x5eed0003, table_pages = x->g.g.table_size >> 12;
	u64 shared = 0, work = PX_TABLE_GFN;

	(void)state;
	assert_non_null(c);
	bl_rlist_init(&l);
	/* The table's own pages are shared in both worlds. */
	assert_int_equal(bl_rlist_add(&l, PX_TABLE_GFN, PX_TABLE_GFN + table_pages), 0);
	/* A whole chunk shared (a uniform shared chunk), then random changes below the table. */
	assert_int_equal(sd_guest_set(&x->g, 5 * PX_PPC, PX_PPC, true), 0);
	assert_int_equal(bl_rlist_add(&l, 5 * PX_PPC, 6 * PX_PPC), 0);
	for (int i = 0; i < 3000; i++) {
		u64 s, e;
		bool sh = sd_splitmix64(&seed) & 1;

		/* The lower quarter: the rest stays uniform. */
		rand_range(&seed, work / 4, &s, &e);
		assert_int_equal(sd_guest_set(&x->g, s, e - s, sh), 0);
		assert_int_equal(sh ? bl_rlist_add(&l, s, e) : bl_rlist_remove(&l, s, e), 0);
	}
	bl_cursor_init(c, &x->reg, &x->mem, 4);
	for (u64 p = 0; p < PX_SPAN; p++) {
		int st = bl_cursor_state(c, p);

		if (st != (int)bl_rlist_is_shared(&l, p))
			fail_msg("page %llu: cursor %d, region list %d", (unsigned long long)p, st,
				 bl_rlist_is_shared(&l, p));
		shared += st == SD_PAGE_SHARED;
	}
	/* Each chunk read once, in order; the uniform ones without their bitmap. */
	assert_int_equal(c->st.chunks, PX_SPAN / PX_PPC);
	assert_int_equal(c->st.unsettled, 0);
	assert_true(c->st.summary_chunks >= PX_SPAN / PX_PPC * 3 / 4 - 2);
	assert_true(c->st.summary_chunks < PX_SPAN / PX_PPC);
	assert_true(shared > PX_PPC + table_pages);
	assert_int_equal(bl_cursor_state(c, PX_SPAN), -SD_ERR_RANGE);
	bl_rlist_free(&l);
	free(c);
	px_free(x);
}

static void cursor_reports_unsettled_chunk_inside_open_window(void **state)
{
	struct px *x = px_new();
	struct bl_cursor *c = calloc(1, sizeof(*c));

	(void)state;
	assert_non_null(c);
	assert_int_equal(sd_guest_set(&x->g, 3 * PX_PPC + 7, 1, true), 0);
	assert_int_equal(sd_guest_begin(&x->g, 3 * PX_PPC + 9, 2, true), 0);	/* chunk 3 odd */
	bl_cursor_init(c, &x->reg, &x->mem, 2);
	assert_int_equal(bl_cursor_state(c, 2 * PX_PPC + 7), SD_PAGE_PRIVATE);
	assert_int_equal(bl_cursor_state(c, 3 * PX_PPC + 7), SD_PAGE_UNSETTLED);
	assert_int_equal(bl_cursor_state(c, 3 * PX_PPC + 100), SD_PAGE_UNSETTLED);
	assert_int_equal(c->st.unsettled, 1);
	assert_int_equal(c->st.attempts, 1 + 2);	/* chunk 2 once, chunk 3 twice */
	assert_int_equal(sd_guest_commit(&x->g, 3 * PX_PPC + 9, 2, true), 0);
	bl_cursor_init(c, &x->reg, &x->mem, 2);
	assert_int_equal(bl_cursor_state(c, 3 * PX_PPC + 7), SD_PAGE_SHARED);
	assert_int_equal(bl_cursor_state(c, 3 * PX_PPC + 8), SD_PAGE_PRIVATE);
	assert_int_equal(bl_cursor_state(c, 3 * PX_PPC + 10), SD_PAGE_SHARED);
	free(c);
	px_free(x);
}

/* bl_cursor_chunk(): a chunk's bits, or its uniform state, or nothing when unsettled. */
static void cursor_chunk_hands_out_bits_uniform_state_or_null(void **state)
{
	struct px *x = px_new();
	struct bl_cursor *c = calloc(1, sizeof(*c));
	const u64 *bits;
	sd_gfn_t lo;
	u64 n;

	(void)state;
	assert_non_null(c);
	assert_int_equal(sd_guest_set(&x->g, 2 * PX_PPC, PX_PPC, true), 0);	/* 2: all shared */
	assert_int_equal(sd_guest_set(&x->g, 4 * PX_PPC + 65, 3, true), 0);	/* 4: mixed */
	assert_int_equal(sd_guest_begin(&x->g, 6 * PX_PPC + 9, 2, true), 0);	/* 6: odd */
	bl_cursor_init(c, &x->reg, &x->mem, 2);

	bits = bl_cursor_chunk(c, 1 * PX_PPC + 5, &lo, &n);		/* uniform private */
	assert_non_null(bits);
	assert_int_equal(lo, 1 * PX_PPC);
	assert_int_equal(n, PX_PPC);
	assert_int_equal(c->uniform, SD_PAGE_PRIVATE);
	assert_int_equal(sd_bitmap_weight(bits, 0, PX_PPC), 0);

	bits = bl_cursor_chunk(c, 2 * PX_PPC + PX_PPC - 1, &lo, &n);	/* uniform shared */
	assert_non_null(bits);
	assert_int_equal(lo, 2 * PX_PPC);
	assert_int_equal(c->uniform, SD_PAGE_SHARED);
	assert_int_equal(sd_bitmap_weight(bits, 0, PX_PPC), PX_PPC);
	assert_int_equal(bl_cursor_state(c, 2 * PX_PPC + 7), SD_PAGE_SHARED);

	bits = bl_cursor_chunk(c, 4 * PX_PPC, &lo, &n);			/* its bitmap */
	assert_non_null(bits);
	assert_int_equal(lo, 4 * PX_PPC);
	assert_int_equal(c->uniform, -1);
	assert_int_equal(sd_bitmap_weight(bits, 0, PX_PPC), 3);
	assert_int_equal(sd_bitmap_find(bits, 0, PX_PPC, true), 65);
	assert_int_equal(bl_cursor_state(c, 4 * PX_PPC + 64), SD_PAGE_PRIVATE);
	assert_int_equal(bl_cursor_state(c, 4 * PX_PPC + 67), SD_PAGE_SHARED);

	assert_null(bl_cursor_chunk(c, 6 * PX_PPC + 1, &lo, &n));	/* unsettled */
	assert_int_equal(lo, 6 * PX_PPC);
	assert_int_equal(n, PX_PPC);
	assert_int_equal(bl_cursor_state(c, 6 * PX_PPC + 1), SD_PAGE_UNSETTLED);

	assert_null(bl_cursor_chunk(c, PX_SPAN, &lo, &n));		/* outside the span */
	assert_int_equal(n, 0);
	assert_int_equal(bl_cursor_state(c, PX_SPAN), -SD_ERR_RANGE);
	/* Chunks 1, 2, 4 and 6 read once each (6 in two attempts), the span's end never. */
	assert_int_equal(c->st.chunks, 4);
	assert_int_equal(c->st.summary_chunks, 2);
	free(c);
	px_free(x);
}

/* ---- layouts ------------------------------------------------------------------------------ */

static void swiotlb_is_six_percent_clamped_to_64m_and_1g(void **state)
{
	(void)state;
	assert_int_equal(bl_swiotlb_pages(1ULL << 18), 16384);		/* 1 GiB: 64 MiB */
	assert_int_equal(bl_swiotlb_pages(1ULL << 20), 62464);		/* 4 GiB: 244 MiB */
	assert_int_equal(bl_swiotlb_pages(1ULL << 22), 251392);		/* 16 GiB: 982 MiB */
	assert_int_equal(bl_swiotlb_pages(1ULL << 24), 262144);		/* 64 GiB: 1 GiB */
	assert_int_equal(bl_swiotlb_pages(1ULL << 32), 262144);		/* 16 TiB: 1 GiB */
}

static void pattern_typical_has_60_regions_with_swiotlb_and_bss(void **state)
{
	struct bl_pattern p = { 0 };
	u64 lo = 4096, hi = (1ULL << 18) - 1024, sum = 0;

	(void)state;
	assert_int_equal(bl_pattern_typical(&p, 1ULL << 18, lo, hi, 7), 0);
	assert_int_equal(p.nr, 60);
	assert_int_equal(bl_pattern_check(&p), 0);
	assert_int_equal(p.r[0].gfn, lo);		/* .bss decrypted */
	assert_int_equal(p.r[0].npages, 512);
	for (u64 i = 0; i < p.nr; i++) {
		assert_true(p.r[i].gfn >= lo && p.r[i].gfn + p.r[i].npages <= hi);
		sum += p.r[i].npages;
		if (p.r[i].npages == 16384)		/* SWIOTLB, 2 MiB aligned */
			assert_int_equal(p.r[i].gfn % 512, 0);
		else if (i)
			assert_true(p.r[i].npages >= 1 && p.r[i].npages <= 16);
	}
	assert_int_equal(sum, p.pages);
	assert_true(p.pages > 16384 + 512 + 58 && p.pages <= 16384 + 512 + 58 * 16);
	bl_pattern_free(&p);
	/* Too small for the layout. */
	assert_int_equal(bl_pattern_typical(&p, 1ULL << 18, 0, 32767, 7), -EINVAL);
	bl_pattern_free(&p);
}

static void pattern_fragmented_has_exact_count_and_bounds(void **state)
{
	struct bl_pattern p = { 0 }, q = { 0 };

	(void)state;
	assert_int_equal(bl_pattern_fragmented(&p, 100, 100 + 18 * 1000, 1000, 1), 0);
	assert_int_equal(p.nr, 1000);
	assert_int_equal(bl_pattern_check(&p), 0);
	assert_true(p.r[0].gfn >= 100);
	assert_true(p.r[999].gfn + p.r[999].npages <= 100 + 18 * 1000);
	/* Same seed, same layout; another seed, another. */
	assert_int_equal(bl_pattern_fragmented(&q, 100, 100 + 18 * 1000, 1000, 1), 0);
	assert_int_equal(q.pages, p.pages);
	assert_memory_equal(q.r, p.r, p.nr * sizeof(*p.r));
	bl_pattern_free(&q);
	assert_int_equal(bl_pattern_fragmented(&q, 100, 100 + 18 * 1000, 1000, 2), 0);
	assert_true(memcmp(q.r, p.r, p.nr * sizeof(*p.r)) != 0);
	bl_pattern_free(&q);
	bl_pattern_free(&p);
	/* One page too few per slot. */
	assert_int_equal(bl_pattern_fragmented(&p, 0, 18 * 1000 - 1, 1000, 1), -EINVAL);
	bl_pattern_free(&p);
}

static void pattern_check_rejects_touching_and_unsorted_regions(void **state)
{
	struct bl_pattern p = { 0 };

	(void)state;
	assert_int_equal(bl_pattern_push(&p, 10, 5), 0);
	assert_int_equal(bl_pattern_push(&p, 16, 1), 0);
	assert_int_equal(bl_pattern_check(&p), 0);
	assert_int_equal(bl_pattern_push(&p, 17, 1), 0);	/* touches [16, 17) */
	assert_int_equal(bl_pattern_check(&p), -EINVAL);
	bl_pattern_free(&p);
	assert_int_equal(bl_pattern_push(&p, 30, 1), 0);
	assert_int_equal(bl_pattern_push(&p, 10, 1), 0);
	assert_int_equal(bl_pattern_check(&p), -EINVAL);
	bl_pattern_sort(&p);
	assert_int_equal(bl_pattern_check(&p), 0);
	assert_int_equal(p.pages, 2);
	bl_pattern_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rlist_add_into_empty_list_makes_one_node),
		cmocka_unit_test(rlist_add_touching_ranges_merge_into_one_node),
		cmocka_unit_test(rlist_add_bridging_range_merges_three_nodes),
		cmocka_unit_test(rlist_add_inside_region_changes_nothing),
		cmocka_unit_test(rlist_remove_middle_splits_node),
		cmocka_unit_test(rlist_remove_exact_region_frees_node),
		cmocka_unit_test(rlist_remove_across_regions_trims_both_ends),
		cmocka_unit_test(rlist_rejects_bad_ranges_and_hypercall_arguments),
		cmocka_unit_test(rlist_map_gpa_range_follows_encrypted_bit),
		cmocka_unit_test(rlist_matches_reference_under_random_splits_and_merges),
		cmocka_unit_test(encmap_matches_reference_and_copies_out),
		cmocka_unit_test(encmap_rejects_out_of_range_and_unaligned_requests),
		cmocka_unit_test(cursor_agrees_with_region_list_for_same_state),
		cmocka_unit_test(cursor_reports_unsettled_chunk_inside_open_window),
		cmocka_unit_test(cursor_chunk_hands_out_bits_uniform_state_or_null),
		cmocka_unit_test(swiotlb_is_six_percent_clamped_to_64m_and_1g),
		cmocka_unit_test(pattern_typical_has_60_regions_with_swiotlb_and_bss),
		cmocka_unit_test(pattern_fragmented_has_exact_count_and_bounds),
		cmocka_unit_test(pattern_check_rejects_touching_and_unsorted_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
