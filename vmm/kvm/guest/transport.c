// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * transport.c - the test guest's struct sd_transport_ops for guest/: CPUID
 * at CPL 3 (KVM's own values here, checked by test_harness), WRMSR/RDMSR
 * through the ring-0 services, which turn a #GP into -1.
 */
#include "sd_rt.h"
#include "sd_guest.h"

static void rt_cpuid(void *ctx, u32 leaf, u32 regs[4])
{
	(void)ctx;
	__asm__ __volatile__("cpuid"
			     : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3])
			     : "a"(leaf), "c"(0));
}

static int rt_wrmsr(void *ctx, u32 msr, u64 val)
{
	(void)ctx;
	return sd_rt_wrmsr(msr, val);
}

static int rt_rdmsr(void *ctx, u32 msr, u64 *val)
{
	(void)ctx;
	return sd_rt_rdmsr(msr, val);
}

/*
 * VMCALL hangs the vCPU on these hosts (FACTS.md) and the VMM never
 * advertises the hypercall bit, so guest/ never calls this; if it did, it
 * gets KVM's "no such hypercall" rather than a hang.
 */
static s64 rt_hypercall(void *ctx, u64 nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
	(void)ctx;
	(void)nr;
	(void)a0;
	(void)a1;
	(void)a2;
	(void)a3;
	return -SD_KVM_ENOSYS;
}

const struct sd_transport_ops sd_rt_transport_ops = {
	.cpuid = rt_cpuid,
	.wrmsr = rt_wrmsr,
	.rdmsr = rt_rdmsr,
	.hypercall = rt_hypercall,
};
