// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cvec.c - MANIFEST parser for the conformance vectors (SPEC.md 10.2, 10.3),
 * and the guest memory a vector describes (SPEC.md 4.4).
 *
 * The parser is strict, as 10.2 asks of a consumer: every key in the
 * order of cvec_keys[] (tests/check-spec.py holds it against SPEC.md's
 * table), numbers in the two spellings 10.2 allows, nothing unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cvec.h"

/* SPEC.md 10.2, in order; the *_counts keys follow an SD_OK verdict and only then. */
static const char *const cvec_keys[] = {
	"name", "gpa", "first_gfn", "nr_gfns", "ppc", "reg", "hc", "maxphyaddr", "ram",
	"gfn_limit", "max_table", "mem", "ops", "mut", "trunc", "after", "live", "live_counts",
	"paused", "paused_counts",
};

enum {
	K_NAME, K_GPA, K_FIRST_GFN, K_NR_GFNS, K_PPC, K_REG, K_HC, K_MAXPHYADDR, K_RAM,
	K_GFN_LIMIT, K_MAX_TABLE, K_MEM, K_OPS, K_MUT, K_TRUNC, K_AFTER, K_LIVE, K_LIVE_COUNTS,
	K_PAUSED, K_PAUSED_COUNTS, K_NR
};

_Static_assert(SD_ARRAY_SIZE(cvec_keys) == K_NR, "one name per key");

/* SPEC.md 10.3, indexed by enum cvec_kind. */
static const char *const cvec_kinds[] = { "ram", "mmio", "fault" };

const char *cvec_dir(void)
{
	const char *d = getenv("SD_CONFORMANCE_DIR");

	return d ? d : "tests/conformance";
}

int sd_err_from_name(const char *name)
{
	for (int e = 0; e < 256; e++)
		if (strcmp(sd_err_name(e), name) == 0)
			return -e;
	return 1;
}

static void die(const char *what, const char *line)
{
	fprintf(stderr, "cvec: malformed MANIFEST (%s): %.160s\n", what, line);
	exit(2);
}

/*
 * A number of 10.2 in s[0, n): decimal without a leading zero, or 0x and
 * hex digits; below 2^64.
 */
static u64 num(const char *s, size_t n, const char *line)
{
	bool hex = n > 2 && s[0] == '0' && s[1] == 'x';
	u64 v = 0, base = hex ? 16 : 10;

	if (n == 0 || (!hex && n > 1 && s[0] == '0'))
		die("number", line);
	for (size_t i = hex ? 2 : 0; i < n; i++) {
		const char *digits = "0123456789abcdef";
		char c = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
		const char *d = memchr(digits, c, base);

		if (!c || !d || v > (~0ULL - (u64)(d - digits)) / base)
			die("number", line);
		v = v * base + (u64)(d - digits);
	}
	return v;
}

/* Split @s at @sep into at most @max parts, each [start, len); returns the count. */
static int split(const char *s, char sep, const char **part, size_t *len, int max)
{
	int n = 0;

	for (;;) {
		const char *e = strchr(s, sep);

		if (n == max)
			return max + 1;
		part[n] = s;
		len[n++] = e ? (size_t)(e - s) : strlen(s);
		if (!e)
			return n;
		s = e + 1;
	}
}

/* "A:B" or "A:B:C" of numbers into @out; exactly @want of them. */
static void nums(const char *s, u64 *out, int want, const char *line)
{
	const char *p[4];
	size_t l[4];

	if (split(s, ':', p, l, 3) != want)
		die("number list", line);
	for (int i = 0; i < want; i++)
		out[i] = num(p[i], l[i], line);
}

/* "NAME" or "NAME@chunk:offset" with '-' for absent parts (SPEC.md 10.3). */
static void parse_verdict(struct cverdict *v, const char *s, const char *line)
{
	char name[64];
	const char *at = strchr(s, '@'), *colon;
	size_t n = at ? (size_t)(at - s) : strlen(s);

	if (n >= sizeof(name))
		die("verdict", line);
	memcpy(name, s, n);
	name[n] = 0;
	v->err = sd_err_from_name(name);
	if (v->err > 0)
		die("unknown error name", line);
	v->chunk = v->offset = SD_LOC_NONE;
	if (!at) {
		if (v->err)
			die("an error verdict needs @chunk:offset", line);
		return;
	}
	colon = strchr(at, ':');
	if (!v->err || !colon)
		die("location", line);
	if (strncmp(at + 1, "-:", 2)) {
		const char *c = at + 1;

		if (c[0] == '0' && colon - c > 1)	/* the chunk is decimal */
			die("chunk", line);
		for (const char *q = c; q < colon; q++)
			if (*q < '0' || *q > '9')
				die("chunk", line);
		v->chunk = num(c, (size_t)(colon - c), line);
	}
	if (strcmp(colon + 1, "-"))
		v->offset = num(colon + 1, strlen(colon + 1), line);
}

static void parse_counts(struct cverdict *v, const char *s, const char *line)
{
	u64 c[3];

	nums(s, c, 3, line);
	v->shared = c[0];
	v->transition = c[1];
	v->extents = c[2];
}

static void parse_regions(struct cvec *v, const char *s, const char *line)
{
	const char *p[CVEC_MAX_REGIONS];
	size_t l[CVEC_MAX_REGIONS];
	int n = strcmp(s, "-") ? split(s, ';', p, l, CVEC_MAX_REGIONS) : 0;
	sd_gpa_t end = 0;

	if (n > CVEC_MAX_REGIONS)
		die("too many regions", line);
	for (int i = 0; i < n; i++) {
		char r[128];
		const char *q[4];
		size_t ql[4];
		int kind = -1;

		if (l[i] >= sizeof(r))
			die("region", line);
		memcpy(r, p[i], l[i]);
		r[l[i]] = 0;
		if (split(r, ':', q, ql, 3) != 3)
			die("region", line);
		for (int k = 0; k < (int)SD_ARRAY_SIZE(cvec_kinds); k++)
			if (ql[0] == strlen(cvec_kinds[k]) && !strncmp(q[0], cvec_kinds[k], ql[0]))
				kind = k;
		v->regions[i].kind = (enum cvec_kind)kind;
		v->regions[i].lo = num(q[1], ql[1], line) << SD_PAGE_SHIFT;
		v->regions[i].hi = num(q[2], ql[2], line) << SD_PAGE_SHIFT;
		if (kind < 0 || v->regions[i].lo >= v->regions[i].hi || v->regions[i].lo < end)
			die("region kind or order", line);
		end = v->regions[i].hi;
	}
	v->nr_regions = n;
}

static void parse_after(struct cvec *v, const char *s, const char *line)
{
	const char *p[CVEC_MAX_AFTER];
	size_t l[CVEC_MAX_AFTER];
	int n = strcmp(s, "-") ? split(s, ';', p, l, CVEC_MAX_AFTER) : 0;

	if (n > CVEC_MAX_AFTER)
		die("too many mutations", line);
	for (int i = 0; i < n; i++) {
		char m[80];
		u64 f[3];

		if (l[i] >= sizeof(m))
			die("mutation", line);
		memcpy(m, p[i], l[i]);
		m[l[i]] = 0;
		nums(m, f, 3, line);
		if (f[1] != 1 && f[1] != 2 && f[1] != 4 && f[1] != 8)
			die("mutation width", line);
		v->after[i] = (struct cvec_mut){ f[0], (u32)f[1], f[2] };
	}
	v->nr_after = n;
}

static void parse_field(struct cvec *v, int key, const char *val, const char *line)
{
	u64 f[3];

	switch (key) {
	case K_NAME:
		snprintf(v->name, sizeof(v->name), "%s", val);
		break;
	case K_GPA:
		v->gpa = num(val, strlen(val), line);
		break;
	case K_FIRST_GFN:
		v->first_gfn = num(val, strlen(val), line);
		break;
	case K_NR_GFNS:
		v->nr_gfns = num(val, strlen(val), line);
		break;
	case K_PPC:
		v->ppc = (u32)num(val, strlen(val), line);
		break;
	case K_REG:
		v->reg = num(val, strlen(val), line);
		break;
	case K_HC:
		v->hc = strcmp(val, "-") != 0;
		if (v->hc)
			nums(val, v->hc_args, 3, line);
		break;
	case K_MAXPHYADDR:
		v->maxphyaddr = (u32)num(val, strlen(val), line);
		if (v->maxphyaddr < 12 || v->maxphyaddr > 64)
			die("maxphyaddr", line);
		break;
	case K_RAM:
		nums(val, f, 2, line);
		v->lim.ram_first_gfn = f[0];
		v->lim.ram_end_gfn = f[1];
		break;
	case K_GFN_LIMIT:
		v->lim.gfn_limit = num(val, strlen(val), line);
		break;
	case K_MAX_TABLE:
		v->lim.max_table_bytes = num(val, strlen(val), line);
		break;
	case K_MEM:
		parse_regions(v, val, line);
		break;
	case K_OPS:
		snprintf(v->ops, sizeof(v->ops), "%s", val);
		break;
	case K_MUT:
	case K_TRUNC:
		v->mutated |= strcmp(val, "-") != 0;
		break;
	case K_AFTER:
		parse_after(v, val, line);
		break;
	case K_LIVE:
		parse_verdict(&v->live, val, line);
		break;
	case K_PAUSED:
		parse_verdict(&v->paused, val, line);
		break;
	case K_LIVE_COUNTS:
		parse_counts(&v->live, val, line);
		break;
	case K_PAUSED_COUNTS:
		parse_counts(&v->paused, val, line);
		break;
	}
}

static u8 *slurp(const char *path, u64 *len)
{
	FILE *f = fopen(path, "rb");
	u8 *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? (size_t)n : 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (u64)n;
	return buf;
}

/* One vector line: every key of SPEC.md 10.2, in order, each once. */
static void parse_line(struct cvec *v, char *line, const char *orig)
{
	char *save, *tok;
	int want = K_NAME;

	memset(v, 0, sizeof(*v));
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *val = strchr(tok, '=');

		if (!val)
			die("field", orig);
		*val++ = 0;
		if (want == K_LIVE_COUNTS && v->live.err)
			want++;
		if (want == K_PAUSED_COUNTS && v->paused.err)
			want++;
		if (want == K_NR || strcmp(tok, cvec_keys[want]))
			die("key unknown, repeated, missing or out of order", orig);
		parse_field(v, want++, val, orig);
	}
	if (want == K_PAUSED_COUNTS && v->paused.err)
		want++;
	if (want != K_NR)
		die("missing key", orig);
}

int cvec_load_all(const char *dir, struct cvec **out)
{
	char path[4096], line[16384], orig[16384];
	struct cvec *vs = NULL;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cvec: cannot open %s\n", path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		struct cvec *v;

		if (!strchr(line, '\n'))
			die("line too long or unterminated", line);
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(orig, sizeof(orig), "%s", line);
		vs = realloc(vs, sizeof(*vs) * (size_t)(n + 1));
		v = &vs[n++];
		parse_line(v, line, orig);
		snprintf(path, sizeof(path), "%s/vectors/%s.bin", dir, v->name);
		v->img = slurp(path, &v->len);
		if (!v->img)
			die("missing vector file", path);
		for (int i = 0; i < v->nr_after; i++)
			if (v->after[i].off > v->len || v->after[i].width > v->len - v->after[i].off)
				die("mutation past the image", orig);
	}
	fclose(f);
	*out = vs;
	return n;
}

void cvec_free_all(struct cvec *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i].img);
	free(v);
}

const struct cvec *cvec_find(const struct cvec *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

/* ---- guest memory ------------------------------------------------------------ */

void cvec_mem_init(struct cvec_mem *m, const struct cvec *v)
{
	memset(m, 0, sizeof(*m));
	m->v = v;
	m->img = malloc(v->len ? v->len : 1);
	if (!m->img)
		die("out of memory", v->name);
	memcpy(m->img, v->img, v->len);
	if (v->nr_regions == 0) {
		/* '-': one RAM region holding exactly the image. */
		m->nr_regions = 1;
		m->regions[0] = (struct cvec_region){ CVEC_RAM, v->gpa, v->gpa + v->len };
	} else {
		m->nr_regions = v->nr_regions;
		memcpy(m->regions, v->regions, sizeof(m->regions));
	}
}

void cvec_mem_free(struct cvec_mem *m)
{
	for (int i = 0; i < m->nr_bufs; i++)
		free(m->bufs[i]);
	free(m->img);
	memset(m, 0, sizeof(*m));
}

void cvec_mem_after(struct cvec_mem *m)
{
	const struct cvec *v = m->v;

	for (int i = 0; i < v->nr_after; i++)
		for (u32 b = 0; b < v->after[i].width; b++)
			m->img[v->after[i].off + b] = (u8)(v->after[i].val >> (8 * b));
}

static const struct cvec_region *cvec_region_at(const struct cvec_mem *m, sd_gpa_t a)
{
	for (int i = 0; i < m->nr_regions; i++)
		if (a >= m->regions[i].lo && a < m->regions[i].hi)
			return &m->regions[i];
	return NULL;
}

int cvec_mem_check(const struct cvec_mem *m, sd_gpa_t gpa, u64 len)
{
	const struct cvec_region *r, *next;

	if (len == 0 || len - 1 > ~0ULL - gpa)
		return -SD_ERR_MEM_UNBACKED;
	r = cvec_region_at(m, gpa);
	if (!r)
		return -SD_ERR_MEM_UNBACKED;
	if (r->kind == CVEC_MMIO)
		return -SD_ERR_MEM_MMIO;
	if (r->kind == CVEC_FAULT)
		return -SD_ERR_MEM_FAULT;
	if (len <= r->hi - gpa)
		return 0;
	/* The range runs past its region: what holds the byte at the region's end decides. */
	next = cvec_region_at(m, r->hi);
	if (!next)
		return -SD_ERR_MEM_UNBACKED;
	return next->kind == CVEC_MMIO ? -SD_ERR_MEM_MMIO : -SD_ERR_MEM_SPLIT;
}

const void *cvec_mem_map(void *ctx, sd_gpa_t gpa, u64 len, int *err)
{
	struct cvec_mem *m = ctx;
	const struct cvec *v = m->v;
	sd_gpa_t lo, hi;
	u8 *buf;
	int rc;

	m->maps++;
	rc = cvec_mem_check(m, gpa, len);
	if (rc) {
		m->fails++;
		*err = rc;
		return NULL;
	}
	if (gpa >= v->gpa && gpa - v->gpa <= v->len && len <= v->len - (gpa - v->gpa))
		return m->img + (gpa - v->gpa);
	/* RAM the image does not cover reads as zero: a copy, kept until cvec_mem_free(). */
	if (len > 64 << 20 || m->nr_bufs == (int)SD_ARRAY_SIZE(m->bufs))
		die("map() of more zero RAM than a test needs", v->name);
	buf = calloc(1, len);
	if (!buf)
		die("out of memory", v->name);
	lo = SD_MAX(gpa, v->gpa);
	hi = SD_MIN(gpa + len, v->gpa + v->len);
	if (lo < hi)
		memcpy(buf + (lo - gpa), m->img + (lo - v->gpa), hi - lo);
	m->bufs[m->nr_bufs++] = buf;
	return buf;
}
