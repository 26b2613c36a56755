// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_conformance.c - every conformance vector through a strict read
 * written here from SPEC.md 10.4, over proto/'s checks (4.1 to 4.3) and
 * the vector's memory map: exact verdict, exact location (a '-' in the
 * manifest must be reported as none), exact counts, live and paused.
 * host/'s reader runs the same vectors in test_host_conformance.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sd_test.h"
#include "cvec.h"

#define NONE	SD_LOC_NONE

/* What 5.5 step 7 keeps. */
struct ref_reg {
	bool active;
	sd_gpa_t gpa;
	struct sd_geom g;
	struct sd_table_header hdr;
};

/* A chunk copied out of guest memory, the way SPEC.md 3.1 / 3.4 reads it once. */
static void ref_copy(struct cvec_mem *m, const struct ref_reg *r, u64 idx,
		     struct sd_chunk_desc *d, u64 *bits)
{
	int err = 0;
	const u8 *t = cvec_mem_map(m, r->gpa, r->g.table_size, &err);

	assert_non_null(t);
	memcpy(d, t + sd_geom_desc_off(&r->g, idx), sizeof(*d));
	memcpy(bits, t + sd_geom_bits_off(&r->g, idx), sd_geom_chunk_bytes(&r->g));
}

/* Chunk-relative [lo, hi) of the table's pages in chunk @idx; empty when lo >= hi. */
static void ref_table_pages(const struct ref_reg *r, u64 idx, u32 *lo, u32 *hi)
{
	sd_gfn_t c = sd_geom_chunk_gfn(&r->g, idx), end = c + sd_geom_chunk_pages(&r->g, idx);
	sd_gfn_t t = r->gpa >> SD_PAGE_SHIFT, te = t + sd_geom_table_pages(&r->g);

	*lo = (u32)(SD_MAX(t, c) - c);
	*hi = (u32)(SD_MIN(te, end) > c ? SD_MIN(te, end) - c : 0);
}

/* 5.5 step 6 for chunk @idx: the read rule of the mode, 4.3.1 and 4.3.2 if odd, 4.2.3. */
static int ref_step6(struct cvec_mem *m, const struct ref_reg *r, u64 idx, bool paused,
		     struct sd_errloc *loc)
{
	u64 bits[SD_MAX_CHUNK_PAGES / 64];
	u64 doff = sd_geom_desc_off(&r->g, idx);
	u32 pages = sd_geom_chunk_pages(&r->g, idx), lo, hi;
	struct sd_chunk_desc d;
	u64 bad;

	ref_copy(m, r, idx, &d, bits);
	ref_table_pages(r, idx, &lo, &hi);
	if ((d.seq & 1) && !paused)
		return sd_fail(loc, SD_ERR_CHUNK_ODD, idx, doff);
	if (d.seq & 1) {
		if (!d.pending_count || d.pending_first >= pages ||
		    d.pending_count > pages - d.pending_first)
			return sd_fail(loc, SD_ERR_CHUNK_PENDING, idx, doff + 8);
		if (d.pending_first < hi && d.pending_first + d.pending_count > lo)
			return sd_fail(loc, SD_ERR_TABLE_NOT_SHARED, idx, doff + 8);
	}
	bad = sd_bitmap_find(bits, lo, hi, false);
	if (bad != hi)
		return sd_fail(loc, SD_ERR_TABLE_NOT_SHARED, idx,
			       sd_geom_bits_off(&r->g, idx) + (bad >> 6) * 8);
	return 0;
}

/* SPEC.md 5.5 steps 1 to 7. */
static int ref_register(const struct cvec *v, struct cvec_mem *m, bool paused,
			struct ref_reg *r, struct sd_errloc *loc)
{
	const struct sd_table_header *h = &r->hdr;
	sd_gpa_t gpa = 0;
	const void *p;
	int rc, err = 0;

	memset(r, 0, sizeof(*r));
	if (v->hc && v->hc_args[2])
		return sd_fail(loc, SD_ERR_REG_RESERVED, NONE, NONE);
	rc = sd_validate_reg_value(v->reg, v->maxphyaddr, &gpa, loc);
	if (rc <= 0)
		return rc;
	rc = cvec_mem_check(m, gpa, SD_HDR_SIZE);
	if (rc)
		return sd_fail(loc, -rc, NONE, 0);
	p = cvec_mem_map(m, gpa, SD_HDR_SIZE, &err);
	memcpy(&r->hdr, p, SD_HDR_SIZE);
	rc = sd_validate_header(h, gpa, &v->lim, &r->g, loc);
	if (rc)
		return rc;
	if (v->hc && v->hc_args[0] && v->hc_args[0] != h->table_size)
		return sd_fail(loc, SD_ERR_REG_SIZE, NONE, 0x50);
	if (v->hc && v->hc_args[1] && v->hc_args[1] != h->abi_major)
		return sd_fail(loc, SD_ERR_REG_ABI, NONE, 0x08);
	rc = cvec_mem_check(m, gpa, h->table_size);
	if (rc)
		return sd_fail(loc, -rc, NONE, 0);
	r->gpa = gpa;
	{
		u64 t = (gpa >> SD_PAGE_SHIFT) - r->g.first_gfn;
		u64 first = t >> r->g.chunk_shift;
		u64 last = (t + sd_geom_table_pages(&r->g) - 1) >> r->g.chunk_shift;

		for (u64 idx = first; idx <= last; idx++) {
			rc = ref_step6(m, r, idx, paused, loc);
			if (rc)
				return rc;
		}
	}
	r->active = true;
	return 0;
}

/* 7.1 step 1: the header in memory against the copy; the field holding the first change. */
static int ref_check_header(struct cvec_mem *m, const struct ref_reg *r, struct sd_errloc *loc)
{
	/* SPEC.md 1.2 field starts, the reserved bytes as five 8-byte fields (4.6). */
	static const u8 starts[] = { 0x00, 0x08, 0x0a, 0x0c, 0x10, 0x18, 0x20, 0x28, 0x30, 0x34,
				     0x38, 0x40, 0x48, 0x50, 0x58, 0x60, 0x68, 0x70, 0x78, 0x80 };
	const u8 *now, *was = (const u8 *)&r->hdr;
	int rc, err = 0;

	if (!r->active)
		return sd_fail(loc, SD_ERR_NO_TABLE, NONE, NONE);
	rc = cvec_mem_check(m, r->gpa, SD_HDR_SIZE);
	if (rc)
		return sd_fail(loc, -rc, NONE, 0);
	now = cvec_mem_map(m, r->gpa, SD_HDR_SIZE, &err);
	for (u32 f = 0; f + 1 < SD_ARRAY_SIZE(starts); f++)
		if (memcmp(now + starts[f], was + starts[f], starts[f + 1] - starts[f]))
			return sd_fail(loc, SD_ERR_HDR_CHANGED, NONE, starts[f]);
	return 0;
}

/* SPEC.md 10.4: the strict read of @v, and 10.5's counts on success. */
static int ref_strict_read(const struct cvec *v, bool paused, struct sd_errloc *loc,
			   struct tcheck_stats *st)
{
	u64 bits[SD_MAX_CHUNK_PAGES / 64];
	struct cvec_mem m;
	struct ref_reg r;
	bool in_run = false;
	int rc;

	memset(st, 0, sizeof(*st));
	cvec_mem_init(&m, v);
	rc = ref_register(v, &m, paused, &r, loc);
	if (rc)
		goto out;
	cvec_mem_after(&m);
	rc = ref_check_header(&m, &r, loc);
	if (rc)
		goto out;
	rc = cvec_mem_check(&m, r.gpa, r.g.table_size);
	if (rc) {
		rc = sd_fail(loc, -rc, NONE, 0);
		goto out;
	}
	for (u64 i = 0; i < r.g.nr_chunks; i++) {
		struct sd_chunk_desc d;
		struct sd_chunk_view cv;

		ref_copy(&m, &r, i, &d, bits);
		rc = sd_validate_chunk(&r.g, i, &d, bits, r.gpa, paused, &cv, loc);
		if (rc)
			goto out;
		for (u32 p = 0; p < cv.pages; p++) {
			bool pend = p >= cv.pending_first && p - cv.pending_first < cv.pending_count;
			bool sh = !pend && sd_bit_test(bits, p);

			st->transition += pend;
			st->shared += sh;
			st->extents += sh && !in_run;
			in_run = sh;
		}
	}
out:
	cvec_mem_free(&m);
	return rc;
}

static void check_mode(const struct cvec *v, bool paused)
{
	const struct cverdict *want = paused ? &v->paused : &v->live;
	struct sd_errloc loc = { 0, NONE, NONE };
	struct tcheck_stats st;
	int rc = ref_strict_read(v, paused, &loc, &st);

	if (rc != want->err || (rc && (loc.chunk != want->chunk || loc.offset != want->offset)))
		fail_msg("%s (%s): got %s at %lld:%#llx, want %s at %lld:%#llx", v->name,
			 paused ? "paused" : "live", sd_err_name(rc), (long long)loc.chunk,
			 (unsigned long long)loc.offset, sd_err_name(want->err),
			 (long long)want->chunk, (unsigned long long)want->offset);
	if (rc)
		return;
	assert_int_equal(st.shared, want->shared);
	assert_int_equal(st.transition, want->transition);
	assert_int_equal(st.extents, want->extents);
}

static void vector_verdicts(void **state)
{
	const struct cvec *v = *state;

	check_mode(v, false);
	check_mode(v, true);
}

int main(void)
{
	struct cvec *vs;
	int n = cvec_load_all(cvec_dir(), &vs);
	struct CMUnitTest *tests = calloc((size_t)n, sizeof(*tests));
	int valid = 0, fails;

	for (int i = 0; i < n; i++) {
		tests[i] = (struct CMUnitTest){ .name = vs[i].name, .test_func = vector_verdicts,
						.initial_state = &vs[i] };
		valid += vs[i].live.err == 0 || vs[i].paused.err == 0;
	}
	printf("conformance: %d vectors (%d valid in at least one mode, %d invalid)\n",
	       n, valid, n - valid);
	fails = _cmocka_run_group_tests("conformance: proto/ checks", tests, (size_t)n, NULL, NULL);
	free(tests);
	cvec_free_all(vs, n);
	return fails ? 1 : 0;
}
