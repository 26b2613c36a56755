/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * report.h - the migration report, as text for people and as JSON for
 * scripts, both printed from one table of fields (report.c), which also
 * writes the fields' descriptions for --help.
 */
#ifndef SD_MIG_REPORT_H
#define SD_MIG_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "migrate.h"

/* One migration as the CLI saw it: the source's report, the destination's if it came. */
struct mig_run {
	u64 seed;
	int rc;				/* 0 migrated, else the source's -SD_MIG_ERR_* */
	u64 ram_bytes;			/* the guest's RAM */
	u32 design;			/* DEMO_DESIGN_* */
	const struct sd_mig_source_report *sr;
	const struct sd_mig_dest_report *dr;	/* NULL: no destination here (--source) */
	bool have_dest;			/* dr holds the destination's own report */
};

/* The human report on stdout; on failure the error lines go to stderr. */
void mig_report_text(const struct mig_run *m);
/* One JSON object on stdout (@last: no trailing comma). */
void mig_report_json(const struct mig_run *m, bool last);
/* A failed run's error and where the guest is, on stderr (also after --json). */
void mig_report_failure(const struct mig_run *m);
/* --dest's own report. */
void mig_report_dest_text(int rc, const struct sd_mig_dest_report *dr);
void mig_report_dest_json(int rc, const struct sd_mig_dest_report *dr);
/* @s as a JSON string, quoted and escaped, on stdout. */
void mig_json_str(const char *s);
/* Every field, one line each, for --help. */
void mig_report_help(FILE *f);

/* Migrated, the oracle agrees on every page, and the guest found every page intact. */
bool mig_run_ok(const struct mig_run *m);

#endif /* SD_MIG_REPORT_H */
