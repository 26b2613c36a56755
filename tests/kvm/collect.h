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

#endif /* SD_KVM_TEST_COLLECT_H */
