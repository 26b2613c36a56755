// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fuzz_stream.c - the migration stream parser (docs/STREAM.md 4), after a
 * handshake with fixed keys so that seeds carry decryptable pages. Bounds:
 * no record decodes outside RAM, END only after every vCPU, an ABORT only
 * with an error number section 6 defines.
 *
 * Input: one mode byte, then the records. Mode bit 0 set: before parsing,
 * give every record a correct CRC, as an attacker who knows the format
 * would, so the fuzzer gets past the framing to sequence, order, length,
 * AEAD and vCPU-item checks instead of spending itself on CRC32C.
 */
#include "stream.h"
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static struct sd_mig_reader rd;

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct sd_mig_keys keys;
	static int ready;
	static u8 buf[1 << 20];
	struct sd_membuf m = { buf, 0, 0, 0 };
	struct sd_io io = sd_io_mem(&m);
	struct sd_mig_status st;
	struct sd_mig_rec rec;
	int rc, n = 0;

	if (!ready) {
		if (sodium_init() < 0 || fz_stream_keys(&keys, false))
			__builtin_trap();
		ready = 1;
	}
	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	m.len = m.cap = size - 1;
	if (data[0] & 1) {
		for (size_t off = 0; off + SD_REC_HDR_SIZE <= m.len;) {
			u32 len, crc;

			memcpy(&len, buf + off + 4, 4);
			if (len > m.len - off - SD_REC_HDR_SIZE)
				break;
			memset(buf + off + 16, 0, 4);
			crc = sd_crc32c(0, buf + off, SD_REC_HDR_SIZE + len);
			memcpy(buf + off + 16, &crc, 4);
			off += SD_REC_HDR_SIZE + len;
		}
	}
	sd_mig_reader_init(&rd, &io, &keys, FZ_STREAM_RAM, FZ_STREAM_VCPUS);
	while ((rc = sd_mig_next(&rd, &rec, &st)) == 0) {
		n++;
		if (rec.seq != (u64)n)
			__builtin_trap();
		if ((rec.type == SD_REC_PLAIN || rec.type == SD_REC_ENCRYPTED ||
		     rec.type == SD_REC_TRANSITION) &&
		    (rec.pages.npages == 0 || rec.pages.gfn + rec.pages.npages > FZ_STREAM_RAM / 4096))
			__builtin_trap();
		if (rec.type == SD_REC_VCPU && sd_mig_vcpu_items(&rec, NULL, NULL, &st))
			__builtin_trap();	/* the reader validated the items already */
		if (rec.type == SD_REC_END)
			break;
	}
	if (rc && (st.err != -rc || st.err < SD_MIG_ERR_IO || st.err > SD_MIG_ERR_LAST))
		__builtin_trap();
	/* An ABORT believed names a source's own failure (docs/STREAM.md 4.6). */
	if (rc == -SD_MIG_ERR_ABORTED &&
	    (rec.type != SD_REC_ABORT ||
	     (rec.abort.err != 17 && rec.abort.err != 21 && rec.abort.err != 22 &&
	      rec.abort.err != 23)))
		__builtin_trap();
	return 0;
}
