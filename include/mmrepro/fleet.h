/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fleet: many processes running the same body, started by a small helper,
 * meeting at a start gate and a barrier in shared memory.
 *
 *   mmr_fleet_create()  once, before the caller maps anything big: forks the
 *                       helper, which inherits only what exists now (so an
 *                       fd or SysV key made before is usable in members)
 *   mmr_fleet_spawn(n)  the helper forks n members; each runs ->prepare and
 *                       waits at the gate; returns when all n are there
 *   mmr_fleet_go()      opens the gate: members run ->work, at most
 *                       `concurrency` at a time, then wait at the barrier;
 *                       returns when all n are there (measure the fleet now)
 *   mmr_fleet_release() members run ->leave and exit; returns when the
 *                       helper has reaped them all. Spawn again, or:
 *   mmr_fleet_destroy() kills whatever is left and the helper
 *
 * The helper and every member stay in the caller's process group (the case's
 * group, which mmrepro kills, reaps and records in its journal) and die with
 * their parent (PR_SET_PDEATHSIG). Members run on every CPU of the case.
 * A member that fails (its callback returns non-zero) or dies makes the
 * waiting call return -ECHILD; mmr_fleet_error() says who and how.
 */
#ifndef MMREPRO_FLEET_H
#define MMREPRO_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mmr_ctx;
struct mmr_fleet;
struct mmr_plan;

/* In plan(): a fleet of `members` fits this machine's RLIMIT_NPROC,
 * kernel.pid_max, kernel.threads-max and vm.max_map_count, or the case is
 * skipped with the numbers. */
int mmr_plan_fleet(struct mmr_plan *plan, uint64_t members);
/* Memory a fleet of `members` costs beyond what its members map, for the
 * case's footprint. */
uint64_t mmr_fleet_footprint(uint64_t members);

struct mmr_fleet_member {
	unsigned index; /* 0 .. count-1 */
	unsigned count; /* members of this spawn */
	void *result;	/* ops->result_size bytes, zeroed at spawn, read by the caller */
};

struct mmr_fleet_ops {
	size_t result_size;
	/* Before the gate, untimed (optional). */
	int (*prepare)(struct mmr_fleet_member *m, void *arg);
	/* After the gate. */
	int (*work)(struct mmr_fleet_member *m, void *arg);
	/* Released from the barrier, just before the member exits (optional). */
	void (*leave)(struct mmr_fleet_member *m, void *arg);
};

/* `ctx` (may be NULL: then members inherit the caller's CPU affinity) gives
 * the case's CPUs. ops and arg must stay valid for the fleet's life; the
 * members see them as they were at creation. */
int mmr_fleet_create(struct mmr_ctx *ctx, const struct mmr_fleet_ops *ops, void *arg,
		     unsigned max_members, struct mmr_fleet **out);
/* concurrency 0: one member per CPU of the fleet. */
int mmr_fleet_spawn(struct mmr_fleet *f, unsigned n, unsigned concurrency);
int mmr_fleet_go(struct mmr_fleet *f);
int mmr_fleet_release(struct mmr_fleet *f);
/* Valid from spawn until the next spawn or destroy. */
void *mmr_fleet_result(const struct mmr_fleet *f, unsigned i);
pid_t mmr_fleet_pid(const struct mmr_fleet *f, unsigned i);
/* What went wrong in the last call that failed. */
const char *mmr_fleet_error(const struct mmr_fleet *f);
unsigned mmr_fleet_cpus(const struct mmr_fleet *f);
void mmr_fleet_destroy(struct mmr_fleet *f);

#endif
