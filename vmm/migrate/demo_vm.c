// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * demo_vm.c - the demo guest's VM on either side of a migration
 * (demo_vm.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "demo_vm.h"
#include "sd_kvm.h"
#include "sd_vmm_reg.h"
#include "transport.h"
#include "exitlist.h"

extern const char sd_guest_image[], sd_guest_image_end[];

/*
 * Design EXIT's exit handler, on the vCPU's thread inside sd_vcpu_run
 * (sd_vm_handle_ucalls). The region list changes only while a vCPU counts
 * as running: an exit being handled when the final pause comes is in the
 * list before the pause returns, and none is handled between the pause and
 * the final pass's read of the list, so that read sees every change the
 * guest reported before it stopped, and nothing after.
 */
static bool demo_exit_ucall(struct sd_vcpu *v, void *ctx)
{
	struct demo_vm *d = ctx;

	int rc;

	if (v->uc.args[0] != DEMO_ST_MAP_GPA)
		return false;
	rc = demo_xl_exit(d->xl, v->uc.args[1], v->uc.args[2], v->uc.args[3]);
	/* The hypercall's answer, in the guest's RAX under KVM (the demo guest ignores it). */
	sd_vcpu_ucall_reply(v, (u64)(s64)rc);
	return true;
}

int demo_vm_create(struct demo_vm *d, u64 ram_bytes, u32 nr_vcpus, const struct demo_cfg *cfg,
		   struct sd_mig_status *st)
{
	struct sd_kvm_bootinfo *bi;
	int tsc_khz;

	memset(d, 0, sizeof(*d));
	if (nr_vcpus != DEMO_VCPUS || ram_bytes < DEMO_MIN_RAM || ram_bytes > DEMO_MAX_RAM ||
	    ram_bytes % DEMO_RAM_STEP)
		return sd_mig_fail(st, SD_MIG_ERR_RANGE, "%u vCPUs and %llu MiB of RAM: not the demo "
				   "guest (%u vCPUs, %llu to %llu MiB in %llu MiB steps)", nr_vcpus,
				   (unsigned long long)(ram_bytes >> 20), DEMO_VCPUS,
				   DEMO_MIN_RAM >> 20, DEMO_MAX_RAM >> 20, DEMO_RAM_STEP >> 20);
	d->ram_pages = ram_bytes >> SD_PAGE_SHIFT;
	d->nr_vcpus = nr_vcpus;
	d->vm = sd_vm_create();
	d->ram = sd_vm_add_ram(d->vm, 0, ram_bytes, 0);
	sd_vm_load_image(d->vm, sd_guest_image, (size_t)(sd_guest_image_end - sd_guest_image));
	d->reg = sd_vmm_reg_create(d->vm);
	if (cfg->no_transport)
		sd_vm_set_cpuid_sd(d->vm, 0);	/* a host offering no transport */
	pthread_mutex_init(&d->ready_lock, NULL);
	pthread_cond_init(&d->ready_cond, NULL);
	d->demo = sd_vm_hva(d->vm, DEMO_STATE_GPA, sizeof(*d->demo));
	d->design = cfg->design;
	if (cfg->design == DEMO_DESIGN_EXIT) {
		d->xl = malloc(sizeof(*d->xl));
		if (!d->xl || demo_xl_init(d->xl, d->ram_pages)) {
			free(d->xl);
			d->xl = NULL;
			demo_vm_destroy(d);
			return sd_mig_fail(st, SD_MIG_ERR_NOMEM, "out of memory for the region list");
		}
		d->xl->fail_exit = cfg->xl_fail_exit;
		sd_vm_handle_ucalls(d->vm, demo_exit_ucall, d);
	}
	bi = sd_vm_bootinfo(d->vm);
	bi->seed = cfg->seed;
	bi->args[DEMO_ARG_RAM_PAGES] = d->ram_pages;
	bi->args[DEMO_ARG_PPC] = cfg->ppc;
	bi->args[DEMO_ARG_MAX_RANGE] = cfg->max_range;
	bi->args[DEMO_ARG_BEYOND] = cfg->beyond;
	bi->args[DEMO_ARG_RESIZE] = cfg->resizes;
	d->resizes = cfg->resizes;
	d->window_at_pause = cfg->window_at_pause;
	d->bad_count = cfg->bad_count;
	bi->args[DEMO_ARG_REREGISTER] = cfg->reregister;
	bi->args[DEMO_ARG_NO_WINDOW] = cfg->no_window;
	bi->args[DEMO_ARG_DESIGN] = cfg->design;
	bi->args[DEMO_ARG_RATE] = cfg->change_rate;
	for (u32 i = 0; i < nr_vcpus; i++)
		sd_vm_add_vcpu(d->vm);
	/* The pacing's clock: KVM's TSC rate for this vCPU (0: unknown, the guest does not pace). */
	tsc_khz = ioctl(d->vm->vcpus[0]->fd, KVM_GET_TSC_KHZ, 0);
	bi->args[DEMO_ARG_TSC_KHZ] = tsc_khz > 0 ? (u64)tsc_khz : 0;
	return 0;
}

void demo_vm_destroy(struct demo_vm *d)
{
	if (!d->vm)
		return;
	if (d->running) {
		/* Paused for good (the guest moved away): end the vCPU threads first. */
		sd_vm_kill_vcpus(d->vm);
		for (u32 i = 0; i < d->nr_vcpus; i++)
			sd_vcpu_thread_join(d->vm->vcpus[i]);
		d->running = false;
	}
	sd_vmm_reg_destroy(d->reg);
	sd_vm_free(d->vm);
	if (d->xl) {
		demo_xl_free(d->xl);
		free(d->xl);
		d->xl = NULL;
	}
	pthread_mutex_destroy(&d->ready_lock);
	pthread_cond_destroy(&d->ready_cond);
	d->vm = NULL;
}

static void vcpu_ready(struct demo_vm *d)
{
	pthread_mutex_lock(&d->ready_lock);
	d->nr_ready++;
	pthread_cond_broadcast(&d->ready_cond);
	while (d->rendezvous && !d->go)
		pthread_cond_wait(&d->ready_cond, &d->ready_lock);
	pthread_mutex_unlock(&d->ready_lock);
}

static void *vcpu_main(struct sd_vcpu *v, void *arg)
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

		if (rc == SD_UCALL_DONE || rc == SD_VCPU_KILLED)
			return NULL;
		switch (v->uc.args[0]) {
		case DEMO_ST_READY:
			if (v->id == 0)
				d->reg_rc = (s64)v->uc.args[1];
			/* vCPU 1 churns only once vCPU 0 has registered the table. */
			vcpu_ready(d);
			break;
		case DEMO_ST_VERIFIED:
			/*
			 * Each vCPU writes its own slot, last: read after the join, or
			 * by demo_vm_selfcheck with acquire (pairs with this release).
			 */
			__atomic_add_fetch(&d->bad_content, v->uc.args[1], __ATOMIC_RELAXED);
			__atomic_add_fetch(&d->bad_state, v->uc.args[2], __ATOMIC_RELAXED);
			__atomic_add_fetch(&d->pages_checked, v->uc.args[3], __ATOMIC_RELAXED);
			__atomic_store_n(&d->verified[v->id], true, __ATOMIC_RELEASE);
			break;
		case DEMO_ST_MAP_GPA:
			/* Design EXIT handles these inside sd_vcpu_run (demo_exit_ucall). */
			TEST_FAIL("demo guest: a MAP_GPA exit, but the design keeps a table");
		default:
			TEST_FAIL("demo guest: unexpected stage %llu", (unsigned long long)v->uc.args[0]);
		}
	}
}

void demo_vm_start(struct demo_vm *d, bool rendezvous)
{
	d->rendezvous = rendezvous;
	for (u32 i = 0; i < d->nr_vcpus; i++)
		sd_vcpu_thread_start(d->vm->vcpus[i], vcpu_main, d);
	d->running = true;
}

int demo_vm_wait_ready(struct demo_vm *d, u32 ms, struct sd_mig_status *st)
{
	struct timespec until = sd_realtime_after_ms(ms);
	bool late = false;

	pthread_mutex_lock(&d->ready_lock);
	while (d->nr_ready < d->nr_vcpus && !late)
		late = pthread_cond_timedwait(&d->ready_cond, &d->ready_lock, &until) == ETIMEDOUT &&
		       d->nr_ready < d->nr_vcpus;
	d->go = true;
	pthread_cond_broadcast(&d->ready_cond);
	pthread_mutex_unlock(&d->ready_lock);
	if (late)
		return sd_mig_fail(st, SD_MIG_ERR_TIMEOUT, "the guest did not boot and register "
				   "within %u ms", ms);
	return 0;
}

void demo_vm_pass_started(struct demo_vm *d, u32 pass)
{
	/* A resizing guest moves its table early in each of the first passes. */
	if (pass >= 1 && pass <= d->resizes)
		__atomic_store_n(&d->demo->resize_request, pass, __ATOMIC_RELEASE);
	if (pass == 1 && d->bad_count)
		__atomic_store_n(&d->demo->bad_count_request, 1, __ATOMIC_RELEASE);
}

/* Wait, at most @ms, while @pending says the guest has not done what it was asked: ms waited. */
static double demo_vm_wait(struct demo_vm *d, u32 ms, bool (*pending)(const struct demo_state *))
{
	double t0 = sd_mig_now_ms();

	while (pending(d->demo) && sd_mig_now_ms() - t0 < ms)
		sd_mig_sleep_ms(1);
	return sd_mig_now_ms() - t0;
}

static bool move_pending(const struct demo_state *g)
{
	return __atomic_load_n(&g->resizes, __ATOMIC_ACQUIRE) <
	       __atomic_load_n(&g->resize_request, __ATOMIC_RELAXED);
}

static bool break_pending(const struct demo_state *g)
{
	return __atomic_load_n(&g->bad_count_request, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&g->bad_count_done, __ATOMIC_ACQUIRE);
}

double demo_vm_wait_moved(struct demo_vm *d, u32 ms)
{
	return demo_vm_wait(d, ms, move_pending);
}

double demo_vm_wait_broken(struct demo_vm *d, u32 ms)
{
	return demo_vm_wait(d, ms, break_pending);
}

int demo_vm_hold_window(struct demo_vm *d, u32 ms, struct sd_mig_status *st)
{
	double until = sd_mig_now_ms() + ms;

	__atomic_store_n(&d->demo->window_hold, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&d->demo->in_window, __ATOMIC_ACQUIRE)) {
		if (sd_mig_now_ms() > until)
			return sd_mig_fail(st, SD_MIG_ERR_SOURCE, "the guest did not open its window "
					   "within %u ms", ms);
		sd_mig_sleep_ms(1);
	}
	return 0;
}

void demo_vm_release_window(struct demo_vm *d)
{
	__atomic_store_n(&d->demo->window_hold, 0, __ATOMIC_RELEASE);
}

void demo_vm_work(const struct demo_vm *d, struct demo_check *out)
{
	out->conversions = out->rewrites = out->changed_pages = 0;
	for (u32 i = 0; i < DEMO_VCPUS; i++) {
		out->changed_pages += __atomic_load_n(&d->demo->changed_pages[i], __ATOMIC_RELAXED);
		out->conversions += __atomic_load_n(&d->demo->conversions[i], __ATOMIC_RELAXED);
		out->rewrites += __atomic_load_n(&d->demo->rewrites[i], __ATOMIC_RELAXED);
	}
	out->resizes = __atomic_load_n(&d->demo->resizes, __ATOMIC_RELAXED);
	out->registrations = __atomic_load_n(&d->demo->registrations, __ATOMIC_RELAXED);
}

/* Before a check is asked for: no vCPU reports until then, the counters are ours. */
static void check_reset(struct demo_vm *d)
{
	for (u32 i = 0; i < d->nr_vcpus; i++)
		__atomic_store_n(&d->verified[i], false, __ATOMIC_RELAXED);
	__atomic_store_n(&d->bad_content, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&d->bad_state, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&d->pages_checked, 0, __ATOMIC_RELAXED);
}

int demo_vm_check(struct demo_vm *d, u32 after_ms, u32 deadline_ms, struct demo_check *out,
		  struct sd_mig_status *st)
{
	bool all = true;

	memset(out, 0, sizeof(*out));
	sd_mig_sleep_ms(after_ms);
	check_reset(d);
	__atomic_store_n(&d->demo->stop, 1, __ATOMIC_RELEASE);
	for (u32 i = 0; i < d->nr_vcpus; i++)
		if (sd_vcpu_thread_join_timeout(d->vm->vcpus[i], deadline_ms, NULL))
			return sd_mig_fail(st, SD_MIG_ERR_TIMEOUT, "the guest's vCPU %u did not "
					   "finish its check within %u ms", i, deadline_ms);
	d->running = false;
	for (u32 i = 0; i < d->nr_vcpus; i++)
		all &= d->verified[i];
	out->verified = all;
	out->pages = d->pages_checked;
	out->bad_content = d->bad_content;
	out->bad_state = d->bad_state;
	demo_vm_work(d, out);
	return 0;
}

int demo_vm_selfcheck(struct demo_vm *d, u32 deadline_ms, struct demo_check *out,
		      struct sd_mig_status *st)
{
	double until = sd_mig_now_ms() + deadline_ms;

	memset(out, 0, sizeof(*out));
	check_reset(d);
	/* Release: the resets are done before a vCPU can see the request and report. */
	__atomic_add_fetch(&d->demo->check_request, 1, __ATOMIC_RELEASE);
	for (u32 i = 0; i < d->nr_vcpus; i++)
		while (!__atomic_load_n(&d->verified[i], __ATOMIC_ACQUIRE)) {
			if (sd_mig_now_ms() > until)
				return sd_mig_fail(st, SD_MIG_ERR_TIMEOUT, "the guest's vCPU %u did not "
						   "check itself within %u ms", i, deadline_ms);
			sd_mig_sleep_ms(1);
		}
	out->verified = true;
	out->pages = __atomic_load_n(&d->pages_checked, __ATOMIC_RELAXED);
	out->bad_content = __atomic_load_n(&d->bad_content, __ATOMIC_RELAXED);
	out->bad_state = __atomic_load_n(&d->bad_state, __ATOMIC_RELAXED);
	demo_vm_work(d, out);
	return 0;
}

void demo_vm_oracle(const struct demo_vm *d, const u8 *mode, struct demo_oracle *out)
{
	const struct demo_state *g = d->demo;

	memset(out, 0, sizeof(*out));
	out->first_mismatch_gfn = ~0ULL;
	for (u64 p = 0; p < d->ram_pages; p++) {
		bool in_flight = false;
		u8 want;

		for (u32 i = 0; i < DEMO_VCPUS; i++) {
			const struct demo_inflight *f = &g->inflight[i];

			if (f->valid && p >= f->gfn && p - f->gfn < f->npages)
				in_flight = true;
		}
		if (mode[p] == 0) {
			out->never_received++;
			want = 0xff;
		} else if (in_flight) {
			out->in_flight++;	/* either mode, or in transition */
			continue;
		} else {
			want = g->state[p] ? SD_REC_PLAIN : SD_REC_ENCRYPTED;
		}
		if (mode[p] != want) {
			if (!out->mismatches)
				out->first_mismatch_gfn = p;
			out->mismatches++;
		}
	}
}
