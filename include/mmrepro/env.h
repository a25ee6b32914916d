/* SPDX-License-Identifier: GPL-2.0 */
/* The machine and kernel we run on: feature probes and the report fingerprint. */
#ifndef MMREPRO_ENV_H
#define MMREPRO_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "mmrepro/backing.h"

#define MMR_MAX_SIZES 24

struct mmr_probes {
	bool root;
	bool thp;	 /* /sys/kernel/mm/transparent_hugepage exists */
	bool mthp;	 /* per-size hugepages-<N>kB directories (6.8+) */
	bool mthp_stats; /* hugepages-<N>kB/stats (6.10+) */
	unsigned n_mthp;
	uint64_t mthp_kb[MMR_MAX_SIZES]; /* every per-size directory, ascending */
	unsigned n_hugetlb;
	uint64_t hugetlb_kb[MMR_MAX_SIZES];
	bool madv_populate_write; /* 5.14+ */
	bool madv_collapse;	  /* 6.1+ */
	bool io_uring;
	char io_uring_why[96]; /* why not, when it is not usable */
	bool kpageflags;       /* readable, and pagemap shows PFNs */
	bool pagemap_scan;     /* PAGEMAP_SCAN ioctl (6.7+) */
	bool kmsg_writable;
};

/* Probed once, on first use; nothing on the system changes. */
const struct mmr_probes *mmr_probes(void);
bool mmr_mthp_size_exists(uint64_t kb);
/* The hugepages-<N>kB entries of a sysfs directory, ascending, in kB. */
unsigned mmr_list_hugepage_dirs(const char *dir, uint64_t *kb, unsigned max);
/* The full fingerprint: uname, cmdline, kconfig, CPU, topology, NUMA, memory,
 * virtualization, mitigations, every THP/mTHP/hugetlb knob, probes. */
json_t *mmr_fingerprint(void);
/* The kernel config options the fingerprint records ("CONFIG_HUGETLB*",
 * ...: see env.c), from /proc/config.gz or /boot/config-<release>:
 * {"source": path or null, "options": {"CONFIG_X": "y", ...}}. An option
 * that is not set is absent. */
json_t *mmr_kconfig(void);
/* The root of /sys and /proc, overridable with MMREPRO_SYSFS_ROOT for tests
 * that exercise the settings code against a fake tree. */
const char *mmr_sys_root(void);

#endif
