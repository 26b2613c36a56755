// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sd_kmod_dev.c - sd_host_kmod.ko: host/ and proto/, unchanged, inside
 * Linux, reading guest memory only through copy() as a kernel must.
 *
 * A test module, not a product: it stands where KVM would stand and lets a
 * userspace test drive host/ through /dev/sd_host_kmod (sd_host_kmod.h):
 *
 *   - the memory map is a list of slots shaped like KVM's memslots: a
 *     guest-physical range backed by a userspace address, or MMIO;
 *   - the accessor is copy() alone (no map(): a kernel has no pointer into
 *     guest memory that stays valid). It classifies a range over the slots
 *     as SPEC.md 4.4 says, then reads it with get_user() (a 4-byte count:
 *     one load) or copy_from_user(), and returns what they return: -EFAULT,
 *     or the count of bytes not copied. host/ turns both into
 *     SD_ERR_MEM_FAULT, so a slot whose backing is unmapped, PROT_NONE or
 *     not in userspace at all (access_ok() refuses it) faults for real;
 *   - one registration per open file, as KVM keeps one per VM.
 *
 * Reachable by whoever can open the device (root: mode 0600): every
 * request is checked before use, and every walk is bounded by host/
 * (nr_chunks chunks of max_attempts copies). The runs a walk reports go to
 * userspace as they come; the module allocates nothing per request.
 *
 * Synchronization table:
 *
 *   state              written by                 serialised by
 *   struct sdk_vm      SDK_SET_MEM, SDK_REGISTER  sdk_vm.lock (every ioctl holds it)
 *   guest memory       userspace, at any time     nothing: host/'s read rule
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "sd_version.h"
#include "sd_host_kmod.h"

/* One "VM": its memory map, configuration and registration. */
struct sdk_vm {
	struct mutex lock;		/* held by every ioctl on this file */
	u32 nr_slots;
	struct sdk_slot slots[SDK_MAX_SLOTS];
	struct sd_host_cfg cfg;
	struct sd_host_reg reg;
	u64 scratch[SD_HOST_SCRATCH_WORDS];
};

/* The slot holding @gpa, or NULL. */
static const struct sdk_slot *sdk_slot_at(const struct sdk_vm *vm, u64 gpa)
{
	u32 i;

	for (i = 0; i < vm->nr_slots; i++)
		if (gpa >= vm->slots[i].gpa && gpa - vm->slots[i].gpa < vm->slots[i].size)
			return &vm->slots[i];
	return NULL;
}

/*
 * SPEC.md 4.4 over the slots: 0 with *@out the slot that holds all of
 * [@gpa, @gpa + @len), or the range's SD_ERR_MEM_* error.
 */
static int sdk_classify(const struct sdk_vm *vm, u64 gpa, u64 len, const struct sdk_slot **out)
{
	const struct sdk_slot *s, *next;

	if (!len || len - 1 > U64_MAX - gpa)
		return -SD_ERR_MEM_UNBACKED;
	s = sdk_slot_at(vm, gpa);
	if (!s)
		return -SD_ERR_MEM_UNBACKED;
	if (s->flags & SDK_SLOT_MMIO)
		return -SD_ERR_MEM_MMIO;
	if (len <= s->size - (gpa - s->gpa)) {
		*out = s;
		return 0;
	}
	/* It runs past its slot (whose end SDK_SET_MEM checked does not wrap). */
	next = sdk_slot_at(vm, s->gpa + s->size);
	if (!next)
		return -SD_ERR_MEM_UNBACKED;
	return (next->flags & SDK_SLOT_MMIO) ? -SD_ERR_MEM_MMIO : -SD_ERR_MEM_SPLIT;
}

/*
 * host/'s accessor (struct sd_host_mem.copy). The return values of
 * get_user() and copy_from_user() go back to host/ as they are: the
 * contract turns any non-zero value that is not an SD_ERR_MEM_* into
 * SD_ERR_MEM_FAULT.
 */
static int sdk_copy(void *ctx, void *dst, sd_gpa_t gpa, u64 len)
{
	const struct sdk_vm *vm = ctx;
	const struct sdk_slot *s = NULL;
	const void __user *src;
	unsigned long left;
	int rc;

	rc = sdk_classify(vm, gpa, len, &s);
	if (rc || !dst)
		return rc;
	src = u64_to_user_ptr(s->uaddr + (gpa - s->gpa));
	if (len == 4)
		return get_user(*(u32 *)dst, (const u32 __user *)src);	/* one load */
	left = copy_from_user(dst, src, len);
	return left > INT_MAX ? INT_MAX : (int)left;
}

static void sdk_loc_out(struct sdk_loc *out, const struct sd_errloc *loc)
{
	*out = (struct sdk_loc){ .err = loc->err, .chunk = loc->chunk, .offset = loc->offset };
}

static const struct sd_errloc sdk_no_loc = { 0, SD_LOC_NONE, SD_LOC_NONE };

/* Slots sorted, non-overlapping, not wrapping; RAM slots aligned to 8 as their GPAs are. */
static int sdk_set_mem(struct sdk_vm *vm, const struct sdk_mem *m)
{
	u64 end = 0;
	u32 i;

	if (m->nr_slots > SDK_MAX_SLOTS || m->pad)
		return -EINVAL;
	for (i = 0; i < m->nr_slots; i++) {
		const struct sdk_slot *s = &m->slots[i];

		if (!s->size || s->size - 1 > U64_MAX - s->gpa || s->pad ||
		    (s->flags & ~SDK_SLOT_MMIO) || (i && s->gpa < end) ||
		    (!(s->flags & SDK_SLOT_MMIO) && ((s->uaddr ^ s->gpa) & 7)))
			return -EINVAL;
		end = s->gpa + s->size;
	}
	vm->nr_slots = m->nr_slots;
	memcpy(vm->slots, m->slots, sizeof(vm->slots));
	vm->cfg = (struct sd_host_cfg){ .lim = m->lim, .phys_bits = m->phys_bits,
					.max_attempts = m->max_attempts };
	return 0;
}

static int sdk_register(struct sdk_vm *vm, struct sdk_register *r)
{
	struct sd_host_mem mem = { .copy = sdk_copy, .ctx = vm };
	struct sd_hc_args hc = { r->hc_args[0], r->hc_args[1], r->hc_args[2] };
	struct sd_host_stats st = { 0 };
	struct sd_errloc loc = sdk_no_loc;

	SD_HOST_OPTS(sd_host_register_opts, o, .flags = r->flags, .hc = r->hc ? &hc : NULL,
		     .stats = &st, .loc = &loc);

	if (r->hc > 1)
		return -EINVAL;
	r->rc = sd_host_register(&vm->reg, &vm->cfg, &mem, r->value, &o);
	r->active = vm->reg.active;
	r->generation = vm->reg.generation;
	sdk_loc_out(&r->loc, &loc);
	r->stats = st;
	return 0;
}

static int sdk_check_header(struct sdk_vm *vm, struct sdk_check *c)
{
	struct sd_host_mem mem = { .copy = sdk_copy, .ctx = vm };
	struct sd_errloc loc = sdk_no_loc;

	c->rc = sd_host_check_header(&vm->reg, &mem, &loc);
	sdk_loc_out(&c->loc, &loc);
	return 0;
}

/* What a walk reports into: the request, and where its runs go. */
struct sdk_walk_ctx {
	struct sdk_walk *w;
	struct sdk_run __user *runs;
	bool efault;
};

/* A walk's return value when a run could not be written out (never an SD_ERR_*). */
#define SDK_STOP	1

static int sdk_run_fn(void *ctx, sd_gfn_t gfn, u64 npages, enum sd_page_state state)
{
	struct sdk_walk_ctx *c = ctx;
	struct sdk_walk *w = c->w;
	struct sdk_run run = { .gfn = gfn, .npages = npages, .state = state };

	if ((u32)state < ARRAY_SIZE(w->pages)) {
		w->pages[state] += npages;
		w->nr_state[state]++;
	}
	if (w->nr_runs < w->max_runs &&
	    copy_to_user(&c->runs[w->nr_runs], &run, sizeof(run))) {
		c->efault = true;
		return SDK_STOP;
	}
	w->nr_runs++;
	return 0;
}

static int sdk_walk(struct sdk_vm *vm, struct sdk_walk *w)
{
	struct sd_host_mem mem = { .copy = sdk_copy, .ctx = vm };
	struct sdk_walk_ctx c = { .w = w, .runs = u64_to_user_ptr(w->runs) };
	struct sd_host_stats st = { 0 };
	struct sd_errloc loc = sdk_no_loc;

	SD_HOST_OPTS(sd_host_walk_opts, o, .flags = w->flags, .max_attempts = w->max_attempts,
		     .fn = sdk_run_fn, .ctx = &c, .stats = &st, .loc = &loc);

	if (w->pad || w->max_runs > U64_MAX / sizeof(struct sdk_run))
		return -EINVAL;
	w->nr_runs = 0;
	memset(w->pages, 0, sizeof(w->pages));
	memset(w->nr_state, 0, sizeof(w->nr_state));
	w->rc = sd_host_walk(&vm->reg, &mem, vm->scratch, &o);
	if (c.efault)
		return -EFAULT;
	sdk_loc_out(&w->loc, &loc);
	w->stats = st;
	return 0;
}

/* Copy the request in, run it under the VM's lock, copy it out. */
static long sdk_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	union {
		struct sdk_mem mem;
		struct sdk_register reg;
		struct sdk_check check;
		struct sdk_walk walk;
	} *req;
	struct sdk_vm *vm = f->private_data;
	void __user *uarg = (void __user *)arg;
	size_t sz = _IOC_SIZE(cmd);
	long rc;

	switch (cmd) {
	case SDK_SET_MEM:
	case SDK_REGISTER:
	case SDK_CHECK_HEADER:
	case SDK_WALK:
		break;
	default:
		return -ENOTTY;
	}
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	rc = -EFAULT;
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(req, uarg, sz))
		goto out;
	mutex_lock(&vm->lock);
	switch (cmd) {
	case SDK_SET_MEM:
		rc = sdk_set_mem(vm, &req->mem);
		break;
	case SDK_REGISTER:
		rc = sdk_register(vm, &req->reg);
		break;
	case SDK_CHECK_HEADER:
		rc = sdk_check_header(vm, &req->check);
		break;
	default:
		rc = sdk_walk(vm, &req->walk);
		break;
	}
	mutex_unlock(&vm->lock);
	if (!rc && (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, req, sz))
		rc = -EFAULT;
out:
	kfree(req);
	return rc;
}

static int sdk_open(struct inode *inode, struct file *f)
{
	struct sdk_vm *vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);

	if (!vm)
		return -ENOMEM;
	mutex_init(&vm->lock);
	f->private_data = vm;
	return 0;
}

static int sdk_release(struct inode *inode, struct file *f)
{
	kfree(f->private_data);
	return 0;
}

static const struct file_operations sdk_fops = {
	.owner = THIS_MODULE,
	.open = sdk_open,
	.release = sdk_release,
	.unlocked_ioctl = sdk_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice sdk_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = SDK_DEVICE,
	.fops = &sdk_fops,
	.mode = 0600,
};

static int __init sdk_init(void)
{
	int rc = misc_register(&sdk_misc);

	if (!rc)
		pr_info("host/ %s in the kernel: /dev/%s\n", SD_LIB_VERSION_STRING, SDK_DEVICE);
	return rc;
}

static void __exit sdk_exit(void)
{
	misc_deregister(&sdk_misc);
}

module_init(sdk_init);
module_exit(sdk_exit);

MODULE_DESCRIPTION("sev-donate: host/ in the kernel, driven from userspace (a test module)");
MODULE_VERSION(SD_LIB_VERSION_STRING);
MODULE_LICENSE("Dual MIT/GPL");
