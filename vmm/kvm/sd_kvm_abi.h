/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_kvm_abi.h - the machine the VMM builds and the test guest runtime
 * relies on: fixed guest-physical addresses, segment selectors, vectors,
 * the per-vCPU block and the ucall wire format.
 *
 * Included by both sides: the VMM (vmm/kvm/, userspace) and the
 * freestanding guest runtime (vmm/kvm/guest/). It uses only fixed-width
 * types and no libc, so both compilations lay the structures out the same;
 * the _Static_asserts pin that.
 *
 * Guest virtual addresses equal guest physical addresses: the VMM
 * identity-maps the low SD_KVM_IDMAP_BYTES with 2 MiB pages, user-accessible
 * (the workload runs at CPL 3).
 */
#ifndef SD_KVM_ABI_H
#define SD_KVM_ABI_H

#ifdef __ASSEMBLER__
#define SD_KVM_U64(x)	x
#else
#include <linux/types.h>
#define SD_KVM_U64(x)	x##ULL
#endif

#define SD_KVM_MAX_VCPUS	4

/* ---- fixed guest-physical layout (all inside the first RAM slot) -------- */
#define SD_KVM_GDT_GPA		SD_KVM_U64(0x1000)	/* one page */
#define SD_KVM_IDT_GPA		SD_KVM_U64(0x2000)	/* 256 gates of 16 bytes */
#define SD_KVM_TSS_GPA		SD_KVM_U64(0x20000)	/* SD_KVM_TSS_STRIDE per vCPU */
#define SD_KVM_TSS_STRIDE	SD_KVM_U64(0x1000)	/* 104-byte TSS + I/O bitmap */
#define SD_KVM_BOOTINFO_GPA	SD_KVM_U64(0x4000)	/* struct sd_kvm_bootinfo */
#define SD_KVM_PERCPU_GPA	SD_KVM_U64(0x5000)	/* struct sd_kvm_percpu, one page each */
#define SD_KVM_PT_GPA		SD_KVM_U64(0x10000)	/* PML4, PDPT, then SD_KVM_IDMAP_PDS PDs */
#define SD_KVM_IDMAP_PDS	4
#define SD_KVM_IDMAP_BYTES	(SD_KVM_U64(1) * SD_KVM_IDMAP_PDS << 30)	/* 4 GiB */
#define SD_KVM_STACKS_GPA	SD_KVM_U64(0x100000)	/* SD_KVM_STACK_STRIDE per vCPU */
#define SD_KVM_STACK_STRIDE	SD_KVM_U64(0x40000)	/* 64 KiB kernel stack, 192 KiB user stack */
#define SD_KVM_KSTACK_BYTES	SD_KVM_U64(0x10000)
#define SD_KVM_IMAGE_GPA	SD_KVM_U64(0x200000)	/* the guest image is linked here */
#define SD_KVM_IMAGE_MAX	SD_KVM_U64(0x200000)
/* First GPA a test may use for its own data; the first slot must reach it. */
#define SD_KVM_FREE_GPA		(SD_KVM_IMAGE_GPA + SD_KVM_IMAGE_MAX)

#ifndef __ASSEMBLER__
_Static_assert(SD_KVM_PERCPU_GPA + SD_KVM_MAX_VCPUS * 0x1000 <= SD_KVM_PT_GPA, "percpu");
_Static_assert(SD_KVM_PT_GPA + (2 + SD_KVM_IDMAP_PDS) * 0x1000 <= SD_KVM_STACKS_GPA, "pt");
_Static_assert(SD_KVM_STACKS_GPA + SD_KVM_MAX_VCPUS * SD_KVM_STACK_STRIDE <= SD_KVM_IMAGE_GPA,
	       "stacks");
_Static_assert(SD_KVM_PT_GPA + (2 + SD_KVM_IDMAP_PDS) * 0x1000 <= SD_KVM_TSS_GPA, "pt/tss");
_Static_assert(SD_KVM_TSS_GPA + SD_KVM_MAX_VCPUS * SD_KVM_TSS_STRIDE <= SD_KVM_STACKS_GPA, "tss");
#endif

/* ---- segments (GDT at SD_KVM_GDT_GPA) ------------------------------------ */
#define SD_KVM_SEL_KCODE	0x08	/* 64-bit code, DPL 0 */
#define SD_KVM_SEL_KDATA	0x10	/* data, DPL 0 */
#define SD_KVM_SEL_UDATA	0x1b	/* data, DPL 3 (index 3, RPL 3) */
#define SD_KVM_SEL_UCODE	0x23	/* 64-bit code, DPL 3 (index 4, RPL 3) */
#define SD_KVM_SEL_TSS(i)	(0x28 + 16 * (i))	/* 16-byte TSS descriptor per vCPU */

/*
 * RFLAGS of the CPL-3 workload: IOPL 3 (the ucall port), interrupts off, bit 1.
 * kvm_pvm ignores IOPL (and runs CPL 3 with IF set), so each vCPU's TSS also
 * carries an I/O bitmap that grants exactly the ucall port's four bytes.
 */
#define SD_KVM_USER_RFLAGS	SD_KVM_U64(0x3002)

/* ---- vectors ----------------------------------------------------------------- */
#define SD_KVM_VEC_UD		6	/* also the way into the ring-0 services */
#define SD_KVM_VEC_GP		13
#define SD_KVM_NR_EXC		32	/* vectors 0..31 have stubs */

/* Ring-0 services (a UD2 at sd_rt_svc_entry), by number in RAX; arguments in RDI, RSI. */
#define SD_KVM_SYS_WRMSR	1	/* RDI msr, RSI value -> RAX 0, or -1 on #GP */
#define SD_KVM_SYS_RDMSR	2	/* RDI msr -> RAX 0 / -1, RDX value */
#define SD_KVM_SYS_CPUID	3	/* RDI leaf, RSI subleaf -> EAX, EBX, RSI (ECX), EDX */
/* A KVM hypercall at CPL 0: RDI number, RBX/RCX/RDX/RSI a0..a3 -> RAX (KVM's answer). */
#define SD_KVM_SYS_VMMCALL	4	/* with VMMCALL (AMD) */
#define SD_KVM_SYS_VMCALL	5	/* with VMCALL (Intel) */

/*
 * struct sd_kvm_bootinfo.hypercall: the instruction the VMM found to return
 * to the guest on this KVM (sd_kvm_hypercall_insn()); NONE where it would
 * hang the vCPU, and the runtime then never executes one.
 */
#define SD_KVM_HC_NONE		0
#define SD_KVM_HC_VMMCALL	1
#define SD_KVM_HC_VMCALL	2

/* ---- ucall: a guest-to-VMM call over an I/O port ------------------------------ */
/*
 * The guest fills a struct sd_ucall and writes its GVA (which is its GPA,
 * below 4 GiB) to SD_KVM_UCALL_PORT with a 32-bit OUT. The VMM reads the
 * struct through its guest-memory accessor, bounds-checked.
 */
#define SD_KVM_UCALL_PORT	0x5d00

#define SD_UCALL_NONE		0
#define SD_UCALL_SYNC		1	/* args[0] = stage, args[1..3] = values */
#define SD_UCALL_ASSERT		2	/* expr, file, line; args[0], args[1] = the values compared */
#define SD_UCALL_DONE		3
#define SD_UCALL_EXCEPTION	4	/* from ring 0: args = vector, error code, RIP, CS; line = RFLAGS */
#define SD_UCALL_PRINT		5	/* expr = a message; args[0..1] = values */
#define SD_UCALL_MAX		6

#define SD_KVM_PERCPU_UC_OFF	64
#define SD_KVM_PERCPU_EXC_OFF	136
#define SD_KVM_PERCPU_KSTACK_OFF 16
#define SD_KVM_PERCPU_USTACK_OFF 24

#ifndef __ASSEMBLER__
struct sd_ucall {
	__u64 cmd;
	__u64 args[4];
	__u64 expr;		/* GVA of a NUL-terminated string, or 0 */
	__u64 file;		/* GVA of a NUL-terminated string, or 0 */
	__u64 line;
	__u64 nargs;		/* how many of args[] an ASSERT/PRINT carries */
};
_Static_assert(sizeof(struct sd_ucall) == 72, "ucall layout");

/* ---- per-vCPU block, one page at SD_KVM_PERCPU_GPA + 0x1000 * id ---------------
 * The VMM points GS.base at it; the guest reaches it with %gs-relative loads
 * at any privilege level (nothing reloads GS).
 */
struct sd_kvm_percpu {
	__u64 self;		/* its own GVA */
	__u32 vcpu_id;
	__u32 nr_vcpus;
	__u64 kstack_top;	/* also TSS.RSP0 */
	__u64 ustack_top;	/* where the boot stub drops to CPL 3 */
	__u64 bootinfo;		/* GVA of struct sd_kvm_bootinfo */
	__u64 reserved[3];
	struct sd_ucall uc;	/* the guest's ucalls */
	struct sd_ucall exc;	/* exception reports from the ring-0 stubs */
};
_Static_assert(__builtin_offsetof(struct sd_kvm_percpu, uc) == SD_KVM_PERCPU_UC_OFF, "uc");
_Static_assert(__builtin_offsetof(struct sd_kvm_percpu, exc) == SD_KVM_PERCPU_EXC_OFF, "exc");
_Static_assert(__builtin_offsetof(struct sd_kvm_percpu, kstack_top) == SD_KVM_PERCPU_KSTACK_OFF,
	       "kstack_top");
_Static_assert(__builtin_offsetof(struct sd_kvm_percpu, ustack_top) == SD_KVM_PERCPU_USTACK_OFF,
	       "ustack_top");

/* ---- boot information, written by the VMM before the first KVM_RUN ------------ */
#define SD_KVM_BOOT_MAGIC	0x5344424fU	/* "OBDS" */
#define SD_KVM_BOOT_ARGS	32

struct sd_kvm_bootinfo {
	__u32 magic;
	__u32 nr_vcpus;
	__u64 seed;		/* for the guest's PRNG */
	__u64 phys_bits;	/* the guest's MAXPHYADDR */
	__u64 args[SD_KVM_BOOT_ARGS];	/* test-defined */
	__u64 stop;		/* set by the VMM while the guest runs (tests poll it) */
	__u64 hypercall;	/* SD_KVM_HC_*: which hypercall instruction is safe */
};
#endif /* !__ASSEMBLER__ */

#endif /* SD_KVM_ABI_H */
