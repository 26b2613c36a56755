// SPDX-License-Identifier: GPL-2.0
/*
 * sd_linux.c - sev_donate.ko: guest/ and proto/, unchanged, inside Linux.
 *
 * What a kernel integration does, as a loadable module so that it can be
 * built against a distribution's headers and tested in a stock kernel:
 *
 *   - size the table for the guest's RAM span, allocate it (physically
 *     contiguous) and a private area, convert the table to shared with
 *     set_memory_decrypted(), and initialise it (guest/ marks the table's
 *     own pages shared);
 *   - provide guest/'s environment: sd_env_lock/unlock (a sleeping lock on
 *     the lock word, since the conversion inside a window may sleep) and the
 *     transport instructions (cpuid, the fault-safe MSR accessors, the KVM
 *     hypercall);
 *   - at load, write 0 (a crashed kernel's registration), then register
 *     over the MSR transport when CPUID advertises it (or, with
 *     transport=auto, the hypercall if that is advertised too); on a host
 *     that advertises neither, say so in one line and keep the table
 *     current so that a later registration (debugfs "register") succeeds;
 *   - but never register on a guest whose memory is encrypted: the module
 *     cannot see the kernel's own conversions, so its table would call
 *     their pages private (sd_reg_policy.h; register_incomplete=1, for
 *     tests only, registers it anyway and taints the kernel);
 *   - unregister before reboot and kexec (reboot notifier) and on unload,
 *     and free the table only once the host has accepted the 0.
 *
 * For testing, a pool of pages can be churned between private and shared
 * through the same begin / convert / commit bracket a real integration puts
 * around __set_memory_enc_pgtable() (enc_status_change_prepare / _finish),
 * by debugfs writes or by one kernel thread per CPU. Beside the table the
 * module keeps a ledger (sd_ledger.h): the state it expects every page to
 * have and the conversion each worker has in flight, in guest RAM at a GPA
 * it prints, so that a host test can compare the two page by page.
 *
 * debugfs, /sys/kernel/debug/sev_donate/:
 *   info      geometry, GPAs, registration state              (read)
 *   pool      the churn pool's blocks, "gfn npages" per line    (read)
 *   convert   "GFN NPAGES shared|private": one bracketed conversion of pool pages (write)
 *   churn     "start [NTHREADS]" / "stop"; reading gives counters
 *   ledger    every shared extent and every conversion in flight (read)
 *   register  "1" probe and register, "0" unregister          (write)
 *
 * Synchronization table (module state; the table's own is in sd_guest.h):
 *
 *   state                      written by                    serialised by
 *   sdl.g (guest/)             begin/commit from any thread  guest/'s chunk locks
 *   sdl.g.reg_value, sdl.t     register/unregister paths     sdl.reg_mutex
 *   pool pages (64 at a time)  whoever holds their unit's    test_and_set_bit_lock, units
 *                              busy bit                      taken in ascending order
 *   a ledger slot              its owner thread              (one owner; convert_mutex for debugfs)
 *   churn threads              churn start/stop, exit        sdl.churn_mutex
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>
#include <linux/ctype.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/reboot.h>
#include <linux/wait_bit.h>
#include <linux/bitmap.h>
#include <linux/log2.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/cc_platform.h>
#include <linux/lockdep.h>
#include <linux/sched/mm.h>
#include <asm/cacheflush.h>
#include <asm/set_memory.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/kvm_para.h>

#include "sd_guest.h"
#include "sd_version.h"
#include "validate.h"
#include "sd_ledger.h"
#include "sd_reg_policy.h"

static unsigned int ppc = SD_DEFAULT_CHUNK_PAGES;
module_param(ppc, uint, 0444);
MODULE_PARM_DESC(ppc, "pages per chunk (power of two, 64..32768)");

static unsigned long span_mb;
module_param(span_mb, ulong, 0444);
MODULE_PARM_DESC(span_mb, "cover at least this many MiB from GPA 0 (e.g. a hotplug range); 0: RAM only");

static unsigned int pool_mb;
module_param(pool_mb, uint, 0444);
MODULE_PARM_DESC(pool_mb, "MiB of pages to churn through debugfs (0: none)");

static unsigned int pool_order = 9;
module_param(pool_order, uint, 0444);
MODULE_PARM_DESC(pool_order, "allocation order of one pool block (6..10)");

static char *transport = "msr";
module_param(transport, charp, 0444);
MODULE_PARM_DESC(transport, "msr: register over the MSR even where the hypercall is advertised; auto: the hypercall if advertised (SPEC.md 5.4)");

static bool register_incomplete;
module_param_unsafe(register_incomplete, bool, 0444);
MODULE_PARM_DESC(register_incomplete, "TEST ONLY, off by default, taints the kernel: register the table even on a guest with encrypted memory (SEV), where it records only this module's own conversions, so that SWIOTLB, .bss..decrypted, the per-CPU paravirt pages and every other driver's shared pages read as private and a host migrating by it corrupts them");

static unsigned int convert_delay_us;
module_param(convert_delay_us, uint, 0644);
MODULE_PARM_DESC(convert_delay_us, "churn: sleep this long inside every other conversion window, as a page-state change exit would (0: never)");

/*
 * Pool pages are owned SDL_UNIT_PAGES at a time: one 64-bit word of the
 * ledger's bitmap, so owners never share a word and update it with plain
 * bitmap_set/clear. Units are much smaller than a chunk, so conversions of
 * different threads share chunks and contend for their locks.
 */
#define SDL_UNIT_PAGES	64
#define SDL_MAX_CHURN	16
/* Slot SDL_MAX_CHURN is the debugfs "convert" writer's. */
#define SDL_NR_SLOTS	(SDL_MAX_CHURN + 1)

struct sdl_block {
	struct page *page;
	sd_gfn_t gfn;
};

static struct sdl {
	struct sd_guest g;
	struct sd_transport t;
	struct mutex reg_mutex;

	void *table;
	u64 table_bytes;
	bool table_decrypted;	/* set_memory_decrypted() succeeded on it */
	sd_gpa_t table_gpa;
	void *priv;
	u64 priv_bytes;

	struct sdl_ledger_hdr *ledger;
	u64 ledger_bytes;
	struct sdl_ledger_slot *slots;
	unsigned long *expect;		/* the ledger's bitmap */

	struct sdl_block *blocks;
	unsigned int nr_blocks;
	unsigned int block_pages;
	unsigned long *unit_busy;	/* one bit per SDL_UNIT_PAGES pages of the pool */

	struct mutex churn_mutex;
	struct task_struct *churn[SDL_MAX_CHURN];
	unsigned int nr_churn;
	struct mutex convert_mutex;

	atomic64_t conversions;
	atomic64_t pages_converted;
	atomic64_t errors;
	atomic64_t lock_waits;		/* sd_env_lock() calls that found the lock held */
	atomic64_t reclaim_windows;	/* windows opened where an allocation could reclaim */

	struct dentry *dir;
	struct notifier_block reboot_nb;
	bool reboot_nb_registered;
} sdl;

/* ---- guest/'s environment hooks ------------------------------------------- */

static bool sdl_force_msr;

/*
 * Lockdep cannot see guest/'s lock words, so the module tells it about them
 * in two classes: the conversion window (sdl_window_map, held from before
 * sd_guest_begin() to after sd_guest_commit(), sdl_window_enter/exit) and
 * the chunk locks (sdl_chunk_map), each acquired with the window as its nest
 * lock. One begin takes several chunk locks of one class in ascending order;
 * under a held nest lock lockdep counts them as one, as it does for
 * mm_take_all_locks() under mmap_lock. A chunk lock taken outside a window
 * is then reported, and so is a window opened inside another (a conversion
 * reached from inside a conversion, the deadlock sdl_window_enter() rules
 * out). In an integration, where reclaim reaches the hooks, a window that
 * allocates with reclaim allowed is reported too, as a dependency cycle
 * with fs_reclaim.
 */
static struct lock_class_key sdl_window_key, sdl_chunk_key;
/* Unused, and empty, without CONFIG_LOCKDEP: the annotations compile to nothing. */
static struct lockdep_map sdl_window_map __maybe_unused, sdl_chunk_map __maybe_unused;

static void sdl_lockdep_init(void)
{
	lockdep_init_map_wait(&sdl_window_map, "sd_guest_window", &sdl_window_key, 0,
			      LD_WAIT_SLEEP);
	lockdep_init_map_wait(&sdl_chunk_map, "sd_guest_chunk", &sdl_chunk_key, 0,
			      LD_WAIT_SLEEP);
}

static bool sdl_trylock(struct sd_lock *l)
{
	/* Acquire: the chunk's private state is read only after the word is ours. */
	return cmpxchg_acquire(&l->v, 0, 1) == 0;
}

/*
 * A sleeping lock on the lock word itself (zero is unlocked, sd_guest.h):
 * the holder may sleep inside the window (the conversion takes mutexes and
 * flushes TLBs), so waiters sleep too, on the hashed wait queue of the word.
 */
void sd_env_lock(struct sd_lock *l)
{
	lock_acquire_exclusive(&sdl_chunk_map, 0, 0, &sdl_window_map, _RET_IP_);
	if (likely(sdl_trylock(l)))
		return;
	atomic64_inc(&sdl.lock_waits);
	wait_var_event(&l->v, sdl_trylock(l));
}

void sd_env_unlock(struct sd_lock *l)
{
	lock_release(&sdl_chunk_map, _RET_IP_);
	/* Release: the chunk's private state is written before the word is free. */
	smp_store_release(&l->v, 0);
	/*
	 * The free word before wake_up_var()'s waitqueue_active() test; pairs
	 * with the barrier in prepare_to_wait_event() (set_current_state) that
	 * orders a waiter's queueing before its re-test of the word. Without it
	 * a waiter could test the old word and we could miss its queue entry.
	 */
	smp_mb();
	wake_up_var(&l->v);
}

static void sdl_cpuid(void *ctx, u32 leaf, u32 regs[4])
{
	cpuid_count(leaf, 0, &regs[0], &regs[1], &regs[2], &regs[3]);
	/*
	 * transport=msr: hide the hypercall bit from sd_transport_probe(), which
	 * reads it only from the features leaf after a KVM signature leaf, so
	 * that the MSR is used whenever it is advertised. The guest's view of
	 * CPUID elsewhere is untouched.
	 */
	if (sdl_force_msr && leaf >= 0x40000000U && leaf < 0x40010000U && (leaf & 0xff) == 1)
		regs[0] &= ~(1U << SD_CPUID_BIT_HC);
}

/* The fault-safe accessors: a #GP from the host comes back as an error. */
static int sdl_wrmsr(void *ctx, u32 msr, u64 val)
{
	return wrmsrl_safe(msr, val) ? -1 : 0;
}

static int sdl_rdmsr(void *ctx, u32 msr, u64 *val)
{
	unsigned long long v;

	if (rdmsrl_safe(msr, &v))
		return -1;
	*val = v;
	return 0;
}

static s64 sdl_hypercall(void *ctx, u64 nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
	/* vmcall or vmmcall, patched at load time for the CPU's vendor. */
	return kvm_hypercall4((unsigned int)nr, a0, a1, a2, a3);
}

static const struct sd_transport_ops sdl_transport_ops = {
	.cpuid = sdl_cpuid,
	.wrmsr = sdl_wrmsr,
	.rdmsr = sdl_rdmsr,
	.hypercall = sdl_hypercall,
};

static const char *sdl_transport_name(enum sd_transport_kind k)
{
	switch (k) {
	case SD_TRANSPORT_MSR:
		return "msr";
	case SD_TRANSPORT_HC:
		return "hypercall";
	default:
		return "none";
	}
}

/* ---- registration ------------------------------------------------------------ */

/*
 * Probe, decide (sd_reg_policy.h), then register. @why says who asks, for
 * the log; @at_load: the first registration since boot, which writes 0
 * first (SPEC.md 5.7: a crashed kernel could not unregister its table, whose
 * memory this kernel now uses). Returns 0 or an errno for debugfs.
 */
static int sdl_register(const char *why, bool at_load)
{
	enum sdl_reg_action act;
	int err, ret = 0;

	mutex_lock(&sdl.reg_mutex);
	sdl.t = (struct sd_transport){ .ops = &sdl_transport_ops };
	err = sd_transport_probe(&sdl.t);
	act = sdl_reg_decide(cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT), register_incomplete,
			     err == 0);
	switch (act) {
	case SDL_REG_NO_TRANSPORT:
		/* The one line: a normal outcome, the table is kept for later. */
		pr_info("host does not support registration (CPUID 0x%x EAX bits %d/%d clear); keeping the table current for a later registration\n",
			SD_CPUID_LEAF, SD_CPUID_BIT_MSR, SD_CPUID_BIT_HC);
		ret = -EOPNOTSUPP;
		goto out;
	case SDL_REG_CLEAR_ONLY:
		pr_warn("%s: guest memory is encrypted, and this module cannot see the kernel's own conversions (SWIOTLB, .bss..decrypted, per-CPU pages, drivers): not registering a table that would call their pages private (SPEC.md 2.7)\n",
			why);
		err = at_load ? sd_guest_unregister(&sdl.g, &sdl.t) : 0;
		if (err)
			pr_warn("%s: clearing a previous registration over %s: %s\n", why,
				sdl_transport_name(sdl.t.kind), sd_err_name(err));
		ret = -EPERM;
		goto out;
	case SDL_REG_REGISTER_INCOMPLETE:
		pr_warn("%s: register_incomplete=1 on an encrypted guest: the table records only this module's conversions; a host migrating by it corrupts every other shared page. For tests only\n",
			why);
		break;
	case SDL_REG_REGISTER:
		break;
	}
	err = at_load ? sd_guest_register_fresh(&sdl.g, &sdl.t) : sd_guest_register(&sdl.g, &sdl.t);
	if (err) {
		pr_warn("%s: registration over %s%s: %s (%s); the table stays current%s\n", why,
			sdl_transport_name(sdl.t.kind), at_load ? " (after a 0)" : "",
			sd_err_name(err), sd_err_desc(err),
			sd_guest_may_be_registered(&sdl.g) ? ", and is treated as registered" : "");
		ret = -EIO;
		goto out;
	}
	pr_info("%s: table at gpa 0x%llx registered over %s\n", why, sdl.table_gpa,
		sdl_transport_name(sdl.t.kind));
out:
	mutex_unlock(&sdl.reg_mutex);
	return ret;
}

/*
 * Unregister whenever the host may hold the table (after a success, and
 * after any answer that was not a clean refusal: sd_guest.h), before its
 * memory can be reused. Nonzero: the host may still read it.
 */
static int sdl_unregister(const char *why)
{
	int err = 0;

	mutex_lock(&sdl.reg_mutex);
	if (sd_guest_may_be_registered(&sdl.g)) {
		err = sd_guest_unregister(&sdl.g, &sdl.t);
		if (err)
			pr_err("%s: unregistration failed: %s; the host may still read the table\n",
			       why, sd_err_name(err));
	}
	if (!err)
		pr_info("%s: no table registered\n", why);
	mutex_unlock(&sdl.reg_mutex);
	return err;
}

/*
 * Reboot and kexec (kernel_kexec() runs the reboot notifiers too): the next
 * kernel will reuse the table's memory, so the host must stop reading it.
 */
static int sdl_reboot_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	sdl_unregister("reboot");
	return NOTIFY_DONE;
}

/* ---- conversions: the bracket a real integration hooks ----------------------- */

/*
 * A conversion window must never wait for another conversion. It holds
 * guest/'s chunk locks, which sleep, across the page-table change, and in
 * Linux 6.1 that change allocates with GFP_KERNEL (split_large_page() in
 * __change_page_attr_set_clr(), and the SNP page-state descriptor). An
 * allocation may enter direct reclaim, and reclaim can convert: a shrinker
 * that frees coherent DMA memory (TTM's pool shrinker: ttm_pool_free_page()
 * -> dma_free_attrs()) reaches dma_direct_free() -> set_memory_encrypted()
 * -> another begin. That begin would wait for a chunk lock this thread holds
 * (the same chunk: for ever) or take chunk locks out of ascending order
 * under ones it holds (a deadlock with a thread doing the reverse).
 *
 * So no window enters direct reclaim: memalloc_noreclaim_save() (PF_MEMALLOC)
 * from before begin to after commit. An allocation inside the window then
 * takes free pages, the reserves included, or fails; it never runs reclaim.
 * A failed split fails that conversion (-ENOMEM), which its caller already
 * handles. Conversions reached from reclaim elsewhere (kswapd, another
 * thread's direct reclaim) may wait for a window's locks, and that wait
 * ends: nothing inside a window waits for reclaim or for a conversion.
 * A real integration puts the same scope around enc_status_change_prepare
 * .. _finish in __set_memory_enc_pgtable() (guest/linux/INTEGRATION.md).
 */
static unsigned int sdl_window_enter(void)
{
	unsigned int noreclaim = memalloc_noreclaim_save();

	lock_map_acquire(&sdl_window_map);
	return noreclaim;
}

static void sdl_window_exit(unsigned int noreclaim)
{
	lock_map_release(&sdl_window_map);
	memalloc_noreclaim_restore(noreclaim);
}

static void *sdl_block_va(const struct sdl_block *b, sd_gfn_t gfn)
{
	return page_address(b->page) + ((gfn - b->gfn) << PAGE_SHIFT);
}

static u64 sdl_ledger_index(sd_gfn_t gfn)
{
	return gfn - sdl.g.g.first_gfn;
}

/*
 * Convert [gfn, gfn + n) of pool block @b to @shared through ledger slot
 * @slot. The caller owns the block (its busy bit) and the slot.
 *
 * The order is the one enc_status_change_prepare / __set_memory_enc_pgtable /
 * enc_status_change_finish give a real integration: begin opens the windows,
 * the page-table change (here set_memory_{de,en}crypted(), a no-op outside an
 * SEV guest) happens inside them, commit closes them. The ledger brackets all
 * three (sd_ledger.h says why that makes every stop point checkable).
 */
static int sdl_convert(unsigned int slot, const struct sdl_block *b, sd_gfn_t gfn, u32 n,
		       bool shared, bool slow)
{
	struct sdl_ledger_slot *s = &sdl.slots[slot];
	unsigned long va = (unsigned long)sdl_block_va(b, gfn);
	unsigned int noreclaim;
	int err, conv;

	WRITE_ONCE(s->gfn, gfn);
	WRITE_ONCE(s->npages, n);
	WRITE_ONCE(s->shared, shared);
	smp_wmb();	/* the slot's range before it is active: a stopped host sees it whole */
	WRITE_ONCE(s->active, 1);
	smp_wmb();	/* active before the table's windows open (begin's stores) */

	noreclaim = sdl_window_enter();
	err = sd_guest_begin(&sdl.g, gfn, n, shared);
	if (err) {
		sdl_window_exit(noreclaim);
		WRITE_ONCE(s->active, 0);
		atomic64_inc(&sdl.errors);
		pr_err("begin 0x%llx+%u: %s\n", gfn, n, sd_err_name(err));
		return -EINVAL;
	}
	/* Counted for make linux-check: a window where an allocation could reclaim. */
	if (!(current->flags & PF_MEMALLOC))
		atomic64_inc(&sdl.reclaim_windows);
	/*
	 * The conversion. Outside an SEV guest set_memory_*crypted() return at
	 * once, so stand in for what they cost inside one: the cache flush of
	 * the range cpa_flush() does when the C-bit is not cache-coherent, and,
	 * when @slow, a sleep as long as a page-state change exit to the host.
	 */
	conv = shared ? set_memory_decrypted(va, n) : set_memory_encrypted(va, n);
	clflush_cache_range((void *)va, n << PAGE_SHIFT);
	if (slow && convert_delay_us)
		usleep_range(convert_delay_us, convert_delay_us + convert_delay_us / 4 + 1);
	/*
	 * Commit either way: on failure Linux leaks the pages (their state is
	 * unknown and they are never used again), so the state recorded for
	 * them does not matter, but the windows must close.
	 */
	err = sd_guest_commit(&sdl.g, gfn, n, shared);
	sdl_window_exit(noreclaim);
	if (err) {
		/* Windows left open and locks held: the ledger slot stays active. */
		atomic64_inc(&sdl.errors);
		pr_err("commit 0x%llx+%u: %s\n", gfn, n, sd_err_name(err));
		return -EIO;
	}

	smp_wmb();	/* the table's new state before the ledger's */
	if (shared)
		bitmap_set(sdl.expect, sdl_ledger_index(gfn), n);
	else
		bitmap_clear(sdl.expect, sdl_ledger_index(gfn), n);
	smp_wmb();	/* the ledger's new state before the slot goes idle */
	WRITE_ONCE(s->active, 0);
	WRITE_ONCE(s->commits, s->commits + 1);

	atomic64_inc(&sdl.conversions);
	atomic64_add(n, &sdl.pages_converted);
	if (conv) {
		atomic64_inc(&sdl.errors);
		pr_err("set_memory_%scrypted 0x%llx+%u: %d\n", shared ? "de" : "en", gfn, n, conv);
		return conv;
	}
	return 0;
}

static struct sdl_block *sdl_find_block(sd_gfn_t gfn, u64 n)
{
	unsigned int i;

	for (i = 0; i < sdl.nr_blocks; i++) {
		struct sdl_block *b = &sdl.blocks[i];

		if (gfn >= b->gfn && gfn - b->gfn < sdl.block_pages &&
		    n <= sdl.block_pages - (gfn - b->gfn))
			return b;
	}
	return NULL;
}

/* The pool units holding pages [off, off + n) of block @b: [*u0, *u1). */
static void sdl_units(const struct sdl_block *b, u32 off, u32 n, u32 *u0, u32 *u1)
{
	u32 base = (u32)(b - sdl.blocks) * (sdl.block_pages / SDL_UNIT_PAGES);

	*u0 = base + off / SDL_UNIT_PAGES;
	*u1 = base + DIV_ROUND_UP(off + n, SDL_UNIT_PAGES);
}

/* Own units [u0, u1), or none of them: try-locks in ascending order, never waits. */
static bool sdl_units_claim(u32 u0, u32 u1)
{
	u32 u;

	for (u = u0; u < u1; u++) {
		if (test_and_set_bit_lock(u, sdl.unit_busy)) {
			while (u-- > u0)
				clear_bit_unlock(u, sdl.unit_busy);
			return false;
		}
	}
	return true;
}

static void sdl_units_release(u32 u0, u32 u1)
{
	u32 u;

	for (u = u0; u < u1; u++)
		clear_bit_unlock(u, sdl.unit_busy);
}

static int sdl_churn_fn(void *arg)
{
	unsigned int slot = (unsigned int)(unsigned long)arg;
	u32 bp = sdl.block_pages;

	while (!kthread_should_stop()) {
		struct sdl_block *b = &sdl.blocks[get_random_u32_below(sdl.nr_blocks)];
		u32 off, n, r, u0, u1;
		sd_gfn_t gfn;

		/* Half single pages and short runs, half long runs that cross chunks. */
		r = get_random_u32();
		off = get_random_u32_below(bp);
		if (r & 1)
			n = 1 + get_random_u32_below(min_t(u32, 8, bp - off));
		else
			n = 1 + get_random_u32_below(bp - off);
		sdl_units(b, off, n, &u0, &u1);
		if (!sdl_units_claim(u0, u1)) {
			cond_resched();
			continue;
		}
		gfn = b->gfn + off;
		/* Mostly a real change: the opposite of the first page's state. */
		sdl_convert(slot, b, gfn, n,
			    (r & 6) ? !test_bit(sdl_ledger_index(gfn), sdl.expect) : !!(r & 8),
			    r & 16);
		sdl_units_release(u0, u1);
		cond_resched();
	}
	return 0;
}

static void sdl_churn_stop(void)
{
	unsigned int i;

	mutex_lock(&sdl.churn_mutex);
	for (i = 0; i < sdl.nr_churn; i++)
		kthread_stop(sdl.churn[i]);
	sdl.nr_churn = 0;
	mutex_unlock(&sdl.churn_mutex);
}

static int sdl_churn_start(unsigned int n)
{
	int err = 0;

	if (!sdl.nr_blocks)
		return -ENODEV;
	mutex_lock(&sdl.churn_mutex);
	if (sdl.nr_churn) {
		err = -EBUSY;
		goto out;
	}
	while (sdl.nr_churn < n) {
		struct task_struct *t = kthread_run(sdl_churn_fn, (void *)(unsigned long)sdl.nr_churn,
						    "sd_churn/%u", sdl.nr_churn);
		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			break;
		}
		sdl.churn[sdl.nr_churn++] = t;
	}
out:
	mutex_unlock(&sdl.churn_mutex);
	return err;
}

/* ---- debugfs ------------------------------------------------------------------- */

static int sdl_info_show(struct seq_file *m, void *v)
{
	const struct sd_geom *g = &sdl.g.g;

	seq_printf(m, "table_gpa=0x%llx\ntable_bytes=%llu\n", sdl.table_gpa, sdl.table_bytes);
	seq_printf(m, "first_gfn=0x%llx\nnr_gfns=%llu\npages_per_chunk=%u\nnr_chunks=%llu\n",
		   g->first_gfn, g->nr_gfns, g->pages_per_chunk, g->nr_chunks);
	seq_printf(m, "ledger_gpa=0x%llx\nledger_bytes=%llu\n",
		   (u64)virt_to_phys(sdl.ledger), sdl.ledger_bytes);
	mutex_lock(&sdl.reg_mutex);
	seq_printf(m, "registered=%d\ntransport=%s\n", sd_guest_may_be_registered(&sdl.g),
		   sdl_transport_name(sdl.t.kind));
	mutex_unlock(&sdl.reg_mutex);
	seq_printf(m, "pool_blocks=%u\npool_block_pages=%u\n", sdl.nr_blocks, sdl.block_pages);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sdl_info);

static int sdl_pool_show(struct seq_file *m, void *v)
{
	unsigned int i;

	for (i = 0; i < sdl.nr_blocks; i++)
		seq_printf(m, "0x%llx %u\n", sdl.blocks[i].gfn, sdl.block_pages);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sdl_pool);

/*
 * Every shared extent ("shared GFN NPAGES"), every conversion in flight
 * ("inflight SLOT GFN NPAGES shared|private"), then a total. Read while
 * nothing churns for a stable answer.
 */
static int sdl_ledger_show(struct seq_file *m, void *v)
{
	u64 nbits = sdl.g.g.nr_gfns, start = 0, total = 0, commits = 0;
	unsigned int i;

	for (;;) {
		u64 end;

		start = find_next_bit(sdl.expect, nbits, start);
		if (start >= nbits)
			break;
		end = find_next_zero_bit(sdl.expect, nbits, start);
		seq_printf(m, "shared 0x%llx %llu\n", sdl.g.g.first_gfn + start, end - start);
		total += end - start;
		start = end;
	}
	for (i = 0; i < SDL_NR_SLOTS; i++) {
		const struct sdl_ledger_slot *s = &sdl.slots[i];

		commits += READ_ONCE(s->commits);
		if (READ_ONCE(s->active))
			seq_printf(m, "inflight %u 0x%llx %llu %s\n", i, READ_ONCE(s->gfn),
				   READ_ONCE(s->npages), READ_ONCE(s->shared) ? "shared" : "private");
	}
	seq_printf(m, "total shared=%llu commits=%llu\n", total, commits);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sdl_ledger);

static ssize_t sdl_read_cmd(const char __user *ubuf, size_t len, char *buf, size_t size)
{
	if (len == 0 || len >= size)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	return len;
}

static ssize_t sdl_convert_write(struct file *f, const char __user *ubuf, size_t len, loff_t *pos)
{
	char buf[96], state[16];
	unsigned long long gfn, n;
	struct sdl_block *b;
	ssize_t r = sdl_read_cmd(ubuf, len, buf, sizeof(buf));
	bool shared;
	u32 u0, u1;
	int err;

	if (r < 0)
		return r;
	if (sscanf(buf, "%llx %llu %15s", &gfn, &n, state) != 3 || n == 0)
		return -EINVAL;
	if (!strcmp(state, "shared"))
		shared = true;
	else if (!strcmp(state, "private"))
		shared = false;
	else
		return -EINVAL;
	b = sdl_find_block(gfn, n);
	if (!b)
		return -ERANGE;		/* only pool pages may be converted */
	sdl_units(b, (u32)(gfn - b->gfn), (u32)n, &u0, &u1);
	if (!sdl_units_claim(u0, u1))
		return -EBUSY;
	mutex_lock(&sdl.convert_mutex);
	err = sdl_convert(SDL_MAX_CHURN, b, gfn, (u32)n, shared, false);
	mutex_unlock(&sdl.convert_mutex);
	sdl_units_release(u0, u1);
	return err ? err : (ssize_t)len;
}

static const struct file_operations sdl_convert_fops = {
	.owner = THIS_MODULE,
	.write = sdl_convert_write,
};

static int sdl_churn_show(struct seq_file *m, void *v)
{
	seq_printf(m, "threads=%u conversions=%lld pages=%lld lock_waits=%lld errors=%lld reclaim_windows=%lld\n",
		   READ_ONCE(sdl.nr_churn), atomic64_read(&sdl.conversions),
		   atomic64_read(&sdl.pages_converted), atomic64_read(&sdl.lock_waits),
		   atomic64_read(&sdl.errors), atomic64_read(&sdl.reclaim_windows));
	return 0;
}

static int sdl_churn_open(struct inode *inode, struct file *file)
{
	return single_open(file, sdl_churn_show, NULL);
}

static ssize_t sdl_churn_write(struct file *f, const char __user *ubuf, size_t len, loff_t *pos)
{
	char buf[32];
	unsigned int n = num_online_cpus();
	ssize_t r = sdl_read_cmd(ubuf, len, buf, sizeof(buf));
	int err;

	if (r < 0)
		return r;
	if (sysfs_streq(buf, "stop")) {
		sdl_churn_stop();
		return len;
	}
	if (strncmp(buf, "start", 5) || (buf[5] && !isspace(buf[5])))
		return -EINVAL;
	if (*skip_spaces(buf + 5) && (kstrtouint(skip_spaces(buf + 5), 0, &n) || n == 0))
		return -EINVAL;
	err = sdl_churn_start(min_t(unsigned int, n, SDL_MAX_CHURN));
	return err ? err : (ssize_t)len;
}

static const struct file_operations sdl_churn_fops = {
	.owner = THIS_MODULE,
	.open = sdl_churn_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = sdl_churn_write,
};

static ssize_t sdl_register_write(struct file *f, const char __user *ubuf, size_t len, loff_t *pos)
{
	bool on;
	int err = kstrtobool_from_user(ubuf, len, &on);

	if (err)
		return err;
	if (on)
		err = sdl_register("debugfs", false);
	else
		err = sdl_unregister("debugfs") ? -EIO : 0;
	return err ? err : (ssize_t)len;
}

static const struct file_operations sdl_register_fops = {
	.owner = THIS_MODULE,
	.write = sdl_register_write,
};

static void sdl_debugfs_init(void)
{
	sdl.dir = debugfs_create_dir("sev_donate", NULL);
	debugfs_create_file("info", 0444, sdl.dir, NULL, &sdl_info_fops);
	debugfs_create_file("pool", 0444, sdl.dir, NULL, &sdl_pool_fops);
	debugfs_create_file("ledger", 0444, sdl.dir, NULL, &sdl_ledger_fops);
	debugfs_create_file("convert", 0200, sdl.dir, NULL, &sdl_convert_fops);
	debugfs_create_file("churn", 0644, sdl.dir, NULL, &sdl_churn_fops);
	debugfs_create_file("register", 0200, sdl.dir, NULL, &sdl_register_fops);
}

/* ---- setup and teardown ------------------------------------------------------- */

struct sdl_ram {
	u64 lo, hi;	/* lowest and one past the highest RAM byte */
};

static int sdl_ram_cb(struct resource *res, void *arg)
{
	struct sdl_ram *r = arg;

	r->lo = min_t(u64, r->lo, res->start);
	r->hi = max_t(u64, r->hi, res->end + 1);
	return 0;
}

/*
 * The span: from the chunk holding the lowest RAM page to the chunk holding
 * the highest (or span_mb). Rounding out to whole chunks costs nothing (the
 * last chunk's bitmap is allocated whole anyway) and covers RAM the firmware
 * reserved at the top of a RAM range, which the host counts as RAM.
 */
static int sdl_span(sd_gfn_t *first, u64 *nr)
{
	struct sdl_ram r = { .lo = U64_MAX, .hi = 0 };
	u64 lo, hi;

	walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0, U64_MAX,
			    &r, sdl_ram_cb);
	if (r.hi == 0)
		return -ENODEV;
	hi = max_t(u64, PFN_UP(r.hi), (u64)span_mb << (20 - PAGE_SHIFT));
	lo = round_down(PFN_DOWN(r.lo), ppc);
	hi = round_up(hi, ppc);
	*first = lo;
	*nr = hi - lo;
	return 0;
}

static int sdl_ledger_init(void)
{
	u64 nbits = sdl.g.g.nr_gfns;
	u64 slots_off = sizeof(struct sdl_ledger_hdr);
	u64 bitmap_off = round_up(slots_off + SDL_NR_SLOTS * sizeof(struct sdl_ledger_slot), 64);
	struct sdl_ledger_hdr *h;

	sdl.ledger_bytes = PAGE_ALIGN(bitmap_off + BITS_TO_LONGS(nbits) * sizeof(long));
	h = alloc_pages_exact(sdl.ledger_bytes, GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
	if (!h)
		return -ENOMEM;
	sdl.ledger = h;
	sdl.slots = (void *)h + slots_off;
	sdl.expect = (void *)h + bitmap_off;
	/* The table's own pages are shared from the start (guest/ marks them too). */
	bitmap_set(sdl.expect, sdl_ledger_index(PHYS_PFN(sdl.table_gpa)),
		   sdl.table_bytes >> PAGE_SHIFT);
	*h = (struct sdl_ledger_hdr){
		.first_gfn = sdl.g.g.first_gfn,
		.nr_gfns = nbits,
		.table_gpa = sdl.table_gpa,
		.table_bytes = sdl.table_bytes,
		.nr_slots = SDL_NR_SLOTS,
		.slot_size = sizeof(struct sdl_ledger_slot),
		.slots_offset = slots_off,
		.bitmap_offset = bitmap_off,
		.pages_per_chunk = ppc,
	};
	smp_wmb();	/* the ledger whole before its magic: a host keys on the magic */
	WRITE_ONCE(h->magic, SDL_LEDGER_MAGIC);
	return 0;
}

static void sdl_pool_free(void)
{
	unsigned int i;

	for (i = 0; i < sdl.nr_blocks; i++)
		__free_pages(sdl.blocks[i].page, pool_order);
	kfree(sdl.blocks);
	bitmap_free(sdl.unit_busy);
	sdl.blocks = NULL;
	sdl.nr_blocks = 0;
}

static int sdl_pool_init(void)
{
	unsigned int want, i;

	if (!pool_mb)
		return 0;
	/* A block is whole units (whole 64-bit ledger words). */
	if (pool_order < 6 || pool_order > 10)
		return -EINVAL;
	sdl.block_pages = 1U << pool_order;
	want = (pool_mb << (20 - PAGE_SHIFT)) >> pool_order;
	if (!want)
		return -EINVAL;
	sdl.blocks = kcalloc(want, sizeof(*sdl.blocks), GFP_KERNEL);
	sdl.unit_busy = bitmap_zalloc(want * (sdl.block_pages / SDL_UNIT_PAGES), GFP_KERNEL);
	if (!sdl.blocks || !sdl.unit_busy)
		goto nomem;
	for (i = 0; i < want; i++) {
		struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, pool_order);

		if (!p)
			goto nomem;
		sdl.blocks[i] = (struct sdl_block){ .page = p, .gfn = page_to_pfn(p) };
		sdl.nr_blocks = i + 1;
		if (page_to_pfn(p) < sdl.g.g.first_gfn ||
		    page_to_pfn(p) - sdl.g.g.first_gfn >= sdl.g.g.nr_gfns)
			goto nomem;	/* RAM outside the span: cannot happen */
	}
	return 0;
nomem:
	sdl_pool_free();
	return -ENOMEM;
}

/* Every shared pool page back to private, through the table (before unregistering). */
static void sdl_pool_restore(void)
{
	unsigned int i;

	for (i = 0; i < sdl.nr_blocks; i++) {
		struct sdl_block *b = &sdl.blocks[i];
		u64 base = sdl_ledger_index(b->gfn), end = base + sdl.block_pages, s = base;

		for (;;) {
			u64 e;

			s = find_next_bit(sdl.expect, end, s);
			if (s >= end)
				break;
			e = find_next_zero_bit(sdl.expect, end, s);
			sdl_convert(SDL_MAX_CHURN, b, b->gfn + (s - base), (u32)(e - s), false, false);
			s = e;
		}
	}
}

static void sdl_table_free(void)
{
	int err;

	if (!sdl.table)
		return;
	/* Back to private before the page allocator may hand the pages out again. */
	err = sdl.table_decrypted ?
	      set_memory_encrypted((unsigned long)sdl.table, sdl.table_bytes >> PAGE_SHIFT) : 0;
	if (err)
		pr_err("table pages left shared (%d): leaking them\n", err);
	else
		free_pages_exact(sdl.table, sdl.table_bytes);
	sdl.table = NULL;
	sdl.table_decrypted = false;
}

/* The module's parameters, checked before anything is allocated. */
static int __init sdl_check_params(void)
{
	if (!is_power_of_2(ppc) || ppc < SD_MIN_CHUNK_PAGES || ppc > SD_MAX_CHUNK_PAGES) {
		pr_err("ppc=%u: a power of two from %u to %u\n", ppc, SD_MIN_CHUNK_PAGES,
		       SD_MAX_CHUNK_PAGES);
		return -EINVAL;
	}
	if (pool_mb > (1U << 20)) {
		pr_err("pool_mb=%u: at most 1 TiB\n", pool_mb);
		return -EINVAL;
	}
	if (!strcmp(transport, "msr"))
		sdl_force_msr = true;
	else if (strcmp(transport, "auto")) {
		pr_err("transport=%s: msr or auto\n", transport);
		return -EINVAL;
	}
	return 0;
}

/*
 * The table for the span of System RAM, [*first, *first + *nr): allocated,
 * made shared and initialised. On failure nothing is left allocated (or
 * what could not be made private again is leaked, and said so).
 */
static int __init sdl_table_init(sd_gfn_t *first, u64 *nr)
{
	int err = sdl_span(first, nr);

	if (err) {
		pr_err("no System RAM resource found\n");
		return err;
	}
	sdl.table_bytes = sd_guest_table_bytes(*first, *nr, ppc);
	sdl.priv_bytes = sd_guest_priv_bytes(*first, *nr, ppc);
	if (!sdl.table_bytes || !sdl.priv_bytes) {
		pr_err("no table for span 0x%llx+0x%llx with %u pages per chunk\n", *first, *nr,
		       ppc);
		return -EINVAL;
	}
	/* Physically contiguous: the buddy allocator's largest block bounds the span. */
	if (get_order(sdl.table_bytes) >= MAX_ORDER) {
		pr_err("a %llu-byte table is larger than one allocation; use larger chunks\n",
		       sdl.table_bytes);
		return -E2BIG;
	}
	sdl.table = alloc_pages_exact(sdl.table_bytes, GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
	sdl.priv = kvzalloc(sdl.priv_bytes, GFP_KERNEL);
	if (!sdl.table || !sdl.priv) {
		err = -ENOMEM;
		goto fail_free;
	}
	sdl.table_gpa = virt_to_phys(sdl.table);

	/*
	 * Shared before the table exists: guest/ records the table's own pages
	 * as shared when it initialises it, so this one conversion is the one
	 * that needs no bracket (SPEC.md 2.6, 2.7).
	 */
	err = set_memory_decrypted((unsigned long)sdl.table, sdl.table_bytes >> PAGE_SHIFT);
	if (err) {
		pr_err("set_memory_decrypted(table): %d; leaking its pages\n", err);
		sdl.table = NULL;
		goto fail_free;
	}
	sdl.table_decrypted = true;
	err = sd_guest_init(&sdl.g, *first, *nr, ppc, sdl.table, sdl.table_gpa, sdl.table_bytes,
			    sdl.priv, sdl.priv_bytes);
	if (err) {
		pr_err("sd_guest_init: %s\n", sd_err_name(err));
		err = -EINVAL;
		goto fail_free;
	}
	return 0;

fail_free:
	sdl_table_free();
	kvfree(sdl.priv);
	sdl.priv = NULL;
	return err;
}

static int __init sdl_init(void)
{
	sd_gfn_t first;
	u64 nr;
	int err;

	mutex_init(&sdl.reg_mutex);
	mutex_init(&sdl.churn_mutex);
	mutex_init(&sdl.convert_mutex);
	sdl_lockdep_init();

	err = sdl_check_params();
	if (err)
		return err;
	err = sdl_table_init(&first, &nr);
	if (err)
		return err;
	err = sdl_ledger_init();
	if (err)
		goto fail_free;
	err = sdl_pool_init();
	if (err) {
		pr_err("pool of %u MiB in order-%u blocks: %d\n", pool_mb, pool_order, err);
		goto fail_ledger;
	}

	/* The test's stand-in for the registration exit: where the table is. */
	pr_info("table gpa=0x%llx bytes=%llu first_gfn=0x%llx nr_gfns=%llu ppc=%u ledger gpa=0x%llx bytes=%llu pool=%ux%u\n",
		sdl.table_gpa, sdl.table_bytes, first, nr, ppc, (u64)virt_to_phys(sdl.ledger),
		sdl.ledger_bytes, sdl.nr_blocks, sdl.block_pages);

	/* Reboot and kexec unregister; a crash kexec cannot, so sdl_register() writes 0 first. */
	sdl.reboot_nb.notifier_call = sdl_reboot_notify;
	err = register_reboot_notifier(&sdl.reboot_nb);
	if (err)
		goto fail_pool;
	sdl.reboot_nb_registered = true;
	sdl_register("load", true);
	sdl_debugfs_init();
	return 0;

fail_pool:
	sdl_pool_free();
fail_ledger:
	free_pages_exact(sdl.ledger, sdl.ledger_bytes);
fail_free:
	sdl_table_free();
	kvfree(sdl.priv);
	return err;
}

static void __exit sdl_exit(void)
{
	debugfs_remove_recursive(sdl.dir);
	sdl_churn_stop();
	if (sdl.reboot_nb_registered)
		unregister_reboot_notifier(&sdl.reboot_nb);
	sdl_pool_restore();
	if (sdl_unregister("unload")) {
		/* The host may still read the table: it must stay shared and ours. */
		sdl.table = NULL;
	}
	sdl_pool_free();
	free_pages_exact(sdl.ledger, sdl.ledger_bytes);
	sdl_table_free();
	kvfree(sdl.priv);
}

module_init(sdl_init);
module_exit(sdl_exit);
MODULE_DESCRIPTION("sev-donate: keep and register the guest's encryption-status table");
MODULE_VERSION(SD_LIB_VERSION_STRING);
MODULE_LICENSE("GPL");
