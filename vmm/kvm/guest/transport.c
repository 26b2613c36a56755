// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * transport.c - the test guest's struct sd_transport_ops for guest/: CPUID,
 * WRMSR and RDMSR, all through the ring-0 services (boot.S), which turn a
 * #GP into -1.
 *
 * CPUID runs at CPL 0 on purpose. Its answer is the VMM's (KVM_SET_CPUID2)
 * only where KVM intercepts the instruction: every KVM does at CPL 0, but a
 * paravirtual KVM whose guest ring 3 runs natively on a CPU without CPUID
 * faulting (AMD) returns the outer hypervisor's leaves at CPL 3. The probe
 * would then miss the transport bits (vmm/kvm/README.md).
 */
#include "sd_rt.h"
#include "sd_guest.h"

static void rt_cpuid(void *ctx, u32 leaf, u32 regs[4])
{
	(void)ctx;
	sd_rt_cpuid(leaf, 0, regs);
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
 * guest/ calls this only when CPUID advertises the hypercall, which the VMM
 * does only where KVM forwards SD_HC_REGISTER (vmm/kvm/README.md); on
 * kvm_pvm VMCALL hangs the vCPU. Until the runtime issues the instruction
 * itself, it answers KVM's "no such hypercall".
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
