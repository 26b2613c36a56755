/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * demo.h - the migration demo guest's machine and the state it shares with
 * the VMMs (both sides include this; the guest part builds freestanding).
 *
 * The guest runs on two vCPUs at CPL 3. Each vCPU owns a lane of pages and
 * loops until told to stop: it rewrites pages (dirtying them), and it
 * converts ranges between private and shared through guest/ (begin/commit
 * around the conversion, or the one-call set). Every page's content is a
 * pattern of (GFN, version): a conversion or a rewrite bumps the page's
 * version and writes the new pattern, so after a migration the guest can
 * check every byte of every page it owns.
 *
 * The ledger protocol for a conversion, on vCPU i:
 *   inflight[i] = range (valid written last); begin; new versions and
 *   contents, ledger states; commit; inflight[i].valid = 0.
 * At any instant, a page whose ledger state differs from the table is
 * inside some inflight range; a paused read's in-transition pages too.
 */
#ifndef SD_DEMO_H
#define SD_DEMO_H

#include "sd_types.h"
#include "sev_donate.h"

#define DEMO_VCPUS		2
#define DEMO_MIN_RAM		(64ULL << 20)		/* lanes start at DEMO_WORK_GPA */
#define DEMO_MAX_RAM		(4ULL << 30)		/* 1048576 pages: the identity map's 4 GiB */
#define DEMO_RAM_STEP		(4ULL << 20)
#define DEMO_MAX_PAGES		(DEMO_MAX_RAM >> SD_PAGE_SHIFT)
#define DEMO_STATE_GPA		(4ULL << 20)		/* struct demo_state, private */
#define DEMO_TABLE_GPA		(8ULL << 20)		/* the table, shared */
#define DEMO_TABLE_B_GPA	(12ULL << 20)		/* where a resizing guest moves it */
#define DEMO_TABLE_MAX		(1ULL << 20)
#define DEMO_PRIV_GPA(t)	((t) + DEMO_TABLE_MAX)	/* each table's private state, after it */
#define DEMO_PRIV_BYTES		(2ULL << 20)
#define DEMO_WORK_GPA		(16ULL << 20)		/* lanes start here */

/* Boot arguments (bootinfo args[]). */
enum {
	DEMO_ARG_RAM_PAGES,	/* guest RAM, pages */
	DEMO_ARG_PPC,		/* pages per chunk */
	DEMO_ARG_MAX_RANGE,	/* largest conversion, pages */
	DEMO_ARG_BEYOND,	/* hostile: the table spans 2x RAM; vCPU 0 converts pages past RAM */
	DEMO_ARG_RESIZE,	/* vCPU 0 moves its table (SPEC.md 5.6) when the VMM asks */
	DEMO_ARG_REREGISTER,	/* vCPU 0 re-registers its table after every operation */
	DEMO_ARG_DESIGN,	/* DEMO_DESIGN_*: how the guest tells the host of a change */
	DEMO_ARG_RATE,		/* page-state changes per second, both vCPUs (0: as fast as it can) */
	DEMO_ARG_TSC_KHZ,	/* the TSC's rate, for the pacing */
	DEMO_ARG_NO_WINDOW,	/* faulty: vCPU 0 never opens the window the VMM asks it to hold */
};

/*
 * The two designs the demo compares. TABLE: this protocol, the guest keeps
 * its table. EXIT: the merged design, the guest keeps no table and reports
 * every page whose state changed by an exit to the VMM (one per 4 KiB page,
 * as Linux issues KVM_HC_MAP_GPA_RANGE per page-table entry), after the
 * conversion; the exit is a ucall (an I/O-port exit): on kvm_pvm a VMCALL
 * never reaches the VMM, and an I/O exit costs the same round trip to
 * userspace as KVM_EXIT_HYPERCALL. The VMM keeps AMD's region list
 * (bench/baseline/rlist.c) and migrates from it (exitlist.h).
 */
enum { DEMO_DESIGN_TABLE, DEMO_DESIGN_EXIT };
/* Attributes of a DEMO_ST_MAP_GPA exit: KVM_HC_MAP_GPA_RANGE's (bit 4 = now encrypted). */
#define DEMO_MAP_GPA_ENCRYPTED	(1u << 4)


/* The pages past RAM a hostile demo guest converts (DEMO_ARG_BEYOND). */
#define DEMO_BEYOND_OFF		1000
#define DEMO_BEYOND_PAGES	64

/* Stages (GUEST_SYNC args[0]). */
enum {
	DEMO_ST_READY = 1,	/* vCPU 0: table registered (args[1] = result); others: started */
	DEMO_ST_VERIFIED,	/* args[1] = bad content pages, args[2] = bad state pages, args[3] = pages */
	DEMO_ST_MAP_GPA,	/* design EXIT: args[1] = GPA, args[2] = pages, args[3] = attributes */
};

struct demo_inflight {
	u64 gfn, npages, shared;
	u64 valid;		/* written last, cleared first */
};

/*
 * In guest memory at DEMO_STATE_GPA: the VMMs read it. A version is 16
 * bits (3 MiB for 4 GiB of RAM); one that wraps still names the pattern
 * the page was last written with.
 */
struct demo_state {
	u8 state[DEMO_MAX_PAGES];	/* ledger: 1 = shared */
	u16 version[DEMO_MAX_PAGES];	/* content version of each page */
	struct demo_inflight inflight[DEMO_VCPUS];
	u64 conversions[DEMO_VCPUS];
	u64 rewrites[DEMO_VCPUS];
	u64 changed_pages[DEMO_VCPUS];	/* pages whose state the conversions changed */
	u64 stop;			/* set by the VMM: verify and finish */
	u64 ram_pages;
	u64 resizes;			/* tables moved (SPEC.md 5.6) */
	u64 resize_request;		/* set by the VMM: move the table until resizes equals it */
	u64 registrations;		/* successful registrations, the first included */
	/*
	 * SPEC.md 7.4's hard case, on request: vCPU 0 opens an update window in
	 * a chunk that holds table pages and keeps it open while window_hold is
	 * set (the source sets it before its final pause, the destination
	 * clears it once the guest runs there); in_window says it is open.
	 */
	u64 window_hold;
	u64 in_window;
	/*
	 * A check while the guest keeps running (a guest that migrates again
	 * and again checks itself at every hop): the VMM bumps check_request;
	 * each vCPU, between operations, checks its lane once for each new
	 * value and reports it (DEMO_ST_VERIFIED), then goes on churning.
	 */
	u64 check_request;
	/*
	 * A hostile guest, on request (--inject guest-bad-count): once the VMM
	 * sets bad_count_request, vCPU 0 publishes, as a complete update, a
	 * count larger than its chunk for the chunk that holds the table's
	 * first page, sets bad_count_done and converts nothing more.
	 */
	u64 bad_count_request;
	u64 bad_count_done;
};

_Static_assert(sizeof(struct demo_state) <= DEMO_TABLE_GPA - DEMO_STATE_GPA, "demo state");
_Static_assert(DEMO_PRIV_GPA(DEMO_TABLE_GPA) + DEMO_PRIV_BYTES <= DEMO_TABLE_B_GPA, "table A");
_Static_assert(DEMO_PRIV_GPA(DEMO_TABLE_B_GPA) + DEMO_PRIV_BYTES <= DEMO_WORK_GPA, "table B");

/* The window a guest asked to hold one open opens: in the table's chunk, right past the table. */
#define DEMO_WINDOW_PAGES	8

/* vCPU @id's lane of a guest of @ram_pages: its first page (the lanes split RAM past DEMO_WORK_GPA). */
static inline u64 demo_lane_first(u64 ram_pages, u32 id)
{
	u64 work = DEMO_WORK_GPA >> SD_PAGE_SHIFT;

	return work + id * ((ram_pages - work) / DEMO_VCPUS);
}

/* The u64 at word @w of page @gfn at @version: what the page must hold. */
static inline u64 demo_pattern(u64 gfn, u16 version, u32 w)
{
	u64 x = (gfn << 20) ^ ((u64)version << 9) ^ w;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 29;
	return x | 1;	/* never all-zero: an unwritten page can't pass */
}

#endif /* SD_DEMO_H */
