// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_conformance.c - every conformance vector (SPEC.md 10) through
 * host/: registration, then a strict walk, as a live host (one attempt per
 * chunk) and as a paused host, through a map() accessor and through a
 * copy() one. Exact verdict, location, and shared / transition / extent
 * counts; for valid images the summary walk and the incremental first read
 * must agree with the strict walk, and both accessors must read the same
 * bytes.
 */
#include <stdio.h>
#include "host_util.h"
#include "cvec.h"

static void check_mode(const struct cvec *v, bool paused, bool copy, u64 *bytes)
{
	const struct cverdict *want = paused ? &v->paused : &v->live;
	u32 flags = paused ? SD_READ_PAUSED : 0;
	struct sd_host_cfg cfg = { .lim = v->lim, .phys_bits = 52, .max_attempts = 1 };
	struct sd_host_reg reg = { 0 };
	struct sd_host_stats st = { 0 };
	struct sd_errloc loc = { 0 };
	struct truns r = { 0 }, r2 = { 0 };
	u64 scratch[SD_HOST_SCRATCH_WORDS];
	struct tmem m = { 0 };
	struct sd_host_mem mem = copy ? tmem_host_copy(&m) : tmem_host(&m);
	const char *mode = paused ? "paused" : "live";
	SD_HOST_OPTS(sd_host_register_opts, ro, .flags = flags, .stats = &st, .loc = &loc);
	SD_HOST_OPTS(sd_host_walk_opts, strict, .flags = flags | SD_READ_STRICT, .max_attempts = 1,
		     .fn = truns_fn, .ctx = &r, .stats = &st, .loc = &loc);
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 1, .fn = truns_fn,
		     .ctx = &r2);
	int rc;

	tmem_add(&m, v->gpa, v->len, v->img, TMEM_RAM);
	rc = sd_host_register(&reg, &cfg, &mem, v->gpa | SD_REG_ENABLE, &ro);
	if (!rc)
		rc = sd_host_walk(&reg, &mem, scratch, &strict);
	*bytes = st.bytes;
	if (rc != want->err)
		fail_msg("%s (%s, %s): got %s at %lld:0x%llx, want %s", v->name, mode,
			 copy ? "copy" : "map", sd_err_name(rc), (long long)loc.chunk,
			 (unsigned long long)loc.offset, sd_err_name(want->err));
	if (rc) {
		assert_int_equal(loc.err, rc);
		if (want->chunk != SD_LOC_NONE)
			assert_int_equal(loc.chunk, want->chunk);
		if (want->offset != SD_LOC_NONE)
			assert_int_equal(loc.offset, want->offset);
		truns_reset(&r);
		return;
	}
	assert_int_equal(r.pages[SD_PAGE_SHARED], want->shared);
	assert_int_equal(r.pages[SD_PAGE_TRANSITION], want->transition);
	assert_int_equal(r.runs[SD_PAGE_SHARED], want->extents);
	assert_int_equal(r.pages[SD_PAGE_UNSETTLED], 0);
	/* A static image settles at the first attempt of every chunk. */
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.attempts, st.chunks);

	/* Summary reads skip uniform bitmaps but find the same runs. */
	assert_int_equal(sd_host_walk(&reg, &mem, scratch, &o), 0);
	truns_assert_equal(&r2, &r);
	truns_reset(&r2);

	/* So does the first read of an incremental walk, which keeps every bit. */
	{
		struct sd_host_incr incr = {
			.nr_chunks = sd_host_incr_seq_entries(&reg),
			.seqs = calloc(reg.geom.nr_chunks, sizeof(u32)),
			.bits = calloc(sd_host_incr_bit_words(&reg), sizeof(u64)),
		};

		assert_int_equal(sd_host_incr_init(&reg, &mem, &incr, &o), 0);
		truns_assert_equal(&r2, &r);
		truns_reset(&r2);
		/* And, nothing having changed, the next pass reports only what is in transition. */
		assert_int_equal(sd_host_walk_changes(&reg, &mem, &incr, scratch, &o), 0);
		assert_int_equal(r2.pages[SD_PAGE_SHARED] + r2.pages[SD_PAGE_PRIVATE], 0);
		assert_int_equal(r2.pages[SD_PAGE_TRANSITION], want->transition);
		truns_reset(&r2);
		free(incr.seqs);
		free(incr.bits);
	}
	truns_reset(&r);
}

static void vector_through_host(void **state)
{
	const struct cvec *v = *state;

	for (int paused = 0; paused <= 1; paused++) {
		u64 map_bytes, copy_bytes;

		check_mode(v, paused, false, &map_bytes);
		check_mode(v, paused, true, &copy_bytes);
		assert_int_equal(copy_bytes, map_bytes);
	}
}

int main(void)
{
	struct cvec *vs;
	int n = cvec_load_all(cvec_dir(), &vs);
	struct CMUnitTest *tests = calloc((size_t)n, sizeof(*tests));
	int fails;

	for (int i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ .name = vs[i].name,
						.test_func = vector_through_host,
						.initial_state = &vs[i] };
	printf("conformance through host/: %d vectors, live and paused\n", n);
	fails = _cmocka_run_group_tests("conformance: host/ reader", tests, (size_t)n, NULL, NULL);
	free(tests);
	cvec_free_all(vs, n);
	return fails ? 1 : 0;
}
