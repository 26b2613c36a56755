// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_live_read.c - the protocol in a real VM: a guest on two vCPUs keeps
 * its table with guest/ while the VMM reads it through host/, checked
 * against a ledger the guest keeps of every change.
 *
 * The guest registers its table (a real WRMSR exit handled by host/) and
 * runs at CPL 3. Each vCPU changes page states at random, in ranges of
 * random size inside "lanes" it owns (lanes are not chunk-aligned, so
 * ranges cross chunk boundaries and both vCPUs write the same chunks),
 * with sd_guest_set() or sd_guest_begin()/commit() around a "conversion".
 * It records every change in a private ledger: the range in flight before
 * it starts, the new state of each page (inside the window for begin and
 * commit, after the call for set), then clears the in-flight range.
 *
 * The VMM checks the table three ways:
 *   - live, continuously (a reader thread): each chunk that host/ reads
 *     settled is compared with the ledger, page by page, unless a writer
 *     touched the chunk during the comparison (its count moved) or the page
 *     is inside a range in flight;
 *   - exactly, at rendezvous points where every vCPU is stopped in a ucall:
 *     every page of the span, through a whole-table walk (no retry allowed)
 *     and through the incremental walk against the previous rendezvous;
 *   - paused, with the vCPUs stopped wherever they are: every page is as
 *     the ledger says, or in transition inside a range in flight.
 * Along the way the guest moves to a bigger table (sd_guest_resize, a
 * second registration) and finally unregisters ("no table").
 *
 *   SD_KVM_SEED=n    reproduce a run (the seed is printed)
 *   SD_KVM_SOAK=1    many more rounds and pauses
 *
 * Prints: live-read: vcpus=N changes=N snapshots=N retries=N in_transition=N mismatches=0
 */
#include "sd_kvm_abi.h"
#include "sev_donate.h"
#include "sd_types.h"

#define LR_VCPUS		2
#define MIB			(1ULL << 20)
/* The machine: RAM, an MMIO hole, RAM holding the tables, hotplugged RAM. */
#define LR_SLOT0_SIZE		(48 * MIB)
#define LR_MMIO_GPA		(48 * MIB)
#define LR_MMIO_SIZE		(16 * MIB)
#define LR_SLOT1_GPA		(64 * MIB)
#define LR_SLOT1_SIZE		(32 * MIB)
#define LR_HOTPLUG_GPA		(96 * MIB)
#define LR_HOTPLUG_SIZE		(32 * MIB)
#define LR_T1_GPA		(64 * MIB)	/* the first table */
#define LR_T2_GPA		(65 * MIB)	/* the bigger one */
#define LR_TABLE_MAX		(1 * MIB)
/* Lanes stay out of the tables' zone: the guest must keep table pages shared. */
#define LR_RESERVED_FIRST	((64 * MIB) >> 12)
#define LR_RESERVED_END		((80 * MIB) >> 12)
#define LR_SPAN1		((96 * MIB) >> 12)	/* boot RAM */
#define LR_SPAN2		((128 * MIB) >> 12)	/* with the hotplugged RAM */
#define LR_MAX_PAGES		LR_SPAN2
#define LR_PRIV_BYTES		(64 * 1024)

/* Stages the guest syncs at (args[0]); args[1] carries a value. */
enum {
	ST_READY = 1,		/* registered (vCPU 0) / started (others) */
	ST_WINDOW_OPEN,		/* vCPU 0: a window is open over the test range */
	ST_WINDOW_DONE,		/* vCPU 0: committed */
	ST_ROUND,		/* after a batch of changes */
	ST_RESIZED,		/* vCPU 0: args[1] = sd_guest_resize() result */
	ST_STOPPED,		/* left the free run */
	ST_UNREGISTERED,	/* vCPU 0: args[1] = sd_guest_unregister() result */
};

/* Commands the VMM answers a sync with. */
enum {
	CMD_OPS = 1,		/* args[1] of bootinfo: changes per batch */
	CMD_WINDOW,		/* vCPU 0: open, sync, commit the test window */
	CMD_RESIZE,		/* vCPU 0: move to the bigger table */
	CMD_FREE_RUN,		/* change pages until bootinfo->stop */
	CMD_UNREGISTER,		/* vCPU 0 */
	CMD_DONE,
};

/* Boot arguments. */
enum {
	ARG_PPC,		/* pages per chunk */
	ARG_OPS,		/* changes per CMD_OPS batch */
	ARG_WIN_GFN,		/* CMD_WINDOW range */
	ARG_WIN_PAGES,
};

/* A change in flight on one vCPU; valid is written last and cleared first. */
struct lr_inflight {
	u64 gfn;
	u64 npages;
	u64 shared;
	u64 valid;
};

/* The guest's ledger: what it changed, in guest memory the VMM can read. */
struct lr_state {
	u8 ledger[LR_MAX_PAGES];	/* 1 = shared, per GFN */
	struct lr_inflight inflight[LR_VCPUS];
	u64 changes[LR_VCPUS];		/* change operations completed */
	u64 span;			/* pages the current table covers */
};

static inline u64 lr_lane_pages(u32 ppc)
{
	return 3ULL * ppc + 37;	/* never chunk-aligned */
}

#ifdef SD_KVM_GUEST
/* ================================ guest ================================== */
#include "sd_rt.h"
#include "sd_guest.h"
#include "layout.h"

struct lr_state lr;

static struct sd_guest tables[2];
static struct sd_guest *cur;
static u64 priv[2][LR_PRIV_BYTES / 8];
static struct sd_transport transport = { .ops = &sd_rt_transport_ops };

static void wr64(volatile u64 *p, u64 v)
{
	*p = v;
	sd_barrier();
}

/* One recorded change (see the top of the file for the ledger protocol). */
static void lr_change(u32 id, u64 gfn, u64 n, bool shared, bool two_phase, u64 spin)
{
	volatile struct lr_inflight *f = &lr.inflight[id];
	volatile u8 *ledger = lr.ledger;
	u64 i;

	wr64(&f->gfn, gfn);
	wr64(&f->npages, n);
	wr64(&f->shared, shared);
	wr64(&f->valid, 1);
	if (two_phase) {
		GUEST_ASSERT_EQ(sd_guest_begin(cur, gfn, n, shared), 0);
		for (i = 0; i < n; i++)
			ledger[gfn + i] = shared;
		/* The "conversion": pages stay in transition meanwhile. */
		for (i = 0; i < spin; i++)
			sd_barrier();
		sd_barrier();
		GUEST_ASSERT_EQ(sd_guest_commit(cur, gfn, n, shared), 0);
	} else {
		GUEST_ASSERT_EQ(sd_guest_set(cur, gfn, n, shared), 0);
		for (i = 0; i < n; i++)
			ledger[gfn + i] = shared;
	}
	sd_barrier();
	wr64(&f->valid, 0);
	lr.changes[id]++;
}

/* Lanes each vCPU owns inside the current span, outside the tables' zone. */
static u32 lanes[LR_VCPUS][256];
static u32 nr_lanes[LR_VCPUS];

static void lanes_compute(u32 id, u64 lane)
{
	u64 k;

	nr_lanes[id] = 0;
	for (k = id; (k + 1) * lane <= lr.span && nr_lanes[id] < SD_ARRAY_SIZE(lanes[id]);
	     k += LR_VCPUS) {
		if (k * lane < LR_RESERVED_END && (k + 1) * lane > LR_RESERVED_FIRST)
			continue;
		lanes[id][nr_lanes[id]++] = (u32)k;
	}
	GUEST_ASSERT(nr_lanes[id] > 0);
}

static void lr_random_change(u32 id, struct sd_rt_rng *rng, u64 lane)
{
	u64 first = lanes[id][sd_rt_rand_below(rng, nr_lanes[id])] * lane;
	u64 start = first + sd_rt_rand_below(rng, lane);
	u64 room = first + lane - start, n;
	u64 r = sd_rt_rand(rng);

	switch (r & 7) {
	case 0: case 1: case 2: case 3:
		n = 1 + sd_rt_rand_below(rng, SD_MIN(room, 4));
		break;
	case 4: case 5:
		n = 1 + sd_rt_rand_below(rng, SD_MIN(room, 64));
		break;
	case 6:
		n = 1 + sd_rt_rand_below(rng, room);
		break;
	default:
		start = first;	/* the whole lane */
		n = lane;
	}
	lr_change(id, start, n, (r >> 3) & 1, (r >> 4) & 1, sd_rt_rand_below(rng, 20000));
}

static void table_init(struct sd_guest *g, u32 idx, sd_gpa_t gpa, u64 span, u32 ppc)
{
	u64 bytes = sd_guest_table_bytes(0, span, ppc);

	GUEST_ASSERT(bytes && bytes <= LR_TABLE_MAX);
	GUEST_ASSERT(sd_guest_priv_bytes(0, span, ppc) <= LR_PRIV_BYTES);
	GUEST_ASSERT_EQ(sd_guest_init(g, 0, span, ppc, (void *)gpa, gpa, bytes,
				      priv[idx], LR_PRIV_BYTES), 0);
}

/* SPEC.md 5.6, with every other writer held by the VMM at a rendezvous. */
static int lr_resize(u32 id, u32 ppc)
{
	u64 old_pages = tables[0].g.table_size >> 12;
	u64 new_pages = sd_guest_table_bytes(0, LR_SPAN2, ppc) >> 12;
	int rc;

	/* 1. the new table's pages become shared, recorded in the old table */
	lr_change(id, LR_T2_GPA >> 12, new_pages, true, false, 0);
	/* 2. initialise it for the bigger span */
	table_init(&tables[1], 1, LR_T2_GPA, LR_SPAN2, ppc);
	/* 4, 5. copy the state and register it */
	rc = sd_guest_resize(&tables[0], &tables[1], &transport);
	if (rc)
		return rc;
	/* 6. every writer uses it from now on */
	cur = &tables[1];
	lr.span = LR_SPAN2;
	/* 7. the old table's pages go back to private, recorded in the new one */
	lr_change(id, LR_T1_GPA >> 12, old_pages, false, false, 0);
	return 0;
}

void guest_main(u32 id)
{
	volatile struct sd_kvm_bootinfo *bi = sd_rt_bootinfo();
	u32 ppc = (u32)bi->args[ARG_PPC];
	struct sd_rt_rng rng = { bi->seed * 0x100000001b3ULL + id };
	u64 lane = lr_lane_pages(ppc), cmd, i;

	cur = &tables[0];
	if (id == 0) {
		lr.span = LR_SPAN1;
		table_init(&tables[0], 0, LR_T1_GPA, LR_SPAN1, ppc);
		for (i = 0; i < (tables[0].g.table_size >> 12); i++)
			lr.ledger[(LR_T1_GPA >> 12) + i] = 1;
		GUEST_ASSERT_EQ(sd_transport_probe(&transport), 0);
		GUEST_ASSERT_EQ(transport.kind, SD_TRANSPORT_MSR);
		GUEST_ASSERT_EQ(sd_guest_register(cur, &transport), 0);
	}
	cmd = GUEST_SYNC(ST_READY);
	lanes_compute(id, lane);

	for (;;) {
		switch (cmd) {
		case CMD_OPS:
			for (i = 0; i < bi->args[ARG_OPS]; i++)
				lr_random_change(id, &rng, lane);
			cmd = GUEST_SYNC_ARGS(ST_ROUND, lr.changes[id], 0, 0);
			break;
		case CMD_WINDOW: {
			u64 gfn = bi->args[ARG_WIN_GFN], n = bi->args[ARG_WIN_PAGES];
			volatile struct lr_inflight *f = &lr.inflight[id];

			wr64(&f->gfn, gfn);
			wr64(&f->npages, n);
			wr64(&f->shared, 1);
			wr64(&f->valid, 1);
			GUEST_ASSERT_EQ(sd_guest_begin(cur, gfn, n, true), 0);
			for (i = 0; i < n; i++)
				lr.ledger[gfn + i] = 1;
			GUEST_SYNC(ST_WINDOW_OPEN);
			GUEST_ASSERT_EQ(sd_guest_commit(cur, gfn, n, true), 0);
			wr64(&f->valid, 0);
			lr.changes[id]++;
			cmd = GUEST_SYNC(ST_WINDOW_DONE);
			break;
		}
		case CMD_RESIZE:
			GUEST_ASSERT_EQ(id, 0);
			cmd = GUEST_SYNC_ARGS(ST_RESIZED, (u64)(s64)lr_resize(id, ppc), 0, 0);
			break;
		case CMD_FREE_RUN:
			lanes_compute(id, lane);
			while (!bi->stop)
				lr_random_change(id, &rng, lane);
			cmd = GUEST_SYNC(ST_STOPPED);
			break;
		case CMD_UNREGISTER:
			GUEST_ASSERT_EQ(id, 0);
			cmd = GUEST_SYNC_ARGS(ST_UNREGISTERED,
					      (u64)(s64)sd_guest_unregister(cur, &transport), 0, 0);
			break;
		case CMD_DONE:
			return;
		default:
			GUEST_ASSERT_EQ(cmd, CMD_DONE);	/* an unknown command */
		}
		/* The span may have grown while this vCPU waited at the rendezvous. */
		lanes_compute(id, lane);
	}
}

#else
/* ================================ host =================================== */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <time.h>
#include "sd_kvm.h"
#include "collect.h"
#include "sd_vmm_reg.h"
#include "reader_loop.h"
#include "layout.h"
#include "validate.h"
#include "bitmap.h"

extern const char sd_guest_image[], sd_guest_image_end[];

#define LIVE_ATTEMPTS	16
#define MAX_REPORTS	10

struct lr_slot {
	u64 arrived, replied;	/* syncs seen / answered */
	u64 stage, arg, reply;
	bool done;
};

struct lr_ctx {
	struct sd_vm *vm;
	struct sd_vmm_reg *reg;
	struct lr_state *lr;	/* the guest's ledger, through our mapping */
	u32 ppc;
	/* rendezvous between the vCPU threads and main */
	pthread_mutex_t m;
	pthread_cond_t c;
	struct lr_slot at[LR_VCPUS];
	/* the live reader */
	pthread_t reader;
	bool reader_stop;
	struct rl_loop loop;	/* its passes (snapshots), and those that found no table */
	u64 reader_scratch[SD_HOST_SCRATCH_WORDS];	/* the reader's own */
	u64 compared_chunks, raced_chunks, unsettled_chunks;
	u64 live_mismatches;
	struct sd_host_stats rstats;
	/* main's checks */
	u64 sync_checks, paused_reads, in_transition, mismatches, reports;
	struct sd_host_incr incr;
	u8 prev_ledger[LR_MAX_PAGES];
	u64 *scratch;
};

static void report(struct lr_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct lr_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (SD_INC(c->reports) > MAX_REPORTS)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "MISMATCH: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- rendezvous ------------------------------------------------------------- */

static void *vcpu_fn(struct sd_vcpu *v, void *arg)
{
	struct lr_ctx *c = arg;
	struct lr_slot *s = &c->at[v->id];

	for (;;) {
		int rc = sd_vcpu_run(v);
		u64 reply;

		pthread_mutex_lock(&c->m);
		s->stage = v->uc.args[0];
		s->arg = v->uc.args[1];
		s->done = rc == SD_UCALL_DONE;
		s->arrived++;
		pthread_cond_broadcast(&c->c);
		if (s->done) {
			pthread_mutex_unlock(&c->m);
			return NULL;
		}
		while (s->replied < s->arrived)
			pthread_cond_wait(&c->c, &c->m);
		reply = s->reply;
		pthread_mutex_unlock(&c->m);
		sd_vcpu_ucall_reply(v, reply);
	}
}

/* Wait until vCPU @id syncs at @stage; return its value. */
static u64 wait_at(struct lr_ctx *c, u32 id, u64 stage)
{
	struct lr_slot *s = &c->at[id];
	u64 arg;

	pthread_mutex_lock(&c->m);
	while (s->arrived == s->replied && !s->done)
		pthread_cond_wait(&c->c, &c->m);
	TEST_ASSERT(!s->done && s->stage == stage, "vCPU %u: at stage %llu (done %d), want %llu",
		    id, (unsigned long long)s->stage, s->done, (unsigned long long)stage);
	arg = s->arg;
	pthread_mutex_unlock(&c->m);
	return arg;
}

static void wait_all(struct lr_ctx *c, u64 stage)
{
	u32 i;

	for (i = 0; i < LR_VCPUS; i++)
		wait_at(c, i, stage);
}

static void answer(struct lr_ctx *c, u32 id, u64 cmd)
{
	struct lr_slot *s = &c->at[id];

	pthread_mutex_lock(&c->m);
	TEST_ASSERT(s->replied < s->arrived, "vCPU %u is not waiting", id);
	s->reply = cmd;
	s->replied = s->arrived;
	pthread_cond_broadcast(&c->c);
	pthread_mutex_unlock(&c->m);
}

static void answer_all(struct lr_ctx *c, u64 cmd)
{
	u32 i;

	for (i = 0; i < LR_VCPUS; i++)
		answer(c, i, cmd);
}

/* ---- reading the table ------------------------------------------------------- */

/* States of the span, one byte per page, from a walk's runs. */
static bool in_flight(const struct lr_inflight *f, u64 gfn)
{
	u32 i;

	for (i = 0; i < LR_VCPUS; i++)
		if (f[i].valid && gfn >= f[i].gfn && gfn - f[i].gfn < f[i].npages)
			return true;
	return false;
}

/*
 * Exact check, every vCPU stopped in a ucall: nothing is in flight, every
 * chunk settles at the first attempt, every page is as the ledger says,
 * and the incremental walk reports exactly the pages whose ledger entry
 * changed since the previous check.
 */
static void check_exact(struct lr_ctx *c, const char *what)
{
	struct sd_host_reg reg;
	struct sd_host_stats st;
	struct sd_errloc loc;
	struct collect co;
	SD_HOST_OPTS(sd_host_walk_opts, strict, .flags = SD_READ_STRICT, .max_attempts = 1,
		     .stats = &st, .loc = &loc);
	SD_HOST_OPTS(sd_host_walk_opts, live, .max_attempts = 1, .fn = collect_fn, .ctx = &co,
		     .stats = &st, .loc = &loc);
	u8 *state = calloc(LR_MAX_PAGES, 1), *changed = calloc(LR_MAX_PAGES, 1);
	u64 p, span;
	int rc;

	TEST_ASSERT(state && changed, "calloc");
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(c->reg, &reg), 0);
	span = reg.geom.nr_gfns;
	TEST_ASSERT_EQ(span, c->lr->span);
	for (p = 0; p < LR_VCPUS; p++)
		TEST_ASSERT(!c->lr->inflight[p].valid, "%s: vCPU %llu has a change in flight", what,
			    (unsigned long long)p);

	memset(&st, 0, sizeof(st));
	co = (struct collect){ state, span, false };
	rc = collect_walk(&reg, &c->reg->mem, c->scratch, &co, &st, &loc);
	TEST_ASSERT(rc == 0 && !co.bad, "%s: walk %s (chunk %llu offset %#llx)", what,
		    sd_err_name(rc), (unsigned long long)loc.chunk, (unsigned long long)loc.offset);
	TEST_ASSERT_EQ(st.retries, 0);
	TEST_ASSERT_EQ(st.chunks, reg.geom.nr_chunks);
	for (p = 0; p < LR_MAX_PAGES; p++) {
		u8 want = c->lr->ledger[p];

		if (p >= span ? want != 0 : state[p] != want) {
			c->mismatches++;
			report(c, "%s: gfn %#llx: table %u, ledger %u", what, (unsigned long long)p,
			       state[p], want);
		}
	}

	/* Incremental: a new generation starts over with a full read. */
	if (c->incr.generation != reg.generation || !c->incr.seqs) {
		free(c->incr.seqs);
		free(c->incr.bits);
		c->incr.nr_chunks = reg.geom.nr_chunks;
		c->incr.seqs = calloc(sd_host_incr_seq_entries(&reg), sizeof(u32));
		c->incr.bits = calloc(sd_host_incr_bit_words(&reg), sizeof(u64));
		TEST_ASSERT(c->incr.seqs && c->incr.bits, "calloc");
		rc = sd_host_incr_init(&reg, &c->reg->mem, &c->incr, &strict);
		TEST_ASSERT(rc == 0, "%s: incr_init %s", what, sd_err_name(rc));
	} else {
		memset(changed, 0xff, LR_MAX_PAGES);
		co = (struct collect){ changed, span, false };
		rc = sd_host_walk_changes(&reg, &c->reg->mem, &c->incr, c->scratch, &live);
		TEST_ASSERT(rc == 0 && !co.bad, "%s: walk_changes %s", what, sd_err_name(rc));
		for (p = 0; p < span; p++) {
			u8 want = c->lr->ledger[p] != c->prev_ledger[p] ? c->lr->ledger[p] : 0xff;

			if (changed[p] != want) {
				c->mismatches++;
				report(c, "%s: incremental walk: gfn %#llx reported %d, ledger %u -> %u",
				       what, (unsigned long long)p, changed[p] == 0xff ? -1 : changed[p],
				       c->prev_ledger[p], c->lr->ledger[p]);
			}
		}
	}
	memcpy(c->prev_ledger, c->lr->ledger, LR_MAX_PAGES);
	c->sync_checks++;
	free(state);
	free(changed);
}

/*
 * Paused check, every vCPU stopped wherever it was: a page in transition
 * lies in a range in flight; any other page outside those ranges is exactly
 * as the ledger says. Returns the pages in transition.
 */
static u64 check_paused(struct lr_ctx *c, const char *what)
{
	struct sd_host_reg reg;
	struct sd_host_stats st;
	struct sd_errloc loc;
	struct lr_inflight f[LR_VCPUS];
	struct collect co;
	SD_HOST_OPTS(sd_host_walk_opts, paused, .flags = SD_READ_PAUSED | SD_READ_STRICT,
		     .fn = collect_fn, .ctx = &co, .stats = &st, .loc = &loc);
	u8 *state = calloc(LR_MAX_PAGES, 1);
	u64 p, span, transition = 0;
	int rc;

	TEST_ASSERT(state, "calloc");
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(c->reg, &reg), 0);
	span = reg.geom.nr_gfns;
	memcpy(f, c->lr->inflight, sizeof(f));
	memset(&st, 0, sizeof(st));
	co = (struct collect){ state, span, false };
	rc = sd_host_walk(&reg, &c->reg->mem, c->scratch, &paused);
	TEST_ASSERT(rc == 0 && !co.bad, "%s: paused walk %s (chunk %llu offset %#llx)", what,
		    sd_err_name(rc), (unsigned long long)loc.chunk, (unsigned long long)loc.offset);
	for (p = 0; p < span; p++) {
		bool ok;

		if (state[p] == SD_PAGE_TRANSITION) {
			transition++;
			ok = in_flight(f, p);
		} else {
			ok = in_flight(f, p) || state[p] == c->lr->ledger[p];
		}
		if (!ok) {
			c->mismatches++;
			report(c, "%s: paused: gfn %#llx: table %u, ledger %u", what,
			       (unsigned long long)p, state[p], c->lr->ledger[p]);
		}
	}
	c->paused_reads++;
	c->in_transition += transition;
	free(state);
	return transition;
}

/*
 * The live oracle for one chunk host/ just read settled at count @seq: take
 * the ranges in flight, then the ledger, then load the count again. If it
 * is unchanged (and the registration too), no writer opened a window on the
 * chunk since the copy, so every ledger entry written for it before the copy
 * is visible (x86 keeps loads in order; the guest writes the ledger before
 * clearing its range), and a page outside the ranges in flight must match.
 */
static void live_compare(struct lr_ctx *c, const struct sd_host_reg *reg, u64 idx,
			 const struct sd_host_chunk *ch)
{
	struct lr_inflight f[LR_VCPUS];
	sd_gfn_t gfn = sd_geom_chunk_gfn(&reg->geom, idx);
	u32 i, pages = ch->v.pages;
	const struct sd_chunk_desc *d;
	u8 ledger[SD_MAX_CHUNK_PAGES];
	int err;

	for (i = 0; i < LR_VCPUS; i++) {
		f[i].valid = CMM_LOAD_SHARED(c->lr->inflight[i].valid);
		f[i].gfn = CMM_LOAD_SHARED(c->lr->inflight[i].gfn);
		f[i].npages = CMM_LOAD_SHARED(c->lr->inflight[i].npages);
	}
	cmm_smp_rmb();	/* ranges in flight before the ledger: pairs with the guest's order */
	for (i = 0; i < pages; i++)
		ledger[i] = CMM_LOAD_SHARED(c->lr->ledger[gfn + i]);
	cmm_smp_rmb();	/* the ledger before the second count load */
	d = sd_vm_mem_map(c->vm, reg->gpa + sd_geom_desc_off(&reg->geom, idx), sizeof(*d), &err);
	TEST_ASSERT(d, "descriptor %llu", (unsigned long long)idx);
	if (CMM_LOAD_SHARED(d->seq) != ch->v.seq ||
	    sd_vmm_reg_current(c->reg)->generation != reg->generation) {
		c->raced_chunks++;
		return;
	}
	for (i = 0; i < pages; i++) {
		u8 got = ch->summary ? ch->v.nr_shared == pages : sd_bit_test(ch->bits, i);

		if (got != ledger[i] && !in_flight(f, gfn + i)) {
			SD_INC(c->live_mismatches);
			report(c, "live: gfn %#llx: table %u, ledger %u (chunk %llu seq %u)",
			       (unsigned long long)(gfn + i), got, ledger[i],
			       (unsigned long long)idx, ch->v.seq);
		}
	}
	c->compared_chunks++;
}

/* One live read of chunk @idx, compared with the guest's ledger. */
static void reader_chunk(void *ctx, const struct sd_host_reg *reg, u64 idx, u32 flags)
{
	struct lr_ctx *c = ctx;
	struct sd_host_chunk ch;
	struct sd_errloc loc;
	SD_HOST_OPTS(sd_host_read_opts, o, .flags = flags, .max_attempts = LIVE_ATTEMPTS,
		     .stats = &c->rstats, .loc = &loc);
	int rc = sd_host_read_chunk(reg, &c->reg->mem, idx, c->reader_scratch, &ch, &o);

	if (rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES) {
		c->unsettled_chunks++;
		return;
	}
	TEST_ASSERT(rc == 0, "live read of chunk %llu: %s at offset %#llx",
		    (unsigned long long)idx, sd_err_name(rc), (unsigned long long)loc.offset);
	live_compare(c, reg, idx, &ch);
}

static void *reader_fn(void *arg)
{
	struct lr_ctx *c = arg;

	rl_run(&c->loop);
	return NULL;
}

/* ---- the run -------------------------------------------------------------------- */

static u64 env_u64(const char *name, u64 dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

int main(void)
{
	static const u32 ppcs[] = { 64, 128, 256, 512 };
	u64 seed, soak, rounds, pauses, ops, changes, r, p, win_gfn, win_pages;
	struct sd_host_reg reg;
	struct lr_ctx *c;
	struct sd_vm *vm;
	u32 i;

	sd_kvm_require();
	setvbuf(stdout, NULL, _IOLBF, 0);
	sd_thread_rcu_register();
	seed = env_u64("SD_KVM_SEED", (u64)time(NULL));
	soak = env_u64("SD_KVM_SOAK", 0);
	rounds = soak ? 200 : 12;
	pauses = soak ? 2000 : 60;
	ops = 2000;

	c = calloc(1, sizeof(*c));
	TEST_ASSERT(c, "calloc");
	pthread_mutex_init(&c->m, NULL);
	pthread_cond_init(&c->c, NULL);
	c->ppc = ppcs[seed % SD_ARRAY_SIZE(ppcs)];
	c->scratch = calloc(SD_HOST_SCRATCH_WORDS, sizeof(u64));

	vm = c->vm = sd_vm_create();
	sd_vm_add_ram(vm, 0, LR_SLOT0_SIZE, 0);
	sd_vm_add_mmio(vm, LR_MMIO_GPA, LR_MMIO_SIZE);
	sd_vm_add_ram(vm, LR_SLOT1_GPA, LR_SLOT1_SIZE, 0);
	sd_vm_add_ram(vm, LR_HOTPLUG_GPA, LR_HOTPLUG_SIZE, SD_MEM_HOTPLUG);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	c->reg = sd_vmm_reg_create(vm);
	for (i = 0; i < LR_VCPUS; i++)
		sd_vm_add_vcpu(vm);
	c->lr = sd_vm_hva(vm, sd_vm_gva2gpa(vm, sd_vm_sym(vm, "lr")), sizeof(struct lr_state));

	/* A window across a chunk boundary, in vCPU 0's first lane. */
	win_pages = c->ppc + 3;
	win_gfn = 2 * lr_lane_pages(c->ppc) + c->ppc / 2;
	sd_vm_bootinfo(vm)->seed = seed;
	sd_vm_bootinfo(vm)->args[ARG_PPC] = c->ppc;
	sd_vm_bootinfo(vm)->args[ARG_OPS] = ops;
	sd_vm_bootinfo(vm)->args[ARG_WIN_GFN] = win_gfn;
	sd_vm_bootinfo(vm)->args[ARG_WIN_PAGES] = win_pages;
	printf("live-read: seed=%llu pages_per_chunk=%u rounds=%llu pauses=%llu\n",
	       (unsigned long long)seed, c->ppc, (unsigned long long)rounds,
	       (unsigned long long)pauses);

	for (i = 0; i < LR_VCPUS; i++)
		sd_vcpu_thread_start(vm->vcpus[i], vcpu_fn, c);

	/* Registered by a real WRMSR exit, through host/. */
	wait_all(c, ST_READY);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(c->reg, &reg), 0);
	TEST_ASSERT_EQ(reg.gpa, LR_T1_GPA);
	TEST_ASSERT_EQ(reg.value, LR_T1_GPA | SD_REG_ENABLE);
	TEST_ASSERT_EQ(reg.generation, 1);
	TEST_ASSERT_EQ(reg.geom.nr_gfns, LR_SPAN1);
	TEST_ASSERT_EQ(reg.geom.pages_per_chunk, c->ppc);
	TEST_ASSERT_EQ(sd_vmm_reg_status(c->reg), 0);
	TEST_ASSERT_EQ(c->reg->nr_ok, 1);
	check_exact(c, "registered");
	c->loop = (struct rl_loop){ .reg = c->reg, .stop = &c->reader_stop, .chunk = reader_chunk,
				    .ctx = c };
	TEST_ASSERT(pthread_create(&c->reader, NULL, reader_fn, c) == 0, "reader");

	/* An open window, seen by a paused read: exactly its pages in transition. */
	answer(c, 0, CMD_WINDOW);
	wait_at(c, 0, ST_WINDOW_OPEN);
	TEST_ASSERT_EQ(check_paused(c, "window"), win_pages);
	for (p = win_gfn; p < win_gfn + win_pages; p++)
		TEST_ASSERT_EQ(c->lr->ledger[p], 1);
	answer(c, 0, 0);
	wait_at(c, 0, ST_WINDOW_DONE);
	check_exact(c, "window committed");

	for (r = 0; r < rounds; r++) {
		if (r == rounds / 2) {
			/* vCPU 1 stays at its rendezvous: sd_guest_resize excludes writers. */
			answer(c, 0, CMD_RESIZE);
			TEST_ASSERT_EQ(wait_at(c, 0, ST_RESIZED), 0);
			TEST_ASSERT_EQ(sd_vmm_reg_snapshot(c->reg, &reg), 0);
			TEST_ASSERT_EQ(reg.gpa, LR_T2_GPA);
			TEST_ASSERT_EQ(reg.generation, 2);
			TEST_ASSERT_EQ(reg.geom.nr_gfns, LR_SPAN2);
			check_exact(c, "resized");
		}
		answer_all(c, CMD_OPS);
		wait_all(c, ST_ROUND);
		check_exact(c, "round");
	}

	/* Free run: pause wherever the vCPUs are, read paused, resume. */
	answer_all(c, CMD_FREE_RUN);
	for (p = 0; p < pauses; p++) {
		u64 k, yields = (seed + p * 7919) % 64;

		for (k = 0; k < yields; k++)
			sched_yield();
		sd_vm_pause(vm);
		check_paused(c, "free run");
		sd_vm_resume(vm);
	}
	CMM_STORE_SHARED(sd_vm_bootinfo(vm)->stop, 1);
	wait_all(c, ST_STOPPED);
	check_exact(c, "stopped");

	/* Unregistration: the VMM has no table any more. */
	answer(c, 0, CMD_UNREGISTER);
	TEST_ASSERT_EQ(wait_at(c, 0, ST_UNREGISTERED), 0);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(c->reg, &reg), -SD_ERR_NO_TABLE);
	TEST_ASSERT_EQ(reg.generation, 3);
	{
		u64 before = SD_LOAD(c->loop.no_table);

		/* The reader sees it too (it polls; this is a hang guard, not a timer). */
		for (p = 0; SD_LOAD(c->loop.no_table) == before; p++) {
			TEST_ASSERT(p < 100000000ULL, "the reader never saw the unregistration");
			sched_yield();
		}
	}
	answer_all(c, CMD_DONE);
	for (i = 0; i < LR_VCPUS; i++)
		sd_vcpu_thread_join(vm->vcpus[i]);
	SD_STORE(c->reader_stop, 1);
	pthread_join(c->reader, NULL);

	changes = 0;
	for (i = 0; i < LR_VCPUS; i++)
		changes += c->lr->changes[i];
	c->mismatches += c->live_mismatches;
	printf("live-read detail: sync_checks=%llu paused_reads=%llu compared_chunks=%llu "
	       "raced_chunks=%llu unsettled_chunks=%llu reader_attempts=%llu registrations=%llu\n",
	       (unsigned long long)c->sync_checks, (unsigned long long)c->paused_reads,
	       (unsigned long long)c->compared_chunks, (unsigned long long)c->raced_chunks,
	       (unsigned long long)c->unsettled_chunks, (unsigned long long)c->rstats.attempts,
	       (unsigned long long)c->reg->nr_ok);
	printf("live-read: vcpus=%u changes=%llu snapshots=%llu retries=%llu in_transition=%llu "
	       "mismatches=%llu\n", LR_VCPUS, (unsigned long long)changes,
	       (unsigned long long)c->loop.passes, (unsigned long long)c->rstats.retries,
	       (unsigned long long)c->in_transition, (unsigned long long)c->mismatches);
	TEST_ASSERT(c->mismatches == 0, "%llu mismatches (seed %llu)",
		    (unsigned long long)c->mismatches, (unsigned long long)seed);
	/* Each round changed something, and the reader compared live chunks. */
	TEST_ASSERT(changes >= rounds * ops * LR_VCPUS, "changes %llu", (unsigned long long)changes);
	TEST_ASSERT(c->compared_chunks > 0, "the live reader compared nothing");

	sd_vmm_reg_destroy(c->reg);
	sd_vm_free(vm);
	free(c->incr.seqs);
	free(c->incr.bits);
	free(c->scratch);
	free(c);
	return 0;
}
#endif
