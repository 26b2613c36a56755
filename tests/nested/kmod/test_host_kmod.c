// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_host_kmod.c - every conformance vector (SPEC.md 10) through host/
 * built into a kernel module (sd_host_kmod.ko, /dev/sd_host_kmod), and
 * faults that are real: pages the kernel's copy_from_user() and get_user()
 * cannot read.
 *
 * For each vector and mode, SPEC.md 10.4's strict read, with guest memory
 * in this process: each region of the vector's memory map (tests/lib/cvec)
 * becomes a slot backed by an anonymous mapping holding the image's bytes
 * (RAM), a PROT_NONE mapping (memory whose every access faults), or no
 * backing (MMIO). The module registers, the vector's `after` mutations are
 * written into the mapping, the module re-checks the header and walks
 * strictly, one attempt per chunk. The verdict and its location must be the
 * manifest's, and so must the counts; and everything must be what host/
 * linked into this program finds through map() over the same vector: the
 * same runs, the same bytes read. A valid image's summary walk in the
 * kernel must find the same runs as its strict one.
 *
 * Then the faults (the 9-page table of valid_default_chunk_1g): a slot
 * backed by an unmapped address and one backed by a kernel address refuse
 * the registration with SD_ERR_MEM_FAULT; after a registration, a
 * PROT_NONE header page fails the header check (copy_from_user) and the
 * walk's first count load (get_user), and a PROT_NONE bitmap page fails the
 * walk at the first chunk whose bits lie there, after a prefix of the runs;
 * with the pages readable again the walk finds everything.
 *
 * Ends with "test_host_kmod: N passed, N failed, N skipped". SKIP (77)
 * without /dev/sd_host_kmod (tests/nested/guest-plan.sh loads the module).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "host_util.h"
#include "cvec.h"
#include "sd_host_kmod.h"

#define KM_DEV		"/dev/" SDK_DEVICE
#define KM_MAX_RUNS	4096
#define KM_PAGE		4096ULL
/* The largest region a vector's memory map has is 126 MiB (reserved, touched only where written). */
#define KM_MAX_REGION	(1ULL << 30)

static struct cvec *vs;
static int nvs;

/* One vector's guest memory, as slots over this process's mappings. */
struct km {
	struct cvec_mem cm;		/* the image (and the `after` mutations) */
	struct sdk_mem mem;
	void *maps[SDK_MAX_SLOTS];
	size_t map_len[SDK_MAX_SLOTS];
	int fd;				/* the module: one registration per open */
};

static int km_ioctl(struct km *k, unsigned long cmd, void *req)
{
	int rc = ioctl(k->fd, cmd, req);

	if (rc)
		fail_msg("ioctl %#lx on %s: %s", cmd, KM_DEV, strerror(errno));
	return rc;
}

/* Copy the image's bytes (as cvec_mem holds them now) into the RAM slots it overlaps. */
static void km_sync(struct km *k)
{
	const struct cvec *v = k->cm.v;

	for (u32 i = 0; i < k->mem.nr_slots; i++) {
		const struct sdk_slot *s = &k->mem.slots[i];
		const struct cvec_region *r = &k->cm.regions[i];
		sd_gpa_t lo = SD_MAX(s->gpa, v->gpa), hi = SD_MIN(s->gpa + s->size, v->gpa + v->len);

		if (r->kind == CVEC_RAM && lo < hi)
			memcpy((u8 *)(uintptr_t)s->uaddr + (lo - s->gpa), k->cm.img + (lo - v->gpa),
			       hi - lo);
	}
}

/* Open the device and give it @v's memory map and host configuration. */
static void km_init(struct km *k, const struct cvec *v)
{
	memset(k, 0, sizeof(*k));
	cvec_mem_init(&k->cm, v);
	assert_true(k->cm.nr_regions <= SDK_MAX_SLOTS);
	k->mem.nr_slots = (u32)k->cm.nr_regions;
	k->mem.phys_bits = v->maxphyaddr;
	k->mem.max_attempts = 1;
	k->mem.lim = v->lim;
	for (int i = 0; i < k->cm.nr_regions; i++) {
		const struct cvec_region *r = &k->cm.regions[i];
		struct sdk_slot *s = &k->mem.slots[i];
		u64 in_page = r->lo & (KM_PAGE - 1);

		*s = (struct sdk_slot){ .gpa = r->lo, .size = r->hi - r->lo };
		if (r->kind == CVEC_MMIO) {
			s->flags = SDK_SLOT_MMIO;
			continue;
		}
		if (s->size > KM_MAX_REGION)
			fail_msg("%s: region %d is %llu bytes, more than this runner maps", v->name,
				 i, (unsigned long long)s->size);
		k->map_len[i] = SD_ALIGN_UP(in_page + s->size, KM_PAGE);
		k->maps[i] = mmap(NULL, k->map_len[i],
				  r->kind == CVEC_RAM ? PROT_READ | PROT_WRITE : PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(k->maps[i] != MAP_FAILED);
		s->uaddr = (u64)(uintptr_t)k->maps[i] + in_page;
	}
	km_sync(k);
	k->fd = open(KM_DEV, O_RDWR | O_CLOEXEC);
	if (k->fd < 0)
		fail_msg("open %s: %s", KM_DEV, strerror(errno));
	km_ioctl(k, SDK_SET_MEM, &k->mem);
}

static void km_set_mem(struct km *k)
{
	km_ioctl(k, SDK_SET_MEM, &k->mem);
}

static void km_free(struct km *k)
{
	close(k->fd);
	for (int i = 0; i < SDK_MAX_SLOTS; i++)
		if (k->maps[i])
			munmap(k->maps[i], k->map_len[i]);
	cvec_mem_free(&k->cm);
}

static int km_register(struct km *k, u32 flags, struct sdk_register *r)
{
	const struct cvec *v = k->cm.v;

	*r = (struct sdk_register){ .value = v->reg, .flags = flags, .hc = v->hc,
				    .hc_args = { v->hc_args[0], v->hc_args[1], v->hc_args[2] } };
	km_ioctl(k, SDK_REGISTER, r);
	return r->rc;
}

static int km_check_header(struct km *k, struct sdk_loc *loc)
{
	struct sdk_check c = { 0 };

	km_ioctl(k, SDK_CHECK_HEADER, &c);
	*loc = c.loc;
	return c.rc;
}

/* A walk in the kernel; its runs into @out, which must then hold exactly what it counted. */
static int km_walk(struct km *k, u32 flags, struct sdk_walk *w, struct truns *out)
{
	static struct sdk_run runs[KM_MAX_RUNS];

	*w = (struct sdk_walk){ .flags = flags, .max_attempts = 1,
				.runs = (u64)(uintptr_t)runs, .max_runs = KM_MAX_RUNS };
	km_ioctl(k, SDK_WALK, w);
	assert_true(w->nr_runs <= KM_MAX_RUNS);
	for (u64 i = 0; i < w->nr_runs; i++)
		truns_fn(out, runs[i].gfn, runs[i].npages, runs[i].state);
	for (int s = 0; s < 4; s++) {
		assert_int_equal(out->pages[s], w->pages[s]);
		assert_int_equal(out->runs[s], w->nr_state[s]);
	}
	return w->rc;
}

/* ---- the same strict read through host/ in this process (map() over cvec_mem) ---- */

struct uref {
	int rc;
	struct sd_errloc loc;
	struct sd_host_stats st;	/* the registration's and the walk's */
	struct truns runs;
};

static void uref_read(const struct cvec *v, u32 flags, struct uref *u)
{
	struct cvec_mem cm;
	struct sd_host_mem mem = { .map = cvec_mem_map, .ctx = &cm };
	struct sd_host_cfg cfg = { .lim = v->lim, .phys_bits = v->maxphyaddr, .max_attempts = 1 };
	struct sd_hc_args hc = { v->hc_args[0], v->hc_args[1], v->hc_args[2] };
	struct sd_host_reg reg = { 0 };
	u64 *scratch = calloc(SD_HOST_SCRATCH_WORDS, sizeof(u64));
	SD_HOST_OPTS(sd_host_register_opts, ro, .flags = flags, .hc = v->hc ? &hc : NULL,
		     .stats = &u->st, .loc = &u->loc);
	SD_HOST_OPTS(sd_host_walk_opts, wo, .flags = flags | SD_READ_STRICT, .max_attempts = 1,
		     .fn = truns_fn, .ctx = &u->runs, .stats = &u->st, .loc = &u->loc);

	memset(u, 0, sizeof(*u));
	u->loc = (struct sd_errloc){ 0, SD_LOC_NONE, SD_LOC_NONE };
	cvec_mem_init(&cm, v);
	u->rc = sd_host_register(&reg, &cfg, &mem, v->reg, &ro);
	if (!u->rc) {
		cvec_mem_after(&cm);
		u->rc = sd_host_check_header(&reg, &mem, &u->loc);
	}
	if (!u->rc)
		u->rc = sd_host_walk(&reg, &mem, scratch, &wo);
	cvec_mem_free(&cm);
	free(scratch);
}

/* ---- every vector, live and paused ------------------------------------------- */

struct kcase {
	const struct cvec *v;
	bool paused;
	char name[80];
};

static void assert_verdict(const struct cvec *v, const char *mode, int rc,
			   const struct sdk_loc *loc, const struct cverdict *want)
{
	if (rc != want->err || (rc && (loc->chunk != want->chunk || loc->offset != want->offset)))
		fail_msg("%s (%s, in the kernel): got %s at %lld:%#llx, want %s at %lld:%#llx",
			 v->name, mode, sd_err_name(rc), (long long)loc->chunk,
			 (unsigned long long)loc->offset, sd_err_name(want->err),
			 (long long)want->chunk, (unsigned long long)want->offset);
	if (rc)
		assert_int_equal(loc->err, rc);
}

static void vector_in_kernel(void **state)
{
	const struct kcase *c = *state;
	const struct cvec *v = c->v;
	const struct cverdict *want = c->paused ? &v->paused : &v->live;
	u32 flags = c->paused ? SD_READ_PAUSED : 0;
	struct km *k = calloc(1, sizeof(*k));
	struct sdk_register r;
	struct sdk_walk w = { 0 };
	struct sdk_loc loc;
	struct truns runs = { 0 }, summary = { 0 };
	struct uref u;
	u64 bytes;
	int rc;

	km_init(k, v);
	rc = km_register(k, flags, &r);				/* 10.4 step 1 */
	loc = r.loc;
	bytes = r.stats.bytes;
	if (!rc) {
		/* Installed, or (a value of 0) dropped: a new generation either way. */
		assert_int_equal(r.active, v->reg != 0);
		assert_int_equal(r.generation, 1);
		cvec_mem_after(&k->cm);				/* step 2 */
		km_sync(k);
		rc = km_check_header(k, &loc);			/* step 3 */
	} else {
		assert_false(r.active);
		assert_int_equal(r.generation, 0);
	}
	if (!rc) {						/* step 4 */
		rc = km_walk(k, flags | SD_READ_STRICT, &w, &runs);
		loc = w.loc;
		bytes += w.stats.bytes;
	}
	assert_verdict(v, c->paused ? "paused" : "live", rc, &loc, want);

	/* host/ in this process, over the same vector: the same verdict, runs and work. */
	uref_read(v, flags, &u);
	assert_int_equal(u.rc, rc);
	assert_int_equal(u.loc.chunk, loc.chunk);
	assert_int_equal(u.loc.offset, loc.offset);
	truns_assert_equal(&runs, &u.runs);
	assert_int_equal(bytes, u.st.bytes);

	if (!rc) {
		assert_int_equal(w.pages[SD_PAGE_SHARED], want->shared);
		assert_int_equal(w.pages[SD_PAGE_TRANSITION], want->transition);
		assert_int_equal(w.nr_state[SD_PAGE_SHARED], want->extents);
		assert_int_equal(w.pages[SD_PAGE_UNSETTLED], 0);
		/* A static image settles at the first attempt of every chunk. */
		assert_int_equal(w.stats.retries, 0);
		assert_int_equal(w.stats.attempts, w.stats.chunks);
		/* Summary reads skip uniform bitmaps and find the same runs. */
		assert_int_equal(km_walk(k, flags, &w, &summary), 0);
		truns_assert_equal(&summary, &runs);
	}
	truns_reset(&runs);
	truns_reset(&summary);
	truns_reset(&u.runs);
	km_free(k);
	free(k);
}

/* ---- faults the kernel takes for real ------------------------------------------ */

#define F_VECTOR	"valid_default_chunk_1g"	/* a 9-page table: header page, 8 bitmap pages */

static const struct cvec *fault_vector(void)
{
	const struct cvec *v = cvec_find(vs, nvs, F_VECTOR);

	assert_non_null(v);
	assert_int_equal(v->nr_regions, 0);		/* one slot, exactly the table */
	assert_int_equal(v->live.err, 0);
	assert_true(v->len >= 9 * KM_PAGE);
	return v;
}

/* The registration refused with SD_ERR_MEM_FAULT, where every memory error is, and nothing kept. */
static void assert_reg_faults(struct km *k)
{
	struct sdk_register r;
	struct sdk_walk w;
	struct truns runs = { 0 };

	assert_sd_err(km_register(k, 0, &r), r.loc, SD_ERR_MEM_FAULT, SD_LOC_NONE, 0);
	assert_int_equal(r.loc.chunk, SD_LOC_NONE);
	assert_false(r.active);
	assert_int_equal(r.generation, 0);
	assert_int_equal(km_walk(k, 0, &w, &runs), -SD_ERR_NO_TABLE);
	assert_int_equal(runs.n, 0);
}

static void registration_faults_on_an_unmapped_slot(void **state)
{
	struct km *k = calloc(1, sizeof(*k));

	(void)state;
	km_init(k, fault_vector());
	/* The slot's backing goes away: its address is no longer mapped at all. */
	assert_int_equal(munmap(k->maps[0], k->map_len[0]), 0);
	k->maps[0] = NULL;
	assert_reg_faults(k);
	km_free(k);
	free(k);
}

static void registration_faults_on_a_kernel_address(void **state)
{
	struct km *k = calloc(1, sizeof(*k));

	(void)state;
	km_init(k, fault_vector());
	/* A VMM's bad address must not make the kernel read its own memory (access_ok). */
	k->mem.slots[0].uaddr = 0xffff888000000000ULL + (k->mem.slots[0].gpa & (KM_PAGE - 1));
	km_set_mem(k);
	assert_reg_faults(k);
	km_free(k);
	free(k);
}

/* @v registered in @k; its full strict walk's runs into @all. */
static void fault_setup(struct km *k, const struct cvec *v, struct truns *all)
{
	struct sdk_register r;
	struct sdk_walk w;

	km_init(k, v);
	assert_int_equal(km_register(k, 0, &r), 0);
	assert_int_equal(km_walk(k, SD_READ_STRICT, &w, all), 0);
	assert_int_equal(w.nr_state[SD_PAGE_SHARED], v->live.extents);
}

static void protect_table_page(struct km *k, u64 page, int prot)
{
	u8 *p = (u8 *)(uintptr_t)k->mem.slots[0].uaddr + page * KM_PAGE;

	assert_int_equal((uintptr_t)p % KM_PAGE, 0);
	assert_int_equal(mprotect(p, KM_PAGE, prot), 0);
}

/*
 * Table page @page readable again: the registration was kept, and a walk
 * finds what it found before the fault (@all). Frees @all and @k.
 */
static void fault_recover_and_free(struct km *k, u64 page, struct truns *all)
{
	struct truns runs = { 0 };
	struct sdk_walk w;
	struct sdk_loc loc;

	protect_table_page(k, page, PROT_READ | PROT_WRITE);
	assert_int_equal(km_check_header(k, &loc), 0);
	assert_int_equal(km_walk(k, SD_READ_STRICT, &w, &runs), 0);
	truns_assert_equal(&runs, all);
	truns_reset(all);
	truns_reset(&runs);
	km_free(k);
	free(k);
}

static void header_page_faults_after_registration(void **state)
{
	struct km *k = calloc(1, sizeof(*k));
	struct truns all = { 0 }, runs = { 0 };
	struct sdk_walk w;
	struct sdk_loc loc;

	(void)state;
	fault_setup(k, fault_vector(), &all);
	protect_table_page(k, 0, PROT_NONE);
	/* copy_from_user() of the 128-byte header faults. */
	assert_sd_err(km_check_header(k, &loc), loc, SD_ERR_MEM_FAULT, SD_LOC_NONE, 0);
	/* get_user() of chunk 0's count faults: one chunk, one attempt, 4 bytes. */
	assert_sd_err(km_walk(k, SD_READ_STRICT, &w, &runs), w.loc, SD_ERR_MEM_FAULT, SD_LOC_NONE,
		      0);
	assert_int_equal(w.loc.chunk, SD_LOC_NONE);
	assert_int_equal(w.stats.chunks, 1);
	assert_int_equal(w.stats.attempts, 1);
	assert_int_equal(w.stats.bytes, 4);
	assert_int_equal(runs.n, 0);
	fault_recover_and_free(k, 0, &all);
}

static void bitmap_page_faults_mid_walk(void **state)
{
	const struct cvec *v = fault_vector();
	const struct sd_table_header *h = (const void *)v->img;
	struct km *k = calloc(1, sizeof(*k));
	struct truns all = { 0 }, runs = { 0 };
	struct sdk_walk w;
	struct sdk_loc loc;
	u64 page = 3, per_chunk = h->pages_per_chunk / 8, first;

	(void)state;
	fault_setup(k, v, &all);
	/* The first chunk with bits in table page 3. */
	assert_true(page * KM_PAGE >= h->bitmap_offset);
	first = (page * KM_PAGE - h->bitmap_offset) / per_chunk;
	assert_true(first > 0 && first < h->nr_chunks);
	protect_table_page(k, page, PROT_NONE);
	assert_int_equal(km_check_header(k, &loc), 0);
	assert_sd_err(km_walk(k, SD_READ_STRICT, &w, &runs), w.loc, SD_ERR_MEM_FAULT, SD_LOC_NONE,
		      0);
	assert_int_equal(w.loc.chunk, SD_LOC_NONE);
	/* Chunks 0 .. first - 1 were read, then copy_from_user() of chunk first's bits faulted. */
	assert_int_equal(w.stats.chunks, first + 1);
	/* What was reported is a prefix of the full walk (the last run possibly cut short). */
	assert_true(runs.n <= all.n);
	for (u64 i = 0; i < runs.n; i++) {
		assert_int_equal(runs.v[i].gfn, all.v[i].gfn);
		assert_int_equal(runs.v[i].state, all.v[i].state);
		assert_true(runs.v[i].n == all.v[i].n || i == runs.n - 1);
		assert_true(runs.v[i].gfn + runs.v[i].n <= h->first_gfn + first * h->pages_per_chunk);
	}
	truns_reset(&runs);
	fault_recover_and_free(k, page, &all);
}

int main(void)
{
	const struct CMUnitTest faults[] = {
		cmocka_unit_test(registration_faults_on_an_unmapped_slot),
		cmocka_unit_test(registration_faults_on_a_kernel_address),
		cmocka_unit_test(header_page_faults_after_registration),
		cmocka_unit_test(bitmap_page_faults_mid_walk),
	};
	struct CMUnitTest *tests;
	struct kcase *cases;
	int n, fails, fault_fails;

	if (access(KM_DEV, R_OK | W_OK)) {
		printf("SKIP: test_host_kmod: %s: %s (insmod sd_host_kmod.ko, as root)\n", KM_DEV,
		       strerror(errno));
		return 77;
	}
	nvs = cvec_load_all(cvec_dir(), &vs);
	n = 2 * nvs;
	tests = calloc((size_t)n, sizeof(*tests));
	cases = calloc((size_t)n, sizeof(*cases));
	for (int i = 0; i < n; i++) {
		cases[i].v = &vs[i / 2];
		cases[i].paused = i % 2;
		snprintf(cases[i].name, sizeof(cases[i].name), "%s (%s)", vs[i / 2].name,
			 i % 2 ? "paused" : "live");
		tests[i] = (struct CMUnitTest){ .name = cases[i].name, .test_func = vector_in_kernel,
						.initial_state = &cases[i] };
	}
	fails = _cmocka_run_group_tests("conformance vectors through host/ in sd_host_kmod.ko",
					tests, (size_t)n, NULL, NULL);
	fault_fails = cmocka_run_group_tests_name("faults in copy_from_user() and get_user()",
						  faults, NULL, NULL);
	printf("test_host_kmod: %d vectors, live and paused: %d passed, %d failed\n", nvs,
	       n - fails, fails);
	printf("test_host_kmod: fault cases: %d passed, %d failed\n",
	       (int)SD_ARRAY_SIZE(faults) - fault_fails, fault_fails);
	printf("test_host_kmod: %d passed, %d failed, 0 skipped\n",
	       n + (int)SD_ARRAY_SIZE(faults) - fails - fault_fails, fails + fault_fails);
	free(tests);
	free(cases);
	cvec_free_all(vs, nvs);
	return fails + fault_fails ? 1 : 0;
}
