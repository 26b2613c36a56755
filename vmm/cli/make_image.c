// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * make_image.c - sev-donate make-image: a sparse guest RAM image (file
 * offset = GPA) holding a table that guest/ built and filled with a page
 * pattern. Only the table's pages are written; the rest of the file is a
 * hole, so a 1 TiB image costs 32 MiB of disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cli.h"
#include "sd_guest.h"

enum pattern { PAT_TYPICAL, PAT_FRAGMENTED, PAT_ALL_PRIVATE, PAT_ALL_SHARED, PAT_RANDOM };

static const char *const pattern_names[] = {
	[PAT_TYPICAL] = "typical",
	[PAT_FRAGMENTED] = "fragmented",
	[PAT_ALL_PRIVATE] = "all-private",
	[PAT_ALL_SHARED] = "all-shared",
	[PAT_RANDOM] = "random",
};

static const char make_image_help[] =
	"usage: sev-donate make-image --out FILE --mem-size SIZE\n"
	"                             [--pattern typical|fragmented|all-private|all-shared|random]\n"
	"                             [--seed N] [--chunk-pages N] [--json]\n"
	"\n"
	"Write FILE, a sparse image of SIZE bytes of guest RAM (file offset = GPA),\n"
	"holding a table built by guest/ for the whole of it, with the chosen\n"
	"page pattern, and print the table's GPA (hex).\n"
	"\n"
	"  --out FILE         the image (created or truncated)\n"
	"  --mem-size SIZE    guest RAM: bytes, or with a K, M, G or T suffix\n"
	"                     (binary); a multiple of 4 KiB\n"
	"  --pattern P        typical (default): like an SEV Linux guest: a SWIOTLB\n"
	"                       block (6% of RAM, 64 MiB..1 GiB, at most a quarter\n"
	"                       of RAM) below 4 GiB, a few dozen scattered shared\n"
	"                       pages (decrypted .bss, per-CPU paravirt pages,\n"
	"                       coherent DMA), and the table at the top of RAM\n"
	"                     fragmented: short shared runs everywhere\n"
	"                     all-private: only the table is shared\n"
	"                     all-shared: every page is shared\n"
	"                     random: each page shared with probability 1/2, the\n"
	"                       table at a random place\n"
	"  --seed N           seed for the scattered parts (default 1)\n"
	"  --chunk-pages N    pages per chunk, a power of two 64..32768 (default 8192)\n"
	"  --json             print one JSON object (table_gpa, table_bytes, ...)\n"
	"\n"
	"Exit status: 0 written, 2 usage or I/O error.\n";

/* splitmix64 */
static u64 rnd(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int share_one(struct sd_guest *g, sd_gfn_t gfn, u64 n)
{
	int rc = n ? sd_guest_set(g, gfn, n, true) : 0;

	if (rc)
		return cli_usage_error("internal error: guest/ refused to share 0x%llx+%llu: %s",
				       (unsigned long long)gfn, (unsigned long long)n,
				       sd_err_name(rc));
	return 0;
}

/* Share [gfn, gfn + n) around the table's own pages, which are shared already (SPEC.md 1.6). */
static int share(struct sd_guest *g, sd_gfn_t gfn, u64 n)
{
	sd_gfn_t lo = g->g.first_gfn + g->self_lo, hi = g->g.first_gfn + g->self_hi;
	int rc;

	if (gfn >= hi || gfn + n <= lo)
		return share_one(g, gfn, n);
	rc = share_one(g, gfn, lo > gfn ? lo - gfn : 0);
	if (!rc && gfn + n > hi)
		rc = share_one(g, hi, gfn + n - hi);
	return rc;
}

#define MIB_PAGES	(1ULL << 8)
#define GIB_PAGES	(1ULL << 18)

static int fill_typical(struct sd_guest *g, u64 nr, sd_gfn_t table_gfn, u64 *seed)
{
	u64 sw = nr * 6 / 100;
	sd_gfn_t low_top = SD_MIN(nr, 4 * GIB_PAGES), end;
	int rc;

	/* SWIOTLB: 6% of RAM clamped to 64 MiB..1 GiB, allocated low, top-down. */
	sw = SD_MAX(sw, 64 * MIB_PAGES);
	sw = SD_MIN(sw, GIB_PAGES);
	sw = SD_MIN(sw, nr / 4);
	if (sw >= 2 * MIB_PAGES)
		sw &= ~(2 * MIB_PAGES - 1);
	end = SD_MIN(low_top, table_gfn);
	if (end >= 2 * MIB_PAGES)
		end &= ~(2 * MIB_PAGES - 1);
	if (sw && sw <= end) {
		rc = share(g, end - sw, sw);
		if (rc)
			return rc;
	}
	/* The decrypted .bss: a few pages just above a kernel loaded at 16 MiB. */
	rc = share(g, nr > 64 * MIB_PAGES ? 16 * MIB_PAGES + 4096 + rnd(seed) % 1024 :
		   rnd(seed) % (nr - 8), 8);
	/* Per-CPU paravirt pages (steal time, async PF, PV EOI) of 4 vCPUs, DMA pages. */
	for (int i = 0; !rc && i < 4 * 3 + 24; i++)
		rc = share(g, rnd(seed) % nr, 1);
	return rc;
}

static int fill_fragmented(struct sd_guest *g, u64 nr, u64 *seed)
{
	sd_gfn_t p = 0;
	int rc = 0;

	while (!rc) {
		p += 1 + rnd(seed) % 128;		/* a private run */
		if (p >= nr)
			break;
		rc = share(g, p, SD_MIN(1 + rnd(seed) % 32, nr - p));
		p += 32;
	}
	return rc;
}

static int fill_random(struct sd_guest *g, u64 nr, u64 *seed)
{
	int rc = 0;

	for (sd_gfn_t base = 0; base < nr && !rc; base += 64) {
		u64 w = rnd(seed);

		if (nr - base < 64)
			w &= (1ULL << (nr - base)) - 1;
		while (w && !rc) {
			u32 s = (u32)__builtin_ctzll(w);
			u64 rest = ~w >> s;
			u32 len = rest ? (u32)__builtin_ctzll(rest) : 64 - s;

			rc = share(g, base + s, len);
			w = s + len >= 64 ? 0 : w & (~0ULL << (s + len));
		}
	}
	return rc;
}

/* Count what is now in the table, reading it the way a host does. */
struct mk_count {
	u64 pages, extents;
};

static int mk_count_fn(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	struct mk_count *c = ctx;

	c->pages += n;
	c->extents++;
	return 0;
}

struct mk_mem {
	const u8 *table;
	sd_gpa_t gpa;
	u64 bytes;
};

static const void *mk_map(void *ctx, sd_gpa_t gpa, u64 len, int *err)
{
	const struct mk_mem *m = ctx;

	if (gpa < m->gpa || gpa - m->gpa > m->bytes || len > m->bytes - (gpa - m->gpa)) {
		*err = -SD_ERR_MEM_UNBACKED;
		return NULL;
	}
	return m->table + (gpa - m->gpa);
}

int cmd_make_image(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "mem-size", required_argument, NULL, 'm' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "chunk-pages", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static u64 scratch[SD_HOST_SCRATCH_WORDS];
	const char *out = NULL;
	u64 mem = 0, seed = 1, v, nr, table_bytes, priv_bytes, rng;
	u32 ppc = SD_DEFAULT_CHUNK_PAGES;
	enum pattern pat = PAT_TYPICAL;
	bool json = false, have_mem = false;
	struct sd_guest g;
	struct mk_count cnt = { 0 };
	struct mk_mem mm;
	struct sd_host_mem hmem = { .map = mk_map, .ctx = &mm };
	struct sd_host_cfg cfg;
	struct sd_host_reg reg = { 0 };
	struct sd_errloc loc = { 0 };
	SD_HOST_OPTS(sd_host_register_opts, ro, .loc = &loc);
	SD_HOST_OPTS(sd_host_walk_opts, wo, .flags = SD_READ_STRICT, .max_attempts = 1,
		     .fn = mk_count_fn, .ctx = &cnt, .loc = &loc);
	sd_gfn_t table_gfn;
	void *map, *priv;
	int c, fd, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'm':
			if (!cli_parse_size(optarg, &mem))
				return cli_usage_error("--mem-size: '%s' is not a size (a number with an optional K, M, G or T suffix)",
						       optarg);
			have_mem = true;
			break;
		case 'p':
			for (v = 0; v < SD_ARRAY_SIZE(pattern_names); v++)
				if (!strcmp(optarg, pattern_names[v]))
					break;
			if (v == SD_ARRAY_SIZE(pattern_names))
				return cli_usage_error("--pattern: unknown pattern '%s' (typical, fragmented, all-private, all-shared, random)",
						       optarg);
			pat = (enum pattern)v;
			break;
		case 's':
			if (!cli_parse_u64(optarg, &seed))
				return cli_usage_error("--seed: '%s' is not a number", optarg);
			break;
		case 'c':
			if (!cli_parse_u64(optarg, &v) || !SD_IS_POW2(v) ||
			    v < SD_MIN_CHUNK_PAGES || v > SD_MAX_CHUNK_PAGES)
				return cli_usage_error("--chunk-pages: '%s' is not a power of two from 64 to 32768",
						       optarg);
			ppc = (u32)v;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(make_image_help, stdout);
			return 0;
		case ':':
			return cli_usage_error("%s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (!out)
		return cli_usage_error("--out FILE is required (see --help)");
	if (!have_mem)
		return cli_usage_error("--mem-size SIZE is required (see --help)");
	if (mem == 0 || mem % SD_PAGE_SIZE)
		return cli_usage_error("--mem-size: %llu bytes is not a non-zero multiple of 4 KiB",
				       (unsigned long long)mem);
	nr = mem >> SD_PAGE_SHIFT;
	if (nr > SD_GFN_LIMIT)
		return cli_usage_error("--mem-size: %llu bytes is more than a table can describe (4 PiB)",
				       (unsigned long long)mem);
	table_bytes = sd_guest_table_bytes(0, nr, ppc);
	priv_bytes = sd_guest_priv_bytes(0, nr, ppc);
	if (!table_bytes || table_bytes > mem / 2)
		return cli_usage_error("--mem-size: %llu bytes is too small to hold its own table (%llu bytes)",
				       (unsigned long long)mem, (unsigned long long)table_bytes);

	rng = seed;
	table_gfn = nr - (table_bytes >> SD_PAGE_SHIFT);
	if (pat == PAT_RANDOM)
		table_gfn = rnd(&rng) % (table_gfn + 1);

	fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return cli_io_error(out, "cannot create image");
	if (ftruncate(fd, (off_t)mem) < 0) {
		rc = cli_io_error(out, "cannot size image to %llu bytes:", (unsigned long long)mem);
		goto out_close;
	}
	map = mmap(NULL, table_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)(table_gfn << SD_PAGE_SHIFT));
	if (map == MAP_FAILED) {
		rc = cli_io_error(out, "cannot map the table's %llu bytes of",
				  (unsigned long long)table_bytes);
		goto out_close;
	}
	priv = malloc(priv_bytes);
	if (!priv) {
		rc = cli_io_error("malloc", "cannot allocate %llu bytes of guest-private state:",
				  (unsigned long long)priv_bytes);
		goto out_unmap;
	}
	rc = sd_guest_init(&g, 0, nr, ppc, map, table_gfn << SD_PAGE_SHIFT, table_bytes, priv,
			   priv_bytes);
	if (rc) {
		rc = cli_usage_error("internal error: guest/ could not initialise the table: %s",
				     sd_err_name(rc));
		goto out_free;
	}
	switch (pat) {
	case PAT_TYPICAL:
		rc = fill_typical(&g, nr, table_gfn, &rng);
		break;
	case PAT_FRAGMENTED:
		rc = fill_fragmented(&g, nr, &rng);
		break;
	case PAT_ALL_SHARED:
		rc = share(&g, 0, nr);
		break;
	case PAT_RANDOM:
		rc = fill_random(&g, nr, &rng);
		break;
	case PAT_ALL_PRIVATE:
		break;
	}
	if (rc)
		goto out_free;

	/* Read back as a host: the count, and a check that what we wrote is valid. */
	mm = (struct mk_mem){ map, table_gfn << SD_PAGE_SHIFT, table_bytes };
	cfg = (struct sd_host_cfg){ .lim = { 0, nr, SD_GFN_LIMIT, table_bytes },
				    .phys_bits = 52, .max_attempts = 1 };
	rc = sd_host_register(&reg, &cfg, &hmem, mm.gpa | SD_REG_ENABLE, &ro);
	if (!rc)
		rc = sd_host_walk(&reg, &hmem, scratch, &wo);
	if (rc) {
		rc = cli_usage_error("internal error: the table written is invalid: %s",
				     sd_err_name(rc));
		goto out_free;
	}
	if (json) {
		printf("{\"image\": ");
		cli_json_str(stdout, out);
		printf(", \"mem_size\": %llu, \"pattern\": \"%s\", \"seed\": %llu, "
		       "\"table_gpa\": %llu, \"table_bytes\": %llu, \"first_gfn\": 0, "
		       "\"nr_gfns\": %llu, \"pages_per_chunk\": %u, \"chunks\": %llu, "
		       "\"shared_pages\": %llu, \"shared_extents\": %llu}\n",
		       (unsigned long long)mem, pattern_names[pat], (unsigned long long)seed,
		       (unsigned long long)mm.gpa, (unsigned long long)table_bytes,
		       (unsigned long long)nr, ppc, (unsigned long long)g.g.nr_chunks,
		       (unsigned long long)cnt.pages, (unsigned long long)cnt.extents);
	} else {
		printf("0x%llx\n", (unsigned long long)mm.gpa);
	}
	rc = 0;
out_free:
	free(priv);
out_unmap:
	munmap(map, table_bytes);
out_close:
	if (close(fd) < 0 && !rc)
		rc = cli_io_error(out, "cannot close image");
	if (rc)
		unlink(out);
	return rc;
}
