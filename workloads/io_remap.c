// SPDX-License-Identifier: GPL-2.0
/*
 * io_remap — file I/O through mmapped user buffers while other threads change
 * those mappings (CLAIMS C7).
 *
 * In 2002 the kernel copied between the page cache and user pages under kmap,
 * and a thread could unmap the user page in the middle of the copy; the
 * answer was fault-in-and-retry, never pinning the mm. Today
 * generic_perform_write() pre-faults the source, copies with page faults
 * disabled and retries a short copy, and per-VMA locks (6.4) keep faults out
 * of each other's way. This scenario runs exactly that path and checks both
 * its speed and its correctness:
 *
 *   io threads     each owns a range of the file and loops over its blocks:
 *                  fill the next generation of records, write() the block
 *                  from a mapped source buffer, read() it back into a mapped
 *                  destination buffer, verify every byte;
 *   churn threads  munmap()+mmap(), MAP_FIXED-replace or mprotect() page
 *                  ranges of those buffers, aimed at the block in flight;
 *   fault threads  (optional) fault and zap memory of their own, loading the
 *                  mmap_lock / per-VMA locks from the side.
 *
 * Buffers (`buffers`): "memfd" maps each buffer from a memfd, so the bytes at
 * a buffer's address are the same whichever mapping of it is current: the
 * io thread fills the source and checks the destination through second,
 * never-churned mappings of the same memfds. Any byte that lands wrong is
 * the kernel's, and a racing unmap can only cost an EFAULT or a short copy,
 * which are counted and retried. "self" maps the buffers from the file
 * itself: write(fd, p, n) where p maps the very range being written (the
 * classic deadlock shape: the copy faults on the page the write holds) and
 * read() into a mapping of the range being read; data must survive both.
 *
 * I/O (`io`): pwrite/pread, or the same as IORING_OP_WRITE/READ (one ring
 * per io thread, one I/O in flight), on plain buffers or on registered
 * (fixed, long-term pinned) ones, where the kernel never walks the user's
 * page tables and an unmap cannot hurt the copy.
 *
 * The file is created with O_TMPFILE (no name ever exists) in `dir`, or is a
 * memfd for fs=tmpfs (shmem, the code tmpfs runs): nothing can be left
 * behind, whatever kills the case. Only where O_TMPFILE is not supported is
 * a named file created and unlinked at once.
 *
 * The threads are a fleet (mmrepro/fleet.h): the main thread watches them
 * during the timed window and reports progress only when every one of them
 * has finished a unit since the last report, so one stuck thread is a stall:
 * the harness then records every task's kernel stack (threads are named
 * io<N>, churn<N>, fault<N>), kills the case and moves on.
 *
 * This file is the scenario (parameters, planning, repetitions, metrics);
 * io_remap_io.c has the file, the buffers and the units of work.
 */
#include "io_remap.h"
#include "mmrepro/env.h"
#include "mmrepro/lockstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define LOCK_TOP   10 /* most contended lock classes kept in the report */
#define DISK_SLACK (64 * MMR_MiB)

static const char *const io_modes[] = { "sync", "uring", "uring-fixed", NULL };
static const char *const buffer_modes[] = { "memfd", "self", NULL };
static const char *const fs_modes[] = { "dir", "tmpfs", NULL };
const char *const io_remap_churn_modes[] = { "munmap", "fixed", "mprotect", "mix", NULL };

static const struct mmr_param io_remap_params[] = {
	{ "io", MMR_T_ENUM, offsetof(struct io_remap_params, io), "sync", .choices = io_modes,
	  .help = "pwrite/pread, io_uring WRITE/READ on plain buffers, or on registered (fixed, "
		  "long-term pinned) buffers" },
	{ "buffers", MMR_T_ENUM, offsetof(struct io_remap_params, buffers), "memfd",
	  .choices = buffer_modes,
	  .help = "memfd: buffers mapped from memfds; self: mappings of the file range being "
		  "written or read (the self-referential case)" },
	{ "fs", MMR_T_ENUM, offsetof(struct io_remap_params, fs), "dir", .choices = fs_modes,
	  .help = "dir: an O_TMPFILE file in `dir`; tmpfs: a memfd (shmem)" },
	{ "dir", MMR_T_STRING, offsetof(struct io_remap_params, dir), "",
	  .help = "directory on the filesystem under test (fs=dir); empty: $TMPDIR, else /var/tmp" },
	{ "file_size", MMR_T_SIZE, offsetof(struct io_remap_params, file_size), "64M", .min = "4K",
	  .max = "1T", .flags = MMR_P_SCALED,
	  .help = "bytes of file shared out among the io threads, one range each" },
	{ "io_size", MMR_T_SIZE, offsetof(struct io_remap_params, io_size), "64K", .min = "4K",
	  .max = "64M", .help = "bytes per write() and read() (a multiple of the page size)" },
	{ "io_threads", MMR_T_INT, offsetof(struct io_remap_params, io_threads), "2", .min = "1",
	  .max = "64", .help = "threads doing write/read/verify" },
	{ "churn_threads", MMR_T_INT, offsetof(struct io_remap_params, churn_threads), "1",
	  .min = "0", .max = "64", .help = "threads changing the io threads' buffer mappings" },
	{ "churn", MMR_T_ENUM, offsetof(struct io_remap_params, churn), "munmap",
	  .choices = io_remap_churn_modes,
	  .help = "munmap then mmap again, MAP_FIXED over it (never unmapped), mprotect "
		  "PROT_NONE and back, or each in turn" },
	{ "fault_threads", MMR_T_INT, offsetof(struct io_remap_params, fault_threads), "0",
	  .min = "0", .max = "64", .help = "threads faulting and zapping memory of their own" },
	{ "fault_size", MMR_T_SIZE, offsetof(struct io_remap_params, fault_size), "8M", .min = "4K",
	  .max = "1G", .help = "bytes each fault thread faults in and zaps per pass" },
	{ "duration", MMR_T_DOUBLE, offsetof(struct io_remap_params, duration), "1", .min = "0.01",
	  .max = "3600", .help = "seconds of the timed window of each repetition" },
	{ "inject_flip_at", MMR_T_INT, offsetof(struct io_remap_params, inject_flip_at), "-1",
	  .min = "-1", .max = "1099511627776",
	  .help = "test hook: flip a bit of the byte at this file offset in the first read-back "
		  "that covers it; the case must fail naming the offset (-1: off)" },
	{ "inject_stall", MMR_T_BOOL, offsetof(struct io_remap_params, inject_stall), "false",
	  .help = "test hook: io thread 0 blocks in read() of an empty pipe after its first "
		  "block; the case must be reported as stalled with kernel stacks" },
	{ NULL },
};

static const struct mmr_metric io_remap_metrics[] = {
	{ "bytes_per_s", "bytes/s", MMR_HIGHER_IS_BETTER,
	  "bytes written plus bytes read back by all io threads per second of the window" },
	{ "write_p50_ns", "ns", MMR_LOWER_IS_BETTER, "median write call (that moved data)" },
	{ "write_p99_ns", "ns", MMR_LOWER_IS_BETTER, "99th percentile write call" },
	{ "write_p999_ns", "ns", MMR_LOWER_IS_BETTER, "99.9th percentile write call" },
	{ "read_p50_ns", "ns", MMR_LOWER_IS_BETTER, "median read call (that moved data)" },
	{ "read_p99_ns", "ns", MMR_LOWER_IS_BETTER, "99th percentile read call" },
	{ "read_p999_ns", "ns", MMR_LOWER_IS_BETTER, "99.9th percentile read call" },
	{ "write_efaults", "count", MMR_INFO_ONLY,
	  "writes that failed with EFAULT: the source was unmapped under them (retried)" },
	{ "read_efaults", "count", MMR_INFO_ONLY,
	  "reads that failed with EFAULT: the destination was unmapped under them (retried)" },
	{ "write_short", "count", MMR_INFO_ONLY, "writes that copied less than asked (retried)" },
	{ "read_short", "count", MMR_INFO_ONLY, "reads that copied less than asked (retried)" },
	{ "verified_bytes", "bytes", MMR_INFO_ONLY, "bytes read back and checked, all correct" },
	{ "churn_ops_per_s", "ops/s", MMR_INFO_ONLY, "mapping changes per second (churn threads)" },
	{ "fault_pages_per_s", "pages/s", MMR_HIGHER_IS_BETTER,
	  "pages faulted in per second by the fault threads" },
	{ "voluntary_ctxsw", "count", MMR_INFO_ONLY,
	  "voluntary context switches of the process in the window (it sleeps to wait)" },
	{ "involuntary_ctxsw", "count", MMR_INFO_ONLY,
	  "involuntary context switches of the process in the window (preempted)" },
	{ "minor_faults", "count", MMR_INFO_ONLY,
	  "minor page faults of the process in the window" },
	{ "major_faults", "count", MMR_INFO_ONLY,
	  "major page faults of the process in the window" },
	{ "mmap_lock_contentions", "count", MMR_LOWER_IS_BETTER,
	  "contentions on mmap_lock in the window (/proc/lock_stat, all processes)" },
	{ "mmap_lock_wait_us", "us", MMR_LOWER_IS_BETTER,
	  "time spent waiting for mmap_lock in the window (/proc/lock_stat, all processes)" },
	{ NULL },
};

/* ---- planning ---- */

static const char *file_dir(const struct io_remap_params *p)
{
	const char *tmp = getenv("TMPDIR");

	if (p->dir[0])
		return p->dir;
	return tmp && tmp[0] ? tmp : "/var/tmp";
}

static uint64_t span_of(const struct io_remap_params *p)
{
	return p->file_size / (uint64_t)p->io_threads / p->io_size * p->io_size;
}

static int plan_dir(struct mmr_plan *plan, const struct io_remap_params *p)
{
	const char *dir = file_dir(p);
	struct statvfs vfs;
	struct stat st;
	uint64_t avail;
	char need[16], have[16];

	if (stat(dir, &st))
		return mmr_plan_invalid(plan, "dir \"%s\": %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return mmr_plan_invalid(plan, "dir \"%s\": not a directory", dir);
	if (access(dir, W_OK | X_OK))
		return mmr_plan_skip(plan, "dir \"%s\" is not writable here: %s", dir,
				     strerror(errno));
	if (statvfs(dir, &vfs))
		return mmr_plan_skip(plan, "statvfs %s: %s", dir, strerror(errno));
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail < p->file_size + DISK_SLACK) {
		mmr_format_size(p->file_size + DISK_SLACK, need, sizeof(need));
		mmr_format_size(avail / MMR_MiB * MMR_MiB, have, sizeof(have));
		return mmr_plan_skip(plan, "dir \"%s\" has %s free, the file needs %s", dir, have,
				     need);
	}
	return 0;
}

static bool fixed_buffer_too_big(const struct io_remap_params *p, uint64_t span)
{
	return !strcmp(p->io, "uring-fixed") && !strcmp(p->buffers, "self") && span > MMR_GiB;
}

static int io_remap_plan(struct mmr_plan *plan, const void *params)
{
	const struct io_remap_params *p = params;
	uint64_t page = mmr_page_size(), span = span_of(p), nio = (uint64_t)p->io_threads;
	uint64_t pinned, buffers;
	char sz[16];
	struct rlimit ml;

	if (p->io_size % page)
		return mmr_plan_invalid(plan,
					"io_size %llu is not a multiple of the page size %llu",
					(unsigned long long)p->io_size, (unsigned long long)page);
	if (p->fault_size % page)
		return mmr_plan_invalid(
			plan, "fault_size %llu is not a multiple of the page size %llu",
			(unsigned long long)p->fault_size, (unsigned long long)page);
	if (!span) {
		mmr_format_size(p->io_size, sz, sizeof(sz));
		return mmr_plan_invalid(plan,
					"file_size %llu leaves each of the %lld io_threads less "
					"than one io_size (%s) of its own",
					(unsigned long long)p->file_size, (long long)p->io_threads,
					sz);
	}
	if (p->inject_flip_at >= 0 && (uint64_t)p->inject_flip_at >= span * nio)
		return mmr_plan_invalid(
			plan,
			"inject_flip_at %lld is beyond the %llu bytes of file the io "
			"threads use",
			(long long)p->inject_flip_at, (unsigned long long)(span * nio));
	if (strcmp(p->io, "sync") && !mmr_probes()->io_uring)
		return mmr_plan_skip(plan, "io=%s needs io_uring: %s", p->io,
				     mmr_probes()->io_uring_why);
	/* memfd buffers: a source and a destination per io thread; self: a
	 * private buffer each to read the file back into */
	buffers = strcmp(p->buffers, "self") ? 2 * p->io_size * nio : p->io_size * nio;
	pinned = strcmp(p->buffers, "self") ? 2 * p->io_size * nio : 2 * span * nio;
	if (!strcmp(p->io, "uring-fixed") && geteuid() != 0 &&
	    getrlimit(RLIMIT_MEMLOCK, &ml) == 0 && ml.rlim_cur != RLIM_INFINITY &&
	    ml.rlim_cur < pinned)
		return mmr_plan_skip(plan,
				     "fixed buffers pin %llu bytes: needs RLIMIT_MEMLOCK >= "
				     "that, or root",
				     (unsigned long long)pinned);
	if (fixed_buffer_too_big(p, span))
		return mmr_plan_invalid(plan,
					"io=uring-fixed buffers=self registers each io "
					"thread's range as a buffer, at most 1G; this one is %llu",
					(unsigned long long)span);
	if (!strcmp(p->fs, "dir")) {
		int ret = plan_dir(plan, p);

		if (ret)
			return ret;
	}
	/* the file's pages (page cache, or shmem for tmpfs), the buffers, the
	 * fault threads' memory, and stacks, rings and histograms */
	mmr_plan_footprint(plan, span * nio + buffers + p->fault_size * (uint64_t)p->fault_threads +
					 32 * MMR_MiB);
	return 0;
}

/* ---- setup ---- */

/* Zeroed room for n thread structs, each on cache lines of its own. */
static void *zalloc_aligned(size_t n, size_t size)
{
	void *p = aligned_alloc(64, n ? n * size : 64);

	if (p)
		memset(p, 0, n ? n * size : 64);
	return p;
}

static int start_fleet(struct mmr_ctx *ctx, struct io_remap_state *s)
{
	const struct io_remap_params *p = s->p;
	char name[16];
	int ret = 0;

	s->fleet = mmr_fleet_new(ctx);
	if (!s->fleet)
		return -ENOMEM;
	for (unsigned i = 0; !ret && i < (unsigned)p->io_threads; i++) {
		snprintf(name, sizeof(name), "io%u", i);
		ret = mmr_fleet_add(s->fleet, name, io_remap_io_unit, &s->io[i]);
	}
	for (unsigned i = 0; !ret && i < (unsigned)p->churn_threads; i++) {
		snprintf(name, sizeof(name), "churn%u", i);
		ret = mmr_fleet_add(s->fleet, name, io_remap_churn_unit, &s->churn[i]);
	}
	for (unsigned i = 0; !ret && i < (unsigned)p->fault_threads; i++) {
		snprintf(name, sizeof(name), "fault%u", i);
		ret = mmr_fleet_add(s->fleet, name, io_remap_fault_unit, &s->fault[i]);
	}
	return ret ? mmr_fail(ctx, "starting threads: %s", strerror(-ret)) : 0;
}

static int setup_side_threads(struct mmr_ctx *ctx, struct io_remap_state *s)
{
	const struct io_remap_params *p = s->p;

	for (unsigned i = 0; i < (unsigned)p->churn_threads; i++)
		s->churn[i] = (struct side_thread){ .s = s, .idx = i, .rng = mmr_random(ctx) | 1 };
	for (unsigned i = 0; i < (unsigned)p->fault_threads; i++) {
		struct side_thread *f = &s->fault[i];
		void *m = mmap(NULL, p->fault_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		*f = (struct side_thread){ .s = s, .idx = i };
		if (m == MAP_FAILED)
			return mmr_fail(ctx, "mmap of fault memory: %s", strerror(errno));
		f->region = m;
		/* 4K folios: a fault per page, whatever THP is set to */
		madvise(m, p->fault_size, MADV_NOHUGEPAGE);
	}
	return 0;
}

static int io_remap_setup(struct mmr_ctx *ctx)
{
	const struct io_remap_params *p = mmr_params(ctx);
	struct io_remap_state *s = mmr_state(ctx);
	struct mmr_lockstat probe;
	char why[160];
	int ret;

	s->p = p;
	s->fd = s->stall_pipe[0] = s->stall_pipe[1] = -1;
	s->uring = strcmp(p->io, "sync") != 0;
	s->fixed = !strcmp(p->io, "uring-fixed");
	s->self = !strcmp(p->buffers, "self");
	s->span = span_of(p);
	s->io = zalloc_aligned((size_t)p->io_threads, sizeof(*s->io));
	s->churn = zalloc_aligned((size_t)p->churn_threads, sizeof(*s->churn));
	s->fault = zalloc_aligned((size_t)p->fault_threads, sizeof(*s->fault));
	for (unsigned i = 0; s->io && i < (unsigned)p->io_threads; i++) {
		struct io_thread *t = &s->io[i];

		t->s = s;
		t->idx = i;
		t->base = i * s->span;
		t->gen = 1;
		t->src_memfd = t->dst_memfd = t->src.fd = t->dst.fd = -1;
		pthread_mutex_init(&t->src.churn_lock, NULL);
		pthread_mutex_init(&t->dst.churn_lock, NULL);
	}
	if (!s->io || !s->churn || !s->fault)
		return -ENOMEM;
	mmr_pattern_init(&s->pat, mmr_random(ctx));
	ret = io_remap_open_file(ctx, s, file_dir(p));
	if (!ret)
		ret = io_remap_fill_file(ctx, s);
	for (unsigned i = 0; !ret && i < (unsigned)p->io_threads; i++) {
		ret = io_remap_setup_buffers(ctx, s, &s->io[i]);
		if (!ret && s->uring)
			ret = io_remap_setup_ring(ctx, s, &s->io[i]);
	}
	if (!ret)
		ret = setup_side_threads(ctx, s);
	if (!ret && p->inject_stall && pipe2(s->stall_pipe, O_CLOEXEC))
		ret = -errno;
	if (ret)
		return ret;
	s->lockstat_on = mmr_lockstat_read(&probe, why, sizeof(why)) == 0;
	mmr_lockstat_free(&probe);
	mmr_extra_str(ctx, "lock_stat", s->lockstat_on ? "collected" : why);
	mmr_extra_u64(ctx, "range_per_io_thread_bytes", s->span);
	return start_fleet(ctx, s);
}

/* ---- a repetition ---- */

static int io_remap_prepare(struct mmr_ctx *ctx)
{
	struct io_remap_state *s = mmr_state(ctx);

	/* every thread is parked: its numbers are ours to reset */
	for (unsigned i = 0; i < (unsigned)s->p->io_threads; i++) {
		struct io_thread *t = &s->io[i];

		mmr_hist_reset(&t->lat[WR]);
		mmr_hist_reset(&t->lat[RD]);
		t->bytes = t->verified = 0;
		memset(t->efault, 0, sizeof(t->efault));
		memset(t->shorts, 0, sizeof(t->shorts));
	}
	for (unsigned i = 0; i < (unsigned)s->p->churn_threads; i++)
		s->churn[i].ops = 0;
	for (unsigned i = 0; i < (unsigned)s->p->fault_threads; i++)
		s->fault[i].pages = 0;
	return 0;
}

/* Add one repetition's lock_stat differences to the case's sums. */
static void add_lock_top(struct io_remap_state *s, json_t *d)
{
	const char *name, *k;
	json_t *row, *v;

	if (!s->lock_top)
		s->lock_top = json_object();
	json_object_foreach (d, name, row) {
		json_t *sum = json_object_get(s->lock_top, name);

		if (!sum) {
			json_object_set(s->lock_top, name, row);
			continue;
		}
		json_object_foreach (row, k, v) {
			json_t *old = json_object_get(sum, k);

			json_object_set_new(
				sum, k,
				json_is_integer(v)
					? json_integer(json_integer_value(old) +
						       json_integer_value(v))
					: json_real(json_number_value(old) + json_number_value(v)));
		}
	}
	json_decref(d);
}

static void sample_locks(struct mmr_ctx *ctx, struct io_remap_state *s,
			 const struct mmr_lockstat *before)
{
	struct mmr_lockstat after;
	uint64_t cont;
	double wait;
	char why[160];

	if (mmr_lockstat_read(&after, why, sizeof(why)))
		return;
	mmr_lockstat_delta_sum(before, &after, "mmap_lock", &cont, &wait);
	mmr_sample(ctx, "mmap_lock_contentions", (double)cont);
	mmr_sample(ctx, "mmap_lock_wait_us", wait);
	if (mmr_rep(ctx) >= 0)
		add_lock_top(s, mmr_lockstat_delta_json(before, &after, LOCK_TOP));
	mmr_lockstat_free(&after);
}

static void sample_all(struct mmr_ctx *ctx, struct io_remap_state *s, double secs,
		       const struct rusage *r0, const struct rusage *r1)
{
	const struct io_remap_params *p = s->p;
	uint64_t bytes = 0, verified = 0, efault[2] = { 0 }, shorts[2] = { 0 }, ops = 0, pages = 0;
	static const char *const q_name[2][3] = {
		{ "write_p50_ns", "write_p99_ns", "write_p999_ns" },
		{ "read_p50_ns", "read_p99_ns", "read_p999_ns" },
	};
	static const double q[3] = { 0.5, 0.99, 0.999 };

	mmr_hist_reset(&s->lat_all[WR]);
	mmr_hist_reset(&s->lat_all[RD]);
	for (unsigned i = 0; i < (unsigned)p->io_threads; i++) {
		struct io_thread *t = &s->io[i];

		for (int d = WR; d <= RD; d++) {
			mmr_hist_merge(&s->lat_all[d], &t->lat[d]);
			efault[d] += t->efault[d];
			shorts[d] += t->shorts[d];
		}
		bytes += t->bytes;
		verified += t->verified;
	}
	for (unsigned i = 0; i < (unsigned)p->churn_threads; i++)
		ops += s->churn[i].ops;
	for (unsigned i = 0; i < (unsigned)p->fault_threads; i++)
		pages += s->fault[i].pages;
	mmr_sample(ctx, "bytes_per_s", (double)bytes / secs);
	for (int d = WR; d <= RD; d++)
		for (int k = 0; k < 3 && s->lat_all[d].n; k++)
			mmr_sample(ctx, q_name[d][k], mmr_hist_quantile(&s->lat_all[d], q[k]));
	mmr_sample(ctx, "write_efaults", (double)efault[WR]);
	mmr_sample(ctx, "read_efaults", (double)efault[RD]);
	mmr_sample(ctx, "write_short", (double)shorts[WR]);
	mmr_sample(ctx, "read_short", (double)shorts[RD]);
	mmr_sample(ctx, "verified_bytes", (double)verified);
	if (p->churn_threads)
		mmr_sample(ctx, "churn_ops_per_s", (double)ops / secs);
	if (p->fault_threads)
		mmr_sample(ctx, "fault_pages_per_s", (double)pages / secs);
	mmr_sample(ctx, "voluntary_ctxsw", (double)(r1->ru_nvcsw - r0->ru_nvcsw));
	mmr_sample(ctx, "involuntary_ctxsw", (double)(r1->ru_nivcsw - r0->ru_nivcsw));
	mmr_sample(ctx, "minor_faults", (double)(r1->ru_minflt - r0->ru_minflt));
	mmr_sample(ctx, "major_faults", (double)(r1->ru_majflt - r0->ru_majflt));
}

static int io_remap_run(struct mmr_ctx *ctx)
{
	struct io_remap_state *s = mmr_state(ctx);
	struct mmr_lockstat before = { 0 };
	struct rusage r0, r1;
	bool locks = false, failed;
	char why[160];
	double secs;

	/* /proc/lock_stat is large: read it outside the window */
	if (s->lockstat_on)
		locks = mmr_lockstat_read(&before, why, sizeof(why)) == 0;
	getrusage(RUSAGE_SELF, &r0);
	mmr_op_begin(ctx, "io");
	failed = mmr_fleet_run(s->fleet, s->p->duration) != 0;
	secs = (double)mmr_op_end(ctx) / 1e9;
	getrusage(RUSAGE_SELF, &r1);
	if (locks && !failed)
		sample_locks(ctx, s, &before);
	mmr_lockstat_free(&before);
	if (failed)
		return mmr_fail(ctx, "%s", mmr_fleet_error(s->fleet));
	sample_all(ctx, s, secs, &r0, &r1);
	return 0;
}

/* ---- teardown ---- */

static void io_remap_teardown(struct mmr_ctx *ctx)
{
	struct io_remap_state *s = mmr_state(ctx);

	if (!s->p)
		return; /* setup never ran */
	/* every thread joined first: nothing uses what is freed below */
	mmr_fleet_free(s->fleet);
	for (unsigned i = 0; s->io && i < (unsigned)s->p->io_threads; i++)
		io_remap_free_buffers(s, &s->io[i]);
	for (unsigned i = 0; s->fault && i < (unsigned)s->p->fault_threads; i++)
		if (s->fault[i].region)
			munmap(s->fault[i].region, s->p->fault_size);
	if (s->lock_top)
		mmr_extra_json(ctx, "lock_stat_top", s->lock_top);
	if (s->fd >= 0)
		close(s->fd);
	if (s->stall_pipe[0] >= 0) {
		close(s->stall_pipe[0]);
		close(s->stall_pipe[1]);
	}
	free(s->io);
	free(s->churn);
	free(s->fault);
}

const struct mmr_workload io_remap_workload = {
	.abi = MMR_WORKLOAD_ABI,
	.name = "io_remap",
	.summary = "write()/read() and io_uring through mmapped buffers while other threads "
		   "unmap, remap and mprotect them; every byte verified",
	.claims = "C7",
	.params = io_remap_params,
	.metrics = io_remap_metrics,
	.params_size = sizeof(struct io_remap_params),
	.state_size = sizeof(struct io_remap_state),
	.default_reps = 5,
	.stall_timeout_s = 30,
	.plan = io_remap_plan,
	.setup = io_remap_setup,
	.prepare = io_remap_prepare,
	.run = io_remap_run,
	.teardown = io_remap_teardown,
};
