// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_proto.c - proto/: geometry, every validation error, bitmap operations.
 *
 * Each validation test starts from a valid table and breaks exactly one
 * thing, then asserts the exact error and where it was reported.
 */
#include <stdlib.h>
#include <string.h>
#include "sd_test.h"

#define GIB_PAGES	(1ULL << 18)

/* ---- geometry ---------------------------------------------------------- */

static void geom_one_gib_default_chunks(void **state)
{
	struct sd_geom g;

	(void)state;
	assert_int_equal(sd_geom_compute(&g, 0, GIB_PAGES, 8192), 0);
	/* By hand: 32 chunks, 512 B of descriptors, 32 KiB of bitmap. */
	assert_int_equal(g.nr_chunks, 32);
	assert_int_equal(g.desc_offset, 128);
	assert_int_equal(g.bitmap_offset, 640);
	assert_int_equal(g.table_size, 36864);	/* 640 + 32768 = 33408 -> 9 pages */
	assert_int_equal(g.chunk_shift, 13);
	assert_int_equal(g.words_per_chunk, 128);
	assert_int_equal(sd_geom_chunk_bytes(&g), 1024);
}

static void geom_span_not_multiple_of_chunk(void **state)
{
	struct sd_geom g;

	(void)state;
	/* 3 chunks of 64 and one page more: 4 chunks, the last covering 1 page. */
	assert_int_equal(sd_geom_compute(&g, 100, 3 * 64 + 1, 64), 0);
	assert_int_equal(g.nr_chunks, 4);
	assert_int_equal(sd_geom_chunk_pages(&g, 0), 64);
	assert_int_equal(sd_geom_chunk_pages(&g, 2), 64);
	assert_int_equal(sd_geom_chunk_pages(&g, 3), 1);
	assert_int_equal(sd_geom_chunk_gfn(&g, 3), 100 + 192);
	/* 128 + 64 = 192 (aligned), 4 * 8 bitmap bytes: 224 -> one page. */
	assert_int_equal(g.bitmap_offset, 192);
	assert_int_equal(sd_geom_bits_off(&g, 3), 192 + 24);
	assert_int_equal(g.table_size, 4096);
}

static void geom_single_page_span(void **state)
{
	struct sd_geom g;

	(void)state;
	assert_int_equal(sd_geom_compute(&g, 7, 1, 32768), 0);
	assert_int_equal(g.nr_chunks, 1);
	assert_int_equal(sd_geom_chunk_pages(&g, 0), 1);
	/* 128 + 16 -> 192; 4096 bitmap bytes -> 4288 -> two pages. */
	assert_int_equal(g.bitmap_offset, 192);
	assert_int_equal(g.table_size, 8192);
}

static void geom_largest_span(void **state)
{
	struct sd_geom g;

	(void)state;
	/* 2^40 frames (4 PiB) in 8192-page chunks: 2^27 chunks. */
	assert_int_equal(sd_geom_compute(&g, 0, SD_GFN_LIMIT, 8192), 0);
	assert_int_equal(g.nr_chunks, 1ULL << 27);
	assert_int_equal(g.bitmap_offset, 128 + (1ULL << 31));
	assert_int_equal(g.table_size, (1ULL << 37) + (1ULL << 31) + 4096);
	/* The last frame is addressable, the chunk size at its extremes too. */
	assert_int_equal(sd_geom_compute(&g, SD_GFN_LIMIT - 1, 1, 64), 0);
	assert_int_equal(sd_geom_compute(&g, 0, SD_GFN_LIMIT, 64), 0);
	assert_int_equal(g.nr_chunks, 1ULL << 34);
}

static void geom_rejects_bad_chunk_sizes(void **state)
{
	struct sd_geom g;
	const u32 bad[] = { 0, 1, 32, 63, 96, 65536, 0x80000000u, 3 * 1024 };

	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++)
		assert_int_equal(sd_geom_compute(&g, 0, 1024, bad[i]), -SD_ERR_GEOM_CHUNK);
	assert_int_equal(sd_geom_compute(&g, 0, 1024, 64), 0);
	assert_int_equal(sd_geom_compute(&g, 0, 1024, 32768), 0);
}

static void geom_rejects_empty_and_overflowing_spans(void **state)
{
	struct sd_geom g;

	(void)state;
	assert_int_equal(sd_geom_compute(&g, 0, 0, 64), -SD_ERR_GEOM_EMPTY);
	assert_int_equal(sd_geom_compute(&g, SD_GFN_LIMIT - 1, 2, 64), -SD_ERR_GEOM_SPAN);
	assert_int_equal(sd_geom_compute(&g, SD_GFN_LIMIT, 1, 64), -SD_ERR_GEOM_SPAN);
	assert_int_equal(sd_geom_compute(&g, ~0ULL, 1, 64), -SD_ERR_GEOM_SPAN);
	assert_int_equal(sd_geom_compute(&g, 1, ~0ULL, 64), -SD_ERR_GEOM_SPAN);
	assert_int_equal(sd_geom_compute(&g, 0, SD_GFN_LIMIT + 1, 64), -SD_ERR_GEOM_SPAN);
}

static void geom_header_round_trips(void **state)
{
	struct sd_geom g, back;
	struct sd_table_header h;
	struct sd_limits lim = { 0, 4096, SD_GFN_LIMIT, 1ULL << 20 };
	struct sd_errloc loc;

	(void)state;
	assert_int_equal(sd_geom_compute(&g, 0, 4096, 1024), 0);
	sd_geom_to_header(&g, &h);
	assert_int_equal(h.magic, SD_MAGIC);
	assert_memory_equal(&h.magic, "SEVDONAT", 8);
	assert_int_equal(h.abi_major, 1);
	assert_int_equal(h.abi_minor, 0);
	assert_int_equal(h.header_size, 128);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(h.reserved[i], 0);
	assert_int_equal(sd_validate_header(&h, 0, &lim, &back, &loc), 0);
	assert_memory_equal(&g, &back, sizeof(g));
}

/* ---- header validation: one test per error ----------------------------- */

struct hfix {
	struct tbuild t;
	struct sd_limits lim;
	struct sd_geom g;
	struct sd_errloc loc;
};

/* 64 MiB span, 1024-page chunks (16 chunks), table at GFN 0x100. */
static int hfix_setup(void **state)
{
	struct hfix *f = calloc(1, sizeof(*f));

	tbuild_init(&f->t, 0, 16384, 1024, 0x100000);
	f->lim = tbuild_limits(&f->t);
	*state = f;
	return 0;
}

static int hfix_teardown(void **state)
{
	struct hfix *f = *state;

	tbuild_free(&f->t);
	free(f);
	return 0;
}

static int hvalidate(struct hfix *f)
{
	memset(&f->loc, 0, sizeof(f->loc));
	return sd_validate_header(tbuild_hdr(&f->t), f->t.gpa, &f->lim, &f->g, &f->loc);
}

static void hdr_valid_table_passes(void **state)
{
	struct hfix *f = *state;

	assert_int_equal(hvalidate(f), 0);
	assert_int_equal(f->g.nr_chunks, 16);
	assert_int_equal(f->g.table_size, f->t.g.table_size);
}

static void hdr_rejects_bad_magic(void **state)
{
	struct hfix *f = *state;

	tbuild_hdr(&f->t)->magic ^= 1ULL << 63;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_HDR_MAGIC, SD_LOC_NONE, SD_HDR_OFF(magic));
}

static void hdr_rejects_other_major(void **state)
{
	struct hfix *f = *state;

	tbuild_hdr(&f->t)->abi_major = 2;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_HDR_MAJOR, SD_LOC_NONE, SD_HDR_OFF(abi_major));
	tbuild_hdr(&f->t)->abi_major = 0;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_HDR_MAJOR, SD_LOC_NONE, SD_HDR_OFF(abi_major));
}

static void hdr_accepts_newer_minor_compat_bits_and_reserved(void **state)
{
	struct hfix *f = *state;

	tbuild_hdr(&f->t)->abi_minor = 7;
	tbuild_hdr(&f->t)->compat_features = ~0ULL;
	tbuild_hdr(&f->t)->reserved[4] = 0x1234;
	assert_int_equal(hvalidate(f), 0);
}

static void hdr_rejects_bad_header_size(void **state)
{
	struct hfix *f = *state;
	const u32 bad[] = { 0, 120, 127, 132, 4097, 8192, 0xffffffffu };

	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++) {
		tbuild_hdr(&f->t)->header_size = bad[i];
		assert_sd_err(hvalidate(f), f->loc, SD_ERR_HDR_SIZE, SD_LOC_NONE,
			      SD_HDR_OFF(header_size));
	}
}

static void hdr_accepts_larger_header_before_descriptors(void **state)
{
	struct hfix *f = *state;

	tbuild_hdr(&f->t)->header_size = 128;
	assert_int_equal(hvalidate(f), 0);
	/* A bigger header from a later minor must end before the descriptors. */
	tbuild_hdr(&f->t)->header_size = 136;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_DESC, SD_LOC_NONE, SD_HDR_OFF(desc_offset));
}

static void hdr_rejects_unknown_incompat_bits(void **state)
{
	struct hfix *f = *state;

	for (unsigned b = 0; b < 64; b += 21) {
		tbuild_hdr(&f->t)->incompat_features = 1ULL << b;
		assert_sd_err(hvalidate(f), f->loc, SD_ERR_HDR_INCOMPAT, SD_LOC_NONE,
			      SD_HDR_OFF(incompat_features));
	}
}

static void hdr_rejects_page_shift(void **state)
{
	struct hfix *f = *state;

	tbuild_hdr(&f->t)->page_shift = 21;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_PAGE_SHIFT, SD_LOC_NONE,
		      SD_HDR_OFF(page_shift));
}

static void hdr_rejects_chunk_size(void **state)
{
	struct hfix *f = *state;

	tbuild_hdr(&f->t)->pages_per_chunk = 1000;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_CHUNK, SD_LOC_NONE,
		      SD_HDR_OFF(pages_per_chunk));
	tbuild_hdr(&f->t)->pages_per_chunk = 65536;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_CHUNK, SD_LOC_NONE,
		      SD_HDR_OFF(pages_per_chunk));
	tbuild_hdr(&f->t)->pages_per_chunk = 0;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_CHUNK, SD_LOC_NONE,
		      SD_HDR_OFF(pages_per_chunk));
}

static void hdr_rejects_empty_span(void **state)
{
	struct hfix *f = *state;

	tbuild_hdr(&f->t)->nr_gfns = 0;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_EMPTY, SD_LOC_NONE, SD_HDR_OFF(nr_gfns));
}

static void hdr_rejects_span_past_limit(void **state)
{
	struct hfix *f = *state;

	/* Beyond the host's limit for this guest... */
	f->lim.gfn_limit = 16383;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_SPAN, SD_LOC_NONE, SD_HDR_OFF(nr_gfns));
	/* ...and a huge claimed geometry whose sum would wrap. */
	f->lim.gfn_limit = ~0ULL;
	tbuild_hdr(&f->t)->first_gfn = ~0ULL - 10;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_SPAN, SD_LOC_NONE, SD_HDR_OFF(nr_gfns));
	tbuild_hdr(&f->t)->first_gfn = 0;
	tbuild_hdr(&f->t)->nr_gfns = ~0ULL;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_SPAN, SD_LOC_NONE, SD_HDR_OFF(nr_gfns));
}

static void hdr_rejects_wrong_chunk_count(void **state)
{
	struct hfix *f = *state;

	tbuild_hdr(&f->t)->nr_chunks = 15;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_NR_CHUNKS, SD_LOC_NONE,
		      SD_HDR_OFF(nr_chunks));
	tbuild_hdr(&f->t)->nr_chunks = 1ULL << 60;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_NR_CHUNKS, SD_LOC_NONE,
		      SD_HDR_OFF(nr_chunks));
}

static void hdr_rejects_bad_table_size(void **state)
{
	struct hfix *f = *state;
	u64 good = tbuild_hdr(&f->t)->table_size;
	const u64 bad[] = { 0, good - 1, good + 8, good + 4096, ~0ULL & ~4095ULL };

	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++) {
		tbuild_hdr(&f->t)->table_size = bad[i];
		assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_TABLE_SIZE, SD_LOC_NONE,
			      SD_HDR_OFF(table_size));
	}
}

static void hdr_rejects_misplaced_descriptors(void **state)
{
	struct hfix *f = *state;
	struct sd_table_header *h = tbuild_hdr(&f->t);
	const u64 bad[] = {
		8,			/* inside the header */
		136,			/* not 16-aligned */
		h->table_size,		/* array would end past the table */
		h->table_size + 4096,	/* starts past the table */
		~0ULL - 15,		/* start + size would wrap */
	};

	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++) {
		h->desc_offset = bad[i];
		assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_DESC, SD_LOC_NONE,
			      SD_HDR_OFF(desc_offset));
	}
}

static void hdr_rejects_misplaced_bitmap(void **state)
{
	struct hfix *f = *state;
	struct sd_table_header *h = tbuild_hdr(&f->t);
	u64 good = h->bitmap_offset;
	const u64 bad[] = {
		good + 4,		/* not 8-aligned */
		h->desc_offset + 16,	/* overlaps the descriptors */
		0,			/* overlaps the header */
		h->table_size - 8,	/* bitmap would end past the table */
		h->table_size + 8,	/* starts past the table */
		~0ULL - 7,		/* start + size would wrap */
	};

	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++) {
		h->bitmap_offset = bad[i];
		assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_BITMAP, SD_LOC_NONE,
			      SD_HDR_OFF(bitmap_offset));
	}
}

static void hdr_accepts_padded_layout(void **state)
{
	struct hfix *f = *state;
	struct sd_table_header *h = tbuild_hdr(&f->t);
	u64 bitmap_bytes = h->nr_chunks * h->pages_per_chunk / 8;

	/* A writer may leave gaps: the checks are on bounds, not on exact offsets. */
	h->bitmap_offset = h->table_size - bitmap_bytes;
	h->desc_offset = 1024;
	assert_int_equal(hvalidate(f), 0);
	assert_int_equal(f->g.bitmap_offset, h->table_size - bitmap_bytes);
}

static void hdr_rejects_span_not_covering_ram(void **state)
{
	struct hfix *f = *state;

	f->lim.ram_end_gfn = 16385;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_RAM, SD_LOC_NONE, SD_HDR_OFF(first_gfn));
	f->lim.ram_end_gfn = 16384;
	tbuild_hdr(&f->t)->first_gfn = 1;
	tbuild_hdr(&f->t)->nr_gfns = 16383;
	tbuild_hdr(&f->t)->nr_chunks = 16;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_RAM, SD_LOC_NONE, SD_HDR_OFF(first_gfn));
}

static void hdr_rejects_table_outside_span(void **state)
{
	struct hfix *f = *state;
	u64 pages = tbuild_hdr(&f->t)->table_size / 4096;

	f->t.gpa = 16384ULL << 12;		/* starts at the span's end */
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_TABLE_PLACEMENT, SD_LOC_NONE,
		      SD_HDR_OFF(table_size));
	f->t.gpa = (16384ULL - pages + 1) << 12;	/* last page hangs over */
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_TABLE_PLACEMENT, SD_LOC_NONE,
		      SD_HDR_OFF(table_size));
	f->t.gpa = (16384ULL - pages) << 12;	/* ends exactly at the end: fine */
	assert_int_equal(hvalidate(f), 0);
	/* Below a span that starts above zero. */
	f->lim.ram_first_gfn = 0x10;
	tbuild_hdr(&f->t)->first_gfn = 0x10;
	f->lim.ram_end_gfn = 0x10 + 16384;
	f->t.gpa = 0x0f000;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_TABLE_PLACEMENT, SD_LOC_NONE,
		      SD_HDR_OFF(table_size));
}

static void hdr_checks_in_spec_order(void **state)
{
	struct hfix *f = *state;
	struct sd_table_header *h = tbuild_hdr(&f->t);

	/* Break two things: the earlier check in SPEC.md 4.1 is the one reported. */
	h->page_shift = 13;
	h->table_size = 5;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_GEOM_PAGE_SHIFT, SD_LOC_NONE,
		      SD_HDR_OFF(page_shift));
	h->magic = 0;
	assert_sd_err(hvalidate(f), f->loc, SD_ERR_HDR_MAGIC, SD_LOC_NONE, SD_HDR_OFF(magic));
}

/* ---- chunk validation ---------------------------------------------------- */

static int cvalidate(struct hfix *f, u64 idx, bool paused, struct sd_chunk_view *v)
{
	struct sd_chunk_desc d = *tbuild_desc(&f->t, idx);
	u64 bits[SD_MAX_CHUNK_PAGES / 64];

	memcpy(bits, tbuild_bits(&f->t, idx), sd_geom_chunk_bytes(&f->t.g));
	memset(&f->loc, 0, sizeof(f->loc));
	return sd_validate_chunk(&f->t.g, idx, &d, bits, f->t.gpa, paused, v, &f->loc);
}

static void chunk_valid_after_updates(void **state)
{
	struct hfix *f = *state;
	struct sd_chunk_view v;

	tbuild_set(&f->t, 1000, 100, true);	/* straddles chunks 0 and 1 */
	assert_int_equal(cvalidate(f, 0, false, &v), 0);
	assert_int_equal(v.nr_shared, 24 + 1);	/* and the one-page table at 0x100 */
	assert_int_equal(v.seq, 2);
	assert_int_equal(cvalidate(f, 1, false, &v), 0);
	assert_int_equal(v.nr_shared, 76);
	assert_int_equal(v.pending_count, 0);
	/* The table itself (GFN 0x100.., in chunk 0) stays shared and counted. */
	tbuild_set(&f->t, 0, 1024, false);
	tbuild_set(&f->t, 0x100, f->t.g.table_size / 4096, true);
	assert_int_equal(cvalidate(f, 0, false, &v), 0);
	assert_int_equal(v.nr_shared, f->t.g.table_size / 4096);
}

static void chunk_rejects_count_mismatch(void **state)
{
	struct hfix *f = *state;

	tbuild_set(&f->t, 5000, 3, true);
	tbuild_desc(&f->t, 4)->nr_shared = 2;
	assert_sd_err(cvalidate(f, 4, false, NULL), f->loc, SD_ERR_CHUNK_COUNT, 4,
		      f->t.g.desc_offset + 4 * 16 + 4);
	/* Bits flipped without the count: same error. */
	tbuild_desc(&f->t, 4)->nr_shared = 3;
	tbuild_bits(&f->t, 4)[10] ^= 1;
	assert_sd_err(cvalidate(f, 4, false, NULL), f->loc, SD_ERR_CHUNK_COUNT, 4,
		      f->t.g.desc_offset + 4 * 16 + 4);
}

static void chunk_rejects_odd_count_when_live(void **state)
{
	struct hfix *f = *state;
	struct sd_chunk_view v;

	tbuild_open(&f->t, 9, 10, 5);
	assert_sd_err(cvalidate(f, 9, false, NULL), f->loc, SD_ERR_CHUNK_ODD, 9,
		      f->t.g.desc_offset + 9 * 16);
	/* Paused: decidable, with the window in transition. */
	assert_int_equal(cvalidate(f, 9, true, &v), 0);
	assert_int_equal(v.pending_first, 10);
	assert_int_equal(v.pending_count, 5);
	assert_int_equal(v.seq & 1, 1);
}

static void chunk_rejects_pending_outside_chunk(void **state)
{
	struct hfix *f = *state;
	const u32 bad[][2] = {
		{ 0, 0 },		/* a window changes at least one page */
		{ 1024, 1 },		/* starts past the chunk */
		{ 1000, 25 },		/* ends past the chunk */
		{ 1, 0xffffffffu },	/* first + count wraps */
		{ 0xffffffffu, 2 },
	};

	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++) {
		tbuild_open(&f->t, 3, bad[i][0], bad[i][1]);
		assert_sd_err(cvalidate(f, 3, true, NULL), f->loc, SD_ERR_CHUNK_PENDING, 3,
			      f->t.g.desc_offset + 3 * 16 + 8);
	}
	tbuild_open(&f->t, 3, 1000, 24);	/* exactly to the chunk's end */
	assert_int_equal(cvalidate(f, 3, true, NULL), 0);
}

static void chunk_rejects_pad_bits_in_last_chunk(void **state)
{
	struct tbuild t;
	struct sd_chunk_desc d;
	struct sd_errloc loc;
	u64 bits[2];

	(void)state;
	/* 2 chunks of 128 pages, the last covering 72: bits 72..127 are padding. */
	tbuild_init(&t, 0, 200, 128, 0);
	d = *tbuild_desc(&t, 1);
	memcpy(bits, tbuild_bits(&t, 1), sizeof(bits));
	assert_int_equal(sd_validate_chunk(&t.g, 1, &d, bits, 0, false, NULL, &loc), 0);
	bits[1] |= 1ULL << 8;	/* page 72 of the chunk: past the span */
	d.nr_shared = 1;
	assert_sd_err(sd_validate_chunk(&t.g, 1, &d, bits, 0, false, NULL, &loc), loc,
		      SD_ERR_CHUNK_PAD, 1, sd_geom_bits_off(&t.g, 1) + 8);
	/* Pad bits are checked before the count, and in paused mode too. */
	d.seq = 1;
	d.pending_first = 0;
	d.pending_count = 1;
	assert_sd_err(sd_validate_chunk(&t.g, 1, &d, bits, 0, true, NULL, &loc), loc,
		      SD_ERR_CHUNK_PAD, 1, sd_geom_bits_off(&t.g, 1) + 8);
	bits[1] = 1ULL << 7;	/* page 71: the last real page, fine */
	d.seq = 2;
	assert_int_equal(sd_validate_chunk(&t.g, 1, &d, bits, 0, false, NULL, &loc), 0);
	tbuild_free(&t);
}

static void chunk_rejects_table_page_not_shared(void **state)
{
	struct hfix *f = *state;
	u64 tpages = f->t.g.table_size / 4096;

	/* The table is GFNs 0x100.. in chunk 0: clear its last page's bit. */
	tbuild_set(&f->t, 0x100 + tpages - 1, 1, false);
	assert_sd_err(cvalidate(f, 0, false, NULL), f->loc, SD_ERR_TABLE_NOT_SHARED, 0,
		      f->t.g.bitmap_offset + ((0x100 + tpages - 1) / 64) * 8);
	tbuild_set(&f->t, 0x100 + tpages - 1, 1, true);
	assert_int_equal(cvalidate(f, 0, false, NULL), 0);
	/* A window over a table page is as bad: the table must never convert. */
	assert_int_equal(tpages, 1);
	tbuild_open(&f->t, 0, 0x100 - 2, 3);
	assert_sd_err(cvalidate(f, 0, true, NULL), f->loc, SD_ERR_TABLE_NOT_SHARED, 0,
		      f->t.g.desc_offset + 8);
	tbuild_open(&f->t, 0, 0x100 + tpages, 3);	/* right after the table: fine */
	assert_int_equal(cvalidate(f, 0, true, NULL), 0);
}

static void chunk_table_spanning_two_chunks(void **state)
{
	struct tbuild t;
	struct sd_limits lim;
	struct sd_errloc loc;
	struct tcheck_stats st;
	u64 tpages;

	(void)state;
	/* 64-page chunks and a table of several pages starting 2 pages before a boundary. */
	tbuild_init(&t, 0, 65536, 64, 62ULL << 12);
	tpages = t.g.table_size / 4096;
	assert_true(tpages > 2);
	lim = tbuild_limits(&t);
	assert_int_equal(tcheck_image(t.mem, t.g.table_size, t.gpa, &lim, false, &loc, &st), 0);
	assert_int_equal(st.shared, tpages);
	assert_int_equal(st.extents, 1);
	tbuild_set(&t, 64, 1, false);	/* the table's third page, in chunk 1 */
	assert_sd_err(tcheck_image(t.mem, t.g.table_size, t.gpa, &lim, false, &loc, &st), loc,
		      SD_ERR_TABLE_NOT_SHARED, 1, sd_geom_bits_off(&t.g, 1));
	tbuild_free(&t);
}

/* ---- registration value -------------------------------------------------- */

static void reg_value_decodes(void **state)
{
	sd_gpa_t gpa = 0;

	(void)state;
	assert_int_equal(sd_validate_reg_value(0, 48, &gpa, NULL), 0);
	assert_int_equal(sd_validate_reg_value(0x123456000ULL | 1, 48, &gpa, NULL), 1);
	assert_int_equal(gpa, 0x123456000ULL);
	assert_int_equal(sd_validate_reg_value((1ULL << 48) - 4096 + 1, 48, &gpa, NULL), 1);
	assert_int_equal(sd_validate_reg_value(1ULL << 63 | 1, 64, &gpa, NULL), 1);
}

static void reg_value_rejects_reserved_bits(void **state)
{
	sd_gpa_t gpa;

	(void)state;
	for (unsigned b = 1; b < 12; b++)
		assert_int_equal(sd_validate_reg_value(0x5000 | 1 | (1ULL << b), 48, &gpa, NULL),
				 -SD_ERR_REG_RESERVED);
	/* Unregister is exactly 0: a GPA without the enable bit is malformed. */
	assert_int_equal(sd_validate_reg_value(0x5000, 48, &gpa, NULL), -SD_ERR_REG_RESERVED);
}

static void reg_value_rejects_gpa_beyond_phys_bits(void **state)
{
	sd_gpa_t gpa;
	struct sd_errloc loc = { 0, 0, 0 };

	(void)state;
	assert_sd_err(sd_validate_reg_value((1ULL << 48) | 1, 48, &gpa, &loc), loc, SD_ERR_REG_GPA,
		      SD_LOC_NONE, SD_LOC_NONE);
	assert_int_equal(loc.chunk, SD_LOC_NONE);
	assert_int_equal(loc.offset, SD_LOC_NONE);
	assert_int_equal(sd_validate_reg_value((1ULL << 63) | 1, 52, &gpa, NULL), -SD_ERR_REG_GPA);
}

/* ---- bitmap operations ----------------------------------------------------- */

/* Reference: one bit at a time. */
static void ref_set(u8 *ref, u64 start, u64 n, bool v)
{
	for (u64 i = start; i < start + n; i++)
		ref[i] = v;
}

static void check_against_ref(const u64 *map, const u8 *ref, u64 nbits)
{
	for (u64 i = 0; i < nbits; i++)
		if (sd_bit_test(map, i) != ref[i])
			fail_msg("bit %llu differs", (unsigned long long)i);
}

static void bitmap_ranges_at_word_boundaries(void **state)
{
	const u64 nbits = 512;
	/* Starts and lengths that land on, before and after 64-bit word edges. */
	const u64 starts[] = { 0, 1, 62, 63, 64, 65, 127, 128, 191, 255, 256, 448 };
	const u64 lens[] = { 1, 2, 63, 64, 65, 127, 128, 129, 192 };
	u64 map[8];
	u8 ref[512];

	(void)state;
	for (unsigned s = 0; s < SD_ARRAY_SIZE(starts); s++) {
		for (unsigned l = 0; l < SD_ARRAY_SIZE(lens); l++) {
			u64 st = starts[s], n = lens[l];

			if (st + n > nbits)
				continue;
			memset(map, 0, sizeof(map));
			memset(ref, 0, sizeof(ref));
			sd_bitmap_set_range(map, st, n);
			ref_set(ref, st, n, true);
			check_against_ref(map, ref, nbits);
			assert_int_equal(sd_bitmap_weight(map, 0, nbits), n);
			assert_int_equal(sd_bitmap_weight(map, st, n), n);
			assert_int_equal(sd_bitmap_find(map, 0, nbits, true), st);
			assert_int_equal(sd_bitmap_find(map, st, nbits, false),
					 st + n == nbits ? nbits : st + n);
			assert_true(sd_bitmap_full(map, st, n));

			memset(map, 0xff, sizeof(map));
			memset(ref, 1, sizeof(ref));
			sd_bitmap_clear_range(map, st, n);
			ref_set(ref, st, n, false);
			check_against_ref(map, ref, nbits);
			assert_int_equal(sd_bitmap_weight(map, 0, nbits), nbits - n);
			assert_int_equal(sd_bitmap_find(map, 0, nbits, false), st);
			assert_false(sd_bitmap_full(map, 0, nbits));
		}
	}
}

static void bitmap_whole_chunk_and_find_bounds(void **state)
{
	u64 map[128] = { 0 };	/* one 8192-page chunk */

	(void)state;
	sd_bitmap_set_range(map, 0, 8192);
	for (unsigned i = 0; i < 128; i++)
		assert_int_equal(map[i], ~0ULL);
	assert_int_equal(sd_bitmap_weight(map, 0, 8192), 8192);
	assert_int_equal(sd_bitmap_find(map, 0, 8192, false), 8192);
	sd_bitmap_clear_range(map, 8191, 1);
	assert_int_equal(map[127], ~0ULL >> 1);
	assert_int_equal(sd_bitmap_find(map, 0, 8192, false), 8191);
	/* find never reports past @end even when the word has a hit beyond it. */
	assert_int_equal(sd_bitmap_find(map, 0, 8191, false), 8191);
	assert_int_equal(sd_bitmap_find(map, 100, 100, true), 100);
	sd_bitmap_clear_range(map, 0, 8192);
	assert_int_equal(sd_bitmap_weight(map, 0, 8192), 0);
}

static void bitmap_random_ops_match_reference(void **state)
{
	(void)state;
	enum { NB = 4096 };
	u64 map[NB / 64] = { 0 };
	u8 ref[NB] = { 0 };
	unsigned seed = 12345;

	for (int i = 0; i < 20000; i++) {
		u64 st = rand_r(&seed) % NB;
		u64 n = 1 + rand_r(&seed) % (NB - st);
		bool v = rand_r(&seed) & 1;

		if (v)
			sd_bitmap_set_range(map, st, n);
		else
			sd_bitmap_clear_range(map, st, n);
		ref_set(ref, st, n, v);
		u64 a = rand_r(&seed) % NB, b = a + rand_r(&seed) % (NB - a + 1);
		u64 w = 0, firstset = b;

		for (u64 k = a; k < b; k++) {
			w += ref[k];
			if (ref[k] && firstset == b)
				firstset = k;
		}
		assert_int_equal(sd_bitmap_weight(map, a, b - a), w);
		assert_int_equal(sd_bitmap_find(map, a, b, true), firstset);
	}
	check_against_ref(map, ref, NB);
}

static void popcount_swar_matches_builtin(void **state)
{
	(void)state;
	unsigned seed = 99;

	for (int i = 0; i < 100000; i++) {
		u64 w = (u64)rand_r(&seed) << 40 ^ (u64)rand_r(&seed) << 20 ^ (u64)rand_r(&seed);

		assert_int_equal(sd_popcount64_swar(w), __builtin_popcountll(w));
		assert_int_equal(sd_popcount64(w), __builtin_popcountll(w));
	}
	assert_int_equal(sd_popcount64_swar(0), 0);
	assert_int_equal(sd_popcount64_swar(~0ULL), 64);
}

static void word_mask_edges(void **state)
{
	(void)state;
	assert_int_equal(sd_word_mask(0, 64), ~0ULL);
	assert_int_equal(sd_word_mask(0, 1), 1);
	assert_int_equal(sd_word_mask(63, 64), 1ULL << 63);
	assert_int_equal(sd_word_mask(4, 8), 0xf0);
}

/* ---- error names ----------------------------------------------------------- */

static void every_error_has_a_name(void **state)
{
	const int errs[] = {
		SD_OK, SD_ERR_INVAL, SD_ERR_REG_RESERVED, SD_ERR_REG_GPA, SD_ERR_REG_SIZE,
		SD_ERR_REG_ABI, SD_ERR_NO_TABLE, SD_ERR_UNSUPPORTED, SD_ERR_TRANSPORT,
		SD_ERR_BAD_ANSWER, SD_ERR_MEM_UNBACKED, SD_ERR_MEM_MMIO, SD_ERR_MEM_SPLIT,
		SD_ERR_HDR_MAGIC, SD_ERR_HDR_MAJOR, SD_ERR_HDR_SIZE, SD_ERR_HDR_INCOMPAT,
		SD_ERR_HDR_CHANGED, SD_ERR_GEOM_PAGE_SHIFT, SD_ERR_GEOM_CHUNK,
		SD_ERR_GEOM_EMPTY, SD_ERR_GEOM_SPAN, SD_ERR_GEOM_NR_CHUNKS, SD_ERR_GEOM_DESC,
		SD_ERR_GEOM_BITMAP, SD_ERR_GEOM_TABLE_SIZE, SD_ERR_GEOM_RAM,
		SD_ERR_TABLE_PLACEMENT, SD_ERR_TABLE_NOT_SHARED, SD_ERR_CHUNK_COUNT,
		SD_ERR_CHUNK_PENDING, SD_ERR_CHUNK_PAD, SD_ERR_CHUNK_ODD, SD_ERR_CHUNK_RETRIES,
		SD_ERR_RANGE, SD_ERR_EMPTY_RANGE, SD_ERR_NOSPACE, SD_ERR_BUSY,
	};

	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(errs); i++) {
		assert_string_not_equal(sd_err_name(errs[i]), "SD_ERR_UNKNOWN");
		assert_string_equal(sd_err_name(errs[i]), sd_err_name(-errs[i]));
		assert_string_not_equal(sd_err_desc(-errs[i]), "unknown error");
	}
	assert_string_equal(sd_err_name(-SD_ERR_CHUNK_COUNT), "SD_ERR_CHUNK_COUNT");
	assert_string_equal(sd_err_name(55), "SD_ERR_UNKNOWN");
	assert_string_equal(sd_err_name(-2147483647 - 1), "SD_ERR_UNKNOWN");
}

#define HT(fn) cmocka_unit_test_setup_teardown(fn, hfix_setup, hfix_teardown)

int main(void)
{
	const struct CMUnitTest geometry[] = {
		cmocka_unit_test(geom_one_gib_default_chunks),
		cmocka_unit_test(geom_span_not_multiple_of_chunk),
		cmocka_unit_test(geom_single_page_span),
		cmocka_unit_test(geom_largest_span),
		cmocka_unit_test(geom_rejects_bad_chunk_sizes),
		cmocka_unit_test(geom_rejects_empty_and_overflowing_spans),
		cmocka_unit_test(geom_header_round_trips),
	};
	const struct CMUnitTest header[] = {
		HT(hdr_valid_table_passes),
		HT(hdr_rejects_bad_magic),
		HT(hdr_rejects_other_major),
		HT(hdr_accepts_newer_minor_compat_bits_and_reserved),
		HT(hdr_rejects_bad_header_size),
		HT(hdr_accepts_larger_header_before_descriptors),
		HT(hdr_rejects_unknown_incompat_bits),
		HT(hdr_rejects_page_shift),
		HT(hdr_rejects_chunk_size),
		HT(hdr_rejects_empty_span),
		HT(hdr_rejects_span_past_limit),
		HT(hdr_rejects_wrong_chunk_count),
		HT(hdr_rejects_bad_table_size),
		HT(hdr_rejects_misplaced_descriptors),
		HT(hdr_rejects_misplaced_bitmap),
		HT(hdr_accepts_padded_layout),
		HT(hdr_rejects_span_not_covering_ram),
		HT(hdr_rejects_table_outside_span),
		HT(hdr_checks_in_spec_order),
	};
	const struct CMUnitTest chunk[] = {
		HT(chunk_valid_after_updates),
		HT(chunk_rejects_count_mismatch),
		HT(chunk_rejects_odd_count_when_live),
		HT(chunk_rejects_pending_outside_chunk),
		cmocka_unit_test(chunk_rejects_pad_bits_in_last_chunk),
		HT(chunk_rejects_table_page_not_shared),
		cmocka_unit_test(chunk_table_spanning_two_chunks),
	};
	const struct CMUnitTest misc[] = {
		cmocka_unit_test(reg_value_decodes),
		cmocka_unit_test(reg_value_rejects_reserved_bits),
		cmocka_unit_test(reg_value_rejects_gpa_beyond_phys_bits),
		cmocka_unit_test(bitmap_ranges_at_word_boundaries),
		cmocka_unit_test(bitmap_whole_chunk_and_find_bounds),
		cmocka_unit_test(bitmap_random_ops_match_reference),
		cmocka_unit_test(popcount_swar_matches_builtin),
		cmocka_unit_test(word_mask_edges),
		cmocka_unit_test(every_error_has_a_name),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("proto: geometry", geometry, NULL, NULL);
	fails += cmocka_run_group_tests_name("proto: header validation", header, NULL, NULL);
	fails += cmocka_run_group_tests_name("proto: chunk validation", chunk, NULL, NULL);
	fails += cmocka_run_group_tests_name("proto: registration, bitmap, names", misc,
					     NULL, NULL);
	return fails ? 1 : 0;
}
