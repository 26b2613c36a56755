// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * transport.c - the test guest's struct sd_transport_ops for guest/: CPUID,
 * WRMSR, RDMSR and the hypercall, all through the ring-0 services
 * (boot.S), which turn a #GP into -1.
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
 * The real instruction, the one the VMM found KVM to answer (boot info
 * "hypercall", set from sd_kvm_hypercall_insn()): stock KVM answers an
 * unknown number with -KVM_ENOSYS, a patched one forwards SD_HC_REGISTER
 * to the VMM. Where the VMM found none (kvm_pvm: the vCPU never comes
 * back from VMCALL or VMMCALL), nothing is executed and the answer is
 * KVM's "no such hypercall", which is what the guest would be told by a
 * KVM that does not know the number.
 */
static s64 rt_hypercall(void *ctx, u64 nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
	u64 insn = sd_rt_bootinfo()->hypercall;

	(void)ctx;
	if (insn == SD_KVM_HC_VMMCALL)
		return sd_rt_hypercall(SD_KVM_SYS_VMMCALL, nr, a0, a1, a2, a3);
	if (insn == SD_KVM_HC_VMCALL)
		return sd_rt_hypercall(SD_KVM_SYS_VMCALL, nr, a0, a1, a2, a3);
	return -SD_KVM_ENOSYS;
}

const struct sd_transport_ops sd_rt_transport_ops = {
	.cpuid = rt_cpuid,
	.wrmsr = rt_wrmsr,
	.rdmsr = rt_rdmsr,
	.hypercall = rt_hypercall,
};
