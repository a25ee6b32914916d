// SPDX-License-Identifier: GPL-2.0
/*
 * The crew: members run only while released, every release starts them all,
 * every park stops them all; groups give members their names and units; a
 * window reports progress only while every member finishes units (one stuck
 * member stops the reports while the others run); a member's failure ends a
 * window early with its reason, the first one winning; and a member that is
 * gone or does not answer is an error that names it within the deadline,
 * never a hang.
 */
#include "check.h"
#include "mmrepro/crew.h"
#include "mmrepro/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 3

static atomic_uint active, runs;
static atomic_int behaviour[N]; /* what each member does in its unit */

enum { WORK, VANISH, IGNORE_STOP, FAIL, FAIL_QUIETLY, SLEEP, STUCK };

/* STUCK members block here until the test lets them go. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;

static void gate_set(bool open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_lock);
}

static int unit(struct mmr_crew *c, unsigned i, void *arg)
{
	atomic_uint *calls = arg; /* one counter per group */

	atomic_fetch_add(&calls[i], 1);
	switch (atomic_load(&behaviour[i])) {
	case SLEEP:
		mmr_crew_wait_stop(c);
		return 0;
	case VANISH:
		/* what a kernel Oops does to a thread: it ends, nothing else runs */
		syscall(SYS_exit, 0);
		return 0;
	case IGNORE_STOP:
		for (;;)
			pause();
	case FAIL:
		mmr_crew_fail(c, "member %u says no", i);
		return -EIO;
	case FAIL_QUIETLY:
		return -ENOSPC;
	case STUCK:
		pthread_mutex_lock(&gate_lock);
		while (!gate_open)
			pthread_cond_wait(&gate_cv, &gate_lock);
		pthread_mutex_unlock(&gate_lock);
		return 0;
	}
	/* WORK: a short busy unit, counted while it runs */
	atomic_fetch_add(&active, 1);
	for (volatile int k = 0; k < 1000; k++)
		;
	atomic_fetch_sub(&active, 1);
	return 0;
}

/* A unit that runs until parked, to see who runs while released. */
static int hold(struct mmr_crew *c, unsigned i, void *arg)
{
	(void)i, (void)arg;
	atomic_fetch_add(&runs, 1);
	atomic_fetch_add(&active, 1);
	while (!mmr_crew_stopping(c))
		;
	atomic_fetch_sub(&active, 1);
	return 0;
}

static void set_all(int b)
{
	for (int i = 0; i < N; i++)
		atomic_store(&behaviour[i], b);
}

static struct mmr_crew *start(const char *name, void *calls, double deadline)
{
	struct mmr_crew_group g = { name, N, unit, calls };
	struct mmr_crew *c;

	CHECK(mmr_crew_start(NULL, &g, 1, MMR_CREW_BESIDE_MAIN, deadline, &c) == 0);
	return c;
}

static void cycles(void)
{
	static atomic_uint calls[N];
	struct mmr_crew_group g = { "t", N, hold, NULL };
	struct mmr_crew *c;

	atomic_store(&runs, 0);
	CHECK(mmr_crew_start(NULL, &g, 1, MMR_CREW_BESIDE_MAIN, 10, &c) == 0);
	usleep(10000);
	CHECK(atomic_load(&runs) == 0); /* parked until released */
	for (int round = 1; round <= 3; round++) {
		CHECK(mmr_crew_release(c) == 0);
		/* every member started before release returned: each is in its
		 * unit or about to enter it, and none can leave it before park */
		for (uint64_t t0 = mmr_now_ns();
		     atomic_load(&active) < N && mmr_now_ns() - t0 < 10000000000ULL;)
			;
		CHECK(atomic_load(&active) == N);
		CHECK(mmr_crew_park(c) == 0);
		CHECK(atomic_load(&active) == 0); /* none after park returns */
		CHECK(atomic_load(&runs) == (unsigned)(N * round));
	}
	for (unsigned i = 0; i < N; i++) {
		CHECK(mmr_crew_cpu(c, i) >= 0);	  /* unpinned: where it ran */
		CHECK(mmr_crew_units(c, i) == 3); /* one unit per release here */
	}
	CHECK(mmr_crew_units(c, N) == 0 && mmr_crew_cpu(c, N) == -1);
	CHECK(!mmr_crew_failed(c) && !strcmp(mmr_crew_error(c), ""));
	CHECK(mmr_crew_finish(c) == 0);
	CHECK(mmr_crew_finish(NULL) == 0);

	/* members that only have to be there block until parked */
	set_all(SLEEP);
	c = start("z", calls, 10);
	for (int round = 1; round <= 2; round++) {
		CHECK(mmr_crew_release(c) == 0);
		CHECK(mmr_crew_park(c) == 0);
	}
	for (unsigned i = 0; i < N; i++)
		CHECK(mmr_crew_units(c, i) == 2);
	CHECK(mmr_crew_finish(c) == 0);
}

/* Groups: names and arguments per group, members numbered across groups. */
static void groups(void)
{
	static atomic_uint io_calls[N], churn_calls[N];
	const struct mmr_crew_group g[] = {
		{ "io", 2, unit, io_calls },
		{ "none", 0, unit, NULL },
		{ "churn", 1, unit, churn_calls },
	};
	struct mmr_crew *c;

	set_all(WORK);
	CHECK(mmr_crew_start(NULL, g, 3, MMR_CREW_ALL_CPUS, 10, &c) == 0);
	CHECK(mmr_crew_run_for(c, 0.05) == 0);
	/* every member did at least one unit, with its own group's argument */
	CHECK(atomic_load(&io_calls[0]) > 0 && atomic_load(&io_calls[1]) > 0);
	CHECK(atomic_load(&io_calls[2]) == 0);
	CHECK(atomic_load(&churn_calls[0]) > 0 && atomic_load(&churn_calls[1]) == 0);
	CHECK(mmr_crew_units(c, 0) > 0 && mmr_crew_units(c, 2) > 0);
	CHECK(mmr_crew_units(c, 0) <= atomic_load(&io_calls[0]));
	CHECK(mmr_crew_units(c, 2) <= atomic_load(&churn_calls[0]));
	CHECK(mmr_crew_finish(c) == 0);

	/* a name that would not fit a thread's name is refused, nothing started */
	{
		const struct mmr_crew_group long_name = { "elevenchars", 1, unit, io_calls };

		CHECK(mmr_crew_start(NULL, &long_name, 1, MMR_CREW_ALL_CPUS, 10, &c) == -EINVAL);
		CHECK(strstr(mmr_crew_error(c), "\"elevenchars\" is longer than 10") != NULL);
		CHECK(mmr_crew_finish(c) == 0);
	}
}

/*
 * The stall rule: progress is reported while every member finishes units;
 * one member that stops finishing them stops the reports, though the others
 * keep running, and the park then names it.
 */
static void stall_rule(void)
{
	static atomic_uint calls[N];
	struct mmr_crew *c;
	uint64_t rounds, before[N];

	set_all(WORK);
	c = start("w", calls, 2);
	CHECK(mmr_crew_run_for(c, 0.2) == 0);
	CHECK(mmr_crew_rounds(c) >= 1); /* at the latest, once all were parked */

	rounds = mmr_crew_rounds(c);
	for (unsigned i = 0; i < N; i++)
		before[i] = mmr_crew_units(c, i);
	gate_set(false);
	atomic_store(&behaviour[1], STUCK);
	CHECK(mmr_crew_run_for(c, 0.3) == -ETIMEDOUT);
	CHECK(mmr_crew_rounds(c) == rounds); /* no progress while w-1 was stuck */
	CHECK(mmr_crew_units(c, 0) > before[0] && mmr_crew_units(c, 2) > before[2]);
	CHECK(mmr_crew_units(c, 1) == before[1]);
	CHECK(strstr(mmr_crew_error(c), "w-1 ") &&
	      strstr(mmr_crew_error(c), "did not finish stopping within"));
	gate_set(true);
	CHECK(mmr_crew_park(c) == -ECANCELED); /* it answers again; the crew stays failed */
	CHECK(mmr_crew_finish(c) == 0);
}

static void member_fails(void)
{
	static atomic_uint calls[N];
	struct mmr_crew *c;
	uint64_t t0;

	/* the first reason wins, and the window ends at once */
	set_all(WORK);
	c = start("f", calls, 10);
	atomic_store(&behaviour[2], FAIL);
	t0 = mmr_now_ns();
	CHECK(mmr_crew_run_for(c, 60) == -ECANCELED);
	CHECK(mmr_now_ns() - t0 < 30000000000ULL); /* not the 60 s window */
	CHECK(mmr_crew_failed(c));
	CHECK_STR(mmr_crew_error(c), "member 2 says no");
	mmr_crew_fail(c, "a later reason");
	CHECK_STR(mmr_crew_error(c), "member 2 says no");
	CHECK(mmr_crew_release(c) == -ECANCELED); /* a failed crew stays failed */
	CHECK(mmr_crew_finish(c) == 0);

	/* a unit that fails without a reason gets one naming it */
	set_all(WORK);
	c = start("q", calls, 10);
	atomic_store(&behaviour[0], FAIL_QUIETLY);
	CHECK(mmr_crew_run_for(c, 60) == -ECANCELED);
	CHECK(strstr(mmr_crew_error(c), "q-0: ") && strstr(mmr_crew_error(c), strerror(ENOSPC)));
	CHECK(mmr_crew_finish(c) == 0);
}

/* ASan's thread registry cannot follow a thread the kernel ends behind its
 * back (it aborts on the next pthread_create); the release build covers it. */
#ifndef __SANITIZE_ADDRESS__
static void vanishes(void)
{
	static atomic_uint calls[N];
	struct mmr_crew *c;
	uint64_t t0;

	set_all(WORK);
	atomic_store(&behaviour[1], VANISH);
	c = start("walk", calls, 30);
	t0 = mmr_now_ns();
	CHECK(mmr_crew_run_for(c, 0.1) == -ESRCH);
	CHECK(mmr_now_ns() - t0 < 5000000000ULL); /* found gone, not waited out */
	CHECK(strstr(mmr_crew_error(c), "walk-1") && strstr(mmr_crew_error(c), "is gone"));
	CHECK(mmr_crew_finish(c) == 0); /* the others still join */
}
#endif

static void ignores_stop(void)
{
	static atomic_uint calls[N];
	struct mmr_crew *c;
	uint64_t t0;

	set_all(WORK);
	atomic_store(&behaviour[0], IGNORE_STOP);
	c = start("spin", calls, 2);
	CHECK(mmr_crew_release(c) == 0);
	CHECK(mmr_crew_park(c) == -ETIMEDOUT);
	CHECK(strstr(mmr_crew_error(c), "spin-0") && strstr(mmr_crew_error(c), "within"));
	/* where it waits in the kernel, when the kernel says */
	CHECK(strstr(mmr_crew_error(c), "pause") || !strstr(mmr_crew_error(c), "in the kernel"));
	/* not waited for a second deadline: the join gives up at once */
	t0 = mmr_now_ns();
	CHECK(mmr_crew_finish(c) == -ETIMEDOUT);
	CHECK(mmr_now_ns() - t0 < 2000000000ULL);
	/* the first error stays: the member named by the park */
	CHECK(strstr(mmr_crew_error(c), "spin-0") != NULL);
	/* that member still runs; the process exit ends it */
}

int main(void)
{
	cycles();
	groups();
	stall_rule();
	member_fails();
#ifdef __SANITIZE_ADDRESS__
	printf("vanishes: not run under AddressSanitizer\n");
#else
	vanishes();
#endif
	ignores_stop();
	return check_done("test_crew");
}
