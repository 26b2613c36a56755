// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_guest.c - guest/: sizes, init, state changes, begin/commit,
 * registration against a scriptable fake host, and the conformance
 * scenarios reproduced byte for byte.
 *
 * After every change the table is checked two ways: by the reference
 * checker (tcheck_image, written from SPEC.md) and page by page against a
 * model the test keeps itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sd_test.h"
#include "cvec.h"
#include "sd_guest.h"

/* ---- fixture: a table in test memory plus a model of every page ---------- */

struct gfix {
	struct sd_guest g;
	u8 *table;
	void *priv;
	u64 table_bytes, priv_bytes;
	sd_gpa_t gpa;
	u8 *model;		/* 1 = shared, per span page */
};

static void gfix_make(struct gfix *f, sd_gfn_t first, u64 nr, u32 ppc, sd_gpa_t gpa)
{
	memset(f, 0, sizeof(*f));
	f->table_bytes = sd_guest_table_bytes(first, nr, ppc);
	f->priv_bytes = sd_guest_priv_bytes(first, nr, ppc);
	assert_true(f->table_bytes > 0 && f->priv_bytes > 0);
	/* Exactly the size asked for: under ASan a write past it is caught. */
	f->table = test_alloc(4096, f->table_bytes);
	f->priv = test_alloc(64, f->priv_bytes);
	memset(f->table, 0xee, f->table_bytes);	/* init must overwrite all of it */
	memset(f->priv, 0xee, f->priv_bytes);
	f->gpa = gpa;
	assert_int_equal(sd_guest_init(&f->g, first, nr, ppc, f->table, gpa, f->table_bytes,
				       f->priv, f->priv_bytes), 0);
	f->model = calloc(nr, 1);
	for (u64 p = 0; p < f->table_bytes / 4096; p++)
		f->model[(gpa >> 12) + p - first] = 1;
}

static void gfix_free(struct gfix *f)
{
	free(f->table);
	free(f->priv);
	free(f->model);
}

static void model_set(struct gfix *f, sd_gfn_t gfn, u64 n, bool shared)
{
	memset(f->model + (gfn - f->g.g.first_gfn), shared, n);
}

/* The table validates, and every page agrees with the model. */
static void gfix_verify(struct gfix *f)
{
	struct sd_limits lim = {
		.ram_first_gfn = f->g.g.first_gfn,
		.ram_end_gfn = f->g.g.first_gfn + f->g.g.nr_gfns,
		.gfn_limit = SD_GFN_LIMIT,
		.max_table_bytes = f->table_bytes,
	};
	const u64 *bits = (const u64 *)(f->table + f->g.g.bitmap_offset);
	struct sd_errloc loc = { 0 };
	struct tcheck_stats st;
	u64 shared = 0, extents = 0;

	for (u64 p = 0; p < f->g.g.nr_gfns; p++) {
		shared += f->model[p];
		extents += f->model[p] && (p == 0 || !f->model[p - 1]);
		if (sd_bit_test(bits, p) != f->model[p])
			fail_msg("page %llu: table says %d, model %d", (unsigned long long)p,
				 sd_bit_test(bits, p), f->model[p]);
		assert_int_equal(sd_guest_is_shared(&f->g, f->g.g.first_gfn + p), f->model[p]);
	}
	if (tcheck_image(f->table, f->table_bytes, f->gpa, &lim, false, &loc, &st))
		fail_msg("table invalid: %s at chunk %llu offset %#llx", sd_err_name(loc.err),
			 (unsigned long long)loc.chunk, (unsigned long long)loc.offset);
	assert_int_equal(st.shared, shared);
	assert_int_equal(st.extents, extents);
}

static u32 seq_of(struct gfix *f, u64 idx)
{
	return ((struct sd_chunk_desc *)(f->table + sd_geom_desc_off(&f->g.g, idx)))->seq;
}

/* ---- sizes and init ------------------------------------------------------- */

static void sizes_match_spec_layout(void **state)
{
	(void)state;
	/* 1 GiB, 8192-page chunks: 36 KiB table (SPEC.md 1.3); private = 32 * 24 + 32 KiB. */
	assert_int_equal(sd_guest_table_bytes(0, 1 << 18, 8192), 36864);
	assert_int_equal(sd_guest_priv_bytes(0, 1 << 18, 8192), 32 * 24 + 32768);
	assert_int_equal(sizeof(struct sd_guest_chunk), 24);
	/* Invalid spans have no size. */
	assert_int_equal(sd_guest_table_bytes(0, 0, 8192), 0);
	assert_int_equal(sd_guest_table_bytes(0, 100, 100), 0);
	assert_int_equal(sd_guest_priv_bytes(SD_GFN_LIMIT, 1, 64), 0);
}

static void init_marks_only_the_table_shared(void **state)
{
	struct gfix f;
	struct sd_table_header h;

	(void)state;
	gfix_make(&f, 0, 1 << 18, 8192, 0x5000000);
	memcpy(&h, f.table, sizeof(h));
	assert_int_equal(h.magic, SD_MAGIC);
	assert_int_equal(h.nr_chunks, 32);
	assert_int_equal(h.table_size, 36864);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(h.reserved[i], 0);
	for (u64 c = 0; c < 32; c++)
		assert_int_equal(seq_of(&f, c), 0);
	gfix_verify(&f);
	assert_int_equal(f.g.reg_value, 0);
	gfix_free(&f);
}

static void init_rejects_bad_arguments(void **state)
{
	struct sd_guest g;
	u64 tb = sd_guest_table_bytes(0, 4096, 256), pb = sd_guest_priv_bytes(0, 4096, 256);
	u8 *table = test_alloc(4096, tb + 4096), *priv = test_alloc(64, pb + 64);

	(void)state;
	assert_int_equal(sd_guest_init(&g, 0, 4096, 100, table, 0, tb, priv, pb),
			 -SD_ERR_GEOM_CHUNK);
	assert_int_equal(sd_guest_init(&g, 0, 0, 256, table, 0, tb, priv, pb), -SD_ERR_GEOM_EMPTY);
	assert_int_equal(sd_guest_init(&g, ~0ULL, 1, 256, table, 0, tb, priv, pb),
			 -SD_ERR_GEOM_SPAN);
	assert_int_equal(sd_guest_init(&g, 0, 4096, 256, table, 0, tb - 1, priv, pb),
			 -SD_ERR_NOSPACE);
	assert_int_equal(sd_guest_init(&g, 0, 4096, 256, table, 0, tb, priv, pb - 8),
			 -SD_ERR_NOSPACE);
	assert_int_equal(sd_guest_init(&g, 0, 4096, 256, table, 0x800, tb, priv, pb),
			 -SD_ERR_INVAL);
	assert_int_equal(sd_guest_init(&g, 0, 4096, 256, table + 4, 0, tb, priv, pb),
			 -SD_ERR_INVAL);
	assert_int_equal(sd_guest_init(&g, 0, 4096, 256, table, 0, tb, priv + 4, pb),
			 -SD_ERR_INVAL);
	assert_int_equal(sd_guest_init(&g, 0, 4096, 256, NULL, 0, tb, priv, pb), -SD_ERR_INVAL);
	/* The table must lie in the span it describes. */
	assert_int_equal(sd_guest_init(&g, 0x10, 4096, 256, table, 0x0f000, tb, priv, pb),
			 -SD_ERR_TABLE_PLACEMENT);
	assert_int_equal(sd_guest_init(&g, 0, 4096, 256, table, 4096ULL << 12, tb, priv, pb),
			 -SD_ERR_TABLE_PLACEMENT);
	assert_int_equal(sd_guest_init(&g, 0, 4096, 256, table, 4095ULL << 12, tb, priv, pb), 0);
	free(table);
	free(priv);
}

/* ---- state changes ----------------------------------------------------------- */

/* 16 chunks of 256 pages; table (1 page) at GFN 0x800. */
static int g16_setup(void **state)
{
	struct gfix *f = malloc(sizeof(*f));

	gfix_make(f, 0, 4096, 256, 0x800000);
	*state = f;
	return 0;
}

static int g16_teardown(void **state)
{
	gfix_free(*state);
	free(*state);
	return 0;
}

static void set_inside_one_chunk(void **state)
{
	struct gfix *f = *state;

	assert_int_equal(sd_guest_set(&f->g, 300, 17, true), 0);
	model_set(f, 300, 17, true);
	gfix_verify(f);
	assert_int_equal(seq_of(f, 1), 2);
	assert_int_equal(seq_of(f, 0), 0);
	assert_int_equal(seq_of(f, 2), 0);
	assert_int_equal(sd_guest_set(&f->g, 310, 3, false), 0);
	model_set(f, 310, 3, false);
	gfix_verify(f);
	assert_int_equal(seq_of(f, 1), 4);
}

static void set_across_chunk_boundaries(void **state)
{
	struct gfix *f = *state;

	/* 250..785: the end of chunk 0, all of 1 and 2, the start of 3. */
	assert_int_equal(sd_guest_set(&f->g, 250, 536, true), 0);
	model_set(f, 250, 536, true);
	gfix_verify(f);
	for (u64 c = 0; c < 4; c++)
		assert_int_equal(seq_of(f, c), 2);
	assert_int_equal(seq_of(f, 4), 0);
	/* Pending range of each window: its part of the request. */
	struct sd_chunk_desc *d0 = (void *)(f->table + sd_geom_desc_off(&f->g.g, 0));
	struct sd_chunk_desc *d3 = (void *)(f->table + sd_geom_desc_off(&f->g.g, 3));

	assert_int_equal(d0->pending_first, 250);
	assert_int_equal(d0->pending_count, 6);
	assert_int_equal(d3->pending_first, 0);
	assert_int_equal(d3->pending_count, 786 - 768);
}

static void set_whole_span_and_back(void **state)
{
	struct gfix *f = *state;

	/* The whole span around the table's own page (0x800), which no request may include. */
	assert_int_equal(sd_guest_set(&f->g, 0, 4096, true), -SD_ERR_TABLE_NOT_SHARED);
	assert_int_equal(sd_guest_set(&f->g, 0, 0x800, true), 0);
	assert_int_equal(sd_guest_set(&f->g, 0x801, 4096 - 0x801, true), 0);
	model_set(f, 0, 4096, true);
	gfix_verify(f);
	/* Private again, around the table's own page. */
	assert_int_equal(sd_guest_set(&f->g, 0, 0x800, false), 0);
	assert_int_equal(sd_guest_set(&f->g, 0x801, 4096 - 0x801, false), 0);
	model_set(f, 0, 0x800, false);
	model_set(f, 0x801, 4096 - 0x801, false);
	gfix_verify(f);
}

static void set_last_page_of_partial_last_chunk(void **state)
{
	struct gfix f;

	(void)state;
	gfix_make(&f, 0x100, 1000, 128, 0x100000);	/* last chunk covers 104 pages */
	assert_int_equal(sd_guest_set(&f.g, 0x100 + 999, 1, true), 0);
	model_set(&f, 0x100 + 999, 1, true);
	gfix_verify(&f);
	assert_int_equal(sd_guest_set(&f.g, 0x100 + 990, 10, true), 0);
	model_set(&f, 0x100 + 990, 10, true);
	gfix_verify(&f);
	assert_int_equal(sd_guest_set(&f.g, 0x100 + 999, 2, true), -SD_ERR_RANGE);
	gfix_free(&f);
}

static void set_is_idempotent_but_opens_windows(void **state)
{
	struct gfix *f = *state;

	assert_int_equal(sd_guest_set(&f->g, 1000, 5, true), 0);
	u8 before[4096];

	memcpy(before, f->table, sizeof(before));
	assert_int_equal(sd_guest_set(&f->g, 1000, 5, true), 0);
	model_set(f, 1000, 5, true);
	gfix_verify(f);
	/* Same bits and count; only the chunk's seq moved (SPEC.md 2.1: a window per request). */
	assert_int_equal(seq_of(f, 3), 4);
	u64 doff = sd_geom_desc_off(&f->g.g, 3);

	memcpy(before + doff, f->table + doff, 4);	/* seq */
	assert_memory_equal(before, f->table, sizeof(before));
}

static void rejects_empty_and_out_of_span_requests(void **state)
{
	struct gfix *f = *state;
	u8 *before = malloc(f->table_bytes);
	const struct { sd_gfn_t gfn; u64 n; int err; } bad[] = {
		{ 10, 0, SD_ERR_EMPTY_RANGE },
		{ 4096, 1, SD_ERR_RANGE },
		{ 4095, 2, SD_ERR_RANGE },
		{ 0, 4097, SD_ERR_RANGE },
		{ 5, ~0ULL, SD_ERR_RANGE },		/* gfn + n would wrap */
		{ ~0ULL, 2, SD_ERR_RANGE },
		{ 0x7ff, 2, SD_ERR_TABLE_NOT_SHARED },	/* makes the table's page private */
	};

	memcpy(before, f->table, f->table_bytes);
	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++) {
		assert_int_equal(sd_guest_set(&f->g, bad[i].gfn, bad[i].n, false), -bad[i].err);
		assert_int_equal(sd_guest_begin(&f->g, bad[i].gfn, bad[i].n, false), -bad[i].err);
		assert_int_equal(sd_guest_commit(&f->g, bad[i].gfn, bad[i].n, false), -bad[i].err);
	}
	/* Making them shared is refused too: no window may cover a table page (SPEC.md 1.6). */
	assert_int_equal(sd_guest_set(&f->g, 0x7ff, 2, true), -SD_ERR_TABLE_NOT_SHARED);
	assert_int_equal(sd_guest_begin(&f->g, 0x800, 1, true), -SD_ERR_TABLE_NOT_SHARED);
	assert_int_equal(sd_guest_is_shared(&f->g, 0x800), 1);
	assert_int_equal(sd_guest_is_shared(&f->g, 4096), -SD_ERR_RANGE);
	/* Nothing changed the table. */
	gfix_verify(f);
	assert_memory_equal(before, f->table, f->table_bytes);
	free(before);
}

static void begin_opens_windows_commit_closes_them(void **state)
{
	struct gfix *f = *state;
	struct sd_limits lim = { 0, 4096, SD_GFN_LIMIT, f->table_bytes };
	struct sd_errloc loc;
	struct tcheck_stats st;

	assert_int_equal(sd_guest_begin(&f->g, 500, 100, true), 0);
	/* Inside the windows: live reads refuse, paused reads decide. */
	assert_int_equal(seq_of(f, 1), 1);
	assert_int_equal(seq_of(f, 2), 1);
	assert_int_equal(tcheck_image(f->table, f->table_bytes, f->gpa, &lim, false, &loc, &st),
			 -SD_ERR_CHUNK_ODD);
	assert_int_equal(loc.chunk, 1);
	assert_int_equal(tcheck_image(f->table, f->table_bytes, f->gpa, &lim, true, &loc, &st), 0);
	assert_int_equal(st.transition, 100);
	assert_int_equal(st.shared, 1);		/* the table */
	/* Bits don't change before commit (SPEC.md 2.1 step 4). */
	assert_int_equal(sd_bit_test((const u64 *)(f->table + f->g.g.bitmap_offset), 520), 0);

	/* A commit that doesn't match the begin changes nothing. */
	assert_int_equal(sd_guest_commit(&f->g, 500, 99, true), -SD_ERR_BUSY);
	assert_int_equal(sd_guest_commit(&f->g, 500, 100, false), -SD_ERR_BUSY);
	assert_int_equal(sd_guest_commit(&f->g, 501, 100, true), -SD_ERR_BUSY);
	assert_int_equal(seq_of(f, 1), 1);

	assert_int_equal(sd_guest_commit(&f->g, 500, 100, true), 0);
	model_set(f, 500, 100, true);
	gfix_verify(f);
	assert_int_equal(seq_of(f, 1), 2);
	assert_int_equal(seq_of(f, 2), 2);
	/* Commit without begin. */
	assert_int_equal(sd_guest_commit(&f->g, 500, 100, true), -SD_ERR_BUSY);
	assert_int_equal(seq_of(f, 1), 2);
}

static void large_ranges_fill_whole_words(void **state)
{
	struct gfix f;
	u64 *bits;

	(void)state;
	/* 1 GiB at 8192 pages/chunk; set 2 MiB, then 1 GiB minus the table's pages. */
	gfix_make(&f, 0, 1 << 18, 8192, 0);
	assert_int_equal(sd_guest_set(&f.g, 0x200, 512, true), 0);
	model_set(&f, 0x200, 512, true);
	gfix_verify(&f);
	bits = (u64 *)(f.table + f.g.g.bitmap_offset);
	for (unsigned w = 8; w < 16; w++)
		assert_int_equal(bits[w], ~0ULL);
	/* Everything but the table's own 9 pages at GFN 0. */
	assert_int_equal(sd_guest_set(&f.g, 9, (1 << 18) - 9, true), 0);
	model_set(&f, 0, 1 << 18, true);
	gfix_verify(&f);
	assert_int_equal(sd_guest_set(&f.g, 9, (1 << 18) - 9, false), 0);
	model_set(&f, 9, (1 << 18) - 9, false);
	gfix_verify(&f);
	gfix_free(&f);
}

/* ---- registration against a fake host --------------------------------------- */

struct fake_host {
	u32 sig_base;		/* leaf of the KVM signature, 0 = none */
	u32 features;		/* EAX of signature leaf + 1 */
	bool refuse;		/* #GP on WRMSR, with status_msr = status */
	u64 status;
	bool readback_lies, status_faults, table_read_faults;
	int lie_reads;		/* besides readback_lies: lie on this many read-backs */
	s64 hc_ret;
	u64 table_msr, status_msr;
	u64 hc_args[5];
	int wrmsr_calls, hc_calls;
	u64 written[8];		/* every value written to the table MSR or passed in a0, in order */
	int nr_written;
};

static void fh_log(struct fake_host *h, u64 val)
{
	if (h->nr_written < (int)SD_ARRAY_SIZE(h->written))
		h->written[h->nr_written] = val;
	h->nr_written++;
}

static void fh_cpuid(void *ctx, u32 leaf, u32 r[4])
{
	struct fake_host *h = ctx;

	r[0] = r[1] = r[2] = r[3] = 0;
	if (h->sig_base && leaf == h->sig_base) {
		r[0] = h->sig_base + 1;
		memcpy(&r[1], "KVMKVMKVM\0\0\0", 12);
	} else if (h->sig_base && leaf == h->sig_base + 1) {
		r[0] = h->features;
	}
}

static int fh_wrmsr(void *ctx, u32 msr, u64 val)
{
	struct fake_host *h = ctx;

	h->wrmsr_calls++;
	if (msr != SD_MSR_TABLE)
		return -1;
	fh_log(h, val);
	if (h->refuse) {
		h->status_msr = h->status;
		return -1;
	}
	h->table_msr = val;
	h->status_msr = 0;
	return 0;
}

static int fh_rdmsr(void *ctx, u32 msr, u64 *val)
{
	struct fake_host *h = ctx;

	if (msr == SD_MSR_STATUS && !h->status_faults) {
		*val = h->status_msr;
		return 0;
	}
	if (msr == SD_MSR_TABLE && !h->table_read_faults) {
		bool lie = h->readback_lies || h->lie_reads > 0;

		*val = h->table_msr ^ (lie ? 0x1000 : 0);
		if (h->lie_reads > 0)
			h->lie_reads--;
		return 0;
	}
	return -1;
}

static s64 fh_hypercall(void *ctx, u64 nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
	struct fake_host *h = ctx;

	h->hc_calls++;
	fh_log(h, a0);
	h->hc_args[0] = nr;
	h->hc_args[1] = a0;
	h->hc_args[2] = a1;
	h->hc_args[3] = a2;
	h->hc_args[4] = a3;
	if (h->hc_ret == 0)
		h->table_msr = a0;
	return h->hc_ret;
}

static const struct sd_transport_ops fh_ops = {
	.cpuid = fh_cpuid, .wrmsr = fh_wrmsr, .rdmsr = fh_rdmsr, .hypercall = fh_hypercall,
};

static struct sd_transport fh_transport(struct fake_host *h, int expect_probe)
{
	struct sd_transport t = { .ops = &fh_ops, .ctx = h };

	assert_int_equal(sd_transport_probe(&t), expect_probe);
	return t;
}

/*
 * After an answer that was not a clean refusal the host may hold @value:
 * the guest says so, and an honest unregistration (a 0 the host accepts)
 * is what makes the table safe to free.
 */
static void assert_maybe_registered_until_unregistered(struct gfix *f, struct fake_host *h,
						       const struct sd_transport *t, u64 value)
{
	struct fake_host saved = *h;

	assert_int_equal(f->g.reg_value, value);
	assert_true(sd_guest_may_be_registered(&f->g));
	*h = (struct fake_host){ .sig_base = h->sig_base, .features = h->features,
				 .table_msr = h->table_msr };
	assert_int_equal(sd_guest_unregister(&f->g, t), 0);
	assert_int_equal(h->table_msr, 0);
	assert_int_equal(h->written[h->nr_written - 1], 0);
	assert_int_equal(f->g.reg_value, 0);
	assert_false(sd_guest_may_be_registered(&f->g));
	*h = saved;
	h->table_msr = 0;
}

static void probe_picks_the_advertised_transport(void **state)
{
	struct fake_host h = { .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_MSR };
	struct sd_transport t = fh_transport(&h, 0);

	(void)state;
	assert_int_equal(t.kind, SD_TRANSPORT_MSR);
	h.features |= 1u << SD_CPUID_BIT_HC;	/* both: the hypercall wins (SPEC.md 5.4) */
	t = fh_transport(&h, 0);
	assert_int_equal(t.kind, SD_TRANSPORT_HC);
	h.features = 1u << SD_CPUID_BIT_HC;
	t = fh_transport(&h, 0);
	assert_int_equal(t.kind, SD_TRANSPORT_HC);
	/* A relocated signature leaf (another hypervisor interface at 0x40000000). */
	h = (struct fake_host){ .sig_base = 0x40000100, .features = 1u << SD_CPUID_BIT_MSR };
	t = fh_transport(&h, 0);
	assert_int_equal(t.kind, SD_TRANSPORT_MSR);
}

static void probe_reports_unsupported_hosts(void **state)
{
	struct fake_host h = { 0 };
	struct sd_transport t = fh_transport(&h, -SD_ERR_UNSUPPORTED);
	struct gfix f;

	(void)state;
	assert_int_equal(t.kind, SD_TRANSPORT_NONE);
	/* KVM, but neither bit (bit 16, MAP_GPA_RANGE, is not ours). */
	h = (struct fake_host){ .sig_base = 0x40000000, .features = 1u << 16 };
	t = fh_transport(&h, -SD_ERR_UNSUPPORTED);
	/* Registration on such a host is a normal, reported outcome; the table is still kept. */
	gfix_make(&f, 0, 4096, 256, 0);
	assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_UNSUPPORTED);
	assert_int_equal(h.wrmsr_calls + h.hc_calls, 0);
	assert_int_equal(sd_guest_set(&f.g, 100, 1, true), 0);
	model_set(&f, 100, 1, true);
	gfix_verify(&f);
	gfix_free(&f);
}

static void register_over_msr(void **state)
{
	struct fake_host h = { .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_MSR };
	struct sd_transport t = fh_transport(&h, 0);
	struct gfix f;

	(void)state;
	gfix_make(&f, 0, 4096, 256, 0x3000);
	assert_int_equal(sd_guest_register(&f.g, &t), 0);
	assert_int_equal(h.table_msr, 0x3001);
	assert_int_equal(f.g.reg_value, 0x3001);
	assert_int_equal(sd_guest_unregister(&f.g, &t), 0);
	assert_int_equal(h.table_msr, 0);
	assert_int_equal(f.g.reg_value, 0);
	assert_int_equal(h.wrmsr_calls, 2);
	gfix_free(&f);
}

static void register_over_msr_reports_the_hosts_reason(void **state)
{
	struct fake_host h = { .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_MSR };
	struct sd_transport t = fh_transport(&h, 0);
	const int reasons[] = { SD_ERR_REG_RESERVED, SD_ERR_MEM_MMIO, SD_ERR_MEM_FAULT,
				SD_ERR_HDR_MAGIC, SD_ERR_GEOM_RAM, SD_ERR_TABLE_NOT_SHARED,
				SD_ERR_CHUNK_RETRIES, SD_ERR_UNSUPPORTED };
	struct gfix f;

	(void)state;
	gfix_make(&f, 0, 4096, 256, 0x3000);
	h.refuse = true;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(reasons); i++) {
		h.status = (u64)reasons[i];
		assert_int_equal(sd_guest_register(&f.g, &t), -reasons[i]);
		assert_int_equal(f.g.reg_value, 0);
	}
	/* The status MSR can't be read: the transport failed, reason unknown. */
	h.status_faults = true;
	assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_TRANSPORT);
	assert_maybe_registered_until_unregistered(&f, &h, &t, 0x3001);
	gfix_free(&f);
}

static void register_rejects_nonsense_answers(void **state)
{
	struct fake_host h = { .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_MSR };
	struct sd_transport t = fh_transport(&h, 0);
	/* Not reasons a host may give (SPEC.md 5.4). 0 after a #GP is "failed, no reason". */
	const u64 nonsense[] = { 0, SD_ERR_INVAL, SD_ERR_NO_TABLE, SD_ERR_TRANSPORT,
				 SD_ERR_BAD_ANSWER, SD_ERR_HDR_CHANGED, SD_ERR_RANGE, SD_ERR_BUSY,
				 31, 200, 0xffffffffULL, 1ULL << 40, ~0ULL };
	struct gfix f;

	(void)state;
	gfix_make(&f, 0, 4096, 256, 0x3000);
	h.refuse = true;
	/* Each is no clean refusal: the host may hold the table until a 0 is accepted. */
	for (unsigned i = 0; i < SD_ARRAY_SIZE(nonsense); i++) {
		h.status = nonsense[i];
		assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_BAD_ANSWER);
		assert_maybe_registered_until_unregistered(&f, &h, &t, 0x3001);
	}
	/* Accepted, but the host reads back something else. */
	h.refuse = false;
	h.readback_lies = true;
	assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_BAD_ANSWER);
	assert_int_equal(h.table_msr, 0x3001);		/* the host did take it */
	assert_maybe_registered_until_unregistered(&f, &h, &t, 0x3001);
	/* Accepted, but the read-back faults. */
	h.readback_lies = false;
	h.table_read_faults = true;
	assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_TRANSPORT);
	assert_int_equal(h.table_msr, 0x3001);
	assert_maybe_registered_until_unregistered(&f, &h, &t, 0x3001);
	/* An unregistration the host lies about leaves the table registered, as far as we know. */
	h.table_read_faults = false;
	assert_int_equal(sd_guest_register(&f.g, &t), 0);
	h.readback_lies = true;
	assert_int_equal(sd_guest_unregister(&f.g, &t), -SD_ERR_BAD_ANSWER);
	assert_int_equal(f.g.reg_value, 0x3001);
	h.readback_lies = false;
	h.refuse = true;
	h.status = SD_ERR_REG_RESERVED;		/* a clean refusal of the 0: still registered */
	assert_int_equal(sd_guest_unregister(&f.g, &t), -SD_ERR_REG_RESERVED);
	assert_int_equal(f.g.reg_value, 0x3001);
	gfix_free(&f);
}

static void register_over_hypercall(void **state)
{
	struct fake_host h = { .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_HC };
	struct sd_transport t = fh_transport(&h, 0);
	struct gfix f;

	(void)state;
	gfix_make(&f, 0, 4096, 256, 0x3000);
	assert_int_equal(sd_guest_register(&f.g, &t), 0);
	/* SPEC.md 5.2: RAX=40, RBX=value, RCX=size, RDX=ABI major, RSI=0. */
	assert_int_equal(h.hc_args[0], SD_HC_REGISTER);
	assert_int_equal(h.hc_args[1], 0x3001);
	assert_int_equal(h.hc_args[2], f.table_bytes);
	assert_int_equal(h.hc_args[3], SD_ABI_MAJOR);
	assert_int_equal(h.hc_args[4], 0);
	assert_int_equal(f.g.reg_value, 0x3001);
	assert_int_equal(h.wrmsr_calls, 0);

	h.hc_ret = -SD_KVM_ENOSYS;
	assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_UNSUPPORTED);
	h.hc_ret = -SD_ERR_GEOM_RAM;
	assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_GEOM_RAM);
	h.hc_ret = -SD_ERR_REG_SIZE;
	assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_REG_SIZE);
	/* Clean refusals: the earlier registration is what the host holds. */
	assert_int_equal(f.g.reg_value, 0x3001);
	h.hc_ret = 0;
	assert_int_equal(sd_guest_unregister(&f.g, &t), 0);
	h.hc_ret = -SD_ERR_GEOM_RAM;
	assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_GEOM_RAM);
	assert_int_equal(f.g.reg_value, 0);
	/* Nonsense: positive, a guest-side error, an undefined number, huge. */
	const s64 bad[] = { 1, 7, -SD_ERR_BUSY, -SD_ERR_INVAL, -50, -999, -1001, INT64_MIN };

	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++) {
		h.hc_ret = bad[i];
		assert_int_equal(sd_guest_register(&f.g, &t), -SD_ERR_BAD_ANSWER);
		/* The host may have taken it: a 0 must be accepted before the table is freed. */
		assert_int_equal(f.g.reg_value, 0x3001);
		h.hc_ret = 0;
		assert_int_equal(sd_guest_unregister(&f.g, &t), 0);
		assert_int_equal(f.g.reg_value, 0);
	}
	assert_int_equal(sd_guest_register(&f.g, &t), 0);
	assert_int_equal(sd_guest_unregister(&f.g, &t), 0);
	assert_int_equal(h.hc_args[1], 0);
	assert_int_equal(h.hc_args[3], 0);	/* no cross-check on unregister */
	assert_int_equal(f.g.reg_value, 0);
	gfix_free(&f);
}

static void register_fresh_writes_zero_first(void **state)
{
	struct fake_host h = { .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_MSR };
	struct sd_transport t = fh_transport(&h, 0);
	struct gfix f;

	(void)state;
	gfix_make(&f, 0, 4096, 256, 0x3000);
	h.table_msr = 0x7000001;	/* what a crashed kernel left registered */
	assert_int_equal(sd_guest_register_fresh(&f.g, &t), 0);
	assert_int_equal(h.nr_written, 2);
	assert_int_equal(h.written[0], 0);
	assert_int_equal(h.written[1], 0x3001);
	assert_int_equal(h.table_msr, 0x3001);
	assert_int_equal(f.g.reg_value, 0x3001);
	assert_int_equal(sd_guest_unregister(&f.g, &t), 0);

	/* A 0 the host refuses: nothing registered, the refusal returned. */
	h = (struct fake_host){ .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_MSR,
				.refuse = true, .status = SD_ERR_REG_RESERVED };
	assert_int_equal(sd_guest_register_fresh(&f.g, &t), -SD_ERR_REG_RESERVED);
	assert_int_equal(h.nr_written, 1);
	assert_int_equal(h.written[0], 0);
	assert_int_equal(f.g.reg_value, 0);
	/* A 0 the host answers with nonsense: the same; the table was never offered. */
	h.status = 0;
	assert_int_equal(sd_guest_register_fresh(&f.g, &t), -SD_ERR_BAD_ANSWER);
	assert_int_equal(h.nr_written, 2);
	assert_int_equal(f.g.reg_value, 0);

	/* Over the hypercall: a0 = 0, then the value with its cross-checks. */
	h = (struct fake_host){ .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_HC };
	t = fh_transport(&h, 0);
	assert_int_equal(sd_guest_register_fresh(&f.g, &t), 0);
	assert_int_equal(h.hc_calls, 2);
	assert_int_equal(h.written[0], 0);
	assert_int_equal(h.written[1], 0x3001);
	assert_int_equal(h.hc_args[2], f.table_bytes);
	assert_int_equal(f.g.reg_value, 0x3001);
	gfix_free(&f);
}

/* Two tables for a resize: @old registered (16 MiB span), @big initialised (64 MiB span). */
static void resize_fixture(struct gfix *old, struct gfix *big, struct fake_host *h,
			   struct sd_transport *t)
{
	*h = (struct fake_host){ .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_MSR };
	*t = fh_transport(h, 0);
	gfix_make(old, 0, 4096, 256, 0x100000);
	assert_int_equal(sd_guest_register(&old->g, t), 0);
	gfix_make(big, 0, 16384, 1024, 0x800000);
	assert_int_equal(sd_guest_set(&old->g, 0x800, 1, true), 0);
}

static void resize_after_unclean_answer_settles_on_the_old_table(void **state)
{
	struct fake_host h;
	struct sd_transport t;
	struct gfix old, big;

	(void)state;
	/* The new table's read-back lies once: the old one is registered again, honestly. */
	resize_fixture(&old, &big, &h, &t);
	h.lie_reads = 1;
	assert_int_equal(sd_guest_resize(&old.g, &big.g, &t), -SD_ERR_BAD_ANSWER);
	assert_int_equal(h.nr_written, 3);
	assert_int_equal(h.written[1], 0x800001);
	assert_int_equal(h.written[2], 0x100001);
	assert_int_equal(h.table_msr, 0x100001);
	assert_int_equal(old.g.reg_value, 0x100001);
	assert_int_equal(big.g.reg_value, 0);		/* the host does not read it: free to go */
	gfix_free(&old);
	gfix_free(&big);

	/* Every read-back lies: nothing settles, and both tables may be read. */
	resize_fixture(&old, &big, &h, &t);
	h.readback_lies = true;
	assert_int_equal(sd_guest_resize(&old.g, &big.g, &t), -SD_ERR_BAD_ANSWER);
	assert_int_equal(h.nr_written, 3);
	assert_int_equal(old.g.reg_value, 0x100001);
	assert_int_equal(big.g.reg_value, 0x800001);
	assert_true(sd_guest_may_be_registered(&old.g) && sd_guest_may_be_registered(&big.g));
	/* One accepted 0 is what frees both. */
	h.readback_lies = false;
	assert_int_equal(sd_guest_unregister(&big.g, &t), 0);
	assert_int_equal(h.table_msr, 0);
	gfix_free(&old);
	gfix_free(&big);

	/* A clean refusal needs no settling: one write, the old table stays. */
	resize_fixture(&old, &big, &h, &t);
	h.refuse = true;
	h.status = SD_ERR_GEOM_RAM;
	assert_int_equal(sd_guest_resize(&old.g, &big.g, &t), -SD_ERR_GEOM_RAM);
	assert_int_equal(h.nr_written, 2);
	assert_int_equal(big.g.reg_value, 0);
	assert_int_equal(old.g.reg_value, 0x100001);
	gfix_free(&old);
	gfix_free(&big);
}

static void resize_copies_state_and_registers_the_new_table(void **state)
{
	struct fake_host h = { .sig_base = 0x40000000, .features = 1u << SD_CPUID_BIT_MSR };
	struct sd_transport t = fh_transport(&h, 0);
	struct gfix old, big;

	(void)state;
	gfix_make(&old, 0, 4096, 256, 0x100000);	/* 16 MiB, table at GFN 0x100 */
	assert_int_equal(sd_guest_register(&old.g, &t), 0);
	assert_int_equal(sd_guest_set(&old.g, 10, 20, true), 0);
	assert_int_equal(sd_guest_set(&old.g, 4000, 96, true), 0);
	model_set(&old, 10, 20, true);
	model_set(&old, 4000, 96, true);
	/* The new table (64 MiB span) at GFN 0x800, shared through the old table first. */
	gfix_make(&big, 0, 16384, 1024, 0x800000);
	assert_int_equal(big.table_bytes, 4096);
	assert_int_equal(sd_guest_set(&old.g, 0x800, 1, true), 0);
	model_set(&old, 0x800, 1, true);
	/* Stale state in the new table, beyond the old span: the copy must clear it. */
	assert_int_equal(sd_guest_set(&big.g, 5000, 8, true), 0);

	/* A refused registration leaves the old table registered. */
	h.refuse = true;
	h.status = SD_ERR_GEOM_RAM;
	assert_int_equal(sd_guest_resize(&old.g, &big.g, &t), -SD_ERR_GEOM_RAM);
	assert_int_equal(old.g.reg_value, 0x100001);
	assert_int_equal(h.table_msr, 0x100001);

	h.refuse = false;
	assert_int_equal(sd_guest_resize(&old.g, &big.g, &t), 0);
	assert_int_equal(h.table_msr, 0x800001);
	assert_int_equal(big.g.reg_value, 0x800001);
	assert_int_equal(old.g.reg_value, 0);
	/* The new table: the old pages' states, its own pages, the old table's page. */
	memset(big.model, 0, 16384);
	memcpy(big.model, old.model, 4096);
	gfix_verify(&big);
	assert_int_equal(sd_guest_is_shared(&big.g, 0x100), 1);
	assert_int_equal(sd_guest_is_shared(&big.g, 29), 1);
	assert_int_equal(sd_guest_is_shared(&big.g, 30), 0);
	assert_int_equal(sd_guest_is_shared(&big.g, 5000), 0);
	gfix_free(&old);
	gfix_free(&big);
}

/* ---- conformance: the writer reproduces every vector's scenario ------------------ */

static void conformance_scenarios_are_byte_identical(void **state)
{
	struct cvec *vs;
	int n = cvec_load_all(cvec_dir(), &vs), replayed = 0, refused = 0, scenarios = 0;

	(void)state;
	for (int i = 0; i < n; i++) {
		struct cvec *v = &vs[i];
		char ops[sizeof(v->ops)], *save, *op;
		struct gfix f;
		int rc = 0;

		/* SPEC.md 10.6: mut and trunc '-', no H operation; the host-side keys don't matter. */
		if (v->mutated || strchr(v->ops, 'H'))
			continue;
		scenarios++;
		/* A table outside its own span can't even be initialised (SPEC.md 1.6). */
		u64 tb = sd_guest_table_bytes(v->first_gfn, v->nr_gfns, v->ppc);
		u64 pb = sd_guest_priv_bytes(v->first_gfn, v->nr_gfns, v->ppc);
		void *t = test_alloc(4096, tb), *pv = test_alloc(64, pb);
		struct sd_guest g;

		rc = sd_guest_init(&g, v->first_gfn, v->nr_gfns, v->ppc, t, v->gpa, tb, pv, pb);
		free(t);
		free(pv);
		if (rc) {
			assert_int_equal(rc, -SD_ERR_TABLE_PLACEMENT);
			assert_int_equal(v->live.err, -SD_ERR_TABLE_PLACEMENT);
			refused++;
			continue;
		}
		gfix_make(&f, v->first_gfn, v->nr_gfns, v->ppc, v->gpa);
		snprintf(ops, sizeof(ops), "%s", v->ops);
		for (op = strtok_r(ops, ";", &save); op && strcmp(op, "-") && rc == 0;
		     op = strtok_r(NULL, ";", &save)) {
			char kind = op[0], *p = op + 2;
			u64 gfn = strtoull(p, &p, 0), cnt = strtoull(p + 1, &p, 0);

			if (kind == 'S' || kind == 'P')
				rc = sd_guest_set(&f.g, gfn, cnt, kind == 'S');
			else if (kind == 'B')
				rc = sd_guest_begin(&f.g, gfn, cnt, p[1] == 'S');
			else
				fail_msg("%s: unknown op %s", v->name, op);
		}
		if (rc) {
			/* Only scenarios that break self-description may be refused. */
			assert_int_equal(rc, -SD_ERR_TABLE_NOT_SHARED);
			assert_true(v->live.err == -SD_ERR_TABLE_NOT_SHARED ||
				    v->paused.err == -SD_ERR_TABLE_NOT_SHARED);
			refused++;
		} else {
			assert_int_equal(v->len, f.table_bytes);
			if (memcmp(v->img, f.table, v->len)) {
				u64 k = 0;

				while (v->img[k] == f.table[k])
					k++;
				fail_msg("%s: differs from the vector at byte %#llx", v->name,
					 (unsigned long long)k);
			}
			replayed++;
		}
		gfix_free(&f);
	}
	print_message("conformance: %d scenarios reproduced byte for byte, %d refused (%d vectors)\n",
		      replayed, refused, n);
	assert_int_equal(replayed + refused, scenarios);
	assert_true(replayed >= 44);
	cvec_free_all(vs, n);
}

#define G16(fn) cmocka_unit_test_setup_teardown(fn, g16_setup, g16_teardown)

int main(void)
{
	const struct CMUnitTest table[] = {
		cmocka_unit_test(sizes_match_spec_layout),
		cmocka_unit_test(init_marks_only_the_table_shared),
		cmocka_unit_test(init_rejects_bad_arguments),
		G16(set_inside_one_chunk),
		G16(set_across_chunk_boundaries),
		G16(set_whole_span_and_back),
		cmocka_unit_test(set_last_page_of_partial_last_chunk),
		G16(set_is_idempotent_but_opens_windows),
		G16(rejects_empty_and_out_of_span_requests),
		G16(begin_opens_windows_commit_closes_them),
		cmocka_unit_test(large_ranges_fill_whole_words),
	};
	const struct CMUnitTest reg[] = {
		cmocka_unit_test(probe_picks_the_advertised_transport),
		cmocka_unit_test(probe_reports_unsupported_hosts),
		cmocka_unit_test(register_over_msr),
		cmocka_unit_test(register_over_msr_reports_the_hosts_reason),
		cmocka_unit_test(register_rejects_nonsense_answers),
		cmocka_unit_test(register_over_hypercall),
		cmocka_unit_test(register_fresh_writes_zero_first),
		cmocka_unit_test(resize_copies_state_and_registers_the_new_table),
		cmocka_unit_test(resize_after_unclean_answer_settles_on_the_old_table),
	};
	const struct CMUnitTest conf[] = {
		cmocka_unit_test(conformance_scenarios_are_byte_identical),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("guest: table and state changes", table, NULL, NULL);
	fails += cmocka_run_group_tests_name("guest: transports and registration", reg, NULL, NULL);
	fails += cmocka_run_group_tests_name("guest: conformance scenarios", conf, NULL, NULL);
	return fails ? 1 : 0;
}
