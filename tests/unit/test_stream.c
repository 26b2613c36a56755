// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_stream.c - the migration stream (docs/STREAM.md): round trips, and
 * every way a stream can be cut, corrupted or tampered with, each rejected
 * with its exact error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include "sd_test.h"
#include "stream.h"
#include "stream_wire.h"
#include "identity.h"

#define RAM_BYTES	(256ULL << 20)	/* 65536 pages */
#define NR_VCPUS	2

/* ---- building a reference stream --------------------------------------------- */

struct pair {
	struct sd_mig_keys src, dst;
	struct sd_membuf m;		/* the records, source to destination */
	u8 page[4][64 * 4096];		/* the page payloads sent */
	struct kvm_regs regs[NR_VCPUS];
	struct kvm_sregs sregs[NR_VCPUS];
	u8 hdr128[128];
};

static void fill(u8 *p, size_t n, u32 seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (u8)((i * 2654435761u + seed) >> 13);
}

/* A whole version-2 handshake in memory, between two demo identities. */
static void keys_pair(struct pair *s)
{
	static struct sd_mig_ids ids_src, ids_dst;
	static struct sd_mig_hs hs_src, hs_dst;
	u8 buf[256];
	struct sd_membuf m = { buf, 0, sizeof(buf), 0 };
	struct sd_io io = sd_io_mem(&m);
	struct sd_mig_status st;
	u64 ram;
	u32 nv;

	sd_id_demo_pair(&ids_src, &ids_dst);
	assert_int_equal(sd_mig_send_hello(&io, RAM_BYTES, &ids_dst, &hs_dst, &st), 0);
	assert_int_equal(sd_mig_recv_hello(&io, RAM_BYTES, &ids_src, &hs_src, &st), 0);
	m.len = m.pos = 0;
	assert_int_equal(sd_mig_send_header(&io, RAM_BYTES, NR_VCPUS, &hs_src, &st), 0);
	assert_int_equal(sd_mig_recv_header(&io, RAM_BYTES, &hs_dst, &ram, &nv, &st), 0);
	m.len = m.pos = 0;
	assert_int_equal(sd_mig_send_auth(&io, &hs_dst, &st), 0);
	assert_int_equal(sd_mig_recv_auth(&io, &hs_src, &st), 0);
	assert_int_equal(ram, RAM_BYTES);
	assert_int_equal(nv, NR_VCPUS);
	s->src = hs_src.keys;
	s->dst = hs_dst.keys;
}

static size_t vcpu_items(struct pair *s, int i, u8 *buf, size_t cap, bool with_msrs)
{
	size_t len = 0;

	assert_int_equal(sd_mig_vcpu_item_add(buf, cap, &len, SD_VCPU_REGS, &s->regs[i],
					      sizeof(s->regs[i])), 0);
	assert_int_equal(sd_mig_vcpu_item_add(buf, cap, &len, SD_VCPU_SREGS, &s->sregs[i],
					      sizeof(s->sregs[i])), 0);
	if (with_msrs) {
		u8 msrs[8 + 16 * 2] = { 2 };

		assert_int_equal(sd_mig_vcpu_item_add(buf, cap, &len, SD_VCPU_MSRS, msrs,
						      sizeof(msrs)), 0);
	}
	return len;
}

/* PASS 0: 3 plain + 64 encrypted pages; PASS 1 final: 1 transition page; REG; 2 VCPU; END. */
static struct pair *make_stream(void)
{
	struct pair *s = calloc(1, sizeof(*s));
	struct sd_mig_writer *w = malloc(sizeof(*w));
	struct sd_mig_status st;
	struct sd_io io;
	u8 items[8192];

	keys_pair(s);
	s->m.cap = 1 << 20;
	s->m.buf = malloc(s->m.cap);
	io = sd_io_mem(&s->m);
	for (int i = 0; i < 4; i++)
		fill(s->page[i], sizeof(s->page[i]), (u32)i * 7 + 1);
	for (int i = 0; i < NR_VCPUS; i++) {
		fill((u8 *)&s->regs[i], sizeof(s->regs[i]), 100 + (u32)i);
		fill((u8 *)&s->sregs[i], sizeof(s->sregs[i]), 200 + (u32)i);
	}
	fill(s->hdr128, 128, 300);

	sd_mig_writer_init(w, &io, &s->src);
	assert_int_equal(sd_mig_put_pass(w, 0, false, &st), 0);				/* 1 */
	assert_int_equal(sd_mig_put_pages(w, SD_REC_PLAIN, 0x10, 3, s->page[0], &st), 0);	/* 2 */
	assert_int_equal(sd_mig_put_pages(w, SD_REC_ENCRYPTED, 0x1000, 64, s->page[1], &st), 0);/* 3 */
	assert_int_equal(sd_mig_put_pass(w, 1, true, &st), 0);				/* 4 */
	assert_int_equal(sd_mig_put_pages(w, SD_REC_TRANSITION, 0xffff, 1, s->page[2], &st), 0);/* 5 */
	assert_int_equal(sd_mig_put_registration(w, 0x200001, 7, s->hdr128, &st), 0);	/* 6 */
	for (int i = 0; i < NR_VCPUS; i++) {						/* 7, 8 */
		size_t n = vcpu_items(s, i, items, sizeof(items), i == 1);

		assert_int_equal(sd_mig_put_vcpu(w, (u32)i, i == 1 ? 3 : 2, items, n, &st), 0);
	}
	assert_int_equal(sd_mig_put_end(w, &st), 0);					/* 9 */
	free(w);
	return s;
}

static void free_stream(struct pair *s)
{
	free(s->m.buf);
	free(s);
}

/* Parse @len bytes of @buf as a stream; the first error (or 0 after END), and records read. */
static int parse(struct pair *s, u8 *buf, size_t len, int *nrec, struct sd_mig_status *st)
{
	struct sd_membuf m = { buf, len, len, 0 };
	struct sd_io io = sd_io_mem(&m);
	struct sd_mig_reader *r = malloc(sizeof(*r));
	struct sd_mig_rec rec;
	int rc;

	sd_mig_reader_init(r, &io, &s->dst, RAM_BYTES, NR_VCPUS);
	*nrec = 0;
	do {
		rc = sd_mig_next(r, &rec, st);
		*nrec += rc == 0;
	} while (rc == 0 && rec.type != SD_REC_END);
	free(r);
	return rc;
}

/* Offset of record @i (1-based) in the stream. */
static size_t rec_off(const u8 *buf, int i)
{
	size_t off = 0;

	for (int k = 1; k < i; k++) {
		u32 len;

		memcpy(&len, buf + off + 4, 4);
		off += SD_REC_HDR_SIZE + len;
	}
	return off;
}

static u32 rec_len(const u8 *buf, int i)
{
	u32 len;

	memcpy(&len, buf + rec_off(buf, i) + 4, 4);
	return len;
}

/* What an attacker who knows the format does after tampering: fix the CRC. */
static void fix_crc(u8 *buf, int i)
{
	u8 *h = buf + rec_off(buf, i);
	u32 len = rec_len(buf, i), crc;

	memset(h + 16, 0, 4);
	crc = sd_crc32c(0, h, SD_REC_HDR_SIZE + len);
	memcpy(h + 16, &crc, 4);
}

static void expect(struct pair *s, u8 *buf, size_t len, int err, int nrec_want)
{
	struct sd_mig_status st = { 0 };
	int nrec, rc = parse(s, buf, len, &nrec, &st);

	if (rc != -err)
		fail_msg("got %s (%s), want %s", sd_mig_err_name(rc), st.msg, sd_mig_err_name(err));
	if (nrec_want >= 0)
		assert_int_equal(nrec, nrec_want);
	if (err) {
		assert_int_equal(st.err, err);
		assert_non_null(strstr(st.msg, sd_mig_err_name(err)));
	}
}

/* ---- tests ------------------------------------------------------------------------ */

static void stream_round_trips_every_record(void **state)
{
	struct pair *s = make_stream();
	struct sd_membuf m = { s->m.buf, s->m.len, s->m.len, 0 };
	struct sd_io io = sd_io_mem(&m);
	struct sd_mig_reader *r = malloc(sizeof(*r));
	struct sd_mig_status st;
	struct sd_mig_rec rec;

	(void)state;
	sd_mig_reader_init(r, &io, &s->dst, RAM_BYTES, NR_VCPUS);
	assert_int_equal(sd_mig_next(r, &rec, &st), 0);
	assert_int_equal(rec.type, SD_REC_PASS);
	assert_int_equal(rec.pass.pass, 0);
	assert_false(rec.pass.final);
	assert_int_equal(sd_mig_next(r, &rec, &st), 0);
	assert_int_equal(rec.type, SD_REC_PLAIN);
	assert_int_equal(rec.pages.gfn, 0x10);
	assert_int_equal(rec.pages.npages, 3);
	assert_memory_equal(rec.pages.data, s->page[0], 3 * 4096);
	assert_int_equal(sd_mig_next(r, &rec, &st), 0);
	assert_int_equal(rec.type, SD_REC_ENCRYPTED);
	assert_int_equal(rec.pages.gfn, 0x1000);
	assert_int_equal(rec.pages.npages, 64);
	assert_memory_equal(rec.pages.data, s->page[1], 64 * 4096);
	/* The ciphertext on the wire is not the plaintext. */
	assert_memory_not_equal(s->m.buf + rec_off(s->m.buf, 3) + SD_REC_HDR_SIZE + 16, s->page[1],
				4096);
	assert_int_equal(sd_mig_next(r, &rec, &st), 0);
	assert_true(rec.pass.final);
	assert_int_equal(sd_mig_next(r, &rec, &st), 0);
	assert_int_equal(rec.type, SD_REC_TRANSITION);
	assert_int_equal(rec.pages.gfn, 0xffff);
	assert_memory_equal(rec.pages.data, s->page[2], 4096);
	assert_int_equal(sd_mig_next(r, &rec, &st), 0);
	assert_int_equal(rec.type, SD_REC_REGISTRATION);
	assert_int_equal(rec.reg.value, 0x200001);
	assert_int_equal(rec.reg.generation, 7);
	assert_memory_equal(rec.reg.hdr, s->hdr128, 128);
	for (int i = 0; i < NR_VCPUS; i++) {
		assert_int_equal(sd_mig_next(r, &rec, &st), 0);
		assert_int_equal(rec.type, SD_REC_VCPU);
		assert_int_equal(rec.vcpu.index, i);
		assert_int_equal(rec.vcpu.nr_items, i == 1 ? 3 : 2);
		assert_memory_equal(rec.vcpu.items + 8, &s->regs[i], sizeof(s->regs[i]));
	}
	assert_int_equal(sd_mig_next(r, &rec, &st), 0);
	assert_int_equal(rec.type, SD_REC_END);
	assert_int_equal(rec.end.records, 8);
	assert_int_equal(rec.end.pages, 68);
	/* Nothing after END. */
	assert_int_equal(sd_mig_next(r, &rec, &st), -SD_MIG_ERR_ORDER);
	assert_int_equal(m.pos, m.len);
	free(r);
	free_stream(s);
}

static void stream_cut_anywhere_is_eof(void **state)
{
	struct pair *s = make_stream();
	size_t checked = 0;

	(void)state;
	/* Every byte of the small records and both sides of every boundary; a stride elsewhere. */
	for (size_t cut = 0; cut < s->m.len; cut += (cut % 4096 < 64 || cut % 4096 > 4032) ? 1 : 61) {
		struct sd_mig_status st = { 0 };
		int nrec, rc = parse(s, s->m.buf, cut, &nrec, &st);

		if (rc != -SD_MIG_ERR_EOF)
			fail_msg("cut at %zu: got %s (%s)", cut, sd_mig_err_name(rc), st.msg);
		checked++;
	}
	print_message("stream: %zu cut points of a %zu-byte stream, all SD_MIG_ERR_EOF\n",
		      checked, s->m.len);
	expect(s, s->m.buf, s->m.len, 0, 9);
	free_stream(s);
}

static void stream_bit_flips_never_pass(void **state)
{
	struct pair *s = make_stream();
	u8 *copy = malloc(s->m.len);
	size_t checked = 0;

	(void)state;
	for (size_t pos = 0; pos < s->m.len; pos += (pos % 4096 < 48) ? 1 : 509) {
		struct sd_mig_status st = { 0 };
		int nrec, rc;

		memcpy(copy, s->m.buf, s->m.len);
		copy[pos] ^= (u8)(1u << (pos % 8));
		rc = parse(s, copy, s->m.len, &nrec, &st);
		/* A flipped length can make a record run short (CRC) or past the end (EOF). */
		if (rc != -SD_MIG_ERR_CRC && rc != -SD_MIG_ERR_LEN && rc != -SD_MIG_ERR_EOF &&
		    rc != -SD_MIG_ERR_TYPE)
			fail_msg("flip at %zu: got %s (%s)", pos, sd_mig_err_name(rc), st.msg);
		checked++;
	}
	print_message("stream: %zu single-bit flips, all rejected\n", checked);
	free(copy);
	free_stream(s);
}

static void stream_tampering_with_fixed_crcs(void **state)
{
	struct pair *s = make_stream();
	u8 *c = malloc(s->m.len + 4096);
	size_t n = s->m.len;
#define RESET() memcpy(c, s->m.buf, n)
#define AT(i) (c + rec_off(c, i))

	(void)state;
	/* Ciphertext changed: the stand-in's authentication fails. */
	RESET();
	AT(3)[SD_REC_HDR_SIZE + 16 + 100] ^= 1;
	fix_crc(c, 3);
	expect(s, c, n, SD_MIG_ERR_AUTH, 2);
	/* An encrypted page moved to another GFN (still inside RAM): AD binds the GFN. */
	RESET();
	AT(3)[SD_REC_HDR_SIZE] ^= 0x20;
	fix_crc(c, 3);
	expect(s, c, n, SD_MIG_ERR_AUTH, 2);
	/* Re-typed ENCRYPTED -> PLAIN: the length no longer fits the type. */
	RESET();
	AT(3)[0] = SD_REC_PLAIN;
	fix_crc(c, 3);
	expect(s, c, n, SD_MIG_ERR_LEN, 2);
	/* Re-typed TRANSITION -> ENCRYPTED: AD covers the type. */
	RESET();
	AT(5)[0] = SD_REC_ENCRYPTED;
	fix_crc(c, 5);
	expect(s, c, n, SD_MIG_ERR_AUTH, 4);
	/* A plain page pointed outside RAM. */
	RESET();
	memcpy(AT(2) + SD_REC_HDR_SIZE, &(u64){ 65534 }, 8);	/* 3 pages from 65534 */
	fix_crc(c, 2);
	expect(s, c, n, SD_MIG_ERR_RANGE, 1);
	/* Sequence: a repeated record, a skipped one. */
	RESET();
	memcpy(AT(2) + 8, &(u64){ 1 }, 8);
	fix_crc(c, 2);
	expect(s, c, n, SD_MIG_ERR_SEQ, 1);
	RESET();
	memcpy(AT(2) + 8, &(u64){ 3 }, 8);
	fix_crc(c, 2);
	expect(s, c, n, SD_MIG_ERR_SEQ, 1);
	/* Unknown type; flags set. */
	RESET();
	AT(1)[0] = 9;
	fix_crc(c, 1);
	expect(s, c, n, SD_MIG_ERR_TYPE, 0);
	RESET();
	AT(1)[2] = 1;
	fix_crc(c, 1);
	expect(s, c, n, SD_MIG_ERR_TYPE, 0);
	/* A huge length is refused before anything is read. */
	RESET();
	memcpy(AT(1) + 4, &(u32){ 0xffffffffu }, 4);
	expect(s, c, n, SD_MIG_ERR_LEN, 0);
	/* Order: the first record is not PASS 0; TRANSITION in a pre-copy pass. */
	RESET();
	memcpy(AT(1) + SD_REC_HDR_SIZE, &(u32){ 1 }, 4);
	fix_crc(c, 1);
	expect(s, c, n, SD_MIG_ERR_ORDER, 0);
	RESET();
	AT(4)[SD_REC_HDR_SIZE + 4] = 0;		/* pass 1 is not final: TRANSITION follows */
	fix_crc(c, 4);
	expect(s, c, n, SD_MIG_ERR_ORDER, 4);
	/* vCPU records: an index out of range, a wrong item length, REGS missing. */
	RESET();
	memcpy(AT(7) + SD_REC_HDR_SIZE, &(u32){ 2 }, 4);
	fix_crc(c, 7);
	expect(s, c, n, SD_MIG_ERR_RANGE, 6);
	RESET();
	memcpy(AT(8) + SD_REC_HDR_SIZE, &(u32){ 0 }, 4);	/* vCPU 0 twice */
	fix_crc(c, 8);
	expect(s, c, n, SD_MIG_ERR_RANGE, 7);
	RESET();
	memcpy(AT(7) + SD_REC_HDR_SIZE + 8 + 4, &(u32){ 140 }, 4);
	fix_crc(c, 7);
	expect(s, c, n, SD_MIG_ERR_LEN, 6);
	RESET();
	memcpy(AT(7) + SD_REC_HDR_SIZE + 8, &(u32){ SD_VCPU_EVENTS }, 4);	/* kind 1 -> 6 */
	fix_crc(c, 7);
	expect(s, c, n, SD_MIG_ERR_LEN, 6);
	RESET();
	memcpy(AT(8) + SD_REC_HDR_SIZE + 8 + (8 + 144) + (8 + 312) + 8, &(u32){ 257 }, 4); /* 257 MSRs */
	fix_crc(c, 8);
	expect(s, c, n, SD_MIG_ERR_LEN, 7);
	/* An MSRS item with no room for its count (found by review: once accepted). */
	RESET();
	{
		u8 *v = AT(8) + SD_REC_HDR_SIZE;
		u32 msrs_len = 0, len;

		/* vCPU 1's third item is MSRS: cut it to a bare header, length 0. */
		memcpy(v + 8 + (8 + 144) + (8 + 312) + 4, &msrs_len, 4);
		memcpy(&len, AT(8) + 4, 4);
		len -= 40;				/* its 8 + 16 * 2 bytes of data go */
		memcpy(AT(8) + 4, &len, 4);
		memmove(AT(8) + SD_REC_HDR_SIZE + len, AT(8) + SD_REC_HDR_SIZE + len + 40,
			n - (rec_off(c, 8) + SD_REC_HDR_SIZE + len + 40));
		fix_crc(c, 8);
		expect(s, c, n - 40, SD_MIG_ERR_LEN, 7);
	}
	/* PASS numbers go up by one: a skipped or repeated pass is out of order. */
	RESET();
	memcpy(AT(4) + SD_REC_HDR_SIZE, &(u32){ 2 }, 4);
	fix_crc(c, 4);
	expect(s, c, n, SD_MIG_ERR_ORDER, 3);
	RESET();
	memcpy(AT(4) + SD_REC_HDR_SIZE, &(u32){ 0 }, 4);
	fix_crc(c, 4);
	expect(s, c, n, SD_MIG_ERR_ORDER, 3);
	/* END: digest or counts that disagree; END before the last vCPU. */
	RESET();
	AT(9)[SD_REC_HDR_SIZE + 20] ^= 1;
	fix_crc(c, 9);
	expect(s, c, n, SD_MIG_ERR_DIGEST, 8);
	RESET();
	memcpy(AT(9) + SD_REC_HDR_SIZE + 8, &(u64){ 67 }, 8);
	fix_crc(c, 9);
	expect(s, c, n, SD_MIG_ERR_DIGEST, 8);
	RESET();
	memcpy(AT(9) + 8, &(u64){ 8 }, 8);			/* END renumbered to replace vCPU 1 */
	fix_crc(c, 9);
	memmove(AT(8), AT(9), SD_REC_HDR_SIZE + rec_len(c, 9));
	expect(s, c, rec_off(c, 9), SD_MIG_ERR_ORDER, 7);
	/* A dropped page record, renumbered and re-CRCed: only the END digest can tell. */
	RESET();
	{
		size_t o2 = rec_off(c, 2), l2 = SD_REC_HDR_SIZE + rec_len(c, 2);

		memmove(c + o2, c + o2 + l2, n - o2 - l2);
		for (int i = 2; i <= 8; i++) {
			memcpy(AT(i) + 8, &(u64){ (u64)i }, 8);
			fix_crc(c, i);
		}
		/* Records 2.. now carry other seqs inside their AD: the first sealed one fails. */
		expect(s, c, n - l2, SD_MIG_ERR_AUTH, 1);
	}
	free(c);
	free_stream(s);
#undef RESET
#undef AT
}

static void end_digest_is_keyed(void **state)
{
	struct pair *s = make_stream();
	struct sd_mig_keys other = s->dst;
	struct sd_membuf m = { s->m.buf, s->m.len, s->m.len, 0 };
	struct sd_io io = sd_io_mem(&m);
	struct sd_mig_reader *r = malloc(sizeof(*r));
	struct sd_mig_status st;
	struct sd_mig_rec rec;
	int rc, nrec = 0;

	(void)state;
	/*
	 * A reader whose receive key differs only where the digest uses it: the
	 * AEAD key is the same, so the records open, and only END tells.
	 */
	sd_mig_reader_init(r, &io, &other, RAM_BYTES, NR_VCPUS);
	crypto_generichash_init(&r->digest, (const u8 *)"another key, same length, 32B!!", 32,
				SD_MIG_DIGEST_BYTES);
	while ((rc = sd_mig_next(r, &rec, &st)) == 0 && rec.type != SD_REC_END)
		nrec++;
	assert_int_equal(rc, -SD_MIG_ERR_DIGEST);
	assert_int_equal(nrec, 8);
	free(r);
	free_stream(s);
}

/* PASS 0 and 3 plain pages (records 1 and 2), then ABORT(@err) as the source sends it. */
static struct pair *make_aborted(int err)
{
	struct pair *s = calloc(1, sizeof(*s));
	struct sd_mig_writer *w = malloc(sizeof(*w));
	struct sd_mig_status st;
	struct sd_io io;

	keys_pair(s);
	s->m.cap = 1 << 20;
	s->m.buf = malloc(s->m.cap);
	io = sd_io_mem(&s->m);
	fill(s->page[0], 3 * 4096, 1);
	sd_mig_writer_init(w, &io, &s->src);
	assert_int_equal(sd_mig_put_pass(w, 0, false, &st), 0);
	assert_int_equal(sd_mig_put_pages(w, SD_REC_PLAIN, 0x10, 3, s->page[0], &st), 0);
	assert_int_equal(sd_mig_put_abort(w, err, &st), 0);
	free(w);
	return s;
}

/*
 * Append to the @len bytes of records in @buf an ABORT numbered @seq, built
 * from docs/STREAM.md 4.6 alone: the digest keyed with @key over those
 * records, then error and reserved. Returns the new length.
 */
static size_t forge_abort(u8 *buf, size_t len, const u8 *key, u64 seq, u32 error, u32 reserved)
{
	struct sd_rec_hdr h = { .type = SD_REC_ABORT, .len = sizeof(struct sd_rec_abort), .seq = seq };
	struct sd_rec_abort a = { .error = error, .reserved = reserved };
	crypto_generichash_state g;

	crypto_generichash_init(&g, key, crypto_kx_SESSIONKEYBYTES, SD_MIG_DIGEST_BYTES);
	crypto_generichash_update(&g, buf, len);
	crypto_generichash_update(&g, (const u8 *)&a, 8);
	crypto_generichash_final(&g, a.digest, sizeof(a.digest));
	memcpy(buf + len, &h, sizeof(h));
	memcpy(buf + len + sizeof(h), &a, sizeof(a));
	h.crc = sd_crc32c(0, buf + len, sizeof(h) + sizeof(a));
	memcpy(buf + len + offsetof(struct sd_rec_hdr, crc), &h.crc, sizeof(h.crc));
	return len + sizeof(h) + sizeof(a);
}

static void abort_ends_the_stream_with_the_sources_error(void **state)
{
	/* The four failures a source has of its own (4.6). */
	static const int errs[] = { SD_MIG_ERR_SOURCE, SD_MIG_ERR_CONVERGE, SD_MIG_ERR_PAUSE,
				    SD_MIG_ERR_NOMEM };
	struct sd_mig_reader *r = malloc(sizeof(*r));
	static u8 copy[1 << 20];

	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(errs); i++) {
		struct pair *s = make_aborted(errs[i]);
		struct sd_membuf m = { s->m.buf, s->m.len, s->m.len, 0 };
		struct sd_io io = sd_io_mem(&m);
		struct sd_mig_status st = { 0 };
		struct sd_mig_rec rec;
		char want[96];
		size_t before = rec_off(s->m.buf, 3);

		sd_mig_reader_init(r, &io, &s->dst, RAM_BYTES, NR_VCPUS);
		assert_int_equal(sd_mig_next(r, &rec, &st), 0);
		assert_int_equal(rec.type, SD_REC_PASS);
		assert_int_equal(sd_mig_next(r, &rec, &st), 0);
		assert_int_equal(rec.type, SD_REC_PLAIN);
		assert_int_equal(sd_mig_next(r, &rec, &st), -SD_MIG_ERR_ABORTED);
		assert_int_equal(st.err, SD_MIG_ERR_ABORTED);
		assert_int_equal(rec.type, SD_REC_ABORT);
		assert_int_equal(rec.abort.err, errs[i]);
		snprintf(want, sizeof(want), "SD_MIG_ERR_ABORTED: record 3: source aborted: %s",
			 sd_mig_err_name(errs[i]));
		assert_string_equal(st.msg, want);
		assert_int_equal(m.pos, m.len);
		/* The last record: nothing is read after it. */
		assert_int_equal(sd_mig_next(r, &rec, &st), -SD_MIG_ERR_ORDER);
		/* The bytes are docs/STREAM.md 4.6's, built from the text alone. */
		assert_int_equal(s->m.len, before + SD_REC_HDR_SIZE + 40);
		memcpy(copy, s->m.buf, before);
		assert_int_equal(forge_abort(copy, before, s->src.tx, 3, (u32)errs[i], 0), s->m.len);
		assert_memory_equal(copy, s->m.buf, s->m.len);
		free_stream(s);
	}
	free(r);
}

static void abort_may_take_the_place_of_any_record_before_end(void **state)
{
	struct pair *s = make_stream();
	static u8 c[1 << 20];
	size_t n;

	(void)state;
	/* In place of the first record, of a page record, of END (after every vCPU). */
	n = forge_abort(c, 0, s->src.tx, 1, SD_MIG_ERR_PAUSE, 0);
	expect(s, c, n, SD_MIG_ERR_ABORTED, 0);
	memcpy(c, s->m.buf, s->m.len);
	n = forge_abort(c, rec_off(c, 3), s->src.tx, 3, SD_MIG_ERR_NOMEM, 0);
	expect(s, c, n, SD_MIG_ERR_ABORTED, 2);
	memcpy(c, s->m.buf, s->m.len);
	n = forge_abort(c, rec_off(c, 9), s->src.tx, 9, SD_MIG_ERR_PAUSE, 0);
	expect(s, c, n, SD_MIG_ERR_ABORTED, 8);
	free_stream(s);
}

static void abort_is_refused_unless_the_source_sent_it_whole(void **state)
{
	struct pair *s = make_aborted(SD_MIG_ERR_PAUSE);
	static u8 c[1 << 20];
	size_t n = s->m.len, before = rec_off(s->m.buf, 3);
	u8 *ab = c + before;
	u8 other[crypto_kx_SESSIONKEYBYTES];
	u32 refused = 0;

	(void)state;
	/* Another reason written over the source's: the digest covers it. */
	memcpy(c, s->m.buf, n);
	memcpy(ab + SD_REC_HDR_SIZE, &(u32){ SD_MIG_ERR_NOMEM }, 4);
	fix_crc(c, 3);
	expect(s, c, n, SD_MIG_ERR_DIGEST, 2);
	/* The digest itself changed. */
	memcpy(c, s->m.buf, n);
	ab[SD_REC_HDR_SIZE + 8 + 31] ^= 1;
	fix_crc(c, 3);
	expect(s, c, n, SD_MIG_ERR_DIGEST, 2);
	/* Made by someone without this migration's key. */
	memset(other, 0x5a, sizeof(other));
	memcpy(c, s->m.buf, before);
	expect(s, c, forge_abort(c, before, other, 3, SD_MIG_ERR_PAUSE, 0), SD_MIG_ERR_DIGEST, 2);
	/* Spliced after a record was dropped: renumbered and re-CRCed, the digest tells. */
	memcpy(c, s->m.buf, n);
	memmove(c + rec_off(c, 2), ab, n - before);
	memcpy(c + rec_off(c, 2) + 8, &(u64){ 2 }, 8);
	fix_crc(c, 2);
	expect(s, c, rec_off(c, 2) + SD_REC_HDR_SIZE + 40, SD_MIG_ERR_DIGEST, 1);
	/*
	 * A valid digest, and yet: reserved set; no error; an error section 6
	 * does not define; and each number section 6 defines that is not a
	 * source's own failure (a connection's, a reader's, the destination's).
	 */
	memcpy(c, s->m.buf, before);
	expect(s, c, forge_abort(c, before, s->src.tx, 3, SD_MIG_ERR_PAUSE, 1), SD_MIG_ERR_TYPE, 2);
	expect(s, c, forge_abort(c, before, s->src.tx, 3, 0, 0), SD_MIG_ERR_RANGE, 2);
	expect(s, c, forge_abort(c, before, s->src.tx, 3, SD_MIG_ERR_LAST + 1, 0), SD_MIG_ERR_RANGE, 2);
	for (u32 e = 1; e <= SD_MIG_ERR_LAST; e++) {
		if (e != SD_MIG_ERR_SOURCE && e != SD_MIG_ERR_CONVERGE && e != SD_MIG_ERR_PAUSE &&
		    e != SD_MIG_ERR_NOMEM) {
			expect(s, c, forge_abort(c, before, s->src.tx, 3, e, 0), SD_MIG_ERR_RANGE, 2);
			refused++;
		}
	}
	assert_int_equal(refused, SD_MIG_ERR_LAST - 4);
	/* One byte longer than 40: the length does not fit the type, whatever follows. */
	memcpy(c, s->m.buf, n);
	memcpy(ab + 4, &(u32){ 41 }, 4);
	c[n] = 0;
	fix_crc(c, 3);
	expect(s, c, n + 1, SD_MIG_ERR_LEN, 2);
	free_stream(s);
}

/* An ABORT refused for its reserved field still ends the stream: nothing after it is read. */
static void abort_refused_for_reserved_is_still_the_last_record(void **state)
{
	struct pair *s = make_aborted(SD_MIG_ERR_PAUSE);
	static u8 c[1 << 20];
	size_t n = s->m.len, before = rec_off(s->m.buf, 3), len;
	struct sd_mig_reader *r = malloc(sizeof(*r));
	struct sd_mig_status st = { 0 };
	struct sd_mig_rec rec;
	struct sd_membuf m;
	struct sd_io io;
	int rc = 0, nrec = 0;

	(void)state;
	assert_non_null(r);
	memcpy(c, s->m.buf, before);
	len = forge_abort(c, before, s->src.tx, 3, SD_MIG_ERR_PAUSE, 1);
	/* The source's own ABORT after it: a record a reader that went on would take. */
	memcpy(c + len, s->m.buf + before, n - before);
	len += n - before;
	m = (struct sd_membuf){ c, len, len, 0 };
	io = sd_io_mem(&m);
	sd_mig_reader_init(r, &io, &s->dst, RAM_BYTES, NR_VCPUS);
	while (!(rc = sd_mig_next(r, &rec, &st)))
		nrec++;
	assert_int_equal(nrec, 2);
	assert_int_equal(rc, -SD_MIG_ERR_TYPE);
	rc = sd_mig_next(r, &rec, &st);
	assert_int_equal(rc, -SD_MIG_ERR_ORDER);
	free(r);
	free_stream(s);
}

static void abort_is_the_writers_last_record(void **state)
{
	struct pair *s = make_stream();
	struct sd_mig_writer *w = malloc(sizeof(*w));
	struct sd_membuf m = { s->m.buf, 0, s->m.cap, 0 };
	struct sd_io io = sd_io_mem(&m);
	struct sd_mig_status st;

	(void)state;
	sd_mig_writer_init(w, &io, &s->src);
	assert_int_equal(sd_mig_put_pass(w, 0, false, &st), 0);
	/* Only a source's own failure (4.6); nothing is written otherwise. */
	assert_int_equal(sd_mig_put_abort(w, 0, &st), -SD_MIG_ERR_RANGE);
	assert_int_equal(sd_mig_put_abort(w, SD_MIG_ERR_LAST + 1, &st), -SD_MIG_ERR_RANGE);
	assert_non_null(strstr(st.msg, "ABORT: error number 25"));
	assert_int_equal(sd_mig_put_abort(w, SD_MIG_ERR_ABORTED, &st), -SD_MIG_ERR_RANGE);
	assert_int_equal(sd_mig_put_abort(w, SD_MIG_ERR_TIMEOUT, &st), -SD_MIG_ERR_RANGE);
	assert_string_equal(st.msg, "SD_MIG_ERR_RANGE: ABORT: error number 18 is not a source's "
			    "own (docs/STREAM.md 4.6: 17, 21, 22 or 23)");
	assert_int_equal(m.len, SD_REC_HDR_SIZE + 8);
	assert_int_equal(sd_mig_put_abort(w, SD_MIG_ERR_PAUSE, &st), 0);
	assert_int_equal(sd_mig_put_abort(w, SD_MIG_ERR_PAUSE, &st), -SD_MIG_ERR_ORDER);
	assert_int_equal(sd_mig_put_end(w, &st), -SD_MIG_ERR_ORDER);
	assert_int_equal(m.len, 2 * SD_REC_HDR_SIZE + 8 + 40);
	/* After END, no ABORT. */
	sd_mig_writer_init(w, &io, &s->src);
	assert_int_equal(sd_mig_put_end(w, &st), 0);
	assert_int_equal(sd_mig_put_abort(w, SD_MIG_ERR_NOMEM, &st), -SD_MIG_ERR_ORDER);
	assert_non_null(strstr(st.msg, "ABORT after END or ABORT"));
	free(w);
	free_stream(s);
}

static void result_reports_refusal_and_rejects_garbage(void **state)
{
	u8 b[256];
	struct sd_membuf m = { b, 0, sizeof(b), 0 };
	struct sd_io io = sd_io_mem(&m);
	struct sd_mig_status ok = { 0 }, bad, st;

	(void)state;
	assert_int_equal(sd_mig_send_result(&io, &ok), 0);
	assert_int_equal(sd_mig_recv_result(&io, &st), 0);
	m.len = m.pos = 0;
	sd_mig_fail(&bad, SD_MIG_ERR_TABLE, "registration: SD_ERR_GEOM_RAM at chunk -");
	assert_int_equal(sd_mig_send_result(&io, &bad), 0);
	assert_int_equal(sd_mig_recv_result(&io, &st), -SD_MIG_ERR_REFUSED);
	assert_non_null(strstr(st.msg, "SD_ERR_GEOM_RAM"));
	/* A peer's reason reaches a terminal: its control bytes come out as '?'. */
	m.len = m.pos = 0;
	sd_mig_fail(&bad, SD_MIG_ERR_TABLE, "no\033[2Jclear\x7f\x80.");
	assert_int_equal(sd_mig_send_result(&io, &bad), 0);
	assert_int_equal(sd_mig_recv_result(&io, &st), -SD_MIG_ERR_REFUSED);
	assert_non_null(strstr(st.msg, "no?[2Jclear??."));
	assert_null(strchr(st.msg, '\033'));
	m.len = m.pos = 0;
	assert_int_equal(sd_mig_send_result(&io, &bad), 0);
	m.pos = 0;
	b[100] ^= 1;
	assert_int_equal(sd_mig_recv_result(&io, &st), -SD_MIG_ERR_CRC);
	m.pos = 0;
	m.len = 200;
	assert_int_equal(sd_mig_recv_result(&io, &st), -SD_MIG_ERR_EOF);
}

static void magics_are_the_documented_bytes(void **state)
{
	(void)state;
	/* docs/STREAM.md names each magic by its bytes on the wire. */
	const struct { u64 v; const char *bytes; } m[] = {
		{ SD_MIG_HELLO_MAGIC, "SDMIGDST" }, { SD_MIG_HEADER_MAGIC, "SDMIGSRC" },
		{ SD_MIG_RESULT_MAGIC, "SDMIGRES" }, { SD_MIG_COMMIT_MAGIC, "SDMIGGO!" },
		{ SD_MIG_AUTH_MAGIC, "SDMIGAUT" },
	};
	u8 b[128];
	struct sd_membuf mb = { b, 0, sizeof(b), 0 };
	struct sd_io io = sd_io_mem(&mb);
	static struct sd_mig_ids ids;
	static struct sd_mig_hs hs;

	for (unsigned i = 0; i < SD_ARRAY_SIZE(m); i++)
		assert_memory_equal(&m[i].v, m[i].bytes, 8);
	sd_id_generate(&ids);
	assert_int_equal(sd_mig_send_hello(&io, 4096, &ids, &hs, NULL), 0);
	assert_memory_equal(b, "SDMIGDST", 8);
}

static void crc32c_known_answer(void **state)
{
	/* RFC 3720 B.4: 32 bytes of zeros -> 0x8a9136aa; "123456789" -> 0xe3069283. */
	u8 zeros[32] = { 0 };

	(void)state;
	assert_int_equal(sd_crc32c(0, zeros, 32), 0x8a9136aa);
	assert_int_equal(sd_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(sd_crc32c(sd_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
	/* The table, for CPUs without SSE4.2: the same function. */
	assert_int_equal(sd_crc32c_soft(0, zeros, 32), 0x8a9136aa);
	assert_int_equal(sd_crc32c_soft(0, "123456789", 9), 0xe3069283);
	assert_int_equal(sd_crc32c_soft(sd_crc32c_soft(0, "1234", 4), "56789", 5), 0xe3069283);
	{
		static u8 buf[4099];
		u64 x = 0x9e3779b97f4a7c15ULL;

		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = (u8)x;
		}
		/* Every alignment of the 8-byte loop, and every tail length. */
		for (size_t n = 0; n < sizeof(buf); n += 37)
			assert_int_equal(sd_crc32c_soft(7, buf + 1, n), sd_crc32c(7, buf + 1, n));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_known_answer),
		cmocka_unit_test(magics_are_the_documented_bytes),
		cmocka_unit_test(stream_round_trips_every_record),
		cmocka_unit_test(stream_cut_anywhere_is_eof),
		cmocka_unit_test(stream_bit_flips_never_pass),
		cmocka_unit_test(stream_tampering_with_fixed_crcs),
		cmocka_unit_test(end_digest_is_keyed),
		cmocka_unit_test(result_reports_refusal_and_rejects_garbage),
		cmocka_unit_test(abort_ends_the_stream_with_the_sources_error),
		cmocka_unit_test(abort_may_take_the_place_of_any_record_before_end),
		cmocka_unit_test(abort_is_refused_unless_the_source_sent_it_whole),
		cmocka_unit_test(abort_refused_for_reserved_is_still_the_last_record),
		cmocka_unit_test(abort_is_the_writers_last_record),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("migration stream", tests, NULL, NULL) ? 1 : 0;
}
