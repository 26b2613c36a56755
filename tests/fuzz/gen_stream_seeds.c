// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * gen_stream_seeds.c - valid migration streams for the stream fuzz target's
 * seed corpus, sealed with fuzz_stream.h's fixed keys.
 *
 *   gen_stream_seeds OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <linux/kvm.h>
#include "fuzz_stream.h"

/* The final pass, the registration, every vCPU, END. */
static int put_final(struct sd_mig_writer *w, bool transition, const u8 *data, const u8 *items,
		     size_t ilen, const u8 *hdr, struct sd_mig_status *st)
{
	if (sd_mig_put_pass(w, 1, true, st) ||
	    (transition && sd_mig_put_pages(w, SD_REC_TRANSITION, 7, 1, data, st)) ||
	    sd_mig_put_registration(w, 0x100001, 1, hdr, st))
		return 1;
	for (u32 v = 0; v < FZ_STREAM_VCPUS; v++)
		if (sd_mig_put_vcpu(w, v, 2, items, ilen, st))
			return 1;
	return sd_mig_put_end(w, st) ? 1 : 0;
}

/* A whole stream; or, with @abort_err, pass 0's records and then ABORT (docs/STREAM.md 4.6). */
static int write_stream(const char *dir, const char *name, int pages_per_rec, bool transition,
			int abort_err)
{
	static u8 data[SD_REC_MAX_PAGES * 4096];
	static struct sd_mig_writer w;
	struct sd_mig_keys k;
	struct sd_membuf m = { malloc(1 << 20), 0, 1 << 20, 0 };
	struct sd_io io = sd_io_mem(&m);
	struct sd_mig_status st;
	struct kvm_regs regs = { .rip = 0x1000 };
	struct kvm_sregs sregs = { .cr0 = 0x80000011 };
	u8 items[1024], hdr[128] = { 'S', 'E', 'V', 'D', 'O', 'N', 'A', 'T' };
	size_t ilen = 0;
	char path[4096];
	FILE *f;

	if (fz_stream_keys(&k, true))
		return 1;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 131);
	sd_mig_vcpu_item_add(items, sizeof(items), &ilen, SD_VCPU_REGS, &regs, sizeof(regs));
	sd_mig_vcpu_item_add(items, sizeof(items), &ilen, SD_VCPU_SREGS, &sregs, sizeof(sregs));
	sd_mig_writer_init(&w, &io, &k);
	if (sd_mig_put_pass(&w, 0, false, &st) ||
	    sd_mig_put_pages(&w, SD_REC_PLAIN, 0, (u32)pages_per_rec, data, &st) ||
	    sd_mig_put_pages(&w, SD_REC_ENCRYPTED, 100, (u32)pages_per_rec, data, &st))
		return 1;
	if (abort_err ? sd_mig_put_abort(&w, abort_err, &st)
		      : put_final(&w, transition, data, items, ilen, hdr, &st))
		return 1;
	/* Two seeds per stream: mode byte 0 (CRCs as sent) and 1 (harness fixes CRCs). */
	for (u8 mode = 0; mode < 2; mode++) {
		snprintf(path, sizeof(path), "%s/%s-%u", dir, name, mode);
		f = fopen(path, "wb");
		if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(m.buf, 1, m.len, f) != m.len)
			return 1;
		fclose(f);
	}
	free(m.buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || sodium_init() < 0)
		return 2;
	if (write_stream(argv[1], "one-page", 1, false, 0) ||
	    write_stream(argv[1], "transition", 2, true, 0) ||
	    write_stream(argv[1], "abort", 1, false, SD_MIG_ERR_PAUSE))
		return 1;
	printf("gen_stream_seeds: 6 seeds in %s\n", argv[1]);
	return 0;
}
