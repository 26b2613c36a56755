/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_host.h - the host side: accept a registration, read the table.
 *
 * Freestanding: usable in KVM or in a VMM. No allocation, no libc. Every
 * byte read from guest memory is guest-controlled (SPEC.md 8.1):
 *   - addresses and lengths come only from the private geometry copied and
 *     validated at registration (struct sd_host_reg), never from the table;
 *   - chunk contents are used only from a private copy taken under the read
 *     rule (SPEC.md 3.1) and validated (SPEC.md 4.2/4.3);
 *   - every call is bounded: at most max_attempts copies of one chunk per
 *     chunk, and nr_chunks chunks per walk. struct sd_host_stats counts the
 *     work so tests can assert the bound.
 *
 * Synchronization table:
 *
 *   operation                        concurrent with                   requires
 *   sd_host_register/unregister      guest writers; host readers of    caller serialises registrations
 *     (writes *reg)                  a *different* sd_host_reg         and publishes *reg (e.g. RCU)
 *   sd_host_read_chunk, sd_host_walk,guest writers; other host readers nothing: *reg is read-only here
 *     sd_host_walk_changes             of the same *reg
 *   sd_host_walk_changes (*incr)     -                                 one caller per sd_host_incr
 */
#ifndef SD_HOST_H
#define SD_HOST_H

#include "sev_donate.h"
#include "sd_types.h"
#include "layout.h"
#include "validate.h"

/*
 * Guest memory, as the caller reaches it. map() returns a pointer through
 * which [gpa, gpa + len) can be read for the rest of the current sd_host_*
 * call, or NULL with *err set to -SD_ERR_MEM_UNBACKED, -SD_ERR_MEM_MMIO,
 * -SD_ERR_MEM_SPLIT or -SD_ERR_MEM_FAULT (SPEC.md 4.4). The memory behind the pointer may change at any time
 * (the guest runs); host/ loads it only with SD_READ_ONCE, one field or one
 * word at a time. A KVM implementation maps the memslot's userspace range;
 * a VMM returns its own mapping of guest RAM; a file image, its mmap.
 */
struct sd_host_mem {
	const void *(*map)(void *ctx, sd_gpa_t gpa, u64 len, int *err);
	void *ctx;
};

/* Fixed host configuration for one VM. */
struct sd_host_cfg {
	struct sd_limits lim;	/* RAM span, GFN limit, max table bytes */
	u32 phys_bits;		/* the guest's MAXPHYADDR */
	u32 max_attempts;	/* per chunk, live reads (>= 1) */
};

/* Hypercall arguments (SPEC.md 5.2); NULL for the MSR transport. */
struct sd_hc_args {
	u64 size;		/* a1: table size, 0 = no cross-check */
	u64 abi_major;		/* a2: ABI major, 0 = no cross-check */
	u64 reserved;		/* a3: must be 0 */
};

/* The registration: O(1) state, a private copy of everything the host uses. */
struct sd_host_reg {
	bool active;
	u64 value;		/* the registration value as written */
	sd_gpa_t gpa;
	struct sd_geom geom;	/* validated copy: the only source of offsets and sizes */
	struct sd_table_header hdr;	/* the header as copied, for sd_host_check_header() */
	u64 generation;		/* +1 on every successful register or unregister */
};

/*
 * Work counters; every sd_host_* call that reads adds to them (none is
 * reset). A NULL pointer is allowed wherever one is taken.
 */
struct sd_host_stats {
	u64 chunks;		/* chunks read (settled or not) */
	u64 summary_chunks;	/* of those, read without their bitmap (SPEC.md 3.2) */
	u64 attempts;		/* copy attempts (>= chunks) */
	u64 retries;		/* attempts that failed: count odd, or changed during the copy */
	u64 bytes;		/* bytes loaded from guest memory */
	u64 unsettled;		/* chunks that ended in SD_ERR_CHUNK_ODD / _RETRIES */
};

/* Read flags. */
#define SD_READ_PAUSED		(1u << 0)	/* vCPUs stopped: one attempt, odd chunks decided (3.4) */
#define SD_READ_STRICT		(1u << 1)	/* read every bitmap, no summary reads (3.2) */
#define SD_READ_UNSETTLED_OK	(1u << 2)	/* live walks: report chunks that don't settle, go on */

/*
 * Handle a registration value (SPEC.md 5.5). On success *reg is replaced
 * (generation + 1); on failure *reg is untouched and the error says why.
 * Value 0 unregisters. Reads at most one header, and of each chunk holding
 * the table's own pages its count (and pending range) and the bitmap words
 * covering table pages: table_size / 32768 bytes of bits in all, so no
 * scratch is needed. Step 6 uses the live read rule, cfg->max_attempts
 * attempts per chunk.
 */
int sd_host_register(struct sd_host_reg *reg, const struct sd_host_cfg *cfg,
		     const struct sd_host_mem *mem, u64 value,
		     const struct sd_hc_args *hc, struct sd_host_stats *st,
		     struct sd_errloc *loc);

/*
 * The same, with read flags for step 6. Only SD_READ_PAUSED has an effect:
 * a host validating a registration while the vCPUs are stopped (a migration
 * destination, SPEC.md 7.4; an image of a stopped guest) decides odd chunks
 * holding table pages as a paused read does (SPEC.md 3.4, checks 4.3.1 and
 * 4.3.2 on the pending range) instead of waiting for a writer that cannot
 * run. sd_host_register() is this with flags 0.
 */
int sd_host_register_flags(struct sd_host_reg *reg, const struct sd_host_cfg *cfg,
			   const struct sd_host_mem *mem, u64 value,
			   const struct sd_hc_args *hc, u32 flags,
			   struct sd_host_stats *st, struct sd_errloc *loc);

/* Drop the registration (value 0, VM reset). */
void sd_host_unregister(struct sd_host_reg *reg);

/* Re-read the header and compare it with the registered copy: 0 or -SD_ERR_HDR_CHANGED. */
int sd_host_check_header(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			 struct sd_errloc *loc);

/* Scratch for one chunk: a caller-provided array of at least this many u64. */
#define SD_HOST_SCRATCH_WORDS	(SD_MAX_CHUNK_PAGES / 64)

/* One chunk as read. */
struct sd_host_chunk {
	struct sd_chunk_view v;	/* seq, nr_shared, pages, pending range */
	bool summary;		/* bitmap not read: uniform (nr_shared 0 or == pages) */
	const u64 *bits;	/* the scratch copy (words_per_chunk words), or NULL if summary */
};

/*
 * Read chunk @idx under the read rule with at most @max_attempts attempts
 * (1 when SD_READ_PAUSED). Returns 0, -SD_ERR_CHUNK_ODD / -SD_ERR_CHUNK_RETRIES
 * (unsettled), a validation error, or a memory error; -SD_ERR_NO_TABLE
 * without a registration, -SD_ERR_INVAL for a bad index or argument.
 */
int sd_host_read_chunk(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		       u64 idx, u32 flags, u32 max_attempts, u64 *scratch,
		       struct sd_host_chunk *out, struct sd_host_stats *st,
		       struct sd_errloc *loc);

/* A page's verdict. */
enum sd_page_state {
	SD_PAGE_PRIVATE = 0,
	SD_PAGE_SHARED = 1,
	SD_PAGE_TRANSITION = 2,	/* paused reads: inside a pending range */
	SD_PAGE_UNSETTLED = 3,	/* live reads with SD_READ_UNSETTLED_OK: chunk didn't settle */
};

/*
 * Walk callback: a maximal run of pages with one verdict. A non-zero return
 * stops the walk, and the walk returns that value. Every walk accepts a
 * NULL @fn (read and validate, report nothing). When a walk fails, the runs
 * already reported are a prefix of what a successful walk would report,
 * except that the last run may have been cut short.
 */
typedef int (*sd_extent_fn)(void *ctx, sd_gfn_t gfn, u64 npages, enum sd_page_state state);

/*
 * Whole-table walk: every run of SHARED, TRANSITION and UNSETTLED pages,
 * in GFN order, merged across chunk boundaries. Private pages are not
 * reported. Builds no list: O(1) state besides @scratch.
 */
int sd_host_walk(const struct sd_host_reg *reg, const struct sd_host_mem *mem, u32 flags,
		 u32 max_attempts, u64 *scratch, sd_extent_fn fn, void *ctx,
		 struct sd_host_stats *st, struct sd_errloc *loc);

/*
 * Incremental state: what the caller last accepted, sized from the
 * registration's geometry (sd_host_incr_seq_entries/_bit_words), never
 * from guest behaviour.
 *
 * incr->bits holds, for every page, the last *settled* state read (1 =
 * shared). incr->seqs holds the count read with it, or an odd value when
 * the chunk was not read settled (unsettled, or odd in a paused read): an
 * odd entry never counts as "unchanged", so the next walk re-reads that
 * chunk and reports every page whose settled state then differs.
 */
struct sd_host_incr {
	u64 nr_chunks;		/* must equal reg->geom.nr_chunks */
	u32 *seqs;		/* nr_chunks: seq last accepted per chunk */
	u64 *bits;		/* nr_chunks * words_per_chunk: states last accepted */
	u64 generation;		/* reg->generation these belong to */
};

/* u32 entries for seqs and u64 words for bits that @reg's geometry needs. */
static inline u64 sd_host_incr_seq_entries(const struct sd_host_reg *reg)
{
	return reg->geom.nr_chunks;
}
static inline u64 sd_host_incr_bit_words(const struct sd_host_reg *reg)
{
	return reg->geom.nr_chunks * reg->geom.words_per_chunk;
}

/*
 * Fill @incr with a full read (like sd_host_walk, reporting the same runs).
 * The caller sets incr->nr_chunks, ->seqs and ->bits; this sets everything
 * they point to and ->generation. Unsettled chunks (SD_READ_UNSETTLED_OK)
 * get seq 1 and private bits; pages in transition (paused) get private bits
 * and their chunk keeps its odd count: either way the next
 * sd_host_walk_changes() re-reads the chunk.
 */
int sd_host_incr_init(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		      struct sd_host_incr *incr, u32 flags, u32 max_attempts, u64 *scratch,
		      sd_extent_fn fn, void *ctx, struct sd_host_stats *st,
		      struct sd_errloc *loc);

/*
 * Incremental walk: load each chunk's seq once; read only chunks whose seq
 * differs from incr->seqs (or whose entry is odd); report, through @fn,
 * exactly the runs of pages whose state differs from incr->bits (with their
 * new state: SHARED, PRIVATE, TRANSITION, or UNSETTLED for a whole chunk
 * that didn't settle), merged across chunk boundaries, and through
 * @chunk_fn (may be NULL) each re-read chunk's index with the entry it had
 * and the count just loaded. chunk_fn(idx) comes before any run starting in
 * chunk idx; a run reaching into chunk idx from earlier may come after it.
 * Pages in transition are always reported (TRANSITION) and keep their old
 * bits; an unsettled chunk keeps its old bits. Updates @incr for every
 * chunk it read. -SD_ERR_INVAL if @incr does not belong to @reg's
 * generation or geometry. An unchanged chunk costs one 4-byte load.
 */
typedef int (*sd_chunk_fn)(void *ctx, u64 idx, u32 old_seq, u32 new_seq);
int sd_host_walk_changes(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			 struct sd_host_incr *incr, u32 flags, u32 max_attempts,
			 u64 *scratch, sd_extent_fn fn, sd_chunk_fn chunk_fn, void *ctx,
			 struct sd_host_stats *st, struct sd_errloc *loc);

#endif /* SD_HOST_H */
