/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * stream_wire.h - the migration stream's bytes (docs/STREAM.md) as
 * structures: fixed-width little-endian fields, explicit padding, and a
 * _Static_assert on every size and offset. tests/check-stream.py holds
 * docs/STREAM.md's tables against these definitions.
 *
 * x86-64 only, like the rest of the VMM: host byte order is the wire's.
 * The codec (stream.c) never casts a buffer to these types; it copies a
 * structure in or out with memcpy, so alignment never matters.
 */
#ifndef SD_STREAM_WIRE_H
#define SD_STREAM_WIRE_H

#include <linux/types.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the migration stream is little-endian; this code assumes a little-endian host"
#endif

#define SD_WIRE_ASSERT_OFF(type, field, off)					\
	_Static_assert(__builtin_offsetof(struct type, field) == (off), #type "." #field)
#define SD_WIRE_ASSERT_SIZE(type, size)						\
	_Static_assert(sizeof(struct type) == (size), #type " size")

/* 2. The first 16 bytes of HELLO and HEADER in every version: read before the rest. */
struct sd_mig_prefix {
	__u64 magic;
	__u16 major;
	__u16 minor;
	__u32 size;			/* of the whole message */
};
SD_WIRE_ASSERT_OFF(sd_mig_prefix, major, 0x08);
SD_WIRE_ASSERT_OFF(sd_mig_prefix, minor, 0x0a);
SD_WIRE_ASSERT_OFF(sd_mig_prefix, size, 0x0c);
SD_WIRE_ASSERT_SIZE(sd_mig_prefix, 16);

/* 2. HELLO, destination to source (version 2). */
struct sd_mig_hello {
	__u64 magic;			/* "SDMIGDST" */
	__u16 major;			/* 2 */
	__u16 minor;
	__u32 size;			/* 128 */
	__u64 ram_bytes;		/* guest RAM the destination can hold */
	__u8 kx_public[32];		/* X25519 (crypto_kx, the server's), this migration's */
	__u32 flags;			/* 0 */
	__u32 crc;			/* CRC32C of bytes 0x00-0x3b: where version 1 has its CRC */
	__u8 id_public[32];		/* Ed25519: the destination platform's identity */
	__u8 nonce[24];			/* random, fresh per migration */
	__u32 reserved;			/* 0 */
	__u32 crc_all;			/* CRC32C of bytes 0x00-0x7b */
};
SD_WIRE_ASSERT_OFF(sd_mig_hello, major, 0x08);
SD_WIRE_ASSERT_OFF(sd_mig_hello, minor, 0x0a);
SD_WIRE_ASSERT_OFF(sd_mig_hello, size, 0x0c);
SD_WIRE_ASSERT_OFF(sd_mig_hello, ram_bytes, 0x10);
SD_WIRE_ASSERT_OFF(sd_mig_hello, kx_public, 0x18);
SD_WIRE_ASSERT_OFF(sd_mig_hello, flags, 0x38);
SD_WIRE_ASSERT_OFF(sd_mig_hello, crc, 0x3c);
SD_WIRE_ASSERT_OFF(sd_mig_hello, id_public, 0x40);
SD_WIRE_ASSERT_OFF(sd_mig_hello, nonce, 0x60);
SD_WIRE_ASSERT_OFF(sd_mig_hello, reserved, 0x78);
SD_WIRE_ASSERT_OFF(sd_mig_hello, crc_all, 0x7c);
SD_WIRE_ASSERT_SIZE(sd_mig_hello, 128);

/*
 * 3. HEADER, source to destination: HELLO's shape (nr_vcpus where HELLO has
 * flags), then the source's signature of the transcript (3.1).
 */
struct sd_mig_header {
	__u64 magic;			/* "SDMIGSRC" */
	__u16 major;
	__u16 minor;
	__u32 size;			/* 192 */
	__u64 ram_bytes;		/* the guest's RAM */
	__u8 kx_public[32];		/* X25519 (the client's) */
	__u32 nr_vcpus;
	__u32 crc;
	__u8 id_public[32];		/* Ed25519: the source platform's identity */
	__u8 nonce[24];
	__u32 reserved;
	__u32 crc_all;
	__u8 signature[64];		/* Ed25519, by id_public, of the transcript */
};
SD_WIRE_ASSERT_OFF(sd_mig_header, major, 0x08);
SD_WIRE_ASSERT_OFF(sd_mig_header, minor, 0x0a);
SD_WIRE_ASSERT_OFF(sd_mig_header, size, 0x0c);
SD_WIRE_ASSERT_OFF(sd_mig_header, ram_bytes, 0x10);
SD_WIRE_ASSERT_OFF(sd_mig_header, kx_public, 0x18);
SD_WIRE_ASSERT_OFF(sd_mig_header, nr_vcpus, 0x38);
SD_WIRE_ASSERT_OFF(sd_mig_header, crc, 0x3c);
SD_WIRE_ASSERT_OFF(sd_mig_header, id_public, 0x40);
SD_WIRE_ASSERT_OFF(sd_mig_header, nonce, 0x60);
SD_WIRE_ASSERT_OFF(sd_mig_header, reserved, 0x78);
SD_WIRE_ASSERT_OFF(sd_mig_header, crc_all, 0x7c);
SD_WIRE_ASSERT_OFF(sd_mig_header, signature, 0x80);
SD_WIRE_ASSERT_SIZE(sd_mig_header, 192);

/* 3.2 AUTH, destination to source: the destination's signature of the transcript. */
struct sd_mig_auth {
	__u64 magic;			/* "SDMIGAUT" */
	__u8 signature[64];		/* Ed25519, by HELLO's id_public */
};
SD_WIRE_ASSERT_OFF(sd_mig_auth, signature, 0x08);
SD_WIRE_ASSERT_SIZE(sd_mig_auth, 72);

/* 4. A record's header; the payload follows. */
struct sd_rec_hdr {
	__u16 type;
	__u16 flags;			/* 0 */
	__u32 len;			/* payload bytes */
	__u64 seq;			/* 1, 2, ...: no gap, no repeat */
	__u32 crc;			/* CRC32C of this header (crc zero) and the payload */
	__u32 reserved;			/* 0 */
};
SD_WIRE_ASSERT_OFF(sd_rec_hdr, flags, 0x02);
SD_WIRE_ASSERT_OFF(sd_rec_hdr, len, 0x04);
SD_WIRE_ASSERT_OFF(sd_rec_hdr, seq, 0x08);
SD_WIRE_ASSERT_OFF(sd_rec_hdr, crc, 0x10);
SD_WIRE_ASSERT_OFF(sd_rec_hdr, reserved, 0x14);
SD_WIRE_ASSERT_SIZE(sd_rec_hdr, 24);

/* 4.1 PASS. */
struct sd_rec_pass {
	__u32 pass;
	__u32 final;			/* 0 or 1 */
};
SD_WIRE_ASSERT_OFF(sd_rec_pass, final, 0x04);
SD_WIRE_ASSERT_SIZE(sd_rec_pass, 8);

/* 4.1 The page header of PLAIN, ENCRYPTED and TRANSITION; the pages follow. */
struct sd_rec_pages {
	__u64 gfn;
	__u32 npages;			/* 1 to 64 */
	__u32 reserved;			/* 0 */
};
SD_WIRE_ASSERT_OFF(sd_rec_pages, npages, 0x08);
SD_WIRE_ASSERT_OFF(sd_rec_pages, reserved, 0x0c);
SD_WIRE_ASSERT_SIZE(sd_rec_pages, 16);

/* 4.1 REGISTRATION. */
struct sd_rec_registration {
	__u64 value;			/* 0: no table */
	__u64 generation;
	__u8 header[128];		/* the table header the source registered */
};
SD_WIRE_ASSERT_OFF(sd_rec_registration, generation, 0x08);
SD_WIRE_ASSERT_OFF(sd_rec_registration, header, 0x10);
SD_WIRE_ASSERT_SIZE(sd_rec_registration, 144);

/* 4.1 VCPU: this, then the items (4.3). */
struct sd_rec_vcpu {
	__u32 index;
	__u32 nr_items;
};
SD_WIRE_ASSERT_OFF(sd_rec_vcpu, nr_items, 0x04);
SD_WIRE_ASSERT_SIZE(sd_rec_vcpu, 8);

/* 4.1 END. */
struct sd_rec_end {
	__u64 records;			/* records before END */
	__u64 pages;			/* pages in page records */
	__u8 digest[32];		/* keyed BLAKE2b-256 of every record before END (4.5) */
};
SD_WIRE_ASSERT_OFF(sd_rec_end, pages, 0x08);
SD_WIRE_ASSERT_OFF(sd_rec_end, digest, 0x10);
SD_WIRE_ASSERT_SIZE(sd_rec_end, 48);

/* 4.1 ABORT: the source gives the migration up, and says why (4.6). */
struct sd_rec_abort {
	__u32 error;			/* the source's error number (6) */
	__u32 reserved;			/* 0 */
	__u8 digest[32];		/* END's (4.5), continued over error and reserved */
};
SD_WIRE_ASSERT_OFF(sd_rec_abort, reserved, 0x04);
SD_WIRE_ASSERT_OFF(sd_rec_abort, digest, 0x08);
SD_WIRE_ASSERT_SIZE(sd_rec_abort, 40);

/* 4.3 A vCPU state item's header; len bytes and zero padding to 8 follow. */
struct sd_vcpu_item_hdr {
	__u32 kind;
	__u32 len;
};
SD_WIRE_ASSERT_OFF(sd_vcpu_item_hdr, len, 0x04);
SD_WIRE_ASSERT_SIZE(sd_vcpu_item_hdr, 8);

/* 4.3 The MSRS item: this, then nmsrs entries. */
struct sd_vcpu_msrs {
	__u32 nmsrs;			/* at most 256 */
	__u32 pad;			/* 0 */
};
SD_WIRE_ASSERT_OFF(sd_vcpu_msrs, pad, 0x04);
SD_WIRE_ASSERT_SIZE(sd_vcpu_msrs, 8);

struct sd_vcpu_msr {
	__u32 index;
	__u32 reserved;			/* 0 */
	__u64 data;
};
SD_WIRE_ASSERT_OFF(sd_vcpu_msr, reserved, 0x04);
SD_WIRE_ASSERT_OFF(sd_vcpu_msr, data, 0x08);
SD_WIRE_ASSERT_SIZE(sd_vcpu_msr, 16);

/* 5. RESULT, destination to source. */
struct sd_mig_result {
	__u64 magic;			/* "SDMIGRES" */
	__u32 status;			/* 0 accepted, else an error number (6) */
	__u32 crc;			/* CRC32C of the 256 bytes with this field zero */
	char message[240];		/* NUL-terminated */
};
SD_WIRE_ASSERT_OFF(sd_mig_result, status, 0x08);
SD_WIRE_ASSERT_OFF(sd_mig_result, crc, 0x0c);
SD_WIRE_ASSERT_OFF(sd_mig_result, message, 0x10);
SD_WIRE_ASSERT_SIZE(sd_mig_result, 256);

/* 5a. COMMIT, source to destination. */
struct sd_mig_commit {
	__u64 magic;			/* "SDMIGGO!" */
};
SD_WIRE_ASSERT_SIZE(sd_mig_commit, 8);

#endif /* SD_STREAM_WIRE_H */
