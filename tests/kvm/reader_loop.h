/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * reader_loop.h - the host-side reader thread the KVM tests run beside a
 * live guest: registered with liburcu, it takes the current registration
 * under sd_vmm_reg_read_lock(), hands every chunk to the test's own
 * function, and starts over until told to stop (test_hostile.h,
 * test_live_read.c).
 */
#ifndef SD_TEST_READER_LOOP_H
#define SD_TEST_READER_LOOP_H

#include <sched.h>
#include "sd_kvm.h"
#include "sd_vmm_reg.h"

struct rl_loop {
	struct sd_vmm_reg *reg;
	const bool *stop;		/* the test sets it (SD_STORE) to end the loop */
	bool stop_in_pass;		/* also look at *stop between chunks */
	/* Read chunk @idx of @reg; @flags alternate between 0 and SD_READ_STRICT. */
	void (*chunk)(void *ctx, const struct sd_host_reg *reg, u64 idx, u32 flags);
	void *ctx;
	u64 passes;			/* complete passes over a registered table */
	u64 no_table;			/* passes that found nothing registered */
};

static inline void rl_run(struct rl_loop *l)
{
	sd_thread_rcu_register();
	while (!SD_LOAD(*l->stop)) {
		u32 flags = (SD_LOAD(l->passes) & 1) ? SD_READ_STRICT : 0;
		const struct sd_host_reg *reg;

		sd_vmm_reg_read_lock();
		reg = sd_vmm_reg_current(l->reg);
		if (!reg->active) {
			sd_vmm_reg_read_unlock();
			SD_INC(l->no_table);
			sched_yield();
			continue;
		}
		for (u64 idx = 0; idx < reg->geom.nr_chunks; idx++) {
			if (l->stop_in_pass && SD_LOAD(*l->stop))
				break;
			l->chunk(l->ctx, reg, idx, flags);
		}
		sd_vmm_reg_read_unlock();
		SD_INC(l->passes);
		sched_yield();
	}
	sd_thread_rcu_unregister();
}

#endif /* SD_TEST_READER_LOOP_H */
