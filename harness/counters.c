// SPDX-License-Identifier: GPL-2.0
/* Snapshots of kernel counters; see counters.h for the names. */
#include "mmrepro/counters.h"
#include "mmrepro/env.h"
#include "mmrepro/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

enum source { SRC_VMSTAT, SRC_MEMINFO, SRC_INTERRUPTS, SRC_SYSFS };

struct mmr_counters {
	size_t n, cap;
	char **names;
	int *sysfs_fd; /* per counter: its own file for SRC_SYSFS, else -1 */
	int vmstat_fd, meminfo_fd, irq_fd;
	int refresh_fd; /* /proc/sys/vm/stat_refresh (root only), else -1 */
	size_t vmstat_first, vmstat_n, meminfo_first, meminfo_n, irq_first, irq_n;
	unsigned ncpu_cols;
	unsigned *cpu_ids; /* the CPU number of each column of /proc/interrupts */
	char *buf;
	size_t buflen;
};

static int add(struct mmr_counters *c, const char *name, int fd)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 512;
		char **names = realloc(c->names, cap * sizeof(*names));
		int *fds;

		if (!names)
			return -ENOMEM;
		c->names = names;
		fds = realloc(c->sysfs_fd, cap * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		c->sysfs_fd = fds;
		c->cap = cap;
	}
	c->names[c->n] = strdup(name);
	c->sysfs_fd[c->n] = fd;
	if (!c->names[c->n])
		return -ENOMEM;
	c->n++;
	return 0;
}

/* Whole file from offset 0 into c->buf; returns length or -errno. */
static ssize_t reread(struct mmr_counters *c, int fd)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (c->buflen - len < 4096) {
			char *nb = realloc(c->buf, c->buflen * 2);

			if (!nb)
				return -ENOMEM;
			c->buf = nb;
			c->buflen *= 2;
		}
		n = pread(fd, c->buf + len, c->buflen - len - 1, (off_t)len);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	c->buf[len] = '\0';
	return (ssize_t)len;
}

/* Row label for an IPI row of /proc/interrupts we track, else NULL. */
static const char *irq_label(const char *line)
{
	if (strstr(line, "TLB shootdowns"))
		return "TLB";
	if (strstr(line, "Function call interrupts"))
		return "CAL";
	return NULL;
}

static int learn_interrupts(struct mmr_counters *c)
{
	char name[64], *line, *save = NULL;
	ssize_t len = reread(c, c->irq_fd);

	if (len < 0)
		return (int)len;
	c->irq_first = c->n;
	line = strtok_r(c->buf, "\n", &save);
	/* header: "CPU0 CPU1 ...", one column per online CPU: with CPUs offline
	 * a column's position is not its CPU number, so keep the numbers */
	for (char *p = line; p && (p = strstr(p, "CPU")); p += 3) {
		unsigned *ids = realloc(c->cpu_ids, (c->ncpu_cols + 1) * sizeof(*ids));

		if (!ids)
			return -ENOMEM;
		c->cpu_ids = ids;
		c->cpu_ids[c->ncpu_cols++] = (unsigned)strtoul(p + 3, NULL, 10);
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		const char *label = irq_label(line);

		if (!label)
			continue;
		snprintf(name, sizeof(name), "interrupts.%s", label);
		if (add(c, name, -1))
			return -ENOMEM;
		for (unsigned col = 0; col < c->ncpu_cols; col++) {
			snprintf(name, sizeof(name), "interrupts.%s.cpu%u", label, c->cpu_ids[col]);
			if (add(c, name, -1))
				return -ENOMEM;
		}
	}
	c->irq_n = c->n - c->irq_first;
	return 0;
}

static int learn_lines(struct mmr_counters *c, int fd, const char *group, size_t *first, size_t *n)
{
	char name[128], *line, *save = NULL;
	ssize_t len = reread(c, fd);

	if (len < 0)
		return (int)len;
	*first = c->n;
	for (line = strtok_r(c->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t k = strcspn(line, ": ");

		snprintf(name, sizeof(name), "%s.%.*s", group, (int)k, line);
		if (add(c, name, -1))
			return -ENOMEM;
	}
	*n = c->n - *first;
	return 0;
}

static int learn_mthp(struct mmr_counters *c)
{
	const struct mmr_probes *p = mmr_probes();
	char dir[512], path[768], name[384], sz[16];
	int ret = 0;

	/* every file the kernel has in stats/, so newer counters need no code */
	for (unsigned s = 0; s < p->n_mthp; s++) {
		struct dirent **ents;
		int n;

		mmr_format_size(p->mthp_kb[s] * 1024, sz, sizeof(sz));
		snprintf(dir, sizeof(dir), THP_DIR "/hugepages-%llukB/stats",
			 (unsigned long long)p->mthp_kb[s]);
		n = scandir(dir, &ents, NULL, alphasort);
		for (int i = 0; i < n; i++) {
			const char *stat = ents[i]->d_name;
			int fd = -1;

			if (!ret && stat[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", dir, stat);
				fd = open(path, O_RDONLY | O_CLOEXEC);
			}
			if (fd >= 0) {
				snprintf(name, sizeof(name), "mthp.%s.%s", sz, stat);
				ret = add(c, name, fd);
				if (ret)
					close(fd);
			}
			free(ents[i]);
		}
		if (n > 0)
			free(ents);
	}
	return ret;
}

struct mmr_counters *mmr_counters_open(void)
{
	struct mmr_counters *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->buflen = 65536;
	c->buf = malloc(c->buflen);
	c->vmstat_fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
	c->meminfo_fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	c->irq_fd = open("/proc/interrupts", O_RDONLY | O_CLOEXEC);
	c->refresh_fd = open("/proc/sys/vm/stat_refresh", O_RDONLY | O_CLOEXEC);
	if (!c->buf || c->vmstat_fd < 0 || c->meminfo_fd < 0 || c->irq_fd < 0)
		goto fail;
	if (learn_lines(c, c->vmstat_fd, "vmstat", &c->vmstat_first, &c->vmstat_n) ||
	    learn_lines(c, c->meminfo_fd, "meminfo", &c->meminfo_first, &c->meminfo_n) ||
	    learn_interrupts(c) || learn_mthp(c))
		goto fail;
	return c;
fail:
	mmr_counters_close(c);
	return NULL;
}

void mmr_counters_close(struct mmr_counters *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->names[i]);
		if (c->sysfs_fd[i] >= 0)
			close(c->sysfs_fd[i]);
	}
	free(c->names);
	free(c->sysfs_fd);
	free(c->buf);
	free(c->cpu_ids);
	if (c->vmstat_fd >= 0)
		close(c->vmstat_fd);
	if (c->meminfo_fd >= 0)
		close(c->meminfo_fd);
	if (c->irq_fd >= 0)
		close(c->irq_fd);
	if (c->refresh_fd >= 0)
		close(c->refresh_fd);
	free(c);
}

size_t mmr_counters_n(const struct mmr_counters *c)
{
	return c->n;
}

const char *mmr_counters_name(const struct mmr_counters *c, size_t i)
{
	return i < c->n ? c->names[i] : NULL;
}

ssize_t mmr_counters_index(const struct mmr_counters *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->names[i], name))
			return (ssize_t)i;
	return -1;
}

/* Values of "key value" or "Key:  value kB" lines, in the order learnt.
 * Both files keep their line order for the life of the kernel. */
static int read_lines(struct mmr_counters *c, int fd, size_t first, size_t n, bool kb,
		      int64_t *vals)
{
	char *line, *save = NULL;
	size_t i = 0;

	if (reread(c, fd) < 0)
		return -EIO;
	for (line = strtok_r(c->buf, "\n", &save); line && i < n;
	     line = strtok_r(NULL, "\n", &save), i++) {
		char *v = line + strcspn(line, ": ");
		long long x;

		v += strspn(v, ": ");
		x = strtoll(v, &v, 10);
		if (kb && strstr(v, "kB"))
			x *= 1024;
		vals[first + i] = x;
	}
	return 0;
}

static int read_interrupts(struct mmr_counters *c, int64_t *vals)
{
	char *line, *save = NULL;
	size_t idx = c->irq_first;

	if (reread(c, c->irq_fd) < 0)
		return -EIO;
	strtok_r(c->buf, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save)) && idx < c->irq_first + c->irq_n) {
		char *p = strchr(line, ':');
		int64_t sum = 0;
		size_t total_idx = idx;

		if (!irq_label(line) || !p)
			continue;
		p++;
		idx++;
		for (unsigned cpu = 0; cpu < c->ncpu_cols; cpu++) {
			long long v = strtoll(p, &p, 10);

			vals[idx++] = v;
			sum += v;
		}
		vals[total_idx] = sum;
	}
	return 0;
}

static void fold_percpu_stats(struct mmr_counters *c)
{
	char buf[64];

	/* The kernel keeps per-CPU deltas of vmstat and meminfo items and folds
	 * them into the totals only past a threshold (tens of pages per CPU);
	 * reading stat_refresh folds them all now (~0.3 ms), so a delta is exact
	 * and not off by what happens to sit in per-CPU counters. */
	if (c->refresh_fd >= 0 && pread(c->refresh_fd, buf, sizeof(buf), 0) < 0) {
		close(c->refresh_fd);
		c->refresh_fd = -1;
	}
}

int mmr_counters_read(struct mmr_counters *c, int64_t *vals, enum mmr_snap_side side)
{
	char buf[64];

	if (side == MMR_SNAP_CLOSE && read_interrupts(c, vals))
		return -EIO;
	fold_percpu_stats(c);
	if (read_lines(c, c->vmstat_fd, c->vmstat_first, c->vmstat_n, false, vals) ||
	    read_lines(c, c->meminfo_fd, c->meminfo_first, c->meminfo_n, true, vals))
		return -EIO;
	if (side == MMR_SNAP_OPEN && read_interrupts(c, vals))
		return -EIO;
	for (size_t i = 0; i < c->n; i++) {
		ssize_t n;

		if (c->sysfs_fd[i] < 0)
			continue;
		n = pread(c->sysfs_fd[i], buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		vals[i] = strtoll(buf, NULL, 10);
	}
	return 0;
}

json_t *mmr_counters_delta_json(const struct mmr_counters *c, const int64_t *a, const int64_t *b)
{
	json_t *o = json_object();

	for (size_t i = 0; i < c->n; i++)
		if (b[i] != a[i])
			json_object_set_new(o, c->names[i], json_integer(b[i] - a[i]));
	return o;
}
