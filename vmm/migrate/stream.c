// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * stream.c - docs/STREAM.md: handshake, records, RESULT.
 *
 * The reader is reachable by a hostile or broken peer. Its order of checks
 * for a record: reserved fields and a generic length bound (before reading
 * the payload, so nothing is read past SD_REC_MAX_LEN), then the CRC, then
 * type, sequence, the type's exact length, ranges, order, and for
 * encrypted pages the AEAD. Nothing is decoded from a record whose CRC
 * does not match.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "stream.h"

_Static_assert(sizeof(struct kvm_regs) == 144, "REGS item size (docs/STREAM.md 4.3)");
_Static_assert(sizeof(struct kvm_sregs) == 312, "SREGS item size");
_Static_assert(sizeof(struct kvm_xsave) == 4096, "XSAVE item size");
_Static_assert(sizeof(struct kvm_xcrs) == 392, "XCRS item size");
_Static_assert(sizeof(struct kvm_vcpu_events) == 64, "EVENTS item size");
_Static_assert(sizeof(struct kvm_mp_state) == 4, "MP_STATE item size");
_Static_assert(sizeof(struct kvm_lapic_state) == 1024, "LAPIC item size");
_Static_assert(sizeof(struct kvm_debugregs) == 128, "DEBUGREGS item size");

static const char *const err_names[] = {
	[SD_MIG_OK] = "SD_MIG_OK",
	[SD_MIG_ERR_IO] = "SD_MIG_ERR_IO",
	[SD_MIG_ERR_EOF] = "SD_MIG_ERR_EOF",
	[SD_MIG_ERR_MAGIC] = "SD_MIG_ERR_MAGIC",
	[SD_MIG_ERR_VERSION] = "SD_MIG_ERR_VERSION",
	[SD_MIG_ERR_CRC] = "SD_MIG_ERR_CRC",
	[SD_MIG_ERR_SEQ] = "SD_MIG_ERR_SEQ",
	[SD_MIG_ERR_TYPE] = "SD_MIG_ERR_TYPE",
	[SD_MIG_ERR_LEN] = "SD_MIG_ERR_LEN",
	[SD_MIG_ERR_RANGE] = "SD_MIG_ERR_RANGE",
	[SD_MIG_ERR_AUTH] = "SD_MIG_ERR_AUTH",
	[SD_MIG_ERR_ORDER] = "SD_MIG_ERR_ORDER",
	[SD_MIG_ERR_DIGEST] = "SD_MIG_ERR_DIGEST",
	[SD_MIG_ERR_RAM] = "SD_MIG_ERR_RAM",
	[SD_MIG_ERR_TABLE] = "SD_MIG_ERR_TABLE",
	[SD_MIG_ERR_VCPU] = "SD_MIG_ERR_VCPU",
	[SD_MIG_ERR_REFUSED] = "SD_MIG_ERR_REFUSED",
	[SD_MIG_ERR_SOURCE] = "SD_MIG_ERR_SOURCE",
	[SD_MIG_ERR_TIMEOUT] = "SD_MIG_ERR_TIMEOUT",
};

const char *sd_mig_err_name(int err)
{
	if (err < 0)
		err = err == -2147483647 - 1 ? 0x7fffffff : -err;
	if (err < (int)SD_ARRAY_SIZE(err_names) && err_names[err])
		return err_names[err];
	return "SD_MIG_ERR_UNKNOWN";
}

int sd_mig_fail(struct sd_mig_status *st, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (st) {
		st->err = err;
		n = snprintf(st->msg, sizeof(st->msg), "%s: ", sd_mig_err_name(err));
		va_start(ap, fmt);
		vsnprintf(st->msg + n, sizeof(st->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -err;
}

/* ---- CRC32C ------------------------------------------------------------------ */

/*
 * With SSE4.2's crc32 instruction where the CPU has it (checked once, at
 * run time: the build does not assume it), else a byte-at-a-time table.
 * Both compute the same function; test_stream checks the table against the
 * instruction and against the standard check value.
 */
#define CRC32C_POLY	0x82f63b78U	/* reflected Castagnoli */

static u32 crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw;

static void crc_init(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32C_POLY & (0U - (c & 1)));
		crc_table[i] = c;
	}
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2")))
static u32 crc32c_hw(u32 crc, const u8 *p, size_t len)
{
	u64 c = ~crc;

	for (; len >= 8; len -= 8, p += 8) {
		u64 w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	for (; len; len--, p++)
		c = __builtin_ia32_crc32qi((u32)c, *p);
	return ~(u32)c;
}

u32 sd_crc32c_soft(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;
	u32 c = ~crc;

	pthread_once(&crc_once, crc_init);
	for (; len; len--, p++)
		c = (c >> 8) ^ crc_table[(c ^ *p) & 0xff];
	return ~c;
}

u32 sd_crc32c(u32 crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return crc_hw ? crc32c_hw(crc, buf, len) : sd_crc32c_soft(crc, buf, len);
}

/* ---- transports ----------------------------------------------------------------- */

static int mem_read(void *ctx, void *buf, size_t n)
{
	struct sd_membuf *m = ctx;

	if (n > m->len - m->pos) {
		m->pos = m->len;
		return -SD_MIG_ERR_EOF;
	}
	memcpy(buf, m->buf + m->pos, n);
	m->pos += n;
	return 0;
}

static int mem_write(void *ctx, const void *buf, size_t n)
{
	struct sd_membuf *m = ctx;

	if (n > m->cap - m->len)
		return -SD_MIG_ERR_IO;
	memcpy(m->buf + m->len, buf, n);
	m->len += n;
	return 0;
}

struct sd_io sd_io_mem(struct sd_membuf *m)
{
	return (struct sd_io){ .read = mem_read, .write = mem_write, .ctx = m };
}

/* ---- little-endian helpers (x86-only project, but the format is explicit) -------- */

static void put16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }
static u16 get16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 get32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 get64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static const char *io_what(int rc)
{
	if (rc == -SD_MIG_ERR_TIMEOUT)
		return "the peer did not keep up within the deadline (--timeout)";
	return rc == -SD_MIG_ERR_EOF ? "the connection closed" : "the connection failed";
}

/* ---- handshake ----------------------------------------------------------------- */

/* HELLO and HEADER share a shape: magic, version, size, RAM, key, a u32, CRC. */
static void hs_build(u8 b[64], u64 magic, u64 ram_bytes, const u8 *pk, u32 word)
{
	memset(b, 0, 64);
	put64(b, magic);
	put16(b + 8, SD_MIG_MAJOR);
	put16(b + 10, SD_MIG_MINOR);
	put32(b + 12, 64);
	put64(b + 16, ram_bytes);
	memcpy(b + 24, pk, SD_MIG_KX_BYTES);
	put32(b + 56, word);
	put32(b + 60, sd_crc32c(0, b, 60));
}

static int hs_check(const u8 b[64], u64 magic, const char *what, struct sd_mig_status *st)
{
	if (get64(b) != magic)
		return sd_mig_fail(st, SD_MIG_ERR_MAGIC, "%s: bad magic %#llx", what,
				   (unsigned long long)get64(b));
	if (get32(b + 60) != sd_crc32c(0, b, 60))
		return sd_mig_fail(st, SD_MIG_ERR_CRC, "%s: CRC mismatch", what);
	if (get16(b + 8) != SD_MIG_MAJOR || get32(b + 12) != 64)
		return sd_mig_fail(st, SD_MIG_ERR_VERSION, "%s: version %u.%u size %u not supported",
				   what, get16(b + 8), get16(b + 10), get32(b + 12));
	return 0;
}

int sd_mig_send_hello(const struct sd_io *io, u64 ram_bytes, struct sd_mig_keys *k,
		      struct sd_mig_status *st)
{
	u8 b[64];
	int rc;

	crypto_kx_keypair(k->pk, k->sk);
	hs_build(b, SD_MIG_HELLO_MAGIC, ram_bytes, k->pk, 0);
	rc = io->write(io->ctx, b, sizeof(b));
	return rc ? sd_mig_fail(st, -rc, "sending HELLO: %s", io_what(rc)) : 0;
}

int sd_mig_recv_hello(const struct sd_io *io, u64 ram_bytes, struct sd_mig_keys *k,
		      struct sd_mig_status *st)
{
	u8 b[64];
	int rc = io->read(io->ctx, b, sizeof(b));

	if (rc)
		return sd_mig_fail(st, -rc, "reading HELLO: %s", io_what(rc));
	rc = hs_check(b, SD_MIG_HELLO_MAGIC, "HELLO", st);
	if (rc)
		return rc;
	if (get32(b + 56))
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "HELLO: unknown flags %#x", get32(b + 56));
	if (get64(b + 16) < ram_bytes)
		return sd_mig_fail(st, SD_MIG_ERR_RAM,
				   "destination holds %llu bytes of guest RAM, the guest has %llu",
				   (unsigned long long)get64(b + 16), (unsigned long long)ram_bytes);
	crypto_kx_keypair(k->pk, k->sk);
	if (crypto_kx_client_session_keys(k->rx, k->tx, k->pk, k->sk, b + 24))
		return sd_mig_fail(st, SD_MIG_ERR_AUTH, "HELLO: unusable key-exchange public key");
	return 0;
}

int sd_mig_send_header(const struct sd_io *io, u64 ram_bytes, u32 nr_vcpus,
		       const struct sd_mig_keys *k, struct sd_mig_status *st)
{
	u8 b[64];
	int rc;

	hs_build(b, SD_MIG_HEADER_MAGIC, ram_bytes, k->pk, nr_vcpus);
	rc = io->write(io->ctx, b, sizeof(b));
	return rc ? sd_mig_fail(st, -rc, "sending HEADER: %s", io_what(rc)) : 0;
}

int sd_mig_recv_header(const struct sd_io *io, u64 dst_ram_bytes, struct sd_mig_keys *k,
		       u64 *ram_bytes, u32 *nr_vcpus, struct sd_mig_status *st)
{
	u8 b[64];
	int rc = io->read(io->ctx, b, sizeof(b));

	if (rc)
		return sd_mig_fail(st, -rc, "reading HEADER: %s", io_what(rc));
	rc = hs_check(b, SD_MIG_HEADER_MAGIC, "HEADER", st);
	if (rc)
		return rc;
	if (get64(b + 16) > dst_ram_bytes)
		return sd_mig_fail(st, SD_MIG_ERR_RAM,
				   "the guest has %llu bytes of RAM, this destination holds %llu",
				   (unsigned long long)get64(b + 16),
				   (unsigned long long)dst_ram_bytes);
	if (get64(b + 16) == 0 || get64(b + 16) % 4096)
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "HEADER: RAM size %llu is not whole pages",
				   (unsigned long long)get64(b + 16));
	if (get32(b + 56) == 0 || get32(b + 56) > SD_MIG_MAX_VCPUS)
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "HEADER: %u vCPUs (1 to %d)",
				   get32(b + 56), SD_MIG_MAX_VCPUS);
	if (crypto_kx_server_session_keys(k->rx, k->tx, k->pk, k->sk, b + 24))
		return sd_mig_fail(st, SD_MIG_ERR_AUTH, "HEADER: unusable key-exchange public key");
	*ram_bytes = get64(b + 16);
	*nr_vcpus = get32(b + 56);
	return 0;
}

int sd_mig_send_result(const struct sd_io *io, const struct sd_mig_status *result)
{
	u8 b[256] = { 0 };

	put64(b, SD_MIG_RESULT_MAGIC);
	put32(b + 8, (u32)result->err);
	if (result->err)
		snprintf((char *)b + 16, SD_MIG_MSG_BYTES, "%s", result->msg);
	put32(b + 12, sd_crc32c(0, b, sizeof(b)));
	return io->write(io->ctx, b, sizeof(b));
}

int sd_mig_recv_result(const struct sd_io *io, struct sd_mig_status *st)
{
	u8 b[256];
	u32 crc;
	int rc = io->read(io->ctx, b, sizeof(b));

	if (rc)
		return sd_mig_fail(st, -rc, "waiting for the destination's RESULT: %s", io_what(rc));
	if (get64(b) != SD_MIG_RESULT_MAGIC)
		return sd_mig_fail(st, SD_MIG_ERR_MAGIC, "RESULT: bad magic");
	crc = get32(b + 12);
	put32(b + 12, 0);
	if (crc != sd_crc32c(0, b, sizeof(b)))
		return sd_mig_fail(st, SD_MIG_ERR_CRC, "RESULT: CRC mismatch");
	if (!memchr(b + 16, 0, SD_MIG_MSG_BYTES))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "RESULT: message not terminated");
	if (get32(b + 8) == 0)
		return 0;
	return sd_mig_fail(st, SD_MIG_ERR_REFUSED, "destination refused: %s",
			   (const char *)b + 16);
}

int sd_mig_send_commit(const struct sd_io *io, struct sd_mig_status *st)
{
	u8 b[8];
	int rc;

	put64(b, SD_MIG_COMMIT_MAGIC);
	rc = io->write(io->ctx, b, sizeof(b));
	return rc ? sd_mig_fail(st, -rc, "sending COMMIT: %s", io_what(rc)) : 0;
}

int sd_mig_recv_commit(const struct sd_io *io, struct sd_mig_status *st)
{
	u8 b[8];
	int rc = io->read(io->ctx, b, sizeof(b));

	if (rc)
		return sd_mig_fail(st, -rc, "waiting for COMMIT: %s", io_what(rc));
	if (get64(b) != SD_MIG_COMMIT_MAGIC)
		return sd_mig_fail(st, SD_MIG_ERR_MAGIC, "COMMIT: bad magic");
	return 0;
}

/* ---- records: writer -------------------------------------------------------------- */

void sd_mig_writer_init(struct sd_mig_writer *w, const struct sd_io *io,
			const struct sd_mig_keys *keys)
{
	w->io = io;
	w->keys = keys;
	w->seq = 0;
	w->pages = 0;
	/* Keyed with the transport key: END binds every record to this migration's keys. */
	crypto_generichash_init(&w->digest, keys->tx, crypto_kx_SESSIONKEYBYTES, SD_MIG_DIGEST_BYTES);
}

static void rec_header(u8 *h, u16 type, u32 len, u64 seq)
{
	memset(h, 0, SD_REC_HDR_SIZE);
	put16(h, type);
	put32(h + 4, len);
	put64(h + 8, seq);
}

/* The record in w->buf (header with crc 0, then @len payload bytes): seal and send. */
static int rec_send(struct sd_mig_writer *w, u32 len, bool digest, struct sd_mig_status *st)
{
	int rc;

	put32(w->buf + 16, sd_crc32c(0, w->buf, SD_REC_HDR_SIZE + len));
	if (digest)
		crypto_generichash_update(&w->digest, w->buf, SD_REC_HDR_SIZE + len);
	rc = w->io->write(w->io->ctx, w->buf, SD_REC_HDR_SIZE + len);
	if (rc)
		return sd_mig_fail(st, -rc, "sending record %llu: %s", (unsigned long long)w->seq,
				   io_what(rc));
	return 0;
}

int sd_mig_put_pass(struct sd_mig_writer *w, u32 pass, bool final, struct sd_mig_status *st)
{
	u8 *p = w->buf + SD_REC_HDR_SIZE;

	rec_header(w->buf, SD_REC_PASS, 8, ++w->seq);
	put32(p, pass);
	put32(p + 4, final);
	return rec_send(w, 8, true, st);
}

static void nonce_of(u8 n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES], u64 seq)
{
	memset(n, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	put64(n, seq);
}

int sd_mig_put_pages(struct sd_mig_writer *w, enum sd_rec_type type, u64 gfn, u32 npages,
		     const void *data, struct sd_mig_status *st)
{
	u8 *p = w->buf + SD_REC_HDR_SIZE;
	size_t bytes = (size_t)npages * 4096;
	bool sealed = type == SD_REC_ENCRYPTED || type == SD_REC_TRANSITION;
	u32 len = (u32)(SD_REC_PAGE_HDR + bytes + (sealed ? SD_REC_TAG : 0));

	if (npages == 0 || npages > SD_REC_MAX_PAGES || (!sealed && type != SD_REC_PLAIN))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "page record: %u pages of type %d", npages,
				   type);
	rec_header(w->buf, (u16)type, len, ++w->seq);
	memset(p, 0, SD_REC_PAGE_HDR);
	put64(p, gfn);
	put32(p + 8, npages);
	if (sealed) {
		/*
		 * The SEV stand-in: on SEV hardware this is KVM_SEV_SEND_UPDATE_DATA,
		 * with the firmware's transport key. AD binds the ciphertext to this
		 * record's type, sequence and GFN.
		 */
		u8 ad[SD_REC_HDR_SIZE + SD_REC_PAGE_HDR], nonce[24];

		memcpy(ad, w->buf, SD_REC_HDR_SIZE);
		memcpy(ad + SD_REC_HDR_SIZE, p, SD_REC_PAGE_HDR);
		nonce_of(nonce, w->seq);
		crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
			p + SD_REC_PAGE_HDR, p + SD_REC_PAGE_HDR + bytes, NULL, data, bytes,
			ad, sizeof(ad), NULL, nonce, w->keys->tx);
	} else {
		memcpy(p + SD_REC_PAGE_HDR, data, bytes);
	}
	w->pages += npages;
	return rec_send(w, len, true, st);
}

int sd_mig_put_registration(struct sd_mig_writer *w, u64 value, u64 generation,
			    const void *hdr128, struct sd_mig_status *st)
{
	u8 *p = w->buf + SD_REC_HDR_SIZE;

	rec_header(w->buf, SD_REC_REGISTRATION, 144, ++w->seq);
	put64(p, value);
	put64(p + 8, generation);
	memcpy(p + 16, hdr128, 128);
	return rec_send(w, 144, true, st);
}

int sd_mig_put_vcpu(struct sd_mig_writer *w, u32 index, u32 nr_items, const void *items,
		    size_t items_len, struct sd_mig_status *st)
{
	u8 *p = w->buf + SD_REC_HDR_SIZE;

	if (items_len > SD_REC_MAX_LEN - 8)
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: %zu bytes of state", index,
				   items_len);
	rec_header(w->buf, SD_REC_VCPU, (u32)(8 + items_len), ++w->seq);
	put32(p, index);
	put32(p + 4, nr_items);
	memcpy(p + 8, items, items_len);
	return rec_send(w, (u32)(8 + items_len), true, st);
}

int sd_mig_put_end(struct sd_mig_writer *w, struct sd_mig_status *st)
{
	u8 *p = w->buf + SD_REC_HDR_SIZE;
	u64 records = w->seq;

	rec_header(w->buf, SD_REC_END, 16 + SD_MIG_DIGEST_BYTES, ++w->seq);
	put64(p, records);
	put64(p + 8, w->pages);
	crypto_generichash_final(&w->digest, p + 16, SD_MIG_DIGEST_BYTES);
	return rec_send(w, 16 + SD_MIG_DIGEST_BYTES, false, st);
}

u32 sd_mig_vcpu_item_len(u32 kind)
{
	switch (kind) {
	case SD_VCPU_REGS: return sizeof(struct kvm_regs);
	case SD_VCPU_SREGS: return sizeof(struct kvm_sregs);
	case SD_VCPU_XSAVE: return sizeof(struct kvm_xsave);
	case SD_VCPU_XCRS: return sizeof(struct kvm_xcrs);
	case SD_VCPU_EVENTS: return sizeof(struct kvm_vcpu_events);
	case SD_VCPU_MP_STATE: return sizeof(struct kvm_mp_state);
	case SD_VCPU_LAPIC: return sizeof(struct kvm_lapic_state);
	case SD_VCPU_DEBUGREGS: return sizeof(struct kvm_debugregs);
	default: return 0;	/* MSRS: from its count; anything else: unknown */
	}
}

int sd_mig_vcpu_item_add(u8 *buf, size_t cap, size_t *len, u32 kind, const void *data,
			 u32 data_len)
{
	size_t need = 8 + SD_ALIGN_UP((size_t)data_len, (size_t)8);

	if (need > cap - *len)
		return -SD_MIG_ERR_LEN;
	put32(buf + *len, kind);
	put32(buf + *len + 4, data_len);
	memset(buf + *len + 8, 0, need - 8);
	memcpy(buf + *len + 8, data, data_len);
	*len += need;
	return 0;
}

/* ---- records: reader ----------------------------------------------------------------- */

enum {
	PH_START,	/* nothing yet: PASS 0 must come first */
	PH_PRECOPY,	/* inside a pre-copy pass */
	PH_FINAL,	/* inside the final pass: pages, then REGISTRATION */
	PH_VCPUS,	/* after REGISTRATION: VCPU records, then END */
	PH_DONE,	/* END received */
};

void sd_mig_reader_init(struct sd_mig_reader *r, const struct sd_io *io,
			const struct sd_mig_keys *keys, u64 ram_bytes, u32 nr_vcpus)
{
	r->io = io;
	r->keys = keys;
	r->ram_pages = ram_bytes / 4096;
	r->nr_vcpus = nr_vcpus;
	r->seq = 0;
	r->pages = 0;
	r->phase = PH_START;
	r->vcpus_seen = 0;
	r->pass = 0;
	memset(r->vcpu_seen, 0, sizeof(r->vcpu_seen));
	crypto_generichash_init(&r->digest, keys->rx, crypto_kx_SESSIONKEYBYTES, SD_MIG_DIGEST_BYTES);
}

int sd_mig_vcpu_items(const struct sd_mig_rec *rec,
		      int (*fn)(void *ctx, u32 kind, const void *data, u32 len), void *ctx,
		      struct sd_mig_status *st)
{
	const u8 *p = rec->vcpu.items, *end = p + rec->vcpu.len;
	u32 seen = 0;

	for (u32 i = 0; i < rec->vcpu.nr_items; i++) {
		u32 kind, len, want;

		if (end - p < 8)
			return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: item %u truncated",
					   rec->vcpu.index, i);
		kind = get32(p);
		len = get32(p + 4);
		if (kind == 0 || kind >= SD_VCPU_NR_KINDS || (seen & (1u << kind)))
			return sd_mig_fail(st, SD_MIG_ERR_TYPE, "vCPU %u: item %u kind %u %s",
					   rec->vcpu.index, i, kind,
					   kind && kind < SD_VCPU_NR_KINDS ? "repeated" : "unknown");
		seen |= 1u << kind;
		want = sd_mig_vcpu_item_len(kind);
		if (kind == SD_VCPU_MSRS) {
			/* Its length follows from its count: which must be there. */
			u32 n;

			if (len < 8 || (size_t)(end - p - 8) < 8)
				return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: MSRS item of %u bytes "
						   "has no count", rec->vcpu.index, len);
			n = get32(p + 8);
			want = n <= SD_MIG_MAX_MSRS ? 8 + 16 * n : 0;
		}
		if (len != want || SD_ALIGN_UP((size_t)len, (size_t)8) > (size_t)(end - p - 8))
			return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: item kind %u has %u bytes",
					   rec->vcpu.index, kind, len);
		if (fn) {
			int rc = fn(ctx, kind, p + 8, len);

			if (rc)
				return sd_mig_fail(st, SD_MIG_ERR_VCPU, "vCPU %u: item kind %u: "
						   "not loadable (%d)", rec->vcpu.index, kind, rc);
		}
		p += 8 + SD_ALIGN_UP((size_t)len, (size_t)8);
	}
	if (p != end)
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: %zu bytes after the last item",
				   rec->vcpu.index, (size_t)(end - p));
	if (!(seen & (1u << SD_VCPU_REGS)) || !(seen & (1u << SD_VCPU_SREGS)))
		return sd_mig_fail(st, SD_MIG_ERR_VCPU, "vCPU %u: REGS and SREGS are required",
				   rec->vcpu.index);
	return 0;
}

/* Exact payload length a type allows, given the payload (page count from its header). */
static bool len_ok(u16 type, u32 len)
{
	switch (type) {
	case SD_REC_PASS:
		return len == 8;
	case SD_REC_PLAIN:
		return len > SD_REC_PAGE_HDR && (len - SD_REC_PAGE_HDR) % 4096 == 0;
	case SD_REC_ENCRYPTED:
	case SD_REC_TRANSITION:
		return len > SD_REC_PAGE_HDR + SD_REC_TAG &&
		       (len - SD_REC_PAGE_HDR - SD_REC_TAG) % 4096 == 0;
	case SD_REC_REGISTRATION:
		return len == 144;
	case SD_REC_VCPU:
		return len >= 8;
	case SD_REC_END:
		return len == 16 + SD_MIG_DIGEST_BYTES;
	default:
		return false;
	}
}

static int read_pages(struct sd_mig_reader *r, struct sd_mig_rec *rec, u16 type, u32 len,
		      struct sd_mig_status *st)
{
	const u8 *h = r->buf, *p = r->buf + SD_REC_HDR_SIZE;
	bool sealed = type != SD_REC_PLAIN;
	u64 gfn = get64(p);
	u32 npages = get32(p + 8);
	size_t bytes = (size_t)npages * 4096;

	if (get32(p + 12))
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: reserved page-header field set",
				   (unsigned long long)r->seq);
	if (npages == 0 || npages > SD_REC_MAX_PAGES ||
	    len != SD_REC_PAGE_HDR + bytes + (sealed ? SD_REC_TAG : 0))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "record %llu: %u pages in %u bytes",
				   (unsigned long long)r->seq, npages, len);
	if (gfn >= r->ram_pages || npages > r->ram_pages - gfn)
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "record %llu: GFN %#llx+%u outside RAM "
				   "(%#llx pages)", (unsigned long long)r->seq,
				   (unsigned long long)gfn, npages, (unsigned long long)r->ram_pages);
	if (type == SD_REC_TRANSITION && r->phase != PH_FINAL)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: TRANSITION pages outside the "
				   "final pass", (unsigned long long)r->seq);
	if (sealed) {
		/* The stand-in for KVM_SEV_RECEIVE_UPDATE_DATA. */
		u8 ad[SD_REC_HDR_SIZE + SD_REC_PAGE_HDR], nonce[24];

		memcpy(ad, h, SD_REC_HDR_SIZE);
		memset(ad + 16, 0, 4);	/* AD has crc zero */
		memcpy(ad + SD_REC_HDR_SIZE, p, SD_REC_PAGE_HDR);
		nonce_of(nonce, r->seq);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
			    r->plain, NULL, p + SD_REC_PAGE_HDR, bytes, p + SD_REC_PAGE_HDR + bytes,
			    ad, sizeof(ad), nonce, r->keys->rx))
			return sd_mig_fail(st, SD_MIG_ERR_AUTH, "record %llu: GFN %#llx+%u failed "
					   "authentication", (unsigned long long)r->seq,
					   (unsigned long long)gfn, npages);
		rec->pages.data = r->plain;
	} else {
		rec->pages.data = p + SD_REC_PAGE_HDR;
	}
	rec->pages.gfn = gfn;
	rec->pages.npages = npages;
	r->pages += npages;
	return 0;
}

int sd_mig_next(struct sd_mig_reader *r, struct sd_mig_rec *rec, struct sd_mig_status *st)
{
	u8 *h = r->buf, *p = r->buf + SD_REC_HDR_SIZE;
	u64 want_seq = r->seq + 1;
	u32 len, crc;
	u16 type;
	int rc;

	if (r->phase == PH_DONE)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "read past END");
	rc = r->io->read(r->io->ctx, h, SD_REC_HDR_SIZE);
	if (rc)
		return sd_mig_fail(st, -rc, "record %llu: header: %s (stream cut?)",
				   (unsigned long long)want_seq, io_what(rc));
	type = get16(h);
	len = get32(h + 4);
	if (get16(h + 2) || get32(h + 20))
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: flags or reserved bits set",
				   (unsigned long long)want_seq);
	if (len > SD_REC_MAX_LEN)
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "record %llu: %u bytes (at most %u)",
				   (unsigned long long)want_seq, len, SD_REC_MAX_LEN);
	rc = r->io->read(r->io->ctx, p, len);
	if (rc)
		return sd_mig_fail(st, -rc, "record %llu: payload of %u bytes: %s (stream cut?)",
				   (unsigned long long)want_seq, len, io_what(rc));
	crc = get32(h + 16);
	put32(h + 16, 0);
	if (crc != sd_crc32c(0, h, SD_REC_HDR_SIZE + len))
		return sd_mig_fail(st, SD_MIG_ERR_CRC, "record %llu: CRC mismatch",
				   (unsigned long long)want_seq);
	put32(h + 16, crc);
	if (type < SD_REC_PASS || type > SD_REC_END)
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: unknown type %u",
				   (unsigned long long)want_seq, type);
	if (get64(h + 8) != want_seq)
		return sd_mig_fail(st, SD_MIG_ERR_SEQ, "record %llu arrived where %llu was due",
				   (unsigned long long)get64(h + 8), (unsigned long long)want_seq);
	if (!len_ok(type, len))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "record %llu: type %u with %u bytes",
				   (unsigned long long)want_seq, type, len);
	r->seq = want_seq;
	rec->type = type;
	rec->seq = want_seq;

	switch (type) {
	case SD_REC_PASS:
		rec->pass.pass = get32(p);
		rec->pass.final = get32(p + 4) != 0;
		if (get32(p + 4) > 1)
			return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: PASS final=%u",
					   (unsigned long long)r->seq, get32(p + 4));
		if (r->phase == PH_START ? rec->pass.pass != 0 :
		    r->phase != PH_PRECOPY || rec->pass.pass != r->pass + 1)
			return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: PASS %u not allowed "
					   "here (after pass %u)", (unsigned long long)r->seq,
					   rec->pass.pass, r->pass);
		r->pass = rec->pass.pass;
		r->phase = rec->pass.final ? PH_FINAL : PH_PRECOPY;
		break;
	case SD_REC_PLAIN:
	case SD_REC_ENCRYPTED:
	case SD_REC_TRANSITION:
		if (r->phase != PH_PRECOPY && r->phase != PH_FINAL)
			return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: pages outside a pass",
					   (unsigned long long)r->seq);
		rc = read_pages(r, rec, type, len, st);
		if (rc)
			return rc;
		break;
	case SD_REC_REGISTRATION:
		if (r->phase != PH_FINAL)
			return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: REGISTRATION before "
					   "the final pass or twice", (unsigned long long)r->seq);
		rec->reg.value = get64(p);
		rec->reg.generation = get64(p + 8);
		rec->reg.hdr = p + 16;
		r->phase = PH_VCPUS;
		break;
	case SD_REC_VCPU:
		if (r->phase != PH_VCPUS)
			return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: VCPU before the "
					   "registration", (unsigned long long)r->seq);
		rec->vcpu.index = get32(p);
		rec->vcpu.nr_items = get32(p + 4);
		rec->vcpu.items = p + 8;
		rec->vcpu.len = len - 8;
		if (rec->vcpu.index >= r->nr_vcpus || r->vcpu_seen[rec->vcpu.index])
			return sd_mig_fail(st, SD_MIG_ERR_RANGE, "record %llu: vCPU %u (of %u) %s",
					   (unsigned long long)r->seq, rec->vcpu.index, r->nr_vcpus,
					   rec->vcpu.index < r->nr_vcpus ? "sent twice" : "unknown");
		rc = sd_mig_vcpu_items(rec, NULL, NULL, st);
		if (rc)
			return rc;
		r->vcpu_seen[rec->vcpu.index] = 1;
		r->vcpus_seen++;
		break;
	case SD_REC_END: {
		u8 d[SD_MIG_DIGEST_BYTES];

		if (r->phase != PH_VCPUS || r->vcpus_seen != r->nr_vcpus)
			return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: END with %u of %u "
					   "vCPUs and %s registration", (unsigned long long)r->seq,
					   r->vcpus_seen, r->nr_vcpus,
					   r->phase >= PH_VCPUS ? "a" : "no");
		rec->end.records = get64(p);
		rec->end.pages = get64(p + 8);
		crypto_generichash_final(&r->digest, d, sizeof(d));
		if (sodium_memcmp(d, p + 16, sizeof(d)))
			return sd_mig_fail(st, SD_MIG_ERR_DIGEST, "END: stream digest mismatch");
		if (rec->end.records != r->seq - 1 || rec->end.pages != r->pages)
			return sd_mig_fail(st, SD_MIG_ERR_DIGEST, "END: %llu records and %llu pages "
					   "announced, %llu and %llu received",
					   (unsigned long long)rec->end.records,
					   (unsigned long long)rec->end.pages,
					   (unsigned long long)(r->seq - 1),
					   (unsigned long long)r->pages);
		r->phase = PH_DONE;
		return 0;
	}
	}
	crypto_generichash_update(&r->digest, h, SD_REC_HDR_SIZE + len);
	return 0;
}
