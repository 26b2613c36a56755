/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * identity.h - a platform's long-term migration identity (an Ed25519 key
 * pair, libsodium crypto_sign) and its key files (docs/STREAM.md 8):
 * `sev-donate keygen` writes them, `migrate --identity/--peer-key` reads
 * them. Userspace (vmm/).
 *
 * A key file is untrusted input: it is read whole, at most
 * SD_ID_FILE_MAX bytes, and must be exactly one line of the documented
 * form; anything else is refused with a named error.
 */
#ifndef SD_MIG_IDENTITY_H
#define SD_MIG_IDENTITY_H

#include <stddef.h>
#include "stream.h"

#define SD_ID_MAGIC	"sev-donate-identity"
#define SD_ID_VERSION	"1"
#define SD_ID_FILE_MAX	512

enum sd_id_err {
	SD_ID_OK = 0,
	SD_ID_ERR_IO = 1,	/* the file cannot be opened, read or written */
	SD_ID_ERR_EXISTS = 2,	/* keygen: the file is there already (never overwritten) */
	SD_ID_ERR_FORMAT = 3,	/* not an identity file: magic, fields, hex, or a bad key */
	SD_ID_ERR_VERSION = 4,	/* an identity file of another version */
	SD_ID_ERR_KIND = 5,	/* a secret key where a public one is due, or the reverse */
	SD_ID_ERR_MODE = 6,	/* a secret key file others may read (mode & 077) */
	SD_ID_ERR_MISMATCH = 7,	/* a secret key file whose public half is not its seed's */
};

const char *sd_id_err_name(int err);

/* A fresh identity: self_pk and self_sk of @ids (have_self set). */
void sd_id_generate(struct sd_mig_ids *ids);
/*
 * Write @ids' identity: the secret key to @secret_path (created, mode
 * 0600) and the public key to @public_path (created, mode 0644). Neither
 * may exist. 0 or a negative SD_ID_ERR_*, with a message in @msg.
 */
int sd_id_write(const struct sd_mig_ids *ids, const char *secret_path, const char *public_path,
		char *msg, size_t msglen);
/* Read a secret key file into @ids (self_pk, self_sk, have_self). */
int sd_id_load_secret(const char *path, struct sd_mig_ids *ids, char *msg, size_t msglen);
/* Read a public key file into @ids (peer_pk, have_peer). */
int sd_id_load_public(const char *path, struct sd_mig_ids *ids, char *msg, size_t msglen);
/* The public key as 64 hex digits and a NUL. */
void sd_id_hex(const u8 pk[crypto_sign_PUBLICKEYBYTES], char out[65]);
/* Two fresh identities that expect each other, for a demo's source and destination. */
void sd_id_demo_pair(struct sd_mig_ids *src, struct sd_mig_ids *dst);

#endif /* SD_MIG_IDENTITY_H */
