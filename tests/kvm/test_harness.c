// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_harness.c - the KVM harness itself (vmm/kvm/): the guest boots to
 * CPL 3 and reaches the ucall port, ucalls carry stages, values, file and line, guest
 * exceptions are reported, trapped MSRs round-trip and refuse with #GP,
 * CPUID advertises the transport bit, the guest-memory accessor classifies
 * holes, MMIO and slot boundaries, pausing stops every vCPU (and gives up,
 * undone, on one that does not stop in time), ucalls handled in the run
 * loop finish before a pause and none runs while paused, a vCPU paused in a
 * ucall never runs during a state save, dirty logging
 * reports exactly the pages written, and a vCPU's state moves to a new VM.
 *
 * One file, two halves (as KVM selftests do): guest_main() below is built
 * freestanding into the guest image; main() drives it.
 */
#include "sd_kvm_abi.h"
#include "sev_donate.h"

enum harness_case {
	CASE_BOOT = 1,
	CASE_ASSERT,
	CASE_EXCEPTION,
	CASE_MSR,
	CASE_CPUID,
	CASE_PAUSE,
	CASE_DIRTY,
	CASE_STATE,
	CASE_UCALLS,
	CASE_SYNC_COUNT,
};

#define TEST_MSR		0x4b564de0U	/* a trapped pair, handled by the test */
#define UNKNOWN_MSR		0x4b564de7U	/* neither trapped nor known to KVM */
#define SYNC_REPLY		0xfeedULL
#define COUNTERS_GPA		0x800000ULL	/* CASE_PAUSE: one u64 per vCPU */
#define DIRTY_GPA		0x1000000ULL	/* CASE_DIRTY: the dirty-logged slot */
#define DIRTY_PAGES		256
#define STATE_ROUNDS		1000

#ifdef SD_KVM_GUEST
/* ================================ guest ================================== */
#include "sd_rt.h"

static u64 lcg(u64 x)
{
	return x * 6364136223846793005ULL + 1442695040888963407ULL;
}

static void guest_boot(void)
{
	u64 reply = GUEST_SYNC_ARGS(1, sd_rt_read_cs(), sd_rt_read_rflags(), sd_rt_vcpu_id());

	GUEST_ASSERT_EQ(reply, SYNC_REPLY);
}

static void guest_assert(void)
{
	u64 v = 42;

	GUEST_SYNC_ARGS(1, __LINE__ + 1, 0, 0);
	GUEST_ASSERT_EQ(v, 41);
}

static void guest_exception(void)
{
	GUEST_SYNC(1);
	__asm__ __volatile__("ud2");
}

static void guest_msr(void)
{
	u64 val = 0;

	GUEST_ASSERT_EQ(sd_rt_wrmsr(TEST_MSR, 42), 0);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(TEST_MSR, &val), 0);
	GUEST_ASSERT_EQ(val, 42);
	/* The VMM refuses odd values: the WRMSR raises #GP, the gate returns -1. */
	GUEST_ASSERT_EQ(sd_rt_wrmsr(TEST_MSR, 43), -1);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(TEST_MSR, &val), 0);
	GUEST_ASSERT_EQ(val, 42);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(TEST_MSR + 1, &val), -1);
	/* KVM itself refuses an MSR it doesn't know; no exit. */
	GUEST_ASSERT_EQ(sd_rt_wrmsr(UNKNOWN_MSR, 1), -1);
	GUEST_ASSERT_EQ(sd_rt_wrmsr(0x4b564de0U + 0x100000U, 1), -1);
}

static void guest_cpuid(void)
{
	u32 r0[4], r1[4], n0[4], n1[4];

	sd_rt_cpuid(0x40000000, 0, r0);
	sd_rt_cpuid(SD_CPUID_LEAF, 0, r1);
	/*
	 * And at CPL 3, natively. Whether KVM sees that one depends on the host
	 * (CPUID faulting): the host side only reports what it got.
	 */
	__asm__ __volatile__("cpuid" : "=a"(n0[0]), "=b"(n0[1]), "=c"(n0[2]), "=d"(n0[3])
			     : "a"(0x40000000), "c"(0));
	__asm__ __volatile__("cpuid" : "=a"(n1[0]), "=b"(n1[1]), "=c"(n1[2]), "=d"(n1[3])
			     : "a"(SD_CPUID_LEAF), "c"(0));
	GUEST_SYNC_ARGS(1, r0[1], r0[2], r0[3]);
	GUEST_SYNC_ARGS(2, r1[0], n0[1], n1[0]);
}

static void guest_pause(u32 id)
{
	volatile u64 *ctr = (volatile u64 *)COUNTERS_GPA + id;

	while (!sd_rt_bootinfo()->stop)
		*ctr += 1;
}

static void guest_dirty(void)
{
	volatile u8 *slot = (volatile u8 *)DIRTY_GPA;

	slot[3 * 4096] = 1;
	slot[17 * 4096 + 100] = 2;
	slot[200 * 4096 + 4095] = 3;
	GUEST_SYNC(1);
	slot[5 * 4096 + 8] = 4;
	GUEST_SYNC(2);
	GUEST_SYNC(3);	/* nothing written since stage 2 */
}

static void guest_state(void)
{
	u64 x = sd_rt_bootinfo()->seed;
	u32 i;

	for (i = 0; i < STATE_ROUNDS; i++)
		x = lcg(x);
	GUEST_SYNC_ARGS(1, x, 0, 0);
	for (i = 0; i < STATE_ROUNDS; i++)
		x = lcg(x);
	GUEST_SYNC_ARGS(2, x, 0, 0);
}

/* Handled SYNCs, each answered with its sequence number plus one (args[2] + 1). */
static void guest_ucalls(u32 id)
{
	u64 i;

	for (i = 0; !sd_rt_bootinfo()->stop; i++)
		GUEST_ASSERT_EQ(GUEST_SYNC_ARGS(1, id, i, 0), i + 1);
}

/* A SYNC, then one count: a count past the SYNC means the guest ran on. */
static void guest_sync_count(u32 id)
{
	volatile u64 *ctr = (volatile u64 *)COUNTERS_GPA + id;

	while (!sd_rt_bootinfo()->stop) {
		GUEST_SYNC(1);
		*ctr += 1;
	}
}

void guest_main(u32 id)
{
	switch (sd_rt_bootinfo()->args[0]) {
	case CASE_BOOT:		guest_boot(); break;
	case CASE_ASSERT:	guest_assert(); break;
	case CASE_EXCEPTION:	guest_exception(); break;
	case CASE_MSR:		guest_msr(); break;
	case CASE_CPUID:	guest_cpuid(); break;
	case CASE_PAUSE:	guest_pause(id); break;
	case CASE_DIRTY:	guest_dirty(); break;
	case CASE_STATE:	guest_state(); break;
	case CASE_UCALLS:	guest_ucalls(id); break;
	case CASE_SYNC_COUNT:	guest_sync_count(id); break;
	default:		GUEST_ASSERT(0);
	}
}

#else
/* ================================ host =================================== */
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <urcu/system.h>
#include "sd_kvm.h"
#include "sd_vmm_reg.h"

extern const char sd_guest_image[], sd_guest_image_end[];

#define MIB	(1ULL << 20)

static struct sd_vm *vm_new(enum harness_case c, u32 nr_vcpus)
{
	struct sd_vm *vm = sd_vm_create();
	u32 i;

	sd_vm_add_ram(vm, 0, 16 * MIB, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	for (i = 0; i < nr_vcpus; i++)
		sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[0] = c;
	return vm;
}

static void expect_sync(struct sd_vcpu *v, u64 stage)
{
	int rc = sd_vcpu_run(v);

	TEST_ASSERT(rc == SD_UCALL_SYNC && v->uc.args[0] == stage,
		    "vCPU %u: want SYNC %llu, got ucall %d stage %llu", v->id,
		    (unsigned long long)stage, rc, (unsigned long long)v->uc.args[0]);
}

static void expect_done(struct sd_vcpu *v)
{
	int rc = sd_vcpu_run(v);

	TEST_ASSERT(rc == SD_UCALL_DONE, "vCPU %u: want DONE, got ucall %d stage %llu", v->id, rc,
		    (unsigned long long)v->uc.args[0]);
}

static void boots_to_cpl3_and_reaches_the_ucall_port(void)
{
	struct sd_vm *vm = vm_new(CASE_BOOT, 1);
	struct sd_vcpu *v = vm->vcpus[0];

	expect_sync(v, 1);
	/*
	 * CPL 3. Under kvm_pvm the selector reads back as the host's user CS,
	 * RFLAGS.IOPL as 0 and IF as 1 whatever the guest loaded (there is no
	 * interrupt source here anyway); the TSS I/O bitmap is what lets this
	 * very ucall through.
	 */
	TEST_ASSERT_EQ(v->uc.args[1] & 3, 3);
	TEST_ASSERT_EQ(v->uc.args[3], 0);			/* vCPU id */
	sd_vcpu_ucall_reply(v, SYNC_REPLY);
	expect_done(v);
	sd_vm_free(vm);
}

static void guest_assert_carries_file_line_and_values(void)
{
	struct sd_vm *vm = vm_new(CASE_ASSERT, 1);
	struct sd_vcpu *v = vm->vcpus[0];
	char expr[128], file[128];
	u64 line;
	int rc;

	expect_sync(v, 1);
	line = v->uc.args[1];
	rc = sd_vcpu_run_raw(v);
	TEST_ASSERT_EQ(rc, SD_UCALL_ASSERT);
	TEST_ASSERT_EQ(v->uc.line, line);
	TEST_ASSERT_EQ(v->uc.nargs, 2);
	TEST_ASSERT_EQ(v->uc.args[0], 42);
	TEST_ASSERT_EQ(v->uc.args[1], 41);
	sd_vm_read_str(vm, v->uc.expr, expr, sizeof(expr));
	sd_vm_read_str(vm, v->uc.file, file, sizeof(file));
	TEST_ASSERT(!strcmp(expr, "v == 41"), "expr '%s'", expr);
	TEST_ASSERT(!strcmp(file, "tests/kvm/test_harness.c"), "file '%s'", file);
	sd_vm_free(vm);
}

static void guest_exception_reports_vector_and_cpl(void)
{
	struct sd_vm *vm = vm_new(CASE_EXCEPTION, 1);
	struct sd_vcpu *v = vm->vcpus[0];
	int rc;

	expect_sync(v, 1);
	rc = sd_vcpu_run_raw(v);
	TEST_ASSERT_EQ(rc, SD_UCALL_EXCEPTION);
	TEST_ASSERT_EQ(v->uc.args[0], 6);			/* #UD */
	TEST_ASSERT_EQ(v->uc.args[3] & 3, 3);			/* raised at CPL 3 */
	sd_vm_free(vm);
}

struct msr_box {
	u64 val;
	u32 calls;
};

static int test_msr_fn(struct sd_vcpu *v, void *ctx, bool write, u32 msr, u64 *val)
{
	struct msr_box *b = ctx;

	(void)v;
	b->calls++;
	if (msr != TEST_MSR)
		return -1;
	if (!write) {
		*val = b->val;
		return 0;
	}
	if (*val & 1)
		return -1;
	b->val = *val;
	return 0;
}

static void trapped_msr_round_trips_and_refusal_is_gp(void)
{
	struct sd_vm *vm = sd_vm_create();
	struct msr_box box = { 0, 0 };
	struct sd_vcpu *v;

	sd_vm_add_ram(vm, 0, 16 * MIB, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	sd_vm_trap_msrs(vm, TEST_MSR, 2, test_msr_fn, &box);
	v = sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[0] = CASE_MSR;
	expect_done(v);
	/* Exactly the five accesses to the trapped pair exited. */
	TEST_ASSERT_EQ(box.calls, 5);
	TEST_ASSERT_EQ(v->nr_msr_exits, 5);
	TEST_ASSERT_EQ(box.val, 42);
	sd_vm_free(vm);
}

static void cpuid_advertises_exactly_the_msr_transport(void)
{
	struct sd_vm *vm = sd_vm_create();
	struct sd_vcpu *v;
	u32 eax;

	sd_vm_add_ram(vm, 0, 16 * MIB, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	sd_vm_set_cpuid_sd(vm, 1u << SD_CPUID_BIT_MSR);
	v = sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[0] = CASE_CPUID;
	expect_sync(v, 1);
	TEST_ASSERT_EQ(v->uc.args[1], 0x4b4d564b);	/* "KVMK" */
	TEST_ASSERT_EQ(v->uc.args[2], 0x564b4d56);	/* "VMKV" */
	TEST_ASSERT_EQ(v->uc.args[3], 0x4d);		/* "M\0\0\0" */
	expect_sync(v, 2);
	eax = (u32)v->uc.args[1];
	TEST_ASSERT_EQ((eax >> SD_CPUID_BIT_MSR) & 1, 1);
	TEST_ASSERT_EQ((eax >> SD_CPUID_BIT_HC) & 1, 0);
	/*
	 * CPUID at CPL 3 is not asserted: every KVM intercepts CPUID at CPL 0,
	 * but a paravirtual KVM running guest ring 3 natively on a CPU without
	 * CPUID faulting (AMD) returns the outer hypervisor's leaves there. The
	 * runtime's transport therefore runs CPUID at CPL 0 (transport.c).
	 */
	if (v->uc.args[2] == 0x4b4d564b && v->uc.args[3] == eax)
		printf("probe: CPUID at CPL 3 returns the VMM's leaves too\n");
	else
		printf("probe: CPUID at CPL 3 returns other leaves (signature EBX %#llx, "
		       "features EAX %#llx, want %#x): not virtualized at CPL 3 on this host; "
		       "the runtime uses CPL 0\n", (unsigned long long)v->uc.args[2],
		       (unsigned long long)v->uc.args[3], eax);
	expect_done(v);
	sd_vm_free(vm);
}

static void expect_map(struct sd_vm *vm, sd_gpa_t gpa, u64 len, int want)
{
	int err = 0;
	const void *p = sd_vm_mem_map(vm, gpa, len, &err);

	if (!want) {
		TEST_ASSERT(p, "map %#llx+%#llx failed with %d", (unsigned long long)gpa,
			    (unsigned long long)len, err);
		return;
	}
	TEST_ASSERT(!p && err == -want, "map %#llx+%#llx: got %p/%d, want %d",
		    (unsigned long long)gpa, (unsigned long long)len, p, err, -want);
}

static void accessor_classifies_slots_holes_and_mmio(void)
{
	struct sd_vm *vm = sd_vm_create();
	struct sd_vm_region *a, *b, *h;
	sd_gfn_t first, end;

	/* [0,8M) [8M,12M) adjacent; hole [12M,16M); MMIO [16M,20M); hotplug [20M,24M) */
	a = sd_vm_add_ram(vm, 0, 8 * MIB, 0);
	b = sd_vm_add_ram(vm, 8 * MIB, 4 * MIB, 0);
	sd_vm_add_mmio(vm, 16 * MIB, 4 * MIB);
	h = sd_vm_add_ram(vm, 20 * MIB, 4 * MIB, SD_MEM_HOTPLUG);

	TEST_ASSERT(sd_vm_mem_map(vm, 4096, 4096, &(int){ 0 }) == a->hva + 4096, "slot 0");
	TEST_ASSERT(sd_vm_mem_map(vm, 8 * MIB, 4 * MIB, &(int){ 0 }) == b->hva, "slot 1");
	TEST_ASSERT(sd_vm_mem_map(vm, 24 * MIB - 1, 1, &(int){ 0 }) == h->hva + 4 * MIB - 1,
		    "last byte of the hotplug slot");
	expect_map(vm, 8 * MIB - 4096, 4096, 0);
	expect_map(vm, 8 * MIB - 4096, 4097, SD_ERR_MEM_SPLIT);	/* into the adjacent slot */
	expect_map(vm, 12 * MIB - 8, 16, SD_ERR_MEM_UNBACKED);	/* into the hole */
	expect_map(vm, 12 * MIB, 1, SD_ERR_MEM_UNBACKED);		/* in the hole */
	expect_map(vm, 16 * MIB + 5, 10, SD_ERR_MEM_MMIO);
	expect_map(vm, 16 * MIB - 8, 16, SD_ERR_MEM_UNBACKED);	/* starts in the hole */
	expect_map(vm, 20 * MIB - 8, 16, SD_ERR_MEM_MMIO);		/* starts in MMIO */
	expect_map(vm, 24 * MIB - 4096, 4097, SD_ERR_MEM_UNBACKED);	/* past the end of RAM */
	expect_map(vm, 1ULL << 40, 4096, SD_ERR_MEM_UNBACKED);
	expect_map(vm, ~0ULL - 10, 100, SD_ERR_MEM_UNBACKED);	/* wraps */
	expect_map(vm, 4096, ~0ULL, SD_ERR_MEM_UNBACKED);		/* wraps */

	sd_vm_ram_range(vm, &first, &end);
	TEST_ASSERT_EQ(first, 0);
	TEST_ASSERT_EQ(end, 12 * MIB >> 12);	/* the hotplug slot is not boot RAM */
	sd_vm_free(vm);
}

static void *pause_vcpu_fn(struct sd_vcpu *v, void *arg)
{
	(void)arg;
	return (void *)(long)sd_vcpu_run(v);
}

/* Poll, without a clock, until @fn holds; a generous bound turns a hang into a failure. */
#define POLL_UNTIL(cond, what)							\
	do {									\
		unsigned long __n;						\
		for (__n = 0; !(cond); __n++) {					\
			TEST_ASSERT(__n < 200000000UL, "never: %s", what);	\
			sched_yield();						\
		}								\
	} while (0)

/* Paused (by the caller): no vCPU runs, no counter moves; resumed, both count again. */
static void assert_paused_then_resumes(struct sd_vm *vm, volatile u64 *ctr)
{
	u64 snap[2];

	TEST_ASSERT_EQ(sd_vm_nr_running(vm), 0);
	snap[0] = ctr[0];
	snap[1] = ctr[1];
	/* A vCPU still running would count millions while we yield. */
	for (u32 k = 0; k < 1000; k++)
		sched_yield();
	TEST_ASSERT_EQ(ctr[0], snap[0]);
	TEST_ASSERT_EQ(ctr[1], snap[1]);
	sd_vm_resume(vm);
	POLL_UNTIL(ctr[0] > snap[0] && ctr[1] > snap[1], "both vCPUs resume");
}

static void pause_stops_every_vcpu_and_resume_continues(void)
{
	struct sd_vm *vm = sd_vm_create();
	volatile u64 *ctr;
	u32 round, i;
	u64 kicks = 0;

	sd_vm_add_ram(vm, 0, 16 * MIB, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	sd_vm_add_vcpu(vm);
	sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[0] = CASE_PAUSE;
	ctr = sd_vm_hva(vm, COUNTERS_GPA, 16);
	for (i = 0; i < 2; i++)
		sd_vcpu_thread_start(vm->vcpus[i], pause_vcpu_fn, NULL);
	POLL_UNTIL(ctr[0] && ctr[1], "both vCPUs count");

	for (round = 0; round < 20; round++) {
		sd_vm_pause(vm);
		assert_paused_then_resumes(vm, ctr);
	}
	CMM_STORE_SHARED(sd_vm_bootinfo(vm)->stop, 1);
	for (i = 0; i < 2; i++) {
		TEST_ASSERT_EQ((long)sd_vcpu_thread_join(vm->vcpus[i]), SD_UCALL_DONE);
		kicks += vm->vcpus[i]->nr_kicks;
	}
	TEST_ASSERT_EQ(vm->nr_pauses, 20);
	/* Each round kicked at least one vCPU out of KVM_RUN. */
	TEST_ASSERT(kicks >= 20, "kicks %llu", (unsigned long long)kicks);
	sd_vm_free(vm);
}

static double mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A vCPU whose thread does not come back in time: the pause gives up, undone, and says so. */
static void pause_times_out_on_a_stuck_vcpu_and_the_vm_goes_on(void)
{
	struct sd_vm *vm = vm_new(CASE_PAUSE, 2);
	volatile u64 *ctr = sd_vm_hva(vm, COUNTERS_GPA, 16);
	u64 snap[2];
	double t0, took;
	void *ret;
	u32 i;

	for (i = 0; i < 2; i++)
		sd_vcpu_thread_start(vm->vcpus[i], pause_vcpu_fn, NULL);
	POLL_UNTIL(ctr[0] && ctr[1], "both vCPUs count");

	/* vCPU 1's thread, once kicked out of KVM_RUN, stays away from the pause for 2 s. */
	sd_vcpu_stall(vm->vcpus[1], 2000);
	t0 = mono_ms();
	TEST_ASSERT_EQ(sd_vm_pause_timed(vm, 300), -ETIMEDOUT);
	took = mono_ms() - t0;
	TEST_ASSERT(took >= 300 && took < 1500, "the pause gave up after %.0f ms, want 300 ms",
		    took);
	TEST_ASSERT_EQ(vm->nr_pause_timeouts, 1);
	TEST_ASSERT_EQ(__atomic_load_n(&vm->vcpus[1]->nr_stalls, __ATOMIC_RELAXED), 1);
	TEST_ASSERT_EQ(vm->pause_req, false);
	/* Undone: vCPU 0, which had parked, counts again; vCPU 1 goes on after its stall. */
	snap[0] = ctr[0];
	snap[1] = ctr[1];
	POLL_UNTIL(ctr[0] > snap[0], "vCPU 0 goes on after the pause gave up");
	POLL_UNTIL(ctr[1] > snap[1], "vCPU 1 goes on after its stall");

	/* The VM is sound: a pause now succeeds and holds, and resume works. */
	TEST_ASSERT_EQ(sd_vm_pause_timed(vm, 5000), 0);
	assert_paused_then_resumes(vm, ctr);

	/* And killed: a stalled vCPU's thread ends once its stall is over. */
	sd_vcpu_stall(vm->vcpus[0], 500);
	TEST_ASSERT_EQ(sd_vm_pause_timed(vm, 100), -ETIMEDOUT);
	sd_vm_kill_vcpus(vm);
	for (i = 0; i < 2; i++) {
		TEST_ASSERT_EQ(sd_vcpu_thread_join_timeout(vm->vcpus[i], 5000, &ret), 0);
		TEST_ASSERT_EQ((long)ret, SD_VCPU_KILLED);
	}
	TEST_ASSERT_EQ(vm->nr_pauses, 3);
	TEST_ASSERT_EQ(vm->nr_pause_timeouts, 2);
	sd_vm_free(vm);
}

struct ucall_box {
	u64 handled[2];		/* atomics: SYNCs each vCPU's handler answered */
	int in_handler[2];	/* atomics */
};

static bool test_ucall_fn(struct sd_vcpu *v, void *ctx)
{
	struct ucall_box *b = ctx;
	double until;

	if (v->uc.args[0] != 1)
		return false;
	__atomic_store_n(&b->in_handler[v->id], 1, __ATOMIC_SEQ_CST);
	/* A handler that takes a while (0.2 ms): a pause that does not wait for it would see it. */
	for (until = mono_ms() + 0.2; mono_ms() < until;)
		;
	TEST_ASSERT_EQ(v->uc.args[1], v->id);
	TEST_ASSERT_EQ(v->uc.args[2], __atomic_load_n(&b->handled[v->id], __ATOMIC_RELAXED));
	sd_vcpu_ucall_reply(v, v->uc.args[2] + 1);
	__atomic_add_fetch(&b->handled[v->id], 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&b->in_handler[v->id], 0, __ATOMIC_SEQ_CST);
	return true;
}

/* A ucall handled in the run loop is over before a pause returns, and none runs while paused. */
static void handled_ucalls_finish_before_a_pause_and_none_runs_while_paused(void)
{
	struct sd_vm *vm = sd_vm_create();
	static struct ucall_box box;
	u64 snap[2], kicks = 0;
	u32 round, i, k;

	sd_vm_add_ram(vm, 0, 16 * MIB, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	sd_vm_handle_ucalls(vm, test_ucall_fn, &box);
	sd_vm_add_vcpu(vm);
	sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[0] = CASE_UCALLS;
	for (i = 0; i < 2; i++)
		sd_vcpu_thread_start(vm->vcpus[i], pause_vcpu_fn, NULL);
	POLL_UNTIL(__atomic_load_n(&box.handled[0], __ATOMIC_RELAXED) &&
		   __atomic_load_n(&box.handled[1], __ATOMIC_RELAXED), "both vCPUs' ucalls handled");

	for (round = 0; round < 50; round++) {
		TEST_ASSERT_EQ(sd_vm_pause_timed(vm, 5000), 0);
		for (i = 0; i < 2; i++) {
			TEST_ASSERT(!__atomic_load_n(&box.in_handler[i], __ATOMIC_SEQ_CST),
				    "round %u: vCPU %u still in its handler after the pause", round, i);
			snap[i] = __atomic_load_n(&box.handled[i], __ATOMIC_SEQ_CST);
		}
		for (k = 0; k < 1000; k++)
			sched_yield();
		for (i = 0; i < 2; i++)
			TEST_ASSERT(__atomic_load_n(&box.handled[i], __ATOMIC_SEQ_CST) == snap[i],
				    "round %u: vCPU %u handled a ucall while paused", round, i);
		sd_vm_resume(vm);
		POLL_UNTIL(__atomic_load_n(&box.handled[0], __ATOMIC_RELAXED) > snap[0] &&
			   __atomic_load_n(&box.handled[1], __ATOMIC_RELAXED) > snap[1],
			   "both vCPUs' ucalls handled again");
	}
	CMM_STORE_SHARED(sd_vm_bootinfo(vm)->stop, 1);
	for (i = 0; i < 2; i++) {
		TEST_ASSERT_EQ((long)sd_vcpu_thread_join(vm->vcpus[i]), SD_UCALL_DONE);
		/* Every SYNC went to the handler: sd_vcpu_run returned none of them. */
		TEST_ASSERT_EQ(vm->vcpus[i]->nr_ucalls, box.handled[i] + 1);
		kicks += vm->vcpus[i]->nr_kicks;
	}
	TEST_ASSERT(kicks >= 1, "no vCPU was kicked in 50 pauses");
	sd_vm_free(vm);
}

struct sync_gate {
	u32 at;		/* atomic: the round whose SYNC the vCPU returned from sd_vcpu_run with */
	u32 go;		/* atomic: the round it may call sd_vcpu_run again */
};

static void *sync_gate_fn(struct sd_vcpu *v, void *arg)
{
	struct sync_gate *g = arg;

	for (u32 round = 1;; round++) {
		int rc = sd_vcpu_run(v);

		if (rc != SD_UCALL_SYNC)
			return (void *)(long)rc;
		__atomic_store_n(&g->at, round, __ATOMIC_RELEASE);
		POLL_UNTIL(__atomic_load_n(&g->go, __ATOMIC_ACQUIRE) >= round, "the next round");
	}
}

/*
 * A vCPU stopped in a ucall outside sd_vcpu_run counts as paused. Its
 * pending OUT is then completed by whichever comes first, a state save on
 * the pauser's thread or the vCPU's own thread calling sd_vcpu_run; with
 * both at once the guest must still not run a single instruction past it.
 */
static void a_paused_vcpu_back_from_a_ucall_never_runs_during_a_state_save(void)
{
	struct sd_vm *vm = vm_new(CASE_SYNC_COUNT, 1);
	struct sd_vcpu *v = vm->vcpus[0];
	volatile u64 *ctr = sd_vm_hva(vm, COUNTERS_GPA, 8);
	static struct sd_vcpu_state st;
	static struct sync_gate gate;
	u32 round, k;

	sd_vcpu_thread_start(v, sync_gate_fn, &gate);
	for (round = 1; round <= 500; round++) {
		u64 snap, rip;

		POLL_UNTIL(__atomic_load_n(&gate.at, __ATOMIC_ACQUIRE) == round, "the vCPU's SYNC");
		TEST_ASSERT_EQ(sd_vm_pause_timed(vm, 5000), 0);
		snap = *ctr;
		/* Let its thread into sd_vcpu_run while this one saves its state. */
		__atomic_store_n(&gate.go, round, __ATOMIC_RELEASE);
		sd_vcpu_state_save(v, &st);
		rip = st.regs.rip;
		for (k = 0; k < 2000; k++)
			sched_yield();
		TEST_ASSERT(*ctr == snap, "round %u: the guest ran while paused (%llu counts)", round,
			    (unsigned long long)(*ctr - snap));
		sd_vcpu_get_regs(v, &st.regs);
		TEST_ASSERT_EQ(st.regs.rip, rip);
		TEST_ASSERT_EQ(sd_vm_nr_running(vm), 0);
		sd_vm_resume(vm);
	}
	POLL_UNTIL(__atomic_load_n(&gate.at, __ATOMIC_ACQUIRE) == round, "the last SYNC");
	CMM_STORE_SHARED(sd_vm_bootinfo(vm)->stop, 1);
	__atomic_store_n(&gate.go, round, __ATOMIC_RELEASE);
	TEST_ASSERT_EQ((long)sd_vcpu_thread_join(v), SD_UCALL_DONE);
	TEST_ASSERT_EQ(*ctr, 501);	/* one count per round, and one on the way to DONE */
	sd_vm_free(vm);
}

static void expect_dirty(const u64 *bm, const u32 *pages, u32 n)
{
	u32 i, p;

	for (p = 0, i = 0; p < DIRTY_PAGES; p++) {
		bool want = i < n && pages[i] == p;
		bool got = (bm[p / 64] >> (p % 64)) & 1;

		TEST_ASSERT(got == want, "page %u: dirty %d, want %d", p, got, want);
		i += want;
	}
}

static void dirty_log_reports_exactly_the_pages_written(void)
{
	struct sd_vm *vm = sd_vm_create();
	struct sd_vm_region *r;
	struct sd_vcpu *v;
	u64 bm[DIRTY_PAGES / 64];
	static const u32 first[] = { 3, 17, 200 }, second[] = { 5 };

	sd_vm_add_ram(vm, 0, 16 * MIB, 0);
	r = sd_vm_add_ram(vm, DIRTY_GPA, DIRTY_PAGES * 4096ULL, SD_MEM_DIRTY_LOG);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	v = sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[0] = CASE_DIRTY;

	TEST_ASSERT_EQ(sd_vm_dirty_log_words(r), DIRTY_PAGES / 64);
	expect_sync(v, 1);
	TEST_ASSERT_EQ(sd_vm_dirty_log_get(vm, r, bm), 3);
	expect_dirty(bm, first, 3);
	expect_sync(v, 2);
	TEST_ASSERT_EQ(sd_vm_dirty_log_get(vm, r, bm), 1);	/* the log was cleared */
	expect_dirty(bm, second, 1);
	expect_sync(v, 3);
	TEST_ASSERT_EQ(sd_vm_dirty_log_get(vm, r, bm), 0);
	expect_done(v);
	sd_vm_free(vm);
}

static void vcpu_state_moves_to_a_new_vm(void)
{
	struct sd_vm *a = vm_new(CASE_STATE, 1), *b;
	struct sd_vcpu_state *st = calloc(1, sizeof(*st));
	u64 x1, x2;

	TEST_ASSERT(st, "calloc");
	sd_vm_bootinfo(a)->seed = 0x5eed;
	expect_sync(a->vcpus[0], 1);
	x1 = a->vcpus[0]->uc.args[1];
	sd_vcpu_state_save(a->vcpus[0], st);

	/* The destination: same layout, then a copy of all RAM and the state. */
	b = vm_new(CASE_STATE, 1);
	memcpy(b->regions[0].hva, a->regions[0].hva, a->regions[0].size);
	sd_vcpu_state_restore(b->vcpus[0], st);
	expect_sync(b->vcpus[0], 2);
	x2 = b->vcpus[0]->uc.args[1];
	expect_done(b->vcpus[0]);

	/* The source, resumed, computes the same value: the move lost nothing. */
	expect_sync(a->vcpus[0], 2);
	TEST_ASSERT_EQ(a->vcpus[0]->uc.args[1], x2);
	TEST_ASSERT(x1 != x2, "the guest made progress");
	expect_done(a->vcpus[0]);
	sd_vm_free(a);
	sd_vm_free(b);
	free(st);
}

/*
 * The probe names what this KVM offers; the harness runs only where every
 * capability it needs is there (main() skipped otherwise), and the
 * hypercall transport is advertised only where KVM can forward it.
 */
static void probe_reports_what_the_harness_needs(void)
{
	const struct sd_kvm_caps *c = sd_kvm_caps();
	const struct sd_kvm_hc_probe *hp;
	struct sd_vm *vm;
	struct sd_vcpu *v;

	TEST_ASSERT(c->present && !c->missing, "probe: %s", c->missing);
	TEST_ASSERT(c->user_space_msr && c->msr_filter && c->immediate_exit && c->vcpu_events &&
		    c->debugregs, "missing is NULL but a capability is absent");
	TEST_ASSERT_EQ(c->hc_register, (c->exit_hypercall >> SD_HC_REGISTER) & 1);
	printf("probe: user-space MSRs, MSR filter, immediate exit; xsave %d, xcrs %d; "
	       "max vCPUs %u; forwardable hypercalls %#llx; SD_HC_REGISTER %s\n", c->xsave, c->xcrs,
	       c->max_vcpus, (unsigned long long)c->exit_hypercall,
	       c->hc_register ? "forwardable (a patched KVM)" : "not forwardable (an unpatched KVM)");

	/*
	 * Whether the hypercall instruction comes back, found by experiment (a
	 * bounded one: a vCPU that hangs is killed). Any KVM that forwards
	 * SD_HC_REGISTER answers hypercalls, so it must come back there.
	 */
	hp = sd_kvm_hypercall_probe();
	printf("probe: %s at CPL 0: %s (%llu ms)%s\n",
	       hp->tried == SD_KVM_HC_VMMCALL ? "VMMCALL" : "VMCALL", hp->why,
	       (unsigned long long)hp->us / 1000,
	       hp->insn ? "" : "; the runtime never executes it");
	TEST_ASSERT(hp->tried == SD_KVM_HC_VMMCALL || hp->tried == SD_KVM_HC_VMCALL, "tried %u",
		    hp->tried);
	TEST_ASSERT(hp->insn == SD_KVM_HC_NONE || hp->insn == hp->tried, "insn %u", hp->insn);
	if (c->hc_register)
		TEST_ASSERT(hp->insn != SD_KVM_HC_NONE, "KVM forwards SD_HC_REGISTER but the "
			    "hypercall does not return: %s", hp->why);
	/* Where it comes back, an unknown number (no forwarding on the scratch VM) is ENOSYS. */
	if (hp->insn)
		TEST_ASSERT_EQ(hp->rax, (u64)-SD_KVM_ENOSYS);

	/* The registration endpoint advertises exactly the transports this KVM carries. */
	vm = sd_vm_create();
	sd_vm_add_ram(vm, 0, 16 * MIB, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	sd_vmm_reg_create(vm);
	v = sd_vm_add_vcpu(vm);
	sd_vm_bootinfo(vm)->args[0] = CASE_CPUID;
	expect_sync(v, 1);
	expect_sync(v, 2);
	TEST_ASSERT_EQ((v->uc.args[1] >> SD_CPUID_BIT_MSR) & 1, 1);
	TEST_ASSERT_EQ((v->uc.args[1] >> SD_CPUID_BIT_HC) & 1, c->hc_register);
	expect_done(v);
	sd_vmm_reg_destroy(vm->priv);
	sd_vm_free(vm);
}

#define RUN(t)	do { t(); printf("ok: %s\n", #t); fflush(stdout); } while (0)

int main(void)
{
	sd_kvm_require();
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(probe_reports_what_the_harness_needs);
	RUN(accessor_classifies_slots_holes_and_mmio);
	RUN(boots_to_cpl3_and_reaches_the_ucall_port);
	RUN(guest_assert_carries_file_line_and_values);
	RUN(guest_exception_reports_vector_and_cpl);
	RUN(trapped_msr_round_trips_and_refusal_is_gp);
	RUN(cpuid_advertises_exactly_the_msr_transport);
	RUN(dirty_log_reports_exactly_the_pages_written);
	RUN(vcpu_state_moves_to_a_new_vm);
	RUN(pause_stops_every_vcpu_and_resume_continues);
	RUN(pause_times_out_on_a_stuck_vcpu_and_the_vm_goes_on);
	RUN(handled_ucalls_finish_before_a_pause_and_none_runs_while_paused);
	RUN(a_paused_vcpu_back_from_a_ucall_never_runs_during_a_state_save);
	printf("harness: 13 tests passed\n");
	return 0;
}
#endif
