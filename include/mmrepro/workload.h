/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one header a workload includes.
 *
 * A workload is a table of parameters, a table of metrics and a few callbacks.
 * The harness owns everything around them: config parsing, repetitions and
 * warm-up, sysfs settings, counters, layout proof, pinning, timeouts and the
 * report. Callbacks return 0 on success or one of the negative codes made by
 * mmr_skip() / mmr_invalid() / mmr_fail(); they never exit() and never
 * assert() a syscall result.
 *
 * Lifecycle of one case (all but plan() run in a child process of mmrepro, in
 * its own process group, so a crash is reported, not fatal):
 *
 *   plan()      in mmrepro itself, before anything on the system changes:
 *               footprint for the memory guard, settings it needs, or skip.
 *   setup()     once, untimed.
 *   for each repetition (warm-up ones first, their samples dropped):
 *     prepare() untimed: build and prove the memory state (mmr_region_*).
 *     run()     the timed body: mmr_op_begin/mmr_op_end around each
 *               operation, mmr_sample() for each metric.
 *     cleanup() always after prepare(), untimed.
 *   teardown()  once, always.
 */
#ifndef MMREPRO_WORKLOAD_H
#define MMREPRO_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "mmrepro/util.h"
#include "mmrepro/backing.h"
#include "mmrepro/fleet.h"
#include "mmrepro/ptmodel.h"
#include "mmrepro/resources.h"

#define MMR_WORKLOAD_ABI 1

enum mmr_type {
	MMR_T_SIZE,   /* uint64_t bytes; "512M", "1G" or a JSON integer */
	MMR_T_INT,    /* int64_t */
	MMR_T_DOUBLE, /* double */
	MMR_T_BOOL,   /* bool */
	MMR_T_ENUM,   /* const char *, one of .choices (points into the table) */
	MMR_T_STRING, /* const char *, owned by the harness for the case */
};

/* mmr_param.flags */
#define MMR_P_SCALED (1u << 0) /* a size default that follows --scale */

struct mmr_param {
	const char *name;
	enum mmr_type type;
	size_t offset;		    /* offsetof() into the workload's params struct */
	const char *def;	    /* default, parsed exactly like user input */
	const char *min, *max;	    /* inclusive bounds, parsed like input; NULL: none */
	const char *const *choices; /* MMR_T_ENUM: NULL-terminated */
	unsigned flags;
	const char *help;
};

enum mmr_direction { MMR_LOWER_IS_BETTER, MMR_HIGHER_IS_BETTER, MMR_INFO_ONLY };

struct mmr_metric {
	const char *name;
	const char *unit; /* "ns", "bytes", "kB", "ns/page", "count", "ops/s" */
	enum mmr_direction direction;
	const char *help;
};

/* mmr_workload.needs: checked by the harness before plan(). */
#define MMR_NEED_ROOT	    (1u << 0)
#define MMR_NEED_THP	    (1u << 1) /* /sys/kernel/mm/transparent_hugepage */
#define MMR_NEED_MTHP	    (1u << 2) /* per-size hugepages-<N>kB (6.8+) */
#define MMR_NEED_HUGETLB    (1u << 3)
#define MMR_NEED_IO_URING   (1u << 4)
#define MMR_NEED_KPAGEFLAGS (1u << 5)

/* Return codes of callbacks, besides 0 and -errno (which means "failed"). */
#define MMR_SKIP    (-10001)
#define MMR_INVALID (-10002)
#define MMR_FAILED  (-10003)

/* For mmr_workload.guest_files: a file of this host, and the path a guest's
 * mmrepro finds it at. Returns 0 or -errno. */
typedef int (*mmr_guest_add_fn)(void *arg, const char *host, const char *guest);

struct mmr_ctx;	 /* a running case, in the case child */
struct mmr_plan; /* a case being planned, in mmrepro itself */

struct mmr_workload {
	unsigned abi; /* MMR_WORKLOAD_ABI */
	const char *name;
	const char *summary;
	const char *claims;		/* which ../CLAIMS.md entries it reproduces, e.g. "C1 C3" */
	const struct mmr_param *params; /* { NULL }-terminated */
	const struct mmr_metric *metrics; /* { NULL }-terminated */
	size_t params_size;		  /* sizeof the struct the params table fills */
	size_t state_size;		  /* per-case private state, zeroed */
	unsigned needs;
	unsigned default_reps;
	bool hidden; /* harness self-test workloads: left out of `list` unless --all */
	/*
	 * Default of the `stall_timeout` harness key for its cases (seconds; 0:
	 * none). A workload that sets it reports progress with mmr_progress()
	 * often enough that this long without any is a hang worth reporting.
	 */
	double stall_timeout_s;

	int (*plan)(struct mmr_plan *plan, const void *params);
	int (*setup)(struct mmr_ctx *ctx);
	int (*prepare)(struct mmr_ctx *ctx);
	int (*run)(struct mmr_ctx *ctx);
	void (*cleanup)(struct mmr_ctx *ctx);
	void (*teardown)(struct mmr_ctx *ctx);
	/*
	 * Optional, in mmrepro after every case has run: derive run-level results
	 * (a fitted cost model, a projection to a claim's scale) from the JSON of
	 * this workload's cases in the run. Returns a new object for
	 * report.analysis.<workload>, or NULL. Its "summary_lines" (array of
	 * strings), if any, are printed under the table.
	 */
	json_t *(*analyze)(json_t *cases);
	/*
	 * Optional, for `mmrepro vm`: the programs and libraries the cases run
	 * besides mmrepro itself (a driver, an LD_PRELOADed allocator), found
	 * on this host the way the cases find them. Each goes to add() with the
	 * path the guest's mmrepro will look for it at; the shared libraries it
	 * loads come along. What this host lacks is left out, so its cases skip
	 * in a guest as they do here. Returns 0 or add()'s error.
	 */
	int (*guest_files)(mmr_guest_add_fn add, void *arg);
};

/* ---- planning (in mmrepro, nothing on the system has changed yet) ---- */

/* Bytes this case may need at its peak, checked against MemAvailable. */
void mmr_plan_footprint(struct mmr_plan *plan, uint64_t bytes);
/* A knob this case needs, by its allow-listed name ("thp.64K.enabled"). A
 * value the config sets explicitly for the same knob wins. */
int mmr_plan_setting(struct mmr_plan *plan, const char *knob, const char *value);
/* The value a knob will have in this case: planned so far, else its value
 * now ("madvise", "512"). -ENOENT when this kernel has no such knob. */
int mmr_plan_knob(struct mmr_plan *plan, const char *knob, char *val, size_t len);
/* Make anonymous MADV_HUGEPAGE memory come out as folios of the backing's
 * order: sets the per-size (or global) THP knobs, or skips with the reason the
 * kernel cannot do it. */
int mmr_plan_backing(struct mmr_plan *plan, const struct mmr_backing *b);
/* Make anonymous shmem (memfd, SysV, MAP_SHARED|MAP_ANONYMOUS) come out as
 * folios of `folio` bytes (the base page: no large folios), or skip. */
int mmr_plan_shmem(struct mmr_plan *plan, uint64_t folio);
/* Grow the hugetlb pool of `page`-sized pages so that `bytes` more fit. */
int mmr_plan_hugetlb_pool(struct mmr_plan *plan, uint64_t page, uint64_t bytes);
/* shmmax and shmall for one more SysV segment of `bytes` (SHM_HUGETLB: root). */
int mmr_plan_sysv_segment(struct mmr_plan *plan, uint64_t bytes, bool hugetlb);
/* A counter of the hugetlb pool of `page`-sized pages ("nr_hugepages",
 * "free_hugepages", "resv_hugepages", "surplus_hugepages"); 0 if none. */
uint64_t mmr_hugetlb_pool(uint64_t page, const char *field);
int mmr_plan_skip(struct mmr_plan *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int mmr_plan_invalid(struct mmr_plan *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Count of CPUs the case may use (from the topology, honouring affinity). */
unsigned mmr_plan_cpus(const struct mmr_plan *plan);

/* ---- in the case child ---- */

void *mmr_params(struct mmr_ctx *ctx);
void *mmr_state(struct mmr_ctx *ctx);
/* Index of the current repetition; negative during warm-up. */
int mmr_rep(const struct mmr_ctx *ctx);

/* Start a timed operation: counters are snapshotted first, the clock is read
 * last, so the snapshot is outside the measured window. */
void mmr_op_begin(struct mmr_ctx *ctx, const char *op);
/* Clock first, then counters. Returns the elapsed ns; the counter deltas are
 * added to the report under the op's name. */
uint64_t mmr_op_end(struct mmr_ctx *ctx);
/* Delta of one counter over the last op, e.g. "interrupts.TLB",
 * "vmstat.thp_split_pmd", "meminfo.PageTables", "mthp.64kB.split". */
int64_t mmr_op_delta(const struct mmr_ctx *ctx, const char *counter);

/* Record one sample of a declared metric (dropped during warm-up). */
void mmr_sample(struct mmr_ctx *ctx, const char *metric, double value);
/* Free-form facts for the report ("extra" object of the case). */
void mmr_extra_u64(struct mmr_ctx *ctx, const char *key, uint64_t v);
void mmr_extra_str(struct mmr_ctx *ctx, const char *key, const char *v);
/* Any JSON value (the reference is consumed), e.g. a model or a projection. */
void mmr_extra_json(struct mmr_ctx *ctx, const char *key, json_t *v);
void mmr_log(struct mmr_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The case is making progress. With a `stall_timeout`, a case that goes that
 * long without calling this and without any other message to the harness
 * (phase, sample, op, log) is reported as a hang, with every task's kernel
 * stack, and killed; mmrepro goes on with the next case. One relaxed atomic
 * add on memory shared with mmrepro: any thread may call it, but a timed
 * loop had better leave it to a thread that watches the others.
 */
void mmr_progress(struct mmr_ctx *ctx);

int mmr_skip(struct mmr_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mmr_invalid(struct mmr_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mmr_fail(struct mmr_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Populate an anonymous region with the requested backing and prove its layout
 * (pagemap + kpageflags + smaps). A layout that differs from the request makes
 * the case invalid, with both layouts in the report. */
int mmr_region_create(struct mmr_ctx *ctx, uint64_t size, const struct mmr_backing *b,
		      struct mmr_region *r);
/* Prove an existing region again (e.g. after something that could split it). */
int mmr_region_verify(struct mmr_ctx *ctx, const struct mmr_region *r);
void mmr_region_destroy(struct mmr_region *r);
/* Page tables that munmap() frees are freed, and taken off PageTables, by an
 * RCU callback (6.x), some milliseconds later. Wait for that, so that a
 * measurement that follows does not see the tables of a mapping made before. */
void mmr_settle_page_tables(void);
/* Prove that [addr, addr+len) of the caller's address space (any mapping: a
 * file, shmem, hugetlb) is populated with folios of `order` (hugetlb ones when
 * `hugetlb`). The report shows `requested` beside what was observed; a
 * mismatch beyond the case's tolerance makes the case invalid. */
int mmr_layout_require(struct mmr_ctx *ctx, const void *addr, uint64_t len, const char *requested,
		       unsigned order, bool hugetlb);

/* Pin the calling thread to the case's CPU slot (hwloc); slot 0 is the CPU of
 * the case's main thread, the rest are spread over the other PUs first. The
 * placement is recorded in the report. Returns the OS index of the PU. */
int mmr_pin_self(struct mmr_ctx *ctx, unsigned slot);

/* Seeded per-case PRNG (xoshiro256**), reproducible from the report's seed. */
uint64_t mmr_random(struct mmr_ctx *ctx);

#endif
