/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_guest.h - the guest side: keep the encryption-status table, register it.
 *
 * Freestanding: no libc, no allocation, no floating point. The caller
 * provides the memory (the shared table and a private area) and the
 * environment provides two hooks, sd_env_lock() and sd_env_unlock(), plus
 * the transport primitives (struct sd_transport_ops).
 *
 * The table is host-writable (SPEC.md 2.5, 8.2). This library never reads
 * it: every shared field is written from private state (geometry, per-chunk
 * counts and a shadow of the bitmap), so nothing the host writes can steer
 * an address, a size, an index or a loop bound here.
 *
 * Synchronization table:
 *
 *   operation                       concurrent with                     requires
 *   sd_guest_begin/commit, _set     the same on other chunks: yes       nothing (chunk locks inside)
 *                                   the same on the same chunk          serialised by that chunk's lock
 *   sd_guest_register/unregister    begin/commit/set                    caller serialises registrations
 *   sd_guest_resize                 nothing on the old table            caller excludes all writers
 *   sd_guest_init                   nothing                             -
 *
 * A thread holds at most one begin open at a time: a second begin could
 * wait for a lock the thread holds (the same chunk) or take chunk locks
 * below ones it holds, out of the ascending order that keeps threads from
 * deadlocking. In a kernel this includes a begin reached from inside the
 * window through memory reclaim, which the environment must rule out
 * (guest/linux/INTEGRATION.md, "No reclaim inside the window").
 */
#ifndef SD_GUEST_H
#define SD_GUEST_H

#include "sev_donate.h"
#include "sd_api_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Storage for one lock; zero is unlocked. What it means is the environment's. */
struct sd_lock {
	__u32 v;
};

/*
 * Environment hooks, resolved at link time (the only undefined symbols of
 * a freestanding guest/ link). A kernel may sleep in sd_env_lock(): the
 * conversion bracketed by begin/commit can sleep. Nothing inside a window
 * may wait for another window, so the environment must keep the window
 * out of anything that converts pages (a kernel: out of direct reclaim).
 * guest/env/spinlock.c is a spinning implementation for environments that
 * never sleep.
 */
void sd_env_lock(struct sd_lock *l);
void sd_env_unlock(struct sd_lock *l);

/* Guest-private state per chunk. */
struct sd_guest_chunk {
	__u32 seq;		/* authoritative; the shared seq is a copy */
	__u32 nr_shared;		/* authoritative */
	struct sd_lock lock;
	__u32 win_first;		/* open window (begin without commit), chunk-relative */
	__u32 win_count;		/* 0 when no window is open */
	__u32 win_shared;		/* the state the window converts to */
};

/* A table this guest keeps. All of it is private except *table. */
struct sd_guest {
	struct sd_geom g;
	__u8 *table;		/* the shared table: written, never read */
	sd_gpa_t table_gpa;
	struct sd_guest_chunk *chunks;	/* nr_chunks */
	__u64 *shadow;		/* private copy of the bitmap */
	/* Derived once at init from the above, for the hot path. */
	struct sd_chunk_desc *descs;	/* table + desc_offset */
	__u64 *bitmap;		/* table + bitmap_offset */
	__u64 self_lo, self_hi;	/* span-relative pages of the table itself */
	/*
	 * The value the host may hold for this table, 0 if it certainly holds
	 * none: set by a registration the host accepted, and by any answer that
	 * is not a clean refusal; cleared only by an accepted unregistration.
	 */
	__u64 reg_value;
};

/* Bytes of shared table, and of private area, a span needs; 0 if the span is invalid. */
__u64 sd_guest_table_bytes(sd_gfn_t first_gfn, __u64 nr_gfns, __u32 pages_per_chunk);
__u64 sd_guest_priv_bytes(sd_gfn_t first_gfn, __u64 nr_gfns, __u32 pages_per_chunk);

/*
 * Initialise a table for the span (SPEC.md 2.6): @table (mapped at @table_va,
 * guest-physical @table_gpa, already converted to shared) and @priv (private,
 * 8-byte aligned). Afterwards the table's own pages are shared and every
 * other page is private. Errors: SD_ERR_GEOM_* (span), SD_ERR_NOSPACE (a
 * buffer too small), SD_ERR_INVAL (misaligned), SD_ERR_TABLE_PLACEMENT (the
 * table lies outside the span).
 */
int sd_guest_init(struct sd_guest *g, sd_gfn_t first_gfn, __u64 nr_gfns, __u32 pages_per_chunk,
		  void *table_va, sd_gpa_t table_gpa, __u64 table_bytes,
		  void *priv, __u64 priv_bytes);

/*
 * Open the windows for [gfn, gfn + npages) -> @shared (SPEC.md 2.1 steps
 * 1-3 on every chunk touched, chunk locks taken in ascending order and held).
 * The caller converts the pages, then calls sd_guest_commit() with the same
 * arguments. Errors (nothing opened): SD_ERR_EMPTY_RANGE, SD_ERR_RANGE, and
 * SD_ERR_TABLE_NOT_SHARED for a request that includes one of the table's own
 * pages (they stay shared, and no window may cover them: SPEC.md 1.6).
 */
int sd_guest_begin(struct sd_guest *g, sd_gfn_t gfn, __u64 npages, bool shared);

/*
 * Close the windows sd_guest_begin() opened (steps 4-6), releasing the
 * locks. SD_ERR_BUSY (nothing changed) if the arguments don't match an open
 * begin on every chunk; SD_ERR_EMPTY_RANGE / SD_ERR_RANGE as for begin.
 */
int sd_guest_commit(struct sd_guest *g, sd_gfn_t gfn, __u64 npages, bool shared);

/* begin + commit with nothing in between, one chunk at a time. */
int sd_guest_set(struct sd_guest *g, sd_gfn_t gfn, __u64 npages, bool shared);

/*
 * Whether @gfn is shared, from private state (-SD_ERR_RANGE outside the
 * span). Takes the chunk's lock: not for a page inside a window the caller
 * holds open.
 */
int sd_guest_is_shared(struct sd_guest *g, sd_gfn_t gfn);

/*
 * Copy @from's page states into @to (SPEC.md 5.6 step 4): pages both spans
 * cover take @from's state, pages only @to covers are private, @to's own
 * pages are shared. Rewrites all of @to's table. The caller excludes every
 * writer of both tables.
 */
void sd_guest_copy_state(struct sd_guest *to, const struct sd_guest *from);

/* ---- registration (SPEC.md 5) -------------------------------------------- */

/*
 * The instructions behind the transports. The environment supplies them:
 * a kernel wires wrmsr/rdmsr to its fault-safe MSR accessors (a #GP must
 * come back as -1, not crash), and cpuid/hypercall to the instructions
 * (guest/x86.h has inline versions).
 */
struct sd_transport_ops {
	void (*cpuid)(void *ctx, __u32 leaf, __u32 regs[4]);		/* eax, ebx, ecx, edx */
	int (*wrmsr)(void *ctx, __u32 msr, __u64 val);		/* 0, or -1 on #GP */
	int (*rdmsr)(void *ctx, __u32 msr, __u64 *val);		/* 0, or -1 on #GP */
	__s64 (*hypercall)(void *ctx, __u64 nr, __u64 a0, __u64 a1, __u64 a2, __u64 a3);	/* RAX */
};

enum sd_transport_kind {
	SD_TRANSPORT_NONE = 0,	/* the host supports neither */
	SD_TRANSPORT_MSR,
	SD_TRANSPORT_HC,
};

struct sd_transport {
	const struct sd_transport_ops *ops;
	void *ctx;
	enum sd_transport_kind kind;	/* set by sd_transport_probe() */
};

/*
 * Discover the transport from CPUID (SPEC.md 5.4): the hypercall if
 * advertised, else the MSR, else SD_ERR_UNSUPPORTED (a normal outcome: the
 * table can still be kept, and registered later).
 */
int sd_transport_probe(struct sd_transport *t);

/*
 * Register @g's table (value = GPA | enable). Returns 0, SD_ERR_UNSUPPORTED,
 * the host's reason (an error from SPEC.md 5.4's list), SD_ERR_TRANSPORT,
 * or SD_ERR_BAD_ANSWER when the host's answer makes no sense.
 *
 * Only 0 and a reason from the list are clean answers. After any other
 * (SD_ERR_BAD_ANSWER, SD_ERR_TRANSPORT) the host may have taken the value,
 * so @g->reg_value is set as for a success: the table must not be freed
 * until sd_guest_unregister() succeeds (sd_guest_may_be_registered()).
 */
int sd_guest_register(struct sd_guest *g, const struct sd_transport *t);

/*
 * The first registration after boot: write 0, which drops whatever a
 * previous kernel registered and could not unregister (a crash kexec,
 * SPEC.md 5.7), then register @g. A failed 0 is returned as it is, and
 * nothing is registered; otherwise as sd_guest_register(). Not for a
 * replacement (sd_guest_resize() switches tables with one write).
 */
int sd_guest_register_fresh(struct sd_guest *g, const struct sd_transport *t);

/*
 * Unregister (value 0); same errors. @g->reg_value becomes 0 only when the
 * host accepts: after a refusal or a nonsense answer it may still read the
 * table.
 */
int sd_guest_unregister(struct sd_guest *g, const struct sd_transport *t);

/* Whether the host may read @g's table: it must not be freed (SPEC.md 5.7). */
static inline bool sd_guest_may_be_registered(const struct sd_guest *g)
{
	return g->reg_value != 0;
}

/*
 * Resize (SPEC.md 5.6 steps 4-5): copy @from's state into @to (already
 * initialised for the new span, typically larger), then register @to. On
 * success @to is the registered table and @from may be released; on a
 * clean refusal @from stays registered and untouched. After an answer that
 * is not clean, @from is registered again to settle which table the host
 * reads: if that succeeds, @to is not registered (its reg_value is 0) and
 * @from is; if not, both may be, and neither may be freed before an
 * accepted sd_guest_unregister(). The caller excludes every writer of @from
 * for the duration (step 3) and converts @from's pages back afterwards (step
 * 7).
 */
int sd_guest_resize(struct sd_guest *from, struct sd_guest *to, const struct sd_transport *t);

#ifdef __cplusplus
}
#endif

#endif /* SD_GUEST_H */
