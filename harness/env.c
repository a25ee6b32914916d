// SPDX-License-Identifier: GPL-2.0
/* Feature probes and the fingerprint of this machine and kernel. */
#include "mmrepro/env.h"
#include "mmrepro/pin.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

const char *mmr_sys_root(void)
{
	const char *r = getenv("MMREPRO_SYSFS_ROOT");

	return r ? r : "";
}

uint64_t mmr_page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t mmr_pmd_size(void)
{
	static uint64_t pmd;

	if (!pmd && mmr_read_u64(THP_DIR "/hpage_pmd_size", &pmd))
		pmd = mmr_page_size() * (mmr_page_size() / 8); /* a page of 8-byte PTEs */
	return pmd;
}

/*
 * madvise(addr, 0, advice) validates the advice before it looks at the
 * length, and returns 0 for an empty range: an exact, side-effect-free test of
 * whether this kernel knows the advice.
 */
static bool madvise_known(int advice)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool ok;

	if (p == MAP_FAILED)
		return false;
	ok = madvise(p, 0, advice) == 0;
	munmap(p, 4096);
	return ok;
}

static bool probe_kpageflags(void)
{
	uint64_t flags, ent;
	volatile char *p;
	bool ok = false;
	int kpf, pm;

	kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (kpf < 0)
		return false;
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pm >= 0 && p != MAP_FAILED) {
		p[0] = 1;
		if (pread(pm, &ent, 8, ((uintptr_t)p / 4096) * 8) == 8 &&
		    (ent & ((1ULL << 55) - 1)))
			ok = pread(kpf, &flags, 8, (ent & ((1ULL << 55) - 1)) * 8) == 8;
	}
	if (p != MAP_FAILED)
		munmap((void *)p, 4096);
	if (pm >= 0)
		close(pm);
	close(kpf);
	return ok;
}

static bool probe_pagemap_scan(void)
{
	/* Same layout as layout.c; an empty range is enough to see ENOTTY. */
	struct {
		uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
		uint64_t inv, mask, anyof, ret;
	} arg = { 0 };
	uint64_t vec[3];
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	arg.size = sizeof(arg);
	arg.start = arg.end = (uintptr_t)&arg & ~4095ULL;
	arg.vec = (uintptr_t)vec;
	arg.vec_len = 1;
	arg.ret = 1ULL << 6;
	arg.mask = 1ULL << 6;
	ok = ioctl(fd, _IOWR('f', 16, typeof(arg)), &arg) >= 0;
	close(fd);
	return ok;
}

static void probe_io_uring(struct mmr_probes *p)
{
	struct io_uring ring;
	uint64_t disabled = 0;
	int ret;

	if (mmr_read_u64("/proc/sys/kernel/io_uring_disabled", &disabled) == 0 && disabled == 2) {
		snprintf(p->io_uring_why, sizeof(p->io_uring_why),
			 "io_uring is disabled (kernel.io_uring_disabled=2)");
		return;
	}
	ret = io_uring_queue_init(2, &ring, 0);
	if (ret < 0) {
		snprintf(p->io_uring_why, sizeof(p->io_uring_why), "io_uring_setup failed: %s",
			 strerror(-ret));
		return;
	}
	io_uring_queue_exit(&ring);
	p->io_uring = true;
}

const struct mmr_probes *mmr_probes(void)
{
	static struct mmr_probes p;
	static bool done;
	char path[512];
	int fd;

	if (done)
		return &p;
	done = true;
	p.root = geteuid() == 0;
	p.thp = mmr_path_exists(THP_DIR "/enabled");
	p.n_mthp = mmr_list_hugepage_dirs(THP_DIR, p.mthp_kb, MMR_MAX_SIZES);
	p.mthp = p.n_mthp > 0;
	if (p.mthp) {
		snprintf(path, sizeof(path), THP_DIR "/hugepages-%llukB/stats",
			 (unsigned long long)p.mthp_kb[0]);
		p.mthp_stats = mmr_path_exists(path);
	}
	p.n_hugetlb =
		mmr_list_hugepage_dirs("/sys/kernel/mm/hugepages", p.hugetlb_kb, MMR_MAX_SIZES);
	p.madv_populate_write = madvise_known(MADV_POPULATE_WRITE);
	p.madv_collapse = madvise_known(MADV_COLLAPSE);
	probe_io_uring(&p);
	p.kpageflags = probe_kpageflags();
	p.pagemap_scan = probe_pagemap_scan();
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	p.kmsg_writable = fd >= 0;
	if (fd >= 0)
		close(fd);
	return &p;
}

bool mmr_mthp_size_exists(uint64_t kb)
{
	const struct mmr_probes *p = mmr_probes();

	for (unsigned i = 0; i < p->n_mthp; i++)
		if (p->mthp_kb[i] == kb)
			return true;
	return false;
}

/* ---- fingerprint ---- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *file_string(const char *path)
{
	char buf[4096];

	if (mmr_read_file(path, buf, sizeof(buf)) < 0)
		return json_null();
	return json_string(buf);
}

/* Kernel config options that change what mm benchmarks measure. */
static const char *const kconfig_prefixes[] = {
	"CONFIG_TRANSPARENT_HUGEPAGE",
	"CONFIG_HUGETLB",
	"CONFIG_ARCH_WANT_HUGE_PMD_SHARE",
	"CONFIG_PER_VMA_LOCK",
	"CONFIG_DEBUG_VM",
	"CONFIG_DEBUG_PAGEALLOC",
	"CONFIG_KASAN",
	"CONFIG_KFENCE",
	"CONFIG_LOCKDEP",
	"CONFIG_PROVE_LOCKING",
	"CONFIG_LOCK_STAT",
	"CONFIG_PREEMPT",
	"CONFIG_HZ",
	"CONFIG_NUMA",
	"CONFIG_MEMCG",
	"CONFIG_PAGE_TABLE_CHECK",
	"CONFIG_MMU_GATHER",
	"CONFIG_PARAVIRT",
	"CONFIG_PGTABLE_LEVELS",
	"CONFIG_X86_5LEVEL",
	"CONFIG_SPLIT_PTE_PTLOCKS",
	"CONFIG_MSHARE",
	"CONFIG_IO_URING",
	"CONFIG_USERFAULTFD",
	"CONFIG_KSM",
	"CONFIG_ZSWAP",
	"CONFIG_NO_HZ",
	"CONFIG_PAGE_IDLE_FLAG",
	"CONFIG_PROC_PAGE_MONITOR",
	"CONFIG_ARCH_HAS_PTE_SPECIAL",
	"CONFIG_INIT_ON_ALLOC_DEFAULT_ON",
	"CONFIG_INIT_ON_FREE_DEFAULT_ON",
	"CONFIG_MITIGATION",
};

static json_t *kconfig_json(const char *release)
{
	char path[512], line[512];
	const char *sources[2];
	json_t *opts = json_object(), *out = json_object();
	gzFile gz = NULL;
	const char *used = NULL;

	snprintf(path, sizeof(path), "/boot/config-%s", release);
	sources[0] = "/proc/config.gz";
	sources[1] = path;
	for (size_t i = 0; i < 2 && !gz; i++) {
		gz = gzopen(sources[i], "rb"); /* reads plain text too */
		used = sources[i];
	}
	if (!gz) {
		json_object_set_new(out, "source", json_null());
		json_object_set_new(out, "options", opts);
		return out;
	}
	while (gzgets(gz, line, sizeof(line))) {
		char *eq = strchr(line, '=');

		line[strcspn(line, "\n")] = '\0';
		if (line[0] != 'C' || !eq)
			continue;
		*eq = '\0';
		for (size_t i = 0; i < MMR_ARRAY_SIZE(kconfig_prefixes); i++) {
			if (!strncmp(line, kconfig_prefixes[i], strlen(kconfig_prefixes[i]))) {
				json_object_set_new(opts, line, json_string(eq + 1));
				break;
			}
		}
	}
	gzclose(gz);
	json_object_set_new(out, "source", json_string(used));
	json_object_set_new(out, "options", opts);
	return out;
}

json_t *mmr_kconfig(void)
{
	struct utsname u;

	if (uname(&u))
		return kconfig_json("");
	return kconfig_json(u.release);
}

static json_t *cpu_json(void)
{
	char *info = mmr_slurp("/proc/cpuinfo", NULL), *line, *save = NULL;
	json_t *cpu = json_object();
	bool hyp = false;
	char model[256] = "", vendor[64] = "";

	for (line = info ? strtok_r(info, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		if (!model[0] && !strncmp(line, "model name", 10))
			snprintf(model, sizeof(model), "%s", colon + 2);
		else if (!vendor[0] && !strncmp(line, "vendor_id", 9))
			snprintf(vendor, sizeof(vendor), "%s", colon + 2);
		else if (!strncmp(line, "flags", 5) && strstr(colon, " hypervisor"))
			hyp = true;
	}
	free(info);
	json_object_set_new(cpu, "model", json_string(model));
	json_object_set_new(cpu, "vendor", json_string(vendor));
	json_object_set_new(cpu, "online", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(cpu, "configured", json_integer(sysconf(_SC_NPROCESSORS_CONF)));
	json_object_set_new(cpu, "allowed", json_integer(mmr_allowed_cpus()));
	json_object_set_new(cpu, "hypervisor_flag", json_boolean(hyp));
	return cpu;
}

static json_t *mitigations_json(void)
{
	const char *dir = "/sys/devices/system/cpu/vulnerabilities";
	json_t *o = json_object();
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return o;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		json_object_set_new(o, e->d_name, file_string(path));
	}
	closedir(d);
	return o;
}

static json_t *virt_json(void)
{
	json_t *v = json_object();
	char vendor[13] = "";

#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	__cpuid(1, a, b, c, d);
	if (c & (1u << 31)) {
		__cpuid(0x40000000, a, b, c, d);
		memcpy(vendor, &b, 4);
		memcpy(vendor + 4, &c, 4);
		memcpy(vendor + 8, &d, 4);
	}
#endif
	json_object_set_new(v, "cpuid_vendor", vendor[0] ? json_string(vendor) : json_null());
	json_object_set_new(v, "dmi_sys_vendor", file_string("/sys/class/dmi/id/sys_vendor"));
	json_object_set_new(v, "dmi_product", file_string("/sys/class/dmi/id/product_name"));
	json_object_set_new(v, "kvm_device", json_boolean(mmr_path_exists("/dev/kvm")));
	/* Set by `mmrepro vm` inside its guests: which accelerator ran them. */
	json_object_set_new(v, "accelerator", str_or_null(getenv("MMREPRO_VM_ACCEL")));
	return v;
}

static json_t *numa_json(void)
{
	json_t *o = json_object(), *nodes = json_array();
	int avail = numa_available();

	json_object_set_new(o, "available", json_boolean(avail >= 0));
	if (avail >= 0) {
		for (int n = 0; n <= numa_max_node(); n++) {
			long long free_b;
			long long size = numa_node_size64(n, &free_b);
			json_t *e;

			if (size < 0)
				continue;
			e = json_object();
			json_object_set_new(e, "node", json_integer(n));
			json_object_set_new(e, "mem_total_bytes", json_integer(size));
			json_array_append_new(nodes, e);
		}
	}
	json_object_set_new(o, "nodes", nodes);
	return o;
}

static json_t *memory_json(void)
{
	json_t *m = json_object();
	static const char *const keys[] = { "MemTotal", "MemAvailable", "SwapTotal", "Hugetlb" };

	for (size_t i = 0; i < MMR_ARRAY_SIZE(keys); i++) {
		long long kb = mmr_meminfo_kb(keys[i]);
		char name[64];

		snprintf(name, sizeof(name), "%s_bytes", keys[i]);
		json_object_set_new(m, name, kb < 0 ? json_null() : json_integer(kb * 1024));
	}
	return m;
}

static json_t *probes_json(void)
{
	const struct mmr_probes *p = mmr_probes();
	json_t *o = json_object(), *sizes = json_array(), *hsizes = json_array();

	for (unsigned i = 0; i < p->n_mthp; i++)
		json_array_append_new(sizes, json_integer((json_int_t)p->mthp_kb[i]));
	for (unsigned i = 0; i < p->n_hugetlb; i++)
		json_array_append_new(hsizes, json_integer((json_int_t)p->hugetlb_kb[i]));
	json_object_set_new(o, "root", json_boolean(p->root));
	json_object_set_new(o, "thp", json_boolean(p->thp));
	json_object_set_new(o, "mthp_sysfs", json_boolean(p->mthp));
	json_object_set_new(o, "mthp_sizes_kb", sizes);
	json_object_set_new(o, "mthp_stats", json_boolean(p->mthp_stats));
	json_object_set_new(o, "hugetlb_sizes_kb", hsizes);
	json_object_set_new(o, "madv_populate_write", json_boolean(p->madv_populate_write));
	json_object_set_new(o, "madv_collapse", json_boolean(p->madv_collapse));
	json_object_set_new(o, "io_uring", json_boolean(p->io_uring));
	json_object_set_new(o, "io_uring_reason",
			    p->io_uring ? json_null() : json_string(p->io_uring_why));
	json_object_set_new(o, "kpageflags", json_boolean(p->kpageflags));
	json_object_set_new(o, "pagemap_scan", json_boolean(p->pagemap_scan));
	json_object_set_new(o, "kmsg_writable", json_boolean(p->kmsg_writable));
	json_object_set_new(o, "page_size", json_integer((json_int_t)mmr_page_size()));
	json_object_set_new(o, "pmd_size", json_integer((json_int_t)mmr_pmd_size()));
	return o;
}

json_t *mmr_fingerprint(void)
{
	struct utsname u;
	json_t *fp = json_object(), *k = json_object();
	char host[256] = "";

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	json_object_set_new(k, "release", json_string(u.release));
	json_object_set_new(k, "version", json_string(u.version));
	json_object_set_new(k, "machine", json_string(u.machine));
	json_object_set_new(k, "cmdline", file_string("/proc/cmdline"));
	json_object_set_new(fp, "hostname", json_string(host));
	json_object_set_new(fp, "kernel", k);
	json_object_set_new(fp, "kconfig", kconfig_json(u.release));
	json_object_set_new(fp, "cpu", cpu_json());
	json_object_set_new(fp, "mitigations", mitigations_json());
	json_object_set_new(fp, "topology", mmr_topology_json());
	json_object_set_new(fp, "numa", numa_json());
	json_object_set_new(fp, "memory", memory_json());
	json_object_set_new(fp, "virtualization", virt_json());
	json_object_set_new(
		fp, "clocksource",
		file_string("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
	json_object_set_new(fp, "knobs", mmr_knobs_json());
	json_object_set_new(fp, "probes", probes_json());
	return fp;
}
