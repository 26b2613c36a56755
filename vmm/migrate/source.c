// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * source.c - the source VMM: send the running demo guest, pass by pass
 * (SPEC.md 7.1-7.3).
 *
 * Pass 0 sends every page, by a full read of the table (host/'s
 * incremental walk, first read). Every later pass sends the pages KVM's
 * dirty log reports and the pages whose state changed, found from the
 * chunk counts by host/'s incremental walk, never by a rescan. When what is
 * dirty fits the downtime limit at the measured bandwidth (converge.c:
 * otherwise the vCPUs are throttled harder, and at the pass limit the
 * migration gives up) the vCPUs are paused and the final pass sends the dirty and changed pages and, as TRANSITION records,
 * the pages a paused read finds in transition; then the registration, the
 * vCPU state, END. Private pages go through the SEV stand-in (stream.c).
 * Every pass, the final one included, is one function (src_pass).
 *
 * A read of the table is trusted only if the registration did not change
 * while it ran (SPEC.md 5.6): a guest that re-registered (a resize, say)
 * may have turned the old table into ordinary memory. Such a read is
 * discarded and the new table read in full.
 *
 * A failed migration leaves the guest running here: every error after
 * the pause resumes the vCPUs. A failure the destination cannot see (the
 * vCPUs would not pause, memory ran out) it is told of in an ABORT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "migrate.h"
#include "converge.h"
#include "exitlist.h"
#include <malloc.h>
#include <sys/resource.h>
#include "stream.h"
#include "transport.h"
#include "sd_kvm.h"
#include "sd_vmm_reg.h"
#include "bitmap.h"

#define READ_ATTEMPTS	16	/* per chunk, live reads */
#define MAX_STALE_READS	64	/* per pass: reads the guest invalidated by re-registering */
#define READ_DELAY_MOVE_MS 5000	/* a test fault's most wait for what the guest was asked (a move, a broken count) */
#define WRONG_MODE_GFN	(SD_KVM_GDT_GPA >> SD_PAGE_SHIFT)	/* private, never written after boot */

void sd_mig_opts_default(struct sd_mig_opts *o)
{
	*o = (struct sd_mig_opts){
		.ram_bytes = 256ULL << 20,
		.guest = { .seed = 1, .ppc = 1024, .max_range = 256 },
		.max_passes = 16,
		.max_downtime_ms = SD_MIG_DOWNTIME_DEFAULT_MS,
		.warmup_ms = 300,
		.after_ms = 300,
		.timeout_ms = 10000,
		.faults = { .cut = -1, .corrupt = -1, .dest_die = -1 },
	};
}

/* The records' transport, with the test faults (cut, corrupt) applied to what is sent. */
struct fault_io {
	struct sd_io inner;
	const struct sd_mig_faults *f;
	int fd;
	u64 written;
	u8 buf[SD_REC_HDR_SIZE + SD_REC_MAX_LEN];
};

static int fault_write(void *ctx, const void *buf, size_t n)
{
	struct fault_io *x = ctx;
	const u8 *p = buf;
	u64 from = x->written;

	sd_mig_crash_send(x->f, buf, n);	/* test fault: the source dies before this record */
	if (x->f->corrupt >= 0 && (u64)x->f->corrupt >= from && (u64)x->f->corrupt < from + n) {
		memcpy(x->buf, buf, n);
		x->buf[x->f->corrupt - (s64)from] ^= 0x40;
		p = x->buf;
	}
	if (x->f->cut >= 0 && (u64)x->f->cut < from + n) {
		size_t keep = (u64)x->f->cut > from ? (size_t)((u64)x->f->cut - from) : 0;

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
	struct demo_vm *d;
	bool resumed;			/* a failure resumed the paused vCPUs already */
	struct sd_host_mem mem;
	struct sd_host_reg reg;		/* the registration this pass reads */
	struct sd_host_incr incr;
	u64 scratch[SD_HOST_SCRATCH_WORDS];
	u64 words;			/* bitmap words for ram_pages */
	u64 *need;			/* pages to send in this pass */
	u64 *dirty;			/* the dirty log, this pass */
	u64 *carry;			/* dirty bits taken by the convergence peek, for the next pass */
	struct sd_mig_conv conv;
	u64 *force_enc;			/* pages of chunks that did not settle */
	u64 *transition;		/* pages in transition (final pass) */
	u64 *stale;			/* sent in another mode than their last settled state */
	u8 *sent;			/* record type each page was last sent in, 0 = never */
	struct sd_mig_pass *pass;
	struct sd_mig_writer w;
	struct sd_io io;		/* the records' transport: fio over the connection */
	struct fault_io fio;
	bool final;			/* the final pass: vCPUs paused */
	bool full_read;			/* the read running is a full one (sd_host_incr_init) */
	double injected_ms;		/* this pass's test-fault sleeps and waits: not the read's cost */
};

static int walk_fn(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	struct src *s = ctx;

	/*
	 * Reachable by a hostile guest: its table's span need only cover RAM
	 * (SPEC.md 4.1 check 13), so host/ may report pages beyond it. They
	 * have no memory to send; the per-page bitmaps here are RAM-sized.
	 */
	if (gfn >= s->d->ram_pages)
		return 0;
	n = SD_MIN(n, s->d->ram_pages - gfn);

	switch (state) {
	case SD_PAGE_SHARED:
	case SD_PAGE_PRIVATE:
		/* A changed state: resend in the new mode (7.2). A full read marks its own. */
		if (!s->full_read) {
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

/* The options of the source's reads: walk_fn, READ_ATTEMPTS per live chunk read. */
static struct sd_host_walk_opts walk_opts(struct src *s, u32 flags, struct sd_errloc *loc)
{
	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = flags, .max_attempts = READ_ATTEMPTS,
		     .fn = walk_fn, .ctx = s, .loc = loc);

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
	u64 npages = s->d->ram_pages;

	for (u64 p = sd_bitmap_find(s->stale, 0, npages, true); p < npages;
	     p = sd_bitmap_find(s->stale, p + 1, npages, true))
		if (!sd_bit_test(s->force_enc, p) && settled_type(s, p) != s->sent[p])
			sd_bitmap_set_range(s->need, p, 1);
}

static int send_run(struct src *s, u64 p, u32 n, u16 type, struct sd_mig_status *st)
{
	static u8 copy[SD_REC_MAX_PAGES * SD_PAGE_SIZE];
	const u8 *data = sd_vm_hva(s->d->vm, p << SD_PAGE_SHIFT, (u64)n << SD_PAGE_SHIFT);
	u64 tgfn = DEMO_TABLE_GPA >> SD_PAGE_SHIFT;
	int rc;

	if (s->o->faults.table && s->final && p <= tgfn && tgfn < p + n) {
		/* Test fault: the table's header page arrives with a bad magic. */
		memcpy(copy, data, (size_t)n << SD_PAGE_SHIFT);
		copy[(tgfn - p) << SD_PAGE_SHIFT] ^= 0xff;
		data = copy;
	}
	rc = sd_mig_put_pages(&s->w, (enum sd_rec_type)type, p, n, data, st);
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

	if (s->o->faults.wrong_mode && p == WRONG_MODE_GFN && type == SD_REC_ENCRYPTED &&
	    s->pass == &s->r->pass[0])
		return SD_REC_PLAIN;	/* test fault: a private page in plaintext */
	return type;
}

/* Send every page in s->need, in runs of one type, at most SD_REC_MAX_PAGES each. */
static int send_needed(struct src *s, struct sd_mig_status *st)
{
	u64 npages = s->d->ram_pages;
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
static int incr_alloc(struct src *s, struct sd_mig_status *st)
{
	free(s->incr.seqs);
	free(s->incr.bits);
	s->incr = (struct sd_host_incr){ .nr_chunks = s->reg.geom.nr_chunks };
	s->incr.seqs = calloc(sd_host_incr_seq_entries(&s->reg), sizeof(u32));
	/* bits are indexed by span page; the span may be smaller than RAM's words: pad. */
	s->incr.bits = calloc(sd_host_incr_bit_words(&s->reg) + s->words, sizeof(u64));
	if (!s->incr.seqs || !s->incr.bits)
		return sd_mig_fail(st, SD_MIG_ERR_NOMEM, "out of memory for the incremental state");
	return 0;
}

/*
 * A full read of the registered table (7.1; after a re-registration,
 * 5.6): every page whose mode differs from what was last sent is sent
 * again (in pass 0: every page). 0, or the table's error.
 */
static int full_read(struct src *s, u32 flags, struct sd_errloc *loc, struct sd_mig_status *st)
{
	struct sd_host_walk_opts o = walk_opts(s, flags, loc);
	int rc = incr_alloc(s, st);

	if (rc)
		return rc;
	rc = sd_host_check_header(&s->reg, &s->mem, loc);
	if (rc)
		return rc;
	s->full_read = true;
	rc = sd_host_incr_init(&s->reg, &s->mem, &s->incr, &o);
	s->full_read = false;
	if (rc)
		return rc;
	for (u64 p = 0; p < s->d->ram_pages; p++)
		if (s->sent[p] != page_type(s, p))
			sd_bitmap_set_range(s->need, p, 1);
	return 0;
}

/*
 * This pass's read of the table: the pages whose state changed go into
 * s->need. A read counts only if the registration's generation is the same
 * before and after it (SPEC.md 5.6: a read of the old table that completed
 * after the generation changed is not to be trusted, whatever it found);
 * otherwise it is discarded and the new table read in full. A table error
 * is the guest's only if its registration held all along.
 */
static int read_changes(struct src *s, u32 flags, struct sd_mig_status *st)
{
	for (u32 tries = 0;; tries++) {
		struct sd_host_reg now;
		struct sd_errloc loc = { 0 };
		struct sd_host_walk_opts o = walk_opts(s, flags, &loc);
		u64 gen = s->reg.generation;
		bool full;
		int rc;

		if (sd_vmm_reg_snapshot(s->d->reg, &s->reg))
			return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "the guest has no table registered");
		full = s->reg.generation != gen;
		if (s->o->faults.read_delay_ms && !(flags & SD_READ_PAUSED)) {
			sd_mig_sleep_ms(s->o->faults.read_delay_ms);	/* test fault */
			s->injected_ms += s->o->faults.read_delay_ms;
			/*
			 * A move asked for at this pass's start lands inside the delay
			 * however slowly the guest runs (at most READ_DELAY_MOVE_MS
			 * more): this read then straddles it (SPEC.md 5.6).
			 */
			if (tries == 0)
				s->injected_ms += demo_vm_wait_moved(s->d, READ_DELAY_MOVE_MS);
		}
		/* Test fault: a guest asked to break its count this pass has done it first. */
		if (tries == 0 && s->d->bad_count)
			s->injected_ms += demo_vm_wait_broken(s->d, READ_DELAY_MOVE_MS);
		if (full)
			rc = full_read(s, flags, &loc, st);
		else
			rc = sd_host_walk_changes(&s->reg, &s->mem, &s->incr, s->scratch, &o);
		if (rc == -SD_MIG_ERR_NOMEM)	/* ours, not the table's */
			return rc;
		if (sd_vmm_reg_snapshot(s->d->reg, &now) == 0 && now.generation == s->reg.generation) {
			if (rc)
				return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "table%s: %s at chunk %lld "
						   "offset %#llx", (flags & SD_READ_PAUSED) ?
						   " (paused)" : "", sd_err_name(rc),
						   (long long)loc.chunk, (unsigned long long)loc.offset);
			if (full && s->pass != &s->r->pass[0]) {
				s->pass->rereads++;
				s->r->rereads++;
			}
			return 0;
		}
		/* Stale: the guest re-registered (or unregistered) while we read. */
		s->r->stale_reads++;
		if (tries + 1 >= MAX_STALE_READS)
			return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "the guest re-registered during "
					   "each of %u reads of its table in one pass", MAX_STALE_READS);
		s->reg.generation = ~0ULL;	/* no registration has it: read the next in full */
	}
}

/*
 * Design EXIT's read: the pages the guest reported since the last pass
 * (all in pass 0), and each page to send looked up in the region list, as
 * the QEMU patches' migration loop does. A list that lost a change (out of
 * memory in an exit) may say either mode for that page: nothing it says is
 * sent, in this pass or any later one (exitlist.h).
 */
static int xl_read_changes(struct src *s, u32 n, struct sd_mig_status *st)
{
	struct demo_xl_loss loss;
	u64 taken;

	if (demo_xl_take_changes(s->d->xl, s->need, &taken, &loss))
		return sd_mig_fail(st, SD_MIG_ERR_NOMEM, "the region list ran out of memory in exit "
				   "%llu and lost the state change of GFN %#llx (changes lost: %llu): "
				   "this VMM no longer knows which pages are shared",
				   (unsigned long long)loss.first_exit,
				   (unsigned long long)loss.first_gfn, (unsigned long long)loss.lost);
	if (n == 0)
		sd_bitmap_set_range(s->need, 0, s->d->ram_pages);
	else
		s->pass->status_changes += taken;
	bitmap_or(s->need, s->dirty, s->words);
	demo_xl_states(s->d->xl, s->need, s->incr.bits);
	return 0;
}

/* One pass, pre-copy or final: read the table, then send what changed and what is dirty. */
/* Bytes written to socket @fd that it has not sent yet (0 where that cannot be known). */
static u64 sock_queued(int fd)
{
	int n = 0;

	return fd >= 0 && ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0 ? (u64)n : 0;
}

static int src_pass(struct src *s, u32 n, bool final, u64 *count, struct sd_mig_status *st)
{
	double t0 = sd_mig_now_ms(), t1;
	u64 bytes0, q0, q1;
	int rc;

	s->pass = &s->r->pass[n];
	s->r->passes = n + 1;
	s->final = final;
	s->injected_ms = 0;
	memset(s->need, 0, s->words * 8);
	memset(s->force_enc, 0, s->words * 8);
	rc = sd_mig_put_pass(&s->w, n, final, st);
	if (rc)
		return rc;
	sd_vm_dirty_log_get(s->d->vm, s->d->ram, s->dirty);
	bitmap_or(s->dirty, s->carry, s->words);
	memset(s->carry, 0, s->words * 8);
	s->pass->dirty = bitmap_count(s->dirty, s->words);
	s->pass->throttle = s->conv.pct;
	if (!final)
		demo_vm_pass_started(s->d, n);
	if (s->d->xl)
		rc = xl_read_changes(s, n, st);
	else
		rc = read_changes(s, final ? SD_READ_PAUSED : SD_READ_UNSETTLED_OK, st);
	if (rc)
		return rc;
	/* What a paused read will cost again (the final pass's): without the test's delay. */
	s->pass->read_ms = SD_MAX(sd_mig_now_ms() - t0 - s->injected_ms, 0.0);
	s->r->resent_for_status += s->pass->status_changes;
	bitmap_or(s->need, s->dirty, s->words);
	resend_stale(s);
	if (final && s->o->faults.table)
		sd_bitmap_set_range(s->need, DEMO_TABLE_GPA >> SD_PAGE_SHIFT, 1);
	*count = bitmap_count(s->need, s->words);
	bytes0 = s->fio.written;
	q0 = sock_queued(s->fio.fd);
	t1 = sd_mig_now_ms();
	rc = send_needed(s, st);
	s->pass->bytes = s->fio.written - bytes0;
	/* What left the host in that time: not what still sits in the socket's send queue. */
	q1 = sock_queued(s->fio.fd);
	sd_mig_conv_pass(&s->conv, s->pass->bytes + q0 > q1 ? s->pass->bytes + q0 - q1 : 0,
			 sd_mig_now_ms() - t1, s->pass->read_ms);
	s->pass->ms = sd_mig_now_ms() - t0;
	if (!rc && s->o->verbose)
		fprintf(stderr, "pass %u%s: %llu dirty, %llu status changes, %llu plain, %llu "
			"encrypted, %llu transition, %.1f ms\n", n, final ? " (final)" : "",
			(unsigned long long)s->pass->dirty,
			(unsigned long long)s->pass->status_changes,
			(unsigned long long)s->pass->plain, (unsigned long long)s->pass->encrypted,
			(unsigned long long)s->pass->transition, s->pass->ms);
	return rc;
}

static int vcpu_items(const struct sd_vcpu_state *vs, u8 *buf, size_t cap, size_t *len,
		      u32 *nr)
{
	u8 msrs[8 + 16 * SD_VM_MAX_MSRS];
	u32 n = SD_MIN(vs->nr_msrs, (u32)SD_MIG_MAX_MSRS);
	int rc = 0;

	*len = 0;
	*nr = 0;
#define ADD(kind, ptr, size)								\
	do {										\
		if (!rc)								\
			rc = sd_mig_vcpu_item_add(buf, cap, len, kind, ptr, size);	\
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
	return rc;
}

/* After the final pass: the registration, every vCPU, END; then RESULT and COMMIT. */
static int src_handover(struct src *s, const struct sd_io *raw, struct sd_mig_status *st)
{
	static struct sd_vcpu_state vs;
	static u8 items[16384];
	int rc = sd_mig_put_registration(&s->w, s->reg.value, s->reg.generation, &s->reg.hdr, st);

	for (u32 i = 0; !rc && i < s->d->nr_vcpus; i++) {
		size_t len;
		u32 nr;

		sd_vcpu_state_save(s->d->vm->vcpus[i], &vs);
		if (vcpu_items(&vs, items, sizeof(items), &len, &nr))
			return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "vCPU %u: its state does not fit "
					   "%zu bytes", i, sizeof(items));
		rc = sd_mig_put_vcpu(&s->w, i, nr, items, len, st);
	}
	if (!rc)
		rc = sd_mig_put_end(&s->w, st);
	if (!rc)
		rc = sd_mig_recv_result(raw, st);
	if (rc)
		return rc;
	sd_mig_crash_step(&s->o->faults, false, SD_CRASH_RESULT);
	if (s->o->faults.commit_lost) {
		/* Test fault: COMMIT went out, and the connection died before it arrived. */
		shutdown(s->fio.fd, SHUT_RDWR);
		return 0;
	}
	rc = sd_mig_send_commit(raw, st);
	if (!rc)
		sd_mig_crash_step(&s->o->faults, false, SD_CRASH_COMMIT);
	return rc;
}

/*
 * Pre-copy passes until what is dirty fits the downtime limit (converge.h);
 * the throttle ends before the final pause either way.
 */
static int precopy(struct src *s, u64 *count, struct sd_mig_status *st)
{
	struct sd_mig_conv *c = &s->conv;
	struct sd_mig_source_report *r = s->r;
	enum sd_mig_conv_next next = SD_MIG_CONV_CONTINUE;
	u32 stall_ms = s->o->faults.throttle_stall_ms;
	int rc = 0, stop_rc;

	for (u32 n = 0; next == SD_MIG_CONV_CONTINUE; n++) {
		rc = src_pass(s, n, false, count, st);
		if (rc)
			break;
		/* What the final pass would carry now; the bits go to the next pass. */
		next = sd_mig_conv_decide(c, n, sd_vm_dirty_log_get(s->d->vm, s->d->ram, s->carry));
		/*
		 * The demo's --guest resize is asked to move its table in pre-copy
		 * passes 1 to resizes, --inject guest-bad-count to break it in pass
		 * 1 (demo_vm_pass_started): however fast it converges, those
		 * passes run, within --passes.
		 */
		if (next == SD_MIG_CONV_FINAL && n < SD_MAX(s->d->resizes, (u32)s->d->bad_count) &&
		    n < c->max_passes)
			next = SD_MIG_CONV_CONTINUE;
		if (sd_mig_conv_pause_failed(c))
			break;
		if (stall_ms && c->running) {
			/* Test fault: a vCPU the throttle's next pause cannot stop in time. */
			sd_vcpu_stall(s->d->vm->vcpus[s->d->nr_vcpus - 1], stall_ms);
			stall_ms = 0;
			/*
			 * And that pause happens before the passes run out: with the
			 * guest held, passes that find nothing dirty take microseconds,
			 * and the throttle pauses only every SD_MIG_THROTTLE_PERIOD_MS.
			 * Bounded: the pause fails within SD_MIG_PAUSE_MS.
			 */
			for (u32 t = 0; t < 2 * SD_MIG_PAUSE_MS && !sd_mig_conv_pause_failed(c);
			     t += 10)
				sd_mig_sleep_ms(10);
		}
	}
	stop_rc = sd_mig_conv_stop(c);
	r->throttle_pct = c->pct_max;
	r->throttle_steps = c->steps;
	r->bandwidth_mib_s = c->bw * 1000.0 / (1 << 20);
	r->expected_downtime_ms = c->est_ms;
	r->expected_pages = c->est_pages;
	if (rc)
		return rc;
	if (stop_rc)
		return sd_mig_fail(st, SD_MIG_ERR_PAUSE, "the throttle thread did not end within %u "
				   "ms", SD_MIG_THROTTLE_JOIN_MS);
	/* A pause failed (converge.h): before the passes ran out, or as they did. */
	if (sd_mig_conv_pause_failed(c))
		return sd_mig_fail(st, SD_MIG_ERR_PAUSE, "a throttle pause (at %u%%) did not stop "
				   "the vCPUs within %u ms (one stuck in KVM_RUN or in an exit's "
				   "handler): pre-copy stopped after %u passes", c->failed_pct,
				   SD_MIG_PAUSE_MS, r->passes);
	if (next == SD_MIG_CONV_FINAL)
		return 0;
	return sd_mig_fail(st, SD_MIG_ERR_CONVERGE, "pre-copy did not converge in %u passes: %llu "
			   "pages left would take about %.0f ms at %.0f MiB/s, over the limit of %u ms, "
			   "with the vCPUs throttled up to %llu%%", r->passes,
			   (unsigned long long)c->est_pages, c->est_ms, r->bandwidth_mib_s, c->limit_ms,
			   (unsigned long long)c->pct_max);
}

/* Shared regions (maximal runs) in a bitmap of @npages. */
static u64 count_runs(const u64 *bits, u64 npages)
{
	u64 runs = 0;

	for (u64 p = sd_bitmap_find(bits, 0, npages, true); p < npages;
	     p = sd_bitmap_find(bits, p, npages, true)) {
		runs++;
		p = sd_bitmap_find(bits, p, npages, false);
	}
	return runs;
}

/* The VMM's memory at the pause, against the shared regions the guest has then. */
static void src_memory(struct src *s)
{
	struct mallinfo2 mi = mallinfo2();
	struct sd_mig_source_report *r = s->r;

	r->heap_bytes = mi.uordblks + mi.hblkhd;
	if (s->d->xl) {
		struct demo_xl_stats xs;

		demo_xl_stats(s->d->xl, &xs);
		r->regions = xs.regions;
		r->peak_regions = xs.peak_regions;
	} else {
		r->regions = count_runs(s->incr.bits, SD_MIN(s->d->ram_pages,
							    s->reg.geom.nr_gfns));
		r->peak_regions = r->regions;
	}
}

static int src_session(struct src *s, struct sd_mig_conn *conn, struct sd_mig_hs *hs,
		       struct sd_mig_status *st)
{
	struct sd_io raw = sd_io_conn(conn);
	struct sd_mig_source_report *r = s->r;
	double t_pause;
	u64 count;
	int rc;

	s->fio = (struct fault_io){ .inner = raw, .f = &s->o->faults, .fd = conn->fd };
	s->io = (struct sd_io){ .read = raw.read, .write = fault_write, .ctx = &s->fio };
	/* Authenticated (docs/STREAM.md 3): no page leaves before AUTH is verified. */
	rc = sd_mig_recv_hello(&raw, s->d->ram_pages << SD_PAGE_SHIFT, &s->o->ids, hs, st);
	if (!rc)
		rc = sd_mig_send_header(&raw, s->d->ram_pages << SD_PAGE_SHIFT, s->d->nr_vcpus,
					hs, st);
	if (!rc)
		rc = sd_mig_recv_auth(&raw, hs, st);
	if (rc)
		return rc;

	sd_vm_dirty_log_enable(s->d->vm, s->d->ram, true);
	sd_vm_dirty_log_get(s->d->vm, s->d->ram, s->dirty);
	sd_mig_writer_init(&s->w, &s->io, &hs->keys);
	/* Pass 0 reads the table in full and sends every page (7.1 step 1). */
	s->reg.generation = ~0ULL;
	rc = precopy(s, &count, st);
	if (rc)
		return rc;

	/* The final pass, with every vCPU stopped wherever it is (7.3). */
	if (s->d->window_at_pause) {
		/*
		 * Half of --timeout: the destination's read of the next record
		 * began before this wait and has --timeout, so a guest that does
		 * not open its window is reported by ABORT while it still listens.
		 */
		rc = demo_vm_hold_window(s->d, s->o->timeout_ms / 2, st);
		if (rc)
			return rc;
	}
	if (s->o->faults.stall_ms)	/* test fault: a vCPU the final pause cannot stop in time */
		sd_vcpu_stall(s->d->vm->vcpus[s->d->nr_vcpus - 1], s->o->faults.stall_ms);
	/* Downtime starts with the request: the vCPUs that park first wait for the last. */
	t_pause = sd_mig_now_ms();
	if (sd_vm_pause_timed(s->d->vm, SD_MIG_PAUSE_MS))
		return sd_mig_fail(st, SD_MIG_ERR_PAUSE, "the vCPUs did not stop within %u ms for the "
				   "final pass (one stuck in KVM_RUN or in an exit's handler); the pause "
				   "was undone", SD_MIG_PAUSE_MS);
	r->paused = true;
	r->pause_mono_ms = t_pause;
	demo_vm_work(s->d, &r->before);
	src_memory(s);
	rc = src_pass(s, r->passes, true, &count, st);
	if (!rc)
		rc = src_handover(s, &raw, st);
	if (rc)
		return rc;
	r->committed = true;
	r->handover_ms = sd_mig_now_ms() - r->pause_mono_ms;
	return 0;
}

/*
 * Tell the destination why, when it cannot see it (docs/STREAM.md 4.6): an
 * ABORT for a failure of the source's own (its guest's table, pre-copy that
 * did not converge, vCPUs that would not pause, memory that ran out), once
 * records flow, to a destination that reads ABORT. Each happens between
 * records, never inside one. Bounded and best
 * effort: its own deadline, SD_MIG_ABORT_MS (--timeout if shorter); the
 * guest is not kept waiting for it (src_migrate resumes paused vCPUs first);
 * and the source's error stays @err whatever becomes of the write.
 */
static void src_abort(struct src *s, const struct sd_mig_hs *hs, int err)
{
	struct sd_mig_conn brief = { .fd = s->fio.fd,
				     .timeout_ms = SD_MIN(s->o->timeout_ms, (u32)SD_MIG_ABORT_MS) };
	struct sd_io inner = s->fio.inner;
	struct sd_mig_status st;

	if (err <= 0 || !sd_mig_abort_err_ok((u32)err) || !s->w.keys ||
	    hs->peer_minor < SD_MIG_MINOR_ABORT)
		return;
	s->fio.inner = sd_io_conn(&brief);
	if (sd_mig_put_abort(&s->w, err, &st) && s->o->verbose)
		fprintf(stderr, "sev-donate migrate: the destination was not told why: %s\n", st.msg);
	s->fio.inner = inner;
}

/* A migration's session: its keys live on this stack only, and are wiped when it ends. */
static int src_migrate(struct src *s, struct sd_mig_conn *conn, struct sd_mig_status *st)
{
	struct sd_mig_hs hs;
	int rc = src_session(s, conn, &hs, st);

	if (rc && s->r->paused) {
		/* Failed: the guest goes on here, before the destination is told why. */
		sd_vm_resume(s->d->vm);
		s->resumed = true;
	}
	if (rc)
		src_abort(s, &hs, -rc);
	sodium_memzero(&hs, sizeof(hs));
	sodium_memzero(&s->w.digest, sizeof(s->w.digest));
	s->w.keys = NULL;
	return rc;
}

static void src_free(struct src *s)
{
	free(s->need);
	free(s->dirty);
	free(s->carry);
	free(s->force_enc);
	free(s->transition);
	free(s->stale);
	free(s->sent);
	free(s->incr.seqs);
	free(s->incr.bits);
}

static int src_alloc(struct src *s, struct sd_mig_status *st)
{
	s->words = (s->d->ram_pages + 63) / 64;
	s->need = calloc(s->words, 8);
	s->dirty = calloc(sd_vm_dirty_log_words(s->d->ram), 8);
	s->carry = calloc(sd_vm_dirty_log_words(s->d->ram), 8);
	s->force_enc = calloc(s->words, 8);
	s->transition = calloc(s->words, 8);
	s->stale = calloc(s->words, 8);
	s->sent = calloc(s->d->ram_pages, 1);
	/* Design EXIT: the page states the region list gave, where a table read puts them. */
	if (s->d->xl)
		s->incr.bits = calloc(s->words, 8);
	if (!s->need || !s->dirty || !s->force_enc || !s->transition || !s->stale || !s->sent ||
	    !s->carry || (s->d->xl && !s->incr.bits))
		return sd_mig_fail(st, SD_MIG_ERR_NOMEM, "out of memory for %llu pages",
				   (unsigned long long)s->d->ram_pages);
	return 0;
}

/*
 * The destination may have refused and hung up while we were sending: its
 * RESULT says why. Wait for it briefly and report that instead.
 */
static void src_why_refused(int fd, struct sd_mig_status *st)
{
	struct sd_mig_conn brief = { .fd = fd, .timeout_ms = 1000 };
	struct sd_io raw = sd_io_conn(&brief);
	struct sd_mig_status why;

	if (sd_mig_recv_result(&raw, &why) == -SD_MIG_ERR_REFUSED) {
		char mine[sizeof(st->msg)];

		snprintf(mine, sizeof(mine), "%s", st->msg);
		sd_mig_fail(st, SD_MIG_ERR_REFUSED, "%.*s (here: %.*s)", 120,
			    why.msg + strlen("SD_MIG_ERR_REFUSED: "), 80, mine);
	}
}

static double tv_ms(struct timeval t)
{
	return (double)t.tv_sec * 1e3 + (double)t.tv_usec / 1e3;
}

/*
 * The VMM's CPU time for the migration: this thread's, and the exit
 * handler's on the vCPU threads (design EXIT; the kernel's part of each
 * exit is not in it). The process's peak RSS counts guest RAM too.
 */
static void src_cpu(struct src *s, const struct rusage *cpu0)
{
	struct rusage now, self;

	getrusage(RUSAGE_THREAD, &now);
	s->r->vmm_cpu_ms = tv_ms(now.ru_utime) - tv_ms(cpu0->ru_utime) + tv_ms(now.ru_stime) -
			   tv_ms(cpu0->ru_stime);
	if (s->d->xl) {
		struct demo_xl_stats xs;

		/* Locked: after a failure the vCPUs handle exits while we read. */
		demo_xl_stats(s->d->xl, &xs);
		s->r->exits = xs.exits;
		s->r->vmm_cpu_ms += (double)xs.handler_ns / 1e6;
	}
	getrusage(RUSAGE_SELF, &self);
	s->r->peak_rss_bytes = (u64)self.ru_maxrss * 1024;
}

int sd_mig_source_migrate(struct demo_vm *d, const struct sd_mig_opts *o,
			  struct sd_mig_source_report *r)
{
	static struct src s;
	struct rusage cpu0;
	struct sd_mig_status st = { 0 };
	struct sd_mig_conn conn;
	double start = sd_mig_now_ms();
	int fd, rc;

	memset(&s, 0, sizeof(s));
	if (o->max_passes == 0 || o->max_passes > SD_MIG_MAX_PASSES) {
		/* The CLI checks --passes; a library caller gets the same refusal. */
		sd_mig_fail(&st, SD_MIG_ERR_RANGE, "max_passes %u: 1 to %d", o->max_passes,
			    SD_MIG_MAX_PASSES);
		r->err = st.err;
		snprintf(r->msg, sizeof(r->msg), "%s", st.msg);
		r->resumed = true;
		return -st.err;
	}
	getrusage(RUSAGE_THREAD, &cpu0);
	s.o = o;
	s.r = r;
	s.d = d;
	s.mem = (struct sd_host_mem){ .map = sd_vm_mem_map, .ctx = d->vm };
	/* Passes 0..max_passes - 1, then give up; the final pass is one more. */
	sd_mig_conv_init(&s.conv, d->vm, o->max_downtime_ms,
			 SD_MIN(o->max_passes, (u32)SD_MIG_MAX_PASSES - 1) - 1);
	r->max_downtime_ms = o->max_downtime_ms;
	/* This thread reads the RCU-published registration every pass. */
	sd_thread_rcu_register();
	rc = src_alloc(&s, &st);
	if (rc)
		goto out;
	fd = sd_mig_connect(o->connect, o->timeout_ms, &st);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	r->connected = true;
	/*
	 * A destination that stops reading or never answers must not keep the
	 * guest paused: every transfer has a deadline, and running into it
	 * fails the migration like any other error (the guest resumes here).
	 */
	conn = (struct sd_mig_conn){ .fd = fd, .timeout_ms = o->timeout_ms };
	rc = src_migrate(&s, &conn, &st);
	sd_mig_conv_stop(&s.conv);	/* a failure mid pre-copy: the guest goes on unthrottled */
	src_cpu(&s, &cpu0);
	if (rc == -SD_MIG_ERR_IO || rc == -SD_MIG_ERR_EOF)
		src_why_refused(fd, &st);
	rc = rc ? -st.err : 0;
	close(fd);
	r->bytes_sent = s.fio.written;
	for (u32 i = 0; i < r->passes; i++) {
		r->pages_plain += r->pass[i].plain;
		r->pages_encrypted += r->pass[i].encrypted;
		r->pages_transition += r->pass[i].transition;
	}
out:
	r->total_ms = sd_mig_now_ms() - start;
	src_free(&s);
	sd_thread_rcu_unregister();
	if (rc) {
		/* Failed: the guest goes on here. */
		r->err = st.err;
		snprintf(r->msg, sizeof(r->msg), "%s", st.msg);
		if (d->ram->flags & SD_MEM_DIRTY_LOG)
			sd_vm_dirty_log_enable(d->vm, d->ram, false);	/* no cost left behind */
		if (r->paused && !s.resumed)
			sd_vm_resume(d->vm);
		if (d->window_at_pause)
			demo_vm_release_window(d);	/* a window held for the pause may close */
		r->resumed = true;
	}
	return rc;
}

int sd_mig_run_source(const struct sd_mig_opts *o, struct sd_mig_source_report *r)
{
	static struct demo_vm d;
	struct sd_mig_status st = { 0 };
	struct demo_check w0, w1;
	double t0, t1;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = demo_vm_create(&d, o->ram_bytes, DEMO_VCPUS, &o->guest, &st);
	if (rc)
		goto fail;
	demo_vm_start(&d, true);
	rc = demo_vm_wait_ready(&d, DEMO_BOOT_MS, &st);
	if (!rc && d.reg_rc)
		rc = sd_mig_fail(&st, SD_MIG_ERR_SOURCE, "the guest could not register its table: %s",
				 sd_err_name((int)d.reg_rc));
	if (rc) {
		r->resumed = true;
		goto fail;
	}
	demo_vm_work(&d, &w0);
	t0 = sd_mig_now_ms();
	sd_mig_sleep_ms(o->warmup_ms);
	demo_vm_work(&d, &w1);
	t1 = sd_mig_now_ms();
	if (o->warmup_ms)
		r->changes_per_s_idle = (double)(w1.changed_pages - w0.changed_pages) * 1e3 / (t1 - t0);
	rc = sd_mig_source_migrate(&d, o, r);
	if (r->paused && r->pause_mono_ms > t1)
		r->changes_per_s = (double)(r->before.changed_pages - w1.changed_pages) * 1e3 /
				   (r->pause_mono_ms - t1);
	if (rc == 0) {
		demo_vm_destroy(&d);	/* the guest lives on the destination */
		return 0;
	}
	st.err = r->err;
	snprintf(st.msg, sizeof(st.msg), "%s", r->msg);
fail:
	r->err = st.err;
	snprintf(r->msg, sizeof(r->msg), "%s", st.msg);
	if (d.running && demo_vm_check(&d, o->after_ms, DEMO_CHECK_MS, &r->check, &st) == 0)
		demo_vm_destroy(&d);
	return rc;
}
