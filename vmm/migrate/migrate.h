/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * migrate.h - live migration of the demo guest driven by its table
 * (SPEC.md 7, docs/STREAM.md): a source VMM and a destination VMM, in two
 * processes, over a Unix or TCP socket.
 */
#ifndef SD_MIGRATE_H
#define SD_MIGRATE_H

#include <stdbool.h>
#include "sd_types.h"

#define SD_MIG_MAX_PASSES	32

struct sd_mig_opts {
	const char *listen;	/* destination: unix:PATH or [HOST:]PORT */
	const char *connect;	/* source: unix:PATH or HOST:PORT */
	u64 ram_bytes;		/* the guest's RAM (source), or the most a destination holds */
	u32 ppc;		/* guest table's pages per chunk */
	u32 max_range;		/* largest conversion the guest makes, pages */
	u64 seed;
	u32 max_passes;		/* pre-copy passes before the final one */
	u64 converge_pages;	/* stop pre-copy once a pass has at most this many to send */
	u32 warmup_ms;		/* source: churn before migrating */
	u32 after_ms;		/* destination: churn after resuming, before verifying */
	bool verbose;		/* progress per pass on stderr */
	u32 timeout_ms;		/* deadline for every send and receive */
	/* Fault injection (tests). -1: off. */
	s64 inj_cut;		/* source: close the connection after this many record bytes */
	s64 inj_corrupt;	/* source: flip a byte at this record-stream offset */
	bool inj_table;		/* source: send the table's header page with a bad magic */
	bool inj_wrong_mode;	/* source: send one private page in plaintext */
	s64 inj_dest_die;	/* destination: die after this many records */
	bool inj_beyond;	/* guest: a table spanning 2x RAM, pages past RAM converted */
	bool inj_no_transport;	/* source: the VMM advertises no transport; registration fails */
	/* Destination: called once listening, with the address actually bound (port 0 resolved). */
	void (*on_listening)(void *cb_ctx, const char *addr);
	void *cb_ctx;
};

void sd_mig_opts_default(struct sd_mig_opts *o);

struct sd_mig_pass {
	u64 plain, encrypted, transition;	/* pages sent by record type */
	u64 dirty;				/* pages the dirty log reported */
	u64 status_changes;			/* pages host/ reported changed state */
	u64 unsettled;				/* pages of chunks that did not settle */
	double ms;
};

struct sd_mig_source_report {
	int err;			/* 0, or a positive SD_MIG_ERR_* */
	char msg[240];
	u32 passes;			/* including the final pass */
	struct sd_mig_pass pass[SD_MIG_MAX_PASSES + 1];
	u64 pages_plain, pages_encrypted, pages_transition;
	u64 resent_for_status;		/* pages resent because their state changed */
	u32 rereads;			/* full re-reads after the guest re-registered */
	u64 bytes_sent;
	bool connected;			/* reached the destination */
	double total_ms;
	double pause_mono_ms;		/* CLOCK_MONOTONIC when the vCPUs were paused */
	double handover_ms;		/* pause to COMMIT sent: the source's bound on downtime */
	bool paused, committed, resumed;
	/* The guest's own check, on the source after a failed migration. */
	bool verified;
	u64 bad_content, bad_state, pages_checked;
	u64 conversions, rewrites;	/* the guest's work before the handover */
};

struct sd_mig_dest_report {
	int err;			/* 0, or a positive SD_MIG_ERR_* */
	char msg[240];
	u64 records, pages_plain, pages_encrypted, pages_transition;
	u64 ram_pages, never_received;
	/* The oracle: received mode against the guest's ledger, every page. */
	u64 mismatches, in_flight_pages;
	u64 first_mismatch_gfn;
	double resume_mono_ms;		/* CLOCK_MONOTONIC when the guest resumed here */
	bool resumed, verified;
	u64 bad_content, bad_state, pages_checked;
	u64 conversions, rewrites;	/* the guest's work when it finished here */
};

/* Run a source: boot the demo guest, let it churn, migrate it. 0 on a committed migration. */
int sd_mig_run_source(const struct sd_mig_opts *o, struct sd_mig_source_report *r);
/* Run a destination: accept one migration, run and verify the guest. 0 on success. */
int sd_mig_run_dest(const struct sd_mig_opts *o, struct sd_mig_dest_report *r);

#endif /* SD_MIGRATE_H */
