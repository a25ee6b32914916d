// SPDX-License-Identifier: GPL-2.0
/*
 * Planning shared memory: the folio size of anonymous shmem, hugetlb pools,
 * SysV segment limits. Like mmr_plan_backing() for anonymous memory, each
 * turns "this case needs X" into knob settings, or a skip with the reason.
 */
#include "mmrepro/env.h"
#include "mmrepro/runner.h"
#include "mmrepro/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* shmem_enabled values that give huge folios to memory nobody madvised */
static const char *const shmem_huge[] = { "always", "within_size", "force", NULL };

static bool is_one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(v, *list))
			return true;
	return false;
}

static void size_knob(uint64_t kb, char *name, size_t len)
{
	char sz[16];

	mmr_format_size(kb * MMR_KiB, sz, sizeof(sz));
	snprintf(name, len, "thp.%s.shmem_enabled", sz);
}

/* Does anonymous shmem get folios of this size without madvise? */
static bool size_on(struct mmr_plan *plan, uint64_t kb, const char *top)
{
	char name[64], val[32];

	size_knob(kb, name, sizeof(name));
	if (mmr_plan_knob(plan, name, val, sizeof(val)))
		return false;
	return is_one_of(val, shmem_huge) ||
	       (!strcmp(val, "inherit") && is_one_of(top, shmem_huge));
}

static int size_off(struct mmr_plan *plan, uint64_t kb)
{
	char name[64];

	size_knob(kb, name, sizeof(name));
	return mmr_plan_setting(plan, name, "never");
}

/*
 * memfd, SysV and MAP_SHARED|MAP_ANONYMOUS memory is anonymous shmem: the
 * top-level shmem_enabled and, from 6.11, the per-size hugepages-<N>kB/
 * shmem_enabled decide its folio sizes, the largest allowed size first. The
 * base page turns off every size that would apply; a larger folio turns its
 * size on and every larger size off.
 */
int mmr_plan_shmem(struct mmr_plan *plan, uint64_t folio)
{
	const struct mmr_probes *pr = mmr_probes();
	uint64_t want_kb = folio / MMR_KiB;
	char top[32] = "never", name[64], val[32], sz[16];
	int ret = 0;

	if (!pr->thp)
		return folio == mmr_page_size()
			       ? 0
			       : mmr_plan_skip(plan, "this kernel has no transparent hugepages");
	mmr_plan_knob(plan, "thp.shmem_enabled", top, sizeof(top));
	if (folio == mmr_page_size()) {
		if (is_one_of(top, shmem_huge)) {
			ret = mmr_plan_setting(plan, "thp.shmem_enabled", "never");
			snprintf(top, sizeof(top), "never");
		}
		for (unsigned i = 0; !ret && i < pr->n_mthp; i++)
			if (size_on(plan, pr->mthp_kb[i], top))
				ret = size_off(plan, pr->mthp_kb[i]);
		return ret;
	}
	size_knob(want_kb, name, sizeof(name));
	mmr_format_size(folio, sz, sizeof(sz));
	if (!mmr_plan_knob(plan, name, val, sizeof(val)))
		ret = mmr_plan_setting(plan, name, "always");
	else if (folio == mmr_pmd_size())
		ret = mmr_plan_setting(plan, "thp.shmem_enabled", "always");
	else
		return mmr_plan_skip(plan,
				     "this kernel has no %s shmem THP (no hugepages-%llukB/"
				     "shmem_enabled: per-size shmem mTHP is Linux 6.11+)",
				     sz, (unsigned long long)want_kb);
	for (unsigned i = 0; !ret && i < pr->n_mthp; i++)
		if (pr->mthp_kb[i] > want_kb && size_on(plan, pr->mthp_kb[i], top))
			ret = size_off(plan, pr->mthp_kb[i]);
	return ret;
}

uint64_t mmr_hugetlb_pool(uint64_t page, const char *field)
{
	char path[160];
	uint64_t v = 0;

	snprintf(path, sizeof(path), "%s/sys/kernel/mm/hugepages/hugepages-%llukB/%s",
		 mmr_sys_root(), (unsigned long long)(page / MMR_KiB), field);
	mmr_read_u64(path, &v);
	return v;
}

/* The pool grows by what is needed beyond its free, unreserved pages (the
 * memory guard counts that growth). */
int mmr_plan_hugetlb_pool(struct mmr_plan *plan, uint64_t page, uint64_t bytes)
{
	uint64_t need = (bytes + page - 1) / page, avail;
	char knob[64], sz[16], val[32], dir[128];

	mmr_format_size(page, sz, sizeof(sz));
	snprintf(dir, sizeof(dir), "%s/sys/kernel/mm/hugepages/hugepages-%llukB", mmr_sys_root(),
		 (unsigned long long)(page / MMR_KiB));
	if (!mmr_path_exists(dir))
		return mmr_plan_skip(plan, "this kernel has no %s hugetlb pages (no %s)", sz, dir);
	avail = mmr_hugetlb_pool(page, "free_hugepages") - mmr_hugetlb_pool(page, "resv_hugepages");
	if (avail >= need)
		return 0;
	snprintf(knob, sizeof(knob), "hugetlb.%s.nr_hugepages", sz);
	snprintf(val, sizeof(val), "%llu",
		 (unsigned long long)(mmr_hugetlb_pool(page, "nr_hugepages") + need - avail));
	return mmr_plan_setting(plan, knob, val);
}

int mmr_plan_sysv_segment(struct mmr_plan *plan, uint64_t bytes, bool hugetlb)
{
	uint64_t shmmax = 0, shmall = 0, pages = bytes / mmr_page_size();
	char val[32];
	int ret = 0;

	if (hugetlb && geteuid() != 0)
		return mmr_plan_skip(plan, "SHM_HUGETLB needs root (CAP_IPC_LOCK) or membership of "
					   "vm.hugetlb_shm_group");
	if (!mmr_read_u64("/proc/sys/kernel/shmmax", &shmmax) && shmmax < bytes) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)bytes);
		ret = mmr_plan_setting(plan, "kernel.shmmax", val);
	}
	/* shmall counts the pages of every segment on the system: leave room */
	if (!ret && !mmr_read_u64("/proc/sys/kernel/shmall", &shmall) && shmall < 2 * pages) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)(shmall + pages));
		ret = mmr_plan_setting(plan, "kernel.shmall", val);
	}
	return ret;
}
