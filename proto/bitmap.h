/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * bitmap.h - word-at-a-time bit-range operations on private memory.
 *
 * Bit i lives in word i / 64 at bit i % 64, which on a little-endian machine
 * is byte i / 8, bit i % 8: the table's bitmap layout (SPEC.md 1.5). These
 * helpers work on memory only their caller can write (the guest's shadow,
 * the host's scratch copy). Shared memory is reached only through the
 * sd_shared_* copies, which access it one word at a time with
 * SD_READ_ONCE/SD_WRITE_ONCE.
 */
#ifndef SD_BITMAP_H
#define SD_BITMAP_H

#include "sd_types.h"
#include "barrier.h"
#ifdef __KERNEL__
#include <linux/bitops.h>
#endif

/* SWAR count: what a freestanding build without POPCNT uses (no libgcc call). */
static inline u32 sd_popcount64_swar(u64 w)
{
	w = w - ((w >> 1) & 0x5555555555555555ULL);
	w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (u32)((w * 0x0101010101010101ULL) >> 56);
}

static inline u32 sd_popcount64(u64 w)
{
#if defined(__KERNEL__)
	return hweight64(w);
#elif defined(__POPCNT__)
	return (u32)__builtin_popcountll(w);
#else
	return sd_popcount64_swar(w);
#endif
}

/* Mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64. */
static inline u64 sd_word_mask(u32 lo, u32 hi)
{
	u64 m = hi >= 64 ? ~0ULL : ((1ULL << hi) - 1);

	return m & ~((1ULL << lo) - 1);
}

static inline bool sd_bit_test(const u64 *map, u64 i)
{
	return (map[i >> 6] >> (i & 63)) & 1;
}

/* Set, or clear, every bit of [start, start + n). */
void sd_bitmap_set_range(u64 *map, u64 start, u64 n);
void sd_bitmap_clear_range(u64 *map, u64 start, u64 n);
/* Number of set bits in [start, start + n). */
u64 sd_bitmap_weight(const u64 *map, u64 start, u64 n);
/* First index in [start, end) whose bit equals @value, or @end. */
u64 sd_bitmap_find(const u64 *map, u64 start, u64 end, bool value);
/* Whether every bit of [start, start + n) is set. */
static inline bool sd_bitmap_full(const u64 *map, u64 start, u64 n)
{
	return sd_bitmap_find(map, start, start + n, false) == start + n;
}

/* Copy @nwords words out of / into memory the other side can write. */
static inline void sd_shared_load_words(u64 *dst, const u64 *shared, u32 nwords)
{
	for (u32 i = 0; i < nwords; i++)
		dst[i] = SD_READ_ONCE(shared[i]);
}

/* The same, and the number of set bits copied (of the copy, as it is stored). */
static inline u32 sd_shared_load_words_pop(u64 *dst, const u64 *shared, u32 nwords)
{
	u32 pop = 0;

	for (u32 i = 0; i < nwords; i++) {
		u64 x = SD_READ_ONCE(shared[i]);

		dst[i] = x;
		pop += sd_popcount64(x);
	}
	return pop;
}

static inline void sd_shared_store_words(u64 *shared, const u64 *src, u64 nwords)
{
	for (u64 i = 0; i < nwords; i++)
		SD_WRITE_ONCE(shared[i], src[i]);
}

#endif /* SD_BITMAP_H */
