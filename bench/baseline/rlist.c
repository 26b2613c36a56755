// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * rlist.c - the shared-region list a VMM keeps under KVM_HC_MAP_GPA_RANGE,
 * modelled on AMD's QEMU SEV live-migration patches: a sorted doubly
 * linked list with one heap node per shared region; every exit walks it
 * from the head to find where the range goes, then merges (the range
 * became shared) or trims and splits (it became private); the migration
 * loop asks each page's state with a scan of the whole list.
 *
 * What a guest drives here, and why this design is being replaced: the
 * number of nodes (one per region it makes: up to half its pages), and
 * with it the length of every walk, on exits and in the migration loop.
 */
#include <stdlib.h>
#include "baseline.h"

void bl_rlist_init(struct bl_rlist *l)
{
	*l = (struct bl_rlist){ 0 };
}

void bl_rlist_free(struct bl_rlist *l)
{
	struct bl_region *r = l->head, *n;

	while (r) {
		n = r->next;
		free(r);
		l->frees++;
		r = n;
	}
	l->head = l->tail = NULL;
	l->nr = 0;
}

static struct bl_region *region_new(struct bl_rlist *l, sd_gfn_t start, sd_gfn_t end)
{
	/* calloc: the patches' g_malloc0, one node per region. */
	struct bl_region *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->start = start;
	r->end = end;
	l->allocs++;
	return r;
}

/* Insert @r before @pos (at the tail when @pos is NULL). */
static void region_link_before(struct bl_rlist *l, struct bl_region *r, struct bl_region *pos)
{
	r->next = pos;
	r->prev = pos ? pos->prev : l->tail;
	if (r->prev)
		r->prev->next = r;
	else
		l->head = r;
	if (pos)
		pos->prev = r;
	else
		l->tail = r;
	l->nr++;
}

static void region_unlink(struct bl_rlist *l, struct bl_region *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	l->nr--;
	free(r);
	l->frees++;
}

int bl_rlist_add(struct bl_rlist *l, sd_gfn_t start, sd_gfn_t end)
{
	struct bl_region *pos, *n;
	u64 visits = 0;

	if (start >= end)
		return -EINVAL;
	/* Skip the regions that end before the range and do not touch it. */
	for (pos = l->head; pos && pos->end < start; pos = pos->next)
		visits++;
	l->visits += visits + 1;
	if (!pos || pos->start > end) {
		/* Nothing to merge with: a new node, in order. */
		n = region_new(l, start, end);
		if (!n)
			return -ENOMEM;
		region_link_before(l, n, pos);
		return 0;
	}
	/* @pos overlaps or touches the range: grow it, then swallow what it reaches. */
	if (start < pos->start)
		pos->start = start;
	if (end > pos->end)
		pos->end = end;
	while (pos->next && pos->next->start <= pos->end) {
		if (pos->next->end > pos->end)
			pos->end = pos->next->end;
		region_unlink(l, pos->next);
		l->visits++;
	}
	return 0;
}

int bl_rlist_remove(struct bl_rlist *l, sd_gfn_t start, sd_gfn_t end)
{
	struct bl_region *pos, *next, *n;

	if (start >= end)
		return -EINVAL;
	for (pos = l->head; pos; pos = next) {
		next = pos->next;
		l->visits++;
		if (pos->end <= start)
			continue;
		if (pos->start >= end)
			break;
		if (pos->start >= start && pos->end <= end) {
			region_unlink(l, pos);		/* covered: the node goes */
		} else if (pos->start >= start) {
			pos->start = end;		/* its left part goes */
		} else if (pos->end <= end) {
			pos->end = start;		/* its right part goes */
		} else {
			/* The range is inside it: split in two. */
			n = region_new(l, end, pos->end);
			if (!n)
				return -ENOMEM;
			pos->end = start;
			region_link_before(l, n, next);
			break;
		}
	}
	return 0;
}

int bl_rlist_map_gpa_range(struct bl_rlist *l, sd_gpa_t gpa, u64 npages, u64 attrs)
{
	sd_gfn_t gfn = gpa >> 12;

	if ((gpa & 0xfff) || !npages || npages > (~0ULL >> 12) - gfn ||
	    (attrs & ~(u64)(BL_MAP_GPA_RANGE_ENCRYPTED | 0xf)) ||
	    (attrs & 0xf) > BL_MAP_GPA_RANGE_PAGE_SZ_1G)
		return -EINVAL;
	if (attrs & BL_MAP_GPA_RANGE_ENCRYPTED)
		return bl_rlist_remove(l, gfn, gfn + npages);
	return bl_rlist_add(l, gfn, gfn + npages);
}

bool bl_rlist_is_shared(const struct bl_rlist *l, sd_gfn_t gfn)
{
	const struct bl_region *pos;

	/* No early exit on the sorted order: the patches' loop stops only on a hit. */
	for (pos = l->head; pos; pos = pos->next)
		if (gfn >= pos->start && gfn < pos->end)
			return true;
	return false;
}
