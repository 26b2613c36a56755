/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * bench.h - small helpers shared by the benchmarks: a monotonic clock,
 * medians and percentiles over repeats, the run size (BENCH_QUICK,
 * BENCH_SMOKE) and a JSON writer for $BENCH_OUT/<name>.json.
 */
#ifndef SD_BENCH_H
#define SD_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The @p-th percentile (0..100) of @n samples; sorts @v in place. */
static inline double bench_percentile(double *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(*v), bench_cmp_double);
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static inline double bench_median(double *v, size_t n)
{
	return bench_percentile(v, n, 50.0);
}

/* 0: full run; 1: BENCH_QUICK (under a minute in all); 2: BENCH_SMOKE (seconds). */
static inline int bench_level(void)
{
	const char *s = getenv("BENCH_SMOKE"), *q = getenv("BENCH_QUICK");

	if (s && *s && strcmp(s, "0"))
		return 2;
	if (q && *q && strcmp(q, "0"))
		return 1;
	return 0;
}

/* Open $BENCH_OUT/<name>.json for writing (NULL on failure, reported). */
static inline FILE *bench_json_open(const char *name)
{
	const char *dir = getenv("BENCH_OUT");
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.json", dir ? dir : "build/bench", name);
	f = fopen(path, "w");
	if (!f)
		perror(path);
	return f;
}

#endif /* SD_BENCH_H */
