/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * sd_api_types.h - the types the library's interfaces (sd_host.h,
 * sd_guest.h) are made of: typed guest addresses, a table's geometry, the
 * host's limits, an error's location and a chunk as read.
 *
 * Public, installed, and safe to include in another project: it defines
 * only sd_-prefixed names and uses the kernel's __u64-style types (from
 * <linux/types.h>, in a kernel as in user space), never short typedefs
 * like u64, which a consumer may define its own way. Builds as C99 and up,
 * and as C++.
 */
#ifndef SD_API_TYPES_H
#define SD_API_TYPES_H

#include <linux/types.h>
#ifndef __KERNEL__
#include <stddef.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif
#endif

/*
 * Typed addresses, as KVM selftests do: a guest frame number and a guest
 * physical address are never interchangeable.
 */
typedef __u64 sd_gfn_t;
typedef __u64 sd_gpa_t;

/**
 * struct sd_geom - a table's layout (SPEC.md 1.3), from a validated header
 * @first_gfn: first guest frame covered
 * @nr_gfns: frames covered
 * @nr_chunks: ceil(nr_gfns / pages_per_chunk)
 * @desc_offset: table byte offset of the descriptor array
 * @bitmap_offset: table byte offset of the bitmap
 * @table_size: bytes, a multiple of SD_PAGE_SIZE
 * @pages_per_chunk: a power of two in [SD_MIN_CHUNK_PAGES, SD_MAX_CHUNK_PAGES]
 * @chunk_shift: log2(pages_per_chunk)
 * @words_per_chunk: pages_per_chunk / 64
 * @header_size: bytes of header
 *
 * Private to whoever holds it (the guest's authoritative copy, or the
 * host's copy taken at registration): never read from shared memory after
 * it has been validated.
 */
struct sd_geom {
	sd_gfn_t first_gfn;
	__u64 nr_gfns;
	__u64 nr_chunks;
	__u64 desc_offset;
	__u64 bitmap_offset;
	__u64 table_size;
	__u32 pages_per_chunk;
	__u32 chunk_shift;
	__u32 words_per_chunk;
	__u32 header_size;
};

/**
 * struct sd_limits - what the host knows about the guest, independent of
 * anything the guest wrote (SPEC.md 4.1)
 * @ram_first_gfn: lowest frame of guest RAM
 * @ram_end_gfn: one past the highest frame of guest RAM
 * @gfn_limit: a span must end at or below this (<= SD_GFN_LIMIT)
 * @max_table_bytes: the host's bound on table_size
 */
struct sd_limits {
	sd_gfn_t ram_first_gfn;
	sd_gfn_t ram_end_gfn;
	sd_gfn_t gfn_limit;
	__u64 max_table_bytes;
};

/* "No chunk" or "no offset" in a struct sd_errloc. */
#define SD_LOC_NONE	(~0ULL)

/**
 * struct sd_errloc - where a check failed
 * @err: the error, negative SD_ERR_* (what the call returned)
 * @chunk: the chunk, or SD_LOC_NONE
 * @offset: the table byte offset of the field or bitmap word at fault, or
 *	SD_LOC_NONE
 */
struct sd_errloc {
	int err;
	__u64 chunk;
	__u64 offset;
};

/**
 * struct sd_chunk_view - one chunk, as validation accepted it
 * @seq: the count the copy was taken under
 * @nr_shared: the popcount of the copied bits
 * @pages: pages this chunk covers
 * @pending_first: first page of the window (odd chunks, paused reads)
 * @pending_count: pages in the window; 0 when the chunk is stable
 */
struct sd_chunk_view {
	__u32 seq;
	__u32 nr_shared;
	__u32 pages;
	__u32 pending_first;
	__u32 pending_count;
};

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sd_err_name() - the stable name of an error, e.g. "SD_ERR_HDR_MAGIC"
 * @err: an SD_ERR_* number, positive or negative (0: "SD_OK")
 *
 * Return: the name; "SD_ERR_UNKNOWN" for a number sev_donate.h does not define.
 */
const char *sd_err_name(int err);

/**
 * sd_err_desc() - a one-line description of an error, e.g. "bad table magic"
 * @err: an SD_ERR_* number, positive or negative
 *
 * Return: the description; a generic one for an unknown number.
 */
const char *sd_err_desc(int err);

#ifdef __cplusplus
}
#endif

#endif /* SD_API_TYPES_H */
