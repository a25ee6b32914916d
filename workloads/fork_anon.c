// SPDX-License-Identifier: GPL-2.0
/*
 * fork_anon — fork() of a large populated anonymous region (CLAIMS C1, C2, C3).
 *
 * Each repetition populates `size` bytes with the requested backing (4k,
 * PMD-mapped THP, PTE-mapped THP or one mTHP size), proves the layout, then:
 *   1. forks a child that exits at once: fork_ns is the parent's fork() call,
 *      fork_exit_ns the fork + child exit + waitpid (C1);
 *   2. forks a child that stays: its VmPTE right after fork, and the cost per
 *      page of its first writes, sequential or random (C3: the cost that a
 *      COW-page-table kernel moves from fork to the first write);
 *   3. munmap()s the populated region (C2).
 * With `pinned`, part of the region is registered as io_uring fixed buffers
 * first: long-term pinned anonymous pages must be copied at fork time.
 */
#include "mmrepro/workload.h"

#include <errno.h>
#include <liburing.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

struct fork_anon_params {
	uint64_t size;
	const char *backing;
	const char *cow;
	double cow_fraction;
	double pinned;
};

struct fork_anon_state {
	struct mmr_backing backing;
	struct mmr_region region;
	uint32_t *write_order; /* page indexes the child writes, in order */
	uint64_t nwrite;
	struct io_uring ring;
	bool ring_ready, registered;
};

static const char *const cow_modes[] = { "none", "seq", "random", NULL };

static const struct mmr_param fork_anon_params[] = {
	{ "size", MMR_T_SIZE, offsetof(struct fork_anon_params, size), "1G", .min = "2M",
	  .max = "1T", .flags = MMR_P_SCALED,
	  .help = "bytes of anonymous memory populated before fork" },
	{ "backing", MMR_T_ENUM, offsetof(struct fork_anon_params, backing), "thp-pte",
	  .choices = mmr_backing_choices,
	  .help = "4k | thp-pmd | thp-pte (PMD-sized THP mapped by PTEs) | mthp-<size>" },
	{ "cow", MMR_T_ENUM, offsetof(struct fork_anon_params, cow), "seq", .choices = cow_modes,
	  .help = "the child's first writes after fork: none, sequential or random pages" },
	{ "cow_fraction", MMR_T_DOUBLE, offsetof(struct fork_anon_params, cow_fraction), "0.25",
	  .min = "0", .max = "1", .help = "fraction of the region's pages the child writes" },
	{ "pinned", MMR_T_DOUBLE, offsetof(struct fork_anon_params, pinned), "0", .min = "0",
	  .max = "1",
	  .help = "fraction of the region registered as io_uring fixed buffers (long-term pinned)" },
	{ NULL },
};

static const struct mmr_metric fork_anon_metrics[] = {
	{ "fork_ns", "ns", MMR_LOWER_IS_BETTER, "the parent's fork() call" },
	{ "fork_exit_ns", "ns", MMR_LOWER_IS_BETTER, "fork(), the child's _exit(0) and waitpid()" },
	{ "munmap_ns", "ns", MMR_LOWER_IS_BETTER, "munmap() of the populated region" },
	{ "child_vmpte_kb", "kB", MMR_LOWER_IS_BETTER, "the child's VmPTE right after fork()" },
	{ "cow_write_ns_per_page", "ns/page", MMR_LOWER_IS_BETTER,
	  "the child's first write to a page after fork(), per 4K page" },
	{ NULL },
};

static uint64_t pinned_bytes(const struct fork_anon_params *p, const struct mmr_backing *b)
{
	uint64_t bytes = (uint64_t)(p->pinned * (double)p->size);

	return bytes - bytes % b->folio_size;
}

static int fork_anon_plan(struct mmr_plan *plan, const void *params)
{
	const struct fork_anon_params *p = params;
	struct mmr_backing b;
	uint64_t pt = p->size / 512 * 2; /* page tables of parent and child, generously */
	uint64_t cow = strcmp(p->cow, "none") ? (uint64_t)(p->cow_fraction * (double)p->size) : 0;
	struct rlimit ml;

	if (mmr_backing_parse(p->backing, &b))
		return mmr_plan_invalid(plan, "backing %s is not one this machine has", p->backing);
	if (p->size % b.folio_size)
		return mmr_plan_invalid(
			plan, "size %llu is not a multiple of the %s folio size %llu",
			(unsigned long long)p->size, b.name, (unsigned long long)b.folio_size);
	if (p->pinned > 0) {
		if (getrlimit(RLIMIT_MEMLOCK, &ml) == 0 && geteuid() != 0 &&
		    ml.rlim_cur != RLIM_INFINITY && ml.rlim_cur < pinned_bytes(p, &b))
			return mmr_plan_skip(
				plan, "pinning %.0f%% needs RLIMIT_MEMLOCK >= %llu or root",
				p->pinned * 100, (unsigned long long)pinned_bytes(p, &b));
	}
	/* the region, the child's copies (COW writes, pinned pages copied at fork),
	 * page tables, and room for the write-order array */
	mmr_plan_footprint(plan, p->size + cow + pinned_bytes(p, &b) + pt + p->size / 1024 +
					 64 * MMR_MiB);
	return mmr_plan_backing(plan, &b);
}

static int fork_anon_setup(struct mmr_ctx *ctx)
{
	const struct fork_anon_params *p = mmr_params(ctx);
	struct fork_anon_state *s = mmr_state(ctx);
	uint64_t npages = p->size / mmr_page_size();
	int ret;

	if (mmr_backing_parse(p->backing, &s->backing))
		return mmr_invalid(ctx, "unknown backing %s", p->backing);
	if (strcmp(p->cow, "none")) {
		s->nwrite = (uint64_t)(p->cow_fraction * (double)npages);
		s->write_order = malloc((npages ? npages : 1) * sizeof(uint32_t));
		if (!s->write_order)
			return -ENOMEM;
		for (uint64_t i = 0; i < npages; i++)
			s->write_order[i] = (uint32_t)i;
		/* random: the first nwrite entries of a seeded Fisher-Yates shuffle */
		for (uint64_t i = 0; !strcmp(p->cow, "random") && i < s->nwrite; i++) {
			uint64_t j = i + mmr_random(ctx) % (npages - i);
			uint32_t t = s->write_order[i];

			s->write_order[i] = s->write_order[j];
			s->write_order[j] = t;
		}
	}
	if (p->pinned > 0) {
		ret = io_uring_queue_init(4, &s->ring, 0);
		if (ret < 0)
			return mmr_skip(ctx, "io_uring_queue_init: %s", strerror(-ret));
		s->ring_ready = true;
	}
	return 0;
}

static int register_pins(struct mmr_ctx *ctx, struct fork_anon_state *s, uint64_t bytes)
{
	unsigned n = 0, nbuf = (unsigned)((bytes + MMR_GiB - 1) / MMR_GiB);
	struct iovec *iov = calloc(nbuf ? nbuf : 1, sizeof(*iov));
	int ret;

	if (!iov)
		return mmr_fail(ctx, "out of memory for %u iovecs", nbuf);
	/* io_uring takes at most 1 GiB per buffer (and 16K buffers: 16 TiB) */
	for (uint64_t off = 0; off < bytes; off += MMR_GiB, n++) {
		iov[n].iov_base = (char *)s->region.addr + off;
		iov[n].iov_len = bytes - off < MMR_GiB ? bytes - off : MMR_GiB;
	}
	ret = io_uring_register_buffers(&s->ring, iov, n);
	free(iov);
	if (ret < 0)
		return mmr_fail(ctx, "io_uring_register_buffers of %llu bytes: %s",
				(unsigned long long)bytes, strerror(-ret));
	s->registered = true;
	mmr_extra_u64(ctx, "pinned_bytes", bytes);
	return 0;
}

static void unregister_pins(struct fork_anon_state *s)
{
	if (s->registered)
		io_uring_unregister_buffers(&s->ring);
	s->registered = false;
}

static int fork_anon_prepare(struct mmr_ctx *ctx)
{
	const struct fork_anon_params *p = mmr_params(ctx);
	struct fork_anon_state *s = mmr_state(ctx);
	int ret = mmr_region_create(ctx, p->size, &s->backing, &s->region);

	if (!ret && pinned_bytes(p, &s->backing))
		ret = register_pins(ctx, s, pinned_bytes(p, &s->backing));
	return ret;
}

/* fork(), the child exits at once: fork_ns and fork_exit_ns. */
static int time_fork_exit(struct mmr_ctx *ctx)
{
	uint64_t t0, t1, total;
	pid_t pid;
	int st;

	mmr_op_begin(ctx, "fork_exit");
	t0 = mmr_now_ns();
	pid = fork();
	if (pid == 0)
		_exit(0);
	t1 = mmr_now_ns();
	if (pid < 0) {
		mmr_op_end(ctx);
		return mmr_fail(ctx, "fork: %s", strerror(errno));
	}
	waitpid(pid, &st, 0);
	total = mmr_op_end(ctx);
	mmr_sample(ctx, "fork_ns", (double)(t1 - t0));
	mmr_sample(ctx, "fork_exit_ns", (double)total);
	return 0;
}

/* In the second child: wait for the go, write the pages, report the time. */
static void cow_child(struct fork_anon_state *s, int go[2], int res[2])
{
	char *base = s->region.addr, c;
	uint64_t page = mmr_page_size(), t0, ns;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(go[1]);
	close(res[0]);
	if (read(go[0], &c, 1) != 1)
		_exit(1); /* EOF: no writes wanted */
	t0 = mmr_now_ns();
	for (uint64_t i = 0; i < s->nwrite; i++)
		base[(uint64_t)s->write_order[i] * page] = 2;
	ns = mmr_now_ns() - t0;
	_exit(write(res[1], &ns, sizeof(ns)) == sizeof(ns) ? 0 : 1);
}

/* fork() and keep the child: its VmPTE, then its first writes. */
static int time_child_side(struct mmr_ctx *ctx)
{
	struct fork_anon_state *s = mmr_state(ctx);
	int go[2], res[2], st, ret = 0;
	uint64_t ns = 0;
	long long pte;
	pid_t pid;

	if (pipe(go))
		return mmr_fail(ctx, "pipe: %s", strerror(errno));
	if (pipe(res)) {
		close(go[0]);
		close(go[1]);
		return mmr_fail(ctx, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0)
		cow_child(s, go, res);
	/* only the child's ends stay open there: a dead child reads as EOF here */
	close(go[0]);
	close(res[1]);
	if (pid < 0) {
		ret = mmr_fail(ctx, "fork: %s", strerror(errno));
		goto out;
	}
	/* fork() has returned: the child's page tables are complete */
	pte = mmr_status_kb(pid, "VmPTE");
	if (pte >= 0)
		mmr_sample(ctx, "child_vmpte_kb", (double)pte);
	if (s->nwrite) {
		mmr_op_begin(ctx, "cow_write");
		if (write(go[1], "g", 1) != 1 || read(res[0], &ns, sizeof(ns)) != sizeof(ns))
			ret = mmr_fail(ctx, "the child that writes after fork did not report");
		mmr_op_end(ctx);
		if (!ret)
			mmr_sample(ctx, "cow_write_ns_per_page", (double)ns / (double)s->nwrite);
	}
out:
	close(go[1]); /* a child told nothing reads EOF and exits */
	close(res[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	return ret;
}

static int fork_anon_run(struct mmr_ctx *ctx)
{
	struct fork_anon_state *s = mmr_state(ctx);
	int ret = time_fork_exit(ctx);

	if (!ret)
		ret = time_child_side(ctx);
	if (ret)
		return ret;
	unregister_pins(s); /* untimed: munmap is timed on unpinned pages */
	mmr_op_begin(ctx, "munmap");
	ret = munmap(s->region.addr, s->region.size);
	mmr_sample(ctx, "munmap_ns", (double)mmr_op_end(ctx));
	if (ret)
		return mmr_fail(ctx, "munmap: %s", strerror(errno));
	s->region.unmapped = true;
	return 0;
}

static void fork_anon_cleanup(struct mmr_ctx *ctx)
{
	struct fork_anon_state *s = mmr_state(ctx);

	unregister_pins(s);
	mmr_region_destroy(&s->region);
}

static void fork_anon_teardown(struct mmr_ctx *ctx)
{
	struct fork_anon_state *s = mmr_state(ctx);

	if (s->ring_ready)
		io_uring_queue_exit(&s->ring);
	free(s->write_order);
}

const struct mmr_workload fork_anon_workload = {
	.abi = MMR_WORKLOAD_ABI,
	.name = "fork_anon",
	.summary = "fork() of a large populated anonymous region, its child's first writes, munmap",
	.claims = "C1 C2 C3",
	.params = fork_anon_params,
	.metrics = fork_anon_metrics,
	.params_size = sizeof(struct fork_anon_params),
	.state_size = sizeof(struct fork_anon_state),
	.needs = MMR_NEED_KPAGEFLAGS,
	.default_reps = 10,
	.plan = fork_anon_plan,
	.setup = fork_anon_setup,
	.prepare = fork_anon_prepare,
	.run = fork_anon_run,
	.cleanup = fork_anon_cleanup,
	.teardown = fork_anon_teardown,
};
