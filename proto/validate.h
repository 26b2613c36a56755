/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * validate.h - every check a host makes on a table (SPEC.md section 4).
 *
 * These functions only ever look at private copies: a header the caller
 * copied out of guest memory once, a descriptor and bitmap words copied
 * under the read rule. Nothing here touches shared memory, so there is no
 * double fetch to get wrong.
 */
#ifndef SD_VALIDATE_H
#define SD_VALIDATE_H

#include "sev_donate.h"
#include "sd_types.h"
#include "layout.h"
#include "sd_api_types.h"	/* struct sd_limits, sd_errloc, sd_chunk_view */


/* Table byte offsets of header and descriptor fields, for error locations. */
#define SD_HDR_OFF(f)	((u64)__builtin_offsetof(struct sd_table_header, f))
#define SD_DESC_OFF(f)	((u64)__builtin_offsetof(struct sd_chunk_desc, f))



/*
 * Record a failure: @err is the error as the enum names it (positive
 * SD_ERR_*); the return value is what the failing call returns (-@err).
 * Every helper that records an error takes it this way.
 */
static inline int sd_fail(struct sd_errloc *loc, int err, u64 chunk, u64 offset)
{
	if (loc) {
		loc->err = -err;
		loc->chunk = chunk;
		loc->offset = offset;
	}
	return -err;
}

/*
 * Validate a private copy of a table header registered at @table_gpa
 * (SPEC.md 4.1, checks in that order). On success fill @g.
 * Returns 0 or a negative SD_ERR_HDR_* / SD_ERR_GEOM_* / SD_ERR_TABLE_PLACEMENT.
 */
int sd_validate_header(const struct sd_table_header *h, sd_gpa_t table_gpa,
		       const struct sd_limits *lim, struct sd_geom *g,
		       struct sd_errloc *loc);


/*
 * Validate chunk @idx from a private copy: @d (its descriptor) and @bits
 * (geometry's words_per_chunk words). @table_gpa locates the table's own
 * pages. An even copy must satisfy SPEC.md 4.2; an odd copy is accepted only
 * when @paused is true and then must satisfy 4.3. Fills @v on success.
 * Returns 0 or a negative SD_ERR_CHUNK_* / SD_ERR_TABLE_NOT_SHARED.
 */
int sd_validate_chunk(const struct sd_geom *g, u64 idx,
		      const struct sd_chunk_desc *d, const u64 *bits,
		      sd_gpa_t table_gpa, bool paused,
		      struct sd_chunk_view *v, struct sd_errloc *loc);

/*
 * The same, for a reader that counted @bits' set bits as it copied them:
 * @pop must be the popcount of all words_per_chunk words of @bits (of the
 * copy itself, never of the memory it was copied from).
 */
int sd_validate_chunk_counted(const struct sd_geom *g, u64 idx,
			      const struct sd_chunk_desc *d, const u64 *bits, u32 pop,
			      sd_gpa_t table_gpa, bool paused,
			      struct sd_chunk_view *v, struct sd_errloc *loc);

/*
 * The table's own pages in chunk @idx, as chunk-relative pages [*lo, *hi)
 * of a table registered at @table_gpa; false (and *lo, *hi untouched) when
 * the chunk holds none. Geometry only: no check.
 */
static inline bool sd_chunk_table_pages(const struct sd_geom *g, u64 idx, sd_gpa_t table_gpa,
					u32 *lo, u32 *hi)
{
	sd_gfn_t cgfn = sd_geom_chunk_gfn(g, idx);
	sd_gfn_t cend = cgfn + sd_geom_chunk_pages(g, idx);
	sd_gfn_t tlo = table_gpa >> SD_PAGE_SHIFT;
	sd_gfn_t thi = tlo + sd_geom_table_pages(g);

	if (tlo >= cend || thi <= cgfn)
		return false;
	*lo = (u32)(SD_MAX(tlo, cgfn) - cgfn);
	*hi = (u32)(SD_MIN(thi, cend) - cgfn);
	return true;
}

/*
 * The checks of a chunk holding table pages that need no bitmap beyond
 * those pages: what a registration makes (SPEC.md 5.5 step 6) and what a
 * read without the bitmap (3.2) makes of a table chunk. @d is the copied
 * descriptor (its pending range looked at only when its count is odd);
 * @first_clear is the first of the chunk's table pages (sd_chunk_table_pages)
 * whose bit is clear in the copy, or their end when every one is set.
 * Checks, in order: 4.3.0 (odd while not @paused), 4.3.1 and 4.3.2 (odd),
 * 4.2.3. Returns 0 or -SD_ERR_CHUNK_ODD / -SD_ERR_CHUNK_PENDING /
 * -SD_ERR_TABLE_NOT_SHARED.
 */
int sd_validate_table_chunk(const struct sd_geom *g, u64 idx, const struct sd_chunk_desc *d,
			    u32 first_clear, sd_gpa_t table_gpa, bool paused,
			    struct sd_errloc *loc);

/*
 * Validate a registration value (SPEC.md 5.1) against the guest's physical
 * address width. Returns 1 for an enable request (GPA in *gpa), 0 for an
 * unregister request, or -SD_ERR_REG_RESERVED / -SD_ERR_REG_GPA (located
 * nowhere: SD_LOC_NONE, SD_LOC_NONE).
 */
int sd_validate_reg_value(u64 value, u32 phys_bits, sd_gpa_t *gpa, struct sd_errloc *loc);

/*
 * Whether @err (positive or negative) is an error a host may answer to a
 * registration (SPEC.md 5.4); anything else from a host is a bad answer.
 */
static inline bool sd_err_is_host_answer(int value)
{
	u32 err = value < 0 ? 0u - (u32)value : (u32)value;

	return (err >= SD_ERR_REG_RESERVED && err <= SD_ERR_REG_ABI) ||
	       err == SD_ERR_UNSUPPORTED ||
	       (err >= SD_ERR_MEM_UNBACKED && err <= SD_ERR_MEM_FAULT) ||
	       (err >= SD_ERR_HDR_MAGIC && err <= SD_ERR_HDR_INCOMPAT) ||
	       (err >= SD_ERR_GEOM_PAGE_SHIFT && err <= SD_ERR_TABLE_PLACEMENT) ||
	       (err >= SD_ERR_TABLE_NOT_SHARED && err <= SD_ERR_CHUNK_RETRIES);
}

/* sd_err_name() and sd_err_desc() are in sd_api_types.h (public). */

#endif /* SD_VALIDATE_H */
