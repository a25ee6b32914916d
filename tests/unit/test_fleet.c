// SPDX-License-Identifier: GPL-2.0
/*
 * Process fleets: every member runs prepare, work and leave once, in order,
 * with its own result slot; no more than `concurrency` are in work at once;
 * a member that fails or crashes is reported with its index, the others are
 * killed and the fleet can spawn again; and nothing outlives the fleet: not
 * after destroy, and not when the process that owns it is SIGKILLed.
 */
#include "check.h"
#include "mmrepro/fleet.h"
#include "mmrepro/util.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
	uint32_t in_work, max_in_work;
	uint32_t fail_index, crash_index; /* UINT32_MAX: nobody */
};

struct result {
	uint64_t pid, prepared, worked;
};

static int prepare(struct mmr_fleet_member *m, void *arg)
{
	struct result *r = m->result;

	(void)arg;
	r->pid = (uint64_t)getpid();
	r->prepared = 1;
	return 0;
}

static int work(struct mmr_fleet_member *m, void *arg)
{
	struct shared *sh = arg;
	struct result *r = m->result;
	uint32_t now = __atomic_add_fetch(&sh->in_work, 1, __ATOMIC_SEQ_CST), max;

	while ((max = __atomic_load_n(&sh->max_in_work, __ATOMIC_SEQ_CST)) < now &&
	       !__atomic_compare_exchange_n(&sh->max_in_work, &max, now, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST))
		;
	usleep(2000);
	__atomic_sub_fetch(&sh->in_work, 1, __ATOMIC_SEQ_CST);
	if (m->index == sh->crash_index) {
		signal(SIGSEGV, SIG_DFL); /* past any sanitizer's handler */
		raise(SIGSEGV);
	}
	if (m->index == sh->fail_index)
		return -EIO;
	r->worked = 1000 + m->index;
	return 0;
}

static const struct mmr_fleet_ops ops = {
	.result_size = sizeof(struct result),
	.prepare = prepare,
	.work = work,
};

static bool alive(pid_t pid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (mmr_read_file(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
		return false;
	return p[2] != 'Z' && p[2] != 'X';
}

static bool all_gone(const pid_t *pids, unsigned n)
{
	for (int tries = 0; tries < 500; tries++) {
		bool any = false;

		for (unsigned i = 0; i < n; i++)
			any |= alive(pids[i]);
		if (!any)
			return true;
		usleep(10000);
	}
	return false;
}

static void check_fleet(struct mmr_fleet *f, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct result *r = mmr_fleet_result(f, i);

		ok += r->prepared == 1 && r->worked == 1000 + i &&
		      (pid_t)r->pid == mmr_fleet_pid(f, i);
	}
	CHECK(ok == n);
}

/* In a child that is then SIGKILLed: a fleet waiting at its barrier. */
static void owner_dies(struct shared *sh, int fd)
{
	struct mmr_fleet *f;
	pid_t pids[20];

	if (mmr_fleet_create(NULL, &ops, sh, 20, &f) || mmr_fleet_spawn(f, 20, 0) ||
	    mmr_fleet_go(f))
		_exit(1);
	for (unsigned i = 0; i < 20; i++)
		pids[i] = mmr_fleet_pid(f, i);
	if (write(fd, pids, sizeof(pids)) != sizeof(pids))
		_exit(1);
	for (;;)
		pause();
}

int main(void)
{
	struct shared *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct mmr_fleet *f;
	pid_t pids[64], owner;
	int fds[2];

	CHECK(sh != MAP_FAILED);
	if (sh == MAP_FAILED)
		return 1;
	sh->fail_index = sh->crash_index = UINT32_MAX;
	CHECK(mmr_fleet_create(NULL, &ops, sh, 64, &f) == 0);
	CHECK(mmr_fleet_cpus(f) >= 1);

	/* a fleet runs, and runs again */
	CHECK(mmr_fleet_spawn(f, 64, 3) == 0);
	CHECK(mmr_fleet_go(f) == 0);
	check_fleet(f, 64);
	CHECK(sh->max_in_work >= 1 && sh->max_in_work <= 3);
	CHECK(mmr_fleet_release(f) == 0);
	sh->max_in_work = 0;
	CHECK(mmr_fleet_spawn(f, 10, 1) == 0 && mmr_fleet_go(f) == 0);
	check_fleet(f, 10);
	CHECK(sh->max_in_work == 1);
	CHECK(mmr_fleet_release(f) == 0);
	CHECK(mmr_fleet_spawn(f, 65, 0) == -EINVAL);

	/* a member that fails: named; the rest are killed; the fleet goes on */
	sh->fail_index = 7;
	CHECK(mmr_fleet_spawn(f, 16, 0) == 0);
	for (unsigned i = 0; i < 16; i++)
		pids[i] = mmr_fleet_pid(f, i);
	CHECK(mmr_fleet_go(f) == -ECHILD);
	CHECK(strstr(mmr_fleet_error(f), "member 7 ") && strstr(mmr_fleet_error(f), "work"));
	CHECK(all_gone(pids, 16));
	sh->fail_index = UINT32_MAX;

	/* a member that crashes */
	sh->crash_index = 3;
	CHECK(mmr_fleet_spawn(f, 8, 0) == 0);
	CHECK(mmr_fleet_go(f) == -ECHILD);
	CHECK(strstr(mmr_fleet_error(f), "member 3 ") && strstr(mmr_fleet_error(f), "SIGSEGV"));
	sh->crash_index = UINT32_MAX;
	CHECK(mmr_fleet_spawn(f, 8, 0) == 0 && mmr_fleet_go(f) == 0);
	check_fleet(f, 8);

	/* destroy with members still at the barrier: none survives */
	for (unsigned i = 0; i < 8; i++)
		pids[i] = mmr_fleet_pid(f, i);
	mmr_fleet_destroy(f);
	CHECK(all_gone(pids, 8));
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);

	/* the owner dies by SIGKILL: helper and members follow (PR_SET_PDEATHSIG) */
	CHECK(pipe(fds) == 0);
	owner = fork();
	if (owner == 0)
		owner_dies(sh, fds[1]);
	close(fds[1]);
	CHECK(read(fds[0], pids, 20 * sizeof(pid_t)) == 20 * sizeof(pid_t));
	kill(owner, SIGKILL);
	waitpid(owner, NULL, 0);
	CHECK(all_gone(pids, 20));
	close(fds[0]);
	return check_done("test_fleet");
}
