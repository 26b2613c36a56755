// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_live.c - host/ reading while a writer thread changes the table.
 *
 * The writer follows SPEC.md 2.1 with the real barriers (proto/seqcount.h)
 * and records, before publishing it, every state each chunk goes through:
 * after its k-th update a chunk's count is 2k and its bits are hist[k].
 * The host reads chunks one by one and incrementally while the writer runs.
 * Afterwards every copy the host accepted is checked against the history:
 * it must be exactly the state the writer published with that count. And
 * the changes the incremental walk reported, applied in order to its first
 * read, must give exactly the final table.
 *
 * Nothing here depends on timing: how many copies are checked does, and is
 * printed; at least the final, quiet reads of every chunk always are.
 */
#include <pthread.h>
#include <stdio.h>
#include "host_util.h"
#include "seqcount.h"

#define NR_CHUNKS	8
#define PPC		128
#define WORDS		(PPC / 64)
#define NR_PAGES	(NR_CHUNKS * PPC - 37)	/* a partial last chunk */
#define UPDATES		(NR_CHUNKS * 150000)
#define PER_CHUNK	(UPDATES / NR_CHUNKS)
#define MAX_SAMPLES	(1u << 20)

struct sample {
	u32 idx, seq;
	u64 bits[WORDS];
};

struct live {
	struct tbuild t;
	u64 hist[NR_CHUNKS][PER_CHUNK + 1][WORDS];
	int done;			/* writer finished: read with __atomic */
	struct sample *samples;
	u32 nsamples;
};

static u32 chunk_pages(u64 idx)
{
	return idx == NR_CHUNKS - 1 ? NR_PAGES - (NR_CHUNKS - 1) * PPC : PPC;
}

/* The writer: SPEC.md 2.1 steps 1-6 per update, from private state only. */
static void *writer(void *arg)
{
	struct live *L = arg;
	u64 shadow[NR_CHUNKS][WORDS];
	u32 priv_seq[NR_CHUNKS] = { 0 };
	u64 seed = 2024;

	for (u64 i = 0; i < NR_CHUNKS; i++)
		memcpy(shadow[i], tbuild_bits(&L->t, i), sizeof(shadow[i]));
	for (u32 k = 0; k < UPDATES; k++) {
		u32 idx = k % NR_CHUNKS, n = k / NR_CHUNKS + 1;
		u32 pages = chunk_pages(idx);
		/* Never page 0 of chunk 0: the table lives there. */
		u32 lo = idx == 0 ? 1 : 0;
		u32 first = lo + (u32)(sd_splitmix64(&seed) % (pages - lo));
		u32 count = 1 + (u32)(sd_splitmix64(&seed) % SD_MIN(pages - first, 70u));
		bool shared = sd_splitmix64(&seed) & 1;
		struct sd_chunk_desc *d = tbuild_desc(&L->t, idx);
		u64 *bits = tbuild_bits(&L->t, idx);
		u64 nw[WORDS];
		u32 pop = 0;

		memcpy(nw, shadow[idx], sizeof(nw));
		if (shared)
			sd_bitmap_set_range(nw, first, count);
		else
			sd_bitmap_clear_range(nw, first, count);
		for (int w = 0; w < WORDS; w++)
			pop += sd_popcount64(nw[w]);
		/* Recorded before it can be seen: the count that publishes it is 2n. */
		memcpy(L->hist[idx][n], nw, sizeof(nw));

		sd_seq_write_begin(d, &priv_seq[idx], first, count);	/* steps 1-3 */
		for (u32 w = first / 64; w <= (first + count - 1) / 64; w++)
			SD_WRITE_ONCE(bits[w], nw[w]);			/* step 4: whole words */
		SD_WRITE_ONCE(d->nr_shared, pop);
		sd_seq_write_end(d, &priv_seq[idx]);			/* steps 5-6 */
		memcpy(shadow[idx], nw, sizeof(nw));
	}
	__atomic_store_n(&L->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void sample_add(struct live *L, u64 idx, u32 seq, const u64 *bits, u32 nr_shared)
{
	struct sample *s;

	if (L->nsamples == MAX_SAMPLES)
		return;
	s = &L->samples[L->nsamples++];
	s->idx = (u32)idx;
	s->seq = seq;
	if (bits) {
		memcpy(s->bits, bits, sizeof(s->bits));
	} else {
		/* A summary read: uniform. */
		memset(s->bits, 0, sizeof(s->bits));
		if (nr_shared)
			sd_bitmap_set_range(s->bits, 0, chunk_pages(idx));
	}
}

/* The incremental walk's reports, applied to a mirror of the page states. */
struct mirror {
	u64 bits[NR_CHUNKS * WORDS];
	u64 runs, unsettled;
	bool reread[NR_CHUNKS];
};

static int mirror_fn(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	struct mirror *m = ctx;

	m->runs++;
	if (state == SD_PAGE_SHARED)
		sd_bitmap_set_range(m->bits, gfn, n);
	else if (state == SD_PAGE_PRIVATE)
		sd_bitmap_clear_range(m->bits, gfn, n);
	else if (state == SD_PAGE_UNSETTLED)
		m->unsettled++;
	else
		fail_msg("a live walk reported pages in transition");
	return 0;
}

static int mirror_chunk_fn(void *ctx, u64 idx, u32 old_seq, u32 new_seq)
{
	struct mirror *m = ctx;

	(void)old_seq;
	(void)new_seq;
	m->reread[idx] = true;
	return 0;
}

/*
 * A whole-table walk while the writer runs: each chunk's shared runs must
 * make a bitmap the writer published with a count between the ones read
 * before and after the walk; a chunk reported unsettled is reported so
 * whole (counted in *@nr_unsettled). Returns the chunks checked.
 */
static u64 walk_check(struct live *L, const struct sd_host_reg *reg, const struct sd_host_mem *mem,
		      u64 *scratch, bool batched, u32 flags, u32 attempts, u64 *nr_unsettled)
{
	struct truns runs = { 0 };
	struct sd_host_extent ext[SD_HOST_BATCH_MIN];
	struct tbatch tb = { .r = &runs, .buf = ext, .len = SD_HOST_BATCH_MIN };
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = attempts);
	u32 before[NR_CHUNKS], after[NR_CHUNKS];
	u64 bits[NR_CHUNKS][WORDS] = { { 0 } };
	u64 unsettled[NR_CHUNKS] = { 0 }, checked = 0;

	if (batched) {
		o.batch_fn = tbatch_fn;
		o.batch = ext;
		o.batch_len = SD_HOST_BATCH_MIN;
		o.ctx = &tb;
	} else {
		o.fn = truns_fn;
		o.ctx = &runs;
	}
	for (u64 i = 0; i < NR_CHUNKS; i++)
		before[i] = __atomic_load_n(&tbuild_desc(&L->t, i)->seq, __ATOMIC_ACQUIRE);
	assert_int_equal(sd_host_walk(reg, mem, scratch, &o), 0);
	for (u64 i = 0; i < NR_CHUNKS; i++)
		after[i] = __atomic_load_n(&tbuild_desc(&L->t, i)->seq, __ATOMIC_ACQUIRE);
	for (u64 r = 0; r < runs.n; r++) {
		const struct trun *x = &runs.v[r];

		assert_true(x->gfn + x->n <= NR_PAGES);
		if (x->state == SD_PAGE_SHARED) {
			for (u64 p = x->gfn; p < x->gfn + x->n; p++)
				bits[p / PPC][(p % PPC) / 64] |= 1ULL << (p % 64);
		} else if (x->state == SD_PAGE_UNSETTLED) {
			for (u64 p = x->gfn; p < x->gfn + x->n; p++)
				unsettled[p / PPC]++;
		} else {
			fail_msg("a live walk reported run %llu in state %d", (unsigned long long)r,
				 x->state);
		}
	}
	for (u64 i = 0; i < NR_CHUNKS; i++) {
		u32 k;

		if (unsettled[i]) {
			assert_int_equal(unsettled[i], chunk_pages(i));
			(*nr_unsettled)++;
			continue;
		}
		/* Published states only: count 2k publishes state k, an odd count none. */
		for (k = (before[i] + 1) / 2; k <= after[i] / 2; k++)
			if (!memcmp(bits[i], L->hist[i][k], sizeof(bits[i])))
				break;
		if (k > after[i] / 2)
			fail_msg("%s walk: chunk %llu is no state the writer published between counts "
				 "%u and %u", batched ? "batched" : "per-run", (unsigned long long)i,
				 before[i], after[i]);
		checked++;
	}
	truns_reset(&runs);
	return checked;
}

static void live_run(bool copy)
{
	struct live *L = calloc(1, sizeof(*L));
	struct tmem tm;
	struct sd_host_mem mem;
	struct sd_host_cfg cfg;
	struct sd_host_reg reg = { 0 };
	struct sd_host_stats st = { 0 }, wst = { 0 }, qst;
	struct sd_host_chunk ch;
	struct mirror *mir = calloc(1, sizeof(*mir));
	struct sd_host_incr incr = { .nr_chunks = NR_CHUNKS, .seqs = calloc(NR_CHUNKS, 4),
				     .bits = calloc(NR_CHUNKS * WORDS, 8) };
	u64 scratch[SD_HOST_SCRATCH_WORDS];
	u64 qu, seed = 7, passes = 0, reads = 0, unsettled_reads = 0, walks = 0, walk_chunks = 0,
	    walk_unsettled = 0;
	SD_HOST_OPTS(sd_host_walk_opts, io, .max_attempts = 1, .fn = mirror_fn, .ctx = mir);
	SD_HOST_OPTS(sd_host_walk_opts, wo, .flags = SD_READ_UNSETTLED_OK, .max_attempts = 100,
		     .fn = mirror_fn, .chunk_fn = mirror_chunk_fn, .ctx = mir, .stats = &wst);
	SD_HOST_OPTS(sd_host_read_opts, ro, .max_attempts = 100, .stats = &st);
	SD_HOST_OPTS(sd_host_read_opts, qo, .flags = SD_READ_STRICT, .max_attempts = 1,
		     .stats = &qst);
	pthread_t th;

	L->samples = calloc(MAX_SAMPLES, sizeof(*L->samples));
	tbuild_init(&L->t, 0, NR_PAGES, PPC, 0);
	for (u64 i = 0; i < NR_CHUNKS; i++)
		memcpy(L->hist[i][0], tbuild_bits(&L->t, i), WORDS * 8);
	tmem_table(&tm, &L->t);
	mem = copy ? tmem_host_copy(&tm) : tmem_host(&tm);
	cfg = tcfg(&L->t, 100);
	assert_int_equal(sd_host_register(&reg, &cfg, &mem, 1, NULL), 0);
	assert_int_equal(sd_host_incr_init(&reg, &mem, &incr, &io), 0);

	assert_int_equal(pthread_create(&th, NULL, writer, L), 0);
	while (!__atomic_load_n(&L->done, __ATOMIC_ACQUIRE)) {
		u64 idx = sd_splitmix64(&seed) % NR_CHUNKS;
		int rc;

		ro.flags = (sd_splitmix64(&seed) & 1) ? SD_READ_STRICT : 0;
		rc = sd_host_read_chunk(&reg, &mem, idx, scratch, &ch, &ro);

		reads++;
		if (rc == 0)
			sample_add(L, idx, ch.v.seq, ch.bits, ch.v.nr_shared);
		else if (rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES)
			unsettled_reads++;
		else
			fail_msg("live read of chunk %llu: %s", (unsigned long long)idx,
				 sd_err_name(rc));
		if (reads % 16 == 8) {
			/* Batched and per run, strict and not, one attempt a chunk or 100. */
			walk_chunks += walk_check(L, &reg, &mem, scratch, walks & 1,
						  SD_READ_UNSETTLED_OK |
						  (walks & 2 ? SD_READ_STRICT : 0),
						  walks & 4 ? 1 : 100, &walk_unsettled);
			walks++;
		}
		if (reads % 16 == 0) {
			memset(mir->reread, 0, sizeof(mir->reread));
			assert_int_equal(sd_host_walk_changes(&reg, &mem, &incr, scratch, &wo), 0);
			passes++;
			for (u64 i = 0; i < NR_CHUNKS; i++)
				if (mir->reread[i] && !(incr.seqs[i] & 1))
					sample_add(L, i, incr.seqs[i], incr.bits + i * WORDS, 0);
		}
	}
	assert_int_equal(pthread_join(th, NULL), 0);

	/* Quiet now: every chunk settles at once, and the walk catches up exactly. */
	for (u64 i = 0; i < NR_CHUNKS; i++) {
		memset(&qst, 0, sizeof(qst));
		assert_int_equal(sd_host_read_chunk(&reg, &mem, i, scratch, &ch, &qo), 0);
		assert_int_equal(qst.attempts, 1);
		assert_int_equal(ch.v.seq, 2 * PER_CHUNK);
		sample_add(L, i, ch.v.seq, ch.bits, ch.v.nr_shared);
	}
	assert_int_equal(sd_host_walk_changes(&reg, &mem, &incr, scratch, &io), 0);
	/* Quiet whole-table walks, both kinds: every chunk exactly its final state. */
	qu = 0;
	assert_int_equal(walk_check(L, &reg, &mem, scratch, true, SD_READ_STRICT, 1, &qu),
			 NR_CHUNKS);
	assert_int_equal(walk_check(L, &reg, &mem, scratch, false, 0, 1, &qu), NR_CHUNKS);
	assert_int_equal(qu, 0);
	for (u64 i = 0; i < NR_CHUNKS; i++) {
		assert_int_equal(incr.seqs[i], 2 * PER_CHUNK);
		assert_memory_equal(incr.bits + i * WORDS, tbuild_bits(&L->t, i), WORDS * 8);
		assert_memory_equal(mir->bits + i * WORDS, tbuild_bits(&L->t, i), WORDS * 8);
	}

	/* Every accepted copy is exactly what the writer published with that count. */
	for (u32 s = 0; s < L->nsamples; s++) {
		const struct sample *x = &L->samples[s];

		assert_int_equal(x->seq & 1, 0);
		assert_true(x->seq / 2 <= PER_CHUNK);
		if (memcmp(x->bits, L->hist[x->idx][x->seq / 2], sizeof(x->bits)))
			fail_msg("sample %u: chunk %u seq %u is not a state the writer published",
				 s, x->idx, x->seq);
	}
	print_message("live (%s): %u writer updates; %llu chunk reads (%llu unsettled, %llu retries), "
		      "%llu incremental passes (%llu retries); %u accepted copies checked; %llu walks "
		      "checked %llu chunks (%llu more unsettled)\n",
		      copy ? "copy" : "map", UPDATES, (unsigned long long)reads, (unsigned long long)unsettled_reads,
		      (unsigned long long)st.retries, (unsigned long long)passes,
		      (unsigned long long)wst.retries, L->nsamples, (unsigned long long)walks,
		      (unsigned long long)walk_chunks, (unsigned long long)walk_unsettled);
	assert_true(L->nsamples >= NR_CHUNKS);

	free(incr.seqs);
	free(incr.bits);
	free(mir);
	free(L->samples);
	tbuild_free(&L->t);
	free(L);
}

static void host_accepts_only_states_the_writer_published(void **state)
{
	(void)state;
	live_run(false);
}

/* The same through a copy() accessor, as a kernel reads guest memory. */
static void copying_host_accepts_only_states_the_writer_published(void **state)
{
	(void)state;
	live_run(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_accepts_only_states_the_writer_published),
		cmocka_unit_test(copying_host_accepts_only_states_the_writer_published),
	};

	return cmocka_run_group_tests_name("host: live reads against a writer", tests, NULL, NULL);
}
