// SPDX-License-Identifier: GPL-2.0 OR MIT
/* cvec.c - MANIFEST parser for the conformance vectors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cvec.h"

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
	fprintf(stderr, "cvec: malformed MANIFEST (%s): %.120s\n", what, line);
	exit(2);
}

/* "NAME" or "NAME@chunk:offset" with '-' for absent parts. */
static void parse_verdict(struct cverdict *v, const char *s, const char *line)
{
	char name[64];
	const char *at = strchr(s, '@');
	size_t n = at ? (size_t)(at - s) : strlen(s);

	if (n >= sizeof(name))
		die("verdict", line);
	memcpy(name, s, n);
	name[n] = 0;
	v->err = sd_err_from_name(name);
	if (v->err > 0)
		die("unknown error name", line);
	v->chunk = v->offset = SD_LOC_NONE;
	if (at) {
		const char *colon = strchr(at, ':');

		if (!colon)
			die("location", line);
		if (at[1] != '-')
			v->chunk = strtoull(at + 1, NULL, 0);
		if (colon[1] != '-')
			v->offset = strtoull(colon + 1, NULL, 0);
	}
}

static void parse_counts(struct cverdict *v, const char *s, const char *line)
{
	unsigned long long a, b, c;

	if (sscanf(s, "%llu:%llu:%llu", &a, &b, &c) != 3)
		die("counts", line);
	v->shared = a;
	v->transition = b;
	v->extents = c;
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

int cvec_load_all(const char *dir, struct cvec **out)
{
	char path[4096], line[16384];
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
		char *save, *tok;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = 0;
		vs = realloc(vs, sizeof(*vs) * (size_t)(n + 1));
		v = &vs[n++];
		memset(v, 0, sizeof(*v));
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			char *val = strchr(tok, '=');

			if (!val)
				die("field", tok);
			*val++ = 0;
			if (!strcmp(tok, "name"))
				snprintf(v->name, sizeof(v->name), "%s", val);
			else if (!strcmp(tok, "gpa"))
				v->gpa = strtoull(val, NULL, 0);
			else if (!strcmp(tok, "first_gfn"))
				v->first_gfn = strtoull(val, NULL, 0);
			else if (!strcmp(tok, "nr_gfns"))
				v->nr_gfns = strtoull(val, NULL, 0);
			else if (!strcmp(tok, "ppc"))
				v->ppc = (u32)strtoul(val, NULL, 0);
			else if (!strcmp(tok, "ram")) {
				char *c = strchr(val, ':');

				if (!c)
					die("ram", val);
				v->lim.ram_first_gfn = strtoull(val, NULL, 0);
				v->lim.ram_end_gfn = strtoull(c + 1, NULL, 0);
			} else if (!strcmp(tok, "gfn_limit"))
				v->lim.gfn_limit = strtoull(val, NULL, 0);
			else if (!strcmp(tok, "max_table"))
				v->lim.max_table_bytes = strtoull(val, NULL, 0);
			else if (!strcmp(tok, "ops"))
				snprintf(v->ops, sizeof(v->ops), "%s", val);
			else if (!strcmp(tok, "mut") || !strcmp(tok, "trunc"))
				v->mutated |= strcmp(val, "-") != 0;
			else if (!strcmp(tok, "live"))
				parse_verdict(&v->live, val, tok);
			else if (!strcmp(tok, "paused"))
				parse_verdict(&v->paused, val, tok);
			else if (!strcmp(tok, "live_counts"))
				parse_counts(&v->live, val, tok);
			else if (!strcmp(tok, "paused_counts"))
				parse_counts(&v->paused, val, tok);
			else
				die("unknown key", tok);
		}
		snprintf(path, sizeof(path), "%s/vectors/%s.bin", dir, v->name);
		v->img = slurp(path, &v->len);
		if (!v->img)
			die("missing vector file", path);
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
