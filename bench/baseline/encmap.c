// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * encmap.c - the KVM_GET_PAGE_ENC_BITMAP proposal's host side: a bitmap of
 * every guest page kept in the host's memory (allocated from the guest's
 * size, not from its behaviour), set and cleared by the hypercall handler
 * on every page-state change, copied out whole by the VMM's ioctl.
 */
#include <stdlib.h>
#include <string.h>
#include "baseline.h"

int bl_encmap_init(struct bl_encmap *m, sd_gfn_t first_gfn, u64 nr_gfns)
{
	u64 words = (nr_gfns + 63) / 64;

	*m = (struct bl_encmap){ .first_gfn = first_gfn, .nr_gfns = nr_gfns };
	/* kvzalloc in the proposal: zeroed, every page private. */
	m->bits = calloc(words, sizeof(u64));
	if (!m->bits)
		return -ENOMEM;
	m->bytes = words * sizeof(u64);
	return 0;
}

void bl_encmap_free(struct bl_encmap *m)
{
	free(m->bits);
	*m = (struct bl_encmap){ 0 };
}

int bl_encmap_map_gpa_range(struct bl_encmap *m, sd_gpa_t gpa, u64 npages, u64 attrs)
{
	sd_gfn_t gfn = gpa >> 12;

	if ((gpa & 0xfff) || !npages || npages > (~0ULL >> 12) - gfn ||
	    (attrs & ~(u64)(BL_MAP_GPA_RANGE_ENCRYPTED | 0xf)) ||
	    (attrs & 0xf) > BL_MAP_GPA_RANGE_PAGE_SZ_1G)
		return -EINVAL;
	if (gfn < m->first_gfn || gfn - m->first_gfn > m->nr_gfns ||
	    npages > m->nr_gfns - (gfn - m->first_gfn))
		return -ERANGE;
	if (attrs & BL_MAP_GPA_RANGE_ENCRYPTED)
		sd_bitmap_clear_range(m->bits, gfn - m->first_gfn, npages);
	else
		sd_bitmap_set_range(m->bits, gfn - m->first_gfn, npages);
	return 0;
}

int bl_encmap_get(const struct bl_encmap *m, sd_gfn_t gfn, u64 npages, u64 *dst)
{
	u64 p = gfn - m->first_gfn;

	if (gfn < m->first_gfn || p > m->nr_gfns)
		return -ERANGE;
	if (!npages || (p & 63))
		return -EINVAL;
	if (npages > m->nr_gfns - p)
		return -ERANGE;
	/* copy_to_user of the requested words. */
	memcpy(dst, m->bits + p / 64, (npages + 63) / 64 * sizeof(u64));
	return 0;
}
