/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * test_util.h - host-side assertions for the KVM tests, in the manner of
 * KVM selftests: a failed TEST_ASSERT prints the expression, file:line,
 * errno and a message, then exits 1; TEST_REQUIRE turns a missing
 * prerequisite into a loud skip (exit 77).
 */
#ifndef SD_TEST_UTIL_H
#define SD_TEST_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_KSFT_SKIP	77

void sd_test_assert_fail(const char *file, unsigned int line, const char *expr,
			 const char *fmt, ...) __attribute__((noreturn, format(printf, 4, 5)));
void sd_test_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define TEST_ASSERT(cond, fmt, ...)						\
	do {									\
		if (!(cond))							\
			sd_test_assert_fail(__FILE__, __LINE__, #cond,		\
					    fmt, ##__VA_ARGS__);		\
	} while (0)

#define TEST_ASSERT_EQ(a, b)							\
	do {									\
		unsigned long long __a = (unsigned long long)(a);		\
		unsigned long long __b = (unsigned long long)(b);		\
		if (__a != __b)							\
			sd_test_assert_fail(__FILE__, __LINE__, #a " == " #b,	\
					    "%#llx (%llu) != %#llx (%llu)",	\
					    __a, __a, __b, __b);		\
	} while (0)

#define TEST_FAIL(fmt, ...)	sd_test_assert_fail(__FILE__, __LINE__, "failure", fmt, ##__VA_ARGS__)

/* Skip (exit 77) unless @cond holds. */
#define TEST_REQUIRE(cond, fmt, ...)						\
	do {									\
		if (!(cond))							\
			sd_test_skip(fmt, ##__VA_ARGS__);			\
	} while (0)

#endif /* SD_TEST_UTIL_H */
