// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * validate.c - the host's checks (SPEC.md section 4), on private copies.
 *
 * Reachable by a hostile guest: every input here is guest-written. Each
 * check is overflow-safe (subtract, never add, an untrusted quantity) and
 * the work is bounded by one header or one chunk.
 */
#include "validate.h"
#include "bitmap.h"


int sd_validate_header(const struct sd_table_header *h, sd_gpa_t table_gpa,
		       const struct sd_limits *lim, struct sd_geom *g,
		       struct sd_errloc *loc)
{
	u64 limit = SD_MIN(lim->gfn_limit, SD_GFN_LIMIT);
	u64 ppc = h->pages_per_chunk;
	u64 nr_chunks, desc_bytes, bitmap_bytes, span_end;
	sd_gfn_t table_gfn;
	u32 shift;

	if (h->magic != SD_MAGIC)
		return sd_fail(loc, SD_ERR_HDR_MAGIC, SD_LOC_NONE, SD_HDR_OFF(magic));
	if (h->abi_major != SD_ABI_MAJOR)
		return sd_fail(loc, SD_ERR_HDR_MAJOR, SD_LOC_NONE, SD_HDR_OFF(abi_major));
	if (h->header_size < SD_HDR_SIZE || h->header_size > SD_HDR_MAX_SIZE ||
	    h->header_size % 8)
		return sd_fail(loc, SD_ERR_HDR_SIZE, SD_LOC_NONE, SD_HDR_OFF(header_size));
	if (h->incompat_features & ~SD_INCOMPAT_KNOWN)
		return sd_fail(loc, SD_ERR_HDR_INCOMPAT, SD_LOC_NONE,
			       SD_HDR_OFF(incompat_features));
	if (h->page_shift != SD_PAGE_SHIFT)
		return sd_fail(loc, SD_ERR_GEOM_PAGE_SHIFT, SD_LOC_NONE, SD_HDR_OFF(page_shift));
	if (!SD_IS_POW2(ppc) || ppc < SD_MIN_CHUNK_PAGES || ppc > SD_MAX_CHUNK_PAGES)
		return sd_fail(loc, SD_ERR_GEOM_CHUNK, SD_LOC_NONE, SD_HDR_OFF(pages_per_chunk));
	if (h->nr_gfns == 0)
		return sd_fail(loc, SD_ERR_GEOM_EMPTY, SD_LOC_NONE, SD_HDR_OFF(nr_gfns));
	if (h->first_gfn >= limit || h->nr_gfns > limit - h->first_gfn)
		return sd_fail(loc, SD_ERR_GEOM_SPAN, SD_LOC_NONE, SD_HDR_OFF(nr_gfns));

	/* From here nr_gfns <= 2^40 and ppc <= 2^15: products below fit in u64. */
	shift = (u32)__builtin_ctzll(ppc);
	nr_chunks = (h->nr_gfns + ppc - 1) >> shift;
	if (h->nr_chunks != nr_chunks)
		return sd_fail(loc, SD_ERR_GEOM_NR_CHUNKS, SD_LOC_NONE, SD_HDR_OFF(nr_chunks));
	if (h->table_size == 0 || h->table_size % SD_PAGE_SIZE ||
	    h->table_size > lim->max_table_bytes)
		return sd_fail(loc, SD_ERR_GEOM_TABLE_SIZE, SD_LOC_NONE, SD_HDR_OFF(table_size));

	desc_bytes = nr_chunks * SD_DESC_SIZE;
	if (h->desc_offset % SD_DESC_ALIGN || h->desc_offset < h->header_size ||
	    h->desc_offset > h->table_size ||
	    desc_bytes > h->table_size - h->desc_offset)
		return sd_fail(loc, SD_ERR_GEOM_DESC, SD_LOC_NONE, SD_HDR_OFF(desc_offset));

	bitmap_bytes = nr_chunks << (shift - 3);
	if (h->bitmap_offset % SD_BITMAP_ALIGN ||
	    h->bitmap_offset < h->desc_offset + desc_bytes ||
	    h->bitmap_offset > h->table_size ||
	    bitmap_bytes > h->table_size - h->bitmap_offset)
		return sd_fail(loc, SD_ERR_GEOM_BITMAP, SD_LOC_NONE, SD_HDR_OFF(bitmap_offset));

	span_end = h->first_gfn + h->nr_gfns;
	if (lim->ram_first_gfn < h->first_gfn || lim->ram_end_gfn > span_end)
		return sd_fail(loc, SD_ERR_GEOM_RAM, SD_LOC_NONE, SD_HDR_OFF(first_gfn));

	table_gfn = table_gpa >> SD_PAGE_SHIFT;
	if (table_gfn < h->first_gfn || table_gfn >= span_end ||
	    (h->table_size >> SD_PAGE_SHIFT) > span_end - table_gfn)
		return sd_fail(loc, SD_ERR_TABLE_PLACEMENT, SD_LOC_NONE, SD_HDR_OFF(table_size));

	*g = (struct sd_geom){
		.first_gfn = h->first_gfn,
		.nr_gfns = h->nr_gfns,
		.nr_chunks = nr_chunks,
		.desc_offset = h->desc_offset,
		.bitmap_offset = h->bitmap_offset,
		.table_size = h->table_size,
		.pages_per_chunk = (u32)ppc,
		.chunk_shift = shift,
		.words_per_chunk = (u32)(ppc / 64),
		.header_size = h->header_size,
	};
	return 0;
}

/* 4.3.1: a window changes at least one page, inside the chunk of @pages pages. */
static int sd_check_pending(const struct sd_chunk_desc *d, u32 pages, u64 idx, u64 doff,
			    struct sd_errloc *loc)
{
	/* pending_count <= pages - pending_first keeps their sum from wrapping. */
	if (d->pending_count == 0 || d->pending_first >= pages ||
	    d->pending_count > pages - d->pending_first)
		return sd_fail(loc, SD_ERR_CHUNK_PENDING, idx, doff + SD_DESC_OFF(pending_first));
	return 0;
}

/*
 * 4.3.2 (odd: the window holds no table page) and 4.2.3 (table pages
 * [lo, hi) are shared, @first_clear the first that is not, or @hi).
 * Called once 4.3.1 holds, so the window's end does not wrap.
 */
static int sd_check_table_pages(const struct sd_geom *g, u64 idx, const struct sd_chunk_desc *d,
				u32 lo, u32 hi, u32 first_clear, struct sd_errloc *loc)
{
	if ((d->seq & 1) && d->pending_first < hi && d->pending_first + d->pending_count > lo)
		return sd_fail(loc, SD_ERR_TABLE_NOT_SHARED, idx,
			       sd_geom_desc_off(g, idx) + SD_DESC_OFF(pending_first));
	if (first_clear < hi)
		return sd_fail(loc, SD_ERR_TABLE_NOT_SHARED, idx,
			       sd_geom_bits_off(g, idx) + (first_clear >> 6) * 8);
	return 0;
}

int sd_validate_chunk(const struct sd_geom *g, u64 idx,
		      const struct sd_chunk_desc *d, const u64 *bits,
		      sd_gpa_t table_gpa, bool paused,
		      struct sd_chunk_view *v, struct sd_errloc *loc)
{
	u32 pop = 0;

	for (u32 w = 0; w < g->words_per_chunk; w++)
		pop += sd_popcount64(bits[w]);
	return sd_validate_chunk_counted(g, idx, d, bits, pop, table_gpa, paused, v, loc);
}

int sd_validate_chunk_counted(const struct sd_geom *g, u64 idx,
			      const struct sd_chunk_desc *d, const u64 *bits, u32 pop,
			      sd_gpa_t table_gpa, bool paused,
			      struct sd_chunk_view *v, struct sd_errloc *loc)
{
	u32 pages = sd_geom_chunk_pages(g, idx);
	u64 doff = sd_geom_desc_off(g, idx);
	u64 boff = sd_geom_bits_off(g, idx);
	bool odd = d->seq & 1;
	u32 lo, hi;
	u64 bad;
	int rc;

	if (odd && !paused)
		return sd_fail(loc, SD_ERR_CHUNK_ODD, idx, doff + SD_DESC_OFF(seq));

	/* 4.2.1: no bit past the span's last page. */
	if (pages < g->pages_per_chunk) {
		bad = sd_bitmap_find(bits, pages, g->pages_per_chunk, true);
		if (bad != g->pages_per_chunk)
			return sd_fail(loc, SD_ERR_CHUNK_PAD, idx, boff + (bad >> 6) * 8);
	}

	if (odd) {
		rc = sd_check_pending(d, pages, idx, doff, loc);
		if (rc)
			return rc;
	} else if (d->nr_shared != pop) {
		/* 4.2.2: the count is the bitmap's popcount. */
		return sd_fail(loc, SD_ERR_CHUNK_COUNT, idx, doff + SD_DESC_OFF(nr_shared));
	}

	/* 4.3.2, 4.2.3: the table's own pages are shared, never in transition. */
	if (sd_chunk_table_pages(g, idx, table_gpa, &lo, &hi)) {
		rc = sd_check_table_pages(g, idx, d, lo, hi,
					  (u32)sd_bitmap_find(bits, lo, hi, false), loc);
		if (rc)
			return rc;
	}

	if (v) {
		v->seq = d->seq;
		v->nr_shared = pop;
		v->pages = pages;
		v->pending_first = odd ? d->pending_first : 0;
		v->pending_count = odd ? d->pending_count : 0;
	}
	return 0;
}

int sd_validate_table_chunk(const struct sd_geom *g, u64 idx, const struct sd_chunk_desc *d,
			    u32 first_clear, sd_gpa_t table_gpa, bool paused,
			    struct sd_errloc *loc)
{
	u64 doff = sd_geom_desc_off(g, idx);
	u32 lo, hi;
	int rc;

	if (!sd_chunk_table_pages(g, idx, table_gpa, &lo, &hi))
		return 0;
	if (d->seq & 1) {
		if (!paused)
			return sd_fail(loc, SD_ERR_CHUNK_ODD, idx, doff + SD_DESC_OFF(seq));
		rc = sd_check_pending(d, sd_geom_chunk_pages(g, idx), idx, doff, loc);
		if (rc)
			return rc;
	}
	return sd_check_table_pages(g, idx, d, lo, hi, first_clear, loc);
}

int sd_validate_reg_value(u64 value, u32 phys_bits, sd_gpa_t *gpa, struct sd_errloc *loc)
{
	if (!(value & SD_REG_ENABLE)) {
		if (value == 0)
			return 0;
		return sd_fail(loc, SD_ERR_REG_RESERVED, SD_LOC_NONE, SD_LOC_NONE);
	}
	if (value & SD_REG_FLAGS_MASK & ~SD_REG_ENABLE)
		return sd_fail(loc, SD_ERR_REG_RESERVED, SD_LOC_NONE, SD_LOC_NONE);
	if (phys_bits < 64 && (value >> phys_bits) != 0)
		return sd_fail(loc, SD_ERR_REG_GPA, SD_LOC_NONE, SD_LOC_NONE);
	*gpa = value & SD_REG_GPA_MASK;
	return 1;
}
