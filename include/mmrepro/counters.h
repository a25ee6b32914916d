/* SPDX-License-Identifier: GPL-2.0 */
/*
 * System counters read around each timed operation: all of /proc/vmstat, all
 * of /proc/meminfo (kB lines as bytes), the TLB-shootdown and function-call
 * IPI rows of /proc/interrupts (summed and per CPU), and every per-size mTHP
 * stats file. Names are "<group>.<key>": vmstat.thp_split_pmd,
 * meminfo.PageTables, interrupts.TLB, interrupts.TLB.cpu3, mthp.64K.split.
 */
#ifndef MMREPRO_COUNTERS_H
#define MMREPRO_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct mmr_counters;

/* Open every source and learn the names (files stay open: a snapshot is a
 * few preads, not hundreds of opens). */
struct mmr_counters *mmr_counters_open(void);
void mmr_counters_close(struct mmr_counters *c);
size_t mmr_counters_n(const struct mmr_counters *c);
const char *mmr_counters_name(const struct mmr_counters *c, size_t i);
ssize_t mmr_counters_index(const struct mmr_counters *c, const char *name);
/*
 * Which side of a timed window a snapshot is taken on. Folding per-CPU vmstat
 * (stat_refresh) queues work on every CPU, which itself raises function-call
 * IPIs; the IPI rows are therefore read after the fold on the opening side
 * and before it on the closing side, so the fold never lands inside a delta.
 */
enum mmr_snap_side { MMR_SNAP_OPEN, MMR_SNAP_CLOSE };

/* vals must hold mmr_counters_n() entries. */
int mmr_counters_read(struct mmr_counters *c, int64_t *vals, enum mmr_snap_side side);
/* {name: b - a} for the counters that changed. */
json_t *mmr_counters_delta_json(const struct mmr_counters *c, const int64_t *a, const int64_t *b);

#endif
