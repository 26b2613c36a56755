// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_conformance.c - every conformance vector (SPEC.md 10) through
 * host/, as SPEC.md 10.4's strict read: registration (in the read mode),
 * the vector's `after` mutations, the header re-check, then a strict walk,
 * as a live host (one attempt per chunk) and as a paused host, over the
 * vector's memory map. Exact verdict and location (a '-' must be reported
 * as none), and shared / transition / extent counts; for valid images the
 * summary walk and the incremental first read must agree with the strict
 * walk. Each through a map() accessor and through a copy() one (as a
 * kernel reads guest memory), which must agree byte for byte. Then SPEC.md
 * 7.4: a migration destination accepts a guest paused inside windows of the
 * chunks holding its table, which a live host refuses.
 */
#include <stdio.h>
#include "host_util.h"
#include "cvec.h"

static struct cvec *vs;
static int nvs;

/* A strict read's host: the vector's configuration and memory. */
struct cvhost {
	struct cvec_mem cm;
	struct sd_host_mem mem;
	struct sd_host_cfg cfg;
	struct sd_hc_args hc;
	struct sd_host_reg reg;
	struct sd_host_stats st;
	struct sd_errloc loc;
	u64 scratch[SD_HOST_SCRATCH_WORDS];
};

/* cvec_mem as a copy() accessor: the same memory map, reached by copying. */
static int cvec_mem_copy(void *ctx, void *dst, sd_gpa_t gpa, u64 len)
{
	int err = 0;
	const void *p = cvec_mem_map(ctx, gpa, len, &err);

	if (!p)
		return err;
	if (dst)
		memcpy(dst, p, len);
	return 0;
}

static void cvhost_init_as(struct cvhost *h, const struct cvec *v, bool copy)
{
	memset(h, 0, sizeof(*h));
	cvec_mem_init(&h->cm, v);
	if (copy)
		h->mem = (struct sd_host_mem){ .copy = cvec_mem_copy, .ctx = &h->cm };
	else
		h->mem = (struct sd_host_mem){ .map = cvec_mem_map, .ctx = &h->cm };
	h->cfg = (struct sd_host_cfg){ .lim = v->lim, .phys_bits = v->maxphyaddr,
				       .max_attempts = 1 };
	h->hc = (struct sd_hc_args){ v->hc_args[0], v->hc_args[1], v->hc_args[2] };
	h->loc = (struct sd_errloc){ 0, SD_LOC_NONE, SD_LOC_NONE };
}

static void cvhost_init(struct cvhost *h, const struct cvec *v)
{
	cvhost_init_as(h, v, false);
}

static int cvhost_register(struct cvhost *h, const struct cvec *v, u32 flags)
{
	SD_HOST_OPTS(sd_host_register_opts, o, .flags = flags, .hc = v->hc ? &h->hc : NULL,
		     .stats = &h->st, .loc = &h->loc);

	return sd_host_register(&h->reg, &h->cfg, &h->mem, v->reg, &o);
}

/* A walk with @flags reporting into @r (NULL: nothing), its failure located in h->loc. */
static int cvhost_walk(struct cvhost *h, u32 flags, struct truns *r, struct sd_host_stats *st)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 1,
		     .fn = r ? truns_fn : NULL, .ctx = r, .stats = st, .loc = &h->loc);

	return sd_host_walk(&h->reg, &h->mem, h->scratch, &o);
}

static void assert_verdict(const struct cvec *v, const char *mode, int rc,
			   const struct sd_errloc *loc, const struct cverdict *want)
{
	if (rc != want->err || (rc && (loc->chunk != want->chunk || loc->offset != want->offset)))
		fail_msg("%s (%s): got %s at %lld:%#llx, want %s at %lld:%#llx", v->name, mode,
			 sd_err_name(rc), (long long)loc->chunk, (unsigned long long)loc->offset,
			 sd_err_name(want->err), (long long)want->chunk,
			 (unsigned long long)want->offset);
	if (rc)
		assert_int_equal(loc->err, rc);
}

/* A valid image: the summary walk and an incremental walk report what the strict walk did. */
static void check_other_walks(struct cvhost *h, u32 flags, const struct truns *r,
			      const struct cverdict *want)
{
	struct sd_host_incr incr = {
		.nr_chunks = sd_host_incr_seq_entries(&h->reg),
		.seqs = calloc(h->reg.geom.nr_chunks, sizeof(u32)),
		.bits = calloc(sd_host_incr_bit_words(&h->reg), sizeof(u64)),
	};
	struct truns r2 = { 0 };
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 1, .fn = truns_fn,
		     .ctx = &r2);

	/* Summary reads skip uniform bitmaps but find the same runs. */
	assert_int_equal(cvhost_walk(h, flags, &r2, NULL), 0);
	truns_assert_equal(&r2, r);
	truns_reset(&r2);

	/* So does the first read of an incremental walk, which keeps every bit. */
	assert_int_equal(sd_host_incr_init(&h->reg, &h->mem, &incr, &o), 0);
	truns_assert_equal(&r2, r);
	truns_reset(&r2);
	/* And, nothing having changed, the next pass reports only what is in transition. */
	assert_int_equal(sd_host_walk_changes(&h->reg, &h->mem, &incr, h->scratch, &o), 0);
	assert_int_equal(r2.pages[SD_PAGE_SHARED] + r2.pages[SD_PAGE_PRIVATE], 0);
	assert_int_equal(r2.pages[SD_PAGE_TRANSITION], want->transition);
	truns_reset(&r2);
	free(incr.seqs);
	free(incr.bits);
}

static void check_mode(const struct cvec *v, bool paused, bool copy, u64 *bytes)
{
	const struct cverdict *want = paused ? &v->paused : &v->live;
	u32 flags = paused ? SD_READ_PAUSED : 0;
	struct truns r = { 0 };
	struct cvhost *h = calloc(1, sizeof(*h));
	int rc;

	cvhost_init_as(h, v, copy);
	rc = cvhost_register(h, v, flags);				/* 10.4 step 1 */
	if (!rc) {
		cvec_mem_after(&h->cm);					/* step 2 */
		rc = sd_host_check_header(&h->reg, &h->mem, &h->loc);	/* step 3 */
	}
	if (!rc)							/* step 4 */
		rc = cvhost_walk(h, flags | SD_READ_STRICT, &r, &h->st);
	*bytes = h->st.bytes;
	assert_verdict(v, copy ? (paused ? "paused, copy" : "live, copy") :
		       (paused ? "paused" : "live"), rc, &h->loc, want);
	if (!rc) {
		assert_int_equal(r.pages[SD_PAGE_SHARED], want->shared);
		assert_int_equal(r.pages[SD_PAGE_TRANSITION], want->transition);
		assert_int_equal(r.runs[SD_PAGE_SHARED], want->extents);
		assert_int_equal(r.pages[SD_PAGE_UNSETTLED], 0);
		/* A static image settles at the first attempt of every chunk. */
		assert_int_equal(h->st.retries, 0);
		assert_int_equal(h->st.attempts, h->st.chunks);
		check_other_walks(h, flags, &r, want);
	}
	truns_reset(&r);
	cvec_mem_free(&h->cm);
	free(h);
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

/*
 * SPEC.md 7.4: the final pause landed inside windows of chunks 3 and 4, the
 * two chunks holding the table's pages (GFNs 0xfe..0x101). A live host
 * refuses the registration at chunk 3 and keeps what it had; the
 * destination, registering for stopped vCPUs, accepts it after reading just
 * those two chunks once each, and its walk reports the windows in transition.
 */
static void destination_accepts_pause_inside_table_chunk_windows(void **state)
{
	static const char *const names[] = { "pause_in_window_of_table_chunks",
					     "pause_in_window_of_table_chunks_begun" };

	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(names); i++) {
		const struct cvec *v = cvec_find(vs, nvs, names[i]);
		struct cvhost *h = calloc(1, sizeof(*h));
		struct truns r = { 0 };

		assert_non_null(v);
		cvhost_init(h, v);
		/* Live, with any attempt budget: the count stays odd. */
		h->cfg.max_attempts = 4;
		assert_sd_err(cvhost_register(h, v, 0), h->loc, SD_ERR_CHUNK_ODD, 3,
			      0x80 + 16 * 3);
		assert_int_equal(h->st.attempts, 4);
		assert_false(h->reg.active);
		assert_int_equal(h->reg.generation, 0);

		/* Paused: one read of each table chunk, then the registration is installed. */
		memset(&h->st, 0, sizeof(h->st));
		assert_int_equal(cvhost_register(h, v, SD_READ_PAUSED), 0);
		assert_true(h->reg.active);
		assert_int_equal(h->reg.value, 0xfe001);
		assert_int_equal(h->reg.gpa, 0xfe000);
		assert_int_equal(h->reg.generation, 1);
		assert_int_equal(h->st.chunks, 2);
		assert_int_equal(h->st.attempts, 2);
		assert_int_equal(h->st.retries, 0);

		/* What the destination's guest holds: windows of 4 and 16 pages, in transition. */
		assert_int_equal(cvhost_walk(h, SD_READ_PAUSED, &r, NULL), 0);
		assert_int_equal(r.pages[SD_PAGE_TRANSITION], 20);
		assert_int_equal(r.runs[SD_PAGE_TRANSITION], 2);
		assert_int_equal(r.v[0].gfn, 0xc0);
		assert_int_equal(r.v[0].n, 4);
		assert_int_equal(r.v[0].state, SD_PAGE_TRANSITION);
		assert_int_equal(r.pages[SD_PAGE_TRANSITION], v->paused.transition);
		truns_reset(&r);
		/* Once the guest runs again, a live read must wait for the writer. */
		assert_sd_err(cvhost_walk(h, 0, NULL, NULL), h->loc, SD_ERR_CHUNK_ODD, 3,
			      0x80 + 16 * 3);
		cvec_mem_free(&h->cm);
		free(h);
	}
}

int main(void)
{
	struct CMUnitTest *tests;
	int fails;

	nvs = cvec_load_all(cvec_dir(), &vs);
	tests = calloc((size_t)nvs, sizeof(*tests));
	for (int i = 0; i < nvs; i++)
		tests[i] = (struct CMUnitTest){ .name = vs[i].name,
						.test_func = vector_through_host,
						.initial_state = &vs[i] };
	printf("conformance through host/: %d vectors, live and paused\n", nvs);
	fails = _cmocka_run_group_tests("conformance: host/ reader", tests, (size_t)nvs, NULL,
					NULL);
	{
		const struct CMUnitTest dest[] = {
			cmocka_unit_test(destination_accepts_pause_inside_table_chunk_windows),
		};

		fails += cmocka_run_group_tests_name("conformance: SPEC.md 7.4 destination",
						     dest, NULL, NULL);
	}
	free(tests);
	cvec_free_all(vs, nvs);
	return fails ? 1 : 0;
}
