/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The allocation churn of mthp_alloc, shared by the synthetic arena (in the
 * case process) and mmrepro-alloc-churn (real allocators by LD_PRELOAD): one
 * seeded sequence of allocations and frees of a size mix, with a lifetime
 * model and a live-set target, run against any heap. The churn is timed in
 * segments; between them (outside the clock) the process's memory and the
 * per-size mTHP gauges are sampled into a timeline.
 */
#ifndef MMREPRO_MTHP_ALLOC_CHURN_H
#define MMREPRO_MTHP_ALLOC_CHURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CHURN_MAX_SIZES 32
#define CHURN_MAX_MTHP	24

enum churn_lifetime { CHURN_FIFO, CHURN_RANDOM, CHURN_PHASED };

struct churn_shape {
	uint64_t size[CHURN_MAX_SIZES]; /* the size mix: request sizes and their weights */
	double weight[CHURN_MAX_SIZES];
	unsigned nsizes;
	enum churn_lifetime lifetime;
	uint64_t live;	  /* target of live requested bytes */
	double turnover;  /* bytes the churn allocates, as a multiple of `live` */
	double keep;	  /* phased: share of a phase's objects that outlive it */
	bool touch_pages; /* write one byte per page of a new object, not all of it */
	unsigned points;  /* timeline points over the churn */
	uint64_t seed;
	unsigned nmthp; /* THP sizes whose gauges the timeline reads */
	uint64_t mthp_kb[CHURN_MAX_MTHP];
};

/* The heap under test. free() gets the size that was asked for. */
struct churn_heap {
	void *(*alloc)(void *heap, size_t size);
	void (*free)(void *heap, void *p, size_t size);
	void *heap;
};

extern const char *const churn_lifetimes[]; /* "fifo", "random", "phased", NULL */
int churn_lifetime_parse(const char *s, enum churn_lifetime *out);

/* "32:30,4K:10,200K:2" (size:weight, sizes like 4K). On error, err says which
 * entry and what was expected. */
int churn_parse_mix(const char *text, struct churn_shape *s, char *err, size_t errlen);
/* Canonical text of the mix, for the driver's command line. */
void churn_format_mix(const struct churn_shape *s, char *buf, size_t len);
/* Bytes the object table may reach (virtual) and what the churn touches of it. */
uint64_t churn_table_bytes(const struct churn_shape *s);

struct churn;

struct churn *churn_new(const struct churn_shape *s, const struct churn_heap *h, char *err,
			size_t errlen);
/* Untimed: the process's memory now, as a timeline point (t_ms 0). */
json_t *churn_sample(const struct churn *c);
/*
 * Allocate up to the live target from empty, then the churn proper. Each
 * returns {"ns", "ops", "faults", "allocated_bytes", "live_bytes", "objects",
 * "end": point} (churn also "timeline": [points]), or NULL with the reason in
 * churn_error().
 */
json_t *churn_fill(struct churn *c);
json_t *churn_run(struct churn *c);
const char *churn_error(const struct churn *c);
/* Releases the object table only: the heap is torn down by its owner. */
void churn_destroy(struct churn *c);

#endif
