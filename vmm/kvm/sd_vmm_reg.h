/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_vmm_reg.h - the VMM's registration endpoint: the guest's WRMSR and
 * RDMSR of SD_MSR_TABLE / SD_MSR_STATUS exit to the vCPU thread
 * (KVM_X86_SET_MSR_FILTER), which passes the value to host/'s
 * sd_host_register(); the current registration is published to the VMM's
 * other threads with liburcu (memb flavor).
 *
 * Synchronization table:
 *
 *   operation                        concurrent with                       requires
 *   WRMSR SD_MSR_TABLE (vCPU thread) readers; WRMSR on other vCPUs         nothing: builds a new record,
 *                                                                          publishes it with
 *                                                                          rcu_cmpxchg_pointer, retries
 *                                                                          if another vCPU published first
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
 * outlives the call.
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
	/* Result of the latest attempt, positive SD_ERR_* (what RDMSR SD_MSR_STATUS reads). */
	u32 status;
	/* Counters (SD_INC). */
	u64 nr_attempts, nr_ok, nr_failed, nr_publish_races;
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

/*
 * Create the endpoint for @vm, before its vCPUs: trap the two MSRs,
 * advertise SD_CPUID_BIT_MSR (and not the hypercall bit: vmcall hangs on
 * these hosts), and fill the host configuration from the VM: boot RAM
 * (sd_vm_ram_range), the guest's MAXPHYADDR, SD_VMM_REG_MAX_* limits.
 * The caller may adjust r->cfg before the guest registers.
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
 * be NULL) gets the attempt. Updates the status MSR's value.
 */
int sd_vmm_reg_restore(struct sd_vmm_reg *r, u64 value, struct sd_vmm_reg_attempt *out);

/* Copy the current registration: 0, or -SD_ERR_NO_TABLE if nothing is registered. */
int sd_vmm_reg_snapshot(struct sd_vmm_reg *r, struct sd_host_reg *out);

/* What RDMSR SD_MSR_STATUS would read: the latest attempt's positive SD_ERR_*, 0 for success. */
static inline u32 sd_vmm_reg_status(struct sd_vmm_reg *r)
{
	return SD_LOAD(r->status);
}

/* Wait until every replaced record has been freed (rcu_barrier). */
void sd_vmm_reg_quiesce(struct sd_vmm_reg *r);

#endif /* SD_VMM_REG_H */
