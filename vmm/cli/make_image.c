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
#include "sd_rand.h"

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
	rc = share(g, nr > 64 * MIB_PAGES ? 16 * MIB_PAGES + 4096 + sd_splitmix64(seed) % 1024 :
		   sd_splitmix64(seed) % (nr - 8), 8);
	/* Per-CPU paravirt pages (steal time, async PF, PV EOI) of 4 vCPUs, DMA pages. */
	for (int i = 0; !rc && i < 4 * 3 + 24; i++)
		rc = share(g, sd_splitmix64(seed) % nr, 1);
	return rc;
}

static int fill_fragmented(struct sd_guest *g, u64 nr, u64 *seed)
{
	sd_gfn_t p = 0;
	int rc = 0;

	while (!rc) {
		p += 1 + sd_splitmix64(seed) % 128;		/* a private run */
		if (p >= nr)
			break;
		rc = share(g, p, SD_MIN(1 + sd_splitmix64(seed) % 32, nr - p));
		p += 32;
	}
	return rc;
}

static int fill_random(struct sd_guest *g, u64 nr, u64 *seed)
{
	int rc = 0;

	for (sd_gfn_t base = 0; base < nr && !rc; base += 64) {
		u64 w = sd_splitmix64(seed);

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

	(void)gfn;
	(void)state;
	c->pages += n;
	c->extents++;
	return 0;
}

/* What the command line asked for. */
struct mk_opts {
	const char *out;
	u64 mem, seed;
	u32 ppc;
	enum pattern pat;
	bool json;
};

static int mk_parse(int argc, char **argv, struct mk_opts *o)
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
	bool have_mem = false;
	u64 v;
	int c;

	*o = (struct mk_opts){ .seed = 1, .ppc = SD_DEFAULT_CHUNK_PAGES, .pat = PAT_TYPICAL };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'm':
			if (!cli_parse_size(optarg, &o->mem))
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
			o->pat = (enum pattern)v;
			break;
		case 's':
			if (!cli_parse_u64(optarg, &o->seed))
				return cli_usage_error("--seed: '%s' is not a number", optarg);
			break;
		case 'c':
			if (!cli_parse_u64(optarg, &v) || !SD_IS_POW2(v) ||
			    v < SD_MIN_CHUNK_PAGES || v > SD_MAX_CHUNK_PAGES)
				return cli_usage_error("--chunk-pages: '%s' is not a power of two from 64 to 32768",
						       optarg);
			o->ppc = (u32)v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(make_image_help, stdout);
			return -1;
		case ':':
			return cli_usage_error("%s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->out)
		return cli_usage_error("--out FILE is required (see --help)");
	if (!have_mem)
		return cli_usage_error("--mem-size SIZE is required (see --help)");
	return 0;
}

/* The image: @mem bytes of guest RAM, its table of @table_bytes at @table_gfn. */
struct mk_image {
	u64 nr, table_bytes, priv_bytes;
	sd_gfn_t table_gfn;
	int fd;
	void *map, *priv;
	struct sd_guest g;
};

static int mk_layout(const struct mk_opts *o, struct mk_image *im, u64 *rng)
{
	if (o->mem == 0 || o->mem % SD_PAGE_SIZE)
		return cli_usage_error("--mem-size: %llu bytes is not a non-zero multiple of 4 KiB",
				       (unsigned long long)o->mem);
	im->nr = o->mem >> SD_PAGE_SHIFT;
	if (im->nr > SD_GFN_LIMIT)
		return cli_usage_error("--mem-size: %llu bytes is more than a table can describe (4 PiB)",
				       (unsigned long long)o->mem);
	im->table_bytes = sd_guest_table_bytes(0, im->nr, o->ppc);
	im->priv_bytes = sd_guest_priv_bytes(0, im->nr, o->ppc);
	if (!im->table_bytes || im->table_bytes > o->mem / 2)
		return cli_usage_error("--mem-size: %llu bytes is too small to hold its own table (%llu bytes)",
				       (unsigned long long)o->mem, (unsigned long long)im->table_bytes);
	/* The table goes at the end of RAM (random: anywhere). */
	im->table_gfn = im->nr - (im->table_bytes >> SD_PAGE_SHIFT);
	if (o->pat == PAT_RANDOM)
		im->table_gfn = sd_splitmix64(rng) % (im->table_gfn + 1);
	return 0;
}

/* Create the file and map the table's part of it. */
static int mk_create(const struct mk_opts *o, struct mk_image *im)
{
	im->fd = open(o->out, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (im->fd < 0)
		return cli_io_error(o->out, "cannot create image");
	if (ftruncate(im->fd, (off_t)o->mem) < 0)
		return cli_io_error(o->out, "cannot size image to %llu bytes:",
				    (unsigned long long)o->mem);
	im->map = mmap(NULL, im->table_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, im->fd,
		       (off_t)(im->table_gfn << SD_PAGE_SHIFT));
	if (im->map == MAP_FAILED) {
		im->map = NULL;
		return cli_io_error(o->out, "cannot map the table's %llu bytes of",
				    (unsigned long long)im->table_bytes);
	}
	im->priv = malloc(im->priv_bytes);
	if (!im->priv)
		return cli_io_error("malloc", "cannot allocate %llu bytes of guest-private state:",
				    (unsigned long long)im->priv_bytes);
	return 0;
}

/* Write the table with guest/, as a guest would, in the pattern asked for. */
static int mk_fill(const struct mk_opts *o, struct mk_image *im, u64 *rng)
{
	int rc = sd_guest_init(&im->g, 0, im->nr, o->ppc, im->map, im->table_gfn << SD_PAGE_SHIFT,
			       im->table_bytes, im->priv, im->priv_bytes);

	if (rc)
		return cli_usage_error("internal error: guest/ could not initialise the table: %s",
				       sd_err_name(rc));
	switch (o->pat) {
	case PAT_TYPICAL:
		return fill_typical(&im->g, im->nr, im->table_gfn, rng);
	case PAT_FRAGMENTED:
		return fill_fragmented(&im->g, im->nr, rng);
	case PAT_ALL_SHARED:
		return share(&im->g, 0, im->nr);
	case PAT_RANDOM:
		return fill_random(&im->g, im->nr, rng);
	case PAT_ALL_PRIVATE:
		break;
	}
	return 0;
}

/* Read the table back as a host: a check that what was written is valid, and its counts. */
static int mk_verify(const struct mk_image *im, struct mk_count *cnt)
{
	static u64 scratch[SD_HOST_SCRATCH_WORDS];
	struct sd_host_flat flat = { im->map, im->table_gfn << SD_PAGE_SHIFT, im->table_bytes };
	struct sd_host_mem hmem = sd_host_mem_flat(&flat);
	struct sd_host_cfg cfg = { .lim = { 0, im->nr, SD_GFN_LIMIT, im->table_bytes },
				   .phys_bits = 52, .max_attempts = 1 };
	struct sd_host_reg reg = { 0 };
	struct sd_errloc loc = { 0 };
	SD_HOST_OPTS(sd_host_register_opts, ro, .loc = &loc);
	SD_HOST_OPTS(sd_host_walk_opts, wo, .flags = SD_READ_STRICT, .max_attempts = 1,
		     .fn = mk_count_fn, .ctx = cnt, .loc = &loc);
	int rc = sd_host_register(&reg, &cfg, &hmem, flat.gpa | SD_REG_ENABLE, &ro);

	if (!rc)
		rc = sd_host_walk(&reg, &hmem, scratch, &wo);
	if (rc)
		return cli_usage_error("internal error: the table written is invalid: %s",
				       sd_err_name(rc));
	return 0;
}

static void mk_report(const struct mk_opts *o, const struct mk_image *im,
		      const struct mk_count *cnt)
{
	u64 gpa = im->table_gfn << SD_PAGE_SHIFT;

	if (!o->json) {
		printf("0x%llx\n", (unsigned long long)gpa);
		return;
	}
	printf("{\"image\": ");
	cli_json_str(stdout, o->out);
	printf(", \"mem_size\": %llu, \"pattern\": \"%s\", \"seed\": %llu, "
	       "\"table_gpa\": %llu, \"table_bytes\": %llu, \"first_gfn\": 0, "
	       "\"nr_gfns\": %llu, \"pages_per_chunk\": %u, \"chunks\": %llu, "
	       "\"shared_pages\": %llu, \"shared_extents\": %llu}\n",
	       (unsigned long long)o->mem, pattern_names[o->pat], (unsigned long long)o->seed,
	       (unsigned long long)gpa, (unsigned long long)im->table_bytes,
	       (unsigned long long)im->nr, o->ppc, (unsigned long long)im->g.g.nr_chunks,
	       (unsigned long long)cnt->pages, (unsigned long long)cnt->extents);
}

int cmd_make_image(int argc, char **argv)
{
	struct mk_opts o;
	struct mk_image im = { .fd = -1 };
	struct mk_count cnt = { 0 };
	u64 rng;
	int rc = mk_parse(argc, argv, &o);

	if (rc)
		return rc < 0 ? 0 : rc;	/* -1: --help printed */
	rng = o.seed;
	rc = mk_layout(&o, &im, &rng);
	if (rc)
		return rc;
	rc = mk_create(&o, &im);
	if (!rc)
		rc = mk_fill(&o, &im, &rng);
	if (!rc)
		rc = mk_verify(&im, &cnt);
	if (!rc)
		mk_report(&o, &im, &cnt);
	free(im.priv);
	if (im.map)
		munmap(im.map, im.table_bytes);
	if (im.fd >= 0 && close(im.fd) < 0 && !rc)
		rc = cli_io_error(o.out, "cannot close image");
	if (rc && im.fd >= 0)
		unlink(o.out);
	return rc;
}
