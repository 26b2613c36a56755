// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * replay.c - run a fuzz target on files, without libFuzzer: how `make check`
 * replays the seed corpora and every regression input (a crash the fuzzer
 * once found) with the normal compiler and, under SAN=, the sanitizers.
 *
 *   replay_<target> FILE|DIR...
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sd_types.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	u8 *buf;
	long n;

	if (!f) {
		perror(path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int inputs = 0, bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat sb;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &sb))
			continue;	/* an empty regression directory may not exist */
		if (!S_ISDIR(sb.st_mode)) {
			bad += run_file(argv[i]) != 0;
			inputs++;
			continue;
		}
		d = opendir(argv[i]);
		while (d && (e = readdir(d))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			bad += run_file(path) != 0;
			inputs++;
		}
		if (d)
			closedir(d);
	}
	printf("%s: %d inputs replayed, %d unreadable; no crash\n", argv[0], inputs, bad);
	printf("%d passed, %d failed\n", inputs - bad, bad);
	return bad ? 1 : 0;
}
