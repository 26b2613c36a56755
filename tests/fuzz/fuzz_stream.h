/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* fuzz_stream.h - fixed keys for the stream fuzz target and its seed generator. */
#ifndef SD_FUZZ_STREAM_H
#define SD_FUZZ_STREAM_H

#include <string.h>
#include "stream.h"

#define FZ_STREAM_RAM	(1ULL << 30)
#define FZ_STREAM_VCPUS	2

/*
 * The session keys a fixed source and a fixed destination agree on
 * (libsodium crypto_kx from fixed seeds). @source: the source's keys (tx
 * seals pages), else the destination's (rx opens them).
 */
static inline int fz_stream_keys(struct sd_mig_keys *k, bool source)
{
	u8 seed_src[crypto_kx_SEEDBYTES], seed_dst[crypto_kx_SEEDBYTES];
	u8 pk_src[crypto_kx_PUBLICKEYBYTES], sk_src[crypto_kx_SECRETKEYBYTES];
	u8 pk_dst[crypto_kx_PUBLICKEYBYTES], sk_dst[crypto_kx_SECRETKEYBYTES];

	memset(seed_src, 0x5a, sizeof(seed_src));
	memset(seed_dst, 0xa5, sizeof(seed_dst));
	crypto_kx_seed_keypair(pk_src, sk_src, seed_src);
	crypto_kx_seed_keypair(pk_dst, sk_dst, seed_dst);
	if (source) {
		memcpy(k->pk, pk_src, sizeof(pk_src));
		memcpy(k->sk, sk_src, sizeof(sk_src));
		return crypto_kx_client_session_keys(k->rx, k->tx, pk_src, sk_src, pk_dst);
	}
	memcpy(k->pk, pk_dst, sizeof(pk_dst));
	memcpy(k->sk, sk_dst, sizeof(sk_dst));
	return crypto_kx_server_session_keys(k->rx, k->tx, pk_dst, sk_dst, pk_src);
}

#endif /* SD_FUZZ_STREAM_H */
