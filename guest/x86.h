/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * x86.h - the instructions behind struct sd_transport_ops, for environments
 * that have no wrappers of their own. Freestanding.
 *
 * The MSR accessors here do not survive a #GP: an environment must route
 * wrmsr/rdmsr through its exception fixup (a kernel's *_safe accessors, the
 * KVM test guest's #GP handler) before handing them to guest/.
 */
#ifndef SD_X86_H
#define SD_X86_H

#include "sd_types.h"

static inline void sd_x86_cpuid(u32 leaf, u32 regs[4])
{
	__asm__ __volatile__("cpuid"
			     : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3])
			     : "a"(leaf), "c"(0));
}

/* Whether this CPU is AMD ("AuthenticAMD"): SEV guests use vmmcall, others vmcall. */
static inline bool sd_x86_is_amd(void)
{
	u32 r[4];

	sd_x86_cpuid(0, r);
	return r[1] == 0x68747541U && r[3] == 0x69746e65U && r[2] == 0x444d4163U;
}

/* KVM hypercall convention: nr in RAX, a0-a3 in RBX, RCX, RDX, RSI; result in RAX. */
static inline s64 sd_x86_vmmcall(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
	s64 ret;

	__asm__ __volatile__("vmmcall"
			     : "=a"(ret)
			     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			     : "memory");
	return ret;
}

static inline s64 sd_x86_vmcall(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
	s64 ret;

	__asm__ __volatile__("vmcall"
			     : "=a"(ret)
			     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			     : "memory");
	return ret;
}

#endif /* SD_X86_H */
