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
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "stream.h"
#include "stream_wire.h"

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
	[SD_MIG_ERR_PEER_KEY] = "SD_MIG_ERR_PEER_KEY",
	[SD_MIG_ERR_PEER_SIG] = "SD_MIG_ERR_PEER_SIG",
	[SD_MIG_ERR_CONVERGE] = "SD_MIG_ERR_CONVERGE",
	[SD_MIG_ERR_PAUSE] = "SD_MIG_ERR_PAUSE",
	[SD_MIG_ERR_NOMEM] = "SD_MIG_ERR_NOMEM",
	[SD_MIG_ERR_ABORTED] = "SD_MIG_ERR_ABORTED",
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

static const char *io_what(int rc)
{
	if (rc == -SD_MIG_ERR_TIMEOUT)
		return "the peer did not keep up within the deadline (--timeout)";
	return rc == -SD_MIG_ERR_EOF ? "the connection closed" : "the connection failed";
}

const char *sd_mig_io_what(int rc)
{
	return io_what(rc);
}

/* The handshake (docs/STREAM.md 2-3) is in handshake.c. */

int sd_mig_send_result(const struct sd_io *io, const struct sd_mig_status *result)
{
	struct sd_mig_result b;

	memset(&b, 0, sizeof(b));
	b.magic = SD_MIG_RESULT_MAGIC;
	b.status = (u32)result->err;
	if (result->err)
		snprintf(b.message, sizeof(b.message), "%s", result->msg);
	b.crc = sd_crc32c(0, &b, sizeof(b));
	return io->write(io->ctx, &b, sizeof(b));
}

int sd_mig_recv_result(const struct sd_io *io, struct sd_mig_status *st)
{
	u8 buf[sizeof(struct sd_mig_result)];
	int rc = io->read(io->ctx, buf, sizeof(buf));

	if (rc)
		return sd_mig_fail(st, -rc, "waiting for the destination's RESULT: %s", io_what(rc));
	return sd_mig_result_parse(buf, st);
}

int sd_mig_result_parse(const void *buf, struct sd_mig_status *st)
{
	struct sd_mig_result b;
	u32 crc;

	memcpy(&b, buf, sizeof(b));
	if (b.magic != SD_MIG_RESULT_MAGIC)
		return sd_mig_fail(st, SD_MIG_ERR_MAGIC, "RESULT: bad magic");
	crc = b.crc;
	b.crc = 0;
	if (crc != sd_crc32c(0, &b, sizeof(b)))
		return sd_mig_fail(st, SD_MIG_ERR_CRC, "RESULT: CRC mismatch");
	if (!memchr(b.message, 0, sizeof(b.message)))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "RESULT: message not terminated");
	if (b.status == 0)
		return 0;
	/* A refusal may come before the peer is authenticated: print no control bytes of it. */
	for (char *c = b.message; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	return sd_mig_fail(st, SD_MIG_ERR_REFUSED, "destination refused: %s", b.message);
}

int sd_mig_send_commit(const struct sd_io *io, struct sd_mig_status *st)
{
	struct sd_mig_commit c = { .magic = SD_MIG_COMMIT_MAGIC };
	int rc = io->write(io->ctx, &c, sizeof(c));

	return rc ? sd_mig_fail(st, -rc, "sending COMMIT: %s", io_what(rc)) : 0;
}

int sd_mig_recv_commit(const struct sd_io *io, struct sd_mig_status *st)
{
	struct sd_mig_commit c;
	int rc = io->read(io->ctx, &c, sizeof(c));

	if (rc)
		return sd_mig_fail(st, -rc, "waiting for COMMIT: %s", io_what(rc));
	if (c.magic != SD_MIG_COMMIT_MAGIC)
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
	w->done = false;
	/* Keyed with the transport key: END binds every record to this migration's keys. */
	crypto_generichash_init(&w->digest, keys->tx, crypto_kx_SESSIONKEYBYTES, SD_MIG_DIGEST_BYTES);
}

/* Start the record in w->buf: its header (crc zero until rec_send), and the next seq. */
static u8 *rec_begin(struct sd_mig_writer *w, u16 type, u32 len)
{
	struct sd_rec_hdr h = { .type = type, .len = len, .seq = ++w->seq };

	memcpy(w->buf, &h, sizeof(h));
	return w->buf + sizeof(h);
}

/* The record in w->buf (header with crc 0, then @len payload bytes): seal and send. */
static int rec_send(struct sd_mig_writer *w, u32 len, bool digest, struct sd_mig_status *st)
{
	u32 crc = sd_crc32c(0, w->buf, SD_REC_HDR_SIZE + len);
	int rc;

	memcpy(w->buf + offsetof(struct sd_rec_hdr, crc), &crc, sizeof(crc));
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
	struct sd_rec_pass p = { .pass = pass, .final = final };

	memcpy(rec_begin(w, SD_REC_PASS, sizeof(p)), &p, sizeof(p));
	return rec_send(w, sizeof(p), true, st);
}

static void nonce_of(u8 n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES], u64 seq)
{
	memset(n, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	memcpy(n, &seq, sizeof(seq));
}

int sd_mig_put_pages(struct sd_mig_writer *w, enum sd_rec_type type, u64 gfn, u32 npages,
		     const void *data, struct sd_mig_status *st)
{
	struct sd_rec_pages ph = { .gfn = gfn, .npages = npages };
	size_t bytes = (size_t)npages * 4096;
	bool sealed = type == SD_REC_ENCRYPTED || type == SD_REC_TRANSITION;
	u32 len = (u32)(SD_REC_PAGE_HDR + bytes + (sealed ? SD_REC_TAG : 0));
	u8 *p;

	if (npages == 0 || npages > SD_REC_MAX_PAGES || (!sealed && type != SD_REC_PLAIN))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "page record: %u pages of type %d", npages,
				   type);
	p = rec_begin(w, (u16)type, len);
	memcpy(p, &ph, sizeof(ph));
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
	struct sd_rec_registration r = { .value = value, .generation = generation };

	memcpy(r.header, hdr128, sizeof(r.header));
	memcpy(rec_begin(w, SD_REC_REGISTRATION, sizeof(r)), &r, sizeof(r));
	return rec_send(w, sizeof(r), true, st);
}

int sd_mig_put_vcpu(struct sd_mig_writer *w, u32 index, u32 nr_items, const void *items,
		    size_t items_len, struct sd_mig_status *st)
{
	struct sd_rec_vcpu v = { .index = index, .nr_items = nr_items };
	u8 *p;

	if (items_len > SD_REC_MAX_LEN - sizeof(v))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: %zu bytes of state", index,
				   items_len);
	p = rec_begin(w, SD_REC_VCPU, (u32)(sizeof(v) + items_len));
	memcpy(p, &v, sizeof(v));
	memcpy(p + sizeof(v), items, items_len);
	return rec_send(w, (u32)(sizeof(v) + items_len), true, st);
}

int sd_mig_put_end(struct sd_mig_writer *w, struct sd_mig_status *st)
{
	struct sd_rec_end e = { .records = w->seq, .pages = w->pages };

	if (w->done)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "END after END or ABORT");
	w->done = true;
	crypto_generichash_final(&w->digest, e.digest, sizeof(e.digest));
	memcpy(rec_begin(w, SD_REC_END, sizeof(e)), &e, sizeof(e));
	return rec_send(w, sizeof(e), false, st);
}

int sd_mig_put_abort(struct sd_mig_writer *w, int err, struct sd_mig_status *st)
{
	struct sd_rec_abort a = { .error = (u32)err };

	if (err <= 0 || !sd_mig_abort_err_ok((u32)err))
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "ABORT: error number %d is not a source's "
				   "own (docs/STREAM.md 4.6: 17, 21, 22 or 23)", err);
	if (w->done)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "ABORT after END or ABORT");
	w->done = true;
	/*
	 * END's digest, continued over error and reserved: the destination
	 * believes only an ABORT from this migration's source, and its reason.
	 */
	crypto_generichash_update(&w->digest, (const u8 *)&a, offsetof(struct sd_rec_abort, digest));
	crypto_generichash_final(&w->digest, a.digest, sizeof(a.digest));
	memcpy(rec_begin(w, SD_REC_ABORT, sizeof(a)), &a, sizeof(a));
	return rec_send(w, sizeof(a), false, st);
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
	struct sd_vcpu_item_hdr it = { .kind = kind, .len = data_len };
	size_t need = sizeof(it) + SD_ALIGN_UP((size_t)data_len, (size_t)8);

	if (need > cap - *len)
		return -SD_MIG_ERR_LEN;
	memcpy(buf + *len, &it, sizeof(it));
	memset(buf + *len + sizeof(it), 0, need - sizeof(it));
	memcpy(buf + *len + sizeof(it), data, data_len);
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

/* One item's exact length: fixed by its kind, or (MSRS) by the count it must hold. */
static int item_len(const struct sd_mig_rec *rec, const u8 *p, const u8 *end,
		    const struct sd_vcpu_item_hdr *it, struct sd_mig_status *st)
{
	struct sd_vcpu_msrs m;
	u32 want = sd_mig_vcpu_item_len(it->kind);

	if (it->kind == SD_VCPU_MSRS) {
		if (it->len < sizeof(m) || (size_t)(end - p) - sizeof(*it) < sizeof(m))
			return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: MSRS item of %u bytes has no "
					   "count", rec->vcpu.index, it->len);
		memcpy(&m, p + sizeof(*it), sizeof(m));
		want = m.nmsrs <= SD_MIG_MAX_MSRS ?
		       (u32)(sizeof(m) + sizeof(struct sd_vcpu_msr) * m.nmsrs) : 0;
	}
	if (it->len != want ||
	    SD_ALIGN_UP((size_t)it->len, (size_t)8) > (size_t)(end - p) - sizeof(*it))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: item kind %u has %u bytes",
				   rec->vcpu.index, it->kind, it->len);
	return 0;
}

int sd_mig_vcpu_items(const struct sd_mig_rec *rec,
		      int (*fn)(void *ctx, u32 kind, const void *data, u32 len), void *ctx,
		      struct sd_mig_status *st)
{
	const u8 *p = rec->vcpu.items, *end = p + rec->vcpu.len;
	u32 seen = 0;

	for (u32 i = 0; i < rec->vcpu.nr_items; i++) {
		struct sd_vcpu_item_hdr it;
		int rc;

		if ((size_t)(end - p) < sizeof(it))
			return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: item %u truncated",
					   rec->vcpu.index, i);
		memcpy(&it, p, sizeof(it));
		if (it.kind == 0 || it.kind >= SD_VCPU_NR_KINDS || (seen & (1u << it.kind)))
			return sd_mig_fail(st, SD_MIG_ERR_TYPE, "vCPU %u: item %u kind %u %s",
					   rec->vcpu.index, i, it.kind,
					   it.kind && it.kind < SD_VCPU_NR_KINDS ? "repeated" : "unknown");
		seen |= 1u << it.kind;
		rc = item_len(rec, p, end, &it, st);
		if (rc)
			return rc;
		if (fn) {
			rc = fn(ctx, it.kind, p + sizeof(it), it.len);
			if (rc)
				return sd_mig_fail(st, SD_MIG_ERR_VCPU, "vCPU %u: item kind %u: "
						   "not loadable (%d)", rec->vcpu.index, it.kind, rc);
		}
		p += sizeof(it) + SD_ALIGN_UP((size_t)it.len, (size_t)8);
	}
	if (p != end)
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "vCPU %u: %zu bytes after the last item",
				   rec->vcpu.index, (size_t)(end - p));
	if (!(seen & (1u << SD_VCPU_REGS)) || !(seen & (1u << SD_VCPU_SREGS)))
		return sd_mig_fail(st, SD_MIG_ERR_VCPU, "vCPU %u: REGS and SREGS are required",
				   rec->vcpu.index);
	return 0;
}

/* Exact payload length a type allows (page records: checked again against their count). */
static bool len_ok(u16 type, u32 len)
{
	switch (type) {
	case SD_REC_PASS:
		return len == sizeof(struct sd_rec_pass);
	case SD_REC_PLAIN:
		return len > SD_REC_PAGE_HDR && (len - SD_REC_PAGE_HDR) % 4096 == 0;
	case SD_REC_ENCRYPTED:
	case SD_REC_TRANSITION:
		return len > SD_REC_PAGE_HDR + SD_REC_TAG &&
		       (len - SD_REC_PAGE_HDR - SD_REC_TAG) % 4096 == 0;
	case SD_REC_REGISTRATION:
		return len == sizeof(struct sd_rec_registration);
	case SD_REC_VCPU:
		return len >= sizeof(struct sd_rec_vcpu);
	case SD_REC_END:
		return len == sizeof(struct sd_rec_end);
	case SD_REC_ABORT:
		return len == sizeof(struct sd_rec_abort);
	default:
		return false;
	}
}

static int read_pages(struct sd_mig_reader *r, struct sd_mig_rec *rec, u16 type, u32 len,
		      struct sd_mig_status *st)
{
	const u8 *p = r->buf + SD_REC_HDR_SIZE;
	bool sealed = type != SD_REC_PLAIN;
	struct sd_rec_pages ph;
	size_t bytes;

	memcpy(&ph, p, sizeof(ph));
	bytes = (size_t)ph.npages * 4096;
	if (ph.reserved)
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: reserved page-header field set",
				   (unsigned long long)r->seq);
	if (ph.npages == 0 || ph.npages > SD_REC_MAX_PAGES ||
	    len != SD_REC_PAGE_HDR + bytes + (sealed ? SD_REC_TAG : 0))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "record %llu: %u pages in %u bytes",
				   (unsigned long long)r->seq, ph.npages, len);
	if (ph.gfn >= r->ram_pages || ph.npages > r->ram_pages - ph.gfn)
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "record %llu: GFN %#llx+%u outside RAM "
				   "(%#llx pages)", (unsigned long long)r->seq,
				   (unsigned long long)ph.gfn, ph.npages,
				   (unsigned long long)r->ram_pages);
	if (type == SD_REC_TRANSITION && r->phase != PH_FINAL)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: TRANSITION pages outside the "
				   "final pass", (unsigned long long)r->seq);
	if (sealed) {
		/* The stand-in for KVM_SEV_RECEIVE_UPDATE_DATA. */
		u8 ad[SD_REC_HDR_SIZE + SD_REC_PAGE_HDR], nonce[24];

		memcpy(ad, r->buf, SD_REC_HDR_SIZE);
		memset(ad + offsetof(struct sd_rec_hdr, crc), 0, 4);	/* AD has crc zero */
		memcpy(ad + SD_REC_HDR_SIZE, p, SD_REC_PAGE_HDR);
		nonce_of(nonce, r->seq);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
			    r->plain, NULL, p + SD_REC_PAGE_HDR, bytes, p + SD_REC_PAGE_HDR + bytes,
			    ad, sizeof(ad), nonce, r->keys->rx))
			return sd_mig_fail(st, SD_MIG_ERR_AUTH, "record %llu: GFN %#llx+%u failed "
					   "authentication", (unsigned long long)r->seq,
					   (unsigned long long)ph.gfn, ph.npages);
		rec->pages.data = r->plain;
	} else {
		rec->pages.data = p + SD_REC_PAGE_HDR;
	}
	rec->pages.gfn = ph.gfn;
	rec->pages.npages = ph.npages;
	r->pages += ph.npages;
	return 0;
}

/*
 * Read the next record into r->buf and check what every record must pass,
 * before anything is decoded: reserved fields and the generic length bound
 * (before reading the payload), the CRC, the type, the sequence number and
 * the type's length. Returns the header in @h.
 */
static int read_record(struct sd_mig_reader *r, struct sd_rec_hdr *h, struct sd_mig_status *st)
{
	u8 *p = r->buf + SD_REC_HDR_SIZE;
	u64 want_seq = r->seq + 1;
	u32 zero = 0;
	int rc;

	rc = r->io->read(r->io->ctx, r->buf, SD_REC_HDR_SIZE);
	if (rc)
		return sd_mig_fail(st, -rc, "record %llu: header: %s (stream cut?)",
				   (unsigned long long)want_seq, io_what(rc));
	memcpy(h, r->buf, sizeof(*h));
	if (h->flags || h->reserved)
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: flags or reserved bits set",
				   (unsigned long long)want_seq);
	if (h->len > SD_REC_MAX_LEN)
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "record %llu: %u bytes (at most %u)",
				   (unsigned long long)want_seq, h->len, SD_REC_MAX_LEN);
	rc = r->io->read(r->io->ctx, p, h->len);
	if (rc)
		return sd_mig_fail(st, -rc, "record %llu: payload of %u bytes: %s (stream cut?)",
				   (unsigned long long)want_seq, h->len, io_what(rc));
	memcpy(r->buf + offsetof(struct sd_rec_hdr, crc), &zero, sizeof(zero));
	if (h->crc != sd_crc32c(0, r->buf, SD_REC_HDR_SIZE + h->len))
		return sd_mig_fail(st, SD_MIG_ERR_CRC, "record %llu: CRC mismatch",
				   (unsigned long long)want_seq);
	memcpy(r->buf + offsetof(struct sd_rec_hdr, crc), &h->crc, sizeof(h->crc));
	if (h->type < SD_REC_PASS || h->type > SD_REC_ABORT)
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: unknown type %u",
				   (unsigned long long)want_seq, h->type);
	if (h->seq != want_seq)
		return sd_mig_fail(st, SD_MIG_ERR_SEQ, "record %llu arrived where %llu was due",
				   (unsigned long long)h->seq, (unsigned long long)want_seq);
	if (!len_ok(h->type, h->len))
		return sd_mig_fail(st, SD_MIG_ERR_LEN, "record %llu: type %u with %u bytes",
				   (unsigned long long)want_seq, h->type, h->len);
	r->seq = want_seq;
	return 0;
}

/* PASS: numbered 0, 1, ... in order; after the final one, no other (4.4). */
static int take_pass(struct sd_mig_reader *r, struct sd_mig_rec *rec, struct sd_mig_status *st)
{
	struct sd_rec_pass p;

	memcpy(&p, r->buf + SD_REC_HDR_SIZE, sizeof(p));
	if (p.final > 1)
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: PASS final=%u",
				   (unsigned long long)r->seq, p.final);
	rec->pass.pass = p.pass;
	rec->pass.final = p.final;
	if (r->phase == PH_START ? p.pass != 0 : r->phase != PH_PRECOPY || p.pass != r->pass + 1)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: PASS %u not allowed here "
				   "(after pass %u)", (unsigned long long)r->seq, p.pass, r->pass);
	r->pass = p.pass;
	r->phase = p.final ? PH_FINAL : PH_PRECOPY;
	return 0;
}

static int take_vcpu(struct sd_mig_reader *r, struct sd_mig_rec *rec, u32 len,
		     struct sd_mig_status *st)
{
	const u8 *p = r->buf + SD_REC_HDR_SIZE;
	struct sd_rec_vcpu v;
	int rc;

	if (r->phase != PH_VCPUS)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: VCPU before the registration",
				   (unsigned long long)r->seq);
	memcpy(&v, p, sizeof(v));
	rec->vcpu.index = v.index;
	rec->vcpu.nr_items = v.nr_items;
	rec->vcpu.items = p + sizeof(v);
	rec->vcpu.len = len - sizeof(v);
	if (v.index >= r->nr_vcpus || r->vcpu_seen[v.index])
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "record %llu: vCPU %u (of %u) %s",
				   (unsigned long long)r->seq, v.index, r->nr_vcpus,
				   v.index < r->nr_vcpus ? "sent twice" : "unknown");
	rc = sd_mig_vcpu_items(rec, NULL, NULL, st);
	if (rc)
		return rc;
	r->vcpu_seen[v.index] = 1;
	r->vcpus_seen++;
	return 0;
}

/* END: after every vCPU; the digest and the counts must match what arrived (4.5). */
static int take_end(struct sd_mig_reader *r, struct sd_mig_rec *rec, struct sd_mig_status *st)
{
	struct sd_rec_end e;
	u8 d[SD_MIG_DIGEST_BYTES];

	if (r->phase != PH_VCPUS || r->vcpus_seen != r->nr_vcpus)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: END with %u of %u vCPUs and "
				   "%s registration", (unsigned long long)r->seq, r->vcpus_seen,
				   r->nr_vcpus, r->phase >= PH_VCPUS ? "a" : "no");
	memcpy(&e, r->buf + SD_REC_HDR_SIZE, sizeof(e));
	rec->end.records = e.records;
	rec->end.pages = e.pages;
	crypto_generichash_final(&r->digest, d, sizeof(d));
	if (sodium_memcmp(d, e.digest, sizeof(d)))
		return sd_mig_fail(st, SD_MIG_ERR_DIGEST, "END: stream digest mismatch");
	if (e.records != r->seq - 1 || e.pages != r->pages)
		return sd_mig_fail(st, SD_MIG_ERR_DIGEST, "END: %llu records and %llu pages "
				   "announced, %llu and %llu received", (unsigned long long)e.records,
				   (unsigned long long)e.pages, (unsigned long long)(r->seq - 1),
				   (unsigned long long)r->pages);
	r->phase = PH_DONE;
	return 0;
}

/*
 * ABORT (4.6), in place of any record before END: the last one. Believed
 * only if its digest is this migration's, over the records before it and
 * its own error number (nobody without the key can abort with a reason, or
 * change the reason), and only for a failure a source has of its own.
 */
static int take_abort(struct sd_mig_reader *r, struct sd_mig_rec *rec, struct sd_mig_status *st)
{
	unsigned long long seq = (unsigned long long)r->seq;
	struct sd_rec_abort a;
	u8 d[SD_MIG_DIGEST_BYTES];

	memcpy(&a, r->buf + SD_REC_HDR_SIZE, sizeof(a));
	/* The last record, whatever it holds: the digest ends here, nothing after it is read. */
	r->phase = PH_DONE;
	if (a.reserved)
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "record %llu: ABORT: reserved field set", seq);
	crypto_generichash_update(&r->digest, (const u8 *)&a, offsetof(struct sd_rec_abort, digest));
	crypto_generichash_final(&r->digest, d, sizeof(d));
	if (sodium_memcmp(d, a.digest, sizeof(d)))
		return sd_mig_fail(st, SD_MIG_ERR_DIGEST, "record %llu: ABORT: stream digest "
				   "mismatch", seq);
	if (!sd_mig_abort_err_ok(a.error))
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "record %llu: ABORT: error number %u is "
				   "not a source's own (docs/STREAM.md 4.6: 17, 21, 22 or 23)", seq,
				   a.error);
	rec->abort.err = a.error;
	return sd_mig_fail(st, SD_MIG_ERR_ABORTED, "record %llu: source aborted: %s", seq,
			   sd_mig_err_name((int)a.error));
}

int sd_mig_next(struct sd_mig_reader *r, struct sd_mig_rec *rec, struct sd_mig_status *st)
{
	struct sd_rec_hdr h;
	int rc;

	if (r->phase == PH_DONE)
		return sd_mig_fail(st, SD_MIG_ERR_ORDER, "read past END");
	rc = read_record(r, &h, st);
	if (rc)
		return rc;
	rec->type = h.type;
	rec->seq = h.seq;
	switch (h.type) {
	case SD_REC_PASS:
		rc = take_pass(r, rec, st);
		break;
	case SD_REC_PLAIN:
	case SD_REC_ENCRYPTED:
	case SD_REC_TRANSITION:
		if (r->phase != PH_PRECOPY && r->phase != PH_FINAL)
			return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: pages outside a pass",
					   (unsigned long long)r->seq);
		rc = read_pages(r, rec, h.type, h.len, st);
		break;
	case SD_REC_REGISTRATION: {
		const u8 *g = r->buf + SD_REC_HDR_SIZE;

		if (r->phase != PH_FINAL)
			return sd_mig_fail(st, SD_MIG_ERR_ORDER, "record %llu: REGISTRATION before "
					   "the final pass or twice", (unsigned long long)r->seq);
		memcpy(&rec->reg.value, g + offsetof(struct sd_rec_registration, value), 8);
		memcpy(&rec->reg.generation, g + offsetof(struct sd_rec_registration, generation), 8);
		rec->reg.hdr = g + offsetof(struct sd_rec_registration, header);
		r->phase = PH_VCPUS;
		break;
	}
	case SD_REC_VCPU:
		rc = take_vcpu(r, rec, h.len, st);
		break;
	case SD_REC_END:
		return take_end(r, rec, st);	/* END is not part of its own digest */
	case SD_REC_ABORT:
		return take_abort(r, rec, st);	/* nor is ABORT */
	}
	if (rc)
		return rc;
	crypto_generichash_update(&r->digest, r->buf, SD_REC_HDR_SIZE + h.len);
	return 0;
}
