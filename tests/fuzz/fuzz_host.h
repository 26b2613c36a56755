/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fuzz_host.h - what the host/ fuzz targets share: the input layout and a
 * guest-memory accessor over it.
 *
 * Input: a 32-byte parameter block, then a table image. The image sits at
 * guest-physical address params.gpa; everything else is unbacked, except an
 * optional MMIO window and a memory-slot boundary, both from the params, so
 * the accessor's three failures are reachable. Every target checks the
 * host's bounds itself (work per chunk, runs inside the span, nothing
 * changed by a failed registration) and traps when one is broken, so the
 * fuzzer reports a broken bound as a crash.
 */
#ifndef SD_FUZZ_HOST_H
#define SD_FUZZ_HOST_H

#include <stdlib.h>
#include <string.h>
#include "sd_host.h"

struct fz_params {
	u64 gpa;		/* page-aligned after masking */
	u32 ram_lo, ram_hi;	/* guest RAM, in pages */
	u32 flags;		/* bit 0 paused, bit 1 strict, bit 2 hypercall args, bits 8-15 mmio */
	u32 attempts;		/* 1..8 after masking */
	u32 vbits;		/* low 12 bits of the registration value */
	u32 aux;		/* target-specific: mutation seed, hypercall size */
};
_Static_assert(sizeof(struct fz_params) == 32, "parameter block");

#define FZ_GFN_LIMIT	(1ULL << 28)	/* 1 TiB guests at most: keeps spans walkable */

struct fz_mem {
	u8 *img;
	u64 len;
	sd_gpa_t gpa, mmio_lo, mmio_hi, slot_split;
};

static const void *fz_map(void *ctx, sd_gpa_t gpa, u64 len, int *err)
{
	struct fz_mem *m = ctx;

	if (len && gpa < m->mmio_hi && m->mmio_lo < gpa + len) {
		*err = -SD_ERR_MEM_MMIO;
		return NULL;
	}
	if (len && gpa < m->slot_split && m->slot_split < gpa + len) {
		*err = -SD_ERR_MEM_SPLIT;
		return NULL;
	}
	if (gpa < m->gpa || gpa - m->gpa > m->len || len > m->len - (gpa - m->gpa)) {
		*err = -SD_ERR_MEM_UNBACKED;
		return NULL;
	}
	return m->img + (gpa - m->gpa);
}

/* Decode an input; NULL when it is too short. The image is a private, writable copy. */
static inline u8 *fz_setup(const u8 *data, size_t size, struct fz_params *p, struct fz_mem *m,
			   struct sd_host_mem *mem, struct sd_host_cfg *cfg)
{
	if (size < sizeof(*p))
		return NULL;
	memcpy(p, data, sizeof(*p));
	p->gpa &= (FZ_GFN_LIMIT - 1) << 12;
	m->len = size - sizeof(*p);
	m->img = malloc(m->len ? m->len : 1);
	memcpy(m->img, data + sizeof(*p), m->len);
	m->gpa = p->gpa;
	/* An MMIO window and a slot boundary somewhere near the image, when asked for. */
	m->mmio_lo = m->mmio_hi = m->slot_split = 0;
	if ((p->flags >> 8) & 1) {
		m->mmio_lo = p->gpa + (((p->flags >> 9) & 7) << 12);
		m->mmio_hi = m->mmio_lo + 4096;
	}
	if ((p->flags >> 12) & 1)
		m->slot_split = p->gpa + (((p->flags >> 13) & 7) << 12);
	*mem = (struct sd_host_mem){ .map = fz_map, .ctx = m };
	*cfg = (struct sd_host_cfg){
		.lim = { .ram_first_gfn = SD_MIN(p->ram_lo, p->ram_hi),
			 .ram_end_gfn = SD_MAX(p->ram_lo, p->ram_hi),
			 .gfn_limit = FZ_GFN_LIMIT,
			 .max_table_bytes = m->len },
		.phys_bits = 52,
		.max_attempts = 1 + (p->attempts & 7),
	};
	return m->img;
}

static inline u32 fz_read_flags(const struct fz_params *p)
{
	return ((p->flags & 1) ? SD_READ_PAUSED : 0) | ((p->flags & 2) ? SD_READ_STRICT : 0);
}

/* Register as the params say. The registration is only changed on success. */
static inline int fz_register(const struct fz_params *p, const struct sd_host_cfg *cfg,
			      const struct sd_host_mem *mem, struct sd_host_reg *reg,
			      struct sd_host_stats *st)
{
	struct sd_hc_args hc = { .size = p->aux & 1 ? 0 : p->aux, .abi_major = p->aux >> 31,
				 .reserved = (p->aux >> 30) & 1 };
	struct sd_host_reg before = *reg;
	struct sd_errloc loc;
	int rc = sd_host_register_flags(reg, cfg, mem, p->gpa | (p->vbits & 0xfff),
					(p->flags & 4) ? &hc : NULL, fz_read_flags(p) & SD_READ_PAUSED,
					st, &loc);

	if (rc && memcmp(&before, reg, sizeof(before)))
		__builtin_trap();	/* a failed registration must leave the old one */
	if (rc && loc.err != rc)
		__builtin_trap();	/* the location names the same error */
	if (!rc && reg->active && reg->geom.table_size > cfg->lim.max_table_bytes)
		__builtin_trap();
	return rc;
}

/* Work one chunk read may do (SPEC.md 6.3), for attempts @a. */
static inline u64 fz_chunk_bytes_bound(const struct sd_host_reg *reg, u32 a)
{
	return (u64)a * (24 + reg->geom.pages_per_chunk / 8);
}

#endif /* SD_FUZZ_HOST_H */
