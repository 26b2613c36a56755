/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * barrier.h - the memory model proto/, guest/ and host/ are written against.
 *
 * Three mappings, one meaning:
 *
 *   build                      sd_smp_wmb / sd_smp_rmb       SD_READ_ONCE / SD_WRITE_ONCE
 *   Linux kernel (__KERNEL__)  smp_wmb / smp_rmb             READ_ONCE / WRITE_ONCE
 *   userspace, SD_USE_URCU     cmm_smp_wmb / cmm_smp_rmb     CMM_LOAD_SHARED / CMM_STORE_SHARED
 *   otherwise (freestanding,   C11 release / acquire fence   relaxed __atomic load / store
 *   and ThreadSanitizer)
 *
 * On x86-64 all three compile to the same instructions: plain loads and
 * stores, and compiler barriers for wmb/rmb (x86 keeps stores in order and
 * loads in order). The fallback uses __atomic builtins so that every access
 * to the shared table is an atomic access in the C11 sense: ThreadSanitizer
 * then sees the table's deliberate races as what they are (relaxed atomics
 * ordered by fences) instead of reporting them as data races.
 *
 * Every use of a barrier in this project carries a comment naming the
 * barrier on the other side it pairs with (W0..W2 for writers, R1..R2 for
 * readers; SPEC.md section 2 and 3 give the table).
 */
#ifndef SD_BARRIER_H
#define SD_BARRIER_H

#if defined(__KERNEL__)
#include <linux/compiler.h>
#include <asm/barrier.h>
#define sd_smp_wmb()		smp_wmb()
#define sd_smp_rmb()		smp_rmb()
#define sd_smp_mb()		smp_mb()
#define SD_READ_ONCE(x)		READ_ONCE(x)
#define SD_WRITE_ONCE(x, v)	WRITE_ONCE(x, v)
#elif defined(SD_USE_URCU)
#include <urcu/arch.h>
#include <urcu/system.h>
#define sd_smp_wmb()		cmm_smp_wmb()
#define sd_smp_rmb()		cmm_smp_rmb()
#define sd_smp_mb()		cmm_smp_mb()
#define SD_READ_ONCE(x)		CMM_LOAD_SHARED(x)
#define SD_WRITE_ONCE(x, v)	CMM_STORE_SHARED(x, v)
#else
#define sd_smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define sd_smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define sd_smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define SD_READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define SD_WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif

/* A pure compiler barrier, for spin loops. */
#define sd_barrier()		__asm__ __volatile__("" ::: "memory")

#endif /* SD_BARRIER_H */
