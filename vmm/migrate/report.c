// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * report.c - the migration report (report.h). Every field is described
 * once, in the tables below: its JSON key, its label in the text report,
 * how it prints, and what it means (--help prints that). A run is first
 * flattened into struct flat, then each printer walks the tables.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "report.h"
#include "stream.h"

/* How a field prints. Absent values (a downtime never reached) print as null / "not reached". */
enum kind {
	K_U64,
	K_BOOL,
	K_STR,
	K_ERR,		/* an SD_MIG_ERR_* number: its name, or null / "none" */
	K_MS,		/* double milliseconds; NAN when not reached */
	K_BYTES,	/* JSON: bytes; text: MiB and the ratio to guest RAM */
	K_GFN,		/* JSON: number or null; text: hex or "none" */
	K_NUM,		/* a double, one decimal */
};

struct field {
	const char *key;	/* JSON */
	const char *label;	/* text */
	enum kind kind;
	size_t off;		/* in struct flat (or struct sd_mig_pass for the pass table) */
	const char *help;
};

#define NONE	(~0ULL)

/* One run, flattened: what every field below reads. */
struct flat {
	u64 seed;
	const char *design;
	const char *result;
	u64 err;
	const char *message;
	u64 mismatches, passes, pages_plain, pages_encrypted, pages_transition;
	u64 resent_for_status, rereads, stale_reads, bytes_sent, ram_bytes;
	double total_ms, downtime_ms, handover_ms;
	u64 max_downtime_ms, throttle_pct, throttle_steps, expected_pages;
	double expected_downtime_ms, bandwidth_mib_s;
	double changes_per_s_idle, changes_per_s, vmm_cpu_ms;
	u64 exits, regions, peak_regions, heap_bytes, peak_rss_bytes, changed_pages;
	/* source */
	bool s_paused, s_committed, s_resumed, s_verified;
	u64 s_pages, s_bad_content, s_bad_state, s_conversions, s_rewrites, s_resizes, s_regs;
	/* destination */
	bool d_report, d_resumed, d_verified;
	u64 d_err;
	const char *d_message;
	u64 d_records, d_plain, d_encrypted, d_transition, d_never, d_in_flight, d_first_gfn;
	u64 d_pages, d_bad_content, d_bad_state;
};

#define F(key, label, kind, member, help) { key, label, kind, offsetof(struct flat, member), help }

static const struct field top[] = {
	F("seed", "seed", K_U64, seed, "the demo guest's random seed"),
	F("design", "design", K_STR, design, "table (this protocol) or exit (an exit per page-state "
	  "change, AMD's QEMU region list: --design)"),
	F("result", "result", K_STR, result, "migrated, or failed (the guest then runs on the "
	  "source)"),
	F("error", "error", K_ERR, err, "why it failed: an SD_MIG_ERR_* name (docs/STREAM.md 6)"),
	F("message", "message", K_STR, message, "where and how it failed, in one line"),
	F("mismatches", "mismatches", K_U64, mismatches, "pages the destination received in a "
	  "mode the guest's own ledger contradicts (must be 0)"),
	F("passes", "passes", K_U64, passes, "pre-copy passes plus the final pass"),
	F("pages_plain", "pages plain", K_U64, pages_plain, "pages sent in plaintext: shared"),
	F("pages_encrypted", "encrypted", K_U64, pages_encrypted, "pages sent through the SEV "
	  "stand-in: private"),
	F("pages_transition", "in transition", K_U64, pages_transition, "pages inside an open "
	  "update window at the pause, sent encrypted and marked so (SPEC.md 3.4)"),
	F("resent_for_status", "resent for a state change", K_U64, resent_for_status, "pages "
	  "sent again because their state changed, found from the chunk counts"),
	F("rereads", "full re-reads", K_U64, rereads, "full reads of the table after the guest "
	  "re-registered (SPEC.md 5.6)"),
	F("stale_reads", "stale reads discarded", K_U64, stale_reads, "reads thrown away "
	  "because the registration changed while they ran"),
	F("bytes_sent", "sent", K_BYTES, bytes_sent, "stream bytes sent (text: MiB, and as a "
	  "multiple of guest RAM)"),
	F("total_ms", "total", K_MS, total_ms, "from connecting to the end, milliseconds"),
	F("downtime_ms", "downtime", K_MS, downtime_ms, "from the source's pause to the guest "
	  "running on the destination (null: not reached)"),
	F("handover_ms", "paused until COMMIT", K_MS, handover_ms, "from the pause to COMMIT "
	  "sent: the source's own bound on downtime (null: not reached)"),
	F("max_downtime_ms", "downtime limit ms", K_U64, max_downtime_ms, "--max-downtime: the "
	  "final pass starts only when what is dirty fits it at the measured bandwidth"),
	F("throttle_pct", "throttle reached %", K_U64, throttle_pct, "the highest vCPU throttle "
	  "pre-copy used to converge (0: none; QEMU's auto-converge steps: 20, +10, up to 99)"),
	F("throttle_steps", "throttle steps", K_U64, throttle_steps, "times the throttle was "
	  "raised"),
	F("bandwidth_mib_s", "measured bandwidth MiB/s", K_NUM, bandwidth_mib_s, "the last "
	  "pre-copy pass's send rate (passes of at least 1 MiB)"),
	F("expected_pages", "dirty at the pause", K_U64, expected_pages, "pages dirty when the "
	  "source decided (or gave up)"),
	F("expected_downtime_ms", "expected downtime", K_MS, expected_downtime_ms, "what the "
	  "source expected the final pass to take: those pages at the bandwidth, plus a table "
	  "read"),
	F("changes_per_s_idle", "guest changes/s idle", K_NUM, changes_per_s_idle, "page-state "
	  "changes per second the guest made in the warm-up, before the migration"),
	F("changes_per_s", "during migration", K_NUM, changes_per_s, "the same from the "
	  "migration's start to the pause"),
	F("changed_pages", "changes before the pause", K_U64, changed_pages, "pages whose state "
	  "the guest changed, from boot to the pause"),
	F("exits", "change exits", K_U64, exits, "design exit: change reports the VMM handled"),
	F("regions", "shared regions", K_U64, regions, "shared regions at the pause (design exit: "
	  "the list's nodes; table: runs in the table)"),
	F("peak_regions", "peak regions", K_U64, peak_regions, "the most nodes the list held "
	  "(table: as regions)"),
	F("vmm_cpu_ms", "VMM CPU", K_MS, vmm_cpu_ms, "the source's migration thread's CPU time, "
	  "plus the exit handler's on the vCPU threads"),
	F("heap_bytes", "VMM heap bytes", K_U64, heap_bytes, "the source VMM's heap in use at the "
	  "pause (mallinfo2)"),
	F("peak_rss_bytes", "VMM peak RSS bytes", K_U64, peak_rss_bytes, "the source process's "
	  "peak RSS, guest RAM included"),
};

static const struct field source[] = {
	F("paused", "paused", K_BOOL, s_paused, "the source paused the vCPUs for the final pass"),
	F("committed", "committed", K_BOOL, s_committed, "the source sent COMMIT: the guest is "
	  "the destination's"),
	F("resumed", "resumed", K_BOOL, s_resumed, "the migration failed and the guest went on "
	  "on the source"),
	F("verified", "checked", K_BOOL, s_verified, "after a failure, the guest checked every "
	  "page it owns on the source"),
	F("pages_checked", "pages checked", K_U64, s_pages, "pages the guest checked"),
	F("bad_content", "bad content", K_U64, s_bad_content, "pages whose bytes were wrong "
	  "(must be 0)"),
	F("bad_state", "bad state", K_U64, s_bad_state, "pages whose table state disagreed "
	  "with the ledger (must be 0)"),
	F("conversions", "conversions", K_U64, s_conversions, "page-state changes the guest made "
	  "before the handover"),
	F("rewrites", "rewrites", K_U64, s_rewrites, "page rewrites before the handover"),
	F("resizes", "table moves", K_U64, s_resizes, "times the guest moved its table"),
	F("registrations", "registrations", K_U64, s_regs, "successful registrations by the "
	  "guest"),
};

static const struct field dest[] = {
	F("report", "reported", K_BOOL, d_report, "the destination's report arrived"),
	F("error", "error", K_ERR, d_err, "the destination's error, if any"),
	F("message", "message", K_STR, d_message, "its message"),
	F("records", "records", K_U64, d_records, "records it verified"),
	F("pages_plain", "pages plain", K_U64, d_plain, "pages it received in plaintext"),
	F("pages_encrypted", "encrypted", K_U64, d_encrypted, "pages it received through the "
	  "stand-in"),
	F("pages_transition", "in transition", K_U64, d_transition, "pages it received marked "
	  "in transition"),
	F("never_received", "never received", K_U64, d_never, "RAM pages that never arrived "
	  "(must be 0)"),
	F("in_flight_pages", "in flight at the pause", K_U64, d_in_flight, "pages inside a "
	  "conversion at the pause: either mode is right"),
	F("first_mismatch_gfn", "first mismatch", K_GFN, d_first_gfn, "the first page received "
	  "in the wrong mode (null: none)"),
	F("resumed", "resumed", K_BOOL, d_resumed, "it ran the guest after COMMIT"),
	F("verified", "checked", K_BOOL, d_verified, "the guest checked every page it owns "
	  "there"),
	F("pages_checked", "pages checked", K_U64, d_pages, "pages the guest checked"),
	F("bad_content", "bad content", K_U64, d_bad_content, "pages whose bytes were wrong "
	  "(must be 0)"),
	F("bad_state", "bad state", K_U64, d_bad_state, "pages whose table state disagreed with "
	  "the ledger (must be 0)"),
};
#undef F

#define P(key, label, kind, member, help) { key, label, kind, offsetof(struct sd_mig_pass, member), help }
static const struct field pass[] = {
	P("plain", "plain", K_U64, plain, "pages sent in plaintext in this pass"),
	P("encrypted", "encrypted", K_U64, encrypted, "pages sent through the stand-in"),
	P("transition", "transit", K_U64, transition, "pages sent in transition (final pass)"),
	P("dirty", "dirty", K_U64, dirty, "pages KVM's dirty log reported"),
	P("status_changes", "status", K_U64, status_changes, "pages host/ reported with a "
	  "changed state"),
	P("unsettled", "unsettled", K_U64, unsettled, "pages of chunks that did not settle "
	  "(sent encrypted, read again)"),
	P("rereads", "rereads", K_U64, rereads, "full re-reads of the table in this pass"),
	P("throttle", "throttle%", K_U64, throttle, "the vCPU throttle during the pass, percent"),
	P("read_ms", "read ms", K_MS, read_ms, "the dirty log and the table read"),
	P("ms", "ms", K_MS, ms, "the pass's time"),
};
#undef P

static void flatten(const struct mig_run *m, struct flat *f)
{
	const struct sd_mig_source_report *sr = m->sr;
	const struct sd_mig_dest_report *dr = m->dr;

	memset(f, 0, sizeof(*f));
	f->seed = m->seed;
	f->result = m->rc ? "failed" : "migrated";
	f->err = m->rc ? (u64)sr->err : 0;
	f->message = sr->msg;
	f->passes = sr->passes;
	f->pages_plain = sr->pages_plain;
	f->pages_encrypted = sr->pages_encrypted;
	f->pages_transition = sr->pages_transition;
	f->resent_for_status = sr->resent_for_status;
	f->rereads = sr->rereads;
	f->stale_reads = sr->stale_reads;
	f->bytes_sent = sr->bytes_sent;
	f->ram_bytes = m->ram_bytes;
	f->total_ms = sr->connected ? sr->total_ms : NAN;
	f->handover_ms = sr->committed ? sr->handover_ms : NAN;
	f->design = m->design ? "exit" : "table";
	f->changes_per_s_idle = sr->changes_per_s_idle;
	f->changes_per_s = sr->changes_per_s;
	f->changed_pages = sr->before.changed_pages;
	f->exits = sr->exits;
	f->regions = sr->regions;
	f->peak_regions = sr->peak_regions;
	f->vmm_cpu_ms = sr->vmm_cpu_ms;
	f->heap_bytes = sr->heap_bytes;
	f->peak_rss_bytes = sr->peak_rss_bytes;
	f->max_downtime_ms = sr->max_downtime_ms;
	f->throttle_pct = sr->throttle_pct;
	f->throttle_steps = sr->throttle_steps;
	f->bandwidth_mib_s = sr->bandwidth_mib_s;
	f->expected_pages = sr->expected_pages;
	f->expected_downtime_ms = sr->passes > 1 && sr->expected_downtime_ms < 1e29 ?
				  sr->expected_downtime_ms : NAN;
	f->downtime_ms = dr && dr->resumed && sr->paused ? dr->resume_mono_ms - sr->pause_mono_ms
							  : NAN;
	f->s_paused = sr->paused;
	f->s_committed = sr->committed;
	f->s_resumed = sr->resumed;
	f->s_verified = sr->check.verified;
	f->s_pages = sr->check.pages;
	f->s_bad_content = sr->check.bad_content;
	f->s_bad_state = sr->check.bad_state;
	f->s_conversions = sr->before.conversions ? sr->before.conversions : sr->check.conversions;
	f->s_rewrites = sr->before.rewrites ? sr->before.rewrites : sr->check.rewrites;
	f->s_resizes = SD_MAX(sr->before.resizes, sr->check.resizes);
	f->s_regs = SD_MAX(sr->before.registrations, sr->check.registrations);
	f->d_first_gfn = NONE;
	f->d_message = "";
	if (!dr)
		return;
	f->mismatches = dr->oracle.mismatches;
	f->d_report = m->have_dest;
	f->d_err = (u64)dr->err;
	f->d_message = dr->msg;
	f->d_records = dr->records;
	f->d_plain = dr->pages_plain;
	f->d_encrypted = dr->pages_encrypted;
	f->d_transition = dr->pages_transition;
	f->d_never = dr->oracle.never_received;
	f->d_in_flight = dr->oracle.in_flight;
	f->d_first_gfn = dr->oracle.mismatches ? dr->oracle.first_mismatch_gfn : NONE;
	f->d_resumed = dr->resumed;
	f->d_verified = dr->check.verified;
	f->d_pages = dr->check.pages;
	f->d_bad_content = dr->check.bad_content;
	f->d_bad_state = dr->check.bad_state;
}

typedef const char *cstr;
#define AT(base, f, type)	(*(const type *)((const char *)(base) + (f)->off))

void mig_json_str(const char *s)
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

static void json_value(const struct field *f, const void *base)
{
	switch (f->kind) {
	case K_U64:
	case K_BYTES:
		printf("%llu", (unsigned long long)AT(base, f, u64));
		break;
	case K_GFN:
		if (AT(base, f, u64) == NONE)
			printf("null");
		else
			printf("%llu", (unsigned long long)AT(base, f, u64));
		break;
	case K_BOOL:
		printf(AT(base, f, bool) ? "true" : "false");
		break;
	case K_STR:
		mig_json_str(AT(base, f, cstr));
		break;
	case K_ERR:
		if (AT(base, f, u64))
			mig_json_str(sd_mig_err_name((int)AT(base, f, u64)));
		else
			printf("null");
		break;
	case K_MS:
		if (isnan(AT(base, f, double)))
			printf("null");
		else
			printf("%.3f", AT(base, f, double));
		break;
	case K_NUM:
		printf("%.1f", AT(base, f, double));
		break;
	}
}

static void json_fields(const struct field *t, size_t n, const void *base)
{
	for (size_t i = 0; i < n; i++) {
		printf("%s\"%s\": ", i ? ", " : "", t[i].key);
		json_value(&t[i], base);
	}
}

void mig_report_json(const struct mig_run *m, bool last)
{
	struct flat f;

	flatten(m, &f);
	putchar('{');
	json_fields(top, SD_ARRAY_SIZE(top), &f);
	printf(", \"pass\": [");
	for (u32 i = 0; i < m->sr->passes; i++) {
		printf("%s{", i ? ", " : "");
		json_fields(pass, SD_ARRAY_SIZE(pass), &m->sr->pass[i]);
		putchar('}');
	}
	printf("], \"source\": {");
	json_fields(source, SD_ARRAY_SIZE(source), &f);
	printf("}, \"destination\": {");
	json_fields(dest, SD_ARRAY_SIZE(dest), &f);
	printf("}}%s\n", last ? "" : ",");
}

static void text_value(FILE *o, const struct field *f, const void *base, u64 ram_bytes)
{
	switch (f->kind) {
	case K_U64:
		fprintf(o, "%llu", (unsigned long long)AT(base, f, u64));
		break;
	case K_BYTES: {
		u64 b = AT(base, f, u64);

		fprintf(o, "%.1f MiB", (double)b / (1 << 20));
		if (ram_bytes)
			fprintf(o, " (%.2fx guest RAM)", (double)b / (double)ram_bytes);
		break;
	}
	case K_GFN:
		if (AT(base, f, u64) == NONE)
			fprintf(o, "none");
		else
			fprintf(o, "%#llx", (unsigned long long)AT(base, f, u64));
		break;
	case K_BOOL:
		fprintf(o, AT(base, f, bool) ? "yes" : "no");
		break;
	case K_STR:
		fprintf(o, "%s", AT(base, f, cstr));
		break;
	case K_ERR:
		fprintf(o, "%s", AT(base, f, u64) ? sd_mig_err_name((int)AT(base, f, u64)) : "none");
		break;
	case K_MS:
		if (isnan(AT(base, f, double)))
			fprintf(o, "not reached");
		else
			fprintf(o, "%.1f ms", AT(base, f, double));
		break;
	case K_NUM:
		fprintf(o, "%.1f", AT(base, f, double));
		break;
	}
}

/* "label value, label value, ..." for fields [from, to) of @t, wrapped at 100 columns. */
static void text_fields(FILE *o, const char *head, const struct field *t, size_t from, size_t to,
			const void *base, u64 ram_bytes)
{
	char buf[160];
	int col = fprintf(o, "  %s:", head);

	for (size_t i = from; i < to; i++) {
		FILE *mem = fmemopen(buf, sizeof(buf), "w");
		int n;

		if (!mem)
			return;
		fprintf(mem, " %s ", t[i].label);
		text_value(mem, &t[i], base, ram_bytes);
		fputs(i + 1 < to ? "," : "", mem);
		n = (int)ftell(mem);
		fclose(mem);
		buf[SD_MIN((size_t)n, sizeof(buf) - 1)] = 0;
		if (col + n > 100) {
			col = fprintf(o, "\n   ");
		}
		col += fprintf(o, "%s", buf);
	}
	fputc('\n', o);
}

static size_t field_index(const struct field *t, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].key, key))
			return i;
	return n;
}

void mig_report_text(const struct mig_run *m)
{
	const struct sd_mig_source_report *sr = m->sr;
	size_t passes_at = field_index(top, SD_ARRAY_SIZE(top), "passes");
	struct flat f;

	flatten(m, &f);
	printf("migration (seed %llu): %s\n", (unsigned long long)m->seed, f.result);
	printf("  %-6s", "pass");
	for (size_t c = 0; c < SD_ARRAY_SIZE(pass); c++)
		printf(" %10s", pass[c].label);
	putchar('\n');
	for (u32 i = 0; i < sr->passes; i++) {
		char name[16];

		snprintf(name, sizeof(name), i + 1 == sr->passes && sr->paused ? "final" : "%u", i);
		printf("  %-6s", name);
		for (size_t c = 0; c < SD_ARRAY_SIZE(pass); c++)
			if (pass[c].kind == K_MS)
				printf(" %10.1f", AT(&sr->pass[i], &pass[c], double));
			else
				printf(" %10llu", (unsigned long long)AT(&sr->pass[i], &pass[c], u64));
		putchar('\n');
	}
	text_fields(stdout, "summary", top, passes_at, SD_ARRAY_SIZE(top), &f, m->ram_bytes);
	if (m->rc == 0 && m->dr) {
		printf("  destination: mismatches %llu (%llu pages in flight at the pause, %llu never "
		       "received); guest check: %llu pages, %llu bad content, %llu bad state\n",
		       (unsigned long long)f.mismatches, (unsigned long long)f.d_in_flight,
		       (unsigned long long)f.d_never, (unsigned long long)f.d_pages,
		       (unsigned long long)f.d_bad_content, (unsigned long long)f.d_bad_state);
	}
	printf("  private pages travel through a software stand-in for the SEV firmware "
	       "(XChaCha20-Poly1305;\n  docs/STREAM.md 4.2), not through SEV hardware\n");
	if (m->rc)
		mig_report_failure(m);
}

void mig_report_failure(const struct mig_run *m)
{
	struct flat f;

	flatten(m, &f);
	fflush(stdout);
	fprintf(stderr, "sev-donate migrate: migration failed: %s\n", f.message);
	if (m->dr && (m->dr->err || !m->have_dest) && f.d_message[0])
		fprintf(stderr, "  destination: %s\n", f.d_message);
	text_fields(stderr, "source", source, 0, SD_ARRAY_SIZE(source), &f, 0);
}

void mig_report_dest_json(int rc, const struct sd_mig_dest_report *dr)
{
	printf("{\"result\": \"%s\", \"error\": ", rc ? "failed" : "migrated");
	if (rc)
		mig_json_str(sd_mig_err_name(dr->err));
	else
		printf("null");
	printf(", \"message\": ");
	mig_json_str(dr->msg);
	printf(", \"mismatches\": %llu, \"pages_plain\": %llu, \"pages_encrypted\": %llu, "
	       "\"pages_transition\": %llu, \"pages_checked\": %llu, \"bad_content\": %llu, "
	       "\"bad_state\": %llu, \"records\": %llu, \"never_received\": %llu, \"resumed\": %s, "
	       "\"verified\": %s}\n", (unsigned long long)dr->oracle.mismatches,
	       (unsigned long long)dr->pages_plain, (unsigned long long)dr->pages_encrypted,
	       (unsigned long long)dr->pages_transition, (unsigned long long)dr->check.pages,
	       (unsigned long long)dr->check.bad_content, (unsigned long long)dr->check.bad_state,
	       (unsigned long long)dr->records, (unsigned long long)dr->oracle.never_received,
	       dr->resumed ? "true" : "false", dr->check.verified ? "true" : "false");
}

void mig_report_dest_text(int rc, const struct sd_mig_dest_report *dr)
{
	printf("destination: %s; mismatches %llu; guest check: %llu pages, %llu bad content, %llu "
	       "bad state\n", rc ? "FAILED" : "migrated", (unsigned long long)dr->oracle.mismatches,
	       (unsigned long long)dr->check.pages, (unsigned long long)dr->check.bad_content,
	       (unsigned long long)dr->check.bad_state);
}

static void help_table(FILE *o, const char *head, const struct field *t, size_t n)
{
	fprintf(o, "  %s\n", head);
	for (size_t i = 0; i < n; i++)
		fprintf(o, "    %-20s %s\n", t[i].key, t[i].help);
}

void mig_report_help(FILE *o)
{
	fprintf(o, "The report (text; --json gives the same fields under these keys):\n");
	help_table(o, "summary", top, SD_ARRAY_SIZE(top));
	help_table(o, "per pass (\"pass\": [...]; the text table's columns)", pass,
		   SD_ARRAY_SIZE(pass));
	help_table(o, "the source (\"source\": {...})", source, SD_ARRAY_SIZE(source));
	help_table(o, "the destination (\"destination\": {...})", dest, SD_ARRAY_SIZE(dest));
}

bool mig_run_ok(const struct mig_run *m)
{
	const struct sd_mig_dest_report *dr = m->dr;

	return m->rc == 0 && dr && dr->oracle.mismatches == 0 && dr->check.verified &&
	       dr->check.bad_content == 0 && dr->check.bad_state == 0;
}
