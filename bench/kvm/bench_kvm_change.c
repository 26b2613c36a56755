// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bench_kvm_change.c - what a page-state change costs a real KVM guest:
 * this protocol (guest/ writes the donated table, no exit) against the
 * design it replaces (an exit to the VMM per change, as Linux's
 * KVM_HC_MAP_GPA_RANGE does, with the VMM keeping the sorted shared-region
 * list of AMD's QEMU SEV live-migration patches).
 *
 * The guest (one vCPU, 1 GiB of RAM) boots, builds its table with guest/
 * and registers it over the MSR transport, then runs every workload at
 * CPL 3, where guest code runs natively. Both designs start from the same
 * "typical" layout (bl_pattern_typical: the decrypted .bss, SWIOTLB and 58
 * small regions) and see the same kind of changes: a range becomes shared
 * and then private again, as a coherent DMA buffer does, so the layout
 * (and the region list's length, 60 nodes) stays what a real guest has.
 * Only the notification is measured: the page-table conversion itself is
 * the same in both designs and is left out of both.
 *
 * Rounds, each timed by the guest with RDTSC around its loop of changes
 * (the VMM calibrates the guest's TSC against CLOCK_MONOTONIC):
 *   p1_begin_commit, p1_set   one page, sd_guest_begin+commit / sd_guest_set
 *   e1_io                     one page, one I/O-port exit (the ucall path)
 *   e1_msr                    one page, one trapped-WRMSR exit (through the
 *                             runtime's ring-0 gate: a real guest's
 *                             WRMSR/VMCALL runs at CPL 0 natively, here CPL 0
 *                             is emulated, so this figure is pessimistic)
 *   e1_io_bitmap              one page, one I/O exit, the VMM keeping a
 *                             bitmap instead (the KVM_GET_PAGE_ENC_BITMAP
 *                             design's bookkeeping)
 *   p2m                       2 MiB range, begin+commit
 *   e2m_4k                    2 MiB range, one exit per 4 KiB page (Linux on
 *                             4K-mapped memory)
 *   e2m_2m                    2 MiB range, one exit (a huge-page mapping)
 *   pf                        fragmented: a random range of 1..32 pages
 *   ef_4k, ef_range           the same, an exit per page / one per range
 * Each repeat runs every round once, in alternating order (interleaved);
 * figures are medians over repeats. The exits of the baseline rounds go
 * through bl_rlist_map_gpa_range() (bench/baseline/), as the VMM's
 * KVM_EXIT_HYPERCALL handler would.
 *
 * At the end the VMM checks that both worlds agree: host/ reads the
 * table through the registration (the per-page cursor), and every page's
 * state must equal the region list's (plus the table's own pages), which
 * must equal the starting layout. A disagreement exits 1: the figures
 * would be wrong.
 *
 *   BENCH_QUICK=1 / BENCH_SMOKE=1   fewer repeats (bench_level())
 *   writes $BENCH_OUT/bench_kvm_change.json
 */
#include "sd_kvm_abi.h"
#include "sev_donate.h"
#include "sd_types.h"

#define MIB			(1ULL << 20)
#define KC_RAM			(1024 * MIB)		/* one slot: the guest's RAM */
#define KC_SPAN			(KC_RAM >> 12)		/* the table covers all of it */
#define KC_TABLE_GPA		(4 * MIB)
#define KC_TABLE_MAX		(1 * MIB)
#define KC_PRIV_GPA		(5 * MIB)
#define KC_PRIV_MAX		(1 * MIB)
#define KC_MAP_GPA		(6 * MIB)		/* u8 per page: the layout's states */
#define KC_OPS_GPA		(8 * MIB)		/* struct kc_op[KC_MAX_OPS] */
#define KC_MAX_OPS		8192
#define KC_LAYOUT_GPA		(10 * MIB)		/* struct kc_layout, written by the VMM */
#define KC_MAX_LAYOUT		64
#define KC_WORK_LO		((32 * MIB) >> 12)	/* layouts and changes stay above */
#define KC_FRAG_MAX		32			/* fragmented ranges: 1..32 pages */
/* The exit-per-change baseline's trapped MSR; bench-only, next to the registration MSRs. */
#define KC_NOTIFY_MSR		(SD_MSR_TABLE + 2)
/* KVM_HC_MAP_GPA_RANGE attributes (bench/baseline/baseline.h has the host's copy). */
#define KC_ATTR_4K		0
#define KC_ATTR_2M		1
#define KC_ATTR_ENC		(1u << 4)

struct kc_op {
	u64 gfn;
	u32 npages;
	u32 shared;
};

struct kc_layout {
	u64 nr;
	struct {
		u64 gfn, npages;
	} r[KC_MAX_LAYOUT];
};

/* Ucall stages (args[0]). */
enum {
	ST_READY = 1,		/* table built, registered: args[1] = registration result */
	ST_CAL_A,		/* args[1] = RDTSC */
	ST_CAL_B,		/* args[1] = RDTSC */
	ST_MAP,			/* the baseline's exit: args[1] GPA, [2] pages, [3] attributes */
	ST_RESULT,		/* args[1] = ticks, [2] = changes, [3] = pages changed */
};

/* Commands (the reply to a sync). */
enum {
	CMD_CALIBRATE = 1,	/* bootinfo args[ARG_COUNT] ticks between CAL_A and CAL_B */
	CMD_ROUND,		/* bootinfo args: kind, count, seed */
	CMD_DONE,
};

enum { ARG_KIND, ARG_COUNT, ARG_SEED };

/* Round kinds. */
enum {
	K_P1_BC, K_P1_SET, K_E1_IO, K_E1_MSR, K_E1_IO_BM,
	K_P2M, K_E2M_4K, K_E2M_2M,
	K_PF, K_EF_4K, K_EF_RANGE,
	K_NR
};

/* What a kind changes: single pages, 2 MiB ranges, fragmented ranges. */
enum { C_SINGLE, C_HUGE, C_FRAG };

static inline int kc_class(int kind)
{
	if (kind <= K_E1_IO_BM)
		return C_SINGLE;
	if (kind <= K_E2M_2M)
		return C_HUGE;
	return C_FRAG;
}

#ifdef SD_KVM_GUEST
/* ================================ guest ================================== */
#include "sd_rt.h"
#include "sd_guest.h"

static struct sd_guest table;
static struct sd_transport transport = { .ops = &sd_rt_transport_ops };

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((u64)hi << 32) | lo;
}

static bool all_private(const volatile u8 *map, u64 gfn, u64 n)
{
	for (u64 i = 0; i < n; i++)
		if (map[gfn + i])
			return false;
	return true;
}

/* @count changes in pairs: a private range becomes shared, then private again. */
static u64 gen_ops(int cls, u64 count, u64 seed)
{
	volatile u8 *map = (volatile u8 *)KC_MAP_GPA;
	struct kc_op *ops = (struct kc_op *)KC_OPS_GPA;
	struct sd_rt_rng rng = { seed };
	u64 pages = 0;

	GUEST_ASSERT(count >= 2 && count <= KC_MAX_OPS && !(count & 1));
	for (u64 i = 0; i < count; i += 2) {
		u64 gfn, n;

		do {
			if (cls == C_SINGLE) {
				n = 1;
				gfn = KC_WORK_LO + sd_rt_rand_below(&rng, KC_SPAN - KC_WORK_LO);
			} else if (cls == C_HUGE) {
				n = 512;
				gfn = KC_WORK_LO +
				      512 * sd_rt_rand_below(&rng, (KC_SPAN - KC_WORK_LO) / 512);
			} else {
				n = 1 + sd_rt_rand_below(&rng, KC_FRAG_MAX);
				gfn = KC_WORK_LO + sd_rt_rand_below(&rng, KC_SPAN - KC_WORK_LO - n);
			}
		} while (!all_private(map, gfn, n));
		ops[i] = (struct kc_op){ gfn, (u32)n, 1 };
		ops[i + 1] = (struct kc_op){ gfn, (u32)n, 0 };
		pages += 2 * n;
	}
	return pages;
}

static inline void exit_io(u64 gfn, u64 n, u64 attrs)
{
	sd_rt_ucall(SD_UCALL_SYNC, 4, ST_MAP, gfn << 12, n, attrs, 0, 0, 0);
}

/* Run @count generated changes of @kind; returns the RDTSC ticks they took. */
static u64 run_round(int kind, u64 count, u64 *exits)
{
	const struct kc_op *ops = (const struct kc_op *)KC_OPS_GPA;
	u64 t0, t1, e = 0;
	int rc = 0;

	t0 = rdtsc();
	for (u64 i = 0; i < count; i++) {
		u64 gfn = ops[i].gfn, n = ops[i].npages;
		bool sh = ops[i].shared;
		u64 enc = sh ? 0 : KC_ATTR_ENC;

		switch (kind) {
		case K_P1_BC:
		case K_P2M:
		case K_PF:
			rc |= sd_guest_begin(&table, gfn, n, sh);
			/* (the conversion would run here, in both designs alike) */
			rc |= sd_guest_commit(&table, gfn, n, sh);
			break;
		case K_P1_SET:
			rc |= sd_guest_set(&table, gfn, n, sh);
			break;
		case K_E1_IO:
		case K_E1_IO_BM:
		case K_EF_RANGE:
			exit_io(gfn, n, KC_ATTR_4K | enc);
			e++;
			break;
		case K_E2M_2M:
			exit_io(gfn, n, KC_ATTR_2M | enc);
			e++;
			break;
		case K_E1_MSR:
			rc |= sd_rt_wrmsr(KC_NOTIFY_MSR, (gfn << 12) | KC_ATTR_4K | enc);
			e++;
			break;
		case K_E2M_4K:
		case K_EF_4K:
			for (u64 p = 0; p < n; p++)
				exit_io(gfn + p, 1, KC_ATTR_4K | enc);
			e += n;
			break;
		}
	}
	t1 = rdtsc();
	GUEST_ASSERT_EQ(rc, 0);
	*exits = e;
	return t1 - t0;
}

void guest_main(u32 id)
{
	volatile struct sd_kvm_bootinfo *bi = sd_rt_bootinfo();
	volatile struct kc_layout *lay = (volatile struct kc_layout *)KC_LAYOUT_GPA;
	volatile u8 *map = (volatile u8 *)KC_MAP_GPA;
	u64 tb = sd_guest_table_bytes(0, KC_SPAN, SD_DEFAULT_CHUNK_PAGES);
	u64 pb = sd_guest_priv_bytes(0, KC_SPAN, SD_DEFAULT_CHUNK_PAGES);
	u64 cmd;
	int rc;

	if (id)
		return;
	GUEST_ASSERT(tb && tb <= KC_TABLE_MAX && pb <= KC_PRIV_MAX);
	GUEST_ASSERT_EQ(sd_guest_init(&table, 0, KC_SPAN, SD_DEFAULT_CHUNK_PAGES,
				      (void *)KC_TABLE_GPA, KC_TABLE_GPA, tb,
				      (void *)KC_PRIV_GPA, KC_PRIV_MAX), 0);
	/* The layout the guest starts from (shared before registration, SPEC.md 2.7). */
	GUEST_ASSERT(lay->nr <= KC_MAX_LAYOUT);
	for (u64 i = 0; i < lay->nr; i++) {
		u64 gfn = lay->r[i].gfn, n = lay->r[i].npages;

		GUEST_ASSERT(gfn >= KC_WORK_LO && gfn + n <= KC_SPAN);
		GUEST_ASSERT_EQ(sd_guest_set(&table, gfn, n, true), 0);
		for (u64 p = 0; p < n; p++)
			map[gfn + p] = 1;
	}
	rc = sd_transport_probe(&transport);
	if (!rc)
		rc = sd_guest_register(&table, &transport);
	cmd = GUEST_SYNC_ARGS(ST_READY, (u64)(s64)rc, 0, 0);
	for (;;) {
		if (cmd == CMD_CALIBRATE) {
			u64 t0 = rdtsc(), n = bi->args[ARG_COUNT];

			GUEST_SYNC_ARGS(ST_CAL_A, t0, 0, 0);
			t0 = rdtsc();
			while (rdtsc() - t0 < n)
				sd_rt_pause();
			cmd = GUEST_SYNC_ARGS(ST_CAL_B, rdtsc(), 0, 0);
		} else if (cmd == CMD_ROUND) {
			int kind = (int)bi->args[ARG_KIND];
			u64 count = bi->args[ARG_COUNT], pages, exits, ticks;

			pages = gen_ops(kc_class(kind), count, bi->args[ARG_SEED]);
			ticks = run_round(kind, count, &exits);
			cmd = GUEST_SYNC_ARGS(ST_RESULT, ticks, count, pages);
		} else {
			GUEST_ASSERT_EQ(cmd, CMD_DONE);
			return;
		}
	}
}

#else
/* ================================ host =================================== */
#include <errno.h>
#include <x86intrin.h>
#include "bench.h"
#include "sd_kvm.h"
#include "sd_host.h"
#include "baseline.h"

extern const char sd_guest_image[], sd_guest_image_end[];

_Static_assert(KC_ATTR_ENC == BL_MAP_GPA_RANGE_ENCRYPTED, "attributes");
_Static_assert(KC_ATTR_2M == BL_MAP_GPA_RANGE_PAGE_SZ_2M, "attributes");

static const char *const kind_names[K_NR] = {
	"p1_begin_commit", "p1_set", "e1_io", "e1_msr", "e1_io_bitmap",
	"p2m_begin_commit", "e2m_exit_per_4k", "e2m_exit_per_2m",
	"pf_begin_commit", "ef_exit_per_4k", "ef_exit_per_range",
};

/* The VMM: the registration endpoint (host/) and the baselines' state. */
struct kc_vmm {
	struct sd_vm *vm;
	struct sd_host_mem mem;
	struct sd_host_cfg cfg;
	struct sd_host_reg reg;
	u32 reg_status;
	struct bl_rlist list;		/* the QEMU patches' list */
	struct bl_encmap map;		/* the host-kept bitmap */
	int kind;			/* the round running */
	u64 exits, msr_exits;		/* baseline exits handled */
	double model_ns;		/* time spent updating the models */
	u64 model_updates;
	int model_err;
};

static int model_update(struct kc_vmm *k, sd_gpa_t gpa, u64 n, u64 attrs)
{
	double t0 = bench_now_ns();
	int rc;

	if (k->kind == K_E1_IO_BM)
		rc = bl_encmap_map_gpa_range(&k->map, gpa, n, attrs);
	else
		rc = bl_rlist_map_gpa_range(&k->list, gpa, n, attrs);
	k->model_ns += bench_now_ns() - t0;
	k->model_updates++;
	if (rc && !k->model_err)
		k->model_err = rc;
	return rc;
}

/*
 * SD_MSR_TABLE / SD_MSR_STATUS (SPEC.md 5.3, straight to host/) and the
 * baseline's MSR. Not vmm/kvm's sd_vmm_reg: a VM traps one MSR range, and
 * that one covers only the two registration MSRs. The vCPU runs on the
 * main thread, which is also the only reader of k->reg: no RCU needed.
 */
static int kc_msr(struct sd_vcpu *v, void *ctx, bool write, u32 msr, u64 *val)
{
	struct kc_vmm *k = ctx;

	(void)v;
	if (msr == SD_MSR_TABLE) {
		struct sd_errloc loc;
		SD_HOST_OPTS(sd_host_register_opts, ro, .loc = &loc);
		int rc;

		if (!write) {
			*val = k->reg.active ? k->reg.value : 0;
			return 0;
		}
		rc = sd_host_register(&k->reg, &k->cfg, &k->mem, *val, &ro);
		k->reg_status = (u32)-rc;
		return rc ? -1 : 0;
	}
	if (msr == SD_MSR_STATUS && !write) {
		*val = k->reg_status;
		return 0;
	}
	if (msr == KC_NOTIFY_MSR && write) {
		k->msr_exits++;
		return model_update(k, *val & ~0xfffULL, 1, *val & 0xfff) ? -1 : 0;
	}
	return -1;
}

/* Run until a sync other than the baseline's exits; handles those on the way. */
static u64 kc_run(struct kc_vmm *k, struct sd_vcpu *v)
{
	for (;;) {
		int rc = sd_vcpu_run(v);

		TEST_ASSERT_EQ(rc, SD_UCALL_SYNC);
		if (v->uc.args[0] != ST_MAP)
			return v->uc.args[0];
		k->exits++;
		model_update(k, v->uc.args[1], v->uc.args[2], v->uc.args[3]);
		sd_vcpu_ucall_reply(v, 0);
	}
}

struct kc_sample {
	double *v;	/* ns per change, one per repeat */
	double *pp;	/* ns per page */
	u64 n;
	u64 changes, pages, exits;
};

static double med(double *v, u64 n)
{
	return n ? bench_median(v, n) : 0.0;
}

/* The 1-minute load average: exits wait for the scheduler, so say how busy it was. */
static double loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* Both worlds must hold the starting layout; the table also its own pages. */
static int kc_verify(struct kc_vmm *k, const struct bl_pattern *lay)
{
	struct bl_cursor *c = calloc(1, sizeof(*c));
	struct bl_rlist want;
	u64 table_pages = k->reg.geom.table_size >> 12, bad = 0;
	const struct bl_region *r;
	u64 i = 0;

	TEST_ASSERT(c, "calloc");
	/* The region list: exactly the layout's regions, one node each. */
	for (r = k->list.head; r; r = r->next, i++)
		if (i >= lay->nr || r->start != lay->r[i].gfn ||
		    r->end != lay->r[i].gfn + lay->r[i].npages)
			bad++;
	if (i != lay->nr)
		bad++;
	/* The bitmap: the layout's pages. */
	for (u64 p = 0; p < KC_SPAN; p++)
		if (sd_bit_test(k->map.bits, p) != bl_rlist_is_shared(&k->list, p)) {
			bad++;
			break;
		}
	/* The table, as host/ reads it: the layout plus the table itself. */
	bl_rlist_init(&want);
	for (u64 j = 0; j < lay->nr; j++)
		TEST_ASSERT_EQ(bl_rlist_add(&want, lay->r[j].gfn,
					    lay->r[j].gfn + lay->r[j].npages), 0);
	TEST_ASSERT_EQ(bl_rlist_add(&want, KC_TABLE_GPA >> 12,
				    (KC_TABLE_GPA >> 12) + table_pages), 0);
	bl_cursor_init(c, &k->reg, &k->mem, 4);
	for (sd_gfn_t p = 0; p < KC_SPAN; p++) {
		bool sh = false;

		/* Walk @want alongside: the pages come in order. */
		for (r = want.head; r && r->end <= p; r = r->next)
			;
		sh = r && p >= r->start;
		if (bl_cursor_state(c, p) != (sh ? SD_PAGE_SHARED : SD_PAGE_PRIVATE)) {
			fprintf(stderr, "bench_kvm_change: page %#llx: table says %d, layout %d\n",
				(unsigned long long)p, bl_cursor_state(c, p), sh);
			bad++;
			break;
		}
	}
	bl_rlist_free(&want);
	free(c);
	return bad ? -1 : 0;
}

/* Medians over repeats, and the spread. */
struct kc_fig {
	double m[K_NR], mp[K_NR], lo[K_NR], hi[K_NR];
};

static void kc_figures(struct kc_fig *f, struct kc_sample *s)
{
	for (int i = 0; i < K_NR; i++) {
		f->m[i] = med(s[i].v, s[i].n);	/* sorts s[i].v */
		f->lo[i] = s[i].v[0];
		f->hi[i] = s[i].v[s[i].n - 1];
		f->mp[i] = med(s[i].pp, s[i].n);
	}
}

static void kc_print(const struct kc_fig *f, const struct kc_sample *s, const struct kc_vmm *k,
		     double load0, double wall0)
{
	const double *m = f->m;

	printf("%-20s %14s %14s %14s %14s %9s %8s\n", "round", "ns/change", "min", "max",
	       "ns/page", "changes", "exits");
	for (int i = 0; i < K_NR; i++)
		printf("%-20s %14.1f %14.1f %14.1f %14.2f %9llu %8llu\n", kind_names[i], m[i],
		       f->lo[i], f->hi[i], f->mp[i], (unsigned long long)s[i].changes,
		       (unsigned long long)s[i].exits);
	printf("single page: protocol %.1f ns, exit %.1f ns (I/O) / %.1f ns (MSR): %.0fx / %.0fx\n",
	       m[K_P1_BC], m[K_E1_IO], m[K_E1_MSR], m[K_E1_IO] / m[K_P1_BC],
	       m[K_E1_MSR] / m[K_P1_BC]);
	printf("2 MiB range: protocol %.1f ns, exit per 4K %.1f ns (%.0fx), "
	       "one exit %.1f ns (%.0fx)\n", m[K_P2M], m[K_E2M_4K], m[K_E2M_4K] / m[K_P2M],
	       m[K_E2M_2M], m[K_E2M_2M] / m[K_P2M]);
	printf("fragmented 1..%d pages: protocol %.1f ns, exit per 4K %.1f ns (%.0fx), "
	       "per range %.1f ns (%.0fx)\n", KC_FRAG_MAX, m[K_PF], m[K_EF_4K],
	       m[K_EF_4K] / m[K_PF], m[K_EF_RANGE], m[K_EF_RANGE] / m[K_PF]);
	printf("VMM model updates: %llu, mean %.0f ns each; baseline exits %llu "
	       "(I/O %llu, MSR %llu); check: region list, bitmap and host/'s reading of the "
	       "table agree; load average %.2f -> %.2f; %.1f s\n",
	       (unsigned long long)k->model_updates, k->model_ns / (double)k->model_updates,
	       (unsigned long long)(k->exits + k->msr_exits), (unsigned long long)k->exits,
	       (unsigned long long)k->msr_exits, load0, loadavg(),
	       (bench_now_ns() - wall0) / 1e9);
}

static void kc_json(const struct kc_fig *f, const struct kc_sample *s, const struct kc_vmm *k,
		    u64 regions, int reps, double tick_ns, double load0)
{
	FILE *js = bench_json_open("bench_kvm_change");
	const double *m = f->m;

	if (!js)
		return;
	fprintf(js, "{\n  \"machine\": \"KVM guest, 1 vCPU, CPL 3, 1 GiB, "
		"typical layout (%llu regions)\",\n", (unsigned long long)regions);
	fprintf(js, "  \"repeats\": %d,\n  \"guest_tsc_ns_per_tick\": %.6f,\n"
		"  \"loadavg_start\": %.2f,\n  \"loadavg_end\": %.2f,\n", reps, tick_ns, load0,
		loadavg());
	fprintf(js, "  \"state_change_ns\": %.2f,\n  \"state_change_set_ns\": %.2f,\n",
		m[K_P1_BC], m[K_P1_SET]);
	fprintf(js, "  \"exit_notify_ns\": %.1f,\n  \"exit_notify_msr_ns\": %.1f,\n"
		"  \"exit_notify_bitmap_ns\": %.1f,\n", m[K_E1_IO], m[K_E1_MSR], m[K_E1_IO_BM]);
	fprintf(js, "  \"ratio\": %.1f,\n  \"ratio_msr\": %.1f,\n",
		m[K_E1_IO] / m[K_P1_BC], m[K_E1_MSR] / m[K_P1_BC]);
	fprintf(js, "  \"range_2m\": { \"protocol_ns\": %.1f, \"exit_per_4k_ns\": %.1f, "
		"\"exit_per_2m_ns\": %.1f, \"ratio_per_4k\": %.1f, \"ratio_per_2m\": %.1f },\n",
		m[K_P2M], m[K_E2M_4K], m[K_E2M_2M], m[K_E2M_4K] / m[K_P2M],
		m[K_E2M_2M] / m[K_P2M]);
	fprintf(js, "  \"fragmented\": { \"max_pages\": %d, \"protocol_ns\": %.1f, "
		"\"protocol_ns_per_page\": %.2f, \"exit_per_4k_ns\": %.1f, "
		"\"exit_per_range_ns\": %.1f, \"ratio_per_4k\": %.1f, "
		"\"ratio_per_range\": %.1f },\n", KC_FRAG_MAX, m[K_PF], f->mp[K_PF], m[K_EF_4K],
		m[K_EF_RANGE], m[K_EF_4K] / m[K_PF], m[K_EF_RANGE] / m[K_PF]);
	fprintf(js, "  \"rounds\": {\n");
	for (int i = 0; i < K_NR; i++)
		fprintf(js, "    \"%s\": { \"ns_per_change\": %.2f, \"min_ns\": %.2f, "
			"\"max_ns\": %.2f, \"ns_per_page\": %.3f, \"changes\": %llu, "
			"\"exits\": %llu }%s\n", kind_names[i], m[i], f->lo[i], f->hi[i], f->mp[i],
			(unsigned long long)s[i].changes, (unsigned long long)s[i].exits,
			i + 1 < K_NR ? "," : "");
	fprintf(js, "  },\n  \"baseline_exits\": %llu,\n  \"vmm_model_update_ns\": %.1f\n}\n",
		(unsigned long long)(k->exits + k->msr_exits),
		k->model_ns / (double)k->model_updates);
	fclose(js);
}

int main(void)
{
	int level = bench_level();
	int reps = level == 2 ? 1 : level == 1 ? 5 : 11;
	/* Changes per round (even: they come in pairs). */
	static const u64 counts[K_NR] = {
		[K_P1_BC] = 4096, [K_P1_SET] = 4096, [K_E1_IO] = 64, [K_E1_MSR] = 32,
		[K_E1_IO_BM] = 64, [K_P2M] = 256, [K_E2M_4K] = 2, [K_E2M_2M] = 16,
		[K_PF] = 1024, [K_EF_4K] = 16, [K_EF_RANGE] = 16,
	};
	struct kc_sample s[K_NR] = { 0 };
	struct kc_vmm k = { 0 };
	struct sd_kvm_bootinfo *bi;
	struct kc_layout *gl;
	struct bl_pattern lay = { 0 };
	struct sd_vcpu *v;
	double tick_ns, t_a, t_b, wall0, load0 = loadavg();
	struct kc_fig f;
	u64 tsc_a, tsc_b, hz_guess, stage, seed = 0x6b62656e6368ULL;

	sd_kvm_require();
	wall0 = bench_now_ns();
	k.vm = sd_vm_create();
	sd_vm_add_ram(k.vm, 0, KC_RAM, 0);
	sd_vm_load_image(k.vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	k.mem = (struct sd_host_mem){ .map = sd_vm_mem_map, .ctx = k.vm };
	k.cfg = (struct sd_host_cfg){
		.lim = { .ram_first_gfn = 0, .ram_end_gfn = KC_SPAN, .gfn_limit = SD_GFN_LIMIT,
			 .max_table_bytes = KC_TABLE_MAX },
		.phys_bits = k.vm->phys_bits,
		.max_attempts = 64,
	};
	sd_vm_set_cpuid_sd(k.vm, 1u << SD_CPUID_BIT_MSR);
	sd_vm_trap_msrs(k.vm, SD_MSR_TABLE, 3, kc_msr, &k);

	/* The starting layout, in both worlds. */
	TEST_ASSERT_EQ(bl_pattern_typical(&lay, KC_SPAN, KC_WORK_LO, KC_SPAN, seed), 0);
	TEST_ASSERT(lay.nr <= KC_MAX_LAYOUT, "layout too big");
	gl = sd_vm_hva(k.vm, KC_LAYOUT_GPA, sizeof(*gl));
	gl->nr = lay.nr;
	bl_rlist_init(&k.list);
	TEST_ASSERT_EQ(bl_encmap_init(&k.map, 0, KC_SPAN), 0);
	for (u64 i = 0; i < lay.nr; i++) {
		gl->r[i].gfn = lay.r[i].gfn;
		gl->r[i].npages = lay.r[i].npages;
		TEST_ASSERT_EQ(bl_rlist_add(&k.list, lay.r[i].gfn,
					    lay.r[i].gfn + lay.r[i].npages), 0);
		sd_bitmap_set_range(k.map.bits, lay.r[i].gfn, lay.r[i].npages);
	}

	v = sd_vm_add_vcpu(k.vm);
	bi = sd_vm_bootinfo(k.vm);
	stage = kc_run(&k, v);
	TEST_ASSERT_EQ(stage, ST_READY);
	TEST_ASSERT(v->uc.args[1] == 0 && k.reg.active,
		    "the guest's registration failed: %lld", (long long)v->uc.args[1]);

	/* The guest's TSC against CLOCK_MONOTONIC, over ~100 ms between two exits. */
	{
		u64 c0 = __rdtsc();
		double n0 = bench_now_ns();

		while (bench_now_ns() - n0 < 20e6)
			;
		hz_guess = (u64)((double)(__rdtsc() - c0) / ((bench_now_ns() - n0) / 1e9));
	}
	bi->args[ARG_COUNT] = hz_guess / 10;
	sd_vcpu_ucall_reply(v, CMD_CALIBRATE);
	TEST_ASSERT_EQ(kc_run(&k, v), ST_CAL_A);
	t_a = bench_now_ns();
	tsc_a = v->uc.args[1];
	TEST_ASSERT_EQ(kc_run(&k, v), ST_CAL_B);
	t_b = bench_now_ns();
	tsc_b = v->uc.args[1];
	tick_ns = (t_b - t_a) / (double)(tsc_b - tsc_a);

	for (int i = 0; i < K_NR; i++) {
		s[i].v = calloc((size_t)reps, sizeof(double));
		s[i].pp = calloc((size_t)reps, sizeof(double));
	}
	printf("bench_kvm_change: page-state change cost in a KVM guest (CPL 3, 1 vCPU, 1 GiB, "
	       "%llu-region typical layout), %d repeat(s); guest TSC %.4f ns/tick\n",
	       (unsigned long long)lay.nr, reps, tick_ns);
	for (int rep = 0; rep < reps; rep++) {
		for (int j = 0; j < K_NR; j++) {
			int kind = rep & 1 ? K_NR - 1 - j : j;	/* alternate the order */
			u64 e0 = k.exits + k.msr_exits;
			double ns;

			k.kind = kind;
			bi->args[ARG_KIND] = (u64)kind;
			bi->args[ARG_COUNT] = counts[kind];
			/* The same changes for every design of a class in one repeat. */
			bi->args[ARG_SEED] = seed ^ ((u64)rep << 8) ^ (u64)kc_class(kind);
			sd_vcpu_ucall_reply(v, CMD_ROUND);
			TEST_ASSERT_EQ(kc_run(&k, v), ST_RESULT);
			TEST_ASSERT(!k.model_err, "a baseline refused an exit: %d", k.model_err);
			TEST_ASSERT_EQ(v->uc.args[2], counts[kind]);
			ns = (double)v->uc.args[1] * tick_ns;
			s[kind].v[s[kind].n] = ns / (double)counts[kind];
			s[kind].pp[s[kind].n] = ns / (double)v->uc.args[3];
			s[kind].n++;
			s[kind].changes += counts[kind];
			s[kind].pages += v->uc.args[3];
			s[kind].exits += k.exits + k.msr_exits - e0;
		}
	}
	sd_vcpu_ucall_reply(v, CMD_DONE);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);

	if (kc_verify(&k, &lay)) {
		fprintf(stderr, "bench_kvm_change: the designs disagree: figures void\n");
		return 1;
	}

	kc_figures(&f, s);
	kc_print(&f, s, &k, load0, wall0);
	kc_json(&f, s, &k, lay.nr, reps, tick_ns, load0);
	for (int i = 0; i < K_NR; i++) {
		free(s[i].v);
		free(s[i].pp);
	}
	bl_pattern_free(&lay);
	bl_rlist_free(&k.list);
	bl_encmap_free(&k.map);
	sd_vm_free(k.vm);
	return 0;
}
#endif
