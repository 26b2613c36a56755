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

/* What the host knows about the guest, independent of anything the guest wrote. */
struct sd_limits {
	sd_gfn_t ram_first_gfn;	/* lowest frame of guest RAM */
	sd_gfn_t ram_end_gfn;	/* one past the highest frame of guest RAM */
	sd_gfn_t gfn_limit;	/* a span must end at or below this (<= SD_GFN_LIMIT) */
	u64 max_table_bytes;	/* the host's bound on table_size */
};

#define SD_LOC_NONE	(~0ULL)

/* Where a check failed: the error, the chunk (or SD_LOC_NONE), the table byte offset. */
struct sd_errloc {
	int err;		/* negative SD_ERR_* */
	u64 chunk;
	u64 offset;
};

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

/* What one chunk looks like after sd_validate_chunk() accepted it. */
struct sd_chunk_view {
	u32 seq;
	u32 nr_shared;		/* the popcount of the copied bits */
	u32 pages;		/* pages this chunk covers */
	u32 pending_first;	/* in-transition range (odd chunks, paused mode) */
	u32 pending_count;	/* 0 when the chunk is stable */
};

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
 * Validate a registration value (SPEC.md 5.1) against the guest's physical
 * address width. Returns 1 for an enable request (GPA in *gpa), 0 for an
 * unregister request, or -SD_ERR_REG_RESERVED / -SD_ERR_REG_GPA.
 */
int sd_validate_reg_value(u64 value, u32 phys_bits, sd_gpa_t *gpa);

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

/* Stable names and one-line descriptions, e.g. "SD_ERR_HDR_MAGIC". */
const char *sd_err_name(int err);
const char *sd_err_desc(int err);

#endif /* SD_VALIDATE_H */
