// SPDX-License-Identifier: GPL-2.0
/* The knob allow-list: names, paths, value checks, errors that help. */
#include "check.h"
#include "fakesys.h"
#include "mmrepro/settings.h"

static void resolves(const char *name, const char *canon, const char *rel)
{
	struct mmr_knob k;
	char err[512], want[512];

	if (mmr_knob_resolve(name, &k, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", name, err);
		check_failures++;
		return;
	}
	snprintf(want, sizeof(want), "%s%s", fake_root, rel);
	CHECK_STR(k.name, canon);
	CHECK_STR(k.path, want);
}

static void refuses(const char *name, const char *msg)
{
	struct mmr_knob k;
	char err[512] = "";

	CHECK(mmr_knob_resolve(name, &k, err, sizeof(err)) != 0);
	CHECK_STR(err, msg);
}

int main(void)
{
	struct mmr_knob k;
	char err[512], val[64];
	json_t *all;

	fake_tree();
	resolves("thp.enabled", "thp.enabled", THP "/enabled");
	resolves("thp.64K.enabled", "thp.64K.enabled", THP "/hugepages-64kB/enabled");
	resolves("thp.64kB.enabled", "thp.64K.enabled", THP "/hugepages-64kB/enabled");
	resolves("thp.2M.shmem_enabled", "thp.2M.shmem_enabled",
		 THP "/hugepages-2048kB/shmem_enabled");
	resolves("thp.khugepaged.scan_sleep_millisecs", "thp.khugepaged.scan_sleep_millisecs",
		 THP "/khugepaged/scan_sleep_millisecs");
	resolves("hugetlb.1G.nr_hugepages", "hugetlb.1G.nr_hugepages",
		 "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
	resolves("vm.max_map_count", "vm.max_map_count", "/proc/sys/vm/max_map_count");
	resolves("kernel.shmmax", "kernel.shmmax", "/proc/sys/kernel/shmmax");

	refuses("thp.enabld", "unknown knob \"thp.enabld\" (did you mean \"thp.enabled\"?)");
	refuses("thp.64K.enable",
		"unknown knob \"thp.64K.enable\" (did you mean \"thp.64K.enabled\"?)");
	refuses("thp.3Q.enabled",
		"knob \"thp.3Q.enabled\": expected a page size like 64K or 2M after \"thp.\"");
	refuses("net.core.somaxconn",
		"unknown knob \"net.core.somaxconn\"; allowed: thp.*, hugetlb.<size>.*, vm.*, kernel.*");
	refuses("vm.swappiness", "unknown knob \"vm.swappiness\"");
	refuses("thp.khugepaged.full_scans", "unknown knob \"thp.khugepaged.full_scans\"");

	CHECK(mmr_knob_resolve("hugetlb.2M.nr_hugepages", &k, err, sizeof(err)) == 0);
	CHECK(k.hugetlb_kb == 2048);
	CHECK(mmr_knob_exists(&k));
	CHECK(mmr_knob_check_value(&k, "128", err, sizeof(err)) == 0);
	CHECK(mmr_knob_check_value(&k, "12x", err, sizeof(err)) != 0);
	CHECK_STR(err, "expected a non-negative integer, got \"12x\"");

	CHECK(mmr_knob_resolve("thp.64K.enabled", &k, err, sizeof(err)) == 0);
	CHECK(mmr_knob_read(&k, val, sizeof(val)) == 0);
	CHECK_STR(val, "never");
	CHECK(mmr_knob_check_value(&k, "madvise", err, sizeof(err)) == 0);
	CHECK(mmr_knob_check_value(&k, "sometimes", err, sizeof(err)) != 0);
	CHECK_STR(err, "expected one of always|inherit|madvise|never, got \"sometimes\"");

	CHECK(mmr_knob_resolve("thp.32K.enabled", &k, err, sizeof(err)) == 0);
	CHECK(!mmr_knob_exists(&k)); /* valid name, size absent on this "kernel" */

	all = mmr_knobs_json();
	CHECK_STR(json_string_value(json_object_get(all, "thp.enabled")), "madvise");
	CHECK_STR(json_string_value(json_object_get(all, "thp.2M.enabled")), "inherit");
	CHECK_STR(json_string_value(json_object_get(all, "hugetlb.2M.nr_hugepages")), "0");
	CHECK(json_object_get(all, "thp.32K.enabled") == NULL);
	json_decref(all);
	fake_cleanup();
	return check_done("test_knobs");
}
