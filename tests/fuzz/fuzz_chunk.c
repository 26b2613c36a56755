// SPDX-License-Identifier: GPL-2.0 OR MIT
/* fuzz_chunk.c - the chunk reader (SPEC.md 3.1-3.4, 4.2, 4.3) and its work bound. */
#include "fuzz_host.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz_params p;
	struct fz_mem m;
	struct sd_host_mem mem;
	struct sd_host_cfg cfg;
	struct sd_host_reg reg = { 0 };
	u64 scratch[SD_HOST_SCRATCH_WORDS];

	if (!fz_setup(data, size, &p, &m, &mem, &cfg))
		return 0;
	/* Register as a paused host would, so odd table chunks don't stop us here. */
	p.flags |= 1;
	if (fz_register(&p, &cfg, &mem, &reg, NULL) == 0 && reg.active) {
		u32 flags = fz_read_flags(&p) & ~SD_READ_PAUSED;
		u64 n = SD_MIN(reg.geom.nr_chunks, (u64)4096);

		for (int pass = 0; pass < 2; pass++, flags |= SD_READ_PAUSED) {
			for (u64 i = 0; i < n; i++) {
				struct sd_host_stats st = { 0 };
				struct sd_host_chunk ch;
				struct sd_errloc loc;
				u32 a = (flags & SD_READ_PAUSED) ? 1 : cfg.max_attempts;
				SD_HOST_OPTS(sd_host_read_opts, o, .flags = flags,
					     .max_attempts = cfg.max_attempts, .stats = &st,
					     .loc = &loc);
				int rc = sd_host_read_chunk(&reg, &mem, i, scratch, &ch, &o);

				if (st.attempts > a || st.bytes > fz_chunk_bytes_bound(&reg, a))
					__builtin_trap();
				if (rc == 0 && (ch.v.pages == 0 || ch.v.nr_shared > ch.v.pages ||
						ch.v.pending_count > ch.v.pages))
					__builtin_trap();
				if (rc && loc.chunk != SD_LOC_NONE && loc.chunk != i)
					__builtin_trap();
				if (!fz_err_possible(&m, rc))
					__builtin_trap();
			}
		}
		struct sd_host_chunk ch;

		if (sd_host_read_chunk(&reg, &mem, reg.geom.nr_chunks, scratch, &ch, NULL) !=
		    -SD_ERR_INVAL)
			__builtin_trap();	/* an index past the table */
	}
	free(m.img);
	return 0;
}
