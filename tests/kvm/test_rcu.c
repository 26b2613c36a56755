// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_rcu.c - readers of the RCU-published registration (vmm/kvm/reg.c):
 * a thread that reads without registering with liburcu aborts loudly (its
 * copy could be freed under it: grace periods do not wait for it), and
 * registered readers copy whole records while another thread republishes
 * as fast as it can (sd_vmm_reg_restore, which frees the old record with
 * call_rcu). Run under ASan (make check SAN=address,undefined), a record
 * freed under a reader is a heap-use-after-free report.
 *
 * The tables are written by the host with guest/ straight into guest RAM;
 * no vCPU runs.
 */
#ifdef SD_KVM_GUEST
#include "sd_rt.h"
void guest_main(u32 id)
{
	(void)id;
}
#else
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sd_kvm.h"
#include "sd_vmm_reg.h"
#include "sd_guest.h"

extern const char sd_guest_image[], sd_guest_image_end[];

#define MIB		(1ULL << 20)
#define RAM_BYTES	(64 * MIB)
#define TABLE_A		(8 * MIB)
#define TABLE_B		(12 * MIB)
#define RESTORES	20000

static u64 priv[2][8192];

/* A VM with the endpoint and two valid tables, at TABLE_A and TABLE_B. */
static struct sd_vm *vm_with_tables(struct sd_vmm_reg **r)
{
	static struct sd_guest g[2];
	struct sd_vm *vm = sd_vm_create();
	u64 span = RAM_BYTES >> SD_PAGE_SHIFT, bytes = sd_guest_table_bytes(0, span, 1024);
	const sd_gpa_t at[2] = { TABLE_A, TABLE_B };

	sd_vm_add_ram(vm, 0, RAM_BYTES, 0);
	sd_vm_load_image(vm, sd_guest_image, sd_guest_image_end - sd_guest_image);
	*r = sd_vmm_reg_create(vm);
	TEST_ASSERT(sd_guest_priv_bytes(0, span, 1024) <= sizeof(priv[0]), "priv");
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT_EQ(sd_guest_init(&g[i], 0, span, 1024, sd_vm_hva(vm, at[i], bytes), at[i],
					     bytes, priv[i], sizeof(priv[i])), 0);
		/* The other table's pages are shared too: each describes the same guest. */
		TEST_ASSERT_EQ(sd_guest_set(&g[i], at[!i] >> SD_PAGE_SHIFT, bytes >> SD_PAGE_SHIFT,
					    true), 0);
	}
	return vm;
}

/* Read @fd until EOF or @ms, into @buf (NUL-terminated). */
static void read_all(int fd, char *buf, size_t size, int ms)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, ms) <= 0)
			break;
		r = read(fd, buf + n, size - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
}

static void a_reader_that_never_registered_aborts_loudly(void)
{
	char out[1024];
	int p[2], status = 0;
	pid_t pid;

	TEST_ASSERT(pipe(p) == 0, "pipe");
	fflush(NULL);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		struct sd_vmm_reg *r;
		struct sd_host_reg reg;

		dup2(p[1], 2);
		close(p[0]);
		signal(SIGABRT, SIG_DFL);
		sd_thread_rcu_unregister();	/* whatever the parent's thread was */
		vm_with_tables(&r);
		sd_vmm_reg_snapshot(r, &reg);	/* must not return */
		_exit(0);
	}
	close(p[1]);
	read_all(p[0], out, sizeof(out), 20000);
	close(p[0]);
	TEST_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		    "the unregistered reader ended with status %#x, not SIGABRT", status);
	TEST_ASSERT(strstr(out, "without registering with liburcu"), "its message: '%s'", out);
}

struct storm {
	struct sd_vmm_reg *r;
	u64 restores, failed;
};

static void *restore_storm(void *arg)
{
	struct storm *s = arg;

	sd_thread_rcu_register();
	for (u64 i = 0; i < RESTORES; i++) {
		u64 value = ((i & 1) ? TABLE_B : TABLE_A) | SD_REG_ENABLE;

		if (sd_vmm_reg_restore(s->r, value, NULL))
			s->failed++;
		__atomic_store_n(&s->restores, i + 1, __ATOMIC_RELAXED);
	}
	sd_thread_rcu_unregister();
	return NULL;
}

static void registered_readers_copy_whole_records_during_a_restore_storm(void)
{
	struct storm s = { 0 };
	struct sd_host_reg reg;
	struct sd_vm *vm = vm_with_tables(&s.r);
	u64 snapshots = 0, torn = 0, last_gen = 0, backwards = 0;
	pthread_t t;

	TEST_ASSERT_EQ(sd_vmm_reg_restore(s.r, TABLE_A | SD_REG_ENABLE, NULL), 0);
	TEST_ASSERT(pthread_create(&t, NULL, restore_storm, &s) == 0, "pthread_create");
	do {
		TEST_ASSERT_EQ(sd_vmm_reg_snapshot(s.r, &reg), 0);
		snapshots++;
		/* A whole record: value, gpa and header agree with each other. */
		if ((reg.value != (TABLE_A | SD_REG_ENABLE) && reg.value != (TABLE_B | SD_REG_ENABLE)) ||
		    reg.gpa != (reg.value & SD_REG_GPA_MASK) || reg.hdr.magic != SD_MAGIC ||
		    !reg.active)
			torn++;
		backwards += reg.generation < last_gen;
		last_gen = reg.generation;
	} while (__atomic_load_n(&s.restores, __ATOMIC_RELAXED) < RESTORES);
	TEST_ASSERT(pthread_join(t, NULL) == 0, "pthread_join");
	sd_vmm_reg_quiesce(s.r);
	TEST_ASSERT_EQ(s.failed, 0);
	TEST_ASSERT_EQ(torn, 0);
	TEST_ASSERT_EQ(backwards, 0);
	TEST_ASSERT(snapshots > 0, "no snapshot taken");
	TEST_ASSERT_EQ(sd_vmm_reg_snapshot(s.r, &reg), 0);
	TEST_ASSERT_EQ(reg.generation, RESTORES + 1);
	TEST_ASSERT_EQ(s.r->nr_live_records, 1);	/* every replaced record freed, once */
	printf("rcu: %u restores, %llu whole snapshots by a registered reader meanwhile, 0 torn\n",
	       RESTORES, (unsigned long long)snapshots);
	sd_vmm_reg_destroy(s.r);
	sd_vm_free(vm);
}

int main(void)
{
	sd_kvm_require();
	setvbuf(stdout, NULL, _IOLBF, 0);
	a_reader_that_never_registered_aborts_loudly();
	printf("ok: a_reader_that_never_registered_aborts_loudly\n");
	sd_thread_rcu_register();
	registered_readers_copy_whole_records_during_a_restore_storm();
	printf("ok: registered_readers_copy_whole_records_during_a_restore_storm\n");
	sd_thread_rcu_unregister();
	return 0;
}
#endif
