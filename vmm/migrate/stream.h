/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * stream.h - the migration stream of docs/STREAM.md: framing, integrity,
 * and a bounded parser. Userspace (vmm/).
 *
 * Reachable by a hostile or broken peer: the reader trusts nothing it
 * reads. Every length is checked against the record type before anything
 * is read into a buffer of that length, and every buffer is bounded by
 * SD_REC_MAX_LEN; nothing allocates per record.
 */
#ifndef SD_STREAM_H
#define SD_STREAM_H

#include <stddef.h>
#include <sodium.h>
#include "sd_types.h"

#define SD_MIG_MAJOR		2	/* 2: authenticated handshake (docs/STREAM.md 2-3) */
#define SD_MIG_MINOR		1	/* 1: ABORT (docs/STREAM.md 4.6) */
#define SD_MIG_MINOR_ABORT	1	/* the first minor whose reader takes ABORT */
#define SD_MIG_HELLO_MAGIC	0x54534447494d4453ULL	/* "SDMIGDST" in memory */
#define SD_MIG_HEADER_MAGIC	0x43525347494d4453ULL	/* "SDMIGSRC" */
#define SD_MIG_RESULT_MAGIC	0x53455247494d4453ULL	/* "SDMIGRES" */
#define SD_MIG_COMMIT_MAGIC	0x214f4747494d4453ULL	/* "SDMIGGO!" */
#define SD_MIG_AUTH_MAGIC	0x54554147494d4453ULL	/* "SDMIGAUT" */
#define SD_MIG_KX_BYTES		32
#define SD_MIG_ID_BYTES		32	/* an Ed25519 public key: a platform's identity */
#define SD_MIG_NONCE_BYTES	24
#define SD_MIG_MAX_VCPUS	64
#define SD_REC_HDR_SIZE		24
#define SD_REC_MAX_PAGES	64
#define SD_REC_PAGE_HDR		16
#define SD_REC_TAG		16
#define SD_REC_MAX_LEN		(SD_REC_PAGE_HDR + SD_REC_MAX_PAGES * 4096 + SD_REC_TAG)
#define SD_MIG_DIGEST_BYTES	32
#define SD_MIG_MSG_BYTES	240
#define SD_MIG_MAX_MSRS		256

enum sd_rec_type {
	SD_REC_PASS = 1,
	SD_REC_PLAIN = 2,
	SD_REC_ENCRYPTED = 3,
	SD_REC_TRANSITION = 4,
	SD_REC_REGISTRATION = 5,
	SD_REC_VCPU = 6,
	SD_REC_END = 7,
	SD_REC_ABORT = 8,	/* minor 1: the source gives up, and says why */
};

enum sd_vcpu_item {
	SD_VCPU_REGS = 1,
	SD_VCPU_SREGS = 2,
	SD_VCPU_XSAVE = 3,
	SD_VCPU_XCRS = 4,
	SD_VCPU_MSRS = 5,
	SD_VCPU_EVENTS = 6,
	SD_VCPU_MP_STATE = 7,
	SD_VCPU_LAPIC = 8,
	SD_VCPU_DEBUGREGS = 9,
	SD_VCPU_NR_KINDS = 10,
};

enum sd_mig_err {
	SD_MIG_OK = 0,
	SD_MIG_ERR_IO = 1,
	SD_MIG_ERR_EOF = 2,
	SD_MIG_ERR_MAGIC = 3,
	SD_MIG_ERR_VERSION = 4,
	SD_MIG_ERR_CRC = 5,
	SD_MIG_ERR_SEQ = 6,
	SD_MIG_ERR_TYPE = 7,
	SD_MIG_ERR_LEN = 8,
	SD_MIG_ERR_RANGE = 9,
	SD_MIG_ERR_AUTH = 10,
	SD_MIG_ERR_ORDER = 11,
	SD_MIG_ERR_DIGEST = 12,
	SD_MIG_ERR_RAM = 13,
	SD_MIG_ERR_TABLE = 14,
	SD_MIG_ERR_VCPU = 15,
	SD_MIG_ERR_REFUSED = 16,
	SD_MIG_ERR_SOURCE = 17,
	SD_MIG_ERR_TIMEOUT = 18,
	SD_MIG_ERR_PEER_KEY = 19,
	SD_MIG_ERR_PEER_SIG = 20,
	SD_MIG_ERR_CONVERGE = 21,
	SD_MIG_ERR_PAUSE = 22,		/* source only: the vCPUs did not stop in time */
	SD_MIG_ERR_NOMEM = 23,		/* a VMM ran out of memory for state it must keep */
	SD_MIG_ERR_ABORTED = 24,	/* destination only: the source sent ABORT */
	SD_MIG_ERR_LAST = SD_MIG_ERR_ABORTED,
};

const char *sd_mig_err_name(int err);

/*
 * The errors an ABORT may carry (docs/STREAM.md 4.6): the failures a
 * source has of its own while it writes the stream. The rest are failures
 * of the connection, of a reader, or the destination's own.
 */
static inline bool sd_mig_abort_err_ok(__u32 err)
{
	return err == SD_MIG_ERR_SOURCE || err == SD_MIG_ERR_CONVERGE ||
	       err == SD_MIG_ERR_PAUSE || err == SD_MIG_ERR_NOMEM;
}

/*
 * CRC32C (Castagnoli), continuing from @crc (start with 0): with SSE4.2
 * where the CPU has it, else by table. sd_crc32c_soft() is always the table.
 */
u32 sd_crc32c(u32 crc, const void *buf, size_t len);
u32 sd_crc32c_soft(u32 crc, const void *buf, size_t len);

/* A byte transport: a socket, or a memory buffer for tests and fuzzing. */
struct sd_io {
	/*
	 * Read/write exactly @n bytes: 0, -SD_MIG_ERR_EOF (the peer closed
	 * early), -SD_MIG_ERR_TIMEOUT (the transport's deadline passed) or
	 * -SD_MIG_ERR_IO.
	 */
	int (*read)(void *ctx, void *buf, size_t n);
	int (*write)(void *ctx, const void *buf, size_t n);
	void *ctx;
};

/* sd_io over memory: reads consume [buf, buf + len); writes append up to cap. */
struct sd_membuf {
	u8 *buf;
	size_t len, cap, pos;
};
struct sd_io sd_io_mem(struct sd_membuf *m);
/* What a transport's error means, for messages ("the connection closed"). */
const char *sd_mig_io_what(int rc);

/* Failure details: the error number and a one-line message saying where. */
struct sd_mig_status {
	int err;		/* 0 or positive SD_MIG_ERR_* */
	char msg[SD_MIG_MSG_BYTES];
};

int sd_mig_fail(struct sd_mig_status *st, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- handshake (version 2: handshake.c) ------------------------------------- */

struct sd_mig_keys {
	u8 pk[crypto_kx_PUBLICKEYBYTES], sk[crypto_kx_SECRETKEYBYTES];
	u8 rx[crypto_kx_SESSIONKEYBYTES], tx[crypto_kx_SESSIONKEYBYTES];
};

/*
 * Who a side is and whom it expects (docs/STREAM.md 3.1): its long-term
 * Ed25519 identity (sev-donate keygen), and the peer's public key. A
 * source with no peer key sends to nobody; a destination with none takes
 * any source that proves it holds the key it announces.
 */
struct sd_mig_ids {
	bool have_self, have_peer;
	u8 self_pk[crypto_sign_PUBLICKEYBYTES];
	u8 self_sk[crypto_sign_SECRETKEYBYTES];
	u8 peer_pk[crypto_sign_PUBLICKEYBYTES];
};

/* One handshake: the transcript so far, the peer's identity, the session keys. */
struct sd_mig_hs {
	const struct sd_mig_ids *ids;
	u8 hello[128];		/* HELLO as sent or received */
	u8 header[128];		/* HEADER, before its signature */
	u8 peer_pk[crypto_sign_PUBLICKEYBYTES];
	u16 peer_minor;		/* the minor version the peer's HELLO or HEADER announced */
	struct sd_mig_keys keys;
};

/* Destination: send HELLO with a fresh key pair and nonce, and its identity. */
int sd_mig_send_hello(const struct sd_io *io, u64 ram_bytes, const struct sd_mig_ids *ids,
		      struct sd_mig_hs *hs, struct sd_mig_status *st);
/*
 * Source: read and check HELLO: version, the destination's identity against
 * ids->peer_pk (PEER_KEY), its RAM (RAM). Derives the session keys.
 */
int sd_mig_recv_hello(const struct sd_io *io, u64 ram_bytes, const struct sd_mig_ids *ids,
		      struct sd_mig_hs *hs, struct sd_mig_status *st);
/* Source: send HEADER, signed. */
int sd_mig_send_header(const struct sd_io *io, u64 ram_bytes, u32 nr_vcpus,
		       struct sd_mig_hs *hs, struct sd_mig_status *st);
/*
 * Destination, after sd_mig_send_hello() on @hs: read and check HEADER:
 * version, the source's identity (if hs->ids has a peer key: PEER_KEY), its signature (PEER_SIG), then its RAM and
 * vCPUs against this host. Derives the session keys.
 */
int sd_mig_recv_header(const struct sd_io *io, u64 dst_ram_bytes, struct sd_mig_hs *hs,
		       u64 *ram_bytes, u32 *nr_vcpus, struct sd_mig_status *st);
/* Destination: send AUTH, its signature of the transcript. */
int sd_mig_send_auth(const struct sd_io *io, const struct sd_mig_hs *hs, struct sd_mig_status *st);
/*
 * Source: read AUTH and verify it against HELLO's identity (PEER_SIG); a
 * RESULT in its place is the destination's refusal (REFUSED).
 */
int sd_mig_recv_auth(const struct sd_io *io, const struct sd_mig_hs *hs, struct sd_mig_status *st);
/* The first 16 hex digits of a key, for messages. */
const char *sd_mig_key_short(const u8 pk[crypto_sign_PUBLICKEYBYTES], char buf[17]);

/* RESULT, both directions. recv returns 0 only for a well-formed acceptance. */
int sd_mig_send_result(const struct sd_io *io, const struct sd_mig_status *result);
int sd_mig_recv_result(const struct sd_io *io, struct sd_mig_status *st);
/* A RESULT already read (256 bytes): what sd_mig_recv_result() returns for it. */
int sd_mig_result_parse(const void *buf, struct sd_mig_status *st);
/* COMMIT (docs/STREAM.md 5a): the source gives the guest up. */
int sd_mig_send_commit(const struct sd_io *io, struct sd_mig_status *st);
int sd_mig_recv_commit(const struct sd_io *io, struct sd_mig_status *st);

/* ---- records: source side --------------------------------------------------- */

struct sd_mig_writer {
	const struct sd_io *io;
	const struct sd_mig_keys *keys;
	u64 seq;		/* of the last record written */
	u64 pages;		/* pages in page records */
	bool done;		/* END or ABORT written: the digest is final, nothing follows */
	crypto_generichash_state digest;
	u8 buf[SD_REC_HDR_SIZE + SD_REC_MAX_LEN];
};

void sd_mig_writer_init(struct sd_mig_writer *w, const struct sd_io *io,
			const struct sd_mig_keys *keys);
int sd_mig_put_pass(struct sd_mig_writer *w, u32 pass, bool final, struct sd_mig_status *st);
/* PLAIN, or ENCRYPTED/TRANSITION through the SEV stand-in. @data is npages * 4096 bytes. */
int sd_mig_put_pages(struct sd_mig_writer *w, enum sd_rec_type type, u64 gfn, u32 npages,
		     const void *data, struct sd_mig_status *st);
int sd_mig_put_registration(struct sd_mig_writer *w, u64 value, u64 generation,
			    const void *hdr128, struct sd_mig_status *st);
/* One vCPU: @items is a packed item list (sd_mig_vcpu_item_add). */
int sd_mig_put_vcpu(struct sd_mig_writer *w, u32 index, u32 nr_items, const void *items,
		    size_t items_len, struct sd_mig_status *st);
int sd_mig_put_end(struct sd_mig_writer *w, struct sd_mig_status *st);
/*
 * ABORT (docs/STREAM.md 4.6) in place of the next record: the source's own
 * error @err (one sd_mig_abort_err_ok() takes, else -SD_MIG_ERR_RANGE), under
 * the digest of every record sent. The last record: -SD_MIG_ERR_ORDER after
 * END or ABORT. Send it only to a
 * destination whose HELLO announced SD_MIG_MINOR_ABORT or later.
 */
int sd_mig_put_abort(struct sd_mig_writer *w, int err, struct sd_mig_status *st);

/* Append one vCPU item to @buf (capacity @cap, used @*len). 0 or -SD_MIG_ERR_LEN. */
int sd_mig_vcpu_item_add(u8 *buf, size_t cap, size_t *len, u32 kind, const void *data,
			 u32 data_len);
/* The exact length an item kind must have (MSRS: of the whole item, from its count). */
u32 sd_mig_vcpu_item_len(u32 kind);

/* ---- records: destination side ------------------------------------------------ */

/* One parsed and verified record. Pointers point into the reader's buffer. */
struct sd_mig_rec {
	u16 type;
	u64 seq;
	union {
		struct { u32 pass; bool final; } pass;
		struct { u64 gfn; u32 npages; const u8 *data; } pages;	/* decrypted */
		struct { u64 value, generation; const u8 *hdr; } reg;
		struct { u32 index, nr_items; const u8 *items; size_t len; } vcpu;
		struct { u64 records, pages; } end;
		struct { u32 err; } abort;	/* the source's error (sd_mig_next fails) */
	};
};

struct sd_mig_reader {
	const struct sd_io *io;
	const struct sd_mig_keys *keys;
	u64 ram_pages;		/* from HEADER: page records must lie below */
	u32 nr_vcpus;
	u64 seq, pages;
	int phase;		/* where section 4.4's order has got to */
	u32 pass;		/* number of the last PASS */
	u32 vcpus_seen;
	u8 vcpu_seen[SD_MIG_MAX_VCPUS];
	crypto_generichash_state digest;
	u8 buf[SD_REC_HDR_SIZE + SD_REC_MAX_LEN];
	u8 plain[SD_REC_MAX_PAGES * 4096];
};

void sd_mig_reader_init(struct sd_mig_reader *r, const struct sd_io *io,
			const struct sd_mig_keys *keys, u64 ram_bytes, u32 nr_vcpus);
/*
 * Read, verify (CRC, sequence, type, lengths, ranges, order, AEAD) and
 * decode the next record. END is verified against the digest and counts.
 * Returns 0 or a negative SD_MIG_ERR_*, with where in @st. A verified ABORT
 * returns -SD_MIG_ERR_ABORTED, with rec->type SD_REC_ABORT and the source's
 * error in rec->abort.err (named in @st).
 */
int sd_mig_next(struct sd_mig_reader *r, struct sd_mig_rec *rec, struct sd_mig_status *st);

/*
 * Walk a VCPU record's items, checking each kind and length (docs/STREAM.md
 * 4.3). @fn gets each item; returns 0 or -SD_MIG_ERR_LEN / -SD_MIG_ERR_TYPE.
 */
int sd_mig_vcpu_items(const struct sd_mig_rec *rec,
		      int (*fn)(void *ctx, u32 kind, const void *data, u32 len), void *ctx,
		      struct sd_mig_status *st);

#endif /* SD_STREAM_H */
