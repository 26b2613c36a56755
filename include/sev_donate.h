/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * sev_donate.h - the sev-donate ABI: the encryption-status table a guest
 * donates to its host, and the numbers used to register it.
 *
 * This header is the contract. SPEC.md is its normative prose; every
 * struct, constant and error number here appears there with the same
 * value, and the _Static_asserts below pin every size and offset.
 *
 * It builds unchanged in a Linux kernel and in userspace (freestanding or
 * hosted): it needs <linux/types.h> and nothing from libc.
 *
 * Everything in the table is little-endian. The table is only ever used on
 * x86-64 (SEV), which is little-endian, so fields are declared as native
 * fixed-width integers, as kvm_para.h does for pvclock and steal time.
 */
#ifndef SEV_DONATE_H
#define SEV_DONATE_H

#include <linux/types.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sev-donate tables are little-endian; this header assumes a little-endian host"
#endif

/*
 * The layout checks below, in C11 and later, in C++ (which spells it
 * static_assert), and in C99 (which has neither: an array of negative size
 * is a compile error there too).
 */
#if defined(__cplusplus)
#define SD_ABI_ASSERT(cond, msg)	static_assert(cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SD_ABI_ASSERT(cond, msg)	_Static_assert(cond, msg)
#else
#define SD_ABI_ASSERT__(cond, line)	typedef char sd_abi_assert_##line[(cond) ? 1 : -1]
#define SD_ABI_ASSERT_(cond, line)	SD_ABI_ASSERT__(cond, line)
#define SD_ABI_ASSERT(cond, msg)	SD_ABI_ASSERT_(cond, __LINE__)
#endif

/* ------------------------------------------------------------------------
 * ABI identity (SPEC.md section 1.2, 9)
 */
#define SD_MAGIC		0x54414e4f44564553ULL	/* "SEVDONAT" in memory */
#define SD_ABI_MAJOR		1
#define SD_ABI_MINOR		0

/* ------------------------------------------------------------------------
 * Registration numbers (SPEC.md section 5)
 */
/* KVM hypercall: below 64 so KVM_CAP_EXIT_HYPERCALL can forward it. */
#define SD_HC_REGISTER		40
/* Paravirt MSR alias of the hypercall: write = register, read = current value. */
#define SD_MSR_TABLE		0x4b564df0U
/* Read-only paravirt MSR: result of the last registration attempt. */
#define SD_MSR_STATUS		0x4b564df1U
/* CPUID leaf and EAX bits that advertise the two transports. */
#define SD_CPUID_LEAF		0x40000001U
#define SD_CPUID_BIT_MSR	28	/* SD_MSR_TABLE and SD_MSR_STATUS work */
#define SD_CPUID_BIT_HC		29	/* hypercall SD_HC_REGISTER works */

/* The 64-bit registration value: page-aligned table GPA | flags. */
#define SD_REG_ENABLE		0x1ULL
#define SD_REG_FLAGS_MASK	0xfffULL	/* bits 11:1 are reserved, MUST be 0 */
#define SD_REG_GPA_MASK		(~SD_REG_FLAGS_MASK)

/* KVM hypercall return values the guest may see besides 0 and -SD_ERR_*. */
#define SD_KVM_ENOSYS		1000	/* KVM_ENOSYS: hypercall not implemented */

/* ------------------------------------------------------------------------
 * Geometry limits (SPEC.md section 1.3)
 */
#define SD_PAGE_SHIFT		12
#define SD_PAGE_SIZE		(1ULL << SD_PAGE_SHIFT)
#define SD_MIN_CHUNK_PAGES	64		/* one 64-bit bitmap word */
#define SD_MAX_CHUNK_PAGES	32768		/* 4 KiB of bitmap: reader scratch <= 1 page */
#define SD_DEFAULT_CHUNK_PAGES	8192		/* 32 MiB of guest RAM per chunk */
#define SD_GFN_LIMIT		(1ULL << 40)	/* 52-bit guest physical addresses */
#define SD_HDR_MAX_SIZE		SD_PAGE_SIZE	/* the header fits in the table's first page */
#define SD_DESC_ALIGN		16
#define SD_BITMAP_ALIGN		8
#define SD_LAYOUT_ALIGN		64		/* what a conforming writer uses for both arrays */

/* Feature flags. None are defined in ABI 1.0; see SPEC.md section 9. */
#define SD_COMPAT_KNOWN		0x0ULL
#define SD_INCOMPAT_KNOWN	0x0ULL

/* ------------------------------------------------------------------------
 * The table header (SPEC.md section 1.2). Written once, before
 * registration; immutable while registered.
 */
struct sd_table_header {
	__u64 magic;			/* 0x00 SD_MAGIC */
	__u16 abi_major;		/* 0x08 */
	__u16 abi_minor;		/* 0x0a */
	__u32 header_size;		/* 0x0c bytes; >= sizeof(struct sd_table_header) */
	__u64 compat_features;		/* 0x10 unknown bits are ignored */
	__u64 incompat_features;	/* 0x18 unknown bits: reader rejects */
	__u64 first_gfn;		/* 0x20 first guest frame covered */
	__u64 nr_gfns;			/* 0x28 frames covered */
	__u32 page_shift;		/* 0x30 always SD_PAGE_SHIFT in ABI 1 */
	__u32 pages_per_chunk;		/* 0x34 power of two */
	__u64 nr_chunks;		/* 0x38 ceil(nr_gfns / pages_per_chunk) */
	__u64 desc_offset;		/* 0x40 byte offset of the descriptor array */
	__u64 bitmap_offset;		/* 0x48 byte offset of the bitmap */
	__u64 table_size;		/* 0x50 bytes, multiple of SD_PAGE_SIZE */
	__u64 reserved[5];		/* 0x58 written as 0, ignored by readers */
};					/* 0x80 */

/*
 * One descriptor per chunk (SPEC.md section 1.4). seq is even while the
 * chunk is stable and odd while its writer is inside an update window;
 * pending_* name the pages that window may change and are meaningful only
 * while seq is odd.
 */
struct sd_chunk_desc {
	__u32 seq;			/* 0x0 */
	__u32 nr_shared;		/* 0x4 set bits in this chunk */
	__u32 pending_first;		/* 0x8 first page of the window, chunk-relative */
	__u32 pending_count;		/* 0xc pages in the window */
};					/* 0x10 */

#define SD_HDR_SIZE		((__u32)sizeof(struct sd_table_header))
#define SD_DESC_SIZE		((__u32)sizeof(struct sd_chunk_desc))

SD_ABI_ASSERT(sizeof(struct sd_table_header) == 0x80, "header size");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, magic) == 0x00, "magic");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, abi_major) == 0x08, "abi_major");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, abi_minor) == 0x0a, "abi_minor");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, header_size) == 0x0c, "header_size");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, compat_features) == 0x10, "compat");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, incompat_features) == 0x18, "incompat");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, first_gfn) == 0x20, "first_gfn");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, nr_gfns) == 0x28, "nr_gfns");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, page_shift) == 0x30, "page_shift");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, pages_per_chunk) == 0x34, "ppc");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, nr_chunks) == 0x38, "nr_chunks");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, desc_offset) == 0x40, "desc_offset");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, bitmap_offset) == 0x48, "bitmap_offset");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, table_size) == 0x50, "table_size");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_table_header, reserved) == 0x58, "reserved");
SD_ABI_ASSERT(sizeof(struct sd_chunk_desc) == 0x10, "descriptor size");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_chunk_desc, seq) == 0x0, "seq");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_chunk_desc, nr_shared) == 0x4, "nr_shared");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_chunk_desc, pending_first) == 0x8, "pending_first");
SD_ABI_ASSERT(__builtin_offsetof(struct sd_chunk_desc, pending_count) == 0xc, "pending_count");
SD_ABI_ASSERT(SD_HDR_SIZE % SD_LAYOUT_ALIGN == 0, "descriptors can follow the header");

/* ------------------------------------------------------------------------
 * Error numbers (SPEC.md section 4). Library calls return 0 or the
 * negated value; the hypercall returns the negated value in RAX and
 * SD_MSR_STATUS reads the positive value. The numbers are ABI.
 */
enum sd_err {
	SD_OK			= 0,

	/* arguments, registration and transport */
	SD_ERR_INVAL		= 1,	/* a library call got a bad argument */
	SD_ERR_REG_RESERVED	= 2,	/* registration value: reserved bits set */
	SD_ERR_REG_GPA		= 3,	/* registration value: GPA beyond the guest's physical space */
	SD_ERR_REG_SIZE		= 4,	/* hypercall cross-check: size differs from header */
	SD_ERR_REG_ABI		= 5,	/* hypercall cross-check: ABI major differs from header */
	SD_ERR_NO_TABLE		= 6,	/* no table is registered */
	SD_ERR_UNSUPPORTED	= 7,	/* the host does not implement registration */
	SD_ERR_TRANSPORT	= 8,	/* the transport failed without a reason */
	SD_ERR_BAD_ANSWER	= 9,	/* the host answered something that makes no sense */

	/* guest memory as the host sees it */
	SD_ERR_MEM_UNBACKED	= 32,	/* range not backed by guest RAM */
	SD_ERR_MEM_MMIO		= 33,	/* range is MMIO */
	SD_ERR_MEM_SPLIT	= 34,	/* range crosses a memory-slot boundary */
	SD_ERR_MEM_FAULT	= 35,	/* an access to guest memory faulted */

	/* header */
	SD_ERR_HDR_MAGIC	= 64,
	SD_ERR_HDR_MAJOR	= 65,	/* ABI major not supported */
	SD_ERR_HDR_SIZE		= 66,	/* header_size out of bounds or misaligned */
	SD_ERR_HDR_INCOMPAT	= 67,	/* unknown incompat feature bits */
	SD_ERR_HDR_CHANGED	= 68,	/* header differs from the registered copy */

	/* geometry */
	SD_ERR_GEOM_PAGE_SHIFT	= 96,
	SD_ERR_GEOM_CHUNK	= 97,	/* pages_per_chunk not a power of two in range */
	SD_ERR_GEOM_EMPTY	= 98,	/* nr_gfns == 0 */
	SD_ERR_GEOM_SPAN	= 99,	/* span overflows or passes the host's GFN limit */
	SD_ERR_GEOM_NR_CHUNKS	= 100,	/* nr_chunks != ceil(nr_gfns / pages_per_chunk) */
	SD_ERR_GEOM_DESC	= 101,	/* descriptor array misplaced */
	SD_ERR_GEOM_BITMAP	= 102,	/* bitmap misplaced */
	SD_ERR_GEOM_TABLE_SIZE	= 103,	/* table_size misaligned, short, or over the host's limit */
	SD_ERR_GEOM_RAM		= 104,	/* span does not cover guest RAM */
	SD_ERR_TABLE_PLACEMENT	= 105,	/* the table's own pages lie outside the span */

	/* chunk contents */
	SD_ERR_TABLE_NOT_SHARED	= 128,	/* a page of the table is not marked shared */
	SD_ERR_CHUNK_COUNT	= 129,	/* nr_shared != popcount of the chunk's bits */
	SD_ERR_CHUNK_PENDING	= 130,	/* odd chunk: pending range outside the chunk */
	SD_ERR_CHUNK_PAD	= 131,	/* a bit past the span's last page is set */
	SD_ERR_CHUNK_ODD	= 132,	/* count odd on every attempt */
	SD_ERR_CHUNK_RETRIES	= 133,	/* count changed during every attempt */

	/* guest-side requests */
	SD_ERR_RANGE		= 160,	/* change request outside the span */
	SD_ERR_EMPTY_RANGE	= 161,	/* change request of zero pages */
	SD_ERR_NOSPACE		= 162,	/* caller-provided memory too small */
	SD_ERR_BUSY		= 163,	/* a begin without its commit, or vice versa */
};

/* Highest error number; a value above it, from a host, is a bad answer. */
#define SD_ERR_MAX		SD_ERR_BUSY

#endif /* SEV_DONATE_H */
