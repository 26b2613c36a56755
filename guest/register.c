// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * register.c - transport discovery and registration (SPEC.md 5), guest side.
 *
 * Reachable by a hostile host: every value read back (CPUID, the status
 * MSR, the read-back registration, the hypercall's RAX) is checked against
 * what SPEC.md 5.4 allows before it becomes a return value, and none of
 * them steers anything else.
 */
#include "sd_guest.h"
#include "sd_types.h"
#include "layout.h"
#include "validate.h"

/* "KVMKVMKVM\0\0\0" as CPUID returns it in EBX, ECX, EDX. */
#define KVM_SIG_EBX	0x4b4d564bU
#define KVM_SIG_ECX	0x564b4d56U
#define KVM_SIG_EDX	0x0000004dU

int sd_transport_probe(struct sd_transport *t)
{
	u32 r[4];

	t->kind = SD_TRANSPORT_NONE;
	for (u32 base = 0x40000000U; base < 0x40010000U; base += 0x100) {
		t->ops->cpuid(t->ctx, base, r);
		if (r[1] != KVM_SIG_EBX || r[2] != KVM_SIG_ECX || r[3] != KVM_SIG_EDX)
			continue;
		t->ops->cpuid(t->ctx, base + 1, r);
		if (r[0] & (1U << SD_CPUID_BIT_HC))
			t->kind = SD_TRANSPORT_HC;
		else if (r[0] & (1U << SD_CPUID_BIT_MSR))
			t->kind = SD_TRANSPORT_MSR;
		break;
	}
	return t->kind == SD_TRANSPORT_NONE ? -SD_ERR_UNSUPPORTED : 0;
}

/* A host's reason for refusing, or SD_ERR_BAD_ANSWER if it is no reason at all. */
static int host_reason(u64 status)
{
	if (status == 0 || status > SD_ERR_MAX || !sd_err_is_host_answer((int)status))
		return -SD_ERR_BAD_ANSWER;
	return -(int)status;
}

static int reg_msr(const struct sd_transport *t, u64 value)
{
	u64 v;

	if (t->ops->wrmsr(t->ctx, SD_MSR_TABLE, value) == 0) {
		/* Accepted: the host must now report exactly what we wrote. */
		if (t->ops->rdmsr(t->ctx, SD_MSR_TABLE, &v))
			return -SD_ERR_TRANSPORT;
		return v == value ? 0 : -SD_ERR_BAD_ANSWER;
	}
	/* #GP: the status MSR says why (SPEC.md 5.3). */
	if (t->ops->rdmsr(t->ctx, SD_MSR_STATUS, &v))
		return -SD_ERR_TRANSPORT;
	return host_reason(v);
}

static int reg_hc(const struct sd_transport *t, u64 value, u64 size, u64 abi)
{
	s64 ret = t->ops->hypercall(t->ctx, SD_HC_REGISTER, value, size, abi, 0);

	if (ret == 0)
		return 0;
	if (ret == -SD_KVM_ENOSYS)
		return -SD_ERR_UNSUPPORTED;
	if (ret < 0 && ret >= -(s64)SD_ERR_MAX)
		return host_reason((u64)-ret);
	return -SD_ERR_BAD_ANSWER;
}

static int reg_value(const struct sd_transport *t, u64 value, u64 size)
{
	switch (t->kind) {
	case SD_TRANSPORT_MSR:
		return reg_msr(t, value);
	case SD_TRANSPORT_HC:
		return reg_hc(t, value, size, value ? SD_ABI_MAJOR : 0);
	default:
		return -SD_ERR_UNSUPPORTED;
	}
}

/*
 * Whether an answer settles that the host holds nothing new: a success, or a
 * refusal with a reason SPEC.md 5.4 allows (the host then keeps what it had).
 * Anything else (SD_ERR_BAD_ANSWER, SD_ERR_TRANSPORT) leaves it unknown what
 * the host holds: it may have taken the value.
 */
static bool answer_is_clean(int rc)
{
	return rc == 0 || sd_err_is_host_answer(rc);
}

int sd_guest_register(struct sd_guest *g, const struct sd_transport *t)
{
	u64 value = g->table_gpa | SD_REG_ENABLE;
	int rc = reg_value(t, value, g->g.table_size);

	/* Not a clean refusal: the host may read the table until a 0 is accepted. */
	if (rc == 0 || !answer_is_clean(rc))
		g->reg_value = value;
	return rc;
}

int sd_guest_register_fresh(struct sd_guest *g, const struct sd_transport *t)
{
	/* A crash kexec could not unregister: drop what a previous kernel left (SPEC.md 5.7). */
	int rc = reg_value(t, 0, 0);

	return rc ? rc : sd_guest_register(g, t);
}

int sd_guest_unregister(struct sd_guest *g, const struct sd_transport *t)
{
	int rc = reg_value(t, 0, 0);

	if (rc == 0)
		g->reg_value = 0;
	return rc;
}

int sd_guest_resize(struct sd_guest *old, struct sd_guest *new, const struct sd_transport *t)
{
	int rc;

	sd_guest_copy_state(new, old);
	rc = sd_guest_register(new, t);
	if (rc == 0)
		old->reg_value = 0;	/* replaced: the host no longer reads it */
	else if (!answer_is_clean(rc) && sd_guest_register(old, t) == 0)
		new->reg_value = 0;	/* settled: the host reads @old (still exact), not @new */
	return rc;
}
