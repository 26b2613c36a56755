// SPDX-License-Identifier: GPL-2.0 OR MIT
/* fuzz_register.c - registration and header validation (SPEC.md 4.1, 5.5). */
#include "fuzz_host.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz_params p;
	struct fz_mem m;
	struct sd_host_mem mem;
	struct sd_host_cfg cfg;
	struct sd_host_reg reg = { 0 };
	struct sd_host_stats st = { 0 };
	struct sd_errloc loc;

	if (!fz_setup(data, size, &p, &m, &mem, &cfg))
		return 0;
	if (fz_register(&p, &cfg, &mem, &reg, &st) == 0 && reg.active) {
		/* Registration reads a header and the table's own chunks, nothing more. */
		u64 tchunks = (reg.geom.table_size >> 12) / reg.geom.pages_per_chunk + 2;

		if (st.chunks > tchunks || st.attempts > tchunks * cfg.max_attempts)
			__builtin_trap();
		/*
		 * The header checks run without the fault the input injects; the
		 * re-registration below meets it where it would have come next.
		 */
		u64 fault_left = m.fault_at > m.copies ? m.fault_at - m.copies : 0;

		m.fault_at = 0;
		if (sd_host_check_header(&reg, &mem, &loc) != 0)
			__builtin_trap();	/* nothing changed the header */
		m.img[p.aux % SD_HDR_SIZE] ^= 1;
		if (sd_host_check_header(&reg, &mem, &loc) != -SD_ERR_HDR_CHANGED)
			__builtin_trap();
		/* Registering the same value again, and unregistering, behave. */
		m.img[p.aux % SD_HDR_SIZE] ^= 1;
		if (fault_left)
			m.fault_at = m.copies + fault_left;
		u64 gen = reg.generation;

		if (fz_register(&p, &cfg, &mem, &reg, NULL) == 0 && reg.generation != gen + 1)
			__builtin_trap();
		sd_host_unregister(&reg);
		if (reg.active)
			__builtin_trap();
	}
	free(m.img);
	return 0;
}
