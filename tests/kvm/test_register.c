// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_register.c - registration by a real WRMSR exit, and a guest that
 * registers garbage: one case per registration error a guest can cause
 * over the MSR transport. For each, the VMM (host/ behind the MSR exit)
 * reports the named error, the guest sees its registration fail (guest/'s
 * named error, or #GP and the status MSR for a raw WRMSR), and the previous
 * registration stays in place.
 *
 * Registration checks the header, the memory behind the table, and the
 * table's own pages (SPEC.md 5.5); what it does not check, a table that
 * lies afterwards, is read back below: a count that lies, a padding bit,
 * a pending range outside its chunk (paused read) and a count stuck odd
 * (live read), each named by host/.
 *
 * The hypercall transport: where KVM forwards SD_HC_REGISTER (a patched
 * KVM, SPEC.md 5.2) the guest prefers it, the cases above go over it, and
 * the refusals only it can carry (SD_ERR_REG_SIZE, SD_ERR_REG_ABI, a3) are
 * checked end to end: VMMCALL -> KVM -> KVM_EXIT_HYPERCALL -> the VMM ->
 * host/ -> RAX. Where the instruction returns but KVM does not forward it
 * (stock KVM), the guest gets -KVM_ENOSYS, guest/ reports
 * SD_ERR_UNSUPPORTED, and the MSR still registers. Where the instruction
 * does not return (kvm_pvm) neither runs, and the program says so;
 * SD_EXPECT_VMMCALL=1 / SD_EXPECT_HC=1 in the environment make that a
 * failure (tests/nested sets them where they must run).
 *
 * Not covered here, and why: SD_ERR_CHUNK_RETRIES needs a count that changes between every pair of
 * loads, which a guest cannot make certain; SD_ERR_BAD_ANSWER is the guest's
 * verdict on a misbehaving host.
 */
#include "sd_kvm_abi.h"
#include "sev_donate.h"
#include "sd_types.h"
#include "validate.h"

#define MIB		(1ULL << 20)
/*
 * Boot RAM [0, 31M) in two adjacent slots, a hole, MMIO, hotplugged RAM.
 * With 512 pages per chunk the span's last chunk (15) covers [30M, 31M):
 * 256 pages, the rest padding.
 */
#define RG_SLOT0_SIZE	(16 * MIB)
#define RG_SLOT1_GPA	(16 * MIB)
#define RG_SLOT1_SIZE	(15 * MIB)
#define RG_HOLE_GPA	(31 * MIB)
#define RG_MMIO_GPA	(32 * MIB)
#define RG_MMIO_SIZE	(4 * MIB)
#define RG_HOTPLUG_GPA	(40 * MIB)
#define RG_HOTPLUG_SIZE	(8 * MIB)
#define RG_SPAN		((31 * MIB) >> 12)
#define RG_PPC		512
#define RG_LAST_CHUNK	15
#define RG_T_GPA	(20 * MIB)		/* the good table */
#define RG_G_GPA	(30 * MIB)		/* garbage, in the last chunk */
#define RG_SPLIT_GPA	(16 * MIB - 4096)	/* straddles slots 0 and 1 */
#define RG_SPLIT_SPAN	(1ULL << 16)		/* a 7-page table at 64 pages per chunk */
#define RG_PRIV_BYTES	(64 * 1024)
#define RG_ODD_CHUNK	3			/* read-back cases */
#define RG_COUNT_CHUNK	4

enum rg_kind {
	K_HDR,		/* write @value (@width bytes) at header offset @off */
	K_HDR_ADD,	/* add @value to the 8-byte header field at @off */
	K_BIT_CLEAR,	/* the table's first page: bit cleared, nr_shared - 1 */
	K_SEQ_ODD,	/* the table's chunk: count left odd */
	K_PLACEMENT,	/* a table in hotplugged RAM, its span cut to boot RAM */
	K_SPLIT,	/* a valid table across two adjacent slots */
	K_RAW_RESERVED,	/* raw WRMSR: reserved bits set */
	K_RAW_NOENABLE,	/* raw WRMSR: a GPA without the enable bit */
	K_RAW_GPA,	/* raw WRMSR: GPA at 2^MAXPHYADDR */
	K_RAW_HOLE,	/* raw WRMSR: a GPA in no slot */
	K_RAW_MMIO,	/* raw WRMSR: a GPA in MMIO */
};

struct rg_case {
	const char *name;
	int err;		/* the SD_ERR_* both sides must see */
	enum rg_kind kind;
	u32 off, width;
	u64 value;
	u64 loc_off;		/* expected error offset, or NOLOC: not checked */
};

#define NOLOC	(~0ULL)
#define H(f)	SD_HDR_OFF(f)	/* short, for the table below */

static const struct rg_case rg_cases[] = {
	{ "hdr_bad_magic", SD_ERR_HDR_MAGIC, K_HDR, H(magic), 8, 0, 0x00 },
	{ "hdr_major_2", SD_ERR_HDR_MAJOR, K_HDR, H(abi_major), 2, 2, 0x08 },
	{ "hdr_size_short", SD_ERR_HDR_SIZE, K_HDR, H(header_size), 4, 64, 0x0c },
	{ "hdr_unknown_incompat", SD_ERR_HDR_INCOMPAT, K_HDR, H(incompat_features), 8, 1, 0x18 },
	{ "geom_page_shift_13", SD_ERR_GEOM_PAGE_SHIFT, K_HDR, H(page_shift), 4, 13, 0x30 },
	{ "geom_chunk_100", SD_ERR_GEOM_CHUNK, K_HDR, H(pages_per_chunk), 4, 100, 0x34 },
	{ "geom_empty", SD_ERR_GEOM_EMPTY, K_HDR, H(nr_gfns), 8, 0, 0x28 },
	{ "geom_span_past_limit", SD_ERR_GEOM_SPAN, K_HDR, H(first_gfn), 8, 1ULL << 40, 0x28 },
	{ "geom_nr_chunks_wrong", SD_ERR_GEOM_NR_CHUNKS, K_HDR_ADD, H(nr_chunks), 8, 1, 0x38 },
	{ "geom_table_size_unaligned", SD_ERR_GEOM_TABLE_SIZE, K_HDR_ADD, H(table_size), 8, 1, 0x50 },
	{ "geom_desc_in_header", SD_ERR_GEOM_DESC, K_HDR, H(desc_offset), 8, 16, 0x40 },
	{ "geom_bitmap_overlaps_desc", SD_ERR_GEOM_BITMAP, K_HDR, H(bitmap_offset), 8, 128, 0x48 },
	{ "geom_ram_not_covered", SD_ERR_GEOM_RAM, K_HDR, H(first_gfn), 8, 1, 0x20 },
	{ "table_outside_span", SD_ERR_TABLE_PLACEMENT, K_PLACEMENT, 0, 0, 0, 0x50 },
	{ "table_page_not_shared", SD_ERR_TABLE_NOT_SHARED, K_BIT_CLEAR, 0, 0, 0, NOLOC },
	{ "chunk_stuck_odd", SD_ERR_CHUNK_ODD, K_SEQ_ODD, 0, 0, 0, NOLOC },
	{ "mem_split_across_slots", SD_ERR_MEM_SPLIT, K_SPLIT, 0, 0, 0, NOLOC },
	{ "reg_reserved_bits", SD_ERR_REG_RESERVED, K_RAW_RESERVED, 0, 0, 0, NOLOC },
	{ "reg_gpa_without_enable", SD_ERR_REG_RESERVED, K_RAW_NOENABLE, 0, 0, 0, NOLOC },
	{ "reg_gpa_beyond_maxphyaddr", SD_ERR_REG_GPA, K_RAW_GPA, 0, 0, 0, NOLOC },
	{ "mem_unbacked_hole", SD_ERR_MEM_UNBACKED, K_RAW_HOLE, 0, 0, 0, NOLOC },
	{ "mem_mmio", SD_ERR_MEM_MMIO, K_RAW_MMIO, 0, 0, 0, NOLOC },
};
#define RG_NR_CASES	(sizeof(rg_cases) / sizeof(rg_cases[0]))

enum { ST_BASE = 1, ST_CASE, ST_LIES, ST_HDR_REWRITTEN, ST_UNREGISTERED, ST_UNSUPPORTED,
       ST_STORM_DONE, ST_STATUS_DONE, ST_NOMEM, ST_HC_ENOSYS, ST_HC_MSR_OK, ST_HC_REGISTERED,
       ST_HC_CASE, ST_HC_DONE };
enum { RUN_CASES = 1, RUN_UNSUPPORTED, RUN_STORM, RUN_STATUS, RUN_NOMEM, RUN_HC_STOCK, RUN_HC };
/* bootinfo args[1]: the transport run_cases must find (1: the hypercall, 0: the MSR). */
#define RG_ARG_HC	1

/* Hypercall refusals (a0 = the GPA | flags, a1 = size, a2 = ABI major, a3). */
enum hc_gpa { HC_GOOD, HC_BEYOND, HC_HOLE, HC_MMIO };
enum hc_size { HC_SIZE_OK, HC_SIZE_NONE, HC_SIZE_PAGE_MORE, HC_SIZE_BYTE_LESS };
struct hc_case {
	const char *name;
	int err;
	enum hc_gpa gpa;
	u64 flags;		/* low bits of a0 */
	enum hc_size size;
	u64 abi, a3;
};

static const struct hc_case hc_cases[] = {
	{ "hc_size_one_page_more", SD_ERR_REG_SIZE, HC_GOOD, 1, HC_SIZE_PAGE_MORE, 1, 0 },
	{ "hc_size_one_byte_less", SD_ERR_REG_SIZE, HC_GOOD, 1, HC_SIZE_BYTE_LESS, 1, 0 },
	{ "hc_abi_major_2", SD_ERR_REG_ABI, HC_GOOD, 1, HC_SIZE_OK, 2, 0 },
	{ "hc_abi_size_both_wrong", SD_ERR_REG_SIZE, HC_GOOD, 1, HC_SIZE_PAGE_MORE, 2, 0 },
	{ "hc_a3_nonzero", SD_ERR_REG_RESERVED, HC_GOOD, 1, HC_SIZE_OK, 1, 1 },
	{ "hc_reserved_value_bits", SD_ERR_REG_RESERVED, HC_GOOD, 3, HC_SIZE_OK, 1, 0 },
	{ "hc_gpa_beyond_maxphyaddr", SD_ERR_REG_GPA, HC_BEYOND, 1, HC_SIZE_NONE, 0, 0 },
	{ "hc_unbacked_hole", SD_ERR_MEM_UNBACKED, HC_HOLE, 1, HC_SIZE_NONE, 0, 0 },
	{ "hc_mmio", SD_ERR_MEM_MMIO, HC_MMIO, 1, HC_SIZE_NONE, 0, 0 },
};
#define HC_NR_CASES	(sizeof(hc_cases) / sizeof(hc_cases[0]))
#define RG_STORM_GPA(id)	(20 * MIB + (id) * 4 * MIB)	/* one table per vCPU */
#define RG_STORM_ROUNDS		500

#ifdef SD_KVM_GUEST
/* ================================ guest ================================== */
#include "sd_rt.h"
#include "sd_guest.h"

static struct sd_guest good, bad;
static u64 priv_good[RG_PRIV_BYTES / 8], priv_bad[RG_PRIV_BYTES / 8];
static struct sd_transport transport = { .ops = &sd_rt_transport_ops };

static void table_init(struct sd_guest *g, u64 *priv, sd_gpa_t gpa, u64 span, u32 ppc)
{
	u64 bytes = sd_guest_table_bytes(0, span, ppc);

	GUEST_ASSERT(bytes && sd_guest_priv_bytes(0, span, ppc) <= RG_PRIV_BYTES);
	GUEST_ASSERT_EQ(sd_guest_init(g, 0, span, ppc, (void *)gpa, gpa, bytes, priv,
				      RG_PRIV_BYTES), 0);
}

static struct sd_table_header *hdr(struct sd_guest *g)
{
	return (struct sd_table_header *)g->table;
}

static struct sd_chunk_desc *desc(struct sd_guest *g, u64 idx)
{
	return (struct sd_chunk_desc *)(g->table + g->g.desc_offset) + idx;
}

static u8 *bits(struct sd_guest *g, u64 idx)
{
	return g->table + g->g.bitmap_offset + idx * (g->g.pages_per_chunk / 8);
}

/* Returns what the guest saw: guest/'s result, or -1 for a raw WRMSR's #GP. */
static s64 run_case(const struct rg_case *c, u32 phys_bits)
{
	u64 chunk = ((RG_G_GPA >> 12) / RG_PPC), rel = (RG_G_GPA >> 12) % RG_PPC;
	u64 v;

	switch (c->kind) {
	case K_SPLIT:
		table_init(&bad, priv_bad, RG_SPLIT_GPA, RG_SPLIT_SPAN, 64);
		return sd_guest_register(&bad, &transport);
	case K_PLACEMENT: {
		u64 span = (RG_HOTPLUG_GPA + RG_HOTPLUG_SIZE) >> 12;

		table_init(&bad, priv_bad, RG_HOTPLUG_GPA, span, RG_PPC);
		hdr(&bad)->nr_gfns = RG_SPAN;
		hdr(&bad)->nr_chunks = (RG_SPAN + RG_PPC - 1) / RG_PPC;
		return sd_guest_register(&bad, &transport);
	}
	case K_RAW_RESERVED:
		return sd_rt_wrmsr(SD_MSR_TABLE, RG_G_GPA | 0x3);
	case K_RAW_NOENABLE:
		return sd_rt_wrmsr(SD_MSR_TABLE, RG_G_GPA);
	case K_RAW_GPA:
		return sd_rt_wrmsr(SD_MSR_TABLE, (1ULL << phys_bits) | SD_REG_ENABLE);
	case K_RAW_HOLE:
		return sd_rt_wrmsr(SD_MSR_TABLE, RG_HOLE_GPA | SD_REG_ENABLE);
	case K_RAW_MMIO:
		return sd_rt_wrmsr(SD_MSR_TABLE, RG_MMIO_GPA | SD_REG_ENABLE);
	default:
		break;
	}

	/* A valid table in the last chunk, then one thing broken. */
	table_init(&bad, priv_bad, RG_G_GPA, RG_SPAN, RG_PPC);
	switch (c->kind) {
	case K_HDR:
		memcpy((u8 *)bad.table + c->off, &c->value, c->width);
		break;
	case K_HDR_ADD:
		memcpy(&v, (u8 *)bad.table + c->off, 8);
		v += c->value;
		memcpy((u8 *)bad.table + c->off, &v, 8);
		break;
	case K_BIT_CLEAR:
		bits(&bad, chunk)[rel / 8] &= (u8)~(1u << (rel % 8));
		desc(&bad, chunk)->nr_shared -= 1;
		break;
	case K_SEQ_ODD:
		desc(&bad, chunk)->seq = 1;
		break;
	default:
		GUEST_ASSERT(0);
	}
	return sd_guest_register(&bad, &transport);
}

static void run_cases(void)
{
	u32 phys_bits = (u32)sd_rt_bootinfo()->phys_bits;
	u64 val, i;

	GUEST_ASSERT_EQ(sd_transport_probe(&transport), 0);
	GUEST_ASSERT_EQ(transport.kind, sd_rt_bootinfo()->args[RG_ARG_HC] ? SD_TRANSPORT_HC :
					SD_TRANSPORT_MSR);
	table_init(&good, priv_good, RG_T_GPA, RG_SPAN, RG_PPC);
	GUEST_ASSERT_EQ(sd_guest_register(&good, &transport), 0);
	/* The MSR reads back what was registered; the status MSR is read-only. */
	GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_TABLE, &val), 0);
	GUEST_ASSERT_EQ(val, RG_T_GPA | SD_REG_ENABLE);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_STATUS, &val), 0);
	GUEST_ASSERT_EQ(val, 0);
	GUEST_ASSERT_EQ(sd_rt_wrmsr(SD_MSR_STATUS, 0), -1);
	GUEST_SYNC(ST_BASE);

	for (i = 0; i < RG_NR_CASES; i++) {
		s64 rc = run_case(&rg_cases[i], phys_bits);
		u64 status = ~0ULL, now = 0;

		GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_STATUS, &status), 0);
		/* The previous registration is still the one in place. */
		GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_TABLE, &now), 0);
		GUEST_ASSERT_EQ(now, RG_T_GPA | SD_REG_ENABLE);
		GUEST_SYNC_ARGS(ST_CASE, i, rc, status);
	}

	/* The registered table lies afterwards (guest/ never reads it back). */
	desc(&good, RG_COUNT_CHUNK)->nr_shared += 1;
	bits(&good, RG_LAST_CHUNK)[300 / 8] |= 1u << (300 % 8);	/* past the span */
	desc(&good, RG_ODD_CHUNK)->pending_first = RG_PPC - 2;	/* runs past the chunk */
	desc(&good, RG_ODD_CHUNK)->pending_count = 5;
	desc(&good, RG_ODD_CHUNK)->seq |= 1;
	GUEST_SYNC(ST_LIES);
	/* The header rewritten after registration. */
	hdr(&good)->nr_gfns -= 1;
	GUEST_SYNC(ST_HDR_REWRITTEN);
	GUEST_ASSERT_EQ(sd_guest_unregister(&good, &transport), 0);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_TABLE, &val), 0);
	GUEST_ASSERT_EQ(val, 0);
	GUEST_SYNC(ST_UNREGISTERED);
}

/* No CPUID bit: guest/ keeps its table and reports the host unsupported. */
static void run_unsupported(void)
{
	table_init(&good, priv_good, RG_T_GPA, RG_SPAN, RG_PPC);
	GUEST_ASSERT_EQ(sd_transport_probe(&transport), -SD_ERR_UNSUPPORTED);
	GUEST_ASSERT_EQ(sd_guest_register(&good, &transport), -SD_ERR_UNSUPPORTED);
	GUEST_ASSERT_EQ(sd_guest_set(&good, 100, 10, true), 0);
	/* KVM does not know the MSR: #GP, and no exit to the VMM. */
	GUEST_ASSERT_EQ(sd_rt_wrmsr(SD_MSR_TABLE, RG_T_GPA | SD_REG_ENABLE), -1);
	GUEST_SYNC(ST_UNSUPPORTED);
}

/*
 * Both vCPUs register their own table over and over, concurrently. Raw
 * WRMSRs: guest/'s read-back would rightly call the other vCPU's
 * registration a bad answer (a guest serialises its registrations).
 */
static struct sd_guest storm[2];
static u64 priv_storm[2][RG_PRIV_BYTES / 8];

static void run_storm(u32 id)
{
	u64 i;

	table_init(&storm[id], priv_storm[id], RG_STORM_GPA(id), RG_SPAN, RG_PPC);
	for (i = 0; i < RG_STORM_ROUNDS; i++)
		GUEST_ASSERT_EQ(sd_rt_wrmsr(SD_MSR_TABLE, RG_STORM_GPA(id) | SD_REG_ENABLE), 0);
	GUEST_SYNC(ST_STORM_DONE);
}

/*
 * Both vCPUs register through guest/ at once, over and over: vCPU 0 a good
 * table (accepted), vCPU 1 a table with a broken magic (refused). Each
 * reads its own answer: guest/'s result and the status MSR after it. The
 * registration never changes hands (vCPU 1's attempts all fail), so vCPU
 * 0's read-back is exact; a status shared by the VM would give vCPU 1 the
 * 0 of vCPU 0's success now and then, which guest/ calls SD_ERR_BAD_ANSWER.
 */
static void run_status(u32 id)
{
	const s64 want = id ? -SD_ERR_HDR_MAGIC : 0;
	/* Each vCPU its own: a probe rewrites the kind another vCPU may be using. */
	struct sd_transport t = { .ops = &sd_rt_transport_ops };
	u64 i, status, bad_rc = 0, bad_status = 0, first_bad = 0;
	s64 rc;

	GUEST_ASSERT_EQ(sd_transport_probe(&t), 0);
	table_init(&storm[id], priv_storm[id], RG_STORM_GPA(id), RG_SPAN, RG_PPC);
	if (id)
		hdr(&storm[id])->magic ^= 1;
	for (i = 0; i < RG_STORM_ROUNDS; i++) {
		rc = sd_guest_register(&storm[id], &t);
		if (rc != want && !bad_rc++)
			first_bad = (u64)rc;
		GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_STATUS, &status), 0);
		bad_status += status != (u64)-want;
	}
	GUEST_SYNC_ARGS(ST_STATUS_DONE, bad_rc, bad_status, first_bad);
}

/* The VMM fails to allocate the record: an answer SPEC.md 5.4 allows, then a retry. */
static void run_nomem(void)
{
	s64 rc;
	u64 status;

	GUEST_ASSERT_EQ(sd_transport_probe(&transport), 0);
	table_init(&good, priv_good, RG_T_GPA, RG_SPAN, RG_PPC);
	rc = sd_guest_register(&good, &transport);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_STATUS, &status), 0);
	GUEST_SYNC_ARGS(ST_NOMEM, (u64)rc, status, good.reg_value);
	rc = sd_guest_register(&good, &transport);
	GUEST_SYNC_ARGS(ST_NOMEM, (u64)rc, 0, good.reg_value);
}

/*
 * Stock KVM: the instruction returns, KVM does not know the number. CPUID
 * offers the MSR only; a guest that calls the hypercall anyway is told
 * -KVM_ENOSYS, which guest/ reports as SD_ERR_UNSUPPORTED, and the MSR
 * still registers.
 */
static void run_hc_stock(void)
{
	struct sd_transport hc = { .ops = &sd_rt_transport_ops, .kind = SD_TRANSPORT_HC };
	u64 val = ~0ULL;
	s64 rax;

	table_init(&good, priv_good, RG_T_GPA, RG_SPAN, RG_PPC);
	GUEST_ASSERT_EQ(sd_transport_probe(&transport), 0);
	GUEST_ASSERT_EQ(transport.kind, SD_TRANSPORT_MSR);
	rax = sd_rt_transport_ops.hypercall(NULL, SD_HC_REGISTER, RG_T_GPA | SD_REG_ENABLE,
					    good.g.table_size, SD_ABI_MAJOR, 0);
	GUEST_ASSERT_EQ(sd_guest_register(&good, &hc), -SD_ERR_UNSUPPORTED);
	GUEST_ASSERT_EQ(good.reg_value, 0);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_TABLE, &val), 0);
	GUEST_SYNC_ARGS(ST_HC_ENOSYS, rax, val, 0);
	GUEST_ASSERT_EQ(sd_guest_register(&good, &transport), 0);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_TABLE, &val), 0);
	GUEST_ASSERT_EQ(val, RG_T_GPA | SD_REG_ENABLE);
	GUEST_SYNC(ST_HC_MSR_OK);
}

/* A patched KVM: registration, refusals and unregistration by hypercall. */
static void run_hc(void)
{
	u32 phys_bits = (u32)sd_rt_bootinfo()->phys_bits;
	u64 val = 0, i;

	table_init(&good, priv_good, RG_T_GPA, RG_SPAN, RG_PPC);
	GUEST_ASSERT_EQ(sd_transport_probe(&transport), 0);
	GUEST_ASSERT_EQ(transport.kind, SD_TRANSPORT_HC);	/* both bits: the hypercall wins */
	GUEST_ASSERT_EQ(sd_guest_register(&good, &transport), 0);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_TABLE, &val), 0);
	GUEST_ASSERT_EQ(val, RG_T_GPA | SD_REG_ENABLE);
	GUEST_SYNC(ST_HC_REGISTERED);

	for (i = 0; i < HC_NR_CASES; i++) {
		const struct hc_case *c = &hc_cases[i];
		u64 size = good.g.table_size, gpa = RG_T_GPA;

		if (c->gpa == HC_BEYOND)
			gpa = 1ULL << phys_bits;
		else if (c->gpa == HC_HOLE)
			gpa = RG_HOLE_GPA;
		else if (c->gpa == HC_MMIO)
			gpa = RG_MMIO_GPA;
		if (c->size == HC_SIZE_NONE)
			size = 0;
		else if (c->size == HC_SIZE_PAGE_MORE)
			size += 4096;
		else if (c->size == HC_SIZE_BYTE_LESS)
			size -= 1;
		GUEST_SYNC_ARGS(ST_HC_CASE, i, sd_rt_transport_ops.hypercall(NULL, SD_HC_REGISTER,
				gpa | c->flags, size, c->abi, c->a3), 0);
	}
	/* No cross-check asked for (a1 = a2 = 0): the same table registers again. */
	GUEST_ASSERT_EQ(sd_rt_transport_ops.hypercall(NULL, SD_HC_REGISTER,
						      RG_T_GPA | SD_REG_ENABLE, 0, 0, 0), 0);
	GUEST_ASSERT_EQ(sd_guest_unregister(&good, &transport), 0);
	GUEST_ASSERT_EQ(sd_rt_rdmsr(SD_MSR_TABLE, &val), 0);
	GUEST_ASSERT_EQ(val, 0);
	GUEST_SYNC(ST_HC_DONE);
}

void guest_main(u32 id)
{
	switch (sd_rt_bootinfo()->args[0]) {
	case RUN_UNSUPPORTED:
		run_unsupported();
		break;
	case RUN_HC_STOCK:
		run_hc_stock();
		break;
	case RUN_HC:
		run_hc();
		break;
	case RUN_STORM:
		run_storm(id);
		break;
	case RUN_STATUS:
		run_status(id);
		break;
	case RUN_NOMEM:
		run_nomem();
		break;
	default:
		run_cases();
	}
}

#else
/* ================================ host =================================== */
#include "sd_kvm.h"
#include "sd_vmm_reg.h"

extern const char sd_guest_image[], sd_guest_image_end[];

/* @transports: SD_VMM_REG_*, or 0 for what sd_vmm_reg_create() serves here. */
static struct sd_vm *vm_new_with(bool endpoint, u32 transports, struct sd_vmm_reg **reg,
				 u32 nr_vcpus)
{
	struct sd_vm *vm = sd_vm_create();
	u32 i;

	sd_vm_add_ram(vm, 0, RG_SLOT0_SIZE, 0);
	sd_vm_add_ram(vm, RG_SLOT1_GPA, RG_SLOT1_SIZE, 0);
	sd_vm_add_mmio(vm, RG_MMIO_GPA, RG_MMIO_SIZE);
	sd_vm_add_ram(vm, RG_HOTPLUG_GPA, RG_HOTPLUG_SIZE, SD_MEM_HOTPLUG);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	*reg = !endpoint ? NULL : transports ? sd_vmm_reg_create_transports(vm, transports) :
	       sd_vmm_reg_create(vm);
	for (i = 0; i < nr_vcpus; i++)
		sd_vm_add_vcpu(vm);
	return vm;
}

static struct sd_vm *vm_new(bool endpoint, struct sd_vmm_reg **reg, u32 nr_vcpus)
{
	return vm_new_with(endpoint, 0, reg, nr_vcpus);
}

static void expect_sync(struct sd_vcpu *v, u64 stage)
{
	int rc = sd_vcpu_run(v);

	TEST_ASSERT(rc == SD_UCALL_SYNC && v->uc.args[0] == stage,
		    "want SYNC %llu, got ucall %d stage %llu", (unsigned long long)stage, rc,
		    (unsigned long long)v->uc.args[0]);
}

static void garbage_registrations_fail_with_their_named_error(void)
{
	struct sd_vmm_reg *r;
	struct sd_vm *vm = vm_new(true, &r, 1);
	struct sd_vcpu *v = vm->vcpus[0];
	struct sd_host_reg reg;
	struct sd_errloc loc;
	SD_HOST_OPTS(sd_host_read_opts, live, .max_attempts = 4, .loc = &loc);
	SD_HOST_OPTS(sd_host_read_opts, strict, .flags = SD_READ_STRICT, .max_attempts = 4,
		     .loc = &loc);
	SD_HOST_OPTS(sd_host_read_opts, paused, .flags = SD_READ_PAUSED, .loc = &loc);
	u64 scratch[SD_HOST_SCRATCH_WORDS];
	struct sd_host_chunk ch;
	u64 i, n;
	int rc;

	sd_vm_bootinfo(vm)->args[0] = RUN_CASES;
	sd_vm_bootinfo(vm)->args[RG_ARG_HC] = !!(r->transports & SD_VMM_REG_HC);
	expect_sync(v, ST_BASE);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.gpa, RG_T_GPA);
	TEST_ASSERT_EQ(reg.generation, 1);
	TEST_ASSERT_EQ(r->nr_ok, 1);

	for (i = 0; i < RG_NR_CASES; i++) {
		const struct rg_case *c = &rg_cases[i];
		bool raw = c->kind >= K_RAW_RESERVED;
		s64 guest_rc;

		expect_sync(v, ST_CASE);
		TEST_ASSERT_EQ(v->uc.args[1], i);
		guest_rc = (s64)v->uc.args[2];
		printf("register: %-28s VMM: %-24s at chunk %lld offset %#llx; guest: %s, status %llu\n",
		       c->name, sd_err_name(r->last[0].err), (long long)r->last[0].loc.chunk,
		       (unsigned long long)r->last[0].loc.offset,
		       raw ? (guest_rc == -1 ? "#GP" : "no #GP") : sd_err_name((int)guest_rc),
		       (unsigned long long)v->uc.args[3]);
		/* The VMM saw the named error... */
		TEST_ASSERT(r->last[0].err == -c->err, "%s: VMM got %s, want %s", c->name,
			    sd_err_name(r->last[0].err), sd_err_name(-c->err));
		if (c->loc_off != NOLOC)
			TEST_ASSERT_EQ(r->last[0].loc.offset, c->loc_off);
		TEST_ASSERT_EQ(sd_vmm_reg_status(r), (u32)c->err);
		TEST_ASSERT_EQ(sd_vmm_reg_vcpu_status(r, 0), (u32)c->err);
		/* ...the guest saw its registration fail, with the reason... */
		TEST_ASSERT_EQ(v->uc.args[3], (u64)c->err);
		if (raw)
			TEST_ASSERT_EQ(guest_rc, -1);
		else
			TEST_ASSERT(guest_rc == -c->err, "%s: guest got %s, want %s", c->name,
				    sd_err_name((int)guest_rc), sd_err_name(-c->err));
		/* ...and the good registration stayed. */
		TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
		TEST_ASSERT_EQ(reg.gpa, RG_T_GPA);
		TEST_ASSERT_EQ(reg.generation, 1);
	}
	TEST_ASSERT_EQ(r->nr_failed, RG_NR_CASES);
	TEST_ASSERT_EQ(r->nr_ok, 1);

	/* What the registered table says afterwards is read, and named. */
	expect_sync(v, ST_LIES);
	rc = sd_host_read_chunk(&reg, &r->mem, RG_COUNT_CHUNK, scratch, &ch, &live);
	TEST_ASSERT(rc == -SD_ERR_CHUNK_COUNT && loc.chunk == RG_COUNT_CHUNK,
		    "count that lies: %s", sd_err_name(rc));
	/* The last chunk is otherwise all private: only a strict read looks at its bits. */
	rc = sd_host_read_chunk(&reg, &r->mem, RG_LAST_CHUNK, scratch, &ch, &live);
	TEST_ASSERT(rc == 0 && ch.summary, "summary read: %s", sd_err_name(rc));
	rc = sd_host_read_chunk(&reg, &r->mem, RG_LAST_CHUNK, scratch, &ch, &strict);
	TEST_ASSERT(rc == -SD_ERR_CHUNK_PAD && loc.chunk == RG_LAST_CHUNK,
		    "padding bit: %s", sd_err_name(rc));
	/* The vCPU is stopped: a paused read decides the odd chunk, and names its range. */
	rc = sd_host_read_chunk(&reg, &r->mem, RG_ODD_CHUNK, scratch, &ch, &paused);
	TEST_ASSERT(rc == -SD_ERR_CHUNK_PENDING && loc.chunk == RG_ODD_CHUNK,
		    "paused read: %s", sd_err_name(rc));
	rc = sd_host_read_chunk(&reg, &r->mem, RG_ODD_CHUNK, scratch, &ch, &live);
	TEST_ASSERT(rc == -SD_ERR_CHUNK_ODD, "live read: %s", sd_err_name(rc));

	expect_sync(v, ST_HDR_REWRITTEN);
	rc = sd_host_check_header(&reg, &r->mem, &loc);
	TEST_ASSERT(rc == -SD_ERR_HDR_CHANGED, "check_header: %s", sd_err_name(rc));

	expect_sync(v, ST_UNREGISTERED);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), -SD_ERR_NO_TABLE);
	TEST_ASSERT_EQ(reg.generation, 2);
	TEST_ASSERT_EQ(sd_vmm_reg_status(r), 0);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	/* Over the hypercall where it is served: every guest/ registration, one exit each. */
	for (i = 0, n = 0; i < RG_NR_CASES; i++)
		n += rg_cases[i].kind < K_RAW_RESERVED;
	TEST_ASSERT_EQ(r->nr_hc, r->transports & SD_VMM_REG_HC ? n + 2 : 0);
	TEST_ASSERT_EQ(v->nr_hc_exits, r->nr_hc);
	printf("register: %llu garbage registrations refused, each with its named error "
	       "(guest/ over the %s)\n", (unsigned long long)RG_NR_CASES,
	       r->transports & SD_VMM_REG_HC ? "hypercall" : "MSR");
	sd_vmm_reg_destroy(r);
	sd_vm_free(vm);
}

static void no_cpuid_bit_means_unsupported_and_no_exit(void)
{
	struct sd_vmm_reg *r;
	struct sd_vm *vm = vm_new(false, &r, 1);
	struct sd_vcpu *v = vm->vcpus[0];

	sd_vm_bootinfo(vm)->args[0] = RUN_UNSUPPORTED;
	expect_sync(v, ST_UNSUPPORTED);
	TEST_ASSERT_EQ(v->nr_msr_exits, 0);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	sd_vm_free(vm);
}

static void *storm_vcpu(struct sd_vcpu *v, void *arg)
{
	(void)arg;
	expect_sync(v, ST_STORM_DONE);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	return NULL;
}

static void concurrent_registrations_lose_no_generation(void)
{
	struct sd_vmm_reg *r;
	struct sd_vm *vm = vm_new(true, &r, 2);
	struct sd_host_reg reg;
	u32 i;

	sd_vm_bootinfo(vm)->args[0] = RUN_STORM;
	for (i = 0; i < 2; i++)
		sd_vcpu_thread_start(vm->vcpus[i], storm_vcpu, NULL);
	for (i = 0; i < 2; i++)
		sd_vcpu_thread_join(vm->vcpus[i]);
	/* Every registration was published exactly once, none overwritten unseen. */
	TEST_ASSERT_EQ(r->nr_ok, 2 * RG_STORM_ROUNDS);
	TEST_ASSERT_EQ(r->nr_failed, 0);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.generation, 2 * RG_STORM_ROUNDS);
	TEST_ASSERT(reg.gpa == RG_STORM_GPA(0) || reg.gpa == RG_STORM_GPA(1), "gpa %#llx",
		    (unsigned long long)reg.gpa);
	/* After a grace period every replaced record is freed: one left. */
	sd_vmm_reg_quiesce(r);
	TEST_ASSERT_EQ(r->nr_live_records, 1);
	printf("register: %u concurrent registrations, %llu publication races retried\n",
	       2 * RG_STORM_ROUNDS, (unsigned long long)r->nr_publish_races);
	sd_vmm_reg_destroy(r);
	sd_vm_free(vm);
}

static void *status_vcpu(struct sd_vcpu *v, void *arg)
{
	(void)arg;
	expect_sync(v, ST_STATUS_DONE);
	/* Stopped at its ucall: its results, and what the VMM says it answered it last. */
	TEST_ASSERT(v->uc.args[1] == 0 && v->uc.args[2] == 0,
		    "vCPU %u: %llu of %u registrations got another answer (the first: %s), %llu "
		    "statuses were not its own", v->id, (unsigned long long)v->uc.args[1],
		    RG_STORM_ROUNDS, v->uc.args[1] ? sd_err_name((int)(s64)v->uc.args[3]) : "-",
		    (unsigned long long)v->uc.args[2]);
	TEST_ASSERT_EQ(sd_vmm_reg_vcpu_status(v->vm->priv, v->id), v->id ? SD_ERR_HDR_MAGIC : 0);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	return NULL;
}

static void each_vcpu_reads_its_own_status(void)
{
	struct sd_vmm_reg *r;
	struct sd_vm *vm = vm_new(true, &r, 2);
	struct sd_host_reg reg;
	u32 i;

	sd_vm_bootinfo(vm)->args[0] = RUN_STATUS;
	for (i = 0; i < 2; i++)
		sd_vcpu_thread_start(vm->vcpus[i], status_vcpu, NULL);
	for (i = 0; i < 2; i++)
		sd_vcpu_thread_join(vm->vcpus[i]);
	TEST_ASSERT_EQ(r->nr_ok, RG_STORM_ROUNDS);
	TEST_ASSERT_EQ(r->nr_failed, RG_STORM_ROUNDS);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.gpa, RG_STORM_GPA(0));
	TEST_ASSERT_EQ(reg.generation, RG_STORM_ROUNDS);
	printf("register: 2 vCPUs x %u concurrent registrations (one accepted, one refused "
	       "each round): every vCPU read its own status\n", RG_STORM_ROUNDS);
	sd_vmm_reg_destroy(r);
	sd_vm_free(vm);
}

static void failed_allocation_is_answered_unsupported(void)
{
	struct sd_vmm_reg *r;
	struct sd_vm *vm = vm_new(true, &r, 1);
	struct sd_vcpu *v = vm->vcpus[0];
	struct sd_host_reg reg;

	sd_vm_bootinfo(vm)->args[0] = RUN_NOMEM;
	r->fail_allocs = 1;
	expect_sync(v, ST_NOMEM);
	/* An answer from SPEC.md 5.4's list, hence a clean refusal: nothing held. */
	TEST_ASSERT(r->last[0].err == -SD_ERR_UNSUPPORTED, "VMM answered %s",
		    sd_err_name(r->last[0].err));
	TEST_ASSERT_EQ(v->uc.args[2], SD_ERR_UNSUPPORTED);
	TEST_ASSERT((s64)v->uc.args[1] == -SD_ERR_UNSUPPORTED, "guest got %s",
		    sd_err_name((int)(s64)v->uc.args[1]));
	TEST_ASSERT_EQ(v->uc.args[3], 0);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), -SD_ERR_NO_TABLE);
	TEST_ASSERT_EQ(r->fail_allocs, 0);
	/* Memory again: the same registration goes through. */
	expect_sync(v, ST_NOMEM);
	TEST_ASSERT_EQ(v->uc.args[1], 0);
	TEST_ASSERT_EQ(v->uc.args[3], RG_T_GPA | SD_REG_ENABLE);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.generation, 1);
	TEST_ASSERT_EQ(r->nr_failed, 1);
	TEST_ASSERT_EQ(r->nr_ok, 1);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	sd_vmm_reg_destroy(r);
	sd_vm_free(vm);
}

/*
 * A migration destination: a copy of the source's memory, and the
 * registration value installed by the VMM through host/ (validated against
 * the copy), then refused once the copy's table is broken.
 */
static void registration_restores_on_a_copy_of_memory(void)
{
	struct sd_vmm_reg *ra, *rb;
	struct sd_vm *a = vm_new(true, &ra, 1), *b = vm_new(true, &rb, 1);
	struct sd_host_reg src, dst;
	struct sd_vmm_reg_attempt at;
	u32 i;

	sd_vm_bootinfo(a)->args[0] = RUN_CASES;
	sd_vm_bootinfo(a)->args[RG_ARG_HC] = !!(ra->transports & SD_VMM_REG_HC);
	expect_sync(a->vcpus[0], ST_BASE);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(ra, &src), 0);
	for (i = 0; i < a->nr_regions; i++)
		memcpy(b->regions[i].hva, a->regions[i].hva, a->regions[i].size);

	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(rb, &dst), -SD_ERR_NO_TABLE);
	TEST_ASSERT_EQ(sd_vmm_reg_restore(rb, src.value, &at), 0);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(rb, &dst), 0);
	TEST_ASSERT_EQ(dst.gpa, src.gpa);
	TEST_ASSERT_EQ(dst.generation, 1);
	TEST_ASSERT(!memcmp(&dst.geom, &src.geom, sizeof(dst.geom)), "same geometry");
	TEST_ASSERT(!memcmp(&dst.hdr, &src.hdr, sizeof(dst.hdr)), "same header");

	/* The copy's table broken: refused with its name, the registration stays. */
	memset(sd_vm_hva(b, src.gpa, 8), 0, 8);
	TEST_ASSERT_EQ(sd_vmm_reg_restore(rb, src.value, &at), -SD_ERR_HDR_MAGIC);
	TEST_ASSERT_EQ(at.loc.offset, 0);
	TEST_ASSERT_EQ(sd_vmm_reg_status(rb), SD_ERR_HDR_MAGIC);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(rb, &dst), 0);
	TEST_ASSERT_EQ(dst.generation, 1);
	sd_vmm_reg_destroy(ra);
	sd_vmm_reg_destroy(rb);
	sd_vm_free(a);
	sd_vm_free(b);
}

/* Whether the environment says a case must run here (tests/nested sets it). */
static bool expected(const char *var)
{
	const char *e = getenv(var);

	return e && !strcmp(e, "1");
}

static void hypercall_on_stock_kvm_is_unsupported_and_msr_registers(void)
{
	const struct sd_kvm_hc_probe *hp = sd_kvm_hypercall_probe();
	struct sd_vmm_reg *r;
	struct sd_vm *vm;
	struct sd_vcpu *v;
	struct sd_host_reg reg;

	if (!hp->insn) {
		TEST_ASSERT(!expected("SD_EXPECT_VMMCALL"), "SD_EXPECT_VMMCALL=1, but: %s",
			    hp->why);
		printf("register: stock-KVM hypercall case not run: %s\n", hp->why);
		return;
	}
	vm = vm_new_with(true, SD_VMM_REG_MSR, &r, 1);	/* KVM forwards nothing */
	v = vm->vcpus[0];
	TEST_ASSERT_EQ(sd_vm_enable_hypercall(vm), hp->insn);
	sd_vm_bootinfo(vm)->args[0] = RUN_HC_STOCK;
	expect_sync(v, ST_HC_ENOSYS);
	/* KVM answered the guest itself: -KVM_ENOSYS in all 64 bits, no exit, no attempt. */
	TEST_ASSERT_EQ(v->uc.args[1], (u64)-SD_KVM_ENOSYS);
	TEST_ASSERT_EQ(v->uc.args[2], 0);
	TEST_ASSERT_EQ(v->nr_hc_exits, 0);
	TEST_ASSERT_EQ(r->nr_attempts, 0);
	expect_sync(v, ST_HC_MSR_OK);
	TEST_ASSERT_EQ(r->nr_ok, 1);
	TEST_ASSERT_EQ(r->nr_hc, 0);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.gpa, RG_T_GPA);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	printf("register: %s with SD_HC_REGISTER unforwarded: RAX %#llx (-KVM_ENOSYS), guest/: "
	       "SD_ERR_UNSUPPORTED; the MSR registered\n",
	       hp->insn == SD_KVM_HC_VMMCALL ? "VMMCALL" : "VMCALL",
	       (unsigned long long)(u64)-SD_KVM_ENOSYS);
	sd_vmm_reg_destroy(r);
	sd_vm_free(vm);
}

/* One hypercall refusal: the guest's RAX, the VMM's error, the status MSR, no change. */
static void expect_hc_refusal(struct sd_vcpu *v, struct sd_vmm_reg *r, u64 i)
{
	const struct hc_case *c = &hc_cases[i];
	struct sd_host_reg reg;
	u64 exits = v->nr_hc_exits;

	expect_sync(v, ST_HC_CASE);
	TEST_ASSERT_EQ(v->uc.args[1], i);
	printf("register (hypercall): %-26s VMM: %-22s guest RAX: %lld (%s)\n", c->name,
	       sd_err_name(r->last[0].err), (long long)v->uc.args[2],
	       sd_err_name((int)(s64)v->uc.args[2]));
	TEST_ASSERT(r->last[0].err == -c->err, "%s: VMM got %s, want %s", c->name,
		    sd_err_name(r->last[0].err), sd_err_name(-c->err));
	TEST_ASSERT_EQ(v->uc.args[2], (u64)(s64)-c->err);
	TEST_ASSERT_EQ(sd_vmm_reg_status(r), (u32)c->err);
	TEST_ASSERT_EQ(v->nr_hc_exits, exits + 1);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.gpa, RG_T_GPA);
	TEST_ASSERT_EQ(reg.generation, 1);
}

static void hypercall_registers_and_carries_its_refusals(void)
{
	struct sd_vmm_reg *r;
	struct sd_vm *vm;
	struct sd_vcpu *v;
	struct sd_host_reg reg;
	u64 i;

	if (!sd_kvm_caps()->hc_register) {
		TEST_ASSERT(!expected("SD_EXPECT_HC"), "SD_EXPECT_HC=1, but KVM does not forward "
			    "SD_HC_REGISTER (forwardable: %#llx)",
			    (unsigned long long)sd_kvm_caps()->exit_hypercall);
		printf("register: hypercall transport not run: this KVM does not forward "
		       "SD_HC_REGISTER (a patched KVM does: patches/kvm)\n");
		return;
	}
	vm = vm_new_with(true, SD_VMM_REG_MSR | SD_VMM_REG_HC, &r, 1);
	v = vm->vcpus[0];
	sd_vm_bootinfo(vm)->args[0] = RUN_HC;
	expect_sync(v, ST_HC_REGISTERED);
	TEST_ASSERT_EQ(r->nr_hc, 1);
	TEST_ASSERT_EQ(v->nr_hc_exits, 1);
	TEST_ASSERT_EQ(r->last[0].err, 0);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), 0);
	TEST_ASSERT_EQ(reg.gpa, RG_T_GPA);
	TEST_ASSERT_EQ(reg.generation, 1);
	for (i = 0; i < HC_NR_CASES; i++)
		expect_hc_refusal(v, r, i);
	expect_sync(v, ST_HC_DONE);
	/* The re-registration without cross-checks, then the unregistration. */
	TEST_ASSERT_EQ(r->nr_hc, 1 + HC_NR_CASES + 2);
	TEST_ASSERT_EQ(v->nr_hc_exits, r->nr_hc);
	TEST_ASSERT_EQ(r->nr_ok, 3);
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(r, &reg), -SD_ERR_NO_TABLE);
	TEST_ASSERT_EQ(reg.generation, 3);
	TEST_ASSERT_EQ(sd_vcpu_run(v), SD_UCALL_DONE);
	printf("register: by hypercall: registered, %llu refusals with their named errors in RAX, "
	       "re-registered, unregistered; %llu exits\n", (unsigned long long)HC_NR_CASES,
	       (unsigned long long)v->nr_hc_exits);
	sd_vmm_reg_destroy(r);
	sd_vm_free(vm);
}

int main(void)
{
	sd_kvm_require();
	setvbuf(stdout, NULL, _IOLBF, 0);
	sd_thread_rcu_register();
	garbage_registrations_fail_with_their_named_error();
	printf("ok: garbage_registrations_fail_with_their_named_error\n");
	no_cpuid_bit_means_unsupported_and_no_exit();
	printf("ok: no_cpuid_bit_means_unsupported_and_no_exit\n");
	concurrent_registrations_lose_no_generation();
	printf("ok: concurrent_registrations_lose_no_generation\n");
	registration_restores_on_a_copy_of_memory();
	printf("ok: registration_restores_on_a_copy_of_memory\n");
	each_vcpu_reads_its_own_status();
	printf("ok: each_vcpu_reads_its_own_status\n");
	failed_allocation_is_answered_unsupported();
	printf("ok: failed_allocation_is_answered_unsupported\n");
	hypercall_on_stock_kvm_is_unsupported_and_msr_registers();
	printf("ok: hypercall_on_stock_kvm_is_unsupported_and_msr_registers\n");
	hypercall_registers_and_carries_its_refusals();
	printf("ok: hypercall_registers_and_carries_its_refusals\n");
	sd_thread_rcu_unregister();
	return 0;
}
#endif
