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
#include "migrate.h"
#include "stream.h"
#include "transport.h"
#include "sd_kvm.h"

/* The destination guest's check of every page, after --after: generous, never unbounded. */
#define DEMO_VERIFY_MS	60000
/* A source's passes and its guest's check, beyond what --timeout bounds. */
#define DEMO_SOURCE_MS	600000

int sd_cli_migrate(int argc, char **argv);

static const char usage[] =
	"usage: sev-donate migrate --demo [options]\n"
	"       sev-donate migrate --source --connect ADDR [options]\n"
	"       sev-donate migrate --dest --listen ADDR [--ram SIZE] [options]\n"
	"\n"
	"Live-migrate the demo guest: two vCPUs that keep an encryption-status table\n"
	"and churn page states and contents while the VMM migrates them, pass by pass,\n"
	"sending shared pages in plaintext and private pages through the SEV stand-in.\n"
	"The destination checks every page's mode against the guest's own ledger, then\n"
	"the guest checks every page's content. Needs /dev/kvm.\n"
	"\n"
	"  --demo            run a source and a destination here, over a Unix socket\n"
	"  --source          be the source: boot the guest, then migrate it to --connect\n"
	"  --dest            be the destination: accept one migration on --listen\n"
	"  --connect ADDR    unix:PATH or HOST:PORT\n"
	"  --listen ADDR     unix:PATH or [HOST:]PORT\n"
	"  --ram SIZE        guest RAM (source), most RAM accepted (destination); default 256M\n"
	"  --dest-ram SIZE   demo: the destination's RAM (default: --ram)\n"
	"  --ppc N           table pages per chunk (default 1024)\n"
	"  --seed N          the guest's random seed (default 1)\n"
	"  --runs N          demo: migrate N times, seeds N, N+1, ... (default 1)\n"
	"  --passes N        pre-copy passes at most (default 8)\n"
	"  --warmup MS       churn before migrating (default 300)\n"
	"  --after MS        churn on the destination before the guest checks itself (default 300)\n"
	"  --inject FAULT    cut=BYTES, corrupt=BYTE, table, wrong-mode, dest-die=RECORDS,\n"
	"                    guest-span-beyond-ram (a hostile guest: its table spans 2x RAM),\n"
	"                    no-transport (the VMM offers no transport: the guest cannot register)\n"
	"  --timeout MS      deadline for each send and receive (default 10000)\n"
	"  --json            print the summary as JSON\n"
	"  --quiet           no progress lines\n"
	"\n"
	"Exit status: 0 migrated with mismatches=0 and a clean check; 1 the migration\n"
	"failed (the guest went on on the source) or the oracle found a mismatch;\n"
	"2 usage error or /dev/kvm missing.\n";

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

static bool parse_size(const char *s, u64 *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	u64 mul = 1;

	switch (*end) {
	case 'K': case 'k': mul = 1ULL << 10; end++; break;
	case 'M': case 'm': mul = 1ULL << 20; end++; break;
	case 'G': case 'g': mul = 1ULL << 30; end++; break;
	}
	if (end == s || *end || (mul > 1 && v > ~0ULL / mul))
		return false;
	*out = v * mul;
	return true;
}

static bool parse_u64(const char *s, u64 *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return end != s && !*end && !errno;
}

static bool parse_inject(struct sd_mig_opts *o, const char *s)
{
	u64 v;

	if (!strcmp(s, "table"))
		o->inj_table = true;
	else if (!strcmp(s, "wrong-mode"))
		o->inj_wrong_mode = true;
	else if (!strncmp(s, "cut=", 4) && parse_u64(s + 4, &v))
		o->inj_cut = (s64)v;
	else if (!strncmp(s, "corrupt=", 8) && parse_u64(s + 8, &v))
		o->inj_corrupt = (s64)v;
	else if (!strncmp(s, "dest-die=", 9) && parse_u64(s + 9, &v))
		o->inj_dest_die = (s64)v;
	else if (!strcmp(s, "guest-span-beyond-ram"))
		o->inj_beyond = true;
	else if (!strcmp(s, "no-transport"))
		o->inj_no_transport = true;
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
 * stopped at once (it would wait in accept until --timeout), reaped, and the
 * source's error is what the run reports.
 */
static int demo_run(const struct sd_mig_opts *o, u64 dest_ram, struct sd_mig_source_report *sr,
		    struct sd_mig_dest_report *dr, bool *have_dest)
{
	char dir[] = "/tmp/sd-migrate-XXXXXX", addr[64];
	struct sd_mig_opts so = *o, dopt = *o;
	/* The destination's own work after COMMIT: --after, then the guest's check. */
	u32 dest_ms = o->timeout_ms * 2 + o->after_ms + DEMO_VERIFY_MS;
	/* The source's: warm-up, the passes (each transfer under --timeout), the check. */
	u32 src_ms = o->warmup_ms + o->after_ms + o->timeout_ms * 4 + DEMO_SOURCE_MS;
	struct child dc, sc;
	int rdy[2], status;
	bool killed, ready, have_src;
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
	dopt.verbose = false;
	so.connect = addr;
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

static double downtime_ms(const struct sd_mig_source_report *sr, const struct sd_mig_dest_report *dr)
{
	return dr->resumed && sr->paused ? dr->resume_mono_ms - sr->pause_mono_ms : -1;
}

/* A failed run, on stderr: the source's error, the destination's, where the guest is. */
static void print_failure(const struct sd_mig_source_report *sr,
			  const struct sd_mig_dest_report *dr, bool have_dest)
{
	fflush(stdout);
	fprintf(stderr, "sev-donate migrate: migration failed: %s\n", sr->msg);
	if (have_dest && dr->err)
		fprintf(stderr, "  destination: %s\n", dr->msg);
	else if (!have_dest && dr->msg[0])
		fprintf(stderr, "  destination: %s\n", dr->msg);
	fprintf(stderr, "  source: guest %s; its check: %llu pages, %llu bad content, %llu bad "
		"state\n", sr->resumed ? "resumed" : "NOT resumed",
		(unsigned long long)sr->pages_checked, (unsigned long long)sr->bad_content,
		(unsigned long long)sr->bad_state);
}

static void print_human(u64 seed, int rc, const struct sd_mig_source_report *sr,
			const struct sd_mig_dest_report *dr, bool have_dest)
{
	printf("migration (seed %llu): %s\n", (unsigned long long)seed,
	       rc == 0 ? "migrated" : "FAILED");
	printf("  %-6s %9s %9s %9s %9s %9s %9s %9s\n", "pass", "plain", "encrypted", "transit",
	       "dirty", "status", "unsettled", "ms");
	for (u32 i = 0; i < sr->passes; i++) {
		const struct sd_mig_pass *p = &sr->pass[i];
		char name[16];

		if (i + 1 == sr->passes && sr->paused)
			snprintf(name, sizeof(name), "final");
		else
			snprintf(name, sizeof(name), "%u", i);
		printf("  %-6s %9llu %9llu %9llu %9llu %9llu %9llu %9.1f\n", name,
		       (unsigned long long)p->plain, (unsigned long long)p->encrypted,
		       (unsigned long long)p->transition, (unsigned long long)p->dirty,
		       (unsigned long long)p->status_changes, (unsigned long long)p->unsettled, p->ms);
	}
	printf("  passes=%u pages=%llu (plain %llu, encrypted %llu, transition %llu) "
	       "resent_for_status=%llu bytes=%llu total=%.1f ms downtime=%.1f ms "
	       "(paused until COMMIT: %.1f ms)\n",
	       sr->passes, (unsigned long long)(sr->pages_plain + sr->pages_encrypted +
						sr->pages_transition),
	       (unsigned long long)sr->pages_plain, (unsigned long long)sr->pages_encrypted,
	       (unsigned long long)sr->pages_transition, (unsigned long long)sr->resent_for_status,
	       (unsigned long long)sr->bytes_sent, sr->total_ms, downtime_ms(sr, dr),
	       sr->committed ? sr->handover_ms : -1.0);
	if (rc == 0) {
		printf("  destination: mismatches=%llu (%llu pages in flight at the pause, %llu never "
		       "received); guest check: %llu pages, %llu bad content, %llu bad state\n",
		       (unsigned long long)dr->mismatches, (unsigned long long)dr->in_flight_pages,
		       (unsigned long long)dr->never_received, (unsigned long long)dr->pages_checked,
		       (unsigned long long)dr->bad_content, (unsigned long long)dr->bad_state);
	} else {
		print_failure(sr, dr, have_dest);
	}
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(u64 seed, int rc, const struct sd_mig_source_report *sr,
		       const struct sd_mig_dest_report *dr, bool have_dest, bool last)
{
	printf("{\"seed\": %llu, \"result\": \"%s\", \"error\": ", (unsigned long long)seed,
	       rc == 0 ? "migrated" : "failed");
	if (rc)
		json_str(sd_mig_err_name(sr->err));
	else
		printf("null");
	printf(", \"message\": ");
	json_str(sr->msg);
	printf(", \"mismatches\": %llu, \"passes\": %u, \"pages_plain\": %llu, "
	       "\"pages_encrypted\": %llu, \"pages_transition\": %llu, \"resent_for_status\": %llu, "
	       "\"bytes_sent\": %llu, \"total_ms\": %.3f, \"downtime_ms\": %.3f, "
	       "\"handover_ms\": %.3f, \"pass\": [",
	       (unsigned long long)dr->mismatches, sr->passes, (unsigned long long)sr->pages_plain,
	       (unsigned long long)sr->pages_encrypted, (unsigned long long)sr->pages_transition,
	       (unsigned long long)sr->resent_for_status, (unsigned long long)sr->bytes_sent,
	       sr->total_ms, downtime_ms(sr, dr), sr->committed ? sr->handover_ms : -1.0);
	for (u32 i = 0; i < sr->passes; i++) {
		const struct sd_mig_pass *p = &sr->pass[i];

		printf("%s{\"plain\": %llu, \"encrypted\": %llu, \"transition\": %llu, \"dirty\": %llu, "
		       "\"status_changes\": %llu, \"unsettled\": %llu, \"ms\": %.3f}", i ? ", " : "",
		       (unsigned long long)p->plain, (unsigned long long)p->encrypted,
		       (unsigned long long)p->transition, (unsigned long long)p->dirty,
		       (unsigned long long)p->status_changes, (unsigned long long)p->unsettled, p->ms);
	}
	printf("], \"source\": {\"paused\": %s, \"committed\": %s, \"resumed\": %s, \"verified\": %s, "
	       "\"pages_checked\": %llu, \"bad_content\": %llu, \"bad_state\": %llu, "
	       "\"conversions\": %llu, \"rewrites\": %llu}",
	       sr->paused ? "true" : "false", sr->committed ? "true" : "false",
	       sr->resumed ? "true" : "false", sr->verified ? "true" : "false",
	       (unsigned long long)sr->pages_checked, (unsigned long long)sr->bad_content,
	       (unsigned long long)sr->bad_state, (unsigned long long)sr->conversions,
	       (unsigned long long)sr->rewrites);
	printf(", \"destination\": {\"report\": %s, \"error\": ", have_dest ? "true" : "false");
	if (dr->err)
		json_str(sd_mig_err_name(dr->err));
	else
		printf("null");
	printf(", \"message\": ");
	json_str(dr->msg);
	printf(", \"records\": %llu, \"pages_plain\": %llu, \"pages_encrypted\": %llu, "
	       "\"pages_transition\": %llu, \"never_received\": %llu, \"in_flight_pages\": %llu, "
	       "\"first_mismatch_gfn\": %lld, \"resumed\": %s, \"verified\": %s, "
	       "\"pages_checked\": %llu, \"bad_content\": %llu, \"bad_state\": %llu}}%s\n",
	       (unsigned long long)dr->records, (unsigned long long)dr->pages_plain,
	       (unsigned long long)dr->pages_encrypted, (unsigned long long)dr->pages_transition,
	       (unsigned long long)dr->never_received, (unsigned long long)dr->in_flight_pages,
	       dr->mismatches ? (long long)dr->first_mismatch_gfn : -1LL,
	       dr->resumed ? "true" : "false", dr->verified ? "true" : "false",
	       (unsigned long long)dr->pages_checked, (unsigned long long)dr->bad_content,
	       (unsigned long long)dr->bad_state, last ? "" : ",");
}

/* --dest: where a source should connect (port 0 resolved), on stderr for scripts. */
static void print_listening(void *ctx, const char *addr)
{
	(void)ctx;
	fprintf(stderr, "sev-donate migrate: listening on %s\n", addr);
	fflush(stderr);
}

/* Migrated, the oracle agrees on every page, and the guest found every page intact. */
static bool run_ok(int rc, const struct sd_mig_dest_report *dr)
{
	return rc == 0 && dr->mismatches == 0 && dr->verified && dr->bad_content == 0 &&
	       dr->bad_state == 0;
}

int sd_cli_migrate(int argc, char **argv)
{
	enum { O_DEMO = 256, O_SOURCE, O_DEST, O_CONNECT, O_LISTEN, O_RAM, O_DEST_RAM, O_PPC,
	       O_SEED, O_RUNS, O_PASSES, O_WARMUP, O_AFTER, O_INJECT, O_JSON, O_QUIET, O_HELP,
	       O_TIMEOUT };
	static const struct option opts[] = {
		{ "demo", no_argument, NULL, O_DEMO }, { "source", no_argument, NULL, O_SOURCE },
		{ "dest", no_argument, NULL, O_DEST }, { "connect", required_argument, NULL, O_CONNECT },
		{ "listen", required_argument, NULL, O_LISTEN }, { "ram", required_argument, NULL, O_RAM },
		{ "dest-ram", required_argument, NULL, O_DEST_RAM },
		{ "ppc", required_argument, NULL, O_PPC }, { "seed", required_argument, NULL, O_SEED },
		{ "runs", required_argument, NULL, O_RUNS },
		{ "passes", required_argument, NULL, O_PASSES },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "after", required_argument, NULL, O_AFTER },
		{ "inject", required_argument, NULL, O_INJECT }, { "json", no_argument, NULL, O_JSON },
		{ "quiet", no_argument, NULL, O_QUIET }, { "help", no_argument, NULL, O_HELP },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	struct sd_mig_opts o;
	int mode = 0, c, failures = 0;
	bool json = false, quiet = false;
	u64 v, dest_ram = 0, runs = 1;

	sd_mig_opts_default(&o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_DEMO: case O_SOURCE: case O_DEST:
			if (mode && mode != c)
				return usage_error("%s: pick one of --demo, --source, --dest", argv[optind - 1]);
			mode = c;
			break;
		case O_CONNECT: o.connect = optarg; break;
		case O_LISTEN: o.listen = optarg; break;
		case O_RAM:
			if (!parse_size(optarg, &o.ram_bytes))
				return usage_error("--ram: bad size '%s'", optarg);
			break;
		case O_DEST_RAM:
			if (!parse_size(optarg, &dest_ram))
				return usage_error("--dest-ram: bad size '%s'", optarg);
			break;
		case O_PPC:
			if (!parse_u64(optarg, &v) || v < SD_MIN_CHUNK_PAGES || v > SD_MAX_CHUNK_PAGES ||
			    (v & (v - 1)))
				return usage_error("--ppc: '%s' is not a power of two in 64..32768", optarg);
			o.ppc = (u32)v;
			break;
		case O_SEED:
			if (!parse_u64(optarg, &o.seed))
				return usage_error("--seed: bad number '%s'", optarg);
			break;
		case O_RUNS:
			if (!parse_u64(optarg, &runs) || runs == 0 || runs > 1000)
				return usage_error("--runs: '%s' is not 1..1000", optarg);
			break;
		case O_PASSES:
			if (!parse_u64(optarg, &v) || v == 0 || v >= SD_MIG_MAX_PASSES)
				return usage_error("--passes: '%s' is not 1..31", optarg);
			o.max_passes = (u32)v;
			break;
		case O_WARMUP:
			if (!parse_u64(optarg, &v) || v > 600000)
				return usage_error("--warmup: bad milliseconds '%s'", optarg);
			o.warmup_ms = (u32)v;
			break;
		case O_AFTER:
			if (!parse_u64(optarg, &v) || v > 600000)
				return usage_error("--after: bad milliseconds '%s'", optarg);
			o.after_ms = (u32)v;
			break;
		case O_INJECT:
			if (!parse_inject(&o, optarg))
				return usage_error("--inject: unknown fault '%s'", optarg);
			break;
		case O_TIMEOUT:
			if (!parse_u64(optarg, &v) || v < 100 || v > 3600000)
				return usage_error("--timeout: '%s' is not 100..3600000 ms", optarg);
			o.timeout_ms = (u32)v;
			break;
		case O_JSON: json = true; break;
		case O_QUIET: quiet = true; break;
		case O_HELP: fputs(usage, stdout); return 0;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!mode)
		return usage_error("%s", "say --demo, --source or --dest");
	if ((mode == O_SOURCE && !o.connect) || (mode == O_DEST && !o.listen))
		return usage_error("%s", mode == O_SOURCE ? "--source needs --connect ADDR"
							  : "--dest needs --listen ADDR");
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
	o.verbose = !json && !quiet;

	if (mode == O_DEST) {
		struct sd_mig_dest_report dr;
		int rc;

		o.on_listening = print_listening;
		rc = sd_mig_run_dest(&o, &dr);
		if (rc)
			fprintf(stderr, "sev-donate migrate: destination failed: %s\n", dr.msg);

		if (json) {
			printf("{\"result\": \"%s\", \"error\": ", rc ? "failed" : "migrated");
			if (rc)
				json_str(sd_mig_err_name(dr.err));
			else
				printf("null");
			printf(", \"mismatches\": %llu, \"pages_plain\": %llu, \"pages_encrypted\": %llu, "
			       "\"pages_transition\": %llu, \"bad_content\": %llu, \"bad_state\": %llu}\n",
			       (unsigned long long)dr.mismatches, (unsigned long long)dr.pages_plain,
			       (unsigned long long)dr.pages_encrypted,
			       (unsigned long long)dr.pages_transition,
			       (unsigned long long)dr.bad_content, (unsigned long long)dr.bad_state);
		} else {
			printf("destination: %s; mismatches=%llu; guest check: %llu pages, %llu bad "
			       "content, %llu bad state\n", rc ? "FAILED" : "migrated",
			       (unsigned long long)dr.mismatches, (unsigned long long)dr.pages_checked,
			       (unsigned long long)dr.bad_content, (unsigned long long)dr.bad_state);
		}
		return rc == 0 && dr.mismatches == 0 && dr.bad_content == 0 && dr.bad_state == 0 ? 0 : 1;
	}
	if (mode == O_SOURCE) {
		struct sd_mig_source_report sr;
		struct sd_mig_dest_report none = { 0 };
		int rc = sd_mig_run_source(&o, &sr);

		if (json)
			print_json(o.seed, rc, &sr, &none, false, true);
		else
			print_human(o.seed, rc, &sr, &none, false);
		if (json && rc)
			print_failure(&sr, &none, false);
		return rc ? 1 : 0;
	}

	if (json && runs > 1)
		printf("[\n");
	for (u64 i = 0; i < runs; i++) {
		static struct sd_mig_source_report sr;
		static struct sd_mig_dest_report dr;
		bool have_dest = false;
		struct sd_mig_opts ro = o;
		int rc;

		ro.seed = o.seed + i;
		rc = demo_run(&ro, dest_ram ? dest_ram : o.ram_bytes, &sr, &dr, &have_dest);
		failures += !run_ok(rc, &dr);
		if (json)
			print_json(ro.seed, rc, &sr, &dr, have_dest, runs == 1 || i + 1 == runs);
		else
			print_human(ro.seed, rc, &sr, &dr, have_dest);
		if (json && rc)
			print_failure(&sr, &dr, have_dest);
		else if (rc == 0 && !run_ok(rc, &dr))
			fprintf(stderr, "sev-donate migrate: seed %llu migrated, but the destination "
				"found %llu mismatches, %llu bad content, %llu bad state pages\n",
				(unsigned long long)ro.seed, (unsigned long long)dr.mismatches,
				(unsigned long long)dr.bad_content, (unsigned long long)dr.bad_state);
	}
	if (json && runs > 1)
		printf("]\n");
	if (!json && runs > 1)
		printf("migrations: %llu runs, %d passed, %d failed\n", (unsigned long long)runs,
		       (int)runs - failures, failures);
	return failures ? 1 : 0;
}
