// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_conformance.c - every conformance vector through proto/'s checks,
 * in live and paused mode: exact verdict, exact location, exact counts.
 * (host/'s reader runs the same vectors in test_host_conformance.c.)
 */
#include <stdio.h>
#include <stdlib.h>
#include "sd_test.h"
#include "cvec.h"

static void check_mode(const struct cvec *v, bool paused)
{
	const struct cverdict *want = paused ? &v->paused : &v->live;
	struct sd_errloc loc = { 0 };
	struct tcheck_stats st;
	int rc = tcheck_image(v->img, v->len, v->gpa, &v->lim, paused, &loc, &st);

	if (rc != want->err)
		fail_msg("%s (%s): got %s, want %s", v->name, paused ? "paused" : "live",
			 sd_err_name(rc), sd_err_name(want->err));
	if (rc) {
		if (want->chunk != SD_LOC_NONE)
			assert_int_equal(loc.chunk, want->chunk);
		if (want->offset != SD_LOC_NONE)
			assert_int_equal(loc.offset, want->offset);
		return;
	}
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
