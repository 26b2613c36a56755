/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * cli.h - what the sev-donate subcommands share: argument parsing, one-line
 * errors, JSON output, and reading an image the way a host would.
 *
 * Exit status, for every subcommand: 0 success (a valid table), 1 an
 * invalid table, 2 a usage or I/O error.
 */
#ifndef SD_CLI_H
#define SD_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "sd_host.h"
#include "sd_types.h"
#include "validate.h"

#define EXIT_VALID	0
#define EXIT_INVALID	1
#define EXIT_USAGE	2

/* The running subcommand, for messages ("sev-donate: check: ..."). */
extern const char *cli_cmd;

/* One line on stderr, prefixed with the program and subcommand; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, for a failed system call on @what: appends strerror(errno). */
int cli_io_error(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse "123", "0x7b", "64M", "1G", "2T" (binary suffixes). False on anything else. */
bool cli_parse_size(const char *s, u64 *out);
/* Parse a plain number, decimal or 0x-hex. False on anything else. */
bool cli_parse_u64(const char *s, u64 *out);

/* A JSON string literal, escaped. */
void cli_json_str(FILE *f, const char *s);

/* An image file mapped read-only: guest RAM, file offset = GPA. */
struct cli_image {
	const char *path;
	const u8 *base;		/* NULL when the file is empty */
	void *map;		/* the mapping, for munmap */
	u64 size;
	struct sd_host_flat flat;	/* what cli_image_mem() reads: all of it */
};

/* Open and map @path; prints its own error and returns EXIT_USAGE on failure. */
int cli_image_open(struct cli_image *img, const char *path);
void cli_image_close(struct cli_image *img);
/* The accessor over an image: a range past the end of the file is not backed. */
struct sd_host_mem cli_image_mem(struct cli_image *img);
/* A host configuration for an image: all of it is RAM, frame 0 up. */
struct sd_host_cfg cli_image_cfg(const struct cli_image *img, u32 attempts);

/* Report a verdict error: one line on stderr, and a JSON object on stdout if asked. */
int cli_report_invalid(int rc, const struct sd_errloc *loc, sd_gpa_t gpa,
		       const struct cli_image *img, bool json, bool paused);

int cmd_make_image(int argc, char **argv);
int cmd_keygen(int argc, char **argv);

#endif /* SD_CLI_H */
