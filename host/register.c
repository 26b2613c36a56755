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

#define SD_HDR_WORDS	(SD_HDR_SIZE / 8)

/* The header as words, for single-copy-atomic loads without type punning through casts. */
union sd_hdr_words {
	struct sd_table_header h;
	u64 w[SD_HDR_WORDS];
};

_Static_assert(sizeof(union sd_hdr_words) == SD_HDR_SIZE, "header is whole words");

/* Copy the 128-byte header at @gpa out of guest memory, once. */
static int sd_reg_copy_header(const struct sd_host_mem *mem, sd_gpa_t gpa,
			      union sd_hdr_words *dst, struct sd_errloc *loc)
{
	struct sd_host_win w;
	int rc;

	rc = sd_host_win_open(&w, mem, gpa, SD_HDR_SIZE, false, loc);
	if (rc)
		return rc;
	if (w.base)
		return sd_host_fetch(&w, true, dst->w, sd_host_at(&w, true, 0), SD_HDR_SIZE, loc);
	return sd_host_fetch(&w, false, dst->w, sd_host_at(&w, false, 0), SD_HDR_SIZE, loc);
}

/*
 * Step 6 for chunk @idx (SPEC.md 5.5): under the read rule, copy the count
 * (and, for a paused read of an odd chunk, the pending range) and the bits
 * of the table's pages in this chunk; proto/validate.c judges the copy.
 */
static int sd_reg_check_chunk(struct sd_host_rd *rd, u64 idx)
{
	struct sd_chunk_desc d;
	struct sd_rd_copy c = { 0 };
	u32 lo = 0, hi = 0;
	int rc;

	/* The caller picked a chunk holding table pages: [lo, hi) is not empty. */
	sd_chunk_table_pages(rd->g, idx, rd->gpa, &lo, &hi);
	if (rd->win.base)
		rc = sd_rd_rule(rd, idx, SD_RD_TABLE, true, lo, hi, &c);
	else
		rc = sd_rd_rule(rd, idx, SD_RD_TABLE, false, lo, hi, &c);
	if (rc)
		return rc;
	d = sd_rd_copy_desc(&c);
	return sd_validate_table_chunk(rd->g, idx, &d, c.first_clear, rd->gpa,
				       rd->flags & SD_READ_PAUSED, rd->loc);
}

/* Steps 3-6 for the value's @gpa: on success *@nr is the new registration. */
static int sd_reg_read_table(struct sd_host_reg *nr, const struct sd_host_cfg *cfg,
			     const struct sd_host_mem *mem, const struct sd_hc_args *hc,
			     const union sd_hdr_words *hw, const struct sd_rd_args *a)
{
	struct sd_host_rd rd;
	int rc;

	/* 3. Validate the copy (4.1). */
	rc = sd_validate_header(&hw->h, nr->gpa, &cfg->lim, &nr->geom, a->loc);
	if (rc)
		return rc;

	/* 4. Hypercall cross-checks. */
	if (hc && hc->size && hc->size != hw->h.table_size)
		return sd_fail(a->loc, SD_ERR_REG_SIZE, SD_LOC_NONE, SD_HDR_OFF(table_size));
	if (hc && hc->abi_major && hc->abi_major != hw->h.abi_major)
		return sd_fail(a->loc, SD_ERR_REG_ABI, SD_LOC_NONE, SD_HDR_OFF(abi_major));

	/* 5. The whole table is guest RAM the accessor can reach. */
	nr->active = true;
	nr->hdr = hw->h;
	rc = sd_host_rd_setup(&rd, nr, mem, a, NULL, false, true);
	if (rc)
		return rc;

	/* 6. Self-description of every chunk holding table pages (4.2.3). */
	for (u64 idx = rd.tchunk_lo; idx <= rd.tchunk_hi && !rc; idx++)
		rc = sd_reg_check_chunk(&rd, idx);
	sd_host_rd_done(&rd);
	return rc;
}

int sd_host_register(struct sd_host_reg *reg, const struct sd_host_cfg *cfg,
		     const struct sd_host_mem *mem, u64 value,
		     const struct sd_host_register_opts *opts)
{
	struct sd_host_stats dummy = { 0 };
	const struct sd_hc_args *hc;
	struct sd_rd_args a = { 0 };
	struct sd_host_reg nr;
	union sd_hdr_words hw;
	sd_gpa_t gpa = 0;
	int rc;

	if (!sd_opts_ok(opts, sizeof(*opts)))
		return -SD_ERR_INVAL;
	a.flags = SD_OPT(opts, flags, 0);
	a.st = SD_OPT(opts, stats, NULL);
	a.loc = SD_OPT(opts, loc, NULL);
	hc = SD_OPT(opts, hc, NULL);
	if (!reg || !cfg || !mem || (!mem->map && !mem->copy) ||
	    (a.flags & ~SD_READ_PAUSED) || SD_OPT(opts, reserved, 0))
		return sd_fail(a.loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	if (!a.st)
		a.st = &dummy;
	a.attempts = sd_attempts_or_default(cfg->max_attempts);

	/* 1. The value (and the hypercall's reserved argument). */
	if (hc && hc->reserved)
		return sd_fail(a.loc, SD_ERR_REG_RESERVED, SD_LOC_NONE, SD_LOC_NONE);
	rc = sd_validate_reg_value(value, cfg->phys_bits, &gpa, a.loc);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		sd_host_unregister(reg);
		return 0;
	}

	/* 2. Copy the header once; only the copy is looked at from here on. */
	rc = sd_reg_copy_header(mem, gpa, &hw, a.loc);
	if (rc)
		return rc;
	a.st->bytes += SD_HDR_SIZE;

	/* 3-6, into a new registration. */
	nr = (struct sd_host_reg){
		.value = value, .gpa = gpa, .generation = reg->generation + 1,
	};
	rc = sd_reg_read_table(&nr, cfg, mem, hc, &hw, &a);
	if (rc)
		return rc;

	/* 7. Replace the registration. */
	*reg = nr;
	return 0;
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
		SD_HDR_OFF(magic), SD_HDR_OFF(abi_major), SD_HDR_OFF(abi_minor),
		SD_HDR_OFF(header_size), SD_HDR_OFF(compat_features),
		SD_HDR_OFF(incompat_features), SD_HDR_OFF(first_gfn), SD_HDR_OFF(nr_gfns),
		SD_HDR_OFF(page_shift), SD_HDR_OFF(pages_per_chunk), SD_HDR_OFF(nr_chunks),
		SD_HDR_OFF(desc_offset), SD_HDR_OFF(bitmap_offset), SD_HDR_OFF(table_size),
		SD_HDR_OFF(reserved[0]), SD_HDR_OFF(reserved[1]), SD_HDR_OFF(reserved[2]),
		SD_HDR_OFF(reserved[3]), SD_HDR_OFF(reserved[4]),
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
	int rc;

	if (!reg || !mem || (!mem->map && !mem->copy))
		return sd_fail(loc, SD_ERR_INVAL, SD_LOC_NONE, SD_LOC_NONE);
	if (!reg->active)
		return sd_fail(loc, SD_ERR_NO_TABLE, SD_LOC_NONE, SD_LOC_NONE);
	rc = sd_reg_copy_header(mem, reg->gpa, &now, loc);
	if (rc)
		return rc;

	/* Compared, never used: the registration keeps its own copy. */
	a = (const u8 *)&now.h;
	b = (const u8 *)&reg->hdr;
	for (u32 i = 0; i < SD_HDR_SIZE; i++)
		if (a[i] != b[i])
			return sd_fail(loc, SD_ERR_HDR_CHANGED, SD_LOC_NONE,
				       sd_reg_field_start(i));
	return 0;
}
