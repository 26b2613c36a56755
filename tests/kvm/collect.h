/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * collect.h - host side of KVM tests: a walk callback that records each
 * reported run's state per GFN, refusing (and flagging) any run that leaves
 * the span it was given.
 */
#ifndef SD_KVM_TEST_COLLECT_H
#define SD_KVM_TEST_COLLECT_H

#include <string.h>
#include "sd_host.h"

struct collect {
	u8 *state;		/* SD_PAGE_* per GFN, @span entries */
	u64 span;
	bool bad;		/* a run went past @span */
};

static inline int collect_fn(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state st)
{
	struct collect *co = ctx;

	if (gfn > co->span || n > co->span - gfn) {
		co->bad = true;
		return 1;
	}
	memset(co->state + gfn, st, n);
	return 0;
}

/* A strict walk, one attempt per chunk (every vCPU stopped), into @co. */
static inline int collect_walk(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			       u64 *scratch, struct collect *co, struct sd_host_stats *st,
			       struct sd_errloc *loc)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = SD_READ_STRICT, .max_attempts = 1,
		     .fn = collect_fn, .ctx = co, .stats = st, .loc = loc);

	return sd_host_walk(reg, mem, scratch, &o);
}

#endif /* SD_KVM_TEST_COLLECT_H */
