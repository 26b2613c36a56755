// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * spinlock.c - sd_env_lock/sd_env_unlock for environments that never sleep
 * (userspace tests and tools, the KVM test guest). Freestanding.
 *
 * Test-and-test-and-set: the exchange is the acquire, the store of 0 the
 * release; between attempts the waiter only reads, so waiters don't bounce
 * the line while the holder works.
 */
#include "sd_guest.h"

void sd_env_lock(struct sd_lock *l)
{
	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->v, __ATOMIC_RELAXED))
			__asm__ __volatile__("pause" ::: "memory");
}

void sd_env_unlock(struct sd_lock *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}
