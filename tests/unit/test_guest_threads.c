// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_guest_threads.c - guest/ under concurrency, with real threads.
 *
 *  - writers_never_publish_a_torn_chunk: writer threads do interleaved
 *    begin/commit on overlapping and disjoint chunks; a reader thread uses
 *    the host's read rule (SPEC.md 3.1) and checks every stable snapshot
 *    against the history of states the writers published.
 *  - hostile_host_scribbles_while_guest_writes: a thread writes random
 *    bytes all over the shared table; the library stays memory-safe (run it
 *    under SAN=address) and its private state stays exactly right.
 *  - the chunk lock serialises writers of one chunk and only of that chunk.
 *
 * This file provides its own sd_env_lock/unlock (spin, then yield): the
 * tests run more threads than this machine has cores.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sd_test.h"
#include "seqcount.h"
#include "sd_guest.h"

void sd_env_lock(struct sd_lock *l)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->v, __ATOMIC_RELAXED))
			if (++spins % 64 == 0)
				sched_yield();
}

void sd_env_unlock(struct sd_lock *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

/* CMocka's asserts may not run off the main thread: threads check with this. */
#define T_CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: thread check failed: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

static u64 xorshift(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A table for the threaded tests: exact-size allocation with guard pages around it. */
struct tt {
	struct sd_guest g, g_saved;
	u8 *mem;		/* guard | table | guard */
	u8 *table;
	void *priv;
	u64 tbytes;
};

#define GUARD 4096
#define GUARD_BYTE 0x5a

static void tt_make(struct tt *t, u64 nr, u32 ppc, sd_gpa_t gpa)
{
	u64 pb = sd_guest_priv_bytes(0, nr, ppc);

	t->tbytes = sd_guest_table_bytes(0, nr, ppc);
	t->mem = test_alloc(4096, t->tbytes + 2 * GUARD);
	memset(t->mem, GUARD_BYTE, t->tbytes + 2 * GUARD);
	t->table = t->mem + GUARD;
	t->priv = test_alloc(64, pb);
	assert_int_equal(sd_guest_init(&t->g, 0, nr, ppc, t->table, gpa, t->tbytes, t->priv, pb), 0);
	t->g_saved = t->g;
}

static void tt_free(struct tt *t)
{
	free(t->mem);
	free(t->priv);
}

static struct sd_chunk_desc *tt_desc(struct tt *t, u64 idx)
{
	return (struct sd_chunk_desc *)(t->table + sd_geom_desc_off(&t->g.g, idx));
}

static u64 *tt_bits(struct tt *t, u64 idx)
{
	return (u64 *)(t->table + sd_geom_bits_off(&t->g.g, idx));
}

/* ---- torn-snapshot test ------------------------------------------------------- */

enum { T_CHUNKS = 8, T_PPC = 4096, T_WORDS = T_PPC / 64, T_WRITERS = 3, T_OPS = 20000,
       T_TABLE_GFN = 10000 };
#define T_MAXV (T_WRITERS * T_OPS + 2)

struct torn {
	struct tt t;
	u64 *hist;		/* [chunk][seq / 2]: hash of the state published with that seq */
	int writers_left;
	int reader_started;	/* writers start once the reader is reading */
	u64 snapshots, retries, mismatches, ops_done;
};

static u64 hash_words(const u64 *w, unsigned n)
{
	u64 h = 0xcbf29ce484222325ULL;

	for (unsigned i = 0; i < n; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h | 1ULL << 63;	/* 0 means "no such state" */
}

static u64 *hist_slot(struct torn *s, u64 idx, u32 seq)
{
	T_CHECK(seq / 2 < T_MAXV);
	return &s->hist[idx * T_MAXV + seq / 2];
}

static void *torn_writer(void *arg)
{
	struct torn *s = arg;
	struct sd_guest *g = &s->t.g;
	u64 rnd = (u64)(unsigned long)pthread_self() | 1;

	/* Overlap is the point: don't let a loaded scheduler run us all before the reader. */
	while (!__atomic_load_n(&s->reader_started, __ATOMIC_ACQUIRE))
		sched_yield();
	for (int op = 0; op < T_OPS; op++) {
		/* 1 to 3 chunks: overlapping other writers sometimes, disjoint mostly. */
		u64 c0 = xorshift(&rnd) % T_CHUNKS;
		u64 nch = 1 + xorshift(&rnd) % 3;
		u64 lo = c0 * T_PPC + xorshift(&rnd) % T_PPC;
		u64 hi = SD_MIN((c0 + nch) * T_PPC, (u64)T_CHUNKS * T_PPC);
		u64 n = 1 + xorshift(&rnd) % (hi - lo);
		bool shared = xorshift(&rnd) & 1;

		if (lo < T_TABLE_GFN + sd_geom_table_pages(&g->g) && T_TABLE_GFN < lo + n) {
			/* No request may include the table's own pages (SPEC.md 1.6). */
			T_CHECK(sd_guest_begin(g, lo, n, shared) == -SD_ERR_TABLE_NOT_SHARED);
			continue;
		}
		T_CHECK(sd_guest_begin(g, lo, n, shared) == 0);
		/* We hold every touched chunk's lock: record what commit will publish. */
		for (u64 c = lo / T_PPC; c <= (lo + n - 1) / T_PPC; c++) {
			u64 w[T_WORDS];
			u64 first = c == lo / T_PPC ? lo % T_PPC : 0;
			u64 last = SD_MIN(lo + n, (c + 1) * T_PPC) - c * T_PPC;

			T_CHECK(g->chunks[c].seq & 1);
			memcpy(w, g->shadow + c * T_WORDS, sizeof(w));
			if (shared)
				sd_bitmap_set_range(w, first, last - first);
			else
				sd_bitmap_clear_range(w, first, last - first);
			__atomic_store_n(hist_slot(s, c, g->chunks[c].seq + 1), hash_words(w, T_WORDS),
					 __ATOMIC_RELAXED);
		}
		T_CHECK(sd_guest_commit(g, lo, n, shared) == 0);
	}
	__atomic_fetch_add(&s->ops_done, T_OPS, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&s->writers_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The host's read rule, SPEC.md 3.1, on one chunk. 1 = a stable copy checked. */
static int torn_read_chunk(struct torn *s, u64 c)
{
	struct sd_chunk_desc *d = tt_desc(&s->t, c);
	u64 w[T_WORDS];
	u32 s1, nr;

	s1 = sd_seq_read_begin(d);
	if (s1 & 1)
		return 0;
	nr = SD_READ_ONCE(d->nr_shared);
	sd_shared_load_words(w, tt_bits(&s->t, c), T_WORDS);
	if (sd_seq_read_retry(d, s1))
		return 0;
	/* Only now is the copy ours to use. */
	u64 want = __atomic_load_n(hist_slot(s, c, s1), __ATOMIC_RELAXED);

	if (want != hash_words(w, T_WORDS) || nr != sd_bitmap_weight(w, 0, T_PPC)) {
		s->mismatches++;
		fprintf(stderr, "torn: chunk %llu seq %u: snapshot never published (%s, count %u, "
			"popcount %llu)\n", (unsigned long long)c, s1,
			want ? "bits differ" : "no such state", nr,
			(unsigned long long)sd_bitmap_weight(w, 0, T_PPC));
	}
	return 1;
}

static void *torn_reader(void *arg)
{
	struct torn *s = arg;

	do {
		for (u64 c = 0; c < T_CHUNKS; c++) {
			if (torn_read_chunk(s, c))
				s->snapshots++;
			else
				s->retries++;
		}
		__atomic_store_n(&s->reader_started, 1, __ATOMIC_RELEASE);
	} while (__atomic_load_n(&s->writers_left, __ATOMIC_ACQUIRE));
	return NULL;
}

static void writers_never_publish_a_torn_chunk(void **state)
{
	struct torn s = { .writers_left = T_WRITERS };
	pthread_t w[T_WRITERS], r;

	(void)state;
	tt_make(&s.t, T_CHUNKS * T_PPC, T_PPC, (u64)T_TABLE_GFN << 12);
	s.hist = calloc((size_t)T_CHUNKS * T_MAXV, sizeof(u64));
	for (u64 c = 0; c < T_CHUNKS; c++)
		*hist_slot(&s, c, 0) = hash_words(s.t.g.shadow + c * T_WORDS, T_WORDS);
	pthread_create(&r, NULL, torn_reader, &s);
	for (int i = 0; i < T_WRITERS; i++)
		pthread_create(&w[i], NULL, torn_writer, &s);
	for (int i = 0; i < T_WRITERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(r, NULL);
	/* And once more with nobody writing: every chunk must read stable now. */
	for (u64 c = 0; c < T_CHUNKS; c++) {
		assert_int_equal(torn_read_chunk(&s, c), 1);
		s.snapshots++;
	}
	print_message("torn: %d writers, %llu begin/commit ops, %llu stable snapshots checked, "
		      "%llu retries, %llu mismatches\n", T_WRITERS,
		      (unsigned long long)s.ops_done, (unsigned long long)s.snapshots,
		      (unsigned long long)s.retries, (unsigned long long)s.mismatches);
	assert_int_equal(s.mismatches, 0);
	assert_int_equal(s.ops_done, T_WRITERS * T_OPS);
	assert_true(s.snapshots > 2 * T_CHUNKS);	/* at least one pass while writers ran */
	free(s.hist);
	tt_free(&s.t);
}

/* ---- hostile host --------------------------------------------------------------- */

enum { H_PAGES = 8192, H_PPC = 256, H_WRITERS = 2, H_OPS = 20000, H_TABLE_GFN = 8000 };

struct hostile {
	struct tt t;
	u8 model[H_PAGES];	/* each writer owns half; written only by its owner */
	int writers_left;
	u64 scribbles;		/* written by the scribbler, read by writers at start */
};

struct hw_arg {
	struct hostile *h;
	u64 lo, hi;		/* this writer's pages */
	u64 seed;
};

static void *hostile_writer(void *arg)
{
	struct hw_arg *a = arg;
	struct hostile *h = a->h;

	/* Start only once the scribbler is running, so the two really overlap. */
	while (__atomic_load_n(&h->scribbles, __ATOMIC_ACQUIRE) < 1000)
		sched_yield();
	for (int op = 0; op < H_OPS; op++) {
		u64 p = a->lo + xorshift(&a->seed) % (a->hi - a->lo);
		u64 n = 1 + xorshift(&a->seed) % SD_MIN(a->hi - p, (u64)600);
		bool shared = xorshift(&a->seed) & 1;
		int rc;

		if (op % 2)
			rc = sd_guest_set(&h->t.g, p, n, shared);
		else if ((rc = sd_guest_begin(&h->t.g, p, n, shared)) == 0)
			rc = sd_guest_commit(&h->t.g, p, n, shared);
		if (rc == -SD_ERR_TABLE_NOT_SHARED)
			continue;
		T_CHECK(rc == 0);
		memset(h->model + p, shared, n);
	}
	__atomic_fetch_sub(&h->writers_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *scribbler(void *arg)
{
	struct hostile *h = arg;
	u64 rnd = 0x9e3779b97f4a7c15ULL;
	u64 words = h->t.tbytes / 8;

	while (__atomic_load_n(&h->writers_left, __ATOMIC_ACQUIRE)) {
		u64 *w = (u64 *)h->t.table + xorshift(&rnd) % words;

		/* Random words anywhere: header, counts, pending ranges, bits. */
		__atomic_store_n(w, xorshift(&rnd), __ATOMIC_RELAXED);
		__atomic_store_n(&h->scribbles, h->scribbles + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void hostile_host_scribbles_while_guest_writes(void **state)
{
	static struct hostile h;
	struct hw_arg args[H_WRITERS];
	pthread_t w[H_WRITERS], sc;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.writers_left = H_WRITERS;
	tt_make(&h.t, H_PAGES, H_PPC, (u64)H_TABLE_GFN << 12);
	h.model[H_TABLE_GFN] = 1;
	pthread_create(&sc, NULL, scribbler, &h);
	for (int i = 0; i < H_WRITERS; i++) {
		args[i] = (struct hw_arg){ &h, (u64)i * H_PAGES / 2, (u64)(i + 1) * H_PAGES / 2,
					   0x1234567ULL * (u64)(i + 1) };
		pthread_create(&w[i], NULL, hostile_writer, &args[i]);
	}
	for (int i = 0; i < H_WRITERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(sc, NULL);

	/* Private state: every page, every count, every sequence count. */
	assert_memory_equal(&h.t.g, &h.t.g_saved, offsetof(struct sd_guest, reg_value));
	for (u64 p = 0; p < H_PAGES; p++)
		if (sd_guest_is_shared(&h.t.g, p) != h.model[p])
			fail_msg("page %llu: private state %d, model %d", (unsigned long long)p,
				 sd_guest_is_shared(&h.t.g, p), h.model[p]);
	for (u64 c = 0; c < h.t.g.g.nr_chunks; c++) {
		u64 want = 0;

		for (u64 p = c * H_PPC; p < (c + 1) * H_PPC; p++)
			want += h.model[p];
		assert_int_equal(h.t.g.chunks[c].nr_shared, want);
		assert_int_equal(h.t.g.chunks[c].seq & 1, 0);
		assert_int_equal(h.t.g.chunks[c].win_count, 0);
	}
	/* Nothing written outside the table. */
	for (u64 i = 0; i < GUARD; i++) {
		assert_int_equal(h.t.mem[i], GUARD_BYTE);
		assert_int_equal(h.t.table[h.t.tbytes + i], GUARD_BYTE);
	}
	/* The next update of a chunk republishes its descriptor from private state. */
	for (u64 c = 0; c < h.t.g.g.nr_chunks; c++) {
		u64 p = c * H_PPC + (c == H_TABLE_GFN / H_PPC ? 1 : 0);

		assert_int_equal(sd_guest_set(&h.t.g, p, 1, h.model[p]), 0);
		assert_int_equal(tt_desc(&h.t, c)->seq, h.t.g.chunks[c].seq);
		assert_int_equal(tt_desc(&h.t, c)->nr_shared, h.t.g.chunks[c].nr_shared);
	}
	print_message("hostile: %d writers x %d ops while %llu random words were scribbled; "
		      "private state matches the model on all %d pages\n", H_WRITERS, H_OPS,
		      (unsigned long long)h.scribbles, H_PAGES);
	assert_true(h.scribbles > 1000);
	tt_free(&h.t);
}

/* ---- the chunk lock ----------------------------------------------------------------- */

struct lk {
	struct tt t;
	int stage;		/* 1: the second writer's begin returned */
	u32 seq_seen;
};

static void *lk_second(void *arg)
{
	struct lk *l = arg;

	T_CHECK(sd_guest_begin(&l->t.g, 10, 5, true) == 0);
	l->seq_seen = l->t.g.chunks[0].seq;
	__atomic_store_n(&l->stage, 1, __ATOMIC_RELEASE);
	T_CHECK(sd_guest_commit(&l->t.g, 10, 5, true) == 0);
	return NULL;
}

static void *lk_other_chunk(void *arg)
{
	struct lk *l = arg;

	T_CHECK(sd_guest_set(&l->t.g, 5 * 64 + 3, 2, true) == 0);
	return NULL;
}

static void lock_serialises_one_chunk_only(void **state)
{
	struct lk l = { 0 };
	pthread_t b;

	(void)state;
	tt_make(&l.t, 1024, 64, 1000ULL << 12);
	assert_int_equal(sd_guest_begin(&l.t.g, 0, 20, false), 0);
	/* A writer of another chunk finishes while chunk 0's window is open. */
	pthread_create(&b, NULL, lk_other_chunk, &l);
	pthread_join(b, NULL);
	assert_int_equal(tt_desc(&l.t, 5)->seq, 2);
	/* A writer of chunk 0 must wait for our commit. */
	pthread_create(&b, NULL, lk_second, &l);
	usleep(50 * 1000);
	assert_int_equal(__atomic_load_n(&l.stage, __ATOMIC_ACQUIRE), 0);
	assert_int_equal(tt_desc(&l.t, 0)->seq, 1);
	assert_int_equal(sd_guest_commit(&l.t.g, 0, 20, false), 0);
	pthread_join(b, NULL);
	assert_int_equal(l.stage, 1);
	assert_int_equal(l.seq_seen, 3);	/* our window was 1..2, its window 3..4 */
	assert_int_equal(tt_desc(&l.t, 0)->seq, 4);
	tt_free(&l.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writers_never_publish_a_torn_chunk),
		cmocka_unit_test(hostile_host_scribbles_while_guest_writes),
		cmocka_unit_test(lock_serialises_one_chunk_only),
	};

	return cmocka_run_group_tests_name("guest: concurrency", tests, NULL, NULL) ? 1 : 0;
}
