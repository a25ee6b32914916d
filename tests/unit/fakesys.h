/* SPDX-License-Identifier: GPL-2.0 */
/* A fake /sys + /proc tree in a temp dir, selected with MMREPRO_SYSFS_ROOT,
 * so knob code can be tested without touching the machine's knobs. */
#ifndef MMREPRO_TEST_FAKESYS_H
#define MMREPRO_TEST_FAKESYS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmrepro/util.h"

static char fake_root[256];

#define FAKESYS_UNUSED __attribute__((unused))

FAKESYS_UNUSED static void fake_file(const char *rel, const char *content)
{
	char path[512], dir[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", fake_root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	mmr_mkdirs(dir, 0755);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "%s\n", content);
	fclose(f);
}

FAKESYS_UNUSED static const char *fake_read(const char *rel)
{
	static char buf[256];
	char path[512];

	snprintf(path, sizeof(path), "%s%s", fake_root, rel);
	if (mmr_read_file(path, buf, sizeof(buf)) < 0)
		return "(missing)";
	return buf;
}

#define THP "/sys/kernel/mm/transparent_hugepage"

/* A kernel with THP, 64K and 2M per-size knobs, khugepaged and a hugetlb pool. */
static void fake_tree(void)
{
	char state[300];

	snprintf(fake_root, sizeof(fake_root), "/tmp/mmrepro-fakesys-XXXXXX");
	if (!mkdtemp(fake_root)) {
		perror("mkdtemp");
		exit(1);
	}
	fake_file(THP "/enabled", "always [madvise] never");
	fake_file(THP "/defrag", "always defer defer+madvise [madvise] never");
	fake_file(THP "/shmem_enabled", "always within_size advise [never] deny force");
	fake_file(THP "/hugepages-64kB/enabled", "always inherit madvise [never]");
	fake_file(THP "/hugepages-2048kB/enabled", "always [inherit] madvise never");
	fake_file(THP "/khugepaged/scan_sleep_millisecs", "10000");
	fake_file("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "0");
	fake_file("/proc/sys/vm/max_map_count", "65530");
	setenv("MMREPRO_SYSFS_ROOT", fake_root, 1);
	snprintf(state, sizeof(state), "%s/state", fake_root);
	setenv("MMREPRO_STATE_DIR", state, 1);
}

static void fake_cleanup(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fake_root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", fake_root);
}

#endif
