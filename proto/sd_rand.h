/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_rand.h - splitmix64 (Steele, Lea and Flood, 2014): the seeded
 * generator that make-image's patterns, the demo guest's churn, the
 * benchmarks' layouts and the randomised host tests share, so that a seed
 * means the same stream everywhere. Not for anything secret.
 * Freestanding: no libc.
 */
#ifndef SD_RAND_H
#define SD_RAND_H

#include "sd_types.h"

/* The next number from the stream whose state is *@s. */
static inline u64 sd_splitmix64(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif /* SD_RAND_H */
