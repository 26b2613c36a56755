// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * demo_guest.c - the guest `sev-donate migrate --demo` migrates (the
 * protocol is in demo.h). Freestanding; built into a guest image by
 * vmm/migrate/module.mk with the vmm/kvm runtime, guest/ and proto/.
 */
#include "sd_rt.h"
#include "sd_guest.h"
#include "demo.h"

struct demo_state demo;

static struct sd_guest table;
static u64 priv[DEMO_PRIV_BYTES / 8];
static struct sd_transport transport = { .ops = &sd_rt_transport_ops };
static u64 lane_first[DEMO_VCPUS], lane_end[DEMO_VCPUS];

static void wr64(volatile u64 *p, u64 v)
{
	*p = v;
	sd_barrier();
}

/* A new version of page @gfn, written whole. */
static void page_rewrite(u64 gfn)
{
	volatile u64 *p = (volatile u64 *)(gfn << 12);
	u32 v = demo.version[gfn] + 1;

	for (u32 w = 0; w < 512; w++)
		p[w] = demo_pattern(gfn, v, w);
	sd_barrier();
	demo.version[gfn] = v;
}

static void convert(u32 id, u64 gfn, u64 n, bool shared, bool two_phase)
{
	volatile struct demo_inflight *f = &demo.inflight[id];

	wr64(&f->gfn, gfn);
	wr64(&f->npages, n);
	wr64(&f->shared, shared);
	wr64(&f->valid, 1);
	if (two_phase) {
		GUEST_ASSERT_EQ(sd_guest_begin(&table, gfn, n, shared), 0);
		/* The conversion: contents are new afterwards, as under SEV. */
		for (u64 i = 0; i < n; i++) {
			page_rewrite(gfn + i);
			demo.state[gfn + i] = shared;
		}
		sd_barrier();
		GUEST_ASSERT_EQ(sd_guest_commit(&table, gfn, n, shared), 0);
	} else {
		GUEST_ASSERT_EQ(sd_guest_set(&table, gfn, n, shared), 0);
		for (u64 i = 0; i < n; i++) {
			demo.state[gfn + i] = shared;
			page_rewrite(gfn + i);
		}
	}
	sd_barrier();
	wr64(&f->valid, 0);
	demo.conversions[id]++;
}

static bool beyond;		/* hostile: also convert pages past RAM (DEMO_ARG_BEYOND) */

static void random_op(u32 id, struct sd_rt_rng *rng, u64 max_range)
{
	u64 lo = lane_first[id], hi = lane_end[id];
	u64 r = sd_rt_rand(rng);

	if (beyond && id == 0 && (r & 15) == 0) {
		/* No memory there: only the table says these pages change. */
		GUEST_ASSERT_EQ(sd_guest_set(&table, demo.ram_pages + DEMO_BEYOND_OFF,
					     DEMO_BEYOND_PAGES, (r >> 4) & 1), 0);
		return;
	}

	if ((r & 3) != 0) {
		/* Three ops in four rewrite a page: the dirty pages pre-copy chases. */
		page_rewrite(lo + sd_rt_rand_below(rng, hi - lo));
		demo.rewrites[id]++;
		return;
	}
	u64 start = lo + sd_rt_rand_below(rng, hi - lo);
	u64 n = 1 + sd_rt_rand_below(rng, SD_MIN(hi - start, (r >> 8) & 1 ? max_range : 8));

	convert(id, start, n, (r >> 2) & 1, (r >> 3) & 1);
}

/* Every page of this vCPU's lane: content as its version says, state as the table says. */
static void verify(u32 id)
{
	u64 bad_content = 0, bad_state = 0, pages = 0;

	for (u64 gfn = lane_first[id]; gfn < lane_end[id]; gfn++) {
		volatile u64 *p = (volatile u64 *)(gfn << 12);
		u32 v = demo.version[gfn];

		pages++;
		for (u32 w = 0; w < 512; w++)
			if (p[w] != demo_pattern(gfn, v, w)) {
				bad_content++;
				break;
			}
		if (sd_guest_is_shared(&table, gfn) != demo.state[gfn])
			bad_state++;
	}
	GUEST_SYNC_ARGS(DEMO_ST_VERIFIED, bad_content, bad_state, pages);
}

void guest_main(u32 id)
{
	volatile struct sd_kvm_bootinfo *bi = sd_rt_bootinfo();
	u64 ram_pages = bi->args[DEMO_ARG_RAM_PAGES];
	u32 ppc = (u32)bi->args[DEMO_ARG_PPC];
	u64 work = DEMO_WORK_GPA >> 12, lane = (ram_pages - work) / DEMO_VCPUS;
	struct sd_rt_rng rng = { bi->seed * 0x9e3779b97f4a7c15ULL + id + 1 };

	lane_first[id] = work + id * lane;
	lane_end[id] = lane_first[id] + lane;
	/* Every page of the lane gets its first version before anything else. */
	for (u64 gfn = lane_first[id]; gfn < lane_end[id]; gfn++)
		page_rewrite(gfn);
	beyond = bi->args[DEMO_ARG_BEYOND] != 0;
	if (id == 0) {
		/* A span may be larger than RAM (SPEC.md 4.1 check 13): a hostile one is. */
		u64 span = beyond ? 2 * ram_pages : ram_pages;
		u64 bytes = sd_guest_table_bytes(0, span, ppc);
		int rc;

		demo.ram_pages = ram_pages;
		GUEST_ASSERT(bytes && bytes <= DEMO_TABLE_MAX);
		GUEST_ASSERT(sd_guest_priv_bytes(0, span, ppc) <= DEMO_PRIV_BYTES);
		GUEST_ASSERT_EQ(sd_guest_init(&table, 0, span, ppc, (void *)DEMO_TABLE_GPA,
					      DEMO_TABLE_GPA, bytes, priv, sizeof(priv)), 0);
		for (u64 i = 0; i < (bytes >> 12); i++)
			demo.state[(DEMO_TABLE_GPA >> 12) + i] = 1;
		rc = sd_transport_probe(&transport);
		if (rc == 0)
			rc = sd_guest_register(&table, &transport);
		GUEST_SYNC_ARGS(DEMO_ST_READY, (u64)(s64)rc, 0, 0);
	} else {
		GUEST_SYNC(DEMO_ST_READY);
	}
	while (!*(volatile u64 *)&demo.stop)
		random_op(id, &rng, bi->args[DEMO_ARG_MAX_RANGE]);
	verify(id);
}
