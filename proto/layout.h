/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * layout.h - table geometry: what SPEC.md section 1.3 computes from a span.
 *
 * struct sd_geom is private to whoever holds it (the guest's authoritative
 * copy, or the host's copy taken at registration). It is never read from
 * shared memory after it has been validated.
 */
#ifndef SD_LAYOUT_H
#define SD_LAYOUT_H

#include "sev_donate.h"
#include "sd_types.h"
#include "sd_api_types.h"

/* struct sd_geom is in sd_api_types.h (public: the host API returns it). */

/*
 * Fill @g with the layout a conforming writer uses for @nr_gfns frames from
 * @first_gfn in chunks of @pages_per_chunk. Returns 0, or -SD_ERR_GEOM_CHUNK,
 * -SD_ERR_GEOM_EMPTY or -SD_ERR_GEOM_SPAN when the arguments can't make a
 * table (same checks, same order, as header validation).
 */
int sd_geom_compute(struct sd_geom *g, sd_gfn_t first_gfn, u64 nr_gfns,
		    u32 pages_per_chunk);

/* Write the header describing @g (reserved fields and features zero). */
void sd_geom_to_header(const struct sd_geom *g, struct sd_table_header *h);

/* Pages chunk @idx covers: pages_per_chunk, less for a partial last chunk. */
static inline u32 sd_geom_chunk_pages(const struct sd_geom *g, u64 idx)
{
	u64 first = idx << g->chunk_shift;

	if (g->nr_gfns - first < g->pages_per_chunk)
		return (u32)(g->nr_gfns - first);
	return g->pages_per_chunk;
}

static inline sd_gfn_t sd_geom_chunk_gfn(const struct sd_geom *g, u64 idx)
{
	return g->first_gfn + (idx << g->chunk_shift);
}

/* Table byte offset of chunk @idx's descriptor. */
static inline u64 sd_geom_desc_off(const struct sd_geom *g, u64 idx)
{
	return g->desc_offset + idx * SD_DESC_SIZE;
}

/* Table byte offset of chunk @idx's first bitmap word. */
static inline u64 sd_geom_bits_off(const struct sd_geom *g, u64 idx)
{
	return g->bitmap_offset + ((idx << g->chunk_shift) >> 3);
}

/* Bytes of bitmap per chunk; also the reader's scratch size. */
static inline u32 sd_geom_chunk_bytes(const struct sd_geom *g)
{
	return g->pages_per_chunk / 8;
}

/* Number of pages the table occupies (table_size is a multiple of SD_PAGE_SIZE). */
static inline u64 sd_geom_table_pages(const struct sd_geom *g)
{
	return g->table_size >> SD_PAGE_SHIFT;
}

#endif /* SD_LAYOUT_H */
