// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * migrate.c - live migration driven by the guest's table (SPEC.md 7).
 *
 * Source: the demo guest (demo.h) churns on two vCPUs while the VMM sends
 * its memory. Pass 0 sends every page by a table snapshot (host/'s
 * incremental walk, first read). Every later pass sends the pages KVM's
 * dirty log reports and the pages whose state changed, found from the
 * chunk counts by host/'s incremental walk, never by a rescan. When a pass
 * has little left (or at the pass limit) the vCPUs are paused and the
 * final pass sends the dirty and changed pages and, as TRANSITION records,
 * the pages a paused read finds in transition; then the registration, the
 * vCPU state, END. Private pages go through the SEV stand-in (stream.c).
 *
 * Destination: checks everything (stream.c), re-validates the received
 * registration against the received memory through host/, loads the vCPU
 * state, compares the mode each page was last received in with the
 * guest's own ledger (the oracle), answers RESULT, and runs the guest only
 * after COMMIT. The guest then churns on and checks every page it owns.
 *
 * A failed migration leaves the guest running on the source: every error
 * after the pause resumes the vCPUs, and the guest then checks itself.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "migrate.h"
#include "stream.h"
#include "transport.h"
#include "demo.h"
#include "sd_kvm.h"
#include "sd_vmm_reg.h"
#include "bitmap.h"

extern const char sd_guest_image[], sd_guest_image_end[];

#define READ_ATTEMPTS	16	/* per chunk, live reads */
#define WRONG_MODE_GFN	(SD_KVM_GDT_GPA >> 12)	/* private, never written after boot */

void sd_mig_opts_default(struct sd_mig_opts *o)
{
	*o = (struct sd_mig_opts){
		.ram_bytes = 256ULL << 20,
		.ppc = 1024,
		.max_range = 256,
		.seed = 1,
		.max_passes = 8,
		.converge_pages = 512,
		.warmup_ms = 300,
		.after_ms = 300,
		.inj_cut = -1,
		.inj_corrupt = -1,
		.inj_dest_die = -1,
		.timeout_ms = 10000,
	};
}

static double mono_ms(void)
{
	return sd_mig_now_ms();
}

static void sleep_ms(u32 ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- the demo guest's VM, both sides ---------------------------------------------- */

struct demo_vm {
	struct sd_vm *vm;
	struct sd_vm_region *ram;
	struct sd_vmm_reg *reg;
	struct demo_state *demo;	/* the guest's ledger, through our mapping */
	u64 ram_pages;
	u32 nr_vcpus;
	bool boot;			/* source: rendezvous at DEMO_ST_READY */
	/* The rendezvous: vCPUs wait at READY until the VMM says go. */
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	u32 nr_ready;
	bool go;
	s64 reg_rc;
	bool verified[SD_KVM_MAX_VCPUS];
	u64 bad_content, bad_state, pages_checked;
};

static void demo_vcpu_ready(struct demo_vm *d)
{
	pthread_mutex_lock(&d->ready_lock);
	d->nr_ready++;
	pthread_cond_broadcast(&d->ready_cond);
	while (!d->go)
		pthread_cond_wait(&d->ready_cond, &d->ready_lock);
	pthread_mutex_unlock(&d->ready_lock);
}

/*
 * Wait, at most @ms, for every vCPU to reach READY, then let them all go.
 * 0, or -1 if the deadline passed first (the vCPUs that arrived go anyway).
 */
static int demo_vm_wait_ready(struct demo_vm *d, u32 ms)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->ready_lock);
	while (d->nr_ready < d->nr_vcpus && !rc)
		if (pthread_cond_timedwait(&d->ready_cond, &d->ready_lock, &until) == ETIMEDOUT)
			rc = d->nr_ready < d->nr_vcpus ? -1 : 0;
	d->go = true;
	pthread_cond_broadcast(&d->ready_cond);
	pthread_mutex_unlock(&d->ready_lock);
	return rc;
}

static void *demo_vcpu_main(struct sd_vcpu *v, void *arg)
{
	struct demo_vm *d = arg;

	/*
	 * The guest spins at full speed on every vCPU; on a small host the
	 * migration threads would starve. Linux's nice is per thread.
	 */
	if (setpriority(PRIO_PROCESS, 0, 10))
		perror("setpriority");

	for (;;) {
		int rc = sd_vcpu_run(v);

		if (rc == SD_UCALL_DONE)
			return NULL;
		switch (v->uc.args[0]) {
		case DEMO_ST_READY:
			if (v->id == 0)
				d->reg_rc = (s64)v->uc.args[1];
			/* vCPU 1 churns only once vCPU 0 has registered the table. */
			if (d->boot)
				demo_vcpu_ready(d);
			break;
		case DEMO_ST_VERIFIED:
			/* Each vCPU writes its own slot; read after the join. */
			d->verified[v->id] = true;
			__atomic_add_fetch(&d->bad_content, v->uc.args[1], __ATOMIC_RELAXED);
			__atomic_add_fetch(&d->bad_state, v->uc.args[2], __ATOMIC_RELAXED);
			__atomic_add_fetch(&d->pages_checked, v->uc.args[3], __ATOMIC_RELAXED);
			break;
		default:
			TEST_FAIL("demo guest: unexpected stage %llu", (unsigned long long)v->uc.args[0]);
		}
	}
}

static void demo_vm_create(struct demo_vm *d, u64 ram_bytes, u32 nr_vcpus,
			   const struct sd_mig_opts *o)
{
	struct sd_kvm_bootinfo *bi;

	memset(d, 0, sizeof(*d));
	d->ram_pages = ram_bytes >> 12;
	d->nr_vcpus = nr_vcpus;
	d->vm = sd_vm_create();
	d->ram = sd_vm_add_ram(d->vm, 0, ram_bytes, 0);
	sd_vm_load_image(d->vm, sd_guest_image, (size_t)(sd_guest_image_end - sd_guest_image));
	d->reg = sd_vmm_reg_create(d->vm);
	if (o->inj_no_transport)
		sd_vm_set_cpuid_sd(d->vm, 0);	/* test fault: a host offering no transport */
	pthread_mutex_init(&d->ready_lock, NULL);
	pthread_cond_init(&d->ready_cond, NULL);
	d->demo = sd_vm_hva(d->vm, sd_vm_sym(d->vm, "demo"), sizeof(*d->demo));
	bi = sd_vm_bootinfo(d->vm);
	bi->seed = o->seed;
	bi->args[DEMO_ARG_RAM_PAGES] = d->ram_pages;
	bi->args[DEMO_ARG_PPC] = o->ppc;
	bi->args[DEMO_ARG_MAX_RANGE] = o->max_range;
	bi->args[DEMO_ARG_BEYOND] = o->inj_beyond;
	for (u32 i = 0; i < nr_vcpus; i++)
		sd_vm_add_vcpu(d->vm);
}

static void demo_vm_start(struct demo_vm *d)
{
	for (u32 i = 0; i < d->nr_vcpus; i++)
		sd_vcpu_thread_start(d->vm->vcpus[i], demo_vcpu_main, d);
}

/* Let the guest churn @ms more, then have it check every page it owns. */
static void demo_vm_verify(struct demo_vm *d, u32 ms)
{
	sleep_ms(ms);
	__atomic_store_n(&d->demo->stop, 1, __ATOMIC_RELEASE);
	for (u32 i = 0; i < d->nr_vcpus; i++)
		sd_vcpu_thread_join(d->vm->vcpus[i]);
}

static void demo_work(const struct demo_vm *d, u64 *conversions, u64 *rewrites)
{
	*conversions = *rewrites = 0;
	for (u32 i = 0; i < DEMO_VCPUS; i++) {
		*conversions += __atomic_load_n(&d->demo->conversions[i], __ATOMIC_RELAXED);
		*rewrites += __atomic_load_n(&d->demo->rewrites[i], __ATOMIC_RELAXED);
	}
}

/* ---- source ------------------------------------------------------------------------ */

/* The records' transport, with the test faults (cut, corrupt) applied to what is sent. */
struct inj_io {
	struct sd_io inner;
	const struct sd_mig_opts *o;
	int fd;
	u64 written;
	u8 buf[SD_REC_HDR_SIZE + SD_REC_MAX_LEN];
};

static int inj_write(void *ctx, const void *buf, size_t n)
{
	struct inj_io *x = ctx;
	const u8 *p = buf;
	u64 from = x->written;

	if (x->o->inj_corrupt >= 0 && (u64)x->o->inj_corrupt >= from &&
	    (u64)x->o->inj_corrupt < from + n) {
		memcpy(x->buf, buf, n);
		x->buf[x->o->inj_corrupt - (s64)from] ^= 0x40;
		p = x->buf;
	}
	if (x->o->inj_cut >= 0 && (u64)x->o->inj_cut < from + n) {
		size_t keep = (u64)x->o->inj_cut > from ? (size_t)((u64)x->o->inj_cut - from) : 0;

		if (keep)
			x->inner.write(x->inner.ctx, p, keep);
		shutdown(x->fd, SHUT_WR);	/* the stream ends here, for both sides */
		x->written += keep;
		return -SD_MIG_ERR_IO;
	}
	x->written += n;
	return x->inner.write(x->inner.ctx, p, n);
}

struct src {
	const struct sd_mig_opts *o;
	struct sd_mig_source_report *r;
	struct demo_vm d;
	struct sd_host_mem mem;
	struct sd_host_reg reg;
	struct sd_host_incr incr;
	u64 scratch[SD_HOST_SCRATCH_WORDS];
	u64 words;			/* bitmap words for ram_pages */
	u64 *need;			/* pages to send in this pass */
	u64 *dirty;			/* the dirty log, this pass */
	u64 *force_enc;			/* pages of chunks that did not settle */
	u64 *transition;		/* pages in transition (final pass) */
	u64 *stale;			/* sent in another mode than their last settled state */
	u8 *sent;			/* record type each page was last sent in */
	struct sd_mig_pass *pass;
	struct sd_mig_writer *w;
	bool final;
};

static int src_walk_fn(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	struct src *s = ctx;

	/*
	 * Reachable by a hostile guest: its table's span need only cover RAM
	 * (SPEC.md 4.1 check 13), so host/ may report pages beyond it. They
	 * have no memory to send; the per-page bitmaps here are RAM-sized.
	 */
	if (gfn >= s->d.ram_pages)
		return 0;
	n = SD_MIN(n, s->d.ram_pages - gfn);

	switch (state) {
	case SD_PAGE_SHARED:
	case SD_PAGE_PRIVATE:
		if (s->final || s->pass != &s->r->pass[0]) {
			/* A changed state: resend in the new mode (7.2). */
			sd_bitmap_set_range(s->need, gfn, n);
			s->pass->status_changes += n;
		}
		break;
	case SD_PAGE_UNSETTLED:
		/* Send encrypted now (never plaintext on a guess), re-read next pass. */
		sd_bitmap_set_range(s->need, gfn, n);
		sd_bitmap_set_range(s->force_enc, gfn, n);
		s->pass->unsettled += n;
		break;
	case SD_PAGE_TRANSITION:
		sd_bitmap_set_range(s->need, gfn, n);
		sd_bitmap_set_range(s->transition, gfn, n);
		break;
	}
	return 0;
}

/* The options of the source's walks: src_walk_fn, READ_ATTEMPTS per live chunk read. */
static struct sd_host_walk_opts src_walk_opts(struct src *s, u32 flags, struct sd_errloc *loc)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = READ_ATTEMPTS,
		     .fn = src_walk_fn, .ctx = s, .loc = loc);

	return o;
}

/* The mode page @p's last settled state asks for. */
static u16 settled_type(const struct src *s, u64 p)
{
	if (s->final && sd_bit_test(s->transition, p))
		return SD_REC_TRANSITION;
	return sd_bit_test(s->incr.bits, p) ? SD_REC_PLAIN : SD_REC_ENCRYPTED;
}

static u16 page_type(const struct src *s, u64 p)
{
	if (sd_bit_test(s->force_enc, p))
		return SD_REC_ENCRYPTED;
	return settled_type(s, p);
}

/*
 * Pages sent encrypted while their chunk did not settle keep the chunk's
 * previous settled state in the incremental record; when the chunk settles
 * with those pages unchanged, the walk reports nothing for them. So the
 * source remembers them, and resends each whose settled state now asks for
 * another mode.
 */
static void resend_stale(struct src *s)
{
	u64 npages = s->d.ram_pages;

	for (u64 p = sd_bitmap_find(s->stale, 0, npages, true); p < npages;
	     p = sd_bitmap_find(s->stale, p + 1, npages, true))
		if (!sd_bit_test(s->force_enc, p) && settled_type(s, p) != s->sent[p])
			sd_bitmap_set_range(s->need, p, 1);
}

static int send_run(struct src *s, u64 p, u32 n, u16 type, struct sd_mig_status *st)
{
	static u8 copy[SD_REC_MAX_PAGES * 4096];
	const u8 *data = sd_vm_hva(s->d.vm, p << 12, (u64)n << 12);
	u64 tgfn = DEMO_TABLE_GPA >> 12;
	int rc;

	if (s->o->inj_table && s->final && p <= tgfn && tgfn < p + n) {
		/* Test fault: the table's header page arrives with a bad magic. */
		memcpy(copy, data, (size_t)n << 12);
		copy[((tgfn - p) << 12)] ^= 0xff;
		data = copy;
	}
	rc = sd_mig_put_pages(s->w, (enum sd_rec_type)type, p, n, data, st);
	if (rc)
		return rc;
	memset(s->sent + p, (int)type, n);
	for (u64 i = p; i < p + n; i++) {
		if (type == settled_type(s, i))
			s->stale[i >> 6] &= ~(1ULL << (i & 63));
		else if (sd_bit_test(s->force_enc, i))
			s->stale[i >> 6] |= 1ULL << (i & 63);
	}
	if (type == SD_REC_PLAIN)
		s->pass->plain += n;
	else if (type == SD_REC_ENCRYPTED)
		s->pass->encrypted += n;
	else
		s->pass->transition += n;
	return 0;
}

/* The record type page @p goes in now, with the wrong-mode test fault applied. */
static u16 send_type(const struct src *s, u64 p)
{
	u16 type = page_type(s, p);

	if (s->o->inj_wrong_mode && p == WRONG_MODE_GFN && type == SD_REC_ENCRYPTED &&
	    s->pass == &s->r->pass[0])
		return SD_REC_PLAIN;	/* test fault: a private page in plaintext */
	return type;
}

/* Send every page in s->need, in runs of one type, at most SD_REC_MAX_PAGES each. */
static int send_needed(struct src *s, struct sd_mig_status *st)
{
	u64 npages = s->d.ram_pages;
	u64 p = sd_bitmap_find(s->need, 0, npages, true);

	while (p < npages) {
		u16 type = send_type(s, p);
		u32 n = 1;
		int rc;

		while (n < SD_REC_MAX_PAGES && p + n < npages && sd_bit_test(s->need, p + n) &&
		       send_type(s, p + n) == type)
			n++;
		rc = send_run(s, p, n, type, st);
		if (rc)
			return rc;
		p = sd_bitmap_find(s->need, p + n, npages, true);
	}
	return 0;
}

static u64 bitmap_count(const u64 *b, u64 words)
{
	u64 c = 0;

	for (u64 i = 0; i < words; i++)
		c += sd_popcount64(b[i]);
	return c;
}

static void bitmap_or(u64 *dst, const u64 *src, u64 words)
{
	for (u64 i = 0; i < words; i++)
		dst[i] |= src[i];
}

/* Size the incremental state from the registration's geometry (SPEC.md 6.1). */
static int src_incr_alloc(struct src *s, struct sd_mig_status *st)
{
	free(s->incr.seqs);
	free(s->incr.bits);
	s->incr = (struct sd_host_incr){ .nr_chunks = s->reg.geom.nr_chunks };
	s->incr.seqs = calloc(sd_host_incr_seq_entries(&s->reg), sizeof(u32));
	/* bits are indexed by span page; the span may be smaller than RAM's words: pad. */
	s->incr.bits = calloc(sd_host_incr_bit_words(&s->reg) + s->words, sizeof(u64));
	if (!s->incr.seqs || !s->incr.bits)
		return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "out of memory for the incremental state");
	return 0;
}

/*
 * The guest re-registered (SPEC.md 5.6): the table read so far may already
 * be ordinary guest memory. Read the new one in full and resend every page
 * whose mode differs from what was sent.
 */
static int src_reread(struct src *s, u32 flags, struct sd_mig_status *st)
{
	struct sd_errloc loc;
	struct sd_host_walk_opts o = src_walk_opts(s, flags, &loc);
	int rc = src_incr_alloc(s, st);

	if (rc)
		return rc;
	rc = sd_host_incr_init(&s->reg, &s->mem, &s->incr, &o);
	if (rc)
		return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "re-registered table: %s at chunk %lld "
				   "offset %#llx", sd_err_name(rc), (long long)loc.chunk,
				   (unsigned long long)loc.offset);
	s->r->rereads++;
	for (u64 p = 0; p < s->d.ram_pages; p++)
		if (s->sent[p] != page_type(s, p))
			sd_bitmap_set_range(s->need, p, 1);
	return 0;
}

/* This pass's view of the registration; a new generation means a full re-read. */
static int src_reg_refresh(struct src *s, u32 flags, bool *reread, struct sd_mig_status *st)
{
	u64 gen = s->reg.generation;

	*reread = false;
	if (sd_vmm_reg_snapshot(s->d.reg, &s->reg))
		return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "the guest unregistered its table");
	if (s->reg.generation == gen)
		return 0;
	*reread = true;
	return src_reread(s, flags, st);
}

static void vcpu_items(const struct sd_vcpu_state *vs, u8 *buf, size_t cap, size_t *len,
		       u32 *nr)
{
	u8 msrs[8 + 16 * SD_VM_MAX_MSRS];
	u32 n = SD_MIN(vs->nr_msrs, (u32)SD_MIG_MAX_MSRS);

	*len = 0;
	*nr = 0;
#define ADD(kind, ptr, size)								\
	do {										\
		TEST_ASSERT(!sd_mig_vcpu_item_add(buf, cap, len, kind, ptr, size), "items");\
		(*nr)++;								\
	} while (0)
	ADD(SD_VCPU_REGS, &vs->regs, sizeof(vs->regs));
	ADD(SD_VCPU_SREGS, &vs->sregs, sizeof(vs->sregs));
	if (vs->has_xsave)
		ADD(SD_VCPU_XSAVE, &vs->xsave, sizeof(vs->xsave));
	if (vs->has_xcrs)
		ADD(SD_VCPU_XCRS, &vs->xcrs, sizeof(vs->xcrs));
	ADD(SD_VCPU_EVENTS, &vs->events, sizeof(vs->events));
	ADD(SD_VCPU_DEBUGREGS, &vs->debugregs, sizeof(vs->debugregs));
	memset(msrs, 0, 8);
	memcpy(msrs, &n, 4);
	memcpy(msrs + 8, vs->msrs, 16 * (size_t)n);
	ADD(SD_VCPU_MSRS, msrs, 8 + 16 * n);
#undef ADD
}

static struct inj_io inj;

static int src_migrate(struct src *s, struct sd_mig_conn *conn, struct sd_mig_status *st)
{
	struct sd_io raw = sd_io_conn(conn);
	struct sd_io io;
	struct sd_mig_keys keys;
	struct sd_mig_source_report *r = s->r;
	struct sd_host_walk_opts o;
	struct sd_errloc loc;
	u64 prev = ~0ULL;
	bool reread;
	double t0;
	int rc;

	inj = (struct inj_io){ .inner = raw, .o = s->o, .fd = conn->fd };
	io = (struct sd_io){ .read = raw.read, .write = inj_write, .ctx = &inj };
	rc = sd_mig_recv_hello(&raw, s->d.ram_pages << 12, &keys, st);
	if (!rc)
		rc = sd_mig_send_header(&raw, s->d.ram_pages << 12, s->d.nr_vcpus, &keys, st);
	if (rc)
		return rc;

	/* 7.1 step 1: a table, still the one registered. */
	if (sd_vmm_reg_snapshot(s->d.reg, &s->reg))
		return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "the guest has no table registered");
	rc = sd_host_check_header(&s->reg, &s->mem, &loc);
	if (rc)
		return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "table: %s", sd_err_name(rc));
	rc = src_incr_alloc(s, st);
	if (rc)
		return rc;

	sd_vm_dirty_log_enable(s->d.vm, s->d.ram, true);
	sd_vm_dirty_log_get(s->d.vm, s->d.ram, s->dirty);
	sd_mig_writer_init(s->w, &io, &keys);

	/* Pass 0: everything, by a snapshot of the table. */
	t0 = mono_ms();
	s->pass = &r->pass[0];
	r->passes = 1;
	rc = sd_mig_put_pass(s->w, 0, false, st);
	if (!rc) {
		o = src_walk_opts(s, SD_READ_UNSETTLED_OK, &loc);
		rc = sd_host_incr_init(&s->reg, &s->mem, &s->incr, &o);
		if (rc)
			return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "table: %s at chunk %lld offset "
					   "%#llx", sd_err_name(rc), (long long)loc.chunk,
					   (unsigned long long)loc.offset);
		sd_bitmap_set_range(s->need, 0, s->d.ram_pages);
		rc = send_needed(s, st);
	}
	s->pass->ms = mono_ms() - t0;
	if (rc)
		return rc;
	if (s->o->verbose)
		fprintf(stderr, "pass 0: %llu plain, %llu encrypted, %.1f ms\n",
			(unsigned long long)s->pass->plain, (unsigned long long)s->pass->encrypted,
			s->pass->ms);

	/* Passes 1..: the dirty pages and the pages whose state changed. */
	for (u32 n = 1; n <= s->o->max_passes && n < SD_MIG_MAX_PASSES; n++) {
		u64 count;
		bool last;

		t0 = mono_ms();
		s->pass = &r->pass[n];
		r->passes = n + 1;
		memset(s->need, 0, s->words * 8);
		memset(s->force_enc, 0, s->words * 8);
		rc = sd_mig_put_pass(s->w, n, false, st);
		if (rc)
			return rc;
		s->pass->dirty = sd_vm_dirty_log_get(s->d.vm, s->d.ram, s->dirty);
		rc = src_reg_refresh(s, SD_READ_UNSETTLED_OK, &reread, st);
		if (rc)
			return rc;
		o = src_walk_opts(s, SD_READ_UNSETTLED_OK, &loc);
		if (!reread)
			rc = sd_host_walk_changes(&s->reg, &s->mem, &s->incr, s->scratch, &o);
		if (rc)
			return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "table: %s at chunk %lld offset "
					   "%#llx", sd_err_name(rc), (long long)loc.chunk,
					   (unsigned long long)loc.offset);
		r->resent_for_status += s->pass->status_changes;
		bitmap_or(s->need, s->dirty, s->words);
		resend_stale(s);
		count = bitmap_count(s->need, s->words);
		last = count <= s->o->converge_pages || n == s->o->max_passes || (n >= 2 && count >= prev);
		prev = count;
		rc = send_needed(s, st);
		s->pass->ms = mono_ms() - t0;
		if (rc)
			return rc;
		if (s->o->verbose)
			fprintf(stderr, "pass %u: %llu dirty, %llu status changes, %llu plain, %llu "
				"encrypted, %.1f ms\n", n, (unsigned long long)s->pass->dirty,
				(unsigned long long)s->pass->status_changes,
				(unsigned long long)s->pass->plain,
				(unsigned long long)s->pass->encrypted, s->pass->ms);
		if (last)
			break;
	}

	/* The final pass, with every vCPU stopped wherever it is (7.3). */
	sd_vm_pause(s->d.vm);
	r->paused = true;
	r->pause_mono_ms = mono_ms();
	t0 = r->pause_mono_ms;
	demo_work(&s->d, &r->conversions, &r->rewrites);
	s->final = true;
	s->pass = &r->pass[r->passes];
	r->passes++;
	memset(s->need, 0, s->words * 8);
	memset(s->force_enc, 0, s->words * 8);
	rc = sd_mig_put_pass(s->w, r->passes - 1, true, st);
	if (rc)
		return rc;
	s->pass->dirty = sd_vm_dirty_log_get(s->d.vm, s->d.ram, s->dirty);
	rc = src_reg_refresh(s, SD_READ_PAUSED, &reread, st);
	if (!rc && !reread) {
		o = src_walk_opts(s, SD_READ_PAUSED, &loc);
		rc = sd_host_walk_changes(&s->reg, &s->mem, &s->incr, s->scratch, &o);
		if (rc)
			rc = sd_mig_fail(st, SD_MIG_ERR_SOURCE, "table (paused): %s at chunk %lld "
					 "offset %#llx", sd_err_name(rc), (long long)loc.chunk,
					 (unsigned long long)loc.offset);
	}
	if (rc)
		return rc;
	r->resent_for_status += s->pass->status_changes;
	bitmap_or(s->need, s->dirty, s->words);
	resend_stale(s);
	if (s->o->inj_table)
		sd_bitmap_set_range(s->need, DEMO_TABLE_GPA >> 12, 1);
	rc = send_needed(s, st);
	if (!rc)
		rc = sd_mig_put_registration(s->w, s->reg.value, s->reg.generation, &s->reg.hdr, st);
	for (u32 i = 0; !rc && i < s->d.nr_vcpus; i++) {
		static struct sd_vcpu_state vs;
		static u8 items[16384];
		size_t len;
		u32 nr;

		sd_vcpu_state_save(s->d.vm->vcpus[i], &vs);
		vcpu_items(&vs, items, sizeof(items), &len, &nr);
		rc = sd_mig_put_vcpu(s->w, i, nr, items, len, st);
	}
	if (!rc)
		rc = sd_mig_put_end(s->w, st);
	s->pass->ms = mono_ms() - t0;
	if (rc)
		return rc;
	if (s->o->verbose)
		fprintf(stderr, "final pass: %llu dirty, %llu status changes, %llu transition, "
			"%llu plain, %llu encrypted\n", (unsigned long long)s->pass->dirty,
			(unsigned long long)s->pass->status_changes,
			(unsigned long long)s->pass->transition, (unsigned long long)s->pass->plain,
			(unsigned long long)s->pass->encrypted);
	rc = sd_mig_recv_result(&raw, st);
	if (rc)
		return rc;
	rc = sd_mig_send_commit(&raw, st);
	if (rc)
		return rc;
	r->committed = true;
	r->handover_ms = mono_ms() - r->pause_mono_ms;
	return 0;
}

/* The source's own buffers (the VM stays: on success its vCPUs stay stopped). */
static void src_free(struct src *s)
{
	free(s->need);
	free(s->dirty);
	free(s->force_enc);
	free(s->transition);
	free(s->stale);
	free(s->sent);
	free(s->w);
	free(s->incr.seqs);
	free(s->incr.bits);
}

int sd_mig_run_source(const struct sd_mig_opts *o, struct sd_mig_source_report *r)
{
	static struct src s;
	struct sd_mig_status st = { 0 };
	struct sd_mig_conn conn;
	double start;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	if (o->ram_bytes < DEMO_MIN_RAM || o->ram_bytes > DEMO_MAX_RAM ||
	    o->ram_bytes % DEMO_RAM_STEP)
		return sd_mig_fail(&st, SD_MIG_ERR_RANGE, "guest RAM must be %llu MiB to %llu MiB, in "
				   "%llu MiB steps", DEMO_MIN_RAM >> 20, DEMO_MAX_RAM >> 20,
				   DEMO_RAM_STEP >> 20);
	s.o = o;
	s.r = r;
	demo_vm_create(&s.d, o->ram_bytes, DEMO_VCPUS, o);
	s.d.boot = true;
	s.mem = (struct sd_host_mem){ .map = sd_vm_mem_map, .ctx = s.d.vm };
	s.words = (s.d.ram_pages + 63) / 64;
	s.need = calloc(s.words, 8);
	s.dirty = calloc(sd_vm_dirty_log_words(s.d.ram), 8);
	s.force_enc = calloc(s.words, 8);
	s.transition = calloc(s.words, 8);
	s.stale = calloc(s.words, 8);
	s.sent = calloc(s.d.ram_pages, 1);
	s.w = malloc(sizeof(*s.w));
	TEST_ASSERT(s.need && s.dirty && s.force_enc && s.transition && s.stale && s.sent && s.w,
		    "out of memory for %llu pages", (unsigned long long)s.d.ram_pages);

	demo_vm_start(&s.d);
	if (demo_vm_wait_ready(&s.d, o->timeout_ms)) {
		rc = sd_mig_fail(&st, SD_MIG_ERR_TIMEOUT, "the guest did not boot and register within "
				 "%u ms", o->timeout_ms);
		goto resume;
	}
	if (s.d.reg_rc) {
		rc = sd_mig_fail(&st, SD_MIG_ERR_SOURCE, "the guest could not register its table: %s",
				 sd_err_name((int)s.d.reg_rc));
		goto resume;
	}
	sleep_ms(o->warmup_ms);

	start = mono_ms();
	fd = sd_mig_connect(o->connect, o->timeout_ms, &st);
	if (fd < 0) {
		rc = fd;
		goto resume;
	}
	r->connected = true;
	/*
	 * A destination that stops reading or never answers must not keep the
	 * guest paused: every send and receive has a deadline, and running
	 * into it fails the migration like any other error (the guest resumes
	 * here).
	 */
	conn = (struct sd_mig_conn){ .fd = fd, .timeout_ms = o->timeout_ms };
	rc = src_migrate(&s, &conn, &st);
	if (rc == -SD_MIG_ERR_IO || rc == -SD_MIG_ERR_EOF) {
		/*
		 * The destination may have refused and hung up while we were
		 * sending: its RESULT says why. Wait for it briefly.
		 */
		struct sd_mig_conn brief = { .fd = fd, .timeout_ms = 1000 };
		struct sd_io raw = sd_io_conn(&brief);
		struct sd_mig_status why;

		if (sd_mig_recv_result(&raw, &why) == -SD_MIG_ERR_REFUSED) {
			char mine[sizeof(st.msg)];

			snprintf(mine, sizeof(mine), "%s", st.msg);
			rc = sd_mig_fail(&st, SD_MIG_ERR_REFUSED, "%.*s (here: %.*s)", 120,
					 why.msg + strlen("SD_MIG_ERR_REFUSED: "), 80, mine);
		}
	}
	close(fd);
	r->total_ms = mono_ms() - start;
	r->bytes_sent = inj.written;
	for (u32 i = 0; i < r->passes; i++) {
		r->pages_plain += r->pass[i].plain;
		r->pages_encrypted += r->pass[i].encrypted;
		r->pages_transition += r->pass[i].transition;
	}
	if (!rc) {
		src_free(&s);
		return 0;	/* the guest lives on the destination; our vCPUs stay stopped */
	}
resume:
	/* Failed: the guest goes on here, and checks itself. */
	r->err = st.err;
	snprintf(r->msg, sizeof(r->msg), "%s", st.msg);
	if (r->paused)
		sd_vm_resume(s.d.vm);
	r->resumed = true;
	demo_vm_verify(&s.d, o->after_ms);
	r->verified = s.d.verified[0] && s.d.verified[1];
	r->bad_content = s.d.bad_content;
	r->bad_state = s.d.bad_state;
	r->pages_checked = s.d.pages_checked;
	src_free(&s);
	return rc;
}

/* ---- destination --------------------------------------------------------------------- */

struct dst_items {
	struct sd_vcpu_state *vs;
};

static int dst_item(void *ctx, u32 kind, const void *data, u32 len)
{
	struct sd_vcpu_state *vs = ((struct dst_items *)ctx)->vs;
	u32 n;

	switch (kind) {
	case SD_VCPU_REGS: memcpy(&vs->regs, data, len); break;
	case SD_VCPU_SREGS: memcpy(&vs->sregs, data, len); break;
	case SD_VCPU_XSAVE: memcpy(&vs->xsave, data, len); vs->has_xsave = true; break;
	case SD_VCPU_XCRS: memcpy(&vs->xcrs, data, len); vs->has_xcrs = true; break;
	case SD_VCPU_EVENTS: memcpy(&vs->events, data, len); break;
	case SD_VCPU_DEBUGREGS: memcpy(&vs->debugregs, data, len); break;
	case SD_VCPU_MSRS:
		memcpy(&n, data, 4);
		if (n > SD_VM_MAX_MSRS)
			return -1;
		vs->nr_msrs = n;
		memcpy(vs->msrs, (const u8 *)data + 8, 16 * (size_t)n);
		break;
	default:
		return -1;	/* MP_STATE, LAPIC: this VMM has no in-kernel irqchip */
	}
	return 0;
}

/* The oracle: every page's received mode against the guest's ledger at the pause. */
static void dst_oracle(struct demo_vm *d, const u8 *mode, struct sd_mig_dest_report *r)
{
	const struct demo_state *g = d->demo;

	r->first_mismatch_gfn = ~0ULL;
	for (u64 p = 0; p < d->ram_pages; p++) {
		bool in_flight = false;
		u8 want;

		for (u32 i = 0; i < DEMO_VCPUS; i++) {
			const struct demo_inflight *f = &g->inflight[i];

			if (f->valid && p >= f->gfn && p - f->gfn < f->npages)
				in_flight = true;
		}
		if (mode[p] == 0) {
			r->never_received++;
			want = 0xff;
		} else if (in_flight) {
			r->in_flight_pages++;	/* either mode, or in transition */
			continue;
		} else {
			want = g->state[p] ? SD_REC_PLAIN : SD_REC_ENCRYPTED;
		}
		if (mode[p] != want) {
			if (!r->mismatches)
				r->first_mismatch_gfn = p;
			r->mismatches++;
		}
	}
}

static int dst_migrate(const struct sd_mig_opts *o, struct sd_mig_conn *conn, struct demo_vm *d,
		       struct sd_mig_dest_report *r, struct sd_mig_status *st)
{
	struct sd_io io = sd_io_conn(conn);
	struct sd_mig_keys keys;
	static struct sd_mig_reader rd;
	static struct sd_vcpu_state vs[SD_KVM_MAX_VCPUS];
	struct sd_vmm_reg_attempt att;
	struct sd_mig_rec rec;
	u64 ram_bytes, reg_value = 0;
	u32 nr_vcpus;
	u8 *mode = NULL;
	int rc;

	rc = sd_mig_send_hello(&io, o->ram_bytes, &keys, st);
	if (!rc)
		rc = sd_mig_recv_header(&io, o->ram_bytes, &keys, &ram_bytes, &nr_vcpus, st);
	if (rc)
		return rc;
	if (nr_vcpus != DEMO_VCPUS || ram_bytes < DEMO_MIN_RAM || ram_bytes > DEMO_MAX_RAM ||
	    ram_bytes % DEMO_RAM_STEP)
		rc = sd_mig_fail(st, SD_MIG_ERR_RANGE, "%u vCPUs and %llu bytes of RAM: not the demo "
				 "guest (2 vCPUs, %llu to %llu MiB in %llu MiB steps)", nr_vcpus,
				 (unsigned long long)ram_bytes, DEMO_MIN_RAM >> 20, DEMO_MAX_RAM >> 20,
				 DEMO_RAM_STEP >> 20);
	if (rc)
		goto refuse;
	demo_vm_create(d, ram_bytes, nr_vcpus, o);
	r->ram_pages = d->ram_pages;
	mode = calloc(d->ram_pages, 1);
	if (!mode) {
		rc = sd_mig_fail(st, SD_MIG_ERR_RANGE, "out of memory for %llu pages",
				 (unsigned long long)d->ram_pages);
		goto refuse;
	}
	sd_mig_reader_init(&rd, &io, &keys, ram_bytes, nr_vcpus);
	for (;;) {
		rc = sd_mig_next(&rd, &rec, st);
		if (rc)
			goto refuse;
		r->records++;
		if (o->inj_dest_die >= 0 && r->records > (u64)o->inj_dest_die)
			_exit(137);	/* test fault: the destination dies mid-transfer */
		switch (rec.type) {
		case SD_REC_PLAIN:
		case SD_REC_ENCRYPTED:
		case SD_REC_TRANSITION:
			memcpy(sd_vm_hva(d->vm, rec.pages.gfn << 12, (u64)rec.pages.npages << 12),
			       rec.pages.data, (size_t)rec.pages.npages << 12);
			memset(mode + rec.pages.gfn, rec.type, rec.pages.npages);
			if (rec.type == SD_REC_PLAIN)
				r->pages_plain += rec.pages.npages;
			else if (rec.type == SD_REC_ENCRYPTED)
				r->pages_encrypted += rec.pages.npages;
			else
				r->pages_transition += rec.pages.npages;
			break;
		case SD_REC_REGISTRATION:
			reg_value = rec.reg.value;
			break;
		case SD_REC_VCPU: {
			struct dst_items it = { &vs[rec.vcpu.index] };

			memset(it.vs, 0, sizeof(*it.vs));
			rc = sd_mig_vcpu_items(&rec, dst_item, &it, st);
			if (rc)
				goto refuse;
			break;
		}
		default:
			break;
		}
		if (rec.type == SD_REC_END)
			break;
	}

	/* 7.4: the registration, against the memory received, with this host's limits. */
	if (!reg_value) {
		rc = sd_mig_fail(st, SD_MIG_ERR_TABLE, "the guest has no table registered");
		goto refuse;
	}
	rc = sd_vmm_reg_restore(d->reg, reg_value, &att);
	if (rc) {
		rc = sd_mig_fail(st, SD_MIG_ERR_TABLE, "the registration failed re-validation: %s at "
				 "chunk %lld offset %#llx", sd_err_name(rc), (long long)att.loc.chunk,
				 (unsigned long long)att.loc.offset);
		goto refuse;
	}
	dst_oracle(d, mode, r);
	free(mode);
	mode = NULL;
	if (r->never_received) {
		rc = sd_mig_fail(st, SD_MIG_ERR_RANGE, "%llu pages of RAM never arrived (the first "
				 "pass must send every page)", (unsigned long long)r->never_received);
		goto refuse;
	}
	for (u32 i = 0; i < nr_vcpus; i++)
		sd_vcpu_state_restore(d->vm->vcpus[i], &vs[i]);

	rc = sd_mig_send_result(&io, &(struct sd_mig_status){ 0 });
	if (rc)
		return sd_mig_fail(st, -rc, "sending RESULT: the source is gone");
	return sd_mig_recv_commit(&io, st);
refuse:
	free(mode);
	sd_mig_send_result(&io, st);	/* best effort: the source may be gone */
	return rc;
}

int sd_mig_run_dest(const struct sd_mig_opts *o, struct sd_mig_dest_report *r)
{
	static struct demo_vm d;
	struct sd_mig_status st = { 0 };
	struct sd_mig_conn conn;
	char bound[SD_MIG_ADDR_MAX];
	int lfd, fd, rc;

	memset(r, 0, sizeof(*r));
	memset(&d, 0, sizeof(d));
	lfd = sd_mig_listen(o->listen, bound, &st);
	if (lfd < 0) {
		rc = lfd;
		goto out;
	}
	if (o->on_listening)
		o->on_listening(o->cb_ctx, bound);
	/* --timeout covers the wait for a source too: nobody comes, nothing runs. */
	fd = sd_mig_accept(lfd, bound, o->timeout_ms, &st);
	close(lfd);
	if (!strncmp(bound, "unix:", 5))
		unlink(bound + 5);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	/* A stalled source: every transfer has the same deadline; give up, run nothing. */
	conn = (struct sd_mig_conn){ .fd = fd, .timeout_ms = o->timeout_ms };
	rc = dst_migrate(o, &conn, &d, r, &st);
	close(fd);
	if (rc)
		goto out;
	/* COMMIT read: the guest is ours now. */
	r->resume_mono_ms = mono_ms();
	r->resumed = true;
	demo_vm_start(&d);
	demo_vm_verify(&d, o->after_ms);
	r->verified = d.verified[0] && d.verified[1];
	r->bad_content = d.bad_content;
	r->bad_state = d.bad_state;
	r->pages_checked = d.pages_checked;
	demo_work(&d, &r->conversions, &r->rewrites);
out:
	r->err = st.err;
	snprintf(r->msg, sizeof(r->msg), "%s", st.msg);
	return rc;
}
