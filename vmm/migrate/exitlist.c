// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * exitlist.c - the region list a VMM keeps from exits (exitlist.h).
 *
 * A guest drives this: every exit may allocate a node, and the list's
 * length is the cost of every walk. That is the design being measured; the
 * only bound here is the guest's RAM (the model refuses ranges past it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exitlist.h"
#include "bitmap.h"

int demo_xl_init(struct demo_xl *x, u64 ram_pages)
{
	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	bl_rlist_init(&x->list);
	x->ram_pages = ram_pages;
	x->words = (ram_pages + 63) / 64;
	x->changed = calloc(x->words, 8);
	return x->changed ? 0 : -ENOMEM;
}

void demo_xl_free(struct demo_xl *x)
{
	bl_rlist_free(&x->list);
	free(x->changed);
	x->changed = NULL;
	pthread_mutex_destroy(&x->lock);
}

static u64 thread_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (u64)t.tv_sec * 1000000000ULL + (u64)t.tv_nsec;
}

int demo_xl_exit(struct demo_xl *x, u64 gpa, u64 npages, u64 attrs)
{
	u64 t0 = thread_ns(), gfn = gpa >> SD_PAGE_SHIFT;
	int rc;

	pthread_mutex_lock(&x->lock);
	x->exits++;
	if (gfn >= x->ram_pages || npages > x->ram_pages - gfn)
		rc = -EINVAL;
	else if (x->fail_exit && x->exits == x->fail_exit)
		rc = -ENOMEM;	/* test fault: as if the node's malloc returned NULL */
	else
		rc = bl_rlist_map_gpa_range(&x->list, gpa, npages, attrs);
	if (rc == -ENOMEM) {
		/* Not the guest's error: ours, and a page whose state we no longer know. */
		if (!x->lost++) {
			x->first_lost_gfn = gfn;
			x->first_lost_exit = x->exits;
		}
	} else if (rc) {
		x->refused++;
	} else {
		sd_bitmap_set_range(x->changed, gfn, npages);
		x->peak_regions = SD_MAX(x->peak_regions, x->list.nr);
	}
	x->handler_ns += thread_ns() - t0;
	pthread_mutex_unlock(&x->lock);
	return rc;
}

int demo_xl_take_changes(struct demo_xl *x, u64 *need, u64 *taken, struct demo_xl_loss *loss)
{
	u64 n = 0;

	pthread_mutex_lock(&x->lock);
	if (x->lost) {
		*loss = (struct demo_xl_loss){ x->lost, x->first_lost_gfn, x->first_lost_exit };
		pthread_mutex_unlock(&x->lock);
		return -ENOMEM;
	}
	for (u64 i = 0; i < x->words; i++) {
		n += sd_popcount64(x->changed[i]);
		need[i] |= x->changed[i];
		x->changed[i] = 0;
	}
	pthread_mutex_unlock(&x->lock);
	*taken = n;
	return 0;
}

void demo_xl_states(struct demo_xl *x, const u64 *need, u64 *bits)
{
	u64 npages = x->ram_pages;

	pthread_mutex_lock(&x->lock);
	for (u64 p = sd_bitmap_find(need, 0, npages, true); p < npages;
	     p = sd_bitmap_find(need, p + 1, npages, true)) {
		if (bl_rlist_is_shared(&x->list, p))
			bits[p >> 6] |= 1ULL << (p & 63);
		else
			bits[p >> 6] &= ~(1ULL << (p & 63));
		x->lookups++;
	}
	pthread_mutex_unlock(&x->lock);
}

int demo_xl_seed(struct demo_xl *x, const u8 *mode, u8 plain)
{
	int rc = 0;

	pthread_mutex_lock(&x->lock);
	for (u64 p = 0; p < x->ram_pages && !rc; p++) {
		u64 e = p;

		if (mode[p] != plain)
			continue;
		while (e < x->ram_pages && mode[e] == plain)
			e++;
		rc = bl_rlist_add(&x->list, p, e);
		p = e;
	}
	x->peak_regions = SD_MAX(x->peak_regions, x->list.nr);
	pthread_mutex_unlock(&x->lock);
	return rc;
}

void demo_xl_stats(struct demo_xl *x, struct demo_xl_stats *out)
{
	pthread_mutex_lock(&x->lock);
	*out = (struct demo_xl_stats){ .exits = x->exits, .refused = x->refused, .lost = x->lost,
				       .regions = x->list.nr, .peak_regions = x->peak_regions,
				       .handler_ns = x->handler_ns };
	pthread_mutex_unlock(&x->lock);
}
