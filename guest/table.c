// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * table.c - the guest's writer: initialise the table, change page states
 * inside odd/even windows (SPEC.md 2), copy state into a resized table.
 *
 * The shared table is write-only here. Every value stored into it comes from
 * struct sd_guest's private state: the geometry, the per-chunk counts and
 * the shadow bitmap. Every table address is computed from the private
 * geometry and is inside [table, table + table_size) by construction.
 */
#include "sd_guest.h"
#include "sd_types.h"
#include "layout.h"
#include "bitmap.h"
#include "seqcount.h"

static struct sd_chunk_desc *desc_of(const struct sd_guest *g, u64 idx)
{
	return g->descs + idx;
}

static u64 *bits_of(const struct sd_guest *g, u64 idx)
{
	return g->bitmap + idx * g->g.words_per_chunk;
}

static u64 *shadow_of(const struct sd_guest *g, u64 idx)
{
	return g->shadow + idx * g->g.words_per_chunk;
}

static u64 priv_bytes(const struct sd_geom *geom)
{
	return geom->nr_chunks * sizeof(struct sd_guest_chunk) +
	       geom->nr_chunks * geom->words_per_chunk * sizeof(u64);
}

u64 sd_guest_table_bytes(sd_gfn_t first_gfn, u64 nr_gfns, u32 pages_per_chunk)
{
	struct sd_geom geom;

	return sd_geom_compute(&geom, first_gfn, nr_gfns, pages_per_chunk) ? 0 : geom.table_size;
}

u64 sd_guest_priv_bytes(sd_gfn_t first_gfn, u64 nr_gfns, u32 pages_per_chunk)
{
	struct sd_geom geom;

	return sd_geom_compute(&geom, first_gfn, nr_gfns, pages_per_chunk) ? 0 : priv_bytes(&geom);
}

static void zero_words(u64 *p, u64 nwords)
{
	for (u64 i = 0; i < nwords; i++)
		p[i] = 0;
}

/* Publish chunk @idx's count and every bitmap word: used before registration and by resize. */
static void publish_chunk(struct sd_guest *g, u64 idx)
{
	SD_WRITE_ONCE(desc_of(g, idx)->nr_shared, g->chunks[idx].nr_shared);
	sd_shared_store_words(bits_of(g, idx), shadow_of(g, idx), g->g.words_per_chunk);
}

/* Mark the table's own pages shared in private state (SPEC.md 1.6). */
static void mark_self_shared(struct sd_guest *g)
{
	u64 rel = g->self_lo, end = g->self_hi;

	while (rel < end) {
		u64 idx = rel >> g->g.chunk_shift;
		u64 first = rel & (g->g.pages_per_chunk - 1);
		u64 cnt = SD_MIN(end - rel, (u64)g->g.pages_per_chunk - first);
		u64 *sh = shadow_of(g, idx);

		g->chunks[idx].nr_shared += (u32)(cnt - sd_bitmap_weight(sh, first, cnt));
		sd_bitmap_set_range(sh, first, cnt);
		rel += cnt;
	}
}

int sd_guest_init(struct sd_guest *g, sd_gfn_t first_gfn, u64 nr_gfns, u32 pages_per_chunk,
		  void *table_va, sd_gpa_t table_gpa, u64 table_bytes,
		  void *priv, u64 priv_size)
{
	struct sd_table_header hdr;
	struct sd_geom geom;
	sd_gfn_t tgfn = table_gpa >> SD_PAGE_SHIFT;
	int rc;

	rc = sd_geom_compute(&geom, first_gfn, nr_gfns, pages_per_chunk);
	if (rc)
		return rc;
	if (!g || !table_va || !priv || (table_gpa & (SD_PAGE_SIZE - 1)) ||
	    ((unsigned long)table_va & 7) || ((unsigned long)priv & 7))
		return -SD_ERR_INVAL;
	if (table_bytes < geom.table_size || priv_size < priv_bytes(&geom))
		return -SD_ERR_NOSPACE;
	if (tgfn < first_gfn || tgfn - first_gfn >= nr_gfns ||
	    sd_geom_table_pages(&geom) > nr_gfns - (tgfn - first_gfn))
		return -SD_ERR_TABLE_PLACEMENT;

	g->g = geom;
	g->table = table_va;
	g->table_gpa = table_gpa;
	g->chunks = priv;
	g->shadow = (u64 *)((u8 *)priv + geom.nr_chunks * sizeof(struct sd_guest_chunk));
	g->descs = (struct sd_chunk_desc *)(g->table + geom.desc_offset);
	g->bitmap = (u64 *)(g->table + geom.bitmap_offset);
	g->self_lo = tgfn - first_gfn;
	g->self_hi = g->self_lo + sd_geom_table_pages(&geom);
	g->reg_value = 0;
	zero_words(priv, priv_bytes(&geom) / sizeof(u64));

	/* Nobody reads the table before registration; still, write it as shared memory. */
	for (u64 i = 0; i < geom.table_size / sizeof(u64); i++)
		SD_WRITE_ONCE(((u64 *)g->table)[i], 0);
	sd_geom_to_header(&geom, &hdr);
	sd_shared_store_words((u64 *)g->table, (const u64 *)&hdr, sizeof(hdr) / sizeof(u64));

	mark_self_shared(g);
	for (u64 idx = 0; idx < geom.nr_chunks; idx++)
		if (g->chunks[idx].nr_shared)
			publish_chunk(g, idx);
	return 0;
}

/*
 * Validate a request; on success *rel is its span-relative first page. A
 * request that includes one of the table's own pages is refused, in either
 * direction: those pages are shared while the table exists, and no update
 * window may cover them (SPEC.md 1.6; a window opens even when no bit
 * changes, 2.1).
 */
static inline int check_range(const struct sd_guest *g, sd_gfn_t gfn, u64 npages, u64 *rel)
{
	u64 r = gfn - g->g.first_gfn;	/* wraps to a huge value below the span */

	if (npages == 0)
		return -SD_ERR_EMPTY_RANGE;
	if (r >= g->g.nr_gfns || npages > g->g.nr_gfns - r)
		return -SD_ERR_RANGE;
	if (r < g->self_hi && g->self_lo < r + npages)
		return -SD_ERR_TABLE_NOT_SHARED;
	*rel = r;
	return 0;
}

/*
 * Walk the chunks of [rel, rel + npages): @idx, the chunk-relative @first
 * and @cnt of the part in that chunk.
 */
#define for_each_chunk_part(g, rel, npages, idx, first, cnt)			\
	for (u64 __p = (rel), __end = (rel) + (npages), idx, first, cnt;	\
	     __p < __end &&							\
	     ((idx = __p >> (g)->g.chunk_shift),				\
	      (first = __p & ((g)->g.pages_per_chunk - 1)),			\
	      (cnt = SD_MIN(__end - __p, (u64)(g)->g.pages_per_chunk - first)), 1); \
	     __p += cnt)

/* Steps 1-3 of SPEC.md 2.1; the caller holds the chunk's lock. */
static inline __attribute__((always_inline))
void chunk_open(struct sd_guest *g, u64 idx, u32 first, u32 cnt, bool shared)
{
	struct sd_guest_chunk *ch = &g->chunks[idx];

	ch->win_first = first;
	ch->win_count = cnt;
	ch->win_shared = shared;
	sd_seq_write_begin(desc_of(g, idx), &ch->seq, first, cnt);
}

/*
 * Steps 4-6: change the shadow, publish the touched words and the count,
 * close the window. Words are published whole from the shadow, so bits
 * outside the window keep their (private, authoritative) values.
 */
static inline __attribute__((always_inline))
void chunk_close(struct sd_guest *g, u64 idx)
{
	struct sd_guest_chunk *ch = &g->chunks[idx];
	struct sd_chunk_desc *d = desc_of(g, idx);
	u64 *sh = shadow_of(g, idx);
	u32 first = ch->win_first, cnt = ch->win_count;
	u32 w0 = first >> 6, w1 = (first + cnt - 1) >> 6;

	if (w0 == w1) {
		/* One word (every single-page change): no loops, one store to the table. */
		u64 m = sd_word_mask(first & 63, ((first + cnt - 1) & 63) + 1);
		u64 old = sh[w0], new = ch->win_shared ? old | m : old & ~m;

		ch->nr_shared = ch->nr_shared + sd_popcount64(new) - sd_popcount64(old);
		sh[w0] = new;
		SD_WRITE_ONCE(bits_of(g, idx)[w0], new);
	} else {
		u32 before = (u32)sd_bitmap_weight(sh, first, cnt);

		if (ch->win_shared)
			sd_bitmap_set_range(sh, first, cnt);
		else
			sd_bitmap_clear_range(sh, first, cnt);
		ch->nr_shared = ch->nr_shared - before + (ch->win_shared ? cnt : 0);
		sd_shared_store_words(bits_of(g, idx) + w0, sh + w0, w1 - w0 + 1);
	}
	SD_WRITE_ONCE(d->nr_shared, ch->nr_shared);
	sd_seq_write_end(d, &ch->seq);
	ch->win_count = 0;
}

int sd_guest_begin(struct sd_guest *g, sd_gfn_t gfn, u64 npages, bool shared)
{
	u64 rel, c0;
	int rc = check_range(g, gfn, npages, &rel);

	if (rc)
		return rc;
	c0 = rel >> g->g.chunk_shift;
	if (c0 == (rel + npages - 1) >> g->g.chunk_shift) {
		sd_env_lock(&g->chunks[c0].lock);
		chunk_open(g, c0, (u32)(rel & (g->g.pages_per_chunk - 1)), (u32)npages, shared);
		return 0;
	}
	/*
	 * Ascending chunk order: no deadlock between overlapping multi-chunk
	 * requests of different threads. One thread opens one begin at a time
	 * (sd_guest.h), which the environment must make true even when the
	 * conversion inside the window allocates memory: a kernel's reclaim
	 * can convert pages, so the window runs with reclaim excluded
	 * (guest/linux/sd_linux.c, sdl_window_enter()).
	 */
	for_each_chunk_part(g, rel, npages, idx, first, cnt) {
		sd_env_lock(&g->chunks[idx].lock);
		chunk_open(g, idx, (u32)first, (u32)cnt, shared);
	}
	return 0;
}

int sd_guest_commit(struct sd_guest *g, sd_gfn_t gfn, u64 npages, bool shared)
{
	u64 rel, c0;
	int rc = check_range(g, gfn, npages, &rel);

	if (rc)
		return rc;
	/*
	 * Check every window before closing any: a mismatched commit changes
	 * nothing. The caller holds these chunks' locks if it began this range;
	 * a commit without its begin is misuse, detected here best-effort.
	 */
	c0 = rel >> g->g.chunk_shift;
	if (c0 == (rel + npages - 1) >> g->g.chunk_shift) {
		const struct sd_guest_chunk *ch = &g->chunks[c0];

		if (ch->win_count != npages || ch->win_shared != shared ||
		    ch->win_first != (rel & (g->g.pages_per_chunk - 1)))
			return -SD_ERR_BUSY;
		chunk_close(g, c0);
		sd_env_unlock(&g->chunks[c0].lock);
		return 0;
	}
	for_each_chunk_part(g, rel, npages, idx, first, cnt) {
		const struct sd_guest_chunk *ch = &g->chunks[idx];

		if (ch->win_count != cnt || ch->win_first != first || ch->win_shared != shared)
			return -SD_ERR_BUSY;
	}
	for_each_chunk_part(g, rel, npages, idx, first, cnt) {
		chunk_close(g, idx);
		sd_env_unlock(&g->chunks[idx].lock);
	}
	return 0;
}

int sd_guest_set(struct sd_guest *g, sd_gfn_t gfn, u64 npages, bool shared)
{
	u64 rel;
	int rc = check_range(g, gfn, npages, &rel);

	if (rc)
		return rc;
	for_each_chunk_part(g, rel, npages, idx, first, cnt) {
		sd_env_lock(&g->chunks[idx].lock);
		chunk_open(g, idx, (u32)first, (u32)cnt, shared);
		chunk_close(g, idx);
		sd_env_unlock(&g->chunks[idx].lock);
	}
	return 0;
}

int sd_guest_is_shared(struct sd_guest *g, sd_gfn_t gfn)
{
	u64 rel, idx;
	int shared;

	rel = gfn - g->g.first_gfn;
	if (rel >= g->g.nr_gfns)
		return -SD_ERR_RANGE;
	idx = rel >> g->g.chunk_shift;
	sd_env_lock(&g->chunks[idx].lock);
	shared = sd_bit_test(g->shadow, rel);
	sd_env_unlock(&g->chunks[idx].lock);
	return shared;
}

/* Copy @old's page states into @new's private state and publish all of @new. */
void sd_guest_copy_state(struct sd_guest *new, const struct sd_guest *old)
{
	sd_gfn_t lo = SD_MAX(old->g.first_gfn, new->g.first_gfn);
	sd_gfn_t hi = SD_MIN(old->g.first_gfn + old->g.nr_gfns, new->g.first_gfn + new->g.nr_gfns);
	u64 orel_end = hi > lo ? hi - old->g.first_gfn : 0;
	u64 p = hi > lo ? lo - old->g.first_gfn : orel_end;

	/* Every page private first: pages only @new covers keep nothing of before. */
	sd_bitmap_clear_range(new->shadow, 0, new->g.nr_gfns);
	/* Runs of shared pages in the old span, re-based onto the new one. */
	while (p < orel_end) {
		u64 s = sd_bitmap_find(old->shadow, p, orel_end, true);
		u64 e = sd_bitmap_find(old->shadow, s, orel_end, false);

		if (s < e)
			sd_bitmap_set_range(new->shadow, s + old->g.first_gfn - new->g.first_gfn,
					    e - s);
		p = e;
	}
	for (u64 idx = 0; idx < new->g.nr_chunks; idx++)
		new->chunks[idx].nr_shared = (u32)sd_bitmap_weight(shadow_of(new, idx), 0,
								   new->g.pages_per_chunk);
	mark_self_shared(new);
	for (u64 idx = 0; idx < new->g.nr_chunks; idx++)
		publish_chunk(new, idx);
}
