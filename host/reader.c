// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * reader.c - map a registered table for one call, and read one chunk.
 *
 * Reachable by a hostile guest through the table's contents; bounded by
 * max_attempts copies of one chunk (SPEC.md 6.3). The read rule itself is
 * sd_host_rd_chunk() in reader.h.
 */
#include "reader.h"

int sd_host_read_chunk(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		       u64 idx, u32 flags, u32 max_attempts, u64 *scratch,
		       struct sd_host_chunk *out, struct sd_host_stats *st,
		       struct sd_errloc *loc)
{
	struct sd_host_rd rd;
	int rc;

	if (!out || (reg && reg->active && idx >= reg->geom.nr_chunks))
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	rc = sd_host_rd_setup(&rd, reg, mem, flags, max_attempts, scratch, true, st, loc);
	if (rc)
		return rc;
	rc = sd_host_rd_chunk(&rd, idx, out);
	sd_host_rd_done(&rd);
	return rc;
}
