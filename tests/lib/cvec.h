/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* cvec.h - the conformance vectors (SPEC.md section 10), loaded for tests. */
#ifndef SD_CVEC_H
#define SD_CVEC_H

#include "sd_types.h"
#include "validate.h"

struct cverdict {
	int err;		/* 0 or negative SD_ERR_* */
	u64 chunk;		/* SD_LOC_NONE when the manifest says '-' */
	u64 offset;
	u64 shared, transition, extents;	/* valid images only */
};

struct cvec {
	char name[64];
	sd_gpa_t gpa;
	sd_gfn_t first_gfn;
	u64 nr_gfns;
	u32 ppc;
	struct sd_limits lim;
	char ops[4096];		/* "-" or "op;op;..." */
	bool mutated;		/* has mutations or a truncation */
	struct cverdict live, paused;
	u8 *img;		/* the .bin file */
	u64 len;
};

/* Load every vector listed in @dir/MANIFEST; returns the count, exits on a malformed manifest. */
int cvec_load_all(const char *dir, struct cvec **out);
void cvec_free_all(struct cvec *v, int n);
/* Directory of the vectors: $SD_CONFORMANCE_DIR or tests/conformance. */
const char *cvec_dir(void);
/* The error number whose name is @name ("SD_OK" -> 0), negated; 1 when unknown. */
int sd_err_from_name(const char *name);

#endif /* SD_CVEC_H */
