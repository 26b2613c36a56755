// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bench_guest.c - cost of a page-state change in guest/ (the writer).
 *
 * Single-page begin+commit and one-call set, 1 and 2 writer threads, hot
 * (one page over and over) and random (any page of a 64 GiB span); and range
 * changes of 2 MiB and 1 GiB. A single change takes about as long as reading
 * a clock, so single-page figures are means over batches of BATCH changes
 * timed with the TSC (calibrated against CLOCK_MONOTONIC); median and p99
 * are over those batch means.
 *
 *   make bench                      full run
 *   make bench BENCH_QUICK=1        reduced
 */
#include <pthread.h>
#include <x86intrin.h>
#include "bench.h"
#include "sd_types.h"
#include "sd_guest.h"

#define BATCH		64
#define SPAN_PAGES	(1ULL << 24)	/* 64 GiB */
#define TABLE_GFN	(SPAN_PAGES - 2048)	/* the table (~520 pages) at the top */
#define WORK_PAGES	TABLE_GFN	/* changes stay below it */

static double tsc_ns;	/* ns per TSC tick */

static void calibrate_tsc(void)
{
	double t0 = bench_now_ns();
	u64 c0 = __rdtsc();

	while (bench_now_ns() - t0 < 100e6)
		;
	tsc_ns = (bench_now_ns() - t0) / (double)(__rdtsc() - c0);
}

struct table {
	struct sd_guest g;
	void *mem, *priv;
};

static void table_make(struct table *t, u64 pages)
{
	u64 tb = sd_guest_table_bytes(0, pages, SD_DEFAULT_CHUNK_PAGES);
	u64 pb = sd_guest_priv_bytes(0, pages, SD_DEFAULT_CHUNK_PAGES);

	if (posix_memalign(&t->mem, 4096, tb) || posix_memalign(&t->priv, 64, pb) ||
	    sd_guest_init(&t->g, 0, pages, SD_DEFAULT_CHUNK_PAGES, t->mem, TABLE_GFN << 12, tb,
			  t->priv, pb)) {
		fprintf(stderr, "bench_guest: cannot set up a %llu-page table\n",
			(unsigned long long)pages);
		exit(1);
	}
}

static u64 xorshift(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum mode { BEGIN_COMMIT, SET };

struct worker {
	struct table *t;
	enum mode mode;
	bool random;
	u64 base;		/* first page this worker changes (hot) */
	int batches;
	double *samples;	/* ns per change, one per batch */
	volatile int *go;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	u64 rnd = 0x243f6a8885a308d3ULL ^ w->base;
	u64 pages[BATCH];
	int sink = 0;

	while (!*w->go)
		;
	for (int b = 0; b < w->batches; b++) {
		/* Pick the pages first: the random numbers are not part of a change. */
		for (int i = 0; i < BATCH; i++)
			pages[i] = w->random ? xorshift(&rnd) % WORK_PAGES : w->base;
		u64 c0 = __rdtsc();

		for (int i = 0; i < BATCH; i++) {
			bool sh = i & 1;

			if (w->mode == SET) {
				sink |= sd_guest_set(&w->t->g, pages[i], 1, sh);
			} else {
				sink |= sd_guest_begin(&w->t->g, pages[i], 1, sh);
				sink |= sd_guest_commit(&w->t->g, pages[i], 1, sh);
			}
		}
		w->samples[b] = (double)(__rdtsc() - c0) * tsc_ns / BATCH;
	}
	if (sink) {
		fprintf(stderr, "bench_guest: a change failed: the figures would be wrong\n");
		exit(1);
	}
	return NULL;
}

struct result {
	double median, p99;
};

/* @threads workers; @same_chunk puts both on one chunk (contended lock). */
static struct result run_single(struct table *t, enum mode mode, bool random, int threads,
				bool same_chunk, int batches)
{
	struct worker w[2];
	pthread_t th[2];
	volatile int go = 0;
	double *all = calloc((size_t)(batches * threads), sizeof(double));
	struct result r;

	for (int i = 0; i < threads; i++) {
		/* Hot pages: different chunks (and descriptor cache lines) unless same_chunk. */
		w[i] = (struct worker){ t, mode, random,
					same_chunk ? 100 + (u64)i : 100 + (u64)i * 64 * 8192,
					batches, all + i * batches, &go };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	go = 1;
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	r.median = bench_median(all, (size_t)(batches * threads));
	r.p99 = bench_percentile(all, (size_t)(batches * threads), 99.0);
	free(all);
	return r;
}

/* ns per change of @pages pages (alternating shared/private), median of @reps. */
static double run_range(struct table *t, u64 pages, int reps)
{
	double *v = calloc((size_t)reps, sizeof(double));
	double m;

	for (int i = 0; i < reps; i++) {
		u64 first = 1 + (u64)(i % 8) * pages;
		double t0 = bench_now_ns();

		if (sd_guest_set(&t->g, first, pages, !(i & 1))) {
			fprintf(stderr, "bench_guest: range change failed: the figures would be wrong\n");
			exit(1);
		}
		v[i] = bench_now_ns() - t0;
	}
	m = bench_median(v, (size_t)reps);
	free(v);
	return m;
}

int main(void)
{
	int level = bench_level();
	int batches = level == 2 ? 200 : level == 1 ? 20000 : 200000;
	int reps = level == 2 ? 5 : level == 1 ? 51 : 301;
	struct table t;
	FILE *js;
	struct {
		const char *name;
		enum mode mode;
		bool random;
		int threads;
		bool same;
	} cases[] = {
		{ "begin_commit_hot_1t", BEGIN_COMMIT, false, 1, false },
		{ "set_hot_1t", SET, false, 1, false },
		{ "begin_commit_random_1t", BEGIN_COMMIT, true, 1, false },
		{ "begin_commit_hot_2t_disjoint", BEGIN_COMMIT, false, 2, false },
		{ "begin_commit_random_2t", BEGIN_COMMIT, true, 2, false },
		{ "begin_commit_hot_2t_same_chunk", BEGIN_COMMIT, false, 2, true },
	};

	calibrate_tsc();
	table_make(&t, SPAN_PAGES);
	js = bench_json_open("bench_guest");
	printf("bench_guest: guest/ page-state change cost; 64 GiB span, %u-page chunks, "
	       "batches of %d (TSC %.3f ns/tick)\n", SD_DEFAULT_CHUNK_PAGES, BATCH, tsc_ns);
	printf("%-34s %10s %10s\n", "single-page change", "median ns", "p99 ns");
	if (js)
		fprintf(js, "{\n  \"batch\": %d,\n  \"single_page\": {\n", BATCH);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;

		/* Warm up, then measure. */
		run_single(&t, cases[i].mode, cases[i].random, cases[i].threads, cases[i].same,
			   batches / 10 + 1);
		r = run_single(&t, cases[i].mode, cases[i].random, cases[i].threads,
			       cases[i].same, batches);
		printf("%-34s %10.1f %10.1f\n", cases[i].name, r.median, r.p99);
		if (js)
			fprintf(js, "    \"%s\": { \"median_ns\": %.2f, \"p99_ns\": %.2f }%s\n",
				cases[i].name, r.median, r.p99,
				i + 1 < sizeof(cases) / sizeof(cases[0]) ? "," : "");
	}
	double r2m = run_range(&t, 512, reps);
	double r1g = run_range(&t, 1ULL << 18, reps / 4 + 1);

	printf("%-34s %10.1f\n", "range 2 MiB (512 pages), ns", r2m);
	printf("%-34s %10.1f\n", "range 1 GiB (262144 pages), ns", r1g);
	if (js) {
		fprintf(js, "  },\n  \"range_2m_ns\": %.1f,\n  \"range_1g_ns\": %.1f\n}\n", r2m, r1g);
		fclose(js);
	}
	return 0;
}
