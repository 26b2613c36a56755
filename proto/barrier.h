/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * barrier.h - the memory model proto/, guest/ and host/ are written against.
 *
 * Three mappings, one meaning:
 *
 *   build                      sd_smp_wmb / sd_smp_rmb       SD_READ_ONCE / SD_WRITE_ONCE
 *   Linux kernel (__KERNEL__)  smp_wmb / smp_rmb             READ_ONCE / WRITE_ONCE
 *   userspace, SD_USE_URCU     cmm_smp_wmb / cmm_smp_rmb     CMM_LOAD_SHARED / CMM_STORE_SHARED
 *   ThreadSanitizer builds     compiler barrier              acquire __atomic load / release store
 *   otherwise (freestanding)   C11 release / acquire fence   relaxed __atomic load / store
 *
 * On x86-64 all four compile to the same instructions: plain loads and
 * stores, and compiler barriers for wmb/rmb (x86 keeps stores in order and
 * loads in order; acquire loads and release stores are plain moves).
 *
 * The ThreadSanitizer mapping is the TSan annotation of this project. The
 * table is raced on purpose: readers copy while writers write, and the
 * sequence count tells them afterwards whether the copy is good. TSan
 * cannot model standalone fences (GCC refuses them under -fsanitize=thread),
 * so a fence-based seqlock would look like a pile of data races. With every
 * shared access an atomic, and every load acquire and every store release,
 * the protocol is correct on any C11 machine without the fences (each
 * release store orders everything before it, each acquire load everything
 * after it), and TSan can check the happens-before edges it relies on
 * instead of being told to look away.
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
#elif defined(__SANITIZE_THREAD__)
#define sd_smp_wmb()		__asm__ __volatile__("" ::: "memory")
#define sd_smp_rmb()		__asm__ __volatile__("" ::: "memory")
#define sd_smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define SD_READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define SD_WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
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
