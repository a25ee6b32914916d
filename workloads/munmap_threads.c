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
 * it caused. Walkers (mode=walk) reach the region's pages through GUP-fast, a
 * lockless walk of the page tables the op tears down: by vmsplice() into a
 * pipe (read-only references), or by an O_DIRECT read() from a file into
 * them (pin_user_pages_fast for writing, in the block layer's direct I/O). After the run, analyze()
 * fits a cost model over every case of the sweep (per GiB, and per GiB per thread on another CPU)
 * and projects it to the claim's 496 GiB x 128 threads, labelled as an extrapolation.
 */
#include "mmrepro/crew.h"
#include "mmrepro/workload.h"
#include "munmap_threads.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

/* A member that does not answer a release or a park within this long is
 * reported by name (the harness's case timeout would only say "hang"). */
#define CREW_DEADLINE_S 30
/* Bytes one call of a walker covers: 16 pages, a default pipe's capacity;
 * for O_DIRECT a multiple of any logical block size, at page-aligned
 * addresses. The O_DIRECT walkers' file is this long. */
#define WALK_CHUNK  (64 * 1024)
#define TMPFS_MAGIC 0x01021994

enum op { OP_MUNMAP, OP_PARTIAL, OP_HALVES, OP_DONTNEED };
enum mode { MODE_SPIN, MODE_TOUCH, MODE_WALK, MODE_SLEEP };
enum walker { WALKER_VMSPLICE, WALKER_ODIRECT };

static const char *const ops[] = { "munmap", "munmap_partial", "munmap_pmd_halves", "dontneed",
				   NULL };
static const char *const modes[] = { "spin", "touch", "walk", "sleep", NULL };
static const char *const walkers[] = { "vmsplice", "odirect", NULL };
/* What a walker's call is, for messages. */
static const char *const walker_calls[] = { "vmsplice()", "O_DIRECT read()" };

struct munmap_threads_params {
	uint64_t size;
	const char *backing;
	const char *op;
	int64_t threads;
	const char *mode;
	uint64_t buffer;
	const char *walker;
	const char *dir;
};

/* One per thread, on cache lines of its own: members never share a line.
 * Each one's walker calls are its crew units (mmr_crew_units()). */
struct member {
	_Alignas(64) atomic_uint_least64_t efaults, errors;
	atomic_int last_errno;
	uint64_t off; /* walk: where its next call starts in the region */
	int pipe[2];  /* walker=vmsplice: its target, drained to /dev/null */
	char *buf;    /* touch: the private buffer */
};

struct munmap_threads_state {
	struct mmr_backing backing;
	struct mmr_region region;
	enum op op;
	enum mode mode;
	enum walker walker;
	unsigned nthreads;
	struct member *members;
	struct mmr_crew *crew;
	bool released;
	int devnull;
	int odirect_fd;		     /* walker=odirect: the file, opened O_DIRECT */
	char odirect_path[PATH_MAX]; /* its name while it exists, else "" */
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
		  "buffer), walk (keep reaching pages of the region through lockless GUP-fast "
		  "page-table walks racing with op, the way walker says; EFAULT once the range "
		  "is gone is counted), sleep (blocked, off the CPU: the control)" },
	{ "buffer", MMR_T_SIZE, offsetof(struct munmap_threads_params, buffer), "64K", .min = "4K",
	  .max = "1G", .help = "mode=touch: bytes of the private buffer each thread writes" },
	{ "walker", MMR_T_ENUM, offsetof(struct munmap_threads_params, walker), "vmsplice",
	  .choices = walkers,
	  .help = "mode=walk: how each thread walks 64K of the region at a time: vmsplice "
		  "(vmsplice() of its pages into a pipe: read-only references), odirect (an "
		  "O_DIRECT read() from a file into them: pin_user_pages_fast for writing, "
		  "through the block layer's direct I/O; the file is made in dir and removed "
		  "after the case)" },
	{ "dir", MMR_T_STRING, offsetof(struct munmap_threads_params, dir), "",
	  .help = "walker=odirect: directory for the file, on a filesystem that does O_DIRECT "
		  "through the block layer (tmpfs only copies); empty: the first of $TMPDIR, "
		  "/var/tmp, /tmp that does, else the case is skipped" },
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
	  "mode=walk: walker calls of all threads during op (vmsplice() or O_DIRECT read(), "
	  "as walker says)" },
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

/* walker=odirect with a dir named: it must be one, on a filesystem whose
 * O_DIRECT pins pages. Whether it reads with O_DIRECT at all, setup() tries. */
static int plan_odirect_dir(struct mmr_plan *plan, const struct munmap_threads_params *p)
{
	struct statfs fs;
	struct stat st;

	if (!p->dir[0])
		return 0;
	if (stat(p->dir, &st))
		return mmr_plan_invalid(plan, "dir \"%s\": %s", p->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return mmr_plan_invalid(plan, "dir \"%s\": not a directory", p->dir);
	if (statfs(p->dir, &fs) == 0 && fs.f_type == TMPFS_MAGIC)
		return mmr_plan_skip(
			plan,
			"walker=odirect: dir \"%s\" is on tmpfs, which serves O_DIRECT "
			"by copying through its page cache: no page of the region "
			"would be pinned",
			p->dir);
	return 0;
}

static int plan_limits(struct mmr_plan *plan, const struct munmap_threads_params *p)
{
	uint64_t map_count = 0;
	struct rlimit nofile;
	char val[32];

	if (!strcmp(p->mode, "walk") && !strcmp(p->walker, "odirect") && p->threads) {
		int ret = plan_odirect_dir(plan, p);

		if (ret)
			return ret;
	}
	if (!strcmp(p->mode, "walk") && !strcmp(p->walker, "vmsplice") &&
	    getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_max != RLIM_INFINITY &&
	    2 * (uint64_t)p->threads + 64 > nofile.rlim_max)
		return mmr_plan_skip(plan,
				     "walker=vmsplice with %lld threads needs %llu file "
				     "descriptors (a pipe each); RLIMIT_NOFILE allows %llu",
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

/* A walker's call returned n (errno err): EFAULT (the range is gone) is
 * counted apart from other failures, and nothing (n == 0) is a failure too;
 * then on to the next THP, at another offset inside it. */
static void walk_done(struct munmap_threads_state *s, struct member *m, ssize_t n, int err)
{
	uint64_t span = s->len - WALK_CHUNK + 1;

	if (n < 0 && err == EFAULT) {
		atomic_fetch_add_explicit(&m->efaults, 1, memory_order_relaxed);
	} else if (n <= 0) {
		atomic_store_explicit(&m->last_errno, n < 0 ? err : ENODATA, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->errors, 1, memory_order_relaxed);
	}
	m->off = (m->off + mmr_pmd_size() + WALK_CHUNK) % span;
	m->off -= m->off % mmr_page_size();
}

/* One vmsplice(): references on the pages through GUP-fast, a lockless
 * walk of the page tables that munmap or MADV_DONTNEED tears down under it. */
static int vmsplice_unit(struct mmr_crew *crew, unsigned i, void *arg)
{
	struct munmap_threads_state *s = arg;
	struct member *m = &s->members[i];
	struct iovec iov = { s->base + m->off, WALK_CHUNK };
	ssize_t n = vmsplice(m->pipe[1], &iov, 1, SPLICE_F_NONBLOCK);
	int err = errno;

	(void)crew;
	if (n > 0)
		drain(s, m, (size_t)n);
	walk_done(s, m, n, err);
	return 0;
}

/*
 * One O_DIRECT read() of the file into the region: the block layer pins the
 * pages for writing with pin_user_pages_fast(), the same lockless walk, and
 * the device writes them. A read that pinned its pages before the op took
 * them away completes into the pinned pages, never into a later mapping.
 * Unlike vmsplice() it writes, so once it has found the range gone it stops:
 * a later read could land in whatever gets mapped at that address next.
 */
static int odirect_unit(struct mmr_crew *crew, unsigned i, void *arg)
{
	struct munmap_threads_state *s = arg;
	struct member *m = &s->members[i];
	ssize_t n = pread(s->odirect_fd, s->base + m->off, WALK_CHUNK, 0);
	int err = errno;

	walk_done(s, m, n, err);
	if (n < 0 && err == EFAULT)
		mmr_crew_wait_stop(crew);
	return 0;
}

/* One pass of writes over the thread's private buffer. */
static int touch_unit(struct mmr_crew *crew, unsigned i, void *arg)
{
	struct munmap_threads_state *s = arg;
	volatile char *buf = s->members[i].buf;

	(void)crew;
	for (uint64_t off = 0; off < s->buffer; off += 64)
		buf[off]++;
	return 0;
}

/* Nothing: a busy loop in user mode on this CPU, with this mm loaded. */
static int spin_unit(struct mmr_crew *crew, unsigned i, void *arg)
{
	(void)crew, (void)i, (void)arg;
	return 0;
}

/* Blocked, off the CPU, until parked: the control. */
static int sleep_unit(struct mmr_crew *crew, unsigned i, void *arg)
{
	(void)i, (void)arg;
	mmr_crew_wait_stop(crew);
	return 0;
}

static const mmr_crew_unit mode_units[] = {
	[MODE_SPIN] = spin_unit,
	[MODE_TOUCH] = touch_unit,
	[MODE_WALK] = vmsplice_unit, /* walker=odirect: odirect_unit */
	[MODE_SLEEP] = sleep_unit,
};

/* ---- walker=odirect: the file ---- */

/* Unlink the file, then drop its record (kept while it may still exist). */
static void odirect_remove(struct munmap_threads_state *s)
{
	if (!s->odirect_path[0])
		return;
	if (unlink(s->odirect_path) == 0 || errno == ENOENT)
		mmr_resource_file_drop(s->odirect_path);
	s->odirect_path[0] = '\0';
}

/* Fill the new file and write it back: an O_DIRECT read of a hole or of
 * delayed allocation fills the buffer without pinning anything. */
static int odirect_fill(const char *path, const char *dir, char *buf, char *why, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	memset(buf, 0xa5, WALK_CHUNK);
	if (fd < 0 || pwrite(fd, buf, WALK_CHUNK, 0) != WALK_CHUNK || fdatasync(fd)) {
		snprintf(why, len, "writing a file in %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/* Open the file O_DIRECT and read it once into page-aligned memory. */
static int odirect_probe(struct munmap_threads_state *s, const char *dir, const char *fs, char *buf,
			 char *why, size_t len)
{
	int fd = open(s->odirect_path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(why, len, "%s (%s) does not open files with O_DIRECT: %s", dir, fs,
			 strerror(errno));
		return 1;
	}
	memset(buf, 0, WALK_CHUNK);
	n = pread(fd, buf, WALK_CHUNK, 0);
	if (n != WALK_CHUNK || (unsigned char)buf[WALK_CHUNK - 1] != 0xa5) {
		snprintf(why, len,
			 "an O_DIRECT read of %d bytes into page-aligned memory on %s (%s): %s",
			 WALK_CHUNK, dir, fs,
			 n < 0		   ? strerror(errno)
			 : n != WALK_CHUNK ? "a short read"
					   : "wrong data");
		close(fd);
		return 1;
	}
	s->odirect_fd = fd;
	return 0;
}

/*
 * The walkers' file in dir: recorded before it exists, so that it is removed
 * even when mmrepro is killed; filled; read once with O_DIRECT. 0: ready in
 * s->odirect_fd; 1: dir cannot serve (why says why); < 0: an error.
 */
static int odirect_try(struct mmr_ctx *ctx, struct munmap_threads_state *s, const char *dir,
		       char *why, size_t len)
{
	char magic[32], *buf;
	const char *fs;
	struct statfs sfs;
	uint32_t rnd;
	int fd, ret;

	if (statfs(dir, &sfs)) {
		snprintf(why, len, "%s: %s", dir, strerror(errno));
		return 1;
	}
	fs = mmr_fs_name((unsigned long)sfs.f_type, magic, sizeof(magic));
	if (sfs.f_type == TMPFS_MAGIC) {
		snprintf(why, len, "%s is on tmpfs, which serves O_DIRECT by copying", dir);
		return 1;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)mmr_now_ns();
	snprintf(s->odirect_path, sizeof(s->odirect_path), "%s/mmrepro-munmap_threads-%d-%08x", dir,
		 (int)getpid(), rnd);
	ret = mmr_resource_file_add(s->odirect_path);
	if (ret) {
		s->odirect_path[0] = '\0';
		return mmr_fail(ctx, "recording the walkers' file in %s: %s", dir, strerror(-ret));
	}
	fd = open(s->odirect_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, len, "cannot create a file in %s: %s", dir, strerror(errno));
		mmr_resource_file_drop(s->odirect_path); /* not ours, if it exists */
		s->odirect_path[0] = '\0';
		return 1;
	}
	close(fd);
	buf = mmap(NULL, WALK_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		odirect_remove(s);
		return -ENOMEM;
	}
	ret = odirect_fill(s->odirect_path, dir, buf, why, len);
	if (!ret)
		ret = odirect_probe(s, dir, fs, buf, why, len);
	munmap(buf, WALK_CHUNK);
	if (ret) {
		odirect_remove(s);
		return ret;
	}
	mmr_extra_str(ctx, "odirect_dir", dir);
	mmr_extra_str(ctx, "odirect_fs", fs);
	return 0;
}

/* The directory named by dir, or the first of $TMPDIR, /var/tmp, /tmp that
 * reads with O_DIRECT into pinned pages; else the case is skipped. */
static int odirect_open(struct mmr_ctx *ctx, struct munmap_threads_state *s, const char *dir)
{
	const char *tmp = getenv("TMPDIR");
	const char *cand[3] = { dir[0]		? dir
				: tmp && tmp[0] ? tmp
						: "/var/tmp",
				"/var/tmp", "/tmp" };
	char why[512], whys[1600] = "";
	int ret = 1;

	for (size_t i = 0; i < (dir[0] ? 1 : 3) && ret > 0; i++) {
		if (i && !strcmp(cand[i], cand[0]))
			continue; /* $TMPDIR was one of them */
		ret = odirect_try(ctx, s, cand[i], why, sizeof(why));
		if (ret > 0)
			snprintf(whys + strlen(whys), sizeof(whys) - strlen(whys), "%s%s",
				 whys[0] ? "; " : "", why);
	}
	if (ret <= 0)
		return ret;
	if (dir[0])
		return mmr_skip(ctx, "walker=odirect: %s", whys);
	return mmr_skip(ctx,
			"walker=odirect: no directory of $TMPDIR, /var/tmp, /tmp reads with "
			"O_DIRECT into pinned pages (%s); name one with dir",
			whys);
}

/* ---- the case ---- */

static int setup_members(struct mmr_ctx *ctx, const struct munmap_threads_params *p,
			 struct munmap_threads_state *s)
{
	struct rlimit nofile;

	if (posix_memalign((void **)&s->members, 64, s->nthreads * sizeof(*s->members)))
		return -ENOMEM;
	memset(s->members, 0, s->nthreads * sizeof(*s->members));
	for (unsigned i = 0; i < s->nthreads; i++)
		s->members[i].pipe[0] = s->members[i].pipe[1] = -1;
	if (s->mode == MODE_WALK && s->walker == WALKER_ODIRECT) {
		/*
		 * An O_DIRECT walker writes into whatever is mapped at its address
		 * by the time it pins it. Between the op and parking the walkers the
		 * main thread must map nothing new into the region's range: take
		 * its allocations (counters, messages) from the heap, never mmap.
		 */
		mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
		return odirect_open(ctx, s, p->dir);
	}
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

		if (s->mode == MODE_WALK && s->walker == WALKER_VMSPLICE &&
		    pipe2(m->pipe, O_NONBLOCK | O_CLOEXEC))
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
	struct mmr_crew_group group;
	int ret;

	s->devnull = s->odirect_fd = -1;
	if (mmr_backing_parse(p->backing, &s->backing))
		return mmr_invalid(ctx, "unknown backing %s", p->backing);
	s->op = (enum op)index_of(ops, p->op);
	s->mode = (enum mode)index_of(modes, p->mode);
	s->walker = (enum walker)index_of(walkers, p->walker);
	s->nthreads = (unsigned)p->threads;
	s->buffer = p->buffer;
	s->have_tlb_row = interrupts_have_tlb_row();
	if (!s->have_tlb_row)
		mmr_log(ctx, "/proc/interrupts has no TLB-shootdown row on this architecture: "
			     "tlb_ipis is not recorded");
	mmr_extra_u64(ctx, "threads", s->nthreads);
	if (s->mode == MODE_WALK)
		mmr_extra_str(ctx, "walker", walkers[s->walker]);
	if (!s->nthreads) {
		mmr_extra_u64(ctx, "other_cpus", 0);
		return 0;
	}
	ret = setup_members(ctx, p, s);
	if (ret)
		return ret;
	/* named after their mode (walk-0...), off the CPU that times op */
	group = (struct mmr_crew_group){ p->mode, s->nthreads, mode_units[s->mode], s };
	if (s->mode == MODE_WALK && s->walker == WALKER_ODIRECT)
		group.unit = odirect_unit;
	ret = mmr_crew_start(ctx, &group, 1, MMR_CREW_BESIDE_MAIN, CREW_DEADLINE_S, &s->crew);
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
		s->members[i].off = (i * extents / s->nthreads) * pmd % (s->len - WALK_CHUNK + 1);
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
		*calls += mmr_crew_units(s->crew, i);
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

	if (s->crew) { /* where they ran: pinned, or where they said they ran */
		mmr_extra_u64(ctx, "other_cpus", mmr_crew_other_cpus(s->crew));
		mmr_extra_u64(ctx, "threads_on_main_cpu", mmr_crew_on_main_cpu(s->crew));
	}
	if (s->crew && s->mode == MODE_WALK) {
		uint64_t calls, efaults;

		/* every repetition, the op and the moments around it */
		walker_totals(s, &calls, &efaults);
		mmr_extra_u64(ctx, "walker_calls_total", calls);
		mmr_extra_u64(ctx, "walker_efaults_total", efaults);
	}
	odirect_remove(s); /* its descriptor stays open while a walker may use it */
	if (s->crew && mmr_crew_finish(s->crew)) {
		mmr_fail(ctx, "%s", mmr_crew_error(s->crew));
		return; /* that thread may still use the members: leave them */
	}
	if (s->crew)
		mmr_extra_u64(ctx, "threads_joined", s->nthreads);
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
		mmr_log(ctx, "walkers: %llu %s calls failed other than with EFAULT (last: %s)",
			(unsigned long long)errors, walker_calls[s->walker], strerror(last));
	free(s->members);
	if (s->devnull >= 0)
		close(s->devnull);
	if (s->odirect_fd >= 0)
		close(s->odirect_fd);
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
