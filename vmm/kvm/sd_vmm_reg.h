/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_vmm_reg.h - the VMM's registration endpoint: the guest's WRMSR and
 * RDMSR of SD_MSR_TABLE / SD_MSR_STATUS exit to the vCPU thread
 * (KVM_X86_SET_MSR_FILTER), and so does its SD_HC_REGISTER hypercall where
 * KVM forwards it (KVM_EXIT_HYPERCALL, a patched KVM); the thread passes
 * the value (and the hypercall's cross-checks) to host/'s
 * sd_host_register(); the current registration is published to the VMM's
 * other threads with liburcu (memb flavor).
 *
 * Synchronization table:
 *
 *   operation                        concurrent with                       requires
 *   WRMSR SD_MSR_TABLE or            readers; registrations on other       nothing: builds a new record,
 *     SD_HC_REGISTER (vCPU thread)   vCPUs                                 publishes it with
 *                                                                          rcu_cmpxchg_pointer, retries
 *                                                                          if another vCPU published first;
 *                                                                          the result goes to this vCPU's
 *                                                                          status only (vcpu_status[id])
 *   sd_vmm_reg_read_lock/_current    WRMSR on any vCPU, other readers      an RCU-registered thread
 *     (any thread)                                                         (sd_thread_rcu_register;
 *                                                                          checked: else abort)
 *   freeing a replaced record        -                                     call_rcu: after every reader
 *                                                                          that could see it has left
 *   sd_vmm_reg_restore (VMM thread)  readers                               vCPUs not running; an
 *                                                                          RCU-registered thread
 *   sd_vmm_reg_create                nothing                               before the first vCPU
 *   sd_vmm_reg_destroy               nothing                               vCPUs and readers stopped
 *
 * Neither side takes a lock. A record is immutable once published, so a
 * reader never sees a half-updated registration: it sees the old record or
 * the new one, whole.
 *
 * What a guest can drive here: the value it writes (host/ validates it,
 * with bounded reads through the accessor), and how often. Each successful
 * registration allocates one fixed-size record and frees the one it
 * replaces after a grace period; a failed one allocates nothing that
 * outlives the call. If the record cannot be allocated the attempt fails
 * with SD_ERR_UNSUPPORTED, an answer SPEC.md 5.4 allows.
 */
#ifndef SD_VMM_REG_H
#define SD_VMM_REG_H

#define RCU_MEMBARRIER
#include <urcu.h>

#include "sd_host.h"
#include "sd_kvm.h"

/*
 * liburcu's ordering is invisible to ThreadSanitizer (inline asm for the
 * pointer operations, the membarrier syscall for grace periods), so under
 * -fsanitize=thread the same operations are spelled so that it sees them:
 *   - publication and lookup as C11 atomics (a full-barrier exchange, an
 *     acquire load: on x86 the same lock cmpxchg and plain load);
 *   - a grace period as a happens-before edge from every read-side unlock
 *     to the call_rcu callback that frees a record (__tsan_release at
 *     unlock, __tsan_acquire before the free), which is what the grace
 *     period guarantees; and rcu_barrier() as an edge from every callback
 *     to its caller;
 *   - liburcu's own internals (its call_rcu thread allocates and frees
 *     with no ordering TSan can see) are left out of reports with a
 *     called_from_lib suppression built into the program (reg.c).
 * Without the sanitizer these are liburcu's own rcu_dereference and
 * rcu_cmpxchg_pointer.
 */
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#define sd_rcu_dereference(p)	__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define sd_rcu_cmpxchg_pointer(pp, old, new)					\
	({									\
		__typeof__(*(pp)) __old = (old);				\
		__atomic_compare_exchange_n(pp, &__old, new, false,		\
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);\
		__old;								\
	})
extern int sd_rcu_tsan_token, sd_rcu_tsan_barrier;
#define sd_rcu_tsan_unlock()	__tsan_release(&sd_rcu_tsan_token)
#define sd_rcu_tsan_reclaim()	__tsan_acquire(&sd_rcu_tsan_token)
#define sd_rcu_tsan_reclaimed()	__tsan_release(&sd_rcu_tsan_barrier)
#define sd_rcu_tsan_barrier_done() __tsan_acquire(&sd_rcu_tsan_barrier)
#else
#define sd_rcu_dereference(p)	rcu_dereference(p)
#define sd_rcu_cmpxchg_pointer(pp, old, new)	rcu_cmpxchg_pointer(pp, old, new)
#define sd_rcu_tsan_unlock()	do { } while (0)
#define sd_rcu_tsan_reclaim()	do { } while (0)
#define sd_rcu_tsan_reclaimed()	do { } while (0)
#define sd_rcu_tsan_barrier_done() do { } while (0)
#endif

/* One registration attempt, as the VMM saw it. */
struct sd_vmm_reg_attempt {
	u64 value;
	int err;			/* 0 or a negative SD_ERR_* */
	struct sd_errloc loc;		/* where host/ found the error */
	struct sd_host_stats stats;	/* the work host/ did for it */
};

/* One published registration; immutable once published. */
struct sd_vmm_reg_rec {
	struct sd_host_reg reg;
	struct rcu_head rcu;
	struct sd_vmm_reg *owner;
};

struct sd_vmm_reg {
	struct sd_vm *vm;
	struct sd_host_cfg cfg;
	struct sd_host_mem mem;
	/* RCU-protected: never NULL (an inactive record when nothing is registered). */
	struct sd_vmm_reg_rec *cur;
	/* Result of the latest attempt by any vCPU or the VMM, positive SD_ERR_* (the VMM's view). */
	u32 status;
	u32 transports;			/* SD_VMM_REG_*: what this endpoint serves */
	/*
	 * What RDMSR SD_MSR_STATUS reads on each vCPU: the result of that
	 * vCPU's latest attempt (SPEC.md 5.3), written by its thread only, so
	 * that vCPUs registering at once never read each other's result.
	 */
	u32 vcpu_status[SD_KVM_MAX_VCPUS];
	/* Fault injection: fail this many record allocations (set while no vCPU runs). */
	u32 fail_allocs;
	/* Counters (SD_INC); nr_hc: attempts that came by hypercall. */
	u64 nr_attempts, nr_ok, nr_failed, nr_publish_races, nr_hc;
	/* Records allocated and not yet freed: 1 once sd_vmm_reg_quiesce() returns. */
	u64 nr_live_records;
	/*
	 * Each vCPU's latest attempt, written by that vCPU's thread only: read
	 * it while the vCPU is stopped (at its next ucall, or joined).
	 */
	struct sd_vmm_reg_attempt last[SD_KVM_MAX_VCPUS];
};

/* Defaults: 64 attempts per chunk at registration, tables up to 16 MiB. */
#define SD_VMM_REG_MAX_ATTEMPTS	64
#define SD_VMM_REG_MAX_TABLE	(16ULL << 20)

/* Transports an endpoint serves. */
#define SD_VMM_REG_MSR	(1u << 0)	/* SD_MSR_TABLE / SD_MSR_STATUS, trapped */
#define SD_VMM_REG_HC	(1u << 1)	/* SD_HC_REGISTER, forwarded by KVM */

/*
 * Create the endpoint for @vm, before its vCPUs, serving @transports:
 * trap the two MSRs (SD_VMM_REG_MSR), have KVM forward SD_HC_REGISTER
 * (SD_VMM_REG_HC: only a KVM that can, sd_kvm_caps()->hc_register; asserts
 * otherwise), advertise exactly those in CPUID (bits 28 and 29), and fill
 * the host configuration from the VM: boot RAM (sd_vm_ram_range), the
 * guest's MAXPHYADDR, SD_VMM_REG_MAX_* limits. The caller may adjust
 * r->cfg before the guest registers.
 */
struct sd_vmm_reg *sd_vmm_reg_create_transports(struct sd_vm *vm, u32 transports);
/*
 * The same with what this KVM carries: the MSRs, and the hypercall where
 * KVM forwards it (stock KVM does not: SPEC.md 5.2). The environment
 * variable SD_VMM_REG_TRANSPORTS ("msr", "hc", "msr,hc") overrides that,
 * so a test can make every VMM of a run serve one transport only.
 */
struct sd_vmm_reg *sd_vmm_reg_create(struct sd_vm *vm);
void sd_vmm_reg_destroy(struct sd_vmm_reg *r);

/* An unregistered thread tried to read: says so on stderr and aborts (every build). */
void sd_vmm_reg_unregistered_reader(void) __attribute__((noreturn));

/*
 * Readers: between sd_vmm_reg_read_lock() and _unlock() (rcu_read_lock),
 * sd_vmm_reg_current() returns the current record (rcu_dereference), valid
 * until unlock. Use these rather than the bare liburcu calls (see above).
 *
 * Only a thread registered with liburcu (sd_thread_rcu_register) may read:
 * grace periods do not wait for any other, so a record it copies may be
 * freed under it. That is checked here, in every build, and such a reader
 * aborts loudly. The ThreadSanitizer model follows the same rule: only a
 * registered reader's unlock is an edge to the reclaimer, and there is no
 * other kind of reader.
 */
static inline void sd_vmm_reg_read_lock(void)
{
	if (!sd_thread_rcu_registered())
		sd_vmm_reg_unregistered_reader();
	rcu_read_lock();
}

static inline void sd_vmm_reg_read_unlock(void)
{
	sd_rcu_tsan_unlock();
	rcu_read_unlock();
}

static inline const struct sd_host_reg *sd_vmm_reg_current(struct sd_vmm_reg *r)
{
	struct sd_vmm_reg_rec *rec = sd_rcu_dereference(r->cur);

	return &rec->reg;
}

/*
 * Register @value from the VMM side, as a migration destination does with
 * the registration it received (SPEC.md 7.4): host/ validates it against
 * this VM's memory with its own limits, deciding odd table chunks as a
 * paused read (the vCPUs must not be running), and on success publishes
 * it like a guest's WRMSR would. Returns 0 or the named error; @out (may
 * be NULL) gets the attempt. Updates sd_vmm_reg_status(), not any vCPU's status MSR:
 * the attempt is the VMM's, not a guest's.
 */
int sd_vmm_reg_restore(struct sd_vmm_reg *r, u64 value, struct sd_vmm_reg_attempt *out);

/* Copy the current registration: 0, or -SD_ERR_NO_TABLE if nothing is registered. */
int sd_vmm_reg_snapshot(struct sd_vmm_reg *r, struct sd_host_reg *out);

/* The latest attempt's positive SD_ERR_* (0 for success), whichever vCPU or the VMM made it. */
static inline u32 sd_vmm_reg_status(struct sd_vmm_reg *r)
{
	return SD_LOAD(r->status);
}

/* What RDMSR SD_MSR_STATUS reads on vCPU @id: its latest attempt's result (0: none yet). */
static inline u32 sd_vmm_reg_vcpu_status(struct sd_vmm_reg *r, u32 id)
{
	return SD_LOAD(r->vcpu_status[id]);
}

/*
 * Wait until every replaced record has been freed (rcu_barrier), and
 * liburcu's own bookkeeping for the wait too: at most SD_VMM_QUIESCE_S
 * (then the test fails). From outside any read-side critical section.
 */
#define SD_VMM_QUIESCE_S	30
void sd_vmm_reg_quiesce(struct sd_vmm_reg *r);

#endif /* SD_VMM_REG_H */
