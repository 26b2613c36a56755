/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * demo_vm.h - the demo guest's VM (demo.h), as both VMMs run it: create,
 * start its vCPU threads, wait for it to register, let it check itself,
 * and the oracle that compares received page modes with its ledger.
 *
 * Threads: the vCPU threads run the guest (demo_vm_start); everything else
 * here is called from one VMM thread. The ready rendezvous and the check's
 * counters are the only state the vCPU threads write (under ready_lock, or
 * with atomics, read after the join or, by demo_vm_selfcheck, once each
 * vCPU's verified flag is set with release).
 */
#ifndef SD_DEMO_VM_H
#define SD_DEMO_VM_H

#include <pthread.h>
#include <stdbool.h>
#include "sd_types.h"
#include "demo.h"
#include "stream.h"

struct sd_vm;
struct sd_vm_region;
struct sd_vmm_reg;

/* How the guest behaves (boot arguments) and what its host offers. */
struct demo_cfg {
	u64 seed;
	u32 ppc;		/* table pages per chunk */
	u32 max_range;		/* largest conversion, pages */
	bool beyond;		/* hostile: a table spanning 2x RAM */
	u32 resizes;		/* moves of the table, one early in each pre-copy pass (5.6) */
	bool reregister;	/* re-register after every operation of vCPU 0 */
	bool no_transport;	/* the VMM advertises no registration transport */
	bool window_at_pause;	/* the final pause lands inside a window in a table chunk */
	bool no_window;		/* faulty: the guest never opens that window (window_at_pause too) */
	bool bad_count;		/* hostile: a count larger than its chunk, asked for in pass 1 */
	u32 design;		/* DEMO_DESIGN_*: a table, or an exit per change (exitlist.h) */
	u32 change_rate;	/* page-state changes per second the guest paces itself to (0: max) */
	u64 xl_fail_exit;	/* test fault, design EXIT: this exit's list insert runs out of memory */
};

/* The deadline for the guest to boot and register (it writes every page of its lanes first). */
#define DEMO_BOOT_MS	180000	/* a 4 GiB guest on a loaded 2-core host: about 40 s */
/* The deadline for the guest's check of every page after --after: generous, never unbounded. */
#define DEMO_CHECK_MS	180000

/* The guest's check of every page it owns, and its work so far. */
struct demo_check {
	bool verified;		/* every vCPU reported its check */
	u64 pages, bad_content, bad_state;
	u64 conversions, rewrites, resizes, registrations;
	u64 changed_pages;	/* pages whose state the conversions changed */
};

struct demo_vm {
	struct sd_vm *vm;
	struct sd_vm_region *ram;
	struct sd_vmm_reg *reg;
	struct demo_state *demo;	/* the guest's ledger, through our mapping */
	struct demo_xl *xl;		/* design EXIT: the region list the exits keep */
	u32 design;
	u64 ram_pages;
	u32 nr_vcpus;
	u32 resizes;			/* table moves the guest makes when asked */
	bool window_at_pause;		/* cfg.window_at_pause */
	bool bad_count;			/* cfg.bad_count */
	bool rendezvous;		/* vCPUs wait at READY until demo_vm_wait_ready() */
	bool running;			/* vCPU threads started and not joined */
	/* The rendezvous: vCPUs wait at READY until the VMM says go. */
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	u32 nr_ready;
	bool go;
	s64 reg_rc;			/* vCPU 0's registration at READY */
	bool verified[DEMO_VCPUS];
	u64 bad_content, bad_state, pages_checked;
};

/*
 * Build the VM: @ram_bytes of RAM in one slot, the guest image, the
 * registration endpoint, @nr_vcpus vCPUs. 0, -SD_MIG_ERR_RANGE for a
 * RAM size or vCPU count the demo guest cannot have, or -SD_MIG_ERR_NOMEM.
 */
int demo_vm_create(struct demo_vm *d, u64 ram_bytes, u32 nr_vcpus, const struct demo_cfg *cfg,
		   struct sd_mig_status *st);
void demo_vm_destroy(struct demo_vm *d);

/* Start one thread per vCPU; with @rendezvous they stop at READY. */
void demo_vm_start(struct demo_vm *d, bool rendezvous);
/*
 * Wait, at most @ms, until every vCPU reached READY, then let them go:
 * 0, or -SD_MIG_ERR_TIMEOUT (the vCPUs that arrived go anyway).
 */
int demo_vm_wait_ready(struct demo_vm *d, u32 ms, struct sd_mig_status *st);
/*
 * Let the guest churn @after_ms more, then have it check every page it
 * owns and stop; join the vCPU threads within @deadline_ms. 0, or
 * -SD_MIG_ERR_TIMEOUT if a vCPU did not finish (its thread is left).
 */
int demo_vm_check(struct demo_vm *d, u32 after_ms, u32 deadline_ms, struct demo_check *out,
		  struct sd_mig_status *st);
/*
 * The same check while the guest goes on running (demo.h check_request):
 * every vCPU checks its lane once and reports it; wait at most
 * @deadline_ms for all of them. 0, or -SD_MIG_ERR_TIMEOUT.
 */
int demo_vm_selfcheck(struct demo_vm *d, u32 deadline_ms, struct demo_check *out,
		      struct sd_mig_status *st);
/*
 * A pre-copy pass starts: a resizing guest is asked to move its table in
 * passes 1..resizes, a hostile one (cfg.bad_count) to break its table's
 * count in pass 1.
 */
void demo_vm_pass_started(struct demo_vm *d, u32 pass);
/*
 * Wait, at most @ms, until the guest has made the move demo_vm_pass_started()
 * asked for (at once when none is pending): the time waited, in ms.
 */
double demo_vm_wait_moved(struct demo_vm *d, u32 ms);
/*
 * Wait, at most @ms, until a guest asked to break its count has done it
 * (at once when it was not asked): the time waited, in ms.
 */
double demo_vm_wait_broken(struct demo_vm *d, u32 ms);
/*
 * SPEC.md 7.4's hard case (cfg.window_at_pause): before the final pause, ask
 * vCPU 0 to open a window in the table's chunk and wait, at most @ms, until
 * it has (0, or -SD_MIG_ERR_SOURCE: the guest's failure, not a peer's
 * deadline, STREAM.md 6); once the guest runs on the
 * destination, let it commit the window.
 */
int demo_vm_hold_window(struct demo_vm *d, u32 ms, struct sd_mig_status *st);
void demo_vm_release_window(struct demo_vm *d);
/* The guest's work counters now (the vCPUs may run). */
void demo_vm_work(const struct demo_vm *d, struct demo_check *out);

/* The oracle: each page's last received mode (SD_REC_*, 0 = never) against the ledger. */
struct demo_oracle {
	u64 mismatches;		/* pages received in a mode the ledger contradicts */
	u64 in_flight;		/* pages inside a conversion at the pause: either mode */
	u64 never_received;
	u64 first_mismatch_gfn;	/* valid when mismatches */
};
void demo_vm_oracle(const struct demo_vm *d, const u8 *mode, struct demo_oracle *out);

#endif /* SD_DEMO_VM_H */
