/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fleet of worker threads in a case child, run in timed windows.
 *
 * Each member is a thread with a name (what a hang report shows), pinned to
 * a CPU slot of its own (1, 2, ... in the order added; slot 0 is the case's
 * main thread), that repeats one unit of work -- one I/O, one mapping change
 * -- while a window is open and parks in between. The thread that opens the
 * window watches: it reports progress to the harness (mmr_progress) only when
 * every member has finished a unit since the last report, so one member
 * stuck in the kernel is a stall even while the others run. No allocation,
 * no message and no lock on the members' path while the window is open.
 */
#ifndef MMREPRO_FLEET_H
#define MMREPRO_FLEET_H

#include <stdbool.h>

struct mmr_ctx;
struct mmr_fleet;

/* One unit of work. 0: done, go on; nonzero (a -errno) stops the fleet --
 * call mmr_fleet_fail() first to say why. */
typedef int (*mmr_fleet_work)(void *arg);

struct mmr_fleet *mmr_fleet_new(struct mmr_ctx *ctx);
/* Start a member (name: at most 15 characters) and wait until it is pinned
 * and parked. Returns 0 or -errno. */
int mmr_fleet_add(struct mmr_fleet *f, const char *name, mmr_fleet_work work, void *arg);
/* Open a window of `seconds` and close it; returns when every member has
 * finished the unit in hand. -ECANCELED when a member failed, else 0. */
int mmr_fleet_run(struct mmr_fleet *f, double seconds);
/* Record why the fleet stops (the first reason wins); any thread may call it. */
void mmr_fleet_fail(struct mmr_fleet *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool mmr_fleet_failed(struct mmr_fleet *f);
const char *mmr_fleet_error(struct mmr_fleet *f);
/* Stop and join every member (a member stuck in the kernel keeps this from
 * returning: the harness's stall deadline is what ends such a case). */
void mmr_fleet_free(struct mmr_fleet *f);

#endif
