/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * converge.h - when pre-copy may stop, and how the source makes it stop
 * (QEMU's downtime-limit and auto-converge are the model).
 *
 * After every pre-copy pass the source peeks at KVM's dirty log (the bits
 * it takes are carried into the next pass, so nothing is lost) and asks
 * sd_mig_conv_decide() what to do: the final pass, when the pages dirty now
 * would go out within nine tenths of the downtime limit at the bandwidth
 * the passes measured, plus the last table read, which the paused read
 * repeats (the last tenth is the handover's);
 * otherwise one more pass, with the guest's vCPUs throttled one step
 * harder; or, once the passes are used up, give up (SD_MIG_ERR_CONVERGE):
 * the guest then goes on on the source, unthrottled.
 *
 * The throttle is a thread of the source VMM that, every period, holds
 * every vCPU paused for pct% of it (sd_vm_pause_timed/resume: a kick out of
 * KVM_RUN) and lets them run for the rest.
 *
 * Every pause has a deadline, SD_MIG_PAUSE_MS, the throttle's as the final
 * one's. A throttle pause that runs into it (a vCPU stuck in KVM_RUN or in
 * an exit's handler) is undone by sd_vm_pause_timed; the throttle then
 * stops for good and records it (pause_failed), and the source fails the
 * migration with SD_MIG_ERR_PAUSE at the end of that pass, before any
 * final pause: a VMM that cannot stop its vCPUs now would not stop them
 * for the handover either, and an unthrottled pre-copy would not converge
 * (the guest goes on on the source, unthrottled).
 *
 * Synchronization: the decision runs on the migration thread only; the
 * throttle thread reads pct and stop and writes pause_failed (atomics), and
 * is the only thread pausing the VM until sd_mig_conv_stop() has joined it.
 */
#ifndef SD_MIG_CONVERGE_H
#define SD_MIG_CONVERGE_H

#include <pthread.h>
#include <stdbool.h>
#include "sd_types.h"

struct sd_vm;

#define SD_MIG_DOWNTIME_DEFAULT_MS	300	/* QEMU's downtime-limit */
#define SD_MIG_THROTTLE_INITIAL		20	/* QEMU's cpu-throttle-initial */
#define SD_MIG_THROTTLE_INCREMENT	10	/* QEMU's cpu-throttle-increment */
#define SD_MIG_THROTTLE_MAX		99	/* QEMU's upper bound */
#define SD_MIG_THROTTLE_PERIOD_MS	10	/* QEMU's throttle timeslice */
/* The share of the limit kept for the handover after the final pass's pages. */
#define SD_MIG_HANDOVER_SHARE		0.1
/* How long any pause of the source's vCPUs may take (sd_vm_pause_timed): then SD_MIG_ERR_PAUSE. */
#define SD_MIG_PAUSE_MS			2000
/* The throttle thread's join: it may be inside a pause, or in one period's sleep. */
#define SD_MIG_THROTTLE_JOIN_MS		(2 * SD_MIG_PAUSE_MS)
/* A pass must send this much for its bandwidth to count (smaller ones fit the socket's buffer). */
#define SD_MIG_BW_MIN_BYTES		(1ULL << 20)

enum sd_mig_conv_next {
	SD_MIG_CONV_CONTINUE,	/* one more pre-copy pass */
	SD_MIG_CONV_FINAL,	/* pause now: the rest fits the limit */
	SD_MIG_CONV_GIVE_UP,	/* passes used up: SD_MIG_ERR_CONVERGE */
};

struct sd_mig_conv {
	struct sd_vm *vm;
	u32 limit_ms;		/* --max-downtime */
	u32 max_passes;		/* pre-copy passes before giving up */
	u32 pct;		/* throttle now (0: none) */
	u32 pct_max;		/* the highest reached */
	u32 steps;		/* times it was raised */
	double bw;		/* bytes per ms, the last pass that measured it (0: none yet) */
	double read_ms;		/* the last table read */
	double est_ms;		/* the last estimate of the final pass */
	u64 est_pages;		/* pages it carries */
	pthread_t thread;
	bool running;
	int stop;		/* atomic: the throttle thread ends */
	int pause_failed;	/* atomic: a throttle pause timed out; the thread ended */
	u32 failed_pct;		/* the throttle then (read after pause_failed, with acquire) */
};

void sd_mig_conv_init(struct sd_mig_conv *c, struct sd_vm *vm, u32 limit_ms, u32 max_passes);
/* A pass sent @bytes in @send_ms and read the table in @read_ms: update the measurements. */
void sd_mig_conv_pass(struct sd_mig_conv *c, u64 bytes, double send_ms, double read_ms);
/*
 * After pre-copy pass @n, with @dirty_pages dirty now: what next. On
 * CONTINUE the throttle may have been raised (and its thread started).
 */
enum sd_mig_conv_next sd_mig_conv_decide(struct sd_mig_conv *c, u32 n, u64 dirty_pages);
/*
 * End the throttle (idempotent): the vCPUs run unthrottled, and the caller
 * may pause them. 0, or -ETIMEDOUT if its thread did not end within
 * SD_MIG_THROTTLE_JOIN_MS (CLOCK_MONOTONIC): reported, but the thread is
 * still joined before this returns, which ends, since every wait of that
 * thread is bounded. Only a starved process sees it.
 */
int sd_mig_conv_stop(struct sd_mig_conv *c);
/* Whether a throttle pause timed out (then the throttle has stopped). */
bool sd_mig_conv_pause_failed(const struct sd_mig_conv *c);

#endif /* SD_MIG_CONVERGE_H */
