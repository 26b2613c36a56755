// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fuzz_paused.c - the paused read (SPEC.md 3.4): one attempt per chunk, a
 * verdict for every page of every chunk it accepts, never an unsettled one.
 */
#include "fuzz_host.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

struct fz_cover {
	const struct sd_geom *g;
	sd_gfn_t next;
};

static int fz_cover(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	struct fz_cover *c = ctx;

	if (state == SD_PAGE_UNSETTLED || state == SD_PAGE_PRIVATE || gfn < c->next || n == 0 ||
	    n > c->g->first_gfn + c->g->nr_gfns - gfn)
		__builtin_trap();
	c->next = gfn + n;
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
	p.flags |= 1;
	if (fz_register(&p, &cfg, &mem, &reg, NULL) == 0 && reg.active) {
		struct fz_cover c = { .g = &reg.geom };
		struct sd_host_stats st = { 0 };
		SD_HOST_OPTS(sd_host_walk_opts, o,
			     .flags = SD_READ_PAUSED | ((p.flags & 2) ? SD_READ_STRICT : 0),
			     .fn = fz_cover, .ctx = &c, .stats = &st);
		int rc = sd_host_walk(&reg, &mem, scratch, &o);

		/* Paused: exactly one attempt per chunk read, and odd counts never fail. */
		if (st.attempts != st.chunks || st.retries || st.unsettled)
			__builtin_trap();
		if (rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES)
			__builtin_trap();
		if (rc == 0 && st.chunks != reg.geom.nr_chunks)
			__builtin_trap();
	}
	free(m.img);
	return 0;
}
