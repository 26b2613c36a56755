// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hops.c - a guest that keeps moving (hops.h).
 *
 * Two VMM processes, A and B, live for the whole run. Both are forked from
 * the CLI's process before anything there touches KVM or liburcu (no RCU
 * registration crosses a fork), and each takes its orders from that
 * process over a socketpair:
 *
 *   BOOT  (A only) create the guest, let it register and churn
 *   RECV  listen on its own socket, receive the guest, run it, let it
 *         churn --after ms and check itself while it keeps running
 *   SEND  migrate the guest it runs to the other's socket
 *   STOP  a last check of the guest (where it runs), then exit
 *
 * Hop h goes A->B when h is odd and B->A when it is even: the destination
 * of one hop is the source of the next, in the same process, with the VM
 * it received. Every order and every answer has a deadline, and the
 * ordering process never touches KVM.
 *
 * After each hop both VMMs measure themselves at the same point of their
 * cycle (the sender once its VM is destroyed, the receiver once the guest
 * has checked itself): heap in use (mallinfo2: chunks in use plus mmapped
 * blocks, every arena), open descriptors, threads and RSS. A VMM that leaks
 * shows it as a difference between hop 1 and hop N in the same role.
 */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hops.h"
#include "identity.h"
#include "report.h"
#include "stream.h"
#include "transport.h"
#include "sd_kvm.h"
#include "sd_vmm_reg.h"

/* A sender's passes beyond what --timeout bounds (each transfer has its own deadline). */
#define HOP_SEND_MS	120000
/* Deadline for an order's small answers (LISTENING) beyond --timeout. */
#define HOP_CTL_MS	10000

enum hop_op { HOP_BOOT = 1, HOP_RECV, HOP_SEND, HOP_STOP };
enum hop_kind { HOP_LISTENING = 1, HOP_DONE };

struct hop_cmd {
	u32 op, hop;
};

/* One VMM process, measured. */
struct hop_vmm {
	u64 heap;		/* bytes malloc has in use: in-use chunks + mmapped blocks */
	u64 fds;		/* open file descriptors */
	u64 threads;
	u64 rss_kib;
};

/* A VMM's answer to an order: the order's op and hop, echoed, and what it is. */
struct hop_msg {
	u32 op, hop, kind;
	s32 rc;				/* 0, or the order's -SD_MIG_ERR_* */
	struct sd_mig_status st;	/* BOOT, STOP or the running check: what failed */
	struct sd_mig_source_report sr;	/* SEND */
	struct sd_mig_dest_report dr;	/* RECV; dr.check is the check while the guest runs */
	u64 reg_value;			/* the guest's registration here (SEND: before; RECV: after) */
	struct demo_check check;	/* STOP: the last check */
	bool have_guest;		/* the guest runs in this VMM after the order */
	struct hop_vmm vmm;		/* measured after the order */
};

/* ---- the VMM side ------------------------------------------------------------ */

struct vmm {
	const struct sd_mig_opts *o;
	const char *self, *peer;	/* its socket, the other VMM's */
	struct sd_mig_conn ctl;
	struct sd_io io;
	struct demo_vm d;
	bool have;			/* the guest runs here */
	struct hop_msg m;
};

static void vmm_measure(struct hop_vmm *v)
{
	struct mallinfo2 mi = mallinfo2();	/* first: what follows allocates and frees */
	char line[128];
	struct dirent *e;
	DIR *dir;
	FILE *f;

	memset(v, 0, sizeof(*v));
	v->heap = mi.uordblks + mi.hblkhd;
	dir = opendir("/proc/self/fd");
	if (dir) {
		while ((e = readdir(dir)))
			if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(dir))
				v->fds++;
		closedir(dir);
	}
	f = fopen("/proc/self/status", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long n;

		if (sscanf(line, "Threads: %llu", &n) == 1)
			v->threads = n;
		else if (sscanf(line, "VmRSS: %llu kB", &n) == 1)
			v->rss_kib = n;
	}
	fclose(f);
}

/* The registration the guest holds in this VMM now (0: none). */
static u64 vmm_registration(struct vmm *v)
{
	struct sd_host_reg reg;
	u64 value = 0;

	sd_thread_rcu_register();
	if (sd_vmm_reg_snapshot(v->d.reg, &reg) == 0)
		value = reg.value;
	sd_thread_rcu_unregister();
	return value;
}

static int vmm_send_msg(struct vmm *v, u32 kind)
{
	v->m.kind = kind;
	v->m.have_guest = v->have;
	v->ctl.timeout_ms = HOP_CTL_MS;
	return v->io.write(v->io.ctx, &v->m, sizeof(v->m));
}

static void vmm_listening(void *ctx, const char *addr)
{
	struct vmm *v = ctx;

	(void)addr;
	vmm_send_msg(v, HOP_LISTENING);
}

static int vmm_boot(struct vmm *v)
{
	struct sd_mig_status *st = &v->m.st;
	int rc = demo_vm_create(&v->d, v->o->ram_bytes, DEMO_VCPUS, &v->o->guest, st);

	if (rc)
		return rc;
	demo_vm_start(&v->d, true);
	v->have = true;
	rc = demo_vm_wait_ready(&v->d, DEMO_BOOT_MS, st);
	if (!rc && v->d.reg_rc)
		rc = sd_mig_fail(st, SD_MIG_ERR_SOURCE, "the guest could not register its table: %s",
				 sd_err_name((int)v->d.reg_rc));
	if (!rc)
		sd_mig_sleep_ms(v->o->warmup_ms);
	return rc;
}

static int vmm_recv(struct vmm *v)
{
	struct sd_mig_opts o = *v->o;
	int rc;

	o.listen = v->self;
	o.verbose = false;
	o.on_listening = vmm_listening;
	o.cb_ctx = v;
	rc = sd_mig_dest_receive(&v->d, &o, &v->m.dr);
	if (rc)
		return rc;
	v->have = true;
	v->m.reg_value = vmm_registration(v);
	sd_mig_sleep_ms(v->o->after_ms);
	rc = demo_vm_selfcheck(&v->d, DEMO_CHECK_MS, &v->m.dr.check, &v->m.st);
	return rc;
}

static int vmm_send(struct vmm *v)
{
	struct sd_mig_opts o = *v->o;
	int rc;

	o.connect = v->peer;
	o.verbose = false;
	v->m.reg_value = vmm_registration(v);
	rc = sd_mig_source_migrate(&v->d, &o, &v->m.sr);
	if (rc == 0) {
		demo_vm_destroy(&v->d);	/* the guest lives on the other VMM */
		v->have = false;
	}
	return rc;
}

static int vmm_stop(struct vmm *v)
{
	int rc;

	if (!v->have)
		return 0;
	rc = demo_vm_check(&v->d, 0, DEMO_CHECK_MS, &v->m.check, &v->m.st);
	if (rc == 0) {
		demo_vm_destroy(&v->d);
		v->have = false;
	}
	return rc;
}

/* A VMM process: obey orders until STOP, or until the ordering process is gone. */
static int vmm_main(struct vmm *v)
{
	/* Between two orders: the other VMM's whole hop, at most. */
	u32 idle_ms = 2 * (v->o->timeout_ms * 6 + HOP_SEND_MS + v->o->after_ms + DEMO_CHECK_MS) +
		      v->o->warmup_ms + DEMO_BOOT_MS;

	v->io = sd_io_conn(&v->ctl);
	for (;;) {
		struct hop_cmd c;
		int rc;

		v->ctl.timeout_ms = idle_ms;
		if (v->io.read(v->io.ctx, &c, sizeof(c)))
			return 1;	/* nobody orders any more: stop (the guest with us) */
		memset(&v->m, 0, sizeof(v->m));
		v->m.op = c.op;
		v->m.hop = c.hop;
		switch (c.op) {
		case HOP_BOOT: rc = vmm_boot(v); break;
		case HOP_RECV: rc = vmm_recv(v); break;
		case HOP_SEND: rc = vmm_send(v); break;
		case HOP_STOP: rc = vmm_stop(v); break;
		default: rc = sd_mig_fail(&v->m.st, SD_MIG_ERR_TYPE, "order %u", c.op); break;
		}
		v->m.rc = rc;
		vmm_measure(&v->m.vmm);
		if (vmm_send_msg(v, HOP_DONE) || c.op == HOP_STOP)
			return rc ? 1 : 0;
	}
}

/* ---- the ordering side --------------------------------------------------------- */

#define NO_TCACHE	"glibc.malloc.tcache_count=0"

/*
 * mallinfo2 counts the chunks parked in malloc's per-thread caches as in
 * use, and how many sit there depends on which threads freed what: with
 * them, the figure drifts by about a kilobyte a hop with nothing
 * leaked. So the run starts again, once, with the caches off (a glibc
 * tunable, read only at start-up): then the heap in use is what the VMM
 * holds. If that cannot be done, the run goes on and says so.
 */
static void hops_without_tcache(void)
{
	static char cmd[16384], env[512], exe[4096];
	ssize_t exe_len;
	const char *t = getenv("GLIBC_TUNABLES");
	char *argv[256];
	size_t n = 0, len;
	int argc = 0;
	FILE *f;

	if (t && strstr(t, NO_TCACHE))
		return;
	/* Once only: a loader that drops the tunable (AT_SECURE) must not make us loop. */
	if (getenv("SD_HOPS_REEXEC"))
		goto fail;
	f = fopen("/proc/self/cmdline", "re");
	if (!f)
		goto fail;
	len = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	if (!len || len >= sizeof(cmd) - 1)
		goto fail;
	for (; n < len && argc < 255; n += strlen(cmd + n) + 1)
		argv[argc++] = cmd + n;
	argv[argc] = NULL;
	snprintf(env, sizeof(env), "%s%s" NO_TCACHE, t ? t : "", t ? ":" : "");
	exe_len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n == len && exe_len > 0 && (size_t)exe_len < sizeof(exe) - 1 &&
	    setenv("GLIBC_TUNABLES", env, 1) == 0 && setenv("SD_HOPS_REEXEC", "1", 1) == 0) {
		exe[exe_len] = 0;	/* the program itself, under its own name */
		fflush(NULL);
		execv(exe, argv);
	}
fail:
	fprintf(stderr, "sev-donate migrate: could not restart with malloc's per-thread caches "
		"off: the heap figures include them\n");
}

struct peer {
	char name;		/* 'A' or 'B' */
	pid_t pid;
	struct sd_mig_conn ctl;
	struct sd_io io;
	struct hop_msg m;	/* its last answer */
};

static int peer_start(struct peer *p, char name, const char *self, const char *other,
		      const struct sd_mig_opts *o, int close_fd)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	fflush(NULL);
	p->name = name;
	p->pid = fork();
	if (p->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (p->pid == 0) {
		static struct vmm v;

		close(sv[0]);
		if (close_fd >= 0)
			close(close_fd);	/* the other VMM's line: not ours to hold */
		v = (struct vmm){ .o = o, .self = self, .peer = other,
				  .ctl = { .fd = sv[1] } };
		_exit(vmm_main(&v));
	}
	close(sv[1]);
	p->ctl = (struct sd_mig_conn){ .fd = sv[0], .timeout_ms = HOP_CTL_MS };
	p->io = sd_io_conn(&p->ctl);
	return 0;
}

static int peer_order(struct peer *p, u32 op, u32 hop)
{
	struct hop_cmd c = { .op = op, .hop = hop };

	p->ctl.timeout_ms = HOP_CTL_MS;
	return p->io.write(p->io.ctx, &c, sizeof(c));
}

/* Answers to earlier orders (late, after a wait for them gave up) passed over at most. */
#define HOP_STALE_ANSWERS	4

/*
 * Its answer of @kind to order @op of hop @hop, within @ms: 0, or -1 with
 * the reason in p->m.st (the VMM's own when it answered DONE early: the
 * order failed). A VMM answers its orders in turn, so an answer to
 * another order is a late one to an earlier order, which an earlier wait
 * gave up on: passed over, up to HOP_STALE_ANSWERS of them, each read
 * within @ms; past that, refused by name.
 */
static int peer_answer(struct peer *p, u32 op, u32 hop, u32 kind, u32 ms)
{
	for (u32 stale = 0;; stale++) {
		u32 aop, ahop, akind;
		int rc;

		p->ctl.timeout_ms = ms;
		rc = p->io.read(p->io.ctx, &p->m, sizeof(p->m));
		if (rc) {
			memset(&p->m, 0, sizeof(p->m));
			sd_mig_fail(&p->m.st, -rc, "VMM %c: no answer within %u ms (%s)", p->name,
				    ms, rc == -SD_MIG_ERR_EOF ? "it died" : "it hangs");
			p->m.rc = rc;
			return -1;
		}
		if (p->m.op == op && p->m.hop == hop &&
		    (p->m.kind == HOP_DONE || p->m.kind == HOP_LISTENING))
			return p->m.kind == kind ? 0 : -1;
		if (stale < HOP_STALE_ANSWERS)
			continue;
		aop = p->m.op;
		ahop = p->m.hop;
		akind = p->m.kind;
		memset(&p->m, 0, sizeof(p->m));
		sd_mig_fail(&p->m.st, SD_MIG_ERR_SEQ, "VMM %c: answer %u to order %u of hop %u, "
			    "the %u-th answer to another order than %u of hop %u", p->name, akind,
			    aop, ahop, stale + 1, op, hop);
		p->m.rc = -SD_MIG_ERR_SEQ;
		return -1;
	}
}

/* Reap within @ms; past that, kill it. Its wait status. */
static int peer_reap(struct peer *p, u32 ms)
{
	double until = sd_mig_now_ms() + ms;
	int status = 0;

	close(p->ctl.fd);
	while (waitpid(p->pid, &status, WNOHANG) == 0) {
		if (sd_mig_now_ms() > until) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			break;
		}
		sd_mig_sleep_ms(10);
	}
	return status;
}

/* What a run keeps: the VMMs' figures after the first and the last hop, and the counts. */
struct hops_run {
	const struct sd_mig_opts *o;
	u32 hops, done, passed;
	u64 want_pages;			/* pages the guest checks */
	bool json;
	struct hop_vmm first[2], last[2];	/* A's and B's, after hop 1 and the last one */
};

static const char *hop_why(const struct hops_run *h, const struct hop_msg *s,
			   const struct hop_msg *r)
{
	const struct sd_mig_dest_report *dr = &r->dr;

	if (s->rc || !s->sr.committed)
		return s->sr.msg[0] ? s->sr.msg : s->st.msg;
	if (r->rc)
		return dr->msg[0] ? dr->msg : r->st.msg;
	if (dr->oracle.mismatches || dr->oracle.never_received)
		return "the oracle found pages in the wrong mode or missing";
	if (!dr->check.verified || dr->check.bad_content || dr->check.bad_state ||
	    dr->check.pages != h->want_pages)
		return "the guest's check found bad pages";
	if (!r->reg_value || r->reg_value != s->reg_value)
		return "the registration did not carry over";
	return NULL;
}

static void vmm_json(const char *key, const struct hop_vmm *v, const char *who)
{
	printf("\"%s\": {\"vmm\": \"%s\", \"heap_bytes\": %llu, \"fds\": %llu, \"threads\": %llu, "
	       "\"rss_kib\": %llu}", key, who, (unsigned long long)v->heap,
	       (unsigned long long)v->fds, (unsigned long long)v->threads,
	       (unsigned long long)v->rss_kib);
}

static void vmm_text(const char *role, const struct hop_vmm *v)
{
	printf("%s: heap %llu B, %llu fds, %llu threads, RSS %llu KiB", role,
	       (unsigned long long)v->heap, (unsigned long long)v->fds,
	       (unsigned long long)v->threads, (unsigned long long)v->rss_kib);
}

static void hop_print(struct hops_run *h, u32 hop, const struct peer *snd, const struct peer *rcv,
		      const char *why)
{
	const struct hop_msg *s = &snd->m, *r = &rcv->m;
	struct mig_run m = { .seed = h->o->guest.seed, .rc = s->rc, .ram_bytes = h->o->ram_bytes,
			     .sr = &s->sr, .dr = &r->dr, .have_dest = true };

	if (h->json) {
		printf("%s{\"hop\": %u, \"from\": \"%c\", \"to\": \"%c\", \"ok\": %s, \"why\": ",
		       hop > 1 ? ", " : "", hop, snd->name, rcv->name, why ? "false" : "true");
		if (why)
			mig_json_str(why);
		else
			printf("null");
		printf(", \"registration_sent\": %llu, \"registration_received\": %llu, ",
		       (unsigned long long)s->reg_value, (unsigned long long)r->reg_value);
		vmm_json("sender", &s->vmm, snd->name == 'A' ? "A" : "B");
		printf(", ");
		vmm_json("receiver", &r->vmm, rcv->name == 'A' ? "A" : "B");
		printf(", \"migration\": ");
		mig_report_json(&m, true);
		printf("}\n");
		return;
	}
	if (why) {
		printf("hop %u %c->%c: FAILED: %s\n", hop, snd->name, rcv->name, why);
		return;
	}
	printf("hop %u %c->%c: migrated, %u passes, %.1f ms, downtime %.1f ms; mismatches %llu; "
	       "guest check %llu pages, %llu bad; registration %#llx re-validated; "
	       "%llu conversions so far\n", hop, snd->name, rcv->name, s->sr.passes,
	       s->sr.total_ms, r->dr.resume_mono_ms - s->sr.pause_mono_ms,
	       (unsigned long long)r->dr.oracle.mismatches, (unsigned long long)r->dr.check.pages,
	       (unsigned long long)(r->dr.check.bad_content + r->dr.check.bad_state),
	       (unsigned long long)r->reg_value, (unsigned long long)r->dr.check.conversions);
}

/* One hop: the receiver listens, the sender sends, both answer. 0 when it passed. */
static int hop_one(struct hops_run *h, u32 hop, struct peer *snd, struct peer *rcv)
{
	const struct sd_mig_opts *o = h->o;
	u32 send_ms = o->timeout_ms * 6 + HOP_SEND_MS;
	u32 recv_ms = send_ms + o->after_ms + DEMO_CHECK_MS;
	const char *why;

	if (peer_order(rcv, HOP_RECV, hop) ||
	    peer_answer(rcv, HOP_RECV, hop, HOP_LISTENING, o->timeout_ms + HOP_CTL_MS)) {
		hop_print(h, hop, snd, rcv, rcv->m.st.msg[0] ? rcv->m.st.msg : rcv->m.dr.msg);
		return -1;
	}
	if (peer_order(snd, HOP_SEND, hop) || peer_answer(snd, HOP_SEND, hop, HOP_DONE, send_ms)) {
		hop_print(h, hop, snd, rcv, snd->m.st.msg);
		return -1;
	}
	if (peer_answer(rcv, HOP_RECV, hop, HOP_DONE, recv_ms)) {
		hop_print(h, hop, snd, rcv, rcv->m.st.msg);
		return -1;
	}
	why = hop_why(h, &snd->m, &rcv->m);
	hop_print(h, hop, snd, rcv, why);
	if (why)
		return -1;
	h->last[snd->name - 'A'] = snd->m.vmm;
	h->last[rcv->name - 'A'] = rcv->m.vmm;
	if (hop == 1)
		memcpy(h->first, h->last, sizeof(h->first));
	return 0;
}

/* Both VMMs together: what the host gives the two of them. */
static struct hop_vmm vmm_total(const struct hop_vmm v[2])
{
	return (struct hop_vmm){ .heap = v[0].heap + v[1].heap, .fds = v[0].fds + v[1].fds,
				 .threads = v[0].threads + v[1].threads,
				 .rss_kib = v[0].rss_kib + v[1].rss_kib };
}

static void vmm_figures(const struct hops_run *h, const char *key, const struct hop_vmm v[2],
			u32 hop)
{
	struct hop_vmm t = vmm_total(v);

	if (h->json) {
		printf("\"%s\": {\"hop\": %u, ", key, hop);
		vmm_json("a", &v[0], "A");
		printf(", ");
		vmm_json("b", &v[1], "B");
		printf(", ");
		vmm_json("total", &t, "A+B");
		printf("}");
		return;
	}
	printf("VMMs after hop %u: ", hop);
	vmm_text("A", &v[0]);
	printf("; ");
	vmm_text("B", &v[1]);
	printf("; both: heap %llu B, %llu fds, %llu threads, RSS %llu KiB\n",
	       (unsigned long long)t.heap, (unsigned long long)t.fds,
	       (unsigned long long)t.threads, (unsigned long long)t.rss_kib);
}

static void hops_summary(const struct hops_run *h, const struct hop_msg *fin, bool fin_ok)
{
	struct hop_vmm a = vmm_total(h->first), b = vmm_total(h->last);

	if (h->json) {
		printf("], \"hops\": %u, \"passed\": %u, \"failed\": %u, \"vmm\": {",
		       h->hops, h->passed, h->hops - h->passed);
		vmm_figures(h, "after_first", h->first, 1);
		printf(", ");
		vmm_figures(h, "after_last", h->last, h->passed);
		printf("}, \"final_check\": {\"ok\": %s, \"verified\": %s, \"pages_checked\": %llu, "
		       "\"bad_content\": %llu, \"bad_state\": %llu, \"conversions\": %llu}}\n",
		       fin_ok ? "true" : "false", fin->check.verified ? "true" : "false",
		       (unsigned long long)fin->check.pages,
		       (unsigned long long)fin->check.bad_content,
		       (unsigned long long)fin->check.bad_state,
		       (unsigned long long)fin->check.conversions);
		return;
	}
	if (h->passed) {
		vmm_figures(h, NULL, h->first, 1);
		vmm_figures(h, NULL, h->last, h->passed);
		printf("VMMs hop 1 -> %u: heap %+lld B, fds %+lld, threads %+lld, RSS %+lld KiB\n",
		       h->passed, (long long)(b.heap - a.heap), (long long)(b.fds - a.fds),
		       (long long)(b.threads - a.threads), (long long)(b.rss_kib - a.rss_kib));
	}
	printf("final check: %s, %llu pages, %llu bad content, %llu bad state\n",
	       fin_ok ? "clean" : "FAILED", (unsigned long long)fin->check.pages,
	       (unsigned long long)fin->check.bad_content, (unsigned long long)fin->check.bad_state);
	printf("hops: %u hops, %u passed, %u failed\n", h->hops, h->passed, h->hops - h->passed);
}

/* Stop both VMMs; the last check comes from the one that runs the guest. */
static bool hops_stop(struct hops_run *h, struct peer p[2], struct hop_msg *fin)
{
	bool ok = false;

	memset(fin, 0, sizeof(*fin));
	for (int i = 0; i < 2; i++) {
		if (peer_order(&p[i], HOP_STOP, 0) ||
		    peer_answer(&p[i], HOP_STOP, 0, HOP_DONE, DEMO_CHECK_MS + HOP_CTL_MS))
			continue;
		if (p[i].m.check.verified) {
			*fin = p[i].m;
			ok = p[i].m.rc == 0 && !p[i].m.check.bad_content && !p[i].m.check.bad_state &&
			     p[i].m.check.pages == h->want_pages;
		}
	}
	for (int i = 0; i < 2; i++) {
		int status = peer_reap(&p[i], HOP_CTL_MS);

		/* A VMM that crashed, or had to be killed, on its way out fails the run. */
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "sev-donate migrate: VMM %c ended with %s %d\n", p[i].name,
				WIFSIGNALED(status) ? "signal" : "status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			ok = false;
		}
	}
	return ok;
}

int sd_mig_run_hops(const struct sd_mig_opts *o, u32 hops, bool json)
{
	static struct peer p[2];
	static struct sd_mig_opts po[2];
	char dir[] = "/tmp/sd-hops-XXXXXX", addr[2][64];
	u64 ram_pages = o->ram_bytes >> SD_PAGE_SHIFT;
	u64 lane = demo_lane_first(ram_pages, 1) - demo_lane_first(ram_pages, 0);
	struct hops_run h = { .o = o, .hops = hops, .json = json, .want_pages = lane * DEMO_VCPUS };
	struct hop_msg fin;
	bool fin_ok;

	hops_without_tcache();
	if (!mkdtemp(dir)) {
		perror("sev-donate migrate: mkdtemp");
		return 1;
	}
	for (int i = 0; i < 2; i++)
		snprintf(addr[i], sizeof(addr[i]), "unix:%s/%c", dir, 'a' + i);
	/* Two platforms that expect each other, both ways: each is source and destination. */
	po[0] = po[1] = *o;
	sd_id_demo_pair(&po[0].ids, &po[1].ids);
	if (peer_start(&p[0], 'A', addr[0], addr[1], &po[0], -1) ||
	    peer_start(&p[1], 'B', addr[1], addr[0], &po[1], p[0].ctl.fd)) {
		perror("sev-donate migrate: fork");
		return 1;
	}
	if (json)
		printf("{\"ram_bytes\": %llu, \"seed\": %llu, \"hop\": [",
		       (unsigned long long)o->ram_bytes, (unsigned long long)o->guest.seed);
	if (peer_order(&p[0], HOP_BOOT, 0) ||
	    peer_answer(&p[0], HOP_BOOT, 0, HOP_DONE, DEMO_BOOT_MS + o->warmup_ms + HOP_CTL_MS) ||
	    p[0].m.rc)
		fprintf(stderr, "sev-donate migrate: VMM A could not boot the guest: %s\n",
			p[0].m.st.msg);
	else
		for (u32 hop = 1; hop <= hops; hop++) {
			struct peer *snd = &p[(hop - 1) % 2], *rcv = &p[hop % 2];

			h.done = hop;
			if (hop_one(&h, hop, snd, rcv))
				break;
			h.passed++;
			fflush(stdout);
		}
	fin_ok = hops_stop(&h, p, &fin);
	hops_summary(&h, &fin, fin_ok);
	for (int i = 0; i < 2; i++)
		unlink(addr[i] + 5);
	rmdir(dir);
	return h.passed == hops && fin_ok ? 0 : 1;
}
