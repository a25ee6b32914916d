/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A crew: threads of the case process that work beside its main thread --
 * threads still running while the main thread times a munmap, io threads
 * copying while churn threads remap their buffers.
 *
 * A crew is made of groups; the members of a group share a name and a unit
 * of work, and are named "<name>-<i>" (io-0, churn-1: what a hang report
 * shows). Members are started once, each pinned to a CPU slot (placement
 * goes into the report), and parked. Released, every member repeats its unit
 * until the crew is parked again, at least once per release, and counts the
 * units it finished. Nothing on that path allocates, sends a message or
 * takes a lock.
 *
 * Two ways to use it:
 *   - around a timed operation: mmr_crew_release() returns once every member
 *     is running (on its CPU, about to start a unit), the main thread times
 *     its operation, mmr_crew_park() stops them;
 *   - for a window of N seconds: mmr_crew_run_for() releases the crew, then
 *     watches: it calls mmr_progress() only when every member has finished a
 *     unit since the last call, so one member stuck in the kernel stops the
 *     progress reports while the others run, and the harness's stall_timeout
 *     catches it with every task's kernel stack.
 *
 * A member fails the crew with a reason (mmr_crew_fail(); the first error of
 * the crew wins, whoever reports it): every member stops after the unit in
 * hand, a window ends early, and the main thread reads the reason from
 * mmr_crew_error(). A failed crew stays failed.
 *
 * Every wait of the main thread is bounded by the crew's deadline. A member
 * that is gone (a kernel Oops ends only the thread it hit) or does not answer
 * in time turns into an error that names it, never a hang of the case.
 * mmr_crew_finish() joins every member: none outlives the case.
 *
 * Units must not call the mmr_* reporting functions (samples, ops, logs,
 * progress): only the main thread talks to mmrepro.
 */
#ifndef MMREPRO_CREW_H
#define MMREPRO_CREW_H

#include <stdbool.h>
#include <stdint.h>

struct mmr_ctx;
struct mmr_crew;

/*
 * One unit of work of member `i` of its group (the number in its name).
 * Returns 0 to go on, or a -errno that fails the crew: call mmr_crew_fail()
 * first to say why, or the reason is "<name>-<i>: <strerror>". A unit that
 * has nothing to repeat (a thread that only has to be there) may block in
 * mmr_crew_wait_stop().
 */
typedef int (*mmr_crew_unit)(struct mmr_crew *crew, unsigned i, void *arg);

struct mmr_crew_group {
	const char *name; /* up to 10 characters: "<name>-<i>" fits a thread name */
	unsigned n;	  /* members; 0 is allowed */
	mmr_crew_unit unit;
	void *arg;
};

/* Where members run, given that the main thread has CPU slot 0. */
enum mmr_crew_placement {
	/* The main thread times something: members go to the other CPUs (round
	 * robin) and share the main thread's only when it is the only one. */
	MMR_CREW_BESIDE_MAIN,
	/* The main thread only watches: members take the other CPUs first, then
	 * wrap around over every CPU, the main thread's included. */
	MMR_CREW_ALL_CPUS,
};

/*
 * Start the members of every group, in order, each pinned through ctx (NULL:
 * not pinned, for tests), and wait until all are parked. `deadline_s` bounds
 * every wait for a member. *out is set whenever anything was started, even
 * on error: call mmr_crew_finish() in every case. Returns 0, -ENOMEM, or an
 * error whose text is in mmr_crew_error().
 */
int mmr_crew_start(struct mmr_ctx *ctx, const struct mmr_crew_group *groups, unsigned ngroups,
		   enum mmr_crew_placement where, double deadline_s, struct mmr_crew **out);
/* Let every member run; returns when all of them are running. */
int mmr_crew_release(struct mmr_crew *c);
/* Tell the members to stop; returns when each has finished its unit in hand. */
int mmr_crew_park(struct mmr_crew *c);
/*
 * Release the crew for `seconds`, reporting progress by the rule above, and
 * park it; a failure ends the window early. Returns 0, -ECANCELED when a
 * member failed, or the error of the release or the park.
 */
int mmr_crew_run_for(struct mmr_crew *c, double seconds);
/* Stop and join every member, then free the crew (NULL is fine). A member
 * that cannot be joined in time is named in mmr_crew_error() and the crew is
 * left allocated, since that thread may still use it. */
int mmr_crew_finish(struct mmr_crew *c);

/* Any thread: fail the crew; the first error of the crew wins. */
void mmr_crew_fail(struct mmr_crew *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool mmr_crew_failed(const struct mmr_crew *c);
/* In a unit: true once the crew is being parked, finished or has failed. */
bool mmr_crew_stopping(const struct mmr_crew *c);
/* In a unit: block, off the CPU, until the crew is being parked. */
void mmr_crew_wait_stop(struct mmr_crew *c);

/* The first error of the crew ("" if none). */
const char *mmr_crew_error(const struct mmr_crew *c);
/*
 * Below, `member` numbers the members across groups, in the order given to
 * mmr_crew_start() (with one group: the number in the name).
 *
 * Units a member has finished since it started (any time, from any thread).
 */
uint64_t mmr_crew_units(const struct mmr_crew *c, unsigned member);
/* Times mmr_crew_run_for() found that every member had finished a unit since
 * the previous time: the progress it reported (how tests see the rule). */
uint64_t mmr_crew_rounds(const struct mmr_crew *c);
/* CPU a member runs on (pinned, or where it first ran); -1 if unknown. */
int mmr_crew_cpu(const struct mmr_crew *c, unsigned member);
/* Distinct CPUs other than the main thread's that members are placed on. */
unsigned mmr_crew_other_cpus(const struct mmr_crew *c);
/* Members placed on the main thread's CPU. */
unsigned mmr_crew_on_main_cpu(const struct mmr_crew *c);

#endif
