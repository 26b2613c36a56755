// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * reg.c - the registration endpoint (sd_vmm_reg.h): MSR and hypercall exits
 * to host/, publication with RCU.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sev_donate.h"
#include "sd_vmm_reg.h"

static struct sd_vmm_reg_rec *rec_alloc(struct sd_vmm_reg *r)
{
	struct sd_vmm_reg_rec *rec;

	/* Fault injection: an allocation that fails (the test sets it, no vCPU running). */
	if (SD_LOAD(r->fail_allocs)) {
		SD_DEC(r->fail_allocs);
		return NULL;
	}
	rec = malloc(sizeof(*rec));

	if (rec) {
		rec->owner = r;
		SD_INC(r->nr_live_records);
	}
	return rec;
}

static void rec_free_now(struct sd_vmm_reg_rec *rec)
{
	if (rec) {
		SD_DEC(rec->owner->nr_live_records);
		free(rec);
	}
}

#ifdef __SANITIZE_THREAD__
int sd_rcu_tsan_token, sd_rcu_tsan_barrier;

/* liburcu is not instrumented: its internal allocations are not our races. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "called_from_lib:liburcu-memb.so\ncalled_from_lib:liburcu-common.so\n";
}
#endif

void sd_vmm_reg_unregistered_reader(void)
{
	fputs("sev-donate: BUG: a thread read the guest's registration without registering "
	      "with liburcu (sd_thread_rcu_register): grace periods do not wait for it, so "
	      "the record it reads may be freed under it\n", stderr);
	abort();
}

/* call_rcu callback: every reader that could see the record has left. */
static void rec_free(struct rcu_head *head)
{
	sd_rcu_tsan_reclaim();
	rec_free_now(caa_container_of(head, struct sd_vmm_reg_rec, rcu));
	sd_rcu_tsan_reclaimed();
}

/*
 * WRMSR SD_MSR_TABLE, on the writing vCPU's thread. The new record starts
 * as a copy of the current one (sd_host_register() keeps the generation
 * going and, on failure, leaves it untouched) and is published only on
 * success. The whole attempt runs inside one read-side critical section:
 * the record it copied cannot be freed (and its address reused) before the
 * compare-and-exchange, so a successful exchange means nothing was
 * published in between. The guest-controlled part, sd_host_register(), is
 * bounded (a header and the chunks holding the table's pages). @status
 * is the writing vCPU's status MSR (NULL from the VMM side).
 */
static int reg_write(struct sd_vmm_reg *r, struct sd_vmm_reg_attempt *last, u32 *status,
		     u64 value, u32 flags, const struct sd_hc_args *hc)
{
	struct sd_vmm_reg_rec *rec = rec_alloc(r), *old;
	struct sd_host_stats st = { 0 };
	struct sd_errloc loc = { 0, SD_LOC_NONE, SD_LOC_NONE };
	SD_HOST_OPTS(sd_host_register_opts, opts, .flags = flags, .hc = hc, .stats = &st,
		     .loc = &loc);
	int rc;

	SD_INC(r->nr_attempts);
	if (!rec) {
		/*
		 * Nowhere to build the registration: this host cannot take one
		 * now. A host may answer only SPEC.md 5.4's errors, and
		 * SD_ERR_UNSUPPORTED is the one that says so (the guest keeps its
		 * table and may register later); SD_ERR_TRANSPORT is a guest's
		 * verdict on a failed instruction, not an answer.
		 */
		rc = -SD_ERR_UNSUPPORTED;
		goto out;
	}
	sd_vmm_reg_read_lock();
	for (;;) {
		old = sd_rcu_dereference(r->cur);
		rec->reg = old->reg;
		memset(&st, 0, sizeof(st));
		rc = sd_host_register(&rec->reg, &r->cfg, &r->mem, value, &opts);
		if (rc)
			break;
		/*
		 * Publish: rcu_cmpxchg_pointer orders the record's contents
		 * before the pointer (it is a full barrier), pairing with the
		 * readers' rcu_dereference.
		 */
		if (sd_rcu_cmpxchg_pointer(&r->cur, old, rec) == old) {
			call_rcu(&old->rcu, rec_free);
			rec = NULL;
			break;
		}
		/* Another vCPU published first: register again on top of its record. */
		SD_INC(r->nr_publish_races);
	}
	sd_vmm_reg_read_unlock();
	rec_free_now(rec);	/* not published (NULL if it was) */
out:
	last->value = value;
	last->err = rc;
	last->loc = loc;
	last->stats = st;
	if (rc)
		SD_INC(r->nr_failed);
	else
		SD_INC(r->nr_ok);
	SD_STORE(r->status, (u32)-rc);
	if (status)
		SD_STORE(*status, (u32)-rc);
	return rc;
}

/* The trapped MSR pair (SPEC.md 5.3). Return -1: KVM injects #GP. */
static int reg_msr(struct sd_vcpu *v, void *ctx, bool write, u32 msr, u64 *val)
{
	struct sd_vmm_reg *r = ctx;

	if (msr == SD_MSR_TABLE) {
		const struct sd_host_reg *reg;

		if (write)
			return reg_write(r, &r->last[v->id], &r->vcpu_status[v->id], *val, 0,
					 NULL) ? -1 : 0;
		sd_vmm_reg_read_lock();
		reg = sd_vmm_reg_current(r);
		*val = reg->active ? reg->value : 0;
		sd_vmm_reg_read_unlock();
		return 0;
	}
	if (msr == SD_MSR_STATUS && !write) {
		*val = sd_vmm_reg_vcpu_status(r, v->id);	/* this vCPU's attempt only */
		return 0;
	}
	return -1;	/* WRMSR SD_MSR_STATUS is #GP */
}

/*
 * SD_HC_REGISTER, forwarded by KVM (SPEC.md 5.2): a0 is the value, a1..a3
 * the cross-checks host/ applies (5.5 steps 1 and 4). The answer, 0 or
 * -SD_ERR_*, is what the guest finds in RAX.
 */
static s64 reg_hypercall(struct sd_vcpu *v, void *ctx, u64 nr, const u64 args[4])
{
	struct sd_vmm_reg *r = ctx;
	struct sd_hc_args hc = { .size = args[1], .abi_major = args[2], .reserved = args[3] };

	(void)nr;
	SD_INC(r->nr_hc);
	return reg_write(r, &r->last[v->id], &r->vcpu_status[v->id], args[0], 0, &hc);
}

/* SD_VMM_REG_TRANSPORTS="msr", "hc" or "msr,hc" in the environment, or 0 if unset. */
static u32 transports_from_env(void)
{
	const char *e = getenv("SD_VMM_REG_TRANSPORTS");
	u32 t = 0;

	if (!e)
		return 0;
	if (strstr(e, "msr"))
		t |= SD_VMM_REG_MSR;
	if (strstr(e, "hc"))
		t |= SD_VMM_REG_HC;
	TEST_ASSERT(t, "SD_VMM_REG_TRANSPORTS=%s: want msr, hc or msr,hc", e);
	return t;
}

struct sd_vmm_reg *sd_vmm_reg_create(struct sd_vm *vm)
{
	u32 t = transports_from_env();

	if (!t)
		t = SD_VMM_REG_MSR | (sd_kvm_caps()->hc_register ? SD_VMM_REG_HC : 0);
	return sd_vmm_reg_create_transports(vm, t);
}

struct sd_vmm_reg *sd_vmm_reg_create_transports(struct sd_vm *vm, u32 transports)
{
	struct sd_vmm_reg *r = calloc(1, sizeof(*r));
	struct sd_vmm_reg_rec *rec;
	sd_gfn_t first, end;
	u64 limit;

	TEST_ASSERT(r, "calloc");
	rec = rec_alloc(r);
	TEST_ASSERT(rec, "malloc");
	memset(&rec->reg, 0, sizeof(rec->reg));
	TEST_ASSERT(vm->nr_vcpus == 0, "create the registration endpoint before the vCPUs");
	r->vm = vm;
	r->mem.map = sd_vm_mem_map;
	r->mem.ctx = vm;
	sd_vm_ram_range(vm, &first, &end);
	limit = vm->phys_bits >= 12 + 40 ? SD_GFN_LIMIT : 1ULL << (vm->phys_bits - 12);
	r->cfg.lim.ram_first_gfn = first;
	r->cfg.lim.ram_end_gfn = end;
	r->cfg.lim.gfn_limit = limit;
	r->cfg.lim.max_table_bytes = SD_VMM_REG_MAX_TABLE;
	r->cfg.phys_bits = vm->phys_bits;
	r->cfg.max_attempts = SD_VMM_REG_MAX_ATTEMPTS;
	r->cur = rec;		/* inactive, generation 0 */

	TEST_ASSERT(transports && !(transports & ~(SD_VMM_REG_MSR | SD_VMM_REG_HC)),
		    "transports %#x", transports);
	TEST_ASSERT(!(transports & SD_VMM_REG_HC) || sd_kvm_caps()->hc_register,
		    "the hypercall transport needs a KVM that forwards SD_HC_REGISTER "
		    "(KVM_CAP_EXIT_HYPERCALL bit %u: a patched KVM, SPEC.md 5.2)", SD_HC_REGISTER);
	/* CPUID advertises exactly what is served (SPEC.md 5.4). */
	sd_vm_set_cpuid_sd(vm, (transports & SD_VMM_REG_MSR ? 1u << SD_CPUID_BIT_MSR : 0) |
			       (transports & SD_VMM_REG_HC ? 1u << SD_CPUID_BIT_HC : 0));
	TEST_ASSERT(SD_MSR_STATUS == SD_MSR_TABLE + 1, "the two MSRs are adjacent");
	if (transports & SD_VMM_REG_MSR)
		sd_vm_trap_msrs(vm, SD_MSR_TABLE, 2, reg_msr, r);
	if (transports & SD_VMM_REG_HC)
		sd_vm_forward_hypercall(vm, SD_HC_REGISTER, reg_hypercall, r);
	r->transports = transports;
	vm->priv = r;
	return r;
}

int sd_vmm_reg_restore(struct sd_vmm_reg *r, u64 value, struct sd_vmm_reg_attempt *out)
{
	struct sd_vmm_reg_attempt a;
	int rc = reg_write(r, &a, NULL, value, SD_READ_PAUSED, NULL);

	if (out)
		*out = a;
	return rc;
}

int sd_vmm_reg_snapshot(struct sd_vmm_reg *r, struct sd_host_reg *out)
{
	sd_vmm_reg_read_lock();
	*out = *sd_vmm_reg_current(r);
	sd_vmm_reg_read_unlock();
	return out->active ? 0 : -SD_ERR_NO_TABLE;
}

struct quiesce_sentinel {
	struct rcu_head rcu;
	int ran;		/* atomic */
};

static void sentinel_fn(struct rcu_head *head)
{
	struct quiesce_sentinel *q = caa_container_of(head, struct quiesce_sentinel, rcu);

	__atomic_store_n(&q->ran, 1, __ATOMIC_RELEASE);
}

void sd_vmm_reg_quiesce(struct sd_vmm_reg *r)
{
	struct quiesce_sentinel q = { .ran = 0 };
	bool registered = sd_thread_rcu_registered();
	struct timespec t0, now;

	(void)r;
	rcu_barrier();
	sd_rcu_tsan_barrier_done();
	/*
	 * rcu_barrier() returns once its completion callback has signalled it,
	 * before that callback frees the barrier's own two bookkeeping objects
	 * on the call_rcu thread. That thread runs callbacks in order: once a
	 * sentinel queued now has run, those are freed too, and nothing of
	 * ours is left in liburcu's hands (a VMM measuring its heap right
	 * after sd_vmm_reg_destroy sees exactly what it holds). call_rcu wants
	 * a registered thread; the sentinel allocates nothing.
	 */
	if (!registered)
		sd_thread_rcu_register();
	call_rcu(&q.rcu, sentinel_fn);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!__atomic_load_n(&q.ran, __ATOMIC_ACQUIRE)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		TEST_ASSERT(now.tv_sec - t0.tv_sec < SD_VMM_QUIESCE_S,
			    "the call_rcu thread did not run a callback within %d s", SD_VMM_QUIESCE_S);
		sched_yield();
	}
	if (!registered)
		sd_thread_rcu_unregister();
}

void sd_vmm_reg_destroy(struct sd_vmm_reg *r)
{
	if (!r)
		return;
	sd_vmm_reg_quiesce(r);
	rec_free_now(r->cur);
	free(r);
}
