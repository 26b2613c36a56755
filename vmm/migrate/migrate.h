/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * migrate.h - live migration of the demo guest driven by its table
 * (SPEC.md 7, docs/STREAM.md): a source VMM (source.c) and a destination
 * VMM (dest.c), over a Unix or TCP socket (transport.c).
 *
 * Library code: every function returns 0 or a negative SD_MIG_ERR_*, with
 * the reason in the report's msg; nothing here exits.
 */
#ifndef SD_MIGRATE_H
#define SD_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include "sd_types.h"
#include "demo_vm.h"
#include "stream.h"

#define SD_MIG_MAX_PASSES	32
/* The source's ABORT write may take this long at most (or --timeout, if shorter): STREAM.md 4.6. */
#define SD_MIG_ABORT_MS		1000

/* Where a side raises SIGKILL on purpose (crash.c): --inject crash=ROLE:POINT. */
enum sd_mig_crash_point {
	SD_CRASH_NONE,
	SD_CRASH_REC,		/* record seq n */
	SD_CRASH_PASS,		/* the PASS record of pre-copy pass n */
	SD_CRASH_FINAL,		/* the final PASS record */
	SD_CRASH_REGISTRATION,	/* the REGISTRATION record */
	SD_CRASH_VCPU,		/* the first VCPU record */
	SD_CRASH_END,		/* the END record */
	SD_CRASH_RESULT,	/* source: RESULT read, COMMIT not sent; dest: RESULT not sent */
	SD_CRASH_COMMIT,	/* source: COMMIT sent; dest: COMMIT read, the guest not started */
	SD_CRASH_COMMIT_UNREAD,	/* dest: COMMIT arrived, not read */
};

struct sd_mig_crash {
	bool dest;		/* which side dies: the destination, or the source */
	u8 point;		/* enum sd_mig_crash_point; 0: none */
	u64 n;			/* rec and pass: which one */
};

/* Faults a test injects on purpose. Zero-initialised: none (the offsets use -1 for "off"). */
struct sd_mig_faults {
	s64 cut;		/* source: close the connection after this many record bytes */
	s64 corrupt;		/* source: flip a byte at this record-stream offset */
	bool table;		/* source: send the table's header page with a bad magic */
	bool wrong_mode;	/* source: send one private page in plaintext */
	s64 dest_die;		/* destination: die after this many records */
	u32 read_delay_ms;	/* source: sleep between taking the registration and reading the
				 * table, as a descheduled VMM thread would (pre-copy) */
	struct sd_mig_crash crash;	/* a side that dies (SIGKILL) at a chosen point */
	bool commit_lost;	/* source: COMMIT "sent" into a connection lost right then */
	u32 stall_ms;		/* source: the last vCPU's thread stays away from the final
				 * pause this long (sd_vcpu_stall) */
	u32 throttle_stall_ms;	/* source: the same for the throttle's next pause, once it runs */
};

/* --inject crash=ROLE:POINT: parse ROLE:POINT into f->crash; false if it is not one. */
bool sd_mig_crash_parse(struct sd_mig_faults *f, const char *s);
/* The crash points, each raising SIGKILL when f->crash names it (crash.c). */
struct sd_mig_rec;
void sd_mig_crash_send(const struct sd_mig_faults *f, const void *rec, size_t len);
void sd_mig_crash_recv(const struct sd_mig_faults *f, const struct sd_mig_rec *rec);
void sd_mig_crash_step(const struct sd_mig_faults *f, bool dest, enum sd_mig_crash_point point);
void sd_mig_crash_commit_unread(const struct sd_mig_faults *f, int fd, u32 timeout_ms);

struct sd_mig_opts {
	const char *listen;	/* destination: unix:PATH or [HOST:]PORT */
	const char *connect;	/* source: unix:PATH or HOST:PORT */
	u64 ram_bytes;		/* the guest's RAM (source), or the most a destination holds */
	struct demo_cfg guest;	/* the demo guest's behaviour (seed, chunk size, ...) */
	u32 max_passes;		/* pre-copy passes at most; then SD_MIG_ERR_CONVERGE */
	u32 max_downtime_ms;	/* the final pass only when the rest fits this (converge.h) */
	u32 warmup_ms;		/* source: churn before migrating */
	u32 after_ms;		/* churn after resuming, before the guest checks itself */
	u32 timeout_ms;		/* deadline for every accept, connect, send and receive */
	u32 accept_timeout_ms;	/* destination: for the source to connect (0: timeout_ms) */
	bool verbose;		/* progress per pass on stderr */
	struct sd_mig_faults faults;
	struct sd_mig_ids ids;	/* this side's identity, the peer's key (docs/STREAM.md 3) */
	/* Destination: called once listening, with the address bound (port 0 resolved). */
	void (*on_listening)(void *cb_ctx, const char *addr);
	void *cb_ctx;
};

void sd_mig_opts_default(struct sd_mig_opts *o);

struct sd_mig_pass {
	u64 plain, encrypted, transition;	/* pages sent by record type */
	u64 dirty;				/* pages the dirty log reported */
	u64 status_changes;			/* pages host/ reported changed state */
	u64 unsettled;				/* pages of chunks that did not settle */
	u64 rereads;				/* full re-reads: the guest re-registered */
	u64 throttle;				/* the vCPU throttle during the pass, % */
	u64 bytes;				/* stream bytes the pass sent */
	double read_ms;				/* its read of the table */
	double ms;
};

struct sd_mig_source_report {
	int err;			/* 0, or a positive SD_MIG_ERR_* */
	char msg[240];
	u32 passes;			/* including the final pass */
	struct sd_mig_pass pass[SD_MIG_MAX_PASSES + 1];
	u64 pages_plain, pages_encrypted, pages_transition;
	u64 resent_for_status;		/* pages resent because their state changed */
	u64 rereads;			/* full re-reads after the guest re-registered */
	u64 stale_reads;		/* reads discarded: the registration changed under them */
	u64 bytes_sent;
	/* Convergence (converge.h): the limit, the throttle reached, what the source expected. */
	u64 max_downtime_ms, throttle_pct, throttle_steps;
	double bandwidth_mib_s;		/* the last measured bandwidth */
	double expected_downtime_ms;	/* the final pass's estimate when it was entered */
	u64 expected_pages;		/* pages dirty then */
	/* The two designs side by side (demo.h DEMO_DESIGN_*): what the guest and the VMM paid. */
	double changes_per_s_idle;	/* page-state changes per second, in the warm-up */
	double changes_per_s;		/* the same from the migration's start to the pause */
	double vmm_cpu_ms;		/* the migration thread's CPU, plus the exit handler's */
	u64 exits;			/* design EXIT: change reports the VMM handled */
	u64 regions, peak_regions;	/* shared regions at the pause (the list's nodes) */
	u64 heap_bytes;			/* the VMM's heap in use at the pause (mallinfo2) */
	u64 peak_rss_bytes;		/* the source process's peak RSS (guest RAM included) */
	bool connected;			/* reached the destination */
	double total_ms;
	double pause_mono_ms;		/* CLOCK_MONOTONIC when the final pause was asked for */
	double handover_ms;		/* pause to COMMIT sent: the source's bound on downtime */
	bool paused, committed, resumed;
	struct demo_check before;	/* the guest's work before the handover */
	struct demo_check check;	/* after a failed migration: its own check, on the source */
};

struct sd_mig_dest_report {
	int err;			/* 0, or a positive SD_MIG_ERR_* */
	char msg[240];
	u64 records, pages_plain, pages_encrypted, pages_transition;
	u64 ram_pages;
	struct demo_oracle oracle;	/* received mode against the guest's ledger, every page */
	double resume_mono_ms;		/* CLOCK_MONOTONIC when the guest resumed here */
	bool resumed;
	struct demo_check check;	/* the guest's own check, on the destination */
};

/*
 * Source: migrate the running demo guest in @d to o->connect. On success
 * the guest is the destination's: @d's vCPUs stay paused (demo_vm_destroy
 * ends them). On failure the guest is resumed here, as it was.
 */
int sd_mig_source_migrate(struct demo_vm *d, const struct sd_mig_opts *o,
			  struct sd_mig_source_report *r);
/*
 * Destination: accept one migration on o->listen into @d (created here);
 * on success the guest runs in @d (its vCPU threads started).
 */
int sd_mig_dest_receive(struct demo_vm *d, const struct sd_mig_opts *o,
			struct sd_mig_dest_report *r);

/* Boot the demo guest, let it churn, migrate it; after a failure the guest checks itself. */
int sd_mig_run_source(const struct sd_mig_opts *o, struct sd_mig_source_report *r);
/* Accept one migration, run the guest, let it check itself. 0 on a migration that committed. */
int sd_mig_run_dest(const struct sd_mig_opts *o, struct sd_mig_dest_report *r);

#endif /* SD_MIGRATE_H */
