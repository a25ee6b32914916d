/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A crew: threads of the case process that run beside its main thread while
 * it times something (munmap with other threads still running, a copy while
 * another thread remaps the buffer).
 *
 * Members are started once, each pinned to a CPU slot other than the main
 * thread's whenever there is another (placement goes into the report), then
 * parked. For each timed operation the crew is released: every member runs
 * the workload's function until told to stop; mmr_crew_release() returns once
 * every member has said it is running, so the operation starts with all of
 * them on their CPUs. mmr_crew_park() stops them again. mmr_crew_finish()
 * joins them; no member outlives the case.
 *
 * Every wait is bounded. A member that is gone (a kernel Oops kills only the
 * thread it hit) or does not answer within the deadline turns into an error
 * that names it, never a hang of the case.
 *
 * Member functions must not call the mmr_* reporting functions (samples, ops,
 * logs): only the main thread talks to mmrepro.
 */
#ifndef MMREPRO_CREW_H
#define MMREPRO_CREW_H

#include <stdbool.h>
#include <stddef.h>

struct mmr_ctx;
struct mmr_crew;

/* Runs in member `index` while the crew is released; returns soon after
 * mmr_crew_stopping() turns true. */
typedef void (*mmr_crew_fn)(struct mmr_crew *crew, unsigned index, void *arg);

/*
 * Start n members named "<name>-<index>" (name: up to 8 characters), each
 * pinned through ctx (NULL: not pinned, for tests), and wait until all are
 * parked. *out is set whenever anything was started, even on error: call
 * mmr_crew_finish() in every case. Returns 0, -ENOMEM, or an error whose
 * text is in mmr_crew_error().
 */
int mmr_crew_start(struct mmr_ctx *ctx, unsigned n, const char *name, mmr_crew_fn fn, void *arg,
		   double deadline_s, struct mmr_crew **out);
/* Let every member run fn; returns when all have called mmr_crew_running(). */
int mmr_crew_release(struct mmr_crew *c);
/* Tell the members to stop; returns when every fn has returned. */
int mmr_crew_park(struct mmr_crew *c);
/* Stop and join every member, then free the crew (NULL is fine). A member
 * that cannot be joined in time is named in err and the crew is left
 * allocated, since that thread may still use it. */
int mmr_crew_finish(struct mmr_crew *c, char *err, size_t errlen);

/* In a member: it is now doing its work (on its CPU). Call once per release. */
void mmr_crew_running(struct mmr_crew *c, unsigned index);
/* In a member: true once the crew is being parked or finished. */
bool mmr_crew_stopping(const struct mmr_crew *c);
/* In a member: block, off the CPU, until the crew is being parked. */
void mmr_crew_wait_stop(struct mmr_crew *c);

/* The text of the last error. */
const char *mmr_crew_error(const struct mmr_crew *c);
/* CPU a member runs on (pinned, or where it last said it was running); -1 if unknown. */
int mmr_crew_cpu(const struct mmr_crew *c, unsigned index);
/* Distinct CPUs other than the main thread's that members are placed on. */
unsigned mmr_crew_other_cpus(const struct mmr_crew *c);
/* Members placed on the main thread's CPU (only when it is the only one). */
unsigned mmr_crew_on_main_cpu(const struct mmr_crew *c);

#endif
