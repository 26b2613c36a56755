// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sev-donate.c - the command-line tool: build a guest RAM image holding a
 * table (make-image, in make_image.c), and read an image the way a host
 * reads a guest (check, dump) through host/.
 *
 * An image is a file whose byte offset is the guest physical address, as
 * QEMU's memory-backend-file is for a small guest. check and dump treat all
 * of it as RAM from GFN 0 and read it with a strict read (every bitmap, no
 * summary reads, SPEC.md 3.2); --paused reads it as a host whose vCPUs are
 * stopped (SPEC.md 3.4).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "sd_version.h"
#include "stream.h"

const char *cli_cmd = NULL;

static void cli_prefix(void)
{
	fprintf(stderr, "sev-donate: %s%s", cli_cmd ? cli_cmd : "", cli_cmd ? ": " : "");
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	cli_prefix();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int cli_io_error(const char *what, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	cli_prefix();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " %s: %s\n", what, strerror(e));
	return EXIT_USAGE;
}

bool cli_parse_u64(const char *s, u64 *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool cli_parse_size(const char *s, u64 *out)
{
	char num[32], *end;
	size_t n = s ? strlen(s) : 0;
	unsigned shift = 0;
	u64 v;

	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, s, n + 1);
	end = num + n - 1;
	switch (*end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: break;
	}
	if (shift)
		*end = 0;
	if (!cli_parse_u64(num, &v) || (shift && v > (~0ULL >> shift)))
		return false;
	*out = v << shift;
	return true;
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* ---- images ------------------------------------------------------------------- */

int cli_image_open(struct cli_image *img, const char *path)
{
	struct stat sb;
	void *p;
	int fd;

	img->path = path;
	img->base = NULL;
	img->map = NULL;
	img->size = 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return cli_io_error(path, "cannot open image");
	if (fstat(fd, &sb) < 0) {
		cli_io_error(path, "cannot stat image");
		close(fd);
		return EXIT_USAGE;
	}
	if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode)) {
		close(fd);
		return cli_usage_error("image %s is not a regular file", path);
	}
	img->size = (u64)sb.st_size;
	if (img->size) {
		/* Shared and read-only: a running guest's writes stay visible, we never write. */
		p = mmap(NULL, img->size, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, 0);
		if (p == MAP_FAILED) {
			cli_io_error(path, "cannot map image");
			close(fd);
			return EXIT_USAGE;
		}
		img->map = p;
		img->base = p;
	}
	close(fd);
	return 0;
}

void cli_image_close(struct cli_image *img)
{
	if (img->map)
		munmap(img->map, img->size);
	img->map = NULL;
	img->base = NULL;
}

struct sd_host_mem cli_image_mem(struct cli_image *img)
{
	img->flat = (struct sd_host_flat){ .base = img->base, .gpa = 0, .bytes = img->size };
	return sd_host_mem_flat(&img->flat);
}

struct sd_host_cfg cli_image_cfg(const struct cli_image *img, u32 attempts)
{
	return (struct sd_host_cfg){
		.lim = {
			.ram_first_gfn = 0,
			.ram_end_gfn = img->size >> SD_PAGE_SHIFT,
			.gfn_limit = SD_GFN_LIMIT,
			/* No limit of our own: a table past the image is SD_ERR_MEM_UNBACKED. */
			.max_table_bytes = ~0ULL,
		},
		.phys_bits = 52,
		.max_attempts = attempts,
	};
}

int cli_report_invalid(int rc, const struct sd_errloc *loc, sd_gpa_t gpa,
		       const struct cli_image *img, bool json, bool paused)
{
	bool has_chunk = loc->chunk != SD_LOC_NONE, has_off = loc->offset != SD_LOC_NONE;

	cli_prefix();
	fprintf(stderr, "invalid table at GPA 0x%llx: %s (%s)", (unsigned long long)gpa,
		sd_err_name(rc), sd_err_desc(rc));
	if (has_chunk)
		fprintf(stderr, " in chunk %llu", (unsigned long long)loc->chunk);
	if (has_off)
		fprintf(stderr, " at table offset 0x%llx (GPA 0x%llx)",
			(unsigned long long)loc->offset, (unsigned long long)(gpa + loc->offset));
	if (rc == -SD_ERR_MEM_UNBACKED)
		fprintf(stderr, "; the image %s ends at GPA 0x%llx", img->path,
			(unsigned long long)img->size);
	if (!paused && (rc == -SD_ERR_CHUNK_ODD || rc == -SD_ERR_CHUNK_RETRIES))
		fprintf(stderr, "; an image of a stopped guest is read with --paused");
	fputc('\n', stderr);
	if (json) {
		printf("{\"verdict\": \"invalid\", \"mode\": \"%s\", \"table_gpa\": %llu, "
		       "\"error\": \"%s\", \"errno\": %d, \"message\": ",
		       paused ? "paused" : "live", (unsigned long long)gpa, sd_err_name(rc), -rc);
		cli_json_str(stdout, sd_err_desc(rc));
		printf(", \"chunk\": ");
		if (has_chunk)
			printf("%llu", (unsigned long long)loc->chunk);
		else
			printf("null");
		printf(", \"offset\": ");
		if (has_off)
			printf("%llu", (unsigned long long)loc->offset);
		else
			printf("null");
		printf("}\n");
	}
	return EXIT_INVALID;
}

/* ---- check and dump -------------------------------------------------------------- */

struct read_opts {
	const char *image;
	u64 gpa;
	bool have_gpa, json, paused;
	u32 attempts;
};

static const char check_help[] =
	"usage: sev-donate check --image FILE --gpa GPA [--paused] [--attempts N] [--json]\n"
	"\n"
	"Register the table at GPA in the guest RAM image FILE (file offset = GPA)\n"
	"and read all of it as a host would: the header, then every chunk, every\n"
	"bitmap. Prints the verdict and a summary (shared pages, shared extents,\n"
	"chunks), or the exact error and where it was found.\n"
	"\n"
	"  --image FILE   guest RAM image; all of it is RAM from GFN 0\n"
	"  --gpa GPA      table address (decimal or 0x-hex, page-aligned)\n"
	"  --paused       read as a host whose vCPUs are stopped: chunks inside an\n"
	"                 update window are decided, their pending pages reported\n"
	"                 as in transition (SPEC.md 3.4)\n"
	"  --attempts N   live read attempts per chunk (default 16)\n"
	"  --json         print one JSON object on stdout\n"
	"\n"
	"Exit status: 0 valid table, 1 invalid table, 2 usage or I/O error.\n";

static const char dump_help[] =
	"usage: sev-donate dump --image FILE --gpa GPA [--paused] [--attempts N] [--json]\n"
	"\n"
	"Validate the table at GPA in FILE as check does, then print its extents:\n"
	"maximal runs of shared pages (and, with --paused, of pages in transition),\n"
	"in GFN order, one per line as\n"
	"\n"
	"  STATE FIRST_GFN PAGES        e.g.  shared 0x100 256\n"
	"\n"
	"STATE is shared or transition, FIRST_GFN hex, PAGES decimal; pages not\n"
	"listed are private. With --json, one object with an \"extents\" array of\n"
	"{\"gfn\", \"pages\", \"state\"}.\n"
	"\n"
	"Options and exit status as for check (sev-donate check --help).\n";

static int parse_read_opts(int argc, char **argv, const char *help, struct read_opts *o)
{
	static const struct option lopts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "gpa", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "paused", no_argument, NULL, 'p' },
		{ "attempts", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	u64 v;
	int c;

	memset(o, 0, sizeof(*o));
	o->attempts = 16;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->image = optarg;
			break;
		case 'g':
			if (!cli_parse_u64(optarg, &o->gpa))
				return cli_usage_error("--gpa: '%s' is not a number", optarg);
			if (o->gpa & (SD_PAGE_SIZE - 1))
				return cli_usage_error("--gpa: 0x%llx is not page-aligned",
						       (unsigned long long)o->gpa);
			o->have_gpa = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'p':
			o->paused = true;
			break;
		case 'a':
			if (!cli_parse_u64(optarg, &v) || v == 0 || v > 1000000)
				return cli_usage_error("--attempts: '%s' is not a number from 1 to 1000000",
						       optarg);
			o->attempts = (u32)v;
			break;
		case 'h':
			fputs(help, stdout);
			return -1;
		case ':':
			return cli_usage_error("%s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->image)
		return cli_usage_error("--image FILE is required (see --help)");
	if (!o->have_gpa)
		return cli_usage_error("--gpa GPA is required (see --help)");
	return 0;
}

struct tally {
	u64 runs[4], pages[4];
	bool print, json, first;
	FILE *out;		/* where printed runs go */
};

static const char *state_name(enum sd_page_state s)
{
	switch (s) {
	case SD_PAGE_SHARED: return "shared";
	case SD_PAGE_TRANSITION: return "transition";
	case SD_PAGE_UNSETTLED: return "unsettled";
	default: return "private";
	}
}

static int tally_fn(void *ctx, sd_gfn_t gfn, u64 n, enum sd_page_state state)
{
	struct tally *t = ctx;

	t->runs[state]++;
	t->pages[state] += n;
	if (!t->print)
		return 0;
	if (t->json)
		fprintf(t->out, "%s\n    {\"gfn\": %llu, \"pages\": %llu, \"state\": \"%s\"}",
			t->first ? "" : ",", (unsigned long long)gfn, (unsigned long long)n,
			state_name(state));
	else
		fprintf(t->out, "%s 0x%llx %llu\n", state_name(state), (unsigned long long)gfn,
			(unsigned long long)n);
	t->first = false;
	return 0;
}

/* Register and read the whole image; on success *reg and the tally describe it. */
static int read_image(const struct read_opts *o, struct cli_image *img, struct sd_host_reg *reg,
		      struct tally *t, struct sd_host_stats *st, struct sd_errloc *loc)
{
	static u64 scratch[SD_HOST_SCRATCH_WORDS];
	struct sd_host_mem mem = cli_image_mem(img);
	struct sd_host_cfg cfg = cli_image_cfg(img, o->attempts);
	u32 paused = o->paused ? SD_READ_PAUSED : 0;
	SD_HOST_OPTS(sd_host_register_opts, ro, .flags = paused, .stats = st, .loc = loc);
	SD_HOST_OPTS(sd_host_walk_opts, wo, .flags = SD_READ_STRICT | paused,
		     .max_attempts = o->attempts, .fn = tally_fn, .ctx = t, .stats = st, .loc = loc);
	int rc;

	rc = sd_host_register(reg, &cfg, &mem, o->gpa | SD_REG_ENABLE, &ro);
	if (rc)
		return rc;
	return sd_host_walk(reg, &mem, scratch, &wo);
}

static int cmd_check(int argc, char **argv)
{
	struct read_opts o;
	struct cli_image img;
	struct sd_host_reg reg = { 0 };
	struct sd_host_stats st = { 0 };
	struct sd_errloc loc = { 0 };
	struct tally t = { 0 };
	const struct sd_geom *g = &reg.geom;
	int rc = parse_read_opts(argc, argv, check_help, &o);

	if (rc)
		return rc < 0 ? 0 : rc;
	rc = cli_image_open(&img, o.image);
	if (rc)
		return rc;
	rc = read_image(&o, &img, &reg, &t, &st, &loc);
	cli_image_close(&img);
	if (rc)
		return cli_report_invalid(rc, &loc, o.gpa, &img, o.json, o.paused);
	if (o.json) {
		printf("{\"verdict\": \"valid\", \"mode\": \"%s\", \"image\": ",
		       o.paused ? "paused" : "live");
		cli_json_str(stdout, o.image);
		printf(", \"image_bytes\": %llu, \"table_gpa\": %llu, \"table_bytes\": %llu, "
		       "\"abi_major\": %u, \"abi_minor\": %u, \"first_gfn\": %llu, \"nr_gfns\": %llu, "
		       "\"pages_per_chunk\": %u, \"chunks\": %llu, \"shared_pages\": %llu, "
		       "\"shared_extents\": %llu, \"transition_pages\": %llu, "
		       "\"transition_extents\": %llu, \"bytes_read\": %llu}\n",
		       (unsigned long long)img.size, (unsigned long long)reg.gpa,
		       (unsigned long long)g->table_size, reg.hdr.abi_major, reg.hdr.abi_minor,
		       (unsigned long long)g->first_gfn, (unsigned long long)g->nr_gfns,
		       g->pages_per_chunk, (unsigned long long)g->nr_chunks,
		       (unsigned long long)t.pages[SD_PAGE_SHARED],
		       (unsigned long long)t.runs[SD_PAGE_SHARED],
		       (unsigned long long)t.pages[SD_PAGE_TRANSITION],
		       (unsigned long long)t.runs[SD_PAGE_TRANSITION],
		       (unsigned long long)st.bytes);
		return EXIT_VALID;
	}
	printf("valid table at GPA 0x%llx (%llu bytes, ABI %u.%u), read %s\n",
	       (unsigned long long)reg.gpa, (unsigned long long)g->table_size, reg.hdr.abi_major,
	       reg.hdr.abi_minor, o.paused ? "paused" : "live");
	printf("span:              GFN 0x%llx..0x%llx (%llu pages)\n",
	       (unsigned long long)g->first_gfn,
	       (unsigned long long)(g->first_gfn + g->nr_gfns - 1), (unsigned long long)g->nr_gfns);
	printf("chunks:            %llu of %u pages\n", (unsigned long long)g->nr_chunks,
	       g->pages_per_chunk);
	printf("shared pages:      %llu\n", (unsigned long long)t.pages[SD_PAGE_SHARED]);
	printf("shared extents:    %llu\n", (unsigned long long)t.runs[SD_PAGE_SHARED]);
	if (o.paused)
		printf("in transition:     %llu pages in %llu extents\n",
		       (unsigned long long)t.pages[SD_PAGE_TRANSITION],
		       (unsigned long long)t.runs[SD_PAGE_TRANSITION]);
	return EXIT_VALID;
}

static int cmd_dump(int argc, char **argv)
{
	struct read_opts o;
	struct cli_image img;
	struct sd_host_reg reg = { 0 };
	struct sd_errloc loc = { 0 };
	struct tally t = { 0 };
	int rc = parse_read_opts(argc, argv, dump_help, &o);

	if (rc)
		return rc < 0 ? 0 : rc;
	rc = cli_image_open(&img, o.image);
	if (rc)
		return rc;
	/* Validate all of it first, so that an invalid table prints no extents. */
	rc = read_image(&o, &img, &reg, &t, NULL, &loc);
	if (!rc) {
		char *buf = NULL;
		size_t len = 0;

		memset(&t, 0, sizeof(t));
		t.print = true;
		t.json = o.json;
		t.first = true;
		/*
		 * A second read: the image may be a running guest's memory, and
		 * this read can fail where the first passed. Its runs are kept
		 * until it has succeeded, so a failure prints no partial list.
		 */
		t.out = open_memstream(&buf, &len);
		if (!t.out)
			return cli_io_error("memory", "cannot buffer the extents in");
		rc = read_image(&o, &img, &reg, &t, NULL, &loc);
		fclose(t.out);
		if (!rc && o.json)
			printf("{\"verdict\": \"valid\", \"mode\": \"%s\", \"table_gpa\": %llu, "
			       "\"first_gfn\": %llu, \"nr_gfns\": %llu, \"extents\": [%s%s]}\n",
			       o.paused ? "paused" : "live", (unsigned long long)o.gpa,
			       (unsigned long long)reg.geom.first_gfn,
			       (unsigned long long)reg.geom.nr_gfns, buf, t.first ? "" : "\n  ");
		else if (!rc)
			fputs(buf, stdout);
		free(buf);
	}
	cli_image_close(&img);
	if (rc)
		return cli_report_invalid(rc, &loc, o.gpa, &img, o.json, o.paused);
	return EXIT_VALID;
}

static const char main_help[] =
	"usage: sev-donate COMMAND [OPTIONS]\n"
	"\n"
	"Commands:\n"
	"  make-image  write a guest RAM image holding a table built by guest/\n"
	"  check       register and read a table in an image as a host would\n"
	"  dump        print the shared extents of a table in an image\n"
	"  migrate     live-migrate a guest that keeps its table (needs /dev/kvm)\n"
	"  keygen      write a platform identity (Ed25519 key pair) for migrations\n"
	"\n"
	"sev-donate COMMAND --help describes each command; sev-donate --version says which\n"
	"version this is. The manual: man sev-donate.\n"
	"Exit status: 0 success / valid table, 1 invalid table, 2 usage or I/O error.\n";

int sd_cli_migrate(int argc, char **argv);

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "make-image", cmd_make_image },
		{ "check", cmd_check },
		{ "dump", cmd_dump },
		{ "migrate", sd_cli_migrate },	/* vmm/migrate/cli_migrate.c */
		{ "keygen", cmd_keygen },	/* keygen.c */
	};

	if (argc < 2)
		return cli_usage_error("no command given (make-image, check, dump, migrate, keygen; see --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(main_help, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("sev-donate %s (table ABI %u.%u, migration stream %u.%u)\n",
		       SD_LIB_VERSION_STRING, SD_ABI_MAJOR, SD_ABI_MINOR, SD_MIG_MAJOR, SD_MIG_MINOR);
		return 0;
	}
	for (unsigned i = 0; i < SD_ARRAY_SIZE(cmds); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			int rc;

			cli_cmd = cmds[i].name;
			rc = cmds[i].fn(argc - 1, argv + 1);
			if (fflush(stdout) || ferror(stdout))
				return cli_io_error("stdout", "cannot write output to");
			return rc;
		}
	}
	return cli_usage_error("unknown command '%s' (make-image, check, dump, migrate, keygen; see --help)",
			       argv[1]);
}
