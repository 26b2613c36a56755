// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * layout.c - the layout a conforming writer produces (SPEC.md 1.3).
 */
#include "layout.h"

int sd_geom_compute(struct sd_geom *g, sd_gfn_t first_gfn, u64 nr_gfns,
		    u32 pages_per_chunk)
{
	u64 desc_bytes, bitmap_bytes;

	if (!SD_IS_POW2(pages_per_chunk) || pages_per_chunk < SD_MIN_CHUNK_PAGES ||
	    pages_per_chunk > SD_MAX_CHUNK_PAGES)
		return -SD_ERR_GEOM_CHUNK;
	if (nr_gfns == 0)
		return -SD_ERR_GEOM_EMPTY;
	if (first_gfn >= SD_GFN_LIMIT || nr_gfns > SD_GFN_LIMIT - first_gfn)
		return -SD_ERR_GEOM_SPAN;

	/* nr_gfns <= 2^40 from here on: none of the sums below can wrap. */
	g->first_gfn = first_gfn;
	g->nr_gfns = nr_gfns;
	g->pages_per_chunk = pages_per_chunk;
	g->chunk_shift = (u32)__builtin_ctz(pages_per_chunk);
	g->words_per_chunk = pages_per_chunk / 64;
	g->header_size = SD_HDR_SIZE;
	g->nr_chunks = (nr_gfns + pages_per_chunk - 1) >> g->chunk_shift;

	desc_bytes = g->nr_chunks * SD_DESC_SIZE;
	bitmap_bytes = g->nr_chunks << (g->chunk_shift - 3);
	g->desc_offset = SD_HDR_SIZE;
	g->bitmap_offset = SD_ALIGN_UP(g->desc_offset + desc_bytes, (u64)SD_LAYOUT_ALIGN);
	g->table_size = SD_ALIGN_UP(g->bitmap_offset + bitmap_bytes, SD_PAGE_SIZE);
	return 0;
}

void sd_geom_to_header(const struct sd_geom *g, struct sd_table_header *h)
{
	*h = (struct sd_table_header){
		.magic = SD_MAGIC,
		.abi_major = SD_ABI_MAJOR,
		.abi_minor = SD_ABI_MINOR,
		.header_size = g->header_size,
		.first_gfn = g->first_gfn,
		.nr_gfns = g->nr_gfns,
		.page_shift = SD_PAGE_SHIFT,
		.pages_per_chunk = g->pages_per_chunk,
		.nr_chunks = g->nr_chunks,
		.desc_offset = g->desc_offset,
		.bitmap_offset = g->bitmap_offset,
		.table_size = g->table_size,
	};
}
