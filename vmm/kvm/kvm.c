// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kvm.c - VMs, memslots, vCPUs in long mode, the guest image, the run loop,
 * pausing, dirty logging and vCPU state (sd_kvm.h).
 */
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define RCU_MEMBARRIER	/* the memb flavor (FACTS.md) */
#include <urcu.h>

#include "sev_donate.h"
#include "sd_kvm.h"

#define KVM_DEV		"/dev/kvm"
#define SD_KICK_SIGNAL	SIGUSR1

/* ---- assertions ----------------------------------------------------------------- */

void sd_test_assert_fail(const char *file, unsigned int line, const char *expr,
			 const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	fprintf(stderr, "==== Test Assertion Failure ====\n  %s:%u: %s\n  errno=%d (%s)\n  ",
		file, line, expr, e, strerror(e));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	exit(1);
}

void sd_test_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(SD_KSFT_SKIP);
}

/*
 * What the harness needs from KVM, and what it adapts to. Probed once, on
 * /dev/kvm (system ioctls only), the first time anyone asks.
 */
static struct sd_kvm_caps caps;
static pthread_once_t caps_once = PTHREAD_ONCE_INIT;

static int check_ext(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static bool probe_hc_register(int kvm_fd)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_EXIT_HYPERCALL,
		.args[0] = 1ULL << SD_HC_REGISTER,
	};
	int vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	bool ok;

	if (vm < 0)
		return false;
	ok = ioctl(vm, KVM_ENABLE_CAP, &cap) == 0;
	close(vm);
	return ok;
}

static void caps_probe(void)
{
	int fd = open(KVM_DEV, O_RDWR | O_CLOEXEC);

	memset(&caps, 0, sizeof(caps));
	if (fd < 0) {
		caps.missing = "/dev/kvm not available";
		return;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		caps.missing = "/dev/kvm speaks another KVM API version";
		close(fd);
		return;
	}
	caps.present = true;
	caps.user_space_msr = check_ext(fd, KVM_CAP_X86_USER_SPACE_MSR) > 0;
	caps.msr_filter = check_ext(fd, KVM_CAP_X86_MSR_FILTER) > 0;
	caps.immediate_exit = check_ext(fd, KVM_CAP_IMMEDIATE_EXIT) > 0;
	caps.xsave = check_ext(fd, KVM_CAP_XSAVE) > 0;
	caps.xcrs = check_ext(fd, KVM_CAP_XCRS) > 0;
	caps.vcpu_events = check_ext(fd, KVM_CAP_VCPU_EVENTS) > 0;
	caps.debugregs = check_ext(fd, KVM_CAP_DEBUGREGS) > 0;
	caps.max_vcpus = (u32)check_ext(fd, KVM_CAP_MAX_VCPUS);
	/*
	 * The hypercalls this KVM can forward to userspace. KVM_CHECK_EXTENSION
	 * returns an int, so it cannot report bit SD_HC_REGISTER (40): ask a
	 * scratch VM to enable that bit; stock KVM refuses it with EINVAL.
	 */
	caps.exit_hypercall = (u64)(u32)check_ext(fd, KVM_CAP_EXIT_HYPERCALL);
	if (caps.exit_hypercall)
		caps.hc_register = probe_hc_register(fd);
	if (caps.hc_register)
		caps.exit_hypercall |= 1ULL << SD_HC_REGISTER;
	close(fd);
	if (!caps.user_space_msr)
		caps.missing = "KVM lacks KVM_CAP_X86_USER_SPACE_MSR (MSR exits to userspace)";
	else if (!caps.msr_filter)
		caps.missing = "KVM lacks KVM_CAP_X86_MSR_FILTER (the registration MSRs)";
	else if (!caps.immediate_exit)
		caps.missing = "KVM lacks KVM_CAP_IMMEDIATE_EXIT (pausing vCPUs)";
	else if (!caps.vcpu_events || !caps.debugregs)
		caps.missing = "KVM lacks KVM_CAP_VCPU_EVENTS or KVM_CAP_DEBUGREGS (vCPU state)";
	else if (caps.max_vcpus && caps.max_vcpus < SD_KVM_MAX_VCPUS)
		caps.missing = "KVM allows fewer vCPUs per VM than the harness uses";
}

const struct sd_kvm_caps *sd_kvm_caps(void)
{
	pthread_once(&caps_once, caps_probe);
	return &caps;
}

bool sd_kvm_available(void)
{
	return !sd_kvm_caps()->missing;
}

void sd_kvm_require(void)
{
	const struct sd_kvm_caps *c = sd_kvm_caps();

	TEST_REQUIRE(!c->missing, "%s", c->missing);
}

/* ---- VM and memory -------------------------------------------------------------- */

static void kick_handler(int sig)
{
	(void)sig;	/* its only job is to make KVM_RUN return -EINTR */
}

static void kick_handler_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	/* SA_RESTART for other syscalls; KVM_RUN returns -EINTR regardless. */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	TEST_ASSERT(sigaction(SD_KICK_SIGNAL, &sa, NULL) == 0, "sigaction");
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	u32 nent = 128;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		TEST_ASSERT(c, "calloc");
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		TEST_ASSERT(errno == E2BIG && nent < 4096, "KVM_GET_SUPPORTED_CPUID");
		free(c);
		nent *= 2;
	}
}

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, u32 fn, u32 idx)
{
	u32 i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/* ---- the hypercall instruction: a bounded experiment ------------------------------ */

/* AMD and Hygon CPUs have VMMCALL; Intel's (and other VMX CPUs) VMCALL. */
static u32 vendor_hc(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(c, 0, 0);

	if (e && ((e->ebx == 0x68747541 && e->edx == 0x69746e65) ||	/* "AuthenticAMD" */
		  (e->ebx == 0x6f677948 && e->edx == 0x6e65476e)))	/* "HygonGenuine" */
		return SD_KVM_HC_VMMCALL;
	return SD_KVM_HC_VMCALL;
}

#define HCP_RAM		(2u << 20)
#define HCP_CODE	0x8000

/* The scratch vCPU's code, at CPL 0 in long mode: one hypercall, then OUT its answer. */
static const u8 hcp_code[] = {
	0xb8, SD_HC_REGISTER, 0, 0, 0,	/* mov $SD_HC_REGISTER, %eax (no cap: unknown to KVM) */
	0x31, 0xdb, 0x31, 0xc9,		/* xor %ebx, %ebx; xor %ecx, %ecx */
	0x31, 0xd2, 0x31, 0xf6,		/* xor %edx, %edx; xor %esi, %esi */
	0x0f, 0x01, 0xd9,		/* vmmcall (patched to 0xc1, vmcall, for Intel) */
	0x66, 0xba, SD_KVM_UCALL_PORT & 0xff, SD_KVM_UCALL_PORT >> 8,	/* mov $port, %dx */
	0xef,				/* out %eax, (%dx) */
	0xf4,				/* hlt */
};

struct hcp_report {
	u32 stage;		/* how far the child got: 1 VM built, 2 KVM_RUN returned */
	u32 exit_reason;
	int run_errno;		/* KVM_RUN's errno (EINTR: the watchdog's signal got it out) */
	u64 rax;
};

static void hcp_alarm(int sig)
{
	(void)sig;	/* interrupts KVM_RUN: no SA_RESTART */
}

/* Build the scratch VM; 0 or -1. No allocation: this runs in a child of a threaded process. */
static int hcp_build(int kvm, struct kvm_cpuid2 *cpuid, u32 insn, int *vcpu_fd,
		     struct kvm_run **run)
{
	struct kvm_userspace_memory_region m = { .memory_size = HCP_RAM };
	struct kvm_sregs sr;
	struct kvm_regs regs = { .rip = HCP_CODE, .rsp = HCP_CODE, .rflags = 2 };
	struct kvm_segment cs = { .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1,
				  .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = { .limit = 0xffffffff, .selector = 16, .type = 3, .present = 1,
				  .s = 1, .db = 1, .g = 1 };
	int vm = ioctl(kvm, KVM_CREATE_VM, 0), sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	u8 *ram = mmap(NULL, HCP_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u64 *pt = (u64 *)(ram + 0x1000);

	if (vm < 0 || sz <= 0 || ram == MAP_FAILED)
		return -1;
	pt[0] = 0x2000 | 3;		/* PML4[0] -> PDPT */
	pt[512] = 0x3000 | 3;		/* PDPT[0] -> PD */
	pt[1024] = 0x83;		/* PD[0]: 2 MiB at 0, P RW PS */
	memcpy(ram + HCP_CODE, hcp_code, sizeof(hcp_code));
	if (insn == SD_KVM_HC_VMCALL)
		ram[HCP_CODE + 15] = 0xc1;
	m.userspace_addr = (u64)(uintptr_t)ram;
	*vcpu_fd = ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m) ? -1 : ioctl(vm, KVM_CREATE_VCPU, 0);
	if (*vcpu_fd < 0 || ioctl(*vcpu_fd, KVM_SET_CPUID2, cpuid) ||
	    ioctl(*vcpu_fd, KVM_GET_SREGS, &sr))
		return -1;
	sr.cs = cs;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = ds;
	sr.cr0 = 0x80010033;
	sr.cr3 = 0x1000;
	sr.cr4 = 0x20;		/* PAE */
	sr.efer = 0x500;	/* LME, LMA */
	*run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, *vcpu_fd, 0);
	if (*run == MAP_FAILED || ioctl(*vcpu_fd, KVM_SET_SREGS, &sr) ||
	    ioctl(*vcpu_fd, KVM_SET_REGS, &regs))
		return -1;
	return 0;
}

/*
 * The child: build, arm a watchdog signal at half the deadline, run. A
 * vCPU that hangs in the instruction either leaves KVM_RUN with EINTR when
 * the signal comes (reported: the hang, and that a kick ends it) or stays
 * until the parent's SIGKILL.
 */
static void __attribute__((noreturn)) hcp_child(int wfd, struct kvm_cpuid2 *cpuid, u32 insn)
{
	struct hcp_report rep = { 0 };
	struct sigaction sa = { .sa_handler = hcp_alarm };
	struct itimerval half = { .it_value = { .tv_sec = SD_KVM_HC_PROBE_MS / 2000,
						.tv_usec = SD_KVM_HC_PROBE_MS / 2 % 1000 * 1000 } };
	struct kvm_run *run;
	struct kvm_regs regs;
	int kvm = open(KVM_DEV, O_RDWR | O_CLOEXEC), vcpu;

	sigemptyset(&sa.sa_mask);
	if (kvm >= 0 && !hcp_build(kvm, cpuid, insn, &vcpu, &run) &&
	    !sigaction(SIGALRM, &sa, NULL)) {
		rep.stage = 1;
		setitimer(ITIMER_REAL, &half, NULL);
		if (ioctl(vcpu, KVM_RUN, NULL) < 0)
			rep.run_errno = errno;
		rep.stage = 2;
		rep.exit_reason = run->exit_reason;
		if (!ioctl(vcpu, KVM_GET_REGS, &regs))
			rep.rax = regs.rax;
	}
	if (write(wfd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(2);
	_exit(0);
}

static u64 mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000 + (u64)ts.tv_nsec / 1000;
}

struct timespec sd_clock_after_ms(clockid_t clock, u32 ms)
{
	struct timespec t;

	clock_gettime(clock, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* The CLOCK_MONOTONIC time @ms from now: pause_cond's clock (sd_vm_create). */
static struct timespec mono_after_ms(u32 ms)
{
	return sd_clock_after_ms(CLOCK_MONOTONIC, ms);
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Read one report within the deadline: 1, or 0 if none came in time, -1 if the child died. */
static int hcp_wait(int rfd, u64 t0, struct hcp_report *rep)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };

	for (;;) {
		u64 now = mono_us();
		int ms = now - t0 >= SD_KVM_HC_PROBE_MS * 1000ULL ? 0 :
			 (int)((SD_KVM_HC_PROBE_MS * 1000ULL - (now - t0)) / 1000) + 1;
		int r = poll(&pfd, 1, ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1)
			return 0;
		return read(rfd, rep, sizeof(*rep)) == (ssize_t)sizeof(*rep) ? 1 : -1;
	}
}

static struct sd_kvm_hc_probe hc_probe;
static pthread_once_t hc_probe_once = PTHREAD_ONCE_INIT;

static void hc_probe_judge(const struct hcp_report *rep, int got)
{
	struct sd_kvm_hc_probe *p = &hc_probe;

	if (got < 0)
		snprintf(p->why, sizeof(p->why), "the probe's child process died without a report");
	else if (!got)
		snprintf(p->why, sizeof(p->why), "no answer within %u ms: the vCPU hangs "
			 "(killed; a signal did not end KVM_RUN)", SD_KVM_HC_PROBE_MS);
	else if (rep->stage < 2)
		snprintf(p->why, sizeof(p->why), "the scratch VM could not be built");
	else if (rep->run_errno == EINTR) {
		p->kicked = true;
		snprintf(p->why, sizeof(p->why), "the vCPU hangs in the instruction; a signal "
			 "ends KVM_RUN (EINTR)");
	} else if (rep->run_errno || rep->exit_reason != KVM_EXIT_IO)
		snprintf(p->why, sizeof(p->why), "KVM_RUN: errno %d, exit reason %u",
			 rep->run_errno, rep->exit_reason);
	else {
		p->insn = p->tried;
		p->rax = rep->rax;
		snprintf(p->why, sizeof(p->why), "returns to the guest with RAX %#llx",
			 (unsigned long long)rep->rax);
	}
}

static void hc_probe_run(void)
{
	struct kvm_cpuid2 *cpuid;
	struct hcp_report rep;
	int kvm = open(KVM_DEV, O_RDWR | O_CLOEXEC), fds[2], st;
	u64 t0 = mono_us();
	int got;
	pid_t pid;

	snprintf(hc_probe.why, sizeof(hc_probe.why), "/dev/kvm not available");
	if (kvm < 0)
		return;
	cpuid = supported_cpuid(kvm);	/* allocated here: the child must not allocate */
	close(kvm);
	hc_probe.tried = vendor_hc(cpuid);
	TEST_ASSERT(pipe2(fds, O_CLOEXEC) == 0, "pipe2");
	fflush(NULL);			/* the child must not flush our buffers again */
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0)
		hcp_child(fds[1], cpuid, hc_probe.tried);
	close(fds[1]);
	got = hcp_wait(fds[0], t0, &rep);
	close(fds[0]);
	free(cpuid);
	if (got <= 0)
		kill(pid, SIGKILL);
	/* Reap it; a child that cannot even be killed is left behind, never waited for. */
	for (int i = 0; i < 200 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(5000);
	hc_probe.us = mono_us() - t0;
	hc_probe_judge(&rep, got);
}

const struct sd_kvm_hc_probe *sd_kvm_hypercall_probe(void)
{
	pthread_once(&hc_probe_once, hc_probe_run);
	return &hc_probe;
}

struct sd_vm *sd_vm_create(void)
{
	struct sd_vm *vm = calloc(1, sizeof(*vm));
	struct kvm_cpuid2 *c;
	struct kvm_cpuid_entry2 *e;
	pthread_condattr_t ca;

	TEST_ASSERT(vm, "calloc");
	vm->kvm_fd = open(KVM_DEV, O_RDWR | O_CLOEXEC);
	TEST_ASSERT(vm->kvm_fd >= 0, "open %s", KVM_DEV);
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	TEST_ASSERT(vm->fd >= 0, "KVM_CREATE_VM");
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	TEST_ASSERT(vm->run_size >= (int)sizeof(struct kvm_run), "KVM_GET_VCPU_MMAP_SIZE");

	c = supported_cpuid(vm->kvm_fd);
	e = cpuid_find(c, 0x80000008, 0);
	vm->phys_bits = e ? (e->eax & 0xff) : 36;
	vm->hc_vendor = vendor_hc(c);
	free(c);

	pthread_mutex_init(&vm->pause_lock, NULL);
	/* The pauser's deadline (sd_vm_pause_timed) is on CLOCK_MONOTONIC: no clock step moves it. */
	TEST_ASSERT(pthread_condattr_init(&ca) == 0 &&
		    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		    pthread_cond_init(&vm->pause_cond, &ca) == 0, "pause_cond on CLOCK_MONOTONIC");
	pthread_condattr_destroy(&ca);
	pthread_once(&kick_once, kick_handler_install);
	return vm;
}

static bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

static void set_region(struct sd_vm *vm, struct sd_vm_region *r)
{
	struct kvm_userspace_memory_region m = {
		.slot = r->slot,
		.flags = (r->flags & SD_MEM_DIRTY_LOG) ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (u64)(uintptr_t)r->hva,
	};

	TEST_ASSERT(ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &m) == 0,
		    "KVM_SET_USER_MEMORY_REGION slot %u gpa %#llx size %#llx",
		    r->slot, (unsigned long long)r->gpa, (unsigned long long)r->size);
}

struct sd_vm_region *sd_vm_add_ram(struct sd_vm *vm, sd_gpa_t gpa, u64 size, u32 flags)
{
	struct sd_vm_region *r;
	u32 i;

	TEST_ASSERT(vm->nr_vcpus == 0, "add memory before vCPUs");
	TEST_ASSERT(vm->nr_regions < SD_VM_MAX_SLOTS, "too many slots");
	TEST_ASSERT(size && !(gpa & 0xfff) && !(size & 0xfff) && gpa + size > gpa,
		    "bad region %#llx+%#llx", (unsigned long long)gpa, (unsigned long long)size);
	for (i = 0; i < vm->nr_regions; i++)
		TEST_ASSERT(!ranges_overlap(gpa, size, vm->regions[i].gpa, vm->regions[i].size),
			    "region overlaps slot %u", i);
	for (i = 0; i < vm->nr_mmio; i++)
		TEST_ASSERT(!ranges_overlap(gpa, size, vm->mmio[i].gpa, vm->mmio[i].size),
			    "region overlaps MMIO %u", i);

	r = &vm->regions[vm->nr_regions];
	r->slot = vm->nr_regions;
	r->flags = flags;
	r->gpa = gpa;
	r->size = size;
	r->hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(r->hva != MAP_FAILED, "mmap %#llx bytes", (unsigned long long)size);
	set_region(vm, r);
	vm->nr_regions++;
	return r;
}

void sd_vm_add_mmio(struct sd_vm *vm, sd_gpa_t gpa, u64 size)
{
	u32 i;

	TEST_ASSERT(vm->nr_vcpus == 0, "add MMIO before vCPUs");
	TEST_ASSERT(vm->nr_mmio < SD_VM_MAX_MMIO, "too many MMIO ranges");
	TEST_ASSERT(size && gpa + size > gpa, "bad MMIO range");
	for (i = 0; i < vm->nr_regions; i++)
		TEST_ASSERT(!ranges_overlap(gpa, size, vm->regions[i].gpa, vm->regions[i].size),
			    "MMIO overlaps slot %u", i);
	vm->mmio[vm->nr_mmio].gpa = gpa;
	vm->mmio[vm->nr_mmio].size = size;
	vm->nr_mmio++;
}

void sd_vm_ram_range(const struct sd_vm *vm, sd_gfn_t *first, sd_gfn_t *end)
{
	sd_gpa_t lo = ~0ULL, hi = 0;
	u32 i;

	for (i = 0; i < vm->nr_regions; i++) {
		const struct sd_vm_region *r = &vm->regions[i];

		if (r->flags & SD_MEM_HOTPLUG)
			continue;
		lo = SD_MIN(lo, r->gpa);
		hi = SD_MAX(hi, r->gpa + r->size);
	}
	TEST_ASSERT(hi, "no boot RAM");
	*first = lo >> SD_PAGE_SHIFT;
	*end = hi >> SD_PAGE_SHIFT;
}

static const struct sd_vm_region *region_at(const struct sd_vm *vm, sd_gpa_t gpa)
{
	u32 i;

	for (i = 0; i < vm->nr_regions; i++) {
		const struct sd_vm_region *r = &vm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

static bool mmio_at(const struct sd_vm *vm, sd_gpa_t gpa)
{
	u32 i;

	for (i = 0; i < vm->nr_mmio; i++)
		if (gpa >= vm->mmio[i].gpa && gpa - vm->mmio[i].gpa < vm->mmio[i].size)
			return true;
	return false;
}

/*
 * Reachable with guest-chosen @gpa/@len (host/ calls it for a registration
 * the guest wrote): no assertion, no sum that can wrap, bounded scan.
 */
const void *sd_vm_mem_map(void *ctx, sd_gpa_t gpa, u64 len, int *err)
{
	const struct sd_vm *vm = ctx;
	const struct sd_vm_region *r;
	sd_gpa_t end;

	if (len && len - 1 > ~0ULL - gpa) {	/* the range wraps past 2^64 */
		*err = -SD_ERR_MEM_UNBACKED;
		return NULL;
	}
	r = region_at(vm, gpa);
	if (!r) {
		*err = mmio_at(vm, gpa) ? -SD_ERR_MEM_MMIO : -SD_ERR_MEM_UNBACKED;
		return NULL;
	}
	if (len <= r->size - (gpa - r->gpa))
		return r->hva + (gpa - r->gpa);
	/* The range runs past its slot: what lies right after the slot decides. */
	end = r->gpa + r->size;
	if (mmio_at(vm, end))
		*err = -SD_ERR_MEM_MMIO;
	else if (region_at(vm, end))
		*err = -SD_ERR_MEM_SPLIT;
	else
		*err = -SD_ERR_MEM_UNBACKED;
	return NULL;
}

void *sd_vm_hva(struct sd_vm *vm, sd_gpa_t gpa, u64 len)
{
	int err = 0;
	const void *p = sd_vm_mem_map(vm, gpa, len, &err);

	TEST_ASSERT(p, "GPA %#llx+%#llx is not RAM in one slot (%d)",
		    (unsigned long long)gpa, (unsigned long long)len, err);
	return (void *)(uintptr_t)p;
}

sd_gpa_t sd_vm_gva2gpa(struct sd_vm *vm, sd_gva_t gva)
{
	(void)vm;
	TEST_ASSERT(gva < SD_KVM_IDMAP_BYTES, "GVA %#llx is not identity-mapped",
		    (unsigned long long)gva);
	return gva;
}

const char *sd_vm_read_str(struct sd_vm *vm, sd_gva_t gva, char *buf, size_t size)
{
	size_t i;

	if (!size)
		return buf;
	for (i = 0; i + 1 < size; i++) {
		int err;
		const char *p = gva + i < SD_KVM_IDMAP_BYTES ?
				sd_vm_mem_map(vm, gva + i, 1, &err) : NULL;

		if (!p) {
			snprintf(buf, size, "(bad string at %#llx)", (unsigned long long)gva);
			return buf;
		}
		buf[i] = *p;
		if (!*p)
			return buf;
	}
	buf[i] = 0;
	return buf;
}

void sd_vm_free(struct sd_vm *vm)
{
	u32 i;

	if (!vm)
		return;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct sd_vcpu *v = vm->vcpus[i];

		munmap(v->run, vm->run_size);
		close(v->fd);
		free(v);
	}
	close(vm->fd);
	for (i = 0; i < vm->nr_regions; i++)
		munmap(vm->regions[i].hva, vm->regions[i].size);
	close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
	free(vm);
}

/* ---- the guest image -------------------------------------------------------------- */

/* The image is built by our Makefile; still, every offset is checked before use. */
static bool in_file(const struct sd_vm *vm, u64 off, u64 len)
{
	return off <= vm->elf_len && len <= vm->elf_len - off;
}

void sd_vm_load_image(struct sd_vm *vm, const void *elf, size_t len)
{
	const Elf64_Ehdr *eh = elf;
	u32 i;

	vm->elf = elf;
	vm->elf_len = len;
	TEST_ASSERT(in_file(vm, 0, sizeof(*eh)) && !memcmp(eh->e_ident, ELFMAG, SELFMAG) &&
		    eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_machine == EM_X86_64 &&
		    eh->e_type == ET_EXEC && eh->e_phentsize == sizeof(Elf64_Phdr) &&
		    in_file(vm, eh->e_phoff, (u64)eh->e_phnum * sizeof(Elf64_Phdr)),
		    "not a guest image");
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)((const u8 *)elf + eh->e_phoff) + i;
		u8 *dst;

		if (ph->p_type != PT_LOAD)
			continue;
		TEST_ASSERT(ph->p_filesz <= ph->p_memsz && in_file(vm, ph->p_offset, ph->p_filesz) &&
			    ph->p_paddr >= SD_KVM_IMAGE_GPA &&
			    ph->p_paddr + ph->p_memsz <= SD_KVM_IMAGE_GPA + SD_KVM_IMAGE_MAX,
			    "image segment %u at %#llx+%#llx", i,
			    (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz);
		dst = sd_vm_hva(vm, ph->p_paddr, ph->p_memsz);
		memcpy(dst, (const u8 *)elf + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	vm->entry = eh->e_entry;
}

sd_gva_t sd_vm_sym(struct sd_vm *vm, const char *name)
{
	const Elf64_Ehdr *eh = (const void *)vm->elf;
	const Elf64_Shdr *sh;
	u32 i;

	TEST_ASSERT(vm->elf && eh->e_shentsize == sizeof(Elf64_Shdr) &&
		    in_file(vm, eh->e_shoff, (u64)eh->e_shnum * sizeof(Elf64_Shdr)),
		    "no section headers in the guest image");
	sh = (const void *)(vm->elf + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *st = &sh[i], *str;
		u64 n, j;

		if (st->sh_type != SHT_SYMTAB)
			continue;
		TEST_ASSERT(st->sh_link < eh->e_shnum && st->sh_entsize == sizeof(Elf64_Sym) &&
			    in_file(vm, st->sh_offset, st->sh_size), "bad symtab");
		str = &sh[st->sh_link];
		TEST_ASSERT(in_file(vm, str->sh_offset, str->sh_size), "bad strtab");
		n = st->sh_size / sizeof(Elf64_Sym);
		for (j = 0; j < n; j++) {
			const Elf64_Sym *s = (const Elf64_Sym *)(vm->elf + st->sh_offset) + j;
			const char *nm = (const char *)vm->elf + str->sh_offset + s->st_name;

			if (s->st_name < str->sh_size &&
			    strnlen(nm, str->sh_size - s->st_name) < str->sh_size - s->st_name &&
			    !strcmp(nm, name))
				return s->st_value;
		}
	}
	TEST_FAIL("guest symbol %s not found", name);
}

struct sd_kvm_bootinfo *sd_vm_bootinfo(struct sd_vm *vm)
{
	return sd_vm_hva(vm, SD_KVM_BOOTINFO_GPA, sizeof(struct sd_kvm_bootinfo));
}

/* ---- long mode: descriptor tables and page tables ----------------------------------- */

/* The TSS's I/O bitmap covers ports 0 .. the ucall port + 3, then a 0xff byte. */
#define TSS_IOMAP_BYTES	((SD_KVM_UCALL_PORT + 4 + 7) / 8)
#define TSS_LIMIT	(104 + TSS_IOMAP_BYTES)	/* last byte: the trailing 0xff */
_Static_assert(104 + TSS_IOMAP_BYTES + 1 <= SD_KVM_TSS_STRIDE, "TSS and I/O bitmap fit");

static u64 seg_desc(u8 access, u8 flags)
{
	/* base 0, limit 0xfffff (with G: 4 GiB) */
	return 0xffffULL | ((u64)access << 40) | (0xfULL << 48) | ((u64)flags << 52);
}

static void write_system_tables(struct sd_vm *vm)
{
	u64 *gdt = sd_vm_hva(vm, SD_KVM_GDT_GPA, 0x1000);
	u64 *idt = sd_vm_hva(vm, SD_KVM_IDT_GPA, 0x1000);
	u64 *pt = sd_vm_hva(vm, SD_KVM_PT_GPA, (2 + SD_KVM_IDMAP_PDS) * 0x1000);
	struct sd_kvm_bootinfo *bi = sd_vm_bootinfo(vm);
	sd_gva_t stubs = sd_vm_sym(vm, "sd_rt_exc_stubs");
	u32 i, j;

	sd_vm_hva(vm, 0, SD_KVM_FREE_GPA);	/* the fixed layout needs slot 0 to reach here */

	/* GDT: null, kernel code/data, user data/code, one 16-byte TSS descriptor per vCPU. */
	memset(gdt, 0, 0x1000);
	gdt[SD_KVM_SEL_KCODE >> 3] = seg_desc(0x9b, 0xa);	/* P, DPL0, code, L, G */
	gdt[SD_KVM_SEL_KDATA >> 3] = seg_desc(0x93, 0xc);	/* P, DPL0, data, D/B, G */
	gdt[SD_KVM_SEL_UDATA >> 3] = seg_desc(0xf3, 0xc);	/* P, DPL3, data */
	gdt[SD_KVM_SEL_UCODE >> 3] = seg_desc(0xfb, 0xa);	/* P, DPL3, code, L */
	for (i = 0; i < SD_KVM_MAX_VCPUS; i++) {
		u64 base = SD_KVM_TSS_GPA + i * SD_KVM_TSS_STRIDE;
		u8 *tss = sd_vm_hva(vm, base, SD_KVM_TSS_STRIDE);
		u64 rsp0 = SD_KVM_STACKS_GPA + i * SD_KVM_STACK_STRIDE + SD_KVM_KSTACK_BYTES;
		u16 iomap = 104;
		u32 p;

		memset(tss, 0, SD_KVM_TSS_STRIDE);
		memcpy(tss + 4, &rsp0, 8);
		memcpy(tss + 102, &iomap, 2);
		/* I/O bitmap: every port up to the ucall port's 4 bytes denied but those. */
		memset(tss + 104, 0xff, TSS_IOMAP_BYTES + 1);
		for (p = SD_KVM_UCALL_PORT; p < SD_KVM_UCALL_PORT + 4; p++)
			tss[104 + p / 8] &= ~(1u << (p % 8));
		/* 64-bit TSS, busy (TR is loaded with it), limit 103 */
		gdt[(SD_KVM_SEL_TSS(i) >> 3)] = TSS_LIMIT | ((base & 0xffffff) << 16) |
						 (0x8bULL << 40) | (((base >> 24) & 0xff) << 56);
		gdt[(SD_KVM_SEL_TSS(i) >> 3) + 1] = base >> 32;
	}

	/* IDT: the exception stubs, DPL 0 interrupt gates. */
	memset(idt, 0, 0x1000);
	for (i = 0; i < SD_KVM_NR_EXC; i++) {
		u64 off = stubs + 16 * i;

		idt[2 * i] = (off & 0xffff) | ((u64)SD_KVM_SEL_KCODE << 16) |
			     (0x8eULL << 40) | (((off >> 16) & 0xffff) << 48);
		idt[2 * i + 1] = off >> 32;
	}

	/* Identity map of the low 4 GiB with 2 MiB pages, user-accessible. */
	memset(pt, 0, (2 + SD_KVM_IDMAP_PDS) * 0x1000);
	pt[0] = (SD_KVM_PT_GPA + 0x1000) | 7;				/* PML4[0] -> PDPT */
	for (i = 0; i < SD_KVM_IDMAP_PDS; i++) {
		u64 *pd = pt + (2 + i) * 512;

		pt[512 + i] = (SD_KVM_PT_GPA + (2 + i) * 0x1000) | 7;	/* PDPT[i] -> PD */
		for (j = 0; j < 512; j++)
			pd[j] = (((u64)i * 512 + j) << 21) | 0x87;	/* P, RW, US, PS */
	}

	/* Per-vCPU blocks. */
	for (i = 0; i < SD_KVM_MAX_VCPUS; i++) {
		sd_gpa_t gpa = SD_KVM_PERCPU_GPA + 0x1000 * i;
		struct sd_kvm_percpu *pc = sd_vm_hva(vm, gpa, 0x1000);

		memset(pc, 0, 0x1000);
		pc->self = gpa;
		pc->vcpu_id = i;
		pc->kstack_top = SD_KVM_STACKS_GPA + i * SD_KVM_STACK_STRIDE + SD_KVM_KSTACK_BYTES;
		pc->ustack_top = SD_KVM_STACKS_GPA + (i + 1) * SD_KVM_STACK_STRIDE;
		pc->bootinfo = SD_KVM_BOOTINFO_GPA;
	}

	bi->magic = SD_KVM_BOOT_MAGIC;
	bi->phys_bits = vm->phys_bits;
	bi->hypercall = vm->hc_insn;
	vm->booted = true;
}

/* ---- vCPUs ---------------------------------------------------------------------------- */

void sd_vm_set_cpuid_sd(struct sd_vm *vm, u32 bits)
{
	TEST_ASSERT(!(bits & ~((1u << SD_CPUID_BIT_MSR) | (1u << SD_CPUID_BIT_HC))),
		    "only the transport bits");
	vm->sd_cpuid_eax = bits;
	vm->sd_cpuid_set = true;
}

/* The boot info tells the runtime which hypercall instruction it may execute. */
static void set_hc_insn(struct sd_vm *vm, u32 insn)
{
	vm->hc_insn = insn;
	if (vm->booted)
		sd_vm_bootinfo(vm)->hypercall = insn;
}

u32 sd_vm_enable_hypercall(struct sd_vm *vm)
{
	const struct sd_kvm_hc_probe *p = sd_kvm_hypercall_probe();

	if (p->insn != SD_KVM_HC_NONE && !vm->hc_insn)
		set_hc_insn(vm, p->insn);
	return vm->hc_insn;
}

void sd_vm_forward_hypercall(struct sd_vm *vm, u32 nr, sd_hc_fn fn, void *ctx)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_HYPERCALL };

	TEST_ASSERT(nr < 64 && (sd_kvm_caps()->exit_hypercall >> nr) & 1,
		    "KVM cannot forward hypercall %u", nr);
	TEST_ASSERT(vm->nr_vcpus == 0 && !vm->hc_fn, "one hypercall handler, before the vCPUs");
	cap.args[0] = vm->hc_forward | (1ULL << nr);
	TEST_ASSERT(ioctl(vm->fd, KVM_ENABLE_CAP, &cap) == 0, "KVM_CAP_EXIT_HYPERCALL %#llx",
		    (unsigned long long)cap.args[0]);
	vm->hc_forward = cap.args[0];
	vm->hc_fn = fn;
	vm->hc_ctx = ctx;
	/*
	 * A KVM that forwards a hypercall handles the instruction: decided from
	 * the capability, no experiment needed.
	 */
	set_hc_insn(vm, vm->hc_vendor);
}

static void vcpu_set_cpuid(struct sd_vcpu *v)
{
	struct sd_vm *vm = v->vm;
	struct kvm_cpuid2 *c = supported_cpuid(vm->kvm_fd);
	struct kvm_cpuid_entry2 *sig = cpuid_find(c, 0x40000000, 0);
	struct kvm_cpuid_entry2 *feat = cpuid_find(c, SD_CPUID_LEAF, 0);

	TEST_ASSERT(sig && feat, "KVM signature and features leaves");
	/* "KVMKVMKVM\0\0\0": the signature a guest scans for (SPEC.md 5.4). */
	TEST_ASSERT(sig->ebx == 0x4b4d564b && sig->ecx == 0x564b4d56 && sig->edx == 0x4d,
		    "KVM signature leaf");
	feat->eax &= ~((1u << SD_CPUID_BIT_MSR) | (1u << SD_CPUID_BIT_HC));
	if (vm->sd_cpuid_set)
		feat->eax |= vm->sd_cpuid_eax;
	TEST_ASSERT(ioctl(v->fd, KVM_SET_CPUID2, c) == 0, "KVM_SET_CPUID2");
	free(c);
}

static void seg_set(struct kvm_segment *s, u16 sel, u8 type, u8 dpl, bool code)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = dpl;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

struct sd_vcpu *sd_vm_add_vcpu(struct sd_vm *vm)
{
	struct sd_vcpu *v;
	struct kvm_sregs sr;
	struct kvm_regs regs;
	u32 id = vm->nr_vcpus;

	TEST_ASSERT(vm->elf, "load the image first");
	TEST_ASSERT(id < SD_KVM_MAX_VCPUS, "too many vCPUs");
	if (!vm->booted)
		write_system_tables(vm);

	v = calloc(1, sizeof(*v));
	TEST_ASSERT(v, "calloc");
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	TEST_ASSERT(v->fd >= 0, "KVM_CREATE_VCPU %u", id);
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	TEST_ASSERT(v->run != MAP_FAILED, "mmap kvm_run");
	vcpu_set_cpuid(v);

	sd_vcpu_get_sregs(v, &sr);
	seg_set(&sr.cs, SD_KVM_SEL_KCODE, 11, 0, true);
	seg_set(&sr.ss, SD_KVM_SEL_KDATA, 3, 0, false);
	seg_set(&sr.ds, SD_KVM_SEL_UDATA, 3, 3, false);
	sr.es = sr.ds;
	sr.fs = sr.ds;
	sr.gs = sr.ds;
	sr.gs.base = SD_KVM_PERCPU_GPA + 0x1000 * id;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.base = SD_KVM_TSS_GPA + id * SD_KVM_TSS_STRIDE;
	sr.tr.limit = TSS_LIMIT;
	sr.tr.selector = SD_KVM_SEL_TSS(id);
	sr.tr.type = 11;
	sr.tr.present = 1;
	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.unusable = 1;
	sr.gdt.base = SD_KVM_GDT_GPA;
	sr.gdt.limit = 0xfff;
	sr.idt.base = SD_KVM_IDT_GPA;
	sr.idt.limit = 0xfff;
	sr.cr0 = 0x80010033;	/* PE, MP, ET, NE, WP, PG */
	sr.cr3 = SD_KVM_PT_GPA;
	sr.cr4 = 0x620;		/* PAE, OSFXSR, OSXMMEXCPT */
	sr.efer = 0x500;	/* LME, LMA */
	TEST_ASSERT(ioctl(v->fd, KVM_SET_SREGS, &sr) == 0, "KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = vm->entry;
	regs.rsp = SD_KVM_STACKS_GPA + id * SD_KVM_STACK_STRIDE + SD_KVM_KSTACK_BYTES;
	regs.rdi = id;
	TEST_ASSERT(ioctl(v->fd, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");

	vm->vcpus[id] = v;
	vm->nr_vcpus++;
	{
		struct sd_kvm_bootinfo *bi = sd_vm_bootinfo(vm);
		u32 i;

		bi->nr_vcpus = vm->nr_vcpus;
		for (i = 0; i < vm->nr_vcpus; i++)
			((struct sd_kvm_percpu *)sd_vm_hva(vm, SD_KVM_PERCPU_GPA + 0x1000 * i,
							   0x1000))->nr_vcpus = vm->nr_vcpus;
	}
	return v;
}

void sd_vcpu_get_regs(struct sd_vcpu *v, struct kvm_regs *regs)
{
	TEST_ASSERT(ioctl(v->fd, KVM_GET_REGS, regs) == 0, "KVM_GET_REGS");
}

void sd_vcpu_get_sregs(struct sd_vcpu *v, struct kvm_sregs *sregs)
{
	TEST_ASSERT(ioctl(v->fd, KVM_GET_SREGS, sregs) == 0, "KVM_GET_SREGS");
}

/* ---- trapped MSRs ------------------------------------------------------------------------ */

void sd_vm_trap_msrs(struct sd_vm *vm, u32 first, u32 count, sd_msr_fn fn, void *ctx)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_FILTER,
	};
	struct kvm_msr_filter filter;
	u8 deny[8] = { 0 };	/* a clear bit denies: every access exits to us */

	TEST_ASSERT(count >= 1 && count <= 64 && !vm->msr_fn, "one range of at most 64 MSRs");
	TEST_ASSERT(ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) > 0 &&
		    ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) > 0,
		    "KVM lacks user-space MSR exits or MSR filters");
	TEST_ASSERT(ioctl(vm->fd, KVM_ENABLE_CAP, &cap) == 0, "KVM_CAP_X86_USER_SPACE_MSR");

	memset(&filter, 0, sizeof(filter));
	filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	filter.ranges[0].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
	filter.ranges[0].base = first;
	filter.ranges[0].nmsrs = count;
	filter.ranges[0].bitmap = deny;
	TEST_ASSERT(ioctl(vm->fd, KVM_X86_SET_MSR_FILTER, &filter) == 0, "KVM_X86_SET_MSR_FILTER");

	vm->msr_first = first;
	vm->msr_count = count;
	vm->msr_fn = fn;
	vm->msr_ctx = ctx;
}

void sd_vm_handle_ucalls(struct sd_vm *vm, sd_ucall_fn fn, void *ctx)
{
	TEST_ASSERT(vm->nr_vcpus == 0 && !vm->ucall_fn, "one ucall handler, before the vCPUs");
	vm->ucall_fn = fn;
	vm->ucall_ctx = ctx;
}

static void handle_msr(struct sd_vcpu *v, bool write)
{
	struct sd_vm *vm = v->vm;
	struct kvm_run *run = v->run;
	u32 msr = run->msr.index;
	int r = -1;

	v->nr_msr_exits++;
	if (vm->msr_fn && msr - vm->msr_first < vm->msr_count) {
		u64 val = write ? run->msr.data : 0;

		r = vm->msr_fn(v, vm->msr_ctx, write, msr, &val);
		if (!write && !r)
			run->msr.data = val;
	}
	/* error = 1: KVM injects #GP when the vCPU re-enters. */
	run->msr.error = r ? 1 : 0;
}

/*
 * A forwarded hypercall: the handler's answer goes to RAX when the vCPU
 * re-enters (KVM completes the exit then, as for an MSR). KVM exits only
 * for the numbers we enabled; anything else would be KVM's bug, answered
 * as KVM answers an unknown number.
 */
static void handle_hypercall(struct sd_vcpu *v)
{
	struct sd_vm *vm = v->vm;
	struct kvm_run *run = v->run;
	u64 nr = run->hypercall.nr;

	v->nr_hc_exits++;
	if (nr < 64 && ((vm->hc_forward >> nr) & 1) && vm->hc_fn)
		run->hypercall.ret = (u64)vm->hc_fn(v, vm->hc_ctx, nr, run->hypercall.args);
	else
		run->hypercall.ret = (u64)-SD_KVM_ENOSYS;
}

/* ---- running ------------------------------------------------------------------------------- */

static const char *exc_name(u64 vec)
{
	static const char *const names[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
		"#TS", "#NP", "#SS", "#GP", "#PF", "?", "#MF", "#AC", "#MC", "#XM",
	};

	return vec < SD_ARRAY_SIZE(names) ? names[vec] : "?";
}

const char *sd_ucall_describe(struct sd_vcpu *v, char *buf, size_t size)
{
	struct sd_ucall *uc = &v->uc;
	char expr[256], file[256];

	switch (uc->cmd) {
	case SD_UCALL_ASSERT:
		sd_vm_read_str(v->vm, uc->expr, expr, sizeof(expr));
		sd_vm_read_str(v->vm, uc->file, file, sizeof(file));
		if (uc->nargs == 2)
			snprintf(buf, size, "guest assertion failed (vCPU %u)\n  %s:%llu: %s\n"
				 "  values: %#llx (%llu), %#llx (%llu)", v->id, file,
				 (unsigned long long)uc->line, expr,
				 (unsigned long long)uc->args[0], (unsigned long long)uc->args[0],
				 (unsigned long long)uc->args[1], (unsigned long long)uc->args[1]);
		else
			snprintf(buf, size, "guest assertion failed (vCPU %u)\n  %s:%llu: %s",
				 v->id, file, (unsigned long long)uc->line, expr);
		break;
	case SD_UCALL_EXCEPTION: {
		struct kvm_sregs sr;

		sd_vcpu_get_sregs(v, &sr);
		snprintf(buf, size, "guest exception (vCPU %u): vector %llu %s, error code %#llx, "
			 "RIP %#llx, CS %#llx, RFLAGS %#llx, CR2 %#llx", v->id,
			 (unsigned long long)uc->args[0], exc_name(uc->args[0]),
			 (unsigned long long)uc->args[1], (unsigned long long)uc->args[2],
			 (unsigned long long)uc->args[3], (unsigned long long)uc->line,
			 (unsigned long long)sr.cr2);
		break;
	}
	default:
		snprintf(buf, size, "ucall %llu (vCPU %u) args %#llx %#llx %#llx %#llx",
			 (unsigned long long)uc->cmd, v->id,
			 (unsigned long long)uc->args[0], (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2], (unsigned long long)uc->args[3]);
	}
	return buf;
}

static void __attribute__((noreturn)) vcpu_fail_exit(struct sd_vcpu *v, const char *what)
{
	struct kvm_regs regs;
	struct kvm_sregs sr;

	sd_vcpu_get_regs(v, &regs);
	sd_vcpu_get_sregs(v, &sr);
	TEST_FAIL("vCPU %u: %s (exit reason %u): RIP %#llx RSP %#llx CS %#x CR2 %#llx "
		  "RAX %#llx RCX %#llx RDX %#llx", v->id, what, v->run->exit_reason,
		  (unsigned long long)regs.rip, (unsigned long long)regs.rsp, sr.cs.selector,
		  (unsigned long long)sr.cr2, (unsigned long long)regs.rax,
		  (unsigned long long)regs.rcx, (unsigned long long)regs.rdx);
}

/* A ucall exit: copy the guest's struct out through the accessor. */
static int handle_io(struct sd_vcpu *v)
{
	struct kvm_run *run = v->run;
	const void *p;
	u32 gva;
	int err;

	if (run->io.port != SD_KVM_UCALL_PORT || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.size != 4 || run->io.count != 1) {
		char what[96];

		snprintf(what, sizeof(what), "unexpected I/O: port %#x dir %u size %u count %u",
			 run->io.port, run->io.direction, run->io.size, run->io.count);
		vcpu_fail_exit(v, what);
	}
	memcpy(&gva, (u8 *)run + run->io.data_offset, 4);
	p = sd_vm_mem_map(v->vm, gva, sizeof(v->uc), &err);
	if (!p)
		vcpu_fail_exit(v, "ucall struct outside RAM");
	memcpy(&v->uc, p, sizeof(v->uc));
	v->uc_gva = gva;
	v->nr_ucalls++;
	if (v->uc.cmd == SD_UCALL_NONE || v->uc.cmd >= SD_UCALL_MAX)
		vcpu_fail_exit(v, "bad ucall command");
	return (int)v->uc.cmd;
}

void sd_vcpu_ucall_reply(struct sd_vcpu *v, u64 val)
{
	struct sd_ucall *uc = sd_vm_hva(v->vm, v->uc_gva, sizeof(*uc));

	TEST_ASSERT(v->exit_pending, "vCPU %u is not stopped in a ucall", v->id);
	uc->args[0] = val;
}

/* Leave sd_vcpu_run: a pauser no longer waits for this vCPU. */
static void vcpu_leave(struct sd_vcpu *v)
{
	struct sd_vm *vm = v->vm;

	pthread_mutex_lock(&vm->pause_lock);
	v->in_run = false;
	if (vm->pause_req)
		pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/*
 * Complete @v's pending exit (a ucall's OUT, an MSR) without running guest
 * code: with immediate_exit set, KVM finishes the instruction and returns
 * -EINTR before entering the guest. Under pause_lock, from whichever thread
 * gets there first: the vCPU's own in vcpu_enter() while a pause holds it,
 * or a pauser's state save (complete_pending_exit). Under the lock, one
 * cannot clear immediate_exit while the other is about to enter KVM_RUN
 * relying on it.
 */
static void complete_pending_exit_locked(struct sd_vcpu *v)
{
	int rc;

	if (!v->exit_pending)
		return;
	SD_STORE(v->run->immediate_exit, 1);
	rc = ioctl(v->fd, KVM_RUN, NULL);
	TEST_ASSERT(rc < 0 && errno == EINTR, "immediate-exit KVM_RUN vCPU %u", v->id);
	SD_STORE(v->run->immediate_exit, 0);
	v->exit_pending = false;
}

/*
 * Top of the run loop, under pause_lock: park while a pause is requested.
 * A vCPU whose last exit is still pending completion completes it first,
 * here, under the lock (complete_pending_exit_locked), so a paused vCPU's
 * state is always between instructions and no KVM_RUN that could run guest
 * code is ever issued while a pause holds.
 */
static bool vcpu_enter(struct sd_vcpu *v)
{
	struct sd_vm *vm = v->vm;
	bool killed;

	pthread_mutex_lock(&vm->pause_lock);
	v->run_thread = pthread_self();
	while (vm->pause_req && !vm->killed) {
		complete_pending_exit_locked(v);
		/*
		 * Tell the pauser once, when this vCPU stops: a broadcast on every
		 * pass would wake the other parked vCPUs, whose own broadcasts
		 * would wake this one, for the whole pause.
		 */
		if (v->in_run) {
			v->in_run = false;
			pthread_cond_broadcast(&vm->pause_cond);
		}
		/* Parked until the pauser resumes or kills: the pauser's own wait is the bounded one. */
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	}
	killed = vm->killed;
	if (killed && v->in_run)
		pthread_cond_broadcast(&vm->pause_cond);	/* a pauser waits for this one too */
	v->in_run = !killed;
	pthread_mutex_unlock(&vm->pause_lock);
	return !killed;
}

void sd_vcpu_stall(struct sd_vcpu *v, u32 ms)
{
	__atomic_store_n(&v->stall_ms, ms, __ATOMIC_RELEASE);
}

/*
 * The test fault: hold on, still counted as running, for the time asked.
 * An absolute deadline, as the kick signal interrupts the sleep.
 */
static void vcpu_stall(struct sd_vcpu *v)
{
	u32 ms = __atomic_exchange_n(&v->stall_ms, 0, __ATOMIC_ACQUIRE);
	struct timespec until = mono_after_ms(ms);

	SD_INC(v->nr_stalls);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

int sd_vcpu_run_raw(struct sd_vcpu *v)
{
	struct kvm_run *run = v->run;

	for (;;) {
		int rc;

		if (!vcpu_enter(v))
			return SD_VCPU_KILLED;
		rc = ioctl(v->fd, KVM_RUN, NULL);
		v->nr_exits++;
		if (SD_LOAD(v->stall_ms))
			vcpu_stall(v);
		if (rc < 0) {
			TEST_ASSERT(errno == EINTR || errno == EAGAIN, "KVM_RUN vCPU %u", v->id);
			/*
			 * Kicked (or immediate_exit): any pending exit is complete now.
			 * Clear immediate_exit before looking at pause_req in
			 * vcpu_enter(); the pauser sets it after pause_req, under the
			 * same lock, so a new pause is never missed.
			 */
			v->exit_pending = false;
			SD_STORE(run->immediate_exit, 0);
			v->nr_kicks++;
			continue;
		}
		v->exit_pending = false;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			v->exit_pending = true;
			rc = handle_io(v);
			if (rc == SD_UCALL_PRINT) {
				char msg[256];

				sd_vm_read_str(v->vm, v->uc.expr, msg, sizeof(msg));
				printf("guest (vCPU %u): %s %#llx %#llx\n", v->id, msg,
				       (unsigned long long)v->uc.args[0],
				       (unsigned long long)v->uc.args[1]);
				continue;
			}
			/*
			 * A handled SYNC is over before this vCPU can park: a pauser
			 * waits for it (in_run), and none runs while the VM is paused.
			 */
			if (rc == SD_UCALL_SYNC && v->vm->ucall_fn &&
			    v->vm->ucall_fn(v, v->vm->ucall_ctx))
				continue;
			vcpu_leave(v);
			return rc;
		case KVM_EXIT_X86_RDMSR:
		case KVM_EXIT_X86_WRMSR:
			v->exit_pending = true;
			handle_msr(v, run->exit_reason == KVM_EXIT_X86_WRMSR);
			continue;
		case KVM_EXIT_HYPERCALL:
			v->exit_pending = true;
			handle_hypercall(v);
			continue;
		case KVM_EXIT_MMIO: {
			char what[96];

			snprintf(what, sizeof(what), "guest touched MMIO at %#llx",
				 (unsigned long long)run->mmio.phys_addr);
			vcpu_fail_exit(v, what);
		}
		case KVM_EXIT_HLT:
			vcpu_fail_exit(v, "guest halted");
		case KVM_EXIT_SHUTDOWN:
			vcpu_fail_exit(v, "guest shutdown (triple fault)");
		case KVM_EXIT_INTERNAL_ERROR: {
			char what[96];

			snprintf(what, sizeof(what), "KVM internal error, suberror %u",
				 run->internal.suberror);
			vcpu_fail_exit(v, what);
		}
		case KVM_EXIT_FAIL_ENTRY:
			vcpu_fail_exit(v, "VM entry failed");
		default:
			vcpu_fail_exit(v, "unexpected exit");
		}
	}
}

int sd_vcpu_run(struct sd_vcpu *v)
{
	int rc = sd_vcpu_run_raw(v);

	if (rc == SD_UCALL_ASSERT || rc == SD_UCALL_EXCEPTION) {
		char buf[1024];

		fprintf(stderr, "==== Guest Failure ====\n  %s\n", sd_ucall_describe(v, buf, sizeof(buf)));
		exit(1);
	}
	return rc;
}

/* Whether this thread is registered with liburcu (sd_thread_rcu_register). */
static __thread bool rcu_registered;

void sd_thread_rcu_register(void)
{
	if (!rcu_registered)
		rcu_register_thread();
	rcu_registered = true;
}

void sd_thread_rcu_unregister(void)
{
	if (rcu_registered)
		rcu_unregister_thread();
	rcu_registered = false;
}

bool sd_thread_rcu_registered(void)
{
	return rcu_registered;
}

static void *vcpu_thread_main(void *arg)
{
	struct sd_vcpu *v = arg;

	sd_thread_rcu_register();
	v->ret = v->fn(v, v->arg);
	sd_thread_rcu_unregister();
	return v->ret;
}

void sd_vcpu_thread_start(struct sd_vcpu *v, void *(*fn)(struct sd_vcpu *v, void *arg), void *arg)
{
	TEST_ASSERT(!v->has_thread, "vCPU %u already has a thread", v->id);
	v->fn = fn;
	v->arg = arg;
	TEST_ASSERT(pthread_create(&v->thread, NULL, vcpu_thread_main, v) == 0, "pthread_create");
	v->has_thread = true;
}

void *sd_vcpu_thread_join(struct sd_vcpu *v)
{
	void *ret;

	TEST_ASSERT(v->has_thread, "vCPU %u has no thread", v->id);
	TEST_ASSERT(pthread_join(v->thread, &ret) == 0, "pthread_join");
	v->has_thread = false;
	return ret;
}

struct timespec sd_realtime_after_ms(u32 ms)
{
	return sd_clock_after_ms(CLOCK_REALTIME, ms);
}

int sd_vcpu_thread_join_timeout(struct sd_vcpu *v, u32 ms, void **ret)
{
	struct timespec until = sd_realtime_after_ms(ms);
	void *r;
	int e;

	TEST_ASSERT(v->has_thread, "vCPU %u has no thread", v->id);
	e = pthread_timedjoin_np(v->thread, &r, &until);
	if (e)
		return -e;
	v->has_thread = false;
	if (ret)
		*ret = r;
	return 0;
}

void sd_vm_kill_vcpus(struct sd_vm *vm)
{
	u32 i;

	pthread_mutex_lock(&vm->pause_lock);
	vm->killed = true;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct sd_vcpu *v = vm->vcpus[i];

		SD_STORE(v->run->immediate_exit, 1);
		if (v->in_run)
			pthread_kill(v->run_thread, SD_KICK_SIGNAL);
	}
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* ---- pausing ------------------------------------------------------------------------------------ */

/*
 * Under pause_lock: get every vCPU still counted as running out of KVM_RUN.
 * immediate_exit covers one about to enter KVM_RUN, the signal one already
 * inside it. Both are set after pause_req, under the lock vcpu_enter()
 * reads pause_req under.
 */
static void kick_running(struct sd_vm *vm)
{
	for (u32 i = 0; i < vm->nr_vcpus; i++) {
		struct sd_vcpu *v = vm->vcpus[i];

		if (!v->in_run)
			continue;
		SD_STORE(v->run->immediate_exit, 1);
		pthread_kill(v->run_thread, SD_KICK_SIGNAL);
	}
}

static bool any_running(const struct sd_vm *vm)
{
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->in_run)
			return true;
	return false;
}

int sd_vm_pause_timed(struct sd_vm *vm, u32 timeout_ms)
{
	struct timespec until = mono_after_ms(timeout_ms), next;
	int rc = 0;

	pthread_mutex_lock(&vm->pause_lock);
	TEST_ASSERT(!vm->pause_req, "already paused");
	vm->pause_req = true;
	vm->nr_pauses++;
	/* A vCPU outside sd_vcpu_run finds immediate_exit set when it comes back. */
	for (u32 i = 0; i < vm->nr_vcpus; i++)
		SD_STORE(vm->vcpus[i]->run->immediate_exit, 1);
	kick_running(vm);
	next = mono_after_ms(SD_VM_PAUSE_REKICK_MS);
	while (any_running(vm)) {
		struct timespec now = mono_after_ms(0), wake;

		if (!ts_before(&now, &until)) {
			rc = -ETIMEDOUT;
			break;
		}
		/*
		 * A kick can be lost (a vCPU between exits): kick again every few
		 * ms. The time of the next kick is kept across wakeups, so that
		 * vCPUs stopping one by one do not put it off.
		 */
		if (!ts_before(&now, &next)) {
			kick_running(vm);
			next = mono_after_ms(SD_VM_PAUSE_REKICK_MS);
		}
		wake = ts_before(&until, &next) ? until : next;
		pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &wake);
	}
	if (rc) {
		/*
		 * Not every vCPU stopped in time: undo the request, so that the
		 * ones that parked go on and the late one does not park later
		 * for a pause nobody holds. The VM runs as before.
		 */
		vm->pause_req = false;
		vm->nr_pause_timeouts++;
		pthread_cond_broadcast(&vm->pause_cond);
	}
	pthread_mutex_unlock(&vm->pause_lock);
	return rc;
}

void sd_vm_pause(struct sd_vm *vm)
{
	int rc = sd_vm_pause_timed(vm, SD_VM_PAUSE_TEST_MS);

	TEST_ASSERT(rc == 0, "the vCPUs did not pause within %u ms", SD_VM_PAUSE_TEST_MS);
}

u32 sd_vm_nr_running(struct sd_vm *vm)
{
	u32 i, n = 0;

	pthread_mutex_lock(&vm->pause_lock);
	for (i = 0; i < vm->nr_vcpus; i++)
		n += vm->vcpus[i]->in_run;
	pthread_mutex_unlock(&vm->pause_lock);
	return n;
}

void sd_vm_resume(struct sd_vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	TEST_ASSERT(vm->pause_req, "not paused");
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* ---- dirty logging --------------------------------------------------------------------------------- */

void sd_vm_dirty_log_enable(struct sd_vm *vm, struct sd_vm_region *r, bool on)
{
	if (on)
		r->flags |= SD_MEM_DIRTY_LOG;
	else
		r->flags &= ~SD_MEM_DIRTY_LOG;
	set_region(vm, r);
}

u64 sd_vm_dirty_log_get(struct sd_vm *vm, struct sd_vm_region *r, u64 *bitmap)
{
	struct kvm_dirty_log log = { .slot = r->slot, .dirty_bitmap = bitmap };
	u64 i, n = 0, words = sd_vm_dirty_log_words(r);

	TEST_ASSERT(r->flags & SD_MEM_DIRTY_LOG, "slot %u is not dirty-logged", r->slot);
	memset(bitmap, 0, words * 8);
	TEST_ASSERT(ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log) == 0, "KVM_GET_DIRTY_LOG slot %u",
		    r->slot);
	for (i = 0; i < words; i++)
		n += (u64)__builtin_popcountll(bitmap[i]);
	return n;
}

/* ---- vCPU state -------------------------------------------------------------------------------------- */

/* A state save's completion of the pending exit: see complete_pending_exit_locked(). */
static void complete_pending_exit(struct sd_vcpu *v)
{
	pthread_mutex_lock(&v->vm->pause_lock);
	complete_pending_exit_locked(v);
	pthread_mutex_unlock(&v->vm->pause_lock);
}

static u32 msr_index_list(struct sd_vm *vm, u32 *out, u32 max)
{
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + 1024 * sizeof(u32));
	u32 n;

	TEST_ASSERT(l, "calloc");
	l->nmsrs = 1024;
	TEST_ASSERT(ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) == 0, "KVM_GET_MSR_INDEX_LIST");
	TEST_ASSERT(l->nmsrs <= max, "%u MSRs to save, room for %u", l->nmsrs, max);
	n = l->nmsrs;
	memcpy(out, l->indices, n * sizeof(u32));
	free(l);
	return n;
}

void sd_vcpu_state_save(struct sd_vcpu *v, struct sd_vcpu_state *st)
{
	struct sd_vm *vm = v->vm;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[SD_VM_MAX_MSRS];
	} m;
	u32 idx[SD_VM_MAX_MSRS], n, i;

	complete_pending_exit(v);
	memset(st, 0, sizeof(*st));
	sd_vcpu_get_regs(v, &st->regs);
	sd_vcpu_get_sregs(v, &st->sregs);
	st->has_xsave = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	if (st->has_xsave)
		TEST_ASSERT(ioctl(v->fd, KVM_GET_XSAVE, &st->xsave) == 0, "KVM_GET_XSAVE");
	st->has_xcrs = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	if (st->has_xcrs)
		TEST_ASSERT(ioctl(v->fd, KVM_GET_XCRS, &st->xcrs) == 0, "KVM_GET_XCRS");
	TEST_ASSERT(ioctl(v->fd, KVM_GET_VCPU_EVENTS, &st->events) == 0, "KVM_GET_VCPU_EVENTS");
	TEST_ASSERT(ioctl(v->fd, KVM_GET_DEBUGREGS, &st->debugregs) == 0, "KVM_GET_DEBUGREGS");

	/* Every MSR KVM saves; drop the ones this vCPU can't read (the ioctl stops there). */
	n = msr_index_list(vm, idx, SD_VM_MAX_MSRS);
	for (;;) {
		int r;

		memset(&m, 0, sizeof(m));
		m.hdr.nmsrs = n;
		for (i = 0; i < n; i++)
			m.e[i].index = idx[i];
		r = ioctl(v->fd, KVM_GET_MSRS, &m);
		TEST_ASSERT(r >= 0, "KVM_GET_MSRS");
		if ((u32)r == n)
			break;
		memmove(&idx[r], &idx[r + 1], (n - (u32)r - 1) * sizeof(u32));
		n--;
	}
	st->nr_msrs = n;
	memcpy(st->msrs, m.e, n * sizeof(m.e[0]));
}

/*
 * Restore MSRs one by one: an MSR this KVM refuses to set from userspace
 * (kvm_pvm refuses some paravirt MSRs) is accepted only if the vCPU already
 * holds the saved value; anything else fails the test.
 */
static void restore_msrs(struct sd_vcpu *v, const struct sd_vcpu_state *st)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;
	u32 i;

	for (i = 0; i < st->nr_msrs; i++) {
		memset(&m, 0, sizeof(m));
		m.hdr.nmsrs = 1;
		m.e = st->msrs[i];
		if (ioctl(v->fd, KVM_SET_MSRS, &m) == 1)
			continue;
		memset(&m, 0, sizeof(m));
		m.hdr.nmsrs = 1;
		m.e.index = st->msrs[i].index;
		TEST_ASSERT(ioctl(v->fd, KVM_GET_MSRS, &m) == 1 && m.e.data == st->msrs[i].data,
			    "MSR %#x: KVM refuses %#llx and holds %#llx", st->msrs[i].index,
			    (unsigned long long)st->msrs[i].data, (unsigned long long)m.e.data);
	}
}

void sd_vcpu_state_restore(struct sd_vcpu *v, const struct sd_vcpu_state *st)
{
	TEST_ASSERT(ioctl(v->fd, KVM_SET_SREGS, &st->sregs) == 0, "KVM_SET_SREGS");
	restore_msrs(v, st);
	if (st->has_xsave)
		TEST_ASSERT(ioctl(v->fd, KVM_SET_XSAVE, &st->xsave) == 0, "KVM_SET_XSAVE");
	if (st->has_xcrs)
		TEST_ASSERT(ioctl(v->fd, KVM_SET_XCRS, &st->xcrs) == 0, "KVM_SET_XCRS");
	TEST_ASSERT(ioctl(v->fd, KVM_SET_DEBUGREGS, &st->debugregs) == 0, "KVM_SET_DEBUGREGS");
	TEST_ASSERT(ioctl(v->fd, KVM_SET_REGS, &st->regs) == 0, "KVM_SET_REGS");
	TEST_ASSERT(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &st->events) == 0, "KVM_SET_VCPU_EVENTS");
	v->exit_pending = false;
}
