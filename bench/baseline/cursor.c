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
	c->idx = BL_CURSOR_NONE;
	c->rc = 0;
	c->st = (struct sd_host_stats){ 0 };
}

void bl_cursor_load(struct bl_cursor *c, u64 idx)
{
	c->idx = idx;
	c->rc = sd_host_read_chunk(c->reg, c->mem, idx, 0, c->max_attempts, c->scratch, &c->ch,
				   &c->st, &c->loc);
}
