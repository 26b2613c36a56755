// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_conformance.c - every conformance vector (SPEC.md 10) through
 * host/: registration, then a strict walk, as a live host (one attempt per
 * chunk) and as a paused host. Exact verdict, location, and shared /
 * transition / extent counts; for valid images the summary walk and the
 * incremental first read must agree with the strict walk.
 */
#include <stdio.h>
#include "host_util.h"
#include "cvec.h"

static void check_mode(const struct cvec *v, bool paused)
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
	struct sd_host_mem mem = tmem_host(&m);
	const char *mode = paused ? "paused" : "live";
	int rc;

	tmem_add(&m, v->gpa, v->len, v->img, TMEM_RAM);
	rc = sd_host_register_flags(&reg, &cfg, &mem, v->gpa | SD_REG_ENABLE, NULL, flags, &st,
				    &loc);
	if (!rc)
		rc = sd_host_walk(&reg, &mem, flags | SD_READ_STRICT, 1, scratch, truns_fn, &r,
				  &st, &loc);
	if (rc != want->err)
		fail_msg("%s (%s): got %s at %lld:0x%llx, want %s", v->name, mode, sd_err_name(rc),
			 (long long)loc.chunk, (unsigned long long)loc.offset,
			 sd_err_name(want->err));
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
	assert_int_equal(sd_host_walk(&reg, &mem, flags, 1, scratch, truns_fn, &r2, NULL, NULL), 0);
	truns_assert_equal(&r2, &r);
	truns_reset(&r2);

	/* So does the first read of an incremental walk, which keeps every bit. */
	{
		struct sd_host_incr incr = {
			.nr_chunks = sd_host_incr_seq_entries(&reg),
			.seqs = calloc(reg.geom.nr_chunks, sizeof(u32)),
			.bits = calloc(sd_host_incr_bit_words(&reg), sizeof(u64)),
		};

		assert_int_equal(sd_host_incr_init(&reg, &mem, &incr, flags, 1, scratch, truns_fn,
						   &r2, NULL, NULL), 0);
		truns_assert_equal(&r2, &r);
		truns_reset(&r2);
		/* And, nothing having changed, the next pass reports only what is in transition. */
		assert_int_equal(sd_host_walk_changes(&reg, &mem, &incr, flags, 1, scratch,
						      truns_fn, NULL, &r2, NULL, NULL), 0);
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

	check_mode(v, false);
	check_mode(v, true);
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
