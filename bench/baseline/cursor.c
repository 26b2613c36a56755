// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cursor.c - this protocol's per-page answer in a migration loop: the
 * loop asks pages in GFN order, and the cursor reads each chunk through
 * host/ once, when the loop first reaches it (SPEC.md 3.1, with the
 * summary read of 3.2 for uniform chunks). What it holds is fixed: one
 * chunk's copy, whatever the guest does.
 */
#include "baseline.h"

/* A uniform chunk's states, whatever its size (SD_MAX_CHUNK_PAGES at most). */
static const u64 bl_all_private[SD_HOST_SCRATCH_WORDS];
static const u64 bl_all_shared[SD_HOST_SCRATCH_WORDS] = {
	[0 ... SD_HOST_SCRATCH_WORDS - 1] = ~0ULL
};

void bl_cursor_init(struct bl_cursor *c, const struct sd_host_reg *reg,
		    const struct sd_host_mem *mem, u32 max_attempts)
{
	c->reg = reg;
	c->mem = mem;
	c->max_attempts = max_attempts;
	c->lo = 0;
	c->n = 0;
	c->nbits = 0;
	c->bits = NULL;
	c->uniform = -1;
	c->fixed = -SD_ERR_RANGE;
	c->st = (struct sd_host_stats){ 0 };
}

void bl_cursor_seek(struct bl_cursor *c, sd_gfn_t gfn)
{
	const struct sd_geom *g = &c->reg->geom;
	u64 p = gfn - g->first_gfn, idx;
	SD_HOST_OPTS(sd_host_read_opts, o, .max_attempts = c->max_attempts, .stats = &c->st,
		     .loc = &c->loc);
	int rc;

	c->nbits = 0;
	c->uniform = -1;
	if (!c->reg->active || p >= g->nr_gfns) {
		c->n = 0;
		c->fixed = c->reg->active ? -SD_ERR_RANGE : -SD_ERR_NO_TABLE;
		return;
	}
	idx = p >> g->chunk_shift;
	c->lo = sd_geom_chunk_gfn(g, idx);
	c->n = sd_geom_chunk_pages(g, idx);
	rc = sd_host_read_chunk(c->reg, c->mem, idx, c->scratch, &c->ch, &o);
	if (rc) {
		bool unsettled = rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES;

		c->fixed = unsettled ? SD_PAGE_UNSETTLED : rc;
		return;
	}
	/* A uniform chunk, read by its summary: a constant bitmap answers. */
	if (c->ch.summary) {
		c->uniform = c->ch.v.nr_shared ? SD_PAGE_SHARED : SD_PAGE_PRIVATE;
		c->bits = c->ch.v.nr_shared ? bl_all_shared : bl_all_private;
	} else {
		c->bits = c->ch.bits;
	}
	c->nbits = c->n;
}

int bl_cursor_state_slow(struct bl_cursor *c, sd_gfn_t gfn)
{
	if (gfn - c->lo >= c->n) {
		bl_cursor_seek(c, gfn);
		if (!c->n)
			return c->fixed;
	}
	return c->nbits ? sd_bit_test(c->bits, gfn - c->lo) : c->fixed;
}
