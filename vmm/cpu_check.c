// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cpu_check.c - before main(): the CPU features this build was compiled
 * for. Linked into every userspace program (the Makefile forces it in with
 * -Wl,--undefined=sd_cpu_check), compiled without them itself.
 *
 * The userspace build uses POPCNT by default (CPU_FLAGS=-mpopcnt: the
 * table's counts are popcounts), so on a CPU without it a program would
 * die of SIGILL somewhere in its first bitmap. This names the feature
 * instead. SSE4.2 is not required: the stream's CRC32C checks for it at
 * run time and falls back to a table (vmm/migrate/stream.c).
 */
#include <stdio.h>
#include <stdlib.h>

void sd_cpu_check(void);

__attribute__((constructor)) void sd_cpu_check(void)
{
#ifdef SD_BUILT_WITH_POPCNT
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("popcnt")) {
		fputs("sev-donate: this CPU lacks POPCNT, which this build uses (compiled with "
		      "CPU_FLAGS=-mpopcnt). Run it on a CPU with POPCNT, or rebuild for any "
		      "x86-64 with `make CPU_FLAGS=`.\n", stderr);
		exit(1);
	}
#endif
}
