/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * host_util.h - what the host/ suites share: a guest-memory accessor with
 * RAM, MMIO and slot boundaries; a recorder of walk runs; a reference model
 * of page states that computes the runs a walk must report.
 */
#ifndef SD_HOST_UTIL_H
#define SD_HOST_UTIL_H

#include <stdlib.h>
#include <string.h>
#include "sd_test.h"
#include "sd_host.h"
#include "sd_rand.h"

/* ---- guest memory as a host sees it -------------------------------------- */

enum { TMEM_RAM, TMEM_MMIO };

struct tmem_region {
	sd_gpa_t gpa;
	u64 len;
	u8 *ptr;		/* backing for [gpa, gpa + len); NULL: must never be mapped */
	int kind;
};

struct tmem {
	struct tmem_region r[8];
	int n;
	u64 maps;		/* map() calls */
	u64 fails;		/* map() and copy() calls that failed */
	u64 copies;		/* copy() calls, probes included */
	u64 fault_at;		/* > 0: copy() call number fault_at fails ... */
	int fault_rc;		/* ... returning this (0: -SD_ERR_MEM_FAULT) */
};

static inline void tmem_add(struct tmem *m, sd_gpa_t gpa, u64 len, void *ptr, int kind)
{
	assert_true(m->n < (int)SD_ARRAY_SIZE(m->r));
	m->r[m->n++] = (struct tmem_region){ gpa, len, ptr, kind };
}

static inline const struct tmem_region *tmem_find(const struct tmem *m, sd_gpa_t gpa)
{
	for (int i = 0; i < m->n; i++)
		if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].len)
			return &m->r[i];
	return NULL;
}

/*
 * Like a VMM's view of memslots: a range must lie inside one RAM region.
 * One that runs into the next region is SPLIT; one that runs off the end of
 * backed memory is UNBACKED; one that starts in MMIO is MMIO. Returns where
 * [gpa, gpa + len) is backed, or NULL with *err set.
 */
static inline u8 *tmem_resolve(struct tmem *m, sd_gpa_t gpa, u64 len, int *err)
{
	const struct tmem_region *r = tmem_find(m, gpa);
	sd_gpa_t end;

	if (!r) {
		*err = -SD_ERR_MEM_UNBACKED;
		goto fail;
	}
	if (r->kind == TMEM_MMIO) {
		*err = -SD_ERR_MEM_MMIO;
		goto fail;
	}
	end = r->gpa + r->len;
	if (len > end - gpa) {
		*err = tmem_find(m, end) ? -SD_ERR_MEM_SPLIT : -SD_ERR_MEM_UNBACKED;
		goto fail;
	}
	if (!r->ptr)
		fail_msg("host mapped unbacked test memory at 0x%llx", (unsigned long long)gpa);
	return r->ptr + (gpa - r->gpa);
fail:
	m->fails++;
	return NULL;
}

static inline const void *tmem_map(void *ctx, sd_gpa_t gpa, u64 len, int *err)
{
	struct tmem *m = ctx;

	m->maps++;
	return tmem_resolve(m, gpa, len, err);
}

/*
 * The copying accessor over the same regions, as a kernel's would be: it
 * may fail on any call (m->fault_at), and copies a 4-byte count with one
 * load and anything longer word by word (host/ asks for nothing else).
 * Loads are SD_READ_ONCE: the memory may be written by another thread.
 */
static inline int tmem_copy(void *ctx, void *dst, sd_gpa_t gpa, u64 len)
{
	struct tmem *m = ctx;
	int err = 0;
	u8 *p;

	if (++m->copies == m->fault_at) {
		m->fails++;
		return m->fault_rc ? m->fault_rc : -SD_ERR_MEM_FAULT;
	}
	p = tmem_resolve(m, gpa, len, &err);
	if (!p)
		return err;
	if (!dst)
		return 0;
	if (len == 4) {
		assert_true(gpa % 4 == 0);
		*(u32 *)dst = SD_READ_ONCE(*(u32 *)p);
		return 0;
	}
	assert_true(len % 8 == 0 && gpa % 8 == 0);
	for (u64 i = 0; i < len / 8; i++)
		((u64 *)dst)[i] = SD_READ_ONCE(((u64 *)p)[i]);
	return 0;
}

static inline struct sd_host_mem tmem_host(struct tmem *m)
{
	return (struct sd_host_mem){ .map = tmem_map, .ctx = m };
}

static inline struct sd_host_mem tmem_host_copy(struct tmem *m)
{
	return (struct sd_host_mem){ .copy = tmem_copy, .ctx = m };
}

/* Memory holding just a tbuild table, and a host configuration it is valid under. */
static inline void tmem_table(struct tmem *m, struct tbuild *t)
{
	memset(m, 0, sizeof(*m));
	tmem_add(m, t->gpa, t->g.table_size, t->mem, TMEM_RAM);
}

static inline struct sd_host_cfg tcfg(const struct tbuild *t, u32 attempts)
{
	return (struct sd_host_cfg){ .lim = tbuild_limits(t), .phys_bits = 52,
				     .max_attempts = attempts };
}

/*
 * A table in test memory and everything a host/ suite reads it with: the
 * map() accessor (@mem), the copy() one over the same memory (@copy), a
 * configuration it is valid under, a registration, counters, a location,
 * incremental state, scratch, and two reference page-state arrays.
 */
struct tfx {
	struct tbuild t;
	struct tmem m;
	struct sd_host_mem mem;
	struct sd_host_mem copy;
	struct sd_host_cfg cfg;
	struct sd_host_reg reg;
	struct sd_host_stats st;
	struct sd_errloc loc;
	struct sd_host_incr incr;
	struct sd_host_chunk ch;
	u64 scratch[SD_HOST_SCRATCH_WORDS];
	u8 *cur, *settled;	/* reference page states */
};

/* A fixture over a fresh tbuild table; nothing registered yet. */
static inline struct tfx *tfx_new(sd_gfn_t first, u64 n, u32 ppc, sd_gpa_t gpa, u32 attempts)
{
	struct tfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tbuild_init(&f->t, first, n, ppc, gpa);
	tmem_table(&f->m, &f->t);
	f->mem = tmem_host(&f->m);
	f->copy = tmem_host_copy(&f->m);
	f->cfg = tcfg(&f->t, attempts);
	f->cur = calloc(n, 1);
	f->settled = calloc(n, 1);
	return f;
}

/* Size f->incr for the registration's geometry. */
static inline void tfx_incr_alloc(struct tfx *f)
{
	f->incr.nr_chunks = sd_host_incr_seq_entries(&f->reg);
	f->incr.seqs = calloc(f->incr.nr_chunks, sizeof(u32));
	f->incr.bits = calloc(sd_host_incr_bit_words(&f->reg), sizeof(u64));
}

static inline void tfx_free(struct tfx *f)
{
	tbuild_free(&f->t);
	free(f->incr.seqs);
	free(f->incr.bits);
	free(f->cur);
	free(f->settled);
	free(f);
}

/* ---- walk runs ------------------------------------------------------------- */

struct trun {
	sd_gfn_t gfn;
	u64 n;
	int state;
};

struct truns {
	struct trun *v;
	u64 n, cap;
	u64 pages[4];		/* pages reported per state */
	u64 runs[4];		/* runs reported per state */
	u64 chunks;		/* chunk_fn calls */
	int stop_after;		/* > 0: truns_fn returns 99 from that call on */
	int chunk_stop_after;	/* > 0: truns_chunk_fn returns 99 from that call on */
};

static inline void truns_push(struct truns *r, sd_gfn_t gfn, u64 n, int state)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	r->v[r->n++] = (struct trun){ gfn, n, state };
}

static inline int truns_fn(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	struct truns *r = ctx;

	assert_true(n > 0);
	assert_true((int)state >= 0 && (int)state < 4);
	/* Runs come in GFN order and are maximal: never adjacent and alike. */
	if (r->n) {
		const struct trun *p = &r->v[r->n - 1];

		assert_true(gfn >= p->gfn + p->n);
		assert_false(gfn == p->gfn + p->n && (int)state == p->state);
	}
	truns_push(r, gfn, n, state);
	r->pages[state] += n;
	r->runs[state]++;
	if (r->stop_after && (u64)r->stop_after <= r->n)
		return 99;
	return 0;
}

static inline int truns_chunk_fn(void *ctx, u64 idx, u32 old_seq, u32 new_seq)
{
	struct truns *r = ctx;

	(void)idx;
	(void)old_seq;
	(void)new_seq;
	r->chunks++;
	if (r->chunk_stop_after && (u64)r->chunk_stop_after <= r->chunks)
		return 99;
	return 0;
}

static inline void truns_reset(struct truns *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static inline void truns_assert_equal(const struct truns *got, const struct truns *want)
{
	for (u64 i = 0; i < got->n && i < want->n; i++)
		if (got->v[i].gfn != want->v[i].gfn || got->v[i].n != want->v[i].n ||
		    got->v[i].state != want->v[i].state)
			fail_msg("run %llu: got gfn 0x%llx n %llu state %d, want gfn 0x%llx n %llu state %d",
				 (unsigned long long)i, (unsigned long long)got->v[i].gfn,
				 (unsigned long long)got->v[i].n, got->v[i].state,
				 (unsigned long long)want->v[i].gfn,
				 (unsigned long long)want->v[i].n, want->v[i].state);
	assert_int_equal(got->n, want->n);
}

/*
 * A batched walk's callback (sd_host_walk_opts.batch_fn) that hands each
 * run to truns_fn, which checks order and maximality across calls too.
 * Each call must hold 1 to @len runs, at the start of @buf.
 */
struct tbatch {
	struct truns *r;
	struct sd_host_extent *buf;
	u32 len;
	u64 calls;
	u64 full;		/* calls with all @len runs */
	int stop_after_calls;	/* > 0: returns 99 from that call on */
};

static inline int tbatch_fn(void *ctx, const struct sd_host_extent *ext, u32 n,
			    enum sd_page_state state)
{
	struct tbatch *b = ctx;
	int rc = 0;

	assert_ptr_equal(ext, b->buf);
	assert_true(n >= 1 && n <= b->len);
	b->calls++;
	b->full += n == b->len;
	for (u32 i = 0; i < n; i++) {
		int r = truns_fn(b->r, ext[i].gfn, ext[i].npages, state);

		rc = rc ? rc : r;
	}
	if (b->stop_after_calls && (u64)b->stop_after_calls <= b->calls)
		return 99;
	return rc;
}

/* ---- reference page states ------------------------------------------------- */

/*
 * Per page: 0 private, 1 shared, 2 in transition. Runs are derived page by
 * page, the slow obvious way, to check the word-at-a-time walks against.
 */
static inline void tref_runs(const u8 *state, sd_gfn_t first_gfn, u64 n, bool report_private,
			     struct truns *out)
{
	for (u64 p = 0; p < n;) {
		u64 q = p + 1;

		while (q < n && state[q] == state[p])
			q++;
		if (state[p] != 0 || report_private)
			truns_push(out, first_gfn + p, q - p, state[p]);
		p = q;
	}
}

/* Runs of pages whose state differs between @a and @b, with their state in @b. */
static inline void tref_diff_runs(const u8 *a, const u8 *b, sd_gfn_t first_gfn, u64 n,
				  struct truns *out)
{
	for (u64 p = 0; p < n;) {
		u64 q;

		if (a[p] == b[p] && b[p] != 2) {
			p++;
			continue;
		}
		q = p + 1;
		while (q < n && (a[q] != b[q] || b[q] == 2) && b[q] == b[p])
			q++;
		truns_push(out, first_gfn + p, q - p, b[p]);
		p = q;
	}
}

/* Runs @v[0..n) taken as reported: their pages' states become the runs' states. */
static inline void tref_apply_runs(u8 *state, sd_gfn_t first_gfn, const struct trun *v, u64 n)
{
	for (u64 i = 0; i < n; i++)
		memset(state + (v[i].gfn - first_gfn), v[i].state, v[i].n);
}

/* Page states of a tbuild table (stable view; pending ranges of odd chunks as 2). */
static inline void tref_from_table(struct tbuild *t, u8 *state)
{
	for (u64 p = 0; p < t->g.nr_gfns; p++) {
		u64 idx = p >> t->g.chunk_shift;
		u32 rel = (u32)(p & (t->g.pages_per_chunk - 1));
		struct sd_chunk_desc *d = tbuild_desc(t, idx);

		state[p] = sd_bit_test(tbuild_bits(t, idx), rel);
		if ((d->seq & 1) && rel >= d->pending_first &&
		    rel - d->pending_first < d->pending_count)
			state[p] = 2;
	}
}

#endif /* SD_HOST_UTIL_H */
