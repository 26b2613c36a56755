// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * reader.c - read one chunk (sd_host_read_chunk).
 *
 * Reachable by a hostile guest through the table's contents; bounded by
 * max_attempts copies of one chunk (SPEC.md 6.3). The read rule itself is
 * sd_rd_rule() in reader.h.
 */
#include "reader.h"

/* The options structs have no padding: every byte of them is a field (sd_opts_ok). */
_Static_assert(sizeof(struct sd_host_read_opts) == 8 + 4 + 4 + 2 * sizeof(void *),
	       "sd_host_read_opts has no holes");
_Static_assert(sizeof(struct sd_host_walk_opts) == 8 + 4 + 4 + 7 * sizeof(void *) + 4 + 4,
	       "sd_host_walk_opts has no holes");
_Static_assert(sizeof(struct sd_host_register_opts) == 8 + 4 + 4 + 3 * sizeof(void *),
	       "sd_host_register_opts has no holes");

int sd_host_read_chunk(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		       u64 idx, u64 *scratch, struct sd_host_chunk *out,
		       const struct sd_host_read_opts *opts)
{
	struct sd_rd_args a = { 0 };
	struct sd_host_rd rd;
	int rc;

	if (!sd_opts_ok(opts, sizeof(*opts)))
		return -SD_ERR_INVAL;
	a.flags = SD_OPT(opts, flags, 0);
	a.attempts = sd_attempts_or_default(SD_OPT(opts, max_attempts, 0));
	a.st = SD_OPT(opts, stats, NULL);
	a.loc = SD_OPT(opts, loc, NULL);
	if ((a.flags & ~SD_READ_KNOWN) || !out ||
	    (reg && reg->active && idx >= reg->geom.nr_chunks))
		return sd_fail(a.loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	rc = sd_host_rd_setup(&rd, reg, mem, &a, scratch, true, false);
	if (rc)
		return rc;
	rc = sd_host_rd_chunk(&rd, idx, out);
	sd_host_rd_done(&rd);
	return rc;
}
