// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * keygen.c - `sev-donate keygen`: a platform's long-term migration
 * identity, an Ed25519 key pair (vmm/migrate/identity.c), written as the
 * key files of docs/STREAM.md 8.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "identity.h"

static const char keygen_help[] =
	"usage: sev-donate keygen --out FILE [--pub FILE]\n"
	"\n"
	"Write a new identity for this platform's migrations: an Ed25519 key pair\n"
	"(libsodium). A destination proves it holds the secret key before a source\n"
	"sends it a page (migrate --dest --identity FILE); a source is told the\n"
	"destination's public key (migrate --source --peer-key FILE.pub), and signs\n"
	"with its own identity, which a destination may require in turn\n"
	"(docs/STREAM.md 3 and 8).\n"
	"\n"
	"  --out FILE   the secret key, created with mode 0600\n"
	"  --pub FILE   the public key, created with mode 0644 (default: FILE.pub)\n"
	"\n"
	"Neither file may exist: keygen never overwrites a key (SD_ID_ERR_EXISTS).\n"
	"Prints the public key in hex.\n"
	"Exit status: 0 written, 2 usage or I/O error.\n";

int cmd_keygen(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "pub", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sd_mig_ids ids;
	const char *out = NULL, *pub = NULL;
	char *pub_default = NULL, msg[512], hex[65];
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'p': pub = optarg; break;
		case 'h': fputs(keygen_help, stdout); return 0;
		case ':': return cli_usage_error("%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (!out)
		return cli_usage_error("--out FILE is required (see --help)");
	if (sodium_init() < 0)
		return cli_usage_error("libsodium failed to initialise");
	if (!pub) {
		if (asprintf(&pub_default, "%s.pub", out) < 0)
			return cli_io_error("memory", "cannot name the public key file:");
		pub = pub_default;
	}
	if (!strcmp(pub, out)) {
		free(pub_default);
		return cli_usage_error("--pub and --out name the same file");
	}
	sd_id_generate(&ids);
	rc = sd_id_write(&ids, out, pub, msg, sizeof(msg));
	sodium_memzero(ids.self_sk, sizeof(ids.self_sk));
	if (rc) {
		free(pub_default);
		return cli_usage_error("%s", msg);
	}
	sd_id_hex(ids.self_pk, hex);
	printf("secret key: %s (mode 0600)\npublic key: %s\nidentity: ed25519 %s\n", out, pub, hex);
	free(pub_default);
	return 0;
}
