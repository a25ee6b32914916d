/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A memory cgroup for one mthp_alloc case. Its anonymous memory counts what
 * the heap holds, including the unmapped pages of partially mapped large
 * folios that RSS does not show, and reclaiming it on demand (swap off for the cgroup, so
 * only what can come back without swapping does) measures how much of that
 * memory the kernel gives back and how long it takes.
 *
 * Where it goes, predictably, so leftovers can be found:
 *   cgroup v2: <mount>/mmrepro/mthp_alloc-<pid>, memory enabled for the
 *              children of mmrepro/ (the root delegates it, as LTP assumes);
 *   cgroup v1: <own memory cgroup>/mmrepro/mthp_alloc-<pid>, nested where the
 *              process already is, so every limit above it still applies.
 * The cgroup is recorded as a resource (resources.h) before it is made, so
 * one a case child leaves behind when it dies before its teardown is removed
 * by mmrepro after the case, and after a SIGKILL of mmrepro by the next start
 * or `mmrepro restore`. memcg_sweep() also removes empty mthp_alloc-*
 * cgroups no record names (left by an older mmrepro).
 */
#ifndef MMREPRO_MTHP_ALLOC_MEMCG_H
#define MMREPRO_MTHP_ALLOC_MEMCG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct memcg {
	bool v2;
	char home[PATH_MAX / 2];   /* the cgroup the process came from */
	char parent[PATH_MAX / 2]; /* .../mmrepro */
	char dir[PATH_MAX / 2];	   /* .../mmrepro/mthp_alloc-<pid> */
	bool joined;
};

/* Where the cgroup would go, or why there can be none; changes nothing. */
int memcg_locate(struct memcg *m, char *why, size_t len);
/* Create it (memory.max / limit_in_bytes = limit, no swap) and move the
 * calling process in; on failure nothing is left and why says what failed. */
int memcg_enter(struct memcg *m, uint64_t limit, char *why, size_t len);
/* Anonymous memory it holds, mapped or not (its anon LRU pages), in bytes. */
int memcg_anon(const struct memcg *m, uint64_t *bytes);
/* Reclaim what it can: v1 memory.force_empty, v2 memory.reclaim. */
int memcg_reclaim(const struct memcg *m);
/* OOM kills inside the cgroup so far. */
uint64_t memcg_oom_kills(const struct memcg *m);
/* Move the calling process back and remove the cgroup. */
int memcg_leave(struct memcg *m);
/* Remove mthp_alloc-* cgroups under the parent that no process is in;
 * returns how many. */
int memcg_sweep(const struct memcg *m);

#endif
