// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_flat.c - sd_host_mem_flat(), the accessor the CLI, make-image,
 * the benchmarks and examples/ share: a range is backed exactly when it
 * lies wholly inside the buffer, for every placement near the edges and
 * for sizes chosen to wrap a careless sum; and host/ reads a real table
 * through it.
 */
#include "host_util.h"

#define F_GPA	0x5000ULL
#define F_LEN	0x3000ULL

static u8 flat_buf[F_LEN];

/* What map() answers for [gpa, gpa + len): the pointer, or NULL and the error. */
static const void *flat_ask(struct sd_host_flat *f, sd_gpa_t gpa, u64 len, int *err)
{
	struct sd_host_mem mem = sd_host_mem_flat(f);

	assert_ptr_equal(mem.ctx, f);
	assert_null(mem.copy);
	*err = 0;
	return mem.map(mem.ctx, gpa, len, err);
}

static void test_flat_inside(void **state)
{
	struct sd_host_flat f = { flat_buf, F_GPA, F_LEN };
	int err;

	(void)state;
	assert_ptr_equal(flat_ask(&f, F_GPA, F_LEN, &err), flat_buf);
	assert_int_equal(err, 0);
	assert_ptr_equal(flat_ask(&f, F_GPA + 0x1000, 0x2000, &err), flat_buf + 0x1000);
	assert_ptr_equal(flat_ask(&f, F_GPA + F_LEN - 4, 4, &err), flat_buf + F_LEN - 4);
	/* An empty range at the very end is inside; one byte there is not. */
	assert_ptr_equal(flat_ask(&f, F_GPA + F_LEN, 0, &err), flat_buf + F_LEN);
	assert_int_equal(err, 0);
}

static void test_flat_outside(void **state)
{
	static const struct { sd_gpa_t gpa; u64 len; } cases[] = {
		{ F_GPA - 1, 1 },			/* just below */
		{ F_GPA - 1, 2 },			/* straddles the start */
		{ 0, F_GPA + 1 },			/* from 0 into the buffer */
		{ F_GPA + F_LEN, 1 },			/* just past the end */
		{ F_GPA + F_LEN - 4, 5 },		/* straddles the end */
		{ F_GPA, F_LEN + 1 },			/* one byte too long */
		{ F_GPA + 8, ~0ULL },			/* gpa + len wraps to below gpa */
		{ F_GPA + 8, ~0ULL - F_GPA - 8 + 1 },	/* gpa + len wraps to exactly 0 */
		{ ~0ULL, 1 },				/* the top byte */
		{ ~0ULL - 0xfff, 0x2000 },		/* wraps past the top into the buffer */
		{ F_GPA + F_LEN + 0x1000, 0 },		/* empty, but past the end */
	};
	struct sd_host_flat f = { flat_buf, F_GPA, F_LEN };
	int err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_null(flat_ask(&f, cases[i].gpa, cases[i].len, &err));
		assert_int_equal(err, -SD_ERR_MEM_UNBACKED);
	}
	/* An empty buffer backs nothing but the empty range at its address. */
	f.bytes = 0;
	assert_null(flat_ask(&f, F_GPA, 1, &err));
	assert_int_equal(err, -SD_ERR_MEM_UNBACKED);
	assert_ptr_equal(flat_ask(&f, F_GPA, 0, &err), flat_buf);
}

/* host/ registers and walks a table through it, and is refused past its end. */
static void test_flat_table(void **state)
{
	struct tfx *fx = tfx_new(0, 8192, 256, 0x3000, 3);
	u64 tpages = sd_geom_table_pages(&fx->t.g);
	struct sd_host_flat f = { fx->t.mem, fx->t.gpa, fx->t.g.table_size };
	struct sd_host_mem mem = sd_host_mem_flat(&f);
	struct truns r = { 0 };
	SD_HOST_OPTS(sd_host_walk_opts, wo, .flags = SD_READ_PAUSED | SD_READ_STRICT,
		     .fn = truns_fn, .ctx = &r);

	(void)state;
	tbuild_set(&fx->t, 100, 20, true);
	assert_int_equal(sd_host_register(&fx->reg, &fx->cfg, &mem, fx->t.gpa | SD_REG_ENABLE,
					  NULL), 0);
	assert_int_equal(sd_host_walk(&fx->reg, &mem, fx->scratch, &wo), 0);
	/* The table's own pages (shared), then the 20 pages set. */
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0].gfn, 3);
	assert_int_equal(r.v[0].n, tpages);
	assert_int_equal(r.v[0].state, SD_PAGE_SHARED);
	assert_int_equal(r.v[1].gfn, 100);
	assert_int_equal(r.v[1].n, 20);
	assert_int_equal(r.v[1].state, SD_PAGE_SHARED);
	/* One byte short: the table's last page is not backed. */
	sd_host_unregister(&fx->reg);
	f.bytes--;
	assert_int_equal(sd_host_register(&fx->reg, &fx->cfg, &mem, fx->t.gpa | SD_REG_ENABLE,
					  NULL), -SD_ERR_MEM_UNBACKED);
	free(r.v);
	tfx_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat_inside),
		cmocka_unit_test(test_flat_outside),
		cmocka_unit_test(test_flat_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
