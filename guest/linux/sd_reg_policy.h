/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_reg_policy.h - whether sev_donate.ko may register its table (SPEC.md
 * 2.7, 5.7). A pure function, so that tests/unit/test_guest_policy.c can
 * compile it in userspace and try every combination.
 *
 * The module records only the conversions it makes itself (the table's own
 * pages, its churn pool). On a guest whose memory is encrypted the kernel
 * shares much more before and besides it: SWIOTLB, .bss..decrypted, the
 * per-CPU steal-time, async-PF and PV-EOI pages, and every other
 * set_memory_decrypted(). A module sees none of those, so its table says
 * they are private; a host migrating by it would send them encrypted and
 * break virtio and kvmclock on the destination. SPEC.md 2.7 forbids
 * registering such a table. Without memory encryption no page is ever
 * converted (set_memory_decrypted() does nothing), so the module's own
 * brackets are every conversion there is, and its table is complete.
 */
#ifndef SD_REG_POLICY_H
#define SD_REG_POLICY_H

#include "sd_types.h"

enum sdl_reg_action {
	SDL_REG_NO_TRANSPORT = 1,	/* nothing to write to: keep the table for later */
	SDL_REG_CLEAR_ONLY,		/* write 0 (drop a previous kernel's table), register nothing */
	SDL_REG_REGISTER,		/* register: the table describes the guest */
	SDL_REG_REGISTER_INCOMPLETE,	/* register, test-only: the table misses conversions */
};

/*
 * @mem_encrypted: the guest's memory is encrypted (cc_platform_has(
 * CC_ATTR_GUEST_MEM_ENCRYPT)); @register_incomplete: the test-only module
 * parameter; @have_transport: sd_transport_probe() found one. With a
 * transport, the first registration at load writes 0 first in every case
 * (sd_guest_register_fresh(), or the 0 alone): clearing a crashed kernel's
 * registration is right whether or not this table may be registered.
 */
static inline enum sdl_reg_action sdl_reg_decide(bool mem_encrypted, bool register_incomplete,
						 bool have_transport)
{
	if (!have_transport)
		return SDL_REG_NO_TRANSPORT;
	if (!mem_encrypted)
		return SDL_REG_REGISTER;
	return register_incomplete ? SDL_REG_REGISTER_INCOMPLETE : SDL_REG_CLEAR_ONLY;
}

#endif /* SD_REG_POLICY_H */
