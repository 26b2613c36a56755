// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * handshake.c - docs/STREAM.md 2-3: the version-2 handshake. Each side
 * proves that it holds its platform's long-term Ed25519 identity by
 * signing the transcript (both HELLO and HEADER as sent: both identities,
 * both per-migration X25519 keys, both nonces), and each checks the other's
 * identity against the key it was told to expect. A recorded HELLO or
 * HEADER replayed into another migration fails: the transcript holds the
 * other side's fresh nonce and key.
 *
 * Reachable by a hostile peer. What bounds it: every message has a fixed
 * size; the 16-byte prefix (magic, version, size) is read and checked
 * before the rest, so a peer of another version is refused by version
 * rather than waited for; nothing a peer sends is trusted before its
 * signature has been verified, except what is needed to verify it.
 */
#include <stddef.h>
#include <string.h>
#include "stream.h"
#include "stream_wire.h"

_Static_assert(sizeof(struct sd_mig_hello) == sizeof(((struct sd_mig_hs *)0)->hello), "HELLO");
_Static_assert(offsetof(struct sd_mig_header, signature) == sizeof(((struct sd_mig_hs *)0)->header),
	       "HEADER before its signature");
/* HELLO and HEADER share a shape up to the signature: built and checked as one. */
_Static_assert(offsetof(struct sd_mig_hello, flags) == offsetof(struct sd_mig_header, nr_vcpus),
	       "one shape");
_Static_assert(offsetof(struct sd_mig_hello, crc_all) == offsetof(struct sd_mig_header, crc_all),
	       "one shape");
_Static_assert(SD_MIG_ID_BYTES == crypto_sign_PUBLICKEYBYTES, "identity is Ed25519");
_Static_assert(crypto_sign_BYTES == sizeof(((struct sd_mig_auth *)0)->signature), "signature");

/* What each side signs: a 16-byte label naming its role, then the transcript hash (3.1). */
#define LABEL_SOURCE	"sev-donate-src-2"
#define LABEL_DEST	"sev-donate-dst-2"
#define LABEL_BYTES	16
#define HASH_BYTES	32

const char *sd_mig_key_short(const u8 pk[crypto_sign_PUBLICKEYBYTES], char buf[17])
{
	sodium_bin2hex(buf, 17, pk, 8);
	return buf;
}

/* BLAKE2b-256 of HELLO (128 bytes) then HEADER up to its signature (128 bytes). */
static void signed_message(const struct sd_mig_hs *hs, const char *label,
			   u8 m[LABEL_BYTES + HASH_BYTES])
{
	crypto_generichash_state g;

	memcpy(m, label, LABEL_BYTES);
	crypto_generichash_init(&g, NULL, 0, HASH_BYTES);
	crypto_generichash_update(&g, hs->hello, sizeof(hs->hello));
	crypto_generichash_update(&g, hs->header, sizeof(hs->header));
	crypto_generichash_final(&g, m + LABEL_BYTES, HASH_BYTES);
}

static void hs_sign(const struct sd_mig_hs *hs, const char *label, u8 sig[crypto_sign_BYTES])
{
	u8 m[LABEL_BYTES + HASH_BYTES];

	signed_message(hs, label, m);
	crypto_sign_detached(sig, NULL, m, sizeof(m), hs->ids->self_sk);
}

static bool hs_verify(const struct sd_mig_hs *hs, const char *label, const u8 *sig,
		      const u8 *pk)
{
	u8 m[LABEL_BYTES + HASH_BYTES];

	signed_message(hs, label, m);
	return crypto_sign_verify_detached(sig, m, sizeof(m), pk) == 0;
}

/* HELLO or HEADER's first 128 bytes, with a fresh nonce; @word is flags or nr_vcpus. */
static void hs_build(struct sd_mig_hello *h, u64 magic, u32 size, u64 ram_bytes, const u8 *kx,
		     const u8 *id, u32 word)
{
	memset(h, 0, sizeof(*h));
	h->magic = magic;
	h->major = SD_MIG_MAJOR;
	h->minor = SD_MIG_MINOR;
	h->size = size;
	h->ram_bytes = ram_bytes;
	memcpy(h->kx_public, kx, SD_MIG_KX_BYTES);
	h->flags = word;
	/* Where version 1 has its CRC: a version-1 reader gets as far as the version check. */
	h->crc = sd_crc32c(0, h, offsetof(struct sd_mig_hello, crc));
	memcpy(h->id_public, id, SD_MIG_ID_BYTES);
	randombytes_buf(h->nonce, sizeof(h->nonce));
	h->crc_all = sd_crc32c(0, h, offsetof(struct sd_mig_hello, crc_all));
}

/*
 * Read a HELLO or HEADER of @size bytes into @buf: the prefix first, checked
 * (magic, then version and size) before the rest is read; then both CRCs and
 * the reserved field.
 */
static int hs_read(const struct sd_io *io, u64 magic, u32 size, const char *what, u8 *buf,
		   struct sd_mig_status *st)
{
	struct sd_mig_prefix p;
	struct sd_mig_hello h;
	int rc = io->read(io->ctx, buf, sizeof(p));

	if (!rc) {
		memcpy(&p, buf, sizeof(p));
		if (p.magic != magic)
			return sd_mig_fail(st, SD_MIG_ERR_MAGIC, "%s: bad magic %#llx", what,
					   (unsigned long long)p.magic);
		if (p.major != SD_MIG_MAJOR || p.size != size)
			return sd_mig_fail(st, SD_MIG_ERR_VERSION, "%s: version %u.%u (size %u); this "
					   "side speaks version %u (size %u)", what, p.major, p.minor,
					   p.size, SD_MIG_MAJOR, size);
		rc = io->read(io->ctx, buf + sizeof(p), size - sizeof(p));
	}
	if (rc)
		return sd_mig_fail(st, -rc, "reading %s: %s", what, sd_mig_io_what(rc));
	memcpy(&h, buf, sizeof(h));
	if (h.crc != sd_crc32c(0, &h, offsetof(struct sd_mig_hello, crc)) ||
	    h.crc_all != sd_crc32c(0, &h, offsetof(struct sd_mig_hello, crc_all)))
		return sd_mig_fail(st, SD_MIG_ERR_CRC, "%s: CRC mismatch", what);
	if (h.reserved)
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "%s: reserved field set", what);
	return 0;
}

static int hs_write(const struct sd_io *io, const void *buf, size_t n, const char *what,
		    struct sd_mig_status *st)
{
	int rc = io->write(io->ctx, buf, n);

	return rc ? sd_mig_fail(st, -rc, "sending %s: %s", what, sd_mig_io_what(rc)) : 0;
}

int sd_mig_send_hello(const struct sd_io *io, u64 ram_bytes, const struct sd_mig_ids *ids,
		      struct sd_mig_hs *hs, struct sd_mig_status *st)
{
	struct sd_mig_hello h;

	memset(hs, 0, sizeof(*hs));
	hs->ids = ids;
	if (!ids->have_self)
		return sd_mig_fail(st, SD_MIG_ERR_PEER_KEY, "this destination has no identity "
				   "(--identity)");
	crypto_kx_keypair(hs->keys.pk, hs->keys.sk);
	hs_build(&h, SD_MIG_HELLO_MAGIC, sizeof(h), ram_bytes, hs->keys.pk, ids->self_pk, 0);
	memcpy(hs->hello, &h, sizeof(h));
	return hs_write(io, &h, sizeof(h), "HELLO", st);
}

/*
 * The per-migration transport keys from our ephemeral pair and the peer's
 * @kx_public (the destination is the server); the ephemeral secret is
 * wiped whatever the outcome, so nothing can recover the session keys later.
 */
static int hs_session_keys(struct sd_mig_hs *hs, bool server, const u8 *kx_public,
			   const char *what, struct sd_mig_status *st)
{
	struct sd_mig_keys *k = &hs->keys;
	int rc = server ? crypto_kx_server_session_keys(k->rx, k->tx, k->pk, k->sk, kx_public)
			: crypto_kx_client_session_keys(k->rx, k->tx, k->pk, k->sk, kx_public);

	sodium_memzero(k->sk, sizeof(k->sk));
	if (rc)
		return sd_mig_fail(st, SD_MIG_ERR_AUTH, "%s: unusable key-exchange public key", what);
	return 0;
}

int sd_mig_recv_hello(const struct sd_io *io, u64 ram_bytes, const struct sd_mig_ids *ids,
		      struct sd_mig_hs *hs, struct sd_mig_status *st)
{
	struct sd_mig_hello h;
	char a[17], b[17];
	int rc;

	memset(hs, 0, sizeof(*hs));
	hs->ids = ids;
	if (!ids->have_self || !ids->have_peer)
		return sd_mig_fail(st, SD_MIG_ERR_PEER_KEY, "this source has no %s: it sends to no "
				   "destination it cannot authenticate", ids->have_self ?
				   "destination key to expect (--peer-key)" : "identity (--identity)");
	rc = hs_read(io, SD_MIG_HELLO_MAGIC, sizeof(h), "HELLO", hs->hello, st);
	if (rc)
		return rc;
	memcpy(&h, hs->hello, sizeof(h));
	if (h.flags)
		return sd_mig_fail(st, SD_MIG_ERR_TYPE, "HELLO: unknown flags %#x", h.flags);
	/* The pinned key first: nothing else a stranger says matters. */
	if (sodium_memcmp(h.id_public, ids->peer_pk, SD_MIG_ID_BYTES))
		return sd_mig_fail(st, SD_MIG_ERR_PEER_KEY, "HELLO: the destination is %s..., not "
				   "the expected %s... (--peer-key)", sd_mig_key_short(h.id_public, a),
				   sd_mig_key_short(ids->peer_pk, b));
	memcpy(hs->peer_pk, h.id_public, SD_MIG_ID_BYTES);
	hs->peer_minor = h.minor;	/* what the destination reads (ABORT: minor 1) */
	if (h.ram_bytes < ram_bytes)
		return sd_mig_fail(st, SD_MIG_ERR_RAM,
				   "destination holds %llu bytes of guest RAM, the guest has %llu",
				   (unsigned long long)h.ram_bytes, (unsigned long long)ram_bytes);
	crypto_kx_keypair(hs->keys.pk, hs->keys.sk);
	return hs_session_keys(hs, false, h.kx_public, "HELLO", st);
}

int sd_mig_send_header(const struct sd_io *io, u64 ram_bytes, u32 nr_vcpus,
		       struct sd_mig_hs *hs, struct sd_mig_status *st)
{
	struct sd_mig_header h;
	struct sd_mig_hello v;

	hs_build(&v, SD_MIG_HEADER_MAGIC, sizeof(h), ram_bytes, hs->keys.pk, hs->ids->self_pk,
		 nr_vcpus);
	memcpy(hs->header, &v, sizeof(v));
	memcpy(&h, &v, sizeof(v));
	hs_sign(hs, LABEL_SOURCE, h.signature);
	return hs_write(io, &h, sizeof(h), "HEADER", st);
}

int sd_mig_recv_header(const struct sd_io *io, u64 dst_ram_bytes, struct sd_mig_hs *hs,
		       u64 *ram_bytes, u32 *nr_vcpus, struct sd_mig_status *st)
{
	const struct sd_mig_ids *ids = hs->ids;
	u8 buf[sizeof(struct sd_mig_header)];
	struct sd_mig_header h;
	char a[17];
	int rc = hs_read(io, SD_MIG_HEADER_MAGIC, sizeof(h), "HEADER", buf, st);

	if (rc)
		return rc;
	memcpy(&h, buf, sizeof(h));
	memcpy(hs->header, buf, sizeof(hs->header));
	if (ids->have_peer && sodium_memcmp(h.id_public, ids->peer_pk, SD_MIG_ID_BYTES))
		/* The reason goes back to an unauthenticated peer: it names no trusted key. */
		return sd_mig_fail(st, SD_MIG_ERR_PEER_KEY, "HEADER: the source is %s..., not the "
				   "source this destination expects (--peer-key)",
				   sd_mig_key_short(h.id_public, a));
	if (!hs_verify(hs, LABEL_SOURCE, h.signature, h.id_public))
		return sd_mig_fail(st, SD_MIG_ERR_PEER_SIG, "HEADER: the source did not prove it "
				   "holds key %s... (a replayed HEADER?)",
				   sd_mig_key_short(h.id_public, a));
	memcpy(hs->peer_pk, h.id_public, SD_MIG_ID_BYTES);
	hs->peer_minor = h.minor;
	if (h.ram_bytes > dst_ram_bytes)
		return sd_mig_fail(st, SD_MIG_ERR_RAM,
				   "the guest has %llu bytes of RAM, this destination holds %llu",
				   (unsigned long long)h.ram_bytes, (unsigned long long)dst_ram_bytes);
	if (h.ram_bytes == 0 || h.ram_bytes % 4096)
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "HEADER: RAM size %llu is not whole pages",
				   (unsigned long long)h.ram_bytes);
	if (h.nr_vcpus == 0 || h.nr_vcpus > SD_MIG_MAX_VCPUS)
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "HEADER: %u vCPUs (1 to %d)", h.nr_vcpus,
				   SD_MIG_MAX_VCPUS);
	rc = hs_session_keys(hs, true, h.kx_public, "HEADER", st);
	if (rc)
		return rc;
	*ram_bytes = h.ram_bytes;
	*nr_vcpus = h.nr_vcpus;
	return 0;
}

int sd_mig_send_auth(const struct sd_io *io, const struct sd_mig_hs *hs, struct sd_mig_status *st)
{
	struct sd_mig_auth a = { .magic = SD_MIG_AUTH_MAGIC };

	hs_sign(hs, LABEL_DEST, a.signature);
	return hs_write(io, &a, sizeof(a), "AUTH", st);
}

int sd_mig_recv_auth(const struct sd_io *io, const struct sd_mig_hs *hs, struct sd_mig_status *st)
{
	u8 buf[sizeof(struct sd_mig_result)];
	struct sd_mig_auth a;
	char k[17];
	u64 magic;
	int rc = io->read(io->ctx, buf, sizeof(magic));

	_Static_assert(sizeof(struct sd_mig_result) >= sizeof(struct sd_mig_auth), "buffer");
	memcpy(&magic, buf, sizeof(magic));
	/* A destination that refuses this source answers RESULT instead (3.2). */
	if (!rc && magic == SD_MIG_RESULT_MAGIC) {
		rc = io->read(io->ctx, buf + sizeof(magic), sizeof(struct sd_mig_result) - sizeof(magic));
		if (!rc) {
			rc = sd_mig_result_parse(buf, st);
			return rc ? rc : sd_mig_fail(st, SD_MIG_ERR_PEER_SIG, "an accepting RESULT "
						     "where AUTH was due");
		}
	} else if (!rc && magic != SD_MIG_AUTH_MAGIC) {
		return sd_mig_fail(st, SD_MIG_ERR_MAGIC, "AUTH: bad magic %#llx",
				   (unsigned long long)magic);
	} else if (!rc) {
		rc = io->read(io->ctx, buf + sizeof(magic), sizeof(a) - sizeof(magic));
	}
	if (rc)
		return sd_mig_fail(st, -rc, "reading AUTH: %s", sd_mig_io_what(rc));
	memcpy(&a, buf, sizeof(a));
	if (!hs_verify(hs, LABEL_DEST, a.signature, hs->peer_pk))
		return sd_mig_fail(st, SD_MIG_ERR_PEER_SIG, "AUTH: the destination did not prove it "
				   "holds key %s... (a replayed HELLO?)", sd_mig_key_short(hs->peer_pk, k));
	return 0;
}
