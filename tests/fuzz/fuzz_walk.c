// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fuzz_walk.c - the whole-table walk and the incremental walk: runs in
 * order and inside the span, and an incremental walk after a mutation
 * reports no more pages than the span holds.
 */
#include "fuzz_host.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

struct fz_runs {
	const struct sd_geom *g;
	sd_gfn_t next;		/* runs come in GFN order, disjoint */
	u64 pages;
};

static int fz_run(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	struct fz_runs *r = ctx;

	if (n == 0 || gfn < r->next || gfn < r->g->first_gfn ||
	    gfn - r->g->first_gfn > r->g->nr_gfns || n > r->g->first_gfn + r->g->nr_gfns - gfn ||
	    state > SD_PAGE_UNSETTLED)
		__builtin_trap();
	r->next = gfn + n;
	r->pages += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz_params p;
	struct fz_mem m;
	struct sd_host_mem mem;
	struct sd_host_cfg cfg;
	struct sd_host_reg reg = { 0 };
	u64 scratch[SD_HOST_SCRATCH_WORDS];

	if (!fz_setup(data, size, &p, &m, &mem, &cfg))
		return 0;
	if (fz_register(&p, &cfg, &mem, &reg, NULL) == 0 && reg.active) {
		u32 flags = fz_read_flags(&p) | SD_READ_UNSETTLED_OK;
		struct fz_runs r = { .g = &reg.geom, .next = 0 };
		struct sd_host_stats st = { 0 };
		struct sd_host_incr incr = { .nr_chunks = reg.geom.nr_chunks };
		SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = cfg.max_attempts,
			     .fn = fz_run, .ctx = &r, .stats = &st);
		int rc;

		rc = sd_host_walk(&reg, &mem, scratch, &o);
		if (!fz_err_possible(&m, rc))
			__builtin_trap();
		if (st.chunks > reg.geom.nr_chunks ||
		    st.attempts > reg.geom.nr_chunks * cfg.max_attempts)
			__builtin_trap();
		incr.seqs = calloc(sd_host_incr_seq_entries(&reg), sizeof(u32));
		incr.bits = calloc(sd_host_incr_bit_words(&reg), sizeof(u64));
		r = (struct fz_runs){ .g = &reg.geom };
		o.stats = NULL;
		if (sd_host_incr_init(&reg, &mem, &incr, &o) == 0) {
			/* The guest changes some bytes of its table, then the host looks again. */
			u64 seed = p.aux | 1;

			for (int k = 0; k < 8 && m.len; k++) {
				seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
				m.img[seed % m.len] ^= (u8)(seed >> 40);
			}
			r = (struct fz_runs){ .g = &reg.geom };
			st = (struct sd_host_stats){ 0 };
			o.stats = &st;
			rc = sd_host_walk_changes(&reg, &mem, &incr, scratch, &o);
			if (!fz_err_possible(&m, rc))
				__builtin_trap();
			if (r.pages > reg.geom.nr_gfns || st.chunks > reg.geom.nr_chunks)
				__builtin_trap();
		}
		free(incr.seqs);
		free(incr.bits);
	}
	free(m.img);
	return 0;
}
