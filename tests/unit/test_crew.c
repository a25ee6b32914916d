// SPDX-License-Identifier: GPL-2.0
/*
 * The crew: members run only while released, every release starts them all,
 * every park stops them all, and a member that is gone or does not answer is
 * an error that names it within the deadline, never a hang.
 */
#include "check.h"
#include "mmrepro/crew.h"
#include "mmrepro/util.h"

#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 3

static atomic_uint active, runs;
static atomic_int behaviour[N]; /* what each member does when released */

enum { WORK, VANISH, IGNORE_STOP, RETURN_EARLY, SLEEP };

static void member(struct mmr_crew *c, unsigned i, void *arg)
{
	(void)arg;
	atomic_fetch_add(&runs, 1);
	switch (atomic_load(&behaviour[i])) {
	case RETURN_EARLY:
		return;
	case SLEEP:
		mmr_crew_running(c, i);
		mmr_crew_wait_stop(c);
		return;
	case VANISH:
		mmr_crew_running(c, i);
		/* what a kernel Oops does to a thread: it ends, nothing else runs */
		syscall(SYS_exit, 0);
		return;
	case IGNORE_STOP:
		mmr_crew_running(c, i);
		for (;;)
			pause();
	}
	atomic_fetch_add(&active, 1);
	mmr_crew_running(c, i);
	while (!mmr_crew_stopping(c))
		;
	atomic_fetch_sub(&active, 1);
}

static void set_all(int b)
{
	for (int i = 0; i < N; i++)
		atomic_store(&behaviour[i], b);
}

static void cycles(void)
{
	struct mmr_crew *c;
	char err[256];

	set_all(WORK);
	atomic_store(&runs, 0);
	CHECK(mmr_crew_start(NULL, N, "t", member, NULL, 10, &c) == 0);
	CHECK(atomic_load(&runs) == 0); /* parked until released */
	for (int round = 1; round <= 3; round++) {
		CHECK(mmr_crew_release(c) == 0);
		CHECK(atomic_load(&active) == N); /* all of them run before release returns */
		CHECK(mmr_crew_park(c) == 0);
		CHECK(atomic_load(&active) == 0); /* none after park returns */
		CHECK(atomic_load(&runs) == (unsigned)(N * round));
	}
	for (unsigned i = 0; i < N; i++)
		CHECK(mmr_crew_cpu(c, i) >= 0); /* unpinned: where it said it ran */
	atomic_store(&behaviour[1], SLEEP);
	CHECK(mmr_crew_release(c) == 0);
	CHECK(mmr_crew_park(c) == 0);
	CHECK(mmr_crew_finish(c, err, sizeof(err)) == 0);
	CHECK(mmr_crew_finish(NULL, err, sizeof(err)) == 0);
}

static void returns_early(void)
{
	struct mmr_crew *c;
	char err[256];

	set_all(WORK);
	atomic_store(&behaviour[2], RETURN_EARLY);
	CHECK(mmr_crew_start(NULL, N, "t", member, NULL, 10, &c) == 0);
	CHECK(mmr_crew_release(c) == -EPROTO);
	CHECK(strstr(mmr_crew_error(c), "t-2 returned before") != NULL);
	CHECK(mmr_crew_park(c) == 0);
	CHECK(mmr_crew_finish(c, err, sizeof(err)) == 0);
}

/* ASan's thread registry cannot follow a thread the kernel ends behind its
 * back (it aborts on the next pthread_create); the release build covers it. */
#ifndef __SANITIZE_ADDRESS__
static void vanishes(void)
{
	struct mmr_crew *c;
	char err[256];
	uint64_t t0;

	set_all(WORK);
	atomic_store(&behaviour[1], VANISH);
	CHECK(mmr_crew_start(NULL, N, "walk", member, NULL, 30, &c) == 0);
	CHECK(mmr_crew_release(c) == 0);
	t0 = mmr_now_ns();
	CHECK(mmr_crew_park(c) == -ESRCH);
	CHECK(mmr_now_ns() - t0 < 5000000000ULL); /* found gone, not waited out */
	CHECK(strstr(mmr_crew_error(c), "walk-1") && strstr(mmr_crew_error(c), "is gone"));
	CHECK(mmr_crew_finish(c, err, sizeof(err)) == 0); /* the others still join */
}
#endif

static void ignores_stop(void)
{
	struct mmr_crew *c;
	char err[256] = "";

	set_all(WORK);
	atomic_store(&behaviour[0], IGNORE_STOP);
	CHECK(mmr_crew_start(NULL, N, "spin", member, NULL, 0.3, &c) == 0);
	CHECK(mmr_crew_release(c) == 0);
	CHECK(mmr_crew_park(c) == -ETIMEDOUT);
	CHECK(strstr(mmr_crew_error(c), "spin-0") && strstr(mmr_crew_error(c), "within"));
	CHECK(mmr_crew_finish(c, err, sizeof(err)) == -ETIMEDOUT);
	CHECK(strstr(err, "spin-0") && strstr(err, "could not be joined"));
	/* that member still runs; the process exit ends it */
}

int main(void)
{
	cycles();
	returns_early();
#ifdef __SANITIZE_ADDRESS__
	printf("vanishes: not run under AddressSanitizer\n");
#else
	vanishes();
#endif
	ignores_stop();
	return check_done("test_crew");
}
