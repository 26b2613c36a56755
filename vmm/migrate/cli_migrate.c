// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cli_migrate.c - `sev-donate migrate`: the demo (a source and a destination
 * VMM in two processes on this machine), or one side of a migration
 * between two hosts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sev_donate.h"
#include "cli.h"
#include "hops.h"
#include "migrate.h"
#include "report.h"
#include "stream.h"
#include "identity.h"
#include "transport.h"
#include "sd_kvm.h"
/* A source's passes and its guest's check, beyond what --timeout bounds. */
#define DEMO_SOURCE_MS	600000

int sd_cli_migrate(int argc, char **argv);

static const char usage[] =
	"usage: sev-donate migrate --demo [options]\n"
	"       sev-donate migrate --source --connect ADDR --identity FILE --peer-key FILE\n"
	"                          [options]\n"
	"       sev-donate migrate --dest --listen ADDR --identity FILE [--peer-key FILE]\n"
	"                          [--ram SIZE] [options]\n"
	"\n"
	"Live-migrate the demo guest: two vCPUs that keep an encryption-status table\n"
	"and churn page states and contents while the VMM migrates them, pass by pass,\n"
	"sending shared pages in plaintext and private pages through a software\n"
	"stand-in for the SEV firmware. The destination checks every page's mode\n"
	"against the guest's own ledger, then the guest checks every page's content.\n"
	"Needs /dev/kvm.\n"
	"\n"
	"  --demo            run a source and a destination here, over a Unix socket\n"
	"  --source          be the source: boot the guest, then migrate it to --connect\n"
	"  --dest            be the destination: accept one migration on --listen; says on\n"
	"                    stderr where it listens (\"listening on HOST:PORT\")\n"
	"  --connect ADDR    unix:PATH, HOST:PORT or [V6]:PORT\n"
	"  --listen ADDR     unix:PATH or [HOST:]PORT; port 0 picks a free one\n"
	"  --identity FILE   this platform's secret key (sev-donate keygen); the side\n"
	"                    proves it holds it (docs/STREAM.md 3)\n"
	"  --peer-key FILE   the peer's public key: the source sends to no destination\n"
	"                    but the one holding it (required); a destination given it\n"
	"                    accepts only that source (else any source that signs).\n"
	"                    A wrong key ends the migration before any page is sent\n"
	"                    (SD_MIG_ERR_PEER_KEY, SD_MIG_ERR_PEER_SIG); --demo makes\n"
	"                    its own pair of identities\n"
	"  --ram SIZE        guest RAM (source), most RAM accepted (destination); default 256M\n"
	"  --dest-ram SIZE   demo: the destination's RAM (default: --ram)\n"
	"  --ppc N           table pages per chunk (default 1024)\n"
	"  --seed N          the guest's random seed (default 1)\n"
	"  --runs N          demo: migrate N times, seeds N, N+1, ... (default 1)\n"
	"  --hops N          demo: migrate one guest N times between two long-lived VMMs,\n"
	"                    A->B->A...: each destination is the next hop's source; the\n"
	"                    table, registration, ledger and every page are checked at\n"
	"                    every hop, and the VMMs' heap, fds, threads and RSS are\n"
	"                    reported after hop 1 and hop N (1 to 1000)\n"
	"  --passes N        pre-copy passes at most, then SD_MIG_ERR_CONVERGE (default 16)\n"
	"  --max-downtime MS the final pass only when what is dirty fits MS at the measured\n"
	"                    bandwidth; until then the vCPUs are throttled, 20% then 10\n"
	"                    points more a pass up to 99% (default 300, QEMU's downtime-limit)\n"
	"  --warmup MS       churn before migrating (default 300)\n"
	"  --after MS        churn after resuming, before the guest checks itself (default 300)\n"
	"  --guest BEHAVIOUR resize (move the table 4 times, SPEC.md 5.6: each of pre-copy\n"
	"                    passes 1-4 asks for one early, and they run, within --passes),\n"
	"                    reregister\n"
	"                    (re-register after every operation), window-at-pause (the\n"
	"                    final pause lands inside a window in a chunk holding table\n"
	"                    pages, SPEC.md 7.4); may be repeated\n"
	"  --inject FAULT    cut=BYTES, corrupt=BYTE, table, wrong-mode, dest-die=RECORDS,\n"
	"                    read-delay=MS (the source sleeps between taking the registration\n"
	"                    and reading the table, as a descheduled thread would; with\n"
	"                    --guest resize, also until the move that pass asked for, 5 s\n"
	"                    at most, so that the read straddles it),\n"
	"                    guest-span-beyond-ram (a hostile guest: its table spans 2x RAM),\n"
	"                    guest-bad-count (a hostile guest: in pass 1, a count larger than\n"
	"                    its chunk; SD_MIG_ERR_SOURCE, and the destination told by ABORT),\n"
	"                    guest-no-window (--guest window-at-pause, but the guest never\n"
	"                    opens its window: SD_MIG_ERR_SOURCE after half of --timeout),\n"
	"                    no-transport (the VMM offers no transport: the guest cannot register),\n"
	"                    crash=ROLE:POINT (that side raises SIGKILL there; ROLE source or\n"
	"                    dest; POINT rec=N, pass=N, final, registration, vcpu, end,\n"
	"                    result, commit, or for dest commit-unread: docs/RELIABILITY.md),\n"
	"                    commit-lost (the source's COMMIT goes out on a connection that\n"
	"                    dies before it arrives), stall=MS (a source vCPU stays away\n"
	"                    from the final pause MS ms: over 2000, SD_MIG_ERR_PAUSE),\n"
	"                    throttle-stall=MS (the same for the throttle's next pause),\n"
	"                    xl-enomem=N (--design exit: the source's region list runs out\n"
	"                    of memory in exit N: SD_MIG_ERR_NOMEM)\n"
	"                    dest-die= and crash=dest: act on the destination, no-transport\n"
	"                    on both, the rest on the source; the other side refuses them\n"
	"  --design D        table (this protocol), or exit (the merged design: the guest\n"
	"                    reports every page-state change by an exit, one per page, and\n"
	"                    the VMM keeps AMD's QEMU region list and migrates from it);\n"
	"                    --source and --dest must say the same\n"
	"  --change-rate N   the guest paces its page-state changes to N per second (N or\n"
	"                    N/s; default 0: as fast as it goes)\n"
	"  --timeout MS      deadline for every connect, send and receive, and for the\n"
	"                    destination's accept (default 10000)\n"
	"  --accept-timeout MS\n"
	"                    destination: how long to wait for a source to connect instead\n"
	"                    (default: --timeout)\n"
	"  --json            print the report as JSON\n"
	"  --quiet           no progress lines\n"
	"\n"
	"Exit status: 0 migrated with mismatches=0 and a clean check; 1 the migration\n"
	"failed (the guest went on on the source) or the oracle found a mismatch;\n"
	"2 usage error or /dev/kvm missing. Errors go to stderr, the report to stdout.\n"
	"\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sev-donate migrate: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

/* Which side an --inject fault acts on: the other side's process refuses it. */
enum inject_side { INJ_BOTH, INJ_SOURCE, INJ_DEST };

struct inject_use {
	enum inject_side side;
	const char *what;	/* for the usage error: "<name> <what>: it is for ..." */
};

/* Parse one --inject FAULT into @o; false if it is not one. *@use says whose it is. */
static bool parse_inject(struct sd_mig_opts *o, const char *s, struct inject_use *use)
{
	u64 v;

	*use = (struct inject_use){ INJ_SOURCE, "acts on the source" };
	if (!strcmp(s, "table"))
		o->faults.table = true;
	else if (!strcmp(s, "wrong-mode"))
		o->faults.wrong_mode = true;
	else if (!strncmp(s, "cut=", 4) && cli_parse_u64(s + 4, &v) && v <= INT64_MAX)
		o->faults.cut = (s64)v;
	else if (!strncmp(s, "corrupt=", 8) && cli_parse_u64(s + 8, &v) && v <= INT64_MAX)
		o->faults.corrupt = (s64)v;
	else if (!strncmp(s, "dest-die=", 9) && cli_parse_u64(s + 9, &v) && v <= INT64_MAX) {
		o->faults.dest_die = (s64)v;
		*use = (struct inject_use){ INJ_DEST, "acts on the destination" };
	} else if (!strncmp(s, "read-delay=", 11) && cli_parse_u64(s + 11, &v) && v <= 10000)
		o->faults.read_delay_ms = (u32)v;
	else if (!strncmp(s, "crash=", 6)) {
		if (!sd_mig_crash_parse(&o->faults, s + 6))
			return false;
		if (o->faults.crash.dest)
			*use = (struct inject_use){ INJ_DEST, "acts on the destination" };
	} else if (!strcmp(s, "commit-lost"))
		o->faults.commit_lost = true;
	else if (!strncmp(s, "stall=", 6) && cli_parse_u64(s + 6, &v) && v >= 1 && v <= 60000) {
		o->faults.stall_ms = (u32)v;
		use->what = "holds a source vCPU away from a pause";
	} else if (!strncmp(s, "throttle-stall=", 15) && cli_parse_u64(s + 15, &v) && v >= 1 &&
		   v <= 60000) {
		o->faults.throttle_stall_ms = (u32)v;
		use->what = "holds a source vCPU away from a pause";
	} else if (!strncmp(s, "xl-enomem=", 10) && cli_parse_u64(s + 10, &v) && v >= 1)
		o->guest.xl_fail_exit = v;
	else if (!strcmp(s, "guest-span-beyond-ram"))
		o->guest.beyond = true;
	else if (!strcmp(s, "guest-bad-count"))
		o->guest.bad_count = true;
	else if (!strcmp(s, "guest-no-window"))
		o->guest.window_at_pause = o->guest.no_window = true;
	else if (!strcmp(s, "no-transport")) {
		o->guest.no_transport = true;	/* each side's VM offers no transport */
		*use = (struct inject_use){ INJ_BOTH, NULL };
	} else
		return false;
	return true;
}

static bool parse_guest(struct sd_mig_opts *o, const char *s)
{
	if (!strcmp(s, "resize"))
		o->guest.resizes = 4;
	else if (!strcmp(s, "reregister"))
		o->guest.reregister = true;
	else if (!strcmp(s, "window-at-pause"))
		o->guest.window_at_pause = true;
	else
		return false;
	return true;
}

/* The destination child's side of the ready pipe: one byte once it listens. */
static void dest_listening(void *ctx, const char *addr)
{
	int fd = *(int *)ctx;
	char c = 1;

	(void)addr;
	if (write(fd, &c, 1) != 1)
		perror("sev-donate migrate: ready pipe");
}

/* Wait until @fd is readable or @ms pass: 1 readable (or at EOF), 0 deadline. */
static int wait_readable(int fd, u32 ms)
{
	double until = sd_mig_now_ms() + ms;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = until - sd_mig_now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left + 1);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;	/* let the read report it */
	}
}

/*
 * Reap @pid within @ms; past that, kill it and reap it. Returns its wait
 * status; *killed says whether it had to be killed.
 */
static int reap_child(pid_t pid, u32 ms, bool *killed)
{
	double until = sd_mig_now_ms() + ms;
	int status = 0;

	*killed = false;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return status;
		if (sd_mig_now_ms() >= until)
			break;
		usleep(10000);
	}
	*killed = true;
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Read a child's report, which it writes once it is done, within @ms. */
static bool read_report(int fd, void *report, size_t size, u32 ms)
{
	double until = sd_mig_now_ms() + ms;
	size_t got = 0;

	while (got < size) {
		double left = until - sd_mig_now_ms();
		ssize_t n;

		if (left <= 0 || !wait_readable(fd, (u32)left))
			return false;
		n = read(fd, (char *)report + got, size - got);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		got += (size_t)n;
	}
	return true;
}

/* A VMM in a child process, and the pipe its report comes back on. */
struct child {
	pid_t pid;
	int report;
};

/*
 * Start one side of the demo in a fresh process. The demo's parent process
 * never touches KVM or RCU itself: liburcu requires every registration to
 * be released before a fork() that is not followed by exec(), so each run's
 * two VMMs are born of a process that holds none.
 */
static int child_start(struct child *c, bool dest, const struct sd_mig_opts *o, int ready_fd,
		       void *report, size_t size)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (c->pid == 0) {
		struct sd_mig_opts co = *o;
		int rc;

		close(p[0]);
		if (dest) {
			co.on_listening = dest_listening;
			co.cb_ctx = &ready_fd;
			rc = sd_mig_run_dest(&co, report);
		} else {
			rc = sd_mig_run_source(&co, report);
		}
		if (write(p[1], report, size) != (ssize_t)size)
			perror("sev-donate migrate: report pipe");
		_exit(rc ? 1 : 0);
	}
	close(p[1]);
	c->report = p[0];
	return 0;
}

/* Collect a child's report within @ms, then reap it (killing it if it lingers). */
static bool child_finish(struct child *c, void *report, size_t size, u32 ms, bool want_report,
			 int *status, bool *killed)
{
	bool have = want_report && read_report(c->report, report, size, ms);

	close(c->report);
	*status = reap_child(c->pid, want_report ? 5000 : 0, killed);
	return have;
}

/*
 * One demo run: the destination and the source, each in a child process,
 * over a Unix socket. Every wait on them has a deadline: for the
 * destination to listen, for each report, and for each to exit. When the
 * source fails before it reached the destination, the destination is
 * stopped at once (it would wait in accept for its deadline), reaped, and the
 * source's error is what the run reports.
 */
static int demo_run(const struct sd_mig_opts *o, u64 dest_ram, struct sd_mig_source_report *sr,
		    struct sd_mig_dest_report *dr, bool *have_dest)
{
	char dir[] = "/tmp/sd-migrate-XXXXXX", addr[64];
	struct sd_mig_opts so = *o, dopt = *o;
	/* The destination's own work after COMMIT: --after, then the guest's check. */
	u32 dest_ms = o->timeout_ms * 2 + o->after_ms + DEMO_CHECK_MS;
	/* The source's: warm-up, the passes (each transfer under --timeout), the check. */
	u32 src_ms = o->warmup_ms + o->after_ms + o->timeout_ms * 4 + DEMO_SOURCE_MS;
	struct child dc, sc;
	int rdy[2], status;
	bool killed = false, ready, have_src;
	char c;

	memset(sr, 0, sizeof(*sr));
	memset(dr, 0, sizeof(*dr));
	*have_dest = false;
	if (!mkdtemp(dir) || pipe2(rdy, O_CLOEXEC)) {
		perror("sev-donate migrate");
		return -1;
	}
	snprintf(addr, sizeof(addr), "unix:%s/sock", dir);
	dopt.listen = addr;
	dopt.ram_bytes = dest_ram;
	dopt.guest.xl_fail_exit = 0;	/* the source's list runs out of memory, not this one's */
	dopt.verbose = false;
	/*
	 * The source connects only after booting its guest and the warm-up,
	 * which a loaded machine can stretch past --timeout: here the
	 * destination waits for it as long as we wait for the source, and we
	 * stop it at once if the source ends without connecting.
	 */
	dopt.accept_timeout_ms = src_ms;
	so.connect = addr;
	sd_id_demo_pair(&so.ids, &dopt.ids);	/* the demo's own pair of identities */
	if (child_start(&dc, true, &dopt, rdy[1], dr, sizeof(*dr))) {
		perror("sev-donate migrate: fork");
		return -1;
	}
	close(rdy[1]);
	/* Start the source once the destination listens (or has died trying). */
	ready = wait_readable(rdy[0], o->timeout_ms) && read(rdy[0], &c, 1) == 1;
	close(rdy[0]);
	have_src = false;
	if (ready && !child_start(&sc, false, &so, -1, sr, sizeof(*sr)))
		have_src = child_finish(&sc, sr, sizeof(*sr), src_ms, true, &status, &killed);
	if (!have_src) {
		memset(sr, 0, sizeof(*sr));
		sr->err = ready ? SD_MIG_ERR_SOURCE : SD_MIG_ERR_IO;
		if (!ready)
			snprintf(sr->msg, sizeof(sr->msg), "SD_MIG_ERR_IO: the destination did not "
				 "start listening within %u ms", o->timeout_ms);
		else
			snprintf(sr->msg, sizeof(sr->msg), "SD_MIG_ERR_SOURCE: the source VMM %s",
				 killed ? "sent no report in time and was killed"
					: "exited without a report");
	}
	/* A source that never reached the destination: nothing will; stop it now. */
	*have_dest = child_finish(&dc, dr, sizeof(*dr), dest_ms, sr->connected, &status, &killed);
	if (!*have_dest) {
		memset(dr, 0, sizeof(*dr));
		if (!sr->connected)
			snprintf(dr->msg, sizeof(dr->msg), "stopped: the source never connected");
		else if (killed)
			snprintf(dr->msg, sizeof(dr->msg), "killed: no report within %u ms", dest_ms);
		else
			snprintf(dr->msg, sizeof(dr->msg), "the destination exited without a report "
				 "(%s %d)", WIFSIGNALED(status) ? "signal" : "status",
				 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	unlink(addr + 5);
	rmdir(dir);
	return have_src ? -sr->err : -SD_MIG_ERR_SOURCE;
}

/* --dest: where a source should connect (port 0 resolved), on stderr for scripts. */
static void print_listening(void *ctx, const char *addr)
{
	(void)ctx;
	fprintf(stderr, "sev-donate migrate: listening on %s\n", addr);
	fflush(stderr);
}

static int run_dest(const struct sd_mig_opts *o, bool json)
{
	static struct sd_mig_dest_report dr;
	struct sd_mig_opts d = *o;
	int rc;

	d.on_listening = print_listening;
	rc = sd_mig_run_dest(&d, &dr);
	if (rc)
		fprintf(stderr, "sev-donate migrate: destination failed: %s\n", dr.msg);
	if (json)
		mig_report_dest_json(rc, &dr);
	else
		mig_report_dest_text(rc, &dr);
	return rc == 0 && dr.oracle.mismatches == 0 && dr.check.bad_content == 0 &&
	       dr.check.bad_state == 0 ? 0 : 1;
}

static int run_source(const struct sd_mig_opts *o, bool json)
{
	static struct sd_mig_source_report sr;
	struct mig_run m = { .seed = o->guest.seed, .ram_bytes = o->ram_bytes, .sr = &sr,
			     .design = o->guest.design };

	m.rc = sd_mig_run_source(o, &sr);
	if (json) {
		mig_report_json(&m, true);
		if (m.rc)
			mig_report_failure(&m);
	} else {
		mig_report_text(&m);
	}
	return m.rc ? 1 : 0;
}

static int run_demo(const struct sd_mig_opts *o, u64 dest_ram, u64 runs, bool json)
{
	int failures = 0;

	if (json && runs > 1)
		printf("[\n");
	for (u64 i = 0; i < runs; i++) {
		static struct sd_mig_source_report sr;
		static struct sd_mig_dest_report dr;
		struct sd_mig_opts ro = *o;
		struct mig_run m = { .sr = &sr, .dr = &dr, .ram_bytes = o->ram_bytes,
				     .design = o->guest.design };

		ro.guest.seed = o->guest.seed + i;
		m.seed = ro.guest.seed;
		m.rc = demo_run(&ro, dest_ram ? dest_ram : o->ram_bytes, &sr, &dr, &m.have_dest);
		failures += !mig_run_ok(&m);
		if (json) {
			mig_report_json(&m, runs == 1 || i + 1 == runs);
			if (m.rc)
				mig_report_failure(&m);
		} else {
			mig_report_text(&m);
		}
		if (m.rc == 0 && !mig_run_ok(&m))
			fprintf(stderr, "sev-donate migrate: seed %llu migrated, but the destination "
				"found %llu mismatches, %llu bad content, %llu bad state pages%s\n",
				(unsigned long long)m.seed, (unsigned long long)dr.oracle.mismatches,
				(unsigned long long)dr.check.bad_content,
				(unsigned long long)dr.check.bad_state,
				dr.check.verified ? "" : " (and the guest's check did not complete)");
	}
	if (json && runs > 1)
		printf("]\n");
	if (!json && runs > 1)
		printf("migrations: %llu runs, %d passed, %d failed\n", (unsigned long long)runs,
		       (int)runs - failures, failures);
	return failures ? 1 : 0;
}

enum { O_DEMO = 256, O_SOURCE, O_DEST, O_CONNECT, O_LISTEN, O_RAM, O_DEST_RAM, O_PPC, O_SEED,
       O_RUNS, O_PASSES, O_WARMUP, O_AFTER, O_INJECT, O_GUEST, O_JSON, O_QUIET, O_HELP,
       O_TIMEOUT, O_MAX_DOWNTIME, O_DESIGN, O_CHANGE_RATE, O_ACCEPT_TIMEOUT, O_IDENTITY,
       O_PEER_KEY, O_HOPS };

static const struct option long_opts[] = {
	{ "demo", no_argument, NULL, O_DEMO }, { "source", no_argument, NULL, O_SOURCE },
	{ "dest", no_argument, NULL, O_DEST }, { "connect", required_argument, NULL, O_CONNECT },
	{ "listen", required_argument, NULL, O_LISTEN }, { "ram", required_argument, NULL, O_RAM },
	{ "dest-ram", required_argument, NULL, O_DEST_RAM },
	{ "ppc", required_argument, NULL, O_PPC }, { "seed", required_argument, NULL, O_SEED },
	{ "runs", required_argument, NULL, O_RUNS },
	{ "passes", required_argument, NULL, O_PASSES },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "after", required_argument, NULL, O_AFTER },
	{ "inject", required_argument, NULL, O_INJECT },
	{ "guest", required_argument, NULL, O_GUEST }, { "json", no_argument, NULL, O_JSON },
	{ "quiet", no_argument, NULL, O_QUIET }, { "help", no_argument, NULL, O_HELP },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "max-downtime", required_argument, NULL, O_MAX_DOWNTIME },
	{ "design", required_argument, NULL, O_DESIGN },
	{ "change-rate", required_argument, NULL, O_CHANGE_RATE },
	{ "accept-timeout", required_argument, NULL, O_ACCEPT_TIMEOUT },
	{ "identity", required_argument, NULL, O_IDENTITY },
	{ "peer-key", required_argument, NULL, O_PEER_KEY },
	{ "hops", required_argument, NULL, O_HOPS },
	{ NULL, 0, NULL, 0 },
};

/* What the command line asked for, besides the migration options. */
struct cmd {
	int mode;		/* O_DEMO, O_SOURCE or O_DEST */
	bool json, quiet, help;
	u64 dest_ram, runs, hops;
	bool injected;
	/* The first --inject FAULT that only the source, or only the destination, acts on. */
	struct side_fault {
		char name[24];	/* "" for none */
		const char *what;
	} src_fault, dest_fault;
	const char *identity, *peer_key;	/* key files (docs/STREAM.md 8) */
};

/* A number option in [lo, hi]: 0, or the usage error's exit status. */
static int opt_u64(const char *name, const char *arg, u64 lo, u64 hi, u64 *out)
{
	if (!cli_parse_u64(arg, out) || *out < lo || *out > hi)
		return usage_error("%s: '%s' is not a number from %llu to %llu", name, arg,
				   (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

static int parse_one(int c, const char *arg, struct sd_mig_opts *o, struct cmd *k)
{
	u64 v = 0;
	int rc = 0;

	switch (c) {
	case O_DEMO: case O_SOURCE: case O_DEST:
		if (k->mode && k->mode != c)
			return usage_error("pick one of --demo, --source, --dest");
		k->mode = c;
		break;
	case O_CONNECT: o->connect = arg; break;
	case O_LISTEN: o->listen = arg; break;
	case O_RAM:
		if (!cli_parse_size(arg, &o->ram_bytes))
			return usage_error("--ram: '%s' is not a size (a number with an optional K, M, "
					   "G or T suffix)", arg);
		break;
	case O_DEST_RAM:
		if (!cli_parse_size(arg, &k->dest_ram))
			return usage_error("--dest-ram: '%s' is not a size", arg);
		break;
	case O_PPC:
		if (!cli_parse_u64(arg, &v) || v < SD_MIN_CHUNK_PAGES || v > SD_MAX_CHUNK_PAGES ||
		    (v & (v - 1)))
			return usage_error("--ppc: '%s' is not a power of two in 64..32768", arg);
		o->guest.ppc = (u32)v;
		break;
	case O_SEED: rc = opt_u64("--seed", arg, 0, ~0ULL, &o->guest.seed); break;
	case O_RUNS: rc = opt_u64("--runs", arg, 1, 1000, &k->runs); break;
	case O_HOPS: rc = opt_u64("--hops", arg, 1, SD_MIG_MAX_HOPS, &k->hops); break;
	case O_PASSES:
		rc = opt_u64("--passes", arg, 1, SD_MIG_MAX_PASSES - 1, &v);
		o->max_passes = (u32)v;
		break;
	case O_WARMUP:
		rc = opt_u64("--warmup", arg, 0, 600000, &v);
		o->warmup_ms = (u32)v;
		break;
	case O_AFTER:
		rc = opt_u64("--after", arg, 0, 600000, &v);
		o->after_ms = (u32)v;
		break;
	case O_DESIGN:
		if (!strcmp(arg, "table") || !strcmp(arg, "exit"))
			o->guest.design = arg[0] == 'e' ? DEMO_DESIGN_EXIT : DEMO_DESIGN_TABLE;
		else
			return usage_error("--design: '%s' is not table or exit", arg);
		break;
	case O_CHANGE_RATE: {
		char num[24];
		size_t len = strcspn(arg, "/");

		if (len >= sizeof(num) || (arg[len] && strcmp(arg + len, "/s")))
			return usage_error("--change-rate: '%s' is not N or N/s", arg);
		memcpy(num, arg, len);
		num[len] = 0;
		rc = opt_u64("--change-rate", num, 0, 10000000, &v);
		o->guest.change_rate = (u32)v;
		break;
	}
	case O_MAX_DOWNTIME:
		rc = opt_u64("--max-downtime", arg, 0, 600000, &v);
		o->max_downtime_ms = (u32)v;
		break;
	case O_TIMEOUT:
		rc = opt_u64("--timeout", arg, 100, 3600000, &v);
		o->timeout_ms = (u32)v;
		break;
	case O_ACCEPT_TIMEOUT:
		rc = opt_u64("--accept-timeout", arg, 100, 86400000, &v);
		o->accept_timeout_ms = (u32)v;
		break;
	case O_INJECT: {
		struct inject_use use;
		struct side_fault *f;

		if (!strncmp(arg, "crash=", 6) && o->faults.crash.point)
			return usage_error("--inject crash= given twice: one side crashes, at one "
					   "point");
		if (!parse_inject(o, arg, &use))
			return usage_error("--inject: unknown fault '%s'", arg);
		k->injected = true;
		f = use.side == INJ_DEST ? &k->dest_fault : &k->src_fault;
		if (use.side != INJ_BOTH && !f->name[0]) {
			/* Its name, up to '=' (crash=ROLE:POINT keeps its role). */
			size_t n = strcspn(arg, !strncmp(arg, "crash=", 6) ? ":" : "=");

			snprintf(f->name, sizeof(f->name), "%.*s", (int)n, arg);
			f->what = use.what;
		}
		break;
	}
	case O_GUEST:
		if (!parse_guest(o, arg))
			return usage_error("--guest: unknown behaviour '%s' (resize, reregister, "
					   "window-at-pause)", arg);
		break;
	case O_IDENTITY: k->identity = arg; break;
	case O_PEER_KEY: k->peer_key = arg; break;
	case O_JSON: k->json = true; break;
	case O_QUIET: k->quiet = true; break;
	case O_HELP: k->help = true; break;
	default:
		return -1;
	}
	return rc;
}

/* --identity and --peer-key: a missing or bad key file is a usage error, by name. */
static int migrate_with_ids(const struct cmd *k, struct sd_mig_opts *o)
{
	if (!sd_kvm_available()) {
		fprintf(stderr, "sev-donate migrate: %s: the migration needs KVM with it (open "
			"/dev/kvm as root, on a host with KVM)\n", sd_kvm_caps()->missing);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sev-donate migrate: libsodium failed to initialise\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	o->verbose = !k->json && !k->quiet;
	if (k->mode == O_DEST)
		return run_dest(o, k->json);
	if (k->mode == O_SOURCE)
		return run_source(o, k->json);
	if (k->hops)
		return sd_mig_run_hops(o, (u32)k->hops, k->json);
	return run_demo(o, k->dest_ram, k->runs, k->json);
}

static int load_ids(const struct cmd *k, struct sd_mig_ids *ids)
{
	char msg[512];
	int rc;

	if (k->mode == O_DEMO)
		return k->identity || k->peer_key ?
		       usage_error("--demo makes its own pair of identities (no --identity or "
				   "--peer-key)") : 0;
	if (!k->identity || (k->mode == O_SOURCE && !k->peer_key))
		return usage_error("%s", !k->identity ? "--source and --dest need --identity FILE "
				   "(sev-donate keygen)" : "--source needs --peer-key FILE: the "
				   "destination's public key (it sends to no other)");
	if (sodium_init() < 0)
		return usage_error("libsodium failed to initialise");
	rc = sd_id_load_secret(k->identity, ids, msg, sizeof(msg));
	if (!rc && k->peer_key)
		rc = sd_id_load_public(k->peer_key, ids, msg, sizeof(msg));
	return rc ? usage_error("%s", msg) : 0;
}

int sd_cli_migrate(int argc, char **argv)
{
	struct sd_mig_opts o;
	struct cmd k = { .runs = 1 };
	int c, rc;

	sd_mig_opts_default(&o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		rc = parse_one(c, optarg, &o, &k);
		if (rc < 0)
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		if (rc)
			return rc;
	}
	if (k.help) {
		fputs(usage, stdout);
		mig_report_help(stdout);
		return 0;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!k.mode)
		return usage_error("say --demo, --source or --dest");
	if (o.accept_timeout_ms && k.mode != O_DEST)
		return usage_error("--accept-timeout is for --dest (the demo sets its own)");
	if ((k.mode == O_SOURCE && !o.connect) || (k.mode == O_DEST && !o.listen))
		return usage_error("%s", k.mode == O_SOURCE ? "--source needs --connect ADDR"
							    : "--dest needs --listen ADDR");
	if (k.hops && (k.mode != O_DEMO || k.runs > 1 || k.dest_ram || k.injected ||
		       o.guest.design == DEMO_DESIGN_EXIT))
		return usage_error("--hops goes with --demo, without --runs, --dest-ram, --inject or "
				   "--design exit");
	if (k.mode == O_DEST && k.src_fault.name[0])
		return usage_error("--inject %s %s: it is for --demo and --source, not --dest",
				   k.src_fault.name, k.src_fault.what);
	if (k.mode == O_SOURCE && k.dest_fault.name[0])
		return usage_error("--inject %s %s: it is for --demo and --dest, not --source",
				   k.dest_fault.name, k.dest_fault.what);
	if (o.guest.xl_fail_exit && (o.guest.design != DEMO_DESIGN_EXIT || k.mode == O_DEST))
		return usage_error("--inject xl-enomem is the source's, with --design exit (its region "
				   "list)");
	if (o.guest.design == DEMO_DESIGN_EXIT && (o.guest.resizes || o.guest.reregister ||
						   o.guest.window_at_pause || o.guest.beyond ||
						   o.guest.bad_count))
		return usage_error("--design exit: the guest keeps no table to resize, re-register, "
				   "hold a window in, span past RAM or break");
	if (o.guest.bad_count) {
		/* The broken chunk must stay broken: no writer but the hostile vCPU 0 in it. */
		u64 ram_pages = o.ram_bytes >> SD_PAGE_SHIFT, ppc = o.guest.ppc;
		u64 end = ((DEMO_TABLE_GPA >> SD_PAGE_SHIFT) / ppc + 1) * ppc;

		if (o.guest.resizes || o.guest.window_at_pause)
			return usage_error("--inject guest-bad-count goes without --guest resize, "
					   "window-at-pause or --inject guest-no-window (they write or "
					   "hold the same chunk)");
		if (o.max_passes < 2)
			return usage_error("--inject guest-bad-count needs --passes 2 or more: the "
					   "guest breaks its table in pre-copy pass 1");
		/* (RAM under the lanes' start is refused later, with the demo's other limits.) */
		if (ram_pages > (DEMO_WORK_GPA >> SD_PAGE_SHIFT) && demo_lane_first(ram_pages, 1) < end)
			return usage_error("--inject guest-bad-count: with --ppc %llu the table's chunk "
					   "holds vCPU 1's pages too; give a smaller --ppc or more --ram",
					   (unsigned long long)ppc);
	}
	rc = load_ids(&k, &o.ids);
	if (rc)
		return rc;
	rc = migrate_with_ids(&k, &o);
	sodium_memzero(&o.ids, sizeof(o.ids));	/* the platform's secret key, last use */
	return rc;
}
