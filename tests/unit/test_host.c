// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host.c - host/: registration (SPEC.md 5.5) and the chunk reader
 * (3.1-3.4), every error they can return, with its exact chunk and offset,
 * and the work each call did.
 *
 * The standard table: span 0..4095 in chunks of 256 pages (16 chunks), one
 * page of table at GPA 0x3000 (page 3, chunk 0). Descriptors from 0x80,
 * chunk i's at 0x80 + 16 i; bitmap from 0x180, chunk i's at 0x180 + 32 i.
 */
#include "host_util.h"

#define T_GPA		0x3000ULL
#define T_PAGES		4096
#define T_PPC		256
#define DESC(i)		(0x80ULL + 16 * (i))
#define BITS(i)		(0x180ULL + 32 * (i))

static struct tfx *fx_std(void)
{
	return tfx_new(0, T_PAGES, T_PPC, T_GPA, 4);
}

static int fx_register_flags(struct tfx *f, u32 flags)
{
	SD_HOST_OPTS(sd_host_register_opts, o, .flags = flags, .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	memset(&f->loc, 0, sizeof(f->loc));
	return sd_host_register(&f->reg, &f->cfg, &f->mem, f->t.gpa | SD_REG_ENABLE, &o);
}

static int fx_register(struct tfx *f)
{
	return fx_register_flags(f, 0);
}

/* Register @value, with hypercall arguments @hc (NULL: the MSR); a failure located in f->loc. */
static int fx_register_value(struct tfx *f, u64 value, const struct sd_hc_args *hc)
{
	SD_HOST_OPTS(sd_host_register_opts, o, .hc = hc, .loc = &f->loc);

	return sd_host_register(&f->reg, &f->cfg, &f->mem, value, &o);
}

static int fx_read(struct tfx *f, u64 idx, u32 flags, u32 attempts)
{
	SD_HOST_OPTS(sd_host_read_opts, o, .flags = flags, .max_attempts = attempts,
		     .stats = &f->st, .loc = &f->loc);

	memset(&f->st, 0, sizeof(f->st));
	memset(&f->loc, 0, sizeof(f->loc));
	return sd_host_read_chunk(&f->reg, &f->mem, idx, f->scratch, &f->ch, &o);
}

static void poke(struct tfx *f, u64 off, u32 width, u64 val)
{
	memcpy(f->t.mem + off, &val, width);
}

/* A failed registration must leave the previous one exactly as it was. */
static void assert_reg_unchanged(const struct sd_host_reg *a, const struct sd_host_reg *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

/* ---- registration: success, unregistration ------------------------------ */

static void register_accepts_valid_table(void **state)
{
	struct tfx *f = fx_std();
	struct sd_geom g;

	(void)state;
	assert_int_equal(fx_register(f), 0);
	assert_true(f->reg.active);
	assert_int_equal(f->reg.generation, 1);
	assert_int_equal(f->reg.gpa, T_GPA);
	assert_int_equal(f->reg.value, T_GPA | 1);
	assert_int_equal(sd_geom_compute(&g, 0, T_PAGES, T_PPC), 0);
	assert_memory_equal(&f->reg.geom, &g, sizeof(g));
	assert_memory_equal(&f->reg.hdr, f->t.mem, sizeof(f->reg.hdr));
	/* Header, then chunk 0 once: seq, the one bitmap word holding page 3, seq. */
	assert_int_equal(f->st.bytes, 128 + 4 + 8 + 4);
	assert_int_equal(f->st.chunks, 1);
	assert_int_equal(f->st.attempts, 1);
	assert_int_equal(f->st.retries, 0);
	/* Two map() calls: the header, then the whole table. */
	assert_int_equal(f->m.maps, 2);
	tfx_free(f);
}

static void register_value_zero_unregisters(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	assert_int_equal(fx_register(f), 0);
	assert_int_equal(fx_register_value(f, 0, NULL), 0);
	assert_false(f->reg.active);
	assert_int_equal(f->reg.generation, 2);
	assert_int_equal(fx_read(f, 0, 0, 1), -SD_ERR_NO_TABLE);
	assert_int_equal(f->loc.err, -SD_ERR_NO_TABLE);
	/* Re-registering, and unregistering directly, move the generation on. */
	assert_int_equal(fx_register(f), 0);
	assert_int_equal(f->reg.generation, 3);
	sd_host_unregister(&f->reg);
	assert_false(f->reg.active);
	assert_int_equal(f->reg.generation, 4);
	tfx_free(f);
}

static void register_table_spanning_two_chunks_reads_both(void **state)
{
	/* 64-page chunks, 16384 pages: 256 chunks, a two-page table at page 63-64. */
	struct tfx *f = tfx_new(0, 16384, 64, 63ULL << 12, 4);

	(void)state;
	assert_int_equal(f->t.g.table_size, 8192);
	assert_int_equal(fx_register(f), 0);
	assert_int_equal(f->st.chunks, 2);
	/* Each chunk: seq, one word, seq. */
	assert_int_equal(f->st.bytes, 128 + 2 * 16);
	/* The second table page made private: found in chunk 1, word 0. */
	tbuild_set(&f->t, 64, 1, false);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_TABLE_NOT_SHARED, 1,
		      f->t.g.bitmap_offset + 8);
	tfx_free(f);
}

/* ---- registration: the value and the hypercall arguments ------------------ */

static void register_rejects_reserved_value_bits(void **state)
{
	struct tfx *f = fx_std();
	struct sd_hc_args hc = { 0, 0, 1 };
	struct sd_host_reg before;

	(void)state;
	assert_int_equal(fx_register(f), 0);
	before = f->reg;
	assert_sd_err(fx_register_value(f, T_GPA | 1 | 2, NULL), f->loc, SD_ERR_REG_RESERVED,
		      SD_LOC_NONE, SD_LOC_NONE);
	assert_sd_err(fx_register_value(f, T_GPA | 0x800, NULL), f->loc, SD_ERR_REG_RESERVED,
		      SD_LOC_NONE, SD_LOC_NONE);
	/* Enable clear but a GPA given: malformed, not an unregistration. */
	assert_sd_err(fx_register_value(f, T_GPA, NULL), f->loc, SD_ERR_REG_RESERVED,
		      SD_LOC_NONE, SD_LOC_NONE);
	/* The hypercall's a3 must be 0, checked before anything is read. */
	f->m.maps = 0;
	assert_sd_err(fx_register_value(f, T_GPA | 1, &hc), f->loc, SD_ERR_REG_RESERVED,
		      SD_LOC_NONE, SD_LOC_NONE);
	assert_int_equal(f->m.maps, 0);
	assert_reg_unchanged(&f->reg, &before);
	tfx_free(f);
}

static void register_rejects_gpa_beyond_phys_bits(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	f->cfg.phys_bits = 32;
	assert_sd_err(fx_register_value(f, (1ULL << 32) | 1, NULL), f->loc, SD_ERR_REG_GPA,
		      SD_LOC_NONE, SD_LOC_NONE);
	assert_false(f->reg.active);
	assert_int_equal(f->reg.generation, 0);
	/* Just below the limit is a GPA the accessor then has to answer for. */
	assert_sd_err(fx_register_value(f, 0xfffff001ULL, NULL), f->loc, SD_ERR_MEM_UNBACKED,
		      SD_LOC_NONE, 0);
	tfx_free(f);
}

static void register_cross_checks_hypercall_size_and_abi(void **state)
{
	struct tfx *f = fx_std();
	struct sd_hc_args ok = { 4096, 1, 0 }, none = { 0, 0, 0 };
	struct sd_hc_args bad_size = { 8192, 1, 0 }, bad_abi = { 4096, 2, 0 };

	(void)state;
	assert_sd_err(fx_register_value(f, T_GPA | 1, &bad_size), f->loc, SD_ERR_REG_SIZE,
		      SD_LOC_NONE, SD_HDR_OFF(table_size));
	assert_sd_err(fx_register_value(f, T_GPA | 1, &bad_abi), f->loc, SD_ERR_REG_ABI,
		      SD_LOC_NONE, SD_HDR_OFF(abi_major));
	assert_false(f->reg.active);
	assert_int_equal(fx_register_value(f, T_GPA | 1, &ok), 0);
	assert_int_equal(fx_register_value(f, T_GPA | 1, &none), 0);
	assert_int_equal(f->reg.generation, 2);
	tfx_free(f);
}

static void register_rejects_bad_arguments(void **state)
{
	struct tfx *f = fx_std();
	struct sd_host_mem nomap = { .ctx = f };
	SD_HOST_OPTS(sd_host_register_opts, o, .loc = &f->loc);

	(void)state;
	assert_sd_err(sd_host_register(NULL, &f->cfg, &f->mem, T_GPA | 1, &o), f->loc,
		      SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_sd_err(sd_host_register(&f->reg, NULL, &f->mem, T_GPA | 1, &o), f->loc,
		      SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	/* An accessor with neither map() nor copy(). */
	assert_sd_err(sd_host_register(&f->reg, &f->cfg, &nomap, T_GPA | 1, &o), f->loc,
		      SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	/* Only SD_READ_PAUSED means anything to a registration. */
	assert_sd_err(fx_register_flags(f, SD_READ_STRICT), f->loc, SD_ERR_INVAL, SD_LOC_NONE,
		      SD_LOC_NONE);
	assert_sd_err(fx_register_flags(f, 1u << 31), f->loc, SD_ERR_INVAL, SD_LOC_NONE,
		      SD_LOC_NONE);
	o.reserved = 1;
	assert_sd_err(sd_host_register(&f->reg, &f->cfg, &f->mem, T_GPA | 1, &o), f->loc,
		      SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_false(f->reg.active);
	assert_int_equal(f->m.maps, 0);
	/* NULL options: a live MSR registration. */
	assert_int_equal(sd_host_register(&f->reg, &f->cfg, &f->mem, T_GPA | 1, NULL), 0);
	assert_int_equal(f->reg.generation, 1);
	tfx_free(f);
}

static void register_zero_attempts_mean_the_default(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	/* cfg->max_attempts 0 is SD_HOST_DEFAULT_ATTEMPTS: a stuck table chunk shows it. */
	tbuild_open(&f->t, 0, 100, 5);
	f->cfg.max_attempts = 0;
	assert_sd_err(fx_register(f), f->loc, SD_ERR_CHUNK_ODD, 0, DESC(0));
	assert_int_equal(f->st.attempts, SD_HOST_DEFAULT_ATTEMPTS);
	/* A paused registration makes one attempt whatever the budget. */
	assert_int_equal(fx_register_flags(f, SD_READ_PAUSED), 0);
	assert_int_equal(f->st.attempts, 1);
	tfx_free(f);
}

/* ---- registration: every header check (4.1), through sd_host_register ----- */

struct hdr_case {
	const char *what;
	u64 off;
	u32 width;
	u64 val;
	int err;
	u64 at;
};

static const struct hdr_case hdr_cases[] = {
	{ "magic", 0x00, 8, 0x54414e4f44564554ULL, SD_ERR_HDR_MAGIC, 0x00 },
	{ "major 0", 0x08, 2, 0, SD_ERR_HDR_MAJOR, 0x08 },
	{ "major 2", 0x08, 2, 2, SD_ERR_HDR_MAJOR, 0x08 },
	{ "header_size small", 0x0c, 4, 120, SD_ERR_HDR_SIZE, 0x0c },
	{ "header_size big", 0x0c, 4, 4104, SD_ERR_HDR_SIZE, 0x0c },
	{ "header_size odd", 0x0c, 4, 132, SD_ERR_HDR_SIZE, 0x0c },
	{ "incompat top bit", 0x18, 8, 1ULL << 63, SD_ERR_HDR_INCOMPAT, 0x18 },
	{ "incompat bit 0", 0x18, 8, 1, SD_ERR_HDR_INCOMPAT, 0x18 },
	{ "page_shift", 0x30, 4, 13, SD_ERR_GEOM_PAGE_SHIFT, 0x30 },
	{ "ppc 32", 0x34, 4, 32, SD_ERR_GEOM_CHUNK, 0x34 },
	{ "ppc 65536", 0x34, 4, 65536, SD_ERR_GEOM_CHUNK, 0x34 },
	{ "ppc 384", 0x34, 4, 384, SD_ERR_GEOM_CHUNK, 0x34 },
	{ "nr_gfns 0", 0x28, 8, 0, SD_ERR_GEOM_EMPTY, 0x28 },
	{ "first_gfn wraps", 0x20, 8, ~0ULL - 100, SD_ERR_GEOM_SPAN, 0x28 },
	{ "nr_gfns wraps", 0x28, 8, ~0ULL, SD_ERR_GEOM_SPAN, 0x28 },
	{ "span past 2^40", 0x28, 8, (1ULL << 40) + 1, SD_ERR_GEOM_SPAN, 0x28 },
	{ "nr_chunks", 0x38, 8, 17, SD_ERR_GEOM_NR_CHUNKS, 0x38 },
	{ "nr_chunks wraps", 0x38, 8, ~0ULL, SD_ERR_GEOM_NR_CHUNKS, 0x38 },
	{ "table_size 0", 0x50, 8, 0, SD_ERR_GEOM_TABLE_SIZE, 0x50 },
	{ "table_size unaligned", 0x50, 8, 4097, SD_ERR_GEOM_TABLE_SIZE, 0x50 },
	{ "table_size over host max", 0x50, 8, 8192, SD_ERR_GEOM_TABLE_SIZE, 0x50 },
	{ "table_size huge", 0x50, 8, ~0ULL << 12, SD_ERR_GEOM_TABLE_SIZE, 0x50 },
	{ "desc misaligned", 0x40, 8, 0x88, SD_ERR_GEOM_DESC, 0x40 },
	{ "desc inside header", 0x40, 8, 0x40, SD_ERR_GEOM_DESC, 0x40 },
	{ "desc offset wraps", 0x40, 8, ~0ULL << 4, SD_ERR_GEOM_DESC, 0x40 },
	{ "desc past end", 0x40, 8, 0xf10, SD_ERR_GEOM_DESC, 0x40 },
	{ "bitmap misaligned", 0x48, 8, 0x184, SD_ERR_GEOM_BITMAP, 0x48 },
	{ "bitmap over descs", 0x48, 8, 0x170, SD_ERR_GEOM_BITMAP, 0x48 },
	{ "bitmap offset wraps", 0x48, 8, ~0ULL << 3, SD_ERR_GEOM_BITMAP, 0x48 },
	{ "bitmap past end", 0x48, 8, 0xf08, SD_ERR_GEOM_BITMAP, 0x48 },
};

static void register_rejects_every_bad_header_field(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(hdr_cases); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		struct tfx *f = fx_std();
		int rc;

		poke(f, c->off, c->width, c->val);
		rc = fx_register(f);
		if (rc != -c->err)
			fail_msg("%s: got %s, want %s", c->what, sd_err_name(rc), sd_err_name(c->err));
		assert_sd_err(rc, f->loc, c->err, SD_LOC_NONE, c->at);
		assert_false(f->reg.active);
		assert_int_equal(f->reg.generation, 0);
		/* Only the header was read: nothing of the table. */
		assert_int_equal(f->st.bytes, 128);
		assert_int_equal(f->m.maps, 1);
		tfx_free(f);
	}
}

static void register_keeps_reading_the_known_header_fields_only(void **state)
{
	/* Minor, compat bits, reserved words and a bigger header are all accepted. */
	struct tfx *f = fx_std();

	(void)state;
	poke(f, 0x0a, 2, 7);
	poke(f, 0x10, 8, ~0ULL);
	poke(f, 0x58, 8, 0x1234);
	poke(f, 0x0c, 4, 0x80);
	assert_int_equal(fx_register(f), 0);
	assert_int_equal(f->reg.hdr.abi_minor, 7);
	tfx_free(f);
}

static void register_rejects_span_past_host_gfn_limit(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	f->cfg.lim.gfn_limit = T_PAGES - 1;
	assert_sd_err(fx_register(f), f->loc, SD_ERR_GEOM_SPAN, SD_LOC_NONE, SD_HDR_OFF(nr_gfns));
	f->cfg.lim.gfn_limit = T_PAGES;
	assert_int_equal(fx_register(f), 0);
	tfx_free(f);
}

static void register_rejects_geometry_that_misses_ram(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	/* RAM one page longer than the span, then starting before it. */
	f->cfg.lim.ram_end_gfn = T_PAGES + 1;
	assert_sd_err(fx_register(f), f->loc, SD_ERR_GEOM_RAM, SD_LOC_NONE, SD_HDR_OFF(first_gfn));
	tfx_free(f);

	f = tfx_new(16, T_PAGES, T_PPC, 0x20000, 4);
	f->cfg.lim.ram_first_gfn = 15;
	assert_sd_err(fx_register(f), f->loc, SD_ERR_GEOM_RAM, SD_LOC_NONE, SD_HDR_OFF(first_gfn));
	/* A span larger than RAM (room for hotplug) is fine. */
	f->cfg.lim.ram_first_gfn = 100;
	f->cfg.lim.ram_end_gfn = 200;
	assert_int_equal(fx_register(f), 0);
	tfx_free(f);
}

static void register_rejects_table_outside_span(void **state)
{
	/* The table at page 5000 of a 4096-page span. */
	struct tfx *f = tfx_new(0, T_PAGES, T_PPC, 5000ULL << 12, 4);

	(void)state;
	assert_sd_err(fx_register(f), f->loc, SD_ERR_TABLE_PLACEMENT, SD_LOC_NONE,
		      SD_HDR_OFF(table_size));
	tfx_free(f);

	/* Two pages of table starting at the span's last page. */
	f = tfx_new(0, 16384, 64, 16383ULL << 12, 4);
	assert_int_equal(f->t.g.table_size, 8192);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_TABLE_PLACEMENT, SD_LOC_NONE,
		      SD_HDR_OFF(table_size));
	tfx_free(f);

	/* Below a span that starts at page 16. */
	f = tfx_new(16, T_PAGES, T_PPC, 0x1000, 4);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_TABLE_PLACEMENT, SD_LOC_NONE,
		      SD_HDR_OFF(table_size));
	tfx_free(f);
}

/* ---- registration: guest memory (4.4) ------------------------------------ */

static void register_reports_unbacked_mmio_and_split_memory(void **state)
{
	struct tfx *f = tfx_new(0, 16384, 64, 0x40000, 4);	/* two-page table */
	u8 *m = f->t.mem;

	(void)state;
	/* Nothing there at all. */
	f->m.n = 0;
	assert_sd_err(fx_register(f), f->loc, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, 0);
	/* The header in MMIO. */
	tmem_add(&f->m, 0x40000, 8192, NULL, TMEM_MMIO);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_MEM_MMIO, SD_LOC_NONE, 0);
	/* RAM ends after the first table page: the table overlaps the end of RAM. */
	f->m.n = 0;
	tmem_add(&f->m, 0x40000, 4096, m, TMEM_RAM);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, 0);
	/* The second page in another memslot. */
	tmem_add(&f->m, 0x41000, 4096, m + 4096, TMEM_RAM);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_MEM_SPLIT, SD_LOC_NONE, 0);
	/* ... or in MMIO right after RAM: still a crossing. */
	f->m.r[1].kind = TMEM_MMIO;
	assert_sd_err(fx_register(f), f->loc, SD_ERR_MEM_SPLIT, SD_LOC_NONE, 0);
	assert_false(f->reg.active);
	/* One slot for all of it: accepted. */
	f->m.n = 0;
	tmem_add(&f->m, 0x40000, 8192, m, TMEM_RAM);
	assert_int_equal(fx_register(f), 0);
	tfx_free(f);
}

/* A map() answering something other than the four memory errors. */
static const void *odd_map(void *ctx, sd_gpa_t gpa, u64 len, int *err)
{
	(void)ctx;
	(void)gpa;
	(void)len;
	*err = -12345;
	return NULL;
}

static void register_maps_unknown_accessor_errors_to_unbacked(void **state)
{
	struct tfx *f = fx_std();
	struct sd_host_mem odd = { .map = odd_map };
	SD_HOST_OPTS(sd_host_register_opts, o, .loc = &f->loc);

	(void)state;
	assert_sd_err(sd_host_register(&f->reg, &f->cfg, &odd, T_GPA | 1, &o),
		      f->loc, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, 0);
	tfx_free(f);
}

/* ---- registration: the table's own chunks (4.2.3, 4.5) --------------------- */

static void register_rejects_private_table_page(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	tbuild_set(&f->t, 3, 1, false);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_TABLE_NOT_SHARED, 0, BITS(0));
	assert_int_equal(f->st.chunks, 1);
	assert_false(f->reg.active);
	tfx_free(f);
}

static void register_rejects_table_chunk_stuck_odd(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	tbuild_open(&f->t, 0, 100, 5);
	f->cfg.max_attempts = 9;
	assert_sd_err(fx_register(f), f->loc, SD_ERR_CHUNK_ODD, 0, DESC(0));
	assert_int_equal(f->st.attempts, 9);
	assert_int_equal(f->st.retries, 9);
	assert_int_equal(f->st.unsettled, 1);
	assert_int_equal(f->st.bytes, 128 + 9 * 4);
	tfx_free(f);
}

static void register_paused_decides_odd_table_chunk(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	/* A window elsewhere in the table's chunk: fine when paused. */
	tbuild_open(&f->t, 0, 100, 5);
	assert_int_equal(fx_register_flags(f, SD_READ_PAUSED), 0);
	assert_int_equal(f->st.attempts, 1);
	/* A window over the table page. */
	tbuild_open(&f->t, 0, 2, 2);
	assert_sd_err(fx_register_flags(f, SD_READ_PAUSED), f->loc, SD_ERR_TABLE_NOT_SHARED, 0,
		      DESC(0) + 8);
	/* A range that is no range, and one that leaves the chunk. */
	tbuild_open(&f->t, 0, 2, 0);
	assert_sd_err(fx_register_flags(f, SD_READ_PAUSED), f->loc, SD_ERR_CHUNK_PENDING, 0,
		      DESC(0) + 8);
	tbuild_open(&f->t, 0, 1, 0xffffffffu);
	assert_sd_err(fx_register_flags(f, SD_READ_PAUSED), f->loc, SD_ERR_CHUNK_PENDING, 0,
		      DESC(0) + 8);
	assert_int_equal(f->reg.generation, 1);
	tfx_free(f);
}

static void register_failure_keeps_previous_registration(void **state)
{
	struct tfx *f = fx_std();
	struct sd_host_reg before;

	(void)state;
	assert_int_equal(fx_register(f), 0);
	before = f->reg;
	poke(f, SD_HDR_OFF(magic), 8, 0);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_HDR_MAGIC, SD_LOC_NONE, 0);
	assert_reg_unchanged(&f->reg, &before);
	poke(f, SD_HDR_OFF(magic), 8, SD_MAGIC);
	tbuild_set(&f->t, 3, 1, false);
	assert_sd_err(fx_register(f), f->loc, SD_ERR_TABLE_NOT_SHARED, 0, BITS(0));
	assert_reg_unchanged(&f->reg, &before);
	tfx_free(f);
}

/* ---- the header after registration ----------------------------------------- */

static void check_header_reports_first_changed_field(void **state)
{
	struct tfx *f = fx_std();
	static const struct { u64 off; u32 width; u64 at; } cases[] = {
		{ 0x00, 1, 0x00 }, { 0x0b, 1, 0x0a }, { 0x0c, 4, 0x0c }, { 0x13, 1, 0x10 },
		{ 0x2f, 1, 0x28 }, { 0x36, 2, 0x34 }, { 0x50, 8, 0x50 }, { 0x6c, 2, 0x68 },
		{ 0x7f, 1, 0x78 },
	};

	(void)state;
	assert_int_equal(sd_host_check_header(&f->reg, &f->mem, &f->loc), -SD_ERR_NO_TABLE);
	assert_int_equal(fx_register(f), 0);
	assert_int_equal(sd_host_check_header(&f->reg, &f->mem, &f->loc), 0);
	for (unsigned i = 0; i < SD_ARRAY_SIZE(cases); i++) {
		u8 save[8];

		memcpy(save, f->t.mem + cases[i].off, cases[i].width);
		f->t.mem[cases[i].off] ^= 0x40;
		assert_sd_err(sd_host_check_header(&f->reg, &f->mem, &f->loc), f->loc,
			      SD_ERR_HDR_CHANGED, SD_LOC_NONE, cases[i].at);
		memcpy(f->t.mem + cases[i].off, save, cases[i].width);
	}
	assert_int_equal(sd_host_check_header(&f->reg, &f->mem, &f->loc), 0);
	/* The header's memory gone. */
	f->m.n = 0;
	assert_sd_err(sd_host_check_header(&f->reg, &f->mem, &f->loc), f->loc,
		      SD_ERR_MEM_UNBACKED, SD_LOC_NONE, 0);
	tfx_free(f);
}

/* ---- the chunk reader ------------------------------------------------------ */

static void reader_copies_a_stable_chunk(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	tbuild_set(&f->t, 256 + 10, 70, true);		/* chunk 1, pages 10..79 */
	assert_int_equal(fx_register(f), 0);
	assert_int_equal(fx_read(f, 1, 0, 1), 0);
	assert_false(f->ch.summary);
	assert_ptr_equal(f->ch.bits, f->scratch);
	assert_memory_equal(f->ch.bits, tbuild_bits(&f->t, 1), 32);
	assert_int_equal(f->ch.v.seq, 2);
	assert_int_equal(f->ch.v.nr_shared, 70);
	assert_int_equal(f->ch.v.pages, 256);
	assert_int_equal(f->ch.v.pending_count, 0);
	/* seq, nr_shared, 32 bytes of bits, seq. */
	assert_int_equal(f->st.bytes, 4 + 4 + 32 + 4);
	assert_int_equal(f->st.attempts, 1);
	assert_int_equal(f->st.summary_chunks, 0);
	tfx_free(f);
}

static void reader_skips_bitmap_of_uniform_chunks_unless_strict(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	tbuild_set(&f->t, 512, 256, true);		/* chunk 2 all shared */
	assert_int_equal(fx_register(f), 0);
	for (u64 idx = 2; idx <= 3; idx++) {		/* all shared, all private */
		assert_int_equal(fx_read(f, idx, 0, 1), 0);
		assert_true(f->ch.summary);
		assert_null(f->ch.bits);
		assert_int_equal(f->ch.v.nr_shared, idx == 2 ? 256 : 0);
		assert_int_equal(f->st.bytes, 12);
		assert_int_equal(f->st.summary_chunks, 1);
		assert_int_equal(fx_read(f, idx, SD_READ_STRICT, 1), 0);
		assert_false(f->ch.summary);
		assert_int_equal(f->st.bytes, 12 + 32);
		assert_int_equal(f->st.summary_chunks, 0);
	}
	tfx_free(f);
}

static void reader_summary_trusts_uniform_count_strict_checks_bits(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	assert_int_equal(fx_register(f), 0);
	/* Chunk 4 says 0 shared but has a bit set: only a strict read can tell. */
	tbuild_bits(&f->t, 4)[1] = 1;
	assert_int_equal(fx_read(f, 4, 0, 1), 0);
	assert_true(f->ch.summary);
	assert_sd_err(fx_read(f, 4, SD_READ_STRICT, 1), f->loc, SD_ERR_CHUNK_COUNT, 4,
		      DESC(4) + 4);
	/* The table's chunk claiming 0 shared is refused even by a summary read. */
	tbuild_desc(&f->t, 0)->nr_shared = 0;
	assert_sd_err(fx_read(f, 0, 0, 1), f->loc, SD_ERR_TABLE_NOT_SHARED, 0, BITS(0));
	assert_sd_err(fx_read(f, 0, SD_READ_STRICT, 1), f->loc, SD_ERR_CHUNK_COUNT, 0,
		      DESC(0) + 4);
	tfx_free(f);
}

static void reader_rejects_count_that_lies(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	assert_int_equal(fx_register(f), 0);
	tbuild_set(&f->t, 5 * 256 + 7, 9, true);
	tbuild_desc(&f->t, 5)->nr_shared = 8;
	assert_sd_err(fx_read(f, 5, 0, 1), f->loc, SD_ERR_CHUNK_COUNT, 5, DESC(5) + 4);
	/* More shared than the chunk has pages. */
	tbuild_desc(&f->t, 5)->nr_shared = 257;
	assert_sd_err(fx_read(f, 5, 0, 1), f->loc, SD_ERR_CHUNK_COUNT, 5, DESC(5) + 4);
	tbuild_desc(&f->t, 5)->nr_shared = 0xffffffffu;
	assert_sd_err(fx_read(f, 5, SD_READ_PAUSED, 1), f->loc, SD_ERR_CHUNK_COUNT, 5,
		      DESC(5) + 4);
	tfx_free(f);
}

static void reader_rejects_bit_past_span_end(void **state)
{
	/* 4000 pages: the last chunk (15) covers 160 pages. */
	struct tfx *f = tfx_new(0, 4000, T_PPC, T_GPA, 4);

	(void)state;
	assert_int_equal(fx_register(f), 0);
	tbuild_set(&f->t, 15 * 256, 160, true);	/* every real page: uniform */
	assert_int_equal(fx_read(f, 15, 0, 1), 0);
	assert_true(f->ch.summary);
	assert_int_equal(f->ch.v.pages, 160);
	tbuild_bits(&f->t, 15)[3] |= 1ULL << (200 - 192);
	tbuild_desc(&f->t, 15)->nr_shared = 161;
	assert_sd_err(fx_read(f, 15, 0, 1), f->loc, SD_ERR_CHUNK_PAD, 15, BITS(15) + 24);
	/* Checked before the pending range, on odd chunks too. */
	tbuild_open(&f->t, 15, 500, 0);
	assert_sd_err(fx_read(f, 15, SD_READ_PAUSED, 1), f->loc, SD_ERR_CHUNK_PAD, 15,
		      BITS(15) + 24);
	tfx_free(f);
}

static void reader_rejects_private_table_page(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	assert_int_equal(fx_register(f), 0);
	tbuild_set(&f->t, 3, 1, false);
	tbuild_set(&f->t, 200, 1, true);	/* keep the chunk non-uniform */
	assert_sd_err(fx_read(f, 0, 0, 1), f->loc, SD_ERR_TABLE_NOT_SHARED, 0, BITS(0));
	assert_false(f->ch.summary);
	tfx_free(f);
}

static void reader_rejects_odd_count_after_retries(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	assert_int_equal(fx_register(f), 0);
	tbuild_open(&f->t, 2, 0, 5);
	assert_sd_err(fx_read(f, 2, 0, 7), f->loc, SD_ERR_CHUNK_ODD, 2, DESC(2));
	assert_int_equal(f->st.chunks, 1);
	assert_int_equal(f->st.attempts, 7);
	assert_int_equal(f->st.retries, 7);
	assert_int_equal(f->st.unsettled, 1);
	/* Odd on every attempt: only the count was ever loaded. */
	assert_int_equal(f->st.bytes, 7 * 4);
	tfx_free(f);
}

static void reader_paused_decides_odd_chunk(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	assert_int_equal(fx_register(f), 0);
	tbuild_set(&f->t, 512 + 40, 10, true);
	tbuild_open(&f->t, 2, 45, 20);
	assert_int_equal(fx_read(f, 2, SD_READ_PAUSED, 99), 0);
	assert_false(f->ch.summary);
	assert_int_equal(f->ch.v.seq, 3);
	assert_int_equal(f->ch.v.pending_first, 45);
	assert_int_equal(f->ch.v.pending_count, 20);
	assert_int_equal(f->st.attempts, 1);
	/* seq, nr_shared, pending range, bits, seq. */
	assert_int_equal(f->st.bytes, 4 + 4 + 8 + 32 + 4);
	/* The count is not checked while a window is open (the writer may be mid-way). */
	tbuild_desc(&f->t, 2)->nr_shared = 12345;
	assert_int_equal(fx_read(f, 2, SD_READ_PAUSED, 1), 0);
	tfx_free(f);
}

static void reader_paused_rejects_bad_pending_ranges(void **state)
{
	struct tfx *f = fx_std();
	static const u32 bad[][2] = {
		{ 0, 0 }, { 256, 1 }, { 255, 2 }, { 1, 0xffffffffu }, { 0xffffffffu, 1 },
	};

	(void)state;
	assert_int_equal(fx_register(f), 0);
	for (unsigned i = 0; i < SD_ARRAY_SIZE(bad); i++) {
		tbuild_open(&f->t, 2, bad[i][0], bad[i][1]);
		assert_sd_err(fx_read(f, 2, SD_READ_PAUSED, 1), f->loc, SD_ERR_CHUNK_PENDING, 2,
			      DESC(2) + 8);
	}
	tbuild_open(&f->t, 2, 255, 1);
	assert_int_equal(fx_read(f, 2, SD_READ_PAUSED, 1), 0);
	/* A window over a table page is refused. */
	tbuild_open(&f->t, 0, 0, 4);
	assert_sd_err(fx_read(f, 0, SD_READ_PAUSED, 1), f->loc, SD_ERR_TABLE_NOT_SHARED, 0,
		      DESC(0) + 8);
	tbuild_open(&f->t, 0, 4, 4);
	assert_int_equal(fx_read(f, 0, SD_READ_PAUSED, 1), 0);
	tfx_free(f);
}

static void reader_rejects_bad_arguments(void **state)
{
	struct tfx *f = fx_std();
	SD_HOST_OPTS(sd_host_read_opts, o, .loc = &f->loc);

	(void)state;
	assert_sd_err(fx_read(f, 0, 0, 1), f->loc, SD_ERR_NO_TABLE, SD_LOC_NONE, SD_LOC_NONE);
	assert_int_equal(fx_register(f), 0);
	assert_sd_err(fx_read(f, 16, 0, 1), f->loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_sd_err(fx_read(f, ~0ULL, 0, 1), f->loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_sd_err(fx_read(f, 0, 1u << 3, 1), f->loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_sd_err(sd_host_read_chunk(&f->reg, &f->mem, 0, NULL, &f->ch, &o), f->loc,
		      SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	assert_sd_err(sd_host_read_chunk(&f->reg, &f->mem, 0, f->scratch, NULL, &o), f->loc,
		      SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	/* NULL options: a live read with the default budget. */
	assert_int_equal(sd_host_read_chunk(&f->reg, &f->mem, 0, f->scratch, &f->ch, NULL), 0);
	tfx_free(f);
}

static void reader_zero_attempts_mean_the_default(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	assert_int_equal(fx_register(f), 0);
	tbuild_open(&f->t, 2, 0, 5);
	assert_sd_err(fx_read(f, 2, 0, 0), f->loc, SD_ERR_CHUNK_ODD, 2, DESC(2));
	assert_int_equal(f->st.attempts, SD_HOST_DEFAULT_ATTEMPTS);
	assert_sd_err(fx_read(f, 2, 0, 3), f->loc, SD_ERR_CHUNK_ODD, 2, DESC(2));
	assert_int_equal(f->st.attempts, 3);
	/* Paused: one attempt, whatever the budget. */
	assert_int_equal(fx_read(f, 2, SD_READ_PAUSED, 0), 0);
	assert_int_equal(f->st.attempts, 1);
	tfx_free(f);
}

static void reader_reports_memory_gone_after_registration(void **state)
{
	struct tfx *f = fx_std();

	(void)state;
	assert_int_equal(fx_register(f), 0);
	f->m.r[0].kind = TMEM_MMIO;
	assert_sd_err(fx_read(f, 0, 0, 1), f->loc, SD_ERR_MEM_MMIO, SD_LOC_NONE, 0);
	f->m.r[0].kind = TMEM_RAM;
	f->m.r[0].len = 2048;
	assert_sd_err(fx_read(f, 0, 0, 1), f->loc, SD_ERR_MEM_UNBACKED, SD_LOC_NONE, 0);
	/* Nothing was loaded from guest memory. */
	assert_int_equal(f->st.bytes, 0);
	tfx_free(f);
}

/* ---- walks report the same errors, at the same place ---------------------- */

struct walk_err_case {
	const char *what;
	void (*corrupt)(struct tbuild *t);
	u32 flags;
	int err;
	u64 chunk, off;
};

static void corrupt_count(struct tbuild *t)
{
	tbuild_set(t, 6 * 256 + 1, 3, true);
	tbuild_desc(t, 6)->nr_shared = 2;
	tbuild_desc(t, 6)->seq += 2;
}

static void corrupt_pad(struct tbuild *t)
{
	/* Only meaningful on the 4000-page table: see the case. */
	tbuild_bits(t, 15)[2] |= 1ULL << 63;
	tbuild_desc(t, 15)->nr_shared++;
	tbuild_desc(t, 15)->seq += 2;
}

static void corrupt_table_page(struct tbuild *t)
{
	tbuild_set(t, 3, 1, false);
	tbuild_set(t, 9, 1, true);
}

static void corrupt_odd(struct tbuild *t)
{
	tbuild_open(t, 9, 3, 3);
}

static void corrupt_pending(struct tbuild *t)
{
	tbuild_open(t, 9, 250, 7);
}

static void corrupt_window_over_table(struct tbuild *t)
{
	tbuild_open(t, 0, 3, 1);
}

static const struct walk_err_case walk_err_cases[] = {
	{ "count", corrupt_count, 0, SD_ERR_CHUNK_COUNT, 6, DESC(6) + 4 },
	{ "pad", corrupt_pad, 0, SD_ERR_CHUNK_PAD, 15, BITS(15) + 16 },
	{ "table page", corrupt_table_page, 0, SD_ERR_TABLE_NOT_SHARED, 0, BITS(0) },
	{ "odd", corrupt_odd, 0, SD_ERR_CHUNK_ODD, 9, DESC(9) },
	{ "pending", corrupt_pending, SD_READ_PAUSED, SD_ERR_CHUNK_PENDING, 9, DESC(9) + 8 },
	{ "window over table", corrupt_window_over_table, SD_READ_PAUSED,
	  SD_ERR_TABLE_NOT_SHARED, 0, DESC(0) + 8 },
};

static void walks_report_chunk_errors_with_location(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(walk_err_cases); i++) {
		const struct walk_err_case *c = &walk_err_cases[i];
		/* 4000 pages so that chunk 15 has padding; the offsets are the same. */
		struct tfx *f = tfx_new(0, 4000, T_PPC, T_GPA, 4);
		u64 words = 16 * 4;
		struct sd_host_incr incr = {
			.nr_chunks = 16, .seqs = calloc(16, 4), .bits = calloc(words, 8),
		};
		struct truns r = { 0 };
		SD_HOST_OPTS(sd_host_walk_opts, quiet, .flags = c->flags, .max_attempts = 2);
		SD_HOST_OPTS(sd_host_walk_opts, o, .flags = c->flags, .max_attempts = 2,
			     .fn = truns_fn, .ctx = &r, .loc = &f->loc);
		SD_HOST_OPTS(sd_host_walk_opts, so, .flags = c->flags | SD_READ_STRICT,
			     .max_attempts = 2, .fn = truns_fn, .ctx = &r, .loc = &f->loc);
		int rc;

		tbuild_set(&f->t, 100, 1, true);
		assert_int_equal(fx_register(f), 0);
		assert_int_equal(sd_host_incr_init(&f->reg, &f->mem, &incr, &quiet), 0);
		c->corrupt(&f->t);

		rc = fx_read(f, c->chunk, c->flags, 2);
		if (rc != -c->err)
			fail_msg("%s: read_chunk got %s", c->what, sd_err_name(rc));
		assert_sd_err(rc, f->loc, c->err, c->chunk, c->off);

		memset(&f->loc, 0, sizeof(f->loc));
		assert_sd_err(sd_host_walk(&f->reg, &f->mem, f->scratch, &o), f->loc, c->err,
			      c->chunk, c->off);
		truns_reset(&r);
		memset(&f->loc, 0, sizeof(f->loc));
		assert_sd_err(sd_host_walk(&f->reg, &f->mem, f->scratch, &so), f->loc, c->err,
			      c->chunk, c->off);
		truns_reset(&r);
		memset(&f->loc, 0, sizeof(f->loc));
		assert_sd_err(sd_host_walk_changes(&f->reg, &f->mem, &incr, f->scratch, &o), f->loc,
			      c->err, c->chunk, c->off);
		truns_reset(&r);
		free(incr.bits);
		incr.bits = calloc(words, 8);
		memset(&f->loc, 0, sizeof(f->loc));
		assert_sd_err(sd_host_incr_init(&f->reg, &f->mem, &incr, &o), f->loc, c->err,
			      c->chunk, c->off);
		/* A failed init can't be used for an incremental walk. */
		assert_sd_err(sd_host_walk_changes(&f->reg, &f->mem, &incr, f->scratch, &o), f->loc,
			      SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
		truns_reset(&r);
		free(incr.seqs);
		free(incr.bits);
		tfx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(register_accepts_valid_table),
		cmocka_unit_test(register_value_zero_unregisters),
		cmocka_unit_test(register_table_spanning_two_chunks_reads_both),
		cmocka_unit_test(register_rejects_reserved_value_bits),
		cmocka_unit_test(register_rejects_gpa_beyond_phys_bits),
		cmocka_unit_test(register_cross_checks_hypercall_size_and_abi),
		cmocka_unit_test(register_rejects_bad_arguments),
		cmocka_unit_test(register_zero_attempts_mean_the_default),
		cmocka_unit_test(register_rejects_every_bad_header_field),
		cmocka_unit_test(register_keeps_reading_the_known_header_fields_only),
		cmocka_unit_test(register_rejects_span_past_host_gfn_limit),
		cmocka_unit_test(register_rejects_geometry_that_misses_ram),
		cmocka_unit_test(register_rejects_table_outside_span),
		cmocka_unit_test(register_reports_unbacked_mmio_and_split_memory),
		cmocka_unit_test(register_maps_unknown_accessor_errors_to_unbacked),
		cmocka_unit_test(register_rejects_private_table_page),
		cmocka_unit_test(register_rejects_table_chunk_stuck_odd),
		cmocka_unit_test(register_paused_decides_odd_table_chunk),
		cmocka_unit_test(register_failure_keeps_previous_registration),
		cmocka_unit_test(check_header_reports_first_changed_field),
		cmocka_unit_test(reader_copies_a_stable_chunk),
		cmocka_unit_test(reader_skips_bitmap_of_uniform_chunks_unless_strict),
		cmocka_unit_test(reader_summary_trusts_uniform_count_strict_checks_bits),
		cmocka_unit_test(reader_rejects_count_that_lies),
		cmocka_unit_test(reader_rejects_bit_past_span_end),
		cmocka_unit_test(reader_rejects_private_table_page),
		cmocka_unit_test(reader_rejects_odd_count_after_retries),
		cmocka_unit_test(reader_paused_decides_odd_chunk),
		cmocka_unit_test(reader_paused_rejects_bad_pending_ranges),
		cmocka_unit_test(reader_rejects_bad_arguments),
		cmocka_unit_test(reader_zero_attempts_mean_the_default),
		cmocka_unit_test(reader_reports_memory_gone_after_registration),
		cmocka_unit_test(walks_report_chunk_errors_with_location),
	};

	return cmocka_run_group_tests_name("host: registration and reader", tests, NULL, NULL);
}
