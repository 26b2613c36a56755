/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_kvm.h - a small VMM library on /dev/kvm, in the spirit of KVM
 * selftests' kvm_util: VMs whose RAM lives in memslots backed by this
 * process's own mappings (several slots, holes and declared MMIO ranges
 * between them), 1..SD_KVM_MAX_VCPUS vCPUs in long mode with one thread
 * each, a freestanding test guest loaded from an ELF image, ucalls, MSRs
 * trapped to userspace, pausing, dirty logging and vCPU state save/restore.
 *
 * Library code reports misuse and ioctl failures with TEST_ASSERT (it is a
 * test harness); the guest-memory accessor, which host/ calls on
 * guest-controlled addresses, never asserts: it returns the named error.
 *
 * Addresses are typed: sd_gpa_t is guest-physical, sd_gva_t guest-virtual,
 * and host pointers are plain pointers. The guest's low 4 GiB are
 * identity-mapped, so a GVA below SD_KVM_IDMAP_BYTES equals its GPA.
 *
 * Threads (synchronization table):
 *
 *   operation                         concurrent with                 requires
 *   sd_vm_create, _add_ram/_mmio,     nothing                         before the first sd_vm_add_vcpu
 *     _trap_msrs, _set_cpuid_sd,
 *     _handle_ucalls
 *   sd_vcpu_run (one vCPU)            other vCPUs' sd_vcpu_run, the   only the vCPU's own thread
 *                                     accessor, pause/resume
 *   sd_vm_mem_map (the accessor)      everything                      nothing: the slot table is
 *                                                                     fixed once vCPUs exist
 *   sd_vm_pause_timed / sd_vm_resume  sd_vcpu_run on every vCPU       one pauser at a time; resume
 *     (and sd_vm_pause)                                                 only after a pause returned 0
 *   sd_vcpu_stall (a test fault)      everything                      nothing
 *   sd_vm_kill_vcpus                  sd_vcpu_run on every vCPU       nothing; for good
 *   sd_vm_dirty_log_get               vCPUs running                   nothing
 *   sd_vcpu_state_save/_restore       -                               the vCPU out of sd_vcpu_run
 *                                                                     (its own thread, or paused)
 */
#ifndef SD_KVM_H
#define SD_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/kvm.h>

#include "sd_types.h"
#include "sev_donate.h"
#include "sd_kvm_abi.h"
#include "test_util.h"

typedef u64 sd_gva_t;

/*
 * Variables shared between VMM threads: relaxed atomics. On x86 they are
 * the plain moves (and a locked add) CMM_LOAD_SHARED and uatomic_inc would
 * be, and ThreadSanitizer sees them for what they are.
 */
#define SD_LOAD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define SD_STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define SD_INC(x)	__atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)
#define SD_DEC(x)	__atomic_sub_fetch(&(x), 1, __ATOMIC_RELAXED)

#define SD_VM_MAX_SLOTS		8
#define SD_VM_MAX_MMIO		4
#define SD_VM_MAX_MSRS		256	/* vCPU state: MSRs saved */

/* RAM region flags */
#define SD_MEM_DIRTY_LOG	(1u << 0)	/* start with KVM_MEM_LOG_DIRTY_PAGES */
#define SD_MEM_HOTPLUG		(1u << 1)	/* outside the boot RAM range (sd_vm_ram_range) */

struct sd_vm_region {
	u32 slot;		/* KVM memslot id */
	u32 flags;		/* SD_MEM_* */
	sd_gpa_t gpa;
	u64 size;
	u8 *hva;		/* this process's mapping of it */
};

struct sd_vm_mmio {
	sd_gpa_t gpa;
	u64 size;
};

struct sd_vcpu;
struct sd_vm;

/*
 * A trapped MSR access, on the vCPU's thread. Return 0 (for a read, with
 * *val set) or -1 to make the instruction raise #GP in the guest.
 */
typedef int (*sd_msr_fn)(struct sd_vcpu *v, void *ctx, bool write, u32 msr, u64 *val);

/*
 * A forwarded hypercall (KVM_EXIT_HYPERCALL), on the vCPU's thread: @args
 * are a0..a3 (RBX, RCX, RDX, RSI). The return value is what the guest
 * finds in RAX.
 */
typedef s64 (*sd_hc_fn)(struct sd_vcpu *v, void *ctx, u64 nr, const u64 args[4]);

/*
 * A SYNC ucall handled inside sd_vcpu_run (sd_vm_handle_ucalls), on the
 * vCPU's thread: true if handled (the guest goes on; sd_vcpu_ucall_reply
 * may set what its ucall returns), false to have sd_vcpu_run return it.
 */
typedef bool (*sd_ucall_fn)(struct sd_vcpu *v, void *ctx);

struct sd_vcpu {
	struct sd_vm *vm;
	u32 id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;	/* from sd_vcpu_thread_start */
	bool has_thread;
	/* Under vm->pause_lock: inside sd_vcpu_run and not parked, on run_thread. */
	bool in_run;
	pthread_t run_thread;
	/* The last exit still needs a KVM_RUN to complete (a ucall's OUT, an MSR). */
	bool exit_pending;
	struct sd_ucall uc;	/* copy of the last ucall */
	sd_gva_t uc_gva;	/* where the guest keeps it */
	u64 nr_exits, nr_msr_exits, nr_ucalls, nr_kicks, nr_hc_exits;
	/* Test fault (sd_vcpu_stall): atomic; set by any thread, taken by the vCPU's. */
	u32 stall_ms;
	u64 nr_stalls;		/* atomic: stalls the vCPU's thread served */
	void *(*fn)(struct sd_vcpu *v, void *arg);
	void *arg;
	void *ret;
};

struct sd_vm {
	int kvm_fd;
	int fd;
	int run_size;
	u32 nr_regions;
	struct sd_vm_region regions[SD_VM_MAX_SLOTS];
	u32 nr_mmio;
	struct sd_vm_mmio mmio[SD_VM_MAX_MMIO];
	u32 nr_vcpus;
	struct sd_vcpu *vcpus[SD_KVM_MAX_VCPUS];
	u32 phys_bits;		/* the guest's MAXPHYADDR (CPUID 0x80000008) */
	u32 sd_cpuid_eax;	/* SD_CPUID_LEAF EAX bits this VM advertises */
	bool sd_cpuid_set;
	/* The guest image. */
	const u8 *elf;
	size_t elf_len;
	sd_gva_t entry;
	bool booted;		/* GDT/IDT/page tables written */
	/* One trapped MSR range, handled on the vCPU threads. */
	u32 msr_first, msr_count;
	sd_msr_fn msr_fn;
	void *msr_ctx;
	/* Hypercalls KVM forwards to us (sd_vm_forward_hypercall), on the vCPU threads. */
	u64 hc_forward;
	sd_hc_fn hc_fn;
	void *hc_ctx;
	u32 hc_vendor;		/* SD_KVM_HC_VMMCALL or _VMCALL: the guest CPU's instruction */
	u32 hc_insn;		/* SD_KVM_HC_*: what the boot info tells the runtime */
	/* SYNC ucalls handled in the run loop (sd_vm_handle_ucalls), on the vCPU threads. */
	sd_ucall_fn ucall_fn;
	void *ucall_ctx;
	/* Pausing (sd_vm_pause): see the synchronization table above. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;	/* a vCPU left KVM_RUN, or a pause ended */
	bool pause_req;
	bool killed;		/* sd_vm_kill_vcpus(): every sd_vcpu_run returns SD_VCPU_KILLED */
	u64 nr_pauses;		/* pause requests, those that timed out included */
	u64 nr_pause_timeouts;	/* sd_vm_pause_timed() calls that returned -ETIMEDOUT */
	/* Free for the user (e.g. the registration endpoint). */
	void *priv;
};

/*
 * What this KVM offers, probed once (system ioctls on /dev/kvm). The
 * harness relies only on what every KVM of the last years has; @missing
 * names the first such capability this one lacks (NULL: none). What varies
 * between KVMs, the harness adapts to: @hc_register says whether KVM can
 * forward SD_HC_REGISTER (only a patched KVM can: SPEC.md 5.2), and so
 * whether a VMM may advertise the hypercall transport.
 */
struct sd_kvm_caps {
	bool present;			/* /dev/kvm opened, API version matches */
	bool user_space_msr;		/* KVM_CAP_X86_USER_SPACE_MSR */
	bool msr_filter;		/* KVM_CAP_X86_MSR_FILTER */
	bool immediate_exit;		/* KVM_CAP_IMMEDIATE_EXIT */
	bool xsave, xcrs;		/* KVM_CAP_XSAVE, KVM_CAP_XCRS: saved when present */
	bool vcpu_events, debugregs;	/* KVM_CAP_VCPU_EVENTS, KVM_CAP_DEBUGREGS */
	u32 max_vcpus;			/* KVM_CAP_MAX_VCPUS (0: not reported) */
	u64 exit_hypercall;		/* KVM_CAP_EXIT_HYPERCALL: forwardable hypercalls */
	bool hc_register;		/* bit SD_HC_REGISTER of it */
	const char *missing;		/* what the harness needs and lacks, or NULL */
};
const struct sd_kvm_caps *sd_kvm_caps(void);

/*
 * Whether a guest's hypercall instruction returns to it on this KVM. Stock
 * KVM answers every hypercall (an unknown number with -KVM_ENOSYS); on
 * kvm_pvm the vCPU never comes back from VMCALL or VMMCALL. No capability
 * tells the two apart, so this is a bounded experiment, run once per
 * process and only when asked (sd_vm_enable_hypercall): a child process
 * runs one hypercall on a scratch VM while the parent waits at most
 * SD_KVM_HC_PROBE_MS, then kills it.
 */
#define SD_KVM_HC_PROBE_MS	4000
struct sd_kvm_hc_probe {
	u32 insn;		/* SD_KVM_HC_*: NONE unless the vCPU came back */
	u32 tried;		/* the instruction tried (the CPU vendor's) */
	u64 rax;		/* what the guest got back, when it did */
	bool kicked;		/* the vCPU hung, and a signal got it out of KVM_RUN */
	u64 us;			/* how long the experiment took */
	char why[96];		/* what happened, for a probe: line */
};
const struct sd_kvm_hc_probe *sd_kvm_hypercall_probe(void);

/* Whether the harness can run here: /dev/kvm with every capability it needs. */
bool sd_kvm_available(void);
/* TEST_REQUIRE the same: prints "SKIP: <the missing capability>" and exits 77. */
void sd_kvm_require(void);

struct sd_vm *sd_vm_create(void);
void sd_vm_free(struct sd_vm *vm);

/* Add a RAM memslot at [gpa, gpa + size), page-aligned, backed by a fresh anonymous mapping. */
struct sd_vm_region *sd_vm_add_ram(struct sd_vm *vm, sd_gpa_t gpa, u64 size, u32 flags);
/* Declare [gpa, gpa + size) as MMIO: no memslot; the accessor answers SD_ERR_MEM_MMIO. */
void sd_vm_add_mmio(struct sd_vm *vm, sd_gpa_t gpa, u64 size);
/* Boot RAM: lowest GFN and one past the highest of the regions not marked SD_MEM_HOTPLUG. */
void sd_vm_ram_range(const struct sd_vm *vm, sd_gfn_t *first, sd_gfn_t *end);

/*
 * The guest-memory accessor (host/'s struct sd_host_mem). [gpa, gpa + len)
 * must lie in one RAM slot: else -SD_ERR_MEM_MMIO if the range starts in, or
 * runs into, a declared MMIO range, -SD_ERR_MEM_SPLIT if it runs from one
 * slot into the next, -SD_ERR_MEM_UNBACKED otherwise (a hole, beyond RAM,
 * or a range that wraps). Reachable with guest-chosen addresses: it never
 * asserts, and costs one scan of at most SD_VM_MAX_SLOTS + SD_VM_MAX_MMIO
 * entries.
 */
const void *sd_vm_mem_map(void *vm, sd_gpa_t gpa, u64 len, int *err);

/* Host pointer to [gpa, gpa + len), which must be RAM in one slot (asserts). */
void *sd_vm_hva(struct sd_vm *vm, sd_gpa_t gpa, u64 len);
/* GVA -> GPA under the identity map (asserts the GVA is mapped). */
sd_gpa_t sd_vm_gva2gpa(struct sd_vm *vm, sd_gva_t gva);
/* Copy a NUL-terminated guest string (at most @size - 1 bytes); "(bad string)" if unreadable. */
const char *sd_vm_read_str(struct sd_vm *vm, sd_gva_t gva, char *buf, size_t size);

/* Load the guest image (an ELF built by vmm/kvm/module.mk) into RAM. */
void sd_vm_load_image(struct sd_vm *vm, const void *elf, size_t len);
/* The GVA of a symbol of the loaded image (asserts it exists). */
sd_gva_t sd_vm_sym(struct sd_vm *vm, const char *name);
struct sd_kvm_bootinfo *sd_vm_bootinfo(struct sd_vm *vm);

/*
 * Advertise, in SD_CPUID_LEAF EAX (under the KVM signature), exactly @bits
 * of SD_CPUID_BIT_MSR / SD_CPUID_BIT_HC; applies to vCPUs added afterwards.
 */
void sd_vm_set_cpuid_sd(struct sd_vm *vm, u32 bits);

/*
 * Trap RDMSR and WRMSR of [first, first + count) to @fn on the vCPU threads
 * (KVM_CAP_X86_USER_SPACE_MSR + KVM_X86_SET_MSR_FILTER). One range per VM.
 */
void sd_vm_trap_msrs(struct sd_vm *vm, u32 first, u32 count, sd_msr_fn fn, void *ctx);

/*
 * Handle SYNC ucalls with @fn on the vCPU threads, inside sd_vcpu_run, as
 * trapped MSRs are: the vCPU counts as running until @fn has returned and
 * the ucall's OUT completed, so a pause waits for a ucall being handled
 * and no handler runs while the VM is paused. A ucall that changes VMM
 * state a paused reader relies on (an exit reporting a page-state change)
 * belongs here, not after sd_vcpu_run returns: a vCPU outside sd_vcpu_run
 * counts as stopped. One handler per VM, before the vCPUs.
 */
void sd_vm_handle_ucalls(struct sd_vm *vm, sd_ucall_fn fn, void *ctx);

/*
 * Let the runtime execute its hypercall instruction (boot info
 * "hypercall"), if sd_kvm_hypercall_probe() found one that returns; a
 * no-op where none does. Returns the SD_KVM_HC_* now in force.
 */
u32 sd_vm_enable_hypercall(struct sd_vm *vm);

/*
 * Have KVM forward hypercall @nr to @fn (KVM_CAP_EXIT_HYPERCALL; @nr < 64
 * and in sd_kvm_caps()->exit_hypercall, else it asserts) on the vCPU
 * threads, and let the runtime execute the instruction: a KVM that forwards
 * a hypercall returns from it. One handler per VM, before the vCPUs.
 */
void sd_vm_forward_hypercall(struct sd_vm *vm, u32 nr, sd_hc_fn fn, void *ctx);

/*
 * Add a vCPU in long mode at CPL 0 on the image's entry point. The first
 * call writes the GDT, IDT, TSSs, page tables, per-vCPU blocks and boot info.
 */
struct sd_vcpu *sd_vm_add_vcpu(struct sd_vm *vm);

/* ---- running ------------------------------------------------------------------ */

/*
 * Run until the guest makes a ucall; handle trapped MSRs, the SYNC ucalls
 * the VM's handler takes (sd_vm_handle_ucalls) and pause requests on the
 * way. Returns SD_UCALL_SYNC or SD_UCALL_DONE (the ucall in v->uc);
 * prints SD_UCALL_PRINT and goes on; fails the test, with the guest's file,
 * line, expression and values, on SD_UCALL_ASSERT, SD_UCALL_EXCEPTION or an
 * unexpected exit.
 */
int sd_vcpu_run(struct sd_vcpu *v);
/* The same, but returns ASSERT and EXCEPTION ucalls instead of failing. */
int sd_vcpu_run_raw(struct sd_vcpu *v);
/* What sd_vcpu_run returns once sd_vm_kill_vcpus() was called: the vCPU runs no more. */
#define SD_VCPU_KILLED	(-1)
/*
 * Answer the last ucall: the guest's sd_rt_ucall() returns @val (its
 * struct's args[0]) when the vCPU runs again.
 */
void sd_vcpu_ucall_reply(struct sd_vcpu *v, u64 val);
/* Describe the ucall in v->uc (assert text, exception vector...) into @buf. */
const char *sd_ucall_describe(struct sd_vcpu *v, char *buf, size_t size);

/*
 * Run @fn(v, arg) on a new thread dedicated to @v (registered with RCU,
 * with the kick signal handler installed). Join returns @fn's result.
 */
void sd_vcpu_thread_start(struct sd_vcpu *v, void *(*fn)(struct sd_vcpu *v, void *arg),
			  void *arg);
void *sd_vcpu_thread_join(struct sd_vcpu *v);
/* The time on @clock @ms from now: an absolute deadline. */
struct timespec sd_clock_after_ms(clockid_t clock, u32 ms);
/* The CLOCK_REALTIME time @ms from now: a deadline for pthread's timed waits. */
struct timespec sd_realtime_after_ms(u32 ms);
/* Join within @ms: 0 (with *ret if @ret), or -ETIMEDOUT (the thread goes on). */
int sd_vcpu_thread_join_timeout(struct sd_vcpu *v, u32 ms, void **ret);

/*
 * Every thread that reads an RCU-published registration (sd_vmm_reg.h)
 * registers with liburcu through these, so that the read side can check it
 * (an unregistered reader is a use-after-free liburcu cannot prevent).
 * vCPU threads from sd_vcpu_thread_start() are registered.
 */
void sd_thread_rcu_register(void);
void sd_thread_rcu_unregister(void);
bool sd_thread_rcu_registered(void);

/*
 * Stop every vCPU wherever it is, within @timeout_ms: on 0, no vCPU is
 * executing guest code or handling an exit inside sd_vcpu_run, and none
 * will until sd_vm_resume(). A vCPU whose thread is outside sd_vcpu_run
 * (handling a ucall in test code) counts as stopped; it parks if it calls
 * sd_vcpu_run. Kicks vCPUs out of KVM_RUN with immediate_exit and a signal,
 * and again every SD_VM_PAUSE_REKICK_MS while one is still running.
 *
 * -ETIMEDOUT if a vCPU is still running at the deadline (stuck in KVM_RUN,
 * or in an exit's handler): the request is undone before it returns, the
 * vCPUs that had parked go on, and the VM runs as if no pause had been
 * asked for (no sd_vm_resume() then). Counted in vm->nr_pause_timeouts.
 */
#define SD_VM_PAUSE_REKICK_MS	5
int sd_vm_pause_timed(struct sd_vm *vm, u32 timeout_ms);
/* For tests: sd_vm_pause_timed() with SD_VM_PAUSE_TEST_MS, a timeout fails the test. */
#define SD_VM_PAUSE_TEST_MS	10000
void sd_vm_pause(struct sd_vm *vm);
void sd_vm_resume(struct sd_vm *vm);
/*
 * Test fault: the next time @v's thread leaves KVM_RUN (a kick will make
 * it), it holds on @ms before it goes on, still counted as running: a vCPU
 * no pause can stop in time, as one stuck in KVM_RUN or in an exit's
 * handler would be. It then goes on as usual (parks, or dies if killed).
 */
void sd_vcpu_stall(struct sd_vcpu *v, u32 ms);
/*
 * For good: every vCPU leaves sd_vcpu_run (now, or at its next entry) with
 * SD_VCPU_KILLED, paused or not, so its thread can be joined and the VM
 * freed (a source whose guest now runs elsewhere).
 */
void sd_vm_kill_vcpus(struct sd_vm *vm);
/* vCPUs inside sd_vcpu_run and not parked (0 while paused). */
u32 sd_vm_nr_running(struct sd_vm *vm);

/* ---- dirty logging -------------------------------------------------------------- */

/* Turn KVM_MEM_LOG_DIRTY_PAGES on or off for @r. */
void sd_vm_dirty_log_enable(struct sd_vm *vm, struct sd_vm_region *r, bool on);
/*
 * Fetch and clear @r's dirty log (KVM_GET_DIRTY_LOG) into @bitmap, one bit
 * per page of the region (sd_vm_dirty_log_words(r) words). Returns the
 * number of dirty pages.
 */
u64 sd_vm_dirty_log_get(struct sd_vm *vm, struct sd_vm_region *r, u64 *bitmap);
static inline u64 sd_vm_dirty_log_words(const struct sd_vm_region *r)
{
	return ((r->size >> SD_PAGE_SHIFT) + 63) / 64;
}

/* ---- vCPU state ------------------------------------------------------------------ */

/* Everything needed to move a vCPU to another VM (no in-kernel irqchip here). */
struct sd_vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	u32 nr_msrs;
	struct kvm_msr_entry msrs[SD_VM_MAX_MSRS];
	bool has_xsave, has_xcrs;
};

/*
 * Save @v's state. If its last exit is still pending completion (a ucall's
 * OUT), completes it first with an immediate-exit KVM_RUN, so the state is
 * the one after the instruction.
 */
void sd_vcpu_state_save(struct sd_vcpu *v, struct sd_vcpu_state *st);
void sd_vcpu_state_restore(struct sd_vcpu *v, const struct sd_vcpu_state *st);

void sd_vcpu_get_regs(struct sd_vcpu *v, struct kvm_regs *regs);
void sd_vcpu_get_sregs(struct sd_vcpu *v, struct kvm_sregs *sregs);

#endif /* SD_KVM_H */
