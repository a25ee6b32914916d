// SPDX-License-Identifier: GPL-2.0
/*
 * munmap_threads — tearing down a large populated region while other threads
 * of the same process keep running (CLAIMS C4).
 *
 * C4: munmap() of 496 GB of THP in a 128-CPU process took 275 s on ppc64,
 * because each THP teardown waited for every CPU running the mm. On x86 the
 * analogue is the TLB-shootdown IPI sent to every CPU that has the mm loaded.
 * Other suites join their threads before they unmap; here they keep running.
 *
 * Each repetition populates `size` bytes with the requested backing and proves
 * the layout; then `threads` threads of this process (started once, pinned to
 * CPUs other than the main thread's) are released into their `mode` and the
 * main thread times `op`. Counters around the op give the IPIs and PMD splits
 * it caused. After the run, analyze() fits a cost model over every case of
 * the sweep (per GiB, and per GiB per thread on another CPU) and projects it
 * to the claim's 496 GiB x 128 threads, labelled as an extrapolation.
 */
#include "mmrepro/crew.h"
#include "mmrepro/workload.h"
#include "munmap_threads.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

/* A member that does not answer a release or a park within this long is
 * reported by name (the harness's case timeout would only say "hang"). */
#define CREW_DEADLINE_S 30
/* Bytes one vmsplice() of a walker covers: 16 pages, a default pipe's capacity. */
#define WALK_CHUNK (64 * 1024)

enum op { OP_MUNMAP, OP_PARTIAL, OP_HALVES, OP_DONTNEED };
enum mode { MODE_SPIN, MODE_TOUCH, MODE_WALK, MODE_SLEEP };

static const char *const ops[] = { "munmap", "munmap_partial", "munmap_pmd_halves", "dontneed",
				   NULL };
static const char *const modes[] = { "spin", "touch", "walk", "sleep", NULL };

struct munmap_threads_params {
	uint64_t size;
	const char *backing;
	const char *op;
	int64_t threads;
	const char *mode;
	uint64_t buffer;
};

/* One per thread, on cache lines of its own: members never share a line. */
struct member {
	_Alignas(64) atomic_uint_least64_t calls;
	atomic_uint_least64_t efaults, errors;
	atomic_int last_errno;
	uint64_t start; /* walk: first offset into the region */
	int pipe[2];	/* walk: vmsplice() target, drained to /dev/null */
	char *buf;	/* touch: the private buffer */
};

struct munmap_threads_state {
	struct mmr_backing backing;
	struct mmr_region region;
	enum op op;
	enum mode mode;
	unsigned nthreads;
	struct member *members;
	struct mmr_crew *crew;
	bool released;
	int devnull;
	bool have_tlb_row;
	uint64_t buffer;
	char *base; /* what walkers walk in this repetition */
	uint64_t len;
	uint64_t halves_done; /* op=munmap_pmd_halves: extents whose second half is gone */
};

static const struct mmr_param munmap_threads_params[] = {
	{ "size", MMR_T_SIZE, offsetof(struct munmap_threads_params, size), "1G", .min = "2M",
	  .max = "1T", .flags = MMR_P_SCALED,
	  .help = "bytes of anonymous memory populated, then torn down by op" },
	{ "backing", MMR_T_ENUM, offsetof(struct munmap_threads_params, backing), "thp-pmd",
	  .choices = mmr_backing_choices,
	  .help = "4k | thp-pmd | thp-pte (PMD-sized THP mapped by PTEs) | mthp-<size>" },
	{ "op", MMR_T_ENUM, offsetof(struct munmap_threads_params, op), "munmap", .choices = ops,
	  .help = "the timed operation: munmap (the whole region, one call); munmap_partial (one "
		  "call from the second page to the last but one: the PMDs at both ends are "
		  "split); munmap_pmd_halves (one call per 2M extent, unmapping its second half: "
		  "a PMD split and a TLB flush per THP, the per-THP pattern of C4); dontneed "
		  "(MADV_DONTNEED of the whole region)" },
	{ "threads", MMR_T_INT, offsetof(struct munmap_threads_params, threads), "1", .min = "0",
	  .max = "4096",
	  .help = "threads of the same process that keep running while the main thread times "
		  "op, each pinned to a CPU other than the main thread's when there is one; "
		  "cases with more threads than CPUs are skipped" },
	{ "mode", MMR_T_ENUM, offsetof(struct munmap_threads_params, mode), "spin",
	  .choices = modes,
	  .help = "what the threads do: spin (a busy loop), touch (keep writing a private "
		  "buffer), walk (keep vmsplice()ing pages of the region into a pipe: lockless "
		  "GUP-fast page-table walks racing with op; EFAULT once the range is gone is "
		  "counted), sleep (blocked, off the CPU: the control)" },
	{ "buffer", MMR_T_SIZE, offsetof(struct munmap_threads_params, buffer), "64K", .min = "4K",
	  .max = "1G", .help = "mode=touch: bytes of the private buffer each thread writes" },
	{ NULL },
};

static const struct mmr_metric munmap_threads_metrics[] = {
	{ "op_ns", "ns", MMR_LOWER_IS_BETTER, "the timed operation (see the op parameter)" },
	{ "op_ns_per_gib", "ns/GiB", MMR_LOWER_IS_BETTER, "op_ns per GiB of the region" },
	{ "tlb_ipis", "IPIs", MMR_LOWER_IS_BETTER,
	  "TLB-shootdown IPIs received by all CPUs during op (/proc/interrupts TLB)" },
	{ "tlb_ipis_per_gib", "IPIs/GiB", MMR_LOWER_IS_BETTER, "tlb_ipis per GiB of the region" },
	{ "cal_ipis", "IPIs", MMR_LOWER_IS_BETTER,
	  "function-call IPIs received by all CPUs during op (/proc/interrupts CAL)" },
	{ "cal_ipis_per_gib", "IPIs/GiB", MMR_LOWER_IS_BETTER, "cal_ipis per GiB of the region" },
	{ "thp_split_pmd", "count", MMR_INFO_ONLY,
	  "PMD mappings split into PTEs during op (vmstat thp_split_pmd)" },
	{ "thp_deferred_split_page", "count", MMR_INFO_ONLY,
	  "partly unmapped THPs queued for a later split during op (vmstat)" },
	{ "walker_calls", "count", MMR_INFO_ONLY,
	  "mode=walk: vmsplice() calls of all threads during op" },
	{ "walker_efaults", "count", MMR_INFO_ONLY,
	  "mode=walk: of those, calls that found the range gone (EFAULT)" },
	{ NULL },
};

static int index_of(const char *const *list, const char *s)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return i;
	return -1;
}

/* ---- planning ---- */

/* VMAs this process may hold at its peak, for op=munmap_pmd_halves. */
static uint64_t vmas_needed(const struct munmap_threads_params *p)
{
	/* one per remaining first half; stacks and guards of the threads; the
	 * binary, its libraries, malloc arenas and the harness */
	return p->size / mmr_pmd_size() + 3 * (uint64_t)p->threads + 1024;
}

static int plan_limits(struct mmr_plan *plan, const struct munmap_threads_params *p)
{
	uint64_t map_count = 0;
	struct rlimit nofile;
	char val[32];

	if (!strcmp(p->mode, "walk") && getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_max != RLIM_INFINITY && 2 * (uint64_t)p->threads + 64 > nofile.rlim_max)
		return mmr_plan_skip(plan,
				     "mode=walk with %lld threads needs %llu file descriptors "
				     "(a pipe each); RLIMIT_NOFILE allows %llu",
				     (long long)p->threads, 2 * (unsigned long long)p->threads + 64,
				     (unsigned long long)nofile.rlim_max);
	if (strcmp(p->op, "munmap_pmd_halves"))
		return 0;
	if (mmr_read_u64("/proc/sys/vm/max_map_count", &map_count) == 0 &&
	    map_count >= vmas_needed(p))
		return 0;
	snprintf(val, sizeof(val), "%llu", (unsigned long long)vmas_needed(p));
	return mmr_plan_setting(plan, "vm.max_map_count", val);
}

static int munmap_threads_plan(struct mmr_plan *plan, const void *params)
{
	const struct munmap_threads_params *p = params;
	unsigned cpus = mmr_plan_cpus(plan);
	struct mmr_backing b;
	int ret;

	if (mmr_backing_parse(p->backing, &b))
		return mmr_plan_invalid(plan, "backing %s is not one this machine has", p->backing);
	if (p->size % b.folio_size)
		return mmr_plan_invalid(
			plan, "size %llu is not a multiple of the %s folio size %llu",
			(unsigned long long)p->size, b.name, (unsigned long long)b.folio_size);
	if (!strcmp(p->op, "munmap_pmd_halves") && p->size % mmr_pmd_size())
		return mmr_plan_invalid(
			plan,
			"op=munmap_pmd_halves works on whole PMD extents: size %llu "
			"is not a multiple of %llu",
			(unsigned long long)p->size, (unsigned long long)mmr_pmd_size());
	if ((uint64_t)p->threads > cpus)
		return mmr_plan_skip(plan,
				     "threads=%lld needs as many CPUs and this process may use "
				     "%u: more threads than CPUs would measure the scheduler, not "
				     "the shootdowns",
				     (long long)p->threads, cpus);
	ret = plan_limits(plan, p);
	if (ret)
		return ret;
	/* the region and its page tables; per thread its buffer, pipe and the
	 * touched part of its stack; the harness */
	mmr_plan_footprint(plan,
			   p->size + p->size / 256 +
				   (uint64_t)p->threads * (p->buffer + WALK_CHUNK + 256 * MMR_KiB) +
				   64 * MMR_MiB);
	return mmr_plan_backing(plan, &b);
}

/* ---- what the threads do ---- */

static void drain(struct munmap_threads_state *s, struct member *m, size_t n)
{
	char sink[4096];

	while (n > 0) {
		ssize_t d = splice(m->pipe[0], NULL, s->devnull, NULL, n, SPLICE_F_NONBLOCK);

		if (d <= 0) /* cannot splice: copy it out instead */
			d = read(m->pipe[0], sink, n < sizeof(sink) ? n : sizeof(sink));
		if (d <= 0)
			return; /* the next vmsplice() then fails, and counts as an error */
		n -= (size_t)d;
	}
}

/* vmsplice() takes references on the pages through GUP-fast: a lockless walk
 * of the page tables that munmap or MADV_DONTNEED tears down under it. */
static void walk(struct munmap_threads_state *s, struct mmr_crew *crew, unsigned i)
{
	struct member *m = &s->members[i];
	uint64_t pmd = mmr_pmd_size(), span = s->len - WALK_CHUNK + 1, off = m->start;
	bool announced = false;

	while (!mmr_crew_stopping(crew)) {
		struct iovec iov = { s->base + off, WALK_CHUNK };
		ssize_t n = vmsplice(m->pipe[1], &iov, 1, SPLICE_F_NONBLOCK);

		if (n > 0) {
			drain(s, m, (size_t)n);
		} else if (n < 0 && errno == EFAULT) {
			atomic_fetch_add_explicit(&m->efaults, 1, memory_order_relaxed);
		} else {
			atomic_store_explicit(&m->last_errno, errno, memory_order_relaxed);
			atomic_fetch_add_explicit(&m->errors, 1, memory_order_relaxed);
		}
		atomic_fetch_add_explicit(&m->calls, 1, memory_order_relaxed);
		if (!announced)
			mmr_crew_running(crew, i);
		announced = true;
		/* the next THP, at another offset inside it */
		off = (off + pmd + WALK_CHUNK) % span;
		off -= off % mmr_page_size();
	}
}

static void touch(struct munmap_threads_state *s, struct mmr_crew *crew, unsigned i)
{
	volatile char *buf = s->members[i].buf;
	bool announced = false;

	while (!mmr_crew_stopping(crew)) {
		for (uint64_t off = 0; off < s->buffer; off += 64)
			buf[off]++;
		if (!announced)
			mmr_crew_running(crew, i);
		announced = true;
	}
}

static void member_fn(struct mmr_crew *crew, unsigned i, void *arg)
{
	struct munmap_threads_state *s = arg;

	switch (s->mode) {
	case MODE_SPIN:
		mmr_crew_running(crew, i);
		while (!mmr_crew_stopping(crew))
			; /* user mode on this CPU, with this mm loaded */
		break;
	case MODE_TOUCH:
		touch(s, crew, i);
		break;
	case MODE_WALK:
		walk(s, crew, i);
		break;
	case MODE_SLEEP:
		mmr_crew_running(crew, i);
		mmr_crew_wait_stop(crew);
		break;
	}
}

/* ---- the case ---- */

static int setup_members(struct mmr_ctx *ctx, struct munmap_threads_state *s)
{
	struct rlimit nofile;

	if (posix_memalign((void **)&s->members, 64, s->nthreads * sizeof(*s->members)))
		return -ENOMEM;
	memset(s->members, 0, s->nthreads * sizeof(*s->members));
	for (unsigned i = 0; i < s->nthreads; i++)
		s->members[i].pipe[0] = s->members[i].pipe[1] = -1;
	if (s->mode == MODE_WALK) {
		/* a pipe per walker: raise the soft limit up to the hard one, in
		 * this process only (plan() checked the hard limit) */
		if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
		    nofile.rlim_cur < 2 * (rlim_t)s->nthreads + 64) {
			nofile.rlim_cur = nofile.rlim_max;
			setrlimit(RLIMIT_NOFILE, &nofile);
		}
		s->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (s->devnull < 0)
			return mmr_fail(ctx, "open /dev/null: %s", strerror(errno));
	}
	for (unsigned i = 0; i < s->nthreads; i++) {
		struct member *m = &s->members[i];

		if (s->mode == MODE_WALK && pipe2(m->pipe, O_NONBLOCK | O_CLOEXEC))
			return mmr_fail(ctx, "pipe for walker %u: %s", i, strerror(errno));
		if (s->mode == MODE_TOUCH) {
			m->buf = mmap(NULL, s->buffer, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
			if (m->buf == MAP_FAILED) {
				m->buf = NULL;
				return mmr_fail(ctx, "mmap of a %llu-byte buffer: %s",
						(unsigned long long)s->buffer, strerror(errno));
			}
		}
	}
	return 0;
}

static bool interrupts_have_tlb_row(void)
{
	char *text = mmr_slurp("/proc/interrupts", NULL);
	bool found = text && strstr(text, "TLB shootdowns");

	free(text);
	return found;
}

static int munmap_threads_setup(struct mmr_ctx *ctx)
{
	const struct munmap_threads_params *p = mmr_params(ctx);
	struct munmap_threads_state *s = mmr_state(ctx);
	int ret;

	s->devnull = -1;
	if (mmr_backing_parse(p->backing, &s->backing))
		return mmr_invalid(ctx, "unknown backing %s", p->backing);
	s->op = (enum op)index_of(ops, p->op);
	s->mode = (enum mode)index_of(modes, p->mode);
	s->nthreads = (unsigned)p->threads;
	s->buffer = p->buffer;
	s->have_tlb_row = interrupts_have_tlb_row();
	if (!s->have_tlb_row)
		mmr_log(ctx, "/proc/interrupts has no TLB-shootdown row on this architecture: "
			     "tlb_ipis is not recorded");
	mmr_extra_u64(ctx, "threads", s->nthreads);
	if (!s->nthreads) {
		mmr_extra_u64(ctx, "other_cpus", 0);
		return 0;
	}
	ret = setup_members(ctx, s);
	if (ret)
		return ret;
	ret = mmr_crew_start(ctx, s->nthreads, p->mode, member_fn, s, CREW_DEADLINE_S, &s->crew);
	if (ret == -ENOMEM && !s->crew)
		return -ENOMEM;
	if (ret)
		return mmr_fail(ctx, "%s", mmr_crew_error(s->crew));
	if (mmr_crew_on_main_cpu(s->crew))
		mmr_log(ctx,
			"only one CPU: %u thread(s) share it with the thread that times op, "
			"so op_ns includes their time slices",
			mmr_crew_on_main_cpu(s->crew));
	return 0;
}

static int munmap_threads_prepare(struct mmr_ctx *ctx)
{
	const struct munmap_threads_params *p = mmr_params(ctx);
	struct munmap_threads_state *s = mmr_state(ctx);
	uint64_t pmd = mmr_pmd_size(), extents;
	int ret = mmr_region_create(ctx, p->size, &s->backing, &s->region);

	if (ret)
		return ret;
	s->base = s->region.addr;
	s->len = s->region.size;
	s->halves_done = 0;
	/* walkers start spread evenly over the region's PMD extents */
	extents = s->len / pmd ? s->len / pmd : 1;
	for (unsigned i = 0; s->mode == MODE_WALK && i < s->nthreads; i++)
		s->members[i].start = (i * extents / s->nthreads) * pmd % (s->len - WALK_CHUNK + 1);
	return 0;
}

static int do_op(struct munmap_threads_state *s)
{
	char *a = s->region.addr;
	uint64_t size = s->region.size, pmd = mmr_pmd_size(), page = mmr_page_size();

	switch (s->op) {
	case OP_MUNMAP:
		return munmap(a, size) ? -errno : 0;
	case OP_PARTIAL:
		return munmap(a + page, size - 2 * page) ? -errno : 0;
	case OP_HALVES:
		for (; s->halves_done < size / pmd; s->halves_done++)
			if (munmap(a + s->halves_done * pmd + pmd / 2, pmd / 2))
				return -errno;
		return 0;
	case OP_DONTNEED:
		return madvise(a, size, MADV_DONTNEED) ? -errno : 0;
	}
	return -EINVAL;
}

/* Untimed: unmap what op left of the region, and nothing else. The holes op
 * made may hold someone else's mapping by now; mmr_region_destroy() then
 * leaves the region's range alone. */
static void unmap_rest(struct munmap_threads_state *s, bool op_done)
{
	char *a = s->region.addr;
	uint64_t size = s->region.size, pmd = mmr_pmd_size(), page = mmr_page_size();

	s->region.unmapped = true;
	if (s->op == OP_HALVES) {
		for (uint64_t k = 0; k < size / pmd; k++)
			munmap(a + k * pmd, k < s->halves_done ? pmd / 2 : pmd);
	} else if (!op_done || s->op == OP_DONTNEED) {
		munmap(a, size); /* still one mapping of ours, with no hole */
	} else if (s->op == OP_PARTIAL) {
		munmap(a, page);
		munmap(a + size - page, page);
	}
}

static void walker_totals(const struct munmap_threads_state *s, uint64_t *calls, uint64_t *efaults)
{
	*calls = *efaults = 0;
	for (unsigned i = 0; s->mode == MODE_WALK && i < s->nthreads; i++) {
		*calls += atomic_load_explicit(&s->members[i].calls, memory_order_relaxed);
		*efaults += atomic_load_explicit(&s->members[i].efaults, memory_order_relaxed);
	}
}

static void record(struct mmr_ctx *ctx, const struct munmap_threads_state *s, uint64_t ns,
		   const uint64_t calls[2], const uint64_t efaults[2])
{
	double gib = (double)s->region.size / (double)MMR_GiB;

	mmr_sample(ctx, "op_ns", (double)ns);
	mmr_sample(ctx, "op_ns_per_gib", (double)ns / gib);
	if (s->have_tlb_row) {
		double tlb = (double)mmr_op_delta(ctx, "interrupts.TLB");

		mmr_sample(ctx, "tlb_ipis", tlb);
		mmr_sample(ctx, "tlb_ipis_per_gib", tlb / gib);
	}
	{
		double cal = (double)mmr_op_delta(ctx, "interrupts.CAL");

		mmr_sample(ctx, "cal_ipis", cal);
		mmr_sample(ctx, "cal_ipis_per_gib", cal / gib);
	}
	mmr_sample(ctx, "thp_split_pmd", (double)mmr_op_delta(ctx, "vmstat.thp_split_pmd"));
	mmr_sample(ctx, "thp_deferred_split_page",
		   (double)mmr_op_delta(ctx, "vmstat.thp_deferred_split_page"));
	if (s->mode == MODE_WALK && s->nthreads) {
		mmr_sample(ctx, "walker_calls", (double)(calls[1] - calls[0]));
		mmr_sample(ctx, "walker_efaults", (double)(efaults[1] - efaults[0]));
	}
}

static int munmap_threads_run(struct mmr_ctx *ctx)
{
	struct munmap_threads_state *s = mmr_state(ctx);
	uint64_t ns, calls[2], efaults[2];
	int op_err, crew_err = 0;

	if (s->crew) {
		s->released = true; /* some may run even if not all started */
		crew_err = mmr_crew_release(s->crew);
		if (crew_err)
			return mmr_fail(ctx, "%s", mmr_crew_error(s->crew));
	}
	walker_totals(s, &calls[0], &efaults[0]);
	mmr_op_begin(ctx, ops[s->op]);
	op_err = do_op(s);
	ns = mmr_op_end(ctx);
	walker_totals(s, &calls[1], &efaults[1]);
	if (s->crew) {
		crew_err = mmr_crew_park(s->crew);
		s->released = false;
	}
	unmap_rest(s, op_err == 0);
	if (op_err)
		return mmr_fail(ctx, "%s of %llu bytes: %s", ops[s->op],
				(unsigned long long)s->region.size, strerror(-op_err));
	if (crew_err)
		return mmr_fail(ctx, "%s", mmr_crew_error(s->crew));
	record(ctx, s, ns, calls, efaults);
	return 0;
}

static void munmap_threads_cleanup(struct mmr_ctx *ctx)
{
	struct munmap_threads_state *s = mmr_state(ctx);

	if (s->released && mmr_crew_park(s->crew))
		mmr_fail(ctx, "%s", mmr_crew_error(s->crew));
	s->released = false;
	mmr_region_destroy(&s->region);
}

static void munmap_threads_teardown(struct mmr_ctx *ctx)
{
	struct munmap_threads_state *s = mmr_state(ctx);
	uint64_t errors = 0;
	int last = 0;
	char err[320];

	if (s->crew) { /* where they ran: pinned, or where they said they ran */
		mmr_extra_u64(ctx, "other_cpus", mmr_crew_other_cpus(s->crew));
		mmr_extra_u64(ctx, "threads_on_main_cpu", mmr_crew_on_main_cpu(s->crew));
	}
	if (s->crew && mmr_crew_finish(s->crew, err, sizeof(err))) {
		mmr_fail(ctx, "%s", err);
		return; /* that thread may still use the members: leave them */
	}
	if (s->crew)
		mmr_extra_u64(ctx, "threads_joined", s->nthreads);
	if (s->mode == MODE_WALK && s->nthreads) {
		uint64_t calls, efaults;

		/* every repetition, the op and the moments around it */
		walker_totals(s, &calls, &efaults);
		mmr_extra_u64(ctx, "walker_calls_total", calls);
		mmr_extra_u64(ctx, "walker_efaults_total", efaults);
	}
	for (unsigned i = 0; s->members && i < s->nthreads; i++) {
		struct member *m = &s->members[i];

		errors += atomic_load(&m->errors);
		if (atomic_load(&m->errors))
			last = atomic_load(&m->last_errno);
		if (m->pipe[0] >= 0)
			close(m->pipe[0]);
		if (m->pipe[1] >= 0)
			close(m->pipe[1]);
		if (m->buf)
			munmap(m->buf, s->buffer);
	}
	if (errors)
		mmr_log(ctx,
			"walkers: %llu vmsplice() calls failed other than with EFAULT (last: %s)",
			(unsigned long long)errors, strerror(last));
	free(s->members);
	if (s->devnull >= 0)
		close(s->devnull);
}

const struct mmr_workload munmap_threads_workload = {
	.abi = MMR_WORKLOAD_ABI,
	.name = "munmap_threads",
	.summary = "munmap/MADV_DONTNEED of a large region while threads of the process keep "
		   "running; IPIs, PMD splits, a cost model projected to C4",
	.claims = "C4",
	.params = munmap_threads_params,
	.metrics = munmap_threads_metrics,
	.params_size = sizeof(struct munmap_threads_params),
	.state_size = sizeof(struct munmap_threads_state),
	.needs = MMR_NEED_KPAGEFLAGS,
	.default_reps = 10,
	.plan = munmap_threads_plan,
	.setup = munmap_threads_setup,
	.prepare = munmap_threads_prepare,
	.run = munmap_threads_run,
	.cleanup = munmap_threads_cleanup,
	.teardown = munmap_threads_teardown,
	.analyze = munmap_threads_analyze,
};
