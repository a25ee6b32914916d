// SPDX-License-Identifier: GPL-2.0
/*
 * sga_attach — many processes mapping one shared SGA (CLAIMS C5).
 *
 * A database's SGA is one large shared segment that every server process
 * maps, and every mapping costs its process page tables of its own: with
 * 4 KiB pages one 4 KiB PTE table per 2 MiB, so 1500 processes mapping all of
 * a 300 GB SGA need ~878 GB of PTEs. The remedies: hugetlb pages (no PTE
 * tables) mapped so that x86 shares their PMD tables between processes
 * (whole PUD-aligned GiBs at the same file offset), or mshare (not merged).
 *
 * setup() creates the SGA with the chosen backing and populates it once;
 * every repetition then proves its folios and
 *   1. spawns `procs` processes (a harness fleet), which wait at a gate;
 *   2. opens the gate: each attaches the SGA (all of it, or a `fraction`
 *      window at its own offset) and touches it, `concurrency` at a time;
 *   3. measures the fleet at the barrier: PageTables growth of the system,
 *      each member's VmPTE growth, minor faults, attach and touch times, the
 *      SGA's resident bytes;
 *   4. releases it: every member detaches and exits, timed as the teardown.
 * The page-table model (ptmodel.h) gives the expected bytes of the same
 * mappings; the report shows measured / expected, and projects the measured
 * bytes per GiB per process to the claim's 300 GB x 1500 processes.
 */
#include "mmrepro/workload.h"
#include "mmrepro/env.h"
#include "mmrepro/stats.h"
#include "sga_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#define HUGE_FLAG_SHIFT 26 /* MFD_HUGE_SHIFT == SHM_HUGE_SHIFT: log2(page size) goes here */

/* The claim's scale (CLAIMS.md C5), for the projection. */
#define CLAIM_SGA_BYTES 300e9
#define CLAIM_PROCS	1500
#define CLAIM_PT_BYTES	878e9

#define NS_PER_S 1000000000ULL
#define MAX_REPS 1024 /* repetitions kept for the model's medians */

static const char *const sga_backings[] = { "sysv",
					    "sysv-hugetlb",
					    "memfd",
					    "shmem-thp",
					    "hugetlbfs-aligned",
					    "hugetlbfs-misaligned",
					    "mshare",
					    NULL };
static const char *const touch_modes[] = { "read", "write", "none", NULL };
static const char *const hugetlb_sizes[] = { "2M", "1G", NULL };
static const char *const placement_names[] = { "kernel", "aligned", "misaligned" };

static const struct mmr_param sga_params[] = {
	{ "sga_size", MMR_T_SIZE, offsetof(struct sga_params, sga_size), "1G", .min = "2M",
	  .max = "1T", .help = "bytes of the shared segment (a multiple of its page size)" },
	{ "backing", MMR_T_ENUM, offsetof(struct sga_params, backing), "memfd",
	  .choices = sga_backings,
	  .help = "sysv (shmget/shmat, 4K) | sysv-hugetlb (SHM_HUGETLB) | memfd (shmem, 4K) | "
		  "shmem-thp (memfd, shmem_thp_size folios) | hugetlbfs-aligned (hugetlbfs file, "
		  "each window at a GiB of the file mapped at a GiB of address space: x86 shares "
		  "PMD tables; windows of at least 1G) | hugetlbfs-misaligned (the same windows, "
		  "mapped 2 MiB past the GiB: the GiBs at their ends cannot be shared) | mshare (always skipped, with the reason: its API is unmerged)" },
	{ "procs", MMR_T_INT, offsetof(struct sga_params, procs), "64", .min = "1", .max = "100000",
	  .help = "processes that attach the SGA" },
	{ "fraction", MMR_T_DOUBLE, offsetof(struct sga_params, fraction), "1", .min = "0.0001",
	  .max = "1",
	  .help = "part of the SGA each process touches: a window of this fraction, at its own "
		  "offset (SysV attaches the whole segment and touches the window; the hugetlbfs "
		  "backings start windows at GiB offsets)" },
	{ "touch", MMR_T_ENUM, offsetof(struct sga_params, touch), "read", .choices = touch_modes,
	  .help = "how each process touches its window after attaching" },
	{ "touch_stride", MMR_T_SIZE, offsetof(struct sga_params, touch_stride), "4K", .min = "4K",
	  .max = "1G",
	  .help = "bytes between touches (4K: every page; 2M: one touch per PTE table)" },
	{ "concurrency", MMR_T_INT, offsetof(struct sga_params, concurrency), "0", .min = "0",
	  .max = "100000",
	  .help = "processes attaching and touching at once (0: one per CPU of the case; procs: "
		  "all at once, a connection storm)" },
	{ "hugetlb_size", MMR_T_ENUM, offsetof(struct sga_params, hugetlb_size), "2M",
	  .choices = hugetlb_sizes, .help = "hugetlb page size of the hugetlb backings" },
	{ "shmem_thp_size", MMR_T_SIZE, offsetof(struct sga_params, shmem_thp_size), "2M",
	  .min = "8K", .max = "2M",
	  .help = "folio size of shmem-thp (a per-size shmem mTHP size, or the PMD size)" },
	{ "hold", MMR_T_DOUBLE, offsetof(struct sga_params, hold), "0", .min = "0", .max = "3600",
	  .help = "seconds the fleet stays attached at the barrier after the measurements (to "
		  "look at it from outside)" },
	{ NULL },
};

static const struct mmr_metric sga_metrics[] = {
	{ "spawn_ns", "ns", MMR_LOWER_IS_BETTER,
	  "fork of every process until all wait at the gate" },
	{ "ready_ns", "ns", MMR_LOWER_IS_BETTER,
	  "gate opened until every process has attached and touched" },
	{ "spawn_to_ready_ns", "ns", MMR_LOWER_IS_BETTER, "spawn_ns + ready_ns" },
	{ "teardown_ns", "ns", MMR_LOWER_IS_BETTER,
	  "barrier released until every process has detached, exited and been reaped" },
	{ "attach_ns_p50", "ns", MMR_LOWER_IS_BETTER, "median over processes of shmat/mmap" },
	{ "attach_ns_p99", "ns", MMR_LOWER_IS_BETTER, "99th percentile of the same" },
	{ "attach_ns_max", "ns", MMR_LOWER_IS_BETTER, "slowest process" },
	{ "touch_ns_p50", "ns", MMR_LOWER_IS_BETTER,
	  "median over processes of touching the window" },
	{ "touch_ns_p99", "ns", MMR_LOWER_IS_BETTER, "99th percentile of the same" },
	{ "touch_ns_max", "ns", MMR_LOWER_IS_BETTER, "slowest process" },
	{ "detach_ns_p50", "ns", MMR_LOWER_IS_BETTER, "median over processes of shmdt/munmap" },
	{ "detach_ns_max", "ns", MMR_LOWER_IS_BETTER, "slowest process" },
	{ "minflt_p50", "count", MMR_LOWER_IS_BETTER,
	  "median over processes of minor faults while attaching and touching" },
	{ "minflt_max", "count", MMR_LOWER_IS_BETTER, "most minor faults of a process" },
	{ "minflt_sum", "count", MMR_LOWER_IS_BETTER, "minor faults of all processes together" },
	{ "pagetables_bytes", "bytes", MMR_LOWER_IS_BETTER,
	  "growth of PageTables (/proc/meminfo) while the fleet attached and touched" },
	{ "pagetables_per_proc_gib", "bytes", MMR_LOWER_IS_BETTER,
	  "pagetables_bytes per process per GiB of window" },
	{ "vmpte_sum_bytes", "bytes", MMR_LOWER_IS_BETTER,
	  "sum over processes of their VmPTE growth (a table shared by k processes counts k "
	  "times)" },
	{ "vmpte_p50_kb", "kB", MMR_LOWER_IS_BETTER, "median over processes of VmPTE growth" },
	{ "vmpte_p99_kb", "kB", MMR_LOWER_IS_BETTER, "99th percentile of the same" },
	{ "vmpte_max_kb", "kB", MMR_LOWER_IS_BETTER, "largest VmPTE growth of a process" },
	{ "sga_resident_bytes", "bytes", MMR_INFO_ONLY, "SGA bytes in memory at the barrier" },
	{ NULL },
};

/* What a member reports, in the fleet's shared memory. */
struct sga_result {
	uint64_t addr; /* start of the member's mapping */
	uint64_t attach_ns, touch_ns, detach_ns;
	int64_t vmpte_before_kb, vmpte_after_kb;
	uint64_t minflt;
	uint32_t pte_present, pmd_present; /* see edge_tables() */
	int32_t failed_step;		   /* STEP_* of a failure, with its errno */
	int32_t failed_errno;
};

enum { STEP_NONE, STEP_SHMGET, STEP_ATTACH, STEP_PLACE };
static const char *const step_names[] = { "", "shmget of the SGA's key", "attaching the SGA",
					  "placing the SGA at the chosen address" };

/* Per repetition, for the medians of the model and projection at the end. */
struct sga_rep {
	double pt_bytes, vmpte_sum_bytes, model_pt_bytes, model_vmpte_bytes;
};

struct sga_state {
	struct sga_geometry g;
	uint64_t size, stride;
	bool write, touch;
	unsigned procs;
	int fd;	   /* memfd backings */
	int shmid; /* SysV backings */
	key_t key;
	void *reserve; /* address space the chosen placements map into */
	size_t reserve_len;
	uint64_t base; /* 1 GiB-aligned, inside the reservation */
	struct mmr_fleet *fleet;
	struct mmr_pt_mapping *maps; /* per member, for the model */
	double *vals;		     /* per member, scratch for quantiles */
	struct sga_rep *reps;
	unsigned nreps;
	uint64_t hugetlb_used_before;  /* pool pages in use before the SGA */
	struct mmr_pt_count model_one; /* of member 0, for the report */
	uint64_t shared_pmd_tables;
	bool share_pmd;		  /* the kernel shares hugetlb PMD tables */
	const char *share_source; /* "kconfig" or "arch": what decided */
	char share_basis[192];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* JSON for a number that may be NaN (a ratio to a model of zero). */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static unsigned ilog2(uint64_t v)
{
	unsigned r = 0;

	while (v >>= 1)
		r++;
	return r;
}

#define PMD_SHARING_OPTION "CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING"

/*
 * Does this kernel share the PMD tables of hugetlb MAP_SHARED mappings?
 * Its config says so, when readable and it has the option; otherwise the
 * rule of the arches that select ARCH_WANT_HUGE_PMD_SHARE (older kernels
 * have no such option). What decided goes to the report.
 */
static void pmd_sharing(struct sga_state *s)
{
	json_t *k = mmr_kconfig();
	const char *src = json_string_value(json_object_get(k, "source"));
	const char *v = json_string_value(
		json_object_get(json_object_get(k, "options"), PMD_SHARING_OPTION));
	struct utsname u;

	if (v) {
		s->share_pmd = !strcmp(v, "y");
		s->share_source = "kconfig";
		snprintf(s->share_basis, sizeof(s->share_basis), "%s=%s in %s", PMD_SHARING_OPTION,
			 v, src);
	} else {
		bool named = !uname(&u);

		s->share_pmd =
			named && (!strcmp(u.machine, "x86_64") || !strcmp(u.machine, "aarch64") ||
				  !strcmp(u.machine, "riscv64"));
		s->share_source = "arch";
		snprintf(s->share_basis, sizeof(s->share_basis),
			 "%s %s; machine %s, an arch that %s",
			 src ? src : "no readable kernel config",
			 src ? "has no " PMD_SHARING_OPTION : "(/proc/config.gz, /boot/config-*)",
			 named ? u.machine : "unknown", s->share_pmd ? "shares" : "does not share");
	}
	json_decref(k);
}

int sga_geometry(const struct sga_params *p, struct sga_geometry *g, char *err, size_t len)
{
	uint64_t base_page = mmr_page_size(), fraction_bytes;
	char sz[16], wsz[16];

	memset(g, 0, sizeof(*g));
	for (int k = 0; sga_backings[k]; k++)
		if (!strcmp(p->backing, sga_backings[k]))
			g->kind = (enum sga_kind)k;
	g->sysv = g->kind == SGA_SYSV || g->kind == SGA_SYSV_HUGETLB;
	g->hugetlb = g->kind == SGA_SYSV_HUGETLB || g->kind == SGA_HUGETLBFS_ALIGNED ||
		     g->kind == SGA_HUGETLBFS_MISALIGNED;
	g->place = g->kind == SGA_HUGETLBFS_ALIGNED	 ? PLACE_ALIGNED
		   : g->kind == SGA_HUGETLBFS_MISALIGNED ? PLACE_MISALIGNED
							 : PLACE_KERNEL;
	if (g->hugetlb)
		mmr_parse_size(p->hugetlb_size, &g->page);
	else if (g->kind == SGA_SHMEM_THP)
		g->page = p->shmem_thp_size;
	else
		g->page = base_page;
	mmr_format_size(g->page, sz, sizeof(sz));
	if (g->page & (g->page - 1) || g->page < base_page) {
		snprintf(err, len, "shmem_thp_size %s is not a power of two of at least %llu bytes",
			 sz, (unsigned long long)base_page);
		return -EINVAL;
	}
	if (p->sga_size % g->page) {
		snprintf(err, len, "sga_size %llu is not a multiple of the SGA's %s pages",
			 (unsigned long long)p->sga_size, sz);
		return -EINVAL;
	}
	if (p->touch_stride % base_page) {
		snprintf(err, len, "touch_stride %llu is not a multiple of the %llu-byte page",
			 (unsigned long long)p->touch_stride, (unsigned long long)base_page);
		return -EINVAL;
	}
	if (g->place == PLACE_MISALIGNED && g->page >= MMR_GiB) {
		snprintf(err, len,
			 "hugetlbfs-misaligned needs pages smaller than 1G: a 1G page "
			 "cannot be mapped off a 1 GiB boundary");
		return -EINVAL;
	}
	g->order = ilog2(g->page / base_page);
	fraction_bytes = (uint64_t)(p->fraction * (double)p->sga_size);
	g->window = fraction_bytes / g->page * g->page;
	if (!g->window)
		g->window = g->page;
	mmr_format_size(g->window, wsz, sizeof(wsz));
	if (g->place == PLACE_ALIGNED && g->window < MMR_GiB) {
		snprintf(err, len,
			 "hugetlbfs-aligned needs a window (sga_size x fraction) of at least 1G "
			 "to share a PMD table, got %s: raise sga_size or fraction",
			 wsz);
		return -EINVAL;
	}
	/*
	 * The placed backings start every window at a GiB of the file, mapped
	 * at a GiB of address space (misaligned: 2 MiB past it), the next
	 * member's window a whole number of GiBs on: the aligned windows cover
	 * whole PUD-aligned GiBs that processes mapping the same file GiB share.
	 */
	g->grain = g->place == PLACE_KERNEL ? g->page : MMR_GiB;
	g->step = (g->window + g->grain - 1) / g->grain * g->grain;
	g->positions = (p->sga_size - g->window) / g->grain + 1;
	g->misalign = g->place == PLACE_MISALIGNED ? mmr_pmd_size() : 0;
	if (g->hugetlb)
		snprintf(g->label, sizeof(g->label), "hugetlb-%s", sz);
	else if (g->page == base_page)
		snprintf(g->label, sizeof(g->label), "4k");
	else if (g->page == mmr_pmd_size())
		snprintf(g->label, sizeof(g->label), "thp-pmd");
	else
		snprintf(g->label, sizeof(g->label), "mthp-%s", sz);
	return 0;
}

/*
 * Offset of member i's window. The kernel's placements: consecutive members
 * take consecutive windows, wrapping around the SGA a page further on. The
 * placed ones: a lap of windows a step apart from offset 0, the next lap a
 * GiB further on while the last window still fits, and so on around; every
 * offset is a multiple of the grain (1 GiB).
 */
uint64_t sga_window_offset(const struct sga_geometry *g, unsigned i)
{
	uint64_t slots = g->step / g->grain, lap, shifts;

	if (g->place == PLACE_KERNEL)
		return (uint64_t)i * slots % g->positions * g->grain;
	lap = (g->positions - 1) / slots + 1;
	shifts = g->positions - (lap - 1) * slots;
	return ((uint64_t)i % lap * slots + (uint64_t)i / lap % shifts) * g->grain;
}

/* ---- planning ---- */

/* mshare has been posted as syscalls and, in its latest form, as a filesystem
 * (msharefs, mounted on /sys/fs/mshare) driven by ioctls; it is not merged,
 * and its API changed in every posting: mmrepro attaches no mshare region,
 * it only says why the case is skipped. */
static int plan_mshare(struct mmr_plan *plan)
{
	char *fs = mmr_slurp("/proc/filesystems", NULL);
	bool present = fs && strstr(fs, "msharefs");

	free(fs);
	if (!present)
		return mmr_plan_skip(plan, "kernel has no msharefs (not in /proc/filesystems; "
					   "mshare is an unmerged patch series)");
	return mmr_plan_skip(plan, "msharefs found but its API is not merged upstream and "
				   "changes between versions; mmrepro has no attach path for it");
}

/* Page tables one member may need: its window mapped 2 MiB off a GiB
 * boundary (the most tables any placement costs), nothing shared. */
static uint64_t pt_bound(const struct sga_params *p, const struct sga_geometry *g)
{
	struct mmr_pt_mapping m = { .start = MMR_GiB + mmr_pmd_size(),
				    .len = g->window,
				    .touch_start = MMR_GiB + mmr_pmd_size(),
				    .touch_len = g->window,
				    .touch_stride = p->touch_stride,
				    .folio = g->page,
				    .hugetlb = g->hugetlb };
	struct mmr_pt_count c;

	mmr_pt_model_one(&m, &c);
	return mmr_pt_bytes(&c);
}

static int sga_plan(struct mmr_plan *plan, const void *params)
{
	const struct sga_params *p = params;
	struct sga_geometry g;
	char err[256];
	int ret;

	if (sga_geometry(p, &g, err, sizeof(err)))
		return mmr_plan_invalid(plan, "%s", err);
	if (g.kind == SGA_MSHARE)
		return plan_mshare(plan);
	ret = mmr_plan_fleet(plan, (uint64_t)p->procs);
	if (!ret && g.sysv)
		ret = mmr_plan_sysv_segment(plan, p->sga_size, g.hugetlb);
	if (!ret)
		ret = g.hugetlb ? mmr_plan_hugetlb_pool(plan, g.page, p->sga_size)
				: mmr_plan_shmem(plan, g.page);
	/* hugetlb pages are counted by the guard as pool growth */
	mmr_plan_footprint(plan, (g.hugetlb ? 0 : p->sga_size) +
					 (uint64_t)p->procs * pt_bound(p, &g) +
					 mmr_fleet_footprint((uint64_t)p->procs));
	return ret;
}

/* ---- the SGA ---- */

static int create_sga(struct mmr_ctx *ctx, struct sga_state *s)
{
	int huge = (int)(ilog2(s->g.page) << HUGE_FLAG_SHIFT);

	if (s->g.sysv) {
		s->shmid = mmr_shm_create(s->size, s->g.hugetlb ? SHM_HUGETLB | huge : 0, &s->key);
		if (s->shmid < 0)
			return mmr_fail(ctx, "shmget of %llu bytes%s: %s",
					(unsigned long long)s->size,
					s->g.hugetlb ? " (SHM_HUGETLB)" : "", strerror(-s->shmid));
		mmr_extra_u64(ctx, "sysv_key", (uint64_t)s->key);
		return 0;
	}
	s->fd = memfd_create("mmrepro-sga", MFD_CLOEXEC | (s->g.hugetlb ? MFD_HUGETLB | huge : 0));
	if (s->fd < 0)
		return mmr_fail(ctx, "memfd_create%s: %s", s->g.hugetlb ? " (MFD_HUGETLB)" : "",
				strerror(errno));
	if (ftruncate(s->fd, (off_t)s->size))
		return mmr_fail(ctx, "ftruncate of the SGA to %llu bytes: %s",
				(unsigned long long)s->size, strerror(errno));
	return 0;
}

/* Map all of the SGA into the case child, aligned for its largest folios. */
static void *map_whole(struct sga_state *s)
{
	uint64_t align = s->g.page > mmr_pmd_size() ? s->g.page : mmr_pmd_size();
	char *res, *at;
	void *p;

	if (s->g.sysv) {
		p = shmat(s->shmid, NULL, 0);
		return p == (void *)-1 ? NULL : p;
	}
	res = mmap(NULL, s->size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	at = (char *)(((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1));
	p = mmap(at, s->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, s->fd, 0);
	if (at > res)
		munmap(res, (size_t)(at - res));
	munmap(at + s->size, (size_t)(res + s->size + align - (at + s->size)));
	return p == MAP_FAILED ? NULL : p;
}

static void unmap_whole(struct sga_state *s, void *p)
{
	if (s->g.sysv)
		shmdt(p);
	else
		munmap(p, s->size);
}

/* Fault every page of a mapping in, reading or writing (kernels before 5.14
 * have no MADV_POPULATE_*: touch each page). */
static int fault_in(char *p, uint64_t len, bool write)
{
	if (!madvise(p, len, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ))
		return 0;
	if (errno != EINVAL)
		return -errno;
	for (uint64_t off = 0; off < len; off += mmr_page_size()) {
		if (write)
			p[off] = 1;
		else
			FORCE_READ(p[off]);
	}
	return 0;
}

static int populate(struct mmr_ctx *ctx, struct sga_state *s)
{
	char *p = map_whole(s);
	int ret;

	if (!p)
		return mmr_fail(ctx, "mapping the SGA to populate it: %s", strerror(errno));
	ret = fault_in(p, s->size, true);
	unmap_whole(s, p);
	if (ret)
		return mmr_fail(ctx, "populating the %llu-byte SGA: %s",
				(unsigned long long)s->size, strerror(-ret));
	return 0;
}

/* Pages of a hugetlb size in use on the system. */
static uint64_t hugetlb_used(uint64_t page)
{
	return mmr_hugetlb_pool(page, "nr_hugepages") - mmr_hugetlb_pool(page, "free_hugepages");
}

/* The rss column of /proc/sysvipc/shm for a segment, in bytes. */
static uint64_t sysvipc_rss(int shmid)
{
	char *text = mmr_slurp("/proc/sysvipc/shm", NULL), *line, *save = NULL;
	uint64_t rss = 0;

	/* key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap */
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		long long f[16];

		if (sscanf(line,
			   "%lld %lld %llo %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld "
			   "%lld %lld",
			   &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9],
			   &f[10], &f[11], &f[12], &f[13], &f[14], &f[15]) == 16 &&
		    f[1] == shmid)
			rss = (uint64_t)f[14];
	}
	free(text);
	return rss;
}

/*
 * Bytes of the SGA in memory: the memfd's blocks, the segment's rss, or for
 * hugetlb the pool pages in use beyond those in use before the SGA existed.
 * (The rss of a SysV hugetlb segment in /proc/sysvipc/shm is not used: since
 * the hugetlb page cache counts base pages, 6.7, the kernel multiplies it by
 * the huge page's size once too often; the report keeps it as
 * extra.sysvipc_rss_bytes.)
 */
static uint64_t resident(const struct sga_state *s)
{
	struct stat st;

	if (s->g.hugetlb)
		return (hugetlb_used(s->g.page) - s->hugetlb_used_before) * s->g.page;
	if (s->g.sysv)
		return sysvipc_rss(s->shmid);
	return fstat(s->fd, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}

/* ---- in each member of the fleet ---- */

/*
 * A member measures itself without allocating: under ASan (and with any
 * allocator that maps fresh memory) a malloc can fault in a new region and
 * grow the very page tables being measured.
 */
static int64_t vmpte_kb(void)
{
	char buf[4096], *p;

	if (mmr_read_file("/proc/self/status", buf, sizeof(buf)) < 0 ||
	    !(p = strstr(buf, "\nVmPTE:")))
		return -1;
	return strtoll(p + 7, NULL, 10);
}

static int member_prepare(struct mmr_fleet_member *m, void *arg)
{
	struct sga_state *s = arg;
	struct sga_result *r = m->result;

	/* inherited: the chosen address goes inside it, and nothing else can */
	if (s->reserve)
		munmap(s->reserve, s->reserve_len);
	r->vmpte_before_kb = vmpte_kb();
	return 0;
}

/* mmap(2) itself: a sanitizer's mmap interceptor clears the shadow of the
 * new mapping, and the page tables of that shadow would be measured too. */
static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int member_failed(struct sga_result *r, int step)
{
	r->failed_step = step;
	r->failed_errno = errno;
	return -errno;
}

/* Not instrumented: under ASan every access would also fault in the shadow
 * of the SGA, and its page tables would be measured as the SGA's. */
__attribute__((no_sanitize_address)) static void touch(char *p, uint64_t len, uint64_t stride,
						       bool write)
{
	for (uint64_t off = 0; off < len; off += stride) {
		if (write)
			*(volatile char *)(p + off) = 1;
		else
			FORCE_READ(p[off]);
	}
}

static bool overlaps(uint64_t lo, uint64_t hi, uint64_t region, uint64_t span)
{
	return lo < region + span && hi > region;
}

static void note_edge(const char *line, uint64_t sga, const uint64_t ends[2][2], bool hit[2][2])
{
	unsigned long lo, hi;
	char perms[8];

	if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || lo == sga ||
	    !strncmp(perms, "---", 3))
		return;
	for (int level = 0; level < 2; level++)
		for (int end = 0; end < 2; end++)
			hit[level][end] |= overlaps(lo, hi, ends[level][end],
						    level ? MMR_GiB : mmr_pmd_size());
}

/*
 * The 2 MiB and the GiB at each end of the touched range may hold another
 * mapping of the member (a library, its stack): their tables existed before
 * the attach. Count them, for the model, from /proc/self/maps (untimed,
 * read in pieces into the stack: no allocation).
 */
static void edge_tables(struct sga_result *r, uint64_t first, uint64_t last)
{
	uint64_t pte = mmr_pmd_size(), pmd = MMR_GiB;
	uint64_t ends[2][2] = { { first & ~(pte - 1), last & ~(pte - 1) },
				{ first & ~(pmd - 1), last & ~(pmd - 1) } };
	bool hit[2][2] = { { false } };
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	char buf[4096], *line, *nl;
	size_t have = 0;
	ssize_t n;

	while (fd >= 0 && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		buf[have + (size_t)n] = '\0';
		for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
			*nl = '\0';
			note_edge(line, r->addr, ends, hit);
		}
		have = strlen(line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1) /* a line longer than the buffer */
			have = 0;
	}
	if (fd >= 0)
		close(fd);
	r->pte_present = hit[0][0] + (ends[0][1] != ends[0][0] && hit[0][1]);
	r->pmd_present = hit[1][0] + (ends[1][1] != ends[1][0] && hit[1][1]);
}

static int member_work(struct mmr_fleet_member *m, void *arg)
{
	struct sga_state *s = arg;
	struct sga_result *r = m->result;
	uint64_t off = sga_window_offset(&s->g, m->index), t0, t1;
	struct rusage ru0, ru1;
	char *p, *want = NULL;
	int id;

	getrusage(RUSAGE_SELF, &ru0);
	t0 = mmr_now_ns();
	if (s->g.sysv) {
		/* by key, as a database process connecting to its SGA does */
		id = shmget(s->key, 0, 0);
		if (id < 0)
			return member_failed(r, STEP_SHMGET);
		p = shmat(id, NULL, 0);
		if (p == (void *)-1)
			return member_failed(r, STEP_ATTACH);
	} else {
		if (s->g.place != PLACE_KERNEL)
			want = (char *)(uintptr_t)(s->base + off + s->g.misalign);
		p = sys_mmap(want, s->g.window, PROT_READ | PROT_WRITE,
			     MAP_SHARED | (want ? MAP_FIXED_NOREPLACE : 0), s->fd, (off_t)off);
		if (p == MAP_FAILED)
			return member_failed(r, STEP_ATTACH);
		if (want && p != want) {
			syscall(SYS_munmap, p, s->g.window);
			errno = EEXIST;
			return member_failed(r, STEP_PLACE);
		}
	}
	t1 = mmr_now_ns();
	r->addr = (uintptr_t)p;
	if (s->touch)
		touch(s->g.sysv ? p + off : p, s->g.window, s->stride, s->write);
	r->touch_ns = mmr_now_ns() - t1;
	r->attach_ns = t1 - t0;
	getrusage(RUSAGE_SELF, &ru1);
	r->minflt = (uint64_t)(ru1.ru_minflt - ru0.ru_minflt);
	r->vmpte_after_kb = vmpte_kb();
	if (s->touch) {
		uint64_t first = (uintptr_t)(s->g.sysv ? p + off : p);

		edge_tables(r, first, first + (s->g.window - 1) / s->stride * s->stride);
	}
	return 0;
}

static void member_leave(struct mmr_fleet_member *m, void *arg)
{
	struct sga_state *s = arg;
	struct sga_result *r = m->result;
	uint64_t t0 = mmr_now_ns();

	if (s->g.sysv)
		shmdt((void *)(uintptr_t)r->addr);
	else
		syscall(SYS_munmap, (void *)(uintptr_t)r->addr, s->g.window);
	r->detach_ns = mmr_now_ns() - t0;
}

static const struct mmr_fleet_ops sga_fleet_ops = {
	.result_size = sizeof(struct sga_result),
	.prepare = member_prepare,
	.work = member_work,
	.leave = member_leave,
};

/* ---- the case ---- */

#define OFFSETS_SHOWN 64 /* members whose window offsets the report lists */

/* The SGA and where each member's window goes, for the report. */
static json_t *sga_json(const struct sga_params *p, struct sga_state *s)
{
	json_t *offs = json_array();

	for (unsigned i = 0; i < s->procs && i < OFFSETS_SHOWN; i++)
		json_array_append_new(offs, json_integer((json_int_t)sga_window_offset(&s->g, i)));
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:s,s:I,s:s,s:I,s:i,s:i}", "backing",
			 p->backing, "bytes", (json_int_t)s->size, "page_bytes",
			 (json_int_t)s->g.page, "window_bytes", (json_int_t)s->g.window,
			 "window_positions", (json_int_t)s->g.positions, "window_step_bytes",
			 (json_int_t)s->g.step, "window_offsets", offs, "placement",
			 placement_names[s->g.place], "misalign_bytes", (json_int_t)s->g.misalign,
			 "touch", p->touch, "touch_stride", (json_int_t)s->stride, "procs",
			 (int)s->procs, "concurrency",
			 p->concurrency ? (int)p->concurrency : (int)mmr_fleet_cpus(s->fleet));
}

static int sga_setup(struct mmr_ctx *ctx)
{
	const struct sga_params *p = mmr_params(ctx);
	struct sga_state *s = mmr_state(ctx);
	char err[256];
	int ret;

	s->fd = -1;
	s->shmid = -1;
	if (sga_geometry(p, &s->g, err, sizeof(err)))
		return mmr_invalid(ctx, "%s", err);
	s->size = p->sga_size;
	s->stride = p->touch_stride;
	s->touch = strcmp(p->touch, "none");
	s->write = !strcmp(p->touch, "write");
	s->procs = (unsigned)p->procs;
	s->maps = calloc(s->procs, sizeof(*s->maps));
	s->vals = calloc(s->procs, sizeof(*s->vals));
	s->reps = calloc(MAX_REPS, sizeof(*s->reps));
	if (!s->maps || !s->vals || !s->reps)
		return -ENOMEM;
	pmd_sharing(s);
	if (s->g.hugetlb)
		s->hugetlb_used_before = hugetlb_used(s->g.page);
	ret = create_sga(ctx, s);
	if (!ret)
		ret = populate(ctx, s);
	if (ret)
		return ret;
	if (s->g.sysv && s->g.hugetlb)
		mmr_extra_u64(ctx, "sysvipc_rss_bytes", sysvipc_rss(s->shmid));
	if (s->g.place != PLACE_KERNEL) {
		/* a free GiB on each side: no other mapping shares a table with the SGA */
		s->reserve_len = s->size + 3 * MMR_GiB + 2 * mmr_pmd_size();
		s->reserve = mmap(NULL, s->reserve_len, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (s->reserve == MAP_FAILED) {
			s->reserve = NULL;
			return mmr_fail(ctx, "reserving address space for the SGA: %s",
					strerror(errno));
		}
		s->base = ((uintptr_t)s->reserve + 2 * MMR_GiB - 1) & ~(MMR_GiB - 1);
	}
	/* forked now: the helper holds the SGA's fd or key, and no big mapping */
	ret = mmr_fleet_create(ctx, &sga_fleet_ops, s, s->procs, &s->fleet);
	if (ret)
		return mmr_fail(ctx, "starting the fleet's helper: %s", strerror(-ret));
	mmr_extra_json(ctx, "sga", sga_json(p, s));
	return 0;
}

/* Every repetition: the SGA is still made of the folios asked for. */
static int sga_prepare(struct mmr_ctx *ctx)
{
	struct sga_state *s = mmr_state(ctx);
	void *p = map_whole(s);
	int ret;

	if (!p)
		return mmr_fail(ctx, "mapping the SGA to prove its layout: %s", strerror(errno));
	/* map what the SGA holds: it is populated, so reads allocate nothing */
	ret = fault_in(p, s->size, false);
	if (ret)
		ret = mmr_fail(ctx, "faulting in the SGA to prove its layout: %s", strerror(-ret));
	else
		ret = mmr_layout_require(ctx, p, s->size, s->g.label, s->g.order, s->g.hugetlb);
	unmap_whole(s, p);
	mmr_settle_page_tables(); /* out of the PageTables the fleet is measured by */
	return ret;
}

static int fleet_failure(struct mmr_ctx *ctx, struct sga_state *s, const char *when)
{
	for (unsigned i = 0; i < s->procs; i++) {
		const struct sga_result *r = mmr_fleet_result(s->fleet, i);

		if (r->failed_step)
			return mmr_fail(ctx, "%s: process %u: %s failed: %s", when, i,
					step_names[r->failed_step], strerror(r->failed_errno));
	}
	return mmr_fail(ctx, "%s: %s", when, mmr_fleet_error(s->fleet));
}

/* Sample quantiles of one uint64_t field of every member's result. */
static void sample_spread(struct mmr_ctx *ctx, struct sga_state *s, size_t field, const char *p50,
			  const char *p99, const char *max)
{
	for (unsigned i = 0; i < s->procs; i++) {
		const char *r = mmr_fleet_result(s->fleet, i);
		uint64_t v;

		memcpy(&v, r + field, sizeof(v));
		s->vals[i] = (double)v;
	}
	qsort(s->vals, s->procs, sizeof(double), cmp_double);
	mmr_sample(ctx, p50, mmr_quantile_sorted(s->vals, s->procs, 0.5));
	if (p99)
		mmr_sample(ctx, p99, mmr_quantile_sorted(s->vals, s->procs, 0.99));
	if (max)
		mmr_sample(ctx, max, s->vals[s->procs - 1]);
}

/* The model of exactly the mappings the members made. */
static void model(struct sga_state *s, struct sga_rep *rep)
{
	bool share = s->g.hugetlb && s->share_pmd;
	struct mmr_pt_count one, all;

	rep->model_vmpte_bytes = 0;
	for (unsigned i = 0; i < s->procs; i++) {
		const struct sga_result *r = mmr_fleet_result(s->fleet, i);
		uint64_t off = sga_window_offset(&s->g, i);
		struct mmr_pt_mapping *m = &s->maps[i];

		*m = (struct mmr_pt_mapping){
			.start = r->addr,
			.len = s->g.sysv ? s->size : s->g.window,
			.file_off = s->g.sysv ? 0 : off,
			.touch_start = r->addr + (s->g.sysv ? off : 0),
			.touch_len = s->touch ? s->g.window : 0,
			.touch_stride = s->stride,
			.folio = s->g.page,
			.hugetlb = s->g.hugetlb,
			.share_pmd = share,
			.pte_present = r->pte_present,
			.pmd_present = r->pmd_present,
		};
		mmr_pt_model_one(m, &one);
		if (i == 0)
			s->model_one = one;
		rep->model_vmpte_bytes += (double)mmr_pt_bytes(&one);
	}
	if (mmr_pt_model_all(s->maps, s->procs, &all) == 0) {
		rep->model_pt_bytes = (double)mmr_pt_bytes(&all);
		s->shared_pmd_tables = all.pmd_shareable;
	} else {
		rep->model_pt_bytes = NAN;
	}
}

static double minflt_sum(struct sga_state *s)
{
	double sum = 0;

	for (unsigned i = 0; i < s->procs; i++)
		sum += (double)((const struct sga_result *)mmr_fleet_result(s->fleet, i))->minflt;
	return sum;
}

static void measure_at_barrier(struct mmr_ctx *ctx, struct sga_state *s, struct sga_rep *rep)
{
	double gib = (double)s->g.window / (double)MMR_GiB;

	rep->pt_bytes = (double)mmr_op_delta(ctx, "meminfo.PageTables");
	rep->vmpte_sum_bytes = 0;
	for (unsigned i = 0; i < s->procs; i++) {
		const struct sga_result *r = mmr_fleet_result(s->fleet, i);

		s->vals[i] = (double)(r->vmpte_after_kb - r->vmpte_before_kb);
		rep->vmpte_sum_bytes += s->vals[i] * 1024;
	}
	qsort(s->vals, s->procs, sizeof(double), cmp_double);
	mmr_sample(ctx, "vmpte_p50_kb", mmr_quantile_sorted(s->vals, s->procs, 0.5));
	mmr_sample(ctx, "vmpte_p99_kb", mmr_quantile_sorted(s->vals, s->procs, 0.99));
	mmr_sample(ctx, "vmpte_max_kb", s->vals[s->procs - 1]);
	mmr_sample(ctx, "vmpte_sum_bytes", rep->vmpte_sum_bytes);
	mmr_sample(ctx, "pagetables_bytes", rep->pt_bytes);
	mmr_sample(ctx, "pagetables_per_proc_gib", rep->pt_bytes / s->procs / gib);
	mmr_sample(ctx, "sga_resident_bytes", (double)resident(s));
	sample_spread(ctx, s, offsetof(struct sga_result, attach_ns), "attach_ns_p50",
		      "attach_ns_p99", "attach_ns_max");
	sample_spread(ctx, s, offsetof(struct sga_result, touch_ns), "touch_ns_p50", "touch_ns_p99",
		      "touch_ns_max");
	sample_spread(ctx, s, offsetof(struct sga_result, minflt), "minflt_p50", NULL,
		      "minflt_max");
	mmr_sample(ctx, "minflt_sum", minflt_sum(s));
	model(s, rep);
}

static int sga_run(struct mmr_ctx *ctx)
{
	const struct sga_params *p = mmr_params(ctx);
	struct sga_state *s = mmr_state(ctx);
	struct sga_rep rep = { 0 };
	uint64_t spawn_ns, ready_ns, teardown_ns;
	int ret;

	mmr_op_begin(ctx, "spawn");
	ret = mmr_fleet_spawn(s->fleet, s->procs, (unsigned)p->concurrency);
	spawn_ns = mmr_op_end(ctx);
	if (ret)
		return fleet_failure(ctx, s, "spawning the fleet");
	mmr_op_begin(ctx, "attach_touch");
	ret = mmr_fleet_go(s->fleet);
	ready_ns = mmr_op_end(ctx);
	if (ret)
		return fleet_failure(ctx, s, "attaching and touching the SGA");
	measure_at_barrier(ctx, s, &rep);
	if (p->hold > 0) {
		struct timespec ts = { (time_t)p->hold,
				       (long)((p->hold - floor(p->hold)) * (double)NS_PER_S) };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	mmr_op_begin(ctx, "teardown");
	ret = mmr_fleet_release(s->fleet);
	teardown_ns = mmr_op_end(ctx);
	if (ret)
		return fleet_failure(ctx, s, "detaching and exiting");
	sample_spread(ctx, s, offsetof(struct sga_result, detach_ns), "detach_ns_p50", NULL,
		      "detach_ns_max");
	mmr_sample(ctx, "spawn_ns", (double)spawn_ns);
	mmr_sample(ctx, "ready_ns", (double)ready_ns);
	mmr_sample(ctx, "spawn_to_ready_ns", (double)(spawn_ns + ready_ns));
	mmr_sample(ctx, "teardown_ns", (double)teardown_ns);
	if (mmr_rep(ctx) >= 0 && s->nreps < MAX_REPS)
		s->reps[s->nreps++] = rep;
	return 0;
}

static double median_of(struct sga_state *s, size_t field)
{
	double *v = calloc(s->nreps, sizeof(double)), m;

	if (!v)
		return NAN;
	for (unsigned i = 0; i < s->nreps; i++)
		memcpy(&v[i], (const char *)&s->reps[i] + field, sizeof(double));
	qsort(v, s->nreps, sizeof(double), cmp_double);
	m = mmr_quantile_sorted(v, s->nreps, 0.5);
	free(v);
	return m;
}

/* The model beside the measurement, and both projected to the claim. */
static void report_model(struct mmr_ctx *ctx, struct sga_state *s)
{
	double pt = median_of(s, offsetof(struct sga_rep, pt_bytes));
	double vmpte = median_of(s, offsetof(struct sga_rep, vmpte_sum_bytes));
	double model_pt = median_of(s, offsetof(struct sga_rep, model_pt_bytes));
	double model_vmpte = median_of(s, offsetof(struct sga_rep, model_vmpte_bytes));
	double gib = (double)s->g.window / (double)MMR_GiB;
	/* from bytes per process per GiB of window to the claim's GiBs x processes */
	double per_proc_gib = 1.0 / ((double)s->procs * gib);
	double claim = CLAIM_SGA_BYTES / (double)MMR_GiB * CLAIM_PROCS;
	json_t *m = json_object(), *r = json_object(), *proj = json_object();

	json_object_set_new(m, "pagetables_bytes", num(model_pt));
	json_object_set_new(m, "vmpte_bytes_per_proc", num(model_vmpte / s->procs));
	json_object_set_new(m, "pte_tables_per_proc", json_integer((json_int_t)s->model_one.pte));
	json_object_set_new(m, "pmd_tables_per_proc", json_integer((json_int_t)s->model_one.pmd));
	json_object_set_new(m, "shared_pmd_tables", json_integer((json_int_t)s->shared_pmd_tables));
	json_object_set_new(m, "pmd_sharing", json_boolean(s->g.hugetlb && s->share_pmd));
	json_object_set_new(m, "pmd_sharing_source", json_string(s->share_source));
	json_object_set_new(m, "pmd_sharing_basis", json_string(s->share_basis));
	json_object_set_new(m, "counts",
			    json_string("PTE and PMD tables for the touched addresses of every "
					"mapping (ptmodel.h); PUD tables and above are left out"));
	mmr_extra_json(ctx, "model", m);
	json_object_set_new(r, "pagetables", num(pt / model_pt));
	json_object_set_new(r, "vmpte", num(vmpte / model_vmpte));
	mmr_extra_json(ctx, "measured_over_model", r);
	json_object_set_new(proj, "sga_bytes", json_real(CLAIM_SGA_BYTES));
	json_object_set_new(proj, "procs", json_integer(CLAIM_PROCS));
	json_object_set_new(proj, "claim_bytes", json_real(CLAIM_PT_BYTES));
	json_object_set_new(proj, "pagetables_per_proc_gib", num(pt * per_proc_gib));
	json_object_set_new(proj, "vmpte_per_proc_gib", num(vmpte * per_proc_gib));
	json_object_set_new(proj, "model_per_proc_gib", num(model_pt * per_proc_gib));
	json_object_set_new(proj, "from_pagetables_bytes", num(pt * per_proc_gib * claim));
	json_object_set_new(proj, "from_vmpte_bytes", num(vmpte * per_proc_gib * claim));
	json_object_set_new(proj, "from_model_bytes", num(model_pt * per_proc_gib * claim));
	json_object_set_new(
		proj, "note",
		json_string("bytes per GiB per process (medians over the repetitions) "
			    "x 300 GB x 1500 processes: a projection. PageTables is the "
			    "system's count (tables shared by processes once, but other "
			    "processes' activity included); VmPTE sums each process's own "
			    "count (exact, a shared table in every sharer)"));
	mmr_extra_json(ctx, "projection", proj);
}

static void sga_teardown(struct mmr_ctx *ctx)
{
	struct sga_state *s = mmr_state(ctx);

	mmr_fleet_destroy(s->fleet);
	if (s->nreps)
		report_model(ctx, s);
	if (s->reserve)
		munmap(s->reserve, s->reserve_len);
	if (s->shmid >= 0)
		mmr_shm_remove(s->shmid, s->key);
	if (s->fd >= 0)
		close(s->fd);
	free(s->maps);
	free(s->vals);
	free(s->reps);
}

/* ---- the run's summary: each case projected to the claim ---- */

static json_t *sga_analyze(json_t *cases)
{
	json_t *out = json_object(), *lines = json_array(), *rows = json_array(), *c;
	size_t i;

	json_array_foreach (cases, i, c) {
		json_t *extra = json_object_get(c, "extra");
		json_t *proj = json_object_get(extra, "projection"),
		       *sga = json_object_get(extra, "sga");
		char line[512];

		if (strcmp(json_string_value(json_object_get(c, "status")), "ok") || !proj)
			continue;
		snprintf(line, sizeof(line),
			 "%-20s %5lld procs x %.3f GiB: page tables per process per GiB: VmPTE "
			 "%.1f KiB, PageTables %.1f KiB, model %.1f KiB; at 300 GB x 1500 "
			 "processes: %.1f GB by VmPTE, %.1f GB by PageTables, %.1f GB by the "
			 "model (claim: ~878 GB of 4K PTEs)",
			 json_string_value(json_object_get(sga, "backing")),
			 (long long)json_integer_value(json_object_get(sga, "procs")),
			 (double)json_integer_value(json_object_get(sga, "window_bytes")) /
				 (double)MMR_GiB,
			 json_number_value(json_object_get(proj, "vmpte_per_proc_gib")) / 1024,
			 json_number_value(json_object_get(proj, "pagetables_per_proc_gib")) / 1024,
			 json_number_value(json_object_get(proj, "model_per_proc_gib")) / 1024,
			 json_number_value(json_object_get(proj, "from_vmpte_bytes")) / 1e9,
			 json_number_value(json_object_get(proj, "from_pagetables_bytes")) / 1e9,
			 json_number_value(json_object_get(proj, "from_model_bytes")) / 1e9);
		json_array_append_new(lines, json_string(line));
		json_array_append_new(rows, json_pack("{s:s,s:O,s:O}", "id",
						      json_string_value(json_object_get(c, "id")),
						      "backing", json_object_get(sga, "backing"),
						      "projection", proj));
	}
	if (!json_array_size(rows)) {
		json_decref(out);
		json_decref(lines);
		json_decref(rows);
		return NULL;
	}
	json_object_set_new(out, "claim_bytes", json_real(CLAIM_PT_BYTES));
	json_object_set_new(out, "cases", rows);
	json_object_set_new(out, "summary_lines", lines);
	return out;
}

const struct mmr_workload sga_attach_workload = {
	.abi = MMR_WORKLOAD_ABI,
	.name = "sga_attach",
	.summary = "many processes attach and touch one shared SGA: page-table memory, attach "
		   "cost, teardown",
	.claims = "C5",
	.params = sga_params,
	.metrics = sga_metrics,
	.params_size = sizeof(struct sga_params),
	.state_size = sizeof(struct sga_state),
	.needs = MMR_NEED_KPAGEFLAGS,
	.default_reps = 5,
	.plan = sga_plan,
	.setup = sga_setup,
	.prepare = sga_prepare,
	.run = sga_run,
	.teardown = sga_teardown,
	.analyze = sga_analyze,
};
