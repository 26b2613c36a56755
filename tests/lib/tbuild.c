// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tbuild.c - a reference table writer and checker for tests, written from
 * SPEC.md and deliberately independent of guest/ and host/.
 */
#include <stdlib.h>
#include <string.h>
#include "sd_test.h"

void *test_alloc(size_t align, size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, align, size ? size : 1))
		fail_msg("posix_memalign(%zu, %zu) failed", align, size);
	return p;
}

struct sd_table_header *tbuild_hdr(struct tbuild *t)
{
	return (struct sd_table_header *)t->mem;
}

struct sd_chunk_desc *tbuild_desc(struct tbuild *t, u64 idx)
{
	return (struct sd_chunk_desc *)(t->mem + sd_geom_desc_off(&t->g, idx));
}

u64 *tbuild_bits(struct tbuild *t, u64 idx)
{
	return (u64 *)(t->mem + sd_geom_bits_off(&t->g, idx));
}

void tbuild_init(struct tbuild *t, sd_gfn_t first_gfn, u64 nr_gfns, u32 ppc,
		 sd_gpa_t gpa)
{
	sd_gfn_t tgfn = gpa >> SD_PAGE_SHIFT;

	assert_int_equal(sd_geom_compute(&t->g, first_gfn, nr_gfns, ppc), 0);
	t->gpa = gpa;
	t->mem = test_alloc(SD_PAGE_SIZE, t->g.table_size);
	assert_non_null(t->mem);
	memset(t->mem, 0, t->g.table_size);
	sd_geom_to_header(&t->g, tbuild_hdr(t));
	/* Self-description: written directly, before any reader exists (seq stays 0). */
	for (u64 p = 0; p < sd_geom_table_pages(&t->g); p++) {
		u64 rel = tgfn + p - first_gfn;
		u64 idx = rel >> t->g.chunk_shift;

		if (tgfn + p < first_gfn || rel >= nr_gfns)
			continue;	/* tests that misplace the table on purpose */
		u64 *bits = tbuild_bits(t, idx);
		u64 bit = rel & (ppc - 1);

		if (!sd_bit_test(bits, bit)) {
			sd_bitmap_set_range(bits, bit, 1);
			tbuild_desc(t, idx)->nr_shared++;
		}
	}
}

void tbuild_free(struct tbuild *t)
{
	free(t->mem);
	t->mem = NULL;
}

void tbuild_set(struct tbuild *t, sd_gfn_t gfn, u64 n, bool shared)
{
	u64 rel = gfn - t->g.first_gfn, end = rel + n;

	while (rel < end) {
		u64 idx = rel >> t->g.chunk_shift;
		u64 first = rel & (t->g.pages_per_chunk - 1);
		u64 cnt = SD_MIN(end - rel, (u64)t->g.pages_per_chunk - first);
		struct sd_chunk_desc *d = tbuild_desc(t, idx);
		u64 *bits = tbuild_bits(t, idx);
		u64 before = sd_bitmap_weight(bits, first, cnt);

		d->pending_first = (u32)first;
		d->pending_count = (u32)cnt;
		d->seq++;
		if (shared)
			sd_bitmap_set_range(bits, first, cnt);
		else
			sd_bitmap_clear_range(bits, first, cnt);
		d->nr_shared = d->nr_shared - (u32)before + (shared ? (u32)cnt : 0);
		d->seq++;
		rel += cnt;
	}
}

void tbuild_open(struct tbuild *t, u64 idx, u32 first, u32 count)
{
	struct sd_chunk_desc *d = tbuild_desc(t, idx);

	d->pending_first = first;
	d->pending_count = count;
	d->seq |= 1;
}

struct sd_limits tbuild_limits(const struct tbuild *t)
{
	return (struct sd_limits){
		.ram_first_gfn = t->g.first_gfn,
		.ram_end_gfn = t->g.first_gfn + t->g.nr_gfns,
		.gfn_limit = SD_GFN_LIMIT,
		.max_table_bytes = t->g.table_size,
	};
}

int tcheck_image(const void *mem, u64 len, sd_gpa_t gpa, const struct sd_limits *lim,
		 bool paused, struct sd_errloc *loc, struct tcheck_stats *st)
{
	const u8 *m = mem;
	struct sd_table_header h;
	struct sd_geom g;
	u64 scratch[SD_MAX_CHUNK_PAGES / 64];
	bool in_run = false;
	int rc;

	memset(st, 0, sizeof(*st));
	if (len < SD_HDR_SIZE)
		return sd_fail(loc, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, len);
	memcpy(&h, m, sizeof(h));
	rc = sd_validate_header(&h, gpa, lim, &g, loc);
	if (rc)
		return rc;
	if (g.table_size > len)
		return sd_fail(loc, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, len);

	for (u64 i = 0; i < g.nr_chunks; i++) {
		struct sd_chunk_desc d;
		struct sd_chunk_view v;

		memcpy(&d, m + sd_geom_desc_off(&g, i), sizeof(d));
		memcpy(scratch, m + sd_geom_bits_off(&g, i), sd_geom_chunk_bytes(&g));
		rc = sd_validate_chunk(&g, i, &d, scratch, gpa, paused, &v, loc);
		if (rc)
			return rc;
		for (u32 p = 0; p < v.pages; p++) {
			bool pend = p >= v.pending_first &&
				    p - v.pending_first < v.pending_count;
			bool sh = sd_bit_test(scratch, p);

			if (pend) {
				st->transition++;
			} else if (sh) {
				st->shared++;
				if (!in_run)
					st->extents++;
			}
			in_run = sh && !pend;
		}
	}
	return 0;
}
