/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hops.h - `sev-donate migrate --demo --hops N`: one guest migrated back
 * and forth N times between two long-lived VMM processes (hops.c).
 */
#ifndef SD_MIG_HOPS_H
#define SD_MIG_HOPS_H

#include <stdbool.h>
#include "migrate.h"

#define SD_MIG_MAX_HOPS	1000

/*
 * Migrate the demo guest A->B->A... @hops times, checking the table, the
 * registration, the ledger and every page at every hop; print one line
 * per hop (or JSON) and the VMMs' heap, descriptors, threads and RSS
 * after the first and the last hop. 0 when every hop passed, else 1.
 */
int sd_mig_run_hops(const struct sd_mig_opts *o, u32 hops, bool json);

#endif /* SD_MIG_HOPS_H */
