// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bench_host.c - what host/ costs (issue 4's goals; measured, never asserted).
 *
 *  1. Full reads of 64 GiB, 1 TiB and 16 TiB spans (8192-page chunks), two
 *     patterns: "typical" (a 1 GiB SWIOTLB block, 40 scattered pages, the
 *     table; nearly every chunk uniform) and "fragmented" (short shared runs
 *     everywhere: every chunk's bitmap must be read). For each:
 *       walk      sd_host_walk with a callback counting extents (summary reads)
 *       batch     the same runs through a batch callback (batch_fn, 1024 runs)
 *       strict    the same, every bitmap read (SD_READ_STRICT)
 *       validate  sd_host_walk with no callback: copy and validate only
 *       snapshot  sd_host_incr_init: copy every chunk into the host's state
 *     against memcpy of the same bytes (the descriptor array and the bitmaps
 *     the read had to copy; all of the table for strict reads and
 *     snapshots), in the same run, into a pre-faulted buffer. "vs memcpy"
 *     is memcpy's time over the read's: 100% = as fast as copying.
 *     Goals: typical 1 TiB walk <= 0.5 ms; bitmap-heavy reads >= 50% of
 *     memcpy bandwidth.
 *  2. An incremental pass with nothing changed, 1 TiB. Goal: <= 50 us.
 *  3. Host heap growth (mallinfo2) while a writer thread (guest/) makes 10^6
 *     fragmented changes and the host re-registers 10^4 times, walking the
 *     changes in between. Goal: 0 bytes.
 *
 * The tables live in anonymous MAP_NORESERVE mappings; only the pages a
 * pattern writes are touched (all of them for "fragmented").
 * Output: a table on stdout and $BENCH_OUT/bench_host.json.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include "bench.h"
#include "sd_host.h"
#include "sd_types.h"
#include "layout.h"
#include "validate.h"
#include "sd_guest.h"
#include "bitmap.h"
#include "sd_rand.h"

#define GIB_PAGES	(1ULL << 18)
#define TIB_PAGES	(1ULL << 28)
#define PPC		SD_DEFAULT_CHUNK_PAGES

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* ---- a table written straight from SPEC.md 1, touching only what it sets ---- */

struct btable {
	struct sd_geom g;
	u8 *mem;
	sd_gpa_t gpa;
	u8 *touched;		/* per chunk: bits written, count to recompute */
	u64 *nonuniform;	/* indices of chunks with 0 < nr_shared < pages */
	u64 nr_nonuniform;
	u64 shared_pages;
	struct sd_host_flat flat;	/* the table, for bt_mem() */
};

static u64 *bt_bitmap(struct btable *t)
{
	return (u64 *)(t->mem + t->g.bitmap_offset);
}

static struct sd_chunk_desc *bt_desc(struct btable *t, u64 idx)
{
	return (struct sd_chunk_desc *)(t->mem + sd_geom_desc_off(&t->g, idx));
}

/* The bitmap is one bit array across chunks (SPEC.md 1.5): set a span-relative range. */
static void bt_share(struct btable *t, u64 rel, u64 n)
{
	sd_bitmap_set_range(bt_bitmap(t), rel, n);
	for (u64 c = rel >> t->g.chunk_shift; c <= (rel + n - 1) >> t->g.chunk_shift; c++)
		t->touched[c] = 1;
}

static void bt_build(struct btable *t, u64 nr, bool fragmented, u64 seed)
{
	u64 tpages;

	if (sd_geom_compute(&t->g, 0, nr, PPC)) {
		fprintf(stderr, "bad geometry\n");
		exit(1);
	}
	tpages = sd_geom_table_pages(&t->g);
	t->mem = map_anon(t->g.table_size);
	t->gpa = (nr - tpages) << SD_PAGE_SHIFT;
	t->flat = (struct sd_host_flat){ t->mem, t->gpa, t->g.table_size };
	t->touched = calloc(t->g.nr_chunks, 1);
	t->nonuniform = calloc(t->g.nr_chunks, sizeof(u64));
	t->nr_nonuniform = 0;
	t->shared_pages = 0;
	sd_geom_to_header(&t->g, (struct sd_table_header *)t->mem);
	/* Every descriptor is written (seq 0): the host reads them all anyway. */
	memset(t->mem + t->g.desc_offset, 0, t->g.nr_chunks * SD_DESC_SIZE);

	bt_share(t, nr - tpages, tpages);
	if (fragmented) {
		for (u64 p = 0;;) {
			p += 1 + sd_splitmix64(&seed) % 128;
			if (p >= nr - tpages)
				break;
			bt_share(t, p, SD_MIN(1 + sd_splitmix64(&seed) % 32, nr - tpages - p));
			p += 32;
		}
	} else {
		/* SWIOTLB: 6% of RAM clamped to 64 MiB..1 GiB, low; then 40 single pages. */
		u64 sw = SD_MIN(SD_MAX(nr * 6 / 100, 64 * 256ULL), GIB_PAGES);

		bt_share(t, 4 * GIB_PAGES - sw, sw);
		for (int i = 0; i < 40; i++)
			bt_share(t, sd_splitmix64(&seed) % (nr - tpages), 1);
	}
	for (u64 c = 0; c < t->g.nr_chunks; c++) {
		u32 pages = sd_geom_chunk_pages(&t->g, c), pop;

		if (!t->touched[c])
			continue;
		pop = (u32)sd_bitmap_weight(bt_bitmap(t), c << t->g.chunk_shift, pages);
		bt_desc(t, c)->nr_shared = pop;
		t->shared_pages += pop;
		if (pop && pop != pages)
			t->nonuniform[t->nr_nonuniform++] = c;
	}
}

static void bt_free(struct btable *t)
{
	munmap(t->mem, t->g.table_size);
	free(t->touched);
	free(t->nonuniform);
}

/*
 * The accessor: only the table is backed, host/ never reads anything else.
 * It reads t->flat when used, so it may be made before the table is built.
 */
static struct sd_host_mem bt_mem(struct btable *t)
{
	return sd_host_mem_flat(&t->flat);
}

static struct sd_host_cfg bt_cfg(const struct btable *t)
{
	return (struct sd_host_cfg){
		.lim = { 0, t->g.nr_gfns, SD_GFN_LIMIT, t->g.table_size },
		.phys_bits = 52,
		.max_attempts = 16,
	};
}

/* ---- timing helpers ---------------------------------------------------------- */

struct extents {
	u64 runs, pages;
};

static int count_fn(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state s)
{
	struct extents *e = ctx;

	(void)gfn;
	(void)s;
	e->runs++;
	e->pages += n;
	return 0;
}

/* The batched walk's callback: the same count, a batch at a time. */
static int count_batch_fn(void *ctx, const struct sd_host_extent *ext, u32 n,
			  enum sd_page_state s)
{
	struct extents *e = ctx;
	u64 pages = 0;

	(void)s;
	for (u32 i = 0; i < n; i++)
		pages += ext[i].npages;
	e->runs += n;
	e->pages += pages;
	return 0;
}

#define BATCH_LEN	1024
static struct sd_host_extent batch[BATCH_LEN];
static u64 scratch[SD_HOST_SCRATCH_WORDS];
static u8 *copy_dst;

/* memcpy of what a read copies: the descriptors, and the bitmaps it had to read. */
static u64 memcpy_same(struct btable *t, bool all_bits)
{
	u64 n = t->g.nr_chunks * SD_DESC_SIZE, cb = sd_geom_chunk_bytes(&t->g);

	memcpy(copy_dst, t->mem + t->g.desc_offset, n);
	if (all_bits) {
		memcpy(copy_dst + n, t->mem + t->g.bitmap_offset, t->g.nr_chunks * cb);
		return n + t->g.nr_chunks * cb;
	}
	for (u64 i = 0; i < t->nr_nonuniform; i++)
		memcpy(copy_dst + n + i * cb,
		       t->mem + sd_geom_bits_off(&t->g, t->nonuniform[i]), cb);
	return n + t->nr_nonuniform * cb;
}

enum op { OP_WALK, OP_BATCH, OP_STRICT, OP_VALIDATE, OP_SNAPSHOT, OP_MEMCPY, OP_MEMCPY_ALL };

struct result {
	double med_ns, min_ns;
	u64 bytes;
	struct extents ext;
};

/* One timed run of @op; its bytes and extents into @r. */
static double run_once(enum op op, struct btable *t, struct sd_host_reg *reg,
		       struct sd_host_incr *incr, struct result *r)
{
	struct sd_host_mem mem = bt_mem(t);
	struct sd_host_stats st = { 0 };
	struct extents e = { 0 };
	SD_HOST_OPTS(sd_host_walk_opts, count, .fn = count_fn, .ctx = &e, .stats = &st);
	SD_HOST_OPTS(sd_host_walk_opts, strict, .flags = SD_READ_STRICT, .fn = count_fn, .ctx = &e,
		     .stats = &st);
	SD_HOST_OPTS(sd_host_walk_opts, batched, .batch_fn = count_batch_fn, .ctx = &e,
		     .batch = batch, .batch_len = BATCH_LEN, .stats = &st);
	SD_HOST_OPTS(sd_host_walk_opts, quiet, .stats = &st);
	double t0 = bench_now_ns(), t1;
	int rc = 0;

	switch (op) {
	case OP_WALK:
		rc = sd_host_walk(reg, &mem, scratch, &count);
		break;
	case OP_BATCH:
		rc = sd_host_walk(reg, &mem, scratch, &batched);
		break;
	case OP_STRICT:
		rc = sd_host_walk(reg, &mem, scratch, &strict);
		break;
	case OP_VALIDATE:
		rc = sd_host_walk(reg, &mem, scratch, &quiet);
		break;
	case OP_SNAPSHOT:
		rc = sd_host_incr_init(reg, &mem, incr, &quiet);
		break;
	case OP_MEMCPY:
		st.bytes = memcpy_same(t, false);
		break;
	case OP_MEMCPY_ALL:
		st.bytes = memcpy_same(t, true);
		break;
	}
	t1 = bench_now_ns();
	if (rc) {
		fprintf(stderr, "bench_host: read failed: %s\n", sd_err_name(rc));
		exit(1);
	}
	r->bytes = st.bytes;
	r->ext = e;
	return t1 - t0;
}

/*
 * @op and its memcpy baseline, alternately, @reps times each: both see the
 * same machine (the cores are shared with other work), so their ratio is
 * steadier than either time.
 */
static void run_pair(enum op op, enum op base, struct btable *t, struct sd_host_reg *reg,
		     struct sd_host_incr *incr, int reps, struct result *r, struct result *b)
{
	double *v = calloc((size_t)reps, sizeof(double));
	double *w = calloc((size_t)reps, sizeof(double));

	for (int i = 0; i < reps; i++) {
		v[i] = run_once(op, t, reg, incr, r);
		w[i] = run_once(base, t, reg, incr, b);
	}
	r->med_ns = bench_median(v, (size_t)reps);	/* sorts: v[0] is then the minimum */
	r->min_ns = v[0];
	b->med_ns = bench_median(w, (size_t)reps);
	b->min_ns = w[0];
	free(v);
	free(w);
}

static double gbps(u64 bytes, double ns)
{
	return ns > 0 ? (double)bytes / ns : 0;
}

/* ---- 1 and 2: full reads, incremental pass ------------------------------------ */

static FILE *json;
static bool json_first = true;

static void json_row(const char *span, const char *pattern, const char *what,
		     const struct result *r, const struct result *base)
{
	fprintf(json, "%s\n    {\"span\": \"%s\", \"pattern\": \"%s\", \"op\": \"%s\", "
		"\"median_us\": %.3f, \"min_us\": %.3f, \"bytes_read\": %llu, \"gb_per_s\": %.3f, "
		"\"extents\": %llu, \"memcpy_us\": %.3f, \"memcpy_bytes\": %llu, "
		"\"memcpy_gb_per_s\": %.3f, \"vs_memcpy\": %.3f}",
		json_first ? "" : ",", span, pattern, what, r->med_ns / 1e3, r->min_ns / 1e3,
		(unsigned long long)r->bytes, gbps(r->bytes, r->med_ns),
		(unsigned long long)r->ext.runs, base->med_ns / 1e3,
		(unsigned long long)base->bytes, gbps(base->bytes, base->med_ns),
		base->med_ns / r->med_ns);
	json_first = false;
}

static void print_row(const char *span, const char *pattern, const char *what,
		      const struct result *r, const struct result *base)
{
	printf("%-7s %-10s %-9s %11.1f us (min %11.1f) %7.2f GB/s %9llu extents | memcpy %10.1f us %6.2f GB/s | %4.0f%%\n",
	       span, pattern, what, r->med_ns / 1e3, r->min_ns / 1e3, gbps(r->bytes, r->med_ns),
	       (unsigned long long)r->ext.runs, base->med_ns / 1e3, gbps(base->bytes, base->med_ns),
	       100.0 * base->med_ns / r->med_ns);
	json_row(span, pattern, what, r, base);
}

static void bench_span(const char *name, u64 nr, bool fragmented, int reps)
{
	struct btable t;
	struct sd_host_mem mem = bt_mem(&t);
	struct sd_host_cfg cfg;
	struct sd_host_reg reg = { 0 };
	struct sd_host_incr incr;
	struct result walk, bwalk, strict, val, snap, mc, mca;
	const char *pat = fragmented ? "fragmented" : "typical";
	int rc;

	bt_build(&t, nr, fragmented, 42);
	cfg = bt_cfg(&t);
	rc = sd_host_register(&reg, &cfg, &mem, t.gpa | 1, NULL);
	if (rc) {
		fprintf(stderr, "bench_host: register: %s\n", sd_err_name(rc));
		exit(1);
	}
	incr.nr_chunks = reg.geom.nr_chunks;
	incr.seqs = map_anon(incr.nr_chunks * 4);
	incr.bits = map_anon(sd_host_incr_bit_words(&reg) * 8);

	/* Fault in and warm everything once (page tables, caches), then measure. */
	run_once(OP_SNAPSHOT, &t, &reg, &incr, &snap);
	run_once(OP_STRICT, &t, &reg, &incr, &strict);
	run_once(OP_MEMCPY_ALL, &t, &reg, &incr, &mca);
	run_pair(OP_WALK, OP_MEMCPY, &t, &reg, &incr, reps, &walk, &mc);
	print_row(name, pat, "walk", &walk, &mc);
	run_pair(OP_BATCH, OP_MEMCPY, &t, &reg, &incr, reps, &bwalk, &mc);
	print_row(name, pat, "batch", &bwalk, &mc);
	run_pair(OP_VALIDATE, OP_MEMCPY, &t, &reg, &incr, reps, &val, &mc);
	print_row(name, pat, "validate", &val, &mc);
	run_pair(OP_STRICT, OP_MEMCPY_ALL, &t, &reg, &incr, reps, &strict, &mca);
	print_row(name, pat, "strict", &strict, &mca);
	/* A snapshot stores every word of the host's copy, whatever it read: against all of it. */
	run_pair(OP_SNAPSHOT, OP_MEMCPY_ALL, &t, &reg, &incr, reps, &snap, &mca);
	print_row(name, pat, "snapshot", &snap, &mca);
	if (bwalk.ext.runs != walk.ext.runs || bwalk.ext.pages != walk.ext.pages) {
		fprintf(stderr, "bench_host: batched walk saw %llu runs, %llu pages; walk %llu, %llu\n",
			(unsigned long long)bwalk.ext.runs, (unsigned long long)bwalk.ext.pages,
			(unsigned long long)walk.ext.runs, (unsigned long long)walk.ext.pages);
		exit(1);
	}
	if (walk.ext.pages != t.shared_pages) {
		fprintf(stderr, "bench_host: walk saw %llu shared pages, table has %llu\n",
			(unsigned long long)walk.ext.pages, (unsigned long long)t.shared_pages);
		exit(1);
	}

	if (nr == TIB_PAGES && !fragmented) {
		/* 2: the incremental pass with nothing changed. */
		int n = reps * 50;
		double *v = calloc((size_t)n, sizeof(double));
		struct sd_host_stats st = { 0 };
		SD_HOST_OPTS(sd_host_walk_opts, o, .fn = count_fn, .ctx = &walk.ext, .stats = &st);
		double med, p99, lo;

		for (int i = 0; i < n; i++) {
			double t0 = bench_now_ns();

			memset(&st, 0, sizeof(st));
			rc = sd_host_walk_changes(&reg, &mem, &incr, scratch, &o);
			v[i] = bench_now_ns() - t0;
			if (rc || st.chunks) {
				fprintf(stderr, "bench_host: incremental pass: %s, %llu chunks read\n",
					sd_err_name(rc), (unsigned long long)st.chunks);
				exit(1);
			}
		}
		med = bench_median(v, (size_t)n);	/* sorts v */
		p99 = bench_percentile(v, (size_t)n, 99);
		lo = v[0];
		printf("%-7s %-10s %-9s %11.1f us (p99 %.1f us, min %.1f us) over %d passes, %llu bytes each (goal <= 50 us)\n",
		       name, pat, "no-change", med / 1e3, p99 / 1e3, lo / 1e3, n,
		       (unsigned long long)st.bytes);
		fprintf(json, ",\n    {\"span\": \"%s\", \"pattern\": \"%s\", \"op\": \"incremental-no-change\", "
			"\"median_us\": %.3f, \"p99_us\": %.3f, \"min_us\": %.3f, \"passes\": %d, "
			"\"bytes_read\": %llu}",
			name, pat, med / 1e3, p99 / 1e3, lo / 1e3, n, (unsigned long long)st.bytes);
		free(v);
	}
	munmap(incr.seqs, incr.nr_chunks * 4);
	munmap(incr.bits, sd_host_incr_bit_words(&reg) * 8);
	bt_free(&t);
}

/* ---- 3: heap growth under a writer and re-registrations -------------------------- */

struct heap_run {
	struct sd_guest g;
	u64 changes, regs_wanted;
	u64 reg_req;		/* writer -> host: registrations asked for (atomic) */
	int done;		/* atomic */
	u64 set_errors;
};

static void *heap_writer(void *arg)
{
	struct heap_run *h = arg;
	u64 seed = 9, nr = h->g.g.nr_gfns, tpages = sd_geom_table_pages(&h->g.g);
	u64 every = h->changes / h->regs_wanted;

	for (u64 i = 1; i <= h->changes; i++) {
		u64 gfn = sd_splitmix64(&seed) % (nr - tpages - 32);

		if (sd_guest_set(&h->g, gfn, 1 + sd_splitmix64(&seed) % 32, sd_splitmix64(&seed) & 1))
			h->set_errors++;
		if (i % every == 0)
			__atomic_add_fetch(&h->reg_req, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void bench_heap(u64 nr, u64 changes, u64 regs)
{
	struct heap_run *h = calloc(1, sizeof(*h));
	u64 tbytes = sd_guest_table_bytes(0, nr, PPC), pbytes = sd_guest_priv_bytes(0, nr, PPC);
	void *table = map_anon(tbytes), *priv = malloc(pbytes);
	struct btable bt = { 0 };
	struct sd_host_mem mem = bt_mem(&bt);
	struct sd_host_cfg cfg;
	struct sd_host_reg reg = { 0 };
	struct sd_host_incr incr;
	struct extents e = { 0 };
	struct sd_host_stats st = { 0 };
	SD_HOST_OPTS(sd_host_register_opts, ro, .stats = &st);
	SD_HOST_OPTS(sd_host_walk_opts, io, .flags = SD_READ_UNSETTLED_OK, .max_attempts = 64,
		     .stats = &st);
	SD_HOST_OPTS(sd_host_walk_opts, wo, .flags = SD_READ_UNSETTLED_OK, .max_attempts = 64,
		     .fn = count_fn, .ctx = &e, .stats = &st);
	struct mallinfo2 before, after;
	u64 handled = 0, passes = 0, unsettled = 0;
	pthread_t th;
	int rc;

	h->changes = changes;
	h->regs_wanted = regs;
	rc = sd_guest_init(&h->g, 0, nr, PPC, table, (nr << SD_PAGE_SHIFT) - tbytes, tbytes, priv,
			   pbytes);
	if (rc) {
		fprintf(stderr, "bench_host: guest init: %s\n", sd_err_name(rc));
		exit(1);
	}
	bt.g = h->g.g;
	bt.mem = table;
	bt.gpa = h->g.table_gpa;
	bt.flat = (struct sd_host_flat){ bt.mem, bt.gpa, bt.g.table_size };
	cfg = bt_cfg(&bt);
	rc = sd_host_register(&reg, &cfg, &mem, bt.gpa | 1, NULL);
	incr.nr_chunks = reg.geom.nr_chunks;
	incr.seqs = calloc(incr.nr_chunks, 4);
	incr.bits = calloc(sd_host_incr_bit_words(&reg), 8);
	rc = rc ? rc : sd_host_incr_init(&reg, &mem, &incr, NULL);
	if (rc) {
		fprintf(stderr, "bench_host: heap setup: %s\n", sd_err_name(rc));
		exit(1);
	}
	printf("heap: %llu writer changes, %llu re-registrations, 64 GiB span ...\n",
	       (unsigned long long)changes, (unsigned long long)regs);
	fflush(stdout);

	if (pthread_create(&th, NULL, heap_writer, h)) {
		perror("pthread_create");
		exit(1);
	}
	before = mallinfo2();
	/* The host: walk the changes; re-register whenever the guest asks. */
	while (!__atomic_load_n(&h->done, __ATOMIC_ACQUIRE) ||
	       handled < __atomic_load_n(&h->reg_req, __ATOMIC_ACQUIRE)) {
		if (handled < __atomic_load_n(&h->reg_req, __ATOMIC_ACQUIRE)) {
			rc = sd_host_register(&reg, &cfg, &mem, bt.gpa | 1, &ro);
			if (!rc)
				rc = sd_host_incr_init(&reg, &mem, &incr, &io);
			/* Refused while the table's chunk is mid-update: retried. */
			if (rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES)
				continue;
			handled++;
		} else {
			rc = sd_host_walk_changes(&reg, &mem, &incr, scratch, &wo);
			passes++;
		}
		if (rc) {
			fprintf(stderr, "bench_host: heap run: %s\n", sd_err_name(rc));
			exit(1);
		}
	}
	after = mallinfo2();
	pthread_join(th, NULL);
	unsettled = st.unsettled;

	printf("heap: host heap growth %lld bytes in use (%lld mmapped), goal 0; %llu registrations, "
	       "%llu incremental passes reporting %llu runs, %llu chunks read, %llu unsettled, generation %llu\n",
	       (long long)(after.uordblks - before.uordblks),
	       (long long)(after.hblkhd - before.hblkhd), (unsigned long long)handled,
	       (unsigned long long)passes, (unsigned long long)e.runs,
	       (unsigned long long)st.chunks, (unsigned long long)unsettled,
	       (unsigned long long)reg.generation);
	fprintf(json, "%s\n    {\"op\": \"heap-growth\", \"span\": \"64GiB\", \"writer_changes\": %llu, "
		"\"registrations\": %llu, \"incremental_passes\": %llu, \"heap_in_use_growth_bytes\": %lld, "
		"\"heap_mmapped_growth_bytes\": %lld, \"chunks_read\": %llu, \"writer_errors\": %llu}",
		json_first ? "" : ",", (unsigned long long)changes, (unsigned long long)handled,
		(unsigned long long)passes, (long long)(after.uordblks - before.uordblks),
		(long long)(after.hblkhd - before.hblkhd), (unsigned long long)st.chunks,
		(unsigned long long)h->set_errors);
	json_first = false;
	free(incr.seqs);
	free(incr.bits);
	free(priv);
	munmap(table, tbytes);
	free(h);
}

int main(void)
{
	int level = bench_level();
	static const struct {
		const char *name;
		u64 pages;
		int reps[3];	/* full, quick, smoke; 0 = skip */
	} spans[] = {
		{ "64GiB", 64 * GIB_PAGES, { 200, 50, 3 } },
		{ "1TiB", TIB_PAGES, { 40, 10, 0 } },
		{ "16TiB", 16 * TIB_PAGES, { 7, 3, 0 } },
	};
	size_t max_copy = 0;

	json = bench_json_open("bench_host");
	if (!json)
		return 1;
	fprintf(json, "{\"bench\": \"host\", \"level\": %d, \"chunk_pages\": %u, \"results\": [",
		level, PPC);
	for (size_t i = 0; i < SD_ARRAY_SIZE(spans); i++) {
		struct sd_geom g;

		sd_geom_compute(&g, 0, spans[i].pages, PPC);
		if (spans[i].reps[level])
			max_copy = SD_MAX(max_copy, (size_t)g.table_size);
	}
	/* The memcpy destination, faulted in before anything is timed. */
	copy_dst = map_anon(max_copy);
	memset(copy_dst, 1, max_copy);

	printf("span    pattern    read          median (and minimum)        rate    reported | same bytes by memcpy (median)   | rate vs memcpy\n");
	for (size_t i = 0; i < SD_ARRAY_SIZE(spans); i++) {
		if (!spans[i].reps[level])
			continue;
		bench_span(spans[i].name, spans[i].pages, false, spans[i].reps[level]);
		bench_span(spans[i].name, spans[i].pages, true, spans[i].reps[level]);
	}
	if (level == 2)
		bench_heap(64 * GIB_PAGES, 10000, 100);
	else
		bench_heap(64 * GIB_PAGES, 1000000, 10000);
	fprintf(json, "\n]}\n");
	fclose(json);
	munmap(copy_dst, max_copy);
	return 0;
}
