// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_handshake.c - the version-2 handshake (docs/STREAM.md 2-3): a wrong
 * or missing key, a replayed HELLO or HEADER, an ephemeral key swapped by a
 * man in the middle, a refusal, and a version-1 peer, each with its exact
 * error, and with nothing sent past the point the check stops it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sd_test.h"
#include "stream.h"
#include "stream_wire.h"
#include "identity.h"

#define RAM	(64ULL << 20)

/* One side's state; the wire in each direction is a memory buffer. */
struct side {
	struct sd_mig_ids ids;
	struct sd_mig_hs hs;
};

struct wire {
	u8 buf[1024];
	struct sd_membuf m;
	struct sd_io io;
};

static struct side S, D, X;	/* source, destination, a third platform */
static struct wire w;
static struct sd_mig_status st;

static void wire_reset(void)
{
	memset(&w, 0, sizeof(w));
	w.m = (struct sd_membuf){ w.buf, 0, sizeof(w.buf), 0 };
	w.io = sd_io_mem(&w.m);
}

static int setup(void **state)
{
	(void)state;
	memset(&S, 0, sizeof(S));
	memset(&D, 0, sizeof(D));
	memset(&X, 0, sizeof(X));
	sd_id_demo_pair(&S.ids, &D.ids);
	sd_id_generate(&X.ids);
	wire_reset();
	return 0;
}

/* HELLO from @d to @s: 0 or the source's error. */
static int hello(struct side *d, struct side *s)
{
	wire_reset();
	assert_int_equal(sd_mig_send_hello(&w.io, RAM, &d->ids, &d->hs, &st), 0);
	return sd_mig_recv_hello(&w.io, RAM, &s->ids, &s->hs, &st);
}

static int header(struct side *s, struct side *d)
{
	u64 ram;
	u32 nv;

	wire_reset();
	assert_int_equal(sd_mig_send_header(&w.io, RAM, 2, &s->hs, &st), 0);
	return sd_mig_recv_header(&w.io, RAM, &d->hs, &ram, &nv, &st);
}

static int auth(struct side *d, struct side *s)
{
	wire_reset();
	assert_int_equal(sd_mig_send_auth(&w.io, &d->hs, &st), 0);
	return sd_mig_recv_auth(&w.io, &s->hs, &st);
}

static void fix_crcs(u8 *b)
{
	u32 c = sd_crc32c(0, b, 0x3c);

	memcpy(b + 0x3c, &c, 4);
	c = sd_crc32c(0, b, 0x7c);
	memcpy(b + 0x7c, &c, 4);
}

static void handshake_authenticates_both_and_agrees_on_keys(void **state)
{
	(void)state;
	assert_int_equal(hello(&D, &S), 0);
	assert_int_equal(header(&S, &D), 0);
	assert_int_equal(auth(&D, &S), 0);
	assert_memory_equal(S.hs.keys.tx, D.hs.keys.rx, sizeof(S.hs.keys.tx));
	assert_memory_equal(S.hs.keys.rx, D.hs.keys.tx, sizeof(S.hs.keys.rx));
	assert_memory_equal(S.hs.peer_pk, D.ids.self_pk, 32);
	assert_memory_equal(D.hs.peer_pk, S.ids.self_pk, 32);
	assert_int_equal(sizeof(struct sd_mig_hello), 128);
	assert_int_equal(sizeof(struct sd_mig_header), 192);
	assert_int_equal(sizeof(struct sd_mig_auth), 72);
}

static void source_refuses_a_destination_with_the_wrong_key(void **state)
{
	(void)state;
	/* X answers where S expects D: refused at HELLO, before the source writes a byte. */
	assert_int_equal(hello(&X, &S), -SD_MIG_ERR_PEER_KEY);
	assert_non_null(strstr(st.msg, "not the expected"));
	assert_int_equal(w.m.len, sizeof(struct sd_mig_hello));
}

static void source_without_a_peer_key_reads_nothing(void **state)
{
	(void)state;
	S.ids.have_peer = false;
	assert_int_equal(hello(&D, &S), -SD_MIG_ERR_PEER_KEY);
	assert_int_equal(w.m.pos, 0);
	assert_non_null(strstr(st.msg, "--peer-key"));
}

static void replayed_hello_fails_at_auth(void **state)
{
	u8 rec_hello[128], rec_auth[72];

	(void)state;
	/* A migration an eavesdropper records: D's HELLO and AUTH. */
	assert_int_equal(hello(&D, &S), 0);
	memcpy(rec_hello, w.buf, sizeof(rec_hello));
	assert_int_equal(header(&S, &D), 0);
	assert_int_equal(auth(&D, &S), 0);
	memcpy(rec_auth, w.buf, sizeof(rec_auth));
	/* Later, the impostor replays both to S. The HELLO checks out (it is D's)... */
	wire_reset();
	memcpy(w.buf, rec_hello, sizeof(rec_hello));
	w.m.len = sizeof(rec_hello);
	assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), 0);
	wire_reset();
	assert_int_equal(sd_mig_send_header(&w.io, RAM, 2, &S.hs, &st), 0);
	/* ...but the old AUTH signs the old transcript, not this one's fresh HEADER. */
	wire_reset();
	memcpy(w.buf, rec_auth, sizeof(rec_auth));
	w.m.len = sizeof(rec_auth);
	assert_int_equal(sd_mig_recv_auth(&w.io, &S.hs, &st), -SD_MIG_ERR_PEER_SIG);
	assert_non_null(strstr(st.msg, "replayed HELLO"));
}

static void replayed_header_fails_at_the_destination(void **state)
{
	u8 rec_header[192];
	u64 ram;
	u32 nv;

	(void)state;
	assert_int_equal(hello(&D, &S), 0);
	wire_reset();
	assert_int_equal(sd_mig_send_header(&w.io, RAM, 2, &S.hs, &st), 0);
	memcpy(rec_header, w.buf, sizeof(rec_header));
	/* A fresh HELLO (new nonce and key), answered with the recorded HEADER. */
	wire_reset();
	assert_int_equal(sd_mig_send_hello(&w.io, RAM, &D.ids, &D.hs, &st), 0);
	wire_reset();
	memcpy(w.buf, rec_header, sizeof(rec_header));
	w.m.len = sizeof(rec_header);
	assert_int_equal(sd_mig_recv_header(&w.io, RAM, &D.hs, &ram, &nv, &st),
			 -SD_MIG_ERR_PEER_SIG);
	assert_non_null(strstr(st.msg, "replayed HEADER"));
}

static void destination_refuses_an_unknown_source(void **state)
{
	(void)state;
	/* X signs correctly with its own key, but D expects S. */
	memcpy(X.ids.peer_pk, D.ids.self_pk, 32);
	X.ids.have_peer = true;
	assert_int_equal(hello(&D, &X), 0);
	assert_int_equal(header(&X, &D), -SD_MIG_ERR_PEER_KEY);
	/* Without a peer key, D takes any source that proves its key. */
	D.ids.have_peer = false;
	assert_int_equal(hello(&D, &X), 0);
	assert_int_equal(header(&X, &D), 0);
	assert_memory_equal(D.hs.peer_pk, X.ids.self_pk, 32);
}

static void refusal_in_place_of_auth_reaches_the_source(void **state)
{
	struct sd_mig_status why;

	(void)state;
	assert_int_equal(hello(&D, &S), 0);
	wire_reset();
	sd_mig_fail(&why, SD_MIG_ERR_PEER_KEY, "HEADER: the source is 0123...");
	assert_int_equal(sd_mig_send_result(&w.io, &why), 0);
	assert_int_equal(sd_mig_recv_auth(&w.io, &S.hs, &st), -SD_MIG_ERR_REFUSED);
	assert_non_null(strstr(st.msg, "SD_MIG_ERR_PEER_KEY"));
	/* An accepting RESULT is no proof. */
	wire_reset();
	assert_int_equal(sd_mig_send_result(&w.io, &(struct sd_mig_status){ 0 }), 0);
	assert_int_equal(sd_mig_recv_auth(&w.io, &S.hs, &st), -SD_MIG_ERR_PEER_SIG);
}

static void swapped_ephemeral_key_or_nonce_fails_at_auth(void **state)
{
	static const size_t offs[] = { 0x18, 0x60 };	/* kx_public, nonce */

	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(offs); i++) {
		setup(NULL);
		wire_reset();
		assert_int_equal(sd_mig_send_hello(&w.io, RAM, &D.ids, &D.hs, &st), 0);
		/* A man in the middle rewrites the field and fixes the CRCs. */
		w.buf[offs[i]] ^= 0x01;
		fix_crcs(w.buf);
		assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), 0);
		assert_int_equal(header(&S, &D), -SD_MIG_ERR_PEER_SIG);
		/* And if it forwards D's AUTH for D's transcript: S's transcript differs. */
		assert_int_equal(auth(&D, &S), -SD_MIG_ERR_PEER_SIG);
	}
}

static void version_1_peer_is_refused_by_version(void **state)
{
	u8 v1[64] = "SDMIGDST";
	u32 c;

	(void)state;
	/* A version-1 HELLO: major 1, size 64. Refused after its 16-byte prefix. */
	memcpy(v1 + 8, &(u16){ 1 }, 2);
	memcpy(v1 + 12, &(u32){ 64 }, 4);
	c = sd_crc32c(0, v1, 60);
	memcpy(v1 + 60, &c, 4);
	wire_reset();
	memcpy(w.buf, v1, sizeof(v1));
	w.m.len = sizeof(v1);
	assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), -SD_MIG_ERR_VERSION);
	assert_int_equal(w.m.pos, 16);
	assert_non_null(strstr(st.msg, "version 1.0"));
	/* A version-1 HEADER, likewise. */
	memcpy(v1, "SDMIGSRC", 8);
	wire_reset();
	memcpy(w.buf, v1, sizeof(v1));
	w.m.len = sizeof(v1);
	{
		u8 out[128];
		struct sd_membuf sink = { out, 0, sizeof(out), 0 };
		struct sd_io to_src = sd_io_mem(&sink);

		assert_int_equal(sd_mig_send_hello(&to_src, RAM, &D.ids, &D.hs, &st), 0);
	}
	assert_int_equal(sd_mig_recv_header(&w.io, RAM, &D.hs, &(u64){ 0 }, &(u32){ 0 }, &st),
			 -SD_MIG_ERR_VERSION);
	/* A version-1 reader of a version-2 HELLO: its CRC holds, so it stops at the version. */
	wire_reset();
	assert_int_equal(sd_mig_send_hello(&w.io, RAM, &D.ids, &D.hs, &st), 0);
	memcpy(&c, w.buf + 60, 4);
	assert_int_equal(c, sd_crc32c(0, w.buf, 60));
	assert_int_equal(w.buf[8], 2);
}

/* Each side learns the other's minor (docs/STREAM.md 7): a source sends ABORT only from minor 1. */
static void each_side_learns_the_peers_minor(void **state)
{
	(void)state;
	assert_int_equal(SD_MIG_MINOR, 1);
	assert_int_equal(hello(&D, &S), 0);
	assert_int_equal(S.hs.peer_minor, SD_MIG_MINOR);
	assert_int_equal(header(&S, &D), 0);
	assert_int_equal(D.hs.peer_minor, SD_MIG_MINOR);
	assert_int_equal(auth(&D, &S), 0);
	/* A 2.0 destination, and a later one: each accepted, each remembered. */
	for (u16 minor = 0; minor <= 7; minor += 7) {
		wire_reset();
		assert_int_equal(sd_mig_send_hello(&w.io, RAM, &D.ids, &D.hs, &st), 0);
		memcpy(w.buf + 0x0a, &minor, 2);
		fix_crcs(w.buf);
		memcpy(D.hs.hello, w.buf, sizeof(D.hs.hello));	/* the transcript as sent */
		assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), 0);
		assert_int_equal(S.hs.peer_minor, minor);
		assert_int_equal(header(&S, &D), 0);
		assert_int_equal(auth(&D, &S), 0);
	}
}

static void malformed_hello_gets_its_error(void **state)
{
	(void)state;
	wire_reset();
	assert_int_equal(sd_mig_send_hello(&w.io, RAM, &D.ids, &D.hs, &st), 0);
	w.buf[0] ^= 1;
	assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), -SD_MIG_ERR_MAGIC);
	w.buf[0] ^= 1;
	w.m.pos = 0;
	w.buf[0x70] ^= 1;	/* the nonce: only crc_all covers it */
	assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), -SD_MIG_ERR_CRC);
	w.buf[0x70] ^= 1;
	w.buf[0x78] = 1;	/* reserved */
	fix_crcs(w.buf);
	w.m.pos = 0;
	assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), -SD_MIG_ERR_TYPE);
	w.buf[0x78] = 0;
	fix_crcs(w.buf);
	w.m.pos = 0;
	w.m.len = 100;	/* cut */
	assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), -SD_MIG_ERR_EOF);
	/* Less RAM than the guest: refused, after the key check. */
	wire_reset();
	assert_int_equal(sd_mig_send_hello(&w.io, RAM - 4096, &D.ids, &D.hs, &st), 0);
	assert_int_equal(sd_mig_recv_hello(&w.io, RAM, &S.ids, &S.hs, &st), -SD_MIG_ERR_RAM);
}

static void malformed_header_gets_its_error(void **state)
{
	u64 ram;
	u32 nv;

	(void)state;
	assert_int_equal(hello(&D, &S), 0);
	wire_reset();
	assert_int_equal(sd_mig_send_header(&w.io, RAM, 65, &S.hs, &st), 0);
	assert_int_equal(sd_mig_recv_header(&w.io, RAM, &D.hs, &ram, &nv, &st), -SD_MIG_ERR_RANGE);
	w.m.pos = 0;
	assert_int_equal(sd_mig_recv_header(&w.io, RAM / 2, &D.hs, &ram, &nv, &st),
			 -SD_MIG_ERR_RAM);
	w.m.pos = 0;
	w.buf[0x80] ^= 1;	/* the signature */
	assert_int_equal(sd_mig_recv_header(&w.io, RAM, &D.hs, &ram, &nv, &st),
			 -SD_MIG_ERR_PEER_SIG);
	w.m.pos = 0;
	w.m.len = 150;
	assert_int_equal(sd_mig_recv_header(&w.io, RAM, &D.hs, &ram, &nv, &st), -SD_MIG_ERR_EOF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(handshake_authenticates_both_and_agrees_on_keys, setup),
		cmocka_unit_test_setup(source_refuses_a_destination_with_the_wrong_key, setup),
		cmocka_unit_test_setup(source_without_a_peer_key_reads_nothing, setup),
		cmocka_unit_test_setup(replayed_hello_fails_at_auth, setup),
		cmocka_unit_test_setup(replayed_header_fails_at_the_destination, setup),
		cmocka_unit_test_setup(destination_refuses_an_unknown_source, setup),
		cmocka_unit_test_setup(refusal_in_place_of_auth_reaches_the_source, setup),
		cmocka_unit_test_setup(swapped_ephemeral_key_or_nonce_fails_at_auth, setup),
		cmocka_unit_test_setup(version_1_peer_is_refused_by_version, setup),
		cmocka_unit_test_setup(each_side_learns_the_peers_minor, setup),
		cmocka_unit_test_setup(malformed_hello_gets_its_error, setup),
		cmocka_unit_test_setup(malformed_header_gets_its_error, setup),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
