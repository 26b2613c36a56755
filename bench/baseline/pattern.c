// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * pattern.c - the shared-memory layouts the benchmarks and tests use
 * (baseline.h documents the generators exactly, so a figure can be
 * reproduced from its seed).
 */
#include <stdlib.h>
#include "baseline.h"

#define MIB_PAGES(n)	((u64)(n) << 8)		/* n MiB in 4 KiB pages */
#define HUGE_PAGES	512ULL			/* 2 MiB */

int bl_pattern_push(struct bl_pattern *p, sd_gfn_t gfn, u64 npages)
{
	if (p->nr == p->cap) {
		u64 cap = p->cap ? p->cap * 2 : 64;
		struct bl_range *r = realloc(p->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		p->r = r;
		p->cap = cap;
	}
	p->r[p->nr++] = (struct bl_range){ gfn, npages };
	p->pages += npages;
	return 0;
}

void bl_pattern_free(struct bl_pattern *p)
{
	free(p->r);
	*p = (struct bl_pattern){ 0 };
}

static int range_cmp(const void *a, const void *b)
{
	const struct bl_range *x = a, *y = b;

	return (x->gfn > y->gfn) - (x->gfn < y->gfn);
}

void bl_pattern_sort(struct bl_pattern *p)
{
	if (p->nr)
		qsort(p->r, p->nr, sizeof(*p->r), range_cmp);
}

int bl_pattern_check(const struct bl_pattern *p)
{
	for (u64 i = 0; i < p->nr; i++) {
		if (!p->r[i].npages || p->r[i].gfn + p->r[i].npages < p->r[i].gfn)
			return -EINVAL;
		/* Strictly after the previous one's end: disjoint and not touching. */
		if (i && p->r[i].gfn <= p->r[i - 1].gfn + p->r[i - 1].npages)
			return -EINVAL;
	}
	return 0;
}

u64 bl_swiotlb_pages(u64 ram_pages)
{
	u64 n = ram_pages * 6 / 100;

	n = SD_MAX(n, MIB_PAGES(64));
	n = SD_MIN(n, MIB_PAGES(1024));
	return n & ~(HUGE_PAGES - 1);
}

int bl_pattern_scatter(struct bl_pattern *p, const struct bl_interval *iv, u32 nr_iv,
		       u64 nr, u64 *seed)
{
	u64 share[16], rem[16], total = 0, given = 0;
	int rc;

	if (nr_iv == 0 || nr_iv > SD_ARRAY_SIZE(share))
		return -EINVAL;
	for (u32 i = 0; i < nr_iv; i++) {
		if (iv[i].hi < iv[i].lo)
			return -EINVAL;
		total += iv[i].hi - iv[i].lo;
	}
	if (!total)
		return nr ? -EINVAL : 0;
	/* Proportional shares: floor, then the leftovers by largest remainder. */
	for (u32 i = 0; i < nr_iv; i++) {
		unsigned __int128 x = (unsigned __int128)nr * (iv[i].hi - iv[i].lo);

		share[i] = (u64)(x / total);
		rem[i] = (u64)(x % total);
		given += share[i];
	}
	while (given < nr) {
		u32 best = 0;

		for (u32 i = 1; i < nr_iv; i++)
			if (rem[i] > rem[best])
				best = i;
		share[best]++;
		rem[best] = 0;
		given++;
	}
	for (u32 i = 0; i < nr_iv; i++) {
		u64 len = iv[i].hi - iv[i].lo, slot;

		if (!share[i])
			continue;
		slot = len / share[i];
		if (slot < BL_SMALL_MAX_PAGES + 2)
			return -EINVAL;
		for (u64 k = 0; k < share[i]; k++) {
			u64 n = 1 + sd_splitmix64(seed) % BL_SMALL_MAX_PAGES;
			u64 off = sd_splitmix64(seed) % (slot - n);	/* ends at least a page early */

			rc = bl_pattern_push(p, iv[i].lo + k * slot + off, n);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int bl_pattern_typical(struct bl_pattern *p, u64 ram_pages, sd_gfn_t lo, sd_gfn_t hi,
		       u64 seed)
{
	u64 len = hi > lo ? hi - lo : 0, sw, sw_gfn;
	struct bl_interval iv[2];
	int rc;

	if (len < MIB_PAGES(128))
		return -EINVAL;
	sw = SD_MIN(bl_swiotlb_pages(ram_pages), (len / 4) & ~(HUGE_PAGES - 1));
	sw_gfn = SD_ALIGN_UP(lo + len / 4, HUGE_PAGES);
	/* The decrypted .bss (one huge page) and SWIOTLB. */
	rc = bl_pattern_push(p, lo, HUGE_PAGES);
	if (!rc)
		rc = bl_pattern_push(p, sw_gfn, sw);
	if (rc)
		return rc;
	/* The small ones around them, a page clear of both. */
	iv[0] = (struct bl_interval){ lo + HUGE_PAGES + 1, sw_gfn - 1 };
	iv[1] = (struct bl_interval){ sw_gfn + sw + 1, hi };
	rc = bl_pattern_scatter(p, iv, 2, 58, &seed);
	if (rc)
		return rc;
	bl_pattern_sort(p);
	return bl_pattern_check(p);
}

int bl_pattern_fragmented(struct bl_pattern *p, sd_gfn_t lo, sd_gfn_t hi, u64 nr, u64 seed)
{
	struct bl_interval iv = { lo, hi };
	int rc;

	if (hi <= lo)
		return -EINVAL;
	rc = bl_pattern_scatter(p, &iv, 1, nr, &seed);
	if (rc)
		return rc;
	bl_pattern_sort(p);
	return bl_pattern_check(p);
}
