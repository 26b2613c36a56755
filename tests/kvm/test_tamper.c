// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_tamper.c - the tampering-host suite on real KVM (issue 8): the host
 * is the adversary and the guest library must hold.
 *
 *  - host_scribbles_while_the_guest_writes_at_cpl3: two vCPUs change page
 *    states with guest/ at CPL 3 (set, begin/commit, ranges across chunk
 *    boundaries) while a VMM thread stores random words all over the
 *    registered table, header included. Afterwards the guest checks its
 *    private state against the ledger it kept of every change (every page,
 *    every chunk's count, sequence and window, its geometry and pointers)
 *    and the guard pages around its table and private area, and reports by
 *    ucall; it never faults (an exception fails the run). It then moves its
 *    state to a fresh table (sd_guest_resize) and the VMM reads that table
 *    exactly: every page as the ledger says. A live reader reads the
 *    scribbled table meanwhile, each read bounded and named.
 *
 *  - registration_answers_that_make_no_sense_are_bad_answers: the VMM's
 *    MSR handler is wrapped so that it lies: #GP with a status of 0, with
 *    an undefined status, with a guest-side error number; success with
 *    another value read back; faults on the status or read-back RDMSR.
 *    guest/ reports SD_ERR_BAD_ANSWER (SD_ERR_TRANSPORT for the faults)
 *    each time and keeps its state unchanged, except that a registration
 *    answered so may have been taken: its reg_value says so until an
 *    accepted unregistration (SPEC.md 5.4), which the test then makes, as a
 *    guest must before it frees the table. Honest reasons still come
 *    through as themselves, and leave reg_value alone.
 *
 * The userspace version of the scribbler, under ASan, is in
 * tests/unit/test_guest_threads.c; this one runs the library where it runs
 * for real, in a guest, at CPL 3.
 *
 *   SD_KVM_SEED=n    reproduce a run (the seed is printed)
 *   SD_KVM_SOAK=1    ten times the changes
 */
#include "sd_kvm_abi.h"
#include "sev_donate.h"
#include "sd_types.h"

#define MIB			(1ULL << 20)
#define PG			4096ULL

/* ---- the scribbled table ----------------------------------------------------- */
#define TS_RAM			(64 * MIB)
#define TS_SPAN			(TS_RAM >> 12)
#define TS_PPC			128
#define TS_T1_GPA		(8 * MIB)	/* scribbled; guard pages either side */
#define TS_T2_GPA		(12 * MIB)	/* the fresh table after the attack */
#define TS_PRIV1_GPA		(20 * MIB)	/* private areas, guarded after */
#define TS_PRIV2_GPA		(21 * MIB)
#define TS_LEDGER_GPA		(24 * MIB)	/* u8 per page: 1 = shared */
/* Lanes never cover the tables' pages (the guest must keep them shared). */
#define TS_RESERVED_FIRST	((TS_T1_GPA >> 12) - 8)
#define TS_RESERVED_END		((TS_T2_GPA >> 12) + 64)
#define TS_GUARD		0xa5
#define TS_OPS			1000000
#define TS_VCPUS		2

/* ---- the lying host ------------------------------------------------------------- */
#define TL_RAM			(32 * MIB)
#define TL_SPAN			(TL_RAM >> 12)
#define TL_PPC			512
#define TL_G_GPA		(4 * MIB)	/* registered honestly */
#define TL_H_GPA		(4 * MIB + 64 * 1024)	/* the registration the host lies about */
#define TL_PRIV_GPA		(8 * MIB)
#define TL_PRIV_BYTES		(64 * 1024)
#define TL_TOGGLE_GFN		3000	/* 64 pages the guest toggles after each answer */

enum { ST_READY = 1, ST_WRITTEN, ST_CHECKED, ST_RESIZED, ST_RESULT };
enum { CMD_GO = 1, CMD_CHECK, CMD_RESIZE, CMD_REG_H, CMD_REG_G, CMD_UNREG_G, CMD_UNREG_H,
       CMD_DONE };
enum { ARG_TEST, ARG_OPS };
enum { TEST_SCRIBBLE = 1, TEST_LIES };

static inline u64 ts_lane_pages(void)
{
	return 3ULL * TS_PPC + 37;	/* never chunk-aligned: ranges cross chunks */
}

#ifdef SD_KVM_GUEST
/* ================================ guest ================================== */
#include "sd_rt.h"
#include "sd_guest.h"

static struct sd_transport transport = { .ops = &sd_rt_transport_ops };

/* ---- scribbled ---- */
static struct sd_guest t1, t2, t1_saved;
static u64 t1_bytes, priv_bytes;

static void fill(u64 gpa, u64 n, u8 v)
{
	memset((void *)gpa, v, n);
}

static u64 count_not(u64 gpa, u64 n, u8 v)
{
	const volatile u8 *p = (const volatile u8 *)gpa;
	u64 bad = 0, i;

	for (i = 0; i < n; i++)
		bad += p[i] != v;
	return bad;
}

static void scribble_setup(void)
{
	u8 *ledger = (u8 *)TS_LEDGER_GPA;
	u64 i;

	t1_bytes = sd_guest_table_bytes(0, TS_SPAN, TS_PPC);
	priv_bytes = sd_guest_priv_bytes(0, TS_SPAN, TS_PPC);
	GUEST_ASSERT(t1_bytes && priv_bytes && priv_bytes + PG <= TS_PRIV2_GPA - TS_PRIV1_GPA);
	/* Guards: a page before and after the table, a page after each private area. */
	fill(TS_T1_GPA - PG, PG, TS_GUARD);
	fill(TS_T1_GPA + t1_bytes, PG, TS_GUARD);
	fill(TS_PRIV1_GPA + priv_bytes, PG, TS_GUARD);
	GUEST_ASSERT_EQ(sd_guest_init(&t1, 0, TS_SPAN, TS_PPC, (void *)TS_T1_GPA, TS_T1_GPA,
				      t1_bytes, (void *)TS_PRIV1_GPA, priv_bytes), 0);
	memset(ledger, 0, TS_SPAN);
	for (i = 0; i < t1_bytes / PG; i++)
		ledger[(TS_T1_GPA >> 12) + i] = 1;
	GUEST_ASSERT_EQ(sd_transport_probe(&transport), 0);
	GUEST_ASSERT_EQ(sd_guest_register(&t1, &transport), 0);
	t1_saved = t1;
}

/* Lanes each vCPU owns: every other lane, outside the tables' pages. */
static u32 my_lanes[TS_VCPUS][256], my_nr[TS_VCPUS];

static void lanes_compute(u32 id)
{
	u64 lane = ts_lane_pages(), k;

	my_nr[id] = 0;
	for (k = id; (k + 1) * lane <= TS_SPAN && my_nr[id] < SD_ARRAY_SIZE(my_lanes[id]);
	     k += TS_VCPUS) {
		if (k * lane < TS_RESERVED_END && (k + 1) * lane > TS_RESERVED_FIRST)
			continue;
		my_lanes[id][my_nr[id]++] = (u32)k;
	}
	GUEST_ASSERT(my_nr[id] > 0);
}

static u64 scribble_write(u32 id, u64 ops, u64 seed)
{
	struct sd_rt_rng rng = { seed * 0x100000001b3ULL + id };
	volatile u8 *ledger = (volatile u8 *)TS_LEDGER_GPA;
	u64 lane = ts_lane_pages(), op, i;

	for (op = 0; op < ops; op++) {
		u64 first = my_lanes[id][sd_rt_rand_below(&rng, my_nr[id])] * lane;
		u64 start = first + sd_rt_rand_below(&rng, lane);
		u64 room = first + lane - start, r = sd_rt_rand(&rng), n;
		bool shared = (r >> 3) & 1;

		n = 1 + sd_rt_rand_below(&rng, (r & 3) == 0 ? room : SD_MIN(room, 64));
		if ((r >> 4) & 1) {
			GUEST_ASSERT_EQ(sd_guest_set(&t1, start, n, shared), 0);
		} else {
			GUEST_ASSERT_EQ(sd_guest_begin(&t1, start, n, shared), 0);
			GUEST_ASSERT_EQ(sd_guest_commit(&t1, start, n, shared), 0);
		}
		for (i = 0; i < n; i++)
			ledger[start + i] = shared;
	}
	return ops;
}

/*
 * Private state against the ledger, after the attack: every page, every
 * chunk's count, sequence parity and window, the geometry and pointers;
 * then the guard bytes. Returns the mismatches; *guard_bad the guard bytes
 * that changed.
 */
static u64 scribble_check(u64 *guard_bad)
{
	const u8 *ledger = (const u8 *)TS_LEDGER_GPA;
	u64 bad = 0, p, c;

	for (p = 0; p < TS_SPAN; p++)
		bad += sd_guest_is_shared(&t1, p) != ledger[p];
	for (c = 0; c < t1.g.nr_chunks; c++) {
		u32 want = 0;

		for (p = c * TS_PPC; p < (c + 1) * TS_PPC; p++)
			want += ledger[p];
		bad += t1.chunks[c].nr_shared != want;
		bad += t1.chunks[c].seq & 1;
		bad += t1.chunks[c].win_count != 0;
	}
	bad += memcmp(&t1, &t1_saved, sizeof(t1)) != 0;
	*guard_bad = count_not(TS_T1_GPA - PG, PG, TS_GUARD) +
		     count_not(TS_T1_GPA + t1_bytes, PG, TS_GUARD) +
		     count_not(TS_PRIV1_GPA + priv_bytes, PG, TS_GUARD);
	return bad;
}

/* SPEC.md 5.6, writers excluded: the state moves to a table the host never touched. */
static s64 scribble_resize(void)
{
	u8 *ledger = (u8 *)TS_LEDGER_GPA;
	u64 i, n = t1_bytes / PG;

	GUEST_ASSERT_EQ(sd_guest_set(&t1, TS_T2_GPA >> 12, n, true), 0);
	for (i = 0; i < n; i++)
		ledger[(TS_T2_GPA >> 12) + i] = 1;
	GUEST_ASSERT_EQ(sd_guest_init(&t2, 0, TS_SPAN, TS_PPC, (void *)TS_T2_GPA, TS_T2_GPA,
				      t1_bytes, (void *)TS_PRIV2_GPA, priv_bytes), 0);
	return sd_guest_resize(&t1, &t2, &transport);
}

static void scribble_main(u32 id)
{
	volatile struct sd_kvm_bootinfo *bi = sd_rt_bootinfo();
	u64 cmd, guard_bad = 0, bad;
	s64 rc;

	if (id == 0)
		scribble_setup();
	lanes_compute(id);
	cmd = GUEST_SYNC(ST_READY);
	GUEST_ASSERT_EQ(cmd, CMD_GO);
	cmd = GUEST_SYNC_ARGS(ST_WRITTEN, scribble_write(id, bi->args[ARG_OPS], bi->seed), 0, 0);
	if (id != 0) {
		GUEST_ASSERT_EQ(cmd, CMD_DONE);
		return;
	}
	GUEST_ASSERT_EQ(cmd, CMD_CHECK);
	bad = scribble_check(&guard_bad);
	cmd = GUEST_SYNC_ARGS(ST_CHECKED, TS_SPAN, bad, guard_bad);
	GUEST_ASSERT_EQ(cmd, CMD_RESIZE);
	rc = scribble_resize();
	cmd = GUEST_SYNC_ARGS(ST_RESIZED, (u64)rc, t2.reg_value, t1.reg_value);
	GUEST_ASSERT_EQ(cmd, CMD_DONE);
}

/* ---- lies ---- */
static struct sd_guest g, h;

static void lies_main(void)
{
	static struct sd_guest g_before, h_before;
	u64 cmd, toggles = 0;
	u64 gb = sd_guest_table_bytes(0, TL_SPAN, TL_PPC);
	u64 pb = sd_guest_priv_bytes(0, TL_SPAN, TL_PPC);

	GUEST_ASSERT(gb && pb <= TL_PRIV_BYTES);
	GUEST_ASSERT_EQ(sd_guest_init(&g, 0, TL_SPAN, TL_PPC, (void *)TL_G_GPA, TL_G_GPA, gb,
				      (void *)TL_PRIV_GPA, TL_PRIV_BYTES), 0);
	GUEST_ASSERT_EQ(sd_guest_init(&h, 0, TL_SPAN, TL_PPC, (void *)TL_H_GPA, TL_H_GPA, gb,
				      (void *)(TL_PRIV_GPA + TL_PRIV_BYTES), TL_PRIV_BYTES), 0);
	GUEST_ASSERT_EQ(sd_transport_probe(&transport), 0);
	cmd = GUEST_SYNC(ST_READY);
	for (;;) {
		struct sd_guest *t = cmd == CMD_REG_H ? &h : &g;
		s64 rc;

		g_before = g;
		h_before = h;
		switch (cmd) {
		case CMD_REG_H:
		case CMD_REG_G:
			rc = sd_guest_register(t, &transport);
			break;
		case CMD_UNREG_G:
			rc = sd_guest_unregister(&g, &transport);
			break;
		case CMD_UNREG_H:
			rc = sd_guest_unregister(&h, &transport);
			break;
		case CMD_DONE:
			return;
		default:
			GUEST_ASSERT_EQ(cmd, CMD_DONE);
			return;
		}
		/*
		 * A failed call changes nothing but, after an answer that is not a
		 * clean refusal, the reg_value of the table it registered (the host
		 * reports that separately: the ucall carries both reg_values).
		 */
		if (rc) {
			g_before.reg_value = g.reg_value;
			h_before.reg_value = h.reg_value;
			GUEST_ASSERT(!memcmp(&g, &g_before, sizeof(g)));
			GUEST_ASSERT(!memcmp(&h, &h_before, sizeof(h)));
		}
		/* The library keeps working on both tables whatever the host said. */
		GUEST_ASSERT_EQ(sd_guest_set(&g, TL_TOGGLE_GFN + toggles % 64, 1,
					     !(toggles & 64)), 0);
		GUEST_ASSERT_EQ(sd_guest_set(&h, TL_TOGGLE_GFN + toggles % 64, 1,
					     !(toggles & 64)), 0);
		toggles++;
		cmd = GUEST_SYNC_ARGS(ST_RESULT, (u64)rc, g.reg_value, h.reg_value);
	}
}

void guest_main(u32 id)
{
	if (sd_rt_bootinfo()->args[ARG_TEST] == TEST_LIES)
		lies_main();
	else
		scribble_main(id);
}

#else
/* ================================ host =================================== */
#include <time.h>
#include "sd_kvm.h"
#include "collect.h"
#include "sd_vmm_reg.h"
#include "test_hostile.h"

extern const char sd_guest_image[], sd_guest_image_end[];

static u64 env_u64(const char *name, u64 dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void expect_sync(struct sd_vcpu *v, u64 stage)
{
	int rc = sd_vcpu_run(v);

	TEST_ASSERT(rc == SD_UCALL_SYNC && v->uc.args[0] == stage,
		    "vCPU %u: want SYNC %llu, got ucall %d stage %llu", v->id,
		    (unsigned long long)stage, rc, (unsigned long long)v->uc.args[0]);
}

/* ---- the scribbler ------------------------------------------------------------ */

struct scribbler {
	u64 *table;		/* the VMM's mapping of the registered table */
	u64 words;
	u64 seed;
	bool stop;
	u64 stores;
	pthread_t thread;
};

static u64 xorshift(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *scribble_fn(void *arg)
{
	struct scribbler *s = arg;
	u64 rnd = s->seed | 1;

	while (!SD_LOAD(s->stop)) {
		u64 x = xorshift(&rnd);
		u64 *w = s->table + x % s->words;

		/*
		 * Random words anywhere in the table: header, counts, sequence
		 * counts, pending ranges, bits. Every eighth store makes a
		 * 32-bit half odd, so sequence counts go odd often.
		 */
		if ((x >> 40) % 8 == 0)
			__atomic_store_n((u32 *)w + ((x >> 50) & 1), (u32)xorshift(&rnd) | 1,
					 __ATOMIC_RELAXED);
		else
			__atomic_store_n(w, xorshift(&rnd), __ATOMIC_RELAXED);
		SD_INC(s->stores);
	}
	return NULL;
}

struct scribble_run {
	struct sd_vm *vm;
	pthread_barrier_t b;
	u64 ops[TS_VCPUS];
	u64 checked, bad, guard_bad;
	s64 resize_rc;
	u64 t2_value, t1_value;
};

/*
 * Each vCPU on its own thread. Phases, with main: READY (registered) ->
 * barrier -> main starts the scribbler -> barrier -> GO ... WRITTEN ->
 * barrier -> main stops the scribbler -> barrier -> vCPU 0 checks, resizes.
 */
static void *scribble_vcpu(struct sd_vcpu *v, void *arg)
{
	struct scribble_run *sr = arg;

	expect_sync(v, ST_READY);
	pthread_barrier_wait(&sr->b);
	pthread_barrier_wait(&sr->b);
	sd_vcpu_ucall_reply(v, CMD_GO);
	expect_sync(v, ST_WRITTEN);
	sr->ops[v->id] = v->uc.args[1];
	pthread_barrier_wait(&sr->b);
	pthread_barrier_wait(&sr->b);
	if (v->id == 0) {
		sd_vcpu_ucall_reply(v, CMD_CHECK);
		expect_sync(v, ST_CHECKED);
		sr->checked = v->uc.args[1];
		sr->bad = v->uc.args[2];
		sr->guard_bad = v->uc.args[3];
		sd_vcpu_ucall_reply(v, CMD_RESIZE);
		expect_sync(v, ST_RESIZED);
		sr->resize_rc = (s64)v->uc.args[1];
		sr->t2_value = v->uc.args[2];
		sr->t1_value = v->uc.args[3];
	}
	sd_vcpu_ucall_reply(v, CMD_DONE);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	return NULL;
}

static void host_scribbles_while_the_guest_writes_at_cpl3(u64 seed, u64 ops)
{
	struct scribble_run sr = { 0 };
	struct scribbler sc = { 0 };
	struct hs_reader *rdr = calloc(1, sizeof(*rdr));
	struct sd_vmm_reg *r;
	struct sd_host_reg reg;
	struct sd_host_stats st = { 0 };
	struct sd_errloc loc;
	struct collect co;
	u8 *state = calloc(TS_SPAN, 1), *ledger;
	u64 *scratch = calloc(SD_HOST_SCRATCH_WORDS, sizeof(u64));
	u64 stores_at_go, p, mismatches = 0, changes = 0, i;
	struct sd_vm *vm;
	int rc;

	TEST_ASSERT(rdr && state && scratch, "calloc");
	vm = sr.vm = sd_vm_create();
	sd_vm_add_ram(vm, 0, TS_RAM, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	r = sd_vmm_reg_create(vm);
	for (i = 0; i < TS_VCPUS; i++)
		sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[ARG_TEST] = TEST_SCRIBBLE;
	sd_vm_bootinfo(vm)->args[ARG_OPS] = ops;
	sd_vm_bootinfo(vm)->seed = seed;
	ledger = sd_vm_hva(vm, TS_LEDGER_GPA, TS_SPAN);
	pthread_barrier_init(&sr.b, NULL, TS_VCPUS + 1);
	for (i = 0; i < TS_VCPUS; i++)
		sd_vcpu_thread_start(vm->vcpus[i], scribble_vcpu, &sr);

	pthread_barrier_wait(&sr.b);		/* registered */
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.gpa, TS_T1_GPA);
	hs_reader_start(rdr, r, vm);
	sc.table = sd_vm_hva(vm, TS_T1_GPA, reg.geom.table_size);
	sc.words = reg.geom.table_size / 8;
	sc.seed = seed;
	TEST_ASSERT(pthread_create(&sc.thread, NULL, scribble_fn, &sc) == 0, "scribbler");
	/* Let it get going, so the guest writes into a table already under attack. */
	for (p = 0; SD_LOAD(sc.stores) < 1000; p++) {
		TEST_ASSERT(p < 100000000ULL, "the scribbler never started");
		sched_yield();
	}
	stores_at_go = SD_LOAD(sc.stores);
	pthread_barrier_wait(&sr.b);		/* GO */
	pthread_barrier_wait(&sr.b);		/* both WRITTEN */
	SD_STORE(sc.stop, 1);
	pthread_join(sc.thread, NULL);
	pthread_barrier_wait(&sr.b);		/* vCPU 0 checks and resizes */
	for (i = 0; i < TS_VCPUS; i++)
		sd_vcpu_thread_join(vm->vcpus[i]);
	hs_reader_stop(rdr);

	for (i = 0; i < TS_VCPUS; i++) {
		TEST_ASSERT_EQ(sr.ops[i], ops);
		changes += sr.ops[i];
	}
	printf("tamper: %u vCPUs x %llu changes at CPL 3 while %llu random stores hit the "
	       "%llu-byte table (%llu of them after the guest started); guest checked %llu pages: "
	       "%llu mismatches, %llu guard bytes changed\n", TS_VCPUS, (unsigned long long)ops,
	       (unsigned long long)sc.stores, (unsigned long long)reg.geom.table_size,
	       (unsigned long long)(sc.stores - stores_at_go), (unsigned long long)sr.checked,
	       (unsigned long long)sr.bad, (unsigned long long)sr.guard_bad);
	TEST_ASSERT(sc.stores > stores_at_go, "no store while the guest wrote");
	TEST_ASSERT_EQ(sr.checked, TS_SPAN);
	TEST_ASSERT_EQ(sr.bad, 0);
	TEST_ASSERT_EQ(sr.guard_bad, 0);

	/* The state the guest carried out of the attack, as the host reads it. */
	TEST_ASSERT_EQ(sr.resize_rc, 0);
	TEST_ASSERT_EQ(sr.t2_value, TS_T2_GPA | SD_REG_ENABLE);
	TEST_ASSERT_EQ(sr.t1_value, 0);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT(reg.gpa == TS_T2_GPA && reg.generation == 2, "T2 registered");
	co = (struct collect){ state, TS_SPAN, false };
	rc = collect_walk(&reg, &r->mem, scratch, &co, &st, &loc);
	TEST_ASSERT(rc == 0 && !co.bad, "walk of the new table: %s", sd_err_name(rc));
	TEST_ASSERT_EQ(st.retries, 0);
	for (p = 0; p < TS_SPAN; p++)
		mismatches += state[p] != ledger[p];
	printf("tamper: the new table, read by the host: %llu pages, %llu mismatches with the "
	       "guest's ledger\n", (unsigned long long)TS_SPAN, (unsigned long long)mismatches);
	TEST_ASSERT_EQ(mismatches, 0);

	printf("tamper: live reader during the attack: %llu passes, %llu chunk reads, "
	       "%llu attempts, %llu bytes;", (unsigned long long)rdr->loop.passes,
	       (unsigned long long)rdr->reads, (unsigned long long)rdr->st.attempts,
	       (unsigned long long)rdr->st.bytes);
	for (i = 0; i <= SD_ERR_MAX; i++)
		if (rdr->seen[i])
			printf(" %s=%llu", i ? sd_err_name(-(int)i) : "ok",
			       (unsigned long long)rdr->seen[i]);
	printf("\n");
	TEST_ASSERT(rdr->reads > 0, "the reader read nothing");

	pthread_barrier_destroy(&sr.b);
	sd_vmm_reg_destroy(r);
	sd_vm_free(vm);
	free(rdr);
	free(state);
	free(scratch);
}

/* ---- the lying host ---------------------------------------------------------------- */

enum lie {
	L_HONEST,		/* the endpoint as it is */
	L_GP_STATUS,		/* WRMSR: #GP (not passed on); RDMSR status: liar.status */
	L_GP_STATUS_FAULT,	/* WRMSR: #GP; RDMSR status: #GP */
	L_OK_READBACK,		/* WRMSR: passed on, success anyway; RDMSR table: liar.readback */
	L_OK_READBACK_FAULT,	/* WRMSR: passed on, then success anyway; RDMSR table: #GP */
};

static struct {
	enum lie mode;
	u64 status, readback;
	u64 lies;		/* answers that were lies */
	sd_msr_fn endpoint;
	void *ctx;
} liar;

/*
 * The endpoint's handler, wrapped (reg.c is untouched): in a lying mode
 * some answers are replaced. Runs on the vCPU thread, which is main here.
 */
static int liar_msr(struct sd_vcpu *v, void *ctx, bool write, u32 msr, u64 *val)
{
	bool table = msr == SD_MSR_TABLE;

	(void)ctx;
	switch (liar.mode) {
	case L_HONEST:
		break;
	case L_GP_STATUS:
	case L_GP_STATUS_FAULT:
		if (write && table) {
			liar.lies++;
			return -1;
		}
		if (!write && !table) {
			liar.lies++;
			*val = liar.status;
			return liar.mode == L_GP_STATUS ? 0 : -1;
		}
		break;
	case L_OK_READBACK:
	case L_OK_READBACK_FAULT:
		if (write && table) {
			liar.endpoint(v, liar.ctx, write, msr, val);
			liar.lies++;
			return 0;
		}
		if (!write && table) {
			liar.lies++;
			*val = liar.readback;
			return liar.mode == L_OK_READBACK ? 0 : -1;
		}
		break;
	}
	return liar.endpoint(v, liar.ctx, write, msr, val);
}

/* One command to the lying-host guest, and its ST_RESULT. */
static void lie_cmd(struct sd_vcpu *v, u64 cmd, u64 *cmds)
{
	sd_vcpu_ucall_reply(v, cmd);
	expect_sync(v, ST_RESULT);
	(*cmds)++;
}

static void registration_answers_that_make_no_sense_are_bad_answers(void)
{
	const u64 G = TL_G_GPA | SD_REG_ENABLE, H = TL_H_GPA | SD_REG_ENABLE;
	const struct {
		const char *name;
		u64 cmd;
		enum lie mode;
		u64 status, readback;
		int want;
	} cases[] = {
		{ "#GP, status 0", CMD_REG_H, L_GP_STATUS, 0, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, undefined status 10", CMD_REG_H, L_GP_STATUS, 10, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, undefined status 31", CMD_REG_H, L_GP_STATUS, 31, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, undefined status 36", CMD_REG_H, L_GP_STATUS, 36, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, undefined status 69", CMD_REG_H, L_GP_STATUS, 69, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, undefined status 106", CMD_REG_H, L_GP_STATUS, 106, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, undefined status 134", CMD_REG_H, L_GP_STATUS, 134, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, status SD_ERR_MAX + 1", CMD_REG_H, L_GP_STATUS, SD_ERR_MAX + 1, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, status 1000", CMD_REG_H, L_GP_STATUS, 1000, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, status 2^32 + 64", CMD_REG_H, L_GP_STATUS, (1ULL << 32) + 64, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, status 2^64 - 1", CMD_REG_H, L_GP_STATUS, ~0ULL, 0, SD_ERR_BAD_ANSWER },
		{ "#GP, guest-side SD_ERR_INVAL", CMD_REG_H, L_GP_STATUS, SD_ERR_INVAL, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, guest-side SD_ERR_NO_TABLE", CMD_REG_H, L_GP_STATUS, SD_ERR_NO_TABLE, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, guest-side SD_ERR_TRANSPORT", CMD_REG_H, L_GP_STATUS, SD_ERR_TRANSPORT, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, guest-side SD_ERR_BAD_ANSWER", CMD_REG_H, L_GP_STATUS, SD_ERR_BAD_ANSWER, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, SD_ERR_HDR_CHANGED", CMD_REG_H, L_GP_STATUS, SD_ERR_HDR_CHANGED, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, guest-side SD_ERR_RANGE", CMD_REG_H, L_GP_STATUS, SD_ERR_RANGE, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, guest-side SD_ERR_EMPTY_RANGE", CMD_REG_H, L_GP_STATUS, SD_ERR_EMPTY_RANGE,
		  0, SD_ERR_BAD_ANSWER },
		{ "#GP, guest-side SD_ERR_NOSPACE", CMD_REG_H, L_GP_STATUS, SD_ERR_NOSPACE, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, guest-side SD_ERR_BUSY", CMD_REG_H, L_GP_STATUS, SD_ERR_BUSY, 0,
		  SD_ERR_BAD_ANSWER },
		{ "#GP, status read faults", CMD_REG_H, L_GP_STATUS_FAULT, 0, 0, SD_ERR_TRANSPORT },
		{ "success, reads back 0", CMD_REG_H, L_OK_READBACK, 0, 0, SD_ERR_BAD_ANSWER },
		{ "success, reads back another GPA", CMD_REG_H, L_OK_READBACK, 0, H + 4096,
		  SD_ERR_BAD_ANSWER },
		{ "success, reads back the old table", CMD_REG_H, L_OK_READBACK, 0, G,
		  SD_ERR_BAD_ANSWER },
		{ "success, reads back without enable", CMD_REG_H, L_OK_READBACK, 0, H - 1,
		  SD_ERR_BAD_ANSWER },
		{ "success, reads back reserved bits", CMD_REG_H, L_OK_READBACK, 0, H | 2,
		  SD_ERR_BAD_ANSWER },
		{ "success, reads back 2^64 - 1", CMD_REG_H, L_OK_READBACK, 0, ~0ULL,
		  SD_ERR_BAD_ANSWER },
		{ "success, read-back faults", CMD_REG_H, L_OK_READBACK_FAULT, 0, 0,
		  SD_ERR_TRANSPORT },
		/* Unregistration, lied about. */
		{ "unregister: #GP, status 0", CMD_UNREG_G, L_GP_STATUS, 0, 0, SD_ERR_BAD_ANSWER },
		{ "unregister: success, reads back G", CMD_UNREG_G, L_OK_READBACK, 0, G,
		  SD_ERR_BAD_ANSWER },
		{ "unregister: read-back faults", CMD_UNREG_G, L_OK_READBACK_FAULT, 0, 0,
		  SD_ERR_TRANSPORT },
		/* Honest reasons come through as themselves. */
		{ "#GP, SD_ERR_REG_RESERVED", CMD_REG_H, L_GP_STATUS, SD_ERR_REG_RESERVED, 0,
		  SD_ERR_REG_RESERVED },
		{ "#GP, SD_ERR_UNSUPPORTED", CMD_REG_H, L_GP_STATUS, SD_ERR_UNSUPPORTED, 0,
		  SD_ERR_UNSUPPORTED },
		{ "#GP, SD_ERR_MEM_MMIO", CMD_REG_H, L_GP_STATUS, SD_ERR_MEM_MMIO, 0,
		  SD_ERR_MEM_MMIO },
		{ "#GP, SD_ERR_MEM_FAULT", CMD_REG_H, L_GP_STATUS, SD_ERR_MEM_FAULT, 0,
		  SD_ERR_MEM_FAULT },
		{ "#GP, SD_ERR_HDR_MAGIC", CMD_REG_H, L_GP_STATUS, SD_ERR_HDR_MAGIC, 0,
		  SD_ERR_HDR_MAGIC },
		{ "#GP, SD_ERR_TABLE_PLACEMENT", CMD_REG_H, L_GP_STATUS, SD_ERR_TABLE_PLACEMENT, 0,
		  SD_ERR_TABLE_PLACEMENT },
		{ "#GP, SD_ERR_CHUNK_RETRIES", CMD_REG_H, L_GP_STATUS, SD_ERR_CHUNK_RETRIES, 0,
		  SD_ERR_CHUNK_RETRIES },
	};
	struct sd_vmm_reg *r;
	struct sd_host_reg reg;
	struct sd_vcpu *v;
	struct sd_vm *vm;
	u64 i, bad = 0, transport = 0, honest = 0, settled = 0, cmds = 0;

	vm = sd_vm_create();
	sd_vm_add_ram(vm, 0, TL_RAM, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	r = sd_vmm_reg_create(vm);
	liar.endpoint = vm->msr_fn;
	liar.ctx = vm->msr_ctx;
	vm->msr_fn = liar_msr;
	v = sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[ARG_TEST] = TEST_LIES;
	expect_sync(v, ST_READY);

	/* G registered honestly. */
	liar.mode = L_HONEST;
	lie_cmd(v, CMD_REG_G, &cmds);
	TEST_ASSERT(v->uc.args[1] == 0 && v->uc.args[2] == G && v->uc.args[3] == 0, "G registered");

	for (i = 0; i < SD_ARRAY_SIZE(cases); i++) {
		u64 lies0 = liar.lies;
		int got;

		bool clean = cases[i].want != SD_ERR_BAD_ANSWER && cases[i].want != SD_ERR_TRANSPORT;

		liar.mode = cases[i].mode;
		liar.status = cases[i].status;
		liar.readback = cases[i].readback;
		lie_cmd(v, cases[i].cmd, &cmds);	/* the guest asserted its state unchanged */
		liar.mode = L_HONEST;
		got = (int)(s64)v->uc.args[1];
		printf("tamper: %-38s -> guest %s (reg_value G %#llx, H %#llx)\n", cases[i].name,
		       sd_err_name(got), (unsigned long long)v->uc.args[2],
		       (unsigned long long)v->uc.args[3]);
		TEST_ASSERT(got == -cases[i].want, "%s: guest says %s, want %s", cases[i].name,
			    sd_err_name(got), sd_err_name(-cases[i].want));
		/* Each case was answered by the lie (WRMSR and the RDMSR after it). */
		TEST_ASSERT_EQ(liar.lies - lies0, 2);
		/*
		 * G stays registered as far as guest/ knows. H, after a
		 * registration answered with no clean refusal, may be registered:
		 * guest/ must say so (SPEC.md 5.4), or it would free a table the
		 * host may read.
		 */
		TEST_ASSERT_EQ(v->uc.args[2], G);
		TEST_ASSERT_EQ(v->uc.args[3], cases[i].cmd == CMD_REG_H && !clean ? H : 0);
		bad += cases[i].want == SD_ERR_BAD_ANSWER;
		transport += cases[i].want == SD_ERR_TRANSPORT;
		honest += clean;
		if (v->uc.args[3] == 0)
			continue;
		/* What a guest does before it frees H: a 0 the host accepts, then G again. */
		lie_cmd(v, CMD_UNREG_H, &cmds);
		TEST_ASSERT(v->uc.args[1] == 0 && v->uc.args[3] == 0, "%s: H unregistered",
			    cases[i].name);
		TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), -SD_ERR_NO_TABLE);
		lie_cmd(v, CMD_REG_G, &cmds);
		TEST_ASSERT(v->uc.args[1] == 0 && v->uc.args[2] == G, "%s: G registered again",
			    cases[i].name);
		settled++;
	}

	/*
	 * Honest again: G registers (the endpoint may hold H after the lies
	 * that passed the write through) and its table reads as the guest kept
	 * it: its own page, and the page its last toggle left shared.
	 */
	lie_cmd(v, CMD_REG_G, &cmds);
	TEST_ASSERT(v->uc.args[1] == 0 && v->uc.args[2] == G, "G registered again");
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.value, G);
	{
		u64 *scratch = calloc(SD_HOST_SCRATCH_WORDS, sizeof(u64));
		u8 *state = calloc(TL_SPAN, 1);
		struct collect co = { state, TL_SPAN, false };
		struct sd_errloc loc;
		u64 p, shared = 0, toggles = cmds;
		int rc;

		TEST_ASSERT(scratch && state, "calloc");
		rc = collect_walk(&reg, &r->mem, scratch, &co, NULL, &loc);
		TEST_ASSERT(rc == 0 && !co.bad, "walk: %s", sd_err_name(rc));
		for (p = 0; p < TL_SPAN; p++)
			shared += state[p];
		/* TL_TOGGLE_GFN + 0..63 went shared in turn, then private from toggle 64 on. */
		TEST_ASSERT(state[TL_G_GPA >> 12] == 1, "G's own page");
		TEST_ASSERT_EQ(shared, 1 + (toggles <= 64 ? toggles : 64 - (toggles - 64)));
		free(scratch);
		free(state);
	}
	sd_vcpu_ucall_reply(v, CMD_DONE);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	printf("tamper: %llu nonsense answers -> SD_ERR_BAD_ANSWER, %llu faults -> "
	       "SD_ERR_TRANSPORT, %llu honest reasons passed through; guest state unchanged "
	       "each time but for %llu registrations that may have been taken, each then "
	       "unregistered before the table could be freed\n",
	       (unsigned long long)bad, (unsigned long long)transport, (unsigned long long)honest,
	       (unsigned long long)settled);
	sd_vmm_reg_destroy(r);
	sd_vm_free(vm);
}

int main(void)
{
	u64 seed, ops;

	sd_kvm_require();
	setvbuf(stdout, NULL, _IOLBF, 0);
	sd_thread_rcu_register();
	seed = env_u64("SD_KVM_SEED", (u64)time(NULL));
	ops = env_u64("SD_KVM_SOAK", 0) ? 10 * TS_OPS : TS_OPS;
	printf("tamper: seed=%llu changes per vCPU=%llu\n", (unsigned long long)seed,
	       (unsigned long long)ops);

	host_scribbles_while_the_guest_writes_at_cpl3(seed, ops);
	printf("ok: host_scribbles_while_the_guest_writes_at_cpl3\n");
	registration_answers_that_make_no_sense_are_bad_answers();
	printf("ok: registration_answers_that_make_no_sense_are_bad_answers\n");
	sd_thread_rcu_unregister();
	return 0;
}
#endif
