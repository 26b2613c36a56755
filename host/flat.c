// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * flat.c - the accessor for guest memory held in one flat buffer
 * (sd_host_mem_flat(), sd_host.h): an mmap'd RAM image, a table copied
 * out, a benchmark's synthetic table.
 *
 * Every gpa and len here comes from the guest's table. The check is
 * written so that no sum can wrap: first that gpa lies in the buffer, then
 * that len fits in what is left of it.
 */
#include "sd_host.h"

static const void *flat_map(void *ctx, sd_gpa_t gpa, __u64 len, int *err)
{
	const struct sd_host_flat *f = ctx;

	if (!f->base || gpa < f->gpa || gpa - f->gpa > f->bytes ||
	    len > f->bytes - (gpa - f->gpa)) {
		*err = -SD_ERR_MEM_UNBACKED;
		return 0;
	}
	return (const unsigned char *)f->base + (gpa - f->gpa);
}

struct sd_host_mem sd_host_mem_flat(struct sd_host_flat *flat)
{
	return (struct sd_host_mem){ .map = flat_map, .ctx = flat };
}
