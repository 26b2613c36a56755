/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * exitlist.h - the VMM side of the design this protocol competes with
 * (demo.h, DEMO_DESIGN_EXIT): the guest reports every page-state change by
 * an exit, and the VMM keeps the shared-region list of AMD's QEMU SEV
 * live-migration patches (bench/baseline/rlist.c, bl_rlist: one heap node
 * per shared region, walked from the head by every exit and by every
 * per-page lookup of the migration loop). The source migrates from it
 * instead of from a table.
 *
 * Synchronization: the vCPU threads call demo_xl_exit(), inside
 * sd_vcpu_run (demo_vm.c: so no exit is handled while the VM is paused, and
 * the final pass's demo_xl_take_changes() and demo_xl_states() see the list
 * frozen as it was at the pause); the migration thread calls the rest. One
 * mutex (QEMU's patches run under the big lock) covers the list, the
 * changed bitmap and the counters.
 */
#ifndef SD_DEMO_EXITLIST_H
#define SD_DEMO_EXITLIST_H

#include <pthread.h>
#include "sd_types.h"
#include "baseline.h"

struct demo_xl {
	pthread_mutex_t lock;
	struct bl_rlist list;
	u64 ram_pages, words;
	u64 *changed;		/* pages reported since the source last took them */
	u64 exits;		/* exits handled */
	u64 refused;		/* exits the handler refused (bad arguments: -EINVAL) */
	u64 lost;		/* exits whose change the list could not record (-ENOMEM) */
	u64 first_lost_gfn;	/* the first such exit's first page (valid when lost) */
	u64 first_lost_exit;	/* and its number, from 1 */
	u64 fail_exit;		/* test fault: exit number N runs out of memory (0: none) */
	u64 peak_regions;	/* the most nodes the list held */
	u64 handler_ns;		/* CPU time the vCPU threads spent in the handler */
	u64 lookups;		/* per-page lookups by the migration loop */
};

/* 0, or -ENOMEM. */
int demo_xl_init(struct demo_xl *x, u64 ram_pages);
void demo_xl_free(struct demo_xl *x);
/*
 * The exit handler (a vCPU thread): KVM_HC_MAP_GPA_RANGE's arguments.
 * 0; -EINVAL for arguments KVM would refuse (counted in refused: the list
 * is as it was, and right); or -ENOMEM when the list could not record the
 * change (counted in lost). A lost change is for good: the list no longer
 * knows that page's state, and demo_xl_take_changes() fails from then on.
 */
int demo_xl_exit(struct demo_xl *x, u64 gpa, u64 npages, u64 attrs);
/* What the list lost, for the report. */
struct demo_xl_loss {
	u64 lost, first_gfn, first_exit;
};
/*
 * OR the pages reported since the last call into @need, forget them, and
 * set *@taken to how many. 0, or -ENOMEM (nothing taken, *@loss filled) if
 * any change was ever lost: whatever the list says may be wrong.
 */
int demo_xl_take_changes(struct demo_xl *x, u64 *need, u64 *taken, struct demo_xl_loss *loss);
/*
 * For every page set in @need, its state now as the list says (a lookup per
 * page, as the patches' migration loop does) into @bits (1 = shared).
 */
void demo_xl_states(struct demo_xl *x, const u64 *need, u64 *bits);
/* A destination's list, from the modes the pages arrived in (SD_REC_PLAIN = shared). */
int demo_xl_seed(struct demo_xl *x, const u8 *mode, u8 plain);
/* Its counters now, under the lock: the vCPUs may be handling exits meanwhile. */
struct demo_xl_stats {
	u64 exits, refused, lost, regions, peak_regions, handler_ns;
};
void demo_xl_stats(struct demo_xl *x, struct demo_xl_stats *out);

#endif /* SD_DEMO_EXITLIST_H */
