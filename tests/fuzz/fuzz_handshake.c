// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fuzz_handshake.c - the version-2 handshake (docs/STREAM.md 2-3) against
 * a hostile peer, on either side, with fixed identities.
 *
 * Input: one mode byte, then what the peer sends. Mode bit 0 set: this
 * side is the source (it expects the destination key of seed 0xa5), and
 * the input is HELLO, then AUTH or a RESULT. Clear: this side is the
 * destination (it takes any source that signs), and the input is HEADER.
 * Bit 1 set: give the first message correct CRCs first, as an attacker who
 * knows the format would, so the fuzzer reaches the key and signature checks.
 *
 * Property: no input authenticates. A peer cannot sign a transcript that
 * holds this side's fresh nonce and key, so the source never accepts an
 * AUTH and the destination never accepts a HEADER; every failure carries
 * its own error number.
 */
#include <string.h>
#include "stream.h"
#include "identity.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static struct sd_mig_ids src_ids, dst_ids;
static struct sd_mig_hs hs;

static void fixed_ids(void)
{
	u8 seed[crypto_sign_SEEDBYTES];

	memset(seed, 0x5a, sizeof(seed));
	crypto_sign_seed_keypair(src_ids.self_pk, src_ids.self_sk, seed);
	memset(seed, 0xa5, sizeof(seed));
	crypto_sign_seed_keypair(dst_ids.self_pk, dst_ids.self_sk, seed);
	memcpy(src_ids.peer_pk, dst_ids.self_pk, sizeof(src_ids.peer_pk));
	src_ids.have_self = src_ids.have_peer = dst_ids.have_self = true;
}

static void fix_crcs(u8 *b, size_t len)
{
	u32 c;

	if (len < 128)
		return;
	c = sd_crc32c(0, b, 0x3c);
	memcpy(b + 0x3c, &c, 4);
	c = sd_crc32c(0, b, 0x7c);
	memcpy(b + 0x7c, &c, 4);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 in[4096], out[1024];
	static int ready;
	struct sd_membuf mi = { in, 0, 0, 0 }, mo = { out, 0, sizeof(out), 0 };
	struct sd_io rx = sd_io_mem(&mi), tx = sd_io_mem(&mo);
	struct sd_mig_status st = { 0 };
	u64 ram;
	u32 nv;
	int rc;

	if (!ready) {
		if (sodium_init() < 0)
			__builtin_trap();
		fixed_ids();
		ready = 1;
	}
	if (size < 1 || size - 1 > sizeof(in))
		return 0;
	memcpy(in, data + 1, size - 1);
	mi.len = mi.cap = size - 1;
	if (data[0] & 2)
		fix_crcs(in, mi.len);
	if (data[0] & 1) {
		rc = sd_mig_recv_hello(&rx, 1ULL << 30, &src_ids, &hs, &st);
		if (!rc)
			rc = sd_mig_send_header(&tx, 1ULL << 30, 2, &hs, &st);
		if (!rc && sd_mig_recv_auth(&rx, &hs, &st) == 0)
			__builtin_trap();	/* an AUTH nobody could have signed */
		rc = -st.err;
	} else {
		if (sd_mig_send_hello(&tx, 1ULL << 40, &dst_ids, &hs, &st))
			__builtin_trap();
		rc = sd_mig_recv_header(&rx, 1ULL << 40, &hs, &ram, &nv, &st);
		if (rc == 0)
			__builtin_trap();	/* a HEADER signed over a nonce not yet drawn */
	}
	if (st.err != -rc || st.err < SD_MIG_ERR_IO || st.err > SD_MIG_ERR_LAST)
		__builtin_trap();
	return 0;
}
