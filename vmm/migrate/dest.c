// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * dest.c - the destination VMM (SPEC.md 7.4): receive the demo guest,
 * check everything, run it only after COMMIT.
 *
 * It checks every record (stream.c), re-validates the received
 * registration against the received memory through host/, loads the vCPU
 * state, compares the mode each page was last received in with the
 * guest's own ledger (the oracle, demo_vm.c), answers RESULT, and starts
 * the guest only after COMMIT. A failure anywhere discards the guest: the
 * source still has it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "migrate.h"
#include "stream.h"
#include "transport.h"
#include "sd_kvm.h"
#include "sd_vmm_reg.h"
#include "exitlist.h"

/* What the destination keeps while it receives. */
struct dst {
	const struct sd_mig_opts *o;
	struct sd_mig_dest_report *r;
	struct demo_vm *d;
	u8 *mode;			/* record type each page was last received in, 0 = never */
	u64 reg_value;
	struct sd_vcpu_state vs[SD_KVM_MAX_VCPUS];
	struct sd_mig_reader rd;
};

static int dst_item(void *ctx, u32 kind, const void *data, u32 len)
{
	struct sd_vcpu_state *vs = ctx;
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

/* One verified record into the VM being built. */
static int dst_record(struct dst *t, const struct sd_mig_rec *rec, struct sd_mig_status *st)
{
	struct sd_mig_dest_report *r = t->r;

	switch (rec->type) {
	case SD_REC_PLAIN:
	case SD_REC_ENCRYPTED:
	case SD_REC_TRANSITION:
		memcpy(sd_vm_hva(t->d->vm, rec->pages.gfn << SD_PAGE_SHIFT,
				 (u64)rec->pages.npages << SD_PAGE_SHIFT),
		       rec->pages.data, (size_t)rec->pages.npages << SD_PAGE_SHIFT);
		memset(t->mode + rec->pages.gfn, rec->type, rec->pages.npages);
		if (rec->type == SD_REC_PLAIN)
			r->pages_plain += rec->pages.npages;
		else if (rec->type == SD_REC_ENCRYPTED)
			r->pages_encrypted += rec->pages.npages;
		else
			r->pages_transition += rec->pages.npages;
		return 0;
	case SD_REC_REGISTRATION:
		t->reg_value = rec->reg.value;
		return 0;
	case SD_REC_VCPU: {
		struct sd_vcpu_state *vs = &t->vs[rec->vcpu.index];

		memset(vs, 0, sizeof(*vs));
		return sd_mig_vcpu_items(rec, dst_item, vs, st);
	}
	default:
		return 0;
	}
}

/*
 * 7.4: the registration, against the memory received, with this host's
 * limits (a paused read: the guest is stopped wherever the source stopped
 * it); then the oracle, and every page must have arrived.
 */
static int dst_accept(struct dst *t, struct sd_mig_status *st)
{
	struct sd_vmm_reg_attempt att;
	struct demo_oracle *or = &t->r->oracle;
	int rc;

	if (t->d->xl) {
		/* Design EXIT: no table; the region list is rebuilt from the modes received. */
		if (t->reg_value)
			return sd_mig_fail(st, SD_MIG_ERR_TABLE, "a registration, but the design "
					   "keeps no table");
		if (demo_xl_seed(t->d->xl, t->mode, SD_REC_PLAIN))
			return sd_mig_fail(st, SD_MIG_ERR_NOMEM, "out of memory for the region list");
		rc = 0;
	} else if (!t->reg_value) {
		return sd_mig_fail(st, SD_MIG_ERR_TABLE, "the guest has no table registered");
	} else {
		rc = sd_vmm_reg_restore(t->d->reg, t->reg_value, &att);
	}
	if (rc)
		return sd_mig_fail(st, SD_MIG_ERR_TABLE, "the registration failed re-validation: "
				   "%s at chunk %lld offset %#llx", sd_err_name(rc),
				   (long long)att.loc.chunk, (unsigned long long)att.loc.offset);
	demo_vm_oracle(t->d, t->mode, or);
	if (or->never_received)
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "%llu pages of RAM never arrived (the first "
				   "pass must send every page)", (unsigned long long)or->never_received);
	for (u32 i = 0; i < t->d->nr_vcpus; i++)
		sd_vcpu_state_restore(t->d->vm->vcpus[i], &t->vs[i]);
	return 0;
}

static int dst_session(struct dst *t, struct sd_mig_conn *conn, struct sd_mig_hs *hs,
		       struct sd_mig_status *st)
{
	struct sd_io io = sd_io_conn(conn);
	struct sd_mig_rec rec;
	u64 ram_bytes;
	u32 nr_vcpus;
	int rc;

	/* Authenticated (docs/STREAM.md 3); a refusal is answered with RESULT. */
	rc = sd_mig_send_hello(&io, t->o->ram_bytes, &t->o->ids, hs, st);
	if (!rc)
		rc = sd_mig_recv_header(&io, t->o->ram_bytes, hs, &ram_bytes, &nr_vcpus, st);
	if (!rc)
		rc = sd_mig_send_auth(&io, hs, st);
	if (rc)
		goto refuse;
	rc = demo_vm_create(t->d, ram_bytes, nr_vcpus, &t->o->guest, st);
	if (rc)
		goto refuse;
	t->r->ram_pages = t->d->ram_pages;
	t->mode = calloc(t->d->ram_pages, 1);
	if (!t->mode) {
		rc = sd_mig_fail(st, SD_MIG_ERR_NOMEM, "out of memory for %llu pages",
				 (unsigned long long)t->d->ram_pages);
		goto refuse;
	}
	sd_mig_reader_init(&t->rd, &io, &hs->keys, ram_bytes, nr_vcpus);
	do {
		rc = sd_mig_next(&t->rd, &rec, st);
		if (!rc)
			rc = dst_record(t, &rec, st);
		if (rc)
			goto refuse;
		t->r->records++;
		if (t->o->faults.dest_die >= 0 && t->r->records > (u64)t->o->faults.dest_die)
			_exit(137);	/* test fault: the destination dies mid-transfer */
		sd_mig_crash_recv(&t->o->faults, &rec);	/* test fault: or is killed here */
	} while (rec.type != SD_REC_END);
	rc = dst_accept(t, st);
	if (rc)
		goto refuse;
	sd_mig_crash_step(&t->o->faults, true, SD_CRASH_RESULT);
	rc = sd_mig_send_result(&io, &(struct sd_mig_status){ 0 });
	if (rc)
		return sd_mig_fail(st, -rc, "sending RESULT: the source is gone");
	sd_mig_crash_commit_unread(&t->o->faults, conn->fd, conn->timeout_ms);
	rc = sd_mig_recv_commit(&io, st);
	if (!rc)
		sd_mig_crash_step(&t->o->faults, true, SD_CRASH_COMMIT);
	return rc;
refuse:
	sd_mig_send_result(&io, st);	/* best effort: the source may be gone */
	return rc;
}

/* A migration's session: its keys live on this stack only, and are wiped when it ends. */
static int dst_migrate(struct dst *t, struct sd_mig_conn *conn, struct sd_mig_status *st)
{
	struct sd_mig_hs hs;
	int rc = dst_session(t, conn, &hs, st);

	sodium_memzero(&hs, sizeof(hs));
	sodium_memzero(&t->rd.digest, sizeof(t->rd.digest));
	t->rd.keys = NULL;
	return rc;
}

int sd_mig_dest_receive(struct demo_vm *d, const struct sd_mig_opts *o,
			struct sd_mig_dest_report *r)
{
	static struct dst t;
	struct sd_mig_status st = { 0 };
	struct sd_mig_conn conn;
	char bound[SD_MIG_ADDR_MAX];
	int lfd, fd, rc;

	memset(r, 0, sizeof(*r));
	memset(&t, 0, sizeof(t));
	memset(d, 0, sizeof(*d));
	t = (struct dst){ .o = o, .r = r, .d = d };
	/* This thread publishes the received registration (sd_vmm_reg_restore). */
	sd_thread_rcu_register();
	lfd = sd_mig_listen(o->listen, bound, &st);
	if (lfd < 0) {
		rc = lfd;
		goto out;
	}
	if (o->on_listening)
		o->on_listening(o->cb_ctx, bound);
	/* The wait for a source has a deadline too (--accept-timeout, else --timeout). */
	fd = sd_mig_accept(lfd, bound, o->accept_timeout_ms ? o->accept_timeout_ms : o->timeout_ms,
			   &st);
	close(lfd);
	if (!strncmp(bound, "unix:", 5))
		unlink(bound + 5);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	/* A stalled source: every transfer has the same deadline; give up, run nothing. */
	conn = (struct sd_mig_conn){ .fd = fd, .timeout_ms = o->timeout_ms };
	rc = dst_migrate(&t, &conn, &st);
	close(fd);
	if (rc == 0) {
		/* COMMIT read: the guest is ours now. */
		r->resume_mono_ms = sd_mig_now_ms();
		r->resumed = true;
		demo_vm_start(d, false);
		demo_vm_release_window(d);	/* a window held across the pause may close now */
	} else {
		demo_vm_destroy(d);
	}
out:
	free(t.mode);
	sd_thread_rcu_unregister();
	r->err = st.err;
	snprintf(r->msg, sizeof(r->msg), "%s", st.msg);
	return rc;
}

int sd_mig_run_dest(const struct sd_mig_opts *o, struct sd_mig_dest_report *r)
{
	static struct demo_vm d;
	struct sd_mig_status st = { 0 };
	int rc = sd_mig_dest_receive(&d, o, r);

	if (rc)
		return rc;
	rc = demo_vm_check(&d, o->after_ms, DEMO_CHECK_MS, &r->check, &st);
	if (rc) {
		r->err = st.err;
		snprintf(r->msg, sizeof(r->msg), "%s", st.msg);
		return rc;
	}
	demo_vm_destroy(&d);
	return 0;
}
