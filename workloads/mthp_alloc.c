// SPDX-License-Identifier: GPL-2.0
/*
 * mthp_alloc — allocators on mixed-size small THP (mTHP) that give memory back
 * in pieces smaller than the folio (CLAIMS C6).
 *
 * Each case enables one set of THP sizes for anonymous memory (every other
 * size off) and runs one allocation churn per repetition: allocate a live set
 * of a size mix (fill), then free and allocate with a lifetime model until
 * `turnover` times the live set has been allocated (churn), sampling the
 * process's memory and the per-size mTHP gauges between timed segments.
 *
 * The heap is the synthetic arena, in this process, which gives every empty
 * granule of `free_granularity` bytes back with MADV_DONTNEED or MADV_FREE, or
 * a real allocator (glibc, or jemalloc/tcmalloc/mimalloc by LD_PRELOAD) in the
 * mmrepro-alloc-churn driver, which runs the same seeded sequence. Both run in
 * a memory cgroup of the case's own: its anonymous memory shows what the heap holds
 * without mapping it (the unmapped pages of partially mapped large folios),
 * and reclaiming it after the churn shows how much of that comes back and how
 * long it takes.
 */
#include "mmrepro/workload.h"
#include "mmrepro/env.h"
#include "mthp_alloc_analysis.h"
#include "mthp_alloc_arena.h"
#include "mthp_alloc_churn.h"
#include "mthp_alloc_driver.h"
#include "mthp_alloc_memcg.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

struct mthp_alloc_params {
	const char *mthp;
	const char *thp_mode;
	const char *allocator;
	const char *size_mix;
	const char *lifetime;
	double keep;
	uint64_t live;
	double turnover;
	const char *touch;
	uint64_t free_granularity;
	const char *free_advice;
	const char *reclaim;
	int64_t timeline;
};

/*
 * The per-size counters whose deltas over fill and churn each repetition
 * records in extra.per_size, for every anonymous THP size of the kernel.
 */
static const char *const size_stats[] = {
	"anon_fault_alloc", "anon_fault_fallback",	"split", "split_deferred",
	"nr_anon",	    "nr_anon_partially_mapped",
};

#define N_SIZE_STATS MMR_ARRAY_SIZE(size_stats)

/* A set of THP sizes, ascending, in kB. */
struct sizeset {
	unsigned n;
	uint64_t kb[CHURN_MAX_MTHP];
};

struct mthp_alloc_state {
	struct churn_shape shape;
	struct sizeset set;
	uint64_t limit; /* what the heap may take: the arena's zones, the cgroup's cap */
	char driver[PATH_MAX], library[PATH_MAX];
	struct memcg memcg;
	bool in_memcg;
	/* the current repetition */
	struct arena *arena;
	struct churn *churn;
	struct driver drv;
	bool drv_up;
	json_t *base; /* the process's memory before the fill */
	json_t *timelines;
	/* every anonymous THP size of the kernel, and which stats it has */
	unsigned nstat;
	uint64_t stat_kb[CHURN_MAX_MTHP];
	bool has[CHURN_MAX_MTHP][N_SIZE_STATS];
	int64_t delta[CHURN_MAX_MTHP][N_SIZE_STATS]; /* the repetition's, fill + churn */
	json_t *per_size;
};

static const char *const thp_modes[] = { "always", "madvise", NULL };
static const char *const touches[] = { "full", "pages", NULL };
static const char *const advices[] = { "dontneed", "free", "none", NULL };
static const char *const reclaims[] = { "auto", "memcg", "none", NULL };

static const struct mmr_param mthp_alloc_params[] = {
	{ "mthp", MMR_T_STRING, offsetof(struct mthp_alloc_params, mthp), "64K",
	  .help = "THP sizes enabled for anonymous memory: none, one size (64K, 2M) or several "
		  "joined by + (16K+32K+64K); every other size is set to never" },
	{ "thp_mode", MMR_T_ENUM, offsetof(struct mthp_alloc_params, thp_mode), "always",
	  .choices = thp_modes,
	  .help = "how the sizes are enabled: always, or madvise (only memory the allocator "
		  "madvises: the arena does, the real allocators do not)" },
	{ "allocator", MMR_T_ENUM, offsetof(struct mthp_alloc_params, allocator), "arena",
	  .choices = mthp_allocators,
	  .help = "arena (synthetic, free policy below) or a real one by LD_PRELOAD in the " DRIVER_NAME
		  " driver: glibc, jemalloc, tcmalloc, mimalloc" },
	{ "size_mix", MMR_T_STRING, offsetof(struct mthp_alloc_params, size_mix),
	  "32:30,128:20,512:15,2K:10,8K:10,24K:8,64K:5,200K:2",
	  .help = "request sizes and their weights, size:weight,..." },
	{ "lifetime", MMR_T_ENUM, offsetof(struct mthp_alloc_params, lifetime), "random",
	  .choices = churn_lifetimes,
	  .help = "which object dies: fifo (the oldest), random, phased (all of a phase but a "
		  "`keep` share, which dies with the next phase)" },
	{ "keep", MMR_T_DOUBLE, offsetof(struct mthp_alloc_params, keep), "0.1", .min = "0",
	  .max = "0.9", .help = "phased: share of a phase's objects that outlive it" },
	{ "live", MMR_T_SIZE, offsetof(struct mthp_alloc_params, live), "256M", .min = "1M",
	  .max = "64G", .flags = MMR_P_SCALED,
	  .help = "live set: requested bytes the heap holds once filled" },
	{ "turnover", MMR_T_DOUBLE, offsetof(struct mthp_alloc_params, turnover), "4", .min = "0.1",
	  .max = "1000", .help = "bytes the churn allocates, as a multiple of the live set" },
	{ "touch", MMR_T_ENUM, offsetof(struct mthp_alloc_params, touch), "full",
	  .choices = touches,
	  .help = "what the program writes of a new object: all of it, or one byte per page" },
	{ "free_granularity", MMR_T_SIZE, offsetof(struct mthp_alloc_params, free_granularity),
	  "4K", .min = "4K", .max = "1G",
	  .help = "arena: aligned blocks with no live object are given back in pieces of this "
		  "size (a power of two; below the folio size leaves partially mapped folios)" },
	{ "free_advice", MMR_T_ENUM, offsetof(struct mthp_alloc_params, free_advice), "dontneed",
	  .choices = advices,
	  .help = "arena: how a free block goes back: MADV_DONTNEED, MADV_FREE, or never" },
	{ "reclaim", MMR_T_ENUM, offsetof(struct mthp_alloc_params, reclaim), "auto",
	  .choices = reclaims,
	  .help = "reclaim step after the churn, in the case's memory cgroup: auto (when one "
		  "can be made, else left out with the reason), memcg (skip the case without "
		  "one), none" },
	{ "timeline", MMR_T_INT, offsetof(struct mthp_alloc_params, timeline), "16", .min = "0",
	  .max = "1000", .help = "points sampled over the churn (extra.timeline)" },
	{ NULL },
};

static const struct mmr_metric mthp_alloc_metrics[] = {
	{ "fill_ns", "ns", MMR_LOWER_IS_BETTER,
	  "allocating (and writing) the live set from empty" },
	{ "ops_per_s", "ops/s", MMR_HIGHER_IS_BETTER,
	  "allocations plus frees per second in the churn" },
	{ "faults", "count", MMR_LOWER_IS_BETTER,
	  "page faults of the heap's process in the churn" },
	{ "live_bytes", "bytes", MMR_INFO_ONLY, "requested bytes live at the end of the churn" },
	{ "rss_bytes", "bytes", MMR_LOWER_IS_BETTER, "Rss of the heap's process after the churn" },
	{ "anon_huge_bytes", "bytes", MMR_INFO_ONLY,
	  "AnonHugePages (PMD-mapped THP) of the heap's process after the churn" },
	{ "heap_bytes", "bytes", MMR_LOWER_IS_BETTER,
	  "growth of the process's anonymous RSS from before the fill to after the churn" },
	{ "bloat_ratio", "ratio", MMR_LOWER_IS_BETTER, "heap_bytes / live_bytes" },
	{ "held_bytes", "bytes", MMR_LOWER_IS_BETTER,
	  "growth of the anonymous memory the case's cgroup holds over fill and churn: mapped "
	  "pages and the unmapped pages of partially mapped folios" },
	{ "hidden_bytes", "bytes", MMR_LOWER_IS_BETTER,
	  "held_bytes - heap_bytes: held by the heap's folios, mapped by no one" },
	{ "mthp_fault_alloc", "count", MMR_INFO_ONLY,
	  "THP folios allocated at fault, every size, fill and churn" },
	{ "mthp_fault_fallback", "count", MMR_LOWER_IS_BETTER,
	  "THP fault allocations that fell back to a smaller size, every size" },
	{ "mthp_split_deferred", "count", MMR_LOWER_IS_BETTER,
	  "large folios queued for a deferred split (partially unmapped), every size" },
	{ "mthp_split", "count", MMR_LOWER_IS_BETTER,
	  "large folios split, every size, fill and churn (the fill frees nothing: the "
	  "churn's); the reclaim step's are reclaim_splits" },
	{ "mthp_nr_anon", "count", MMR_INFO_ONLY,
	  "change of nr_anon (anonymous large folios), every size, over fill and churn" },
	{ "mthp_partially_mapped", "count", MMR_LOWER_IS_BETTER,
	  "change of nr_anon_partially_mapped, every size, over fill and churn: large folios "
	  "left partially mapped" },
	{ "partially_mapped", "count", MMR_LOWER_IS_BETTER,
	  "nr_anon_partially_mapped summed over the sizes, after the churn: a system-wide "
	  "gauge, other processes' folios included (mthp_partially_mapped is its change)" },
	{ "returned_bytes", "bytes", MMR_INFO_ONLY,
	  "arena: bytes given back with madvise() in the churn" },
	{ "reclaim_ns", "ns", MMR_LOWER_IS_BETTER,
	  "reclaiming the case's memory cgroup after the churn" },
	{ "reclaimed_bytes", "bytes", MMR_INFO_ONLY,
	  "anonymous memory of the cgroup the reclaim step gave back: unmapped pages of "
	  "partially mapped folios, and zero-filled ones a split maps to the zero page (6.12+)" },
	{ "reclaim_splits", "count", MMR_INFO_ONLY, "large folios split during the reclaim step" },
	{ NULL },
};

/* "none" | "64K" | "16K+32K+64K": THP sizes, each a power of two from twice
 * the page size to the PMD size. */
static int parse_sizeset(const char *text, struct sizeset *set, char *err, size_t len)
{
	char buf[256], *save = NULL;

	memset(set, 0, sizeof(*set));
	if (!strcmp(text, "none"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
		char min[16], max[16];
		uint64_t bytes, kb;
		unsigned i;

		mmr_format_size(2 * mmr_page_size(), min, sizeof(min));
		mmr_format_size(mmr_pmd_size(), max, sizeof(max));
		if (mmr_parse_size(tok, &bytes) || bytes < 2 * mmr_page_size() ||
		    bytes > mmr_pmd_size() || (bytes & (bytes - 1))) {
			snprintf(err, len,
				 "\"%s\" is not a THP size: expected none, or sizes joined by + "
				 "(16K+64K), each a power of two from %s to %s",
				 tok, min, max);
			return -EINVAL;
		}
		kb = bytes / 1024;
		for (i = 0; i < set->n && set->kb[i] < kb; i++)
			;
		if ((i < set->n && set->kb[i] == kb) || set->n == CHURN_MAX_MTHP) {
			snprintf(err, len, "\"%s\" is named twice", tok);
			return -EINVAL;
		}
		memmove(&set->kb[i + 1], &set->kb[i], (set->n - i) * sizeof(set->kb[0]));
		set->kb[i] = kb;
		set->n++;
	}
	if (!set->n) {
		snprintf(err, len, "expected none, or sizes joined by + (16K+32K+64K)");
		return -EINVAL;
	}
	return 0;
}

static void format_sizeset(const struct sizeset *set, char *buf, size_t len)
{
	size_t off = 0;
	char sz[16];

	snprintf(buf, len, "none");
	for (unsigned i = 0; i < set->n && off < len; i++) {
		mmr_format_size(set->kb[i] * 1024, sz, sizeof(sz));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "+" : "", sz);
	}
}

static bool in_set(const struct sizeset *set, uint64_t kb)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->kb[i] == kb)
			return true;
	return false;
}

static bool anon_knob(uint64_t kb)
{
	char path[160];

	snprintf(path, sizeof(path), "%s" THP_DIR "/hugepages-%llukB/enabled", mmr_sys_root(),
		 (unsigned long long)kb);
	return mmr_path_exists(path);
}

/* Every anonymous THP size of this kernel: on in the set's mode, or never. */
static int plan_sizes(struct mmr_plan *plan, const struct sizeset *set, const char *mode)
{
	const struct mmr_probes *pr = mmr_probes();
	char name[64], sz[16];
	int ret;

	if (!pr->thp)
		return set->n ? mmr_plan_skip(plan, "this kernel has no transparent hugepages") : 0;
	for (unsigned i = 0; i < set->n; i++) {
		mmr_format_size(set->kb[i] * 1024, sz, sizeof(sz));
		if (!pr->mthp && set->kb[i] * 1024 != mmr_pmd_size())
			return mmr_plan_skip(plan,
					     "%s needs per-size mTHP (hugepages-<N>kB in sysfs, "
					     "Linux 6.8+); this kernel has the PMD size only",
					     sz);
		if (pr->mthp && !anon_knob(set->kb[i]))
			return mmr_plan_skip(plan,
					     "this kernel has no anonymous %s THP (no "
					     "hugepages-%llukB/enabled)",
					     sz, (unsigned long long)set->kb[i]);
	}
	if (!pr->mthp)
		return mmr_plan_setting(plan, "thp.enabled", set->n ? mode : "never");
	for (unsigned i = 0; i < pr->n_mthp; i++) {
		if (!anon_knob(pr->mthp_kb[i]))
			continue; /* sizes for shmem only (order 1 on x86) */
		mmr_format_size(pr->mthp_kb[i] * 1024, sz, sizeof(sz));
		snprintf(name, sizeof(name), "thp.%s.enabled", sz);
		ret = mmr_plan_setting(plan, name, in_set(set, pr->mthp_kb[i]) ? mode : "never");
		if (ret)
			return ret;
	}
	return 0;
}

static uint64_t largest(const struct churn_shape *s)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < s->nsizes; i++)
		m = s->size[i] > m ? s->size[i] : m;
	return m;
}

/* What the heap may take: three times the live set (survivors of a phase
 * included) is far beyond what a steady size mix fragments to; the arena
 * fails and the cgroup OOM-kills past it, long before the machine would. */
static uint64_t heap_limit(const struct mthp_alloc_params *p, const struct churn_shape *s)
{
	double keep = !strcmp(p->lifetime, "phased") ? p->keep : 0;

	return (uint64_t)(3.0 * (double)p->live * (1 + keep)) + 16 * largest(s) + 32 * MMR_MiB;
}

static uint64_t footprint(const struct mthp_alloc_params *p, const struct churn_shape *s)
{
	/* the heap, the object table, arena metadata, the driver process */
	return heap_limit(p, s) + churn_table_bytes(s) + 64 * MMR_MiB;
}

static bool is_real(const struct mthp_alloc_params *p)
{
	return strcmp(p->allocator, "arena") != 0;
}

static int mthp_alloc_plan(struct mmr_plan *plan, const void *params)
{
	const struct mthp_alloc_params *p = params;
	struct churn_shape shape = { 0 };
	struct sizeset set;
	char err[512], path[PATH_MAX], a[16], b[16];
	struct memcg m;

	if (parse_sizeset(p->mthp, &set, err, sizeof(err)))
		return mmr_plan_invalid(plan, "mthp: %s", err);
	if (churn_parse_mix(p->size_mix, &shape, err, sizeof(err)))
		return mmr_plan_invalid(plan, "size_mix: %s", err);
	if (largest(&shape) * 4 > p->live) {
		mmr_format_size(largest(&shape), a, sizeof(a));
		mmr_format_size(p->live, b, sizeof(b));
		return mmr_plan_invalid(plan,
					"live (%s) must hold at least four of the largest size in "
					"size_mix (%s)",
					b, a);
	}
	if (p->free_granularity & (p->free_granularity - 1) ||
	    p->free_granularity < mmr_page_size())
		return mmr_plan_invalid(plan,
					"free_granularity %llu is not a power of two of at least "
					"the page size",
					(unsigned long long)p->free_granularity);
	if (is_real(p) && (mthp_find_driver(path, sizeof(path), err, sizeof(err)) ||
			   mthp_find_library(p->allocator, path, sizeof(path), err, sizeof(err))))
		return mmr_plan_skip(plan, "%s", err);
	if (!strcmp(p->reclaim, "memcg")) {
		if (geteuid() != 0)
			return mmr_plan_skip(plan,
					     "reclaim=memcg makes a memory cgroup: needs root");
		if (memcg_locate(&m, err, sizeof(err)))
			return mmr_plan_skip(plan, "reclaim=memcg: %s", err);
	}
	mmr_plan_footprint(plan, footprint(p, &shape));
	return plan_sizes(plan, &set, p->thp_mode);
}

/* The anonymous THP sizes the kernel will use now, as a set: proof in the
 * report that the case ran with what it asked for. */
static void sizes_seen(char *buf, size_t len)
{
	const struct mmr_probes *pr = mmr_probes();
	char top[128] = "", val[128], path[160], *o, *c;
	struct sizeset seen = { 0 };

	mmr_read_file(THP_DIR "/enabled", top, sizeof(top));
	for (unsigned i = 0; i < pr->n_mthp && seen.n < CHURN_MAX_MTHP; i++) {
		snprintf(path, sizeof(path), THP_DIR "/hugepages-%llukB/enabled",
			 (unsigned long long)pr->mthp_kb[i]);
		if (mmr_read_file(path, val, sizeof(val)) < 0)
			continue;
		o = strchr(val, '[');
		c = o ? strchr(o, ']') : NULL;
		if (!c)
			continue;
		*c = '\0';
		if (!strcmp(o + 1, "inherit"))
			o = strchr(top, '[');
		if (o && (!strncmp(o + 1, "always", 6) || !strncmp(o + 1, "madvise", 7)))
			seen.kb[seen.n++] = pr->mthp_kb[i];
	}
	if (!pr->mthp && (strstr(top, "[always]") || strstr(top, "[madvise]")))
		seen.kb[seen.n++] = mmr_pmd_size() / 1024;
	format_sizeset(&seen, buf, len);
}

/* The anonymous THP sizes of this kernel that have any of size_stats. */
static void learn_stats(struct mthp_alloc_state *s)
{
	const struct mmr_probes *pr = mmr_probes();
	char path[160];

	s->nstat = 0;
	for (unsigned i = 0; i < pr->n_mthp && s->nstat < CHURN_MAX_MTHP; i++) {
		bool any = false;

		if (!anon_knob(pr->mthp_kb[i]))
			continue;
		for (size_t k = 0; k < N_SIZE_STATS; k++) {
			snprintf(path, sizeof(path), THP_DIR "/hugepages-%llukB/stats/%s",
				 (unsigned long long)pr->mthp_kb[i], size_stats[k]);
			s->has[s->nstat][k] = mmr_path_exists(path);
			any |= s->has[s->nstat][k];
		}
		if (any)
			s->stat_kb[s->nstat++] = pr->mthp_kb[i];
	}
	s->per_size = json_object();
}

static int mthp_alloc_setup(struct mmr_ctx *ctx)
{
	const struct mthp_alloc_params *p = mmr_params(ctx);
	struct mthp_alloc_state *s = mmr_state(ctx);
	char err[512], seen[256];
	int ret;

	if (parse_sizeset(p->mthp, &s->set, err, sizeof(err)) ||
	    churn_parse_mix(p->size_mix, &s->shape, err, sizeof(err)) ||
	    churn_lifetime_parse(p->lifetime, &s->shape.lifetime))
		return mmr_invalid(ctx, "%s", err);
	s->shape.live = p->live;
	s->shape.turnover = p->turnover;
	s->shape.keep = p->keep;
	s->shape.touch_pages = !strcmp(p->touch, "pages");
	s->shape.points = (unsigned)p->timeline;
	s->shape.nmthp = s->set.n;
	memcpy(s->shape.mthp_kb, s->set.kb, sizeof(s->set.kb));
	s->limit = heap_limit(p, &s->shape);
	learn_stats(s);
	sizes_seen(seen, sizeof(seen));
	mmr_extra_str(ctx, "thp_sizes_seen", seen);
	if (is_real(p)) {
		if (mthp_find_driver(s->driver, sizeof(s->driver), err, sizeof(err)) ||
		    mthp_find_library(p->allocator, s->library, sizeof(s->library), err,
				      sizeof(err)))
			return mmr_skip(ctx, "%s", err);
		mmr_extra_str(ctx, "driver", s->driver);
	}
	s->timelines = json_array();
	if (!strcmp(p->reclaim, "none")) {
		mmr_extra_str(ctx, "memcg", "none: reclaim=none");
		return 0;
	}
	ret = geteuid() ? -EPERM : memcg_locate(&s->memcg, err, sizeof(err));
	if (!ret)
		ret = memcg_enter(&s->memcg, footprint(p, &s->shape), err, sizeof(err));
	else if (ret == -EPERM)
		snprintf(err, sizeof(err), "needs root");
	if (ret && !strcmp(p->reclaim, "memcg"))
		return mmr_skip(ctx, "reclaim=memcg: %s", err);
	if (ret) {
		mmr_log(ctx, "no memory cgroup, so no held_bytes and no reclaim step: %s", err);
		mmr_extra_str(ctx, "memcg", "none");
		mmr_extra_str(ctx, "memcg_why_not", err);
		return 0;
	}
	s->in_memcg = true;
	mmr_extra_str(ctx, "memcg", s->memcg.dir);
	return 0;
}

static int start_driver(struct mmr_ctx *ctx, uint64_t seed)
{
	const struct mthp_alloc_params *p = mmr_params(ctx);
	struct mthp_alloc_state *s = mmr_state(ctx);
	char mix[1024], live[32], turnover[32], keep[32], points[16], seedtxt[32], kb[256] = "";
	char err[512];
	const char *argv[32];
	json_t *ready;
	int n = 0, ret;

	churn_format_mix(&s->shape, mix, sizeof(mix));
	snprintf(live, sizeof(live), "%llu", (unsigned long long)s->shape.live);
	snprintf(turnover, sizeof(turnover), "%.17g", s->shape.turnover);
	snprintf(keep, sizeof(keep), "%.17g", s->shape.keep);
	snprintf(points, sizeof(points), "%u", s->shape.points);
	snprintf(seedtxt, sizeof(seedtxt), "%llu", (unsigned long long)seed);
	for (unsigned i = 0; i < s->set.n; i++)
		snprintf(kb + strlen(kb), sizeof(kb) - strlen(kb), "%s%llu", i ? "," : "",
			 (unsigned long long)s->set.kb[i]);
	argv[n++] = DRIVER_NAME;
	argv[n++] = "--step";
	argv[n++] = "--mix";
	argv[n++] = mix;
	argv[n++] = "--lifetime";
	argv[n++] = p->lifetime;
	argv[n++] = "--live";
	argv[n++] = live;
	argv[n++] = "--turnover";
	argv[n++] = turnover;
	argv[n++] = "--keep";
	argv[n++] = keep;
	argv[n++] = "--points";
	argv[n++] = points;
	argv[n++] = "--seed";
	argv[n++] = seedtxt;
	if (s->shape.touch_pages)
		argv[n++] = "--touch-pages";
	if (s->set.n) {
		argv[n++] = "--mthp";
		argv[n++] = kb;
	}
	argv[n] = NULL;
	ret = driver_start(&s->drv, s->driver, s->library, (char *const *)argv, &ready, err,
			   sizeof(err));
	s->drv_up = true;
	if (ret)
		return mmr_fail(ctx, "starting %s (%s): %s", s->driver, p->allocator, err);
	mmr_extra_str(ctx, "malloc_from",
		      json_string_value(json_object_get(ready, "malloc_from")) ?: "?");
	mmr_extra_str(ctx, "allocator_version",
		      json_string_value(json_object_get(ready, "allocator_version")) ?: "?");
	s->base = json_incref(json_object_get(ready, "base"));
	json_decref(ready);
	return 0;
}

static int mthp_alloc_prepare(struct mmr_ctx *ctx)
{
	const struct mthp_alloc_params *p = mmr_params(ctx);
	struct mthp_alloc_state *s = mmr_state(ctx);
	uint64_t seed = mmr_random(ctx); /* the same sequence for every allocator */
	struct arena_opts o = {
		.limit = s->limit,
		.granule = p->free_granularity,
		.advice = !strcmp(p->free_advice, "dontneed") ? ARENA_DONTNEED
			  : !strcmp(p->free_advice, "free")   ? ARENA_FREE
							      : ARENA_KEEP,
		.madv_hugepage = !strcmp(p->thp_mode, "madvise"),
	};
	struct churn_heap heap = { arena_heap_alloc, arena_heap_free, NULL };
	char err[512];

	if (is_real(p))
		return start_driver(ctx, seed);
	s->arena = arena_new(&o, err, sizeof(err));
	if (!s->arena)
		return mmr_fail(ctx, "arena: %s", err);
	heap.heap = s->arena;
	s->shape.seed = seed;
	s->churn = churn_new(&s->shape, &heap, err, sizeof(err));
	if (!s->churn)
		return mmr_fail(ctx, "churn: %s", err);
	s->base = churn_sample(s->churn);
	return 0;
}

/* A counter of every THP size, summed, over the last timed op. */
static int64_t mthp_delta(struct mmr_ctx *ctx, const char *stat)
{
	const struct mmr_probes *pr = mmr_probes();
	char name[96], sz[16];
	int64_t sum = 0;

	for (unsigned i = 0; i < pr->n_mthp; i++) {
		mmr_format_size(pr->mthp_kb[i] * 1024, sz, sizeof(sz));
		snprintf(name, sizeof(name), "mthp.%s.%s", sz, stat);
		sum += mmr_op_delta(ctx, name);
	}
	return sum;
}

/* A gauge of every THP size, summed; -1 when the kernel has none. */
static long long mthp_gauge(const char *stat)
{
	const struct mmr_probes *pr = mmr_probes();
	long long sum = -1;
	char path[160];
	uint64_t v;

	for (unsigned i = 0; i < pr->n_mthp; i++) {
		snprintf(path, sizeof(path), THP_DIR "/hugepages-%llukB/stats/%s",
			 (unsigned long long)pr->mthp_kb[i], stat);
		if (mmr_read_u64(path, &v) == 0)
			sum = (sum < 0 ? 0 : sum) + (long long)v;
	}
	return sum;
}

struct totals {
	int64_t alloc, fallback, deferred;
};

/* Adds the last op's per-size deltas to the repetition's. */
static void add_size_deltas(struct mmr_ctx *ctx)
{
	struct mthp_alloc_state *s = mmr_state(ctx);
	char name[96], sz[16];

	for (unsigned i = 0; i < s->nstat; i++) {
		mmr_format_size(s->stat_kb[i] * 1024, sz, sizeof(sz));
		for (size_t k = 0; k < N_SIZE_STATS; k++) {
			if (!s->has[i][k])
				continue;
			snprintf(name, sizeof(name), "mthp.%s.%s", sz, size_stats[k]);
			s->delta[i][k] += mmr_op_delta(ctx, name);
		}
	}
}

/* The repetition's per-size deltas, every size summed; false when no size
 * has the stat. */
static bool size_delta_sum(const struct mthp_alloc_state *s, size_t k, int64_t *sum)
{
	bool any = false;

	*sum = 0;
	for (unsigned i = 0; i < s->nstat; i++) {
		if (s->has[i][k]) {
			*sum += s->delta[i][k];
			any = true;
		}
	}
	return any;
}

static size_t size_stat(const char *name)
{
	size_t k = 0;

	while (k < N_SIZE_STATS - 1 && strcmp(size_stats[k], name))
		k++;
	return k;
}

/* extra.per_size: {"64K": {"split_deferred": [one delta per repetition],
 * ...}, ...}, every anonymous size with stats, each stat it has. */
static void record_per_size(struct mmr_ctx *ctx)
{
	struct mthp_alloc_state *s = mmr_state(ctx);
	char sz[16];

	for (unsigned i = 0; i < s->nstat; i++) {
		json_t *o;

		mmr_format_size(s->stat_kb[i] * 1024, sz, sizeof(sz));
		o = json_object_get(s->per_size, sz);
		if (!o) {
			o = json_object();
			json_object_set_new(s->per_size, sz, o);
		}
		for (size_t k = 0; k < N_SIZE_STATS; k++) {
			json_t *a;

			if (!s->has[i][k])
				continue;
			a = json_object_get(o, size_stats[k]);
			if (!a) {
				a = json_array();
				json_object_set_new(o, size_stats[k], a);
			}
			json_array_append_new(a, json_integer(s->delta[i][k]));
		}
	}
	mmr_extra_json(ctx, "per_size", json_incref(s->per_size));
}

static int driver_failed(struct mmr_ctx *ctx, const char *what, const char *err)
{
	const struct mthp_alloc_params *p = mmr_params(ctx);
	struct mthp_alloc_state *s = mmr_state(ctx);
	char lim[32];

	if (s->in_memcg && memcg_oom_kills(&s->memcg)) {
		mmr_format_size(footprint(p, &s->shape), lim, sizeof(lim));
		return mmr_fail(ctx,
				"%s: the %s heap outgrew its memory cgroup (limit %s, about 3x "
				"the live set) and was OOM-killed there: %s",
				what, p->allocator, lim, err);
	}
	return mmr_fail(ctx, "%s (%s): %s", what, p->allocator, err);
}

/* One timed step of the churn, here or in the driver; the op's counter
 * deltas go to the report and into `t`. */
static int step(struct mmr_ctx *ctx, const char *what, json_t **out, struct totals *t)
{
	struct mthp_alloc_state *s = mmr_state(ctx);
	char err[512] = "";
	int ret = 0;

	mmr_op_begin(ctx, what);
	if (s->churn)
		*out = !strcmp(what, "fill") ? churn_fill(s->churn) : churn_run(s->churn);
	else
		ret = driver_call(&s->drv, what, out, err, sizeof(err));
	mmr_op_end(ctx);
	if (ret)
		return driver_failed(ctx, what, err);
	if (!*out)
		return mmr_fail(ctx, "%s: %s", what, churn_error(s->churn));
	t->alloc += mthp_delta(ctx, "anon_fault_alloc");
	t->fallback += mthp_delta(ctx, "anon_fault_fallback");
	t->deferred += mthp_delta(ctx, "split_deferred");
	add_size_deltas(ctx);
	return 0;
}

static bool num(json_t *o, const char *key, double *v)
{
	json_t *j = json_object_get(o, key);

	*v = json_number_value(j);
	return json_is_number(j);
}

/* The process's memory now (after the reclaim step). */
static json_t *sample_now(struct mmr_ctx *ctx)
{
	struct mthp_alloc_state *s = mmr_state(ctx);
	json_t *r = NULL, *pt;
	char err[256];

	if (s->churn)
		return churn_sample(s->churn);
	if (driver_call(&s->drv, "sample", &r, err, sizeof(err)))
		return json_null();
	pt = json_incref(json_object_get(r, "point"));
	json_decref(r);
	return pt;
}

static int reclaim(struct mmr_ctx *ctx, uint64_t held)
{
	struct mthp_alloc_state *s = mmr_state(ctx);
	uint64_t ns, after;
	int ret;

	mmr_op_begin(ctx, "reclaim");
	ret = memcg_reclaim(&s->memcg);
	ns = mmr_op_end(ctx);
	if (ret)
		return mmr_fail(ctx, "reclaiming %s: %s", s->memcg.dir, strerror(-ret));
	mmr_sample(ctx, "reclaim_ns", (double)ns);
	mmr_sample(ctx, "reclaim_splits", (double)mthp_delta(ctx, "split"));
	if (memcg_anon(&s->memcg, &after) == 0)
		mmr_sample(ctx, "reclaimed_bytes", held > after ? (double)(held - after) : 0);
	return 0;
}

/* The samples of one repetition; `held` is the growth of the cgroup's
 * anonymous memory over fill and churn (NAN: no cgroup). */
static void record(struct mmr_ctx *ctx, json_t *fill, json_t *churn, const struct totals *t,
		   double held)
{
	struct mthp_alloc_state *s = mmr_state(ctx);
	json_t *end = json_object_get(churn, "end");
	double ns, ops, live = 0, anon, base_anon, v;
	long long partial = mthp_gauge("nr_anon_partially_mapped");
	int64_t sum;

	if (num(fill, "ns", &v))
		mmr_sample(ctx, "fill_ns", v);
	if (num(churn, "ns", &ns) && num(churn, "ops", &ops) && ns > 0)
		mmr_sample(ctx, "ops_per_s", ops / (ns / 1e9));
	if (num(churn, "faults", &v))
		mmr_sample(ctx, "faults", v);
	if (num(end, "live_bytes", &live))
		mmr_sample(ctx, "live_bytes", live);
	if (num(end, "rss_bytes", &v))
		mmr_sample(ctx, "rss_bytes", v);
	if (num(end, "anon_huge_bytes", &v))
		mmr_sample(ctx, "anon_huge_bytes", v);
	if (num(end, "anon_bytes", &anon) && num(s->base, "anon_bytes", &base_anon)) {
		mmr_sample(ctx, "heap_bytes", anon - base_anon);
		if (live > 0)
			mmr_sample(ctx, "bloat_ratio", (anon - base_anon) / live);
		if (!isnan(held))
			mmr_sample(ctx, "hidden_bytes", held - (anon - base_anon));
	}
	if (!isnan(held))
		mmr_sample(ctx, "held_bytes", held);
	if (partial >= 0)
		mmr_sample(ctx, "partially_mapped", (double)partial);
	mmr_sample(ctx, "mthp_fault_alloc", (double)t->alloc);
	mmr_sample(ctx, "mthp_fault_fallback", (double)t->fallback);
	mmr_sample(ctx, "mthp_split_deferred", (double)t->deferred);
	if (size_delta_sum(s, size_stat("split"), &sum))
		mmr_sample(ctx, "mthp_split", (double)sum);
	if (size_delta_sum(s, size_stat("nr_anon"), &sum))
		mmr_sample(ctx, "mthp_nr_anon", (double)sum);
	if (size_delta_sum(s, size_stat("nr_anon_partially_mapped"), &sum))
		mmr_sample(ctx, "mthp_partially_mapped", (double)sum);
	if (s->arena)
		mmr_sample(ctx, "returned_bytes", (double)arena_returned_bytes(s->arena));
}

static int mthp_alloc_run(struct mmr_ctx *ctx)
{
	struct mthp_alloc_state *s = mmr_state(ctx);
	json_t *fill = NULL, *churn = NULL, *after, *tl;
	bool held = s->in_memcg;
	uint64_t c0 = 0, c1 = 0;
	struct totals t = { 0 };
	int ret;

	memset(s->delta, 0, sizeof(s->delta));
	if (held)
		held = memcg_anon(&s->memcg, &c0) == 0;
	ret = step(ctx, "fill", &fill, &t);
	if (!ret)
		ret = step(ctx, "churn", &churn, &t);
	if (ret)
		goto out;
	if (held)
		held = memcg_anon(&s->memcg, &c1) == 0;
	record(ctx, fill, churn, &t, held ? (double)c1 - (double)c0 : NAN);
	if (mmr_rep(ctx) >= 0)
		record_per_size(ctx);
	if (s->in_memcg)
		ret = reclaim(ctx, c1);
	after = sample_now(ctx);
	if (mmr_rep(ctx) >= 0) {
		tl = json_pack("{s:i,s:O,s:O,s:O,s:o}", "rep", mmr_rep(ctx), "base", s->base,
			       "after_fill", json_object_get(fill, "end"), "churn",
			       json_object_get(churn, "timeline"),
			       s->in_memcg ? "after_reclaim" : "after_churn", after);
		json_array_append_new(s->timelines, tl);
		mmr_extra_json(ctx, "timeline", json_incref(s->timelines));
	} else {
		json_decref(after);
	}
out:
	json_decref(fill);
	json_decref(churn);
	return ret;
}

static void mthp_alloc_cleanup(struct mmr_ctx *ctx)
{
	struct mthp_alloc_state *s = mmr_state(ctx);

	churn_destroy(s->churn);
	arena_destroy(s->arena);
	s->churn = NULL;
	s->arena = NULL;
	if (s->drv_up)
		driver_stop(&s->drv);
	s->drv_up = false;
	json_decref(s->base);
	s->base = NULL;
}

static void mthp_alloc_teardown(struct mmr_ctx *ctx)
{
	struct mthp_alloc_state *s = mmr_state(ctx);
	int ret;

	if (s->in_memcg) {
		ret = memcg_leave(&s->memcg);
		if (ret)
			mmr_log(ctx, "could not remove %s: %s (mmrepro will, after the case)",
				s->memcg.dir, strerror(-ret));
	}
	json_decref(s->timelines);
	json_decref(s->per_size);
}

/*
 * In mmrepro itself, after the cases: besides the sweep table, remove empty
 * mthp_alloc-* cgroups that no resource record names (left by an mmrepro
 * older than the records); recorded ones go with mmr_resources_reclaim.
 */
static json_t *mthp_alloc_analyze(json_t *cases)
{
	struct memcg m;
	char why[256];

	if (geteuid() == 0 && memcg_locate(&m, why, sizeof(why)) == 0)
		memcg_sweep(&m);
	return mthp_alloc_table(cases);
}

const struct mmr_workload mthp_alloc_workload = {
	.abi = MMR_WORKLOAD_ABI,
	.name = "mthp_alloc",
	.summary = "an allocator's churn (synthetic arena, or glibc/jemalloc/tcmalloc/mimalloc) "
		   "under a set of mTHP sizes: ops/s, RSS vs live bytes, fallbacks, deferred "
		   "splits, and what a cgroup reclaim gets back",
	.claims = "C6",
	.params = mthp_alloc_params,
	.metrics = mthp_alloc_metrics,
	.params_size = sizeof(struct mthp_alloc_params),
	.state_size = sizeof(struct mthp_alloc_state),
	.default_reps = 5,
	.plan = mthp_alloc_plan,
	.setup = mthp_alloc_setup,
	.prepare = mthp_alloc_prepare,
	.run = mthp_alloc_run,
	.cleanup = mthp_alloc_cleanup,
	.teardown = mthp_alloc_teardown,
	.analyze = mthp_alloc_analyze,
	.guest_files = mthp_guest_files,
};
