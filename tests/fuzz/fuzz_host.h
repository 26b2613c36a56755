/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fuzz_host.h - what the host/ fuzz targets share: the input layout and a
 * guest-memory accessor over it.
 *
 * Input: a 32-byte parameter block, then a table image. The image sits at
 * guest-physical address params.gpa; everything else is unbacked, except an
 * optional MMIO window and a memory-slot boundary, both from the params, so
 * the accessor's failures are reachable. The accessor is map() or, params
 * flag bit 3, copy(), which then faults on the access flags bits 16-23 say
 * (0: none), so that a fault anywhere in a call is reachable too. Every
 * target checks the
 * host's bounds itself (work per chunk, runs inside the span, nothing
 * changed by a failed registration) and traps when one is broken, so the
 * fuzzer reports a broken bound as a crash.
 */
#ifndef SD_FUZZ_HOST_H
#define SD_FUZZ_HOST_H

#include <stdlib.h>
#include <string.h>
#include "sd_host.h"
#include "sd_types.h"
#include "layout.h"
#include "validate.h"

struct fz_params {
	u64 gpa;		/* page-aligned after masking */
	u32 ram_lo, ram_hi;	/* guest RAM, in pages */
	u32 flags;		/* bit 0 paused, 1 strict, 2 hypercall args, 3 copy(), 8-15 mmio,
				 * 16-23 the copy() that faults */
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
	u64 copies, fault_at;	/* copy() calls so far; the one that faults (0: none) */
	struct sd_host_flat flat;	/* the image: what is backed */
	struct sd_host_mem flat_mem;
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
	/* The rest is the library's own flat accessor over the image. */
	return m->flat_mem.map(m->flat_mem.ctx, gpa, len, err);
}

/* The same memory through copy(); call m->fault_at fails as a kernel's copy would. */
static int fz_copy(void *ctx, void *dst, sd_gpa_t gpa, u64 len)
{
	struct fz_mem *m = ctx;
	const void *src;
	int err = 0;

	if (++m->copies == m->fault_at)
		return -14;		/* -EFAULT: host/ names it SD_ERR_MEM_FAULT */
	src = fz_map(ctx, gpa, len, &err);
	if (!src)
		return err;
	if (dst)
		memcpy(dst, src, len);
	return 0;
}

/* Whether error @rc may come from this input: a fault only where one was injected. */
static inline bool fz_err_possible(const struct fz_mem *m, int rc)
{
	return rc != -SD_ERR_MEM_FAULT || (m->fault_at && m->copies >= m->fault_at);
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
	m->flat = (struct sd_host_flat){ m->img, m->gpa, m->len };
	m->flat_mem = sd_host_mem_flat(&m->flat);
	/* An MMIO window and a slot boundary somewhere near the image, when asked for. */
	m->mmio_lo = m->mmio_hi = m->slot_split = 0;
	if ((p->flags >> 8) & 1) {
		m->mmio_lo = p->gpa + (((p->flags >> 9) & 7) << 12);
		m->mmio_hi = m->mmio_lo + 4096;
	}
	if ((p->flags >> 12) & 1)
		m->slot_split = p->gpa + (((p->flags >> 13) & 7) << 12);
	m->copies = 0;
	m->fault_at = (p->flags >> 16) & 0xff;
	if (p->flags & 8)
		*mem = (struct sd_host_mem){ .copy = fz_copy, .ctx = m };
	else
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
	SD_HOST_OPTS(sd_host_register_opts, o, .flags = fz_read_flags(p) & SD_READ_PAUSED,
		     .hc = (p->flags & 4) ? &hc : NULL, .stats = st, .loc = &loc);
	int rc = sd_host_register(reg, cfg, mem, p->gpa | (p->vbits & 0xfff), &o);

	if (!fz_err_possible(mem->ctx, rc))
		__builtin_trap();
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
