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

/**
 * struct sd_lock - storage for one lock
 * @v: zero is unlocked; what any other value means is the environment's
 */
struct sd_lock {
	__u32 v;
};

/**
 * sd_env_lock() - take a chunk's lock (an environment hook)
 * @l: the lock
 *
 * The environment hooks are resolved at link time: they are the only
 * undefined symbols of a freestanding guest/ link. A kernel may sleep in
 * sd_env_lock(): the conversion bracketed by begin/commit can sleep.
 * Nothing inside a window may wait for another window, so the environment
 * must keep the window out of anything that converts pages (a kernel: out
 * of direct reclaim). guest/env/spinlock.c is a spinning implementation for
 * environments that never sleep.
 */
void sd_env_lock(struct sd_lock *l);

/**
 * sd_env_unlock() - release a lock sd_env_lock() took (an environment hook)
 * @l: the lock
 */
void sd_env_unlock(struct sd_lock *l);

/**
 * struct sd_guest_chunk - guest-private state of one chunk
 * @seq: the chunk's sequence count; authoritative, the shared seq is a copy
 * @nr_shared: shared pages in the chunk; authoritative
 * @lock: serialises updates of this chunk
 * @win_first: the open window (a begin without its commit), chunk-relative
 * @win_count: pages in the open window; 0 when no window is open
 * @win_shared: the state the open window converts to
 */
struct sd_guest_chunk {
	__u32 seq;
	__u32 nr_shared;
	struct sd_lock lock;
	__u32 win_first;
	__u32 win_count;
	__u32 win_shared;
};

/**
 * struct sd_guest - a table this guest keeps
 * @g: the table's geometry
 * @table: the shared table: written, never read
 * @table_gpa: its guest-physical address
 * @chunks: private state, @g.nr_chunks entries
 * @shadow: a private copy of the bitmap
 * @descs: @table + desc_offset (derived once at init, for the hot path)
 * @bitmap: @table + bitmap_offset (derived once at init)
 * @self_lo: the first span-relative page of the table itself
 * @self_hi: the page after the table's last
 * @reg_value: the value the host may hold for this table, 0 if it
 *	certainly holds none: set by a registration the host accepted, and by
 *	any answer that is not a clean refusal; cleared by an accepted
 *	unregistration, and by sd_guest_resize() for the table the host no
 *	longer reads
 *
 * All of it is private memory except what @table points to.
 */
struct sd_guest {
	struct sd_geom g;
	__u8 *table;
	sd_gpa_t table_gpa;
	struct sd_guest_chunk *chunks;
	__u64 *shadow;
	struct sd_chunk_desc *descs;
	__u64 *bitmap;
	__u64 self_lo, self_hi;
	__u64 reg_value;
};

/**
 * sd_guest_table_bytes() - the size of the shared table a span needs
 * @first_gfn: the span's first frame
 * @nr_gfns: frames in the span
 * @pages_per_chunk: a power of two from SD_MIN_CHUNK_PAGES to SD_MAX_CHUNK_PAGES
 *
 * Return: bytes (a whole number of pages), or 0 if the span is invalid.
 */
__u64 sd_guest_table_bytes(sd_gfn_t first_gfn, __u64 nr_gfns, __u32 pages_per_chunk);

/**
 * sd_guest_priv_bytes() - the size of the private area a span needs
 * @first_gfn: the span's first frame
 * @nr_gfns: frames in the span
 * @pages_per_chunk: as for sd_guest_table_bytes()
 *
 * Return: bytes, or 0 if the span is invalid.
 */
__u64 sd_guest_priv_bytes(sd_gfn_t first_gfn, __u64 nr_gfns, __u32 pages_per_chunk);

/**
 * sd_guest_init() - initialise a table for a span (SPEC.md 2.6)
 * @g: the state to initialise
 * @first_gfn: the span's first frame
 * @nr_gfns: frames in the span
 * @pages_per_chunk: as for sd_guest_table_bytes()
 * @table_va: the table, mapped here (8-byte aligned), already converted to
 *	shared
 * @table_gpa: the table's guest-physical address (page-aligned)
 * @table_bytes: its size, at least sd_guest_table_bytes()
 * @priv: the private area, 8-byte aligned
 * @priv_bytes: its size, at least sd_guest_priv_bytes()
 *
 * Afterwards the table's own pages are shared and every other page is
 * private.
 *
 * Return: 0; -SD_ERR_GEOM_* for an invalid span, -SD_ERR_NOSPACE for a
 * buffer too small, -SD_ERR_INVAL for a NULL or misaligned pointer or an
 * unaligned @table_gpa,
 * -SD_ERR_TABLE_PLACEMENT when the table lies outside the span.
 */
int sd_guest_init(struct sd_guest *g, sd_gfn_t first_gfn, __u64 nr_gfns, __u32 pages_per_chunk,
		  void *table_va, sd_gpa_t table_gpa, __u64 table_bytes,
		  void *priv, __u64 priv_bytes);

/**
 * sd_guest_begin() - open the update windows for a conversion
 * @g: the table
 * @gfn: the first page to convert
 * @npages: pages to convert
 * @shared: the state they convert to
 *
 * SPEC.md 2.1 steps 1-3 on every chunk [@gfn, @gfn + @npages) touches,
 * chunk locks taken in ascending order and held. The caller converts the
 * pages, then calls sd_guest_commit() with the same arguments.
 *
 * Return: 0; or, with nothing opened, -SD_ERR_EMPTY_RANGE, -SD_ERR_RANGE,
 * or -SD_ERR_TABLE_NOT_SHARED for a request that includes one of the
 * table's own pages (they stay shared, and no window may cover them:
 * SPEC.md 1.6).
 */
int sd_guest_begin(struct sd_guest *g, sd_gfn_t gfn, __u64 npages, bool shared);

/**
 * sd_guest_commit() - close the windows sd_guest_begin() opened
 * @g: the table
 * @gfn: as given to sd_guest_begin()
 * @npages: as given to sd_guest_begin()
 * @shared: as given to sd_guest_begin()
 *
 * SPEC.md 2.1 steps 4-6, releasing the chunk locks.
 *
 * Return: 0; -SD_ERR_BUSY if the arguments do not match an open begin on
 * every chunk (nothing changed: the windows stay open and their chunk
 * locks held); -SD_ERR_EMPTY_RANGE, -SD_ERR_RANGE or
 * -SD_ERR_TABLE_NOT_SHARED as for sd_guest_begin().
 */
int sd_guest_commit(struct sd_guest *g, sd_gfn_t gfn, __u64 npages, bool shared);

/**
 * sd_guest_set() - record pages' state with no conversion in between
 * @g: the table
 * @gfn: the first page
 * @npages: pages
 * @shared: their state
 *
 * A begin and a commit on each chunk in turn, for pages whose state changes
 * with no conversion to bracket (initial state, tests).
 *
 * Return: as sd_guest_begin().
 */
int sd_guest_set(struct sd_guest *g, sd_gfn_t gfn, __u64 npages, bool shared);

/**
 * sd_guest_is_shared() - whether a page is shared, from private state
 * @g: the table
 * @gfn: the page
 *
 * Takes the chunk's lock: not for a page inside a window the caller holds
 * open.
 *
 * Return: 1 shared, 0 private, -SD_ERR_RANGE outside the span.
 */
int sd_guest_is_shared(struct sd_guest *g, sd_gfn_t gfn);

/**
 * sd_guest_copy_state() - copy page states from one table into another
 * @to: the table written (all of it is rewritten)
 * @from: the table read, from its private state
 *
 * SPEC.md 5.6 step 4: pages both spans cover take @from's state, pages only
 * @to covers are private, @to's own pages are shared. The caller excludes
 * every writer of both tables.
 */
void sd_guest_copy_state(struct sd_guest *to, const struct sd_guest *from);

/* ---- registration (SPEC.md 5) -------------------------------------------- */

/**
 * struct sd_transport_ops - the instructions behind the transports
 * @cpuid: execute CPUID @leaf (subleaf 0); @regs gets eax, ebx, ecx, edx
 * @wrmsr: write @val to @msr; 0, or -1 on #GP
 * @rdmsr: read @msr into *@val; 0, or -1 on #GP
 * @hypercall: VMMCALL/VMCALL number @nr with @a0..@a3; returns RAX
 *
 * The environment supplies them: a kernel wires @wrmsr and @rdmsr to its
 * fault-safe MSR accessors (a #GP must come back as -1, not crash), and
 * @cpuid and @hypercall to the instructions (guest/x86.h has inline
 * versions). Each gets the transport's ctx first.
 */
struct sd_transport_ops {
	void (*cpuid)(void *ctx, __u32 leaf, __u32 regs[4]);
	int (*wrmsr)(void *ctx, __u32 msr, __u64 val);
	int (*rdmsr)(void *ctx, __u32 msr, __u64 *val);
	__s64 (*hypercall)(void *ctx, __u64 nr, __u64 a0, __u64 a1, __u64 a2, __u64 a3);
};

/**
 * enum sd_transport_kind - how the guest registers (SPEC.md 5.4)
 * @SD_TRANSPORT_NONE: the host supports neither
 * @SD_TRANSPORT_MSR: the registration MSR
 * @SD_TRANSPORT_HC: the hypercall
 */
enum sd_transport_kind {
	SD_TRANSPORT_NONE = 0,
	SD_TRANSPORT_MSR,
	SD_TRANSPORT_HC,
};

/**
 * struct sd_transport - a registration transport
 * @ops: the instructions
 * @ctx: the environment's, passed to every op
 * @kind: set by sd_transport_probe()
 */
struct sd_transport {
	const struct sd_transport_ops *ops;
	void *ctx;
	enum sd_transport_kind kind;
};

/**
 * sd_transport_probe() - discover the transport from CPUID (SPEC.md 5.4)
 * @t: the transport; @t->ops and @t->ctx set, @t->kind is written
 *
 * The hypercall if advertised, else the MSR.
 *
 * Return: 0, or -SD_ERR_UNSUPPORTED when the host advertises neither (a
 * normal outcome: the table can still be kept, and registered later).
 */
int sd_transport_probe(struct sd_transport *t);

/**
 * sd_guest_register() - register a table (value = GPA | enable)
 * @g: the table
 * @t: a probed transport
 *
 * Only 0 and a reason from SPEC.md 5.4's list are clean answers. After any
 * other (-SD_ERR_BAD_ANSWER, -SD_ERR_TRANSPORT) the host may have taken
 * the value, so @g->reg_value is set as for a success: the table must not
 * be freed until sd_guest_unregister() succeeds
 * (sd_guest_may_be_registered()).
 *
 * Return: 0; -SD_ERR_UNSUPPORTED; the host's reason (an error from SPEC.md
 * 5.4's list); -SD_ERR_TRANSPORT; or -SD_ERR_BAD_ANSWER when the host's
 * answer makes no sense.
 */
int sd_guest_register(struct sd_guest *g, const struct sd_transport *t);

/**
 * sd_guest_register_fresh() - the first registration after boot
 * @g: the table
 * @t: a probed transport
 *
 * Writes 0, which drops whatever a previous kernel registered and could
 * not unregister (a crash kexec, SPEC.md 5.7), then registers @g. Not for a
 * replacement (sd_guest_resize() switches tables with one write).
 *
 * Return: the 0's error as it is when that write fails, and @g is then not
 * registered (after an answer that is not clean, the host may still hold
 * the previous kernel's table); otherwise as sd_guest_register().
 */
int sd_guest_register_fresh(struct sd_guest *g, const struct sd_transport *t);

/**
 * sd_guest_unregister() - unregister (value 0)
 * @g: the table
 * @t: a probed transport
 *
 * @g->reg_value becomes 0 only when the host accepts: after a refusal or a
 * nonsense answer it may still read the table.
 *
 * Return: as sd_guest_register().
 */
int sd_guest_unregister(struct sd_guest *g, const struct sd_transport *t);

/**
 * sd_guest_may_be_registered() - whether the host may read a table
 * @g: the table
 *
 * Return: true if the host may still read @g's table, which must then not
 * be freed (SPEC.md 5.7).
 */
static inline bool sd_guest_may_be_registered(const struct sd_guest *g)
{
	return g->reg_value != 0;
}

/**
 * sd_guest_resize() - replace the registered table (SPEC.md 5.6 steps 4-5)
 * @from: the registered table
 * @to: the new one, already initialised for the new span (typically larger)
 * @t: a probed transport
 *
 * Copies @from's state into @to, then registers @to. On success @to is the
 * registered table and @from may be released; on a clean refusal @from
 * stays registered and untouched. After an answer that is not clean,
 * @from is registered again to settle which table the host reads: if that
 * succeeds, @to is not registered (its reg_value is 0) and @from is; if
 * not, both may be, and neither may be freed before an accepted
 * sd_guest_unregister(). The caller excludes every writer of @from for the
 * duration (step 3) and converts @from's pages back afterwards (step 7).
 *
 * Return: as sd_guest_register().
 */
int sd_guest_resize(struct sd_guest *from, struct sd_guest *to, const struct sd_transport *t);

#ifdef __cplusplus
}
#endif

#endif /* SD_GUEST_H */
