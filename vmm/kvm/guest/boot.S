/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * boot.S - the test guest's ring-0 code: boot stub, exception stubs, and
 * the ring-0 services (fault-safe WRMSR/RDMSR, CPUID, hypercalls) behind a UD2.
 *
 * Ring-0 code is kept to a few instructions on purpose: on these machines
 * guest code at CPL 0 is emulated and about a thousand times slower than
 * CPL 3 (FACTS.md). The VMM sets up long mode, the GDT, the IDT, one TSS per
 * vCPU and GS.base (sd_kvm_abi.h); the stub only drops to CPL 3.
 *
 * Entry state (set by the VMM): CPL 0, RSP = this vCPU's kernel stack top,
 * RDI = vCPU index, GS.base = this vCPU's struct sd_kvm_percpu.
 */
#include "sd_kvm_abi.h"

	.section .text.boot, "ax"
	.globl sd_rt_boot
	.type sd_rt_boot, @function
sd_rt_boot:
	movq %gs:SD_KVM_PERCPU_USTACK_OFF, %rax
	pushq $SD_KVM_SEL_UDATA		/* SS */
	pushq %rax			/* RSP */
	pushq $SD_KVM_USER_RFLAGS	/* RFLAGS: IOPL 3, IF 0 */
	pushq $SD_KVM_SEL_UCODE		/* CS */
	leaq sd_rt_user_start(%rip), %rax
	pushq %rax			/* RIP */
	iretq
	.size sd_rt_boot, . - sd_rt_boot

	.text
	/* CPL 3 from here; RSP is 16-byte aligned, so a call leaves it ABI-aligned. */
	.globl sd_rt_user_start
	.type sd_rt_user_start, @function
sd_rt_user_start:
	xorl %ebp, %ebp
	call sd_rt_main
	ud2
	.size sd_rt_user_start, . - sd_rt_user_start

/*
 * Exception stubs for vectors 0..31, 16 bytes apart from sd_rt_exc_stubs
 * (the VMM points IDT entry n at sd_rt_exc_stubs + 16 * n). Vectors without
 * a CPU-pushed error code push 0, so each stub leaves the frame as [vector][error code][RIP][CS][RFLAGS][RSP][SS].
 */
	.balign 16
	.globl sd_rt_exc_stubs
sd_rt_exc_stubs:
	vec = 0
	.rept SD_KVM_NR_EXC
	.balign 16
	.if !((vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
	pushq $0
	.endif
	pushq $vec
	jmp sd_rt_exc_common
	vec = vec + 1
	.endr

	.type sd_rt_exc_common, @function
sd_rt_exc_common:
	/* [vector][error][RIP][CS][RFLAGS][RSP][SS] */
	cmpq $SD_KVM_VEC_UD, (%rsp)
	je .Lmaybe_service
	cmpq $SD_KVM_VEC_GP, (%rsp)
	je .Lmaybe_fixup
	jmp .Lfatal

.Lmaybe_service:
	/* The UD2 in sd_rt_svc_entry is the way down to ring 0 (see below). */
	pushq %rcx
	leaq sd_rt_svc_ud2(%rip), %rcx
	cmpq %rcx, 24(%rsp)		/* [rcx][vector][error][RIP] */
	popq %rcx
	jne .Lfatal
	addq $2, 16(%rsp)		/* resume after the UD2 */
	addq $16, %rsp			/* drop vector and error code: an IRET frame */
	cmpq $SD_KVM_SYS_WRMSR, %rax
	je .Lsys_wrmsr
	cmpq $SD_KVM_SYS_RDMSR, %rax
	je .Lsys_rdmsr
	cmpq $SD_KVM_SYS_CPUID, %rax
	je .Lsys_cpuid
	cmpq $SD_KVM_SYS_VMMCALL, %rax
	je .Lsys_vmmcall
	cmpq $SD_KVM_SYS_VMCALL, %rax
	je .Lsys_vmcall
	movq $-1, %rax
	iretq

.Lmaybe_fixup:
	/* A #GP on one of the two MSR instructions below resumes at its fixup. */
	pushq %rax
	pushq %rcx
	movq 32(%rsp), %rax		/* [rcx][rax][vector][error][RIP] */
	leaq .Lwrmsr_insn(%rip), %rcx
	cmpq %rcx, %rax
	je .Lfix_wrmsr
	leaq .Lrdmsr_insn(%rip), %rcx
	cmpq %rcx, %rax
	jne .Lfatal_saved
	leaq .Lrdmsr_fault(%rip), %rcx
	jmp .Lfixup
.Lfix_wrmsr:
	leaq .Lwrmsr_fault(%rip), %rcx
.Lfixup:
	movq %rcx, 32(%rsp)
	popq %rcx
	popq %rax
	addq $16, %rsp			/* vector and error code */
	iretq

.Lfatal:
	pushq %rax
	pushq %rcx
.Lfatal_saved:
	/* Anything else is a bug in the test: report it and stay stopped. */
	movq %gs:0, %rcx
	addq $SD_KVM_PERCPU_EXC_OFF, %rcx
	movq $SD_UCALL_EXCEPTION, 0(%rcx)
	movq 16(%rsp), %rax
	movq %rax, 8(%rcx)		/* args[0] vector */
	movq 24(%rsp), %rax
	movq %rax, 16(%rcx)		/* args[1] error code */
	movq 32(%rsp), %rax
	movq %rax, 24(%rcx)		/* args[2] RIP */
	movq 40(%rsp), %rax
	movq %rax, 32(%rcx)		/* args[3] CS */
	movq $0, 40(%rcx)		/* expr */
	movq $0, 48(%rcx)		/* file */
	movq 48(%rsp), %rax
	movq %rax, 56(%rcx)		/* line: RFLAGS */
	movq $4, 64(%rcx)		/* nargs */
	movl %ecx, %eax
	movw $SD_KVM_UCALL_PORT, %dx
1:	outl %eax, %dx
	jmp 1b

/*
 * The ring-0 services, run by the #UD handler above on this vCPU's kernel
 * stack with an IRET frame back to the caller. In: RAX = service, RDI, RSI.
 * Out: RAX (and RDX for RDMSR; EAX, EBX, RSI = ECX, EDX for CPUID).
 * Clobbers RCX, RDX and (CPUID) RBX. Interrupt gates: IF stays clear.
 */
.Lsys_wrmsr:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
.Lwrmsr_insn:
	wrmsr
	xorl %eax, %eax
	iretq
.Lwrmsr_fault:
	movq $-1, %rax
	iretq

.Lsys_rdmsr:
	movl %edi, %ecx
.Lrdmsr_insn:
	rdmsr
	shlq $32, %rdx
	movl %eax, %eax
	orq %rax, %rdx
	xorl %eax, %eax
	iretq
.Lrdmsr_fault:
	movq $-1, %rax
	xorl %edx, %edx
	iretq

.Lsys_cpuid:
	movl %edi, %eax
	movl %esi, %ecx
	cpuid
	movl %ecx, %esi
	iretq

/*
 * KVM answers a hypercall only from CPL 0 (-KVM_EPERM otherwise), hence a
 * service. KVM's ABI: number in RAX, a0..a3 in RBX, RCX, RDX, RSI, the
 * answer in RAX; everything else is preserved.
 */
.Lsys_vmmcall:
	movq %rdi, %rax
	vmmcall
	iretq
.Lsys_vmcall:
	movq %rdi, %rax
	vmcall
	iretq
	.size sd_rt_exc_common, . - sd_rt_exc_common

/*
 * The way down from CPL 3: a UD2 at this one address. kvm_pvm turns a
 * software INT from CPL 3 into #UD, and its SYSCALL does not leave CPL 3;
 * exceptions, though, are delivered through the IDT at CPL 0, so the #UD
 * handler recognises this address and runs the service instead of failing.
 * These are C functions (SysV ABI) around it.
 */
	.globl sd_rt_svc_entry
	.type sd_rt_svc_entry, @function
sd_rt_svc_entry:
sd_rt_svc_ud2:
	ud2
	ret
	.size sd_rt_svc_entry, . - sd_rt_svc_entry

	/* int sd_rt_wrmsr(u32 msr, u64 val) */
	.globl sd_rt_wrmsr
	.type sd_rt_wrmsr, @function
sd_rt_wrmsr:
	movl $SD_KVM_SYS_WRMSR, %eax
	call sd_rt_svc_entry
	ret
	.size sd_rt_wrmsr, . - sd_rt_wrmsr

	/* int sd_rt_rdmsr(u32 msr, u64 *val) */
	.globl sd_rt_rdmsr
	.type sd_rt_rdmsr, @function
sd_rt_rdmsr:
	movq %rsi, %r8
	movl $SD_KVM_SYS_RDMSR, %eax
	call sd_rt_svc_entry
	movq %rdx, (%r8)
	ret
	.size sd_rt_rdmsr, . - sd_rt_rdmsr

	/* void sd_rt_cpuid(u32 leaf, u32 subleaf, u32 regs[4]) */
	.globl sd_rt_cpuid
	.type sd_rt_cpuid, @function
sd_rt_cpuid:
	pushq %rbx
	movq %rdx, %r8
	movl $SD_KVM_SYS_CPUID, %eax
	call sd_rt_svc_entry
	movl %eax, 0(%r8)
	movl %ebx, 4(%r8)
	movl %esi, 8(%r8)
	movl %edx, 12(%r8)
	popq %rbx
	ret
	.size sd_rt_cpuid, . - sd_rt_cpuid

	/* s64 sd_rt_hypercall(u64 service, u64 nr, u64 a0, u64 a1, u64 a2, u64 a3) */
	.globl sd_rt_hypercall
	.type sd_rt_hypercall, @function
sd_rt_hypercall:
	pushq %rbx
	movq %rdi, %rax			/* service */
	movq %rsi, %rdi			/* nr */
	movq %rdx, %rbx			/* a0; a1 is in RCX already */
	movq %r8, %rdx			/* a2 */
	movq %r9, %rsi			/* a3 */
	call sd_rt_svc_entry
	popq %rbx
	ret
	.size sd_rt_hypercall, . - sd_rt_hypercall

	.section .note.GNU-stack, "", @progbits
