// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * converge.c - the downtime limit and the vCPU throttle (converge.h).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "converge.h"
#include "sd_kvm.h"
#include "stream.h"

void sd_mig_conv_init(struct sd_mig_conv *c, struct sd_vm *vm, u32 limit_ms, u32 max_passes)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->limit_ms = limit_ms;
	c->max_passes = max_passes;
}

void sd_mig_conv_pass(struct sd_mig_conv *c, u64 bytes, double send_ms, double read_ms)
{
	c->read_ms = read_ms;
	/* A small pass only measures how fast the socket's buffer takes it. */
	if (bytes >= SD_MIG_BW_MIN_BYTES && send_ms > 0)
		c->bw = (double)bytes / send_ms;
}

static void sleep_us(u64 us)
{
	struct timespec t = { .tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &t, &t))
		;
}

static void *throttle_main(void *arg)
{
	struct sd_mig_conv *c = arg;
	const u64 period_us = SD_MIG_THROTTLE_PERIOD_MS * 1000ULL;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		u32 pct = __atomic_load_n(&c->pct, __ATOMIC_RELAXED);

		sleep_us(period_us * (100 - pct) / 100);
		if (!pct)
			continue;
		if (sd_vm_pause_timed(c->vm, SD_MIG_PAUSE_MS)) {
			/* Undone already (the vCPUs run); no more throttling: converge.h. */
			c->failed_pct = pct;
			/* Release: failed_pct is written before the flag says so. */
			__atomic_store_n(&c->pause_failed, 1, __ATOMIC_RELEASE);
			break;
		}
		sleep_us(period_us * pct / 100);
		sd_vm_resume(c->vm);
	}
	return NULL;
}

/* One step harder: 20%, then 10 points more per pass, at most 99%. */
static void throttle_raise(struct sd_mig_conv *c)
{
	u32 pct = c->pct ? SD_MIN(c->pct + SD_MIG_THROTTLE_INCREMENT, (u32)SD_MIG_THROTTLE_MAX)
			 : SD_MIG_THROTTLE_INITIAL;

	if (pct == c->pct)
		return;
	__atomic_store_n(&c->pct, pct, __ATOMIC_RELAXED);
	c->pct_max = SD_MAX(c->pct_max, pct);
	c->steps++;
	if (!c->running) {
		__atomic_store_n(&c->stop, 0, __ATOMIC_RELAXED);
		c->running = pthread_create(&c->thread, NULL, throttle_main, c) == 0;
	}
}

enum sd_mig_conv_next sd_mig_conv_decide(struct sd_mig_conv *c, u32 n, u64 dirty_pages)
{
	/* A record of up to SD_REC_MAX_PAGES pages adds its header and tag: count 64 bytes a page. */
	double per_page = SD_PAGE_SIZE + 64;

	c->est_pages = dirty_pages;
	c->est_ms = c->bw > 0 ? (double)dirty_pages * per_page / c->bw + c->read_ms : 1e30;
	/* The handover (vCPU state, END, RESULT, COMMIT, the destination's start) gets a tenth. */
	if (c->est_ms <= c->limit_ms * (1.0 - SD_MIG_HANDOVER_SHARE))
		return SD_MIG_CONV_FINAL;
	if (n >= c->max_passes)
		return SD_MIG_CONV_GIVE_UP;
	/* Like QEMU, give the guest one full pass before throttling it. */
	if (n >= 1)
		throttle_raise(c);
	return SD_MIG_CONV_CONTINUE;
}

int sd_mig_conv_stop(struct sd_mig_conv *c)
{
	struct timespec until;
	int rc;

	if (!c->running)
		return 0;
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	until = sd_clock_after_ms(CLOCK_MONOTONIC, SD_MIG_THROTTLE_JOIN_MS);
	rc = pthread_clockjoin_np(c->thread, NULL, CLOCK_MONOTONIC, &until);
	if (rc) {
		/*
		 * Late: reported, but still joined before anything frees or
		 * pauses the VM under it. Every wait of throttle_main() is
		 * bounded (its sleeps, and the pause's deadline), so this ends.
		 */
		pthread_join(c->thread, NULL);
	}
	c->running = false;
	__atomic_store_n(&c->pct, 0, __ATOMIC_RELAXED);
	return rc ? -ETIMEDOUT : 0;
}

bool sd_mig_conv_pause_failed(const struct sd_mig_conv *c)
{
	/* Acquire: pairs with throttle_main's release; failed_pct may be read after. */
	return __atomic_load_n(&c->pause_failed, __ATOMIC_ACQUIRE) != 0;
}
