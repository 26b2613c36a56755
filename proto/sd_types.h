/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_types.h - the handful of types proto/, guest/ and host/ use, in a form
 * that builds in a Linux kernel, in a freestanding image and in userspace.
 */
#ifndef SD_TYPES_H
#define SD_TYPES_H

#include <linux/types.h>

#ifdef __KERNEL__
/* u8..u64, s32, s64 and bool come from <linux/types.h>. */
#else
#include <stdbool.h>	/* freestanding headers: no libc behind them */
#include <stddef.h>
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
#endif

#include "sd_api_types.h"	/* sd_gfn_t, sd_gpa_t */

#define SD_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SD_ALIGN_UP(x, a)	(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define SD_IS_POW2(x)		((x) != 0 && ((x) & ((x) - 1)) == 0)
#define SD_MIN(a, b)		((a) < (b) ? (a) : (b))
#define SD_MAX(a, b)		((a) > (b) ? (a) : (b))

#endif /* SD_TYPES_H */
