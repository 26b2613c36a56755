// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * crash.c - a side of a migration that dies on purpose (--inject
 * crash=ROLE:POINT): it raises SIGKILL at one chosen record or step of the
 * hand-over, as a host that loses power there would, with no chance to
 * say anything to its peer. The points, in stream order (docs/STREAM.md):
 *
 *   rec=N          record N (its seq): the source before it sends it, the
 *                  destination once it has taken it
 *   pass=N         the PASS record of pre-copy pass N (N >= 1)
 *   final          the final PASS (the source has paused the vCPUs)
 *   registration   the REGISTRATION record
 *   vcpu           the first VCPU record
 *   end            END (the destination: verified, not yet re-validated)
 *   result         the source: an accepting RESULT read, COMMIT not sent;
 *                  the destination: everything accepted, RESULT not sent
 *   commit         the source: COMMIT sent; the destination: COMMIT read,
 *                  the guest not started
 *   commit-unread  the destination only: COMMIT has arrived in its socket
 *                  and is not read (what a crash right after COMMIT was
 *                  sent looks like to the source)
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate.h"
#include "stream.h"
#include "stream_wire.h"

static const char *const point_names[] = {
	[SD_CRASH_REC] = "rec", [SD_CRASH_PASS] = "pass", [SD_CRASH_FINAL] = "final",
	[SD_CRASH_REGISTRATION] = "registration", [SD_CRASH_VCPU] = "vcpu",
	[SD_CRASH_END] = "end", [SD_CRASH_RESULT] = "result", [SD_CRASH_COMMIT] = "commit",
	[SD_CRASH_COMMIT_UNREAD] = "commit-unread",
};

bool sd_mig_crash_parse(struct sd_mig_faults *f, const char *s)
{
	struct sd_mig_crash c = { 0 };
	const char *p;

	if (!strncmp(s, "source:", 7)) {
		p = s + 7;
	} else if (!strncmp(s, "dest:", 5)) {
		c.dest = true;
		p = s + 5;
	} else {
		return false;
	}
	for (u32 i = 1; i < SD_ARRAY_SIZE(point_names); i++) {
		size_t len = strlen(point_names[i]);
		char *end;

		if (strncmp(p, point_names[i], len))
			continue;
		if (i == SD_CRASH_REC || i == SD_CRASH_PASS) {
			if (p[len] != '=' || p[len + 1] < '0' || p[len + 1] > '9')
				return false;
			c.n = strtoull(p + len + 1, &end, 10);
			if (*end || c.n == 0)
				return false;
		} else if (p[len]) {
			continue;	/* "commit" is a prefix of "commit-unread" */
		}
		if (i == SD_CRASH_COMMIT_UNREAD && !c.dest)
			return false;
		c.point = (u8)i;
		f->crash = c;
		return true;
	}
	return false;
}

static void crash_if(const struct sd_mig_faults *f, bool dest, u32 point, u64 n)
{
	const struct sd_mig_crash *c = &f->crash;

	if (c->point == point && c->dest == dest && c->n == n)
		raise(SIGKILL);
}

/* A record, as the source is about to send it or the destination has taken it. */
static void crash_record(const struct sd_mig_faults *f, bool dest, u16 type, u64 seq, u32 pass,
			 bool final, u32 vcpu)
{
	if (!f->crash.point)
		return;
	crash_if(f, dest, SD_CRASH_REC, seq);
	if (type == SD_REC_PASS)
		crash_if(f, dest, final ? SD_CRASH_FINAL : SD_CRASH_PASS, final ? 0 : pass);
	else if (type == SD_REC_REGISTRATION)
		crash_if(f, dest, SD_CRASH_REGISTRATION, 0);
	else if (type == SD_REC_VCPU && vcpu == 0)
		crash_if(f, dest, SD_CRASH_VCPU, 0);
	else if (type == SD_REC_END)
		crash_if(f, dest, SD_CRASH_END, 0);
}

void sd_mig_crash_send(const struct sd_mig_faults *f, const void *rec, size_t len)
{
	struct sd_rec_hdr h;
	struct sd_rec_pass p = { 0 };
	struct sd_rec_vcpu v = { 0 };

	if (!f->crash.point || len < sizeof(h))
		return;
	memcpy(&h, rec, sizeof(h));
	if (h.type == SD_REC_PASS && len >= sizeof(h) + sizeof(p))
		memcpy(&p, (const u8 *)rec + sizeof(h), sizeof(p));
	if (h.type == SD_REC_VCPU && len >= sizeof(h) + sizeof(v))
		memcpy(&v, (const u8 *)rec + sizeof(h), sizeof(v));
	crash_record(f, false, h.type, h.seq, p.pass, p.final, v.index);
}

void sd_mig_crash_recv(const struct sd_mig_faults *f, const struct sd_mig_rec *rec)
{
	crash_record(f, true, rec->type, rec->seq, rec->type == SD_REC_PASS ? rec->pass.pass : 0,
		     rec->type == SD_REC_PASS && rec->pass.final,
		     rec->type == SD_REC_VCPU ? rec->vcpu.index : 0);
}

void sd_mig_crash_step(const struct sd_mig_faults *f, bool dest, enum sd_mig_crash_point point)
{
	crash_if(f, dest, point, 0);
}

void sd_mig_crash_commit_unread(const struct sd_mig_faults *f, int fd, u32 timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (f->crash.point != SD_CRASH_COMMIT_UNREAD || !f->crash.dest)
		return;
	/* Until COMMIT is in our socket (or --timeout): then die without reading it. */
	poll(&p, 1, (int)timeout_ms);
	raise(SIGKILL);
}
