/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * sd_host_kmod.h - the ioctl ABI of sd_host_kmod.ko, a test module that runs
 * host/ inside the Linux kernel, and of its userspace driver
 * (test_host_kmod.c).
 *
 * The module plays KVM's part. Userspace hands it a memory map shaped like
 * KVM's memslots (guest-physical ranges, each backed by a userspace address,
 * or MMIO) and host/'s configuration; the module then registers, re-checks
 * the header and walks the table with host/, whose only accessor is copy():
 * get_user() for a 4-byte count, copy_from_user() for anything longer, from
 * the addresses the slots give. An access that faults (an unmapped or
 * PROT_NONE page, an address outside userspace) is what host/ reports as
 * SD_ERR_MEM_FAULT. The registration lives in the open file, as KVM keeps
 * one per VM.
 *
 * Every request struct is copied in and out whole; the ioctl itself fails
 * only on a bad request (-EINVAL, -EFAULT, -ENOTTY). What host/ decided is
 * in @rc (0 or a negative SD_ERR_*) and @loc.
 *
 * Synchronization: one ioctl at a time per open file (the module takes a
 * mutex); the memory behind the slots may change between and during calls,
 * as guest memory does.
 */
#ifndef SD_HOST_KMOD_H
#define SD_HOST_KMOD_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include "sd_host.h"

#define SDK_DEVICE		"sd_host_kmod"	/* /dev/sd_host_kmod */
#define SDK_MAX_SLOTS		16

/* A slot of guest memory: [gpa, gpa + size) read at [uaddr, uaddr + size). */
#define SDK_SLOT_MMIO		(1u << 0)	/* MMIO: no backing, @uaddr unused */

struct sdk_slot {
	__u64 gpa;
	__u64 size;
	__u64 uaddr;
	__u32 flags;
	__u32 pad;		/* must be 0 */
};

/* Where host/ located a failure: struct sd_errloc with explicit padding. */
struct sdk_loc {
	__s32 err;
	__u32 pad;
	__u64 chunk;
	__u64 offset;
};

/* SDK_SET_MEM: the memory map (sorted by gpa, non-overlapping) and the configuration. */
struct sdk_mem {
	__u32 nr_slots;
	__u32 phys_bits;
	__u32 max_attempts;	/* sd_host_cfg.max_attempts */
	__u32 pad;		/* must be 0 */
	struct sd_limits lim;
	struct sdk_slot slots[SDK_MAX_SLOTS];
};

/* SDK_REGISTER: sd_host_register() with this value and, when @hc, these arguments. */
struct sdk_register {
	__u64 value;
	__u32 flags;		/* 0 or SD_READ_PAUSED */
	__u32 hc;		/* 1: the hypercall transport, with @hc_args */
	__u64 hc_args[3];	/* a1 size, a2 ABI major, a3 reserved */
	/* out */
	__s32 rc;
	__u32 active;		/* the registration afterwards */
	__u64 generation;
	struct sdk_loc loc;
	struct sd_host_stats stats;
};

/* SDK_CHECK_HEADER: sd_host_check_header() against the registered copy. */
struct sdk_check {
	/* out */
	__s32 rc;
	__u32 pad;
	struct sdk_loc loc;
};

/* One run a walk reported (sd_extent_fn's arguments). */
struct sdk_run {
	__u64 gfn;
	__u64 npages;
	__u32 state;		/* enum sd_page_state */
	__u32 pad;
};

/*
 * SDK_WALK: sd_host_walk(). The runs are written to @runs (up to @max_runs
 * of them, in order); @nr_runs counts them all, and @pages and @nr_state
 * sum them per enum sd_page_state.
 */
struct sdk_walk {
	__u32 flags;		/* SD_READ_* */
	__u32 max_attempts;
	__u64 runs;		/* userspace address of struct sdk_run[max_runs] */
	__u64 max_runs;
	/* out */
	__s32 rc;
	__u32 pad;
	__u64 nr_runs;
	__u64 pages[4];
	__u64 nr_state[4];
	struct sdk_loc loc;
	struct sd_host_stats stats;
};

_Static_assert(sizeof(struct sdk_slot) == 32, "sdk_slot has no holes");
_Static_assert(sizeof(struct sdk_loc) == 24, "sdk_loc has no holes");
_Static_assert(sizeof(struct sdk_mem) == 48 + 32 * SDK_MAX_SLOTS, "sdk_mem has no holes");
_Static_assert(sizeof(struct sdk_register) == 128, "sdk_register has no holes");
_Static_assert(sizeof(struct sdk_check) == 32, "sdk_check has no holes");
_Static_assert(sizeof(struct sdk_run) == 24, "sdk_run has no holes");
_Static_assert(sizeof(struct sdk_walk) == 176, "sdk_walk has no holes");

#define SDK_IOC_MAGIC		0xd5
#define SDK_SET_MEM		_IOW(SDK_IOC_MAGIC, 1, struct sdk_mem)
#define SDK_REGISTER		_IOWR(SDK_IOC_MAGIC, 2, struct sdk_register)
#define SDK_CHECK_HEADER	_IOR(SDK_IOC_MAGIC, 3, struct sdk_check)
#define SDK_WALK		_IOWR(SDK_IOC_MAGIC, 4, struct sdk_walk)

#endif /* SD_HOST_KMOD_H */
