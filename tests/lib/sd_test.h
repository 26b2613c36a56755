/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_test.h - what every CMocka suite here includes: CMocka in the order it
 * needs, the project headers, and a small reference table builder that
 * writes tables straight from SPEC.md (independent of guest/).
 */
#ifndef SD_TEST_H
#define SD_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sev_donate.h"
#include "sd_types.h"
#include "layout.h"
#include "bitmap.h"
#include "validate.h"

/* @size bytes aligned to @align (posix_memalign: no size-multiple rule); fails the test on ENOMEM. */
void *test_alloc(size_t align, size_t size);

/* A table built in test memory, laid out by sd_geom_compute(). */
struct tbuild {
	struct sd_geom g;
	u8 *mem;		/* g.table_size bytes, page-aligned, zeroed */
	sd_gpa_t gpa;		/* where the table claims to live */
};

/* Lay out a table, write its header, mark its own pages shared. */
void tbuild_init(struct tbuild *t, sd_gfn_t first_gfn, u64 nr_gfns, u32 ppc,
		 sd_gpa_t gpa);
void tbuild_free(struct tbuild *t);
/* One complete update per chunk touched (seq += 2), as a writer would. */
void tbuild_set(struct tbuild *t, sd_gfn_t gfn, u64 n, bool shared);
/* Leave chunk @idx inside an update window over [first, first + count). */
void tbuild_open(struct tbuild *t, u64 idx, u32 first, u32 count);

struct sd_table_header *tbuild_hdr(struct tbuild *t);
struct sd_chunk_desc *tbuild_desc(struct tbuild *t, u64 idx);
u64 *tbuild_bits(struct tbuild *t, u64 idx);

/* Limits under which a table built by tbuild_init() is valid. */
struct sd_limits tbuild_limits(const struct tbuild *t);

/* What a whole-image check found. */
struct tcheck_stats {
	u64 shared;		/* pages shared and stable */
	u64 transition;		/* pages inside pending ranges (paused mode) */
	u64 extents;		/* maximal runs of shared pages, across chunks */
};

/*
 * The static reference check: header, then every chunk in order, exactly
 * as SPEC.md section 4 lists them, on an image with no concurrent writer.
 * Returns 0 or the first negative SD_ERR_*, with its location in @loc.
 */
int tcheck_image(const void *mem, u64 len, sd_gpa_t gpa, const struct sd_limits *lim,
		 bool paused, struct sd_errloc *loc, struct tcheck_stats *st);

/* Assert an exact error and, when @chunk/@offset are not SD_LOC_NONE, its location. */
#define assert_sd_err(rc, l, want, want_chunk, want_off)			\
	do {									\
		int __rc = (rc);						\
		if (__rc != -(want))						\
			fail_msg("got %s (%d), want %s", sd_err_name(__rc),	\
				 __rc, sd_err_name(-(want)));			\
		assert_int_equal((l).err, -(want));				\
		if ((u64)(want_chunk) != SD_LOC_NONE)				\
			assert_int_equal((l).chunk, (u64)(want_chunk));		\
		if ((u64)(want_off) != SD_LOC_NONE)				\
			assert_int_equal((l).offset, (u64)(want_off));		\
	} while (0)

#endif /* SD_TEST_H */
