// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cursor.c - this protocol's per-page answer in a migration loop: the
 * loop asks pages in GFN order, and the cursor reads each chunk through
 * host/ once, when the loop first reaches it (SPEC.md 3.1, with the
 * summary read of 3.2 for uniform chunks). What it holds is fixed: one
 * chunk's copy, whatever the guest does.
 */
#include "baseline.h"

void bl_cursor_init(struct bl_cursor *c, const struct sd_host_reg *reg,
		    const struct sd_host_mem *mem, u32 max_attempts)
{
	c->reg = reg;
	c->mem = mem;
	c->max_attempts = max_attempts;
	c->lo = 0;
	c->n = 0;
	c->use_bits = false;
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

	c->use_bits = false;
	if (!c->reg->active || p >= g->nr_gfns) {
		c->n = 0;
		c->fixed = c->reg->active ? -SD_ERR_RANGE : -SD_ERR_NO_TABLE;
		return;
	}
	idx = p >> g->chunk_shift;
	c->lo = sd_geom_chunk_gfn(g, idx);
	c->n = sd_geom_chunk_pages(g, idx);
	rc = sd_host_read_chunk(c->reg, c->mem, idx, c->scratch, &c->ch, &o);
	if (rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES)
		c->fixed = SD_PAGE_UNSETTLED;
	else if (rc)
		c->fixed = rc;
	else if (c->ch.summary)
		c->fixed = c->ch.v.nr_shared ? SD_PAGE_SHARED : SD_PAGE_PRIVATE;
	else
		c->use_bits = true;
}
