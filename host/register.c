// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * register.c - accept a registration (SPEC.md 5.5), drop it, and compare
 * the header in guest memory with the registered copy.
 *
 * Reachable by a hostile guest: the value, the header and the table are
 * guest-chosen, and a guest may register as often as it likes. Each attempt
 * reads one 128-byte header and, for every chunk holding table pages, at
 * most cfg->max_attempts times (24 bytes plus the bitmap words covering
 * table pages): table_size / 32768 bytes of bits per attempt in all. The
 * registration state is O(1) and is replaced only on success.
 */
#include "reader.h"

#define SD_HDR_OFF(f)	((u64)__builtin_offsetof(struct sd_table_header, f))
#define SD_HDR_WORDS	(SD_HDR_SIZE / 8)

/* The header as words, for single-copy-atomic loads without type punning through casts. */
union sd_hdr_words {
	struct sd_table_header h;
	u64 w[SD_HDR_WORDS];
};

_Static_assert(sizeof(union sd_hdr_words) == SD_HDR_SIZE, "header is whole words");

/* Copy the 128-byte header out of guest memory, one 64-bit load per word. */
static void sd_reg_copy_header(union sd_hdr_words *dst, const void *src)
{
	const u64 *s = src;

	for (u32 i = 0; i < SD_HDR_WORDS; i++)
		dst->w[i] = SD_READ_ONCE(s[i]);
}

/*
 * Step 6 for chunk @idx (SPEC.md 5.5): under the read rule, load the count
 * (and, for a paused read of an odd chunk, the pending range) and the
 * bitmap words covering the table's pages in this chunk, noting the first
 * clear table bit as the words go by. Like any copy, the note is acted on
 * only after the second count load confirms it. Checks 4.3.1 and 4.3.2
 * (odd, paused) and 4.2.3; the other chunk checks belong to full reads.
 */
static int sd_reg_check_chunk(struct sd_host_rd *rd, u64 idx)
{
	const struct sd_geom *g = rd->g;
	const struct sd_chunk_desc *d = sd_host_rd_desc(rd, idx);
	const u64 *bits = (const u64 *)(rd->base + sd_geom_bits_off(g, idx));
	struct sd_host_stats *st = &rd->acc;
	bool paused = rd->flags & SD_READ_PAUSED;
	u32 pages = sd_geom_chunk_pages(g, idx);
	sd_gfn_t cgfn = sd_geom_chunk_gfn(g, idx);
	sd_gfn_t tlo = rd->gpa >> SD_PAGE_SHIFT;
	sd_gfn_t thi = tlo + sd_geom_table_pages(g);
	/* The caller picked a chunk holding table pages: [lo, hi) is not empty. */
	u32 lo = (u32)(SD_MAX(tlo, cgfn) - cgfn);
	u32 hi = (u32)(SD_MIN(thi, cgfn + pages) - cgfn);
	u64 doff = sd_geom_desc_off(g, idx);
	bool got_even = false;

	st->chunks++;
	for (u32 a = 0; a < rd->attempts; a++) {
		u32 seq, pf = 0, pc = 0, first_clear = hi;

		st->attempts++;
		st->bytes += 4;
		seq = sd_seq_read_begin(d);		/* R1 inside: pairs with W2, W0 */
		if ((seq & 1) && !paused) {
			st->retries++;
			sd_cpu_relax();
			continue;
		}
		got_even = true;
		if (seq & 1) {
			pf = SD_READ_ONCE(d->pending_first);
			pc = SD_READ_ONCE(d->pending_count);
			st->bytes += 8;
		}
		for (u32 w = lo >> 6; w <= (hi - 1) >> 6; w++) {
			u64 x = SD_READ_ONCE(bits[w]);
			u32 wlo = w << 6;
			u64 m = sd_word_mask(lo > wlo ? lo - wlo : 0,
					     hi - wlo >= 64 ? 64 : hi - wlo);

			st->bytes += 8;
			if (first_clear == hi && (~x & m))
				first_clear = wlo + (u32)__builtin_ctzll(~x & m);
		}
		st->bytes += 4;
		if (sd_seq_read_retry(d, seq)) {	/* R2 inside: pairs with W1 */
			st->retries++;
			sd_cpu_relax();
			continue;
		}
		if (seq & 1) {
			/* 4.3.1, then 4.3.2: pc <= pages - pf keeps pf + pc from wrapping. */
			if (pc == 0 || pf >= pages || pc > pages - pf)
				return sd_fail(rd->loc, SD_ERR_CHUNK_PENDING, idx,
					       doff + SD_DESC_OFF(pending_first));
			if (pf < hi && pf + pc > lo)
				return sd_fail(rd->loc, SD_ERR_TABLE_NOT_SHARED, idx,
					       doff + SD_DESC_OFF(pending_first));
		}
		if (first_clear != hi)
			return sd_fail(rd->loc, SD_ERR_TABLE_NOT_SHARED, idx,
				       sd_geom_bits_off(g, idx) + (first_clear >> 6) * 8);
		return 0;
	}
	st->unsettled++;
	return sd_fail(rd->loc, got_even ? SD_ERR_CHUNK_RETRIES : SD_ERR_CHUNK_ODD, idx,
		       doff + SD_DESC_OFF(seq));
}

int sd_host_register_flags(struct sd_host_reg *reg, const struct sd_host_cfg *cfg,
			   const struct sd_host_mem *mem, u64 value,
			   const struct sd_hc_args *hc, u32 flags,
			   struct sd_host_stats *st, struct sd_errloc *loc)
{
	struct sd_host_stats dummy = { 0 };
	struct sd_host_reg nr;
	union sd_hdr_words hw;
	struct sd_host_rd rd;
	struct sd_geom geom;
	const void *hp;
	sd_gpa_t gpa = 0;
	int rc, err = -SD_ERR_MEM_UNBACKED;

	if (!reg || !cfg || !mem || !mem->map)
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	if (!st)
		st = &dummy;

	/* 1. The value (and the hypercall's reserved argument). */
	if (hc && hc->reserved)
		return sd_fail(loc, SD_ERR_REG_RESERVED, SD_LOC_NONE, SD_LOC_NONE);
	rc = sd_validate_reg_value(value, cfg->phys_bits, &gpa);
	if (rc < 0)
		return sd_fail(loc, -rc, SD_LOC_NONE, SD_LOC_NONE);
	if (rc == 0) {
		sd_host_unregister(reg);
		return 0;
	}
	if (!(flags & SD_READ_PAUSED) && cfg->max_attempts == 0)
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);

	/* 2. Copy the header once; only the copy is looked at from here on. */
	hp = mem->map(mem->ctx, gpa, SD_HDR_SIZE, &err);
	if (!hp)
		return sd_host_mem_fail(loc, err, 0);
	sd_reg_copy_header(&hw, hp);
	st->bytes += SD_HDR_SIZE;

	/* 3. Validate the copy (4.1). */
	rc = sd_validate_header(&hw.h, gpa, &cfg->lim, &geom, loc);
	if (rc)
		return rc;

	/* 4. Hypercall cross-checks. */
	if (hc && hc->size && hc->size != hw.h.table_size)
		return sd_fail(loc, SD_ERR_REG_SIZE, SD_LOC_NONE, SD_HDR_OFF(table_size));
	if (hc && hc->abi_major && hc->abi_major != hw.h.abi_major)
		return sd_fail(loc, SD_ERR_REG_ABI, SD_LOC_NONE, SD_HDR_OFF(abi_major));

	/* 5. The whole table is guest RAM the accessor can reach. */
	nr.active = true;
	nr.value = value;
	nr.gpa = gpa;
	nr.geom = geom;
	nr.hdr = hw.h;
	nr.generation = reg->generation + 1;
	rc = sd_host_rd_setup(&rd, &nr, mem, flags, cfg->max_attempts, NULL, false, st, loc);
	if (rc)
		return rc;

	/* 6. Self-description of every chunk holding table pages (4.2.3). */
	for (u64 idx = rd.tchunk_lo; idx <= rd.tchunk_hi && !rc; idx++)
		rc = sd_reg_check_chunk(&rd, idx);
	sd_host_rd_done(&rd);
	if (rc)
		return rc;

	/* 7. Replace the registration. */
	*reg = nr;
	return 0;
}

int sd_host_register(struct sd_host_reg *reg, const struct sd_host_cfg *cfg,
		     const struct sd_host_mem *mem, u64 value,
		     const struct sd_hc_args *hc, struct sd_host_stats *st,
		     struct sd_errloc *loc)
{
	return sd_host_register_flags(reg, cfg, mem, value, hc, 0, st, loc);
}

void sd_host_unregister(struct sd_host_reg *reg)
{
	reg->active = false;
	reg->value = 0;
	reg->gpa = 0;
	reg->generation++;
}

/* Start of the header field holding byte @b (SPEC.md 1.2). */
static u64 sd_reg_field_start(u32 b)
{
	static const u8 starts[] = {
		0x00, 0x08, 0x0a, 0x0c, 0x10, 0x18, 0x20, 0x28, 0x30, 0x34,
		0x38, 0x40, 0x48, 0x50, 0x58, 0x60, 0x68, 0x70, 0x78,
	};
	u64 f = 0;

	for (u32 i = 0; i < SD_ARRAY_SIZE(starts); i++)
		if (starts[i] <= b)
			f = starts[i];
	return f;
}

int sd_host_check_header(const struct sd_host_reg *reg, const struct sd_host_mem *mem,
			 struct sd_errloc *loc)
{
	union sd_hdr_words now;
	const u8 *a, *b;
	const void *hp;
	int err = -SD_ERR_MEM_UNBACKED;

	if (!reg || !mem || !mem->map)
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	if (!reg->active)
		return sd_fail(loc, SD_ERR_NO_TABLE, SD_LOC_NONE, SD_LOC_NONE);
	hp = mem->map(mem->ctx, reg->gpa, SD_HDR_SIZE, &err);
	if (!hp)
		return sd_host_mem_fail(loc, err, 0);
	sd_reg_copy_header(&now, hp);

	/* Compared, never used: the registration keeps its own copy. */
	a = (const u8 *)&now.h;
	b = (const u8 *)&reg->hdr;
	for (u32 i = 0; i < SD_HDR_SIZE; i++)
		if (a[i] != b[i])
			return sd_fail(loc, SD_ERR_HDR_CHANGED, SD_LOC_NONE,
				       sd_reg_field_start(i));
	return 0;
}
