/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * cvec.h - the conformance vectors (SPEC.md section 10), loaded for tests,
 * and the guest memory a vector describes (SPEC.md 4.4, 10.3).
 *
 * Independent of host/'s API: cvec_mem_map() has the shape of a map()
 * accessor, and each test wraps it in whatever its reader takes.
 */
#ifndef SD_CVEC_H
#define SD_CVEC_H

#include "sd_types.h"
#include "validate.h"

struct cverdict {
	int err;		/* 0 or negative SD_ERR_* */
	u64 chunk;		/* SD_LOC_NONE when the manifest says '-' */
	u64 offset;		/* SD_LOC_NONE when the manifest says '-' */
	u64 shared, transition, extents;	/* valid images only */
};

/* Memory-map region kinds (SPEC.md 10.3). */
enum cvec_kind { CVEC_RAM, CVEC_MMIO, CVEC_FAULT };

struct cvec_region {
	enum cvec_kind kind;
	sd_gpa_t lo, hi;	/* bytes, hi exclusive */
};

struct cvec_mut {
	u64 off;
	u32 width;		/* 1, 2, 4 or 8 */
	u64 val;
};

#define CVEC_MAX_REGIONS	16
#define CVEC_MAX_AFTER		8

struct cvec {
	char name[64];
	sd_gpa_t gpa;		/* where the image lies */
	sd_gfn_t first_gfn;
	u64 nr_gfns;
	u32 ppc;
	u64 reg;		/* the registration value */
	bool hc;		/* the hypercall transport, with hc_args; else the MSR */
	u64 hc_args[3];		/* a1 (size), a2 (ABI major), a3 (reserved) */
	u32 maxphyaddr;
	struct sd_limits lim;
	int nr_regions;		/* 0: the manifest's '-', one RAM region holding the image */
	struct cvec_region regions[CVEC_MAX_REGIONS];
	char ops[4096];		/* "-" or "op;op;..." */
	bool mutated;		/* has mutations or a truncation: not a writer scenario */
	int nr_after;
	struct cvec_mut after[CVEC_MAX_AFTER];
	struct cverdict live, paused;
	u8 *img;		/* the .bin file */
	u64 len;
};

/* Load every vector listed in @dir/MANIFEST; returns the count, exits on a malformed manifest. */
int cvec_load_all(const char *dir, struct cvec **out);
void cvec_free_all(struct cvec *v, int n);
/* The vector named @name, or NULL. */
const struct cvec *cvec_find(const struct cvec *v, int n, const char *name);
/* Directory of the vectors: $SD_CONFORMANCE_DIR or tests/conformance. */
const char *cvec_dir(void);
/* The error number whose name is @name ("SD_OK" -> 0), negated; 1 when unknown. */
int sd_err_from_name(const char *name);

/*
 * Guest memory for one strict read of a vector: a private copy of the
 * image at v->gpa, behind the vector's memory map. Bytes of RAM outside the
 * image read as zero.
 */
struct cvec_mem {
	const struct cvec *v;
	u8 *img;			/* the copy; cvec_mem_after() mutates it */
	int nr_regions;
	struct cvec_region regions[CVEC_MAX_REGIONS];
	void *bufs[64];			/* zero-padded copies handed out by map() */
	int nr_bufs;
	u64 maps, fails;		/* map() calls, and those that failed */
};

void cvec_mem_init(struct cvec_mem *m, const struct cvec *v);
void cvec_mem_free(struct cvec_mem *m);
/* Apply the vector's `after` mutations to guest memory (SPEC.md 10.4 step 2). */
void cvec_mem_after(struct cvec_mem *m);
/* Classify [gpa, gpa + len) as SPEC.md 4.4 does: 0 or a negative SD_ERR_MEM_*. */
int cvec_mem_check(const struct cvec_mem *m, sd_gpa_t gpa, u64 len);
/*
 * A map() accessor over @ctx (a struct cvec_mem): a pointer through which
 * [gpa, gpa + len) reads as guest memory until cvec_mem_free(), or NULL
 * with *err set to cvec_mem_check()'s error.
 */
const void *cvec_mem_map(void *ctx, sd_gpa_t gpa, u64 len, int *err);

#endif /* SD_CVEC_H */
