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
 *     chunk (and, in a live whole-table walk, one probe of its count and
 *     nr_shared before them: SPEC.md 3.1), and nr_chunks chunks per walk.
 *     struct sd_host_stats counts the work so tests can assert the bound;
 *   - every access to guest memory may fail (struct sd_host_mem): a failure
 *     ends the call with its SD_ERR_MEM_* error and leaves the caller's
 *     state as the call's description says (unchanged, or consistent).
 *
 * Synchronization table:
 *
 *   operation                      concurrent with              requires
 *   sd_host_register, _unregister  guest writers; host readers  caller serialises registrations
 *     (write *reg)                 of a *different* *reg        and publishes *reg (e.g. RCU)
 *   sd_host_read_chunk, _walk,     guest writers; other host    nothing: *reg is read-only
 *     _incr_init, _walk_changes,   readers of the same *reg     here
 *     _check_header
 *   sd_host_incr_init,             -                            one caller per sd_host_incr
 *     _walk_changes (write *incr)
 *
 * Options. A call that may grow takes a const pointer to an options struct
 * whose first member is its size, as libbpf's are. Declare one with
 * SD_HOST_OPTS(), which zero-fills it and sets @sz:
 *
 *	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = SD_READ_PAUSED, .fn = fn, .ctx = ctx);
 *	rc = sd_host_walk(reg, mem, scratch, &o);
 *
 * Every field's zero value is its documented default, and a NULL pointer
 * means all defaults. A caller built against an older, shorter struct keeps
 * working (the fields it does not have read as zero); one built against a
 * newer struct works as long as the fields this library does not know are
 * zero. A size smaller than @sz itself (an options struct not declared
 * with SD_HOST_OPTS), or non-zero unknown fields, is -SD_ERR_INVAL, and
 * then nothing is written through the struct's pointers.
 *
 * Errors are negative SD_ERR_* numbers (include/sev_donate.h); when a call
 * fails and its options carry an @loc, *@loc says where (the chunk and the
 * table byte offset, or SD_LOC_NONE).
 */
#ifndef SD_HOST_H
#define SD_HOST_H

#include "sev_donate.h"
#include "sd_api_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__cplusplus) && defined(__GNUC__)
/*
 * C++20's designated initialisers zero the fields not named too, but g++
 * -Wextra warns about each of them; the fields left out are the point. (The
 * caller's own semicolon after SD_HOST_OPTS is then an empty statement.)
 */
#define SD_HOST_OPTS_BEGIN_							\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")
#define SD_HOST_OPTS_END_	; _Pragma("GCC diagnostic pop")
#else
#define SD_HOST_OPTS_BEGIN_
#define SD_HOST_OPTS_END_
#endif

/**
 * SD_HOST_OPTS - declare an options struct: zero-filled, @sz set
 * @type: the struct's tag, e.g. sd_host_walk_opts
 * @name: the variable to declare
 * @...: designated initialisers of the fields to set
 */
#define SD_HOST_OPTS(type, name, ...)						\
	SD_HOST_OPTS_BEGIN_							\
	struct type name = { .sz = sizeof(struct type), __VA_ARGS__ }		\
	SD_HOST_OPTS_END_

/**
 * struct sd_host_mem - guest memory, as the caller reaches it
 * @map: zero-copy access, for callers that have guest memory mapped (a
 *	VMM's mapping of guest RAM, an mmap'd image). Return a pointer
 *	through which [@gpa, @gpa + @len) can be read until the current
 *	sd_host_* call returns, or NULL with *@err set to -SD_ERR_MEM_UNBACKED,
 *	-SD_ERR_MEM_MMIO, -SD_ERR_MEM_SPLIT or -SD_ERR_MEM_FAULT (any other
 *	value is taken as -SD_ERR_MEM_UNBACKED). The memory behind the pointer
 *	may change at any time (the guest runs); host/ loads it with
 *	single-copy-atomic loads (SD_READ_ONCE), one field or one word at a
 *	time, and those loads must not fault. One map() per call covers the
 *	whole table.
 * @ctx: the caller's, passed to @map and @copy.
 * @copy: copying access, for callers whose every access may fail (in a
 *	kernel: kvm_read_guest(), copy_from_user()). Copy [@gpa, @gpa + @len)
 *	into @dst and return 0, or return -SD_ERR_MEM_UNBACKED, -SD_ERR_MEM_MMIO,
 *	-SD_ERR_MEM_SPLIT or -SD_ERR_MEM_FAULT; any other non-zero value (an
 *	-EFAULT, copy_from_user()'s count of bytes not copied) is taken as
 *	-SD_ERR_MEM_FAULT. A copy of 4 bytes at a 4-byte aligned @gpa must be
 *	one single-copy-atomic load (get_user() in a kernel): it is how a
 *	chunk's count is loaded (SPEC.md 3.1). Longer copies may be made of
 *	any loads: what they copy is confirmed by the count afterwards, and
 *	validated. With @dst NULL, only check that the range is guest RAM
 *	the copy could reach, without reading it (registration step 5, SPEC.md
 *	5.5). host/ copies every field it uses exactly once, into its own
 *	memory, so no value is fetched twice. Used when @map is NULL.
 *
 * Exactly one of @map and @copy is needed; with both set, @map is used.
 * With neither, every call is -SD_ERR_INVAL. In the user-space build,
 * @map is the fast path: a quiet incremental pass over a 1 TiB table is a
 * loop of 4-byte loads; through @copy it is one copy() call per chunk.
 */
struct sd_host_mem {
	const void *(*map)(void *ctx, sd_gpa_t gpa, __u64 len, int *err);
	void *ctx;
	int (*copy)(void *ctx, void *dst, sd_gpa_t gpa, __u64 len);
};

/**
 * struct sd_host_flat - guest memory held in one flat buffer
 * @base: the buffer, readable for @bytes bytes
 * @gpa: the guest-physical address of @base[0]
 * @bytes: the buffer's length
 *
 * For a VMM whose guest RAM (or the part of it a table may use) is one
 * mapping, an mmap'd RAM image, or a table copied out of the guest.
 */
struct sd_host_flat {
	const void *base;
	sd_gpa_t gpa;
	__u64 bytes;
};

/**
 * sd_host_mem_flat() - an accessor over a flat buffer
 * @flat: the buffer; must outlive the returned accessor, which reads
 *	*@flat on every call (a change to it applies from the next call)
 *
 * The accessor's map() hands out pointers into @flat->base for ranges
 * wholly inside [@flat->gpa, @flat->gpa + @flat->bytes) and answers
 * -SD_ERR_MEM_UNBACKED for any other (and for every range when
 * @flat->base is NULL), checked so that no sum can wrap however hostile
 * the table's sizes and offsets are.
 *
 * Return: a struct sd_host_mem whose @ctx is @flat.
 */
struct sd_host_mem sd_host_mem_flat(struct sd_host_flat *flat);

/* Attempts per chunk a live read makes when its options leave max_attempts 0. */
#define SD_HOST_DEFAULT_ATTEMPTS	16

/**
 * struct sd_host_cfg - fixed host configuration for one VM
 * @lim: what the host knows of the guest (RAM span, GFN limit, the host's
 *	bound on table_size): SPEC.md 4.1's limits
 * @phys_bits: the guest's MAXPHYADDR (registration values above it are
 *	SD_ERR_REG_GPA)
 * @max_attempts: copies per chunk a live registration makes of each chunk
 *	holding table pages (SPEC.md 5.5 step 6); 0 is SD_HOST_DEFAULT_ATTEMPTS
 *
 * This struct is frozen: settings added later go into
 * struct sd_host_register_opts.
 */
struct sd_host_cfg {
	struct sd_limits lim;
	__u32 phys_bits;
	__u32 max_attempts;
};

/**
 * struct sd_hc_args - the hypercall's arguments (SPEC.md 5.2)
 * @size: a1, the table size; 0 = no cross-check
 * @abi_major: a2, the ABI major; 0 = no cross-check
 * @reserved: a3, must be 0 (else SD_ERR_REG_RESERVED)
 */
struct sd_hc_args {
	__u64 size;
	__u64 abi_major;
	__u64 reserved;
};

/**
 * struct sd_host_reg - a registration: O(1) state, a private copy of
 * everything the host uses
 * @active: a table is registered
 * @value: the registration value as the guest wrote it
 * @gpa: the table's guest-physical address
 * @geom: the validated geometry: the only source of offsets and sizes
 * @hdr: the header as copied at registration, for sd_host_check_header()
 * @generation: +1 on every successful registration or unregistration
 *
 * Written only by sd_host_register() and sd_host_unregister(); a caller
 * may copy it (a snapshot is a registration).
 */
struct sd_host_reg {
	bool active;
	__u64 value;
	sd_gpa_t gpa;
	struct sd_geom geom;
	struct sd_table_header hdr;
	__u64 generation;
};

/**
 * struct sd_host_stats - work counters
 * @chunks: chunks read (settled or not)
 * @summary_chunks: of those, read without their bitmap (SPEC.md 3.2)
 * @attempts: copy attempts (>= @chunks)
 * @retries: attempts that failed: count odd, or changed during the copy
 * @bytes: bytes loaded from guest memory, a probe's included (a live
 *	whole-table walk through map() loads the counts and nr_shared of 8
 *	chunks at once first; a probe that does not pass them all as private
 *	counts here only, not in @attempts or @retries)
 * @unsettled: chunks that ended in SD_ERR_CHUNK_ODD or SD_ERR_CHUNK_RETRIES
 *
 * Every call that reads adds its work to the counters it is given (none is
 * reset), also when it fails.
 */
struct sd_host_stats {
	__u64 chunks;
	__u64 summary_chunks;
	__u64 attempts;
	__u64 retries;
	__u64 bytes;
	__u64 unsettled;
};

/*
 * Read flags (the @flags of the options structs):
 *   SD_READ_PAUSED        vCPUs stopped: one attempt, odd chunks decided (SPEC.md 3.4)
 *   SD_READ_STRICT        read every bitmap, no summary reads (3.2)
 *   SD_READ_UNSETTLED_OK  live walks: report chunks that don't settle, and go on
 */
#define SD_READ_PAUSED		(1u << 0)
#define SD_READ_STRICT		(1u << 1)
#define SD_READ_UNSETTLED_OK	(1u << 2)
#define SD_READ_KNOWN		(SD_READ_PAUSED | SD_READ_STRICT | SD_READ_UNSETTLED_OK)

/**
 * struct sd_host_register_opts - options of sd_host_register()
 * @sz: sizeof(struct sd_host_register_opts), set by SD_HOST_OPTS()
 * @flags: 0 or SD_READ_PAUSED (anything else is -SD_ERR_INVAL). PAUSED is
 *	for a host validating a registration while the vCPUs are stopped (a
 *	migration destination, SPEC.md 7.4; an image of a stopped guest): odd
 *	chunks holding table pages are decided as a paused read decides them
 *	(SPEC.md 3.4, checks 4.3.1 and 4.3.2 on the pending range) instead of
 *	waiting for a writer that cannot run. Default: a live registration.
 * @reserved: must be 0 (a field a later version may define)
 * @hc: the hypercall's arguments; NULL (default) for the MSR transport
 * @stats: counters to add this call's work to; NULL for none
 * @loc: where the registration failed; NULL for no location
 */
struct sd_host_register_opts {
	size_t sz;
	__u32 flags;
	__u32 reserved;
	const struct sd_hc_args *hc;
	struct sd_host_stats *stats;
	struct sd_errloc *loc;
};

/**
 * sd_host_register() - handle a registration value (SPEC.md 5.5)
 * @reg: the VM's registration; replaced on success (generation + 1), left
 *	untouched on failure
 * @cfg: the VM's fixed configuration
 * @mem: guest memory
 * @value: the value the guest wrote; 0 unregisters
 * @opts: options (NULL: a live MSR registration, no stats, no location)
 *
 * Reachable by a hostile guest, as often as it likes. Reads at most one
 * header, and of each chunk holding the table's own pages its count (and
 * pending range) and the bitmap words covering table pages: table_size /
 * 32768 bytes of bits per attempt in all, cfg->max_attempts attempts per
 * chunk (one when paused). Needs no scratch.
 *
 * Return: 0; -SD_ERR_REG_* for the value or the hypercall's arguments;
 * -SD_ERR_MEM_* when guest memory cannot be read (any access may fail);
 * the header, geometry and table errors of SPEC.md 4.1 and 4.2.3; a 4.5
 * error when a table chunk does not settle; -SD_ERR_INVAL for a bad
 * argument or options struct.
 */
int sd_host_register(struct sd_host_reg *reg, const struct sd_host_cfg *cfg,
		     const struct sd_host_mem *mem, __u64 value,
		     const struct sd_host_register_opts *opts);

/**
 * sd_host_unregister() - drop the registration (value 0, VM reset)
 * @reg: the VM's registration; becomes inactive, generation + 1
 */
void sd_host_unregister(struct sd_host_reg *reg);

/**
 * sd_host_check_header() - compare the header in guest memory with the copy
 * taken at registration
 * @reg: the registration
 * @mem: guest memory
 * @loc: where the headers differ (the first changed field's offset); may be
 *	NULL
 *
 * The header is copied once and compared, never used.
 *
 * Return: 0, -SD_ERR_HDR_CHANGED, -SD_ERR_MEM_*, -SD_ERR_NO_TABLE without a
 * registration, -SD_ERR_INVAL for a bad argument.
 */
int sd_host_check_header(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			 struct sd_errloc *loc);

/* Scratch for one chunk: a caller-provided array of at least this many __u64 (4 KiB). */
#define SD_HOST_SCRATCH_WORDS	(SD_MAX_CHUNK_PAGES / 64)

/**
 * struct sd_host_chunk - one chunk as read
 * @v: seq, nr_shared, pages, pending range, from the validated copy
 * @summary: the bitmap was not read: the chunk is uniform (nr_shared 0 or
 *	equal to its pages), SPEC.md 3.2
 * @bits: the validated copy of the bitmap (words_per_chunk words of the
 *	caller's scratch), or NULL for a summary read
 */
struct sd_host_chunk {
	struct sd_chunk_view v;
	bool summary;
	const __u64 *bits;
};

/**
 * struct sd_host_read_opts - options of sd_host_read_chunk()
 * @sz: sizeof(struct sd_host_read_opts), set by SD_HOST_OPTS()
 * @flags: SD_READ_PAUSED and/or SD_READ_STRICT (SD_READ_UNSETTLED_OK has no
 *	effect on one chunk); unknown bits are -SD_ERR_INVAL. Default: a live,
 *	summary-allowed read.
 * @max_attempts: copies a live read makes at most; 0 (default) is
 *	SD_HOST_DEFAULT_ATTEMPTS. A paused read makes one.
 * @stats: counters to add this call's work to; NULL for none
 * @loc: where the read failed; NULL for no location
 */
struct sd_host_read_opts {
	size_t sz;
	__u32 flags;
	__u32 max_attempts;
	struct sd_host_stats *stats;
	struct sd_errloc *loc;
};

/**
 * sd_host_read_chunk() - read one chunk under the read rule (SPEC.md 3.1)
 * @reg: the registration
 * @mem: guest memory
 * @idx: the chunk, below reg->geom.nr_chunks
 * @scratch: SD_HOST_SCRATCH_WORDS words for the bitmap copy
 * @out: the chunk as read; valid only when 0 is returned
 * @opts: options (NULL: a live read, SD_HOST_DEFAULT_ATTEMPTS attempts)
 *
 * Reachable by a hostile guest through the table's contents; bounded by
 * max_attempts copies of the chunk.
 *
 * Return: 0; -SD_ERR_CHUNK_ODD or -SD_ERR_CHUNK_RETRIES when the chunk did
 * not settle; a SPEC.md 4.2/4.3 error; -SD_ERR_MEM_*; -SD_ERR_NO_TABLE
 * without a registration; -SD_ERR_INVAL for a bad index, argument or
 * options struct.
 */
int sd_host_read_chunk(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		       __u64 idx, __u64 *scratch, struct sd_host_chunk *out,
		       const struct sd_host_read_opts *opts);

/**
 * enum sd_page_state - a page's verdict
 * @SD_PAGE_PRIVATE: encrypted (reported only by incremental walks, for a
 *	page that became private)
 * @SD_PAGE_SHARED: shared with the host
 * @SD_PAGE_TRANSITION: paused reads: inside a pending range
 * @SD_PAGE_UNSETTLED: live reads with SD_READ_UNSETTLED_OK: the chunk did
 *	not settle
 */
enum sd_page_state {
	SD_PAGE_PRIVATE = 0,
	SD_PAGE_SHARED = 1,
	SD_PAGE_TRANSITION = 2,
	SD_PAGE_UNSETTLED = 3,
};

/**
 * typedef sd_extent_fn - walk callback: one maximal run of pages with one
 * verdict
 * @ctx: the options' @ctx
 * @gfn: the run's first page
 * @npages: its length (>= 1)
 * @state: its verdict
 *
 * Return: 0 to go on. Any other value stops the walk, which returns it;
 * the run is then not taken as reported (for sd_host_walk_changes(): it
 * is reported again by the next walk).
 */
typedef int (*sd_extent_fn)(void *ctx, sd_gfn_t gfn, __u64 npages, enum sd_page_state state);

/**
 * typedef sd_chunk_fn - incremental-walk callback: a chunk about to be re-read
 * @ctx: the options' @ctx
 * @idx: the chunk
 * @old_seq: its entry in incr->seqs
 * @new_seq: the count just loaded (compared only, never trusted)
 *
 * Return: 0 to go on; any other value stops the walk, which returns it.
 */
typedef int (*sd_chunk_fn)(void *ctx, __u64 idx, __u32 old_seq, __u32 new_seq);

/**
 * struct sd_host_extent - one run, as a batch reports it
 * @gfn: the run's first page
 * @npages: its length (>= 1)
 */
struct sd_host_extent {
	__u64 gfn;
	__u64 npages;
};

/* The shortest batch sd_host_walk() takes (struct sd_host_walk_opts, @batch_len). */
#define SD_HOST_BATCH_MIN	64

/**
 * typedef sd_batch_fn - batched walk callback: runs that share one verdict
 * @ctx: the options' @ctx
 * @ext: @n runs, in GFN order; they point into the options' @batch and are
 *	valid until the callback returns (the walk then reuses the array)
 * @n: how many (1 to @batch_len); the callback must not start another walk
 *	into the same @batch
 * @state: the verdict of all @n runs
 *
 * The runs are exactly those @fn would be called with, in the same order:
 * each is maximal, merged across chunk boundaries. A batch ends early
 * wherever the verdict changes, so the runs of one call never differ in
 * their verdict.
 *
 * Return: 0 to go on. Any other value stops the walk, which returns it.
 */
typedef int (*sd_batch_fn)(void *ctx, const struct sd_host_extent *ext, __u32 n,
			   enum sd_page_state state);

/**
 * struct sd_host_walk_opts - options of sd_host_walk(), sd_host_incr_init()
 * and sd_host_walk_changes()
 * @sz: sizeof(struct sd_host_walk_opts), set by SD_HOST_OPTS()
 * @flags: SD_READ_* (unknown bits are -SD_ERR_INVAL); default: a live walk
 *	that fails on the first chunk that does not settle
 * @max_attempts: copies a live read makes of each chunk at most; 0
 *	(default) is SD_HOST_DEFAULT_ATTEMPTS. A paused read makes one.
 * @fn: called with every run, in GFN order; NULL (default) reports
 *	nothing: the walk only reads and validates (and, for the incremental
 *	walks, updates @incr)
 * @chunk_fn: sd_host_walk_changes() only (must be NULL for the others):
 *	called for each chunk it re-reads
 * @ctx: passed to @fn, @chunk_fn and @batch_fn
 * @stats: counters to add this call's work to; NULL for none
 * @loc: where the walk failed; NULL for no location
 * @batch_fn: sd_host_walk() only, instead of @fn (setting both, or setting
 *	it for the other walks, is -SD_ERR_INVAL): called with the same runs
 *	as @fn would be, many at a time, gathered in @batch. The fast way to
 *	take a fragmented table: a bitmap chunk's runs are found by a
 *	branch-free scan of its words and written straight into @batch,
 *	where @fn costs a call per run. NULL (default): @fn, if any
 * @batch: the caller's array of @batch_len runs for @batch_fn; its
 *	contents between calls are the walk's
 * @batch_len: entries of @batch, at least SD_HOST_BATCH_MIN when
 *	@batch_fn is set (else -SD_ERR_INVAL); @batch and @batch_len must be
 *	NULL and 0 without @batch_fn. A longer batch means fewer calls
 * @reserved: must be 0 (a field a later version may define)
 *
 * When a walk fails or a callback stops it, the runs already reported are
 * a prefix of what a successful walk would report, except that the last
 * run may have been cut short. (A batched walk that fails on a chunk hands
 * out the runs that ended before it first, so it may have reported one run
 * more than @fn would have been given.)
 */
struct sd_host_walk_opts {
	size_t sz;
	__u32 flags;
	__u32 max_attempts;
	sd_extent_fn fn;
	sd_chunk_fn chunk_fn;
	void *ctx;
	struct sd_host_stats *stats;
	struct sd_errloc *loc;
	sd_batch_fn batch_fn;
	struct sd_host_extent *batch;
	__u32 batch_len;
	__u32 reserved;
};

/**
 * sd_host_walk() - walk the whole table
 * @reg: the registration
 * @mem: guest memory
 * @scratch: SD_HOST_SCRATCH_WORDS words for one chunk's bitmap copy
 * @opts: options (NULL: a live walk that reports nothing)
 *
 * Reports every run of SHARED, TRANSITION and UNSETTLED pages, in GFN
 * order, merged across chunk boundaries; private pages are not reported.
 * The runs go to @fn one at a time, or to @batch_fn many at a time.
 * Builds no list: O(1) state besides @scratch (and the caller's @batch). Reachable by a hostile
 * guest; bounded by nr_chunks chunks of max_attempts copies, and one
 * 12-byte probe per chunk before them (SPEC.md 3.1).
 *
 * Return: 0, what @fn or @batch_fn returned when it stopped the walk, or the first
 * chunk's error as sd_host_read_chunk() returns it (except that with
 * SD_READ_UNSETTLED_OK a chunk that does not settle is reported as an
 * UNSETTLED run instead).
 */
int sd_host_walk(const struct sd_host_reg *reg, const struct sd_host_mem *mem, __u64 *scratch,
		 const struct sd_host_walk_opts *opts);

/**
 * struct sd_host_incr - what an incremental reader last accepted
 * @nr_chunks: must equal reg->geom.nr_chunks
 * @seqs: sd_host_incr_seq_entries() entries: the count last accepted per
 *	chunk
 * @bits: sd_host_incr_bit_words() words: page states last accepted
 *	(1 = shared), one bit per page of the span in order
 * @generation: the registration generation these belong to
 *
 * The caller allocates @seqs and @bits, sized from the registration's
 * geometry, never from guest behaviour, and sets @nr_chunks; the walks
 * set the rest. @bits holds, for every page, the last *settled* state
 * reported; @seqs the count read with it, or an odd value when the chunk
 * was not read settled, or holds a change not yet reported: an odd entry
 * never counts as "unchanged", so the next walk re-reads that chunk and
 * reports every page whose settled state then differs from @bits.
 */
struct sd_host_incr {
	__u64 nr_chunks;
	__u32 *seqs;
	__u64 *bits;
	__u64 generation;
};

/**
 * sd_host_incr_seq_entries() - __u32 entries of incr->seqs @reg's geometry needs
 * @reg: an active registration
 *
 * Return: the number of chunks.
 */
static inline __u64 sd_host_incr_seq_entries(const struct sd_host_reg *reg)
{
	return reg->geom.nr_chunks;
}

/**
 * sd_host_incr_bit_words() - __u64 words of incr->bits @reg's geometry needs
 * @reg: an active registration
 *
 * Return: nr_chunks * words_per_chunk.
 */
static inline __u64 sd_host_incr_bit_words(const struct sd_host_reg *reg)
{
	return reg->geom.nr_chunks * reg->geom.words_per_chunk;
}

/**
 * sd_host_incr_init() - fill @incr with a full read
 * @reg: the registration
 * @mem: guest memory
 * @incr: the incremental state to fill (nr_chunks, seqs and bits set by
 *	the caller); each chunk's bitmap is copied straight into incr->bits,
 *	so no scratch is needed
 * @opts: options, as for sd_host_walk() (chunk_fn must be NULL)
 *
 * Reports the same runs as sd_host_walk(). Unsettled chunks (with
 * SD_READ_UNSETTLED_OK) get an odd seq and private bits; pages in
 * transition (paused) get private bits and their chunk keeps its odd
 * count: either way the next sd_host_walk_changes() re-reads the chunk.
 *
 * Return: as sd_host_walk(), and -SD_ERR_INVAL for a @incr that does not
 * fit @reg. On any failure (a callback's stop included) @incr is left
 * marked as belonging to no generation: sd_host_walk_changes() refuses it
 * until an init succeeds.
 */
int sd_host_incr_init(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		      struct sd_host_incr *incr, const struct sd_host_walk_opts *opts);

/**
 * sd_host_walk_changes() - report what changed since @incr was last updated
 * @reg: the registration @incr belongs to
 * @mem: guest memory
 * @incr: the incremental state, from sd_host_incr_init() of this
 *	registration generation
 * @scratch: SD_HOST_SCRATCH_WORDS words for one chunk's bitmap copy
 * @opts: options (NULL: a live walk that reports nothing and takes every
 *	change into @incr)
 *
 * Loads each chunk's count once; reads only chunks whose count differs
 * from incr->seqs (or whose entry is odd); reports, through @fn, exactly
 * the runs of pages whose state differs from incr->bits, with their new
 * state (SHARED, PRIVATE, TRANSITION, or UNSETTLED for a whole chunk that
 * did not settle), merged across chunk boundaries; and through @chunk_fn
 * each re-read chunk. chunk_fn(idx) comes before any run starting in
 * chunk idx; a run reaching into chunk idx from earlier may come after it.
 * Pages in transition are always reported and keep their old bits; an
 * unsettled chunk keeps its old bits. An unchanged chunk costs one 4-byte
 * load.
 *
 * A change is taken into @incr only once @fn has accepted (returned 0 for)
 * the run holding it; while @fn runs, incr->bits still hold the old states
 * of the run's pages. When the walk stops early (a callback's non-zero
 * return, a chunk's error, a memory fault), @incr stays consistent: the
 * next walk reports every change not accepted yet, the run a callback
 * refused included, and none that was accepted. Without @fn every change
 * read is taken.
 *
 * Return: as sd_host_walk(); -SD_ERR_INVAL if @incr does not belong to
 * @reg's generation or geometry.
 */
int sd_host_walk_changes(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			 struct sd_host_incr *incr, __u64 *scratch,
			 const struct sd_host_walk_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* SD_HOST_H */
