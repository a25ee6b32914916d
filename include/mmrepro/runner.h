/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running a config: plan every case (nothing changes), check the memory
 * guard, open the settings transaction, run each case in its own child
 * process, write the report, restore.
 */
#ifndef MMREPRO_RUNNER_H
#define MMREPRO_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "mmrepro/config.h"

/* Exit codes of mmrepro (also in --help, README and the man page). */
enum mmr_exit {
	MMR_EXIT_OK = 0,	  /* every case ok or skipped */
	MMR_EXIT_CASE_FAILED = 1, /* at least one case failed or was invalid */
	MMR_EXIT_USAGE = 2,	  /* bad command line or config; nothing was changed */
	MMR_EXIT_REFUSED = 3,	  /* refused before starting: memory guard, another mmrepro */
	MMR_EXIT_RESTORE = 4,	  /* a knob could not be restored; the journal is kept */
	MMR_EXIT_INTERNAL = 5,	  /* internal or I/O error (e.g. report not written) */
	/* 6..9: the compare tool */
	/* vm: the guest failed (panic, no answer, timeout, garbage) */
	MMR_EXIT_GUEST = 10,
	/* 128+N: stopped by signal N, after cleanup */
};

struct mmr_plan {
	const struct mmr_case *c;
	uint64_t footprint;
	json_t *settings; /* knob -> value this case runs with (config + workload) */
	char *skip;	  /* reason, when the case cannot run here */
	char *invalid;	  /* reason, when the parameters make no sense together */
};

/* Plan one case (in mmrepro itself; nothing on the system changes). */
int mmr_plan_case(const struct mmr_case *c, struct mmr_plan *plan);
void mmr_plan_free(struct mmr_plan *plan);
/* Plan every case, fit --scale'd sizes to the machine, and check each against
 * the memory guard (printing why one does not fit). plans[] has ncases
 * entries; guard_json gets the guard's numbers. -ENOMEM: does not fit. */
int mmr_plan_all(struct mmr_config *cfg, struct mmr_plan *plans, json_t **guard_json);

struct mmr_run_opts {
	const char *output; /* -o; NULL: reports/runs/<name>-<kernel>-<time>.json */
	bool json_stdout;   /* --json: the report on stdout instead of the table */
	bool quiet;
	int argc;
	char **argv;
};

/* Returns an mmr_exit code, or 128+signal. */
int mmr_run(struct mmr_config *cfg, const struct mmr_run_opts *o);

/* Kernel stacks of every task of every process in a process group, for the
 * report of a case that stopped making progress. */
json_t *mmr_capture_stacks(pid_t pgid);

/* The case child: runs setup/prepare/run/cleanup/teardown and streams JSON
 * lines on fd; bumps *progress (shared with mmrepro; may be NULL) with every
 * message and every mmr_progress(). Returns the child's exit status. */
int mmr_child_main(const struct mmr_case *c, int fd, uint64_t *progress);

#endif
