// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * errname.c - names and one-line meanings of the SD_ERR_* numbers.
 * The names are what conformance manifests and the CLI print; they are as
 * stable as the numbers.
 */
#include "validate.h"

struct sd_err_text {
	int err;
	const char *name;
	const char *desc;
};

#define E(n, d) { n, #n, d }
static const struct sd_err_text sd_err_texts[] = {
	E(SD_OK, "success"),
	E(SD_ERR_INVAL, "invalid argument"),
	E(SD_ERR_REG_RESERVED, "registration value has reserved bits set"),
	E(SD_ERR_REG_GPA, "registration GPA is beyond the guest's physical address space"),
	E(SD_ERR_REG_SIZE, "registration size differs from the table header"),
	E(SD_ERR_REG_ABI, "registration ABI major differs from the table header"),
	E(SD_ERR_NO_TABLE, "no table is registered"),
	E(SD_ERR_UNSUPPORTED, "the host does not support table registration"),
	E(SD_ERR_TRANSPORT, "the registration transport failed"),
	E(SD_ERR_BAD_ANSWER, "the host gave an answer that makes no sense"),
	E(SD_ERR_MEM_UNBACKED, "guest memory range is not backed by RAM"),
	E(SD_ERR_MEM_MMIO, "guest memory range is MMIO"),
	E(SD_ERR_MEM_SPLIT, "guest memory range crosses a memory slot boundary"),
	E(SD_ERR_MEM_FAULT, "an access to guest memory faulted"),
	E(SD_ERR_HDR_MAGIC, "bad table magic"),
	E(SD_ERR_HDR_MAJOR, "unsupported ABI major version"),
	E(SD_ERR_HDR_SIZE, "header_size out of bounds or misaligned"),
	E(SD_ERR_HDR_INCOMPAT, "unknown incompatible feature bits"),
	E(SD_ERR_HDR_CHANGED, "table header changed after registration"),
	E(SD_ERR_GEOM_PAGE_SHIFT, "page_shift is not 12"),
	E(SD_ERR_GEOM_CHUNK, "pages_per_chunk is not a power of two in [64, 32768]"),
	E(SD_ERR_GEOM_EMPTY, "span covers no pages"),
	E(SD_ERR_GEOM_SPAN, "span overflows or passes the guest's frame limit"),
	E(SD_ERR_GEOM_NR_CHUNKS, "nr_chunks disagrees with nr_gfns and pages_per_chunk"),
	E(SD_ERR_GEOM_DESC, "descriptor array misaligned or outside the table"),
	E(SD_ERR_GEOM_BITMAP, "bitmap misaligned, overlapping, or outside the table"),
	E(SD_ERR_GEOM_TABLE_SIZE, "table_size misaligned, zero, or over the host's limit"),
	E(SD_ERR_GEOM_RAM, "span does not cover guest RAM"),
	E(SD_ERR_TABLE_PLACEMENT, "the table's own pages lie outside the span"),
	E(SD_ERR_TABLE_NOT_SHARED, "a page of the table is not marked shared"),
	E(SD_ERR_CHUNK_COUNT, "nr_shared differs from the chunk's popcount"),
	E(SD_ERR_CHUNK_PENDING, "pending range lies outside its chunk"),
	E(SD_ERR_CHUNK_PAD, "a bit past the span's last page is set"),
	E(SD_ERR_CHUNK_ODD, "chunk count stayed odd on every attempt"),
	E(SD_ERR_CHUNK_RETRIES, "chunk count changed during every attempt"),
	E(SD_ERR_RANGE, "page range outside the table's span"),
	E(SD_ERR_EMPTY_RANGE, "page range of zero pages"),
	E(SD_ERR_NOSPACE, "caller-provided memory is too small"),
	E(SD_ERR_BUSY, "change bracket misuse (begin without commit, or commit without begin)"),
};
#undef E

static const struct sd_err_text *sd_err_lookup(int err)
{
	for (u32 i = 0; i < SD_ARRAY_SIZE(sd_err_texts); i++)
		if (sd_err_texts[i].err == err || -sd_err_texts[i].err == err)
			return &sd_err_texts[i];
	return NULL;
}

const char *sd_err_name(int err)
{
	const struct sd_err_text *t = sd_err_lookup(err);

	return t ? t->name : "SD_ERR_UNKNOWN";
}

const char *sd_err_desc(int err)
{
	const struct sd_err_text *t = sd_err_lookup(err);

	return t ? t->desc : "unknown error";
}
