// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_fault.c - host/ through a copy() accessor whose every access
 * may fail, as guest memory is reached in a kernel (kvm_read_guest,
 * copy_from_user). For every N, an accessor that faults on its Nth access
 * ends a registration, a walk, an incremental walk and a header check
 * with SD_ERR_MEM_FAULT, located as every memory error is (no chunk,
 * offset 0), and leaves the caller's state unchanged (a registration) or
 * consistent (an incremental walk: the next walk reports exactly what was
 * not taken). Without a fault, copy() and map() read the same bytes and
 * find the same things.
 *
 * The table: 8192 pages in chunks of 256 (32 chunks), 64-page chunks for
 * the two-chunk registration; one page of table at 0x3000 unless a case
 * says otherwise.
 */
#include "host_util.h"

#define T_GPA		0x3000ULL

/* From now on, copy() call number @n fails (0: none); the count starts over. */
static void ffx_fault_at(struct tfx *f, u64 n)
{
	f->m.copies = 0;
	f->m.fault_at = n;
}

static int ffx_register(struct tfx *f, const struct sd_host_mem *mem, u32 flags)
{
	SD_HOST_OPTS(sd_host_register_opts, o, .flags = flags, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	f->loc = (struct sd_errloc){ 0, 0, 0 };
	return sd_host_register(&f->reg, &f->cfg, mem, f->t.gpa | SD_REG_ENABLE, &o);
}

static int ffx_walk(struct tfx *f, const struct sd_host_mem *mem, u32 flags, struct truns *r)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 3, .fn = truns_fn,
		     .ctx = r, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	f->loc = (struct sd_errloc){ 0, 0, 0 };
	return sd_host_walk(&f->reg, mem, f->scratch, &o);
}

static int ffx_init(struct tfx *f, const struct sd_host_mem *mem, u32 flags, struct truns *r)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 3,
		     .fn = r ? truns_fn : NULL, .ctx = r, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	f->loc = (struct sd_errloc){ 0, 0, 0 };
	return sd_host_incr_init(&f->reg, mem, &f->incr, &o);
}

static int ffx_changes(struct tfx *f, const struct sd_host_mem *mem, u32 flags, struct truns *r)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = 3, .fn = truns_fn,
		     .chunk_fn = truns_chunk_fn, .ctx = r, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	f->loc = (struct sd_errloc){ 0, 0, 0 };
	return sd_host_walk_changes(&f->reg, mem, &f->incr, f->scratch, &o);
}

/* The fault every faulting call must end with: named, and located as memory errors are. */
static void assert_fault(struct tfx *f, int rc, u64 n)
{
	if (rc != -SD_ERR_MEM_FAULT)
		fail_msg("fault at access %llu: got %s", (unsigned long long)n, sd_err_name(rc));
	assert_sd_err(rc, f->loc, SD_ERR_MEM_FAULT, SD_LOC_NONE, 0);
	assert_int_equal(f->m.copies, n);	/* it stopped at the fault */
}

/* A prefix of @all, except that the last run may be cut short. */
static void assert_runs_prefix(const struct truns *got, const struct truns *all)
{
	assert_true(got->n <= all->n);
	for (u64 i = 0; i < got->n; i++) {
		assert_int_equal(got->v[i].gfn, all->v[i].gfn);
		assert_int_equal(got->v[i].state, all->v[i].state);
		if (i + 1 < got->n)
			assert_int_equal(got->v[i].n, all->v[i].n);
		else
			assert_true(got->v[i].n <= all->v[i].n);
	}
}

/* ---- registration --------------------------------------------------------------- */

/* For every N, a registration faulting at access N fails, leaving the one before it. */
static void fault_at_every_access_of_a_registration(u64 n, u32 ppc, sd_gpa_t gpa, u32 flags)
{
	struct tfx *f = tfx_new(0, n, ppc, gpa, 3);
	struct sd_host_reg before;
	u64 total, map_bytes;

	/* Without a fault: what map() finds, copy() finds, reading the same bytes. */
	assert_int_equal(ffx_register(f, &f->mem, flags), 0);
	map_bytes = f->st.bytes;
	ffx_fault_at(f, 0);
	assert_int_equal(ffx_register(f, &f->copy, flags), 0);
	assert_int_equal(f->st.bytes, map_bytes);
	total = f->m.copies;
	/* The header, the probe of the whole table, then each table chunk's loads. */
	assert_true(total >= 2 + 3);
	before = f->reg;
	for (u64 k = 1; k <= total; k++) {
		ffx_fault_at(f, k);
		assert_fault(f, ffx_register(f, &f->copy, flags), k);
		assert_memory_equal(&f->reg, &before, sizeof(before));
	}
	ffx_fault_at(f, total + 1);
	assert_int_equal(ffx_register(f, &f->copy, flags), 0);
	assert_int_equal(f->reg.generation, before.generation + 1);
	tfx_free(f);
}

static void registration_faulting_at_any_access_keeps_the_old_one(void **state)
{
	(void)state;

	/* One table page in chunk 0. */
	fault_at_every_access_of_a_registration(8192, 256, T_GPA, 0);
	/* A two-page table across chunks 0 and 1 of 64 pages. */
	fault_at_every_access_of_a_registration(16384, 64, 63ULL << 12, 0);
}

static void paused_registration_faulting_at_any_access_keeps_the_old_one(void **state)
{
	struct tfx *f = tfx_new(0, 8192, 256, T_GPA, 3);
	struct sd_host_reg before;
	u64 total;

	(void)state;
	/* A window in the table's chunk: the pending range is loaded too. */
	tbuild_open(&f->t, 0, 100, 5);
	ffx_fault_at(f, 0);
	assert_int_equal(ffx_register(f, &f->copy, SD_READ_PAUSED), 0);
	total = f->m.copies;
	/* header, probe, seq, pending_first, pending_count, one word, seq */
	assert_int_equal(total, 7);
	before = f->reg;
	for (u64 k = 1; k <= total; k++) {
		ffx_fault_at(f, k);
		assert_fault(f, ffx_register(f, &f->copy, SD_READ_PAUSED), k);
		assert_memory_equal(&f->reg, &before, sizeof(before));
	}
	tfx_free(f);
}

static void header_check_faulting_is_named(void **state)
{
	struct tfx *f = tfx_new(0, 8192, 256, T_GPA, 3);

	(void)state;
	assert_int_equal(ffx_register(f, &f->copy, 0), 0);
	ffx_fault_at(f, 0);
	assert_int_equal(sd_host_check_header(&f->reg, &f->copy, &f->loc), 0);
	assert_int_equal(f->m.copies, 1);		/* the header, in one copy */
	ffx_fault_at(f, 1);
	assert_fault(f, sd_host_check_header(&f->reg, &f->copy, &f->loc), 1);
	tfx_free(f);
}

/* ---- walks ------------------------------------------------------------------------ */

/* Shared runs across chunk boundaries, uniform and mixed chunks, an odd one. */
static void walk_fixture_pages(struct tfx *f)
{
	tbuild_set(&f->t, 250, 20, true);
	tbuild_set(&f->t, 1024, 512, true);		/* chunks 4 and 5: uniform */
	tbuild_set(&f->t, 3000, 7, true);
	tbuild_set(&f->t, 8191, 1, true);
}

static void walk_faulting_at_any_access(u32 flags)
{
	struct tfx *f = tfx_new(0, 8192, 256, T_GPA, 3);
	struct truns all = { 0 }, map_all = { 0 };
	u64 total, bytes;

	walk_fixture_pages(f);
	if (flags & SD_READ_PAUSED)
		tbuild_open(&f->t, 9, 10, 20);
	assert_int_equal(ffx_register(f, &f->copy, flags & SD_READ_PAUSED), 0);
	assert_int_equal(ffx_walk(f, &f->mem, flags, &map_all), 0);
	bytes = f->st.bytes;
	ffx_fault_at(f, 0);
	assert_int_equal(ffx_walk(f, &f->copy, flags, &all), 0);
	truns_assert_equal(&all, &map_all);
	/*
	 * The same bytes, but for the probes a live walk through map() makes
	 * (sd_walk_probe_private): chunks 8..15 and 24..31 hold shared pages,
	 * so those two probes failed (chunk 0's group holds the table and
	 * 16..23 passed, costing what their summary reads would).
	 */
	assert_int_equal(f->st.bytes, flags ? bytes : bytes - 2 * 8 * 12);
	total = f->m.copies;
	assert_true(total >= 3 * 32);
	for (u64 k = 1; k <= total; k++) {
		struct truns got = { 0 };

		ffx_fault_at(f, k);
		assert_fault(f, ffx_walk(f, &f->copy, flags, &got), k);
		assert_runs_prefix(&got, &all);
		assert_true(f->st.chunks <= 32 && f->st.attempts <= f->st.chunks);
		truns_reset(&got);
	}
	truns_reset(&all);
	truns_reset(&map_all);
	tfx_free(f);
}

static void walk_faulting_at_any_access_fails_named(void **state)
{
	(void)state;

	walk_faulting_at_any_access(0);
	walk_faulting_at_any_access(SD_READ_STRICT);
	walk_faulting_at_any_access(SD_READ_PAUSED | SD_READ_STRICT);
}

static void incr_init_faulting_at_any_access_leaves_it_unusable(void **state)
{
	struct tfx *f = tfx_new(0, 8192, 256, T_GPA, 3);
	struct truns r = { 0 };
	u64 total;

	(void)state;
	walk_fixture_pages(f);
	assert_int_equal(ffx_register(f, &f->copy, 0), 0);
	tfx_incr_alloc(f);
	ffx_fault_at(f, 0);
	assert_int_equal(ffx_init(f, &f->copy, 0, NULL), 0);
	total = f->m.copies;
	for (u64 k = 1; k <= total; k++) {
		ffx_fault_at(f, k);
		assert_fault(f, ffx_init(f, &f->copy, 0, NULL), k);
		/* Marked as belonging to no generation: refused until an init succeeds. */
		ffx_fault_at(f, 0);
		assert_sd_err(ffx_changes(f, &f->copy, 0, &r), f->loc, SD_ERR_INVAL, SD_LOC_NONE,
			      SD_LOC_NONE);
		assert_int_equal(f->m.copies, 0);
	}
	assert_int_equal(ffx_init(f, &f->copy, 0, NULL), 0);
	assert_int_equal(ffx_changes(f, &f->copy, 0, &r), 0);
	assert_int_equal(r.n, 0);
	truns_reset(&r);
	tfx_free(f);
}

/* Make state B from the fixture's state A: runs to shared and to private, across chunks. */
static void incr_fixture_changes(struct tfx *f)
{
	tbuild_set(&f->t, 260, 30, true);		/* extends 250..269 into 290 */
	tbuild_set(&f->t, 1100, 100, false);		/* a hole in uniform chunk 4 */
	tbuild_set(&f->t, 7 * 256 + 200, 2 * 256, true);	/* chunk 7 into chunk 9 */
	tbuild_set(&f->t, 5000, 5, true);
	tbuild_set(&f->t, 5000, 5, false);		/* moved, and back */
	tbuild_set(&f->t, 8191, 1, false);
}

/*
 * For every N, an incremental walk faulting at access N fails named, and
 * leaves @incr consistent: the next walk reports exactly the changes the
 * failed one did not get accepted, and the one after reports nothing.
 */
static void incr_walk_faulting_at_any_access_stays_consistent(void **state)
{
	struct tfx *f = tfx_new(0, 8192, 256, T_GPA, 3);
	u64 nseq = 32, nbits = 32 * 4, total;
	u32 *seqs0 = calloc(nseq, 4);
	u64 *bits0 = calloc(nbits, 8);
	u8 *settled0 = calloc(8192, 1);
	struct truns all = { 0 }, want = { 0 };

	(void)state;
	walk_fixture_pages(f);
	assert_int_equal(ffx_register(f, &f->copy, 0), 0);
	tfx_incr_alloc(f);
	assert_int_equal(ffx_init(f, &f->copy, 0, NULL), 0);
	tref_from_table(&f->t, settled0);
	memcpy(seqs0, f->incr.seqs, nseq * 4);
	memcpy(bits0, f->incr.bits, nbits * 8);
	incr_fixture_changes(f);

	/* Unfaulted: the reference's runs, through copy() as through map(). */
	tref_from_table(&f->t, f->cur);
	tref_diff_runs(settled0, f->cur, 0, 8192, &want);
	ffx_fault_at(f, 0);
	assert_int_equal(ffx_changes(f, &f->copy, 0, &all), 0);
	truns_assert_equal(&all, &want);
	total = f->m.copies;
	/*
	 * 32 counts; then seq, nr_shared, bits, seq of chunks 1, 4, 7 and 9;
	 * chunks 8 (now all shared), 19 (back to all private) and 31 (all
	 * private) are read as summaries: seq, nr_shared, seq.
	 */
	assert_int_equal(total, 32 + 4 * 4 + 3 * 3);

	for (u64 k = 1; k <= total; k++) {
		struct truns got = { 0 }, rest = { 0 }, again = { 0 };

		memcpy(f->incr.seqs, seqs0, nseq * 4);
		memcpy(f->incr.bits, bits0, nbits * 8);
		memcpy(f->settled, settled0, 8192);
		ffx_fault_at(f, k);
		assert_fault(f, ffx_changes(f, &f->copy, 0, &got), k);
		assert_runs_prefix(&got, &all);
		/* What was reported was accepted (truns_fn returns 0): taken. */
		tref_apply_runs(f->settled, 0, got.v, got.n);
		truns_reset(&want);
		tref_diff_runs(f->settled, f->cur, 0, 8192, &want);
		ffx_fault_at(f, 0);
		assert_int_equal(ffx_changes(f, &f->copy, 0, &rest), 0);
		truns_assert_equal(&rest, &want);
		assert_int_equal(ffx_changes(f, &f->copy, 0, &again), 0);
		assert_int_equal(again.n, 0);
		for (u64 i = 0; i < nseq; i++)
			assert_int_equal(f->incr.seqs[i], tbuild_desc(&f->t, i)->seq);
		assert_memory_equal(f->incr.bits, f->t.mem + f->t.g.bitmap_offset, nbits * 8);
		truns_reset(&got);
		truns_reset(&rest);
		truns_reset(&again);
	}
	truns_reset(&all);
	truns_reset(&want);
	free(seqs0);
	free(bits0);
	free(settled0);
	tfx_free(f);
}

/* ---- what an accessor may answer --------------------------------------------------- */

static void copy_errors_are_named_and_others_are_faults(void **state)
{
	static const struct { int rc, err; } cases[] = {
		{ -SD_ERR_MEM_UNBACKED, SD_ERR_MEM_UNBACKED },
		{ -SD_ERR_MEM_MMIO, SD_ERR_MEM_MMIO },
		{ -SD_ERR_MEM_SPLIT, SD_ERR_MEM_SPLIT },
		{ -SD_ERR_MEM_FAULT, SD_ERR_MEM_FAULT },
		{ -14, SD_ERR_MEM_FAULT },			/* -EFAULT */
		{ 8, SD_ERR_MEM_FAULT },			/* copy_from_user(): bytes left */
		{ -SD_ERR_HDR_MAGIC, SD_ERR_MEM_FAULT },	/* not an accessor's to say */
	};
	struct tfx *f = tfx_new(0, 8192, 256, T_GPA, 3);

	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(cases); i++) {
		f->m.fault_rc = cases[i].rc;
		/* The header, the probe, then chunk 0's first count. */
		for (u64 k = 1; k <= 3; k++) {
			ffx_fault_at(f, k);
			assert_sd_err(ffx_register(f, &f->copy, 0), f->loc, cases[i].err,
				      SD_LOC_NONE, 0);
			assert_false(f->reg.active);
		}
	}
	tfx_free(f);
}

static void copy_probe_finds_a_table_that_leaves_ram(void **state)
{
	(void)state;

	/* A two-page table whose second page is in no memory region. */
	struct tfx *f = tfx_new(0, 16384, 64, 0x40000, 3);

	f->m.r[0].len = 4096;
	ffx_fault_at(f, 0);
	assert_sd_err(ffx_register(f, &f->copy, 0), f->loc, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, 0);
	/* Step 5 found it, before any chunk was read: the header, then the probe. */
	assert_int_equal(f->m.copies, 2);
	assert_int_equal(f->st.chunks, 0);
	/* ... and in another slot: a crossing. */
	tmem_add(&f->m, 0x41000, 4096, f->t.mem + 4096, TMEM_RAM);
	assert_sd_err(ffx_register(f, &f->copy, 0), f->loc, SD_ERR_MEM_SPLIT, SD_LOC_NONE, 0);
	tfx_free(f);
}

static void map_is_used_when_an_accessor_has_both(void **state)
{
	struct tfx *f = tfx_new(0, 8192, 256, T_GPA, 3);
	struct sd_host_mem both = { .map = tmem_map, .ctx = &f->m, .copy = tmem_copy };
	struct truns r = { 0 };

	(void)state;
	ffx_fault_at(f, 1);	/* any copy() would fail */
	assert_int_equal(ffx_register(f, &both, 0), 0);
	assert_int_equal(ffx_walk(f, &both, 0, &r), 0);
	assert_int_equal(f->m.copies, 0);
	assert_int_equal(f->m.maps, 3);		/* header and table, then the walk's table */
	truns_reset(&r);
	tfx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registration_faulting_at_any_access_keeps_the_old_one),
		cmocka_unit_test(paused_registration_faulting_at_any_access_keeps_the_old_one),
		cmocka_unit_test(header_check_faulting_is_named),
		cmocka_unit_test(walk_faulting_at_any_access_fails_named),
		cmocka_unit_test(incr_init_faulting_at_any_access_leaves_it_unusable),
		cmocka_unit_test(incr_walk_faulting_at_any_access_stays_consistent),
		cmocka_unit_test(copy_errors_are_named_and_others_are_faults),
		cmocka_unit_test(copy_probe_finds_a_table_that_leaves_ram),
		cmocka_unit_test(map_is_used_when_an_accessor_has_both),
	};

	return cmocka_run_group_tests_name("host: an accessor whose every access may fail", tests,
					   NULL, NULL);
}
