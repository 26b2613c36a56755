// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * identity.c - migration identities and their key files (identity.h,
 * docs/STREAM.md 8). Keys are libsodium's Ed25519 (crypto_sign); a secret
 * key file holds the 32-byte seed and the public key it yields, which is
 * checked on every load.
 *
 * Reads untrusted files: at most SD_ID_FILE_MAX bytes, one line, fields
 * of fixed length; every field is checked before any is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "identity.h"

#define HEX_KEY		(2 * crypto_sign_PUBLICKEYBYTES)	/* 64; the seed is as long */

static const char *const id_err_names[] = {
	[SD_ID_OK] = "SD_ID_OK",
	[SD_ID_ERR_IO] = "SD_ID_ERR_IO",
	[SD_ID_ERR_EXISTS] = "SD_ID_ERR_EXISTS",
	[SD_ID_ERR_FORMAT] = "SD_ID_ERR_FORMAT",
	[SD_ID_ERR_VERSION] = "SD_ID_ERR_VERSION",
	[SD_ID_ERR_KIND] = "SD_ID_ERR_KIND",
	[SD_ID_ERR_MODE] = "SD_ID_ERR_MODE",
	[SD_ID_ERR_MISMATCH] = "SD_ID_ERR_MISMATCH",
};

const char *sd_id_err_name(int err)
{
	if (err < 0 && err > -(int)SD_ARRAY_SIZE(id_err_names))
		err = -err;
	if (err >= 0 && err < (int)SD_ARRAY_SIZE(id_err_names))
		return id_err_names[err];
	return "SD_ID_ERR_UNKNOWN";
}

__attribute__((format(printf, 5, 6)))
static int id_fail(char *msg, size_t len, int err, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(msg, len, "%s: %s: ", sd_id_err_name(err), path);

	if (n > 0 && (size_t)n < len) {
		va_start(ap, fmt);
		vsnprintf(msg + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -err;
}

void sd_id_hex(const u8 pk[crypto_sign_PUBLICKEYBYTES], char out[65])
{
	sodium_bin2hex(out, HEX_KEY + 1, pk, crypto_sign_PUBLICKEYBYTES);
}

void sd_id_generate(struct sd_mig_ids *ids)
{
	crypto_sign_keypair(ids->self_pk, ids->self_sk);
	ids->have_self = true;
}

void sd_id_demo_pair(struct sd_mig_ids *src, struct sd_mig_ids *dst)
{
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	sd_id_generate(src);
	sd_id_generate(dst);
	memcpy(src->peer_pk, dst->self_pk, sizeof(src->peer_pk));
	memcpy(dst->peer_pk, src->self_pk, sizeof(dst->peer_pk));
	src->have_peer = dst->have_peer = true;
}

/* Create @path (it must not exist) with @mode, holding @text. */
static int write_new(const char *path, mode_t mode, const char *text, char *msg, size_t len)
{
	size_t n = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0)
		return id_fail(msg, len, errno == EEXIST ? SD_ID_ERR_EXISTS : SD_ID_ERR_IO, path,
			       "%s", errno == EEXIST ? "exists already (keygen never overwrites a key)"
						     : strerror(errno));
	/* The umask may only narrow the mode; make it exactly @mode. */
	if (fchmod(fd, mode) || write(fd, text, n) != (ssize_t)n || fsync(fd)) {
		int e = errno;

		close(fd);
		unlink(path);
		return id_fail(msg, len, SD_ID_ERR_IO, path, "%s", strerror(e));
	}
	if (close(fd)) {
		unlink(path);
		return id_fail(msg, len, SD_ID_ERR_IO, path, "%s", strerror(errno));
	}
	return 0;
}

int sd_id_write(const struct sd_mig_ids *ids, const char *secret_path, const char *public_path,
		char *msg, size_t msglen)
{
	char seed[HEX_KEY + 1], pub[HEX_KEY + 1], line[SD_ID_FILE_MAX];
	int rc;

	/* libsodium's Ed25519 secret key is the seed followed by the public key. */
	sodium_bin2hex(seed, sizeof(seed), ids->self_sk, crypto_sign_SEEDBYTES);
	sd_id_hex(ids->self_pk, pub);
	snprintf(line, sizeof(line), "%s %s public ed25519 %s\n", SD_ID_MAGIC, SD_ID_VERSION, pub);
	rc = write_new(public_path, 0644, line, msg, msglen);
	if (rc)
		return rc;
	snprintf(line, sizeof(line), "%s %s secret ed25519 %s %s\n", SD_ID_MAGIC, SD_ID_VERSION,
		 seed, pub);
	rc = write_new(secret_path, 0600, line, msg, msglen);
	sodium_memzero(line, sizeof(line));
	sodium_memzero(seed, sizeof(seed));
	if (rc)
		unlink(public_path);	/* no public key without its secret */
	return rc;
}

/* One key file, whole: at most SD_ID_FILE_MAX - 1 bytes, NUL-terminated. */
static int read_file(const char *path, char *buf, mode_t *mode, char *msg, size_t len)
{
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);	/* a FIFO must not block us */

	if (fd < 0)
		return id_fail(msg, len, SD_ID_ERR_IO, path, "%s", strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return id_fail(msg, len, SD_ID_ERR_IO, path, "not a regular file");
	}
	*mode = sb.st_mode;
	n = read(fd, buf, SD_ID_FILE_MAX);
	close(fd);
	if (n < 0)
		return id_fail(msg, len, SD_ID_ERR_IO, path, "%s", strerror(errno));
	if (n >= SD_ID_FILE_MAX)
		return id_fail(msg, len, SD_ID_ERR_FORMAT, path, "longer than %d bytes: not an "
			       "identity file", SD_ID_FILE_MAX - 1);
	buf[n] = 0;
	if (strlen(buf) != (size_t)n)
		return id_fail(msg, len, SD_ID_ERR_FORMAT, path, "holds a NUL byte: not an identity "
			       "file");
	return 0;
}

/* 64 hex digits into 32 bytes; anything else is false. */
static bool hex32(const char *hex, u8 out[32])
{
	size_t got = 0;
	const char *end;

	if (strlen(hex) != HEX_KEY)
		return false;
	return sodium_hex2bin(out, 32, hex, HEX_KEY, NULL, &got, &end) == 0 && got == 32 &&
	       end == hex + HEX_KEY;
}

/*
 * Split the file's one line into its fields and check the common ones:
 * magic, version, kind, algorithm. @f gets up to 6 fields; returns how many.
 */
static int parse_line(char *buf, const char *path, const char *kind, char **f, int *nf,
		      char *msg, size_t len)
{
	size_t n = strlen(buf);
	char *save = NULL;

	*nf = 0;
	if (n == 0 || buf[n - 1] != '\n' || strchr(buf, '\n') != buf + n - 1)
		return id_fail(msg, len, SD_ID_ERR_FORMAT, path, "not one line ending in a newline");
	buf[n - 1] = 0;
	for (char *t = strtok_r(buf, " ", &save); t && *nf < 7; t = strtok_r(NULL, " ", &save))
		f[(*nf)++] = t;
	if (*nf < 1 || strcmp(f[0], SD_ID_MAGIC))
		return id_fail(msg, len, SD_ID_ERR_FORMAT, path, "not a sev-donate identity file "
			       "(no '%s' magic)", SD_ID_MAGIC);
	if (*nf < 2 || strcmp(f[1], SD_ID_VERSION))
		return id_fail(msg, len, SD_ID_ERR_VERSION, path, "identity file version '%s'; this "
			       "sev-donate reads version %s", *nf < 2 ? "" : f[1], SD_ID_VERSION);
	if (*nf < 3 || (strcmp(f[2], "public") && strcmp(f[2], "secret")))
		return id_fail(msg, len, SD_ID_ERR_FORMAT, path, "kind '%s' is neither public nor "
			       "secret", *nf < 3 ? "" : f[2]);
	if (strcmp(f[2], kind))
		return id_fail(msg, len, SD_ID_ERR_KIND, path, "a %s key file where a %s key is due",
			       f[2], kind);
	if (*nf < 4 || strcmp(f[3], "ed25519"))
		return id_fail(msg, len, SD_ID_ERR_FORMAT, path, "algorithm '%s' (only ed25519)",
			       *nf < 4 ? "" : f[3]);
	return 0;
}

int sd_id_load_public(const char *path, struct sd_mig_ids *ids, char *msg, size_t msglen)
{
	char buf[SD_ID_FILE_MAX], *f[7];
	mode_t mode;
	int nf, rc = read_file(path, buf, &mode, msg, msglen);

	if (!rc)
		rc = parse_line(buf, path, "public", f, &nf, msg, msglen);
	if (rc)
		return rc;
	if (nf != 5 || !hex32(f[4], ids->peer_pk))
		return id_fail(msg, msglen, SD_ID_ERR_FORMAT, path, "want one key of 64 hex digits");
	if (!crypto_core_ed25519_is_valid_point(ids->peer_pk))
		return id_fail(msg, msglen, SD_ID_ERR_FORMAT, path, "not a valid Ed25519 public key");
	ids->have_peer = true;
	return 0;
}

int sd_id_load_secret(const char *path, struct sd_mig_ids *ids, char *msg, size_t msglen)
{
	char buf[SD_ID_FILE_MAX], *f[7];
	u8 seed[crypto_sign_SEEDBYTES], pub[crypto_sign_PUBLICKEYBYTES];
	mode_t mode;
	int nf, rc = read_file(path, buf, &mode, msg, msglen);

	if (!rc)
		rc = parse_line(buf, path, "secret", f, &nf, msg, msglen);
	if (!rc && (mode & 077))
		rc = id_fail(msg, msglen, SD_ID_ERR_MODE, path, "a secret key others may read "
			     "(mode %04o; chmod 600 it)", (unsigned)(mode & 07777));
	if (!rc && (nf != 6 || !hex32(f[4], seed) || !hex32(f[5], pub)))
		rc = id_fail(msg, msglen, SD_ID_ERR_FORMAT, path, "want a seed and a public key of "
			     "64 hex digits each");
	if (!rc) {
		crypto_sign_seed_keypair(ids->self_pk, ids->self_sk, seed);
		if (sodium_memcmp(pub, ids->self_pk, sizeof(pub)))
			rc = id_fail(msg, msglen, SD_ID_ERR_MISMATCH, path, "its public key is not "
				     "the one its seed yields (a damaged file?)");
	}
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(seed, sizeof(seed));
	if (rc) {
		sodium_memzero(ids->self_sk, sizeof(ids->self_sk));
		return rc;
	}
	ids->have_self = true;
	return 0;
}
