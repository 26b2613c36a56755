/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sd_rt.h - the test guest's runtime (freestanding): ucalls to the VMM,
 * guest assertions, fault-safe MSR access through the ring-0 gate, CPUID,
 * a PRNG, and sd_guest's transport operations.
 *
 * A test provides guest_main(); the boot stub enters it at CPL 3 on every
 * vCPU, and the runtime reports GUEST_DONE when it returns.
 */
#ifndef SD_RT_H
#define SD_RT_H

#include "sd_types.h"
#include "barrier.h"
#include "sd_kvm_abi.h"
#include "sd_rand.h"

/* The test's guest entry point, at CPL 3, once per vCPU. */
void guest_main(u32 vcpu_id);

static inline struct sd_kvm_percpu *sd_rt_percpu(void)
{
	u64 p;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
	return (struct sd_kvm_percpu *)p;
}

static inline u32 sd_rt_vcpu_id(void)
{
	return sd_rt_percpu()->vcpu_id;
}

static inline volatile struct sd_kvm_bootinfo *sd_rt_bootinfo(void)
{
	return (volatile struct sd_kvm_bootinfo *)SD_KVM_BOOTINFO_GPA;
}

/* ---- ucalls ---------------------------------------------------------------- */

/*
 * One ucall: fill this vCPU's slot, exit with an OUT. Returns args[0] as the
 * VMM left it (a SYNC may carry a reply back).
 */
u64 sd_rt_ucall(u64 cmd, u64 nargs, u64 a0, u64 a1, u64 a2, u64 a3,
		const char *expr, const char *file, u64 line);

void sd_rt_assert_fail(const char *expr, const char *file, u64 line, u64 nargs,
		       u64 a, u64 b) __attribute__((noreturn));

#define GUEST_SYNC(stage)	sd_rt_ucall(SD_UCALL_SYNC, 1, (u64)(stage), 0, 0, 0, 0, __FILE__, __LINE__)
#define GUEST_SYNC_ARGS(stage, a, b, c)						\
	sd_rt_ucall(SD_UCALL_SYNC, 4, (u64)(stage), (u64)(a), (u64)(b), (u64)(c),	\
		    0, __FILE__, __LINE__)
#define GUEST_PRINT(msg, a, b)							\
	sd_rt_ucall(SD_UCALL_PRINT, 2, (u64)(a), (u64)(b), 0, 0, msg, __FILE__, __LINE__)
#define GUEST_DONE()	sd_rt_ucall(SD_UCALL_DONE, 0, 0, 0, 0, 0, 0, __FILE__, __LINE__)

#define GUEST_ASSERT(cond)							\
	do {									\
		if (!(cond))							\
			sd_rt_assert_fail(#cond, __FILE__, __LINE__, 0, 0, 0);	\
	} while (0)

#define __GUEST_ASSERT_OP(a, b, op)						\
	do {									\
		u64 __a = (u64)(a), __b = (u64)(b);				\
		if (!(__a op __b))						\
			sd_rt_assert_fail(#a " " #op " " #b, __FILE__, __LINE__,	\
					  2, __a, __b);				\
	} while (0)
#define GUEST_ASSERT_EQ(a, b)	__GUEST_ASSERT_OP(a, b, ==)
#define GUEST_ASSERT_NE(a, b)	__GUEST_ASSERT_OP(a, b, !=)
#define GUEST_ASSERT_LT(a, b)	__GUEST_ASSERT_OP(a, b, <)
#define GUEST_ASSERT_LE(a, b)	__GUEST_ASSERT_OP(a, b, <=)

/* ---- ring-0 services (vmm/kvm/guest/boot.S) ------------------------------------- */

/* WRMSR at CPL 0 (the ring-0 services in boot.S): 0, or -1 when it raised #GP. */
int sd_rt_wrmsr(u32 msr, u64 val);
/* RDMSR at CPL 0: 0 with *val, or -1 (and *val = 0) when it raised #GP. */
int sd_rt_rdmsr(u32 msr, u64 *val);
/* CPUID executed at CPL 0: KVM's CPUID, whatever CPL-3 CPUID would return. */
void sd_rt_cpuid(u32 leaf, u32 subleaf, u32 regs[4]);
/*
 * A KVM hypercall at CPL 0 with @service (SD_KVM_SYS_VMMCALL or _VMCALL):
 * KVM's answer in RAX. Only with the instruction the VMM put in the boot
 * info (SD_KVM_HC_*): on some KVMs (kvm_pvm) the vCPU never returns.
 */
s64 sd_rt_hypercall(u64 service, u64 nr, u64 a0, u64 a1, u64 a2, u64 a3);

static inline u16 sd_rt_read_cs(void)
{
	u16 cs;

	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	return cs;
}

static inline u64 sd_rt_read_rflags(void)
{
	u64 f;

	__asm__ __volatile__("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void sd_rt_pause(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

/* ---- PRNG: splitmix64, deterministic per seed ------------------------------------ */

struct sd_rt_rng {
	u64 s;
};

static inline u64 sd_rt_rand(struct sd_rt_rng *r)
{
	return sd_splitmix64(&r->s);
}

/* Uniform-enough in [0, n), n > 0. */
static inline u64 sd_rt_rand_below(struct sd_rt_rng *r, u64 n)
{
	return sd_rt_rand(r) % n;
}

/* guest/'s transport operations for this runtime (transport.c); ctx unused. */
struct sd_transport_ops;
extern const struct sd_transport_ops sd_rt_transport_ops;

/* ---- libc pieces the compiler may call ------------------------------------------- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif /* SD_RT_H */
