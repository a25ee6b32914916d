/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lock contention from /proc/lock_stat (kernels built with CONFIG_LOCK_STAT,
 * collecting while kernel.lock_stat=1). Snapshots are taken around a timed
 * window and subtracted, so nothing is cleared: /proc/lock_stat is global and
 * other users' statistics stay as they were.
 */
#ifndef MMREPRO_LOCKSTAT_H
#define MMREPRO_LOCKSTAT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* One row: a lock class, with "-W"/"-R" for the write/read side of rwsems. */
struct mmr_lock_row {
	char name[48];
	uint64_t contentions, acquisitions;
	double wait_us, hold_us; /* totals, as the file shows them (microseconds) */
};

struct mmr_lockstat {
	size_t n;
	struct mmr_lock_row *rows;
};

/* Parse the text of /proc/lock_stat. Returns 0, or -EINVAL when it is not
 * in the format this parser knows (version 0.4). */
int mmr_lockstat_parse(const char *text, struct mmr_lockstat *out);
/*
 * Snapshot this kernel's /proc/lock_stat. Returns 0, or a negative errno with
 * `why` saying why not: "absent (...)" when the kernel has no lock_stat,
 * "disabled (kernel.lock_stat=0)" when it collects nothing, "unreadable: ...".
 */
int mmr_lockstat_read(struct mmr_lockstat *out, char *why, size_t len);
void mmr_lockstat_free(struct mmr_lockstat *s);
/* Sum of the deltas b - a over rows whose class name contains `substr`. */
void mmr_lockstat_delta_sum(const struct mmr_lockstat *a, const struct mmr_lockstat *b,
			    const char *substr, uint64_t *contentions, double *wait_us);
/* The `top` rows with the most new contentions from a to b, as
 * {name: {contentions, wait_us, acquisitions, hold_us}}. */
json_t *mmr_lockstat_delta_json(const struct mmr_lockstat *a, const struct mmr_lockstat *b,
				size_t top);

#endif
