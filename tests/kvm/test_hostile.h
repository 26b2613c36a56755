/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * test_hostile.h - VMM-side helpers of the hostile-guest and tampering-host
 * suites (test_hostile.c, test_tamper.c): the heap measurement and the
 * live reader thread that reads the registered table for the whole run,
 * as a VMM does during migration.
 *
 * Synchronization table:
 *
 *   data                        written by            read by               how
 *   hs_reader counters          the reader thread     main (waits, report)  SD_INC / SD_LOAD
 *   hs_reader.stop              main                  the reader thread     SD_STORE / SD_LOAD
 *   hs_reader.st (work)         the reader thread     main, after join      pthread_join orders it
 *   the registration            vCPU threads (WRMSR)  the reader            RCU (sd_vmm_reg.h)
 *
 * Nothing here allocates once the reader runs: the heap the suites measure
 * is the VMM's, not the measurement's.
 */
#ifndef TEST_HOSTILE_H
#define TEST_HOSTILE_H

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "sd_kvm.h"
#include "sd_vmm_reg.h"
#include "reader_loop.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* The sanitizer runtimes' own count (declared here: gcc ships no header for it). */
size_t __sanitizer_get_current_allocated_bytes(void);
#define HS_HEAP_SOURCE	"__sanitizer_get_current_allocated_bytes()"
#else
#define HS_HEAP_SOURCE	"mallinfo2() uordblks + hblkhd"
#endif

/* Bytes the VMM process has allocated and not freed, every thread and arena. */
static inline u64 hs_heap_used(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* The sanitizers replace malloc: glibc's arenas would not move. */
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	/* uordblks: in-use bytes of every arena; hblkhd: allocations served by mmap. */
	return mi.uordblks + mi.hblkhd;
#endif
}

/*
 * glibc's per-thread cache (tcache) keeps freed small chunks, which
 * mallinfo2() still counts as in use: a block freed by another thread, or
 * freed here and not yet reused, would show as a leak that is not one. The
 * tunable that turns the cache off is read only at startup, so the program
 * re-executes itself once with it set (the sanitizers have their own
 * allocator and count exactly).
 */
#define HS_NO_TCACHE	"glibc.malloc.tcache_count=0"

static inline void hs_heap_exact(char **argv)
{
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	const char *t = getenv("GLIBC_TUNABLES");
	char buf[512];

	if (t && strstr(t, HS_NO_TCACHE))
		return;
	snprintf(buf, sizeof(buf), "%s%s" HS_NO_TCACHE, t ? t : "", t ? ":" : "");
	TEST_ASSERT(setenv("GLIBC_TUNABLES", buf, 1) == 0, "setenv");
	execv("/proc/self/exe", argv);
	TEST_FAIL("execv /proc/self/exe: %s", strerror(errno));
#else
	(void)argv;
#endif
}

static struct rcu_head hs_sentinel;
static int hs_sentinel_ran;

static void hs_sentinel_fn(struct rcu_head *head)
{
	(void)head;
	__atomic_store_n(&hs_sentinel_ran, 1, __ATOMIC_RELEASE);
}

/*
 * The heap once every deferred free has run. rcu_barrier() waits for the
 * registration records handed to call_rcu, but returns as soon as its own
 * completion callback has signalled it, before that callback frees the
 * barrier's two bookkeeping objects. The call_rcu thread runs callbacks in
 * the order they were queued, so a static sentinel queued after the
 * barrier runs only once those frees are done; it allocates nothing.
 * The caller is an RCU-registered thread outside any read-side section.
 */
static inline u64 hs_heap_settled(void)
{
	u64 spins = 0;

	rcu_barrier();
	__atomic_store_n(&hs_sentinel_ran, 0, __ATOMIC_RELAXED);
	call_rcu(&hs_sentinel, hs_sentinel_fn);
	while (!__atomic_load_n(&hs_sentinel_ran, __ATOMIC_ACQUIRE)) {
		/* A hang guard, not a timer. */
		TEST_ASSERT(++spins < 100000000ULL, "the call_rcu thread never ran the sentinel");
		sched_yield();
	}
	return hs_heap_used();
}

/* ---- the live reader ---------------------------------------------------------- */

#define HS_READER_ATTEMPTS	8

struct hs_reader {
	struct sd_vmm_reg *reg;
	struct sd_host_mem mem;		/* its own accessor: the plain one */
	pthread_t thread;
	bool stop;
	struct rl_loop loop;		/* passes, and passes that found no registration */
	u64 reads;
	u64 seen[SD_ERR_MAX + 1];	/* results by error number; [0] = accepted */
	struct sd_host_stats st;	/* every read's work, summed */
	u64 scratch[SD_HOST_SCRATCH_WORDS];
};

/*
 * The errors a live read may name (SPEC.md 4.2, 4.5). A live read never
 * copies an odd count, so SD_ERR_CHUNK_PENDING is not among them; memory
 * errors are impossible once registered (the table was mapped whole at
 * registration, and the geometry is the host's private copy).
 */
static inline bool hs_live_error_ok(int err)
{
	switch (err) {
	case 0:
	case SD_ERR_CHUNK_ODD:
	case SD_ERR_CHUNK_RETRIES:
	case SD_ERR_CHUNK_COUNT:
	case SD_ERR_CHUNK_PAD:
	case SD_ERR_TABLE_NOT_SHARED:
		return true;
	default:
		return false;
	}
}

/* One live read of chunk @idx, checked against the bounds every read keeps. */
static void hs_read_one(void *ctx, const struct sd_host_reg *reg, u64 idx, u32 flags)
{
	struct hs_reader *rd = ctx;
	struct sd_host_stats st = { 0 };
	struct sd_host_chunk ch;
	struct sd_errloc loc;
	SD_HOST_OPTS(sd_host_read_opts, o, .flags = flags,
		     .max_attempts = HS_READER_ATTEMPTS, .stats = &st, .loc = &loc);
	int rc = sd_host_read_chunk(reg, &rd->mem, idx, rd->scratch, &ch, &o);
	u64 per_attempt = 12 + 8ULL * reg->geom.words_per_chunk;

	/* Each read is bounded, whatever the guest wrote. */
	TEST_ASSERT(hs_live_error_ok(-rc), "live read of chunk %llu: %s",
		    (unsigned long long)idx, sd_err_name(rc));
	TEST_ASSERT(st.chunks == 1 && st.attempts >= 1 &&
		    st.attempts <= HS_READER_ATTEMPTS &&
		    st.bytes <= st.attempts * per_attempt &&
		    st.unsettled == (rc == -SD_ERR_CHUNK_ODD ||
				     rc == -SD_ERR_CHUNK_RETRIES),
		    "chunk %llu: chunks %llu attempts %llu bytes %llu "
		    "unsettled %llu",
		    (unsigned long long)idx, (unsigned long long)st.chunks,
		    (unsigned long long)st.attempts, (unsigned long long)st.bytes,
		    (unsigned long long)st.unsettled);
	rd->st.chunks += st.chunks;
	rd->st.summary_chunks += st.summary_chunks;
	rd->st.attempts += st.attempts;
	rd->st.retries += st.retries;
	rd->st.bytes += st.bytes;
	rd->st.unsettled += st.unsettled;
	SD_INC(rd->seen[-rc]);
	SD_INC(rd->reads);
}

static void *hs_reader_fn(void *arg)
{
	struct hs_reader *rd = arg;

	rl_run(&rd->loop);
	return NULL;
}

static inline void hs_reader_start(struct hs_reader *rd, struct sd_vmm_reg *reg, struct sd_vm *vm)
{
	rd->reg = reg;
	rd->loop = (struct rl_loop){ .reg = reg, .stop = &rd->stop, .stop_in_pass = true,
				     .chunk = hs_read_one, .ctx = rd };
	rd->mem.map = sd_vm_mem_map;
	rd->mem.ctx = vm;
	TEST_ASSERT(pthread_create(&rd->thread, NULL, hs_reader_fn, rd) == 0, "reader");
}

static inline void hs_reader_stop(struct hs_reader *rd)
{
	SD_STORE(rd->stop, 1);
	pthread_join(rd->thread, NULL);
}

/*
 * Wait until the reader has made two complete passes that began after this
 * call (three more passes end: the first may have begun earlier), so that
 * one of them is strict and one is not. Polls; the bound is a hang guard,
 * not a timer.
 */
static inline void hs_reader_two_passes(struct hs_reader *rd)
{
	u64 start = SD_LOAD(rd->loop.passes), spins = 0;

	while (SD_LOAD(rd->loop.passes) < start + 3) {
		TEST_ASSERT(++spins < 100000000ULL, "the live reader made no progress");
		sched_yield();
	}
}

#endif /* TEST_HOSTILE_H */
