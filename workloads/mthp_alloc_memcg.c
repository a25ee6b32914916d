// SPDX-License-Identifier: GPL-2.0
/* A memory cgroup for one mthp_alloc case; see mthp_alloc_memcg.h. */
#include "mthp_alloc_memcg.h"
#include "mmrepro/resources.h"
#include "mmrepro/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "mthp_alloc-"

/* Is `word` one of the comma-separated items of `list`? */
static bool has_item(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, word, n) &&
		    (p[n] == ',' || p[n] == '\0' || p[n] == '\n' || p[n] == ' '))
			return true;
	return false;
}

/*
 * The mount point and mount root of the memory hierarchy: cgroup2 when it has
 * the memory controller, else a cgroup v1 hierarchy with "memory" among its
 * super options.
 */
static int find_mount(struct memcg *m, char *mnt, char *root, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], v1mnt[PATH_MAX] = "", v1root[PATH_MAX] = "", path[PATH_MAX + 32];
	char ctl[256];
	bool found = false;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mroot[PATH_MAX], mpoint[PATH_MAX], *sep = strstr(line, " - "), type[32];
		char super[1024] = "";

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", mroot, mpoint) != 2 ||
		    sscanf(sep + 3, "%31s %*s %1023s", type, super) < 1)
			continue;
		if (!strcmp(type, "cgroup2")) {
			snprintf(path, sizeof(path), "%s/cgroup.controllers", mpoint);
			if (mmr_read_file(path, ctl, sizeof(ctl)) >= 0 && strstr(ctl, "memory") &&
			    (size_t)snprintf(mnt, len, "%s", mpoint) < len &&
			    (size_t)snprintf(root, len, "%s", mroot) < len) {
				m->v2 = found = true;
				break;
			}
		} else if (!strcmp(type, "cgroup") && has_item(super, "memory") && !v1mnt[0]) {
			snprintf(v1mnt, sizeof(v1mnt), "%s", mpoint);
			snprintf(v1root, sizeof(v1root), "%s", mroot);
		}
	}
	fclose(f);
	if (!found && v1mnt[0] && (size_t)snprintf(mnt, len, "%s", v1mnt) < len &&
	    (size_t)snprintf(root, len, "%s", v1root) < len) {
		m->v2 = false;
		found = true;
	}
	return found ? 0 : -ENOENT;
}

/* This process's cgroup in the hierarchy, relative to the mount's root. */
static int own_path(const struct memcg *m, const char *root, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (ret && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *path;

		if (!c2)
			continue;
		*c1 = *c2 = '\0'; /* line: hierarchy id, c1 + 1: its controllers */
		path = c2 + 1;
		path[strcspn(path, "\n")] = '\0';
		if (m->v2 ? !strcmp(line, "0") && c2 == c1 + 1 : has_item(c1 + 1, "memory")) {
			size_t rl = strlen(root);

			/* outside a cgroup namespace the path includes the mount's root */
			if (strcmp(root, "/") && !strncmp(path, root, rl))
				path += rl;
			snprintf(out, len, "%s", strcmp(path, "/") ? path : "");
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

int memcg_locate(struct memcg *m, char *why, size_t len)
{
	char mnt[PATH_MAX / 4], root[PATH_MAX / 4], own[PATH_MAX / 4], path[PATH_MAX], ctl[256];

	memset(m, 0, sizeof(*m));
	if (find_mount(m, mnt, root, sizeof(mnt))) {
		snprintf(why, len,
			 "no memory cgroup: cgroup2 has no memory controller and no cgroup v1 "
			 "memory hierarchy is mounted");
		return -ENOENT;
	}
	if (own_path(m, root, own, sizeof(own))) {
		snprintf(why, len, "cannot find this process's cgroup in /proc/self/cgroup");
		return -ENOENT;
	}
	snprintf(m->home, sizeof(m->home), "%s%s", mnt, own);
	if (m->v2) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mnt);
		if (mmr_read_file(path, ctl, sizeof(ctl)) < 0 || !strstr(ctl, "memory")) {
			snprintf(why, len,
				 "the cgroup2 root %s does not enable the memory controller for "
				 "its children (cgroup.subtree_control)",
				 mnt);
			return -ENOENT;
		}
	}
	if ((size_t)snprintf(m->parent, sizeof(m->parent), "%s/mmrepro", m->v2 ? mnt : m->home) >=
		    sizeof(m->parent) ||
	    (size_t)snprintf(m->dir, sizeof(m->dir), "%s/" PREFIX "%d", m->parent, (int)getpid()) >=
		    sizeof(m->dir)) {
		snprintf(why, len, "the cgroup path under %s is too long", m->home);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int write_in(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return mmr_write_file(path, val);
}

static int read_in(const char *dir, const char *file, uint64_t *v)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return mmr_read_u64(path, v);
}

/* A "key value" line of a cgroup file (memory.stat, memory.events). */
static uint64_t keyed(const char *dir, const char *file, const char *key)
{
	char path[PATH_MAX], line[256];
	uint64_t v = 0;
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ' ')
			v = strtoull(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static void remove_dirs(struct memcg *m)
{
	/* a cgroup whose last process just exited may still read busy briefly */
	for (int i = 0; i < 100 && rmdir(m->dir) && errno == EBUSY; i++)
		usleep(10 * 1000);
	if (!mmr_path_exists(m->dir))
		mmr_resource_dir_drop(m->dir);
	rmdir(m->parent); /* only when no other mmrepro cgroup is left in it */
}

int memcg_enter(struct memcg *m, uint64_t limit, char *why, size_t len)
{
	char val[32];
	const char *step;
	int ret;

	memcg_sweep(m);
	if (mkdir(m->parent, 0755) && errno != EEXIST) {
		ret = -errno;
		snprintf(why, len, "mkdir %s: %s", m->parent, strerror(errno));
		return ret;
	}
	if (m->v2) {
		step = "cgroup.subtree_control (+memory)";
		ret = write_in(m->parent, "cgroup.subtree_control", "+memory");
		if (ret)
			goto fail_parent;
	}
	/* recorded first: a SIGKILL from here on still gets it removed */
	step = "recording it";
	ret = mmr_resource_dir_add(m->dir, m->parent);
	if (ret)
		goto fail_parent;
	if (mkdir(m->dir, 0755)) {
		ret = -errno;
		mmr_resource_dir_drop(m->dir);
		step = "mkdir";
		goto fail_parent;
	}
	snprintf(val, sizeof(val), "%llu", (unsigned long long)limit);
	step = m->v2 ? "memory.max" : "memory.limit_in_bytes";
	ret = write_in(m->dir, step, val);
	if (!ret && !m->v2) {
		step = "memory.swappiness";
		ret = write_in(m->dir, step, "0");
	}
	if (!ret && m->v2) {
		char path[PATH_MAX];

		/* absent without swap accounting: then there is nothing to swap to
		 * in this cgroup's name either */
		snprintf(path, sizeof(path), "%s/memory.swap.max", m->dir);
		step = "memory.swap.max";
		if (mmr_path_exists(path))
			ret = mmr_write_file(path, "0");
	}
	if (!ret) {
		snprintf(val, sizeof(val), "%d", (int)getpid());
		step = "cgroup.procs";
		ret = write_in(m->dir, step, val);
	}
	if (ret)
		goto fail;
	m->joined = true;
	return 0;
fail:
	snprintf(why, len, "%s/%s: %s", m->dir, step, strerror(-ret));
	remove_dirs(m);
	return ret;
fail_parent:
	snprintf(why, len, "%s: %s: %s", m->parent, step, strerror(-ret));
	rmdir(m->parent);
	return ret;
}

int memcg_anon(const struct memcg *m, uint64_t *bytes)
{
	char path[PATH_MAX];

	/* Anonymous folios on the LRU count every page they hold, mapped or
	 * not (the cgroup's "anon"/"rss" counts mapped pages only), and
	 * unlike usage_in_bytes this leaves out page cache, page tables and
	 * the per-CPU charge batches. */
	snprintf(path, sizeof(path), "%s/memory.stat", m->dir);
	if (!mmr_path_exists(path))
		return -ENOENT;
	*bytes = keyed(m->dir, "memory.stat", "active_anon") +
		 keyed(m->dir, "memory.stat", "inactive_anon");
	return 0;
}

int memcg_reclaim(const struct memcg *m)
{
	uint64_t usage;
	char val[32];
	int ret;

	if (!m->v2)
		return write_in(m->dir, "memory.force_empty", "0");
	ret = read_in(m->dir, "memory.current", &usage);
	if (ret)
		return ret;
	/* ask for everything: -EAGAIN only says not all of it could go */
	snprintf(val, sizeof(val), "%llu", (unsigned long long)usage);
	ret = write_in(m->dir, "memory.reclaim", val);
	return ret == -EAGAIN ? 0 : ret;
}

uint64_t memcg_oom_kills(const struct memcg *m)
{
	return keyed(m->dir, m->v2 ? "memory.events" : "memory.oom_control", "oom_kill");
}

int memcg_leave(struct memcg *m)
{
	char pid[32];
	int ret = 0;

	if (!m->joined)
		return 0;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ret = write_in(m->home, "cgroup.procs", pid);
	if (ret)
		return ret;
	m->joined = false;
	remove_dirs(m);
	return mmr_path_exists(m->dir) ? -EBUSY : 0;
}

int memcg_sweep(const struct memcg *m)
{
	DIR *d = opendir(m->parent);
	struct dirent *e;
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[PATH_MAX], procs[64];

		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s/cgroup.procs", m->parent, e->d_name);
		if (mmr_read_file(path, procs, sizeof(procs)) != 0)
			continue; /* unreadable, or a process is still in it */
		snprintf(path, sizeof(path), "%s/%s", m->parent, e->d_name);
		if (rmdir(path) == 0)
			removed++;
	}
	closedir(d);
	if (removed)
		rmdir(m->parent);
	return removed;
}
