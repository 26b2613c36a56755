// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * demo_guest.c - the guest `sev-donate migrate --demo` migrates (the
 * protocol is in demo.h). Freestanding; built into a guest image by
 * vmm/migrate/module.mk with the vmm/kvm runtime, guest/ and proto/.
 */
#include "sd_rt.h"
#include "sd_guest.h"
#include "demo.h"

/* The ledger the VMMs read, at its fixed place (demo.h). */
#define demo (*(struct demo_state *)DEMO_STATE_GPA)

/*
 * The table, and a second one a resizing guest moves it to and back
 * (SPEC.md 5.6). `cur` is the one every writer updates; it changes only
 * while vCPU 1 is parked (resize_req / parked below).
 */
static struct sd_guest tables[2];
static struct sd_guest *cur = &tables[0];
static const u64 table_gpa[2] = { DEMO_TABLE_GPA, DEMO_TABLE_B_GPA };
static u64 table_bytes, span_pages;
static u32 table_ppc;
static struct sd_transport transport = { .ops = &sd_rt_transport_ops };
static u64 lane_first[DEMO_VCPUS], lane_end[DEMO_VCPUS];
/* vCPU 0 asks vCPU 1 to stop writing (resize step 3); vCPU 1 says it has. */
static volatile u64 resize_req, parked;
/* vCPU 0 has initialised the table: the others may write it (whatever the VMM does). */
static volatile u64 table_ready;
static u64 design;		/* DEMO_DESIGN_* */
/* Pacing (DEMO_ARG_RATE): TSC ticks per page-state change on one vCPU, and when the next is due. */
static u64 tick_per_change, due[DEMO_VCPUS], seen[DEMO_VCPUS], tsc_khz;

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static void wr64(volatile u64 *p, u64 v)
{
	*p = v;
	sd_barrier();
}

/* A new version of page @gfn, written whole. */
static void page_rewrite(u64 gfn)
{
	volatile u64 *p = (volatile u64 *)(gfn << SD_PAGE_SHIFT);
	u16 v = (u16)(demo.version[gfn] + 1);

	for (u32 w = 0; w < 512; w++)
		p[w] = demo_pattern(gfn, v, w);
	sd_barrier();
	demo.version[gfn] = v;
}

/*
 * Design EXIT: convert, then report every page to the host by an exit, as
 * Linux's notify_range_enc_status_changed() does after the page tables
 * changed (one KVM_HC_MAP_GPA_RANGE per 4 KiB page-table entry).
 */
static void convert_exit(u64 gfn, u64 n, bool shared)
{
	for (u64 i = 0; i < n; i++) {
		page_rewrite(gfn + i);
		demo.state[gfn + i] = shared;
	}
	sd_barrier();
	for (u64 i = 0; i < n; i++)
		GUEST_SYNC_ARGS(DEMO_ST_MAP_GPA, (gfn + i) << SD_PAGE_SHIFT, 1,
				shared ? 0 : DEMO_MAP_GPA_ENCRYPTED);
}

static void convert(u32 id, u64 gfn, u64 n, bool shared, bool two_phase)
{
	volatile struct demo_inflight *f = &demo.inflight[id];

	wr64(&f->gfn, gfn);
	wr64(&f->npages, n);
	wr64(&f->shared, shared);
	wr64(&f->valid, 1);
	if (design == DEMO_DESIGN_EXIT) {
		convert_exit(gfn, n, shared);
	} else if (two_phase) {
		GUEST_ASSERT_EQ(sd_guest_begin(cur, gfn, n, shared), 0);
		/* The conversion: contents are new afterwards, as under SEV. */
		for (u64 i = 0; i < n; i++) {
			page_rewrite(gfn + i);
			demo.state[gfn + i] = shared;
		}
		sd_barrier();
		GUEST_ASSERT_EQ(sd_guest_commit(cur, gfn, n, shared), 0);
	} else {
		GUEST_ASSERT_EQ(sd_guest_set(cur, gfn, n, shared), 0);
		for (u64 i = 0; i < n; i++) {
			demo.state[gfn + i] = shared;
			page_rewrite(gfn + i);
		}
	}
	sd_barrier();
	wr64(&f->valid, 0);
	demo.conversions[id]++;
	demo.changed_pages[id] += n;
}

/*
 * Paced (DEMO_ARG_RATE): may vCPU @id convert @n pages now? Each change is
 * due tick_per_change after the last; a vCPU that fell behind (descheduled,
 * throttled, paused) catches up at most 100 ms worth, not in one burst.
 */
static bool change_due(u32 id, u64 n)
{
	u64 now;

	if (!tick_per_change)
		return true;
	now = rdtsc();
	/*
	 * The TSC went back by more than a second since this vCPU last read
	 * it: a new host's VM. Start from now. (Not judged by how far @due is
	 * ahead: one large conversion at a low rate puts it seconds ahead.)
	 */
	if (now + 1000 * tsc_khz < seen[id])
		due[id] = now;
	seen[id] = now;
	if (now < due[id])
		return false;
	if (now - due[id] > 100 * tsc_khz)
		due[id] = now - 100 * tsc_khz;
	due[id] += n * tick_per_change;
	return true;
}

static bool beyond;		/* hostile: also convert pages past RAM (DEMO_ARG_BEYOND) */
static bool hostile;		/* vCPU 0 broke its table's count (demo.bad_count_request) */

static void random_op(u32 id, struct sd_rt_rng *rng, u64 max_range)
{
	u64 lo = lane_first[id], hi = lane_end[id];
	u64 r = sd_rt_rand(rng);

	if (beyond && id == 0 && (r & 15) == 0) {
		/* No memory there: only the table says these pages change. */
		GUEST_ASSERT_EQ(sd_guest_set(cur, demo.ram_pages + DEMO_BEYOND_OFF,
					     DEMO_BEYOND_PAGES, (r >> 4) & 1), 0);
		return;
	}

	u64 start = lo + sd_rt_rand_below(rng, hi - lo);
	u64 n = 1 + sd_rt_rand_below(rng, SD_MIN(hi - start, (r >> 8) & 1 ? max_range : 8));

	if ((r & 3) != 0 || (id == 0 && hostile) || !change_due(id, n)) {
		/* Three ops in four rewrite a page: the dirty pages pre-copy chases. */
		page_rewrite(lo + sd_rt_rand_below(rng, hi - lo));
		demo.rewrites[id]++;
		return;
	}
	convert(id, start, n, (r >> 2) & 1, (r >> 3) & 1);
}

/* Every page of this vCPU's lane: content as its version says, state as the table says. */
static void verify(u32 id)
{
	u64 bad_content = 0, bad_state = 0, pages = 0;

	for (u64 gfn = lane_first[id]; gfn < lane_end[id]; gfn++) {
		volatile u64 *p = (volatile u64 *)(gfn << SD_PAGE_SHIFT);
		u32 v = demo.version[gfn];

		pages++;
		for (u32 w = 0; w < 512; w++)
			if (p[w] != demo_pattern(gfn, v, w)) {
				bad_content++;
				break;
			}
		if (design == DEMO_DESIGN_TABLE && sd_guest_is_shared(cur, gfn) != demo.state[gfn])
			bad_state++;
	}
	GUEST_SYNC_ARGS(DEMO_ST_VERIFIED, bad_content, bad_state, pages);
}

/* A table at slot @i for the guest's span, every page of it shared (2.6, 5.6 step 4). */
static void table_init(u32 i)
{
	GUEST_ASSERT_EQ(sd_guest_init(&tables[i], 0, span_pages, table_ppc,
				      (void *)table_gpa[i], table_gpa[i], table_bytes,
				      (void *)DEMO_PRIV_GPA(table_gpa[i]), DEMO_PRIV_BYTES), 0);
}

/* Ledger and table: the @n pages at @gfn become @shared, as one conversion. */
static void convert_table_pages(u64 gfn, u64 n, bool shared)
{
	volatile struct demo_inflight *f = &demo.inflight[0];

	wr64(&f->gfn, gfn);
	wr64(&f->npages, n);
	wr64(&f->shared, shared);
	wr64(&f->valid, 1);
	GUEST_ASSERT_EQ(sd_guest_set(cur, gfn, n, shared), 0);
	for (u64 i = 0; i < n; i++)
		demo.state[gfn + i] = shared;
	sd_barrier();
	wr64(&f->valid, 0);
}

/*
 * Move the table to the other slot, in SPEC.md 5.6's order, while the VMM
 * may be reading the old one. Afterwards the old table's pages are ordinary
 * private memory, and are overwritten: a host still reading them must see
 * the generation change and re-read, or it reads garbage.
 */
static void table_move(void)
{
	struct sd_guest *old = cur;
	u32 to = old == &tables[0] ? 1 : 0;
	u64 old_gfn = old->reg_value >> SD_PAGE_SHIFT, new_gfn = table_gpa[to] >> SD_PAGE_SHIFT, n = table_bytes >> SD_PAGE_SHIFT;

	convert_table_pages(new_gfn, n, true);			/* step 1 */
	table_init(to);						/* step 2 */
	resize_req = 1;						/* step 3 */
	sd_barrier();
	while (!parked)
		sd_rt_pause();
	sd_barrier();
	GUEST_ASSERT_EQ(sd_guest_resize(old, &tables[to], &transport), 0);	/* steps 4-5 */
	cur = &tables[to];					/* step 6 */
	sd_barrier();
	resize_req = 0;
	convert_table_pages(old_gfn, n, false);			/* step 7 */
	/*
	 * Reuse the memory: 0x02 bytes make every old descriptor even with a
	 * count larger than its chunk, so a stale read fails validation
	 * (SD_ERR_CHUNK_COUNT) instead of passing by luck.
	 */
	memset((void *)(old_gfn << SD_PAGE_SHIFT), 0x02, n << SD_PAGE_SHIFT);
	demo.resizes++;
	demo.registrations++;
}

/*
 * Open a window over pages of the table's own chunk and keep it open while
 * the VMM holds it (demo.h): the pause of the final pass lands inside it.
 * The pages' new contents are written inside the window, as a conversion's
 * are; the commit comes once the guest runs on the destination.
 */
static void hold_window(void)
{
	volatile struct demo_inflight *f = &demo.inflight[0];
	u64 gfn = (DEMO_TABLE_GPA + table_bytes + SD_PAGE_SIZE - 1) >> SD_PAGE_SHIFT;
	u64 n = DEMO_WINDOW_PAGES;
	bool shared = !demo.state[gfn];

	wr64(&f->gfn, gfn);
	wr64(&f->npages, n);
	wr64(&f->shared, shared);
	wr64(&f->valid, 1);
	GUEST_ASSERT_EQ(sd_guest_begin(cur, gfn, n, shared), 0);
	for (u64 i = 0; i < n; i++) {
		page_rewrite(gfn + i);
		demo.state[gfn + i] = shared;
	}
	sd_barrier();
	wr64(&demo.in_window, 1);
	while (*(volatile u64 *)&demo.window_hold)
		sd_rt_pause();
	sd_barrier();
	GUEST_ASSERT_EQ(sd_guest_commit(cur, gfn, n, shared), 0);
	wr64(&demo.in_window, 0);
	wr64(&f->valid, 0);
	demo.conversions[0]++;
}

/*
 * vCPU 0, asked to turn hostile: the table chunk's descriptor gets a
 * complete update (its seq goes odd, then even again, as a writer's
 * window does, so an incremental reader takes it) whose count exceeds
 * the chunk's pages, which a reader must refuse (SPEC.md 4.2.2,
 * SD_ERR_CHUNK_COUNT). The chunk holds table pages and, as the VMM checks
 * before it asks, none of vCPU 1's lane; vCPU 0 converts nothing more, so
 * no writer's commit puts a right count back.
 */
static void break_count(void)
{
	u64 idx = (cur->table_gpa >> SD_PAGE_SHIFT) / table_ppc;
	volatile struct sd_chunk_desc *d = &cur->descs[idx];
	u32 seq = d->seq;

	d->seq = seq | 1;
	sd_barrier();
	d->nr_shared = table_ppc + 1;
	sd_barrier();
	d->seq = (seq | 1) + 1;
	sd_barrier();
	hostile = true;
	wr64(&demo.bad_count_done, 1);
}

/* vCPU 1, between operations: stay off the table while vCPU 0 moves it. */
static void maybe_park(void)
{
	if (!resize_req)
		return;
	sd_barrier();
	parked = 1;
	while (resize_req)
		sd_rt_pause();
	sd_barrier();
	parked = 0;
}

void guest_main(u32 id)
{
	volatile struct sd_kvm_bootinfo *bi = sd_rt_bootinfo();
	u64 ram_pages = bi->args[DEMO_ARG_RAM_PAGES];
	u64 lane = demo_lane_first(ram_pages, 1) - demo_lane_first(ram_pages, 0);
	u64 resizes = bi->args[DEMO_ARG_RESIZE];
	bool reregister = bi->args[DEMO_ARG_REREGISTER] != 0;
	bool no_window = bi->args[DEMO_ARG_NO_WINDOW] != 0;
	struct sd_rt_rng rng = { bi->seed * 0x9e3779b97f4a7c15ULL + id + 1 };
	u64 checked = 0;	/* the last check_request this vCPU answered */

	lane_first[id] = demo_lane_first(ram_pages, id);
	lane_end[id] = lane_first[id] + lane;
	/* Every page of the lane gets its first version before anything else. */
	for (u64 gfn = lane_first[id]; gfn < lane_end[id]; gfn++)
		page_rewrite(gfn);
	beyond = bi->args[DEMO_ARG_BEYOND] != 0;
	design = bi->args[DEMO_ARG_DESIGN];
	tsc_khz = bi->args[DEMO_ARG_TSC_KHZ];
	if (bi->args[DEMO_ARG_RATE] && tsc_khz)
		tick_per_change = tsc_khz * 1000 * DEMO_VCPUS / bi->args[DEMO_ARG_RATE];
	due[id] = seen[id] = rdtsc();
	if (id == 0 && design == DEMO_DESIGN_EXIT) {
		/* No table: every page starts private, and each change is an exit. */
		demo.ram_pages = ram_pages;
		sd_barrier();
		table_ready = 1;
		GUEST_SYNC_ARGS(DEMO_ST_READY, 0, 0, 0);
	} else if (id == 0) {
		int rc;

		/* A span may be larger than RAM (SPEC.md 4.1 check 13): a hostile one is. */
		span_pages = beyond ? 2 * ram_pages : ram_pages;
		table_ppc = (u32)bi->args[DEMO_ARG_PPC];
		table_bytes = sd_guest_table_bytes(0, span_pages, table_ppc);
		demo.ram_pages = ram_pages;
		GUEST_ASSERT(table_bytes && table_bytes <= DEMO_TABLE_MAX);
		GUEST_ASSERT(sd_guest_priv_bytes(0, span_pages, table_ppc) <= DEMO_PRIV_BYTES);
		table_init(0);
		for (u64 i = 0; i < (table_bytes >> SD_PAGE_SHIFT); i++)
			demo.state[(DEMO_TABLE_GPA >> SD_PAGE_SHIFT) + i] = 1;
		rc = sd_transport_probe(&transport);
		if (rc == 0)
			rc = sd_guest_register(cur, &transport);
		if (rc == 0)
			demo.registrations++;
		sd_barrier();
		table_ready = 1;
		GUEST_SYNC_ARGS(DEMO_ST_READY, (u64)(s64)rc, 0, 0);
	} else {
		GUEST_SYNC(DEMO_ST_READY);
		while (!table_ready)
			sd_rt_pause();
		sd_barrier();
	}
	while (!*(volatile u64 *)&demo.stop) {
		u64 want = *(volatile u64 *)&demo.check_request;

		if (want != checked) {
			sd_barrier();
			verify(id);	/* its own lane: the other vCPU never writes it */
			checked = want;
		}
		if (id != 0)
			maybe_park();
		random_op(id, &rng, bi->args[DEMO_ARG_MAX_RANGE]);
		if (id != 0)
			continue;
		if (reregister) {
			/* The same table again: a new generation the host must follow. */
			GUEST_ASSERT_EQ(sd_guest_register(cur, &transport), 0);
			demo.registrations++;
		}
		if (resizes && demo.resizes < *(volatile u64 *)&demo.resize_request)
			table_move();
		if (*(volatile u64 *)&demo.window_hold && !demo.in_window && !no_window)
			hold_window();
		if (*(volatile u64 *)&demo.bad_count_request && !hostile)
			break_count();
	}
	verify(id);
}
