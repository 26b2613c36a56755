// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sd-inspect.c - a small VMM-side consumer of libsev-donate, built against
 * the installed library only:
 *
 *	cc sd-inspect.c $(pkg-config --cflags --libs sev-donate) -o sd-inspect
 *	./sd-inspect ram.img 0xfffdf000
 *
 * It does what a VMM does with a guest's table (docs/VMM-INTEGRATION.md),
 * on a guest RAM image instead of a running guest (file offset = GPA, all
 * of it RAM from frame 0): register the table the way a host answers the
 * guest's registration, walk it, and print the runs of shared pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sev-donate/sd_host.h>
#include <sev-donate/sd_version.h>

/*
 * Guest memory here is one flat mapping of the image, so the library's own
 * accessor serves (sd_host_mem_flat). A VMM whose RAM is several memory
 * slots writes its own map() or copy() (sd_host.h: struct sd_host_mem;
 * docs/VMM-INTEGRATION.md): every address host/ asks it for comes from the
 * guest's table.
 */

struct counts {
	uint64_t runs, pages;
};

static int print_run(void *ctx, sd_gfn_t gfn, __u64 npages, enum sd_page_state state)
{
	struct counts *c = ctx;

	printf("%s %#llx %llu\n", state == SD_PAGE_SHARED ? "shared" :
	       state == SD_PAGE_TRANSITION ? "transition" : "unsettled",
	       (unsigned long long)gfn, (unsigned long long)npages);
	c->runs++;
	c->pages += npages;
	return 0;
}

int main(int argc, char **argv)
{
	static __u64 scratch[SD_HOST_SCRATCH_WORDS];
	struct sd_host_flat im;
	struct sd_host_mem mem = sd_host_mem_flat(&im);
	struct sd_host_reg reg = { 0 };
	struct sd_host_cfg cfg;
	struct sd_errloc loc = { 0, SD_LOC_NONE, SD_LOC_NONE };
	struct counts c = { 0, 0 };
	struct stat sb;
	char *end;
	unsigned long long gpa;
	void *p;
	int fd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IMAGE TABLE_GPA (libsev-donate %s)\n", argv[0],
			SD_LIB_VERSION_STRING);
		return 2;
	}
	errno = 0;
	gpa = strtoull(argv[2], &end, 0);
	if (end == argv[2] || *end || errno) {
		fprintf(stderr, "%s: '%s' is not an address\n", argv[0], argv[2]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &sb) || sb.st_size == 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1],
			fd < 0 ? strerror(errno) : "empty or unreadable");
		return 2;
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "%s: mmap %s: %s\n", argv[0], argv[1], strerror(errno));
		return 2;
	}
	im = (struct sd_host_flat){ .base = p, .gpa = 0, .bytes = (uint64_t)sb.st_size };

	/* What the host knows of the guest: all of the image is RAM. */
	cfg = (struct sd_host_cfg){
		.lim = { .ram_first_gfn = 0, .ram_end_gfn = im.bytes >> SD_PAGE_SHIFT,
			 .gfn_limit = SD_GFN_LIMIT, .max_table_bytes = 64ULL << 20 },
		.phys_bits = 52,
	};
	{
		/* The guest wrote GPA | enable to the registration MSR. */
		SD_HOST_OPTS(sd_host_register_opts, o, .flags = SD_READ_PAUSED, .loc = &loc);

		rc = sd_host_register(&reg, &cfg, &mem, gpa | SD_REG_ENABLE, &o);
	}
	if (rc == 0) {
		/* A stopped guest: a paused, strict walk of every chunk. */
		SD_HOST_OPTS(sd_host_walk_opts, o, .flags = SD_READ_PAUSED | SD_READ_STRICT,
			     .fn = print_run, .ctx = &c, .loc = &loc);

		rc = sd_host_walk(&reg, &mem, scratch, &o);
	}
	munmap(p, (size_t)sb.st_size);
	close(fd);
	if (rc) {
		fprintf(stderr, "%s: %s (%s)", argv[0], sd_err_name(rc), sd_err_desc(rc));
		if (loc.chunk != SD_LOC_NONE)
			fprintf(stderr, " in chunk %llu", (unsigned long long)loc.chunk);
		if (loc.offset != SD_LOC_NONE)
			fprintf(stderr, " at table offset %#llx", (unsigned long long)loc.offset);
		fputc('\n', stderr);
		return 1;
	}
	printf("table at %#llx: %llu chunks of %u pages; %llu runs, %llu pages not private\n",
	       (unsigned long long)reg.gpa, (unsigned long long)reg.geom.nr_chunks,
	       reg.geom.pages_per_chunk, (unsigned long long)c.runs,
	       (unsigned long long)c.pages);
	return 0;
}
