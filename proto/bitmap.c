// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bitmap.c - word-at-a-time range operations (private memory only).
 *
 * A range [start, start + n) touches at most two partial words, at its
 * ends; everything between is whole words, handled with one store or one
 * popcount each.
 */
#include "bitmap.h"

/* Run @body for every word @w of [start, start + n), with @mask its bits in range. */
#define SD_FOR_EACH_WORD(start, n, w, mask, body)				\
	do {									\
		u64 __end = (start) + (n);					\
		u64 __i = (start);						\
		while (__i < __end) {						\
			u64 w = __i >> 6;					\
			u32 __lo = (u32)(__i & 63);				\
			u32 __hi = (__end - (w << 6)) >= 64 ? 64 :		\
				   (u32)(__end - (w << 6));			\
			u64 mask = sd_word_mask(__lo, __hi);			\
			body;							\
			__i = (w + 1) << 6;					\
		}								\
	} while (0)

void sd_bitmap_set_range(u64 *map, u64 start, u64 n)
{
	SD_FOR_EACH_WORD(start, n, w, mask, map[w] |= mask);
}

void sd_bitmap_clear_range(u64 *map, u64 start, u64 n)
{
	SD_FOR_EACH_WORD(start, n, w, mask, map[w] &= ~mask);
}

u64 sd_bitmap_weight(const u64 *map, u64 start, u64 n)
{
	u64 sum = 0;

	SD_FOR_EACH_WORD(start, n, w, mask, sum += sd_popcount64(map[w] & mask));
	return sum;
}

u64 sd_bitmap_find(const u64 *map, u64 start, u64 end, bool value)
{
	u64 i = start;

	while (i < end) {
		u64 w = i >> 6;
		u64 word = value ? map[w] : ~map[w];

		word &= ~0ULL << (i & 63);
		if (word) {
			u64 hit = (w << 6) + (u64)__builtin_ctzll(word);

			return hit < end ? hit : end;
		}
		i = (w + 1) << 6;
	}
	return end;
}
