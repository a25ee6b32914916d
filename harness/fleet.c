// SPDX-License-Identifier: GPL-2.0
/*
 * Process fleets (see fleet.h).
 *
 * Shared memory holds a control block and one slot per member. Everyone waits
 * on futexes in it: members on `phase` (gate, then barrier), the helper on
 * `cmd_seq`, the caller on `event`, which is bumped whenever something it may
 * wait for happens (the last member arrives, one fails or dies, the last one
 * is reaped), so the caller never polls members. The helper is the parent of
 * every member: it alone reaps them, and it alone kills them (a pid it has
 * not reaped cannot have been reused), while it waits for SIGCHLD or the
 * caller's SIGUSR1 with both blocked, so no request is lost.
 */
#include "ctx.h"
#include "mmrepro/fleet.h"
#include "mmrepro/util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CACHELINE     64
#define RESERVED_PIDS 300 /* PIDs the kernel hands out again only below pid_max */
/* Memory of one member beyond what its body maps: kernel stack, task and mm,
 * its own page tables, the pages it dirties (~210 KiB measured on x86-64). */
#define MEMBER_BYTES (512 * MMR_KiB)
/* The helper, the slots, and the caller's share of both. */
#define FLEET_BYTES	     (32 * MMR_MiB)
#define CALLER_TICK_NS	     (200ULL * 1000 * 1000)
#define HELPER_EXIT_WAIT_NS  (5ULL * 1000 * 1000 * 1000)
#define MEMBERS_EXIT_WAIT_NS (30ULL * 1000 * 1000 * 1000)

enum { PHASE_GATE, PHASE_GO, PHASE_RELEASE };
enum { CMD_SPAWN = 1, CMD_EXIT };
enum { FAILED_NONE, FAILED_PREPARE, FAILED_WORK };

struct slot {
	int32_t pid;
	int32_t rc;	   /* what the failing callback returned */
	int32_t failed_in; /* FAILED_* */
	int32_t reaped;	   /* the helper has waited for it ... */
	int32_t wstatus;   /* ... and this is how it ended */
	int32_t released;  /* it was still waiting when the barrier opened */
};

struct ctl {
	uint32_t cmd_seq, cmd; /* caller -> helper */
	uint32_t kill;	       /* caller -> helper: kill every member now */
	uint32_t phase;	       /* caller -> members */
	uint32_t event;	       /* -> caller: something it may wait for happened */
	uint32_t n;
	uint32_t spawned, at_gate, at_barrier, reaped, failed, died_early;
	int32_t spawn_errno;
	sem_t slots; /* members inside ->work at once */
};

struct mmr_fleet {
	const struct mmr_fleet_ops *ops;
	void *arg;
	unsigned max;
	char *shm;
	size_t shm_len, slot_size;
	struct ctl *ctl;
	pid_t owner, helper;
	cpu_set_t cpus;
	unsigned ncpus;
	bool active; /* members spawned and not all reaped */
	char why[320];
};

/* ---- futexes on shared (not process-private) memory ---- */

static void futex_wait(uint32_t *addr, uint32_t val, uint64_t timeout_ns)
{
	struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };

	syscall(SYS_futex, addr, FUTEX_WAIT, val, timeout_ns ? &ts : NULL, NULL, 0);
}

static void futex_wake_all(uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static uint32_t add(uint32_t *p, uint32_t v)
{
	return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL);
}

static void bump(struct ctl *c)
{
	add(&c->event, 1);
	futex_wake_all(&c->event);
}

static struct slot *slot_of(const struct mmr_fleet *f, unsigned i)
{
	return (struct slot *)(f->shm +
			       CACHELINE * ((sizeof(struct ctl) + CACHELINE - 1) / CACHELINE) +
			       (size_t)i * f->slot_size);
}

void *mmr_fleet_result(const struct mmr_fleet *f, unsigned i)
{
	return (char *)slot_of(f, i) + CACHELINE;
}

pid_t mmr_fleet_pid(const struct mmr_fleet *f, unsigned i)
{
	return slot_of(f, i)->pid;
}

const char *mmr_fleet_error(const struct mmr_fleet *f)
{
	return f->why[0] ? f->why : "no error";
}

unsigned mmr_fleet_cpus(const struct mmr_fleet *f)
{
	return f->ncpus;
}

/* ---- in a member ---- */

static void arrive(struct ctl *c, uint32_t *count)
{
	if (add(count, 1) == c->n)
		bump(c);
}

static void wait_phase(struct ctl *c, uint32_t want)
{
	uint32_t p;

	while ((p = load(&c->phase)) < want)
		futex_wait(&c->phase, p, 0);
}

static void fail_member(struct ctl *c, struct slot *s, int where, int rc)
{
	s->rc = rc;
	s->failed_in = where;
	add(&c->failed, 1);
	bump(c);
}

static __attribute__((noreturn)) void member_main(struct mmr_fleet *f, unsigned i, pid_t helper,
						  const sigset_t *mask)
{
	struct ctl *c = f->ctl;
	struct slot *s = slot_of(f, i);
	struct mmr_fleet_member m = { .index = i, .count = c->n, .result = mmr_fleet_result(f, i) };
	int rc = 0;

	sigprocmask(SIG_SETMASK, mask, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != helper) /* the helper died before the line above */
		_exit(127);
	/* Fault in our slot now (the page tables of the slots are the fleet's,
	 * not something the body should find itself measuring later). */
	FORCE_READ(s->pid);
	memset(m.result, 0, f->ops->result_size);
	if (f->ops->prepare)
		rc = f->ops->prepare(&m, f->arg);
	if (rc)
		fail_member(c, s, FAILED_PREPARE, rc);
	arrive(c, &c->at_gate);
	if (rc)
		_exit(1);
	wait_phase(c, PHASE_GO);
	while (sem_wait(&c->slots) && errno == EINTR)
		;
	rc = f->ops->work(&m, f->arg);
	sem_post(&c->slots);
	if (rc)
		fail_member(c, s, FAILED_WORK, rc);
	arrive(c, &c->at_barrier);
	wait_phase(c, PHASE_RELEASE);
	s->released = 1;
	if (f->ops->leave)
		f->ops->leave(&m, f->arg);
	_exit(rc ? 1 : 0);
}

/* ---- in the helper ---- */

static void reaped(struct mmr_fleet *f, pid_t pid, int wstatus)
{
	struct ctl *c = f->ctl;
	uint32_t n = load(&c->spawned);

	for (uint32_t i = 0; i < n; i++) {
		struct slot *s = slot_of(f, i);

		if (s->pid != pid || s->reaped)
			continue;
		s->wstatus = wstatus;
		s->reaped = 1;
		if (!s->released && !s->failed_in)
			add(&c->died_early, 1);
		if (add(&c->reaped, 1) == n || !s->released)
			bump(c);
		return;
	}
}

static void kill_members(struct mmr_fleet *f)
{
	uint32_t n = load(&f->ctl->spawned);

	for (uint32_t i = 0; i < n; i++)
		if (!slot_of(f, i)->reaped)
			kill(slot_of(f, i)->pid, SIGKILL);
}

static void spawn_and_reap(struct mmr_fleet *f, const sigset_t *wait_set, const sigset_t *mask)
{
	struct ctl *c = f->ctl;
	struct timespec tick = { 1, 0 };
	pid_t self = getpid();
	unsigned live = 0;
	bool killed = false;

	for (unsigned i = 0; i < c->n && !load(&c->kill); i++) {
		pid_t pid = fork();

		if (pid == 0)
			member_main(f, i, self, mask);
		if (pid < 0) {
			c->spawn_errno = errno;
			bump(c);
			break;
		}
		slot_of(f, i)->pid = pid;
		store(&c->spawned, i + 1);
		live++;
	}
	while (live) {
		int wstatus;
		pid_t pid = waitpid(-1, &wstatus, WNOHANG);

		if (pid > 0) {
			reaped(f, pid, wstatus);
			live--;
			continue;
		}
		if (pid < 0 && errno == ECHILD)
			break;
		if (load(&c->kill) && !killed) {
			kill_members(f);
			killed = true;
			continue;
		}
		sigtimedwait(wait_set, NULL, &tick);
	}
}

static __attribute__((noreturn)) void helper_main(struct mmr_fleet *f)
{
	struct ctl *c = f->ctl;
	sigset_t wait_set, mask;
	uint32_t seen = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != f->owner)
		_exit(127);
	/* the case's main thread is pinned to one CPU; the fleet gets them all */
	if (f->ncpus)
		sched_setaffinity(0, sizeof(f->cpus), &f->cpus);
	sigemptyset(&wait_set);
	sigaddset(&wait_set, SIGCHLD);
	sigaddset(&wait_set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &wait_set, &mask);
	for (;;) {
		uint32_t seq = load(&c->cmd_seq);

		if (seq == seen) {
			futex_wait(&c->cmd_seq, seq, 0);
			continue;
		}
		seen = seq;
		if (c->cmd == CMD_EXIT)
			_exit(0);
		if (c->cmd == CMD_SPAWN)
			spawn_and_reap(f, &wait_set, &mask);
	}
}

/* ---- in the caller ---- */

static void command(struct mmr_fleet *f, uint32_t cmd)
{
	f->ctl->cmd = cmd;
	add(&f->ctl->cmd_seq, 1);
	futex_wake_all(&f->ctl->cmd_seq);
}

static void describe_status(char *buf, size_t len, int wstatus)
{
	if (WIFSIGNALED(wstatus))
		snprintf(buf, len, "was killed by SIG%s",
			 sigabbrev_np(WTERMSIG(wstatus)) ? sigabbrev_np(WTERMSIG(wstatus)) : "?");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
}

/* Fill f->why from the first member that failed or died; true if one did. */
static bool member_failure(struct mmr_fleet *f)
{
	struct ctl *c = f->ctl;
	uint32_t n = load(&c->spawned);
	char how[64];

	if (!load(&c->failed) && !load(&c->died_early))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct slot *s = slot_of(f, i);

		if (s->failed_in) {
			snprintf(f->why, sizeof(f->why),
				 "fleet member %u (pid %d) failed in %s: %s", i, s->pid,
				 s->failed_in == FAILED_PREPARE ? "prepare" : "work",
				 s->rc < 0 && s->rc > -4096 ? strerror(-s->rc) : "non-zero return");
			return true;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct slot *s = slot_of(f, i);

		if (s->reaped && !s->released) {
			describe_status(how, sizeof(how), s->wstatus);
			snprintf(f->why, sizeof(f->why),
				 "fleet member %u (pid %d) %s before the barrier was released", i,
				 s->pid, how);
			return true;
		}
	}
	return false;
}

static bool helper_gone(struct mmr_fleet *f)
{
	int wstatus;
	char how[64];

	if (!f->helper)
		return true;
	if (waitpid(f->helper, &wstatus, WNOHANG) != f->helper)
		return false;
	describe_status(how, sizeof(how), wstatus);
	snprintf(f->why, sizeof(f->why), "the fleet's helper (pid %d) %s", f->helper, how);
	f->helper = 0;
	return true;
}

/* Wait until *counter reaches target, or something failed (-ECHILD). */
static int wait_count(struct mmr_fleet *f, uint32_t *counter, uint32_t target, bool failures)
{
	struct ctl *c = f->ctl;

	for (;;) {
		uint32_t ev = load(&c->event);

		if (failures && c->spawn_errno) {
			snprintf(f->why, sizeof(f->why),
				 "fork of fleet member %u of %u failed: %s%s", load(&c->spawned),
				 c->n, strerror(c->spawn_errno),
				 c->spawn_errno == EAGAIN
					 ? " (RLIMIT_NPROC, kernel.pid_max or kernel.threads-max)"
					 : "");
			return -ECHILD;
		}
		if (failures && member_failure(f))
			return -ECHILD;
		if (load(counter) >= target)
			return 0;
		if (helper_gone(f))
			return -ECHILD;
		futex_wait(&c->event, ev, CALLER_TICK_NS);
	}
}

/* Kill every member (through the helper) and wait until all are reaped. */
static void stop_members(struct mmr_fleet *f)
{
	struct ctl *c = f->ctl;
	uint64_t deadline = mmr_now_ns() + MEMBERS_EXIT_WAIT_NS;

	if (!f->active)
		return;
	store(&c->kill, 1);
	while (f->helper && load(&c->reaped) < load(&c->spawned) && mmr_now_ns() < deadline) {
		uint32_t ev = load(&c->event);

		kill(f->helper, SIGUSR1);
		if (helper_gone(f))
			break;
		futex_wait(&c->event, ev, CALLER_TICK_NS / 4);
	}
	f->active = false;
}

static int failed(struct mmr_fleet *f, int ret)
{
	stop_members(f);
	return ret;
}

int mmr_fleet_create(struct mmr_ctx *ctx, const struct mmr_fleet_ops *ops, void *arg,
		     unsigned max_members, struct mmr_fleet **out)
{
	struct mmr_fleet *f = calloc(1, sizeof(*f));
	size_t head = CACHELINE * ((sizeof(struct ctl) + CACHELINE - 1) / CACHELINE);
	pid_t pid;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->ops = ops;
	f->arg = arg;
	f->max = max_members;
	f->slot_size = CACHELINE + CACHELINE * ((ops->result_size + CACHELINE - 1) / CACHELINE);
	f->shm_len = head + (size_t)max_members * f->slot_size;
	f->shm = mmap(NULL, f->shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->shm == MAP_FAILED) {
		free(f);
		return -errno;
	}
	f->ctl = (struct ctl *)f->shm;
	if (!ctx || mmr_ctx_cpuset(ctx, &f->cpus))
		sched_getaffinity(0, sizeof(f->cpus), &f->cpus);
	f->ncpus = (unsigned)CPU_COUNT(&f->cpus);
	f->owner = getpid();
	pid = fork();
	if (pid == 0)
		helper_main(f);
	if (pid < 0) {
		int err = errno;

		munmap(f->shm, f->shm_len);
		free(f);
		return -err;
	}
	f->helper = pid;
	*out = f;
	return 0;
}

int mmr_fleet_spawn(struct mmr_fleet *f, unsigned n, unsigned concurrency)
{
	struct ctl *c = f->ctl;

	f->why[0] = '\0';
	if (n == 0 || n > f->max) {
		snprintf(f->why, sizeof(f->why), "fleet of %u members asked, room for 1..%u", n,
			 f->max);
		return -EINVAL;
	}
	if (f->active || !f->helper) {
		snprintf(f->why, sizeof(f->why), "%s",
			 f->active ? "the previous fleet still runs"
				   : "the fleet's helper is gone");
		return -EBUSY;
	}
	memset(slot_of(f, 0), 0, (size_t)n * f->slot_size);
	if (!concurrency)
		concurrency = f->ncpus ? f->ncpus : 1;
	if (sem_init(&c->slots, 1, concurrency < n ? concurrency : n))
		return -errno;
	c->n = n;
	c->spawn_errno = 0;
	store(&c->kill, 0);
	store(&c->phase, PHASE_GATE);
	store(&c->spawned, 0);
	store(&c->at_gate, 0);
	store(&c->at_barrier, 0);
	store(&c->reaped, 0);
	store(&c->failed, 0);
	store(&c->died_early, 0);
	f->active = true;
	command(f, CMD_SPAWN);
	return wait_count(f, &c->at_gate, n, true) ? failed(f, -ECHILD) : 0;
}

int mmr_fleet_go(struct mmr_fleet *f)
{
	struct ctl *c = f->ctl;

	store(&c->phase, PHASE_GO);
	futex_wake_all(&c->phase);
	return wait_count(f, &c->at_barrier, c->n, true) ? failed(f, -ECHILD) : 0;
}

int mmr_fleet_release(struct mmr_fleet *f)
{
	struct ctl *c = f->ctl;
	int ret;

	store(&c->phase, PHASE_RELEASE);
	futex_wake_all(&c->phase);
	ret = wait_count(f, &c->reaped, c->n, false);
	if (ret)
		return failed(f, ret);
	f->active = false;
	return 0;
}

void mmr_fleet_destroy(struct mmr_fleet *f)
{
	uint64_t deadline = mmr_now_ns() + HELPER_EXIT_WAIT_NS;

	if (!f)
		return;
	stop_members(f);
	if (f->helper) {
		command(f, CMD_EXIT);
		while (waitpid(f->helper, NULL, WNOHANG) == 0) {
			if (mmr_now_ns() > deadline) {
				kill(f->helper, SIGKILL);
				waitpid(f->helper, NULL, 0);
				break;
			}
			usleep(1000);
		}
	}
	munmap(f->shm, f->shm_len);
	free(f);
}

/* ---- planning (in mmrepro, before anything runs) ---- */

uint64_t mmr_fleet_footprint(uint64_t members)
{
	return members * MEMBER_BYTES + FLEET_BYTES;
}

/* Tasks on the system now (/proc/loadavg: running/total). */
static long tasks_now(void)
{
	char buf[128], *slash;

	if (mmr_read_file("/proc/loadavg", buf, sizeof(buf)) < 0 || !(slash = strchr(buf, '/')))
		return -1;
	return strtol(slash + 1, NULL, 10);
}

/* Tasks whose real uid is ours: what RLIMIT_NPROC counts. */
static long tasks_of_user(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long n = 0;

	while (d && (e = readdir(d))) {
		char path[300], *text, *l;
		long uid = -1, threads = 0;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		text = mmr_slurp(path, NULL);
		if (!text)
			continue;
		if ((l = strstr(text, "\nUid:")))
			uid = strtol(l + 5, NULL, 10);
		if ((l = strstr(text, "\nThreads:")))
			threads = strtol(l + 9, NULL, 10);
		free(text);
		if (uid == (long)getuid())
			n += threads;
	}
	if (d)
		closedir(d);
	return n;
}

static long lines_of(const char *path)
{
	size_t len = 0;
	char *text = mmr_slurp(path, &len);
	long n = 0;

	for (size_t i = 0; text && i < len; i++)
		n += text[i] == '\n';
	free(text);
	return text ? n : -1;
}

int mmr_plan_fleet(struct mmr_plan *plan, uint64_t members)
{
	uint64_t need = members + 2; /* the members, the helper, the case */
	uint64_t pid_max = 0, threads_max = 0, maps_max = 0;
	long tasks = tasks_now(), maps = lines_of("/proc/self/maps");
	struct rlimit nproc;

	if (tasks >= 0 && !mmr_read_u64("/proc/sys/kernel/pid_max", &pid_max) &&
	    (uint64_t)tasks + need + RESERVED_PIDS > pid_max)
		return mmr_plan_skip(
			plan,
			"a fleet of %llu processes needs %llu more tasks, but "
			"kernel.pid_max is %llu and %ld tasks exist (the first %d PIDs "
			"are reserved)",
			(unsigned long long)members, (unsigned long long)need,
			(unsigned long long)pid_max, tasks, RESERVED_PIDS);
	if (tasks >= 0 && !mmr_read_u64("/proc/sys/kernel/threads-max", &threads_max) &&
	    (uint64_t)tasks + need > threads_max)
		return mmr_plan_skip(plan,
				     "a fleet of %llu processes needs %llu more tasks, but "
				     "kernel.threads-max is %llu and %ld tasks exist",
				     (unsigned long long)members, (unsigned long long)need,
				     (unsigned long long)threads_max, tasks);
	/* root (the initial user) is exempt from RLIMIT_NPROC */
	if (geteuid() != 0 && !getrlimit(RLIMIT_NPROC, &nproc) && nproc.rlim_cur != RLIM_INFINITY) {
		long mine = tasks_of_user();

		if ((uint64_t)mine + need > nproc.rlim_cur)
			return mmr_plan_skip(plan,
					     "a fleet of %llu processes needs %llu more tasks, but "
					     "RLIMIT_NPROC is %llu and this user has %ld (raise it "
					     "with ulimit -u, or run as root)",
					     (unsigned long long)members, (unsigned long long)need,
					     (unsigned long long)nproc.rlim_cur, mine);
	}
	/* a member has the mappings of the case's process, and its own few */
	if (maps >= 0 && !mmr_read_u64("/proc/sys/vm/max_map_count", &maps_max) &&
	    (uint64_t)maps + 16 > maps_max)
		return mmr_plan_skip(plan,
				     "vm.max_map_count is %llu; a process of this case has %ld "
				     "mappings already and a fleet member needs a few more",
				     (unsigned long long)maps_max, maps);
	return 0;
}
