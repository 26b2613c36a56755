// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * rt.c - the test guest's runtime: entry, ucalls, assertions, and the few
 * libc functions a freestanding compiler may emit calls to.
 */
#include "sd_rt.h"

void sd_rt_main(void);

u64 sd_rt_ucall(u64 cmd, u64 nargs, u64 a0, u64 a1, u64 a2, u64 a3,
		const char *expr, const char *file, u64 line)
{
	struct sd_ucall *uc = &sd_rt_percpu()->uc;

	uc->cmd = cmd;
	uc->args[0] = a0;
	uc->args[1] = a1;
	uc->args[2] = a2;
	uc->args[3] = a3;
	uc->expr = (u64)expr;
	uc->file = (u64)file;
	uc->line = line;
	uc->nargs = nargs;
	/*
	 * The OUT exits to the VMM, which reads *uc while this vCPU is stopped;
	 * the "memory" clobber keeps the stores above before it, and the load
	 * of the reply after it.
	 */
	__asm__ __volatile__("outl %%eax, %%dx"
			     : : "a"((u32)(u64)uc), "d"((u16)SD_KVM_UCALL_PORT) : "memory");
	return uc->args[0];
}

void sd_rt_assert_fail(const char *expr, const char *file, u64 line, u64 nargs,
		       u64 a, u64 b)
{
	/* The VMM fails the test on an ASSERT; if it resumes anyway, repeat. */
	for (;;)
		sd_rt_ucall(SD_UCALL_ASSERT, nargs, a, b, 0, 0, expr, file, line);
}

/* Called by the boot stub at CPL 3. */
void sd_rt_main(void)
{
	guest_main(sd_rt_vcpu_id());
	for (;;)
		GUEST_DONE();
}

/*
 * String instructions rather than loops: a loop here could be turned back
 * into a call to the very function being defined.
 */
void *memset(void *s, int c, size_t n)
{
	void *d = s;

	__asm__ __volatile__("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *dd = d;

	__asm__ __volatile__("rep movsb" : "+D"(dd), "+S"(s), "+c"(n) : : "memory");
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	if ((const u8 *)d <= (const u8 *)s || (const u8 *)d >= (const u8 *)s + n)
		return memcpy(d, s, n);
	/* Overlapping, destination above: copy backwards. */
	{
		u8 *dd = (u8 *)d + n - 1;
		const u8 *ss = (const u8 *)s + n - 1;

		__asm__ __volatile__("std; rep movsb; cld"
				     : "+D"(dd), "+S"(ss), "+c"(n) : : "memory");
	}
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;
	size_t i;

	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}
